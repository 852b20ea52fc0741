"""Teams, memberships and invitations.

A membership is written twice, in one transaction: into the team's ``members`` map (who is in
the team, with which role) and the person's ``teams`` map (a person's teams). The team item
also counts its admins, so "a team keeps at least one admin" is a write condition.
"""

from datetime import datetime, timedelta

from pynamodb.transactions import TransactWrite

from app.store import (
    Conflict,
    NotFound,
    StoreError,
    connection,
    keys,
    lost_conditions_raise,
    people,
)
from app.store.models import Invite, Member, PartnerInvite, Person, SignInToken, Team

ROLES = ("admin", "editor", "viewer")
DEFAULT_CHANNELS = [
    "Instagram",
    "Facebook",
    "LinkedIn",
    "X",
    "TikTok",
    "YouTube",
    "Threads",
    "Blog",
    "Newsletter",
]
INVITE_VALID_FOR = timedelta(days=7)
TRANSACTION_LIMIT = 100
# The team item keeps every tag its posts use (for autocompletion and the tag filter, on every
# calendar page): capped, so the item and those pages stay small (200 tags of 40 characters are
# at most 32 KB). An admin removes tags to make room.
MAX_TEAM_TAGS = 200


# Cadenza is for small teams, and these keep the team and person items small at their largest
# (tests/test_size_limits.py): a team's people (members and pending invitations), the teams
# one person is in, a team's channels.
MAX_PEOPLE = 100
MAX_TEAMS_PER_PERSON = 50
MAX_CHANNELS, MAX_CHANNEL_NAME = 30, 30


class LastAdmin(Conflict):
    """The change would leave the team without an admin."""


class Full(StoreError):
    """The team has room for no one else, or the person is in as many teams as one can be."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what  # "team" or "person"


def team(team_id: str) -> Team | None:
    try:
        return Team.get(*Team.key(team_id), consistent_read=True)
    except Team.DoesNotExist:
        return None


def member_entry(someone: Person, role: str, now: datetime) -> dict:
    """A person's entry in a team's ``members`` map."""
    return {
        "name": someone.name,
        "email": someone.email,
        "role": role,
        "joined_at": keys.instant(now),
        **someone.nudge_preferences(),
    }


def create_team(creator: Person, *, name: str, zone: str, language: str, now: datetime) -> Team:
    if len(creator.team_entries()) >= MAX_TEAMS_PER_PERSON:
        raise Full("person")
    team_id = keys.new_id()
    created = Team(
        *Team.key(team_id),
        team_id=team_id,
        name=name,
        zone=zone,
        language=language,
        channels=list(DEFAULT_CHANNELS),
        members={creator.person_id: member_entry(creator, "admin", now)},
        admin_count=1,
        created_by=creator.person_id,
        created_at=now,
    )
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(created, condition=Team.pk.does_not_exist())
        _add_to_person(transaction, creator, created, "admin")
    creator.teams[team_id] = {"name": name, "role": "admin"}
    return created


def _add_to_person(transaction: TransactWrite, someone: Person, joined: Team, role: str):
    transaction.update(
        someone,
        actions=[Person.teams[joined.team_id].set({"name": joined.name, "role": role})],
        condition=Person.pk.exists(),
    )


def update_team(changed: Team, *, name: str, zone: str, language: str) -> None:
    """Change a team's settings; a new name is copied to every member's team list and every
    partner team's map of partners.

    The team item goes in the transaction of the last copies (the only one for a team of
    fewer than 100 people): a rename that fails part-way leaves the team its old name, so the
    person who tries again renames it everywhere (a copy written twice is the same value).
    """
    copies = _name_copies(changed, name) if name != changed.name else []
    size = TRANSACTION_LIMIT - 1
    chunks = [copies[start : start + size] for start in range(0, len(copies), size)] or [[]]
    for chunk in chunks:
        with TransactWrite(connection=connection()) as transaction:
            for item, actions, condition in chunk:
                transaction.update(item, actions=actions, condition=condition)
            if chunk is chunks[-1]:
                transaction.update(
                    changed,
                    actions=[Team.name.set(name), Team.zone.set(zone), Team.language.set(language)],
                    condition=Team.pk.exists(),
                )
    changed.name, changed.zone, changed.language = name, zone, language


def _name_copies(changed: Team, name: str) -> list[tuple]:
    """The team's name as its members' team lists and its partner teams' maps hold it."""
    members = [
        (
            Person(*Person.key(person_id)),
            [Person.teams[changed.team_id]["name"].set(name)],
            Person.teams[changed.team_id].exists(),
        )
        for person_id in changed.member_entries()
    ]
    # A new version: a partners map read before the rename is not written back over it.
    partners = [
        (
            Team(*Team.key(partner_id)),
            [Team.partners[changed.team_id]["name"].set(name), Team.partners_version.add(1)],
            Team.partners[changed.team_id].exists(),
        )
        for partner_id in changed.partner_entries()
    ]
    return members + partners


