"""A team's playbook: its guidelines and per-channel checklists, one item (TEAM#t / PLAYBOOK).

Read with a post (``posts.load_for_writing``) and with a nudge's context in the same
BatchGetItem; read alone by the playbook page. Saved whole, conditional on the version its
editor saw. Also here: the post a new member is given to introduce themselves.
"""

from datetime import datetime

from app.store import Conflict, lost_conditions_raise
from app.store.models import Playbook

# Bounds that keep the item small at its largest (tests/test_size_limits.py), and a post's
# ticked items (stored in its body) with it: 30 channels of 12 items of 120 characters.
MAX_GUIDELINES = 10_000
MAX_ITEMS, MAX_ITEM_LENGTH = 12, 120


class PlaybookConflict(Conflict):
    """Someone saved the playbook after this editor loaded it."""


def empty(team_id: str) -> Playbook:
    """A team's playbook before anyone wrote it."""
    return Playbook(*Playbook.key(team_id), team_id=team_id)


def load(team_id: str) -> Playbook:
    """The team's playbook (an empty one if nobody wrote it yet): one GetItem."""
    try:
        return Playbook.get(*Playbook.key(team_id), consistent_read=True)
    except Playbook.DoesNotExist:
        return empty(team_id)


def save(
    team_id: str,
    *,
    guidelines: str,
    checklists: dict[str, list[str]],
    version: int | None,
    actor: str,
    now: datetime,
) -> Playbook:
    """Write the playbook as the editor left it; PlaybookConflict if it is no longer at
    ``version`` (None: nobody had written it)."""
    saved = Playbook(
        *Playbook.key(team_id),
        team_id=team_id,
        guidelines=guidelines,
        checklists={channel: items for channel, items in checklists.items() if items},
        updated_by=actor,
        updated_at=now,
    )
    if version is not None:
        saved.version = version
    # PynamoDB makes the write conditional on the version (or on there being none yet).
    with lost_conditions_raise(PlaybookConflict("the playbook changed meanwhile")):
        saved.save()
    return saved


def intro_post_id(person_id: str) -> str:
    """The id of a new member's "Introduce yourself" post: one per person and team, so
    joining twice plans it once. Random ids never hold an "i" or an "o" (keys.new_id), so it
    is nobody else's, nor a slot's or a series post's (theirs start with a random id)."""
    return f"intro-{person_id}"
