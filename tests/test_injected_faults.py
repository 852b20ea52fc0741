"""Injected faults (issue 9): every POST route, and the nudge job, with DynamoDB and SES failing
at each of their calls in turn, at botocore's before-send hook.

Whatever fails, a person gets a clean page (a 4xx, or 503 "cannot reach its storage"), never a
500 or a traceback, and the data is never half a change: a request's writes all land or none
do, or, where a request takes several steps, each step leaves the data consistent and the
person who tries again, as the error page asks, gets the rest done. The job, run with faults
and then cleanly, sends each due nudge exactly once.

One world (a team, its people, posts and links) is built once, and before each case moto's
tables are put back as they were. A clean run of a request lists its AWS calls; then each call
in turn fails, on every attempt botocore makes (its retries are real, their waits skipped):

- at every call, one way of being unavailable, taking turns: ProvisionedThroughputExceeded,
  ThrottlingException, InternalServerError, a connect timeout (ConnectTimeoutError); for SES
  Throttling, ServiceUnavailable, a connect timeout;
- at every write, also ConditionalCheckFailedException (on a conditional write; for a
  transaction TransactionCanceledException with a ConditionalCheckFailed reason), a
  TransactionConflict cancellation (a transaction), a lost answer (DynamoDB applies the write,
  its answer times out with ReadTimeoutError, botocore's retry meets the write already done;
  not for transactions, see AT_WRITES), and SES MessageRejected. (A lost SES answer sends the
  message twice whatever the app does, SES having no idempotency key: not modelled.)
"""

import copy
import inspect
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import botocore.endpoint
import moto.dynamodb.models as dynamodb_models
import pytest
import test_events
import test_nudges
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.retries.standard import RetryQuotaChecker
from formdata import form_in
from moto.backends import get_backend
from moto.core.models import BotocoreStubber, botocore_stubber
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from test_kits import new_kit
from test_nudges import _emails_per_post, make_post, rome, run
from test_planner_everyday import edited, form_fields
from werkzeug.datastructures import MultiDict

from app import nudges
from app.notifications import record
from app.nudges import job, plan, tokens
from app.planner import changes
from app.schedules import planning
from app.store import (
    events,
    keys,
    kits,
    partners,
    people,
    posts,
    reminders,
    schedules,
    sharing,
    teams,
)
from app.store import feeds as stored_feeds
from app.store import notifications as stored_notes
from app.store import profiles as stored_profiles
from app.store.models import (
    Event,
    Invite,
    PartnerInvite,
    Person,
    Post,
    PostBody,
    Reminder,
    SharedEvent,
    SignInToken,
    Team,
)
from tests.conftest import ROME, SHARDS, dynamodb_error, outbox, ses_error

pytestmark = pytest.mark.usefixtures("pinned_instant")  # see conftest.PINNED_INSTANT

nudging = test_nudges.nudging  # the fixture: Anna (admin) and Marco (editor), 1 December 2026

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
# Left behind by a failed request on purpose: rate counters count attempts, and a sign-in
# token whose email never went out (or whose session never reached the browser) only expires.
INCIDENTAL = {"RATE", "SESSION", "TOKEN"}


# The moto store, saved and put back --------------------------------------------------------


def _backends(service: str):
    for by_region in get_backend(service).values():
        yield from by_region.values()


def _tables() -> dict:
    return {
        name: table for backend in _backends("dynamodb") for name, table in backend.tables.items()
    }


def saved_store() -> dict:
    return {name: copy.deepcopy(table.items) for name, table in _tables().items()}


def put_back(saved: dict) -> None:
    for name, table in _tables().items():
        table.items = copy.deepcopy(saved[name])
    for backend in _backends("ses"):
        backend.sent_messages.clear()


def items() -> dict[tuple[str, str, str], dict]:
    """Every stored item, raw, by (table, pk, sk)."""
    return {
        (name, item.hash_key.value, item.range_key.value): item.to_json()["Attributes"]
        for name, table in _tables().items()
        for item in table.all_items()
    }


def kind(key: tuple[str, str, str]) -> str:
    """What an item is, without its ids: "REMIND#before-60", "POST", "PERSON", "RATE"."""
    _table, pk, sk = key
    prefix = pk.split("#", 1)[0]
    if prefix != "TEAM":
        return prefix
    if sk.startswith("REMIND#"):
        return "REMIND#" + sk.rsplit("#", 1)[1]
    return sk.split("#", 1)[0]


def changed_kinds(before: dict, after: dict) -> Counter:
    keys = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    return Counter(kind(key) for key in keys if kind(key) not in INCIDENTAL)


# What must hold whenever a request is over -----------------------------------------------------


