"""Fixtures: one moto mock for the whole run, a fresh store per test, signed-in clients, and
one clock that every test, the app and the helpers share.
"""

import json
import os
import re
import secrets
import threading
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

os.environ.update(
    AWS_EC2_METADATA_DISABLED="true",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="eu-west-1",
    CADENZA_MODE="test",
)

import pytest  # noqa: E402
import time_machine  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from itsdangerous import URLSafeTimedSerializer  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.backends import get_backend  # noqa: E402
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse  # noqa: E402

from app import create_app, mail, store  # noqa: E402
from app.config import Config  # noqa: E402
from app.store import meter, partners, people, posts, teams  # noqa: E402

# Sign-in answers are not held back to an even time here (tests/test_auth.py checks that).
TEST_CONFIG = Config(
    mode="test",
    calendar_table="test-calendar",
    system_table="test-system",
    sign_in_answer_seconds=0.0,
)
LINK = re.compile(r"https?://\S+/login/[\w-]+")
ROME = ZoneInfo("Europe/Rome")

# The suite runs on every core with ``--dist loadgroup``: a test file stays on one worker, in
# order (the deploy rehearsal's later tests read what its earlier ones did; module fixtures are
# built once), except the files below, whose tests go to whichever worker is free. Their long
# walks over every route are cut into SHARDS tests, so that no one test holds a worker for
# minutes while the other waits. The accessibility file's axe runs (about 20 s for each
# language and screen) are independent tests, spread as they are. Longest first: the order
# they are handed out in.
SPREAD_FILES = (
    "test_injected_faults.py",
    "test_phone_and_accessibility.py",
    "test_every_route.py",
    "test_partners.py",
)
SHARDS = 4


def pytest_itemcollected(item):
    """Group each test by its file (read by xdist in its collection hook, which comes later)."""
    if item.path.name not in SPREAD_FILES:
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


def pytest_collection_modifyitems(items):
    """On xdist's workers, whose order the Makefile's ``--no-loadscope-reorder`` keeps: the
    long instruments first, their shards before their other tests, then the files as collected.

    xdist's own order (the largest group first) handed the one-test shards out last, and a
    shard of 20 to 90 s kept one worker busy for over a minute after the other had finished.
    Started first, they leave the small files to even out the end.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return

    def turn(item):
        name = item.path.name
        if name not in SPREAD_FILES:
            return (len(SPREAD_FILES), False)
        callspec = getattr(item, "callspec", None)
        return (SPREAD_FILES.index(name), callspec is None or "shard" not in callspec.params)

    items.sort(key=turn)


def tomorrow_at_noon_in_rome() -> datetime:
    """Noon tomorrow in Rome, from the real date.

    Derived, not fixed, so the date never passes: it stays within a day and a half of the
    real clock, which Chromium keeps using for cookie expiry. Noon is outside everyone's
    default quiet hours (21:00-08:00) and far from any midnight or DST switch (at 02:00-03:00).
    """
    tomorrow = datetime.now(ROME).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(12), tzinfo=ROME)


@pytest.fixture(autouse=True)
def clock():
    """Every test starts at noon tomorrow in Rome, whatever the hour it runs (ticking on).

    time-machine moves ``datetime.now``/``time.time`` for the app's clock, the helpers below
    and the server threads alike. A test that needs another instant moves it:
    ``clock.move_to(when)``, or ``time_machine.travel(when, tick=False)`` inside.
    """
    with time_machine.travel(tomorrow_at_noon_in_rome(), tick=True) as traveller:
        yield traveller


# The instruments that send every route many times (tests/test_every_route.py,
# test_injected_faults.py, test_fuzz_forms.py) start at this one instant instead: what they
# check cannot then depend on when the suite runs, so `make test-any-hour` leaves them out and
# CI stays within its time. Noon on the Saturday before Rome's clocks go forward.
PINNED_INSTANT = datetime(2027, 3, 27, 12, tzinfo=ROME)


@pytest.fixture
def pinned_instant(clock):
    clock.move_to(PINNED_INSTANT)
    return clock


class ScanIssued(AssertionError):
    pass


def _refuse_scans(operation: str, params: dict, response: dict) -> None:
    if operation == "Scan":
        raise ScanIssued(f"a Scan was issued: {params}")


# Fault injection at botocore's before-send hook (where moto answers): each injector gets
# (event name, prepared request) and returns a response to send back instead, or None.
INJECTORS: list = []


def _injected_response(event_name: str, request):
    for injector in list(INJECTORS):
        response = injector(event_name, request)
        if response is not None:
            return response
    return None


def dynamodb_error(
    request, code: str, reasons: list | None = None, message: str = "injected"
) -> AWSResponse:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    if reasons is not None:
        body["CancellationReasons"] = reasons
    return AWSResponse(
        request.url,
        400,
        {"Content-Type": "application/x-amz-json-1.0"},
        MockRawResponse(json.dumps(body).encode()),
    )


def ses_error(request, code: str) -> AWSResponse:
    body = (
        '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
        "<RequestId>injected</RequestId></ErrorResponse>"
    )
    return AWSResponse(
        request.url, 400, {"Content-Type": "text/xml"}, MockRawResponse(body.encode())
    )


# DynamoDB's item size limit (names and values, UTF-8), which moto does not apply to the items
# of a transaction: without this check a write too large for DynamoDB passes every test.
ITEM_LIMIT_BYTES = 400 * 1024
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"  # DynamoDB's words


def item_bytes(item: dict) -> int:
    """An item's size as DynamoDB counts it, from its attributes in DynamoDB's JSON."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(name.encode()) + DynamoType(value).size() for name, value in item.items())


