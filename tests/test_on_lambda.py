"""Running on Lambda: the secret key from SSM, the first-deploy state, one app per container,
logs without addresses, and forms refused under HTTPS that say why."""

import base64
import importlib
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.client import BaseClient
from flask import Flask
from moto.backends import get_backend
from werkzeug.test import Client

import app as package
from app import RETRY_SECONDS, OneApp, nudges, store
from app.store import people, reminders
from app.store.models import Reminder
from tests.conftest import TEST_CONFIG, link_in, outbox, ses_error
from tests.test_nudges import make_post, nudging, rome  # noqa: F401 (nudging: a fixture)

ROOT = Path(__file__).resolve().parent.parent
PARAMETER = "/cadenza/dev/secret-key"
SECRET = "s3cr3t-" + "x" * 41
ON_LAMBDA = {
    "CADENZA_MODE": "aws",
    "CADENZA_SECRET_PARAMETER": PARAMETER,
    "CADENZA_SENDER": "Cadenza <cadenza@cadenza.app>",
    "CADENZA_BASE_URL": "https://cadenza.app",
    "CADENZA_CALENDAR_TABLE": "test-calendar",
    "CADENZA_SYSTEM_TABLE": "test-system",
    "AWS_REGION": "eu-west-1",
}


@pytest.fixture
def on_lambda(app, monkeypatch):
    """A Lambda container's environment in ``aws`` mode (moto's tables), with no secret key
    of its own: only the name of its SSM parameter."""
    monkeypatch.delenv("CADENZA_SECRET_KEY", raising=False)
    for name, value in ON_LAMBDA.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(nudges, "_application", None)
    yield boto3.client("ssm", region_name="eu-west-1")
    store.configure(TEST_CONFIG.with_mode_defaults())
    for by_region in get_backend("ssm").values():
        for backend in by_region.values():
            backend.reset()


@pytest.fixture
def secret_reads(monkeypatch):
    """The SSM GetParameter requests made during the test."""
    calls = []
    original = BaseClient._make_api_call

    def counting(client, operation, params):
        if client.meta.service_model.service_name == "ssm" and operation == "GetParameter":
            calls.append(params)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return calls


def cold_start(monkeypatch):
    """Import ``app.wsgi`` afresh, as Zappa's handler does in a new container."""
    monkeypatch.delitem(sys.modules, "app.wsgi", raising=False)
    monkeypatch.setattr(package, "wsgi", None, raising=False)
    return importlib.import_module("app.wsgi")


# The secret key comes from SSM ------------------------------------------------------------


def test_on_lambda_the_secret_key_is_read_decrypted_from_ssm_once_per_container(
    on_lambda, secret_reads, monkeypatch
):
    on_lambda.put_parameter(Name=PARAMETER, Type="SecureString", Value=SECRET)
    wsgi = cold_start(monkeypatch)
    assert isinstance(wsgi.app, Flask)
    assert wsgi.app.config["SECRET_KEY"] == SECRET
    client = wsgi.app.test_client()
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
    assert nudges.run({}, None)["sent"] == 0  # the scheduled job, in the same container
    assert secret_reads == [{"Name": PARAMETER, "WithDecryption": True}]


def test_a_secret_key_in_the_environment_wins_and_ssm_is_not_asked(
    on_lambda, secret_reads, monkeypatch
):
    monkeypatch.setenv("CADENZA_SECRET_KEY", "k" * 40)
    assert cold_start(monkeypatch).app.config["SECRET_KEY"] == "k" * 40
    assert secret_reads == []


# The first deploy: no secret key yet ------------------------------------------------------


