"""Partner teams (issue 11): the link between two teams, and the invitations that make it.

A partnership is an entry in both teams' ``partners`` maps, written in one transaction (as a
membership is written to the team and the person). Those maps are written whole, on condition
of ``partners_version``: teams made before partners existed have no map to set an entry in,
and a whole-map write with a version also keeps the count under MAX_PARTNERS when two
invitations are accepted at the same moment.

An invitation reuses the team invitations' machinery: a single-use SignInToken (purpose
"partner", naming the inviting team and the invited address) whose hash is also the sort key
of a PartnerInvite in the inviting team's partition, where its admins see and withdraw it.
"""

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from app.store import (
    Conflict,
    NotFound,
    StoreError,
    conditional_failure,
    connection,
    keys,
    lost_conditions_raise,
    people,
    sharing,
    teams,
)
from app.store.models import PartnerInvite, Person, SignInToken, Team

# Partners and pending partner invitations of one team: a small number keeps the team item
# (read by every page) small, and is far more than a small team works with.
MAX_PARTNERS = 20
INVITE_VALID_FOR = timedelta(days=14)
# Each side picks the first colour its other partners do not use (cadenza.css: white text on
# each is at least 4.5:1).
COLOURS = ("blue", "green", "purple", "crimson", "teal", "brown", "olive", "indigo")


class AlreadyPartners(Conflict):
    """The two teams are partners already."""


class SameTeam(StoreError):
    """A team cannot be its own partner."""


class Full(StoreError):
    """A team has as many partners (and pending invitations) as it can have."""


def invite(inviting: Team, *, address: str, invited_by: str, now: datetime) -> str:
    """Store an invitation (whoever the address belongs to: no one learns that) and its
    single-use token; return the raw token."""
    taken = len(inviting.partner_entries()) + len(pending_invites(inviting.team_id, now))
    if taken >= MAX_PARTNERS:
        raise Full(inviting.team_id)
    return teams.store_invitation(
        PartnerInvite,
        inviting.team_id,
        address=address,
        purpose="partner",
        invited_by=invited_by,
        now=now,
        valid_for=INVITE_VALID_FOR,
    )


def pending_invites(team_id: str, now: datetime) -> list[PartnerInvite]:
    return teams.pending_invites(team_id, now, PartnerInvite)


def withdraw(team_id: str, token_hash: str) -> None:
    teams.revoke_invite(team_id, token_hash, PartnerInvite)


def admin_teams(someone: Person) -> list[dict]:
    """The teams this person could answer an invitation for: those they are an admin of."""
    return [entry for entry in someone.team_list() if entry["role"] == "admin"]


def accept(token: SignInToken, chosen: Team, someone: Person, now: datetime) -> Team:
    """Make ``chosen`` (a team ``someone`` is an admin of) the partner of the team that sent
    the invitation: both maps, the token used and the invitation gone, in one transaction.

    Raises NotFound if the inviting team or the invitation is gone (or the token was used
    meanwhile: two tabs accepting make one partnership), SameTeam, AlreadyPartners, Full, and
    Conflict if either team's partners changed meanwhile (accepting again works).
    """
    inviting = teams.team(token.team_id)
    if inviting is None:
        raise NotFound("team")
    if inviting.team_id == chosen.team_id:
        raise SameTeam(chosen.team_id)
    if chosen.team_id in inviting.partner_entries():
        raise AlreadyPartners(chosen.team_id)
    chosen_taken = len(chosen.partner_entries()) + len(pending_invites(chosen.team_id, now))
    # The inviting team counted this invitation when it sent it: it becomes the partner.
    if len(inviting.partner_entries()) >= MAX_PARTNERS or chosen_taken >= MAX_PARTNERS:
        raise Full(chosen.team_id)
    token_hash = token.pk.removeprefix("TOKEN#")
    since = keys.instant(now)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.update(
                token,
                actions=[SignInToken.used_at.set(now)],
                condition=people.redeem_condition(now) & (SignInToken.purpose == "partner"),
            )
            transaction.delete(PartnerInvite(*PartnerInvite.key(inviting.team_id, token_hash)))
            _write_partners(
                transaction,
                inviting,
                {**inviting.partner_entries(), chosen.team_id: _entry(chosen, inviting, since)},
            )
            _write_partners(
                transaction,
                chosen,
                {**chosen.partner_entries(), inviting.team_id: _entry(inviting, chosen, since)},
                also=Team.members[someone.person_id]["role"] == "admin",
            )
    except TransactWriteError as error:
        if not conditional_failure(error):
            raise
        if not _usable(token_hash, now):
            raise NotFound("invite") from error
        raise Conflict("partners changed meanwhile") from error
    return inviting


