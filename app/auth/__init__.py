"""Who is signed in: sessions, and the checks every other blueprint leans on."""

from contextlib import nullcontext
from datetime import timedelta
from functools import wraps

from flask import (
    Flask,
    Response,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_wtf.csrf import CSRFProtect

from app.i18n import LANGUAGES
from app.store import people
from app.web import go, now, settings, wants_fragment

RANKS = {"viewer": 0, "editor": 1, "admin": 2}
csrf = CSRFProtect()


def start_session(person) -> None:
    """Sign a person in: a new server-side session, and a fresh cookie (no fixation)."""
    lifetime = timedelta(days=settings().session_days)
    raw = people.start_session(person.person_id, now(), lifetime)
    return_to = session.get("next")
    session.clear()
    session.permanent = True
    session["sid"] = raw
    session["pid"] = person.person_id
    if return_to:
        session["next"] = return_to
    g.person = person


def end_session() -> None:
    if session.get("sid"):
        people.end_session(session["sid"])
    session.clear()
    g.person = None


def _load_person() -> None:
    """Load who is signed in, and the team of the URL if any, in one store request."""
    g.person = g.team = None
    if request.endpoint == "static":
        return
    session_id, person_id = session.get("sid"), session.get("pid")
    if session_id and person_id:
        team_id = (request.view_args or {}).get("team_id")
        g.person, g.team = people.signed_in(session_id, person_id, now(), team_id)
        if g.person is None:
            session.pop("sid", None)
            session.pop("pid", None)


def _to_sign_in():
    if request.method == "GET" and not wants_fragment():
        session["next"] = request.full_path.rstrip("?")
    return go(url_for("auth.login"))


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.person is None:
            return _to_sign_in()
        if not g.person.name and request.endpoint != "auth.welcome":
            return redirect(url_for("auth.welcome"))
        return view(*args, **kwargs)

    return wrapped


def team_member(least: str = "viewer"):
    """Require a signed-in member of the URL's team with at least the given role.

    A team the person is not in answers 404, as if it did not exist.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(team_id: str, **kwargs):
            member = g.team.member(g.person.person_id) if g.team is not None else None
            if member is None:
                abort(404)
            if RANKS[member.role] < RANKS[least]:
                abort(403)
            g.team_id, g.role = team_id, member.role
            return view(team_id, **kwargs)

        return wrapped

    return decorator


def speaking(language: str | None):
    """Use this language meanwhile (a known one; else the request's own stays)."""
    return force_locale(language) if language in LANGUAGES else nullcontext()


def link_page(language: str | None, template: str, status: int = 200, **context) -> Response:
    """A page behind an email link, in the language of the person the link is for.

    Whoever opens the link may have no session, or someone else's (a shared computer): the
    page speaks the recipient's language (the browser's if unknown) and shows no signed-in
    menu. The link is a key, so the page stays out of caches and Referer headers: they carry
    only the origin, which the CSRF check needs on HTTPS to accept the page's own form.
    """
    with speaking(language):
        body = render_template(template, email_link=True, **context)
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "strict-origin"}
    return make_response(body, status, headers)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(_load_person)

    @app.context_processor
    def person_context():
        return {"person": g.get("person"), "role": g.get("role"), "can": _can}


def _can(least: str) -> bool:
    role = g.get("role")
    return role is not None and RANKS[role] >= RANKS[least]


from app.auth.views import bp  # noqa: E402  (the views use the helpers above)

__all__ = ["bp", "csrf", "login_required", "team_member", "link_page", "speaking", "init_app"]
