"""Fifty people on ``make run`` at once for a minute, while the nudge job runs every 10 seconds.

Starts the real local server (``python -m app.local`` in a temporary data folder on free
loopback ports, as ``bench/local.py`` does), creates a team of 10 people (none with quiet
hours) and 300 posts over the next eight weeks, signs 50 users in (each with its own session,
through a sign-in link, five per person) and lets them work without pause: each opens a month
view, then drags one of its posts to another day of the grid, past ones too (``POST …/move``,
as the month view's drop does), or opens one and edits its title and saves it (the form as
shown, version and merge fingerprints included), comments on it, or only reads it. Half the
picks go to the month's first posts, the ones a team works on, so edits of one post meet. Every
other second a post's one-hour nudge comes due; the nudge job (``app.nudges.run_once``, what
the scheduled function and ``make run`` run) starts in this process every 10 seconds against
the server's emulator, overlapping a run still sending, besides ``make run``'s own every minute.

Prints ``load_requests_per_second``, ``load_p50_ms``, ``load_p95_ms``, ``load_p99_ms``
(wall-clock, every request of the users), ``load_errors`` (5xx answers and connection
errors), ``load_conflicts`` (409s: a save or drag that lost the race to another one, an
expected answer), ``load_users`` and ``load_seconds``, then checks the store and the outbox:
``load_lost_writes`` (an acknowledged save whose title, drag whose time or comment is not in
the store afterwards) and ``load_duplicate_nudges`` (nudge emails beyond the first for the same
reminder: person, post, kind and deadline, read from the signed links). It exits non-zero if
any of errors, lost writes, duplicate nudges or other unexpected answers (a 4xx but 409) is
not 0.

    python bench/load.py [--seconds 60] [--users 50] [--nudge-every 10]
"""

import argparse
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import nudges  # noqa: E402
from app.auth.views import SIGN_IN_VALID_FOR  # noqa: E402
from app.local.emulator import fetch_raw_messages  # noqa: E402
from app.nudges import tokens  # noqa: E402
from app.planner import periods  # noqa: E402
from app.store import people, posts, reminders, teams  # noqa: E402
from app.store.models import Post, Reminder  # noqa: E402
from bench.local import LocalServer, write_post  # noqa: E402
from tests.formdata import form_in  # noqa: E402