def _usable(token_hash: str, now: datetime) -> bool:
    try:
        found = SignInToken.get(*SignInToken.key(token_hash), consistent_read=True)
    except SignInToken.DoesNotExist:
        return False
    return people.usable(found, now)


def decline(token: SignInToken, now: datetime) -> None:
    """Use the invitation up without a partnership."""
    token_hash = token.pk.removeprefix("TOKEN#")
    with (
        lost_conditions_raise(NotFound("invite")),
        TransactWrite(connection=connection()) as transaction,
    ):
        transaction.update(
            token,
            actions=[SignInToken.used_at.set(now)],
            condition=people.redeem_condition(now) & (SignInToken.purpose == "partner"),
        )
        transaction.delete(PartnerInvite(*PartnerInvite.key(token.team_id, token_hash)))


def end(team: Team, partner_id: str, now: datetime) -> bool:
    """End a partnership from either side: both entries go in one transaction, with a pending
    marker that the posts and events each side shared with the other are still to be
    unshared; then this request unshares them (``sharing.finish_unsharing``). The partner
    maps hide them from the calendars at once, but feeds and My posts list mirrors by owner:
    should the request fail or run out of time, the nudge job finishes the unsharing from the
    marker, so it is never left half-done. False if the teams were not partners (any more)."""
    mine = team.partner_entries()
    if partner_id not in mine:
        return False  # ended by the other side, or by this request before: its marker waits
    other = teams.team(partner_id)
    marker = sharing.unsharing_marker(team.team_id, partner_id, now)
    with (
        lost_conditions_raise(Conflict("partners changed meanwhile")),
        TransactWrite(connection=connection()) as transaction,
    ):
        _write_partners(transaction, team, _without(mine, partner_id))
        if other is not None and team.team_id in other.partner_entries():
            _write_partners(transaction, other, _without(other.partner_entries(), team.team_id))
        transaction.save(marker)
    sharing.finish_unsharing(marker)
    return True


def _without(entries: dict, team_id: str) -> dict:
    return {key: value for key, value in entries.items() if key != team_id}


def _entry(partner: Team, seen_by: Team, since: str) -> dict:
    """``partner`` as ``seen_by``'s map holds it: its name, and a colour of ``seen_by``'s."""
    used = {entry.get("colour") for entry in seen_by.partner_entries().values()}
    free = [colour for colour in COLOURS if colour not in used] or list(COLOURS)
    return {"name": partner.name, "colour": free[0], "since": since}


def _write_partners(transaction: TransactWrite, team: Team, entries: dict, also=None) -> None:
    """Set a team's whole partners map, if no one changed it since ``team`` was read."""
    if team.partners_version is None:
        unchanged = Team.pk.exists() & Team.partners_version.does_not_exist()
    else:
        unchanged = Team.partners_version == team.partners_version
    transaction.update(
        Team(*Team.key(team.team_id)),
        actions=[
            Team.partners.set(entries),
            Team.partners_version.set(int(team.partners_version or 0) + 1),
        ],
        condition=unchanged & also if also is not None else unchanged,
    )
