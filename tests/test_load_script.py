"""bench/load.py keeps working: a few seconds of its load, with every check it makes."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    "requests_per_second",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "errors",
    "conflicts",
    "users",
    "seconds",
    "lost_writes",
    "duplicate_nudges",
)


def test_a_short_load_saves_drags_comments_and_nudges_without_errors_or_lost_writes():
    finished = subprocess.run(
        [
            sys.executable,
            "bench/load.py",
            *("--seconds", "3", "--users", "5", "--nudge-every", "1"),
            *("--people", "4", "--posts", "60"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    printed = dict(re.findall(r"^load_(\w+): (\S+)$", finished.stdout, re.MULTILINE))
    assert set(FIGURES) <= set(printed), finished.stdout
    assert printed["users"] == "5"
    for zero in ("errors", "unexpected_answers", "lost_writes", "duplicate_nudges"):
        assert printed[zero] == "0", finished.stdout + finished.stderr
    # The first round spreads the five users over every action; two nudges came due.
    for done in ("saves", "drags", "comments", "nudges_sent"):
        assert int(printed[done]) >= 1, finished.stdout
