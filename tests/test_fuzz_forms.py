"""Fuzzing (issue 9): every form field, query parameter and address part of every route.

Hypothesis builds each route's request field by field from what its page sends, then spoils
one or two fields, or every field the same way (a parser behind the first refused field is
reached too): each value turned into what an attacker or a careless paste would send (``²`` and
Arabic-Indic digits, 5,000 digits, year 1 and 9999 at the ends of the zones, ``20261211``,
``2026-W51-1``, ``+9:00``, NUL and other control characters, a lone surrogate, 400 KB, spaces
only), left out, sent twice, or replaced by hostile text. Every route of the URL map is fuzzed
(with the other team's ids too) or listed as reading nothing. Whatever is sent:

- the answer is never a 5xx, and a redirect stays on this site;
- a refused request (4xx) changes nothing in the store (a 429 counts the attempt, nothing else);
- an accepted one stores each value in its one spelling: dates ``YYYY-MM-DD`` within the
  accepted years, times ``HH:MM``, known zones, languages, roles and statuses, names that are
  more than spaces, and no control character but tab and line breaks anywhere.

The store is compared whole, as moto holds it (read directly: no Scan). Examples follow one
another on the store the previous ones left (a saved post has a new version, a removed member
is gone), as a person's requests do; what only a current page knows (the post's version, a
live link) is read just before each request.
"""

import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from formdata import form_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from moto.backends import get_backend
from test_forms_round_trip import stored_items
from test_kits import new_kit
from test_planner_everyday import _full_post

from app import values
from app.i18n import LANGUAGES, STATUS_LABELS, valid_zone
from app.notifications import SWITCHES
from app.nudges import plan, tokens
from app.playbook.forms import checklist_field
from app.schedules import planning, recurrence
from app.store import events, keys, kits, partners, people, posts, schedules, teams
from app.store import feeds as stored_feeds
from app.store import playbook as stored_playbook
from app.store import profiles as stored_profiles
from tests.conftest import TEST_CONFIG, People, reset_aws

pytestmark = pytest.mark.usefixtures("pinned_instant")  # see conftest.PINNED_INSTANT

# Values no page sends ---------------------------------------------------------------------


class Long(str):
    """A long value, shown short in Hypothesis's reports."""

    def __repr__(self) -> str:
        return f"Long({self[:3]!r} × {len(self):,})"


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
HOSTILE = (
    "",
    " ",
    " \t\r\n ",
    "\u3000\u00a0",  # ideographic and no-break spaces
    "²",
    "²²:00",
    "2026-12-11".translate(ARABIC_INDIC),
    "09:30".translate(ARABIC_INDIC),
    "1440".translate(ARABIC_INDIC),
    Long("9" * 5000),
    "-1",
    "+9",
    "1_0",
    "1e309",
    "NaN",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-12-10T08:30:00",  # no zone
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "20261211",
    "2026-W51-1",
    "0001-01",
    "+9:00",
    "9:30",
    "24:00",
    "09:30:00",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\ud800",  # lone surrogates: sent as the (invalid) UTF-8 a careless client would
    "x\udfffy",
    "\ufeff",
    Long("x" * 100_001),
    Long("é" * 200_001),  # 400 KB in UTF-8: beyond a post body
    Long("x" * 2_100_000),  # beyond the largest request
    "<script>alert(1)</script>",
    "//evil.test/",
    "https://evil.test/",
    "/\\evil.test",
    "javascript:alert(1)",
    "%00",
    "../../etc/passwd",
    "None",
)
HOSTILE_VALUE = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))


def one(*choices) -> SearchStrategy[list[str]]:
    """A field a page sends once, with one of these values."""
    return st.sampled_from(choices).map(lambda value: [value])


def maybe(*choices) -> SearchStrategy[list[str]]:
    """A checkbox: left out, or sent with one of these values."""
    return st.one_of(st.just([]), one(*choices))


def several(*choices) -> SearchStrategy[list[str]]:
    """A multiple choice: any of these values, each sent once."""
    return st.lists(st.sampled_from(choices), unique=True, max_size=len(choices))


def text(*examples) -> SearchStrategy[list[str]]:
    """Free text: these examples, or anything typed."""
    return st.one_of(one(*examples), st.text(max_size=40).map(lambda value: [value]))


SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_NUMBER, _YEAR, _OFFSET = (
    re.compile(r"[0-9]+"),
    re.compile(r"\b[0-9]{4}\b"),
    re.compile(r"[+-]\d\d:\d\d$"),
)


def _year(year: str, offset: str) -> Callable[[str], str]:
    """The value in another year, an instant also at the other end of the zones."""

    def change(value: str) -> str:
        moved = _YEAR.sub(year, value, count=1) if _YEAR.search(value) else f"{year}-01-01"
        return _OFFSET.sub(offset, moved)

    return change


