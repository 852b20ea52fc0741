"""PynamoDB models of Cadenza's two tables, and every access pattern they serve.

Two tables. ``calendar`` holds everything that belongs to a team: every partition key starts
with ``TEAM#<team>``, which isolates tenants and allows IAM ``dynamodb:LeadingKeys`` later.
``system`` holds what is not team-scoped: people, sign-in tokens, sessions, rate counters.

Items (``pk`` / ``sk``; extra keys are sparse: an item without them is not in the index)::

    calendar
    team            TEAM#<t>   TEAM    members: {person: {name, email, role, joined_at}}
                                       partners: {team: {name, colour, since}}
    invite          TEAM#<t>   INVITE#<token hash>                         TTL
    partner invite  TEAM#<t>   PARTNERINVITE#<token hash>  with a sign-in token of purpose
                                   "partner" under the same hash            TTL (14 days)
    post (summary)  TEAM#<t>   POST#<post>   LSI by_due    due_key   <due UTC>#<post>  (dated)
                                             (``profiles``: copies {person, id, network,
                                             handle} of the owner's own profiles it is on)
                                             LSI ideas     idea_key  <created>#<post>  (undated)
                                             LSI trash     trash_key <deleted>#<post>  (trashed)
                                             GSI by_owner  OWNER#<p> / <due UTC>#<t>#<post>
                                             (a slot's id is <schedule>-<occurrence>, a series
                                             post's <event>-<step>: see "slots of schedule S";
                                             a new member's first post intro-<person>)
                                             (shared: ``shared_with`` the partner, its
                                             co-owner's id and name, its published link)
    shared post     TEAM#<b>   SHARED#<a>#<post>  the mirror of team a's post shared with
                                   partner b: LSI by_due  <due UTC>#<a>.<post>; GSI by_owner
                                   OWNER#<co-owner> / <due UTC>#<b>#<a>.<post> (both while the
                                   original is dated and not trashed)      TTL (the original's)
    post body       TEAM#<t>   BODY#<post>      long copy, notes, ticked checklist items
    activity        TEAM#<t>   LOG#<post>#<time>#<id>   comments and history of a post
    schedule        TEAM#<t>   SCHEDULE#<schedule>
                                   GSI due  EXTEND / <extend at UTC>#<t>#<schedule> (while active)
    event           TEAM#<t>   EVENT#<event> LSI by_due    due_key   <start UTC>#<event>
                                             (shared: ``shared_with`` the partner)
    shared event    TEAM#<b>   SHAREDEVENT#<a>#<event>  the mirror of team a's event shared
                                   with partner b: LSI by_due  <start UTC>#<a>.<event>
    series template TEAM#<t>   SERIES#<template>
    playbook        TEAM#<t>   PLAYBOOK
    reminder        TEAM#<t>   REMIND#<post>#<kind>   (a shared post's co-owner's: co-<kind>)
                                   GSI due  DUE#<UTC day> / <due>#<t>#<post>#<kind> (while pending)
    health email    TEAM#<t>   HEALTH#<person>  an admin's weekly Cadence health email: a
                                   reminder of kind "health", in GSI due like one (while on)
    notifications   NOTIFY#<p> NOTIFY   a person's outbox of notifications (app.notifications):
    outbox                         a reminder of kind "notify", in GSI due while a batch is
                                   pending; ``notes`` counts the notes ever recorded for it
    unsharing       UNSHARE#<a>#<b> UNSHARE  an ended partnership's shared posts and events
    marker                         still to unshare: a reminder of kind "unshare", in GSI due
                                   5 minutes on (the ending request deletes it when done)
    share kit       TEAM#<t>   KIT#<kit>   GSI by_owner  KITS#<t> / <window end UTC>#<kit>
    kit offer       TEAM#<t>   KIT#<kit>#<person>  the kit offered to one person (taken: their
                                   post's id, in the team they took it in; passed: why)
                                   GSI by_owner  TOSHARE#<person> / <window end>#<t>#<kit>
    kit reminders   TEAM#<t>   REMIND#kit-<kit>#half    the half-window nudge (kind "kit-half")
                    TEAM#<t>   REMIND#kit-<kit>#offers  offers still to write (kind "kit-offers",
                                   5 minutes on; the request that wrote them deletes it)
    CSV import      TEAM#<t>   IMPORT#<import>  counts, state, progress of an uploaded file  TTL
    its rows        TEAM#<t>   IMPORT#<import>#<chunk, 3 digits>  up to 100 parsed rows   TTL
    system
    person          PERSON#<p> PERSON          with ``teams``: {team: {name, role, weekly_health}}
                                               and ``feeds``: {feed: {hash, kind, team, filters}}
                                               and ``profiles``: {profile: {network, handle,
                                               url, rev, created_at}} (at most 10)
    email owner     EMAIL#<address, lower-case>  EMAIL   conditional put keeps addresses unique
    sign-in token   TOKEN#<sha256 of token>    TOKEN   TTL
    used email link USED#<sha256 of payload>   USED   TTL (one-click nudge actions: single use)
    notification    PERSON#<p> NOTE#<time>#<id>  one thing that needs them (a mention, a comment
                                   on their post, a review decision, a hand-over, a
                                   partner's post to review), until the
                                   batch that lists it is sent                        TTL 14 days
    session         SESSION#<sha256 of id>     SESSION TTL
    rate counter    RATE#<scope>#<key>         <window start>   TTL

Access patterns, each one request:

==================================  =====================================================
pattern                             key / index
==================================  =====================================================
posts of team T due in [a, b)       Query LSI ``by_due``: pk = TEAM#T, due_key BETWEEN a, b
(month, week, agenda views)         (strongly consistent; a and b are the period's bounds in
                                    the viewer's zone, converted to UTC; for a month, its
                                    grid's whole weeks, grey days included)
posts of person P due in [a, b),    Query GSI ``by_owner``: owner_pk = OWNER#P,
across teams ("My calendar")        owner_sk BETWEEN a, b (eventually consistent, see below)
ideas (undated posts) of team T     Query LSI ``ideas``: pk = TEAM#T (oldest first)
trash of team T                     Query LSI ``trash``: pk = TEAM#T
one post, its body                  GetItem TEAM#T / POST#x and BODY#x
activity of a post, newest first,   Query pk = TEAM#T, sk begins_with LOG#x#, descending,
a page at a time (the post panel)   Limit = page + 1 (the one more says an older page exists);
                                    the older page starts after the last entry shown
                                    (ExclusiveStartKey), so no page reads all of them
all activity of a post (for         the same Query, every page: only when a post's deadline
re-planning a passed deadline)      changes after some of its nudges' moments have passed
events of team T starting in [a, b)  the same Query of ``by_due``: events carry a due_key too,
(with the posts, in every view)     and the item's sk (POST# or EVENT#) says which it is
partners' posts shared with T due   the same Query again: mirrors (sk SHARED#) carry a due_key
in [a, b) (in every view)           in T's partition; shown while T's ``partners`` map names
                                    their team (``calendar_with_shared``, as team feeds;
                                    Cadence health and CSV export read ``calendar_between``)
partners' posts P co-owns, due in   the ``by_owner`` Query of "My calendar" and P's feed: the
[a, b) (My posts, P's feed, P's     mirror carries OWNER#P (``owned_with_shared``; an absence
daily digest, re-planning P's       notice reads ``owned_between``, without)
nudges)
posts of T and partners' posts T's  the ``by_due`` Query of T over the next 60 days
members co-own (T's default lead    (``calendar_with_shared``): the mirrors name the co-owner,
times changed: re-planning)         then per post as re-planning P's nudges
a post shared with T, by the        BatchGetItem TEAM#A / POST#x, BODY#x and TEAM#A (its
partner side (/t/T/shared/A/x)      owner's name): shown only if T's ``partners`` map names A
                                    and the post's ``shared_with`` is T
posts team A shares with B          Query pk = TEAM#B, sk begins_with SHARED#A# (the mirrors
(ending the partnership)            list the originals: every shared post has one, trashed
                                    or undated too), then per post GetItem and one transaction
partners' events shared with T      the same ``by_due`` Query again: mirrors (sk SHAREDEVENT#)
starting in [a, b) (in every view)  carry a due_key in T's partition; shown while T's
                                    ``partners`` map names their team (``posts.calendar_items``)
an event shared with T, by the      BatchGetItem TEAM#A / EVENT#e and TEAM#A (its owner's
partner side                        name): shown only if T's ``partners`` map names A and the
(/t/T/shared-events/A/e)            event's ``shared_with`` is T
events team A shares with B         Query pk = TEAM#B, sk begins_with SHAREDEVENT#A#, then per
(ending the partnership)            event GetItem and one transaction (as for posts)
a co-owner's nudges of a post       Query pk = TEAM#A, sk begins_with REMIND#<post>#co-
(unsharing, as a partnership ends)  (the share form and edits know the kinds: no read)
a co-owner's member entry           GetItem TEAM#B (its ``members`` map): only for a co-owned
(planning their nudges; the job)    post whose plan changes, and per ``co-`` reminder sent
schedules of team T                 Query pk = TEAM#T, sk begins_with SCHEDULE#
slots of schedule S from day D on   Query pk = TEAM#T, sk BETWEEN POST#S-<D> AND POST#S-~
(extending, re-planning, skipping,  (a slot's id is <schedule>-<its occurrence's local date,
pausing, deleting)                  YYYYMMDD>: a schedule has at most one occurrence a day,
                                    so the range holds the coming slots and never the past's)
posts of event E's series           Query pk = TEAM#T, sk begins_with POST#E-
schedules due for extension         Query GSI ``due``: due_bucket = EXTEND, due_sk <= now: one
(all teams; the scheduled job)      Query however many schedules there are (sparse: only active
                                    ones carry the key, and each is found only once a week)
series templates of team T          Query pk = TEAM#T, sk begins_with SERIES#
events of team T (its events page)  Query pk = TEAM#T, sk begins_with EVENT#
one event (its page, a series       GetItem TEAM#T / EVENT#e (a series post's ``occurrence``
post's panel)                       holds the event's start it was planned against)
playbook of team T                  GetItem TEAM#T / PLAYBOOK (the post panel: in the BatchGet
                                    of the post and its body; the nudge job: in its context's)
members of team T (with roles)      GetItem TEAM#T (its ``members`` map)
pending invites of team T           Query pk = TEAM#T, sk begins_with INVITE#
partners of team T (names, colours) GetItem TEAM#T (its ``partners`` map): on every team page
                                    in the signed-in BatchGet, no request of its own
pending partner invitations of T    Query pk = TEAM#T, sk begins_with PARTNERINVITE#
a partner invitation by its link    GetItem TOKEN#h (purpose "partner", naming the inviting
                                    team), GetItem TEAM#<that team>; accepted by ONE
                                    transaction: the token used (conditional), the
                                    invitation deleted, both teams' ``partners`` maps written
                                    (each conditional on its ``partners_version``)
teams of person P (with roles)      GetItem PERSON#P (its ``teams`` map)
calendar feed of person P, by its   GetItem PERSON#P, strongly consistent (its ``feeds`` map
secret address (``/feeds/P/F/S``)   holds the secret's hash; a team feed's id starts with its
                                    team's, so it is a BatchGetItem of PERSON#P and TEAM#T),
                                    then ONE Query: ``by_owner`` (OWNER#P, from 60 days back to
                                    400 days ahead) for the person's posts, or ``by_due`` of
                                    TEAM#T over the same window for a team feed (filters
                                    applied in code, events included): two requests
profiles of person P (their page,   GetItem PERSON#P (its ``profiles`` map): read with the
the post form of a post P owns)     session's BatchGet; a post's owner's profiles in the post
                                    form: GetItem PERSON#<owner> when the owner is not the
                                    signed-in person; written by one UpdateItem conditional on
                                    the entry's ``rev`` (add: on room in the map)
person by email                     GetItem EMAIL#address, then GetItem PERSON#p
signed-in person (and the team      BatchGetItem SESSION#h + PERSON#p (+ TEAM#T when the URL
of the URL)                         names a team), strongly consistent: one request
sign-in token by its hash           GetItem TOKEN#h; redeemed by one conditional UpdateItem
reminders due at or before t        Query GSI ``due``: due_bucket = DUE#<day>, due_sk <= t,
(all teams)                         for t's UTC day and the catch-up days before it
pending notifications of person P   Query pk = PERSON#P, sk begins_with NOTE# (consistent, at
(the job, sending their batch)      most a transaction's worth): in the system table, so a
                                    person's notes from all their teams are one Query and one
                                    email; recorded in the transaction of the change causing
                                    them, with a blind UpdateItem of the outbox NOTIFY#P that
                                    puts it in ``due`` only if it is not there already
                                    (if_not_exists), so two notes at once make one batch
Cadence health of team T (page and  the ``by_due`` Query over [now - 90 days, now + 8 weeks)
weekly email)                       and the schedules Query: two requests, whatever the
                                    number of schedules (whether the admin gets the email is
                                    in their ``teams`` entry, read with the session)
a CSV import and all its rows        Query pk = TEAM#T, sk begins_with IMPORT#i (the header
(its preview, its progress)         sorts first; 2,000 rows fill 20 chunks, about 2 pages)
one CSV import (a batch's claim)    GetItem TEAM#T / IMPORT#i; a batch is claimed and marked
                                    done by UpdateItems conditional on ``chunks_done`` and the
                                    lease, so two tabs never write one batch twice
one batch of an import's rows       GetItem TEAM#T / IMPORT#i#n
which rows of a CSV file exist      BatchGetItem of POST#<derived id> (and POST#<id column>),
(the import's preview)              100 keys a call: exact for moved, undated and trashed
                                    posts, which a ``by_due`` Query over the file's dates
                                    would miss
posts of a period and their bodies  the views' ``by_due`` Query, then BatchGetItem of
(CSV export)                        BODY#<post>, 100 keys a call
share kits of team T (its kits       Query GSI ``by_owner``: owner_pk = KITS#T, owner_sk >=
page, newest window first)          the oldest window end shown (eventually consistent: a new
                                    kit's page follows its save, from the table)
a kit and all its offers (its       Query pk = TEAM#T, sk begins_with KIT#k (strongly
status page; the job's half-window  consistent; the kit sorts first, each offer after it),
nudge; writing its offers)          then ONE BatchGetItem of the taken posts and their bodies
                                    (TEAM#<taker's team> / POST#p and BODY#p, 100 keys a call:
                                    50 takers), for status, due and published link: no
                                    per-person reads
kits offered to person P, across    Query GSI ``by_owner``: owner_pk = TOSHARE#P, owner_sk >=
teams (their "To share" list)       a month back (each offer copies the kit's title, window
                                    and team name); offers in teams P has left are not shown
a kit offered to P (its page for    BatchGetItem TEAM#T / KIT#k and KIT#k#P (strongly
P, taking it, passing)              consistent); taken by ONE transaction: P's post (a put
                                    conditional on no post with its id, which is made from the
                                    kit's and P's, so two tabs make one post), its body, its
                                    nudges and the offer (conditional: not taken already)
==================================  =====================================================

A membership is written twice, in one transaction: into the team's ``members`` map and the
person's ``teams`` map. Both are small (a small team's people, a person's teams) and each is
read with the item a request loads anyway, so a team page needs no extra request to know who
may do what or whose initials go on a post. Renaming a person or a team updates the copies in
the same way.

A partnership (issue 11) is written twice in the same way: each team's ``partners`` map holds
the other's name and the colour this side shows it in (distinct among its partners), both
written in one transaction, whole and conditional on ``partners_version`` (teams made before
partners have no map to set an entry in; the version also keeps two accepts at once from
passing MAX_PARTNERS). Ending it removes both entries in one transaction; a rename updates the
copies with the team's own name, as for members.

Sharing posts with a partner (issue 11, phase 2). A post stays in its owning team A; sharing
it with partner B writes a mirror item ``TEAM#B / SHARED#<A>#<post>`` (``SharedPost``)
holding what a calendar shows (title, channels, due, zone, status, the co-owner's id and name,
A's id and name, B's published link) with ``due_key = <due UTC>#<A>.<post>``, so B's one
``by_due`` Query of a period returns it among B's own posts (the sk prefix tells it apart, as
EVENT# does; B's ``partners`` map gives A's current name and colour), and, with a co-owner,
``owner_pk = OWNER#<co-owner>`` / ``owner_sk = <due UTC>#<B>#<A>.<post>``, so the co-owner's
``by_owner`` Query ("My posts", their feed) returns it too: no Scan and no per-item read on
either side. Every write of a shared post writes the original and its mirror in one
TransactWriteItems (the original's version condition): ``app.store.posts._writing`` adds it
for every writer. ``posts.move`` writes blind, conditional on ``shared_with`` not existing;
when that fails it reads the post and, if it is shared and as the view showed it, moves it
with its mirror (an unshared post's move stays one write). Sharing is conditional on A's
``partners`` map still naming B. A trashed or undated shared post keeps its mirror, out of
the indexes, so the mirrors list every shared original. Ending a partnership reads B's
mirrors of A's posts (Query pk = TEAM#B, sk begins_with SHARED#A#; and the reverse), then
clears each original (version-conditional) and deletes its mirror in one transaction; the
owning side keeps its posts (ending again finishes what a failure left). The co-owner is
nudged too, by their own preferences: their reminders are kinds prefixed ``co-``
(``TEAM#A / REMIND#<post>#co-before-240``, ``co-overdue-<n>``; never an escalation) in A's
partition, so the post's timeline Query and every re-planning find them with the owner's.
They are planned from the co-owner's entry in B's ``members`` map: one GetItem of TEAM#B when
a co-owned post's deadline changes or a co-owner is named (``app.planner.changes``), written
in the post's transaction; unsharing drops them in it, and ending the partnership drops them
in each post's unsharing transaction (one Query of ``REMIND#<post>#co-`` first). The job reads
TEAM#B once more (GetItem) for a ``co-`` reminder, and sends it only while A's ``partners``
map names B, the post is shared with B and co-owned by that person, who is a member of B.

Events are shared the same way, without a co-owner: ``TEAM#B / SHAREDEVENT#<A>#<event>``
(``SharedEvent``) holds what a band shows (title, place, start, end, zone, state, A's id and
name) with ``due_key = <start UTC>#<A>.<event>``, so B's one ``by_due`` Query of a period
returns it with B's own posts and events. Every write of a shared event
(``app.store.events``: save, move, cancel, share) writes the original, conditional on its
version, and its mirror in one TransactWriteItems; an unshared event's save stays one
PutItem. Sharing is conditional on A's ``partners`` map naming B; ending the partnership
unshares A's and B's events with their posts (``sharing.unshare_all``). B's read-only page
reads the original and TEAM#A (one BatchGetItem) for its notes and its owner's name.

Item sizes. DynamoDB refuses an item over 400 KB, and moto lets one through inside a
transaction; every item therefore has a bound, from the limits the forms and the store apply,
measured at those limits with the widest UTF-8 text (tests/test_size_limits.py): a team with
100 people (members and invitations), 30 channels, 200 tags and 20 partners ~120 KB; a
person in 50 teams with 10 calendar feeds ~28 KB; a post body ~352 KB (copy, notes and ticked
checklist items 350,000 bytes together, the reason for its own item); a post summary ~11 KB
(a shared one's link and names included) and its partner's mirror ~7.5 KB; an event ~11 KB
and a shared event's mirror ~2.3 KB (no notes); a
history entry ~17 KB (it records that copy, notes or ticks changed, not their text); a
playbook ~215 KB (10,000 characters of guidelines, 30 channels' checklists of 12 items of 120
characters); a CSV import's chunk ~381 KB (its rows' JSON is cut at 380,000 bytes, a longer
row refused) and its header ~33 KB (50 column names of 80 characters); every other item under
2 KB. A write DynamoDB still refuses as too large is
a 413 page, never an outage or a conflict (``item_too_large``).

No code path scans. Read-your-writes: every team view reads the base table or one of its LSIs
with ``ConsistentRead``, and LSIs are written in the same operation as the item, so a saved or
moved post is in the very next view. Only "My calendar" reads a GSI; the view that follows a
save is the team calendar, and "My calendar" merges the post the person has just written.
Indexes cost writes only for items that carry their keys.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from app.store import keys


class CalendarMeta:
    table_name = "cadenza-calendar"
    region = "eu-west-1"
    host = None
    aws_access_key_id = None
    aws_secret_access_key = None
    billing_mode = "PAY_PER_REQUEST"


class SystemMeta(CalendarMeta):
    table_name = "cadenza-system"


class _Index:
    """Settings shared by every index of Cadenza's tables."""

    class Meta:
        projection = AllProjection()


