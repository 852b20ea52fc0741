"""Items stay under DynamoDB's 400 KB, at the largest sizes the forms accept.

moto does not apply the item limit inside transactions; ``tests/conftest.py`` does, for every
test, as DynamoDB would (a ValidationException).
"""

import test_planner
from test_planner_everyday import _full_post, _panel_of, _save, edited, form_fields

from app.planner.forms import MAX_BODY_BYTES
from app.store import posts

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)
LONGEST_COPY = "Vino. " * (MAX_BODY_BYTES // 6 - 10)  # just under the form's limit


def test_a_post_with_the_longest_copy_the_form_accepts_can_be_edited_again_and_again(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)
    client = cantina["folks"].client_for(bruno)
    for copy in (LONGEST_COPY, LONGEST_COPY[:-6] + "Pane. ", LONGEST_COPY):
        shown = form_fields(_panel_of(client, team, post))
        response = _save(client, team, post, edited(shown, copy=copy))
        assert response.status_code == 302, response.text[:300]
        assert posts.load(team.team_id, post.post_id)[1].copy == copy
    history = posts.history(team.team_id, post.post_id)
    edits = [entry for entry in history if "copy" in entry.changes]
    assert len(edits) >= 3
    # The history says that the copy was edited, and keeps no copy of it.
    assert all(len(str(entry.changes)) < 1_000 for entry in edits)
