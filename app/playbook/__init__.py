"""The playbook ("train your people"): how the team speaks, and a checklist per channel."""

from flask import g

from app.playbook.markdown import render as render_markdown
from app.store import playbook as stored_playbook
from app.store.models import Playbook


def current(team_id: str) -> Playbook:
    """This request's team playbook: the one the post's BatchGet brought (``g.playbook``),
    else read once (one GetItem) and kept for the rest of the request."""
    found = g.get("playbook")
    if found is None or found.team_id != team_id:
        found = g.playbook = stored_playbook.load(team_id)
    return found


def init_app(app) -> None:
    from app.playbook.views import bp

    app.jinja_env.filters["markdown"] = render_markdown
    app.register_blueprint(bp)