class ByDue(LocalSecondaryIndex):
    class Meta(_Index.Meta):
        index_name = "by_due"

    pk = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class Ideas(LocalSecondaryIndex):
    class Meta(_Index.Meta):
        index_name = "ideas"

    pk = UnicodeAttribute(hash_key=True)
    idea_key = UnicodeAttribute(range_key=True)


class Trash(LocalSecondaryIndex):
    class Meta(_Index.Meta):
        index_name = "trash"

    pk = UnicodeAttribute(hash_key=True)
    trash_key = UnicodeAttribute(range_key=True)


class ByOwner(GlobalSecondaryIndex):
    class Meta(_Index.Meta):
        index_name = "by_owner"

    owner_pk = UnicodeAttribute(hash_key=True)
    owner_sk = UnicodeAttribute(range_key=True)


class DueReminders(GlobalSecondaryIndex):
    class Meta(_Index.Meta):
        index_name = "due"

    due_bucket = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


@dataclass(frozen=True)
class Member:
    person_id: str
    name: str
    email: str
    role: str
    joined_at: str
    zone: str = "UTC"
    leads: list | None = None
    quiet: list | None = None
    away: list | None = None
    nudges_on: bool = True
    mail_problem: str | None = None  # "bounce" or "complaint": admins see it on the members list

    def away_on(self, day) -> bool:
        return bool(self.away) and self.away[0] <= day.isoformat() <= self.away[1]


