"""Every route, every role, every team (issue 9's instrument).

``ROUTES_TABLE`` is the one table of who may use each route: every rule of the Flask URL map,
with each of its methods, and the answer each role gets on its own team's ids. The tests:

- the table and the URL map list the same (rule, method) pairs: a new route fails the suite
  until someone says here who may use it (and the probe below calls it meanwhile), and a route
  removed leaves no stale row;
- every route that names a team or a token, called with team B's ids (its posts in every
  state, its members, its invitation) as team A's admin, editor and viewer, as an outsider and
  signed out, plain and as an htmx swap, and also on A's own team with B's item, each POST
  with a form B's admin could send: only 403/404 (a sign-in redirect for the anonymous;
  404/410 for a link), no write naming B, no email, and B's items byte-identical afterwards;
- each role's answers on its own team's ids, as the table says (new items where a change uses
  one up, so one allowed change does not hide the next).

A role is a column: partner teams (issue 11) add a ``partner`` column to the table, a partner
in ``World`` and its client in ``World.caller``; every check loops over the columns.
"""

import io
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import product
from urllib.parse import urlsplit

import pytest
from formdata import forms_in
from test_kits import new_kit
from test_planner import _form
from test_planner_everyday import edited, form_fields
from werkzeug.datastructures import FileStorage, MultiDict

from app import aws
from app.auth.views import SIGN_IN_VALID_FOR
from app.nudges import tokens
from app.planner import changes
from app.schedules import planning, recurrence
from app.store import (
    events,
    feeds,
    keys,
    kits,
    meter,
    partners,
    people,
    posts,
    profiles,
    reminders,
    schedules,
    teams,
)
from tests.conftest import ROME, SHARDS, sent_mail_requests

pytestmark = pytest.mark.usefixtures("pinned_instant")  # see conftest.PINNED_INSTANT

