"""The playbook page: everyone in the team reads it, admins edit it; and the checklist that
the post form shows for the channels chosen."""

from flask import Blueprint, flash, g, request, url_for
from flask_babel import gettext as _

from app.auth import RANKS, team_member
from app.forms import posted
from app.playbook import current
from app.playbook.forms import playbook_form
from app.store import people, posts, profiles
from app.store import playbook as stored_playbook
from app.store.models import channel_names
from app.web import go, now, render

bp = Blueprint("playbook", __name__)


@bp.get("/t/<team_id>/playbook")
@team_member()
def show(team_id: str):
    """The guidelines and checklists; ``?welcome=1`` greets a member who has just joined."""
    welcome = request.args.get("welcome") == "1"
    intro = None
    if welcome and RANKS[g.role] >= RANKS["editor"]:  # their first post, if it is still there
        intro = posts.load(team_id, stored_playbook.intro_post_id(g.person.person_id))
    return render(
        "playbook/show.html",
        team=g.team,
        playbook=current(team_id),
        checklists=current(team_id).checklist(g.team.channels or []),
        can_edit=g.role == "admin",
        welcome=welcome,
        intro_post=intro[0] if intro and intro[0].deleted_at is None else None,
    )


@bp.route("/t/<team_id>/playbook/edit", methods=["GET", "POST"])
@team_member("admin")
def edit(team_id: str):
    channels = list(g.team.channels or [])
    saved = current(team_id)
    form = playbook_form(channels, posted(), saved)
    if request.method == "GET":
        return _edit_page(form, saved)
    if not form.validate():
        return _edit_page(form, saved, 422)
    guidelines, checklists = form.guidelines.data or "", form.checklists()
    if form.expected_version() != saved.version:
        # Saved by someone else since this page was loaded: keep this editor's text in the
        # form, show what is saved now, and let a second save (at the new version) decide.
        form.version.data = str(saved.version or "")
        return _edit_page(form, saved, 409, stale=True)
    unchanged = guidelines == saved.guidelines and checklists == dict(saved.checklist(channels))
    if not unchanged:
        try:
            stored_playbook.save(
                team_id,
                guidelines=guidelines,
                checklists=checklists,
                version=saved.version,
                actor=g.person.person_id,
                now=now(),
            )
        except stored_playbook.PlaybookConflict:
            saved = stored_playbook.load(team_id)
            form.version.data = str(saved.version or "")
            return _edit_page(form, saved, 409, stale=True)
    flash(_("Playbook saved."), "success")
    return go(url_for("playbook.show", team_id=team_id))


def _edit_page(form, saved, status: int = 200, *, stale: bool = False):
    return render(
        "playbook/edit.html",
        "playbook_form",
        status,
        team=g.team,
        form=form,
        saved=saved,
        stale=stale,
    )


@bp.get("/t/<team_id>/playbook/checklist")
@team_member("editor")
def checklist(team_id: str):
    """The checklists of the channels and profiles chosen in a post form, ticks kept: htmx
    swaps them in when either changes (without JavaScript they change once the post is
    saved). A profile counts as its network's channel; the owner's profiles cost one GetItem
    when the owner is someone else."""
    chosen = [c for c in request.args.getlist("channels") if c in (g.team.channels or [])]
    chosen = channel_names(chosen, _profile_copies(request.args.getlist("profiles")))
    ticked = request.args.getlist("checked")
    return render(
        "playbook/checklist.html",
        "checklist",
        team=g.team,
        groups=current(team_id).checklist(chosen),
        ticked=ticked,
    )


def _profile_copies(ids: list[str]) -> list:
    """The chosen profiles of the post's owner (the form's owner, a member of the team)."""
    if not ids:
        return []
    owner_id = request.args.get("owner") or g.person.person_id
    if owner_id == g.person.person_id:
        owner = g.person
    else:
        owner = people.person(owner_id) if g.team.member(owner_id) else None
    found = profiles.profiles_of(owner) if owner is not None else []
    return [profiles.copy_of(owner_id, profile) for profile in found if profile.profile_id in ids]
