"""The weekly Cadence health email: every Monday at 08:00 in the admin's zone, opt-in.

The scheduled job claims the admin's ``health`` reminder like any nudge, sends this email if
they are still an admin of the team, and gives the reminder back for the next Monday (which is
what marks this week's as done: a second run finds it no longer due).
"""

from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext

from app import mail
from app.cadence.health import Health, of_team
from app.store import people
from app.store.cadence import weekly_on
from app.store.models import Person, Reminder, Team
from app.web import link_to

SENT_AT = time(8, 0)


def next_monday(zone_name: str, now: datetime) -> datetime:
    """The first Monday 08:00 local after ``now``, as UTC: wall time, so it stays 08:00
    across DST (a time a switch skips would move forward, as a phone alarm does)."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    monday = today + timedelta(days=-today.weekday() % 7)
    for day in (monday, monday + timedelta(weeks=1)):
        moment = datetime.combine(day, SENT_AT, tzinfo=zone).astimezone(UTC)
        if moment > now:
            return moment
    raise AssertionError("unreachable: next week's Monday is after now")


def recipient(reminder: Reminder) -> tuple[Person | None, Team | None]:
    """The admin and the team, as stored now: one BatchGetItem."""
    found: dict = {}
    wanted = {
        Person.Meta.table_name: [Person.key(reminder.person_id)],
        Team.Meta.table_name: [Team.key(reminder.team_id)],
    }
    for raw in people.batch_get(wanted):
        model = Person if raw["sk"]["S"] == "PERSON" else Team
        found[model] = model.from_raw_data(raw)
    return found.get(Person), found.get(Team)


def wanted_by(admin: Person | None, team: Team | None) -> str | None:
    """Why the email is not for them this week, or None: "off" (turned off, or no longer in
    the team: leaving drops the person's team entry and its choice) or "not_admin"."""
    if admin is None or team is None or not weekly_on(admin, team.team_id):
        return "off"
    member = team.member(admin.person_id)
    return None if member is not None and member.role == "admin" else "not_admin"


def message(admin: Person, team: Team, now: datetime) -> EmailMessage:
    """The three blocks for this admin: their language and zone, links to the team's pages."""
    health: Health = of_team(team, admin, now)
    with force_locale(admin.language):
        subject = gettext("Cadence health of %(team)s", team=team.name)
        return mail.compose(
            "health",
            to=admin.email,
            language=admin.language,
            now=now,
            subject=subject,
            admin=admin,
            team=team,
            health=health,
            zone=ZoneInfo(admin.zone),
            page=link_to("cadence.page", team_id=team.team_id),
            calendar=link_to("planner.calendar", team_id=team.team_id),
            week_link=lambda day: link_to("planner.week", team_id=team.team_id, day=day),
        )
