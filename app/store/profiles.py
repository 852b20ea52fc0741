"""People's own profiles (issue 12): channels a person owns, kept in their person item.

A profile is an entry of the person's ``profiles`` map (``PERSON#p`` / ``PERSON``, system
table)::

    profiles: {profile_id: {"network": one of NETWORKS, "handle": text, "url": http(s) or "",
                            "rev": changes with every edit, "created_at": ISO instant}}

The person's item is read with every request (the session's BatchGet), so their profiles cost
no request of their own. Every write is one conditional UpdateItem of the person item: adding
one keeps the map under MAX_PROFILES (``person_maps.add_entry``, as feeds do); editing or
removing one holds only if its ``rev`` is still the one the form was read with, so a form left
open in another tab never silently overwrites or removes a newer edit.
"""

from dataclasses import dataclass

from app.store import Conflict, keys, lost_conditions_raise, person_maps
from app.store.models import PROFILE_NETWORKS, Person, ProfileCopy

MAX_PROFILES = 10  # per person: bounds the person item (tests/test_size_limits.py)
MAX_HANDLE = 100
MAX_URL = 150  # a profile's address is short; 10 at 4-byte characters fit the person item's budget
NETWORKS = tuple(PROFILE_NETWORKS)  # the order the form lists them in


class TooManyProfiles(Conflict):
    """The person has MAX_PROFILES profiles already."""


@dataclass(frozen=True)
class Profile:
    profile_id: str
    network: str
    handle: str
    url: str
    rev: str
    created_at: str


def profiles_of(someone: Person) -> list[Profile]:
    """A person's profiles, oldest first."""
    found = [
        _profile(pid, entry) for pid, entry in person_maps.entries(someone, "profiles").items()
    ]
    return sorted(found, key=lambda profile: (profile.created_at, profile.profile_id))


def profile_of(someone: Person, profile_id: str) -> Profile | None:
    entry = person_maps.entries(someone, "profiles").get(profile_id)
    return _profile(profile_id, entry) if entry else None


def copy_of(someone_id: str, profile: Profile) -> ProfileCopy:
    """What a post keeps of one of its owner's profiles."""
    return ProfileCopy(
        person=someone_id, id=profile.profile_id, network=profile.network, handle=profile.handle
    )


def _profile(profile_id: str, entry: dict) -> Profile:
    return Profile(
        profile_id=profile_id,
        network=entry["network"],
        handle=entry["handle"],
        url=entry.get("url", ""),
        rev=entry["rev"],
        created_at=entry["created_at"],
    )


def add(someone: Person, *, network: str, handle: str, url: str, now) -> Profile:
    """Add a profile. TooManyProfiles at MAX_PROFILES; Conflict if the person's profiles
    changed meanwhile so that there is no room, or the map was made in another tab."""
    if len(person_maps.entries(someone, "profiles")) >= MAX_PROFILES:
        raise TooManyProfiles("too many profiles")
    profile_id = keys.new_id(12)
    entry = {
        "network": network,
        "handle": handle,
        "url": url,
        "rev": keys.new_id(8),
        "created_at": keys.precise_instant(now),  # two added in one second keep their order
    }
    person_maps.add_entry(
        someone,
        "profiles",
        profile_id,
        entry,
        limit=MAX_PROFILES,
        same=lambda stored: stored["rev"] == entry["rev"],
        conflict=Conflict("the profiles changed meanwhile"),
    )
    return _profile(profile_id, entry)


def change(someone: Person, profile: Profile, *, network: str, handle: str, url: str) -> None:
    """Save a profile as edited from ``profile`` (as the form read it). Conflict if it was
    edited or removed meanwhile."""
    entry = Person.profiles[profile.profile_id]
    new_rev = keys.new_id(8)
    # The retry of a lost answer meets its own rev: done, not a conflict.
    seen = (entry["rev"] == profile.rev) | (entry["rev"] == new_rev)
    actions = [
        entry["network"].set(network),
        entry["handle"].set(handle),
        entry["url"].set(url),
        entry["rev"].set(new_rev),
    ]
    with lost_conditions_raise(Conflict("the profile changed meanwhile")):
        Person(*Person.key(someone.person_id)).update(
            actions=actions, condition=Person.pk.exists() & seen
        )


def remove(someone: Person, profile: Profile) -> None:
    """Remove a profile as the form read it. Conflict if it was edited meanwhile; gone
    already (another tab, a retried answer) is done."""
    entry = Person.profiles[profile.profile_id]
    unchanged = (entry["rev"] == profile.rev) | entry.does_not_exist()
    with lost_conditions_raise(Conflict("the profile changed meanwhile")):
        Person(*Person.key(someone.person_id)).update(
            actions=[entry.remove()], condition=Person.pk.exists() & unchanged
        )