def _refuse_transactions_with_items_over_the_limit(event_name: str, request):
    if event_name != "before-send.dynamodb.TransactWriteItems":
        return None
    body = json.loads(request.body)
    for entry in body.get("TransactItems", []):
        item = (entry.get("Put") or {}).get("Item") or {}
        if item_bytes(item) > ITEM_LIMIT_BYTES:
            return dynamodb_error(request, "ValidationException", message=ITEM_TOO_LARGE)
    return None


@pytest.fixture
def quick_transactions(monkeypatch):
    """moto's TransactWriteItems deep-copies the whole table once for each item it names:
    2,000 posts would take hours and 24 GB. The emulator's transactions (app/local, checked
    against plain moto by tests/test_local_index.py) copy only what they change."""
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend

    from app.local import transactions

    if not transactions._moto:  # not installed in this process: install for this test only
        monkeypatch.setitem(
            transactions._moto, "transact_write_items", DynamoDBBackend.transact_write_items
        )
        monkeypatch.setattr(models, "copy", transactions._Copy())
        monkeypatch.setattr(
            DynamoDBBackend, "transact_write_items", transactions._transact_write_items
        )


@pytest.fixture
def inject():
    """Add fault injectors for one test."""
    added = []

    def add(injector):
        INJECTORS.append(injector)
        added.append(injector)

    yield add
    for injector in added:
        INJECTORS.remove(injector)


def _one_request_at_a_time():
    """Make moto's in-process mock apply one request at a time.

    DynamoDB applies each conditional write atomically; moto's in-process backend does not
    lock, so concurrent threads could both pass a condition. Serializing requests restores
    DynamoDB's guarantee, so the concurrency tests test Cadenza's conditions, not moto's races.
    """
    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def serialized(self, event_name, request, **kwargs):
        with lock:
            return _injected_response(event_name, request) or original(
                self, event_name, request, **kwargs
            )

    BotocoreStubber.__call__ = serialized
    return original


