"""The playbook: admins write it, everyone reads it, and its checklists sit beside the post
form, ticked and stored with the post for the reviewer to see."""

import pytest

from app.store import meter, people, posts
from app.store import playbook as stored_playbook
from app.store import profiles as stored_profiles
from app.store.playbook import MAX_GUIDELINES, MAX_ITEM_LENGTH, MAX_ITEMS
from tests.formdata import form_in
from tests.test_planner import cantina  # noqa: F401 (a fixture)
from tests.test_profiles import added

INSTAGRAM = ["Photo is square or 4:5", "Location tagged", "Partner tagged"]
GUIDELINES = "## Voice\n\nWarm, **never** pushy. Tag [Enoteca Lumen](https://lumen.example)."


def write_playbook(team, admin, now, checklists=None, guidelines=GUIDELINES):
    return stored_playbook.save(
        team.team_id,
        guidelines=guidelines,
        checklists={"Instagram": INSTAGRAM} if checklists is None else checklists,
        version=stored_playbook.load(team.team_id).version,
        actor=admin.person_id,
        now=now,
    )


def edit_form(client, team):
    page = client.get(f"/t/{team.team_id}/playbook/edit")
    assert page.status_code == 200
    return form_in(page.text, id="playbook-form")


def field_for(form, label_channel, html):
    """The name of the checklist textarea labelled with the channel."""
    return html.split(f">{label_channel}</label>")[0].rsplit('for="', 1)[1].split('"')[0]


@pytest.fixture
def team_with_post(cantina, folks):  # noqa: F811
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    write_playbook(team, anna, folks.now())
    post = folks.post(team, owner=bruno, created_by=bruno, status="draft", title="Harvest")
    return {**cantina, "post": post, "path": f"/t/{team.team_id}/posts/{post.post_id}"}


# The playbook page -------------------------------------------------------------------------


def test_an_admin_writes_the_playbook_and_every_member_reads_it(cantina, folks):  # noqa: F811
    team, anna, carla = cantina["team"], cantina["anna"], cantina["carla"]
    admin = folks.client_for(anna)
    page = admin.get(f"/t/{team.team_id}/playbook/edit").text
    form = form_in(page, id="playbook-form")
    data = form.data()
    data["guidelines"] = GUIDELINES
    data[field_for(form, "Instagram", page)] = "- Photo is square or 4:5\r\nLocation tagged\r\n\r\n"
    saved = admin.post(form.action, data=data)
    assert saved.status_code == 302 and saved.location.endswith(f"/t/{team.team_id}/playbook")

    shown = folks.client_for(carla).get(f"/t/{team.team_id}/playbook").text  # a viewer
    assert "<h3>Voice</h3>" in shown and "<strong>never</strong>" in shown
    assert '<a href="https://lumen.example" rel="nofollow noopener">Enoteca Lumen</a>' in shown
    assert "<li>Photo is square or 4:5</li>" in shown and "<li>Location tagged</li>" in shown
    assert "Edit the playbook" not in shown
    stored = stored_playbook.load(team.team_id)
    assert stored.checklist(team.channels) == [("Instagram", INSTAGRAM[:2])]


def test_the_playbook_form_round_trips_and_saving_it_unchanged_changes_nothing(
    cantina,  # noqa: F811
    folks,
):
    team, anna = cantina["team"], cantina["anna"]
    write_playbook(team, anna, folks.now(), {"Instagram": INSTAGRAM, "X": ["Under 280"]})
    admin = folks.client_for(anna)
    page = admin.get(f"/t/{team.team_id}/playbook/edit").text
    form = form_in(page, id="playbook-form")
    assert form.data()["guidelines"] == GUIDELINES
    assert form.data()[field_for(form, "Instagram", page)] == "\n".join(INSTAGRAM)
    before = stored_playbook.load(team.team_id)
    assert admin.post(form.action, data=form.data()).status_code == 302
    after = stored_playbook.load(team.team_id)
    assert after.version == before.version and after.updated_at == before.updated_at


