"""Links behind API Gateway: the same app on the execute-api URL (under its stage) and on a
custom domain mapped at the root.

Zappa presents a request for ``https://abc123.execute-api.../dev/login`` with SCRIPT_NAME
``/dev`` and PATH_INFO ``/login``, and one for ``https://cadenza.example.org/login`` with an
empty SCRIPT_NAME. Absolute links (emails, the CLI) start at the configured base URL, whatever
address the request came in on; links in pages and redirects stay under the request's root.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.dev import seed_command
from app.nudges import run_once
from tests import test_nudges
from tests.conftest import LINK, outbox
from tests.test_nudges import make_post, rome

nudging = test_nudges.nudging  # the fixture: Anna and Marco of Cantina Aurora, clock pinned


@dataclass(frozen=True)
class Site:
    """One public root of the app: what CADENZA_BASE_URL is set to for it."""

    base_url: str

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def root(self) -> str:
        """The path the app's root is served under: the stage, or nothing."""
        return urlsplit(self.base_url).path

    def url(self, path: str) -> str:
        return self.base_url + path


EXECUTE_API = Site("https://abc123.execute-api.eu-west-1.amazonaws.com/dev")
CUSTOM_DOMAIN = Site("https://cadenza.example.org")
STAGE = "dev"

SITES = pytest.mark.parametrize(
    "site", [EXECUTE_API, CUSTOM_DOMAIN], ids=["execute-api", "domain"], indirect=True
)
# A request sent on one address while the base URL names a site: a custom domain's app still
# answers on its execute-api URL (and there are no other links to give than the domain's).
ASKED_ON = pytest.mark.parametrize(
    ("site", "entry"),
    [(EXECUTE_API, EXECUTE_API), (CUSTOM_DOMAIN, CUSTOM_DOMAIN), (CUSTOM_DOMAIN, EXECUTE_API)],
    ids=["execute-api", "domain", "domain-asked-on-execute-api"],
    indirect=["site"],
)


def arrival(url: str) -> tuple[str, str]:
    """How API Gateway and Zappa hand a public URL to the app: (SCRIPT_NAME, PATH_INFO)."""
    parts = urlsplit(url)
    if parts.netloc == EXECUTE_API.host:
        stage, _, rest = parts.path.removeprefix("/").partition("/")
        # Outside the stage API Gateway answers 403 itself: the app never sees the request.
        assert stage == STAGE, f"API Gateway has no stage {stage!r}: {url}"
        return f"/{stage}", f"/{rest}"
    assert parts.netloc == CUSTOM_DOMAIN.host, f"not a host of this deployment: {url}"
    return "", parts.path  # the domain's base path mapping is the root


CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


class Browser:
    """Someone on the internet: every URL reaches the app as Zappa presents it, relative links
    resolve against the page they are on, and a POST carries the page's CSRF token the way
    htmx sends it."""

    def __init__(self, app):
        self.client = app.test_client()
        self.at: str | None = None
        self.token: str | None = None

    def get(self, url: str):
        return self._open("GET", url)

    def post(self, url: str, **data):
        return self._open("POST", url, data=data)

    def _open(self, method: str, url: str, data: dict | None = None):
        target = urljoin(self.at or "", url)
        script_name, path_info = arrival(target)
        headers = {"Referer": self.at} if self.at else {}
        if method == "POST" and self.token:
            headers["X-CSRFToken"] = self.token
        response = self.client.open(
            path_info,
            method=method,
            base_url=f"https://{urlsplit(target).netloc}{script_name}",
            query_string=urlsplit(target).query,
            data=data,
            headers=headers,
            csrf=False,
        )
        self.at = target
        found = CSRF.search(response.text)
        self.token = found.group(1) if found else self.token
        return response

    def follow(self, response):
        """Follow redirects the way a browser does, from the page that answered."""
        while response.status_code in (301, 302, 303, 307, 308):
            response = self.get(response.headers["Location"])
        return response


class Links(HTMLParser):
    """Every address a page links to, submits to or asks htmx to load."""

    ATTRIBUTES = {"href", "src", "action", "hx-get", "hx-post", "hx-push-url", "formaction"}

    def __init__(self, html: str):
        super().__init__()
        self.found: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in self.ATTRIBUTES and value]


def local_links(html: str) -> list[str]:
    return [link for link in Links(html).found if link.startswith("/")]


def absolute_links(message: dict) -> list[str]:
    text = message["text"] + message["html"] + str(message["headers"])
    return re.findall(r"https?://[^\s<>\"']+", text)


@pytest.fixture
def site(app, request):
    """The app configured with the parametrized site's base URL."""
    chosen = request.param
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(base_url=chosen.base_url)
    return chosen


def sign_in(app, browser: Browser, entry: Site, address: str):
    """Ask for a link on ``entry``, open it from the email, confirm: the confirm's answer."""
    assert browser.get(entry.url("/login")).status_code == 200
    assert browser.post(entry.url("/login"), email=address).status_code == 200
    link = LINK.search(outbox(app)[0]["text"]).group(0)
    assert browser.get(link).status_code == 200, link
    return browser.post(link)


