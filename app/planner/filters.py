"""What a calendar view shows: the viewer's zone and day, and the filters kept in its URL
(also read by the CSV export and the team feeds)."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import g, request

from app.i18n import STATUS_LABELS
from app.store.models import Post
from app.web import now


def viewer_zone() -> ZoneInfo:
    return ZoneInfo(g.person.zone)


def today() -> date:
    return now().astimezone(viewer_zone()).date()


# Where posts go out (issue 12): on the team's channels, or on people's own profiles. A post on
# both shows under both; one on neither yet (an idea) under the team's.
REACHES = ("team", "people")


def reaches(post, reach: str) -> bool:
    personal = bool(getattr(post, "profiles", None))  # a partner's mirror has none
    return personal if reach == "people" else bool(post.channels) or not personal


@dataclass(frozen=True)
class Filters:
    """Combinable filters, kept in the URL; unknown values are ignored, not errors."""

    owner: str = ""
    channel: str = ""
    status: str = ""
    tag: str = ""
    reach: str = ""

    @classmethod
    def from_request(cls, team) -> "Filters":
        args = request.args
        owner = args.get("owner", "")
        channel = args.get("channel", "")
        status = args.get("status", "")
        return cls(
            owner=owner if team.member(owner) else "",
            channel=channel if channel in (team.channels or []) else "",
            status=status if status in STATUS_LABELS else "",
            tag=args.get("tag", "")[:40],
            reach=args.get("reach", "") if args.get("reach") in REACHES else "",
        )

    def keep(self, post: Post) -> bool:
        return (
            (not self.owner or post.owner_id == self.owner)
            and (not self.channel or self.channel in (post.channels or []))
            and (not self.status or post.status == self.status)
            and (not self.tag or self.tag in (post.tags or set()))
            and (not self.reach or reaches(post, self.reach))
        )

    def args(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.args())
