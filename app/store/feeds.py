"""Calendar feeds: secret-address iCal subscriptions, kept in their person's item.

A feed is an entry of the person's ``feeds`` map (``PERSON#p`` / ``PERSON``, system table)::

    feeds: {feed_id: {"hash": sha256 of the secret, "kind": "person" | "team",
                      "team": team id (team feeds), "filters": {owner, channel, status, tag}
                      (only those set), "owner_name": the owner filter's name then,
                      "created_at": ISO instant}}

The secret is shown once and stored only as its hash. A feed request reads the person (one
GetItem; for a team feed, one BatchGetItem of the person and the team, whose id starts the
feed's id) and then one Query: ``by_owner`` for the person's own posts, ``by_due`` of the team
for a team feed. Every write here is one conditional UpdateItem of the person item.
"""

import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime

from app.store import Conflict, NotFound, keys, lost_conditions_raise, people, person_maps, posts
from app.store.models import Person, Post, Team

MAX_FEEDS = 10  # per person: bounds the person item (tests/test_size_limits.py)
KINDS = ("person", "team")
FILTERS = ("owner", "channel", "status", "tag", "reach")
# A person feed's id is 16 characters; a team feed's is its team's id, "-" and 8 more, so that
# the request can read the team with the person before it knows the entry.
_ID = re.compile(r"[0-9a-z]{16}(-[0-9a-z]{8})?")
_PERSON = re.compile(r"[0-9a-z]{1,40}")


class TooManyFeeds(Conflict):
    """The person has MAX_FEEDS feeds already."""


@dataclass(frozen=True)
class Feed:
    feed_id: str
    kind: str
    created_at: str
    secret_hash: str = field(repr=False)
    team_id: str = ""
    filters: dict = field(default_factory=dict)
    owner_name: str = ""  # the owner filter's name when it was made (the page shows it)

    @property
    def made(self) -> datetime:
        return datetime.fromisoformat(self.created_at)


def feeds_of(someone: Person) -> list[Feed]:
    """A person's feeds, oldest first."""
    found = [_feed(feed_id, entry) for feed_id, entry in _entries(someone).items()]
    return sorted(found, key=lambda feed: (feed.created_at, feed.feed_id))


def feed_of(someone: Person, feed_id: str) -> Feed | None:
    entry = _entries(someone).get(feed_id)
    return _feed(feed_id, entry) if entry else None


def _entries(someone: Person) -> dict:
    return person_maps.entries(someone, "feeds")


def _feed(feed_id: str, entry: dict) -> Feed:
    return Feed(
        feed_id=feed_id,
        kind=entry["kind"],
        created_at=entry["created_at"],
        secret_hash=entry["hash"],
        team_id=entry.get("team", ""),
        filters=dict(entry.get("filters") or {}),
        owner_name=entry.get("owner_name", ""),
    )


def create(
    someone: Person,
    *,
    now: datetime,
    team_id: str = "",
    filters: dict | None = None,
    owner_name: str = "",
) -> tuple[Feed, str]:
    """Add a feed (of the person's posts, or of ``team_id`` with ``filters``); return it and
    its secret, which is never stored. TooManyFeeds at MAX_FEEDS; Conflict if the person's
    feeds changed meanwhile (the first feed of two made at once)."""
    if len(_entries(someone)) >= MAX_FEEDS:
        raise TooManyFeeds("too many feeds")
    feed_id = f"{team_id}-{keys.new_id(8)}" if team_id else keys.new_id()
    secret = people.new_secret()
    entry = {
        "hash": people.hash_secret(secret),
        "kind": "team" if team_id else "person",
        "created_at": keys.instant(now),
    }
    if team_id:
        entry["team"] = team_id
        entry["filters"] = {name: value for name, value in (filters or {}).items() if value}
        if owner_name:
            entry["owner_name"] = owner_name
    person_maps.add_entry(
        someone,
        "feeds",
        feed_id,
        entry,
        limit=MAX_FEEDS,
        same=lambda stored: stored["hash"] == entry["hash"],
        conflict=Conflict("the feeds changed meanwhile"),
    )
    return _feed(feed_id, entry), secret


def regenerate(someone: Person, feed: Feed) -> str:
    """Give a feed a new secret (its old address answers 404 from now on); return it.
    Conflict if the feed was revoked or regenerated meanwhile."""
    secret = people.new_secret()
    new_hash = people.hash_secret(secret)
    entry = Person.feeds[feed.feed_id]
    seen = (entry["hash"] == feed.secret_hash) | (entry["hash"] == new_hash)
    with lost_conditions_raise(Conflict("the feed changed meanwhile")):
        Person(*Person.key(someone.person_id)).update(
            actions=[entry["hash"].set(new_hash)], condition=Person.pk.exists() & seen
        )
    return secret


def revoke(someone: Person, feed: Feed) -> None:
    """Delete a feed: its address answers 404. A concurrent regenerate does not save it (the
    person asked for it to go); NotFound if the person is gone."""
    with lost_conditions_raise(NotFound("person")):
        Person(*Person.key(someone.person_id)).update(
            actions=[Person.feeds[feed.feed_id].remove()], condition=Person.pk.exists()
        )


def posts_of(someone: Person, start: datetime, end: datetime) -> list[Post]:
    """The person's posts due in [start, end) in the teams they are in: one Query of
    ``by_owner``. An item counts by the team whose partition holds it, so a post kept in a team
    the person left drops out, and a shared post's copy in a partner team they are in (its
    ``owner_pk`` names them too) counts."""
    mine = {keys.team(team_id) for team_id in someone.team_entries()}
    owned, shared = posts.owned_with_shared(someone.person_id, start, end)
    return [post for post in [*owned, *shared] if post.pk in mine]


def opened(person_id: str, feed_id: str, secret: str) -> tuple[Person, Feed, Team | None] | None:
    """The person, feed and (for a team feed) team that a feed address names, or None if the
    address is not a live feed's: one strongly consistent read.

    Any wrong part (person, feed, secret) gives the same None: the answer tells nothing.
    """
    if not (_PERSON.fullmatch(person_id or "") and _ID.fullmatch(feed_id or "")):
        return None
    if not secret or len(secret) > 100:
        return None
    wanted = {Person.Meta.table_name: [Person.key(person_id)]}
    team_id = feed_id.split("-", 1)[0] if "-" in feed_id else ""
    if team_id:
        wanted[Team.Meta.table_name] = [Team.key(team_id)]
    found = {raw["pk"]["S"].split("#", 1)[0]: raw for raw in people.batch_get(wanted)}
    if "PERSON" not in found:
        return None
    someone = Person.from_raw_data(found["PERSON"])
    feed = feed_of(someone, feed_id)
    given = people.hash_secret(secret)
    if feed is None or not hmac.compare_digest(given, feed.secret_hash):
        return None
    if feed.team_id != team_id:
        return None
    team = Team.from_raw_data(found["TEAM"]) if "TEAM" in found else None
    return someone, feed, team
