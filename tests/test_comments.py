"""Comments as the post panel shows them: links and @mentions (issue 9, finding 7)."""

from datetime import UTC, datetime

import test_planner
from test_planner import _post, _rome

from app.planner import changes
from app.store import posts, teams

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)


def test_a_mention_inside_an_address_stays_part_of_the_link(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    client = cantina["folks"].client_for(anna)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/comments",
        data={"text": "see http://x.test/@Bruno and ask @Bruno"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    link = '<a href="http://x.test/@Bruno" rel="noopener">http://x.test/@Bruno</a>'
    assert f'see {link} and ask <strong class="mention">@Bruno</strong>' in response.text


def test_comments_still_show_when_a_member_has_not_given_a_name_yet(app, cantina):
    """Someone invited who has not finished the welcome is a member without a name."""
    team, anna, folks = cantina["team"], cantina["anna"], cantina["folks"]
    folks.join(team, folks.person("nameless@example.com"), "editor")
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    client = folks.client_for(anna)
    url = f"/t/{team.team_id}/posts/{post.post_id}"
    assert client.post(f"{url}/comments", data={"text": "hi @Bruno"}).status_code == 302
    panel = client.get(url)
    assert panel.status_code == 200
    assert '<strong class="mention">@Bruno</strong>' in panel.text


def test_a_comment_on_a_planned_post_makes_it_the_teams_and_its_schedule_leaves_it_be(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    slot = posts.new_post(
        team.team_id,
        post_id="s0000000000000000-20261205",
        title="Instagram — 5 Dec",
        zone="Europe/Rome",
        created_by=anna.person_id,
        now=datetime.now(UTC),
        due=_rome(2026, 12, 5, 18),
        owner_id=anna.person_id,
        status="draft",
    )
    slot.schedule_id = "s0000000000000000"
    with app.app_context():
        assert changes.plan_post(slot, teams.team(team.team_id), datetime.now(UTC))
    client = cantina["folks"].client_for(cantina["bruno"])
    url = f"/t/{team.team_id}/posts/{slot.post_id}"
    assert client.post(f"{url}/comments", data={"text": "Shall I take it?"}).status_code == 302
    stored, _body = posts.load(team.team_id, slot.post_id)
    assert stored.edited_by_hand and not stored.planned
    assert "Shall I take it?" in client.get(url).text