def test_a_stale_playbook_edit_is_refused_and_overwrites_nothing(cantina, folks):  # noqa: F811
    team, anna = cantina["team"], cantina["anna"]
    write_playbook(team, anna, folks.now())
    admin = folks.client_for(anna)
    form = edit_form(admin, team)
    write_playbook(team, anna, folks.now(), guidelines="Saved meanwhile by Anna's other tab")
    data = form.data()
    data["guidelines"] = "Mine"
    refused = admin.post(form.action, data=data)
    assert refused.status_code == 409
    assert "Someone saved the playbook while you were editing" in refused.text
    assert "Saved meanwhile by Anna" in refused.text.split('id="stale-title"')[1]
    assert stored_playbook.load(team.team_id).guidelines == "Saved meanwhile by Anna's other tab"
    again = form_in(refused.text, id="playbook-form")
    assert again.data()["guidelines"] == "Mine"  # the editor's text is kept
    assert admin.post(again.action, data=again.data()).status_code == 302  # a deliberate save
    assert stored_playbook.load(team.team_id).guidelines == "Mine"


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("guidelines", "Keep the guidelines under"),
        ("items", "Keep it to 12 items"),
        ("item", "of up to 120 characters"),
        ("version", "This page is out of date"),
    ],
)
def test_bad_playbook_input_is_refused_with_a_message_by_its_field(
    cantina,  # noqa: F811
    folks,
    what,
    message,
):
    team, anna = cantina["team"], cantina["anna"]
    admin = folks.client_for(anna)
    page = admin.get(f"/t/{team.team_id}/playbook/edit").text
    form = form_in(page, id="playbook-form")
    data, instagram = form.data(), field_for(form, "Instagram", page)
    if what == "guidelines":
        data["guidelines"] = "x" * (MAX_GUIDELINES + 1)
    elif what == "items":
        data[instagram] = "\n".join(f"item {n}" for n in range(MAX_ITEMS + 1))
    elif what == "item":
        data[instagram] = "y" * (MAX_ITEM_LENGTH + 1)
    else:
        data["version"] = "not a number"
    refused = admin.post(form.action, data=data)
    assert refused.status_code == 422
    assert message in refused.text and 'class="field-error"' in refused.text
    assert stored_playbook.load(team.team_id).version is None  # nothing written


def test_only_admins_edit_the_playbook(cantina, folks):  # noqa: F811
    team, bruno = cantina["team"], cantina["bruno"]
    editor = folks.client_for(bruno)
    assert editor.get(f"/t/{team.team_id}/playbook").status_code == 200
    assert editor.get(f"/t/{team.team_id}/playbook/edit").status_code == 403
    posted = editor.post(f"/t/{team.team_id}/playbook/edit", data={"guidelines": "Mine"})
    assert posted.status_code == 403
    outsider = folks.client_for(cantina["eve"])
    assert outsider.get(f"/t/{team.team_id}/playbook").status_code == 404


def test_html_in_the_guidelines_is_shown_as_text(cantina, folks):  # noqa: F811
    team, anna = cantina["team"], cantina["anna"]
    hostile = '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)">'
    write_playbook(team, anna, folks.now(), guidelines=hostile)
    page = folks.client_for(anna).get(f"/t/{team.team_id}/playbook").text
    guidelines = page.split('id="guidelines">')[1].split("</div>")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in guidelines
    assert "<script" not in guidelines and "<img" not in guidelines
    assert 'href="javascript' not in guidelines


# Beside the post form -----------------------------------------------------------------------


def test_the_post_form_shows_its_channels_checklist_and_keeps_the_ticks(team_with_post, folks):
    bruno, path = team_with_post["bruno"], team_with_post["path"]
    editor = folks.client_for(bruno)
    page = editor.get(path).text
    checklist = page.split('id="checklist"')[1].split("</fieldset>")[0]
    assert all(item in checklist for item in INSTAGRAM)
    form = form_in(page, id="post-form")
    assert "checked" not in form.data()
    data = form.data()
    data.setlist("checked", INSTAGRAM[:2])
    assert editor.post(path, data=data).status_code == 302
    body = posts.load(team_with_post["team"].team_id, team_with_post["post"].post_id)[1]
    assert body.checked == INSTAGRAM[:2]
    again = form_in(editor.get(path).text, id="post-form")
    assert again.data().getlist("checked") == INSTAGRAM[:2]  # the reloaded form shows them
    before = posts.load(team_with_post["team"].team_id, team_with_post["post"].post_id)[0]
    assert editor.post(path, data=again.data()).status_code == 302  # unchanged: no change
    after = posts.load(team_with_post["team"].team_id, team_with_post["post"].post_id)[0]
    assert after.version == before.version


def test_only_items_of_the_posts_channels_checklists_are_stored(team_with_post, folks):
    bruno, path = team_with_post["bruno"], team_with_post["path"]
    editor = folks.client_for(bruno)
    data = form_in(editor.get(path).text, id="post-form").data()
    data.setlist("checked", ["Location tagged", "<b>made up</b>", "Partner tagged"])
    assert editor.post(path, data=data).status_code == 302
    body = posts.load(team_with_post["team"].team_id, team_with_post["post"].post_id)[1]
    assert body.checked == ["Location tagged", "Partner tagged"]  # in the checklist's order