# Ways to spoil the value a page sends, whatever it is (a number, a date, a time, a name).
MUTATIONS: dict[str, Callable[[str], str]] = {
    "Arabic-Indic digits": lambda v: v.translate(ARABIC_INDIC) if _NUMBER.search(v) else "١",
    "superscript digits": lambda v: v.translate(SUPERSCRIPTS) if _NUMBER.search(v) else "²",
    "5,000 digits": lambda v: (
        _NUMBER.sub("9" * 5000, v, count=1) if _NUMBER.search(v) else "9" * 5000
    ),
    "separators left out": lambda v: v.replace("-", "").replace(":", "") or "20261211",
    "a sign": lambda v: f"+{v.lstrip('0')}" if v else "+9:00",
    "an ISO week": lambda v: "2026-W51-1",
    "year 1 at UTC+14": _year("0001", "+14:00"),
    "year 9999 at UTC-14": _year("9999", "-14:00"),
    "a NUL and an escape": lambda v: f"{v[:1]}\x00{v[1:]}\x1b",
    "spaces only": lambda v: " \u3000\t ",
    "400 KB": lambda v: (v or "é") * (400_000 // len((v or "é").encode()) + 1),
    "a lone surrogate": lambda v: f"{v}\udc80",
}
SPOILS = (*MUTATIONS, "left out", "sent twice")


def _mutated(sent: list[str], how: str) -> list[str]:
    """The values of a field as a page sends them, spoiled one way (``SPOILS``)."""
    if how == "left out":
        return []
    if how == "sent twice":
        return [*sent, *sent] or ["", ""]
    changed = [MUTATIONS[how](value) for value in sent or [""]]
    return [Long(value) if len(value) > 100 else value for value in changed]


def spoiled(valid: SearchStrategy[list[str]]) -> SearchStrategy[list[str]]:
    """What a page would not send for this field: its value spoiled, or a hostile one."""
    return st.one_of(
        st.tuples(valid, st.sampled_from(SPOILS)).map(lambda t: _mutated(*t)),
        HOSTILE_VALUE.map(lambda value: [value]),
        st.lists(HOSTILE_VALUE, min_size=2, max_size=3),
    )


# The world each route is fuzzed in --------------------------------------------------------


@dataclass
class World:
    """Cantina Aurora (Anna admin, Bruno editor, Carla viewer), Eve's other team, and a post
    of Bruno's in review by Anna, with every field filled (``_full_post``)."""

    app: object
    folks: People
    cast: dict
    clients: dict = field(default_factory=dict)
    made_post: str = ""

    @classmethod
    def build(cls, app) -> "World":
        reset_aws(app)
        app.extensions["cadenza"] = TEST_CONFIG.with_mode_defaults()
        folks = People(app)
        cast = {name: folks.person(f"{name}@example.com", name.title()) for name in NAMES}
        cast["team"], cast["other"] = folks.team(cast["anna"]), folks.team(cast["eve"], "Other")
        folks.join(cast["team"], cast["bruno"], "editor")
        folks.join(cast["team"], cast["carla"], "viewer")
        return cls(app, folks, cast)

    @property
    def team_id(self) -> str:
        return self.cast["team"].team_id

    @property
    def other_team_id(self) -> str:
        return self.cast["other"].team_id

    def intact(self) -> bool:
        """Whether the examples so far left the roles and channels the routes are sent with."""
        team = teams.team(self.team_id)
        if team is None or "Instagram" not in (team.channels or []):
            return False
        members = {name: team.member(self.id(name)) for name in ROLES}
        return all(members[name] and members[name].role == ROLES[name] for name in ROLES)

    @property
    def post_id(self) -> str:
        """This test's own post, made when first asked for (many routes need none)."""
        if not self.made_post:
            self.made_post = _full_post(self.cast).post_id
        return self.made_post

    def id(self, name: str) -> str:
        return self.cast[name].person_id

    def client(self, who: str | None):
        if who is None:
            return self.app.test_client()
        if who not in self.clients:
            self.clients[who] = self.folks.client_for(self.cast[who])
        return self.clients[who]

    def post(self):
        return posts.load(self.team_id, self.post_id)[0]

    def member_ids(self) -> tuple[str, ...]:
        return tuple(self.id(name) for name in NAMES)


NAMES = ("anna", "bruno", "carla", "eve")
ROLES = {"anna": "admin", "bruno": "editor", "carla": "viewer"}


def _stored_count() -> int:
    """How many items moto holds: each snapshot reads them all, each transaction copies a table."""
    return sum(
        len(items)
        for by_region in get_backend("dynamodb").values()
        for backend in by_region.values()
        for table in backend.tables.values()
        for items in table.items.values()
    )


@pytest.fixture(scope="module")
def shelf() -> dict:
    return {}


@pytest.fixture
def world(base_app, clock, shelf) -> World:
    """One world for the whole file (building one per test took most of its time), built
    again when a test left it without its roles or the store grew large; each test gets a
    new post of its own.

    Built inside a test, at the clock every test starts from, so sessions and links are valid.
    """
    if "world" not in shelf or not shelf["world"].intact() or _stored_count() > 100:
        shelf["world"] = World.build(base_app)
    world = shelf["world"]
    world.made_post = ""
    # Signed in again: each test's clock starts where the last one's did, and a session cookie
    # signed later than now (the last test's ticking) would be refused.
    world.clients = {}
    return world


# What each route reads ---------------------------------------------------------------------


def _zones() -> SearchStrategy[list[str]]:
    return one("Europe/Rome", "Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12", "UTC")


def _post_form(w: World) -> dict:
    channels = ("Instagram", "Facebook", "LinkedIn")
    return {
        "title": text("Tasting teaser", "Vendemmia 2026", "x" * 200, "x" * 201),
        "copy": text("Six wines.\r\nTickets at the door.", Long("é" * 175_000)),
        "channels": several(*channels),
        # Anna's own profile, or one nobody has (issue 12).
        "profiles": several(_own_profile(w).profile_id, "abcdefabcdef"),
        "owner": one(*w.member_ids(), ""),
        "day": one("2026-12-05", "2000-01-01", "2100-12-31", ""),
        "at": one("09:30", "00:00", "23:59", ""),
        "status": one(*STATUS_LABELS),
        "reviewer": one(*w.member_ids(), ""),
        "tags": text("tasting, autumn", ", ".join(f"t{n}" for n in range(21)), "x" * 41),
        "notes": text("Ask Lumen for photos"),
        "published_url": one("https://cantina.example/p/1", "", "ftp://cantina.example/"),
    }


def _post_edit_form(w: World) -> dict:
    return {**_post_form(w), "version": one(str(w.post().version)), "base": one("")}


def _playbook_form(w: World) -> dict:
    return {
        "guidelines": text("## Voice\r\n\r\nWarm, **never** pushy.", Long("é" * 10_001)),
        checklist_field("Instagram"): text(
            "- Location tagged\r\nPartner tagged", "\n".join("x" * 13), "y" * 121
        ),
        checklist_field("X"): text("Under 280 characters"),
        "version": one(str(stored_playbook.load(w.team_id).version or ""), "1"),
    }


def _schedule_id(w: World) -> str:
    """Bruno's schedule of two Tuesdays (made again once an example deletes it)."""
    made = w.cast.get("schedule")
    if made is None or schedules.load(w.team_id, made.schedule_id) is None:
        now = w.folks.now()
        made = schedules.new_schedule(
            w.team_id,
            created_by=w.id("anna"),
            now=now,
            title="Instagram {date}",
            rule=recurrence.weekly([1], count=2),
            zone="Europe/Rome",
            starts_local=f"{now:%Y-%m-%d}T18:00",
            owners=[w.id("bruno")],
            channels=["Instagram"],
        )
        planning.apply(made, teams.team(w.team_id), now)
        w.cast["schedule"] = made
    return made.schedule_id


def _schedule_form(w: World) -> dict:
    return {
        "title": text("Instagram — {date}", "{owner} {nope}", "x" * 151),
        "channels": several("Instagram", "Facebook", "Nowhere"),
        "freq": one("weekly", "monthly_day", "monthly_nth"),
        "every": one("1", "2", "53"),
        "weekdays": several("1", "4", "7"),
        "month_day": one("31", "0", ""),
        "nth": one("2", "-1", "5"),
        "weekday": one("1", "6"),
        "at": one("18:00", "00:00", ""),
        "zone": _zones(),
        "start": one("2026-12-05", "2000-01-01", "2100-12-31"),
        # Ends soon: each example plans a few posts, not eight weeks of them.
        "end": one("count", "until"),
        "until": one("2026-12-31", "2000-01-01"),
        "count": one("2", "1001"),
        "owners": several(w.id("anna"), w.id("bruno"), w.id("carla"), ""),
        "preview": maybe("1"),
        "version": maybe("1", "x"),
    }


def _schedule_version(w: World) -> dict:
    return {"version": one(str(schedules.load(w.team_id, _schedule_id(w)).version), "0")}


def _event_id(w: World) -> str:
    """Bruno's tasting in ten days (made again once an example cancels it)."""
    made = w.cast.get("event")
    stored = events.load(w.team_id, made.event_id) if made is not None else None
    if stored is None or stored.state == "cancelled":
        now = w.folks.now()
        made = events.new_event(
            w.team_id,
            keys.new_id(),
            created_by=w.id("bruno"),
            now=now,
            title="Tasting",
            starts_at=now + timedelta(days=10),
            ends_at=now + timedelta(days=10, hours=3),
            zone="Europe/Rome",
            owner_id=w.id("bruno"),
        )
        events.create(made)
        w.cast["event"] = made
    return made.event_id


def _event_fields(w: World) -> dict:
    return {
        "title": text("Autumn tasting", "x" * 200, "x" * 201),
        "place": text("Barolo", "x" * 201),
        "start_day": one("2026-12-12", "2000-01-01", "2100-12-31"),
        "start_at": one("18:00", "00:00", ""),
        "end_day": one("", "2026-12-13", "2000-01-01"),
        "end_at": one("21:00", "23:59", "17:00"),
        "zone": _zones(),
        "owner": one(w.id("bruno"), w.id("carla"), ""),
        "partner": text("Enoteca Lumen", "x" * 101),
        "notes": text("Six wines", Long("é" * 2001)),
    }


def _new_event_form(w: World) -> dict:
    return {
        **_event_fields(w),
        "event_id": one(keys.new_id(), "x" * 17),
        "template": one("", "tasting", "fair", "nope"),
        "action": maybe("create", "preview"),
        "previewed": maybe("tasting", "fair"),
        "steps": several("teaser", "reminder", "live", "recap", "nope"),
        "owner-live": maybe(w.id("anna"), w.id("carla"), ""),
    }


def _event_version(w: World) -> dict:
    return {"version": one(str(events.load(w.team_id, _event_id(w)).version), "0", "x")}


def _template_form(w: World) -> dict:
    return {
        "template_id": one("tasting", "fair", "", "nope", "UPPER"),
        "version": maybe("1", "x"),
        "name": text("Tasting", "x" * 60, "x" * 61),
        "steps-0-step": one("teaser", "", "Nope!"),
        "steps-0-label": text("Teaser", "x" * 41),
        "steps-0-days": one("-7", "0", "+1", "-91", "31"),
        "steps-0-time": one("12:00", "", "24:00"),
        "steps-0-title": text("{event}: see you on {date}", "{nope}", "x" * 201),
        "steps-0-channels": several("Instagram", "Nowhere"),
        "steps-0-owner": one("", w.id("bruno"), w.id("carla")),
        "steps-1-label": maybe("Recap", ""),
        "steps-1-days": maybe("1"),
        "steps-1-title": maybe("{event}: how it went"),
        "action": maybe("save", "delete"),
    }


def _filters(w: World) -> dict:
    return {
        "owner": maybe(*w.member_ids(), ""),
        "channel": maybe("Instagram", "Facebook", ""),
        "status": maybe(*STATUS_LABELS, ""),
        "tag": maybe("tasting", ""),
        "reach": maybe("team", "people", ""),
    }


def _profile(w: World) -> dict:
    return {
        "name": text("Anna Rossi", "x" * 80, "x" * 81),
        "language": one(*LANGUAGES),
        "zone": _zones(),
        "week_start": one("0", "6"),
    }


def _team_form(w: World) -> dict:
    return {
        "team_name": text("Cantina Aurora", "x" * 80, "x" * 81),
        "team_zone": _zones(),
        "team_language": one(*LANGUAGES),
    }


def _preferences(w: World) -> dict:
    return {
        "nudges_on": maybe("y"),
        "custom_leads": maybe("y"),
        "leads": several(*(str(minutes) for minutes in plan.LEAD_CHOICES)),
        "quiet_start": one("21:00", "", "00:00"),
        "quiet_end": one("08:00", "", "23:59"),
        "digest_on": maybe("y"),
        "digest_at": one("08:00", "", "23:30"),
        "away_from": one("2026-12-20", "", "2000-01-01"),
        "away_until": one("2026-12-27", "", "2100-12-31"),
        "notify": several(*SWITCHES),
    }


def _move_form(w: World) -> dict:
    post = w.post()
    return {
        "date": one("2026-12-12", "2000-01-01", "2100-12-31"),
        "version": one(str(post.version)),
        "due": one(post.due.isoformat() if post.due else ""),
        "owner": one(post.owner_id or ""),
        "status": one(post.status),
        "month": maybe("2026-12", "2100-12"),
    }


def _sign_in_link(w: World) -> str:
    address = f"{people.new_secret()[:8].lower()}@example.com"
    return people.issue_token(address, "sign_in", w.folks.now(), timedelta(minutes=10))[0]


def _action_link(w: World, action: str = "") -> str:
    """A nudge email's link for Bruno, the post's owner (each example a new one)."""
    with w.app.app_context():
        return tokens.sign(
            action or "published",
            person_id=w.id("bruno"),
            team_id=w.team_id,
            post_id=w.post_id,
            kind="before-60",
            expires=w.folks.now() + timedelta(days=7),
        )


def _invitation(w: World) -> str:
    raw = teams.invite(
        teams.team(w.team_id),
        address=f"{people.new_secret()[:8].lower()}@example.com",
        role="editor",
        invited_by="Anna",
        now=w.folks.now(),
    )
    return people.hash_secret(raw)


def _partner_invitation(w: World) -> str:
    """Anna's team's invitation to Eve, admin of the other team (each example a new one)."""
    return partners.invite(
        teams.team(w.team_id), address=w.cast["eve"].email, invited_by="x", now=w.folks.now()
    )


def _shared_post(w: World) -> dict:
    """The other team's approved post shared with Anna's team (its team and post ids), the
    two made partners first when they are not (fuzzing ``partners.end`` ends it)."""
    from app.planner import changes

    other = teams.team(w.other_team_id)
    if w.team_id not in other.partner_entries():
        raw = partners.invite(
            other, address=w.cast["anna"].email, invited_by="x", now=w.folks.now()
        )
        anna = people.person(w.id("anna"))
        partners.accept(people.stored_token(raw), teams.team(w.team_id), anna, w.folks.now())
        post = w.folks.post(other, owner=w.cast["eve"], created_by=w.cast["eve"], status="approved")
        changes.share(
            posts.load(w.other_team_id, post.post_id)[0],
            other,
            actor=w.id("eve"),
            partner_id=w.team_id,
            co_owner=(w.id("bruno"), "Bruno"),
            origin_name="Other",
            shown={},
            now=w.folks.now(),
        )
        w.cast["shared"] = post.post_id
    return {"team_id": w.other_team_id, "post_id": w.cast["shared"]}


def _shared_address(w: World) -> dict:
    shared = _shared_post(w)
    return {"origin_id": shared["team_id"], "post_id": shared["post_id"]}


def _shared_event_address(w: World) -> dict:
    """The other team's event shared with Anna's team (made again when a partnership ended
    unshared it)."""
    origin_id = _shared_post(w)["team_id"]
    made = w.cast.get("shared_event")
    stored = events.load(origin_id, made.event_id) if made is not None else None
    if stored is None or stored.shared_with != w.team_id:
        now = w.folks.now()
        made = events.new_event(
            origin_id,
            keys.new_id(),
            created_by=w.id("eve"),
            now=now,
            title="Joint tasting",
            starts_at=now + timedelta(days=10),
            ends_at=now + timedelta(days=10, hours=3),
            zone="Europe/Rome",
        )
        events.create(made)
        events.share(
            events.load(origin_id, made.event_id),
            partner_id=w.team_id,
            origin_name="Other",
            now=now,
        )
        w.cast["shared_event"] = made
    return {"origin_id": origin_id, "event_id": made.event_id}


def _feed_id(w: World) -> str:
    """Anna's first calendar feed (made when she has none: revoking one uses it up)."""
    anna = people.person(w.id("anna"))
    mine = stored_feeds.feeds_of(anna)
    return mine[0].feed_id if mine else stored_feeds.create(anna, now=w.folks.now())[0].feed_id


def _feed_address(w: World) -> dict:
    """The parts of Anna's feed's address, with a new secret (each example a new one)."""
    anna = people.person(w.id("anna"))
    mine = stored_feeds.feeds_of(anna)
    if mine:
        feed, secret = mine[0], stored_feeds.regenerate(anna, mine[0])
    else:
        feed, secret = stored_feeds.create(anna, now=w.folks.now())
    return {"person_id": w.id("anna"), "feed_id": feed.feed_id, "token": secret}


def _own_profile(w: World) -> stored_profiles.Profile:
    """Anna's first personal profile (made when she has none: removing one uses it up)."""
    anna = people.person(w.id("anna"))
    mine = stored_profiles.profiles_of(anna)
    if mine:
        return mine[0]
    return stored_profiles.add(anna, network="linkedin", handle="anna", url="", now=w.folks.now())


def _profile_fields(prefix: str) -> dict:
    return {
        f"{prefix}-network": one(*stored_profiles.NETWORKS),
        f"{prefix}-handle": text("anna-rossi", "@anna.vigna", "x" * 100, "x" * 101),
        f"{prefix}-url": one(
            "", "https://example.com/anna", "javascript:x", "https://" + "a" * 150
        ),
    }


def _profile_edit(w: World) -> dict:
    """Anna's profile's form, with its live rev (or a stale one)."""
    profile = _own_profile(w)
    prefix = f"p{profile.profile_id}"
    return {**_profile_fields(prefix), f"{prefix}-rev": one(profile.rev, "x")}


def _csv_import(w: World) -> str:
    """Anna's CSV import of one post, waiting for confirmation (a new one each time:
    confirming uses it up)."""
    day = (w.folks.now() + timedelta(days=7)).date().isoformat()
    sent = w.client("anna").post(
        f"/t/{w.team_id}/import",
        data={"file": (io.BytesIO(f"title,date\nFrom a file,{day}\n".encode()), "plan.csv")},
    )
    return sent.headers["Location"].rsplit("/", 1)[1]


def _nameless(w: World) -> str:
    """A person who just signed in for the first time (each example a new one)."""
    someone = w.folks.person(f"{people.new_secret()[:8].lower()}@example.com")
    w.cast["nameless"] = someone
    w.clients.pop("nameless", None)
    return "nameless"


def _brunos_profile(w: World) -> stored_profiles.Profile:
    """Bruno's personal profile, to take a kit on (made when he has none)."""
    bruno = people.person(w.id("bruno"))
    mine = stored_profiles.profiles_of(bruno)
    if mine:
        return mine[0]
    return stored_profiles.add(
        bruno, network="instagram", handle="bruno", url="", now=w.folks.now()
    )


def _kit(w: World):
    """Anna's share kit, offered to her and Bruno (made again once an example deleted it or
    Bruno took it, so each example finds it still to take)."""
    made = w.cast.get("kit")
    offer = kits.offer_and_kit(w.team_id, made.kit_id, w.id("bruno")) if made else (None, None)
    if offer[0] is None or offer[1] is None or offer[1].state == "taken":
        _brunos_profile(w)
        sent = new_kit(w.client("anna"), w.team_id)
        w.cast["kit"] = kits.kit(w.team_id, sent.headers["Location"].rsplit("/", 1)[1])
    return kits.kit(w.team_id, w.cast["kit"].kit_id)


def _kit_address(w: World) -> dict:
    return {"origin_id": w.team_id, "kit_id": _kit(w).kit_id}


def _kit_form(w: World) -> dict:
    days = ("2027-03-27", "2027-04-02", "2027-03-20", "2027-07-01", "2000-01-01", "2100-12-31")
    return {
        "title": text("Our new Nebbiolo", "x" * 200, "x" * 201),
        "story": text("A cool year.\r\nA fresh wine.", "x" * 2001),
        "facts": text("14 months in oak\r\nhttps://cantina.example/n", "x" * 2001),
        "suggest_any": text("Come and taste it.", Long("é" * 3001)),
        "suggest_instagram": text("New in the cellar", "x" * 3001),
        "suggest_linkedin": text(""),
        "hashtags": text("#Nebbiolo @cantina", "x" * 501),
        "first_day": one(*days),
        "last_day": one(*days),
        "audience": one("team", "chosen", "nope"),
        "chosen": several(*w.member_ids(), "nope"),
        "partners": several(w.other_team_id, "nope"),
    }


def _new_kit_form(w: World) -> dict:
    return {**_kit_form(w), "kit_id": one(keys.new_id(), "x" * 17, ""), "version": maybe("", "1")}


def _kit_version(w: World) -> dict:
    return {"version": one(str(_kit(w).version), "0", "x")}


def _take_form(w: World) -> dict:
    return {
        "profile": one(_brunos_profile(w).profile_id, _own_profile(w).profile_id, "abcdefabcdef"),
        "day": one("2027-03-28", "2027-03-27", "2027-05-01", "2000-01-01"),
        "at": one("10:00", "00:00", "23:59", ""),
    }


def _pass_form(w: World) -> dict:
    return {"reason": text("Not my audience", "x" * 501)}


def _kit_link(w: World) -> dict:
    """The kit's email's link for Bruno (each example a new one)."""
    made = _kit(w)
    with w.app.app_context():
        token = tokens.sign(
            "kit",
            person_id=w.id("bruno"),
            team_id=w.team_id,
            post_id=made.kit_id,
            partner=w.team_id,
            expires=made.ends,
        )
    return {"token": token}


@dataclass(frozen=True)
class Inputs:
    """What one route reads, each a strategy of the values a page sends (lists: a field can
    be sent several times); ``paths`` gives live values to address parts (links, ids)."""

    form: Callable[[World], dict] = lambda w: {}
    query: Callable[[World], dict] = lambda w: {}
    paths: Callable[[World], dict] = lambda w: {}
    who: str | None | Callable[[World], str] = "anna"


NO_INPUT = Inputs()
ROUTES: dict[str, Inputs] = {
    "GET auth.login": NO_INPUT,
    "POST auth.login": Inputs(form=lambda w: {"email": one("nina@example.com")}, who=None),
    "GET auth.confirm": Inputs(paths=lambda w: {"token": _sign_in_link(w)}, who=None),
    "POST auth.confirm": Inputs(paths=lambda w: {"token": _sign_in_link(w)}, who=None),
    "GET auth.profile": NO_INPUT,
    "POST auth.profile": Inputs(form=_profile),
    "POST auth.resume_mail": Inputs(form=lambda w: {"next": one("/me/nudges", "/t/x/?a=1")}),
    "GET auth.welcome": Inputs(who=_nameless),
    "POST auth.welcome": Inputs(form=lambda w: {**_profile(w), **_team_form(w)}, who=_nameless),
    "GET nudges.preferences": NO_INPUT,
    "GET feeds.index": NO_INPUT,
    "GET spreadsheets.export": Inputs(
        query=lambda w: {
            **_filters(w),
            "from": maybe("2027-03-01", "2027-04-01"),
            "to": maybe("2027-03-31", "2027-06-30"),
            "dialect": maybe("standard", "excel-it"),
        }
    ),
    "GET spreadsheets.upload": NO_INPUT,
    # A urlencoded form carries no file: every such upload is refused, nothing stored.
    "POST spreadsheets.upload": Inputs(form=lambda w: {"file": text("title,date")}),
    "GET spreadsheets.show": Inputs(paths=lambda w: {"import_id": _csv_import(w)}),
    "POST spreadsheets.run": Inputs(paths=lambda w: {"import_id": _csv_import(w)}),
    "POST feeds.create": NO_INPUT,
    "POST feeds.regenerate": Inputs(paths=lambda w: {"feed_id": _feed_id(w)}),
    "POST feeds.revoke": Inputs(paths=lambda w: {"feed_id": _feed_id(w)}),
    "GET feeds.new_team_feed": Inputs(query=_filters),
    "POST feeds.create_team_feed": Inputs(query=_filters),
    "GET feeds.feed": Inputs(paths=_feed_address, who=None),
    "POST profiles.add": Inputs(form=lambda w: _profile_fields("new")),
    "POST profiles.save": Inputs(
        form=_profile_edit, paths=lambda w: {"profile_id": _own_profile(w).profile_id}
    ),
    "POST profiles.remove": Inputs(
        form=_profile_edit, paths=lambda w: {"profile_id": _own_profile(w).profile_id}
    ),
    "POST nudges.preferences": Inputs(form=_preferences),
    "GET nudges.act": Inputs(paths=lambda w: {"token": _action_link(w)}, who=None),
    "POST nudges.act": Inputs(
        form=lambda w: {
            "link": one("", "https://cantina.example/p/2"),
            "to": one(w.id("anna"), w.id("carla"), ""),
            "comment": one("", "Brighter, please"),
        },
        paths=lambda w: {"token": _action_link(w, "handover")},
        who=None,
    ),
    "GET nudges.unsubscribe": Inputs(
        paths=lambda w: {"token": _action_link(w, "unsubscribe")}, who=None
    ),
    "POST nudges.unsubscribe": Inputs(
        paths=lambda w: {"token": _action_link(w, "unsubscribe")}, who=None
    ),
    "POST nudges.team_defaults": Inputs(
        form=lambda w: {"leads": several(*(str(minutes) for minutes in plan.LEAD_CHOICES))}
    ),
    "GET planner.calendar": Inputs(query=_filters),
    "GET planner.month": Inputs(query=_filters),
    "GET planner.week": Inputs(query=_filters),
    "GET planner.agenda": Inputs(
        query=lambda w: {**_filters(w), "from": maybe("2026-12-05", "2100-12-31")}
    ),
    "GET planner.new_post": Inputs(query=lambda w: {"date": maybe("2026-12-05", "2000-01-01")}),
    "POST planner.create": Inputs(form=_post_form),
    "GET planner.show": NO_INPUT,
    "POST planner.save": Inputs(form=_post_edit_form),
    "POST planner.add_comment": Inputs(form=lambda w: {"text": text("Lovely.", "x" * 2001)}),
    "GET planner.duplicate": NO_INPUT,
    "POST planner.duplicate": Inputs(form=_post_form),
    "POST planner.move": Inputs(form=_move_form, query=_filters),
    "POST planner.review": Inputs(
        form=lambda w: {
            "decision": one("approve", "changes"),
            "comment": text("Shorter, please."),
            "version": one(str(w.post().version)),
        }
    ),
    "POST planner.trash": NO_INPUT,
    "POST sharing.share": Inputs(
        form=lambda w: {
            "partner": one("", w.other_team_id),
            "co_owner": one("", w.id("eve"), w.id("bruno")),
            "version": one(str(w.post().version), "x"),
        }
    ),
    "GET sharing.show": Inputs(paths=lambda w: _shared_address(w), who="carla"),
    "POST sharing.publish": Inputs(
        form=lambda w: {
            "url": one("https://lumen.example/p/1", "ftp://lumen.example/", ""),
            "version": one(str(posts.load(**_shared_post(w))[0].version), "x"),
        },
        paths=lambda w: _shared_address(w),
        who="bruno",
    ),
    # The shared post is approved already: a 409, whatever is sent.
    "POST sharing.approve": Inputs(
        form=lambda w: {"version": one(str(posts.load(**_shared_post(w))[0].version), "x")},
        paths=lambda w: _shared_address(w),
    ),
    "POST planner.restore": NO_INPUT,
    "GET planner.trash_list": NO_INPUT,
    "GET schedules.index": NO_INPUT,
    "GET schedules.new": NO_INPUT,
    "POST schedules.create": Inputs(form=_schedule_form),
    "GET schedules.show": Inputs(paths=lambda w: {"schedule_id": _schedule_id(w)}),
    "POST schedules.save": Inputs(
        form=lambda w: {**_schedule_form(w), **_schedule_version(w)},
        paths=lambda w: {"schedule_id": _schedule_id(w)},
    ),
    "POST schedules.skip": Inputs(
        form=lambda w: {
            "day": one("2026-12-08", "2100-12-31", "2026-02-30"),
            "version": maybe("1"),
        },
        paths=lambda w: {"schedule_id": _schedule_id(w)},
    ),
    "POST schedules.change_state": Inputs(
        form=lambda w: {"action": one("pause", "resume", "stop"), **_schedule_version(w)},
        paths=lambda w: {"schedule_id": _schedule_id(w)},
    ),
    "POST schedules.delete": Inputs(
        form=lambda w: {"slots": one("keep", "remove", "both"), **_schedule_version(w)},
        paths=lambda w: {"schedule_id": _schedule_id(w)},
    ),
    "GET cadence.page": NO_INPUT,
    "GET events.index": NO_INPUT,
    "GET events.new": Inputs(query=lambda w: {"date": maybe("2026-12-05", "2000-01-01", "x")}),
    "POST events.create": Inputs(form=_new_event_form, who="bruno"),
    "GET events.show": NO_INPUT,
    "POST events.save": Inputs(
        form=lambda w: {**_event_fields(w), **_event_version(w)}, who="bruno"
    ),
    "POST events.cancel": Inputs(
        form=lambda w: {"series": one("remove", "keep", "both"), **_event_version(w)},
        who="bruno",
    ),
    # The partner is the other team (made Anna's team's partner first).
    "POST events.share": Inputs(
        form=lambda w: {
            "partner": one("", _shared_post(w)["team_id"], "nope"),
            **_event_version(w),
        },
        who="bruno",
    ),
    "GET events.shared": Inputs(paths=_shared_event_address, who="carla"),
    "GET events.templates": Inputs(query=lambda w: {"template": maybe("tasting", "new", "x")}),
    "POST events.save_template": Inputs(form=_template_form),
    "GET playbook.show": Inputs(query=lambda w: {"welcome": maybe("1", "0")}),
    "GET playbook.edit": NO_INPUT,
    "POST playbook.edit": Inputs(form=_playbook_form),
    "GET playbook.checklist": Inputs(
        query=lambda w: {
            "channels": several("Instagram", "X", "Nowhere"),
            "checked": several("Location tagged", "Made up"),
        }
    ),
    "POST cadence.choose_weekly": Inputs(form=lambda w: {"weekly": maybe("y")}),
    "POST planner.channels": Inputs(
        form=lambda w: {"name": text("Threads", "x" * 31), "remove": maybe("Threads", "X")}
    ),
    "POST planner.tags": Inputs(form=lambda w: {"remove_tag": several("tasting", "autumn")}),
    "GET teams.members": NO_INPUT,
    "POST teams.invite": Inputs(
        form=lambda w: {
            "email": one("nina@example.com", "NINA@Example.com", "carla@example.com"),
            "role": one("editor", "viewer", "admin"),
        }
    ),
    "POST teams.revoke": Inputs(paths=lambda w: {"token_hash": _invitation(w)}),
    "GET partners.index": NO_INPUT,
    "POST partners.invite": Inputs(
        form=lambda w: {"email": one("nina@example.com", "EVE@Example.com", "carla@example.com")}
    ),
    "POST partners.withdraw": Inputs(
        paths=lambda w: {"token_hash": people.hash_secret(_partner_invitation(w))}
    ),
    "POST partners.end": Inputs(form=lambda w: {"partner": one(w.other_team_id, "none")}),
    "GET partners.answer": Inputs(paths=lambda w: {"token": _partner_invitation(w)}, who="eve"),
    "POST partners.answer": Inputs(
        paths=lambda w: {"token": _partner_invitation(w)},
        form=lambda w: {
            "team": one(w.other_team_id, w.team_id),
            "decision": one("accept", "decline"),
        },
        who="eve",
    ),
    "POST teams.change_role": Inputs(form=lambda w: {"role": one("editor", "viewer", "admin")}),
    "POST teams.remove": NO_INPUT,
    "POST teams.leave": NO_INPUT,
    "GET teams.team_settings": NO_INPUT,
    "POST teams.team_settings": Inputs(form=_team_form),
    "GET teams.new": NO_INPUT,
    "POST teams.new": Inputs(form=_team_form),
    "GET kits.index": NO_INPUT,
    "GET kits.new": NO_INPUT,
    "POST kits.create": Inputs(form=_new_kit_form, who="bruno"),
    "GET kits.show": Inputs(paths=_kit_address),
    "GET kits.edit": Inputs(paths=_kit_address),
    "POST kits.edit": Inputs(
        form=lambda w: {**_kit_form(w), "kit_id": one(_kit(w).kit_id, "x"), **_kit_version(w)},
        paths=_kit_address,
        who="bruno",
    ),
    "POST kits.delete": Inputs(form=_kit_version, paths=_kit_address, who="bruno"),
    "GET kits.to_share": Inputs(who="bruno"),
    "GET kits.offer": Inputs(paths=_kit_address, who="bruno"),
    "POST kits.take": Inputs(form=_take_form, paths=_kit_address, who="bruno"),
    "POST kits.pass_on": Inputs(form=_pass_form, paths=_kit_address, who="bruno"),
    "POST kits.undo_pass": Inputs(paths=_kit_address, who="bruno"),
    "GET kits.signed": Inputs(paths=_kit_link, who=None),
    "POST kits.signed": Inputs(
        form=lambda w: {"action": one("take", "pass", "nope"), **_take_form(w), **_pass_form(w)},
        paths=_kit_link,
        who=None,
    ),
}
# Routes that read nothing from the request but who asks (each is in the roles test).
READ_NOTHING = {
    "GET teams.start",
    "GET teams.index",
    "GET planner.my_posts",
    "POST auth.logout",
    "GET health.healthz",
    "GET dev.outbox",
    "GET dev.outbox_json",
    "GET static",  # Flask's own: a file of app/static or a 404
}


def _path_values(w: World, name: str) -> SearchStrategy[list[str]]:
    """Each address part's valid values: this team's ids mostly, the other team's too."""
    values_of = {
        "team_id": lambda: one(w.team_id, w.team_id, w.other_team_id),
        "post_id": lambda: one(w.post_id),
        "event_id": lambda: one(_event_id(w)),
        "person_id": lambda: one(*w.member_ids()),
        "month": lambda: one("2026-12", "2000-01", "2100-12"),
        "day": lambda: one("2026-12-07", "2026-12-09", "2000-01-03"),
    }
    return values_of[name]()


# The properties ----------------------------------------------------------------------------

_DAY = re.compile(r"(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_EMAIL = re.compile(r"[^@\sA-Z]{1,64}@[^@\sA-Z]+\.[^@\sA-Z]+")
# What a stored attribute may hold, by its name (in any item, and in maps by their keys).
SPELLINGS: dict[str, Callable[[str], object]] = {
    "away_from": _DAY.fullmatch,
    "away_until": _DAY.fullmatch,
    "quiet_start": lambda v: v == "" or _CLOCK.fullmatch(v),
    "quiet_end": lambda v: v == "" or _CLOCK.fullmatch(v),
    "digest_at": _CLOCK.fullmatch,
    "zone": valid_zone,
    "language": lambda v: v in LANGUAGES,
    "role": lambda v: v in ("admin", "editor", "viewer"),
    "status": lambda v: v in STATUS_LABELS,
    "email": _EMAIL.fullmatch,
    "name": lambda v: v == v.strip(),  # empty until a new person names themselves
    "title": lambda v: v == v.strip() and v,
    "tags": lambda v: v == v.strip() and v and len(v) <= 40,
    "lead_minutes": lambda v: int(v) in plan.LEAD_CHOICES,
}


def _controls(text: str) -> list[str]:
    """The control characters in a text, tab and line breaks aside (told apart here on their
    own, not by the rule under test)."""
    return [char for char in text if unicodedata.category(char) == "Cc" and char not in "\t\n\r"]


def _wrong_spellings(value: dict, name: str, spelled: bool = True) -> list[str]:
    """What in one stored DynamoDB value (maps and lists included) is not in its spelling.

    A history entry's ``changes`` hold display text (``{"status": ["Draft", "In review"]}``):
    only its characters are checked.
    """
    ((kind, inner),) = value.items()
    if kind == "M":
        return [
            problem
            for key, each in inner.items()
            for problem in _wrong_spellings(each, key, spelled and name != "changes")
        ]
    if kind == "L":
        return [problem for each in inner for problem in _wrong_spellings(each, name, spelled)]
    found = []
    for each in [inner] if kind in ("S", "N") else inner if kind in ("SS", "NS") else []:
        if kind in ("S", "SS") and _controls(each):
            found.append(f"{name}={each[:80]!r} has a control character")
        elif spelled and name in SPELLINGS and not SPELLINGS[name](each):
            found.append(f"{name}={each[:80]!r}")
    return found


def _strings(value: dict):
    """Every text in one stored DynamoDB value."""
    ((kind, inner),) = value.items()
    if kind == "S":
        yield inner
    elif kind == "SS":
        yield from inner
    elif kind in ("M", "L"):
        for each in inner.values() if kind == "M" else inner:
            yield from _strings(each)


def _changed(before: dict, after: dict) -> set:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def check(response, before: dict, after: dict) -> None:
    """The three properties, for one request and the store before and after it."""
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:2000]}"
    location = response.headers.get("Location") or response.headers.get("HX-Redirect")
    if location:
        assert urlsplit(location).netloc in ("", "localhost"), location
        assert not location.startswith("//"), location
    changed = _changed(before, after)
    if status == 429:  # the attempt is counted: that is the limit working
        changed = {key for key in changed if not key[1].startswith("RATE#")}
    assert status < 400 or not changed, f"a refused request ({status}) changed {sorted(changed)}"
    wrong = [
        f"{key[1]} {key[2]}: {problem}"
        for key in changed
        if key in after
        for name, value in after[key].items()
        for problem in _wrong_spellings(value, name)
    ]
    assert not wrong, f"stored unnormalised: {wrong}"