# Who may use what. ``by`` is what authorises the route: ``public`` (anyone), ``emulated``
# (anyone, and the route exists only where AWS is emulated: local and test modes), ``token``
# (the link's token, whoever holds it), ``session`` (anyone signed in), ``team`` (a member of
# the URL's team). Each role's column is its answer on its own team's ids (a fresh, genuine
# token for ``token`` routes): ``ok`` (2xx/3xx), ``403``, ``404``, or ``sign-in`` (a redirect
# to the sign-in page). The outsider is in no team (a former member of team B).
ROUTES_TABLE = """
rule                                     method by       anonymous outsider viewer  editor  admin
/                                        GET    session  sign-in   ok       ok      ok      ok
/dev/outbox                              GET    emulated ok        ok       ok      ok      ok
/dev/outbox.json                         GET    emulated ok        ok       ok      ok      ok
/healthz                                 GET    public   ok        ok       ok      ok      ok
/static/<path:filename>                  GET    public   ok        ok       ok      ok      ok
/login                                   GET    public   ok        ok       ok      ok      ok
/login                                   POST   public   ok        ok       ok      ok      ok
/logout                                  POST   public   sign-in   sign-in  sign-in sign-in sign-in
/login/<token>                           GET    token    ok        ok       ok      ok      ok
/login/<token>                           POST   token    ok        ok       ok      ok      ok
/n/<token>                               GET    token    ok        ok       ok      ok      ok
/n/<token>                               POST   token    ok        ok       ok      ok      ok
/n/unsubscribe/<token>                   GET    token    ok        ok       ok      ok      ok
/n/unsubscribe/<token>                   POST   token    ok        ok       ok      ok      ok
/welcome                                 GET    session  sign-in   ok       ok      ok      ok
/welcome                                 POST   session  sign-in   ok       ok      ok      ok
/me                                      GET    session  sign-in   ok       ok      ok      ok
/me                                      POST   session  sign-in   ok       ok      ok      ok
/me/mail                                 POST   session  sign-in   ok       ok      ok      ok
/me/profiles                             POST   session  sign-in   ok       ok      ok      ok
/me/profiles/<profile_id>                POST   session  sign-in   ok       ok      ok      ok
/me/profiles/<profile_id>/remove         POST   session  sign-in   ok       ok      ok      ok
/me/nudges                               GET    session  sign-in   ok       ok      ok      ok
/me/nudges                               POST   session  sign-in   ok       ok      ok      ok
/me/feeds                                GET    session  sign-in   ok       ok      ok      ok
/me/feeds                                POST   session  sign-in   ok       ok      ok      ok
/me/feeds/<feed_id>/regenerate           POST   session  sign-in   ok       ok      ok      ok
/me/feeds/<feed_id>/revoke               POST   session  sign-in   ok       ok      ok      ok
/t/<team_id>/feeds/new                   GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/feeds                       POST   team     sign-in   404      ok      ok      ok
/feeds/<person_id>/<feed_id>/<token>.ics GET    token    ok        ok       ok      ok      ok
/my/posts                                GET    session  sign-in   ok       ok      ok      ok
/teams                                   GET    session  sign-in   ok       ok      ok      ok
/teams/new                               GET    session  sign-in   ok       ok      ok      ok
/teams/new                               POST   session  sign-in   ok       ok      ok      ok
/t/<team_id>/                            GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/month/<month>               GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/week/<day>                  GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/agenda                      GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/trash                       GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/playbook                    GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/playbook/checklist          GET    team     sign-in   404      403     ok      ok
/t/<team_id>/playbook/edit               GET    team     sign-in   404      403     403     ok
/t/<team_id>/playbook/edit               POST   team     sign-in   404      403     403     ok
/t/<team_id>/health                      GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/members                     GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/events                      GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/events/new                  GET    team     sign-in   404      403     ok      ok
/t/<team_id>/events                      POST   team     sign-in   404      403     ok      ok
/t/<team_id>/events/<event_id>           GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/events/<event_id>           POST   team     sign-in   404      403     ok      ok
/t/<team_id>/events/<event_id>/cancel    POST   team     sign-in   404      403     ok      ok
/t/<team_id>/events/<event_id>/share     POST   team     sign-in   404      403     ok      ok
/t/<team_id>/shared-events/<origin_id>/<event_id> GET team sign-in 404     ok      ok      ok
/t/<team_id>/series                      GET    team     sign-in   404      403     403     ok
/t/<team_id>/series                      POST   team     sign-in   404      403     403     ok
/t/<team_id>/schedules                   GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/schedules/new               GET    team     sign-in   404      403     ok      ok
/t/<team_id>/schedules                   POST   team     sign-in   404      403     ok      ok
/t/<team_id>/schedules/<schedule_id>     GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/schedules/<schedule_id>     POST   team     sign-in   404      403     ok      ok
/t/<team_id>/schedules/<schedule_id>/skip POST  team     sign-in   404      403     ok      ok
/t/<team_id>/schedules/<schedule_id>/state POST team     sign-in   404      403     ok      ok
/t/<team_id>/schedules/<schedule_id>/delete POST team    sign-in   404      403     ok      ok
/t/<team_id>/leave                       POST   team     sign-in   404      ok      ok      ok
/t/<team_id>/posts/<post_id>             GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/posts/<post_id>/comments    POST   team     sign-in   404      ok      ok      ok
/t/<team_id>/posts/new                   GET    team     sign-in   404      403     ok      ok
/t/<team_id>/posts                       POST   team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>             POST   team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>/move        POST   team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>/trash       POST   team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>/restore     POST   team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>/duplicate   GET    team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>/duplicate   POST   team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>/review      POST   team     sign-in   404      403     ok      ok
/t/<team_id>/posts/<post_id>/share       POST   team     sign-in   404      403     ok      ok
/t/<team_id>/shared/<origin_id>/<post_id> GET   team     sign-in   404      ok      ok      ok
/t/<team_id>/shared/<origin_id>/<post_id>/publish POST team sign-in 404     403     ok      ok
/t/<team_id>/shared/<origin_id>/<post_id>/approve POST team sign-in 404     403     403     ok
/t/<team_id>/settings                    GET    team     sign-in   404      403     403     ok
/t/<team_id>/settings                    POST   team     sign-in   404      403     403     ok
/t/<team_id>/channels                    POST   team     sign-in   404      403     403     ok
/t/<team_id>/tags                        POST   team     sign-in   404      403     403     ok
/t/<team_id>/nudges                      POST   team     sign-in   404      403     403     ok
/t/<team_id>/health/weekly               POST   team     sign-in   404      403     403     ok
/t/<team_id>/members/invite              POST   team     sign-in   404      403     403     ok
/t/<team_id>/invites/<token_hash>/revoke POST   team     sign-in   404      403     403     ok
/t/<team_id>/members/<person_id>/role    POST   team     sign-in   404      403     403     ok
/t/<team_id>/members/<person_id>/remove  POST   team     sign-in   404      403     403     ok
/t/<team_id>/partners                    GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/partners/invite             POST   team     sign-in   404      403     403     ok
/t/<team_id>/partners/invites/<token_hash>/withdraw POST team sign-in 404   403     403     ok
/t/<team_id>/partners/end                POST   team     sign-in   404      403     403     ok
/partners/<token>                        GET    token    sign-in   403      403     403     ok
/partners/<token>                        POST   token    sign-in   403      403     403     ok
/t/<team_id>/export.csv                  GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/import                      GET    team     sign-in   404      403     ok      ok
/t/<team_id>/import                      POST   team     sign-in   404      403     ok      ok
/t/<team_id>/import/<import_id>          GET    team     sign-in   404      403     404     ok
/t/<team_id>/import/<import_id>          POST   team     sign-in   404      403     404     ok
/t/<team_id>/kits                        GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/kits/new                    GET    team     sign-in   404      403     ok      ok
/t/<team_id>/kits                        POST   team     sign-in   404      403     ok      ok
/t/<team_id>/kits/<kit_id>               GET    team     sign-in   404      ok      ok      ok
/t/<team_id>/kits/<kit_id>/edit          GET    team     sign-in   404      403     ok      ok
/t/<team_id>/kits/<kit_id>/edit          POST   team     sign-in   404      403     ok      ok
/t/<team_id>/kits/<kit_id>/delete        POST   team     sign-in   404      403     ok      ok
/me/to-share                             GET    session  sign-in   ok       ok      ok      ok
/t/<team_id>/to-share/<origin_id>/<kit_id> GET  team     sign-in   404      404     ok      ok
/t/<team_id>/to-share/<origin_id>/<kit_id>/take POST team sign-in  404      403     ok      ok
/t/<team_id>/to-share/<origin_id>/<kit_id>/pass POST team sign-in  404      404     ok      ok
/t/<team_id>/to-share/<origin_id>/<kit_id>/undo-pass POST team sign-in 404  404     ok      ok
/n/kit/<token>                           GET    token    ok        ok       ok      ok      ok
/n/kit/<token>                           POST   token    ok        ok       ok      ok      ok
"""
# A CSV import is its uploader's (team A's admin's here): another editor gets 404.
# The review row's editor is the post's reviewer: an editor who is not gets 403 (the status
# rule, tests/test_status_rule.py). A post a partner shares with the team (``/shared/``) is
# marked published by its co-owner or the team's editors, not its viewers, and approved in
# review by the team's admins (app.sharing).
# A share kit is offered to the team's editors and admins (they own posts): its page for the
# person (``/to-share/``) is theirs alone, and a viewer, offered none, finds no kit there; the
# signed link of a kit's email is for the one person it was mailed to, whoever holds it.
# Sign-out always ends on the sign-in page. A partner
# invitation's link is for the admin it was mailed to (here team A's admin): it asks anyone
# signed out to sign in, and refuses anyone else.


@dataclass(frozen=True)
class Row:
    by: str
    answers: dict  # role -> expected outcome


def _parse(table: str) -> tuple[tuple[str, ...], dict[tuple[str, str], Row]]:
    header, *lines = [line.split() for line in table.strip().splitlines()]
    roles = tuple(header[3:])
    rows = {}
    for rule, method, by, *answers in lines:
        assert len(answers) == len(roles), f"{rule} {method}: one answer per role"
        assert (rule, method) not in rows, f"{rule} {method} is in the table twice"
        rows[rule, method] = Row(by, dict(zip(roles, answers, strict=True)))
    return roles, rows


