"""People, sign-in tokens, sessions and rate counters: the ``system`` table."""

import hashlib
import secrets
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from app import aws
from app.store import NotFound, conditional_failure, connection, keys, lost_conditions_raise
from app.store.models import (
    EmailOwner,
    Person,
    RateCounter,
    Session,
    SignInToken,
    Team,
    UsedLink,
)


def hash_secret(secret: str) -> str:
    """Tokens and session ids are stored only as their SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


# People ------------------------------------------------------------------------------------


def person(person_id: str) -> Person | None:
    try:
        return Person.get(*Person.key(person_id), consistent_read=True)
    except Person.DoesNotExist:
        return None


def person_by_email(address: str) -> Person | None:
    try:
        owner = EmailOwner.get(*EmailOwner.key(address), consistent_read=True)
    except EmailOwner.DoesNotExist:
        return None
    return person(owner.person_id)


def find_or_create_person(address: str, now: datetime, language: str, zone: str) -> Person:
    """Return the person with this address, creating them if the address is new.

    The address item is put only if absent, in the same transaction as the person, so two
    concurrent first sign-ins make one person.
    """
    existing = person_by_email(address)
    if existing:
        return existing
    person_id = keys.new_id()
    created = Person(
        *Person.key(person_id),
        person_id=person_id,
        email=address.lower(),
        language=language,
        zone=zone,
        created_at=now,
    )
    owner = EmailOwner(*EmailOwner.key(address), person_id=created.person_id)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(owner, condition=EmailOwner.pk.does_not_exist())
            transaction.save(created, condition=Person.pk.does_not_exist())
    except TransactWriteError as error:
        if not conditional_failure(error):
            raise
        existing = person_by_email(address)
        if existing is None:
            raise
        return existing
    return created


def update_profile(
    someone: Person, *, name: str, language: str, zone: str, week_start: int
) -> None:
    """Change a person's profile (and its copy in every team's member list), atomically."""
    _update_person(someone, name=name, language=language, zone=zone, week_start=week_start)


PREFERENCES = (
    "nudges_on",
    "lead_minutes",
    "quiet_start",
    "quiet_end",
    "digest_on",
    "digest_at",
    "away_from",
    "away_until",
    "notify_off",
)


def update_preferences(someone: Person, **preferences) -> None:
    """Change a person's nudge preferences (and their copies in their teams), atomically."""
    unknown = set(preferences) - set(PREFERENCES)
    if unknown:
        raise TypeError(f"not a preference: {', '.join(sorted(unknown))}")
    _update_person(someone, **preferences)


MAIL_PROBLEMS = ("bounce", "complaint")


def mark_mail_problem(person_id: str, kind: str, reason: str, at: datetime) -> bool:
    """Record that SES could not deliver mail to a person for good (``kind`` "bounce") or that
    they reported it as spam ("complaint", which also turns their nudges off), at ``at``.

    SNS delivers at least once, and late: feedback changes nothing unless it is newer than the
    mark already recorded and than the last time the address proved to work. Returns whether
    it was recorded.
    """
    if kind not in MAIL_PROBLEMS:
        raise ValueError(f"not a mail problem: {kind}")
    someone = person(person_id)
    if someone is None or not _newer_than_known(someone, at):
        return False
    values = {"mail_problem": kind, "mail_problem_at": at, "mail_problem_reason": reason}
    if kind == "complaint":
        values["nudges_on"] = False
    newer = (Person.mail_problem_at.does_not_exist() | (Person.mail_problem_at < at)) & (
        Person.mail_works_at.does_not_exist() | (Person.mail_works_at < at)
    )
    try:
        _update_person(someone, condition=newer, **values)
    except TransactWriteError as error:
        fresh = person(person_id) if conditional_failure(error) else None
        if fresh is not None and not _newer_than_known(fresh, at):
            return False  # the same feedback, or newer, landed meanwhile
        raise  # a membership changed meanwhile (or an outage): SNS delivers it again
    return True


def _newer_than_known(someone: Person, at: datetime) -> bool:
    known = [moment for moment in (someone.mail_problem_at, someone.mail_works_at) if moment]
    return all(moment < at for moment in known)


def address_works(someone: Person, now: datetime) -> None:
    """The person followed a link Cadenza emailed them: their mailbox receives mail again, so a
    bounce is cleared. A complaint stays: receiving mail is not wanting it."""
    if someone.mail_problem == "bounce":
        _clear_mail_problem(someone, now)


