"""Share kits: the team's kits, a new kit, its status page and its edit form; a person's "To
share" list, a kit's page for them (take it, pass, undo the pass), and the same page behind
the signed link of their email."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth import RANKS, link_page, login_required, speaking, team_member
from app.errors import error_page
from app.forms import posted
from app.kits import offering
from app.kits.forms import KitForm, PassForm, TakeForm, stored_fields
from app.nudges import tokens
from app.nudges.views import STORAGE_ERRORS, link_problem
from app.planner import changes
from app.planner.periods import local_instant
from app.profiles.forms import network_labels
from app.store import keys, kits, people, profiles, teams
from app.store.models import Kit, KitOffer, Member, Person, Post, PostBody, Team
from app.store.posts import PostConflict, new_post
from app.web import go, now, render

bp = Blueprint("kits", __name__)

LISTED_FOR = timedelta(days=365)  # the team's kits page: kits whose window ended this recently


# The team's kits ---------------------------------------------------------------------------


def network_names() -> dict:
    """How a kit's suggestions are headed: each network's name, "any" for the general one."""
    return {"any": _("Any network"), **network_labels()}


def _can_edit() -> bool:
    return RANKS[g.role] >= RANKS["editor"]


@bp.get("/t/<team_id>/kits")
@team_member()
def index(team_id: str):
    moment = now()
    found = kits.of_team(team_id, moment - LISTED_FOR)
    return render(
        "kits/index.html",
        team=g.team,
        current=[kit for kit in found if kit.ends > moment][::-1],
        ended=[kit for kit in found if kit.ends <= moment],
        can_edit=_can_edit(),
    )


def _team_today():
    """Today in the team's zone, which a kit's window is in."""
    return now().astimezone(ZoneInfo(g.team.zone)).date()


def _form(formdata=None, **values) -> KitForm:
    return KitForm(
        formdata,
        members=g.team.member_list(),
        partners=g.team.partner_entries(),
        zone=g.team.zone,
        today=_team_today(),
        **values,
    )


@bp.get("/t/<team_id>/kits/new")
@team_member("editor")
def new(team_id: str):
    first = _team_today()
    form = _form(
        kit_id=keys.new_id(),
        first_day=first.isoformat(),
        last_day=(first + timedelta(days=6)).isoformat(),
    )
    return render("kits/new.html", team=g.team, form=form)


@bp.post("/t/<team_id>/kits")
@team_member("editor")
def create(team_id: str):
    form = _form(request.form)
    if not form.validate():
        return render("kits/new.html", status=422, team=g.team, form=form)
    moment = now()
    kit = kits.new_kit(
        g.team,
        form.kit_id.data,
        created_by=g.team.member(g.person.person_id),
        now=moment,
        zone=g.team.zone,
        **form.fields(),
    )
    try:
        kits.save(kit, moment, new=True)
    except kits.KitConflict:
        # The same form sent again (its answer lost, or a fault before every offer was
        # written): the kit is there; offering again tells only those not told yet.
        stored = kits.kit(team_id, kit.kit_id)
        if stored is None or stored.created_by != kit.created_by or stored.title != kit.title:
            return error_page(409, _("This page is out of date: reload it."))
        kit = stored
    offering.bring_in_line(kit, moment, g.team)
    flash(_("The kit is saved and offered. Everyone it is offered to gets an email."), "success")
    return go(url_for("kits.show", team_id=team_id, kit_id=kit.kit_id))


def _loaded(team_id: str, kit_id: str) -> tuple[Kit, list[KitOffer]]:
    kit, offers = kits.with_offers(team_id, kit_id)
    if kit is None:
        abort(404)
    return kit, offers


@dataclass
class Row:
    """One person on a kit's status page."""

    offer: KitOffer
    post: Post | None
    body: PostBody | None

    @property
    def state(self) -> str:
        """offered, passed, taken (their post not published yet), posted, or gone (taken, and
        the post deleted since)."""
        if self.offer.state != "taken":
            return self.offer.state
        if self.post is None or self.post.deleted_at is not None:
            return "gone"
        return "posted" if self.post.status == "published" else "taken"

    @property
    def late(self) -> bool:
        """Posted after the kit's window closed (a post with no recorded time is not late)."""
        published = self.post.published_at if self.post is not None else None
        return published is not None and published >= self.offer.ends

    @property
    def link(self) -> str:
        return (self.body.published_url if self.body is not None else None) or ""


