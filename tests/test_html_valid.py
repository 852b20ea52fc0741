"""HTML validity: every page, htmx fragment and email Cadenza renders passes the Nu Html Checker.

The checker (``vnu.jar``) comes from the npm registry at the version pinned in package.json and
package-lock.json; ``make html-checker`` installs it into node_modules/ (git-ignored) and
``make test`` does so first. It runs on the machine's Java: without Java this file skips
locally, and fails in CI (``CI=true``), where .ci/run installs it.

A signed-in admin of a team with posts of every kind renders every GET page of the URL map (a
new route fails the test until it is rendered here), the htmx fragments of the same views, the
pages that forms and links answer (errors 403, 404, 409, 410, 422 and 503 included), and the
HTML part of every email. All of them go to one checker process (a JVM starts once); any error
fails, listed as ``document:line: message [extract]``. Warnings (the emails' table attributes,
pages whose first heading is an h2) do not fail.
"""

import io
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import test_events
import test_planner
from test_planner import _post
from test_planner_everyday import _full_post, _save, edited, form_fields
from werkzeug.datastructures import MultiDict

from app.cadence import weekly
from app.nudges import emails, run_once, tokens
from app.nudges.emails import Escalation
from app.planner import changes
from app.store import events, posts, profiles, reminders, schedules, teams
from app.store.models import Reminder, SharedPost
from app.store.people import person as stored_person
from tests.conftest import dynamodb_error, link_in, outbox
from tests.formdata import form_in

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)

ROOT = Path(__file__).resolve().parent.parent
VNU = ROOT / "node_modules/vnu-jar/build/dist/vnu.jar"
ROME = ZoneInfo("Europe/Rome")
HTMX = {"HX-Request": "true"}
# Routes of the URL map that answer no HTML page.
NOT_HTML = {"static", "health.healthz", "dev.outbox_json", "feeds.feed", "spreadsheets.export"}
# htmx's attributes are not HTML's: the checker's complaint about them is the only one ignored.
HTMX_ATTRIBUTE = re.compile(r"Attribute “hx-[^”]+” not allowed on element “[^”]+” at this point\.")
# A fragment is checked inside the smallest valid document that can hold it (day cells, swapped
# into the month grid's rows, in a table row), on the lines after the first.
FRAME = '<!DOCTYPE html><html lang="en"><head><title>{name}</title></head><body>{open}\n'
FRAME_END = "\n{close}</body></html>\n"
CONTEXTS = {"<td": ("<table><tr>", "</tr></table>")}


def rome(*args) -> datetime:
    return datetime(*args, tzinfo=ROME).astimezone(UTC)


@pytest.fixture
def vnu() -> list[str]:
    """The command that runs the Nu Html Checker (skips without Java, except in CI)."""
    java = shutil.which("java")
    if java is None:
        message = "Java is not installed: the Nu Html Checker cannot run (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert VNU.exists(), f"{VNU.relative_to(ROOT)} is missing: run `make html-checker`"
    # A deeper stack than the default, which the checker needs; the quick compiler only: the
    # run is too short for the optimizing one to pay off (half the CPU time).
    return [java, "-Xss8m", "-XX:TieredStopAtLevel=1", "-jar", str(VNU), "--no-langdetect"]


