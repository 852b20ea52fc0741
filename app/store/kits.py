"""Share kits (issue 12): a kit, its offers to people, taking and passing, and its reminders.

A kit is written with two reminders of its own in one transaction: the half-window nudge
(``kit-half``) and a marker that its offers are still to write (``kit-offers``, 5 minutes on).
The request then writes the offers, one transaction per person (the offer, conditional on
not existing, and the note that emails it), and deletes the marker; a request that dies
half-way leaves the marker, and the nudge job writes the rest. An offer is written once, so
each person is told once, however often offering runs.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from app.store import Conflict, conditional_failure, connection, keys, lost_conditions_raise
from app.store import people as people_store
from app.store.models import (
    KIT_PREFIX,
    Kit,
    KitOffer,
    Member,
    Post,
    PostBody,
    Reminder,
    Team,
)
from app.store.notifications import NoteWrites
from app.store.reminders import pending

MAX_TITLE, MAX_STORY, MAX_FACTS, MAX_SUGGESTION, MAX_HASHTAGS = 200, 2000, 2000, 3000, 500
MAX_REASON = 500
MAX_WINDOW_DAYS = 92
OFFERING_GRACE = timedelta(minutes=5)  # the job finishes offers a request left unwritten
HALF_KIND, OFFERS_KIND = "kit-half", "kit-offers"
JOB_KINDS = (HALF_KIND, OFFERS_KIND)
LISTED_AFTER_END = timedelta(days=30)  # a "To share" list shows kits this long after them
BATCH_KEYS = 100
EDITING_ROLES = ("admin", "editor")  # who can take a kit: they own posts


class KitConflict(Conflict):
    """The kit or the offer changed meanwhile (another tab, another person), or is gone."""


@dataclass(frozen=True)
class Offered:
    """Someone a kit is offered to: their member entry in the team they take it in."""

    member: Member
    team: Team


def new_kit(team: Team, kit_id: str, *, created_by: Member, now: datetime, **fields) -> Kit:
    kit = Kit(
        *Kit.key(team.team_id, kit_id),
        team_id=team.team_id,
        kit_id=kit_id,
        created_by=created_by.person_id,
        created_by_name=created_by.name,
        created_at=now,
        updated_at=now,
        **fields,
    )
    kit.place()
    return kit


def half_way(kit: Kit) -> datetime:
    """When the people who have not decided are nudged: half-way through what is left of
    the window once the kit is offered (a kit offered late in its window waits less)."""
    opens = max(kit.starts, kit.created_at)
    return opens + (kit.ends - opens) / 2


def _reminder_key(team_id: str, kit_id: str, kind: str) -> tuple[str, str]:
    return Reminder.key(team_id, f"kit-{kit_id}", "half" if kind == HALF_KIND else "offers")


def _reminder(kit: Kit, kind: str, due: datetime) -> Reminder:
    return pending(
        Reminder(
            *_reminder_key(kit.team_id, kit.kit_id, kind),
            team_id=kit.team_id,
            post_id=kit.kit_id,
            kind=kind,
            due=due,
        )
    )


def save(kit: Kit, now: datetime, *, new: bool) -> None:
    """Write the kit (a new one: on condition it does not exist; else on its version), its
    half-window nudge as its window now says, and the marker that its offers are still to
    write: one transaction. KitConflict if the condition does not hold."""
    kit.updated_at = now
    kit.place()
    with (
        lost_conditions_raise(KitConflict("the kit changed meanwhile")),
        TransactWrite(connection=connection()) as transaction,
    ):
        transaction.save(kit, condition=Kit.pk.does_not_exist() if new else None)
        transaction.save(_reminder(kit, HALF_KIND, max(half_way(kit), now)))
        transaction.save(_reminder(kit, OFFERS_KIND, now + OFFERING_GRACE))


def delete(kit: Kit) -> None:
    """Delete a kit, on its version, so a kit changed meanwhile is not deleted (KitConflict);
    ``finish_deleting`` then removes what goes with it."""
    with lost_conditions_raise(KitConflict("the kit changed meanwhile")):
        kit.delete(condition=Kit.version == kit.version)


def finish_deleting(team_id: str, kit_id: str, offers: list[KitOffer]) -> bool:
    """What goes with a deleted kit: its reminders, then the offers nobody took (the posts
    taken from it stay their owners', as do their offers, which then say what they took),
    last, so that while one is left, deleting the kit again (its offers found without it)
    finishes. False if an offer refused to go and is still there untaken."""
    for kind in JOB_KINDS:
        Reminder(*_reminder_key(team_id, kit_id, kind)).delete()
    kept = {o.person_id for o in offers if o.state != "taken" and not withdraw(o)}
    if not kept:
        return True
    _kit, left = with_offers(team_id, kit_id)  # those kept should be taken meanwhile
    return not any(o.person_id in kept and o.state != "taken" for o in left)


def kit(team_id: str, kit_id: str) -> Kit | None:
    try:
        return Kit.get(*Kit.key(team_id, kit_id), consistent_read=True)
    except Kit.DoesNotExist:
        return None


def of_team(team_id: str, since: datetime) -> list[Kit]:
    """The team's kits whose window ends after ``since``, the latest ending first: one Query
    of ``by_owner``."""
    return list(
        Kit.by_owner.query(
            f"KITS#{team_id}", Kit.owner_sk >= keys.instant(since), scan_index_forward=False
        )
    )


def with_offers(team_id: str, kit_id: str) -> tuple[Kit | None, list[KitOffer]]:
    """A kit and every offer of it: one strongly consistent Query (the kit sorts first)."""
    query = Kit.query(
        keys.team(team_id),
        Kit.sk.startswith(f"{KIT_PREFIX}{kit_id}"),
        consistent_read=True,
    )
    # The Query returns two models: the kit, then its offers (``KIT#<kit>#<person>``).
    query._map_fn = _kit_or_offer
    found, offers = None, []
    for item in query:
        if isinstance(item, Kit):
            found = item
        elif item.kit_id == kit_id:
            offers.append(item)
    return found, offers


def _kit_or_offer(raw: dict) -> Kit | KitOffer:
    return (KitOffer if raw["sk"]["S"].count("#") == 2 else Kit).from_raw_data(raw)


def offer_and_kit(team_id: str, kit_id: str, person_id: str) -> tuple[Kit | None, KitOffer | None]:
    """A kit and its offer to one person: one strongly consistent BatchGetItem."""
    wanted = [Kit.key(team_id, kit_id), KitOffer.key(team_id, kit_id, person_id)]
    found = [_kit_or_offer(raw) for raw in people_store.batch_get({Kit.Meta.table_name: wanted})]
    kits = [item for item in found if isinstance(item, Kit)]
    offers = [item for item in found if isinstance(item, KitOffer)]
    return (kits[0] if kits else None), (offers[0] if offers else None)


def offers_to(person_id: str, kit_keys: Iterable[tuple[str, str]]) -> dict[tuple, KitOffer]:
    """A person's offers of these kits (``(kit team, kit id)`` pairs), by pair: BatchGetItem,
    100 keys a call (a withdrawn offer is missing)."""
    wanted = [KitOffer.key(team_id, kit_id, person_id) for team_id, kit_id in set(kit_keys)]
    found = {}
    for start in range(0, len(wanted), BATCH_KEYS):
        batch = {KitOffer.Meta.table_name: wanted[start : start + BATCH_KEYS]}
        for raw in people_store.batch_get(batch):
            offered = KitOffer.from_raw_data(raw)
            found[(offered.kit_team_id, offered.kit_id)] = offered
    return found


def to_share(person_id: str, now: datetime) -> list[KitOffer]:
    """The kits offered to a person whose window ended at most a month ago, soonest ending
    first: one Query of ``by_owner`` (eventually consistent)."""
    return list(
        KitOffer.by_owner.query(
            f"TOSHARE#{person_id}", KitOffer.owner_sk >= keys.instant(now - LISTED_AFTER_END)
        )
    )


def taken_posts(offers: Iterable[KitOffer]) -> dict[str, tuple[Post, PostBody | None]]:
    """The posts these offers were taken as, with their bodies, by person: BatchGetItem, 100
    keys a call (50 people). A post deleted since is missing."""
    wanted = []
    for offer in offers:
        if offer.state == "taken" and offer.post_id:
            wanted += [
                Post.key(offer.team_id, offer.post_id),
                PostBody.key(offer.team_id, offer.post_id),
            ]
    found: dict[tuple[str, str], Post | PostBody] = {}  # by (pk, sk), as read
    for start in range(0, len(wanted), BATCH_KEYS):
        batch = wanted[start : start + BATCH_KEYS]
        for raw in people_store.batch_get({Post.Meta.table_name: batch}):
            model = PostBody if raw["sk"]["S"].startswith("BODY#") else Post
            found[(raw["pk"]["S"], raw["sk"]["S"])] = model.from_raw_data(raw)
    posts = {}
    for offer in offers:
        if offer.post_id and (post := found.get(Post.key(offer.team_id, offer.post_id))):
            posts[offer.person_id] = post, found.get(PostBody.key(offer.team_id, offer.post_id))
    return posts


# Offering ---------------------------------------------------------------------------------


def new_offer(kit: Kit, offered: Offered, team_name: str, now: datetime) -> KitOffer:
    offer = KitOffer(
        *KitOffer.key(kit.team_id, kit.kit_id, offered.member.person_id),
        kit_team_id=kit.team_id,
        kit_id=kit.kit_id,
        person_id=offered.member.person_id,
        name=offered.member.name,
        team_id=offered.team.team_id,
        team_name=team_name,
        title=kit.title,
        starts=kit.starts,
        ends=kit.ends,
        offered_at=now,
    )
    offer.place()
    return offer


def offer(offer: KitOffer, notes: NoteWrites) -> bool:
    """Write a new offer with the note that tells its person: one transaction, on condition
    it does not exist yet (False then: they were told already)."""
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(offer, condition=KitOffer.pk.does_not_exist())
            notes.add_to(transaction)
    except PynamoDBException as error:
        if conditional_failure(error):
            return False
        raise
    return True


def copy_kit(offer: KitOffer, kit: Kit, team_name: str) -> None:
    """Bring an offer's copies of the kit (title, window, team name) up to date."""
    offer.update(
        actions=[
            KitOffer.title.set(kit.title),
            KitOffer.starts.set(kit.starts),
            KitOffer.ends.set(kit.ends),
            KitOffer.team_name.set(team_name),
            KitOffer.owner_sk.set(f"{keys.instant(kit.ends)}#{kit.team_id}#{kit.kit_id}"),
        ],
        condition=KitOffer.pk.exists(),
    )


def withdraw(offer: KitOffer) -> bool:
    """Delete an offer nobody took (the person is no longer offered it): False if it was
    taken meanwhile, which keeps it."""
    try:
        offer.delete(condition=KitOffer.state != "taken")
    except PynamoDBException as error:
        if conditional_failure(error):
            return False
        raise
    return True


def withdraw_partner_offers(team_id: str, partner_id: str) -> int:
    """A partnership ended: the offers of ``team_id``'s kits to ``partner_id``'s people that
    nobody took go (one Query of the team's kits, one of each kit offered to that partner).
    Returns how many went."""
    count = 0
    for found in Kit.by_owner.query(f"KITS#{team_id}"):
        if partner_id not in (found.partners or ()):
            continue
        _kit, offers = with_offers(team_id, found.kit_id)
        for offered in offers:
            if offered.team_id == partner_id and offered.state != "taken":
                count += withdraw(offered)
    return count


def offers_written(kit: Kit) -> None:
    """Offering finished: its marker goes."""
    _reminder(kit, OFFERS_KIND, kit.ends).delete()


# Deciding ---------------------------------------------------------------------------------


class OfferTaken:
    """The offer's part of the transaction that writes the post taken from it: marked taken,
    on condition it is still there and not taken already."""

    def __init__(self, offer: KitOffer, post_id: str, now: datetime):
        self.offer, self.post_id, self.now = offer, post_id, now

    def __bool__(self) -> bool:
        return True

    def add_to(self, transaction: TransactWrite) -> None:
        transaction.update(
            KitOffer(self.offer.pk, self.offer.sk),
            actions=[
                KitOffer.state.set("taken"),
                KitOffer.post_id.set(self.post_id),
                KitOffer.decided_at.set(self.now),
                KitOffer.reason.set(""),
            ],
            condition=KitOffer.pk.exists() & (KitOffer.state != "taken"),
        )


def taken_post_id(kit_id: str, person_id: str) -> str:
    """The id of the post a person takes a kit as: one per kit and person, so taking it in
    two tabs at once writes one post (the second finds it there)."""
    return f"kit-{kit_id}-{person_id}"


def pass_on(offer: KitOffer, reason: str, now: datetime) -> None:
    """The person passes (or changes why): while they have not taken it."""
    with lost_conditions_raise(KitConflict("taken meanwhile")):
        offer.update(
            actions=[
                KitOffer.state.set("passed"),
                KitOffer.reason.set(reason),
                KitOffer.decided_at.set(now),
            ],
            condition=KitOffer.pk.exists() & (KitOffer.state != "taken"),
        )


def undo_pass(offer: KitOffer) -> None:
    """Passing undone: offered again, as it was."""
    with lost_conditions_raise(KitConflict("not passed any more")):
        offer.update(
            actions=[
                KitOffer.state.set("offered"),
                KitOffer.reason.set(""),
                KitOffer.decided_at.remove(),
            ],
            condition=KitOffer.state == "passed",
        )


def nudge(offer: KitOffer, notes: NoteWrites, now: datetime) -> bool:
    """Record the half-window nudge of one undecided person with its note: once (on
    condition they still have not decided and were never nudged); False otherwise."""
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.update(
                KitOffer(offer.pk, offer.sk),
                actions=[KitOffer.nudged_at.set(now)],
                condition=(KitOffer.state == "offered") & KitOffer.nudged_at.does_not_exist(),
            )
            notes.add_to(transaction)
    except PynamoDBException as error:
        if conditional_failure(error):
            return False
        raise
    return True
