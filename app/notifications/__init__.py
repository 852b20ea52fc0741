"""Notifications: telling people when someone needs them.

A mention in a comment, a comment on a post one owns, a review decision on one's post, a post
handed to one: each is *recorded* (record.py) in the transaction of the change that causes it,
and the scheduled job *sends the batch* (batch.py): at most one email per person per 15
minutes, in their language and zone, out of their quiet hours, listing everything since the
last one. A share kit offered, and the nudge half-way through its window to those who have
not decided, are notes too (issue 12). Review requests and escalations are nudges
(app.nudges), which carry their own one-click actions (Approve, Ask for changes, Take it over).
"""

from flask_babel import lazy_gettext as _l

# The switches on /me/nudges, each for one or more kinds of notes (all on by default).
SWITCHES = {
    "mention": _l("Someone mentions me in a comment"),
    "comment": _l("Someone comments on a post of mine"),
    "review": _l("My post is approved, or changes are asked"),
    "handed": _l("A post is handed over to me"),
    "kit": _l("My team offers me a share kit"),
}
SWITCH_OF = {
    "mention": "mention",
    "comment": "comment",
    "approved": "review",
    "changes": "review",
    "handed": "handed",
    "kit": "kit",
    "kit-nudge": "kit",
}
BATCH_EVERY_MINUTES = 15