ROLES, ROUTES = _parse(ROUTES_TABLE)
MEMBER_ROLES = ("viewer", "editor", "admin")
HTMX = {"HX-Request": "true"}


def url_map(app) -> dict[tuple[str, str], str]:
    """(rule, method) -> endpoint, for every rule of the app (HEAD and OPTIONS are Flask's)."""
    return {
        (rule.rule, method): rule.endpoint
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def outcome(response) -> str:
    """What a person would see: ok, sign-in (sent to the sign-in page), or the error status."""
    status = response.status_code
    target = response.headers.get("HX-Redirect") or response.headers.get("Location") or ""
    redirected = 300 <= status < 400 or (status == 204 and target)
    if redirected and urlsplit(target).path == "/login":
        return "sign-in"
    return "ok" if 200 <= status < 400 else str(status)


# Two teams with people in every role and posts in every state ------------------------------

# Team B has a post in each state; team A those its own routes read (the others are made for
# the route that changes them).
B_STATES = ("dated", "idea", "trashed", "in_review", "published")
A_STATES = ("dated", "approved")


@dataclass
class Side:
    """One team, its people in each role, a post in each state and a pending invitation."""

    folks: object
    team: object
    people: dict  # role -> Person
    posts: dict = field(default_factory=dict)  # state -> Post
    invite: str = ""  # a pending invitation's token hash
    event: object = None  # an event (with no series)
    schedule: object = None  # a schedule of two posts
    feed: object = None  # the admin's calendar feed of the team
    profile: object = None  # the admin's own profile (issue 12)
    csv_import: str = ""  # the admin's CSV import, waiting for confirmation
    kit: object = None  # the admin's share kit, offered to the admin and the editor
    reader: object = None

    @classmethod
    def build(cls, folks, name: str, states) -> "Side":
        admin = folks.person(f"admin@{name}.example.com", f"{name} Admin")
        side = cls(folks, folks.team(admin, name), {"admin": admin})
        for role in ("editor", "viewer"):
            side.people[role] = side.member(role)
        side.posts = {state: side.post(state) for state in states}
        side.invite = side.new_invite()
        side.event = side.new_event()
        side.schedule = side.new_schedule()
        side.feed = side.new_feed(side.people["admin"])[0]
        side.profile = side.new_profile(side.people["admin"])
        side.csv_import = side.new_import()
        side.new_profile(side.people["editor"])  # to take a kit on
        side.kit = side.new_kit()
        return side

    def post(self, state: str):
        """A new post: dated (a draft), idea, trashed, in_review (the admin's, reviewed by the
        editor), approved or published; each tagged with its state. The editor owns it unless
        it is in review."""
        admin, editor = self.people["admin"], self.people["editor"]
        moment = self.folks.now()
        owner = admin if state == "in_review" else editor
        made = posts.new_post(
            self.team.team_id,
            title=f"A {state} post",
            zone="Europe/Rome",
            created_by=admin.person_id,
            now=moment,
            due=None if state == "idea" else moment + timedelta(days=2),
            owner_id=None if state == "idea" else owner.person_id,
            channels=["Instagram"],
            status={"dated": "draft", "trashed": "draft"}.get(state, state),
            tags=[state],
            reviewer_id=editor.person_id if state == "in_review" else None,
        )
        with self.folks.app.app_context():
            team = teams.team(self.team.team_id)
            changes.create(made, team, moment, copy="Copy")
            if state == "trashed":
                loaded = posts.load(team.team_id, made.post_id)
                changes.trash(*loaded, team, actor=admin.person_id, now=moment)
        return posts.load(self.team.team_id, made.post_id)[0]

    def member(self, role: str):
        name = f"{role}-{keys.new_id(6)}"
        someone = self.folks.person(f"{name}@{self.team.team_id}.example.com", name)
        self.folks.join(self.team, someone, role)
        return someone

    def new_event(self):
        moment = self.folks.now()
        made = events.new_event(
            self.team.team_id,
            keys.new_id(),
            created_by=self.people["admin"].person_id,
            now=moment,
            title="A tasting",
            starts_at=moment + timedelta(days=9),
            ends_at=moment + timedelta(days=9, hours=3),
            zone="Europe/Rome",
            owner_id=self.people["editor"].person_id,
        )
        with self.folks.app.app_context():
            events.create(made)
        return made

    def new_schedule(self):
        moment = self.folks.now()
        made = schedules.new_schedule(
            self.team.team_id,
            created_by=self.people["admin"].person_id,
            now=moment,
            title="Instagram {date}",
            rule=recurrence.weekly([1], count=2),
            zone="Europe/Rome",
            starts_local=f"{moment:%Y-%m-%d}T18:00",
            owners=[self.people["editor"].person_id],
            channels=["Instagram"],
        )
        with self.folks.app.app_context():
            planning.apply(made, teams.team(self.team.team_id), moment)
        return made

    def new_invite(self) -> str:
        with self.folks.app.app_context():
            raw = teams.invite(
                self.team,
                address=f"{keys.new_id()}@example.com",
                role="editor",
                invited_by="Test",
                now=self.folks.now(),
            )
        return people.hash_secret(raw)

    def new_partner_invite(self) -> str:
        with self.folks.app.app_context():
            raw = partners.invite(
                teams.team(self.team.team_id),
                address=f"{keys.new_id()}@example.com",
                invited_by="Test",
                now=self.folks.now(),
            )
        return people.hash_secret(raw)

    def new_feed(self, someone):
        """A calendar feed of the team for ``someone``: the feed and its secret."""
        with self.folks.app.app_context():
            return feeds.create(
                people.person(someone.person_id), now=self.folks.now(), team_id=self.team.team_id
            )

    def new_profile(self, someone):
        """A personal profile of ``someone``."""
        with self.folks.app.app_context():
            return profiles.add(
                people.person(someone.person_id),
                network="linkedin",
                handle=f"handle-{keys.new_id(6)}",
                url="",
                now=self.folks.now(),
            )

    def new_import(self) -> str:
        """A CSV file of one post, uploaded by the admin: its import's id."""
        upload = f"/t/{self.team.team_id}/import"
        sent = self.admin_client().post(upload, data=_csv_upload(self.folks))
        return sent.headers["Location"].rsplit("/", 1)[1]

    def new_kit(self):
        """A share kit, saved and offered (to the admin and the editor) through its form."""
        made = new_kit(self.admin_client(), self.team.team_id, title=f"Kit {keys.new_id(6)}")
        return kits.kit(self.team.team_id, made.headers["Location"].rsplit("/", 1)[1])

    def admin_client(self):
        """The admin's client, who reads the pages whose forms the others send."""
        if self.reader is None:
            self.reader = self.folks.client_for(self.people["admin"])
        return self.reader


@dataclass
class World:
    """Team A, and for the probe team B; the outsider is in no team (a former member of B)."""

    app: object
    folks: object
    a: Side
    b: Side | None
    outsider: object
    clients: dict = field(default_factory=dict)

    @classmethod
    def build(cls, app, folks, with_b: bool) -> "World":
        a = Side.build(folks, "Aurora", A_STATES)
        b = Side.build(folks, "Borgo", B_STATES) if with_b else None
        if b is None:
            outsider = folks.person("outsider@example.com", "Outsider")
        else:
            outsider = b.member("editor")
            with app.app_context():
                teams.remove_member(b.team.team_id, outsider.person_id)
        return cls(app, folks, a, b, people.person(outsider.person_id))

    def caller(self, role: str, fresh: bool = False, acting=None):
        """A client of someone in ``role`` (team A's, or ``acting``), or of no one."""
        if fresh or acting is not None or role not in self.clients:
            if role == "anonymous":
                client = self.app.test_client()
            else:
                someone = acting or (self.outsider if role == "outsider" else self.a.people[role])
                client = self.folks.client_for(someone)
            if fresh or acting is not None:
                return client
            self.clients[role] = client
        return self.clients[role]


def snapshot(app, side: Side) -> str:
    """Team B's partition of the calendar table and its members' person items, as stored."""
    config = app.extensions["cadenza"]
    with app.app_context():
        members = list(teams.team(side.team.team_id).member_entries())
    partitions = [(config.calendar_table, keys.team(side.team.team_id))] + [
        (config.system_table, keys.person(person_id)) for person_id in sorted(members)
    ]
    pages = aws.client("dynamodb").get_paginator("query")
    items = [
        item
        for table, pk in partitions
        for page in pages.paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )
        for item in page["Items"]
    ]
    return json.dumps(items, sort_keys=True)


