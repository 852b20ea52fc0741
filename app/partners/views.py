"""Partner teams (issue 11): an admin invites another team's admin by email; that admin
accepts for one of their teams; either side's admins end the partnership."""

import time
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app.auth import link_page, login_required, team_member
from app.errors import error_page
from app.forms import EmailForm, posted
from app.store import Conflict, NotFound, partners, people, teams
from app.teams.invitations import mail_invitation, mail_or_withdraw, too_many_invitations
from app.web import link_to, now, render, settings, wants_fragment

bp = Blueprint("partners", __name__)


class EndForm(Form):
    partner = StringField(validators=[InputRequired(), Length(max=40)])


class AnswerForm(Form):
    team = SelectField(_l("For which of your teams?"))
    decision = SelectField(
        choices=[SelectChoice("accept", _l("Accept")), SelectChoice("decline", _l("Decline"))]
    )


def _page(team, *, invite_form=None, status=200, block=None):
    entries = team.partner_entries()
    return render(
        "partners/index.html",
        block,
        status,
        team=team,
        partners=sorted(
            (
                (team_id, {**entry, "since": datetime.fromisoformat(entry["since"])})
                for team_id, entry in entries.items()
            ),
            key=lambda pair: pair[1]["name"].casefold(),
        ),
        invites=partners.pending_invites(team.team_id, now()) if g.role == "admin" else [],
        invite_form=invite_form or EmailForm(),
    )


def _back(team_id: str, block: str):
    if wants_fragment():
        return _page(g.team, block=block)
    return redirect(url_for("partners.index", team_id=team_id))


@bp.get("/t/<team_id>/partners")
@team_member()
def index(team_id: str):
    """Every member sees the partners; admins also invite, withdraw and end."""
    return _page(g.team)


@bp.post("/t/<team_id>/partners/invite")
@team_member("admin")
def invite(team_id: str):
    team, form = g.team, EmailForm(request.form)
    if not form.validate():
        return _page(team, invite_form=form, status=422, block="partner_invitations")
    # Mailing takes time and not mailing does not: the answer is held back, as sign-in's is,
    # so its timing does not tell whether the address is a team admin's.
    answer_at = time.monotonic() + settings().sign_in_answer_seconds
    address = form.email.data.lower()
    if too_many_invitations(team, address, form.email):
        return _page(team, invite_form=form, status=429, block="partner_invitations")
    try:
        raw = partners.invite(team, address=address, invited_by=g.person.person_id, now=now())
    except partners.Full:
        form.email.errors.append(
            _(
                "A team has room for %(count)d partners, invitations included. Withdraw an "
                "invitation or end a partnership first.",
                count=partners.MAX_PARTNERS,
            )
        )
        return _page(team, invite_form=form, status=422, block="partner_invitations")
    invited = people.person_by_email(address)
    answering = invited and [
        entry for entry in partners.admin_teams(invited) if entry["team_id"] != team_id
    ]
    token_hash = people.hash_secret(raw)
    if answering and not mail_or_withdraw(
        lambda: mail_invitation(
            "partner_invite",
            team,
            to=invited.email,
            language=invited.language,
            link=link_to("partners.answer", token=raw),
            days=partners.INVITE_VALID_FOR.days,
        ),
        lambda: partners.withdraw(team_id, token_hash),
        form.email,
    ):
        return _page(team, invite_form=form, status=429, block="partner_invitations")
    time.sleep(max(0.0, answer_at - time.monotonic()))
    flash(_("If that address belongs to a team admin, we sent them the invitation."), "success")
    return _back(team_id, "partner_invitations")


@bp.post("/t/<team_id>/partners/invites/<token_hash>/withdraw")
@team_member("admin")
def withdraw(team_id: str, token_hash: str):
    try:
        partners.withdraw(team_id, token_hash)
    except NotFound:
        abort(404)
    flash(_("Invitation withdrawn."), "success")
    return _back(team_id, "partner_invitations")