# Emails sent from a web request ---------------------------------------------------------------


@ASKED_ON
def test_a_sign_in_email_links_to_the_base_url_whatever_address_it_was_asked_on(
    app, folks, site, entry
):
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    browser = Browser(app)
    signed_in = sign_in(app, browser, entry, anna.email)
    mail = outbox(app)[0]
    assert LINK.search(mail["text"]).group(0).startswith(site.url("/login/"))
    assert all(link.startswith(site.url("/")) for link in absolute_links(mail)), mail["text"]
    assert signed_in.status_code == 302
    home = browser.follow(signed_in)
    assert home.status_code == 200 and "Sign out" in home.text
    assert browser.at == site.url(f"/t/{team.team_id}/")


@SITES
def test_an_invitation_links_to_the_base_url_and_lets_the_guest_join(app, folks, site):
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    admin = Browser(app)
    admin.follow(sign_in(app, admin, site, anna.email))
    assert admin.get(site.url(f"/t/{team.team_id}/members")).status_code == 200
    invited = admin.post(
        site.url(f"/t/{team.team_id}/members/invite"), email="bruno@example.com", role="editor"
    )
    assert invited.status_code == 302
    mail = outbox(app)[0]
    assert mail["to"] == "bruno@example.com"
    link = LINK.search(mail["text"]).group(0)
    assert link.startswith(site.url("/login/"))
    guest = Browser(app)
    assert guest.get(link).status_code == 200
    joined = guest.post(link)
    assert joined.status_code == 302 and joined.headers["Location"] == site.root + "/welcome"
    assert guest.follow(joined).status_code == 200


# Emails sent by the job, outside any request ----------------------------------------------


@SITES
def test_the_jobs_nudge_links_start_at_the_base_url_and_their_actions_work(app, nudging, site):
    post = make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    assert run_once(app, rome(2026, 12, 4, 10)).sent == 1
    (mail,) = outbox(app)
    links = absolute_links(mail)
    assert len(links) > 4 and all(link.startswith(site.url("/")) for link in links), links
    assert site.url(f"/t/{post.team_id}/posts/{post.post_id}") in links
    act = re.search(r"^Mark as published: (\S+)", mail["text"], re.M).group(1)
    browser = Browser(app)
    page = browser.get(act)
    assert page.status_code == 200 and "Mark this post as published?" in page.text
    done = browser.post(act, link="https://instagram.com/p/1")
    assert done.status_code == 200 and "is marked as published" in done.text
    unsubscribe = mail["headers"]["List-Unsubscribe"].strip("<>")
    assert Browser(app).get(unsubscribe).status_code == 200


@SITES
def test_the_clis_sign_in_link_starts_at_the_base_url(app, site):
    result = app.test_cli_runner().invoke(seed_command)
    assert result.exit_code == 0, result.output
    link = LINK.search(result.output).group(0)
    assert link.startswith(site.url("/login/"))
    assert Browser(app).get(link).status_code == 200


# Links in pages and redirects: under the request's own root -------------------------------


def routed(app, path: str) -> bool:
    """Whether a path (from the app's root) names one of the app's routes."""
    try:
        app.url_map.bind("cadenza.test").match(urlsplit(path).path, method="GET")
    except MethodNotAllowed:
        return True  # a form's POST-only address
    except NotFound:
        return False
    return True


@SITES
def test_page_links_and_redirects_stay_under_the_sites_root(app, folks, site):
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    calendar = f"/t/{team.team_id}"
    browser = Browser(app)
    pages = [browser.follow(sign_in(app, browser, site, anna.email))]
    for path in (f"{calendar}/agenda?tag=launch", f"{calendar}/members", f"{calendar}/posts/new"):
        pages.append(browser.get(site.url(path)))
    assert [page.status_code for page in pages] == [200] * len(pages)
    links = {link for page in pages for link in local_links(page.text)}
    wrong = {
        link
        for link in links
        if not link.startswith(site.root + "/")
        or link.startswith("/dev/dev/")
        or not routed(app, link.removeprefix(site.root))
    }
    assert links and not wrong, wrong

    filtered = browser.get(site.url(f"{calendar}/agenda?tag=&status="))  # an empty filter
    assert filtered.status_code == 302
    assert filtered.headers["Location"] == f"{site.root}{calendar}/agenda"
    signed_out = browser.post(site.url("/logout"))
    assert signed_out.headers["Location"] == f"{site.root}/login"


@SITES
def test_after_signing_in_a_person_returns_to_the_page_they_asked_for_under_the_root(
    app, folks, site
):
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    asked = f"/t/{team.team_id}/agenda?tag=launch"
    browser = Browser(app)
    to_sign_in = browser.get(site.url(asked))
    assert to_sign_in.headers["Location"] == f"{site.root}/login"
    back = sign_in(app, browser, site, anna.email)
    assert back.headers["Location"] == site.root + asked
    assert browser.get(back.headers["Location"]).status_code == 200
