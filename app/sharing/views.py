"""Sharing a post with a partner team, and the page the partner team opens it on.

The owning team's editors share a post from its panel (a partner, then one of that partner's
members as co-owner: names only). The partner team's members open it at
``/t/<their team>/shared/<owning team>/<post>``: read-only, except that its co-owner or the
partner's editors mark it published with their own link, and the partner's admins approve it
in review. Nothing else of the owning team is reachable from there
(``app.store.sharing.shared_post``).
"""

from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app import values
from app.auth import RANKS, team_member
from app.errors import error_page
from app.forms import strip
from app.planner import changes
from app.planner.forms import web_address
from app.store import posts, sharing, teams
from app.store.models import Post, Team
from app.web import go, now, render

bp = Blueprint("sharing", __name__)


class ShareForm(Form):
    partner = SelectField(_l("Share with"), validate_choice=True)
    co_owner = SelectField(_l("Co-owner in the partner team"), validate_choice=True)
    version = StringField(validators=[InputRequired(), Length(max=12)])


class PublishForm(Form):
    url = StringField(
        _l("Your published link"),
        [InputRequired(_l("Enter a web address starting with https://")), web_address],
        filters=[strip],
    )
    version = StringField(validators=[InputRequired(), Length(max=12)])


def share_form(team: Team, post: Post, partner: Team | None = None, formdata=None) -> ShareForm:
    """The share form of a post of ``team``: its partners, and the members (names only) of
    ``partner``, the team it is shared with (read by the caller only for a shared post)."""
    form = ShareForm(
        formdata,
        partner=post.shared_with or "",
        co_owner=post.co_owner_id or "",
        version=str(post.version),
    )
    partners = sorted(team.partner_entries().items(), key=lambda pair: pair[1]["name"].casefold())
    form.partner.choices = [SelectChoice("", _("Not shared"))] + [
        SelectChoice(team_id, entry["name"]) for team_id, entry in partners
    ]
    members = partner.member_list() if partner is not None else []
    form.co_owner.choices = [SelectChoice("", _("No co-owner"))] + [
        SelectChoice(member.person_id, member.name or "?") for member in members
    ]
    return form


def _partner_of(post: Post) -> Team | None:
    """The team a post is shared with (one GetItem), for its co-owner choices."""
    return teams.team(post.shared_with) if post.shared_with else None


def sharing_panel(team: Team, post: Post) -> dict:
    """What the post panel shows about sharing: for the owning team's editors, the form (a
    read of the partner team only when the post is shared)."""
    partners = team.partner_entries()
    shared = partners.get(post.shared_with) if post.shared_with else None
    editable = (
        partners
        and RANKS.get(g.get("role") or "viewer", 0) >= RANKS["editor"]
        and post.deleted_at is None
    )
    return {
        "partner": shared,
        "form": share_form(team, post, _partner_of(post)) if editable else None,
    }


@bp.post("/t/<team_id>/posts/<post_id>/share")
@team_member("editor")
def share(team_id: str, post_id: str):
    team = g.team
    loaded = posts.load(team_id, post_id)
    if loaded is None or loaded[0].deleted_at is not None:
        abort(404)
    post = loaded[0]
    chosen = request.form.get("partner", "")
    partner = teams.team(chosen) if chosen in team.partner_entries() else None
    form = share_form(team, post, partner, request.form)
    if not form.validate():
        return _refused(form)
    if values.count(form.version.data) != post.version:
        return error_page(409, _("Someone changed this post meanwhile: reload it."))
    if partner is None and chosen:  # a partner since gone
        return error_page(409, _("The partners changed meanwhile. Please try again."))
    co_owner = partner.member(form.co_owner.data) if partner and form.co_owner.data else None
    entries = team.partner_entries()
    was = entries.get(post.shared_with, {}).get("name", "") if post.shared_with else ""
    shown = {
        "shared_with": [was, partner.name if partner else ""],
        "co_owner_name": [post.co_owner_name or "", co_owner.name if co_owner else ""],
    }
    try:
        changes.share(
            post,
            team,
            actor=g.person.person_id,
            partner_id=partner.team_id if partner else None,
            partner=partner,
            co_owner=(co_owner.person_id, co_owner.name) if co_owner else None,
            origin_name=team.name,
            shown={field: pair for field, pair in shown.items() if pair[0] != pair[1]},
            now=now(),
        )
    except posts.PostConflict:
        return error_page(409, _("Someone changed this post meanwhile: reload it."))
    flash(_("Sharing saved.") if partner else _("No longer shared."), "success")
    return go(url_for("planner.show", team_id=team_id, post_id=post_id))