class Team(Model):
    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="TEAM")
    team_id = UnicodeAttribute()
    name = UnicodeAttribute()
    zone = UnicodeAttribute()
    language = UnicodeAttribute()
    channels = ListAttribute(of=UnicodeAttribute)
    tags = UnicodeSetAttribute(null=True)  # every tag used on a post, for autocompletion
    lead_minutes = ListAttribute(of=NumberAttribute, default=lambda: [1440, 60])
    # {person_id: {"name", "email", "role", "joined_at", the nudge preferences planning
    #  needs: "zone", "leads", "quiet", "away", "nudges_on", and "mail_problem"}}
    members = MapAttribute(default=dict)
    # Kept with ``members``: "never remove the last admin" is a condition on this number,
    # which holds even when two admins act at the same moment.
    admin_count = NumberAttribute(default=0)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # {team_id: {"name", "colour", "since"}}: the active partner teams (issue 11), written
    # on both teams in one transaction, so every page of the team knows its partners' names
    # and colours (the colour is this side's choice, distinct among its partners). Teams made
    # before partners had neither attribute: whole-map writes are conditional on the version.
    partners = MapAttribute(null=True)
    partners_version = NumberAttribute(null=True)

    @classmethod
    def key(cls, team_id: str) -> tuple[str, str]:
        return keys.team(team_id), "TEAM"

    def partner_entries(self) -> dict[str, dict]:
        return _plain(self.partners)

    def member_entries(self) -> dict[str, dict]:
        return _plain(self.members)

    def member(self, person_id: str) -> Member | None:
        entry = self.member_entries().get(person_id)
        return Member(person_id=person_id, **entry) if entry else None

    def member_list(self) -> list[Member]:
        """Members by name."""
        found = (Member(person_id=pid, **entry) for pid, entry in self.member_entries().items())
        return sorted(found, key=lambda member: (member.name or member.email).casefold())