def set_lead_minutes(changed: Team, minutes: list[int]) -> None:
    with lost_conditions_raise(NotFound("team")):
        changed.update(actions=[Team.lead_minutes.set(minutes)], condition=Team.pk.exists())


def set_channels(changed: Team, channels: list[str]) -> None:
    with lost_conditions_raise(NotFound("team")):
        changed.update(actions=[Team.channels.set(channels)], condition=Team.pk.exists())


def forget_tags(changed: Team, tags: set[str]) -> None:
    """Take tags out of the team's list (posts keep them)."""
    with lost_conditions_raise(NotFound("team")):
        changed.update(actions=[Team.tags.delete(tags)], condition=Team.pk.exists())


def change_role(team_id: str, person_id: str, role: str) -> None:
    """Give a member another role; raise LastAdmin if the team would have no admin left."""
    current = _member_to_change(team_id, person_id, becomes=role)
    if current.role == role:
        return
    actions, condition = _admin_count_change(current.role, role)
    with (
        lost_conditions_raise(Conflict("the membership changed meanwhile")),
        TransactWrite(connection=connection()) as transaction,
    ):
        transaction.update(
            Team(*Team.key(team_id)),
            actions=[Team.members[person_id]["role"].set(role), *actions],
            condition=(Team.members[person_id]["role"] == current.role) & condition,
        )
        transaction.update(
            Person(*Person.key(person_id)),
            actions=[Person.teams[team_id]["role"].set(role)],
            condition=Person.teams[team_id].exists(),
        )


def remove_member(team_id: str, person_id: str) -> None:
    """Take a person out of a team; raise LastAdmin for the team's only admin."""
    current = _member_to_change(team_id, person_id, becomes=None)
    actions, condition = _admin_count_change(current.role, None)
    with (
        lost_conditions_raise(Conflict("the membership changed meanwhile")),
        TransactWrite(connection=connection()) as transaction,
    ):
        transaction.update(
            Team(*Team.key(team_id)),
            actions=[Team.members[person_id].remove(), *actions],
            condition=(Team.members[person_id]["role"] == current.role) & condition,
        )
        transaction.update(
            Person(*Person.key(person_id)),
            actions=[Person.teams[team_id].remove()],
            condition=Person.pk.exists(),
        )


def _member_to_change(team_id: str, person_id: str, *, becomes: str | None) -> Member:
    found = team(team_id)
    current = found.member(person_id) if found else None
    if current is None:
        raise NotFound("member")
    if current.role == "admin" and becomes != "admin" and found.admin_count <= 1:
        raise LastAdmin(team_id)
    return current


def _admin_count_change(was: str | None, becomes: str | None):
    """The update actions and condition that keep ``admin_count`` right."""
    if was == "admin" and becomes != "admin":
        # The condition is what holds when two admins demote each other at the same moment.
        return [Team.admin_count.add(-1)], Team.admin_count > 1
    if was != "admin" and becomes == "admin":
        return [Team.admin_count.add(1)], Team.pk.exists()
    return [], Team.pk.exists()


# Invitations -------------------------------------------------------------------------------


