"""One rule for status changes (issue 9, finding 5): who may approve, publish, review.

The rule is ``app.planner.changes.status_change_allowed`` (with ``refusal`` for reviewers);
every path that writes a post goes through ``app.planner.changes``, which applies it before
writing. These tests check the rule as a table, then each path end to end: a refused change
answers 422 (forms, with the message next to the field) or 403 (the review route, email
actions), and nothing is written.
"""

import ast
import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
import test_nudges
import test_planner
from test_nudges import _links, make_post, rome, run, sent
from test_planner import _form, _rome

from app.planner import changes
from app.store import posts, teams

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)
nudging = test_nudges.nudging  # the fixture: Anna (admin) and Marco (editor), nudged by email

STATUSES = ("idea", "draft", "in_review", "approved", "published", "skipped")
OPEN = ("idea", "draft", "in_review")


def _editor_may(start, to, owner, reviewer) -> bool:
    """The table an editor's changes follow, written out case by case."""
    if start == to:
        return True
    if to == "approved":
        return start == "in_review" and reviewer and not owner
    if to == "published":
        return start == "approved" and owner
    if to == "skipped":
        return owner
    if start == "in_review":  # sent back by the reviewer, or withdrawn by the owner
        return reviewer or owner
    return to in OPEN


TABLE = [
    (role, start, to, owner, reviewer)
    for role in ("admin", "editor", "viewer", None)
    for start in STATUSES
    for to in STATUSES
    for owner in (False, True)
    for reviewer in (False, True)
]


@pytest.mark.parametrize(("role", "start", "to", "owner", "reviewer"), TABLE)
def test_who_may_move_a_post_between_statuses(role, start, to, owner, reviewer):
    expected = {
        "admin": True,
        "editor": _editor_may(start, to, owner, reviewer),
        "viewer": False,
        None: False,
    }[role]
    allowed = changes.status_change_allowed(role, start, to, is_owner=owner, is_reviewer=reviewer)
    assert allowed is expected


@pytest.mark.parametrize(
    ("role", "to", "allowed"),
    [
        ("editor", "idea", True),
        ("editor", "draft", True),
        ("editor", "in_review", True),
        ("editor", "approved", False),
        ("editor", "published", False),
        ("admin", "approved", True),
        ("admin", "published", True),
        ("viewer", "draft", False),
    ],
)
def test_who_may_create_a_post_in_each_status(role, to, allowed):
    assert changes.status_change_allowed(role, None, to, is_owner=True, is_reviewer=False) is (
        allowed
    )


# End to end --------------------------------------------------------------------------------


def _stored(team, post_id):
    """What a person would see of the post: its summary, body and history."""
    post, body = posts.load(team.team_id, post_id)
    entries = posts.history(team.team_id, post_id)
    return post.serialize(), body.serialize(), [entry.serialize() for entry in entries]


def _in_review(team, owner, reviewer, title="Tasting teaser"):
    """A dated post of ``owner`` waiting for ``reviewer`` (set up as stored data)."""
    post = test_planner._post(team, owner, _rome(2026, 12, 5, 10), title, status="in_review")
    loaded, body = posts.load(team.team_id, post.post_id)
    posts.update(
        loaded,
        body,
        summary={"reviewer_id": reviewer.person_id},
        body_fields={},
        actor=owner.person_id,
        now=datetime.now(UTC),
    )
    return posts.load(team.team_id, post.post_id)[0]


def _field_error(html: str, field: str) -> str:
    """The message shown next to a form field ("" if none)."""
    found = re.search(rf'<small id="{field}-error" class="field-error">(.*?)</small>', html)
    return unescape(found.group(1)) if found else ""


def _edit(post, owner, **values):
    """The post form as its panel shows it, with some fields changed."""
    shown = {
        "owner": owner.person_id,
        "day": "2026-12-05",
        "at": "10:00",
        "status": post.status,
        "reviewer": post.reviewer_id or "",
        "version": str(post.version),
        "copy": "Copy",
        "title": post.title,
    }
    return _form(**{**shown, **values})