def inconsistencies(stored: dict, now, plans: bool = True) -> list[str]:
    """What does not agree in the stored data: memberships and their copies, partnerships and
    their two sides, posts and their bodies, invitations and their tokens, and (``plans``)
    reminders and their posts' plans."""
    found: dict[type, list] = {}
    reminders_of: dict[tuple[str, str], list[Reminder]] = {}
    for (_table, pk, sk), raw in stored.items():
        model = {
            "PERSON": Person,
            "TEAM": Team,
            "POST": Post,
            "BODY": PostBody,
            "EVENT": Event,
            "SHAREDEVENT": SharedEvent,
        }.get(sk.split("#", 1)[0])
        if sk.startswith("REMIND#"):
            reminder = Reminder.from_raw_data(raw)
            reminders_of.setdefault((pk, reminder.post_id), []).append(reminder)
        elif sk.startswith("HEALTH#"):  # an admin's weekly Cadence health email
            found.setdefault("weekly", []).append((pk.removeprefix("TEAM#"), sk[len("HEALTH#") :]))
        elif sk.startswith("INVITE#"):
            found.setdefault(Invite, []).append(Invite.from_raw_data(raw))
        elif sk.startswith("PARTNERINVITE#"):
            found.setdefault(PartnerInvite, []).append(PartnerInvite.from_raw_data(raw))
        elif sk == "TOKEN":
            found.setdefault(SignInToken, []).append(SignInToken.from_raw_data(raw))
        elif model is not None:
            found.setdefault(model, []).append(model.from_raw_data(raw))
    persons = {p.person_id: p for p in found.get(Person, [])}
    all_teams = {t.team_id: t for t in found.get(Team, [])}
    wrong = []
    for team in all_teams.values():
        admins = 0
        for member in team.member_list():
            admins += member.role == "admin"
            person = persons.get(member.person_id)
            entry = person.team_entries().get(team.team_id) if person else None
            if entry is None or entry["role"] != member.role or entry["name"] != team.name:
                wrong.append(f"{member.email} in {team.name} as {member.role}: theirs {entry}")
                continue
            copied = {"name": person.name, **person.nudge_preferences()}
            kept = {field: team.member_entries()[member.person_id].get(field) for field in copied}
            if kept != copied:
                wrong.append(f"{team.name}'s copy of {person.email}: {kept} != {copied}")
        if admins != team.admin_count:
            wrong.append(f"{team.name}: {admins} admins, counted {team.admin_count}")
    for person in persons.values():
        for team_id in person.team_entries():
            team = all_teams.get(team_id)
            if team is None or team.member(person.person_id) is None:
                wrong.append(f"{person.email} lists team {team_id}, which does not list them")
    # Chosen on the health page (the person's team entry) if and only if it is planned.
    chosen = {
        (team_id, person.person_id)
        for person in persons.values()
        for team_id, entry in person.team_entries().items()
        if entry.get("weekly_health")
    }
    planned = {
        (team_id, person_id)
        for team_id, person_id in found.get("weekly", [])
        if team_id in persons.get(person_id, Person()).team_entries()
    }
    wrong += [
        f"weekly health email of {who} in {team}: chosen, not planned"
        for team, who in chosen - planned
    ]
    wrong += [
        f"weekly health email of {who} in {team}: planned, not chosen"
        for team, who in planned - chosen
    ]
    bodies = {(b.pk, b.sk.split("#", 1)[1]): b for b in found.get(PostBody, [])}
    for post in found.get(Post, []):
        body = bodies.pop((post.pk, post.post_id), None)
        if body is None or body.expires_at != post.expires_at:
            wrong.append(f"post {post.title!r} and its body disagree: {body and body.expires_at}")
        team = all_teams.get(post.team_id)
        mine = reminders_of.get((post.pk, post.post_id), [])
        if team is not None and plans:
            wrong += _unplanned(post, team, mine, now)
            wrong += _co_owner_unplanned(post, all_teams.get(post.shared_with or ""), mine, now)
    wrong += [f"a body without its post: {key}" for key in bodies]
    wrong += _shared_events_disagree(found.get(Event, []), found.get(SharedEvent, []))
    tokens_by_hash = {t.pk.removeprefix("TOKEN#"): t for t in found.get(SignInToken, [])}
    for team in all_teams.values():
        for partner_id, entry in team.partner_entries().items():
            other = all_teams.get(partner_id)
            if other is None or team.team_id not in other.partner_entries():
                wrong.append(f"{team.name} lists {entry['name']} as partner, not the reverse")
            elif entry["name"] != other.name:
                wrong.append(f"{team.name}'s copy of its partner's name: {entry['name']}")
    for invite in found.get(Invite, []) + found.get(PartnerInvite, []):
        token = tokens_by_hash.get(invite.token_hash)
        if token is None or token.used_at is not None:
            wrong.append(f"the invitation of {invite.email} has no usable token")
    return wrong


def _shared_events_disagree(originals: list[Event], mirrors: list[SharedEvent]) -> list[str]:
    """A shared event and its mirror are written together: each shared event has its mirror
    as the event is, and each mirror its shared original."""
    shown = {(m.team_id, m.origin_team_id, m.event_id): m.serialize() for m in mirrors}
    wrong = []
    for event in originals:
        if not event.shared_with:
            continue
        key = (event.shared_with, event.team_id, event.event_id)
        if shown.pop(key, None) != SharedEvent.of(event).serialize():
            wrong.append(f"event {event.title!r}: its mirror is missing or out of step")
    return wrong + [f"a mirror of no shared event: {key}" for key in shown]


def _unplanned(post: Post, team: Team, stored: list[Reminder], now) -> list[str]:
    """How a post's pending deadline nudges differ from its plan (for its due time, owner and
    the owner's preferences as the team keeps them)."""
    writes = plan.deadline_writes(post, team, now, stored)
    pending = {r.kind: r for r in stored if r.state == "pending"}
    wrong = []
    for wanted in writes.put:
        have = pending.get(wanted.kind)
        if have is None or (have.due, have.person_id, have.for_due) != (
            wanted.due,
            wanted.person_id,
            wanted.for_due,
        ):
            wrong.append(f"post {post.title!r}: {wanted.kind} not as planned")
    for unwanted in writes.delete:
        kind_ = unwanted.sk.rsplit("#", 1)[1]
        if kind_ in pending:
            wrong.append(f"post {post.title!r}: {kind_} still pending, not planned")
    return wrong


def _co_owner_unplanned(post: Post, partner: Team | None, stored: list[Reminder], now):
    """How a shared post's co-owner's pending nudges still ahead differ from their plan (their
    member entry in the partner team): none left after unsharing, none missing after sharing."""
    wanted = {n.kind: n for n in plan.co_owner_nudges(post, partner, now) if n.due > now}
    pending = {
        r.kind: r
        for r in stored
        if plan.for_co_owner(r.kind)
        and r.state == "pending"
        and r.due > now
        # (one left from an earlier deadline is the job's to cancel: its for_due says so)
        and r.for_due == post.due
    }
    wrong = [
        f"post {post.title!r}: {kind} not as planned"
        for kind, nudge in wanted.items()
        if (have := pending.get(kind)) is None
        or (have.due, have.person_id, have.for_due) != (nudge.due, nudge.person_id, nudge.for_due)
    ]
    return wrong + [
        f"post {post.title!r}: {kind} still pending, not planned"
        for kind in pending.keys() - wanted.keys()
    ]


# Faults --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    name: str
    service: str
    answer: Callable  # (request, operation) -> a response, or raises
    applies: Callable = lambda operation, body: True  # noqa: E731


def _conditional(operation: str, body: dict) -> bool:
    if operation == "TransactWriteItems":
        return any(
            "ConditionExpression" in next(iter(entry.values()))
            for entry in body.get("TransactItems", [])
        )
    return "ConditionExpression" in body


def _cancelled(reason: str):
    def answer(request, operation):
        count = len(json.loads(request.body)["TransactItems"])
        reasons = [{"Code": reason, "Message": "injected"}] + [{"Code": "None"}] * (count - 1)
        return dynamodb_error(request, "TransactionCanceledException", reasons)

    return answer


def _condition_failed(request, operation):
    if operation == "TransactWriteItems":
        return _cancelled("ConditionalCheckFailed")(request, operation)
    return dynamodb_error(request, "ConditionalCheckFailedException")


def _connect_timeout(request, operation):
    raise ConnectTimeoutError(endpoint_url=request.url)


def _answer_lost(request, operation):
    """The write is applied; its answer never comes back (botocore then retries it).

    Applied by moto's own handler, which tests/conftest.py wraps (and keeps as ``original``).
    """
    moto = inspect.getclosurevars(BotocoreStubber.__call__).nonlocals["original"]
    moto(botocore_stubber, f"before-send.dynamodb.{operation}", request)
    raise ReadTimeoutError(endpoint_url=request.url)


def _dynamodb(code):
    return lambda request, operation: dynamodb_error(request, code)


def _ses(code):
    return lambda request, operation: ses_error(request, code)