STATE_ORDER = {"posted": 0, "taken": 1, "gone": 2, "offered": 3, "passed": 4}


def _rows(offers: list[KitOffer]) -> list[Row]:
    """Each person offered the kit, with their post: no ranking, grouped by where they are,
    then by name."""
    taken = kits.taken_posts(offers)
    rows = [Row(offer, *taken.get(offer.person_id, (None, None))) for offer in offers]
    return sorted(rows, key=lambda row: (STATE_ORDER[row.state], row.offer.name.casefold()))


@bp.get("/t/<team_id>/kits/<kit_id>")
@team_member()
def show(team_id: str, kit_id: str):
    kit, offers = _loaded(team_id, kit_id)
    # Someone who left the team (or only views it now) without taking it is no longer
    # someone it waits for.
    gone = {
        o.person_id
        for o in offers
        if o.team_id == team_id and not _owns_posts(g.team.member(o.person_id))
    }
    for offer in offers:  # each member by their name now (the offer copied it then)
        member = g.team.member(offer.person_id) if offer.team_id == team_id else None
        offer.name = member.name if member is not None else offer.name
    rows = _rows(
        [offer for offer in offers if offer.state == "taken" or offer.person_id not in gone]
    )
    counts = {state: sum(row.state == state for row in rows) for state in STATE_ORDER}
    return render(
        "kits/show.html",
        team=g.team,
        kit=kit,
        rows=rows,
        counts=counts,
        can_edit=_can_edit(),
        network_names=network_names(),
        partner_names={tid: e["name"] for tid, e in g.team.partner_entries().items()},
    )


@bp.route("/t/<team_id>/kits/<kit_id>/edit", methods=["GET", "POST"])
@team_member("editor")
def edit(team_id: str, kit_id: str):
    kit = kits.kit(team_id, kit_id)
    if kit is None:
        abort(404)
    if request.method == "GET":
        return render("kits/edit.html", team=g.team, kit=kit, form=_form_for(kit))
    form = _form(posted())
    if not form.validate():
        return render("kits/edit.html", status=422, team=g.team, kit=kit, form=form)
    if form.kit_id.data != kit.kit_id:
        abort(404)
    chosen = form.fields()
    stale = form.version.data != str(kit.version)
    if stale and chosen == stored_fields(kit):
        # The kit says this already: the same form sent again after a fault stopped it
        # part-way (or another tab saved the same): the offers are brought in line.
        offering.bring_in_line(kit, now(), g.team)
    elif stale:
        return _changed_meanwhile()
    elif chosen != stored_fields(kit):  # saved unchanged: nothing to write, nobody told again
        moment = now()
        for name, value in chosen.items():
            setattr(kit, name, value)
        try:
            kits.save(kit, moment, new=False)
        except kits.KitConflict:
            return _changed_meanwhile()
        offering.bring_in_line(kit, moment, g.team)
        flash(_("The kit is saved."), "success")
    return go(url_for("kits.show", team_id=team_id, kit_id=kit_id))


def _changed_meanwhile():
    message = _("Someone changed this kit after you opened it: reload it to see theirs.")
    return error_page(409, message)


def _form_for(kit: Kit) -> KitForm:
    return KitForm.for_kit(
        kit,
        members=g.team.member_list(),
        partners=g.team.partner_entries(),
        today=_team_today(),
    )


