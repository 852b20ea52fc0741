"""The similarity check: a kit post marked published whose copy is nearly the suggested copy
word for word. Cadenza then suggests, to its owner only, writing it in their own voice next
time: a kit asks for coherence and wit, not a chorus of identical posts."""

import re
from collections import Counter

from flask_babel import lazy_gettext as _l

NEARLY_ALL = 0.9  # the share of words in common above which a copy is the suggestion
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text: str) -> Counter:
    """The words of a text, case and punctuation aside, each with how often it comes."""
    return Counter(word.casefold() for word in _WORD.findall(text or ""))


def echoes(copy: str, suggestion: str) -> bool:
    """Whether ``copy`` is nearly ``suggestion``: more than 90 % of the longer one's words are
    in both (counted with repeats), so a few words changed or added still echo it, and an
    empty suggestion is never echoed."""
    mine, seed = words(copy), words(suggestion)
    longer = max(sum(mine.values()), sum(seed.values()))
    if not seed or not longer:
        return False
    return sum((mine & seed).values()) / longer > NEARLY_ALL


OWN_VOICE = _l(
    "Your post says nearly word for word what the kit suggested. Next time, try it in your own "
    "voice: your people follow you for you."
)


def echoed(was: str, post, body, actor: str) -> bool:
    """Whether ``actor``, the owner of a post taken from a kit, just marked it published (it
    was ``was`` before) with the kit's suggested copy nearly as it was: the word is theirs
    alone (an admin publishing it for them is not told about their voice)."""
    return (
        bool(post.kit_id)
        and post.owner_id == actor
        and was != "published"
        and post.status == "published"
        and echoes(body.copy, body.seed or "")
    )
