"""Comments as the post panel shows them: links and @mentions (issue 9, finding 7)."""

import test_planner
from test_planner import _post, _rome

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