def resume_mail(someone: Person, now: datetime) -> None:
    """The person asks for mail again (the button on their page). After a complaint their
    nudges come back on: Cadenza turned them off, and this button says it resumes them."""
    if someone.mail_problem == "complaint":
        _clear_mail_problem(someone, now, nudges_on=True)
    elif someone.mail_problem:
        _clear_mail_problem(someone, now)


def _clear_mail_problem(someone: Person, now: datetime, **also) -> None:
    _update_person(
        someone,
        mail_problem=None,
        mail_problem_at=None,
        mail_problem_reason=None,
        mail_works_at=now,
        **also,
    )


def _update_person(someone: Person, condition=None, **values) -> None:
    """Write person attributes, and the member entry copies in each of their teams.

    Teams hold the name, the nudge preferences and the mail problem of their members (see
    Team.members), so the person and every team item are one transaction (a person is in few
    teams). ``condition`` adds to the person's (a lost one raises TransactWriteError).

    Nudges turned back on (by the person, whatever the path) revoke the unsubscribe links
    mailed before: one forwarded or leaked cannot turn them off again behind their back.
    """
    if values.get("nudges_on") and not someone.nudges_on:
        values["unsubscribe_generation"] = int(someone.unsubscribe_generation or 0) + 1
    for name, value in values.items():
        setattr(someone, name, value)
    copied = {"name": someone.name, **someone.nudge_preferences()}
    exists = Person.pk.exists()
    with TransactWrite(connection=connection()) as transaction:
        transaction.update(
            someone,
            actions=[
                getattr(Person, name).set(value)
                if value is not None
                else getattr(Person, name).remove()
                for name, value in values.items()
            ],
            condition=exists & condition if condition is not None else exists,
        )
        for team_id in someone.team_entries():
            entry = Team.members[someone.person_id]
            transaction.update(
                Team(*Team.key(team_id)),
                actions=[entry[field].set(value) for field, value in copied.items()],
                condition=entry.exists(),
            )


# Sign-in tokens ----------------------------------------------------------------------------


def issue_token(
    address: str,
    purpose: str,
    now: datetime,
    valid_for: timedelta,
    *,
    team_id: str | None = None,
    role: str | None = None,
) -> tuple[str, SignInToken]:
    """Store a new single-use token (only its hash) and return the raw token with its item."""
    raw = new_secret()
    token = SignInToken(
        *SignInToken.key(hash_secret(raw)),
        email=address.lower(),
        purpose=purpose,
        team_id=team_id,
        role=role,
        created_at=now,
        expires_at=now + valid_for,
    )
    token.save(condition=SignInToken.pk.does_not_exist())
    return raw, token


def stored_token(raw: str) -> SignInToken | None:
    """Return the token as stored, used or expired alike (a page still knows whom it was for)."""
    if not raw or len(raw) > 200:
        return None
    try:
        return SignInToken.get(*SignInToken.key(hash_secret(raw)), consistent_read=True)
    except SignInToken.DoesNotExist:
        return None


def usable(found: SignInToken | None, now: datetime) -> bool:
    return found is not None and found.used_at is None and found.expires_at > now


def token(raw: str, now: datetime) -> SignInToken | None:
    """Return the token if it exists, is unused and has not expired."""
    found = stored_token(raw)
    return found if usable(found, now) else None


def redeem_condition(now: datetime):
    """The condition that makes a token single use: two concurrent redeems, one winner."""
    return (
        SignInToken.pk.exists()
        & SignInToken.used_at.does_not_exist()
        & (SignInToken.expires_at > now)
    )


def redeem_sign_in(raw: str, now: datetime) -> SignInToken:
    """Mark a sign-in token used; raise NotFound if it is unknown, used or expired."""
    found = token(raw, now)
    if found is None or found.purpose != "sign_in":
        raise NotFound("token")
    with lost_conditions_raise(NotFound("token")):
        found.update(actions=[SignInToken.used_at.set(now)], condition=redeem_condition(now))
    return found


def use_link_once(fingerprint: str, now: datetime, until: datetime) -> bool:
    """Remember a one-click link as used; False if it was used already (a conditional put).

    ``fingerprint`` names what the link's verified payload says, never how its text is spelled
    (base64 spells the same token several ways): see ``app.nudges.tokens.fingerprint``.
    """
    used = UsedLink(*UsedLink.key(fingerprint), used_at=now, expires_at=until)
    try:
        used.save(condition=UsedLink.pk.does_not_exist())
    except PutError as error:
        if conditional_failure(error):
            # This very write, whose answer was lost and which botocore sent again, is the
            # one use: its instant (to the microsecond) tells it from an earlier one.
            return _used_at(fingerprint) == now
        raise
    return True