@bp.post("/t/<team_id>/kits/<kit_id>/delete")
@team_member("editor")
def delete(team_id: str, kit_id: str):
    kit, offers = kits.with_offers(team_id, kit_id)
    if kit is None and not any(offer.state != "taken" for offer in offers):
        abort(404)
    if kit is not None and request.form.get("version") != str(kit.version):
        return _changed_meanwhile()
    try:
        if kit is not None:  # (else deleted by a request stopped part-way: this finishes)
            kits.delete(kit)
    except kits.KitConflict:
        # Still there: changed meanwhile. Gone: the answer to deleting it was lost (or another
        # tab deleted it), and what goes with it is still to remove.
        if kits.kit(team_id, kit_id) is not None:
            return _changed_meanwhile()
    if not kits.finish_deleting(team_id, kit_id, offers):
        message = _("The kit is deleted, but it is still offered to someone: delete it again.")
        return error_page(409, message)
    flash(_("The kit is deleted. The posts people took from it stay theirs."), "success")
    return go(url_for("kits.index", team_id=team_id))


# A person's kits ---------------------------------------------------------------------------


@bp.get("/me/to-share")
@login_required
def to_share():
    moment = now()
    mine = g.person.team_entries()
    # Kits offered in a team the person has left, or now only views, are no longer theirs to
    # see (what they took stays listed).
    offers = [
        offer
        for offer in kits.to_share(g.person.person_id, moment)
        if offer.team_id in mine
        and (offer.state == "taken" or mine[offer.team_id]["role"] in kits.EDITING_ROLES)
    ]
    for offer in offers:  # their own teams by the name their person item holds now
        offer.team_name = mine.get(offer.kit_team_id, {}).get("name", offer.team_name)
    return render(
        "kits/to_share.html",
        open_offers=[o for o in offers if o.state == "offered" and o.ends > moment],
        decided=[o for o in offers if o.state != "offered" and o.ends > moment],
        ended=[o for o in offers if o.ends <= moment][::-1],
    )


def _offered(team_id: str, origin_id: str, kit_id: str, person: Person, team: Team):
    """The kit offered to ``person`` in ``team`` and its offer; None unless it is offered to
    them there (and, for a partner's kit, the teams are still partners)."""
    if origin_id != team_id and origin_id not in team.partner_entries():
        return None
    kit, offer = kits.offer_and_kit(origin_id, kit_id, person.person_id)
    if kit is None or offer is None or offer.team_id != team_id:
        return None
    if offer.state != "taken" and not _owns_posts(team.member(person.person_id)):
        return None  # a viewer now: a kit is posted as one's own post
    # The offer copied the kit's team's name; the team item says it as it is now.
    names = {team.team_id: team.name, **{t: e["name"] for t, e in team.partner_entries().items()}}
    offer.team_name = names[origin_id]
    return kit, offer


def _owns_posts(member: Member | None) -> bool:
    """Whether a member can own posts (an editor or admin): who a kit is offered to."""
    return member is not None and member.role in kits.EDITING_ROLES


def _take_form(kit: Kit, person: Person, formdata=None) -> TakeForm:
    zone = ZoneInfo(person.zone)
    moment = now()
    day = max(moment.astimezone(zone).date(), kit.starts.astimezone(zone).date())
    if local_instant(day, time(10), zone) <= moment:
        day += timedelta(days=1)
    return TakeForm(
        formdata,
        profiles=profiles.profiles_of(person),
        kit=kit,
        zone=person.zone,
        now=moment,
        day=day.isoformat(),
        at="10:00",
    )


def _offer_page(kit, offer, person, *, take=None, passing=None, status=200, signed=None):
    """The kit as the person it is offered to sees it, with what they can do about it."""
    context = {
        "kit": kit,
        "network_names": network_names(),
        "offer": offer,
        "take": take or _take_form(kit, person),
        "passing": passing or PassForm(reason=offer.reason),
        "zone": person.zone,
        "signed": signed,
        "open": offer.state != "taken" and kit.ends > now(),
        "post_link": (
            url_for("planner.show", team_id=offer.team_id, post_id=offer.post_id)
            if offer.post_id
            else ""
        ),
    }
    if signed is not None:
        return link_page(person.language, "kits/offer.html", status, **context)
    return render("kits/offer.html", status=status, team=g.team, **context)


