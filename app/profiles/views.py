"""The person's own profiles, listed and edited on their profile page (/me)."""

from flask import Blueprint, abort, flash, g, url_for
from flask_babel import gettext as _

from app.auth import login_required
from app.errors import error_page
from app.forms import ProfileForm, posted
from app.profiles.forms import PersonalProfileForm, network_labels
from app.store import Conflict
from app.store import profiles as stored
from app.web import go, now, render

bp = Blueprint("profiles", __name__)

NEW = "new"  # the add form's prefix; each profile's form has "p<profile id>"


def page(someone, failed: PersonalProfileForm | None = None, failed_id: str = "") -> dict:
    """What the profile page shows of the person's profiles: a form per profile (the one that
    failed, with its messages), and the form that adds one."""
    forms = []
    for profile in stored.profiles_of(someone):
        form = failed if failed is not None and failed_id == profile.profile_id else None
        if form is None:
            shown = {"network": profile.network, "handle": profile.handle, "url": profile.url}
            form = PersonalProfileForm(None, prefix=_prefix(profile.profile_id), data=shown)
            form.rev.data = profile.rev
        forms.append((profile, form))
    new = failed if failed is not None and not failed_id else PersonalProfileForm(prefix=NEW)
    return {
        "profile_forms": forms,
        "new_profile": new,
        "profile_room": len(forms) < stored.MAX_PROFILES,
        "max_profiles": stored.MAX_PROFILES,
        "networks": network_labels(),
    }


def _prefix(profile_id: str) -> str:
    return f"p{profile_id}"


def _page(status: int, failed: PersonalProfileForm, failed_id: str = ""):
    return render(
        "auth/profile.html",
        "profiles",
        status,
        form=ProfileForm(obj=g.person),
        **page(g.person, failed, failed_id),
    )


def _back():
    return go(url_for("auth.profile") + "#profiles")


def _as_sent(profile_id: str) -> tuple[stored.Profile, PersonalProfileForm]:
    """One of the signed-in person's profiles (nobody else's is found: 404) and its form as
    sent; 409 if the form was read before the profile's last edit (in another tab)."""
    profile = stored.profile_of(g.person, profile_id)
    if profile is None:
        abort(404)
    form = PersonalProfileForm(posted(), prefix=_prefix(profile_id))
    if form.rev.data != profile.rev:
        abort(409)
    return profile, form


@bp.post("/me/profiles")
@login_required
def add():
    form = PersonalProfileForm(posted(), prefix=NEW)
    if not form.validate():
        return _page(422, form)
    try:
        stored.add(g.person, **form.values(), now=now())
    except stored.TooManyProfiles:
        form.form_errors.append(
            _(
                "You have %(count)d profiles, the most one person can have. Remove one first.",
                count=stored.MAX_PROFILES,
            )
        )
        return _page(422, form)
    except Conflict:
        return error_page(409)
    flash(_("Your profile is added."), "success")
    return _back()


@bp.post("/me/profiles/<profile_id>")
@login_required
def save(profile_id: str):
    profile, form = _as_sent(profile_id)
    if not form.validate():
        return _page(422, form, profile_id)
    if form.values() == {"network": profile.network, "handle": profile.handle, "url": profile.url}:
        return _back()  # saved unchanged: nothing to write
    try:
        stored.change(g.person, profile, **form.values())
    except Conflict:
        return error_page(409)
    flash(_("Your profile is saved."), "success")
    return _back()


@bp.post("/me/profiles/<profile_id>/remove")
@login_required
def remove(profile_id: str):
    profile, _form = _as_sent(profile_id)
    try:
        stored.remove(g.person, profile)
    except Conflict:
        return error_page(409)
    flash(_("The profile is removed."), "success")
    return _back()
