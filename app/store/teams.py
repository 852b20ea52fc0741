"""Teams, memberships and invitations.

A membership lives twice, written in one transaction: as ``TEAM#t / MEMBER#p`` (members of a
team) and inside the person's ``teams`` map (a person's teams and roles, read with the person).
The team item counts its admins, so "a team keeps at least one admin" is a write condition.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from app.store import Conflict, NotFound, connection, keys, people
from app.store.models import Invite, Membership, Person, SignInToken, Team

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


class LastAdmin(Conflict):
    """The change would leave the team without an admin."""


def team(team_id: str) -> Team | None:
    try:
        return Team.get(*Team.key(team_id), consistent_read=True)
    except Team.DoesNotExist:
        return None


def create_team(creator: Person, *, name: str, zone: str, language: str, now: datetime) -> Team:
    team_id = keys.new_id()
    created = Team(
        *Team.key(team_id),
        team_id=team_id,
        name=name,
        zone=zone,
        language=language,
        channels=list(DEFAULT_CHANNELS),
        admin_count=1,
        created_by=creator.person_id,
        created_at=now,
    )
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(created, condition=Team.pk.does_not_exist())
        _join(transaction, creator, created, "admin", now)
    creator.teams[team_id] = {"name": name, "role": "admin"}
    return created


def _join(transaction: TransactWrite, someone: Person, joined: Team, role: str, now: datetime):
    transaction.save(
        Membership(
            *Membership.key(joined.team_id, someone.person_id),
            team_id=joined.team_id,
            person_id=someone.person_id,
            role=role,
            name=someone.name,
            email=someone.email,
            joined_at=now,
        ),
        condition=Membership.pk.does_not_exist(),
    )
    transaction.update(
        someone,
        actions=[Person.teams[joined.team_id].set({"name": joined.name, "role": role})],
        condition=Person.pk.exists(),
    )


def members(team_id: str) -> list[Membership]:
    found = Membership.query(
        keys.team(team_id), Membership.sk.startswith("MEMBER#"), consistent_read=True
    )
    return sorted(found, key=lambda member: (member.name or member.email).casefold())


def membership(team_id: str, person_id: str) -> Membership | None:
    try:
        return Membership.get(*Membership.key(team_id, person_id), consistent_read=True)
    except Membership.DoesNotExist:
        return None


def update_team(changed: Team, *, name: str, zone: str, language: str) -> None:
    """Change a team's settings; a new name is copied to every member's team list."""
    renamed = name != changed.name
    changed.update(
        actions=[Team.name.set(name), Team.zone.set(zone), Team.language.set(language)],
        condition=Team.pk.exists(),
    )
    if not renamed:
        return
    # Each chunk is atomic; a retry of a half-done rename is harmless (same value again).
    member_ids = [member.person_id for member in members(changed.team_id)]
    for start in range(0, len(member_ids), TRANSACTION_LIMIT):
        with TransactWrite(connection=connection()) as transaction:
            for person_id in member_ids[start : start + TRANSACTION_LIMIT]:
                transaction.update(
                    Person(*Person.key(person_id)),
                    actions=[Person.teams[changed.team_id]["name"].set(name)],
                    condition=Person.teams[changed.team_id].exists(),
                )


def change_role(team_id: str, person_id: str, role: str) -> None:
    """Give a member another role; raise LastAdmin if the team would have no admin left."""
    current = _member_to_change(team_id, person_id, becomes=role)
    if current.role == role:
        return
    with _conflicts_reported(), TransactWrite(connection=connection()) as transaction:
        transaction.update(
            current, actions=[Membership.role.set(role)], condition=Membership.role == current.role
        )
        transaction.update(
            Person(*Person.key(person_id)),
            actions=[Person.teams[team_id]["role"].set(role)],
            condition=Person.teams[team_id].exists(),
        )
        _count_admins(transaction, team_id, was=current.role, becomes=role)


def remove_member(team_id: str, person_id: str) -> None:
    """Take a person out of a team; raise LastAdmin for the team's only admin."""
    current = _member_to_change(team_id, person_id, becomes=None)
    with _conflicts_reported(), TransactWrite(connection=connection()) as transaction:
        transaction.delete(current, condition=Membership.role == current.role)
        transaction.update(
            Person(*Person.key(person_id)),
            actions=[Person.teams[team_id].remove()],
            condition=Person.pk.exists(),
        )
        _count_admins(transaction, team_id, was=current.role, becomes=None)