# What each POST sends: the form its page offers, filled in so that it would be accepted -----


def _shown(client, url: str, form_id: str) -> list[tuple[str, str]]:
    """The fields of a form as the page at ``url`` shows it to ``client`` (none if refused)."""
    response = client.get(url)
    if response.status_code != 200 or all(form.id != form_id for form in forms_in(response.text)):
        return []
    # The page's CSRF token is its viewer's: the caller's client sends its own.
    return [pair for pair in form_fields(response.text, form_id) if pair[0] != "csrf_token"]


def _profile_form(side, values, client):
    form_id = f"profile-form-{values['profile_id']}"
    return _shown(client, "/me", form_id) or _shown(side.admin_client(), "/me", form_id)


def _with_name(pairs, **names):
    """The form with names filled in where it asks for them."""
    present = {name for name, _value in pairs}
    return edited(pairs, **{name: value for name, value in names.items() if name in present})


def _post_of(side: Side, values: dict):
    return posts.load(side.team.team_id, values["post_id"])[0]


def _move(side, values, client):
    post = _post_of(side, values)
    moment = side.folks.now()
    return {
        "date": (moment + timedelta(days=5)).date().isoformat(),
        "version": str(post.version),
        "due": post.due.isoformat() if post.due else "",
        "owner": post.owner_id or "",
        "status": post.status,
    }


def _panel_form(side, values, path="", **changes):
    """The post form of the post's panel (or of ``path`` under it), as its team's admin sees it."""
    url = f"/t/{side.team.team_id}/posts/{values['post_id']}{path}"
    shown = _shown(side.admin_client(), url, "post-form")
    if not shown:  # the trash shows no form: what the editor had open before
        shown = list(MultiDict(_form(version=str(_post_of(side, values).version))).items(True))
    return edited(shown, **changes)


class _File(io.BytesIO):
    """A file sent again and again (the probe sends one form to every caller): werkzeug
    closes a file once it has sent it; this one rewinds instead."""

    def close(self) -> None:
        self.seek(0)


def _csv_upload(folks) -> dict:
    """A CSV file of one post due next week, as the upload form sends it."""
    day = (folks.now() + timedelta(days=7)).date().isoformat()
    data = _File(f"title,date\nFrom a file,{day}\n".encode())
    return {"file": FileStorage(data, filename="plan.csv", content_type="text/csv")}


def _next_day(side: Side, values: dict) -> str:
    """The local date of the schedule's next post (one to skip)."""
    schedule = schedules.load(side.team.team_id, values["schedule_id"])
    return str(planning.next_at(schedule, side.folks.now()).astimezone(ROME).date())