# Faults that make a call unavailable take turns, call by call (each route meets most).
UNAVAILABLE = {
    "dynamodb": [
        Fault(
            "ProvisionedThroughputExceeded",
            "dynamodb",
            _dynamodb("ProvisionedThroughputExceededException"),
        ),
        Fault("ThrottlingException", "dynamodb", _dynamodb("ThrottlingException")),
        Fault("InternalServerError", "dynamodb", _dynamodb("InternalServerError")),
        Fault("connect timeout", "dynamodb", _connect_timeout),
    ],
    "ses": [
        Fault("SES Throttling", "ses", _ses("Throttling")),
        Fault("SES ServiceUnavailable", "ses", _ses("ServiceUnavailable")),
        Fault("SES connect timeout", "ses", _connect_timeout),
    ],
}
# And at each write call, every other way it can fail.
AT_WRITES = [
    # On a transaction: TransactionCanceledException, ConditionalCheckFailed its reason.
    Fault("ConditionalCheckFailed", "dynamodb", _condition_failed, _conditional),
    Fault(
        "TransactionCanceled: TransactionConflict",
        "dynamodb",
        _cancelled("TransactionConflict"),
        lambda operation, body: operation == "TransactWriteItems",
    ),
    # Not for transactions: DynamoDB makes their retry idempotent with a ClientRequestToken,
    # which Cadenza does not send yet and moto ignores (a lost answer there reads as a conflict).
    Fault(
        "answer lost",
        "dynamodb",
        _answer_lost,
        lambda operation, body: operation in WRITES and operation != "TransactWriteItems",
    ),
    Fault("SES MessageRejected", "ses", _ses("MessageRejected")),
]


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    body: bytes

    @property
    def writes(self) -> bool:
        return self.operation in WRITES or self.operation == "SendRawEmail"

    def decoded(self) -> dict:
        return json.loads(self.body) if self.service == "dynamodb" else {}


def _call(event: str, request) -> Call:
    _before, service, operation = event.split(".")
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return Call(service, operation, body)


class Injector:
    """Records the AWS calls; fails the n-th (and every retry of it: the same request again).

    A lost answer is one failure: the retry goes through and meets the write already done.
    """

    def __init__(self, position: int | None = None, fault: Fault | None = None):
        self.position, self.fault = position, fault
        self.calls: list[Call] = []
        self.failed: Call | None = None

    def __call__(self, event: str, request):
        if not event.startswith("before-send."):
            return None
        call = _call(event, request)
        self.calls.append(call)
        if self.failed is None and len(self.calls) - 1 == self.position:
            self.failed = call
        elif call != self.failed or self.fault.answer is _answer_lost:
            return None
        return self.fault.answer(request, call.operation)


def cases(calls: list[Call]) -> list[tuple[int, Fault]]:
    """The grid: each call unavailable, and each write call failing every other way.

    A run of alike calls in a row (a schedule planning its slots, a transaction each) is tried
    at its first and its last call: a fault at one in between meets the same code, with less
    done before it than at the last and more than at the first.
    """
    grid = []
    for position, call in enumerate(calls):
        if _inside_a_run(calls, position):
            continue
        turns = UNAVAILABLE[call.service]
        grid.append((position, turns[position % len(turns)]))
        if call.writes:
            grid += [
                (position, fault)
                for fault in AT_WRITES
                if fault.service == call.service and fault.applies(call.operation, call.decoded())
            ]
    return grid


def _inside_a_run(calls: list[Call], position: int) -> bool:
    def alike(other: Call) -> bool:
        return (other.service, other.operation) == (
            calls[position].service,
            calls[position].operation,
        )

    return (
        0 < position < len(calls) - 1 and alike(calls[position - 1]) and alike(calls[position + 1])
    )


@pytest.fixture
def quick_retries(monkeypatch):
    """botocore retries as configured, without waiting, and without its retry quota (which
    lives as long as the session's clients and would run dry across the cases).

    And moto's transactions copy each table once, not once per item, for their rollback (the
    same rollback: these tests make hundreds of transactions).
    """
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(RetryQuotaChecker, "acquire_retry_quota", lambda self, context: True)
    monkeypatch.setitem(job.Job.__init__.__kwdefaults__, "sleep", lambda seconds: None)
    copies: dict[int, object] = {}

    def copy_once(value, memo=None):
        if not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in copies:
            copies[id(value)] = copy.deepcopy(value, memo)
        return copies[id(value)]

    transact = DynamoDBBackend.transact_write_items

    def transact_copying_once(self, transact_items):
        copies.clear()
        try:
            return transact(self, transact_items)
        finally:
            copies.clear()

    monkeypatch.setattr(dynamodb_models, "copy", SimpleNamespace(deepcopy=copy_once))
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_copying_once)


# The world every route case starts from --------------------------------------------------------