def invite(to_team: Team, *, address: str, role: str, invited_by: str, now: datetime) -> str:
    """Create an invitation and its single-use sign-in token; return the raw token."""
    if len(to_team.member_entries()) + len(pending_invites(to_team.team_id, now)) >= MAX_PEOPLE:
        raise Full("team")
    return store_invitation(
        Invite,
        to_team.team_id,
        address=address,
        purpose="invite",
        invited_by=invited_by,
        now=now,
        valid_for=INVITE_VALID_FOR,
        role=role,
    )


def store_invitation(
    listed: type[Invite | PartnerInvite],
    team_id: str,
    *,
    address: str,
    purpose: str,
    invited_by: str,
    now: datetime,
    valid_for: timedelta,
    role: str | None = None,
) -> str:
    """Store a single-use token (only its hash) and, in the same transaction, the item that
    lists it in the team's partition under that hash (``listed``: a team invitation, or a
    partner invitation); return the raw token."""
    raw = people.new_secret()
    token_hash = people.hash_secret(raw)
    expires = now + valid_for
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(
            SignInToken(
                *SignInToken.key(token_hash),
                email=address.lower(),
                purpose=purpose,
                team_id=team_id,
                role=role,
                created_at=now,
                expires_at=expires,
            ),
            condition=SignInToken.pk.does_not_exist(),
        )
        transaction.save(
            listed(
                *listed.key(team_id, token_hash),
                team_id=team_id,
                token_hash=token_hash,
                email=address.lower(),
                invited_by=invited_by,
                created_at=now,
                expires_at=expires,
                **({"role": role} if role else {}),
            )
        )
    return raw


def pending_invites(team_id: str, now: datetime, listed=Invite) -> list[Invite]:
    """A team's invitations waiting for an answer (``listed``: or its partner invitations)."""
    prefix = listed.key(team_id, "")[1]
    found = listed.query(keys.team(team_id), listed.sk.startswith(prefix), consistent_read=True)
    # TTL deletes within about two days: an expired invite may still be stored.
    return sorted(
        (each for each in found if each.expires_at > now), key=lambda each: each.created_at
    )


def revoke_invite(team_id: str, token_hash: str, listed=Invite) -> None:
    """Withdraw an invitation (``listed``: or a partner invitation) and its token."""
    with lost_conditions_raise(NotFound("invite")), TransactWrite(connection=connection()) as tx:
        tx.delete(listed(*listed.key(team_id, token_hash)), condition=listed.pk.exists())
        tx.delete(SignInToken(*SignInToken.key(token_hash)))


def accept_invite(token: SignInToken, someone: Person, now: datetime) -> Team:
    """Use an invitation token: the person joins its team (unless already in it).

    Marking the token used, deleting the invitation and joining are one transaction, so a
    token raced by two tabs makes one membership, and a revoked token joins nobody.
    """
    joined = team(token.team_id)
    if joined is None:
        raise NotFound("team")
    token_hash = token.pk.removeprefix("TOKEN#")
    joins = joined.member(someone.person_id) is None
    if joins and len(joined.member_entries()) >= MAX_PEOPLE:
        raise Full("team")
    if joins and len(someone.team_entries()) >= MAX_TEAMS_PER_PERSON:
        raise Full("person")
    with lost_conditions_raise(NotFound("invite")), TransactWrite(connection=connection()) as tx:
        tx.update(
            token, actions=[SignInToken.used_at.set(now)], condition=people.redeem_condition(now)
        )
        tx.delete(Invite(*Invite.key(joined.team_id, token_hash)))
        if joins:
            actions, _condition = _admin_count_change(None, token.role)
            tx.update(
                joined,
                actions=[
                    Team.members[someone.person_id].set(member_entry(someone, token.role, now)),
                    *actions,
                ],
                condition=Team.members[someone.person_id].does_not_exist(),
            )
            _add_to_person(tx, someone, joined, token.role)
    if joins:
        someone.teams[joined.team_id] = {"name": joined.name, "role": token.role}
    return joined