def _plain(raw_map) -> dict:
    """A raw map attribute as a dict (a new item holds a dict, a loaded one a MapAttribute)."""
    return raw_map.as_dict() if isinstance(raw_map, MapAttribute) else dict(raw_map or {})


class Invite(Model):
    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()

    @classmethod
    def key(cls, team_id: str, token_hash: str) -> tuple[str, str]:
        return keys.team(team_id), f"INVITE#{token_hash}"


class PartnerInvite(Model):
    """Team ``team_id`` asks the team admin at ``email`` to be partners; the link's token is a
    SignInToken of purpose "partner" with the same hash (single use, expiring with this)."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    email = UnicodeAttribute()
    invited_by = UnicodeAttribute()  # the inviting admin's person id
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()

    @classmethod
    def key(cls, team_id: str, token_hash: str) -> tuple[str, str]:
        return keys.team(team_id), f"PARTNERINVITE#{token_hash}"


# The networks a personal profile may be on (app.store.profiles), in the order the form lists
# them, with the name a team channel of that network has: a post's character counters and the
# playbook's checklists apply to a profile by it ("blog" and "other" have none).
PROFILE_NETWORKS = {
    "linkedin": "LinkedIn",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "x": "X",
    "threads": "Threads",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "blog": "",
    "other": "",
}


class ProfileCopy(MapAttribute):
    """A personal profile as a post keeps it (``Post.profiles``): its person and id, and what
    the calendar shows, so that no view reads the person."""

    person = UnicodeAttribute()
    id = UnicodeAttribute()
    network = UnicodeAttribute()
    handle = UnicodeAttribute()

    @property
    def channel(self) -> str:
        """The team channel name its network goes by ("" for a blog or another network)."""
        return PROFILE_NETWORKS.get(self.network, "")

    def __str__(self) -> str:  # as history records it
        return f"{self.channel or self.network} · {self.handle}"


def channel_names(channels, profile_copies) -> list[str]:
    """Channels, then the channel names of these profiles' networks (a profile on LinkedIn
    counts LinkedIn's characters and gets a LinkedIn channel's checklist), each once."""
    names = [*(channels or []), *(copy.channel for copy in profile_copies or [] if copy.channel)]
    return list(dict.fromkeys(names))


class Post(Model):
    """The small summary of a post that calendar views read; long text lives in PostBody."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    title = UnicodeAttribute()
    channels = ListAttribute(of=UnicodeAttribute, default=list)
    owner_id = UnicodeAttribute(null=True)
    due = UTCDateTimeAttribute(null=True)
    zone = UnicodeAttribute()
    status = UnicodeAttribute(default="idea")
    tags = UnicodeSetAttribute(null=True)
    reviewer_id = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    deleted_at = UTCDateTimeAttribute(null=True)
    # When it became published (the on-time rate compares it with ``due``).
    published_at = UTCDateTimeAttribute(null=True)
    # Planned posts: a schedule's slot (its occurrence, local wall time "YYYY-MM-DDTHH:MM", and
    # the rotation turn it was given), or a step of an event's series. Their ids start with the
    # schedule's or event's id, so one Query (sk begins_with) finds them all.
    schedule_id = UnicodeAttribute(null=True)
    occurrence = UnicodeAttribute(null=True)
    turn = NumberAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    series_step = UnicodeAttribute(null=True)
    # Set by every change a person makes (edit, move, review): re-planning a schedule or moving
    # an event leaves such posts as the person left them.
    edited_by_hand = BooleanAttribute(default=False)
    version = VersionAttribute()
    due_key = UnicodeAttribute(null=True)
    idea_key = UnicodeAttribute(null=True)
    trash_key = UnicodeAttribute(null=True)
    owner_pk = UnicodeAttribute(null=True)
    owner_sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    # Shared with a partner team (issue 11): that team's id, the partner member who co-owns it
    # there (id and name: the partner's emails never cross), the partner side's published
    # link, and this team's name as the mirror shows it where no team item names it (the
    # co-owner's My posts). Every write of a shared post writes its SharedPost mirror too.
    shared_with = UnicodeAttribute(null=True)
    co_owner_id = UnicodeAttribute(null=True)
    co_owner_name = UnicodeAttribute(null=True)
    partner_published_url = UnicodeAttribute(null=True)
    origin_name = UnicodeAttribute(null=True)
    # The owner's own profiles it goes out on (issue 12), beside the team's channels: each
    # one's person is the owner (app.planner.changes.refusal).
    profiles = ListAttribute(of=ProfileCopy, null=True)

    def channel_names(self) -> list[str]:
        """What its counters and checklists go by: its channels and its profiles' networks."""
        return channel_names(self.channels, self.profiles)

    def reach_line(self) -> str:
        """Its channels and profiles as one line ("Instagram, LinkedIn · giulia-rossi")."""
        return ", ".join([*(self.channels or []), *(str(copy) for copy in self.profiles or [])])

    # The CSV import that wrote the post: a confirm cut off half-way and pressed again finds
    # its own posts in place and still counts them as imported, not as already there.
    import_id = UnicodeAttribute(null=True)
    # Taken from a share kit (issue 12): the kit's team and id (its offer names this post).
    kit_team_id = UnicodeAttribute(null=True)
    kit_id = UnicodeAttribute(null=True)

    by_due = ByDue()
    ideas = Ideas()
    trash = Trash()
    by_owner = ByOwner()

    @property
    def planned(self) -> bool:
        """Planned by a schedule or an event, and nobody has changed it since."""
        return bool(self.schedule_id or self.event_id) and not self.edited_by_hand

    @classmethod
    def key(cls, team_id: str, post_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"POST#{post_id}"

    def place(self) -> None:
        """Set the index keys from the post's state: dated, idea or trashed."""
        self.due_key = self.idea_key = self.trash_key = None
        self.owner_pk = self.owner_sk = None
        if self.deleted_at is not None:
            self.trash_key = f"{keys.instant(self.deleted_at)}#{self.post_id}"
        elif self.due is None:
            self.idea_key = f"{keys.instant(self.created_at)}#{self.post_id}"
        else:
            self.due_key = f"{keys.instant(self.due)}#{self.post_id}"
            if self.owner_id:
                self.owner_pk = f"OWNER#{self.owner_id}"
                self.owner_sk = f"{keys.instant(self.due)}#{self.team_id}#{self.post_id}"


class SharedPost(Model):
    """The copy of a shared post that its partner team's views read (``TEAM#<partner>`` /
    ``SHARED#<owning team>#<post>``): what a calendar chip and the co-owner's lists show,
    written in the same transaction as every write of the original, never on its own.

    ``team_id`` is the team it is shown in and ``post_id`` the original's (a feed's UID keeps
    the original's); ``owner_id`` is the co-owner, a member of the team it is shown in. In
    ``by_due`` and ``by_owner`` only while the original is dated and not in the trash.
    """

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    origin_team_id = UnicodeAttribute()
    origin_name = UnicodeAttribute(default="")
    post_id = UnicodeAttribute()
    title = UnicodeAttribute()
    channels = ListAttribute(of=UnicodeAttribute, default=list)
    due = UTCDateTimeAttribute(null=True)
    zone = UnicodeAttribute()
    status = UnicodeAttribute()
    owner_id = UnicodeAttribute(null=True)  # the co-owner
    owner_name = UnicodeAttribute(null=True)  # the co-owner's name
    trashed = BooleanAttribute(default=False)
    partner_published_url = UnicodeAttribute(null=True)
    # Never set (a partner does not see the tags); the calendar filters read it as no tags.
    tags = UnicodeSetAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # The original's version once the write that wrote this lands (a feed's SEQUENCE).
    version = NumberAttribute(default=0)
    due_key = UnicodeAttribute(null=True)
    owner_pk = UnicodeAttribute(null=True)
    owner_sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # the trashed original's: they go together

    by_due = ByDue()
    by_owner = ByOwner()

    @classmethod
    def key(cls, team_id: str, origin_team_id: str, post_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"SHARED#{origin_team_id}#{post_id}"

    @classmethod
    def prefix(cls, origin_team_id: str) -> str:
        return f"SHARED#{origin_team_id}#"

    @classmethod
    def of(cls, post: Post) -> "SharedPost":
        """The mirror of ``post`` in the team it is shared with."""
        mirror = cls(
            *cls.key(post.shared_with, post.team_id, post.post_id),
            team_id=post.shared_with,
            origin_team_id=post.team_id,
            origin_name=post.origin_name or "",
            post_id=post.post_id,
            title=post.title,
            channels=list(post.channels or []),
            due=post.due,
            zone=post.zone,
            status=post.status,
            owner_id=post.co_owner_id,
            owner_name=post.co_owner_name,
            trashed=post.deleted_at is not None,
            partner_published_url=post.partner_published_url,
            expires_at=post.expires_at,
            updated_at=post.updated_at,
            version=int(post.version or 0) + 1,
        )
        if post.due is not None and post.deleted_at is None:
            shown_id = f"{post.team_id}.{post.post_id}"
            mirror.due_key = f"{keys.instant(post.due)}#{shown_id}"
            if post.co_owner_id:
                mirror.owner_pk = f"OWNER#{post.co_owner_id}"
                mirror.owner_sk = f"{keys.instant(post.due)}#{post.shared_with}#{shown_id}"
        return mirror


class PostBody(Model):
    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    copy = UnicodeAttribute(default="")
    notes = UnicodeAttribute(default="")
    published_url = UnicodeAttribute(null=True)
    # The playbook checklist items of the post's channels its writer ticked (their text).
    checked = ListAttribute(of=UnicodeAttribute, null=True)
    # A share kit's suggested copy it started from: marking the post published compares the
    # copy with it (app.kits.voice), so the person hears when they posted the suggestion as is.
    seed = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    @classmethod
    def key(cls, team_id: str, post_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"BODY#{post_id}"


class Activity(Model):
    """A comment on a post, or a recorded change to it (who, what, when)."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    post_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # "comment", "created", "changed", "moved", "trashed", ...
    text = UnicodeAttribute(default="")
    # {field: [before, after]} for changes, as display-ready strings.
    changes = MapAttribute(default=dict)
    at = UTCDateTimeAttribute()
    actor_name = UnicodeAttribute(null=True)  # a partner team's person: no member to look up

    @classmethod
    def prefix(cls, post_id: str) -> str:
        return f"LOG#{post_id}#"

    @classmethod
    def new(cls, team_id: str, post_id: str, **attributes) -> "Activity":
        at = keys.precise_instant(attributes["at"])
        sort_key = f"{cls.prefix(post_id)}{at}#{keys.new_id(8)}"
        return cls(keys.team(team_id), sort_key, post_id=post_id, **attributes)

    def change_list(self) -> list[tuple[str, str, str]]:
        return [(field, *values) for field, values in sorted(_plain(self.changes).items())]


class Extending(GlobalSecondaryIndex):
    """The ``due`` index as schedules use it: one partition, EXTEND, of active schedules by
    when their slots need extending."""

    class Meta(_Index.Meta):
        index_name = "due"

    due_bucket = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


EXTEND_BUCKET = "EXTEND"


class Schedule(Model):
    """A recurring cadence that plans slots: draft posts owned in turn by its people."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    schedule_id = UnicodeAttribute()
    title = UnicodeAttribute()  # the slots' title pattern
    rule = UnicodeAttribute()  # an RFC 5545 RRULE, expanded in local wall-clock time
    zone = UnicodeAttribute()
    starts_local = UnicodeAttribute()  # the first occurrence's wall time, "YYYY-MM-DDTHH:MM"
    starts_at = UTCDateTimeAttribute()
    owners = ListAttribute(of=UnicodeAttribute, default=list)  # one person, or a rotation
    channels = ListAttribute(of=UnicodeAttribute, default=list)
    turn = NumberAttribute(default=0)  # the rotation's turn after the last planned slot
    planned_until = UTCDateTimeAttribute(null=True)  # slots exist for occurrences before it
    skipped = UnicodeSetAttribute(null=True)  # local dates of coming occurrences skipped
    state = UnicodeAttribute(default="active")  # active, paused, ended
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    # In the ``due`` index (bucket EXTEND) while active: when its horizon needs extending.
    due_bucket = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)

    extending = Extending()

    @classmethod
    def key(cls, team_id: str, schedule_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"SCHEDULE#{schedule_id}"


class Event(Model):
    """An offline event (tasting, fair, open day): shown on the calendar, driving a series of
    posts. In the ``by_due`` index by its start, so a calendar view's one Query finds it."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    title = UnicodeAttribute()
    kind = UnicodeAttribute(default="")  # the series template it was planned with, if any
    place = UnicodeAttribute(default="")
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    zone = UnicodeAttribute()
    notes = UnicodeAttribute(default="")
    partner = UnicodeAttribute(default="")  # a partner's name, free text
    owner_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="planned")  # planned, cancelled
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    due_key = UnicodeAttribute(null=True)
    # Shared with a partner team (issue 11): that team's id, and this team's name as the
    # mirror shows it where no partners map names it. Every write of a shared event writes
    # its SharedEvent mirror too (``app.store.events``).
    shared_with = UnicodeAttribute(null=True)
    origin_name = UnicodeAttribute(null=True)

    by_due = ByDue()

    @classmethod
    def key(cls, team_id: str, event_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"EVENT#{event_id}"

    def place_in_calendar(self) -> None:
        self.due_key = f"{keys.instant(self.starts_at)}#{self.event_id}"


class SharedEvent(Model):
    """The copy of a shared event its partner team's calendar reads (``TEAM#<partner>`` /
    ``SHAREDEVENT#<owning team>#<event>``): what a band shows, written in the same
    transaction as every write of the original, never on its own. Notes and the owner's name
    stay on the original, which the partner's page of it reads.

    ``team_id`` is the team it is shown in, ``event_id`` the original's. Always in ``by_due``
    by the original's start (an event is always dated, and is never trashed).
    """

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    origin_team_id = UnicodeAttribute()
    origin_name = UnicodeAttribute(default="")
    event_id = UnicodeAttribute()
    title = UnicodeAttribute()
    place = UnicodeAttribute(default="")
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    zone = UnicodeAttribute()
    state = UnicodeAttribute(default="planned")
    updated_at = UTCDateTimeAttribute(null=True)
    due_key = UnicodeAttribute(null=True)

    by_due = ByDue()

    @classmethod
    def key(cls, team_id: str, origin_team_id: str, event_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"SHAREDEVENT#{origin_team_id}#{event_id}"

    @classmethod
    def prefix(cls, origin_team_id: str) -> str:
        return f"SHAREDEVENT#{origin_team_id}#"

    @classmethod
    def of(cls, event: Event) -> "SharedEvent":
        """The mirror of ``event`` in the team it is shared with."""
        return cls(
            *cls.key(event.shared_with, event.team_id, event.event_id),
            team_id=event.shared_with,
            origin_team_id=event.team_id,
            origin_name=event.origin_name or "",
            event_id=event.event_id,
            title=event.title,
            place=event.place or "",
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            zone=event.zone,
            state=event.state,
            updated_at=event.updated_at,
            due_key=f"{keys.instant(event.starts_at)}#{event.team_id}.{event.event_id}",
        )


class SeriesTemplate(Model):
    """A team's template of an event's post series ("Tasting": teaser, reminder, live, recap).

    ``steps``: [{"step", "label", "days" (offset from the event's day), "time" ("HH:MM"),
    "title" (a pattern), "channels", "owner" (a person id, or "" for the event's owner)}].
    """

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    steps = ListAttribute(of=MapAttribute, default=list)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, team_id: str, template_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"SERIES#{template_id}"


class Playbook(Model):
    """How the team speaks: guidelines (Markdown) and a checklist per channel."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="PLAYBOOK")
    team_id = UnicodeAttribute()
    guidelines = UnicodeAttribute(default="")  # Markdown, rendered without raw HTML
    checklists = MapAttribute(default=dict)  # {channel: [item, ...]}
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    @classmethod
    def key(cls, team_id: str) -> tuple[str, str]:
        return keys.team(team_id), "PLAYBOOK"

    def checklist(self, channels) -> list[tuple[str, list[str]]]:
        """The checklists of these channels, in their order, leaving out channels without one."""
        lists = _plain(self.checklists)
        return [(channel, list(lists[channel])) for channel in channels if lists.get(channel)]


class CsvImport(Model):
    """A CSV file being imported (app.spreadsheets): its counts, state and progress. Its
    parsed rows wait beside it in ``CsvImportChunk`` items until confirmed; all expire a day
    after the upload (TTL)."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    file_name = UnicodeAttribute(default="")
    zone = UnicodeAttribute()  # the uploader's: dates without a zone column are read in it
    delimiter = UnicodeAttribute(default=",")
    columns = ListAttribute(of=UnicodeAttribute, default=list)  # as the file's header named them
    ignored = ListAttribute(of=UnicodeAttribute, default=list)  # columns Cadenza does not read
    chunk_count = NumberAttribute(default=0)
    rows_total = NumberAttribute(default=0)
    rows_new = NumberAttribute(default=0)
    rows_there = NumberAttribute(default=0)
    rows_error = NumberAttribute(default=0)
    state = UnicodeAttribute(default="ready")  # ready, importing, done
    chunks_done = NumberAttribute(default=0)
    created = NumberAttribute(default=0)  # posts written by the import
    found = NumberAttribute(default=0)  # rows whose post was there when written
    left_out = NumberAttribute(default=0)  # rows the team no longer allowed when confirmed
    rows_done = NumberAttribute(default=0)  # new rows handled so far (the progress shown)
    lease_until = UTCDateTimeAttribute(null=True)  # a request is writing chunk chunks_done
    lease_holder = UnicodeAttribute(null=True)  # which request (a random id)
    expires_at = TTLAttribute()

    @classmethod
    def key(cls, team_id: str, import_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"IMPORT#{import_id}"


class CsvImportChunk(Model):
    """Up to 100 parsed rows of an import (JSON, each with its errors and whether its post
    is new), so that Lambda, which keeps nothing between requests, can import them later."""

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    rows = UnicodeAttribute()
    expires_at = TTLAttribute()

    @classmethod
    def key(cls, team_id: str, import_id: str, number: int) -> tuple[str, str]:
        return keys.team(team_id), f"IMPORT#{import_id}#{number:03d}"


class Reminder(Model):
    """One nudge to send: about a post (``TEAM#t`` / ``REMIND#post#kind``) or a person's daily
    digest (``DIGEST#p`` / ``DIGEST``). In the ``due`` index only while pending.

    ``due`` is when the job should act next (snoozes, quiet hours and retries move it);
    ``for_due`` is the post's due time the reminder was planned for, so a reminder left over
    from an earlier plan is recognised and cancelled instead of sent.
    """

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute(default="")
    post_id = UnicodeAttribute(default="")
    kind = UnicodeAttribute()
    person_id = UnicodeAttribute(default="")  # empty for the admins' escalation
    due = UTCDateTimeAttribute()
    for_due = UTCDateTimeAttribute(null=True)
    state = UnicodeAttribute(default="pending")  # pending, sent, cancelled, failed
    lease_owner = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    sent_at = UTCDateTimeAttribute(null=True)
    sent_to = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)  # why it was cancelled, failed or was moved
    handed_by = UnicodeAttribute(null=True)  # who handed the post over (a hand-over's mail)
    # A notifications outbox (NOTIFY#p): how many notes were ever recorded for it. Closing an
    # empty batch is conditional on it, so a note recorded meanwhile is never left unsent.
    notes = NumberAttribute(null=True)
    due_bucket = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)

    due_index = DueReminders()

    @classmethod
    def key(cls, team_id: str, post_id: str, kind: str) -> tuple[str, str]:
        return keys.team(team_id), f"REMIND#{post_id}#{kind}"

    @classmethod
    def prefix(cls, post_id: str) -> str:
        return f"REMIND#{post_id}#"

    @classmethod
    def digest_key(cls, person_id: str) -> tuple[str, str]:
        return f"DIGEST#{person_id}", "DIGEST"

    def index_as_pending(self) -> None:
        self.state = "pending"
        self.due_bucket = keys.due_bucket(self.due)
        self.due_sk = f"{keys.instant(self.due)}#{self.pk}#{self.sk}"


class Person(Model):
    class Meta(SystemMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="PERSON")
    person_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    language = UnicodeAttribute(default="en")
    zone = UnicodeAttribute(default="UTC")
    week_start = NumberAttribute(default=0)  # 0 = Monday, as Python's weekday()
    # {team_id: {"name": ..., "role": ...}}: the team switcher and every role check read it
    # from the one item a request loads anyway.
    teams = MapAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    # Nudge preferences. They are copied into each team's member entry (see Team.members), so
    # that planning a post's reminders needs no extra read.
    nudges_on = BooleanAttribute(default=True)
    lead_minutes = ListAttribute(of=NumberAttribute, null=True)  # None: the team's default
    quiet_start = UnicodeAttribute(default="21:00")  # "" for no quiet hours
    quiet_end = UnicodeAttribute(default="08:00")
    digest_on = BooleanAttribute(default=False)
    digest_at = UnicodeAttribute(default="08:00")
    away_from = UnicodeAttribute(null=True)  # ISO dates, both days included
    away_until = UnicodeAttribute(null=True)
    last_failure = MapAttribute(null=True)  # {"at", "reason", "post"} of an undeliverable nudge
    # SES feedback (app.bounces): mail to the address bounced for good ("bounce") or was
    # reported as spam ("complaint"). While set, the nudge job sends them nothing; following
    # an emailed link (a bounce only) or the button on their page clears it.
    mail_problem = UnicodeAttribute(null=True)
    mail_problem_at = UTCDateTimeAttribute(null=True)  # when SES saw it
    mail_problem_reason = UnicodeAttribute(null=True)  # diagnostic code or feedback type, short
    # When the address last proved to work (a mark cleared): older feedback is stale.
    mail_works_at = UTCDateTimeAttribute(null=True)
    # The last sign-in through an emailed link: links mailed before it no longer sign in.
    signed_in_by_link_at = UTCDateTimeAttribute(null=True)
    # The kinds of notifications (app.notifications.KINDS) the person switched off.
    notify_off = ListAttribute(of=UnicodeAttribute, null=True)
    # Unsubscribe links carry the generation they were mailed in; turning nudges back on starts
    # a new one, so older links no longer unsubscribe (app.nudges.tokens.revoked).
    unsubscribe_generation = NumberAttribute(default=0)
    # Calendar feeds (app.store.feeds): {feed_id: {"hash", "kind", "team", "filters",
    # "created_at"}}, at most feeds.MAX_FEEDS; only the hash of each secret address is kept.
    feeds = MapAttribute(null=True)
    # The person's own profiles (app.store.profiles): {profile_id: {"network", "handle", "url",
    # "rev", "created_at"}}, at most profiles.MAX_PROFILES; channels only they edit.
    profiles = MapAttribute(null=True)

    @classmethod
    def key(cls, person_id: str) -> tuple[str, str]:
        return keys.person(person_id), "PERSON"

    def nudge_preferences(self) -> dict:
        """What each team's member entry copies: the preferences planning needs, and whether
        mail to the person is stopped (their admins see it)."""
        away = [self.away_from, self.away_until] if self.away_from and self.away_until else None
        quiet = [self.quiet_start, self.quiet_end] if self.quiet_start and self.quiet_end else None
        return {
            "zone": self.zone,
            "leads": [int(minutes) for minutes in self.lead_minutes] if self.lead_minutes else None,
            "quiet": quiet,
            "away": away,
            "nudges_on": bool(self.nudges_on),
            "mail_problem": self.mail_problem,
        }

    def team_entries(self) -> dict[str, dict]:
        """``{team_id: {"name", "role"}}``."""
        return _plain(self.teams)

    def role_in(self, team_id: str) -> str | None:
        entry = self.team_entries().get(team_id)
        return entry["role"] if entry else None

    def team_list(self) -> list[dict]:
        """The person's teams as ``{"team_id", "name", "role"}``, by name."""
        return sorted(
            ({"team_id": team_id, **entry} for team_id, entry in self.team_entries().items()),
            key=lambda entry: entry["name"].casefold(),
        )


class EmailOwner(Model):
    class Meta(SystemMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="EMAIL")
    person_id = UnicodeAttribute()

    @classmethod
    def key(cls, address: str) -> tuple[str, str]:
        return keys.email(address), "EMAIL"


class UsedLink(Model):
    """Marks a one-click email link as used (by its fingerprint) until it would expire."""

    class Meta(SystemMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="USED")
    used_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()

    @classmethod
    def key(cls, fingerprint: str) -> tuple[str, str]:
        return f"USED#{fingerprint}", "USED"


class Notification(Model):
    """Something that needs a person, waiting for their next batch email (app.notifications).

    What the email says is copied in (who, the post's title and due time), so sending a batch
    reads the person and one Query, never the posts.
    """

    class Meta(SystemMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # mention, comment, approved, changes, handed, review, kit...
    team_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    title = UnicodeAttribute()
    due = UTCDateTimeAttribute(null=True)
    actor_id = UnicodeAttribute()
    actor_name = UnicodeAttribute(default="")
    text = UnicodeAttribute(default="")  # the comment or review note, cut short
    at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    # A review asked of a partner team's admins (kind "review"): that team, and the version
    # of the post their one-click decision is about.
    partner_id = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    # The post's own team's name, for a reader not in it (a partner's post to review).
    team_name = UnicodeAttribute(null=True)
    # A share kit offered (kinds "kit", "kit-nudge"): ``post_id`` is the kit's id, ``team_id``
    # the team the person is offered it in, this the kit's own team.
    kit_team_id = UnicodeAttribute(null=True)

    @classmethod
    def prefix(cls) -> str:
        return "NOTE#"


class SignInToken(Model):
    class Meta(SystemMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="TOKEN")
    email = UnicodeAttribute()
    purpose = UnicodeAttribute()  # "sign_in", "invite" or "partner" (a partner invitation)
    team_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    used_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, token_hash: str) -> tuple[str, str]:
        return f"TOKEN#{token_hash}", "TOKEN"


class Session(Model):
    class Meta(SystemMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="SESSION")
    person_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()

    @classmethod
    def key(cls, session_hash: str) -> tuple[str, str]:
        return f"SESSION#{session_hash}", "SESSION"


KIT_PREFIX = "KIT#"


class Kit(Model):
    """A share kit (issue 12): something worth telling that the team offers its people, who
    each post it on their own profile in their own words (``TEAM#t`` / ``KIT#<kit>``).

    In ``by_owner`` under ``KITS#<t>`` by the end of its window: the team's kits page is one
    Query. Its offers (``KitOffer``) sort right after it, so its status page is one Query too.
    """

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    team_id = UnicodeAttribute()
    kit_id = UnicodeAttribute()
    title = UnicodeAttribute()
    story = UnicodeAttribute(default="")
    facts = UnicodeAttribute(default="")  # key facts and links, one a line
    # Suggested copy by network (PROFILE_NETWORKS' keys), "any" for every other one: a
    # starting point, each person says it their way.
    suggestions = MapAttribute(default=dict)
    hashtags = UnicodeAttribute(default="")  # hashtags and people to tag
    starts = UTCDateTimeAttribute()  # the window: the first day's start in ``zone``
    ends = UTCDateTimeAttribute()  # the day after the last day, at its start in ``zone``
    zone = UnicodeAttribute()
    audience = UnicodeAttribute(default="team")  # "team" (its editors and admins) or "chosen"
    chosen = ListAttribute(of=UnicodeAttribute, null=True)  # person ids, for "chosen"
    partners = ListAttribute(of=UnicodeAttribute, null=True)  # partner teams offered it too
    created_by = UnicodeAttribute()
    created_by_name = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    owner_pk = UnicodeAttribute(null=True)
    owner_sk = UnicodeAttribute(null=True)

    by_owner = ByOwner()

    @classmethod
    def key(cls, team_id: str, kit_id: str) -> tuple[str, str]:
        return keys.team(team_id), f"{KIT_PREFIX}{kit_id}"

    def place(self) -> None:
        self.owner_pk = f"KITS#{self.team_id}"
        self.owner_sk = f"{keys.instant(self.ends)}#{self.kit_id}"

    def first_day(self) -> date:
        """The window's first day, in the kit's zone."""
        return self.starts.astimezone(ZoneInfo(self.zone)).date()

    def last_day(self) -> date:
        """The window's last day, in the kit's zone (``ends`` is the day after's start)."""
        return (self.ends.astimezone(ZoneInfo(self.zone)) - timedelta(days=1)).date()

    def suggestion_map(self) -> dict[str, str]:
        return _plain(self.suggestions)

    def suggestion_for(self, network: str) -> str:
        """The suggested copy for a profile on ``network``: its own, else the general one."""
        found = self.suggestion_map()
        return found.get(network) or found.get("any", "")


class KitOffer(Model):
    """A kit offered to one person (``TEAM#<kit's team>`` / ``KIT#<kit>#<person>``): what they
    decided (offered, taken, passed, and why), the post they took it as, and what their "To
    share" list shows (copied: the list is one Query of ``by_owner`` under ``TOSHARE#<p>``).

    ``team_id`` is the team they are offered it in, and take it in: the kit's own, or a
    partner team's (issue 11) for kits offered to partners.
    """

    class Meta(CalendarMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kit_team_id = UnicodeAttribute()
    kit_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")  # the person's, as the status page lists them
    team_id = UnicodeAttribute()
    team_name = UnicodeAttribute(default="")  # the kit's team's, as their list shows it
    title = UnicodeAttribute()
    starts = UTCDateTimeAttribute()
    ends = UTCDateTimeAttribute()
    state = UnicodeAttribute(default="offered")  # offered, taken, passed
    reason = UnicodeAttribute(default="")  # why they passed, if they said
    decided_at = UTCDateTimeAttribute(null=True)
    post_id = UnicodeAttribute(null=True)  # taken: their post, in ``team_id``
    offered_at = UTCDateTimeAttribute()
    nudged_at = UTCDateTimeAttribute(null=True)  # the half-window nudge, sent once
    owner_pk = UnicodeAttribute(null=True)
    owner_sk = UnicodeAttribute(null=True)

    by_owner = ByOwner()

    @classmethod
    def key(cls, kit_team_id: str, kit_id: str, person_id: str) -> tuple[str, str]:
        return keys.team(kit_team_id), f"{KIT_PREFIX}{kit_id}#{person_id}"

    def place(self) -> None:
        self.owner_pk = f"TOSHARE#{self.person_id}"
        self.owner_sk = f"{keys.instant(self.ends)}#{self.kit_team_id}#{self.kit_id}"


class RateCounter(Model):
    class Meta(SystemMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


CALENDAR_MODELS = (
    Team,
    Invite,
    PartnerInvite,
    Post,
    SharedPost,
    PostBody,
    Activity,
    Schedule,
    Event,
    SharedEvent,
    SeriesTemplate,
    Playbook,
    Reminder,
    CsvImport,
    CsvImportChunk,
    Kit,
    KitOffer,
)
SYSTEM_MODELS = (Person, EmailOwner, SignInToken, Session, RateCounter, UsedLink, Notification)