def _encoded(pairs: list[tuple[str, str]]) -> str:
    """Form or query data as a browser encodes it; lone surrogates as their invalid UTF-8."""
    return urlencode(pairs, errors="surrogatepass")


def _pairs(fields: dict) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, sent in fields.items()
        for value in (sent if isinstance(sent, list) else [sent])
    ]


def _rule(w: World, route: str):
    """The method and URL rule of ``"POST planner.save"``."""
    method, endpoint = route.split(" ")
    (rule,) = [
        rule
        for rule in w.app.url_map.iter_rules()
        if rule.endpoint == endpoint and method in rule.methods
    ]
    return method, rule


def send(w: World, route: str, address: dict, form=None, query=None, who="anna", htmx=False):
    """Send ``route`` (``"POST planner.save"``) with these address parts, form and query."""
    method, rule = _rule(w, route)
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", quote(address[name], safe="", errors="surrogatepass"))
    return w.client(who).open(
        path,
        method=method,
        query_string=_encoded(_pairs(query or {})),
        data=_encoded(_pairs(form or {})),
        content_type="application/x-www-form-urlencoded",
        headers={"HX-Request": "true"} if htmx else {},
    )


def _arguments(w: World, route: str) -> list[str]:
    return sorted(_rule(w, route)[1].arguments)