class World:
    """Cantina Aurora: Anna (admin), Bruno (editor), Carla (viewer, whose mail bounced), with
    Bruno's draft post, Anna's post that Bruno reviews, Bruno's post in the trash, a pending
    invitation, and links: a sign-in link, an invitation, nudge actions and unsubscribe."""

    def __init__(self, app, folks):
        self.app, self.folks = app, folks
        now = folks.now()
        self.anna = folks.person("anna@example.com", "Anna Rossi")
        self.bruno = folks.person("bruno@example.com", "Bruno Bianchi")
        self.carla = folks.person("carla@example.com", "Carla Verdi")
        self.newcomer = folks.person("nuovo@example.com")  # signed in, not yet named
        self.team = folks.team(self.anna)
        folks.join(self.team, self.bruno, "editor")
        folks.join(self.team, self.carla, "viewer")
        self.post = folks.post(self.team, owner=self.bruno, created_by=self.bruno, status="draft")
        self.reviewed = folks.post(
            self.team, owner=self.anna, created_by=self.anna, status="draft", title="Harvest"
        )
        self.trashed = folks.post(
            self.team, owner=self.bruno, created_by=self.bruno, status="draft", title="Old"
        )
        with app.test_request_context():
            team = teams.team(self.team.team_id)
            loaded, body = posts.load(self.team.team_id, self.reviewed.post_id)
            changes.update(
                loaded,
                body,
                team,
                summary={
                    "status": "in_review",
                    "reviewer_id": self.bruno.person_id,
                    "tags": {"harvest"},
                },
                body_fields={},
                actor=self.anna.person_id,
                now=now,
            )
            loaded, body = posts.load(self.team.team_id, self.trashed.post_id)
            changes.trash(loaded, body, team, actor=self.bruno.person_id, now=now)
            people.mark_mail_problem(self.carla.person_id, "bounce", "injected", now)
            teams.invite(team, address="zoe@example.com", role="editor", invited_by="A", now=now)
            self.invitation = teams.invite(
                team, address="nina@example.com", role="editor", invited_by="A", now=now
            )
            self.sign_in, _token = people.issue_token(
                self.bruno.email, "sign_in", now, timedelta(minutes=10)
            )
            self.links = {
                action: tokens.sign(
                    action,
                    # An editor publishes only approved posts: the admin publishes the draft.
                    person_id=(self.anna if action == "published" else self.bruno).person_id,
                    team_id=self.team.team_id,
                    post_id=self.post.post_id,
                    kind="before-1440",
                    expires=now + timedelta(days=9),
                )
                for action in ("published", "snooze", "handover")
            }
            # The review request's decisions (Bruno reviews Anna's post); Anna takes Bruno's
            # post over from an escalation.
            version = posts.load(self.team.team_id, self.reviewed.post_id)[0].version
            for action, who, post, kind in (
                ("approve", self.bruno, self.reviewed, "review-1"),
                ("changes", self.bruno, self.reviewed, "review-1"),
                ("takeover", self.anna, self.post, "escalate"),
            ):
                self.links[action] = tokens.sign(
                    action,
                    person_id=who.person_id,
                    team_id=self.team.team_id,
                    post_id=post.post_id,
                    kind=kind,
                    expires=now + timedelta(days=9),
                    version=version if kind == "review-1" else None,
                )
            self.unsubscribe = tokens.sign("unsubscribe", person_id=self.bruno.person_id)
        # Olga admins two other teams: Bottega, Aurora's partner, and Enoteca, which she is
        # invited to make one; an invitation to Pia waits.
        self.olga = folks.person("olga@example.com", "Olga Neri")
        self.enoteca, self.bottega = (
            folks.team(self.olga, "Enoteca"),
            folks.team(self.olga, "Bottega"),
        )
        with app.app_context():
            first = partners.invite(
                teams.team(self.team.team_id), address=self.olga.email, invited_by="A", now=now
            )
            partners.accept(
                people.stored_token(first), teams.team(self.bottega.team_id), self.olga, now
            )
            aurora = teams.team(self.team.team_id)
            self.partner_link = partners.invite(
                aurora, address=self.olga.email, invited_by="A", now=now
            )
            self.partner_invite = people.hash_secret(
                partners.invite(aurora, address="pia@example.com", invited_by="A", now=now)
            )
            # Anna's approved post and her post in review shared with Bottega, Olga their
            # co-owner there.
            self.shared, self.in_review = (
                folks.post(self.team, owner=self.anna, created_by=self.anna, status=status)
                for status in ("approved", "in_review")
            )
            for shared in (self.shared, self.in_review):
                changes.share(
                    posts.load(self.team.team_id, shared.post_id)[0],
                    teams.team(self.team.team_id),
                    actor=self.anna.person_id,
                    partner_id=self.bottega.team_id,
                    co_owner=(self.olga.person_id, "Olga Neri"),
                    origin_name="Cantina Aurora",
                    shown={},
                    now=now,
                )
            # Olga, co-owner in Bottega, marks the shared post published from her nudge.
            self.links["co-published"] = tokens.sign(
                "published",
                person_id=self.olga.person_id,
                team_id=self.team.team_id,
                post_id=self.shared.post_id,
                kind="co-before-1440",
                expires=now + timedelta(days=9),
                partner=self.bottega.team_id,
            )
        self.sessions = {}
        for someone in (self.anna, self.bruno, self.carla, self.newcomer, self.olga):
            with app.app_context():
                self.sessions[someone.person_id] = people.start_session(
                    someone.person_id, now, timedelta(days=1)
                )

    def client(self, someone=None):
        """A browser: signed in as ``someone`` (no store call: the session is stored already)."""
        client = self.app.test_client()
        if someone is not None:
            with client.session_transaction() as session:
                session["sid"], session["pid"] = self.sessions[someone.person_id], someone.person_id
        return client

    def path(self, *parts) -> str:
        return "/".join([f"/t/{self.team.team_id}", *parts])


def _without_csrf(pairs) -> MultiDict:
    """A page's form as sent by another browser of the same person (which sends its own)."""
    return MultiDict([(name, value) for name, value in pairs if name != "csrf_token"])


def _page_form(client, path: str, form_id: str, **changes_) -> MultiDict:
    return _without_csrf(edited(form_in(client.get(path).text, id=form_id).fields, **changes_))


