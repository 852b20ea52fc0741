"""Who a kit is offered to, and bringing its offers in line with that (the request that saves
the kit does it, and the nudge job finishes what a request left undone); the half-window
nudge to those who have not decided.

Both read what they need once: the kit's team (and the partner teams it is offered to) for
who is offered and each person's zone and quiet hours, and the kit with all its offers in one
Query. Each offer is then written once, with its note, so a person is told once.
"""

from datetime import datetime

from app.notifications import record
from app.store import kits, teams
from app.store.models import Kit, KitOffer, Team


def offered_people(kit: Kit, team: Team, partners: list[Team]) -> dict[str, kits.Offered]:
    """The people ``kit`` is offered to now: its team's editors and admins (everyone, or the
    chosen ones), then the editors and admins of the partner teams it is offered to (while
    they are partners). A person in both teams takes it in the kit's own."""
    chosen = set(kit.chosen or ()) if kit.audience == "chosen" else None
    found = {}
    for member in team.member_list():
        if member.role in kits.EDITING_ROLES and (chosen is None or member.person_id in chosen):
            found[member.person_id] = kits.Offered(member, team)
    for partner in partners:
        if partner.team_id not in team.partner_entries():
            continue
        for member in partner.member_list():
            if member.role in kits.EDITING_ROLES:
                found.setdefault(member.person_id, kits.Offered(member, partner))
    return found


def partner_teams(kit: Kit) -> list[Team]:
    """The partner teams ``kit`` is offered to, as stored now (one GetItem each: a kit is
    offered to a few)."""
    return [found for found in map(teams.team, kit.partners or ()) if found is not None]


def bring_in_line(kit: Kit, now: datetime, team: Team | None = None) -> None:
    """Offer ``kit`` to everyone it is offered to and not offered yet (each told once), keep
    the others' copies of it current, and withdraw it from those no longer offered it who
    have not taken it; then its offering marker goes, unless an offer was refused (written
    meanwhile by another request, or caught in a transaction conflict): the job's next run
    reads the offers again and finishes."""
    team = team or teams.team(kit.team_id)
    if team is None:
        return
    wanted = offered_people(kit, team, partner_teams(kit))
    _stored, offers = kits.with_offers(kit.team_id, kit.kit_id)
    existing = {offer.person_id: offer for offer in offers}
    refused = False
    for person_id, offered in wanted.items():
        current = existing.get(person_id)
        if current is None:
            offer = kits.new_offer(kit, offered, team.name, now)
            notes = record.for_kit(kit, offered.member, offered.team.team_id, "kit", now)
            refused |= not kits.offer(offer, notes)
        elif _copies(current) != (kit.title, kit.starts, kit.ends, team.name):
            kits.copy_kit(current, kit, team.name)
    for person_id, offer in existing.items():
        if person_id not in wanted and offer.state != "taken":
            kits.withdraw(offer)
    if not refused:
        kits.offers_written(kit)


def _copies(offer: KitOffer) -> tuple:
    return offer.title, offer.starts, offer.ends, offer.team_name


def nudge_undecided(kit: Kit, now: datetime) -> int:
    """Nudge, once, each person who neither took nor passed and was offered the kit before
    its half-way point (someone offered it since was told just now): one Query for the
    offers, the teams for their quiet hours, one transaction each. Returns how many."""
    _stored, offers = kits.with_offers(kit.team_id, kit.kit_id)
    halfway = kits.half_way(kit)
    undecided = [
        offer
        for offer in offers
        if offer.state == "offered" and offer.nudged_at is None and offer.offered_at <= halfway
    ]
    if not undecided or now >= kit.ends:
        return 0
    team = teams.team(kit.team_id)
    if team is None:
        return 0
    wanted = offered_people(kit, team, partner_teams(kit))
    count = 0
    for offer in undecided:
        offered = wanted.get(offer.person_id)
        if offered is None:  # no longer offered it (left the team, not chosen any more)
            continue
        notes = record.for_kit(kit, offered.member, offer.team_id, "kit-nudge", now)
        count += kits.nudge(offer, notes, now)
    return count