FORMS = {
    "auth.login": lambda side, values, client: {"email": f"{keys.new_id()}@example.com"},
    "auth.confirm": lambda side, values, client: {},
    "auth.logout": lambda side, values, client: {},
    "auth.welcome": lambda side, values, client: _with_name(
        _shown(client, "/welcome", "welcome-form"), name="Newcomer", team_name="First team"
    ),
    "auth.profile": lambda side, values, client: _shown(client, "/me", "profile-form"),
    "auth.resume_mail": lambda side, values, client: {},
    "nudges.preferences": lambda side, values, client: _shown(
        client, "/me/nudges", "preferences-form"
    ),
    "nudges.act": lambda side, values, client: {},
    "nudges.unsubscribe": lambda side, values, client: {},
    "teams.new": lambda side, values, client: _with_name(
        _shown(client, "/teams/new", "team-form"), team_name="Another team"
    ),
    "teams.team_settings": lambda side, values, client: edited(
        _shown(side.admin_client(), f"/t/{side.team.team_id}/settings", "team-form"),
        team_name="Renamed",
    ),
    "nudges.team_defaults": lambda side, values, client: {"leads": ["10080", "60"]},
    "planner.tags": lambda side, values, client: {
        "remove_tag": sorted(teams.team(side.team.team_id).tags or ())[:1]
    },
    "planner.channels": lambda side, values, client: {"name": f"Channel {keys.new_id(6)}"},
    "teams.invite": lambda side, values, client: {
        "email": f"{keys.new_id()}@example.com",
        "role": "editor",
    },
    "teams.revoke": lambda side, values, client: {},
    "spreadsheets.upload": lambda side, values, client: _csv_upload(side.folks),
    "spreadsheets.run": lambda side, values, client: {},
    "feeds.create": lambda side, values, client: {},
    "feeds.regenerate": lambda side, values, client: {},
    "feeds.revoke": lambda side, values, client: {},
    "feeds.create_team_feed": lambda side, values, client: {},
    "profiles.add": lambda side, values, client: {"new-network": "x", "new-handle": "someone"},
    # The profile's form as its owner's page shows it: the caller's own, else B's admin's.
    "profiles.save": lambda side, values, client: _profile_form(side, values, client),
    "profiles.remove": lambda side, values, client: _profile_form(side, values, client),
    "partners.invite": lambda side, values, client: {"email": f"{keys.new_id()}@example.com"},
    "partners.withdraw": lambda side, values, client: {},
    # The team's first partner (none: the answer says the partnership had ended already).
    "partners.end": lambda side, values, client: {
        "partner": next(iter(teams.team(side.team.team_id).partner_entries()), "none")
    },
    "partners.answer": lambda side, values, client: {
        "team": side.team.team_id,
        "decision": "accept",
    },
    "teams.change_role": lambda side, values, client: {"role": "viewer"},
    "teams.remove": lambda side, values, client: {},
    "teams.leave": lambda side, values, client: {},
    "planner.create": lambda side, values, client: _form(title="New post", status="idea"),
    "planner.save": lambda side, values, client: _panel_form(side, values, title="Changed"),
    "planner.duplicate": lambda side, values, client: _panel_form(
        side, values, path="/duplicate", title="A copy"
    ),
    "planner.move": _move,
    "planner.add_comment": lambda side, values, client: {"text": "Looks good"},
    "planner.trash": lambda side, values, client: {},
    "events.create": lambda side, values, client: _with_name(
        _shown(side.admin_client(), f"/t/{side.team.team_id}/events/new", "event-form"),
        title="A fair",
        start_day=(side.folks.now() + timedelta(days=20)).date().isoformat(),
        template="",
    ),
    "events.save": lambda side, values, client: _with_name(
        _shown(
            side.admin_client(),
            f"/t/{side.team.team_id}/events/{values['event_id']}",
            "event-form",
        ),
        title=f"Renamed {keys.new_id(6)}",
    ),
    "events.cancel": lambda side, values, client: {
        "series": "remove",
        "version": str(events.load(side.team.team_id, values["event_id"]).version),
    },
    # Unsharing (the team may have no partner): allowed, and it writes the event.
    "events.share": lambda side, values, client: {
        "partner": "",
        "version": str(events.load(side.team.team_id, values["event_id"]).version),
    },
    "events.save_template": lambda side, values, client: _with_name(
        _shown(
            side.admin_client(),
            f"/t/{side.team.team_id}/series?template=tasting",
            "template-tasting",
        ),
        name=f"Tasting {keys.new_id(6)}",
    ),
    "cadence.choose_weekly": lambda side, values, client: {"weekly": "y"},
    "planner.restore": lambda side, values, client: {},
    "schedules.create": lambda side, values, client: edited(
        _shown(side.admin_client(), f"/t/{side.team.team_id}/schedules/new", "schedule-form"),
        title=f"Instagram {keys.new_id(6)}",
        channels=["Instagram"],
        weekdays=["1"],
        end="count",
        count="2",
    ),
    "schedules.save": lambda side, values, client: edited(
        _shown(
            side.admin_client(),
            f"/t/{side.team.team_id}/schedules/{values['schedule_id']}",
            "schedule-form",
        ),
        title=f"Renamed {keys.new_id(6)}",
    ),
    "schedules.skip": lambda side, values, client: {"day": _next_day(side, values)},
    "schedules.change_state": lambda side, values, client: {
        "action": "pause",
        "version": str(schedules.load(side.team.team_id, values["schedule_id"]).version),
    },
    "schedules.delete": lambda side, values, client: {
        "slots": "remove",
        "version": str(schedules.load(side.team.team_id, values["schedule_id"]).version),
    },
    "playbook.edit": lambda side, values, client: edited(
        _shown(side.admin_client(), f"/t/{side.team.team_id}/playbook/edit", "playbook-form"),
        guidelines=f"Changed {keys.new_id(6)}",
    ),
    "planner.review": lambda side, values, client: {
        "decision": "approve",
        "version": str(_post_of(side, values).version),
    },
    # Unsharing (the team may have no partner): allowed, and it writes the post.
    "sharing.share": lambda side, values, client: {
        "partner": "",
        "co_owner": "",
        "version": str(_post_of(side, values).version),
    },
    "sharing.publish": lambda side, values, client: {
        "url": "https://example.com/ours",
        "version": str(posts.load(values["origin_id"], values["post_id"])[0].version),
    },
    "sharing.approve": lambda side, values, client: {
        "version": str(posts.load(values["origin_id"], values["post_id"])[0].version),
    },
    "kits.create": lambda side, values, client: edited(
        _shown(side.admin_client(), f"/t/{side.team.team_id}/kits/new", "kit-form"),
        title=f"Kit {keys.new_id(6)}",
    ),
    "kits.edit": lambda side, values, client: edited(
        _shown(
            side.admin_client(), f"/t/{side.team.team_id}/kits/{values['kit_id']}/edit", "kit-form"
        ),
        title=f"Renamed {keys.new_id(6)}",
    ),
    "kits.delete": lambda side, values, client: {
        "version": str(kits.kit(side.team.team_id, values["kit_id"]).version)
    },
    # The take form as the kit's page shows it to the caller (on their own profile), else to
    # the team's admin.
    "kits.take": lambda side, values, client: _kit_page_form(side, values, client, "take-form"),
    "kits.pass_on": lambda side, values, client: {"reason": "Not for my audience"},
    "kits.undo_pass": lambda side, values, client: {},
    "kits.signed": lambda side, values, client: {"action": "pass", "reason": ""},
}