def test_an_editor_cannot_approve_a_post_someone_else_reviews_from_the_edit_form(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    post = _in_review(team, bruno, anna)
    before = _stored(team, post.post_id)
    client = cantina["folks"].client_for(bruno)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}",
        data=_edit(post, bruno, status="approved"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert _field_error(response.text, "status") == (
        "Only the post's reviewer, or an admin, can approve it."
    )
    assert _stored(team, post.post_id) == before


def test_an_editor_cannot_publish_a_post_that_was_never_approved(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = test_planner._post(team, bruno, _rome(2026, 12, 5, 10))
    before = _stored(team, post.post_id)
    client = cantina["folks"].client_for(bruno)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}", data=_edit(post, bruno, status="published")
    )
    assert response.status_code == 422
    assert "once it is approved" in _field_error(response.text, "status")
    assert _stored(team, post.post_id) == before


def test_the_assigned_reviewer_approves_from_the_edit_form_and_the_owner_then_publishes(
    app, cantina
):
    team, bruno, folks = cantina["team"], cantina["bruno"], cantina["folks"]
    nora = folks.person("nora@example.com", "Nora")
    folks.join(team, nora, "editor")
    post = _in_review(team, bruno, nora)
    approve = folks.client_for(nora).post(
        f"/t/{team.team_id}/posts/{post.post_id}", data=_edit(post, bruno, status="approved")
    )
    assert approve.status_code == 302
    post = posts.load(team.team_id, post.post_id)[0]
    assert post.status == "approved"
    publish = folks.client_for(bruno).post(
        f"/t/{team.team_id}/posts/{post.post_id}", data=_edit(post, bruno, status="published")
    )
    assert publish.status_code == 302
    assert posts.load(team.team_id, post.post_id)[0].status == "published"


def test_an_editor_cannot_name_themselves_reviewer(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = test_planner._post(team, bruno, _rome(2026, 12, 5, 10))
    before = _stored(team, post.post_id)
    client = cantina["folks"].client_for(bruno)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}",
        data=_edit(post, bruno, status="in_review", reviewer=bruno.person_id),
    )
    assert response.status_code == 422
    assert "nobody reviews for themselves" in _field_error(response.text, "reviewer")
    assert _stored(team, post.post_id) == before


@pytest.mark.parametrize("status", ["approved", "published"])
def test_an_editor_cannot_create_a_post_already_approved_or_published(app, cantina, status):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    response = client.post(
        f"/t/{team.team_id}/posts",
        data=_form(owner=bruno.person_id, day="2026-12-05", at="10:00", status=status),
    )
    assert response.status_code == 422 and _field_error(response.text, "status")
    assert posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2027, 1, 1)) == []


def test_an_editor_cannot_create_a_post_in_review_by_themselves(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    response = client.post(
        f"/t/{team.team_id}/posts",
        data=_form(
            owner=bruno.person_id,
            day="2026-12-05",
            at="10:00",
            status="in_review",
            reviewer=bruno.person_id,
        ),
    )
    assert response.status_code == 422
    assert "nobody reviews for themselves" in _field_error(response.text, "reviewer")
    assert posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2027, 1, 1)) == []


def test_an_admin_may_create_a_post_already_approved(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    client = cantina["folks"].client_for(anna)
    response = client.post(
        f"/t/{team.team_id}/posts",
        data=_form(owner=bruno.person_id, day="2026-12-05", at="10:00", status="approved"),
    )
    assert response.status_code == 302
    [post] = posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2027, 1, 1))
    assert post.status == "approved"


def test_a_reviewer_who_owns_the_post_cannot_approve_it_on_the_review_route(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _in_review(team, bruno, bruno)  # stored before the rule, or named by an admin
    before = _stored(team, post.post_id)
    client = cantina["folks"].client_for(bruno)
    panel = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    assert 'id="review-title"' not in panel  # no buttons that could only answer 403
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/review",
        data={"decision": "approve", "version": str(post.version)},
    )
    assert response.status_code == 403
    assert "Only the post's reviewer, or an admin, can approve it." in unescape(response.text)
    assert _stored(team, post.post_id) == before