def _member_to_change(team_id: str, person_id: str, *, becomes: str | None) -> Membership:
    current = membership(team_id, person_id)
    if current is None:
        raise NotFound("member")
    if current.role == "admin" and becomes != "admin":
        changed = team(team_id)
        if changed is None or changed.admin_count <= 1:
            raise LastAdmin(team_id)
    return current


def _count_admins(transaction: TransactWrite, team_id: str, *, was: str, becomes: str | None):
    # The condition is what holds when two admins demote each other at the same moment.
    if was == "admin" and becomes != "admin":
        transaction.update(
            Team(*Team.key(team_id)),
            actions=[Team.admin_count.add(-1)],
            condition=Team.admin_count > 1,
        )
    elif was != "admin" and becomes == "admin":
        transaction.update(Team(*Team.key(team_id)), actions=[Team.admin_count.add(1)])


@contextmanager
def _conflicts_reported(reported: Exception | None = None):
    """Report a lost transaction condition as ``reported`` (a Conflict by default)."""
    try:
        yield
    except TransactWriteError as error:
        if people.conditional_failure(error):
            raise reported or Conflict("changed meanwhile") from error
        raise


# Invitations -------------------------------------------------------------------------------


def invite(to_team: Team, *, address: str, role: str, invited_by: str, now: datetime) -> str:
    """Create an invitation and its single-use sign-in token; return the raw token."""
    raw = people.new_secret()
    token_hash = people.hash_secret(raw)
    expires = now + INVITE_VALID_FOR
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(
            SignInToken(
                *SignInToken.key(token_hash),
                email=address.lower(),
                purpose="invite",
                team_id=to_team.team_id,
                role=role,
                created_at=now,
                expires_at=expires,
            ),
            condition=SignInToken.pk.does_not_exist(),
        )
        transaction.save(
            Invite(
                *Invite.key(to_team.team_id, token_hash),
                team_id=to_team.team_id,
                token_hash=token_hash,
                email=address.lower(),
                role=role,
                invited_by=invited_by,
                created_at=now,
                expires_at=expires,
            )
        )
    return raw


def pending_invites(team_id: str, now: datetime) -> list[Invite]:
    found = Invite.query(keys.team(team_id), Invite.sk.startswith("INVITE#"), consistent_read=True)
    # TTL deletes within about two days: an expired invite may still be stored.
    return sorted(
        (each for each in found if each.expires_at > now), key=lambda each: each.created_at
    )


def revoke_invite(team_id: str, token_hash: str) -> None:
    with _conflicts_reported(NotFound("invite")), TransactWrite(connection=connection()) as tx:
        tx.delete(Invite(*Invite.key(team_id, token_hash)), condition=Invite.pk.exists())
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
    with _conflicts_reported(NotFound("invite")), TransactWrite(connection=connection()) as tx:
        tx.update(
            token, actions=[SignInToken.used_at.set(now)], condition=people.redeem_condition(now)
        )
        tx.delete(Invite(*Invite.key(joined.team_id, token_hash)))
        if someone.role_in(joined.team_id) is None:
            _join(tx, someone, joined, token.role, now)
            _count_admins(tx, joined.team_id, was="", becomes=token.role)
    if someone.role_in(joined.team_id) is None:
        someone.teams[joined.team_id] = {"name": joined.name, "role": token.role}
    return joined