def _kit_page_form(side, values, client, form_id: str):
    path = f"/t/{side.team.team_id}/to-share/{side.team.team_id}/{values['kit_id']}"
    return _shown(client, path, form_id) or _shown(side.admin_client(), path, form_id)


def _sharing_partner(world: World, status: str) -> tuple[str, str]:
    """A new partner team of A and its post shared with A: (its id, the post's)."""
    a, folks = world.a, world.folks
    admin = folks.person(f"{keys.new_id()}@example.com", "Partner")
    team = folks.team(admin, "Partner")
    post = folks.post(team, owner=admin, created_by=admin, status=status, title="Shared")
    with world.app.app_context():
        raw = partners.invite(
            teams.team(team.team_id),
            address=a.people["admin"].email,
            invited_by="Test",
            now=folks.now(),
        )
        chosen, someone = teams.team(a.team.team_id), people.person(a.people["admin"].person_id)
        partners.accept(people.stored_token(raw), chosen, someone, folks.now())
        loaded = posts.load(team.team_id, post.post_id)[0]
        changes.share(
            loaded,
            teams.team(team.team_id),
            actor=admin.person_id,
            partner_id=a.team.team_id,
            co_owner=None,
            origin_name="Partner",
            shown={},
            now=folks.now(),
        )
    return team.team_id, post.post_id


def _sharing_partner_event(world: World, partner_id: str) -> str:
    """An event of A's partner ``partner_id`` shared with A: its id."""
    moment = world.folks.now() + timedelta(days=20)
    with world.app.app_context():
        event = events.new_event(
            partner_id,
            keys.new_id(),
            created_by="partner",
            now=world.folks.now(),
            title="Shared fair",
            starts_at=moment,
            ends_at=moment + timedelta(hours=3),
            zone="Europe/Rome",
        )
        events.create(event)
        events.share(
            events.load(partner_id, event.event_id),
            partner_id=world.a.team.team_id,
            origin_name="Partner",
            now=world.folks.now(),
        )
    return event.event_id


def _form_for(endpoint: str, method: str, side: Side, values: dict, client):
    if method != "POST":
        return None
    return FORMS[endpoint](side, values, client) if endpoint in FORMS else {}


def _authorised_by(rule: str, method: str) -> str:
    """The table's ``by``; for a route not in the table yet, what its path says."""
    if (rule, method) in ROUTES:
        return ROUTES[rule, method].by
    names = params(rule)
    return "team" if "team_id" in names else "token" if "token" in names else "unknown"


def send(client, method: str, url: str, data, htmx: bool):
    headers = HTMX if htmx else {}
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, data=MultiDict(data), headers=headers)


def params(rule: str) -> list[str]:
    """The rule's path parameters, by name (``<path:filename>`` is ``filename``)."""
    return [part.split(">")[0].split(":")[-1] for part in rule.split("<")[1:]]


def _fill(rule: str, values: dict) -> str:
    return "".join(
        part if i % 2 == 0 else values[part.split(":")[-1]]
        for i, part in enumerate(rule.replace(">", "<").split("<"))
    )


# Where each path parameter comes from (team B's items for the probe of B, team A's own for
# the allowed set): a new parameter fails the first test until it is added here.
PARAMETERS = (
    "team_id",
    "post_id",
    "person_id",
    "token_hash",
    "event_id",
    "schedule_id",
    "month",
    "day",
    "token",
    "filename",
    "feed_id",
    "origin_id",
    "import_id",
    "profile_id",
    "kit_id",
)


# The table is the URL map ------------------------------------------------------------------


def test_the_table_lists_every_route_of_the_url_map_and_nothing_else(app):
    routes = url_map(app)
    unlisted = sorted(set(routes) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(routes))
    assert not unlisted, f"routes missing from ROUTES_TABLE (say who may use them): {unlisted}"
    assert not stale, f"ROUTES_TABLE rows with no route: {stale}"
    posted = {endpoint for (_rule, method), endpoint in routes.items() if method == "POST"}
    assert not posted - set(FORMS), f"say what a POST sends in FORMS: {posted - set(FORMS)}"
    assert not set(FORMS) - posted, f"FORMS for no POST route: {set(FORMS) - posted}"
    unknown = {name for rule, _method in routes for name in params(rule)} - set(PARAMETERS)
    assert not unknown, f"say how to fill these path parameters in PARAMETERS: {unknown}"
    assert {row.by for row in ROUTES.values()} <= {"public", "emulated", "token", "session", "team"}


# Team B's ids, by everyone else ------------------------------------------------------------


@pytest.fixture
def two_teams(app, folks):
    return World.build(app, folks, with_b=True)


def _b_values(world: World, rule: str) -> list[dict]:
    """Every way to fill the rule with team B's ids (and a valid month or day)."""
    b, moment = world.b, world.folks.now()
    choices = {
        "team_id": [b.team.team_id],
        "post_id": [post.post_id for post in b.posts.values()],
        "person_id": [someone.person_id for someone in b.people.values()],
        "token_hash": [b.invite],
        "event_id": [b.event.event_id],
        "schedule_id": [b.schedule.schedule_id],
        "feed_id": [b.feed.feed_id],
        "profile_id": [b.profile.profile_id],
        "import_id": [b.csv_import],
        "kit_id": [b.kit.kit_id],
        # B's own posts as if B shared them with A (B is A's partner in the partners' probe).
        "origin_id": [b.team.team_id],
        "month": [f"{moment:%Y-%m}"],
        "day": [moment.date().isoformat()],
        # B's ids where a link's token goes: no genuine token is spelled like them.
        "token": [b.invite, b.posts["dated"].post_id, b.team.team_id],
    }
    names = params(rule)
    return [
        dict(zip(names, chosen, strict=True)) for chosen in product(*(choices[n] for n in names))
    ]


def _refusals(by: str, role: str) -> set[str]:
    if by == "token":
        return {"404", "410"}  # not a link: "not valid", or "expired" for a sign-in link
    return {"sign-in"} if role == "anonymous" else {"403", "404"}


