"""Sign-in by email link, sign-out, the first-run welcome and the profile page."""

import logging
import time
from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import mail, playbook
from app.auth import end_session, link_page, login_required, start_session
from app.errors import error_page
from app.forms import EmailForm, ProfileForm, WelcomeForm, posted
from app.i18n import guess_zone
from app.nudges import replan
from app.profiles import views as personal_profiles
from app.store import NotFound, people, teams
from app.teams import joining
from app.web import go, link_to, now, render, safe_next, settings

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

SIGN_IN_VALID_FOR = timedelta(minutes=10)


def send_sign_in_email(address: str, raw_token: str, language: str) -> None:
    message = mail.compose(
        "sign_in",
        to=address,
        language=language,
        now=now(),
        link=link_to("auth.confirm", token=raw_token),
        minutes=int(SIGN_IN_VALID_FOR.total_seconds() // 60),
    )
    mail.send(message)


def _limit_sign_in_requests(address: str) -> None:
    config = settings()
    window = timedelta(minutes=config.login_rate_window_minutes)
    over = (
        people.count_hit("sign-in-ip", request.remote_addr or "?", now(), window)
        > (config.login_rate_per_ip)
        or people.count_hit("sign-in-email", address, now(), window) > config.login_rate_per_address
    )
    if over:
        minutes = config.login_rate_window_minutes
        abort(
            error_page(
                429,
                ngettext(
                    "Too many sign-in links were asked for. Please wait %(num)d minute and "
                    "try again.",
                    "Too many sign-in links were asked for. Please wait %(num)d minutes and "
                    "try again.",
                    minutes,
                ),
            )
        )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.person is not None and request.method == "GET":
        return redirect(url_for("teams.start"))
    form = EmailForm(posted())
    if request.method == "POST" and form.validate():
        answer_at = time.monotonic() + settings().sign_in_answer_seconds
        address = form.email.data.lower()
        _limit_sign_in_requests(address)
        someone = people.person_by_email(address)
        # The answer is the same whether or not the address has an account.
        if someone is not None or settings().signup == "open":
            language = someone.language if someone else str(get_locale())
            raw, _token = people.issue_token(address, "sign_in", now(), SIGN_IN_VALID_FOR)
            try:
                send_sign_in_email(address, raw, language)
            except mail.MailError as error:
                if not error.permanent:
                    return error_page(
                        503,
                        _("We could not send the email just now. Please try again in a minute."),
                    )
                # Trying again would be refused again: say so where the address is.
                form.email.errors.append(
                    _(
                        "Cadenza's mail service refused this address. Check it for typos; if "
                        "it is right, it cannot receive mail from Cadenza yet."
                    )
                )
                return render("auth/login.html", "login_form", 422, form=form)
        answer = render(
            "auth/check_email.html",
            "check_email",
            address=address,
            minutes=int(SIGN_IN_VALID_FOR.total_seconds() // 60),
        )
        time.sleep(max(0.0, answer_at - time.monotonic()))
        return answer
    status = 422 if request.method == "POST" else 200
    return render("auth/login.html", "login_form", status, form=form)


def _expired_link(language: str | None = None):
    return link_page(language, "auth/link_expired.html", 410, form=EmailForm())


def _language_of(someone, team) -> str | None:
    """The language of whom a sign-in link or invitation is for: theirs once they are someone,
    else the invited team's (its email was in that language), else the browser's."""
    if someone is not None:
        return someone.language
    return team.language if team is not None else None


@bp.route("/login/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Show a confirm button; only its POST uses the link (mail scanners prefetch GETs)."""
    found = people.stored_token(token)
    if found is not None and found.purpose not in ("sign_in", "invite"):
        found = None  # a partner invitation's token signs no one in (it has its own route)
    team = teams.team(found.team_id) if found is not None and found.purpose == "invite" else None
    known = people.person_by_email(found.email) if found is not None else None
    language = _language_of(known, team)
    if not people.usable(found, now()) or (found.purpose == "invite" and team is None):
        return _expired_link(language)
    if found.purpose == "sign_in" and people.superseded(found, known):
        return _expired_link(language)
    if request.method == "GET":
        return link_page(language, "auth/confirm.html", token=found, team=team)

    # Someone new starts in their browser's language and a zone guessed from it.
    browser_language = str(get_locale())
    zone = guess_zone(browser_language)
    if found.purpose == "sign_in":
        try:
            people.redeem_sign_in(token, now())
        except NotFound:
            return _expired_link(language)
        someone = people.find_or_create_person(found.email, now(), browser_language, zone)
        people.signed_in_by_link(someone, now())
        destination = safe_next(session.pop("next", None)) or url_for("teams.start")
    else:
        someone = people.find_or_create_person(found.email, now(), browser_language, zone)
        # Their first post is planned before they join: a failure here writes nothing, and
        # following the invitation again does both. Someone new gets it on the welcome page,
        # once the time zone it is planned in is the one they chose.
        intro = None
        if someone.name and someone.role_in(found.team_id) is None:
            intro = joining.plan_introduction(team, someone, found.role, now())
        try:
            teams.accept_invite(found, someone, now())
        except NotFound:
            joining.withdraw_introduction(intro, team, now())
            return _expired_link(language)
        except teams.Full as full:
            joining.withdraw_introduction(intro, team, now())
            # Lazy: the page speaks the language of whom the invitation is for.
            message = (
                _l("This team has no room for anyone else. Ask its admin to make room.")
                if full.what == "team"
                else _l(
                    "You are in %(count)d teams, the most one person can be in. Leave one first.",
                    count=teams.MAX_TEAMS_PER_PERSON,
                )
            )
            return link_page(
                language, "errors/error.html", 409, code=409, title=_l("No room"), message=message
            )
        # A new member starts with how the team speaks, and their first post.
        destination = url_for("playbook.show", team_id=team.team_id, welcome=1)
    people.address_works(someone, now())  # the link came by email: a bounce is over
    start_session(someone)
    if team is not None:
        session["team"] = team.team_id
        flash(_("Welcome to %(team)s.", team=team.name), "success")
    if not someone.name:
        return redirect(url_for("auth.welcome"))
    return redirect(destination)


@bp.post("/logout")
def logout():
    end_session()
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/welcome", methods=["GET", "POST"])
@login_required
def welcome():
    """A new person names themselves and, unless invited into one, creates a first team."""
    someone = g.person
    form = WelcomeForm(
        posted(), obj=someone, team_language=someone.language, team_zone=someone.zone
    )
    needs_team = not someone.team_entries()
    # Invited in: the team of the invitation (else their first), whose playbook they read.
    mine = {entry["team_id"]: entry for entry in someone.team_list()}
    joined = mine.get(session.get("team")) or next(iter(mine.values()), None)
    if not needs_team:
        for field in ("team_name", "team_zone", "team_language"):
            delattr(form, field)
    if request.method == "POST" and form.validate():
        # Only someone naming themselves for the first time is new here; a named member who
        # comes back to this page and saves it has had their start already.
        newcomer = not someone.name
        people.update_profile(
            someone,
            name=form.name.data,
            language=form.language.data,
            zone=form.zone.data,
            week_start=form.week_start.data,
        )
        if needs_team:
            created = teams.create_team(
                someone,
                name=form.team_name.data,
                zone=form.team_zone.data,
                language=form.team_language.data,
                now=now(),
            )
            session["team"] = created.team_id
        if needs_team or not newcomer:
            return go(url_for("teams.start"))
        joining.plan_introduction_of_newcomer(joined["team_id"], someone, now())
        return go(url_for("playbook.show", team_id=joined["team_id"], welcome=1))
    status = 422 if request.method == "POST" else 200
    return render(
        "auth/welcome.html",
        "welcome_form",
        status,
        form=form,
        needs_team=needs_team,
        joined=joined,
        playbook=playbook.current(joined["team_id"]) if joined else None,
    )


@bp.route("/me", methods=["GET", "POST"])
@login_required
def profile():
    someone = g.person
    form = ProfileForm(posted(), obj=someone)
    if request.method == "POST" and form.validate():
        # Nudge times are local wall-clock times: plan them in the new zone, before saving it
        # (saved first, a failure in between would leave them planned in the old one for good).
        if form.zone.data != someone.zone:
            replan.replan_my_posts(someone, now(), {"zone": form.zone.data})
        people.update_profile(
            someone,
            name=form.name.data,
            language=form.language.data,
            zone=form.zone.data,
            week_start=form.week_start.data,
        )
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))
    status = 422 if request.method == "POST" else 200
    return render(
        "auth/profile.html", "profile_form", status, form=form, **personal_profiles.page(someone)
    )


@bp.post("/me/mail")
@login_required
def resume_mail():
    """The person says their mailbox works (or wants Cadenza's mail after all): mail again."""
    people.resume_mail(g.person, now())
    flash(_("Cadenza will email you again."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("auth.profile"))