def requests(w: World) -> dict[str, Callable]:
    """One request per POST route (two for sign-in links), each a change that writes."""
    post, team_id = w.post, w.team.team_id
    anna, bruno = w.client(w.anna), w.client(w.bruno)  # to read the forms from their pages
    panel = bruno.get(w.path("posts", post.post_id)).text
    saved = _without_csrf(edited(form_fields(panel), at="11:30", copy="Six wines, one evening."))
    moved = _without_csrf(form_in(panel, id="move-form").fields)
    profile = _page_form(bruno, "/me", "profile-form", zone="America/New_York")
    preferences = _page_form(
        bruno,
        "/me/nudges",
        "preferences-form",
        custom_leads="y",
        leads=["4320", "60"],
        digest_on="y",
        digest_at="07:30",
    )
    renamed = _page_form(anna, w.path("settings"), "team-form", team_name="Cantina Boreale")
    playbook = _page_form(anna, w.path("playbook", "edit"), "playbook-form", guidelines="Warm.")
    day_after = (post.due + timedelta(days=1)).astimezone(ROME).date()
    invitation = teams.pending_invites(team_id, w.folks.now())[0].token_hash
    reviewed_version = str(posts.load(team_id, w.reviewed.post_id)[0].version)
    version = str(posts.load(team_id, post.post_id)[0].version)
    shared_version = str(posts.load(team_id, w.shared.post_id)[0].version)
    review_version = str(posts.load(team_id, w.in_review.post_id)[0].version)
    # Bruno's tasting with its series; a new event's confirmed preview; the tasting moved.
    day = w.folks.now().astimezone(ROME).date() + timedelta(days=20)
    tasting = test_events.plan_event(bruno, team_id, **test_events.event_fields(day))
    fair = test_events.preview(bruno, team_id, **test_events.event_fields(day, title="Fair"))
    new_event = _without_csrf(form_in(fair.text, id="event-form").fields)
    new_event["action"] = "create"
    moved_event = _page_form(
        bruno, w.path("events", tasting.event_id), "event-form", start_day=str(day + timedelta(2))
    )
    template = _page_form(
        anna, w.path("series?template=tasting"), "template-tasting", name="Degustazione"
    )
    schedule, new_schedule, at_seven, tuesday = _schedule_forms(w, bruno)
    joint = _joint_fair(w, day)
    joint_moved = _page_form(
        bruno, w.path("events", joint.event_id), "event-form", start_day=str(day + timedelta(3))
    )
    feed = stored_feeds.create(people.person(w.bruno.person_id), now=w.folks.now())[0]
    own_profile = stored_profiles.add(
        people.person(w.bruno.person_id), network="x", handle="bruno", url="", now=w.folks.now()
    )
    prefix = f"p{own_profile.profile_id}-"
    profile_edit = {
        prefix + "rev": own_profile.rev,
        prefix + "network": "x",
        prefix + "handle": "b2",
    }
    # Bruno's CSV file of one post, uploaded (its confirmation below) and to upload again.
    plan_csv = f"title,date,time\nTasting from a file,{day + timedelta(days=1)},18:00\n".encode()
    uploaded = w.client(w.bruno).post(
        w.path("import"), data={"file": (io.BytesIO(plan_csv), "plan.csv")}
    )
    csv_import = uploaded.headers["Location"].rsplit("/", 1)[1]
    kit_sends = _kit_requests(w)
    return {
        **kit_sends,
        "auth.login": lambda: w.client().post("/login", data={"email": w.bruno.email}),
        "auth.confirm": lambda: w.client().post(f"/login/{w.sign_in}"),
        "auth.confirm (invitation)": lambda: w.client().post(f"/login/{w.invitation}"),
        "auth.logout": lambda: w.client(w.bruno).post("/logout"),
        "auth.profile": lambda: w.client(w.bruno).post("/me", data=profile),
        "auth.resume_mail": lambda: w.client(w.carla).post("/me/mail"),
        "auth.welcome": lambda: w.client(w.newcomer).post(
            "/welcome",
            data={
                "name": "Nuovo",
                "language": "it",
                "zone": "Europe/Rome",
                "week_start": "0",
                "team_name": "Enoteca",
                "team_zone": "Europe/Rome",
                "team_language": "it",
            },
        ),
        "nudges.preferences": lambda: w.client(w.bruno).post("/me/nudges", data=preferences),
        "feeds.create": lambda: w.client(w.bruno).post("/me/feeds"),
        "feeds.regenerate": lambda: w.client(w.bruno).post(f"/me/feeds/{feed.feed_id}/regenerate"),
        "feeds.revoke": lambda: w.client(w.bruno).post(f"/me/feeds/{feed.feed_id}/revoke"),
        "feeds.create_team_feed": lambda: w.client(w.carla).post(w.path("feeds?channel=Instagram")),
        "profiles.add": lambda: w.client(w.bruno).post(
            "/me/profiles", data={"new-network": "linkedin", "new-handle": "bruno-bianchi"}
        ),
        "profiles.save": lambda: w.client(w.bruno).post(
            f"/me/profiles/{own_profile.profile_id}", data=profile_edit
        ),
        "profiles.remove": lambda: w.client(w.bruno).post(
            f"/me/profiles/{own_profile.profile_id}/remove", data=profile_edit
        ),
        "nudges.act (published)": lambda: w.client().post(f"/n/{w.links['published']}"),
        "nudges.act (snooze)": lambda: w.client().post(f"/n/{w.links['snooze']}"),
        "nudges.act (handover)": lambda: w.client().post(
            f"/n/{w.links['handover']}", data={"to": w.anna.person_id}
        ),
        "nudges.act (approve)": lambda: w.client().post(f"/n/{w.links['approve']}"),
        "nudges.act (changes)": lambda: w.client().post(
            f"/n/{w.links['changes']}", data={"comment": "Brighter, please"}
        ),
        "nudges.act (takeover)": lambda: w.client().post(f"/n/{w.links['takeover']}"),
        "nudges.act (co-owner published)": lambda: w.client().post(
            f"/n/{w.links['co-published']}", data={"link": "https://bottega.example/p/2"}
        ),
        "nudges.unsubscribe": lambda: w.client().post(f"/n/unsubscribe/{w.unsubscribe}"),
        "nudges.team_defaults": lambda: w.client(w.anna).post(
            w.path("nudges"), data={"leads": ["240"]}
        ),
        "planner.channels": lambda: w.client(w.anna).post(
            w.path("channels"), data={"name": "Mastodon"}
        ),
        "planner.tags": lambda: w.client(w.anna).post(
            w.path("tags"), data={"remove_tag": "harvest"}
        ),
        "teams.revoke": lambda: w.client(w.anna).post(w.path("invites", invitation, "revoke")),
        "teams.leave": lambda: w.client(w.bruno).post(w.path("leave")),
        "teams.remove": lambda: w.client(w.anna).post(
            w.path("members", w.carla.person_id, "remove")
        ),
        "teams.change_role": lambda: w.client(w.anna).post(
            w.path("members", w.bruno.person_id, "role"), data={"role": "admin"}
        ),
        "teams.invite": lambda: w.client(w.anna).post(
            w.path("members", "invite"), data={"email": "ugo@example.com", "role": "editor"}
        ),
        "teams.team_settings": lambda: w.client(w.anna).post(w.path("settings"), data=renamed),
        "partners.invite": lambda: w.client(w.anna).post(
            w.path("partners", "invite"), data={"email": w.olga.email}
        ),
        "partners.withdraw": lambda: w.client(w.anna).post(
            w.path("partners", "invites", w.partner_invite, "withdraw")
        ),
        "partners.end": lambda: w.client(w.anna).post(
            w.path("partners", "end"), data={"partner": w.bottega.team_id}
        ),
        "sharing.share": lambda: w.client(w.anna).post(
            w.path("posts", post.post_id, "share"),
            data={"partner": w.bottega.team_id, "co_owner": "", "version": version},
        ),
        "sharing.publish": lambda: w.client(w.olga).post(
            f"/t/{w.bottega.team_id}/shared/{team_id}/{w.shared.post_id}/publish",
            data={"url": "https://bottega.example/p/1", "version": shared_version},
        ),
        "sharing.approve": lambda: w.client(w.olga).post(
            f"/t/{w.bottega.team_id}/shared/{team_id}/{w.in_review.post_id}/approve",
            data={"version": review_version},
        ),
        "partners.answer (accept)": lambda: w.client(w.olga).post(
            f"/partners/{w.partner_link}", data={"team": w.enoteca.team_id, "decision": "accept"}
        ),
        "partners.answer (decline)": lambda: w.client(w.olga).post(
            f"/partners/{w.partner_link}", data={"team": w.enoteca.team_id, "decision": "decline"}
        ),
        "teams.new": lambda: w.client(w.bruno).post(
            "/teams/new",
            data={"team_name": "Bruno's", "team_zone": "Europe/Rome", "team_language": "en"},
        ),
        "planner.create": lambda: w.client(w.bruno).post(
            w.path("posts"),
            data=MultiDict(edited(saved.items(multi=True), title="A new one", version="0")),
        ),
        "planner.save": lambda: w.client(w.bruno).post(w.path("posts", post.post_id), data=saved),
        "planner.add_comment": lambda: w.client(w.carla).post(
            w.path("posts", post.post_id, "comments"), data={"text": "Lovely"}
        ),
        "planner.duplicate": lambda: w.client(w.bruno).post(
            w.path("posts", post.post_id, "duplicate"),
            data=MultiDict(edited(saved.items(multi=True), day=str(day_after))),
        ),
        "planner.move": lambda: w.client(w.bruno).post(  # dragged: a conflict answers 409
            w.path("posts", post.post_id, "move"),
            data=MultiDict(edited(moved.items(multi=True), date=str(day_after))),
            headers={"HX-Request": "true"},
        ),
        "planner.restore": lambda: w.client(w.bruno).post(
            w.path("posts", w.trashed.post_id, "restore")
        ),
        "planner.review": lambda: w.client(w.bruno).post(
            w.path("posts", w.reviewed.post_id, "review"),
            data={"decision": "approve", "version": reviewed_version},
        ),
        "planner.trash": lambda: w.client(w.bruno).post(w.path("posts", post.post_id, "trash")),
        "events.create": lambda: w.client(w.bruno).post(w.path("events"), data=new_event),
        "events.save": lambda: w.client(w.bruno).post(
            w.path("events", tasting.event_id), data=moved_event
        ),
        "events.cancel": lambda: w.client(w.bruno).post(
            w.path("events", tasting.event_id, "cancel"),
            data={"series": "remove", "version": str(tasting.version)},
        ),
        "events.save (shared)": lambda: w.client(w.bruno).post(
            w.path("events", joint.event_id), data=joint_moved
        ),
        "events.share": lambda: w.client(w.anna).post(
            w.path("events", tasting.event_id, "share"),
            data={"partner": w.bottega.team_id, "version": str(tasting.version)},
        ),
        "events.share (unshare)": lambda: w.client(w.anna).post(
            w.path("events", joint.event_id, "share"),
            data={"partner": "", "version": str(joint.version)},
        ),
        "events.save_template": lambda: w.client(w.anna).post(w.path("series"), data=template),
        "schedules.create": lambda: w.client(w.bruno).post(w.path("schedules"), data=new_schedule),
        "schedules.save": lambda: w.client(w.bruno).post(
            w.path("schedules", schedule.schedule_id), data=at_seven
        ),
        "schedules.skip": lambda: w.client(w.bruno).post(
            w.path("schedules", schedule.schedule_id, "skip"),
            data={"day": str(tuesday), "version": str(schedule.version)},
        ),
        "schedules.change_state": lambda: w.client(w.bruno).post(
            w.path("schedules", schedule.schedule_id, "state"),
            data={"action": "pause", "version": str(schedule.version)},
        ),
        "schedules.delete": lambda: w.client(w.bruno).post(
            w.path("schedules", schedule.schedule_id, "delete"),
            data={"slots": "remove", "version": str(schedule.version)},
        ),
        "playbook.edit": lambda: w.client(w.anna).post(w.path("playbook", "edit"), data=playbook),
        "spreadsheets.upload": lambda: w.client(w.bruno).post(
            w.path("import"), data={"file": (io.BytesIO(plan_csv), "plan.csv")}
        ),
        "spreadsheets.run": lambda: w.client(w.bruno).post(w.path("import", csv_import)),
        "cadence.choose_weekly": lambda: w.client(w.anna).post(
            w.path("health", "weekly"), data={"weekly": "y"}
        ),
    }