FIELD_SPOILS = ("as sent", "some spoiled", "some spoiled", "all spoiled")
ADDRESS_SPOILS = ("as sent", "as sent", "as sent", "some spoiled")  # else the form is not read


def _draw(data, strategies: dict, spoils=FIELD_SPOILS) -> dict[str, list[str]]:
    """One request's fields: as a page sends them, with one or two spoiled, or every one
    spoiled the same way (the way to reach a parser behind the first field's refusal)."""
    names = sorted(strategies)
    if not names:
        return {}
    how = data.draw(st.sampled_from(spoils))
    if how == "all spoiled":
        mutation = data.draw(st.sampled_from(SPOILS), "every field")
        return {name: _mutated(data.draw(strategies[name], name), mutation) for name in names}
    bad = (
        data.draw(st.sets(st.sampled_from(names), min_size=1, max_size=2))
        if how != "as sent"
        else set()
    )
    return {
        name: data.draw(spoiled(strategies[name]) if name in bad else strategies[name], name)
        for name in names
    }


# The fuzzing -------------------------------------------------------------------------------


def _examples(w: World, route: str) -> int:
    """Examples for a route, by how much it reads: 4 for an address alone, up to 10."""
    inputs = ROUTES[route]
    read = len(_arguments(w, route)) + len(inputs.form(w)) + len(inputs.query(w))
    return min(10, 2 + 2 * read)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_no_input_gets_a_5xx_a_write_on_refusal_or_an_unnormalised_value(world, route):
    inputs = ROUTES[route]

    @settings(
        max_examples=_examples(world, route),
        deadline=None,
        database=None,  # no .hypothesis/ in the checkout: a failure prints its example
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def fuzz(data):
        who = inputs.who(world) if callable(inputs.who) else inputs.who
        live = inputs.paths(world)
        parts = {
            name: one(live[name]) if name in live else _path_values(world, name)
            for name in _arguments(world, route)
        }
        drawn = _draw(data, parts, ADDRESS_SPOILS)
        address = {name: (sent or [""])[0] for name, sent in drawn.items()}
        form, query = _draw(data, inputs.form(world)), _draw(data, inputs.query(world))
        htmx = data.draw(st.booleans(), "htmx")
        world.client(who)  # signed in before the snapshot: a session is no write of the route
        before = stored_items()
        response = send(world, route, address, form, query, who=who, htmx=htmx)
        check(response, before, stored_items())

    fuzz()


def test_every_route_is_fuzzed_or_reads_nothing(base_app):
    """A new route fails here until it is in ``ROUTES`` with what it reads."""
    routes = {
        f"{method} {rule.endpoint}"
        for rule in base_app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(ROUTES) | READ_NOTHING


# Control characters (finding 7) ------------------------------------------------------------

DIRTY, CLEAN = "Vin\x00o\x07 nu\x1bovo\x7f\x9f", "Vino nuovo"


def _post_fields(w: World, **changes) -> dict:
    """The post form as a page sends it for a valid dated draft, with some fields changed."""
    return {
        "title": "Tasting teaser",
        "copy": "",
        "channels": "Instagram",
        "owner": w.id("anna"),
        "day": "2026-12-05",
        "at": "10:30",
        "status": "draft",
        "reviewer": "",
        "tags": "",
        "notes": "",
        "published_url": "",
        "version": str(w.post().version),
        **changes,
    }


def _approved(w: World) -> str:
    """A link for Bruno to say the post, approved meanwhile, is published."""
    post, body = posts.load(w.team_id, w.post_id)
    posts.update(
        post,
        body,
        summary={"status": "approved"},
        body_fields={},
        actor=w.id("anna"),
        now=w.folks.now(),
    )
    return _action_link(w, "published")


_PROFILE = {"language": "en", "zone": "Europe/Rome", "week_start": "0"}
_TEAM = {"team_zone": "Europe/Rome", "team_language": "it"}


@dataclass(frozen=True)
class TextField:
    """A text field: the route and form it is sent with, and what it must store."""

    route: str
    form: Callable[[World], dict]
    stored: str = CLEAN
    token: Callable[[World], str] = lambda w: ""
    who: str | None | Callable[[World], str] = "anna"
    team: str = "team"


TEXT_FIELDS = {
    "post title": TextField("POST planner.create", lambda w: _post_fields(w, title=DIRTY)),
    "post copy": TextField("POST planner.save", lambda w: _post_fields(w, copy=DIRTY)),
    "post notes": TextField("POST planner.save", lambda w: _post_fields(w, notes=DIRTY)),
    "post tags": TextField("POST planner.save", lambda w: _post_fields(w, tags=f"{DIRTY}, x")),
    "published link": TextField(
        "POST planner.save",
        lambda w: _post_fields(w, published_url="https://cantina.\x00example/\x1bp"),
        stored="https://cantina.example/p",
    ),
    "copy's title": TextField("POST planner.duplicate", lambda w: _post_fields(w, title=DIRTY)),
    "comment": TextField("POST planner.add_comment", lambda w: {"text": DIRTY}),
    "review comment": TextField(
        "POST planner.review",
        lambda w: {"decision": "changes", "comment": DIRTY, "version": str(w.post().version)},
    ),
    "channel name": TextField("POST planner.channels", lambda w: {"name": DIRTY}),
    "team name in settings": TextField(
        "POST teams.team_settings", lambda w: {**_TEAM, "team_name": DIRTY}
    ),
    "new team's name": TextField("POST teams.new", lambda w: {**_TEAM, "team_name": DIRTY}),
    "person name": TextField("POST auth.profile", lambda w: {**_PROFILE, "name": DIRTY}),
    "new person's name": TextField(
        "POST auth.welcome",
        lambda w: {**_PROFILE, **_TEAM, "name": DIRTY, "team_name": "Enoteca"},
        who=_nameless,
    ),
    "first team's name": TextField(
        "POST auth.welcome",
        lambda w: {**_PROFILE, **_TEAM, "name": "Nina", "team_name": DIRTY},
        who=_nameless,
    ),
    # Eve's team and Dora's address: the fuzzing counts invitations from Anna and to Nina.
    "invitation address": TextField(
        "POST teams.invite",
        lambda w: {"email": "do\x00ra@example.com\x1b", "role": "editor"},
        stored="dora@example.com",
        who="eve",
        team="other",
    ),
    "sign-in address": TextField(
        "POST auth.login",
        lambda w: {"email": "\x00dora@exam\x7fple.com"},
        stored="dora@example.com",
        who=None,
    ),
    "link sent from a nudge": TextField(
        "POST nudges.act",
        lambda w: {"link": "https://cantina.example/\x00p"},
        stored="https://cantina.example/p",
        token=_approved,
        who=None,
    ),
}


@pytest.mark.parametrize("name", sorted(TEXT_FIELDS))
def test_control_characters_are_left_out_of_every_text_field(world, name):
    """Finding 7: NUL and the other control characters (tab and line breaks aside) are never
    stored; what is around them is, and the request is answered as without them."""
    sent = TEXT_FIELDS[name]
    who = sent.who(world) if callable(sent.who) else sent.who
    address = {
        "team_id": world.cast[sent.team].team_id,
        "post_id": world.post_id,
        "token": sent.token(world),
    }
    before = stored_items()
    response = send(world, sent.route, address, sent.form(world), who=who)
    after = stored_items()
    assert response.status_code in (200, 201, 204, 302), response.text
    assert response.headers.get("Location") != "/login"
    check(response, before, after)
    written = {
        text
        for key in _changed(before, after)
        if key in after
        for value in after[key].values()
        for text in _strings(value)
    }
    assert sent.stored in written


def test_tab_and_line_breaks_stay_in_copy_and_notes(world):
    copy, notes = "Six wines:\r\n\tBarolo\r\n\tBarbaresco", "Ask\r\nLumen"
    response = send(
        world,
        "POST planner.save",
        {"team_id": world.team_id, "post_id": world.post_id},
        _post_fields(world, copy=copy, notes=notes),
    )
    assert response.status_code == 302
    body = posts.load(world.team_id, world.post_id)[1]
    assert (body.copy, body.notes) == ("Six wines:\n\tBarolo\n\tBarbaresco", "Ask\nLumen")


def test_a_filter_with_control_characters_is_read_without_them(world):
    assert world.post().tags == {"tasting", "autumn"}  # "Tasting teaser", on 5 December 2026

    def month_filtered_by(tag: str) -> str:
        address = {"team_id": world.team_id, "month": "2026-12"}
        response = send(world, "GET planner.month", address, query={"tag": tag})
        assert response.status_code == 200
        assert not _controls(response.text)
        return response.text

    assert "Tasting teaser" in month_filtered_by("tas\x00ting\x1b")
    assert "Tasting teaser" not in month_filtered_by("tastings")


def test_plain_text_keeps_tab_and_line_breaks_and_drops_every_other_control_character():
    controls = "".join(chr(code) for code in [*range(0x20), *range(0x7F, 0xA0)])
    assert values.plain_text(f"a{controls}b") == "a\t\n\rb"
    assert values.plain_text("Città ²٣ \u3000é") == "Città ²٣ \u3000é"


# Found by the fuzzer -----------------------------------------------------------------------


def test_a_post_on_the_last_accepted_day_west_of_utc_can_still_be_moved(world):
    """2100-12-31 at 23:30 in Pago Pago is 2101 in UTC: the move form sends that instant back."""
    pita = world.folks.person("pita@example.com", "Pita", zone="Pacific/Pago_Pago")
    world.folks.join(world.cast["team"], pita, "editor")
    world.cast["pita"] = pita
    address = {"team_id": world.team_id, "post_id": world.post_id}
    fields = _post_fields(
        world, owner=pita.person_id, day="2100-12-31", at="23:30", status="in_review"
    )
    fields["reviewer"] = world.id("anna")
    saved = send(world, "POST planner.save", address, fields, who="pita")
    assert saved.status_code == 302, re.findall(r"field-error\">([^<]*)", saved.text)
    panel = send(world, "GET planner.show", address, who="pita").text
    move = form_in(panel, id="move-form").data()
    move["date"] = "2100-12-30"
    response = send(world, "POST planner.move", address, move.to_dict(flat=False), who="pita")
    assert response.status_code == 302, response.text
    assert world.post().due.astimezone(ZoneInfo("Pacific/Pago_Pago")).date() == date(2100, 12, 30)
