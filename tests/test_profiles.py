"""People's own profiles (issue 12, personal profiles): listed on the person's page, stored in
their person item, edited only by them, and usable on the posts they own."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import test_planner
from formdata import form_in, forms_in
from test_forms_round_trip import stored_items
from test_planner_everyday import edited, form_fields
from werkzeug.datastructures import MultiDict

from app.nudges import run_once
from app.planner import changes
from app.store import people, posts, teams
from app.store import playbook as stored_playbook
from app.store import profiles as stored
from app.store.models import Person
from tests.conftest import outbox

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)


def _raw_person(app, someone) -> dict:
    with app.app_context():
        return Person.get(*Person.key(someone.person_id), consistent_read=True).to_simple_dict()


def _profiles(app, someone) -> list[stored.Profile]:
    with app.app_context():
        return stored.profiles_of(people.person(someone.person_id))


def added(client, network="linkedin", handle="giulia-rossi", url=""):
    """Add a profile as the page does: the add form as shown, filled in."""
    form = form_in(client.get("/me").text, id="profile-add-form")
    data = form.data()
    data["new-network"], data["new-handle"], data["new-url"] = network, handle, url
    return client.post(form.action, data=data)


def _edit_form(client, profile_id: str):
    return form_in(client.get("/me").text, id=f"profile-form-{profile_id}")


def test_profiles_round_trip_on_the_profile_page(app, cantina):
    folks, bruno = cantina["folks"], cantina["bruno"]
    client = folks.client_for(bruno)
    assert (
        added(client, "linkedin", "bruno-bianchi", "https://www.linkedin.com/in/bruno").status_code
        == 302
    )
    assert added(client, "instagram", "@bruno.vigna").status_code == 302
    page = client.get("/me").text
    assert "LinkedIn · bruno-bianchi" in page and "Instagram · @bruno.vigna" in page
    first, second = _profiles(app, bruno)
    assert (first.network, first.handle, first.url) == (
        "linkedin",
        "bruno-bianchi",
        "https://www.linkedin.com/in/bruno",
    )
    assert (second.network, second.handle, second.url) == ("instagram", "@bruno.vigna", "")

    # Saving a form unchanged writes nothing (its rev stays).
    before = _raw_person(app, bruno)
    form = _edit_form(client, first.profile_id)
    assert client.post(form.action, data=form.data()).status_code == 302
    assert _raw_person(app, bruno) == before

    # Edited: stored as typed (stripped), shown as stored.
    data = form.data()
    prefix = f"p{first.profile_id}-"
    data[prefix + "network"], data[prefix + "handle"] = "mastodon", "  @bruno@mastodon.social "
    assert client.post(form.action, data=data).status_code == 302
    changed = _profiles(app, bruno)[0]
    assert (changed.network, changed.handle) == ("mastodon", "@bruno@mastodon.social")
    assert changed.rev != first.rev
    assert "Mastodon · @bruno@mastodon.social" in client.get("/me").text

    # Removed with the Remove button of its form.
    form = _edit_form(client, changed.profile_id)
    remove = f"/me/profiles/{changed.profile_id}/remove"
    assert client.post(remove, data=form.data()).status_code == 302
    assert [p.profile_id for p in _profiles(app, bruno)] == [second.profile_id]


def test_at_most_ten_profiles(app, cantina):
    client = cantina["folks"].client_for(cantina["bruno"])
    for number in range(stored.MAX_PROFILES):
        assert added(client, handle=f"handle-{number}").status_code == 302
    page = client.get("/me").text
    assert 'id="profile-add-form"' not in page and 'id="profiles-full"' in page
    before = _raw_person(app, cantina["bruno"])
    data = {"new-network": "x", "new-handle": "eleventh"}

    data["csrf_token"] = forms_in(page)[0].values("csrf_token")[0]
    answer = client.post("/me/profiles", data=data)
    assert answer.status_code == 422
    assert "the most one person can have" in answer.text
    assert _raw_person(app, cantina["bruno"]) == before


def test_a_stale_form_is_refused_and_two_tabs_never_overwrite(app, cantina):
    client = cantina["folks"].client_for(cantina["bruno"])
    added(client, handle="first")
    (profile,) = _profiles(app, cantina["bruno"])
    tab_one = _edit_form(client, profile.profile_id).data()
    tab_two = _edit_form(client, profile.profile_id).data()
    prefix = f"p{profile.profile_id}-"
    tab_one[prefix + "handle"] = "from tab one"
    tab_two[prefix + "handle"] = "from tab two"
    assert client.post(f"/me/profiles/{profile.profile_id}", data=tab_one).status_code == 302
    before = _raw_person(app, cantina["bruno"])
    assert client.post(f"/me/profiles/{profile.profile_id}", data=tab_two).status_code == 409
    remove = f"/me/profiles/{profile.profile_id}/remove"
    assert client.post(remove, data=tab_two).status_code == 409
    assert _raw_person(app, cantina["bruno"]) == before
    assert _profiles(app, cantina["bruno"])[0].handle == "from tab one"


def test_the_store_refuses_an_edit_of_a_changed_profile(app, cantina):
    """The condition holds at the write, whatever the page read: a race both pages won."""
    with app.app_context():
        bruno = people.person(cantina["bruno"].person_id)
        profile = stored.add(bruno, network="x", handle="a", url="", now=cantina["folks"].now())
        stored.change(bruno, profile, network="x", handle="b", url="")
        with pytest.raises(stored.Conflict):
            stored.change(bruno, profile, network="x", handle="c", url="")
        with pytest.raises(stored.Conflict):
            stored.remove(bruno, profile)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("handle", "", "Say how people find you there."),
        ("handle", "   ", "Say how people find you there."),
        ("handle", "x" * 101, "Field cannot be longer than 100 characters."),
        ("handle", "a\tb", "Please remove line breaks and control characters."),
        ("handle", "a\nb", "Please remove line breaks and control characters."),
        ("url", "javascript:alert(1)", "Enter a web address starting with https://"),
        ("url", "ftp://example.com", "Enter a web address starting with https://"),
        ("url", "https://" + "a" * 200, "Field cannot be longer than 150 characters."),
        ("network", "myspace", "Not a valid choice."),
    ],
)
def test_bad_input_is_refused_with_a_field_message(app, cantina, field, value, message):
    client = cantina["folks"].client_for(cantina["bruno"])
    added(client, handle="kept")
    (profile,) = _profiles(app, cantina["bruno"])
    before = _raw_person(app, cantina["bruno"])
    data = {"new-network": "linkedin", "new-handle": "ok", "new-url": ""}
    data[f"new-{field}"] = value
    form = form_in(client.get("/me").text, id="profile-add-form")
    data["csrf_token"] = form.values("csrf_token")[0]
    answer = client.post("/me/profiles", data=data)
    assert answer.status_code == 422
    assert f'id="new-{field}-error"' in answer.text and message in answer.text
    edit = _edit_form(client, profile.profile_id).data()
    edit[f"p{profile.profile_id}-{field}"] = value
    answer = client.post(f"/me/profiles/{profile.profile_id}", data=edit)
    assert answer.status_code == 422
    assert f'id="p{profile.profile_id}-{field}-error"' in answer.text
    assert _raw_person(app, cantina["bruno"]) == before


def test_another_persons_profile_is_never_reachable(app, cantina):
    """Profiles live only under /me: another person's profile id is not found there, and
    nothing of theirs changes."""
    folks = cantina["folks"]
    added(folks.client_for(cantina["anna"]), handle="anna")
    (annas,) = _profiles(app, cantina["anna"])
    before = _raw_person(app, cantina["anna"])
    bruno = folks.client_for(cantina["bruno"])
    added(bruno, handle="bruno")
    csrf = form_in(bruno.get("/me").text, id="profile-add-form").values("csrf_token")[0]
    data = {
        "csrf_token": csrf,
        f"p{annas.profile_id}-rev": annas.rev,
        f"p{annas.profile_id}-network": "x",
        f"p{annas.profile_id}-handle": "taken over",
    }
    assert bruno.post(f"/me/profiles/{annas.profile_id}", data=data).status_code == 404
    assert bruno.post(f"/me/profiles/{annas.profile_id}/remove", data=data).status_code == 404
    assert _raw_person(app, cantina["anna"]) == before
    assert "taken over" not in bruno.get("/me").text


def test_the_profile_page_in_italian(app, folks):
    giulia = folks.person("giulia@example.com", "Giulia Rossi", language="it")
    client = folks.client_for(giulia)
    assert added(client, "blog", "Vigna Rossi", "https://vignarossi.it").status_code == 302
    page = client.get("/me").text
    assert '<html lang="it"' in page
    assert "Vigna Rossi" in page and 'href="https://vignarossi.it"' in page


# A post on a personal profile ------------------------------------------------------------


def _calendar_items() -> dict:
    """The team table's items (the system table's sessions change with every request)."""
    return {key: item for key, item in stored_items().items() if key[0] == "test-calendar"}


def _own_profile(app, someone, network="linkedin", handle="bruno-bianchi") -> stored.Profile:
    with app.app_context():
        person = people.person(someone.person_id)
        return stored.add(person, network=network, handle=handle, url="", now=clock_now())


def clock_now():
    from app.web import now  # noqa: PLC0415  (a request's clock, outside one: the test's)

    return now()


def _new_post_form(client, team, **changes):
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    page = client.get(f"/t/{team.team_id}/posts/new?date={day}").text
    return edited(form_fields(page), title="On my LinkedIn", **changes), page


def _changed(app, team, post, actor, **summary):
    """Change ``post`` as ``actor`` through the change rules, as every route does."""
    with app.app_context():
        loaded, body = posts.load(team.team_id, post.post_id)
        changes.update(
            loaded,
            body,
            teams.team(team.team_id),
            summary=summary,
            body_fields={},
            actor=actor.person_id,
            now=clock_now(),
        )


def _copy(owner, profile):
    return stored.copy_of(owner.person_id, profile)


def _stored_posts(app, team) -> list:
    with app.app_context():
        return [
            posts.load(team.team_id, key[2].split("#", 1)[1])[0]
            for key in _calendar_items()
            if key[1] == f"TEAM#{team.team_id}" and key[2].startswith("POST#")
        ]


def test_a_post_goes_out_on_its_owners_profile_and_keeps_a_copy(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    linkedin = _own_profile(app, bruno)
    client = cantina["folks"].client_for(bruno)
    pairs, page = _new_post_form(client, team, profiles=[linkedin.profile_id])
    assert "LinkedIn · bruno-bianchi" in page  # offered beside the team's channels
    assert 'data-channel="LinkedIn"' in page
    answer = client.post(f"/t/{team.team_id}/posts", data=MultiDict(pairs))
    assert answer.status_code == 302, answer.text[:2000]
    (post,) = _stored_posts(app, team)
    assert [(c.person, c.id, c.network, c.handle) for c in post.profiles] == [
        (bruno.person_id, linkedin.profile_id, "linkedin", "bruno-bianchi")
    ]
    panel = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    assert form_in(panel, id="post-form").values("profiles") == [linkedin.profile_id]
    # Saved unchanged: nothing written.
    before = _calendar_items()
    saved = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}", data=MultiDict(form_fields(panel))
    )
    assert saved.status_code == 302
    assert _calendar_items() == before


@pytest.mark.parametrize("whose", ["another member's", "made up", "another team's person's"])
def test_a_profile_not_the_owners_is_refused_on_create_and_save(app, cantina, whose):
    team, anna, bruno, eve = cantina["team"], cantina["anna"], cantina["bruno"], cantina["eve"]
    someone = {"another member's": anna, "another team's person's": eve}.get(whose)
    theirs = _own_profile(app, someone).profile_id if someone else "abcdefabcdef"
    client = cantina["folks"].client_for(bruno)
    before = _calendar_items()
    pairs, _page = _new_post_form(client, team, profiles=[theirs])
    answer = client.post(f"/t/{team.team_id}/posts", data=MultiDict(pairs))
    assert answer.status_code == 422
    assert 'id="profiles-error"' in answer.text
    assert _calendar_items() == before
    post = test_planner._post(team, bruno, datetime.now(UTC) + timedelta(days=2), "Mine")
    panel = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    before = _calendar_items()
    sent = edited(form_fields(panel), profiles=[theirs])
    answer = client.post(f"/t/{team.team_id}/posts/{post.post_id}", data=MultiDict(sent))
    assert answer.status_code == 422
    assert 'id="profiles-error"' in answer.text
    assert _calendar_items() == before


def test_changing_the_owner_refuses_the_former_owners_profiles(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    linkedin = _own_profile(app, bruno)
    client = cantina["folks"].client_for(bruno)
    pairs, _page = _new_post_form(client, team, profiles=[linkedin.profile_id])
    assert client.post(f"/t/{team.team_id}/posts", data=MultiDict(pairs)).status_code == 302
    (post,) = _stored_posts(app, team)
    panel = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    before = _calendar_items()
    handed = edited(form_fields(panel), owner=anna.person_id)
    answer = client.post(f"/t/{team.team_id}/posts/{post.post_id}", data=MultiDict(handed))
    assert answer.status_code == 422 and 'id="profiles-error"' in answer.text
    assert _calendar_items() == before
    # Unticked, the hand-over is saved; Anna's own profiles are what the form offers then.
    annas = _own_profile(app, anna, "instagram", "@anna.vigna")
    handed = edited(form_fields(panel), owner=anna.person_id, profiles=[])
    answer = client.post(f"/t/{team.team_id}/posts/{post.post_id}", data=MultiDict(handed))
    assert answer.status_code == 302
    panel = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    offered = panel.split('id="post-profiles"', 1)[1].split("</fieldset>", 1)[0]
    assert "Instagram · @anna.vigna" in offered and "LinkedIn · bruno-bianchi" not in offered
    assert annas.profile_id in offered
    # The history names the profile taken off, under its label.
    assert "Own profiles: LinkedIn · bruno-bianchi → —" in panel


def test_a_hand_over_without_the_form_drops_the_former_owners_profiles(app, cantina):
    """A nudge's hand-over link changes only the owner: Bruno's profile stays Bruno's."""
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    post = _on_profile(app, team, bruno, "Mine", _own_profile(app, bruno))
    _changed(app, team, post, anna, owner_id=anna.person_id)
    with app.app_context():
        assert posts.load(team.team_id, post.post_id)[0].profiles is None


