"""The month view through ``make run``'s emulator, for a team with 5,000 posts.

Starts the real local server (``python -m app.local`` in a temporary data folder, as
``make run`` does), adds 5,000 posts to the demo team over four years directly through the
emulator (summary, body and first history entry each, as ``posts.create`` writes them, in
batch writes), signs in with the printed link and times GETs of the current month over HTTP.
Prints the figure issue 8 names, ``local_month_view_ms_5000_posts`` (median of 15), and
``local_post_move_ms_5000_posts``: dragging a post of that month to the next day (one
transaction, as every save is; median of 15 posts).

The server keeps its own clock (a subprocess), so the dates are derived from now instead of
pinned: every month of the four years gets the same number of posts, whenever the bench runs.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.local.demo import DEMO_ADMIN, ZONE  # noqa: E402
from app.store import people, posts  # noqa: E402
from app.store.models import Activity, Post, PostBody  # noqa: E402

POSTS, MONTHS, REQUESTS = 5000, 48, 15


def main() -> None:
    now = datetime.now(UTC)
    month = now.strftime("%Y-%m")
    with tempfile.TemporaryDirectory() as data_dir:
        server = LocalServer(Path(data_dir))
        try:
            team_id, shown = _add_posts(server, now)
            browser = requests.Session()
            server.sign_in(browser)
            url = f"{server.url}/t/{team_id}/month/{month}"
            page = browser.get(url)  # warm: templates, first session read
            view_ms = [_timed(browser.get, url) for _ in range(REQUESTS)]
            assert page.text.count('<a class="chip ') >= POSTS // MONTHS
            csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page.text).group(1)
            move_ms = [
                _timed(
                    browser.post,
                    f"{server.url}/t/{team_id}/posts/{post.post_id}/move",
                    data={
                        "date": (post.due + timedelta(days=1)).date().isoformat(),
                        "version": "1",
                        "due": post.due.isoformat(),
                        "owner": post.owner_id,
                        "status": post.status,
                        "month": month,
                    },
                    headers={"HX-Request": "true", "X-CSRFToken": csrf},
                )
                for post in shown[:REQUESTS]
            ]
        finally:
            server.stop()
    print(f"local_month_view_ms_5000_posts: {statistics.median(view_ms):.0f}")
    print(f"local_post_move_ms_5000_posts: {statistics.median(move_ms):.0f}")


def _timed(send, url: str, **options) -> float:
    started = time.perf_counter()
    response = send(url, **options)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (response.status_code, response.text[:500])
    return elapsed_ms


class LocalServer:
    """``make run`` in a subprocess on free ports, as tests/test_local.py starts it."""

    def __init__(self, data_dir: Path):
        port, aws_port = _free_port(), _free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("CADENZA_")}
        env.update(
            AWS_EC2_METADATA_DISABLED="true",
            CADENZA_MODE="local",
            CADENZA_DATA_DIR=str(data_dir),
            PORT=str(port),
            CADENZA_AWS_PORT=str(aws_port),
        )
        self.data_dir, self.url = data_dir, f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.local"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = ""
        while "/login/" not in output:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the local server stopped:\n" + output)
            output += line
        self.link = re.search(r"http://\S+/login/[\w-]+", output).group(0)
        self.aws_endpoint = re.search(r"AWS emulator \(DynamoDB \+ SES\): (\S+)", output).group(1)

    def sign_in(self, browser: requests.Session, link: str | None = None) -> None:
        """Follow a sign-in link (the demo admin's printed one unless given another)."""
        link = link or self.link
        confirm = browser.get(link)
        token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text).group(1)
        response = browser.post(link, data={"csrf_token": token})
        assert response.status_code == 200, response.status_code

    def app(self):
        """A Cadenza app in this process on the server's data folder and emulator."""
        config = Config.from_env(
            {
                "CADENZA_MODE": "local",
                "CADENZA_DATA_DIR": str(self.data_dir),
                "CADENZA_AWS_ENDPOINT": self.aws_endpoint,
            }
        )
        return create_app(config)

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=30)


def _add_posts(server: LocalServer, now: datetime) -> tuple[str, list[Post]]:
    """Write the posts through the server's emulator; return the demo team's id and the
    posts of this month."""
    app = server.app()
    with app.app_context():
        admin = people.person_by_email(DEMO_ADMIN)
        team_id = next(iter(admin.teams))
        first_month = _months_after(_month_start(now), -(MONTHS // 2))
        shown = []
        with Post.batch_write() as batch:
            for n in range(POSTS):
                month = _months_after(first_month, n % MONTHS)
                due = month + timedelta(days=(n // MONTHS) % 28, hours=7 + n % 12)
                post = write_post(
                    batch,
                    team_id,
                    title=f"Post {n}: a tasting, a harvest note or a newsletter",
                    zone=ZONE,
                    created_by=admin.person_id,
                    owner_id=admin.person_id,
                    due=due,
                    now=now,
                    tag="bench",
                )
                if month == _month_start(now):
                    shown.append(post)
    return team_id, shown


def write_post(
    batch,
    team_id: str,
    *,
    title: str,
    zone: str,
    created_by: str,
    owner_id: str,
    due: datetime,
    now: datetime,
    tag: str,
) -> Post:
    """A draft post as ``posts.create`` writes it (summary, body, first history entry), in a
    batch write: thousands of them take seconds, not minutes. No nudges are planned."""
    post = posts.new_post(
        team_id,
        title=title,
        zone=zone,
        created_by=created_by,
        now=now,
        due=due,
        owner_id=owner_id,
        channels=["Instagram", "Facebook"],
        status="draft",
        tags=[tag],
    )
    post.version = 1  # as posts.create leaves it (a batch write skips versioning)
    batch.save(post)
    batch.save(PostBody(*PostBody.key(team_id, post.post_id), copy="Copy " * 40, notes=""))
    batch.save(Activity.new(team_id, post.post_id, person_id=owner_id, kind="created", at=now))
    return post


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _months_after(month: datetime, months: int) -> datetime:
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return month.replace(year=year, month=index + 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main()