def _used_at(fingerprint: str) -> datetime | None:
    try:
        return UsedLink.get(*UsedLink.key(fingerprint), consistent_read=True).used_at
    except UsedLink.DoesNotExist:
        return None


def link_used(fingerprint: str) -> bool:
    """Whether a one-click link was used already (its page then offers no form)."""
    try:
        UsedLink.get(*UsedLink.key(fingerprint), consistent_read=True)
    except UsedLink.DoesNotExist:
        return False
    return True


def forget_link(fingerprint: str) -> None:
    """Let a link be used again (its action could not be carried out)."""
    UsedLink(*UsedLink.key(fingerprint)).delete()


# Sessions ----------------------------------------------------------------------------------


def superseded(found: SignInToken, someone: Person | None) -> bool:
    """Whether a sign-in link was mailed before its person (``someone``, who has its address,
    if anyone) last signed in with one: signing in revokes every other link still in their
    mailbox (a found old mail must not sign in)."""
    last = someone.signed_in_by_link_at if someone is not None else None
    return last is not None and found.created_at <= last


def signed_in_by_link(someone: Person, now: datetime) -> None:
    someone.update(actions=[Person.signed_in_by_link_at.set(now)])


def start_session(person_id: str, now: datetime, lifetime: timedelta) -> str:
    raw = new_secret()
    Session(
        *Session.key(hash_secret(raw)),
        person_id=person_id,
        created_at=now,
        expires_at=now + lifetime,
    ).save()
    return raw


def signed_in(
    session_id: str, person_id: str, now: datetime, team_id: str | None = None
) -> tuple[Person | None, Team | None]:
    """Return the person of a live session, and the team a page is about: one request.

    The person id travels in the signed cookie beside the session id, so the session, the
    person and the team are fetched in one strongly consistent BatchGetItem; the session item
    must name the same person.
    """
    wanted = {
        Session.Meta.table_name: [Session.key(hash_secret(session_id)), Person.key(person_id)],
    }
    if team_id:
        wanted[Team.Meta.table_name] = [Team.key(team_id)]
    found = {}
    for raw in batch_get(wanted):
        prefix = raw["pk"]["S"].split("#", 1)[0]
        model = {"SESSION": Session, "PERSON": Person, "TEAM": Team}[prefix]
        found[model] = model.from_raw_data(raw)
    session, someone = found.get(Session), found.get(Person)
    if session is None or someone is None or session.person_id != person_id:
        return None, None
    if session.expires_at <= now:
        return None, None
    return someone, found.get(Team)


def batch_get(wanted: dict[str, list[tuple[str, str]]]) -> list[dict]:
    """Strongly consistent BatchGetItem of ``{table: [(pk, sk), ...]}``; raw items."""
    request = {
        table: {
            "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in item_keys],
            "ConsistentRead": True,
        }
        for table, item_keys in wanted.items()
    }
    items = []
    while request:
        response = aws.client("dynamodb").batch_get_item(RequestItems=request)
        for found in response["Responses"].values():
            items.extend(found)
        request = response.get("UnprocessedKeys") or {}
    return items


def end_session(session_id: str) -> None:
    Session(*Session.key(hash_secret(session_id))).delete()


# Rate limits -------------------------------------------------------------------------------


def count_hit(scope: str, key: str, now: datetime, window: timedelta) -> int:
    """Count one hit in the fixed window containing ``now``; return the window's total.

    Counted in DynamoDB because Lambda instances share no memory.
    """
    seconds = int(window.total_seconds())
    start = int(now.timestamp()) // seconds * seconds
    counter = RateCounter(f"RATE#{scope}#{key.lower()}", str(start))
    counter.update(
        actions=[
            RateCounter.hits.add(1),
            RateCounter.expires_at.set(datetime.fromtimestamp(start + 2 * seconds, now.tzinfo)),
        ]
    )
    return int(counter.hits)


def over_a_limit(limits, now: datetime) -> bool:
    """Count one hit on each ``(scope, key, allowed, window)``; whether any is over.

    Every counter counts the attempt, also after one is found over: a caller refused by one
    limit keeps spending the others.
    """
    hits = [count_hit(scope, key, now, window) > allowed for scope, key, allowed, window in limits]
    return any(hits)