@bp.post("/t/<team_id>/partners/end")
@team_member("admin")
def end(team_id: str):
    form = EndForm(request.form)
    if not form.validate():
        return error_page(422, _("Choose the partnership to end."))
    entry = g.team.partner_entries().get(form.partner.data)
    try:
        ended = partners.end(g.team, form.partner.data, now())
    except Conflict:
        return error_page(409, _("The partners changed meanwhile. Please try again."))
    if ended:
        flash(_("%(team)s is no longer a partner.", team=entry["name"]), "success")
    else:  # the other side ended it first
        flash(_("That partnership had ended already."), "success")
    return redirect(url_for("partners.index", team_id=team_id))


# The invitation link -------------------------------------------------------------------------


def _problem(language, status: int, title, message):
    return link_page(
        language, "errors/error.html", status, code=status, title=title, message=message
    )


@bp.route("/partners/<token>", methods=["GET", "POST"])
def answer(token: str):
    """The link in a partner invitation: checked before signing in (a dead link says so at
    once), then answered by the admin it was sent to, signed in."""
    found = people.stored_token(token)
    if found is None or found.purpose != "partner":
        return _problem(
            None,
            404,
            _l("This invitation cannot be used"),
            _l("This link is not a valid invitation. It may have been withdrawn."),
        )
    recipient = people.person_by_email(found.email)
    language = recipient.language if recipient else None
    inviting = teams.team(found.team_id)
    if found.used_at is not None:
        return _problem(
            language, 410, _l("Invitation answered"), _l("This invitation was answered already.")
        )
    if found.expires_at <= now() or inviting is None:
        return _problem(
            language,
            410,
            _l("Invitation expired"),
            _l("This invitation has expired. Ask the team that sent it for a new one."),
        )
    return _answer(found, inviting)


@login_required
def _answer(found, inviting):
    someone = g.person
    if someone.email != found.email:
        return _problem(
            someone.language,
            403,
            _l("This invitation is for someone else"),
            _l(
                "It was sent to another address. Sign out, then open the link again and sign "
                "in with the address it was sent to."
            ),
        )
    mine = [
        entry for entry in partners.admin_teams(someone) if entry["team_id"] != inviting.team_id
    ]
    if not mine:
        return _problem(
            someone.language,
            403,
            _l("Only a team's admin can answer"),
            _l("Partners are teams: only an admin of another team can accept this invitation."),
        )
    form = AnswerForm(posted())
    form.team.choices = [SelectChoice(entry["team_id"], entry["name"]) for entry in mine]
    refused, status = None, 200
    if request.method == "POST":
        status = 422
        if form.validate():
            refused, status = _decide(form, found, inviting)
            if refused is None:
                return status
    return link_page(
        someone.language,
        "partners/answer.html",
        status,
        form=form,
        inviting=inviting,
        refused=refused,
    )


def _decide(form, found, inviting):
    """Accept or decline; (None, the response) when done, else (why not, status)."""
    try:
        if form.decision.data == "decline":
            partners.decline(found, now())
            flash(_("You declined the invitation of %(team)s.", team=inviting.name), "success")
            return None, redirect(url_for("teams.start"))
        chosen = teams.team(form.team.data)
        if chosen is None:
            abort(404)
        partners.accept(found, chosen, g.person, now())
    except NotFound:
        return _l("This invitation was answered already."), 410
    except partners.AlreadyPartners:
        return _l(
            "%(mine)s and %(theirs)s are partners already.", mine=chosen.name, theirs=inviting.name
        ), 409
    except partners.Full:
        return (
            _l(
                "A team has room for %(count)d partners, invitations included. End a "
                "partnership or withdraw an invitation first.",
                count=partners.MAX_PARTNERS,
            ),
            409,
        )
    except Conflict:
        return _l("The partners changed meanwhile. Please try again."), 409
    flash(
        _("%(mine)s and %(theirs)s are partners now.", mine=chosen.name, theirs=inviting.name),
        "success",
    )
    return None, redirect(url_for("partners.index", team_id=chosen.team_id))
