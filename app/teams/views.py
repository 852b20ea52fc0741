"""The teams pages: the start page, members and invitations, team settings."""

from flask import Blueprint, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from app.auth import login_required, team_member
from app.errors import error_page
from app.forms import InviteForm, RoleForm, TeamForm, posted, role_labels
from app.store import Conflict, NotFound, people, teams
from app.teams.invitations import mail_invitation, mail_or_withdraw, too_many_invitations
from app.web import go, link_to, now, render, wants_fragment

bp = Blueprint("teams", __name__)


@bp.get("/")
@login_required
def start():
    """Send a signed-in person to the team they used last (or their first)."""
    mine = g.person.team_list()
    if not mine:
        return redirect(url_for("teams.new"))
    last = session.get("team")
    team_id = last if g.person.role_in(last or "") else mine[0]["team_id"]
    return redirect(url_for("planner.calendar", team_id=team_id))


@bp.get("/teams")
@login_required
def index():
    return render("teams/index.html", teams=g.person.team_list())


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def new():
    form = TeamForm(posted(), team_zone=g.person.zone, team_language=g.person.language)
    if request.method == "POST" and form.validate():
        try:
            created = teams.create_team(
                g.person,
                name=form.team_name.data,
                zone=form.team_zone.data,
                language=form.team_language.data,
                now=now(),
            )
        except teams.Full:
            form.team_name.errors.append(
                _(
                    "You are in %(count)d teams, the most one person can be in. Leave one first.",
                    count=teams.MAX_TEAMS_PER_PERSON,
                )
            )
        else:
            session["team"] = created.team_id
            flash(
                _("Team %(name)s is ready. Invite your people next.", name=created.name), "success"
            )
            return go(url_for("teams.members", team_id=created.team_id))
    status = 422 if request.method == "POST" else 200
    return render("teams/new.html", "team_form", status, form=form)


# Members -----------------------------------------------------------------------------------


def _members_page(team, *, invite_form=None, status=200, block=None, refused=None):
    """The members page (or one of its blocks); ``refused`` explains a change not made."""
    return render(
        "teams/members.html",
        block,
        status,
        team=team,
        members=team.member_list(),
        invites=teams.pending_invites(team.team_id, now()),
        invite_form=invite_form or InviteForm(),
        roles=role_labels(),
        refused=refused,
    )


@bp.get("/t/<team_id>/members")
@team_member()
def members(team_id: str):
    return _members_page(g.team)


@bp.post("/t/<team_id>/members/invite")
@team_member("admin")
def invite(team_id: str):
    team = g.team
    form = InviteForm(request.form)
    if form.validate():
        address = form.email.data.lower()
        already = {member.email for member in team.member_list()}
        if address in already:
            form.email.errors.append(_("%(email)s is already in this team.", email=address))
        elif too_many_invitations(team, address, form.email):
            return _members_page(team, invite_form=form, status=429, block="invitations")
        else:
            try:
                raw = teams.invite(
                    team, address=address, role=form.role.data, invited_by=g.person.name, now=now()
                )
            except teams.Full:
                form.email.errors.append(
                    _(
                        "A team has room for %(count)d people, invitations included. Withdraw "
                        "an invitation or remove someone first.",
                        count=teams.MAX_PEOPLE,
                    )
                )
                return _members_page(team, invite_form=form, status=422, block="invitations")
            if not mail_or_withdraw(
                lambda: mail_invitation(
                    "invite",
                    team,
                    to=address,
                    language=team.language,
                    link=link_to("auth.confirm", token=raw),
                    days=teams.INVITE_VALID_FOR.days,
                ),
                lambda: teams.revoke_invite(team_id, people.hash_secret(raw)),
                form.email,
            ):
                return _members_page(team, invite_form=form, status=429, block="invitations")
            flash(_("Invitation sent to %(email)s.", email=address), "success")
            if wants_fragment():
                return _members_page(team, block="invitations")
            return redirect(url_for("teams.members", team_id=team_id))
    return _members_page(team, invite_form=form, status=422, block="invitations")


@bp.post("/t/<team_id>/invites/<token_hash>/revoke")
@team_member("admin")
def revoke(team_id: str, token_hash: str):
    try:
        teams.revoke_invite(team_id, token_hash)
    except NotFound:
        abort(404)
    flash(_("Invitation withdrawn."), "success")
    if wants_fragment():
        return _members_page(g.team, block="invitations")
    return redirect(url_for("teams.members", team_id=team_id))


def _change_membership(team_id: str, change, done: str, then: str | None = None):
    """Apply a membership change; answer with the member list, as it is now if refused."""
    try:
        change()
    except teams.LastAdmin:
        refused = _("A team needs at least one admin. Make someone else an admin first.")
    except NotFound:
        abort(404)
    except Conflict:
        refused = _("Someone changed the members at the same time. This is the list as it is now.")
    else:
        refused = None
    if refused:
        return _members_page(teams.team(team_id), status=409, block="member_list", refused=refused)
    flash(done, "success")
    if then:
        return go(then)
    if wants_fragment():
        return _members_page(teams.team(team_id), block="member_list")
    return redirect(url_for("teams.members", team_id=team_id))


@bp.post("/t/<team_id>/members/<person_id>/role")
@team_member("admin")
def change_role(team_id: str, person_id: str):
    form = RoleForm(request.form)
    if not form.validate():
        return error_page(422, _("Choose admin, editor or viewer."))
    return _change_membership(
        team_id, lambda: teams.change_role(team_id, person_id, form.role.data), _("Role changed.")
    )


@bp.post("/t/<team_id>/members/<person_id>/remove")
@team_member("admin")
def remove(team_id: str, person_id: str):
    if person_id == g.person.person_id:
        return leave(team_id)
    return _change_membership(
        team_id, lambda: teams.remove_member(team_id, person_id), _("Removed from the team.")
    )


@bp.post("/t/<team_id>/leave")
@team_member()
def leave(team_id: str):
    session.pop("team", None)
    return _change_membership(
        team_id,
        lambda: teams.remove_member(team_id, g.person.person_id),
        _("You left the team."),
        then=url_for("teams.start"),
    )


# Settings ----------------------------------------------------------------------------------


@bp.route("/t/<team_id>/settings", methods=["GET", "POST"])
@team_member("admin")
def team_settings(team_id: str):
    team = g.team
    form = TeamForm(posted(), team_name=team.name, team_zone=team.zone, team_language=team.language)
    if request.method == "POST" and form.validate():
        teams.update_team(
            team,
            name=form.team_name.data,
            zone=form.team_zone.data,
            language=form.team_language.data,
        )
        flash(_("Team settings saved."), "success")
        return redirect(url_for("teams.team_settings", team_id=team_id))
    status = 422 if request.method == "POST" else 200
    return render("teams/settings.html", "team_form", status, form=form, team=team)