def _refused(form: ShareForm):
    errors = [*form.partner.errors, *form.co_owner.errors, *form.version.errors]
    if form.co_owner.errors:
        errors = [
            _("Choose the co-owner among the partner team's members, after saving the partner.")
        ]
    return error_page(422, " ".join(str(error) for error in errors))


# The partner side ----------------------------------------------------------------------------


def _shared(team_id: str, origin_id: str, post_id: str):
    found = sharing.shared_post(g.team, origin_id, post_id)
    if found is None:
        abort(404)
    return found


def _may_publish(post: Post) -> bool:
    return changes.may_publish_shared(post, g.team.member(g.person.person_id))


def _page(team_id, origin_id, post_id, found, form=None, status=200):
    post, body, origin = found
    owner = origin.member(post.owner_id) if post.owner_id else None
    return render(
        "sharing/shared.html",
        "panel",
        status,
        team=g.team,
        partner=g.team.partner_entries()[origin_id],
        origin_id=origin_id,
        post=post,
        body=body,
        owner_name=owner.name if owner else "",
        form=form or PublishForm(version=str(post.version), url=post.partner_published_url or ""),
        may_publish=_may_publish(post) and post.status in ("approved", "published"),
        may_approve=post.status == "in_review" and g.role == "admin",
    )


@bp.get("/t/<team_id>/shared/<origin_id>/<post_id>")
@team_member()
def show(team_id: str, origin_id: str, post_id: str):
    """A post a partner team shares with this one: what it says, read-only."""
    return _page(team_id, origin_id, post_id, _shared(team_id, origin_id, post_id))


@bp.post("/t/<team_id>/shared/<origin_id>/<post_id>/publish")
@team_member()
def publish(team_id: str, origin_id: str, post_id: str):
    """The co-owner (or an editor of this team) marks it published, with this side's link."""
    found = _shared(team_id, origin_id, post_id)
    post, body, origin = found
    if not _may_publish(post):
        return error_page(
            403, _("Only the post's co-owner or your team's editors can mark it published.")
        )
    form = PublishForm(request.form)
    if not form.validate():
        return _page(team_id, origin_id, post_id, found, form=form, status=422)
    if values.count(form.version.data) != post.version:
        return error_page(409, _("Someone changed this post meanwhile: reload it."))
    try:
        changes.publish_shared(
            post,
            body,
            origin,
            url=form.url.data,
            actor=g.person.person_id,
            actor_name=g.person.name,
            now=now(),
        )
    except changes.Refused as refused:
        form.url.errors = [refused.message]
        return _page(team_id, origin_id, post_id, found, form=form, status=409)
    except posts.PostConflict:
        return error_page(409, _("Someone changed this post meanwhile: reload it."))
    flash(_("Marked as published."), "success")
    return go(url_for("sharing.show", team_id=team_id, origin_id=origin_id, post_id=post_id))


@bp.post("/t/<team_id>/shared/<origin_id>/<post_id>/approve")
@team_member("admin")
def approve(team_id: str, origin_id: str, post_id: str):
    """This team's admins approve a shared post in review, for the partner that owns it."""
    post, body, origin = _shared(team_id, origin_id, post_id)
    if values.count(request.form.get("version")) != post.version:
        return error_page(409, _("Someone changed this post meanwhile: reload it."))
    try:
        changes.approve_shared(
            post, body, origin, actor=g.person.person_id, actor_name=g.person.name, now=now()
        )
    except changes.Refused as refused:
        return error_page(409, refused.message)
    except posts.PostConflict:
        return error_page(409, _("Someone changed this post meanwhile: reload it."))
    flash(_("Approved."), "success")
    return go(url_for("sharing.show", team_id=team_id, origin_id=origin_id, post_id=post_id))


def init_app(app) -> None:
    app.jinja_env.globals.update(sharing_panel=sharing_panel)
    app.register_blueprint(bp)