def _mine(team_id: str, origin_id: str, kit_id: str):
    found = _offered(team_id, origin_id, kit_id, g.person, g.team)
    if found is None:
        abort(404)
    return found


@bp.get("/t/<team_id>/to-share/<origin_id>/<kit_id>")
@team_member()
def offer(team_id: str, origin_id: str, kit_id: str):
    kit, offered = _mine(team_id, origin_id, kit_id)
    return _offer_page(kit, offered, g.person)


def _take(kit: Kit, offered: KitOffer, person: Person, team: Team, form: TakeForm) -> str | None:
    """Write the person's post taken from the kit; the refusal's message if it cannot be."""
    if offered.state == "taken":
        return _("You took this kit already.")
    if kit.ends <= now():
        return _("The kit's window has closed.")
    profile = profiles.profile_of(person, form.profile.data)
    moment = now()
    post_id = kits.taken_post_id(kit.kit_id, person.person_id)
    post = new_post(
        team.team_id,
        post_id=post_id,
        title=kit.title,
        zone=person.zone,
        created_by=person.person_id,
        now=moment,
        due=form.due,
        owner_id=person.person_id,
        status="draft",
        profiles=[profiles.copy_of(person.person_id, profile)],
    )
    post.kit_team_id, post.kit_id = kit.team_id, kit.kit_id
    suggestion = kit.suggestion_for(profile.network)
    copy = "\n\n".join(part for part in (suggestion, kit.hashtags) if part)
    notes = "\n\n".join(part for part in (kit.story, kit.facts) if part)
    try:
        changes.take_kit(
            post,
            team,
            moment,
            kits.OfferTaken(offered, post_id, moment),
            copy=copy,
            notes=notes,
            seed=copy,
        )
    except PostConflict:  # taken meanwhile (another tab), withdrawn, or a write in the way
        return _("You took this kit already, or it changed meanwhile: reload the page.")
    except changes.Refused as refused:
        return str(refused.message)
    return None


@bp.post("/t/<team_id>/to-share/<origin_id>/<kit_id>/take")
@team_member("editor")
def take(team_id: str, origin_id: str, kit_id: str):
    kit, offered = _mine(team_id, origin_id, kit_id)
    form = _take_form(kit, g.person, request.form)
    if not form.validate():
        return _offer_page(kit, offered, g.person, take=form, status=422)
    refused = _take(kit, offered, g.person, g.team, form)
    if refused is not None and offered.state != "taken":
        return error_page(409, refused)
    if refused is not None:  # taken already, as the page says once it is read again
        flash(refused, "error")
        return go(url_for("kits.offer", team_id=team_id, origin_id=origin_id, kit_id=kit_id))
    flash(_("It is yours: say it your way. Cadenza nudges you before it is due."), "success")
    post_id = kits.taken_post_id(kit.kit_id, g.person.person_id)
    return go(url_for("planner.show", team_id=team_id, post_id=post_id))


@bp.post("/t/<team_id>/to-share/<origin_id>/<kit_id>/pass")
@team_member()
def pass_on(team_id: str, origin_id: str, kit_id: str):
    kit, offered = _mine(team_id, origin_id, kit_id)
    form = PassForm(request.form)
    if not form.validate():
        return _offer_page(kit, offered, g.person, passing=form, status=422)
    refused = _passed(offered, form.reason.data or "", now())
    if refused is not None:
        return error_page(409, refused)
    flash(_("You passed on this kit. You can change your mind while it is open."), "success")
    return go(url_for("kits.offer", team_id=team_id, origin_id=origin_id, kit_id=kit_id))


def _passed(offered: KitOffer, reason: str, moment: datetime) -> str | None:
    """Pass on the kit; the refusal's message if it cannot be (taken meanwhile, or no longer
    offered)."""
    try:
        kits.pass_on(offered, reason, moment)
    except kits.KitConflict:
        return _("You took this kit already, or it is no longer offered to you.")
    return None


