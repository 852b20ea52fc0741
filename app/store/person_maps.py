"""Small maps kept in a person's item (``feeds``, ``profiles``): reading them and adding an
entry, each write one conditional UpdateItem of ``PERSON#p``.

A map is bounded (the item stays far under 400 KB, tests/test_size_limits.py) and written per
entry, so two tabs adding at once both land, never one over the other; the bound is checked
in the write's condition, not only on the page that was read.
"""

from collections.abc import Callable

from pynamodb.expressions.condition import size

from app.store import Conflict, lost_conditions_raise
from app.store.models import Person


def entries(someone: Person, name: str) -> dict:
    """The person's map ``name`` as a plain dict (empty if it was never written)."""
    raw = getattr(someone, name)
    return raw.as_dict() if hasattr(raw, "as_dict") else dict(raw or {})


def add_entry(
    someone: Person,
    name: str,
    entry_id: str,
    entry: dict,
    *,
    limit: int,
    same: Callable,
    conflict: Conflict,
) -> None:
    """Add ``entry`` under ``entry_id`` to the person's map ``name``, which holds fewer than
    ``limit`` entries; ``conflict`` if the map changed meanwhile (the first of two maps made
    at once, or the bound reached in another tab).

    ``same(stored_entry_path)`` is the condition that the entry is already this one: the same
    write landing twice (botocore's retry of an answer lost) is still one entry.
    """
    attribute = getattr(Person, name)
    again = same(attribute[entry_id])
    if getattr(someone, name) is None:
        action = attribute.set({entry_id: entry})
        condition = Person.pk.exists() & (attribute.does_not_exist() | again)
    else:
        action = attribute[entry_id].set(entry)
        room = attribute.exists() & (size(attribute) < limit)
        condition = Person.pk.exists() & ((room & attribute[entry_id].does_not_exist()) | again)
    with lost_conditions_raise(conflict):
        Person(*Person.key(someone.person_id)).update(actions=[action], condition=condition)