def _kit_requests(w: World) -> dict[str, Callable]:
    """Anna's share kit (offered to her and Bruno, who takes it on his profile; Anna passed
    on it): each change of it, and a new one of Bruno's."""
    anna_page, bruno_page = w.client(w.anna), w.client(w.bruno)
    made = new_kit(anna_page, w.team.team_id, title="Our new Nebbiolo")
    kit_path = made.headers["Location"]
    shared_kit = kits.kit(w.team.team_id, kit_path.rsplit("/", 1)[1])
    offered_at = w.path("to-share", w.team.team_id, shared_kit.kit_id)
    passing = {"reason": "Not my audience"}
    assert anna_page.post(f"{offered_at}/pass", data=passing).status_code == 302
    new_one = _page_form(bruno_page, w.path("kits", "new"), "kit-form", title="Vendemmia")
    renamed_kit = _page_form(anna_page, f"{kit_path}/edit", "kit-form", title="Nebbiolo 2024")
    taking = _page_form(bruno_page, offered_at, "take-form")
    kit_version = {"version": str(kits.kit(w.team.team_id, shared_kit.kit_id).version)}
    with w.app.app_context():
        links = {
            action: tokens.sign(
                "kit",
                person_id=w.bruno.person_id,
                team_id=w.team.team_id,
                post_id=shared_kit.kit_id,
                partner=w.team.team_id,
                expires=shared_kit.ends,
            )
            for action in ("take", "pass")
        }
    return {
        "kits.create": lambda: w.client(w.bruno).post(w.path("kits"), data=new_one),
        "kits.edit": lambda: w.client(w.anna).post(f"{kit_path}/edit", data=renamed_kit),
        "kits.delete": lambda: w.client(w.anna).post(f"{kit_path}/delete", data=kit_version),
        "kits.take": lambda: w.client(w.bruno).post(f"{offered_at}/take", data=taking),
        "kits.pass_on": lambda: w.client(w.bruno).post(f"{offered_at}/pass", data=passing),
        "kits.undo_pass": lambda: w.client(w.anna).post(f"{offered_at}/undo-pass"),
        "kits.signed (take)": lambda: w.client().post(
            f"/n/kit/{links['take']}",
            data=MultiDict([*taking.items(multi=True), ("action", "take")]),
        ),
        "kits.signed (pass)": lambda: w.client().post(
            f"/n/kit/{links['pass']}", data={"action": "pass", **passing}
        ),
    }


def _joint_fair(w: World, day) -> Event:
    """Anna's fair on ``day``, shared with Bottega (its mirror written with every change)."""
    start = test_events.rome(day.year, day.month, day.day, 10)
    team_id = w.team.team_id
    event = events.new_event(
        team_id,
        keys.new_id(),
        created_by=w.anna.person_id,
        now=w.folks.now(),
        title="Joint fair",
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        zone="Europe/Rome",
        owner_id=w.anna.person_id,
    )
    events.create(event)
    return events.share(
        events.load(team_id, event.event_id),
        partner_id=w.bottega.team_id,
        origin_name="Cantina Aurora",
        now=w.folks.now(),
    )


def _schedule_forms(w: World, bruno):
    """Bruno's schedule of three Tuesdays (made through its form), that schedule's form with
    a new time, a new schedule's form (two Fridays), and the first Tuesday."""
    fields = {"title": "Instagram {date}", "channels": ["Instagram"], "end": "count"}
    new = w.path("schedules", "new")
    weekly = _page_form(bruno, new, "schedule-form", weekdays=["1"], count="3", **fields)
    assert bruno.post(w.path("schedules"), data=weekly).status_code == 302
    schedule = schedules.of_team(w.team.team_id)[0]
    shown = w.path("schedules", schedule.schedule_id)
    at_seven = _page_form(bruno, shown, "schedule-form", at="19:00")
    new_schedule = _page_form(bruno, new, "schedule-form", weekdays=["4"], count="2", **fields)
    with w.app.app_context():
        team = teams.team(w.team.team_id)
        tuesday = planning.upcoming(schedule, team, w.folks.now(), 1)[0].day
    return schedule, new_schedule, at_seven, tuesday


class Slot:
    """The one injector registered for a test; each case puts its own in."""

    def __init__(self, inject):
        self.current: Injector | None = None
        inject(lambda event, request: self.current(event, request) if self.current else None)

    def run(self, injector: Injector, action: Callable):
        self.current = injector
        try:
            return action()
        finally:
            self.current = None


