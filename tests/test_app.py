"""The app shell: configuration modes, health, the local outbox, assets, headers."""

import base64
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from app import create_app, store
from app.config import SERVER_ANNOUNCEMENT, Config, ConfigError
from app.dev import seed_command
from tests.conftest import TEST_CONFIG, outbox

ROOT = Path(__file__).resolve().parent.parent
HTMX = ROOT / "app/static/vendor/htmx-2.0.11.min.js"
# sha384 of htmx.org@2.0.11's dist/htmx.min.js as published on npm.
HTMX_SHA384 = "2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"


def test_aws_mode_refuses_to_start_without_a_real_secret_and_sender():
    with pytest.raises(ConfigError, match="CADENZA_SECRET_KEY"):
        Config.from_env({"CADENZA_MODE": "aws", "CADENZA_SENDER": "Cadenza <hi@cadenza.app>"})
    with pytest.raises(ConfigError, match="CADENZA_SENDER"):
        Config.from_env({"CADENZA_MODE": "aws", "CADENZA_SECRET_KEY": "k" * 40})
    with pytest.raises(ConfigError, match="CADENZA_MODE"):
        Config.from_env({"CADENZA_MODE": "production"})
    config = Config.from_env(
        {
            "CADENZA_MODE": "aws",
            "CADENZA_SECRET_KEY": "k" * 40,
            "CADENZA_SENDER": "Cadenza <hi@cadenza.app>",
            "CADENZA_CALENDAR_TABLE": "prod-calendar",
            "AWS_REGION": "eu-south-1",
        }
    )
    assert (config.calendar_table, config.region, config.secure_cookies, config.emulated) == (
        "prod-calendar",
        "eu-south-1",
        True,
        False,
    )


def test_the_local_secret_key_is_kept_in_the_data_folder(tmp_path):
    first = Config.from_env({"CADENZA_DATA_DIR": str(tmp_path)})
    again = Config.from_env({"CADENZA_DATA_DIR": str(tmp_path)})
    assert len(first.secret_key) >= 48 and first.secret_key == again.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_links_use_the_base_url_of_the_server_running_on_the_data_folder(tmp_path):
    local = {"CADENZA_DATA_DIR": str(tmp_path), "PORT": "8123"}
    assert Config.from_env(local).base_url == "http://127.0.0.1:8123"
    announcement = tmp_path / SERVER_ANNOUNCEMENT
    announcement.write_text(json.dumps({"base_url": "http://127.0.0.1:8765", "pid": os.getpid()}))
    assert Config.from_env(local).base_url == "http://127.0.0.1:8765"
    explicit = {**local, "CADENZA_BASE_URL": "https://cadenza.example/"}
    assert Config.from_env(explicit).base_url == "https://cadenza.example"
    assert Config.from_env({**local, "CADENZA_MODE": "test"}).base_url == "http://127.0.0.1:8123"
    gone = subprocess.Popen(["true"])  # a server that died without tidying up
    gone.wait()
    announcement.write_text(json.dumps({"base_url": "http://127.0.0.1:8765", "pid": gone.pid}))
    assert Config.from_env(local).base_url == "http://127.0.0.1:8123"


def test_the_outbox_and_seed_do_not_exist_in_aws_mode(aws):
    config = Config(
        mode="aws",
        secret_key="k" * 40,
        sender="Cadenza <hi@cadenza.app>",
        calendar_table="test-calendar",
        system_table="test-system",
    )
    app = create_app(config)
    try:
        client = app.test_client()
        assert client.get("/dev/outbox").status_code == 404
        assert client.get("/dev/outbox.json").status_code == 404
        refused = app.test_cli_runner().invoke(seed_command)
        assert refused.exit_code != 0 and "never on real AWS" in refused.output
        assert "Secure" in _session_cookie_flags(app)
    finally:
        store.configure(TEST_CONFIG.with_mode_defaults())


def _session_cookie_flags(app) -> str:
    with app.test_request_context():
        from flask import session

        session["x"] = 1
        response = app.make_response("ok")
        app.session_interface.save_session(app, session, response)
        return response.headers["Set-Cookie"]


def test_the_outbox_lists_sent_mail_newest_first(client, app):
    client.post("/login", data={"email": "first@example.com"})
    client.post("/login", data={"email": "second@example.com"})
    listed = client.get("/dev/outbox.json").get_json()
    assert [m["to"] for m in listed] == ["second@example.com", "first@example.com"]
    assert set(listed[0]) == {"to", "from", "subject", "text", "html", "headers", "sent_at"}
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert page.text.index("second@example.com") < page.text.index("first@example.com")
    assert re.search(r'<a href="http://[^"]+/login/[\w-]+"', page.text)  # clickable link
    assert listed == outbox(app)


def test_health_answers_ok_when_the_store_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_health_answers_503_when_the_store_does_not(client):
    store.configure(TEST_CONFIG.replace(aws_endpoint="http://127.0.0.1:9").with_mode_defaults())
    try:
        response = client.get("/healthz")
    finally:
        store.configure(TEST_CONFIG.with_mode_defaults())
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"


def test_an_unreachable_store_is_a_503_page_not_a_500(client, folks):
    person_client = folks.client_for(folks.person("anna@example.com", "Anna"))
    store.configure(TEST_CONFIG.replace(aws_endpoint="http://127.0.0.1:9").with_mode_defaults())
    try:
        response = person_client.get("/")
    finally:
        store.configure(TEST_CONFIG.with_mode_defaults())
    assert response.status_code == 503 and "storage" in response.text


def test_the_vendored_htmx_is_the_published_2_0_11_build():
    digest = base64.b64encode(hashlib.sha384(HTMX.read_bytes()).digest()).decode()
    assert digest == HTMX_SHA384
    base = (ROOT / "templates/base.html").read_text()
    assert f'integrity="sha384-{HTMX_SHA384}"' in base


def test_pages_load_nothing_from_other_sites(client):
    page = client.get("/login").text
    assert not re.search(r'(src|href)="(https?:)?//', page)
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_every_response_varies_on_htmx_and_has_safe_headers(client):
    response = client.get("/login")
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_unknown_pages_and_methods_get_clear_4xx_pages(client):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Not found" in missing.text
    assert client.delete("/login").status_code == 405


def test_too_large_requests_are_refused_with_413(client):
    response = client.post("/login", data={"email": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_the_language_follows_the_browser_before_sign_in(client):
    italian = client.get("/login", headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"})
    assert 'lang="it"' in italian.text and "Accedi" in italian.text
    english = client.get("/login", headers={"Accept-Language": "de-DE,en;q=0.5"})
    assert 'lang="en"' in english.text and "Sign in" in english.text


def test_the_language_follows_the_person_after_sign_in(folks):
    marco = folks.person("marco@example.com", "Marco", language="it")
    team = folks.team(marco, "Cantina")
    page = folks.client_for(marco).get(
        f"/t/{team.team_id}/members", headers={"Accept-Language": "en"}
    )
    assert 'lang="it"' in page.text and "Membri" in page.text
