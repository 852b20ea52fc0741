"""The one-command local stack: data survives restarts and kill -9, one writer per folder."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from app import nudges
from app.local import demo
from app.local.emulator import Journal, Record
from tests.conftest import ROME, outbox

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path, **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CADENZA_")}
    env.update(CADENZA_MODE="local", CADENZA_DATA_DIR=str(data_dir), **extra)
    return env


class LocalCadenza:
    """``make run`` in a subprocess."""

    def __init__(self, data_dir: Path, *args: str):
        self.port, self.aws_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.local", *args],
            cwd=ROOT,
            env=_env(data_dir, PORT=str(self.port), CADENZA_AWS_PORT=str(self.aws_port)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = self._read_until("Sign in as the demo admin")
        self.output += self.process.stdout.readline() + self.process.stdout.readline()
        self.link = re.search(r"http://\S+/login/[\w-]+", self.output).group(0)

    def _read_until(self, marker: str, timeout: float = 60) -> str:
        lines, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError("the local server stopped:\n" + "".join(lines))
            lines.append(line)
            if marker in line:
                return "".join(lines)
        raise AssertionError("the local server did not start:\n" + "".join(lines))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> str:
        """Stop the server; return what it printed after the sign-in link."""
        if self.process.poll() is None:
            self.process.terminate()
        rest = self.process.communicate(timeout=10)[0]
        self.process.stdout.close()
        return rest


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _sign_in(browser: requests.Session, link: str) -> None:
    confirm = browser.get(link)
    assert confirm.status_code == 200, confirm.text
    response = browser.post(link, data={"csrf_token": _csrf(confirm.text)})
    assert response.status_code == 200 and "Cantina Aurora" in response.text


def test_local_data_survives_kill_9_and_a_torn_last_write(tmp_path):
    first = LocalCadenza(tmp_path)
    try:
        assert "Seeded the demo team" in first.output
        browser = requests.Session()
        _sign_in(browser, first.link)
        form = browser.get(f"{first.url}/teams/new").text
        created = browser.post(
            f"{first.url}/teams/new",
            data={
                "csrf_token": _csrf(form),
                "team_name": "Enoteca Lumen",
                "team_zone": "Europe/London",
                "team_language": "en",
            },
        )
        assert created.status_code == 200 and "Enoteca Lumen" in created.text
        team_url = created.url.replace("/members", "/")
    finally:
        first.kill()
    journal = tmp_path / "aws-journal.jsonl"
    with journal.open("ab") as handle:
        handle.write(b'{"method":"POST","path":"/","query":"","headers":{"X-Am')  # torn

    second = LocalCadenza(tmp_path)
    try:
        assert "Seeded" not in second.output and "torn" in second.output
        assert int(re.search(r"(\d+) journal records replayed", second.output).group(1)) > 0
        second_url = team_url.replace(first.url, second.url)
        page = browser.get(second_url)  # the session from before the kill still works
        assert page.status_code == 200 and "Enoteca Lumen" in page.text
        assert "Cantina Aurora" in browser.get(second.url + "/").text
    finally:
        second.stop()
    assert journal.read_bytes().endswith(b"\n")


def test_only_one_server_uses_a_data_folder_and_reset_starts_clean(tmp_path):
    first = LocalCadenza(tmp_path)
    try:
        other = subprocess.run(
            [sys.executable, "-m", "app.local"],
            cwd=ROOT,
            text=True,
            env=_env(tmp_path, PORT=str(_free_port())),
            capture_output=True,
            timeout=60,
        )
        assert other.returncode == 1 and "Another Cadenza is using" in other.stderr
    finally:
        first.stop()
    again = LocalCadenza(tmp_path, "--reset")
    try:
        assert "cleared" in again.output and "Seeded the demo team" in again.output
    finally:
        again.stop()


def _flask(data_dir: Path, *args: str, env: dict | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app.wsgi", *args],
        cwd=ROOT,
        env=_env(data_dir, **(env or {})),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_cli_commands_share_the_local_data_with_or_without_the_server(tmp_path):
    assert "Seeded the demo team." in _flask(tmp_path, "seed")  # no server: owns the folder
    assert "already there" in _flask(tmp_path, "seed")
    server = LocalCadenza(tmp_path)
    try:
        assert "Seeded" not in server.output
        lines_before = (tmp_path / "aws-journal.jsonl").read_bytes().count(b"\n")
        output = _flask(tmp_path, "seed")  # the server owns the folder: the CLI uses its endpoint
        assert "already there" in output
        announced = json.loads((tmp_path / "emulator.json").read_text())
        assert announced["url"].endswith(f":{server.aws_port}")
        link = re.search(r"http://\S+/login/[\w-]+", output).group(0)
        assert link.startswith(f"{server.url}/login/")  # the server's port, not 8000
        assert requests.get(link, timeout=10).status_code == 200
        assert (tmp_path / "aws-journal.jsonl").read_bytes().count(b"\n") > lines_before
    finally:
        server.stop()


def test_nudge_emails_from_the_cli_link_to_the_running_servers_port(tmp_path):
    server = LocalCadenza(tmp_path)  # on a free port, announced in the data folder
    try:
        # The test's clock is noon tomorrow: the demo's posts of today are overdue by then.
        output = _flask(tmp_path, "nudge", "--now", datetime.now(UTC).isoformat())
        assert not output.startswith("sent 0,"), output
        mails = requests.get(f"{server.url}/dev/outbox.json", timeout=10).json()
        hosts = {host for m in mails for host in re.findall(r"http://127\.0\.0\.1:\d+", m["text"])}
        assert hosts == {server.url}
    finally:
        server.stop()


def test_the_cli_links_to_port_when_no_server_runs(tmp_path):
    output = _flask(tmp_path, "seed", env={"PORT": "8123"})
    assert "http://127.0.0.1:8123/login/" in output


@pytest.mark.parametrize("command", ["nudge", "seed"])
def test_cli_help_has_no_side_effects(tmp_path, command):
    env = {key: value for key, value in os.environ.items() if not key.startswith("CADENZA_")}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app.wsgi", command, "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Usage:" in result.stdout, result.stderr
    assert list(tmp_path.iterdir()) == []  # no .cadenza/, no emulator started


def test_the_sign_in_link_is_not_buried_in_emulator_request_lines(tmp_path):
    server = LocalCadenza(tmp_path)
    try:
        assert server.output.rstrip().splitlines()[-1].strip() == server.link
        browser = requests.Session()
        _sign_in(browser, server.link)  # pages that make many DynamoDB calls
        assert browser.get(f"{server.url}/me/nudges", timeout=10).status_code == 200
    finally:
        printed = server.output + server.stop()
    assert '"POST / HTTP/1.1"' not in printed  # the emulator's access log
    assert '"GET /me/nudges HTTP/1.1" 200' in printed  # the app's own requests still show


@pytest.mark.parametrize("hour", [21, 23, 0, 2, 7])
def test_the_demos_one_hour_nudge_arrives_minutes_after_the_first_start_at_any_hour(
    app, clock, hour
):
    started = datetime.now(ROME).replace(hour=hour, minute=10, second=0, microsecond=0)
    clock.move_to(started)
    with app.app_context():
        assert demo.seed(started)
    nudges.run_once(app, started + timedelta(minutes=2))
    assert not [m for m in outbox(app) if m["to"] == demo.DEMO_ADMIN]
    nudges.run_once(app, started + timedelta(minutes=5))
    (nudge,) = [m for m in outbox(app) if m["to"] == demo.DEMO_ADMIN]
    assert "Story: pouring the first glass" in nudge["subject"]


def _record(n: int) -> Record:
    return Record(method="POST", path="/", query="", headers={"X-Amz-Target": "x"}, body=str(n))


def test_the_journal_drops_a_torn_last_line_and_keeps_whole_ones(tmp_path, caplog):
    journal = Journal(tmp_path / "journal.jsonl")
    for n in range(3):
        journal.append(_record(n))
    journal.close()
    whole = journal.path.read_bytes()
    journal.path.write_bytes(whole + _record(3).to_line()[:-9])
    assert [r.body for r in journal.load()] == ["0", "1", "2"]
    assert "torn" in caplog.text
    assert journal.path.read_bytes() == whole


def test_the_journal_skips_a_damaged_line_in_the_middle(tmp_path, caplog):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.path.write_bytes(_record(0).to_line() + b"garbage\n" + _record(2).to_line())
    assert [r.body for r in journal.load()] == ["0", "2"]
    assert "unreadable line 2" in caplog.text


def test_only_state_changes_are_journaled():
    def dynamodb(operation):
        return Record("POST", "/", "", {"X-Amz-Target": f"DynamoDB_20120810.{operation}"}, "")

    assert dynamodb("PutItem").changes_state and dynamodb("TransactWriteItems").changes_state
    assert not dynamodb("Query").changes_state and not dynamodb("GetItem").changes_state
    send = Record(
        "POST",
        "/",
        "",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "QWN0aW9uPVNlbmRSYXdFbWFpbA==",
    )  # Action=SendRawEmail
    assert send.operation == "ses:SendRawEmail" and send.changes_state
