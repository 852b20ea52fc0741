# Cadenza: `make run` starts it locally, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export AWS_EC2_METADATA_DISABLED := true
TRANSLATIONS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test lint bench translations extract-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

translations: $(TRANSLATIONS)

run: $(VENV)/.installed translations
	$(BIN)/python -m app.local $(ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.installed translations lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed translations
	@set -e; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		echo "# $$script"; $(BIN)/python "$$script"; \
	done

# Refresh the message catalogue after changing user-facing text.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache
