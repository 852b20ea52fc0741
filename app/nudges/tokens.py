"""Signed links for one-click actions in nudge emails.

A token names the action, the person and (for post actions) the team, post and the reminder it
came with, and carries its expiry (the post's due time + 7 days) and a random nonce (each email's
links are new links). It is signed with the app's secret, so it cannot be altered, and it works
without a session: a mail client is not a browser where the person is signed in.

An unsubscribe token names only the person, and the generation of their unsubscribe links it
was mailed in: it never expires (a mail client may offer it long after the mail came, RFC 8058),
but turning nudges back on starts a new generation, which revokes every unsubscribe link mailed
before (``revoked``). Each route reads the token's action from its verified payload and refuses
any other, so one kind of token is never another.

Base64 has several spellings of the same bytes (padding, the unused low bits of a last
character), and itsdangerous accepts them all: a used link is therefore remembered by what its
verified payload says (``fingerprint``), never by its text.
"""

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from app.web import settings

SALT = "cadenza.nudge-action"
VALID_AFTER_DUE = timedelta(days=7)
# "kit": a share kit's page for the person it is offered to (app.kits), with Take it and Pass.
ACTIONS = (
    "published",
    "snooze",
    "handover",
    "approve",
    "changes",
    "takeover",
    "unsubscribe",
    "kit",
)


class BadToken(Exception):
    """Tampered with, or not a token at all."""


class ExpiredToken(Exception):
    """Genuine, but past its expiry; ``payload`` still names the person it was for."""

    def __init__(self, payload: dict):
        super().__init__(payload["a"])
        self.payload = payload


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(settings().secret_key, salt=SALT)


def sign(
    action: str,
    *,
    person_id: str,
    team_id: str = "",
    post_id: str = "",
    kind: str = "",
    expires: datetime | None = None,
    generation: int = 0,
    version: int | None = None,
    partner: str = "",
) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    payload = {"a": action, "u": person_id, "t": team_id, "p": post_id, "k": kind}
    if action == "unsubscribe":
        payload["g"] = generation
    if version is not None:  # a review decision is about the version the email showed
        payload["v"] = version
    if partner:  # a partner team's admin deciding on a post shared with that team
        payload["b"] = partner
    payload["n"] = secrets.token_urlsafe(12)  # 96 random bits: each link is single use alone
    if expires is not None:
        payload["e"] = int(expires.timestamp())
    return _serializer().dumps(payload)


def read(token: str, now: datetime) -> dict:
    """The token's payload; BadToken if tampered with, ExpiredToken if too old."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise BadToken() from None
    if not isinstance(payload, dict) or payload.get("a") not in ACTIONS:
        raise BadToken()
    if "e" in payload and payload["e"] < now.timestamp():
        raise ExpiredToken(payload)
    return payload


def sign_unsubscribe(person) -> str:
    """The person's one-click unsubscribe token, of their current generation."""
    return sign(
        "unsubscribe",
        person_id=person.person_id,
        generation=int(person.unsubscribe_generation or 0),
    )


def revoked(payload: dict, person) -> bool:
    """Whether an unsubscribe token was mailed before the person's nudges last came back on.

    Links mailed before tokens carried a generation count as the first generation.
    """
    return payload.get("g", 0) != int(person.unsubscribe_generation or 0)


def fingerprint(payload: dict) -> str:
    """What is stored to remember a used token: the SHA-256 of its verified payload.

    Every spelling of one token reads as the same payload, so it is one token. Links mailed
    before tokens had a nonce are remembered by their payload alone, which names the action,
    person, post, reminder and expiry: still single use.
    """
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