@bp.post("/t/<team_id>/to-share/<origin_id>/<kit_id>/undo-pass")
@team_member()
def undo_pass(team_id: str, origin_id: str, kit_id: str):
    _kit, offered = _mine(team_id, origin_id, kit_id)
    try:
        kits.undo_pass(offered)
    except kits.KitConflict:  # undone already (another tab), or taken
        return error_page(409, _("This kit is not passed any more: reload the page."))
    flash(_("The kit is offered to you again."), "success")
    return go(url_for("kits.offer", team_id=team_id, origin_id=origin_id, kit_id=kit_id))


# The signed link of a kit's email ----------------------------------------------------------


@bp.route("/n/kit/<token>", methods=["GET", "POST"])
def signed(token: str):
    """The kit offered, for the person the email went to, without signing in: take it or pass,
    once (the link is used up by either)."""
    moment = now()
    try:
        payload = tokens.read(token, moment)
    except tokens.ExpiredToken as expired:
        recipient = people.person(expired.payload["u"])
        return link_problem(410, _l("The kit's window has closed."), recipient)
    except tokens.BadToken:
        return link_problem(404, _l("This link is not valid. Was it copied completely?"))
    if payload["a"] != "kit":
        return link_problem(404, _l("This link is not valid. Was it copied completely?"))
    recipient = people.person(payload["u"])
    fingerprint = tokens.fingerprint(payload)
    if people.link_used(fingerprint):
        return link_problem(410, _l("This link was used already."), recipient)
    team = teams.team(payload["t"])
    member = team.member(recipient.person_id) if team and recipient else None
    found = _offered(payload["t"], payload["b"], payload["p"], recipient, team) if member else None
    if found is None:
        return link_problem(410, _l("This kit is no longer offered to you."), recipient)
    kit, offered = found
    # The token outlives the window as mailed (a window made longer keeps it working): the
    # kit's own end, as it is now, closes it.
    if kit.ends <= moment:
        return link_problem(410, _l("The kit's window has closed."), recipient)
    # The page's own words (the networks' names) are theirs too, not the browser's.
    with speaking(recipient.language):
        if request.method == "GET":
            return _offer_page(kit, offered, recipient, signed=token)
        return _signed_action(token, payload, fingerprint, kit, offered, recipient, team)


def _signed_action(token, payload, fingerprint, kit, offered, recipient, team):
    moment = now()
    action = request.form.get("action")
    take = _take_form(kit, recipient, request.form) if action == "take" else None
    passing = PassForm(request.form) if action == "pass" else None
    form = take or passing
    if form is None or not form.validate():
        return _offer_page(
            kit, offered, recipient, take=take, passing=passing, status=422, signed=token
        )
    # Remembered as long as the token lives, which is past the window as it is now.
    expires = datetime.fromtimestamp(payload["e"], tz=moment.tzinfo)
    if not people.use_link_once(fingerprint, moment, expires):
        return link_problem(410, _l("This link was used already."), recipient)
    try:
        # Who may take it was settled by ``_offered`` (an untaken offer: an editor or admin).
        if take is not None:
            refused = _take(kit, offered, recipient, team, take)
        else:
            refused = _passed(offered, passing.reason.data or "", moment)
    except STORAGE_ERRORS:
        # Not carried out: the link stays usable, for the person to try again as asked.
        people.forget_link(fingerprint)
        raise
    if refused is not None:
        people.forget_link(fingerprint)
        return link_problem(409, refused, recipient)
    if take is not None:
        message = _("It is yours: say it your way. Cadenza nudges you before it is due.")
    else:
        message = _("You passed on this kit. You can change your mind while it is open.")
    post_id = kits.taken_post_id(kit.kit_id, recipient.person_id)
    return link_page(
        recipient.language,
        "kits/done.html",
        message=message,
        kit=kit,
        post_link=url_for("planner.show", team_id=team.team_id, post_id=post_id) if take else "",
        offer_link=url_for(
            "kits.offer", team_id=team.team_id, origin_id=kit.team_id, kit_id=kit.kit_id
        ),
    )