def test_before_the_secret_key_is_stored_every_request_gets_a_503_saying_what_to_fix(
    on_lambda, monkeypatch, caplog
):
    wsgi = cold_start(monkeypatch)  # the parameter does not exist yet
    assert not isinstance(wsgi.app, Flask)
    client = Client(wsgi.app)
    for path in ("/healthz", "/login", "/t/anything/month/2026-12"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.mimetype == "text/plain"
        text = response.get_data(as_text=True)
        assert PARAMETER in text and "CADENZA_SECRET_PARAMETER" in text, text
        assert "infra/README.md" in text and "Traceback" not in text
    problems = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(problems) == 1 and PARAMETER in problems[0].getMessage()


def test_a_secret_key_too_short_is_named_but_never_shown(on_lambda, monkeypatch, caplog):
    on_lambda.put_parameter(Name=PARAMETER, Type="SecureString", Value="short-but-secret")
    response = Client(cold_start(monkeypatch).app).get("/login")
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and "at least 32" in text and PARAMETER in text
    assert "short-but-secret" not in text and "short-but-secret" not in caplog.text


def test_storing_the_parameter_fixes_it_within_30_seconds_without_a_redeploy(
    on_lambda, secret_reads, caplog
):
    moment = [1000.0]
    container = OneApp(clock=lambda: moment[0])
    client = Client(container.wsgi())
    assert client.get("/healthz").status_code == 503
    on_lambda.put_parameter(Name=PARAMETER, Type="SecureString", Value=SECRET)
    moment[0] += RETRY_SECONDS - 1
    storm = [client.get("/login").status_code for _ in range(20)]
    assert set(storm) == {503} and len(secret_reads) == 1  # SSM is not hammered
    moment[0] += 1
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    assert container.get().config["SECRET_KEY"] == SECRET
    assert len(secret_reads) == 2
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    assert RETRY_SECONDS == 30


def test_an_unreachable_ssm_is_a_503_naming_the_parameter(on_lambda, monkeypatch):
    monkeypatch.setenv("CADENZA_AWS_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    response = Client(cold_start(monkeypatch).app).get("/healthz")
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and "SSM could not be reached" in text and PARAMETER in text


# One app per container ---------------------------------------------------------------------

CONTAINER = """
import json, sys
from moto import mock_aws

mock_aws().start()
from flask import Flask

builds = []
init = Flask.__init__


def counting(self, *args, **kwargs):
    builds.append(1)
    init(self, *args, **kwargs)


Flask.__init__ = counting
import app.nudges  # what Zappa imports for the scheduled function

cheap = not builds and "app.wsgi" not in sys.modules and "app.planner" not in sys.modules
import app.wsgi  # what Zappa's handler imports on a cold start

served = app.wsgi.app.test_client().get("/healthz").status_code
app.nudges.run({}, None)
app.nudges.run({}, None)
print(json.dumps({"builds": len(builds), "cheap": cheap, "served": served}))
"""


def test_a_container_builds_the_app_once_for_its_requests_and_its_scheduled_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
    env.update(
        CADENZA_MODE="test",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        CADENZA_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", CONTAINER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"builds": 1, "cheap": True, "served": 200}


# Logs name people by id, never by address --------------------------------------------------


def refuse_mail_to(address: str):
    """An injector: SES refuses every message to ``address`` (and sends the others)."""

    def injector(event, request):
        if event != "before-send.ses.SendRawEmail":
            return None
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        raw = base64.b64decode(parse_qs(body)["RawMessage.Data"][0])
        return ses_error(request, "MessageRejected") if address.encode() in raw else None

    return injector


def test_the_nudge_job_logs_people_by_id_never_by_address(
    nudging,  # noqa: F811 (the fixture imported above)
    folks,
    inject,
    monkeypatch,
    caplog,
):
    caplog.set_level(logging.INFO)
    anna, marco = nudging["anna"], nudging["marco"]
    make_post(nudging, anna, rome(2026, 12, 5, 10))
    make_post(nudging, marco, rome(2026, 12, 5, 11), title="Marco's")
    folks.client_for(marco).post(
        "/me/nudges",
        data={
            "nudges_on": "y",
            "digest_on": "y",
            "digest_at": "09:00",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "away_from": "",
            "away_until": "",
        },
    )
    digest = reminders.get(*Reminder.digest_key(marco.person_id))
    digest.update(actions=[Reminder.due.set(rome(2026, 12, 4, 10))])
    reminders.pending(reminders.get(digest.pk, digest.sk)).save()
    inject(refuse_mail_to(marco.email))
    monkeypatch.setattr(nudges, "_application", nudging["app"])
    event = {"kwargs": {"now": rome(2026, 12, 4, 11).isoformat()}}
    counts = nudges.run(event, None)  # the scheduled function, as Zappa calls it
    assert counts["sent"] == 1 and counts["failed"] == 1  # Anna's sent; Marco's refused
    logged = [record.getMessage() for record in caplog.records]
    assert any(marco.person_id in line for line in logged), logged  # still says who
    addresses = (anna.email, marco.email, anna.email.split("@")[0], marco.email.split("@")[0])
    assert not [line for line in logged if any(a in line for a in addresses)], logged


def test_a_refused_sign_in_email_is_logged_without_the_address(client, app, inject, caplog):
    caplog.set_level(logging.INFO)
    inject(refuse_mail_to("nobody@example.com"))
    client.post("/login", data={"email": "nobody@example.com"})
    assert outbox(app) == []
    assert "SES refused" in caplog.text and "nobody@example.com" not in caplog.text


# Forms refused under HTTPS say why ---------------------------------------------------------

HTTPS = "https://localhost"  # the host the test client keeps its session cookie for
NO_REFERER = {
    "en": "did not say which page sent this form",
    "it": "non ha indicato quale pagina ha inviato questo modulo",
}


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_form_sent_over_https_without_a_referer_says_the_browser_hid_it(
    app, monkeypatch, language
):
    monkeypatch.setitem(app.config, "WTF_CSRF_SSL_STRICT", True)  # as in aws mode
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": "anna@example.com"},
        base_url=HTTPS,
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    assert NO_REFERER[language] in response.text and "Referer" in response.text
    assert outbox(app) == []  # nothing was done
    sent = client.post(
        "/login",
        data={"email": "anna@example.com"},
        base_url=HTTPS,
        headers={"Accept-Language": language, "Referer": f"{HTTPS}/login"},
    )
    assert sent.status_code == 200 and len(outbox(app)) == 1


def test_each_refused_form_says_what_happened(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_SSL_STRICT", True)
    client = app.test_client()
    elsewhere = client.post(
        "/login",
        data={"email": "anna@example.com"},
        base_url=HTTPS,
        headers={"Referer": "https://elsewhere.example/login"},
    )
    assert elsewhere.status_code == 400 and "another address" in elsewhere.text
    no_cookie = app.test_client().post(
        "/login",
        data={"email": "anna@example.com"},
        headers={"X-CSRFToken": client.csrf_token()},  # a token, but no session cookie
        csrf=False,
    )
    assert no_cookie.status_code == 400 and "cookie" in no_cookie.text
    assert outbox(app) == []


def test_request_logs_keep_no_sign_in_or_one_click_token(app, on_lambda, monkeypatch, caplog):
    monkeypatch.setenv("CADENZA_SECRET_KEY", "k" * 40)
    for logger in ("zappa.wsgi", "app"):
        monkeypatch.setattr(logging.getLogger(logger), "filters", [])
    cold_start(monkeypatch)
    caplog.set_level(logging.INFO)
    paths = ("/dev/login/SIGN-in_1", "/n/ONE.click-2", "/n/unsubscribe/UNSUB.scribe_3")
    for path in paths:
        # The line zappa.wsgi.common_log writes for each request.
        logging.getLogger("zappa.wsgi").info(
            f'203.0.113.9 - - [02/Dec/2026:10:00:00 +0000] "GET {path} HTTP/1.1" 200 512 "" ""'
        )
    assert caplog.text.count('"GET ') == 3
    assert "/dev/login/…" in caplog.text and "/n/unsubscribe/…" in caplog.text
    assert not re.search(r"SIGN|ONE|UNSUB", caplog.text), caplog.text

    # Flask's own line for a request that failed names its path too.
    monkeypatch.setattr(people, "stored_token", lambda token: 1 / 0)
    assert app.test_client().get("/login/SIGN-in_4").status_code == 500
    assert "Exception on /login/… [GET]" in caplog.text
    assert not re.search(r"SIGN|ONE|UNSUB", caplog.text), caplog.text


def referer_for(page_url: str, policy: str) -> dict:
    """The Referer a browser sends with a form posted from ``page_url`` to the same origin,
    under the page's Referrer-Policy (https throughout)."""
    origin = "/".join(page_url.split("/")[:3]) + "/"
    sent = {"no-referrer": None, "origin": origin, "strict-origin": origin}.get(policy, page_url)
    return {"Referer": sent} if sent else {}


def test_a_sign_in_link_can_be_confirmed_over_https_with_the_referer_its_page_allows(
    app, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_SSL_STRICT", True)
    client = app.test_client()
    referer = {"Referer": f"{HTTPS}/login"}
    asked = client.post(
        "/login", data={"email": "anna@example.com"}, base_url=HTTPS, headers=referer
    )
    assert asked.status_code == 200
    link = link_in(outbox(app)[0])
    page = client.get(link, base_url=HTTPS)
    sent = referer_for(f"{HTTPS}{link}", page.headers["Referrer-Policy"])
    confirmed = client.post(link, base_url=HTTPS, headers=sent)
    assert confirmed.status_code == 302, confirmed.text  # signed in
    assert link.rsplit("/", 1)[1] not in sent["Referer"]  # the key in the link stays out of it
