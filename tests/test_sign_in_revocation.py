"""Signing in with one emailed link revokes the others sent before it (issue 9, finding 7)."""

from tests.conftest import link_in, outbox


def _ask_for_link(client, address="anna@example.com") -> str:
    assert client.post("/login", data={"email": address}).status_code == 200
    return link_in(outbox(client.application)[0])  # the newest mail


def test_signing_in_with_the_newest_link_revokes_the_older_ones(client, app):
    first = _ask_for_link(client)
    second = _ask_for_link(client)
    newest = _ask_for_link(client)
    assert client.post(newest).status_code == 302
    stranger = app.test_client()  # whoever finds an old mail later
    for older in (first, second):
        assert stranger.get(older).status_code == 410
        assert stranger.post(older).status_code == 410


def test_signing_in_with_an_older_link_revokes_the_ones_sent_before_it_was_used(client, app):
    older = _ask_for_link(client)
    newer = _ask_for_link(client)
    assert client.post(older).status_code == 302
    assert app.test_client().post(newer).status_code == 410


def test_a_link_asked_for_after_signing_in_still_works(client, app):
    assert client.post(_ask_for_link(client)).status_code == 302
    other = app.test_client()
    later = _ask_for_link(other)
    assert other.post(later).status_code == 302
