"""Sign-in by email link: single use, short-lived, rate-limited, no account enumeration."""

import time
from datetime import timedelta

import time_machine

from app.store import people
from tests.conftest import link_in, outbox, post_concurrently, ses_error, sign_in


def _ask_for_link(client, address="anna@example.com", **kwargs):
    return client.post("/login", data={"email": address}, **kwargs)


def test_the_whole_sign_in_flow_leads_a_new_person_to_the_welcome_page(client, app):
    assert client.get("/").headers["Location"].endswith("/login")
    response = _ask_for_link(client, "Anna@Example.com")
    assert response.status_code == 200 and "Check your email" in response.text
    message = outbox(app)[0]
    assert message["to"] == "Anna@Example.com".lower()
    assert "sign-in link" in message["subject"].lower()
    confirm_page = client.get(link_in(message))
    assert confirm_page.status_code == 200 and "anna@example.com" in confirm_page.text
    assert confirm_page.headers["Cache-Control"] == "no-store"
    assert confirm_page.headers["Referrer-Policy"] == "strict-origin"
    response = client.post(link_in(message))
    assert response.status_code == 302 and response.headers["Location"].endswith("/welcome")
    assert "Welcome to Cadenza" in client.get("/welcome").text


def test_the_sign_in_email_is_multipart_with_text_and_html(client, app):
    _ask_for_link(client)
    message = outbox(app)[0]
    assert message["text"] and message["html"]
    assert link_in(message) in message["html"]
    assert message["headers"]["Content-Type"].startswith("multipart/alternative")
    assert message["from"] == app.extensions["cadenza"].sender and message["sent_at"]


def test_opening_the_link_does_not_use_it_only_confirming_does(client, app):
    _ask_for_link(client)
    path = link_in(outbox(app)[0])
    for _ in range(3):  # a mail scanner prefetching it
        assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302


def test_a_link_works_once(client, app):
    _ask_for_link(client)
    path = link_in(outbox(app)[0])
    assert client.post(path).status_code == 302
    other = app.test_client()
    again = other.post(path)
    assert again.status_code == 410 and "can no longer be used" in again.text
    assert other.get(path).status_code == 410


def test_a_link_expires_after_ten_minutes(client, app):
    with time_machine.travel("2026-11-26 09:00:00Z", tick=False) as traveller:
        _ask_for_link(client)
        path = link_in(outbox(app)[0])
        traveller.shift(timedelta(minutes=9, seconds=59))
        assert client.get(path).status_code == 200
        traveller.shift(timedelta(seconds=1))
        assert client.get(path).status_code == 410
        assert client.post(path).status_code == 410


def test_two_concurrent_confirmations_make_one_session(app):
    client = app.test_client()
    _ask_for_link(client)
    path = link_in(outbox(app)[0])
    assert post_concurrently(app, path, 5) == [302, 410, 410, 410, 410]