PEOPLE, POSTS, DAYS = 10, 300, 56
ZONES = ("Europe/Rome", "Europe/Rome", "Europe/London")
HOT = 12  # the month's first posts, where half the picks go
# What a user does after a month view (each opens the post, but a drag): a quarter drag a post,
# the others open one and edit and save it, comment on it, or only read it.
ACTIONS, WEIGHTS = ("drag", "save", "comment", "read"), (25, 30, 22, 23)
TIMEOUT = 60  # seconds a request may take before it counts as a connection error
SIGN_IN_TIMEOUT = 600  # seconds the users may take to sign in, all together
CHIP = re.compile(
    r'<a class="chip[^"]*" id="post-(?P<id>[0-9a-z]+)" href="(?P<href>[^"]+)"[^>]*? '
    r'draggable="true" data-version="(?P<version>\d+)" data-due="(?P<due>[^"]*)" '
    r'data-owner="(?P<owner>[^"]*)" data-status="(?P<status>[^"]*)"'
)
DAY = re.compile(r'<td id="day-(\d{4}-\d{2}-\d{2})"')
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
ACTION_LINK = re.compile(r"/n/(?!unsubscribe/)([\w.-]+)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--nudge-every", type=float, default=10.0)
    parser.add_argument("--people", type=int, default=PEOPLE, help="the team's size")
    parser.add_argument("--posts", type=int, default=POSTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        server = LocalServer(Path(data_dir))
        # Nobody reads the server's output after its start: a full pipe would stall it.
        said: list[str] = []
        threading.Thread(target=said.extend, args=(server.process.stdout,), daemon=True).start()
        try:
            load = Load(server, args.users, args.seconds, args.nudge_every)
            report = load.run(args.people, args.posts)
        finally:
            server.process.terminate()
            server.process.wait(30)
    for name, value in report.items():
        print(f"load_{name}: {value}")
    failed = {
        name: report[name]
        for name in ("errors", "unexpected_answers", "lost_writes", "duplicate_nudges")
        if report[name]
    }
    if failed:
        print(f"load: FAILED {failed}", file=sys.stderr)
        print("".join(line for line in said if not line.startswith("  Nudges")), file=sys.stderr)
    return 1 if failed else 0


class Load:
    """One run: the team, the users, the job, and what they were told."""

    def __init__(self, server: LocalServer, users: int, seconds: float, nudge_every: float):
        self.server, self.users, self.seconds = server, users, seconds
        self.nudge_every = nudge_every
        self.app = server.app()
        self.lock = threading.Lock()
        self.timings: list[float] = []
        self.answers: Counter = Counter()  # errors, conflicts, unexpected, per operation
        self.problems: list[str] = []
        # post id -> [(version, field, value)] of every acknowledged save and drag
        self.acknowledged: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        self.comments: dict[str, list[str]] = defaultdict(list)
        self.uncertain: set[str] = set()  # posts a write failed on: it may or may not be in
        self.job_failures: list[str] = []
        self.job_outcomes: Counter = Counter()

    # Setting up ------------------------------------------------------------------------------

    def run(self, size: int, count: int) -> dict:
        now = datetime.now(UTC)
        with self.app.app_context():
            team, members = _team(now, size)
            _posts(team, members, now, count)
        self.team_id = team.team_id
        self.ready = threading.Barrier(self.users + 1, timeout=SIGN_IN_TIMEOUT)
        # Signing in revokes the person's other unused links: one sign-in at a time per person.
        self.signing_in = {member.person_id: threading.Lock() for member in members}
        # The first sign-in alone: its first pages compile the templates every later one uses.
        self.warm = threading.Event()
        workers = [
            threading.Thread(target=self._user, args=(n, members[n % size]))
            for n in range(self.users)
        ]
        for worker in workers:
            worker.start()
        self.ready.wait()
        with self.app.app_context():
            _nudge_posts(team, members, datetime.now(UTC), self.seconds)
        start = time.monotonic()
        self.deadline = start + self.seconds
        stop_job = threading.Event()
        schedule = threading.Thread(target=self._schedule, args=(stop_job,))
        schedule.start()
        self.ready.wait()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - start
        stop_job.set()
        schedule.join()
        self._run_job()  # the reminders due in the last seconds go out too
        return self._report(elapsed)

    def _sign_in(self, browser: requests.Session, member) -> None:
        """Sign in with a new link, as a person does on each of their devices."""
        with self.signing_in[member.person_id]:
            with self.app.app_context():
                raw, _token = people.issue_token(
                    member.email, "sign_in", datetime.now(UTC), SIGN_IN_VALID_FOR
                )
            self.server.sign_in(browser, f"{self.server.url}/login/{raw}")

    # The nudge job ---------------------------------------------------------------------------

    def _schedule(self, stop: threading.Event) -> None:
        """Start a run every ``nudge_every`` seconds, as a schedule does: whether or not the
        last one has finished (the lease keeps overlapping runs from sending twice)."""
        runs = []
        while True:
            runs.append(threading.Thread(target=self._run_job))
            runs[-1].start()
            if stop.wait(self.nudge_every):
                break
        for run in runs:
            run.join()

    def _run_job(self) -> None:
        try:
            outcome = nudges.run_once(self.app)
        except Exception as error:  # noqa: BLE001 (reported, and fails the run)
            self.job_failures.append(repr(error))
            return
        if outcome.failed:
            self.job_failures.append(f"{outcome.failed} nudges failed")
        with self.lock:
            self.job_outcomes.update(
                runs=1,
                sent=outcome.sent,
                deferred=outcome.deferred,
                cancelled=outcome.cancelled,
                left=outcome.left,
            )

    # One user --------------------------------------------------------------------------------

    def _user(self, number: int, member) -> None:
        browser = requests.Session()
        if number:
            self.warm.wait()
        try:
            self._sign_in(browser, member)
        except Exception as error:  # noqa: BLE001 (counted: a user who cannot sign in)
            browser = None
            self._count("errors", "sign_in", problem=f"sign-in of user {number}: {error!r}")
        self.warm.set()
        self.ready.wait()  # every user signed in
        self.ready.wait()  # the nudges planned, the clock started
        if browser is None:
            return
        rng = random.Random(number)
        viewer = ZoneInfo(member.zone)
        today = datetime.now(viewer).date()
        months = sorted({(today + timedelta(days=d)).strftime("%Y-%m") for d in range(DAYS)})
        rounds = 0
        while time.monotonic() < self.deadline:
            rounds += 1
            try:
                self._round(number, rounds, browser, rng, viewer, rng.choice(months))
            except Exception as error:  # noqa: BLE001 (a page the script cannot read)
                self._problem(f"user {number}, round {rounds}: {error!r}")

    def _round(self, number: int, rounds: int, browser, rng, viewer, month: str) -> None:
        """A month view, then one action on one of its posts."""
        page = self._send(browser, "month", "GET", f"/t/{self.team_id}/month/{month}")
        if page is None or page.status_code != 200:
            return
        headers = {"X-CSRFToken": CSRF.search(page.text).group(1), "HX-Request": "true"}
        chips = [found.groupdict() for found in CHIP.finditer(page.text)]
        if not chips:
            return
        chip = rng.choice(chips[:HOT] if rng.random() < 0.5 else chips)
        # The first round spreads the users over every action, so even a run of a few seconds
        # saves, drags and comments; then each round draws one.
        first = rounds == 1
        action = ACTIONS[number % len(ACTIONS)] if first else rng.choices(ACTIONS, WEIGHTS)[0]
        if action == "drag":
            # Onto another day of the grid, past days too (the post is overdue at once).
            shown = datetime.fromisoformat(chip["due"]).astimezone(viewer).date().isoformat()
            day = rng.choice([day for day in DAY.findall(page.text) if day != shown])
            self._drag(browser, headers, chip, day, month, viewer)
            return
        panel = self._send(browser, "open", "GET", chip["href"], headers=headers)
        if panel is None or panel.status_code != 200:
            return
        if action == "save":
            self._save(browser, headers, chip["id"], panel.text, f"Edit {number}.{rounds}")
        elif action == "comment":
            self._comment(browser, headers, chip, f"Comment {number}.{rounds}")

    def _drag(self, browser, headers: dict, chip: dict, day: str, month: str, zone) -> None:
        data = {key: chip[key] for key in ("version", "due", "owner", "status")}
        response = self._send(
            browser,
            "drag",
            "POST",
            chip["href"] + "/move",
            data={**data, "date": day, "month": month},
            headers=headers,
            writes=chip["id"],
        )
        if response is not None and response.status_code == 200:
            # The move is conditional on the version shown and takes the next one; the post
            # keeps its local time (another drag may already have moved it on in the answer).
            at = datetime.fromisoformat(chip["due"]).astimezone(zone).time()
            due = periods.local_instant(date.fromisoformat(day), at, zone)
            self._acknowledge(chip["id"], int(chip["version"]) + 1, "due", due.isoformat())

    def _save(self, browser, headers: dict, post_id: str, panel: str, title: str) -> None:
        form = form_in(panel, id="post-form")
        data = form.data()
        data["title"] = title
        response = self._send(
            browser, "save", "POST", form.action, data=data, headers=headers, writes=post_id
        )
        if response is not None and response.status_code == 200:
            saved = form_in(response.text, id="post-form")
            if saved.values("title") != [title]:
                self._problem(f"save of {post_id} answered with {saved.values('title')}")
            self._acknowledge(post_id, int(saved.values("version")[0]), "title", title)

    def _comment(self, browser, headers: dict, chip: dict, text: str) -> None:
        response = self._send(
            browser,
            "comment",
            "POST",
            chip["href"] + "/comments",
            data={"text": text},
            headers=headers,
            writes=chip["id"],
        )
        if response is not None and response.status_code == 200:
            with self.lock:
                self.comments[chip["id"]].append(text)

    def _send(self, browser, operation, method, path, *, writes=None, **options):
        """One request, timed and sorted: None if it never got an answer."""
        started = time.perf_counter()
        try:
            response = browser.request(
                method, self.server.url + path, timeout=TIMEOUT, allow_redirects=False, **options
            )
        except requests.RequestException as error:
            self._count("errors", operation, writes, f"{operation} {path}: {error!r}")
            return None
        self.timings.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        if status >= 500:
            self._count("errors", operation, writes, f"{operation} {path}: {status}")
        elif status == 409 and operation in ("save", "drag"):
            self._count("conflicts", operation)
        elif status >= 400:
            self._count("unexpected", operation, writes, f"{operation} {path}: {status}")
        else:
            self._count("ok", operation)
        return response

    def _count(self, outcome: str, operation: str, writes=None, problem: str = "") -> None:
        with self.lock:
            self.answers[outcome] += 1
            self.answers[f"{operation}_{outcome}"] += 1
            if writes and outcome != "ok":
                self.uncertain.add(writes)
            if problem:
                self.problems.append(problem)

    def _acknowledge(self, post_id: str, version: int, field: str, value: str) -> None:
        with self.lock:
            self.acknowledged[post_id].append((version, field, value))

    def _problem(self, problem: str) -> None:
        with self.lock:
            self.answers["unexpected"] += 1
            self.problems.append(problem)

    # The checks ------------------------------------------------------------------------------

    def _report(self, elapsed: float) -> dict:
        timings = sorted(self.timings)
        cuts = statistics.quantiles(timings, n=100) if len(timings) > 1 else timings * 99
        with self.app.app_context():
            lost = self._lost_writes()
            duplicates, nudges_sent = self._duplicate_nudges()
        for problem in (self.problems + self.job_failures)[:20]:
            print(f"  {problem}", file=sys.stderr)
        answers = self.answers
        return {
            "requests_per_second": f"{len(timings) / elapsed:.1f}",
            "p50_ms": f"{cuts[49]:.0f}",
            "p95_ms": f"{cuts[94]:.0f}",
            "p99_ms": f"{cuts[98]:.0f}",
            "errors": answers["errors"] + len(self.job_failures),
            "conflicts": answers["conflicts"],
            "users": self.users,
            "seconds": f"{elapsed:.1f}",
            "requests": len(timings),
            "saves": answers["save_ok"],
            "drags": answers["drag_ok"],
            "comments": answers["comment_ok"],
            "unexpected_answers": answers["unexpected"],
            "nudges_sent": nudges_sent,
            "nudge_runs": self.job_outcomes["runs"],
            "nudges_deferred": self.job_outcomes["deferred"],
            "nudges_cancelled": self.job_outcomes["cancelled"],
            "nudges_left": self.job_outcomes["left"],
            "lost_writes": lost,
            "duplicate_nudges": duplicates,
        }

    def _lost_writes(self) -> int:
        """Acknowledged writes the store does not show: the last acknowledged title and time
        of each post (by version: every write that changed a post was acknowledged, or a 409
        that wrote nothing), and every acknowledged comment."""
        lost = 0
        for post_id in sorted(set(self.acknowledged) | set(self.comments)):
            if post_id in self.uncertain:
                continue
            post, _body = posts.load(self.team_id, post_id)
            acknowledged = self.acknowledged.get(post_id, [])
            for field in ("title", "due"):
                last = max(((v, value) for v, f, value in acknowledged if f == field), default=None)
                stored = post.title if field == "title" else post.due.isoformat()
                if last is not None and (stored != last[1] or post.version < last[0]):
                    lost += 1
                    self.problems.append(f"post {post_id}: {field} {stored!r}, acknowledged {last}")
            texts = {
                entry.text
                for entry in posts.history(self.team_id, post_id)
                if entry.kind == "comment"
            }
            missing = [text for text in self.comments.get(post_id, []) if text not in texts]
            lost += len(missing)
            if missing:
                self.problems.append(f"post {post_id}: comments {missing} missing")
        return lost

    def _duplicate_nudges(self) -> tuple[int, int]:
        """Nudge emails beyond the first per reminder (person, post, kind, deadline), and how
        many nudges went out, read from the outbox of the server's emulator."""
        sent = Counter()
        for raw in fetch_raw_messages(self.server.aws_endpoint):
            text = message_from_bytes(raw, policy=policy.default).get_body(("plain",))
            for token in ACTION_LINK.findall(text.get_content()):
                try:
                    payload = tokens.read(token, datetime.now(UTC))
                except tokens.ExpiredToken as expired:  # a post dragged weeks into the past
                    payload = expired.payload
                if payload["a"] == "published":
                    sent[(payload["u"], payload["p"], payload["k"], payload["e"])] += 1
        duplicates = sum(count - 1 for count in sent.values())
        if duplicates:
            self.problems.append(f"sent twice: {[key for key, n in sent.items() if n > 1]}")
        return duplicates, sum(sent.values())


def _team(now: datetime, size: int):
    """A team of ``size``: an admin and editors in Rome and London, with no quiet hours (the
    nudges go out at any hour the bench runs)."""
    members = []
    for n in range(size):
        zone = ZONES[n % len(ZONES)]
        someone = people.find_or_create_person(f"person{n}@load.example", now, "en", zone)
        language = ("en", "it")[n % 2]
        people.update_profile(
            someone, name=f"Person {n}", language=language, zone=zone, week_start=0
        )
        people.update_preferences(someone, quiet_start="", quiet_end="")
        members.append(people.person(someone.person_id))
    team = teams.create_team(members[0], name="Load", zone=ZONES[0], language="en", now=now)
    for someone in members[1:]:
        raw = teams.invite(
            team, address=someone.email, role="editor", invited_by="Person 0", now=now
        )
        teams.accept_invite(people.token(raw, now), someone, now)
    return teams.team(team.team_id), members


def _posts(team, members, now: datetime, count: int) -> None:
    """Drafts over the next eight weeks, at whole minutes (as the form sets them), written as
    ``posts.create`` writes them (summary, body, history entry), in batch writes."""
    rome = ZoneInfo(ZONES[0])
    today = now.astimezone(rome).date()
    with Post.batch_write() as batch:
        for n in range(count):
            day = today + timedelta(days=1 + n % DAYS)
            due = datetime(day.year, day.month, day.day, 8 + n % 11, 5 * (n % 12), tzinfo=rome)
            _write_post(batch, team, members[n % len(members)], f"Post {n}", due, now)


def _nudge_posts(team, members, now: datetime, seconds: float) -> None:
    """Posts due in a little over an hour, whose one-hour nudge comes due every other second
    of the run (written as the plan would, with the reminder's time spread over the run)."""
    count = max(2, int(seconds // 2))
    due = now.replace(second=0, microsecond=0) + timedelta(minutes=62)
    with Post.batch_write() as batch:
        for n in range(count):
            owner = members[n % len(members)]
            post = _write_post(batch, team, owner, f"Soon {n}", due, now)
            reminder = Reminder(
                *Reminder.key(team.team_id, post.post_id, "before-60"),
                team_id=team.team_id,
                post_id=post.post_id,
                kind="before-60",
                person_id=owner.person_id,
                due=now + timedelta(seconds=(n + 0.5) * seconds / count),
                for_due=due,
            )
            batch.save(reminders.pending(reminder))


def _write_post(batch, team, owner, title: str, due: datetime, now: datetime) -> Post:
    return write_post(
        batch,
        team.team_id,
        title=title,
        zone=ZONES[0],
        created_by=team.created_by,
        owner_id=owner.person_id,
        due=due.astimezone(UTC),
        now=now,
        tag="load",
    )


if __name__ == "__main__":
    sys.exit(main())