class Documents:
    """The HTML rendered for one run of the checker, by name, and the endpoints it covers."""

    def __init__(self, app):
        self.app = app
        self.html: dict[str, str] = {}
        self.endpoints: set[str] = set()
        self.fragments: set[str] = set()

    def get(self, client, path: str, name: str, status: int = 200, htmx: bool = False):
        response = client.get(path, headers=HTMX if htmx else {})
        self.endpoints.add(self.app.url_map.bind("localhost").match(urlsplit(path).path)[0])
        return self.answer(response, name, status, htmx)

    def post(self, client, path: str, name: str, status: int, htmx: bool = False, **kwargs):
        response = client.post(path, headers=HTMX if htmx else {}, **kwargs)
        return self.answer(response, name, status, htmx)

    def answer(self, response, name: str, status: int, fragment: bool):
        assert response.status_code == status, (name, response.status_code, response.text[:500])
        self.add(name, response.text, fragment)
        return response

    def add(self, name: str, html: str, fragment: bool = False) -> None:
        assert name not in self.html, name
        # A swap is part of a page, a page is a whole document: each checked as what it is.
        assert html.lstrip().lower().startswith("<!doctype html>") is not fragment, name
        if fragment:
            start = html.lstrip()[:3]
            open_, close = CONTEXTS.get(start, ("", ""))
            html = FRAME.format(name=name, open=open_) + html + FRAME_END.format(close=close)
            self.fragments.add(name)
        self.html[name] = html

    def problems(self, vnu: list[str], folder: Path) -> tuple[list[str], list[str]]:
        """Every error and warning the checker finds, as 'document:line: message [extract]'."""
        for name, html in self.html.items():
            (folder / f"{name}.html").write_text(html, encoding="utf-8")
        files = [f"{name}.html" for name in self.html]
        run = subprocess.run(
            [*vnu, "--format", "json", "--verbose", "--exit-zero-always", *files],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        # --verbose names each file it checked (it skips a missing one with a mere warning).
        assert run.returncode == 0 and run.stdout.split() == files, run.stdout + run.stderr
        found: dict[str, list[str]] = {"error": [], "warning": []}
        for message in json.loads(run.stderr)["messages"]:
            if HTMX_ATTRIBUTE.fullmatch(message["message"]):
                continue
            name = Path(message.get("url", "?")).stem
            line = message.get("lastLine", 0) - (name in self.fragments)
            kind = "warning" if message.get("subType") == "warning" else message["type"]
            kind = "error" if kind == "non-document-error" else kind
            extract = " ".join(message.get("extract", "").split())
            found.setdefault(kind, []).append(f"{name}:{line}: {message['message']} [{extract}]")
        return found["error"], found["warning"]


@pytest.fixture
def december(clock):
    """The first of December 2026, noon in Rome: the same pages whenever the suite runs.

    Listed before ``cantina`` where both are used, so the people and teams are made then too.
    """
    clock.move_to(rome(2026, 12, 1, 12))


@pytest.fixture
def everything(app, december, cantina, inject, quick_transactions):
    """Every page, fragment and email of a team with posts of every kind, as HTML by name."""
    folks, team, anna, bruno, carla = (
        cantina[key] for key in ("folks", "team", "anna", "bruno", "carla")
    )
    full = _full_post(cantina)  # in review by Anna, due 5 December, copy, notes, tags
    late = _post(team, bruno, rome(2026, 11, 30, 18), "Harvest photos", status="approved")
    _post(team, anna, rome(2026, 12, 3, 9), "Wine list", ("Facebook",), status="published")
    _post(team, carla, None, "Idea: a video of the cellar", status="idea")
    trashed = _post(team, anna, rome(2026, 12, 9, 11), "Old teaser")
    planned = folks.post(team, owner=bruno, created_by=anna, status="approved")  # nudges planned
    admin = folks.client_for(anna)
    docs = Documents(app)
    # The playbook, written as an admin does, before the nudge below carries its checklist.
    edit = f"/t/{team.team_id}/playbook/edit"
    written = form_in(docs.get(admin, edit, "playbook-edit").text, id="playbook-form").fields
    written = edited(
        written, guidelines="## Voice\r\n\r\n**Warm** <b>x</b> [Lumen](https://l.example)"
    )
    instagram = [name for name, _value in written if name.startswith("checklist_")][0]
    written = MultiDict(edited(written, **{instagram: "Location tagged\r\nPartner tagged"}))
    assert admin.post(edit, data=written).status_code == 302
    docs.post(admin, edit, "playbook-edit-stale", 409, data=written)
    too_long = MultiDict(edited(written.items(multi=True), **{instagram: "x" * 121}))
    docs.post(admin, edit, "playbook-edit-invalid", 422, htmx=True, data=too_long)
    admin.post(f"/t/{team.team_id}/posts/{full.post_id}/comments", data={"text": "@Bruno ok?"})
    admin.post(f"/t/{team.team_id}/posts/{trashed.post_id}/trash")
    # A day before: the nudge, and Bruno's notification of Anna's mention above.
    assert run_once(app, planned.due - timedelta(days=1)).sent == 2
    nudge, notified = sorted(outbox(app)[:2], key=lambda mail: "needs you" in mail["subject"])
    tid, pid = team.team_id, full.post_id

    # An event with its series (on the calendar pages below), its pages and forms' answers.
    tasting = test_events.plan_event(
        admin, tid, **test_events.event_fields(rome(2026, 12, 10).date())
    )
    event_page = f"/t/{tid}/events/{tasting.event_id}"
    for name, path in {
        "events": f"/t/{tid}/events",
        "new-event": f"/t/{tid}/events/new?date=2026-12-12",
        "event": event_page,
        "series-templates": f"/t/{tid}/series?template=tasting",
    }.items():
        docs.get(admin, path, name)
    fair = test_events.event_fields(rome(2026, 12, 12).date(), title="Fair", template="fair")
    shown = test_events.new_event_form(admin, tid, **fair)
    docs.post(admin, f"/t/{tid}/events", "event-preview", 200, data=MultiDict(shown))
    bad = MultiDict(edited(shown, end_at="17:00", title=""))
    docs.post(admin, f"/t/{tid}/events", "new-event-invalid", 422, data=bad)
    edit = edited(form_fields(docs.html["event"], "event-form"), end_at="17:00")
    docs.post(admin, event_page, "event-invalid", 422, data=MultiDict(edit))
    docs.post(admin, f"{event_page}/cancel", "event-cancel-invalid", 422, data={})
    template = form_fields(docs.html["series-templates"], "template-tasting")
    wrong = MultiDict(edited(template, **{"steps-0-title": "{when}", "steps-1-days": "x"}))
    docs.post(admin, f"/t/{tid}/series", "series-templates-invalid", 422, data=wrong)

    # A schedule: its form, preview (page and fragment) and bad input; its list, its page
    # and a post it planned (on the calendar pages below too).
    schedules_url = f"/t/{tid}/schedules"
    docs.get(admin, f"{schedules_url}/new", "new-schedule")
    people = [anna.person_id, bruno.person_id]
    shown = edited(
        form_fields(docs.html["new-schedule"], "schedule-form"),
        title="Instagram — {date}",
        channels="Instagram",
        weekdays=["1", "4"],
        owners=people,
    )
    preview = MultiDict(edited(shown, preview="1"))
    docs.post(admin, schedules_url, "schedule-preview", 200, data=preview)
    docs.post(admin, schedules_url, "schedule-preview-fragment", 200, htmx=True, data=preview)
    bad = MultiDict(edited(shown, title="{when}", weekdays=[], owners=[]))
    docs.post(admin, schedules_url, "new-schedule-invalid", 422, data=bad)
    assert admin.post(schedules_url, data=MultiDict(shown)).status_code == 302
    schedule = schedules.of_team(tid)[0]
    docs.get(admin, schedules_url, "schedules")
    docs.get(admin, f"{schedules_url}/{schedule.schedule_id}", "schedule")
    slot = posts.planned_by(tid, schedule.schedule_id)[0]
    docs.get(admin, f"/t/{tid}/posts/{slot.post_id}", "schedule-slot")

    # CSV import: the upload form and a refused file; a preview with a bad row, its
    # confirmation's progress (as a swap) and the result.
    upload = f"/t/{tid}/import"
    docs.get(admin, upload, "csv-upload")
    refused = {"file": (io.BytesIO(b"name,surname\n"), "plan.csv")}
    docs.post(admin, upload, "csv-upload-invalid", 422, data=refused)
    rows = "title,date,time,channels\n"
    rows += "".join(f"Post {n},2026-12-{20 + n},10:00,Instagram\n" for n in range(3))
    rows += "Bad,31/02/2027,10:00,Myspace\n"
    sent = admin.post(upload, data={"file": (io.BytesIO(rows.encode()), "plan.csv")})
    imported = sent.headers["Location"]
    docs.get(admin, imported, "csv-preview")
    docs.post(admin, imported, "csv-done-fragment", 200, htmx=True)
    docs.get(admin, imported, "csv-done")
    # Past the first batch of 100 rows: the progress bar and its Continue form.
    ideas = "title,status\n" + "".join(f"Idea {n},idea\n" for n in range(101))
    sent = admin.post(upload, data={"file": (io.BytesIO(ideas.encode()), "ideas.csv")})
    importing = sent.headers["Location"]
    docs.post(admin, importing, "csv-importing-fragment", 200, htmx=True)
    docs.get(admin, importing, "csv-importing")

    # Every GET page of the URL map, and each view's fragment for htmx.
    assert admin.get("/").status_code == 302
    docs.endpoints.add("teams.start")
    for name, path in {
        "calendar": f"/t/{tid}/",
        "month": f"/t/{tid}/month/2026-12?status=draft&status=in_review",
        "week": f"/t/{tid}/week/2026-11-30",
        "agenda": f"/t/{tid}/agenda",
        "post": f"/t/{tid}/posts/{pid}",
        "new-post": f"/t/{tid}/posts/new?date=2026-12-07",
        "duplicate": f"/t/{tid}/posts/{pid}/duplicate",
    }.items():
        docs.get(admin, path, name)
        docs.get(admin, path, f"{name}-fragment", htmx=True)
    for name, path in {
        "my-posts": "/my/posts",
        "trash": f"/t/{tid}/trash",
        "cadence-health": f"/t/{tid}/health",
        "members": f"/t/{tid}/members",
        "settings": f"/t/{tid}/settings",
        "profile": "/me",
        "nudge-preferences": "/me/nudges",
        "teams": "/teams",
        "new-team": "/teams/new",
        "outbox": "/dev/outbox",
        "idea": f"/t/{tid}/posts/{posts.ideas(tid)[0].post_id}",
        "trashed-post": f"/t/{tid}/posts/{trashed.post_id}",
        "planned-post": f"/t/{tid}/posts/{planned.post_id}",
        "playbook": f"/t/{tid}/playbook?welcome=1",
        "checklist": f"/t/{tid}/playbook/checklist?channels=Instagram&checked=Partner+tagged",
    }.items():
        docs.get(admin, path, name)
    checklist = f"/t/{tid}/playbook/checklist?channels=Instagram&channels=X"
    docs.get(admin, checklist, "checklist-fragment", htmx=True)
    newcomer = folks.client_for(folks.person("nina@example.com"))
    docs.get(newcomer, "/welcome", "welcome")
    invited = folks.person("ola@example.com")  # nameless until the welcome: in Eve's team
    folks.join(cantina["other"], invited, "editor")
    docs.get(folks.client_for(invited), "/welcome", "welcome-invited")

    # Signing in: the form, the mail's link, its confirm page, the same link used again.
    stranger = app.test_client()
    docs.get(stranger, "/login", "login")
    docs.post(stranger, "/login", "login-sent", 200, data={"email": "anna@example.com"})
    docs.post(stranger, "/login", "login-invalid", 422, htmx=True, data={"email": "anna@"})
    signed_in = outbox(app)[0]
    link = link_in(signed_in)
    docs.get(stranger, link, "sign-in-confirm")
    stranger.post(link)
    docs.get(app.test_client(), link, "sign-in-link-used", 410)

    # An invitation: the members' fragment, the mail, the invitee's confirm page.
    invite = {"email": "ugo@example.com", "role": "editor"}
    docs.post(admin, f"/t/{tid}/members/invite", "invited", 200, htmx=True, data=invite)
    docs.post(admin, f"/t/{tid}/members/invite", "invite-invalid", 422, htmx=True, data={})
    invitation = outbox(app)[0]
    docs.get(app.test_client(), link_in(invitation), "invitation-confirm")
    role = {"role": "viewer"}
    docs.post(admin, f"/t/{tid}/members/{carla.person_id}/role", "role", 200, htmx=True, data=role)

    # A partner team: the invitation to Eve (its mail, her answer page, the link used again),
    # the partners page with Eve's team, and the form's fragments.
    to_partner = f"/t/{tid}/partners/invite"
    eve = cantina["eve"]
    docs.post(admin, to_partner, "partner-invited", 200, htmx=True, data={"email": eve.email})
    docs.post(admin, to_partner, "partner-invite-invalid", 422, htmx=True, data={})
    partnering = outbox(app)[0]
    answer = urlsplit(re.search(r"https?://\S+/partners/\S+", partnering["text"]).group(0)).path
    as_eve = folks.client_for(eve)
    docs.get(as_eve, answer, "partner-answer")
    as_eve.post(answer, data={"team": cantina["other"].team_id, "decision": "accept"})
    docs.get(as_eve, answer, "partner-answer-used", 410)
    docs.get(admin, f"/t/{tid}/partners", "partners")
    # Bruno's planned post shared with Eve's team: its panel, Eve's month showing it, its page
    # on her side (and as a swap), and her publishing form refused.
    other_id, shared_id = cantina["other"].team_id, planned.post_id
    version = posts.load(tid, shared_id)[0].version
    share = {"partner": other_id, "co_owner": eve.person_id, "version": version}
    assert admin.post(f"/t/{tid}/posts/{shared_id}/share", data=share).status_code == 302
    docs.get(admin, f"/t/{tid}/posts/{shared_id}", "post-shared")
    docs.get(as_eve, f"/t/{other_id}/month/{planned.due.astimezone(ROME):%Y-%m}", "partner-month")
    shared_at = f"/t/{other_id}/shared/{tid}/{shared_id}"
    docs.get(as_eve, shared_at, "shared-post")
    docs.get(as_eve, shared_at, "shared-post-swap", htmx=True)
    version = posts.load(tid, shared_id)[0].version
    publish = {"url": "lumen", "version": version}
    docs.post(as_eve, f"{shared_at}/publish", "shared-publish-invalid", 422, data=publish)
    # The full post, in review, shared too: Eve, an admin there, may approve it.
    version = posts.load(tid, pid)[0].version
    share = {"partner": other_id, "co_owner": "", "version": version}
    assert admin.post(f"/t/{tid}/posts/{pid}/share", data=share).status_code == 302
    docs.get(as_eve, f"/t/{other_id}/shared/{tid}/{pid}", "shared-post-in-review")
    # The tasting shared with Eve's team: its page with the share form (and a bad partner's
    # answer), Eve's month with its band, and her read-only page of it.
    version = events.load(tid, tasting.event_id).version
    bad_share = {"partner": "nope", "version": version}
    docs.post(admin, f"{event_page}/share", "event-share-invalid", 422, data=bad_share)
    share = {"partner": other_id, "version": version}
    assert admin.post(f"{event_page}/share", data=share).status_code == 302
    docs.get(admin, event_page, "event-shared")
    docs.get(as_eve, f"/t/{other_id}/month/2026-12", "partner-month-event")
    docs.get(as_eve, f"/t/{other_id}/shared-events/{tid}/{tasting.event_id}", "shared-event")

    # A share kit (issue 12), offered to the team and Eve's: its form (and its refusal), its
    # pages, Bruno's list and page of it (and his refused forms), the email offering it to
    # him, its signed page and the page it answers; his post taken from it, Eve's pass.
    brunos = stored_person(bruno.person_id)
    profiles.add(brunos, network="linkedin", handle="bruno", url="", now=folks.now())
    docs.get(admin, f"/t/{tid}/kits/new", "new-kit")
    kit_fields = edited(
        form_fields(docs.html["new-kit"], "kit-form"),
        title="Our new Nebbiolo",
        story="A cool year,\r\na fresh wine.",
        facts="14 months in oak\r\nhttps://cantina.example/nebbiolo",
        suggest_any="Our new Nebbiolo is out!",
        suggest_linkedin="After a cool 2024, our Nebbiolo is ready.",
        hashtags="#Nebbiolo #Langhe",
        partners=other_id,
    )
    wrong = MultiDict(edited(kit_fields, title=" ", last_day="2026-11-01"))
    docs.post(admin, f"/t/{tid}/kits", "new-kit-invalid", 422, data=wrong)
    kit_page = admin.post(f"/t/{tid}/kits", data=MultiDict(kit_fields)).headers["Location"]
    kit_id = kit_page.rsplit("/", 1)[1]
    docs.get(admin, f"/t/{tid}/kits", "kits")
    docs.get(admin, f"{kit_page}/edit", "kit-edit")
    wrong = MultiDict(edited(form_fields(docs.html["kit-edit"], "kit-form"), audience="chosen"))
    docs.post(admin, f"{kit_page}/edit", "kit-edit-invalid", 422, data=wrong)
    run_once(app, folks.now() + timedelta(minutes=20))  # the note offering it to Bruno
    (offered,) = [mail for mail in outbox(app) if "/n/kit/" in mail["text"]][:1]
    signed_kit = urlsplit(re.search(r"https?://\S+/n/kit/\S+", offered["text"]).group(0)).path
    docs.add("mail-kit", offered["html"])
    docs.get(app.test_client(), signed_kit, "kit-signed")
    out_of_window = {"action": "take", "day": "2026-11-01", "at": "10:00"}
    docs.post(app.test_client(), signed_kit, "kit-signed-invalid", 422, data=out_of_window)
    offer_page = f"/t/{tid}/to-share/{tid}/{kit_id}"
    editor_client = folks.client_for(bruno)
    docs.get(editor_client, "/me/to-share", "to-share")
    docs.get(editor_client, offer_page, "kit-offer")
    docs.post(editor_client, f"{offer_page}/take", "kit-take-invalid", 422, data=out_of_window)
    docs.post(
        editor_client, f"{offer_page}/pass", "kit-pass-invalid", 422, data={"reason": "x" * 501}
    )
    taking = form_fields(docs.html["kit-offer"], "take-form")
    assert editor_client.post(f"{offer_page}/take", data=MultiDict(taking)).status_code == 302
    docs.get(editor_client, offer_page, "kit-offer-taken")
    with app.test_request_context():
        eves_link = tokens.sign(
            "kit",
            person_id=eve.person_id,
            team_id=other_id,
            post_id=kit_id,
            partner=tid,
            expires=folks.now() + timedelta(days=7),
        )
    passing = {"action": "pass", "reason": "Not for our wine bar"}
    docs.post(app.test_client(), f"/n/kit/{eves_link}", "kit-done", 200, data=passing)
    docs.get(as_eve, f"/t/{other_id}/to-share/{tid}/{kit_id}", "kit-offer-passed")
    docs.get(admin, kit_page, "kit")

    # One-click links of a nudge: the page, the page after, a bad link, unsubscribing.
    with app.test_request_context():
        snooze, handover, unsubscribe = (
            tokens.sign(
                action,
                person_id=bruno.person_id,
                team_id=tid,
                post_id=planned.post_id,
                kind="before-60",
                expires=planned.due + tokens.VALID_AFTER_DUE,
            )
            for action in ("snooze", "handover", "unsubscribe")
        )
    docs.get(app.test_client(), f"/n/{snooze}", "snooze")
    docs.post(app.test_client(), f"/n/{snooze}", "snooze-done", 200)
    docs.get(app.test_client(), f"/n/{snooze}", "snooze-used", 410)
    docs.get(app.test_client(), f"/n/{snooze}x", "one-click-bad-link", 404)
    docs.get(app.test_client(), f"/n/{handover}", "handover")
    docs.post(app.test_client(), f"/n/{handover}", "handover-invalid", 422, data={"to": ""})
    docs.get(app.test_client(), f"/n/unsubscribe/{unsubscribe}", "unsubscribe")
    # The review request's decisions (Anna reviews the full post) and taking a post over.
    current = posts.load(tid, pid)[0].version
    with app.test_request_context():
        approve, changes_, stale, takeover = (
            tokens.sign(
                action,
                person_id=anna.person_id,
                team_id=tid,
                post_id=post_id,
                kind=kind,
                expires=planned.due + tokens.VALID_AFTER_DUE,
                version=version,
            )
            for action, post_id, kind, version in (
                ("approve", pid, "review-1", current),
                ("changes", pid, "review-1", current),
                ("approve", pid, "review-1", 0),
                ("takeover", planned.post_id, "escalate", None),
            )
        )
    docs.get(app.test_client(), f"/n/{approve}", "approve")
    docs.post(app.test_client(), f"/n/{changes_}", "changes-invalid", 422, data={"comment": ""})
    docs.get(app.test_client(), f"/n/{stale}", "approve-stale", 409)
    docs.get(app.test_client(), f"/n/{takeover}", "takeover")
    # Eve, co-owner of the post shared with her team, marks it published there from her nudge.
    with app.test_request_context():
        co_published = tokens.sign(
            "published",
            person_id=eve.person_id,
            team_id=tid,
            post_id=planned.post_id,
            kind="co-before-1440",
            expires=planned.due + tokens.VALID_AFTER_DUE,
            partner=other_id,
        )
    docs.get(app.test_client(), f"/n/{co_published}", "co-owner-published")
    bad_link = {"link": "lumen"}
    docs.post(
        app.test_client(), f"/n/{co_published}", "co-owner-published-invalid", 422, data=bad_link
    )

    # Forms answered with field errors, a conflict, refusals, and what htmx swaps in.
    # (What a browser sends: a blank title and a date without its time; one end of quiet hours.)
    new = MultiDict(edited(form_fields(docs.html["new-post"]), title=" ", at=""))
    docs.post(admin, f"/t/{tid}/posts", "new-post-invalid", 422, data=new)
    docs.post(admin, f"/t/{tid}/posts", "new-post-invalid-fragment", 422, htmx=True, data=new)
    for name, path in {"new-team": "/teams/new", "settings": f"/t/{tid}/settings"}.items():
        docs.post(admin, path, f"{name}-invalid", 422, data={"team_name": " "})
    docs.post(admin, "/me", "profile-invalid", 422, data={"name": " "})
    docs.post(newcomer, "/welcome", "welcome-invalid", 422, data={"name": " "})
    quiet = form_in(docs.html["nudge-preferences"], id="preferences-form").fields
    quiet = MultiDict(edited(quiet, quiet_start="22:00", quiet_end=""))
    docs.post(admin, "/me/nudges", "nudge-preferences-invalid", 422, data=quiet)
    # Calendar feeds: the page with a new feed's address shown once, a team feed's
    # confirmation, and a filter the team does not have.
    assert admin.post("/me/feeds").status_code == 302
    docs.get(admin, "/me/feeds", "feeds")
    docs.get(admin, f"/t/{tid}/feeds/new?channel=Instagram", "team-feed-new")
    docs.get(admin, f"/t/{tid}/feeds/new?channel=Nowhere", "team-feed-invalid", 422)
    # Personal profiles on the profile page: listed, and one refused (page and fragment).
    mine = {"new-network": "blog", "new-handle": "Vigna", "new-url": "https://vigna.example"}
    assert admin.post("/me/profiles", data=mine).status_code == 302
    docs.get(admin, "/me", "profile-with-profiles")
    bad = {"new-network": "x", "new-handle": " ", "new-url": "ftp://x"}
    docs.post(admin, "/me/profiles", "profile-add-invalid", 422, data=bad)
    docs.post(admin, "/me/profiles", "profile-add-invalid-fragment", 422, htmx=True, data=bad)
    # A post on Anna's own profile: its panel, and its chip marked in the month, filtered.
    (blog,) = profiles.profiles_of(stored_person(anna.person_id))
    personal = _post(team, anna, rome(2026, 12, 11, 10), "On Anna's blog", ())
    loaded, body = posts.load(tid, personal.post_id)
    copies = [profiles.copy_of(anna.person_id, blog)]
    changes.update(
        loaded,
        body,
        team,
        summary={"profiles": copies},
        body_fields={},
        actor=anna.person_id,
        now=folks.now(),
    )
    docs.get(admin, f"/t/{tid}/posts/{personal.post_id}", "post-personal")
    docs.get(admin, f"/t/{tid}/month/2026-12?reach=people", "month-personal")
    editor = folks.client_for(bruno)
    stale, seen = (form_fields(c.get(f"/t/{tid}/posts/{pid}").text) for c in (admin, editor))
    assert _save(editor, team, full, edited(seen, copy="Bruno's copy")).status_code == 302
    mine = edited(stale, copy="Anna's copy")
    docs.answer(_save(admin, team, full, mine), "post-conflict", 409, fragment=False)
    docs.answer(_save(admin, team, full, mine, **HTMX), "post-conflict-fragment", 409, True)
    comment = {"text": "Looks good, see http://cantina.example/@Bruno"}
    path = f"/t/{tid}/posts/{pid}/comments"
    docs.post(admin, path, "comment-fragment", 200, htmx=True, data=comment)
    moved = {"date": "2026-12-02", "version": late.version, "due": late.due.isoformat()}
    moved |= {"status": late.status, "owner": bruno.person_id, "month": "2026-12"}
    path = f"/t/{tid}/posts/{late.post_id}/move"
    docs.post(admin, path, "moved-fragment", 200, htmx=True, data=moved)
    viewer = folks.client_for(carla)
    docs.get(viewer, f"/t/{tid}/posts/{pid}", "post-as-viewer")
    docs.get(viewer, f"/t/{tid}/month/2026-12", "month-as-viewer")
    docs.get(viewer, f"/t/{tid}/posts/new", "forbidden", 403)
    docs.get(viewer, f"/t/{tid}/posts/new", "forbidden-fragment", 403, htmx=True)
    docs.get(admin, f"/t/{tid}/posts/nothing-here", "not-found", 404)
    failing = []
    inject(
        lambda event, request: (
            dynamodb_error(request, "ResourceNotFoundException")
            if failing and event == "before-send.dynamodb.Query"
            else None
        )
    )
    failing.append(True)
    docs.get(admin, f"/t/{tid}/agenda", "unavailable", 503)
    docs.get(admin, f"/t/{tid}/agenda", "unavailable-fragment", 503, htmx=True)
    failing.clear()

    # The HTML part of every email: sign-in, invitation, a nudge, an escalation, digest, away.
    docs.add("mail-sign-in", signed_in["html"])
    docs.add("mail-invitation", invitation["html"])
    docs.add("mail-partner-invitation", partnering["html"])
    docs.add("mail-nudge", nudge["html"])
    docs.add("mail-notifications", notified["html"])
    late = posts.load(tid, late.post_id)[0]
    post, body = posts.load(tid, pid)
    team = teams.team(tid)
    now = rome(2026, 12, 8, 12)
    escalate = next(r for r in reminders.of_post(tid, planned.post_id) if r.kind == "escalate")
    bruno.away_from, bruno.away_until = "2026-12-04", "2026-12-10"
    with app.test_request_context():
        composed = {
            "mail-escalation": emails.nudge(
                escalate, post, body, team, [anna], now, Escalation("unanswered", reminded=3)
            ),
            "mail-digest": emails.digest(anna, [late], [post], now - timedelta(days=4)),
            "mail-away": emails.away_notice(anna, bruno, team, [post], now - timedelta(days=4)),
            "mail-cadence-health": weekly.message(anna, team, now),
            "mail-review-request": emails.nudge(
                Reminder(
                    *Reminder.key(tid, pid, "review-1"),
                    team_id=tid,
                    post_id=pid,
                    kind="review-1",
                    person_id=anna.person_id,
                    due=now,
                ),
                post,
                body,
                team,
                [anna],
                now,
            ),
        }
        # A shared post's co-owner's nudge: "published" for their team, their team's page of
        # it; their digest lists it.
        co_owned = posts.load(tid, planned.post_id)[0]
        mirror = SharedPost.of(co_owned)
        composed["mail-digest-co-owned"] = emails.digest(eve, [], [mirror], now - timedelta(days=4))
        composed["mail-co-owner-nudge"] = emails.nudge(
            Reminder(
                *Reminder.key(tid, co_owned.post_id, "co-before-1440"),
                team_id=tid,
                post_id=co_owned.post_id,
                kind="co-before-1440",
                person_id=eve.person_id,
                due=now,
            ),
            co_owned,
            None,
            team,
            [eve],
            now,
        )
    for name, message in composed.items():
        docs.add(name, message.get_body(("html",)).get_content())
    return docs


def test_every_page_fragment_and_email_is_valid_html(vnu, app, everything, tmp_path):
    pages = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert pages - NOT_HTML - everything.endpoints == set(), "a GET page is not checked"
    errors, _warnings = everything.problems(vnu, tmp_path)
    assert errors == [], "\n".join(errors)
