"""The Cadence health page, and an admin's choice of its weekly email."""

from flask import Blueprint, abort, flash, g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form

from app.auth import team_member
from app.cadence import health, weekly
from app.forms import posted
from app.store import NotFound, cadence
from app.web import go, now, render

bp = Blueprint("cadence", __name__)


class WeeklyForm(Form):
    weekly = BooleanField(_l("Email me this every Monday at 08:00"))


@bp.get("/t/<team_id>/health")
@team_member()
def page(team_id: str):
    """Every member may see it: it is the team's own calendar, counted."""
    form = WeeklyForm(weekly=cadence.weekly_on(g.person, team_id))
    return render(
        "cadence/health.html",
        team=g.team,
        health=health.of_team(g.team, g.person, now()),
        form=form,
        week_link=lambda day: url_for("planner.week", team_id=team_id, day=day),
    )


@bp.post("/t/<team_id>/health/weekly")
@team_member("admin")
def choose_weekly(team_id: str):
    wanted = WeeklyForm(posted()).weekly.data
    # Saved unchanged, nothing is written: a week's email already planned keeps its time.
    if wanted != cadence.weekly_on(g.person, team_id):
        try:
            if wanted:
                first = weekly.next_monday(g.person.zone, now())
                cadence.start_weekly(g.person, team_id, first)
            else:
                cadence.stop_weekly(g.person, team_id)
        except NotFound:  # they left the team meanwhile
            abort(404)
    if wanted:
        flash(_("The weekly email is on: it comes every Monday at 08:00."), "success")
    else:
        flash(_("The weekly email is off."), "success")
    return go(url_for("cadence.page", team_id=team_id))