def test_the_review_route_still_lets_the_assigned_reviewer_approve(app, cantina):
    team, bruno, folks = cantina["team"], cantina["bruno"], cantina["folks"]
    nora = folks.person("nora@example.com", "Nora")
    folks.join(team, nora, "editor")
    post = _in_review(team, bruno, nora)
    panel = folks.client_for(nora).get(f"/t/{team.team_id}/posts/{post.post_id}").text
    assert 'id="review-title"' in panel
    response = folks.client_for(nora).post(
        f"/t/{team.team_id}/posts/{post.post_id}/review",
        data={"decision": "approve", "version": str(post.version)},
    )
    assert response.status_code == 302
    assert posts.load(team.team_id, post.post_id)[0].status == "approved"


def test_a_duplicate_cannot_name_its_maker_reviewer(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = test_planner._post(team, bruno, _rome(2026, 12, 5, 10))
    client = cantina["folks"].client_for(bruno)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/duplicate",
        data=_edit(post, bruno, day="2026-12-12", reviewer=bruno.person_id),
    )
    assert response.status_code == 422
    assert "nobody reviews for themselves" in _field_error(response.text, "reviewer")
    assert [
        p.post_id for p in posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2027, 1, 1))
    ] == [post.post_id]


def test_a_viewer_changes_nothing_even_through_the_changes_layer(app, cantina):
    """A path with no role check of its own (an old email, a new route) is still refused."""
    team, bruno, carla = cantina["team"], cantina["bruno"], cantina["carla"]
    post = test_planner._post(team, bruno, _rome(2026, 12, 5, 10))
    before = _stored(team, post.post_id)
    loaded, body = posts.load(team.team_id, post.post_id)
    with app.app_context(), pytest.raises(changes.Refused):
        changes.move(
            team,
            post.post_id,
            seen_due=loaded.due,
            seen_owner=loaded.owner_id,
            seen_status=loaded.status,
            due=_rome(2026, 12, 9, 10),
            zone="Europe/Rome",
            actor=carla.person_id,
            now=datetime.now(UTC),
            version=loaded.version,
        )
    with app.app_context(), pytest.raises(changes.Refused):
        changes.update(
            loaded,
            body,
            team,
            summary={"status": "published"},
            body_fields={},
            actor=carla.person_id,
            now=datetime.now(UTC),
        )
    assert _stored(team, post.post_id) == before


def test_an_editor_cannot_publish_an_unapproved_post_from_an_email(nudging):
    """The email path has no rule of its own: the changes layer refuses, with a clear 403."""
    folks = nudging["folks"]
    lia = folks.person("lia@example.com", "Lia Neri")  # an editor who reads English
    folks.join(teams.team(nudging["team_id"]), lia, "editor")
    post = make_post(nudging, lia, rome(2026, 12, 5, 10), status="draft")
    run(nudging, rome(2026, 12, 4, 10))
    [mail] = [m for m in sent(nudging) if m["to"] == "lia@example.com"]
    before = _stored(teams.team(post.team_id), post.post_id)
    response = nudging["app"].test_client().post(_links(mail)["Mark as published"])
    assert response.status_code == 403
    assert _stored(teams.team(post.team_id), post.post_id) == before


# No way around it --------------------------------------------------------------------------

WRITES = {"create", "update", "move", "trash", "restore", "plan_new", "replan", "withdraw"}


def test_only_the_changes_layer_writes_posts():
    """Every post write goes through app.planner.changes, so no path skips the rule."""
    root = Path(__file__).resolve().parents[1] / "app"
    writers = []
    for path in root.rglob("*.py"):
        if path.relative_to(root).as_posix() in ("planner/changes.py", "store/posts.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "posts"
                and node.attr in WRITES
            ) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "app.store.posts"
                and {alias.name for alias in node.names} & WRITES
            ):
                writers.append(f"{path.relative_to(root)}:{node.lineno}")
    assert writers == []