def test_the_reviewer_sees_which_items_were_ticked_and_which_not(team_with_post, folks):
    team, anna, bruno, path = (team_with_post[k] for k in ("team", "anna", "bruno", "path"))
    editor = folks.client_for(bruno)
    data = form_in(editor.get(path).text, id="post-form").data()
    data.setlist("checked", ["Location tagged"])
    data["status"], data["reviewer"] = "in_review", anna.person_id
    assert editor.post(path, data=data).status_code == 302
    review = folks.client_for(anna).get(path).text.split('id="review-title"')[1]
    ticks = review.split('id="checklist-ticks"')[1].split("</div>")[0]
    assert "1 of 3 ticked" in ticks
    assert '<li class="ticked"><span aria-hidden="true">✓</span> Location tagged' in ticks
    for item in ("Photo is square or 4:5", "Partner tagged"):
        assert f'<li class="not-ticked"><span aria-hidden="true">✗</span> {item}' in ticks
    viewer = folks.client_for(team_with_post["carla"]).get(path).text
    assert "1 of 3 ticked" in viewer  # a viewer reads them too
    history = folks.client_for(anna).get(path).text.split('id="history"')[1]
    assert "Checklist edited" in history  # history says so, without copying every item


def test_the_post_panel_reads_post_body_and_playbook_in_one_batch(team_with_post, folks):
    editor = folks.client_for(team_with_post["bruno"])
    with meter.metered() as counted:
        page = editor.get(team_with_post["path"])
    assert page.status_code == 200 and "Location tagged" in page.text
    # The session with the team, then the post with its body and the playbook; its history
    # and its nudges.
    assert counted.calls == ["BatchGetItem", "BatchGetItem", "Query", "Query"]


def test_choosing_channels_brings_their_checklists_with_the_ticks_kept(team_with_post, folks):
    team = team_with_post["team"]
    write_playbook(
        team, team_with_post["anna"], folks.now(), {"Instagram": INSTAGRAM, "X": ["Short"]}
    )
    editor = folks.client_for(team_with_post["bruno"])
    url = f"/t/{team.team_id}/playbook/checklist"
    query = {"channels": ["X", "Instagram", "Nowhere"], "checked": ["Short"]}
    fragment = editor.get(url, query_string=query, headers={"HX-Request": "true"}).text
    assert fragment.strip().startswith('<fieldset id="checklist"')
    assert fragment.index("<strong>X</strong>") < fragment.index("<strong>Instagram</strong>")
    assert 'value="Short" checked' in fragment and 'value="Location tagged">' in fragment
    assert "Nowhere" not in fragment
    whole = editor.get(url, query_string=query).text  # without htmx: a page
    assert "<!DOCTYPE html>" in whole[:50] or "<html" in whole[:200]
    assert folks.client_for(team_with_post["carla"]).get(url).status_code == 403


def test_ticking_a_profile_brings_its_networks_checklist(app, team_with_post, folks):
    team, anna, bruno = team_with_post["team"], team_with_post["anna"], team_with_post["bruno"]
    write_playbook(team, anna, folks.now(), {"LinkedIn": ["Tag the cellar's page"]})
    assert added(folks.client_for(bruno), "linkedin", "bruno-b").status_code == 302
    with app.app_context():
        (profile,) = stored_profiles.profiles_of(people.person(bruno.person_id))
    url = f"/t/{team.team_id}/playbook/checklist"
    htmx = {"HX-Request": "true"}
    for client, owner in ((folks.client_for(bruno), ""), (folks.client_for(anna), bruno)):
        query = {"profiles": [profile.profile_id], "owner": owner and owner.person_id}
        fragment = client.get(url, query_string=query, headers=htmx).text
        assert "Tag the cellar&#39;s page" in fragment or "Tag the cellar's page" in fragment
    # The id read as another member's profile: not theirs, so it brings nothing.
    query = {"profiles": [profile.profile_id], "owner": team_with_post["carla"].person_id}
    fragment = folks.client_for(anna).get(url, query_string=query, headers=htmx).text
    assert "Tag the cellar" not in fragment


def test_a_new_post_stores_the_ticks_of_its_channels(team_with_post, folks):
    team, bruno = team_with_post["team"], team_with_post["bruno"]
    editor = folks.client_for(bruno)
    page = editor.get(f"/t/{team.team_id}/posts/new").text
    form = form_in(page, id="post-form")
    assert 'id="checklist"' in page  # empty until channels are chosen
    data = form.data()
    data["title"] = "Open day"
    data.setlist("channels", ["Instagram"])
    data.setlist("checked", ["Partner tagged"])
    created = editor.post(form.action, data=data)
    assert created.status_code == 302
    (found,) = [p for p in posts.ideas(team.team_id) if p.title == "Open day"]
    assert posts.load(team.team_id, found.post_id)[1].checked == ["Partner tagged"]