# Routes that leave what a failed call kept them from doing to the nudge job, through a
# pending marker it acts on (ending a partnership: the unsharing): the job's first run after
# the grace must finish it.
FINISHED_BY_THE_JOB = {
    "partners.end": sharing.UNSHARING_GRACE,
    # Saving a kit leaves a marker until its offers are written (app.store.kits.save).
    "kits.create": kits.OFFERING_GRACE,
    "kits.edit": kits.OFFERING_GRACE,
}


def _verdict(
    response, before: dict, clean: Counter, retry: Callable, now, known, finish=None
) -> list[str]:
    """What is wrong with a request's answer and what it left (nothing: an empty list).

    Its writes all land or none do; or, where a request takes several steps, each leaves
    the data consistent and the person who tries again, as the error page asks, gets the
    rest done (then, not before, the nudges must be as planned: they are planned first);
    or the nudge job does, where the route leaves it a marker (``finish`` runs the job).
    """
    wrong = []
    status = response.status_code
    if status >= 500 and status != 503:
        wrong.append(f"answered {status}")
    if "Traceback" in response.text:
        wrong.append("showed a traceback")
    after = items()
    wrong += [found for found in inconsistencies(after, now, plans=False) if found not in known]
    changed = changed_kinds(before, after)
    missing = clean - changed
    if missing and status < 400 and finish is not None:
        finish()
        after = items()
        changed = changed_kinds(before, after)
        missing = clean - changed
    if missing and status < 400:
        wrong.append(f"answered {status} without writing {dict(missing)}")
    elif missing and changed:
        retry()
        after = items()
        left_out = clean - changed_kinds(before, after)
        if left_out:
            wrong.append(
                f"answered {status} having written {dict(changed)}; "
                f"trying again still left out {dict(left_out)}"
            )
    return wrong + [found for found in inconsistencies(after, now) if found not in known]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_post_route_answers_cleanly_and_writes_all_or_nothing_whatever_aws_call_fails(
    app, folks, inject, quick_retries, shard
):
    world = World(app, folks)
    sends = requests(world)
    posted = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    assert posted == {name.split(" ")[0] for name in sends}, "a POST route without a case"
    start, slot, offenders = saved_store(), Slot(inject), []
    assert inconsistencies(items(), folks.now()) == []
    for name, send in list(sends.items())[shard::SHARDS]:
        put_back(start)
        before, recorder = items(), Injector()
        response = slot.run(recorder, send)
        clean_state = items()
        clean = changed_kinds(before, clean_state)
        # What a clean request leaves is the app's rule, not a fault's doing.
        known = set(inconsistencies(clean_state, folks.now()))
        # Each case changes something (signing in and out only counters, tokens, sessions).
        writes = clean or name in ("auth.login", "auth.logout")
        assert response.status_code < 400 and writes, f"{name}: {response.status_code} {clean}"
        for position, fault in cases(recorder.calls):
            put_back(start)
            injector = Injector(position, fault)
            response = slot.run(injector, send)
            retry = partial(slot.run, Injector(), send)
            grace = FINISHED_BY_THE_JOB.get(name)
            finish = partial(nudges.run_once, app, folks.now() + grace) if grace else None
            wrong = _verdict(response, before, clean, retry, folks.now(), known, finish)
            if wrong:
                call = injector.failed
                offenders.append(
                    f"{name}, call {position + 1} ({call.operation}) {fault.name}: "
                    + "; ".join(wrong)
                )
    assert not offenders, "\n".join(offenders)


# The nudge job ---------------------------------------------------------------------------------


def offenders_of_faulted_runs(slot: Slot, start: dict, grid, run_once, check) -> list[str]:
    """For each (position, fault) of ``grid``: the store put back to ``start``, a run of the
    job meets the fault at that call, then ``check(fault)`` says what went wrong (after its own
    clean run). One line per case that went wrong."""
    offenders = []
    for position, fault in grid:
        put_back(start)
        injector = Injector(position, fault)
        try:
            slot.run(injector, run_once)
        except Exception as error:  # noqa: BLE001  (a failed run is retried by its schedule)
            outcome = f"the run failed ({type(error).__name__}), "
        else:
            outcome = ""
        wrong = check(fault)
        if wrong:
            call = injector.failed
            offenders.append(
                f"call {position + 1} ({call.operation}) {fault.name}: {outcome}" + "; ".join(wrong)
            )
    return offenders


def _refused(post) -> bool:
    """Whether SES refused the post's nudge for good (it is marked failed, not sent)."""
    return any(r.state == "failed" for r in reminders.of_post(post.team_id, post.post_id))


def test_the_job_sends_each_due_nudge_exactly_once_whatever_aws_call_fails(
    nudging, inject, quick_retries
):
    """Two posts' day-before nudges are due: a run meets a fault at one of its AWS calls, then
    the next run (after the first one's leases and backoffs ran out) is clean. Each nudge goes
    out once, or, refused for good by SES, is marked failed; none is left pending."""
    at = rome(2026, 12, 4, 10)
    made = {
        title: make_post(nudging, nudging[owner], rome(2026, 12, 5, 10), title=title)
        for owner, title in (("anna", "Tasting recap"), ("marco", "Harvest"))
    }
    start, slot = saved_store(), Slot(inject)
    recorder = Injector()
    slot.run(recorder, lambda: run(nudging, at))
    assert _emails_per_post(nudging) == dict.fromkeys(made, 1)
    calls = recorder.calls
    # The day buckets' Queries in a row are tried at the first and the last (``cases``).
    grid = cases(calls)

    def check(fault) -> list[str]:
        run(nudging, at + timedelta(minutes=10))  # past the leases (5 minutes) and backoffs
        counts = _emails_per_post(nudging)
        wrong = [
            f"{title}: sent {counts.get(title, 0)} times"
            for title, post in made.items()
            if counts.get(title, 0) != 1 and not (counts.get(title) is None and _refused(post))
        ]
        left = list(reminders.due_at_or_before(at + timedelta(minutes=10)))
        return wrong + [f"{r.kind} of {r.post_id} left pending" for r in left]

    offenders = offenders_of_faulted_runs(slot, start, grid, lambda: run(nudging, at), check)
    assert not offenders, "\n".join(offenders)