@pytest.fixture(scope="session")
def aws():
    """moto for the whole session: boto clients are created once (per-test mocks are slow)."""
    original = _one_request_at_a_time()
    INJECTORS.append(_refuse_transactions_with_items_over_the_limit)
    with mock_aws():
        meter.listen(_refuse_scans)
        yield
        meter.stop_listening(_refuse_scans)
    INJECTORS.remove(_refuse_transactions_with_items_over_the_limit)
    BotocoreStubber.__call__ = original


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF header a real page would (``csrf=False`` to omit it)."""

    def open(self, *args, csrf: bool = True, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        secret = self.application.config["SECRET_KEY"]
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture(scope="session")
def base_app(aws):
    app = create_app(TEST_CONFIG.with_mode_defaults())
    app.test_client_class = CsrfClient
    return app


def reset_aws(app) -> None:
    for service in ("dynamodb", "ses"):
        for by_region in get_backend(service).values():
            for backend in by_region.values():
                backend.reset()
    with app.app_context():
        store.create_tables()
        mail.verify_sender(app.extensions["cadenza"].sender)


@pytest.fixture
def app(base_app):
    reset_aws(base_app)
    base_app.extensions["cadenza"] = TEST_CONFIG.with_mode_defaults()
    yield base_app


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


def outbox(app) -> list[dict]:
    """Sent messages, newest first (as /dev/outbox.json lists them)."""
    from app.dev import outbox_messages

    with app.app_context():
        return outbox_messages()


def sent_mail_requests(inject) -> list[dict]:
    """The parameters of every SendRawEmail request, as SES would receive them."""
    seen = []

    def record(event, request):
        if event == "before-send.ses.SendRawEmail":
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            seen.append({key: values[0] for key, values in parse_qs(body).items()})

    inject(record)
    return seen


def link_in(message: dict) -> str:
    """The path of the sign-in or invitation link in an email's text part."""
    found = LINK.search(message["text"])
    assert found, message["text"]
    return urlsplit(found.group(0)).path


def sign_in(client, app, address: str) -> None:
    """Sign in through the real flow: ask for a link, open it, confirm."""
    response = client.post("/login", data={"email": address})
    assert response.status_code == 200, response.text
    path = link_in(outbox(app)[0])
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302, response.text


def post_concurrently(app, path: str, times: int) -> list[int]:
    """POST to ``path`` from ``times`` fresh clients at the same moment; sorted statuses."""
    clients = [app.test_client() for _ in range(times)]
    tokens = [c.csrf_token() for c in clients]
    statuses, barrier = [], threading.Barrier(times)

    def post(c, token):
        barrier.wait()
        statuses.append(c.post(path, headers={"X-CSRFToken": token}, csrf=False).status_code)

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


class People:
    """Create people and teams directly in the store, and sign them in cheaply."""

    def __init__(self, app):
        self.app = app

    def now(self) -> datetime:
        """The app's clock (a test may fix it), so people and pages agree on the time."""
        return self.app.extensions["cadenza"].clock()

    def person(self, address: str, name: str = "", language: str = "en", zone: str = "Europe/Rome"):
        now = self.now()
        with self.app.app_context():
            someone = people.find_or_create_person(address, now, language, zone)
            if name:
                people.update_profile(
                    someone, name=name, language=language, zone=zone, week_start=0
                )
        return someone

    def team(self, admin, name: str = "Cantina Aurora", zone: str = "Europe/Rome"):
        with self.app.app_context():
            return teams.create_team(admin, name=name, zone=zone, language="it", now=self.now())

    def join(self, team, someone, role: str):
        now = self.now()
        with self.app.app_context():
            stored = teams.team(team.team_id)  # the model, as the invite route has it
            raw = teams.invite(stored, address=someone.email, role=role, invited_by="Test", now=now)
            teams.accept_invite(people.token(raw, now), someone, now)

    def partner(self, team, other, other_admin):
        """Make ``team`` and ``other`` partners: ``other_admin`` accepts ``team``'s invitation."""
        now = self.now()
        with self.app.app_context():
            raw = partners.invite(
                teams.team(team.team_id), address=other_admin.email, invited_by="Test", now=now
            )
            partners.accept(people.stored_token(raw), teams.team(other.team_id), other_admin, now)

    def post(self, team, *, owner, created_by, status: str, title: str = "Tasting recap", tags=()):
        """A post due in two days on Instagram, made as the app makes one (nudges planned,
        its tags on the team's list)."""
        from app.planner import changes

        moment = self.now()
        post = posts.new_post(
            team.team_id,
            title=title,
            zone="Europe/Rome",
            created_by=created_by.person_id,
            now=moment,
            due=moment + timedelta(days=2),
            owner_id=owner.person_id,
            channels=["Instagram"],
            status=status,
            tags=tags,
        )
        with self.app.app_context():
            changes.create(post, teams.team(team.team_id), moment, copy="")
        return post

    def client_for(self, someone):
        """A test client with a real server-side session for ``someone``."""
        client = self.app.test_client()
        with self.app.app_context():
            raw = people.start_session(someone.person_id, self.now(), timedelta(days=1))
        with client.session_transaction() as session:
            session["sid"], session["pid"] = raw, someone.person_id
        return client


@pytest.fixture
def folks(app):
    return People(app)