def _callers(by: str, whose: str, first: bool) -> list[tuple[str, bool]]:
    """Who calls, and whether as an htmx swap.

    With the first of B's ids, every role, plain and htmx; with each other one (a post in
    another state, another member), A's admin, plainly: the caller whom no role check stops
    before the id is looked up, so the item is what is refused. A link is read without the
    session: signed out and A's admin suffice. A's own team with B's item: A's admin (the
    others of A get their role's 403 first; the outsider and the anonymous, the refusal of a
    team not theirs, as with B's team).
    """
    if by == "token":
        roles = ("anonymous", "admin")
    else:
        roles = ("admin",) if whose == "A's team" else ROLES
    if not first:
        return [("admin", False)]
    return list(product(roles, (False, True)))


WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@contextmanager
def writes_to(side: Side):
    """The DynamoDB writes that name the team's partition or its members' person items."""
    with side.folks.app.app_context():
        members = teams.team(side.team.team_id).member_entries()
    names = [keys.team(side.team.team_id), *(keys.person(person_id) for person_id in members)]
    seen = []

    def listen(operation: str, params: dict, response: dict) -> None:
        if not response and operation in WRITES:
            sent = json.dumps(params)
            seen.extend(f"{operation} {name}" for name in names if f'"{name}"' in sent)

    meter.listen(listen)
    try:
        yield seen
    finally:
        meter.stop_listening(listen)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_one_reaches_another_teams_items_and_they_stay_byte_identical(two_teams, inject, shard):
    world, app, b = two_teams, two_teams.app, two_teams.b
    mails = sent_mail_requests(inject)
    before = snapshot(app, b)
    wrong = []
    with writes_to(b) as writes:
        for (rule, method), endpoint in sorted(url_map(app).items())[shard::SHARDS]:
            by = _authorised_by(rule, method)
            if by not in ("team", "token"):
                continue
            for number, values in enumerate(_b_values(world, rule)):
                # A form B's admin could send: only who sends it may make it fail.
                data = _form_for(endpoint, method, b, values, b.admin_client())
                # B's team; and for an item's route, the caller's own team with B's item.
                addresses = [("B's team", values)]
                items = {"post_id", "person_id", "token_hash", "event_id", "schedule_id"}
                items |= {"import_id", "kit_id"}
                if by == "team" and set(values) & items:
                    addresses.append(("A's team", {**values, "team_id": world.a.team.team_id}))
                calls = [
                    (whose, filled, role, htmx)
                    for whose, filled in addresses
                    for role, htmx in _callers(by, whose, first=number == 0)
                ]
                for whose, filled, role, htmx in calls:
                    url = _fill(rule, filled)
                    written = len(writes)
                    got = outcome(send(world.caller(role), method, url, data, htmx))
                    call = f"{method} {url} ({whose}) as {role}{' htmx' * htmx}"
                    if got not in _refusals(by, role):
                        wrong.append(f"{call}: {got}")
                    wrong.extend(f"{call} wrote {write}" for write in writes[written:])
    assert not wrong, "answered with team B's ids:\n" + "\n".join(wrong)
    assert snapshot(app, b) == before, "team B's items changed"
    assert mails == [], f"{len(mails)} emails were sent"


# Each role, on its own team ----------------------------------------------------------------


