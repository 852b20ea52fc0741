"""The demo team of a fresh local Cadenza: a winery planning a tasting with a partner.

Everything is created through the same store functions the app uses (invitations included),
so the demo data is shaped exactly like real data.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.auth import speaking
from app.auth.views import SIGN_IN_VALID_FOR
from app.events import series
from app.planner import changes
from app.schedules import planning, recurrence
from app.store import events, keys, people, playbook, posts, schedules, teams
from app.web import link_to

ZONE = "Europe/Rome"
SOON_DUE = timedelta(minutes=63)
DEMO_ADMIN = "giulia@cantina-aurora.example"
PEOPLE = [
    # email, name, language, zone, role
    (DEMO_ADMIN, "Giulia Rossi", "en", ZONE, "admin"),
    ("marco@cantina-aurora.example", "Marco Bianchi", "it", ZONE, "editor"),
    ("sarah@enoteca-lumen.example", "Sarah Klein", "en", "Europe/London", "editor"),
    ("luca@cantina-aurora.example", "Luca Ferri", "it", ZONE, "viewer"),
]
# How the team speaks: shown beside the post form and in every nudge.
PLAYBOOK = {
    "guidelines": (
        "## Voice\n\nWarm and unhurried, like a glass at the end of the harvest. We write "
        "about people and places, never about discounts.\n\n"
        "## Do and don't\n\n- **Do** name the grower, the vineyard and the vintage.\n"
        "- **Don't** post a bottle without a glass, or a glass without a face.\n\n"
        "## Hashtags\n\n`#CantinaAurora` `#Langhe` `#Nebbiolo`, and the event's own.\n\n"
        "## Partners\n\nTag [Enoteca Lumen](https://enoteca-lumen.example) in every post "
        "about the London tasting, and let Sarah see it before it goes out."
    ),
    "checklists": {
        "Instagram": [
            "Photo is square or 4:5",
            "Location tagged",
            "Partner tagged",
            "Three hashtags at most",
        ],
        "Facebook": ["Event linked", "Partner tagged"],
        "Newsletter": ["Subject under 50 characters", "One link, to the booking page"],
    },
}
# days from today, local time, title, channels, owner (index in PEOPLE), status, copy, tags
POSTS = [
    (
        -4,
        (9, 0),
        "Vendemmia 2026: la raccolta è finita",
        ["Instagram", "Facebook"],
        1,
        "published",
        "Ultime cassette di Nebbiolo in cantina. Grazie a tutte le mani che ci hanno aiutato! 🍇",
        ["harvest"],
    ),
    (
        -1,
        (18, 0),
        "Thank you, harvest volunteers",
        ["Facebook"],
        1,
        "draft",
        "A photo album for everyone who picked with us this year.",
        ["harvest"],
    ),
    (
        3,
        (10, 0),
        "Save the date: autumn tasting with Enoteca Lumen",
        ["Instagram", "Facebook"],
        0,
        "approved",
        "Sabato 12 dicembre · Saturday 12 December\nSix wines, two cellars, one "
        "evening. Seats are limited: link in bio.",
        ["tasting"],
    ),
    (
        5,
        (8, 30),
        "Newsletter: invito alla degustazione",
        ["Newsletter"],
        1,
        "draft",
        "Cari amici, vi aspettiamo per una serata di Nebbiolo e formaggi delle Langhe.",
        ["tasting"],
    ),
    (
        7,
        (18, 0),
        "Behind the scenes: the Nebbiolo barrels",
        ["Instagram", "TikTok"],
        2,
        "in_review",
        "From barrel to glass: what happens in the cellar before the tasting.",
        ["tasting", "cellar"],
    ),
    (
        9,
        (12, 0),
        "Why we partner with Enoteca Lumen",
        ["LinkedIn"],
        0,
        "draft",
        "Two family businesses, one idea of hospitality.",
        ["tasting", "partners"],
    ),
    (
        12,
        (19, 30),
        "Live stories from the tasting",
        ["Instagram"],
        1,
        "draft",
        "Stories every half hour: pours, pairings, people.",
        ["tasting"],
    ),
    (
        14,
        (11, 0),
        "Recap: the tasting in photos",
        ["Blog", "Newsletter"],
        2,
        "draft",
        "The evening in twenty photos, and the wines we opened.",
        ["tasting", "recap"],
    ),
]
IDEAS = [
    ("Pairing series: Nebbiolo & local cheeses", ["Instagram"]),
    ("Meet the winemaker (reel)", ["Instagram", "TikTok"]),
    ("Wine club Q&A", ["YouTube"]),
]


def _at(now: datetime, days: int, clock: tuple[int, int]) -> datetime:
    local_day = now.astimezone(ZoneInfo(ZONE)).date() + timedelta(days=days)
    return datetime.combine(local_day, time(*clock), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def seed(now: datetime) -> bool:
    """Create the demo team unless its admin exists already; return whether it was created."""
    if people.person_by_email(DEMO_ADMIN) is not None:
        return False
    members = []
    for address, name, language, zone, _role in PEOPLE:
        someone = people.find_or_create_person(address, now, language, zone)
        people.update_profile(someone, name=name, language=language, zone=zone, week_start=0)
        members.append(someone)
    admin = members[0]
    # Giulia has no quiet hours, so the demo's one-hour nudge arrives minutes after the first
    # start at any hour (the others keep the default 21:00–08:00, and show it).
    people.update_preferences(admin, quiet_start="", quiet_end="")
    team = teams.create_team(admin, name="Cantina Aurora", zone=ZONE, language="it", now=now)
    for someone, (address, *_rest, role) in zip(members[1:], PEOPLE[1:], strict=True):
        raw = teams.invite(team, address=address, role=role, invited_by=admin.name, now=now)
        teams.accept_invite(people.token(raw, now), someone, now)

    team = teams.team(team.team_id)  # with every member, for planning their nudges
    for days, clock, title, channels, owner, status, copy, tags in POSTS:
        post = posts.new_post(
            team.team_id,
            title=title,
            zone=ZONE,
            created_by=admin.person_id,
            now=now,
            due=_at(now, days, clock),
            owner_id=members[owner].person_id,
            channels=channels,
            status=status,
            tags=tags,
        )
        changes.create(post, team, now, copy=copy)
    soon = posts.new_post(
        team.team_id,
        title="Story: pouring the first glass",
        zone=ZONE,
        created_by=admin.person_id,
        now=now,
        # Its one-hour nudge falls three minutes after the first start: see /dev/outbox.
        due=now + SOON_DUE,
        owner_id=admin.person_id,
        channels=["Instagram"],
        status="approved",
        tags=["tasting"],
    )
    changes.create(soon, team, now, copy="First pour of the evening 🍷 #CantinaAurora")
    for title, channels in IDEAS:
        idea = posts.new_post(
            team.team_id,
            title=title,
            zone=ZONE,
            created_by=admin.person_id,
            now=now,
            channels=channels,
            tags=["ideas"],
        )
        changes.create(idea, team, now)
    _seed_schedule(team, members, now)
    _seed_tasting(team, members, now)
    playbook.save(team.team_id, **PLAYBOOK, version=None, actor=admin.person_id, now=now)
    return True


def _seed_schedule(team, members, now: datetime) -> None:
    """Instagram every Tuesday and Friday at 18:00, Giulia, Marco and Sarah in turn."""
    schedule = schedules.new_schedule(
        team.team_id,
        created_by=members[0].person_id,
        now=now,
        title="Instagram — {weekday} {date}",
        rule=recurrence.weekly([1, 4]),
        zone=ZONE,
        starts_local=f"{now.astimezone(ZoneInfo(ZONE)).date().isoformat()}T18:00",
        owners=[someone.person_id for someone in members[:3]],
        channels=["Instagram"],
    )
    planning.apply(schedule, team, now)


def _seed_tasting(team, members, now: datetime) -> None:
    """The London tasting at Enoteca Lumen in twelve days, with its series from the "Tasting"
    template: Giulia owns it, Sarah (who is there) posts it live."""
    london = ZoneInfo("Europe/London")
    starts = recurrence.place(
        datetime.combine(now.astimezone(london).date() + timedelta(days=12), time(18, 30)), london
    )
    tasting = events.new_event(
        team.team_id,
        keys.new_id(),
        created_by=members[0].person_id,
        now=now,
        title="Autumn tasting",
        kind="tasting",
        place="Enoteca Lumen, London",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3, minutes=30),
        zone="Europe/London",
        notes="Six wines, two cellars, one evening. Seats are limited.",
        partner="Enoteca Lumen",
        owner_id=members[0].person_id,
    )
    events.create(tasting)
    with speaking("en"):  # Giulia's language: no request says one here
        proposed = series.proposal(tasting, series.default_templates(team)[0], team, now)
    for step in proposed:
        if step.step.step == "live":
            step.owner_id = members[2].person_id
    series.plan(tasting, proposed, team, actor=members[0].person_id, now=now)


def sign_in_link(now: datetime) -> str:
    """A fresh single-use sign-in link for the demo admin."""
    raw, _token = people.issue_token(DEMO_ADMIN, "sign_in", now, SIGN_IN_VALID_FOR)
    return link_to("auth.confirm", token=raw)