def test_counters_and_checklists_go_by_the_profiles_network(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    x = _own_profile(app, bruno, "x", "@bruno")
    with app.app_context():
        stored_playbook.save(
            team.team_id,
            guidelines="",
            checklists={"X": ["Tag @cantina"]},
            version=None,
            actor=cantina["anna"].person_id,
            now=clock_now(),
        )
    client = cantina["folks"].client_for(bruno)
    pairs, _page = _new_post_form(
        client, team, profiles=[x.profile_id], channels=[], copy="y" * 300
    )
    assert client.post(f"/t/{team.team_id}/posts", data=MultiDict(pairs)).status_code == 302
    (post,) = _stored_posts(app, team)
    panel = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    assert "Tag @cantina" in panel  # X's checklist
    assert "300" in panel and "280" in panel  # X's character warning


def test_the_nudge_email_names_the_profile_in_its_channels_line(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    linkedin = _own_profile(app, bruno)
    post = cantina["folks"].post(
        team, owner=bruno, created_by=bruno, status="draft", title="On my LinkedIn"
    )
    _changed(app, team, post, bruno, profiles=[_copy(bruno, linkedin)])
    assert run_once(app, post.due - timedelta(days=1)).sent >= 1
    (nudge,) = [mail for mail in outbox(app) if "On my LinkedIn" in mail["subject"]]
    assert "LinkedIn · bruno-bianchi" in json.dumps(nudge, ensure_ascii=False)


# The calendar --------------------------------------------------------------------------------


def _on_profile(app, team, owner, title, profile):
    """A post of ``owner`` on ``profile`` only, due in three days."""
    post = test_planner._post(team, owner, datetime.now(UTC) + timedelta(days=3), title)
    _changed(app, team, post, owner, profiles=[_copy(owner, profile)], channels=[])
    return post


@pytest.mark.parametrize("view", ["month", "week", "agenda"])
def test_the_calendar_marks_personal_posts_and_filters_them(app, cantina, view):
    team, bruno = cantina["team"], cantina["bruno"]
    mine = _on_profile(app, team, bruno, "On Bruno's LinkedIn", _own_profile(app, bruno))
    ours = test_planner._post(team, bruno, datetime.now(UTC) + timedelta(days=3), "On ours")
    client = cantina["folks"].client_for(cantina["anna"])
    due = datetime.now(UTC) + timedelta(days=3)
    path = {
        "month": f"/t/{team.team_id}/month/{due:%Y-%m}",
        "week": f"/t/{team.team_id}/week/{due.date().isoformat()}",
        "agenda": f"/t/{team.team_id}/agenda",
    }[view]
    page = client.get(path, follow_redirects=True).text  # a week's address is its first day
    chip = page.split(f'id="post-{mine.post_id}"', 1)[1].split("</a>", 1)[0]
    assert "LinkedIn · bruno-bianchi" in chip
    assert '<span class="badge personal">personal · Bruno Bianchi</span>' in chip
    assert 'id="filter-reach"' in page
    people_only = client.get(path + "?reach=people", follow_redirects=True).text
    assert f'id="post-{mine.post_id}"' in people_only
    assert f'id="post-{ours.post_id}"' not in people_only
    team_only = client.get(path + "?reach=team", follow_redirects=True).text
    assert f'id="post-{mine.post_id}"' not in team_only
    assert f'id="post-{ours.post_id}"' in team_only
    anything = client.get(path + "?reach=everyone", follow_redirects=True).text  # unknown: ignored
    assert f'id="post-{mine.post_id}"' in anything and f'id="post-{ours.post_id}"' in anything