def test_a_batch_of_notifications_goes_out_exactly_once_whatever_aws_call_fails(
    nudging, inject, quick_retries
):
    """Anna mentions Marco twice on his post: his batch is due. A run meets a fault at one of
    its AWS calls, then the next runs (after the leases, backoffs and the 15 minutes between
    batches) are clean. Marco gets one email listing both, or none if SES refused it for good;
    no note is left waiting and his outbox is out of the due index."""
    post = make_post(nudging, nudging["marco"], rome(2026, 12, 9, 10))
    team, anna = teams.team(nudging["team_id"]), nudging["anna"].person_id
    at = rome(2026, 12, 4, 10)
    for minute, text in ((0, "@Marco the photo?"), (1, "@Marco and the copy")):
        moment = at + timedelta(minutes=minute)
        notes = record.for_comment(team, post, anna, text, moment)
        posts.comment(post, actor=anna, text=text, now=moment, notes=notes)
    run_at = at + timedelta(minutes=2)
    start, slot, recorder = saved_store(), Slot(inject), Injector()
    slot.run(recorder, lambda: run(nudging, run_at))
    assert len(_batches(nudging)) == 1
    later = run_at + timedelta(minutes=20)

    def check(fault) -> list[str]:
        run(nudging, later)  # past the leases, backoffs and the next batch's time
        run(nudging, later + timedelta(minutes=20))  # the empty batch closes
        batches = _batches(nudging)
        refused = fault.name == "SES MessageRejected" and not batches
        wrong = [] if refused or len(batches) == 1 else [f"{len(batches)} emails"]
        waiting = stored_notes.waiting(nudging["marco"].person_id)
        wrong += [f"{len(waiting)} notes left"] if waiting else []
        left = list(reminders.due_at_or_before(later + timedelta(days=1)))
        return wrong + [f"{r.kind} of {r.person_id} left pending" for r in left]

    grid = cases(recorder.calls)
    called = {call.operation for call in recorder.calls}
    assert {"GetItem", "SendRawEmail", "TransactWriteItems"} <= called
    offenders = offenders_of_faulted_runs(slot, start, grid, lambda: run(nudging, run_at), check)
    assert not offenders, "\n".join(offenders)


BATCH = re.compile(r"needs? you in|bisogno di te in")


def _batches(world) -> list[dict]:
    return [mail for mail in outbox(world["app"]) if BATCH.search(mail["subject"])]


# Regressions: what the instrument found ------------------------------------------------------


def _failing(operation: str, code: str = "ProvisionedThroughputExceededException", where=b""):
    """An injector: every ``operation`` request (whose body holds ``where``) fails."""

    def injector(event, request):
        call = _call(event, request)
        if call.operation == operation and where in call.body:
            return dynamodb_error(request, code)
        return None

    return injector


def test_a_storage_error_on_a_batch_read_is_a_503_page_not_a_500(nudging, inject, quick_retries):
    client = nudging["folks"].client_for(nudging["anna"])
    inject(_failing("BatchGetItem"))
    response = client.get(f"/t/{nudging['team_id']}/")
    assert response.status_code == 503 and "cannot reach its storage" in response.text


def test_trashing_a_post_changed_meanwhile_answers_409_not_500(nudging, inject, quick_retries):
    post = make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10), status="draft")
    client = nudging["folks"].client_for(nudging["marco"])
    inject(
        lambda event, request: (
            _condition_failed(request, "TransactWriteItems")
            if event.endswith(".TransactWriteItems")
            else None
        )
    )
    response = client.post(f"/t/{post.team_id}/posts/{post.post_id}/trash")
    assert response.status_code == 409
    assert posts.load(post.team_id, post.post_id)[0].deleted_at is None


def test_new_nudge_times_for_a_team_gone_meanwhile_answer_404_not_500(
    nudging, inject, quick_retries
):
    client = nudging["folks"].client_for(nudging["anna"])
    inject(_failing("UpdateItem", "ConditionalCheckFailedException", b"lead_minutes"))
    response = client.post(f"/t/{nudging['team_id']}/nudges", data={"leads": ["240"]})
    assert response.status_code == 404


def _publish_link(world, post) -> str:
    with world["app"].test_request_context():
        return "/n/" + tokens.sign(
            "published",
            person_id=world["anna"].person_id,
            team_id=post.team_id,
            post_id=post.post_id,
            kind="before-1440",
            expires=post.due + tokens.VALID_AFTER_DUE,
        )


def test_an_email_action_storage_could_not_carry_out_works_when_tried_again(
    nudging, inject, quick_retries
):
    post = make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    link, client, slot = _publish_link(nudging, post), nudging["app"].test_client(), Slot(inject)
    failed = slot.run(_failing("TransactWriteItems"), lambda: client.post(link))
    assert failed.status_code == 503
    assert posts.load(post.team_id, post.post_id)[0].status == "approved"
    assert client.post(link).status_code == 200  # the link was not spent on nothing
    assert posts.load(post.team_id, post.post_id)[0].status == "published"


def test_a_lost_answer_to_using_an_email_link_still_carries_out_the_action(
    nudging, inject, quick_retries
):
    post = make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    link, client, lost = _publish_link(nudging, post), nudging["app"].test_client(), []

    def lose_the_use(event, request):  # the link's use (its one PutItem) lands, unanswered
        if event == "before-send.dynamodb.PutItem" and not lost:
            lost.append(event)
            return _answer_lost(request, "PutItem")
        return None

    inject(lose_the_use)
    response = client.post(link)
    assert lost and response.status_code == 200, response.text
    assert posts.load(post.team_id, post.post_id)[0].status == "published"


def test_a_team_rename_that_fails_renames_it_everywhere_when_saved_again(
    nudging, inject, quick_retries
):
    client, slot = nudging["folks"].client_for(nudging["anna"]), Slot(inject)
    path = f"/t/{nudging['team_id']}/settings"
    form = _page_form(client, path, "team-form", team_name="Cantina Boreale")
    copies = b"Cantina Boreale"  # the writes of the members' copies of the name
    failed = slot.run(
        _failing("TransactWriteItems", where=copies), lambda: client.post(path, data=form)
    )
    assert failed.status_code == 503
    assert client.post(path, data=form).status_code == 302
    for someone in ("anna", "marco"):
        entry = people.person(nudging[someone].person_id).team_entries()[nudging["team_id"]]
        assert entry["name"] == "Cantina Boreale", someone


@pytest.mark.parametrize(
    ("who", "path", "changes_"),
    [
        ("marco", "/me", {"zone": "America/New_York"}),
        ("marco", "/me/nudges", {"custom_leads": "y", "leads": ["4320", "60"]}),
        ("anna", "/t/{team}/nudges", {"leads": ["240"]}),
    ],
    ids=["zone", "own lead times", "team lead times"],
)
def test_settings_whose_nudges_failed_to_be_planned_plan_them_when_saved_again(
    nudging, inject, quick_retries, who, path, changes_
):
    post = make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    client, slot = nudging["folks"].client_for(nudging[who]), Slot(inject)
    path = path.format(team=nudging["team_id"])
    form = {"/me": "profile-form", "/me/nudges": "preferences-form"}.get(path)
    data = _page_form(client, path, form, **changes_) if form else changes_
    reminder_writes = _failing("TransactWriteItems", where=b"REMIND#")
    assert slot.run(reminder_writes, lambda: client.post(path, data=data)).status_code == 503
    assert client.post(path, data=data).status_code == 302  # the person saves again
    team = teams.team(post.team_id)
    loaded = posts.load(post.team_id, post.post_id)[0]
    stored = reminders.of_post(post.team_id, post.post_id)
    assert _unplanned(loaded, team, stored, nudging["folks"].now()) == []