def test_the_answer_is_the_same_for_known_and_unknown_addresses(client, app, folks):
    folks.person("known@example.com", "Known")
    known = _ask_for_link(client, "known@example.com")
    unknown = _ask_for_link(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("known@", "X@") == unknown.text.replace("nobody@", "X@")


def test_invite_only_sign_up_mails_only_known_people(client, app, folks):
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(signup="invite")
    folks.person("known@example.com", "Known")
    unknown = _ask_for_link(client, "nobody@example.com")
    known = _ask_for_link(client, "known@example.com")
    assert unknown.status_code == known.status_code == 200
    assert [m["to"] for m in outbox(app)] == ["known@example.com"]


def test_with_invite_only_sign_up_the_answer_takes_as_long_for_unknown_addresses(
    client, app, folks, inject
):
    """Only known addresses are mailed, and mailing takes time: were the answer sent as soon
    as possible, its timing would tell who has an account."""

    def ses_takes_a_while(event_name, request):
        if event_name == "before-send.ses.SendRawEmail":
            time.sleep(0.15)

    inject(ses_takes_a_while)
    floor = 0.3
    config = app.extensions["cadenza"]
    app.extensions["cadenza"] = config.replace(signup="invite", sign_in_answer_seconds=floor)
    folks.person("known@example.com", "Known")

    def answer_seconds(address: str) -> float:
        started = time.monotonic()
        assert _ask_for_link(client, address).status_code == 200
        return time.monotonic() - started

    known = sorted(answer_seconds("known@example.com") for _ in range(3))
    unknown = sorted(answer_seconds(f"nobody{n}@example.com") for n in range(3))
    assert min(known + unknown) >= floor
    assert abs(known[1] - unknown[1]) < 0.1, (known, unknown)


def test_sign_in_requests_are_limited_per_address(client, app):
    limit = app.extensions["cadenza"].login_rate_per_address
    for _ in range(limit):
        assert _ask_for_link(client).status_code == 200
    refused = _ask_for_link(client)
    assert refused.status_code == 429 and "wait" in refused.text
    assert len(outbox(app)) == limit
    assert _ask_for_link(client, "other@example.com").status_code == 200


def test_sign_in_requests_are_limited_per_ip_across_addresses(client, app):
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(login_rate_per_ip=3)
    for n in range(3):
        assert _ask_for_link(client, f"p{n}@example.com").status_code == 200
    assert _ask_for_link(client, "p9@example.com").status_code == 429
    other_ip = {"REMOTE_ADDR": "192.0.2.7"}
    assert _ask_for_link(client, "p9@example.com", environ_base=other_ip).status_code == 200


def test_the_rate_limit_window_passes(client, app):
    with time_machine.travel("2026-11-26 09:00:00Z", tick=False) as traveller:
        for _ in range(6):
            _ask_for_link(client)
        assert _ask_for_link(client).status_code == 429
        traveller.shift(timedelta(minutes=15))
        assert _ask_for_link(client).status_code == 200


def test_an_invalid_address_gets_a_field_message_and_422(client, app):
    for bad in ("", "not-an-address", "a@b", "x" * 250 + "@example.com", "two@@example.com"):
        response = _ask_for_link(client, bad)
        assert response.status_code == 422, bad
        assert 'aria-invalid="true"' in response.text and "field-error" in response.text
    assert outbox(app) == []


def test_htmx_gets_only_the_form_back(client, app):
    response = _ask_for_link(client, "nope", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="login-form"')
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_forms_without_a_csrf_token_are_refused_with_a_clear_page(client, app):
    response = client.post("/login", data={"email": "anna@example.com"}, csrf=False)
    assert response.status_code == 400 and "Form expired" in response.text
    htmx = client.post(
        "/login", data={"email": "anna@example.com"}, csrf=False, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 400 and "Reload the page" in htmx.text
    assert outbox(app) == []


def test_the_csrf_token_does_not_expire_while_the_session_lives(client, app):
    with time_machine.travel("2026-11-26 18:00:00Z", tick=False) as traveller:
        token = client.csrf_token()
        traveller.shift(timedelta(hours=15))  # a tab left open overnight
        response = client.post(
            "/login", data={"email": "anna@example.com"}, headers={"X-CSRFToken": token}, csrf=False
        )
    assert response.status_code == 200


def test_the_session_cookie_is_httponly_and_lax(client, app):
    sign_in(client, app, "anna@example.com")
    cookie = client.get_cookie("cadenza")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_signing_out_ends_the_session_on_the_server(client, app):
    sign_in(client, app, "anna@example.com")
    with client.session_transaction() as session:
        stolen = dict(session)
    assert client.get("/welcome").status_code == 200
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(stolen)
    assert thief.get("/welcome").headers["Location"].endswith("/login")


def test_an_expired_session_signs_the_person_out(client, app):
    with time_machine.travel("2026-11-26 09:00:00Z", tick=False) as traveller:
        sign_in(client, app, "anna@example.com")
        assert client.get("/welcome").status_code == 200
        traveller.shift(timedelta(days=app.extensions["cadenza"].session_days, seconds=1))
        assert client.get("/welcome").headers["Location"].endswith("/login")


def test_a_forged_person_id_in_the_cookie_is_not_trusted(client, app, folks):
    victim = folks.person("victim@example.com", "Victim")
    sign_in(client, app, "anna@example.com")
    with client.session_transaction() as session:
        session["pid"] = victim.person_id
    assert client.get("/welcome").headers["Location"].endswith("/login")


def test_after_sign_in_a_person_returns_to_the_page_they_asked_for(client, app, folks):
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    target = f"/t/{team.team_id}/members"
    assert client.get(target).headers["Location"].endswith("/login")
    _ask_for_link(client)
    response = client.post(link_in(outbox(app)[0]))
    assert response.headers["Location"] == target
    assert client.get(target).status_code == 200


def test_the_return_address_is_never_another_site(client, app, folks):
    folks.person("anna@example.com", "Anna")
    with client.session_transaction() as session:
        session["next"] = "//evil.example.com/"
    _ask_for_link(client)
    response = client.post(link_in(outbox(app)[0]))
    assert response.headers["Location"] == "/"


def test_the_welcome_form_names_the_person_and_creates_their_first_team(client, app):
    sign_in(client, app, "anna@example.com")
    missing = client.post(
        "/welcome",
        data={
            "name": "",
            "language": "en",
            "zone": "Nowhere/City",
            "week_start": "0",
            "team_name": "",
        },
    )
    assert missing.status_code == 422
    assert "Tell your team who you are." in missing.text
    assert "Choose a time zone from the list." in missing.text
    assert "Give the team a name." in missing.text
    done = client.post(
        "/welcome",
        data={
            "name": "Anna <b>Rossi</b>",
            "language": "it",
            "zone": "Europe/Rome",
            "week_start": "6",
            "team_name": "Cantina <script>",
            "team_zone": "Europe/Rome",
            "team_language": "it",
        },
    )
    assert done.status_code == 302
    page = client.get("/", follow_redirects=True)
    assert "Cantina &lt;script&gt;" in page.text and "<script>" not in page.text.split("</head>")[1]
    someone = people.person_by_email("anna@example.com")
    assert (someone.name, someone.language, someone.zone, someone.week_start) == (
        "Anna <b>Rossi</b>",
        "it",
        "Europe/Rome",
        6,
    )


def test_the_profile_changes_name_language_and_zone_everywhere(client, app, folks):
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    client = folks.client_for(anna)
    response = client.post(
        "/me",
        data={"name": "Anna R.", "language": "it", "zone": "America/New_York", "week_start": "0"},
    )
    assert response.status_code == 302
    members = client.get(f"/t/{team.team_id}/members").text
    assert "Anna R." in members and 'lang="it"' in members


def test_signed_in_pages_are_never_stored_by_a_cache(client, app, folks):
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    before = client.get("/login")
    assert "no-store" not in before.headers.get("Cache-Control", "")
    sign_in(client, app, "anna@example.com")
    for path in (f"/t/{team.team_id}/", "/me", f"/t/{team.team_id}/agenda"):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store", path


def test_an_address_the_mail_service_refuses_gets_a_field_message_not_try_again(
    client, app, inject
):
    inject(
        lambda event, request: (
            ses_error(request, "MessageRejected")
            if event == "before-send.ses.SendRawEmail"
            else None
        )
    )
    response = _ask_for_link(client, "nobody@example.com")
    assert response.status_code == 422
    assert "refused this address" in response.text and 'aria-invalid="true"' in response.text
    assert "try again in a minute" not in response.text
