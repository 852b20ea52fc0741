"""Key builders: the only place that spells DynamoDB keys.

Instants inside keys are UTC, fixed width (``0001-01-01T00:00:00Z``), so string order is time
order and a ``BETWEEN`` on a sort key is a range of instants.
"""

import secrets
from datetime import UTC, datetime

_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u


def new_id(length: int = 16) -> str:
    """Return a random id (80 bits for the default length), safe in URLs and keys."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def instant(moment: datetime) -> str:
    """Format an aware datetime as a sortable UTC key fragment."""
    if moment.tzinfo is None:
        raise ValueError("key instants must be timezone-aware")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc:%H:%M:%S}Z"


def precise_instant(moment: datetime) -> str:
    """Like ``instant``, with microseconds: orders entries written within one second."""
    return f"{instant(moment)[:-1]}.{moment.astimezone(UTC).microsecond:06d}Z"


def team(team_id: str) -> str:
    return f"TEAM#{team_id}"


def person(person_id: str) -> str:
    return f"PERSON#{person_id}"


def email(address: str) -> str:
    return f"EMAIL#{address.lower()}"


def due_bucket(moment: datetime) -> str:
    """The reminder index partition for the UTC day of ``moment``."""
    return f"DUE#{instant(moment)[:10]}"