class Targets:
    """Team A's items for the allowed set, in the state each route needs.

    Pages read the standing posts. The routes that change a post share one (saved, moved,
    duplicated, commented on); trashing takes its own. A route that uses its item up (a review
    decided, a post restored, a member removed, an invitation revoked, a member who left) gets
    a new one after each call it allowed.
    """

    USED_UP = {
        "planner.review",
        "planner.restore",
        "teams.remove",
        "teams.revoke",
        "feeds.revoke",
        "profiles.remove",
        "partners.withdraw",
        "sharing.approve",
        "teams.leave",
        "schedules.delete",
        "kits.delete",
        "kits.undo_pass",
    }
    # Kits a route uses up, or changes so that another would find it changed (taken, or
    # passed from its email); the other routes share one.
    OWN_KIT = {"kits.delete", "kits.take", "kits.signed", "kits.undo_pass"}
    STATE = {"planner.review": "in_review", "planner.restore": "trashed"}
    OWN_POST = {"planner.trash", *STATE}

    def __init__(self, world: World):
        self.world, self.kept = world, {}

    def values(self, rule: str, method: str, endpoint: str, role: str = "") -> dict:
        a, moment = self.world.a, self.world.folks.now()
        if endpoint == "feeds.feed":  # a genuine feed's address: its person, id and secret
            editor = a.people["editor"]
            feed, secret = self._item(endpoint, lambda: a.new_feed(editor))
            return {"person_id": editor.person_id, "feed_id": feed.feed_id, "token": secret}
        if endpoint == "events.shared":  # a partner's event shared with A
            origin_id = self._shared(endpoint)[0]
            event_id = self._item(
                ("an event shared with A", origin_id),
                lambda: _sharing_partner_event(self.world, origin_id),
            )
            return {"team_id": a.team.team_id, "origin_id": origin_id, "event_id": event_id}
        if endpoint.startswith("sharing.") and "origin_id" in params(rule):
            origin_id, post_id = self._shared(endpoint)
            return {"team_id": a.team.team_id, "origin_id": origin_id, "post_id": post_id}
        if "kit_id" in params(rule):  # a kit of A's, offered in A to its admin and editor
            found = {"team_id": a.team.team_id, "origin_id": a.team.team_id}
            found["kit_id"] = self._kit(endpoint).kit_id
            return {name: found[name] for name in params(rule)}
        made = {
            "team_id": lambda: a.team.team_id,
            "post_id": lambda: self._post(method, endpoint).post_id,
            "person_id": lambda: self._item(endpoint, lambda: a.member("editor")).person_id,
            "token_hash": lambda: self._item(
                endpoint, a.new_partner_invite if endpoint == "partners.withdraw" else a.new_invite
            ),
            "month": lambda: f"{moment:%Y-%m}",
            "day": lambda: moment.date().isoformat(),
            "token": lambda: self._token(endpoint),
            "filename": lambda: "cadenza.css",
            # The caller's own feed (revoking uses it up; anyone signed out has none).
            "feed_id": lambda: self._item((endpoint, role), lambda: self._feed(role)),
            # The caller's own profile (removing uses it up; anyone signed out has none).
            "profile_id": lambda: self._item((endpoint, role), lambda: self._profile(role)),
            # Cancelling uses its event up (a cancelled event is no longer edited).
            "event_id": lambda: (
                self._item(f"event {endpoint == 'events.cancel'}", a.new_event).event_id
            ),
            "import_id": lambda: self._item("a CSV import", a.new_import),
            # Deleting uses its schedule up; the others share one.
            "schedule_id": lambda: (
                self._item(
                    endpoint if endpoint == "schedules.delete" else "a schedule", a.new_schedule
                ).schedule_id
            ),
        }
        return {name: made[name]() for name in params(rule)}

    def acting(self, endpoint: str, role: str):
        """Who calls: for leaving, a member of A in that role who has not left yet."""
        if endpoint != "teams.leave" or role not in MEMBER_ROLES:
            return None
        return self._item((endpoint, role), lambda: self.world.a.member(role))

    def used(self, endpoint: str, role: str) -> None:
        if endpoint in self.USED_UP:
            self.kept.pop(endpoint, None)
            self.kept.pop((endpoint, role), None)

    def _feed(self, role: str) -> str:
        if role == "anonymous":
            return keys.new_id()
        someone = self.world.outsider if role == "outsider" else self.world.a.people[role]
        return self.world.a.new_feed(someone)[0].feed_id

    def _profile(self, role: str) -> str:
        if role == "anonymous":
            return keys.new_id(12)
        someone = self.world.outsider if role == "outsider" else self.world.a.people[role]
        return self.world.a.new_profile(someone).profile_id

    def _shared(self, endpoint: str) -> tuple[str, str]:
        """A partner's post shared with A, approved (in review for approving it, which uses
        it up); made again if a route ended the partnership."""
        key = endpoint if endpoint == "sharing.approve" else "shared with A"
        kept = self.kept.get(key)
        with self.world.app.app_context():
            partnered = teams.team(self.world.a.team.team_id).partner_entries()
        if kept is None or kept[0] not in partnered:
            status = "in_review" if endpoint == "sharing.approve" else "approved"
            self.kept[key] = _sharing_partner(self.world, status)
        return self.kept[key]

    def _kit(self, endpoint: str):
        key = endpoint if endpoint in self.OWN_KIT else "a kit"
        return self._item(key, lambda: self._new_kit(passed=endpoint == "kits.undo_pass"))

    def _new_kit(self, passed: bool):
        """A new kit of A's; ``passed``: its admin and editor passed on it (to undo)."""
        kit = self.world.a.new_kit()
        if passed:
            for offer in kits.with_offers(kit.team_id, kit.kit_id)[1]:
                kits.pass_on(offer, "", self.world.folks.now())
        return kit

    def _item(self, key, make):
        if key not in self.kept:
            self.kept[key] = make()
        return self.kept[key]

    def _post(self, method: str, endpoint: str):
        state = self.STATE.get(endpoint, "dated")
        if method == "GET":
            return self.world.a.posts[state]
        key = endpoint if endpoint in self.OWN_POST else "a changed post"
        return self._item(key, lambda: self.world.a.post(state))

    def _token(self, endpoint: str) -> str:
        """A genuine token of the route's kind (a new one each time: some are single use)."""
        world, a = self.world, self.world.a
        editor = a.people["editor"]
        with world.app.test_request_context():
            if endpoint == "auth.confirm":
                address = "newcomer@example.com"
                return people.issue_token(address, "sign_in", world.folks.now(), SIGN_IN_VALID_FOR)[
                    0
                ]
            if endpoint == "partners.answer":
                # From another team, to A's admin; only A's admin's POST accepts it (once).
                inviting = self._item(
                    "a partner to be",
                    lambda: world.folks.team(
                        world.folks.person(f"{keys.new_id()}@example.com", "Partner"), "Partner"
                    ),
                )
                return partners.invite(
                    teams.team(inviting.team_id),
                    address=a.people["admin"].email,
                    invited_by="Test",
                    now=world.folks.now(),
                )
            if endpoint == "kits.signed":  # the kit's email to the editor
                kit = self._kit(endpoint)
                return tokens.sign(
                    "kit",
                    person_id=editor.person_id,
                    team_id=a.team.team_id,
                    post_id=kit.kit_id,
                    partner=kit.team_id,
                    expires=kit.ends,
                )
            if endpoint == "nudges.unsubscribe":
                return tokens.sign("unsubscribe", person_id=editor.person_id)
            post = a.posts["approved"]  # the editor's: the nudge asks to snooze it
            nudge = next(
                each
                for each in reminders.of_post(post.team_id, post.post_id)
                if each.person_id == editor.person_id and each.kind.startswith("before-")
            )
            return tokens.sign(
                "snooze",
                person_id=editor.person_id,
                team_id=post.team_id,
                post_id=post.post_id,
                kind=nudge.kind,
                expires=post.due + tokens.VALID_AFTER_DUE,
            )


# Signing out or in changes the client's session: those calls get a client of their own.
NEW_SESSION = {"auth.logout", "auth.confirm"}


@pytest.mark.parametrize("shard", range(SHARDS))
def test_each_role_gets_what_the_table_says_on_its_own_team(app, folks, shard):
    world = World.build(app, folks, with_b=False)
    targets = Targets(world)
    wrong = []
    for (rule, method), endpoint in sorted(url_map(app).items())[shard::SHARDS]:
        row = ROUTES.get((rule, method))
        if row is None:
            continue  # the first test says it is unlisted; the probe of team B still calls it
        for role in ROLES:
            values = targets.values(rule, method, endpoint, role)
            acting = targets.acting(endpoint, role)
            client = world.caller(role, fresh=endpoint in NEW_SESSION, acting=acting)
            data = _form_for(endpoint, method, world.a, values, client)
            url = _fill(rule, values)
            got = outcome(send(client, method, url, data, htmx=False))
            if got == "ok":
                targets.used(endpoint, role)
            if got != row.answers[role]:
                wrong.append(f"{method} {url} as {role}: {got}, the table says {row.answers[role]}")
    assert not wrong, "answers unlike the table:\n" + "\n".join(wrong)
