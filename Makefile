# Cadenza: `make run` starts it locally, `make test` runs every check, `make test-any-hour`
# runs them again at a faked night instant.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export AWS_EC2_METADATA_DISABLED := true
TRANSLATIONS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test test-any-hour lint bench translations extract-messages clean package infra deploy html-checker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

translations: $(TRANSLATIONS)

# The Nu Html Checker (tests/test_html_valid.py runs it on the machine's Java), from the npm
# registry at the version and integrity package-lock.json pins, into node_modules/ (git-ignored).
# Its install script, which would download a Java of its own, is not run. npm dates the files
# 1985: touch the jar, so that it is newer than the lock file and installed once.
VNU := node_modules/vnu-jar/build/dist/vnu.jar
html-checker: $(VNU)
$(VNU): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

run: $(VENV)/.installed translations
	$(BIN)/python -m app.local $(ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The suite runs on every core (pytest-xdist: each worker has its own in-process moto, its own
# servers on free ports and its own Chromium); PYTEST_WORKERS=0 runs it in one process. A test
# file stays on one worker, in order (the deploy rehearsal's later tests read what its earlier
# ones did), but for the long instruments tests/conftest.py SPREAD_FILES names. Tests are handed
# out in the order that conftest.py sets (the long instruments first), not xdist's own.
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder
# The slowest tests are listed at the end: CI has 15 minutes for both passes.
test: $(VENV)/.installed translations lint $(VNU)
	$(PYTEST) --durations=20 $(PYTEST_ARGS)

# The suite again with the machine's clock moved (Debian's faketime) to a night in Rome on a
# DST-switch day: a test that depends on when it runs fails here. The default, 00:30 UTC on
# 28 March 2027, is 01:30 in Rome, in the quiet hours, the night the clocks jump to summer time.
# Browser tests are left out (Chromium would keep the real clock for cookies), and so are the
# instruments that pin one instant of their own (tests/conftest.py PINNED_INSTANT) and the files
# each of whose tests pins one (the HTML check, the forms' round trip, the bad input and the
# nudges' emails and links, on their own fixed days): another hour changes nothing in them,
# nor in the files that read no clock at all (recurrence over explicit dates, the Markdown
# sanitiser, the infrastructure's templates and commands, the bundle, the emulator's index, the
# cost model, the catalogue) and the single tests marked ``clockless`` (2,000 undated ideas
# imported). Child processes keep the faked clock running
# (FAKETIME_DONT_RESET) instead of starting it over.
FAKE_NOW ?= 2027-03-28 00:30:00
PINNED_INSTRUMENTS := tests/test_every_route.py tests/test_injected_faults.py tests/test_fuzz_forms.py
PINNED_FILES := tests/test_html_valid.py tests/test_forms_round_trip.py tests/test_bad_input.py \
	tests/test_nudges.py
CLOCKLESS := tests/test_recurrence.py tests/test_playbook_markdown.py tests/test_infra.py \
	tests/test_deploy_command.py tests/test_on_lambda.py tests/test_local_index.py \
	tests/test_cost_model.py tests/test_i18n.py
FAKED := TZ=UTC FAKETIME_DONT_RESET=1 faketime -f '@$(FAKE_NOW)'
test-any-hour: $(VENV)/.installed translations
	@faked="$$($(FAKED) $(BIN)/python -c 'import datetime; print(datetime.date.today())')"; \
	[ "$$faked" = "$(firstword $(FAKE_NOW))" ] || { echo "faketime did not move the clock"; exit 1; }
	$(FAKED) $(PYTEST) --ignore=tests/browser $(PINNED_INSTRUMENTS:%=--ignore=%) \
		$(PINNED_FILES:%=--ignore=%) $(CLOCKLESS:%=--ignore=%) -m "not clockless" $(PYTEST_ARGS)

bench: $(VENV)/.installed translations
	@set -e; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		echo "# $$script"; $(BIN)/python "$$script"; \
	done

# Deploying a stage (infra/README.md): `make infra` creates or updates its data stack (tables,
# role, topics, log group), `make package` builds its Lambda bundle in dist/, `make deploy`
# builds it and deploys it with Zappa. The data stack never takes Zappa's own name.
STAGE ?= dev
DATA_STACK = cadenza-$(STAGE)-data
package: $(VENV)/.installed
	$(BIN)/python infra/package.py $(STAGE)

infra:
	@[ -n "$(SENDER)" ] && [ -n "$(BASE_URL)" ] || { echo "Usage: make infra STAGE=dev SENDER=you@example.org BASE_URL=https://… [ALERT_EMAIL=…]"; exit 2; }
	aws cloudformation deploy --stack-name $(DATA_STACK) --template-file infra/cadenza.yaml \
		--capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) SenderAddress=$(SENDER) BaseUrl=$(BASE_URL) \
		AlertEmail=$(ALERT_EMAIL)

deploy: $(VENV)/.installed
	$(BIN)/python infra/deploy.py $(STAGE)

# Refresh the message catalogue after changing user-facing text.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache node_modules
