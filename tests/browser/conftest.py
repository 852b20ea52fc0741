"""Fixtures for end-to-end tests: one Chromium and one live server for the run, a fresh store,
and a fresh browser context per test.

The server is the session's Flask app (``base_app``, under moto's ``mock_aws``) served by
werkzeug in a thread, so the outbox at ``/dev/outbox`` shows what moto's SES received.

Without /usr/bin/chromium these tests are skipped, except when ``CI=true``: CI must run
them, so there they fail instead. Playwright drives that Chromium; never ``playwright install``.

The server shares the tests' clock (``clock`` in tests/conftest.py: noon tomorrow in Rome),
while Chromium keeps the real clock for cookie expiry: never move time-machine far from the
real date here. To show a fixed day, give the app a fixed clock instead
(``config.replace(clock=lambda: NOW)``): it moves what the pages show, not the cookies.
"""

import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    problem = _missing()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}", pytrace=False)
        pytest.skip(f"browser tests skipped: {problem}")

    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class _OneRequestPerConnection(WSGIRequestHandler):
    """No keep-alive: a connection held open by the browser would hold its thread, too."""

    protocol_version = "HTTP/1.0"


class _WarmThreads:
    """Serve each connection on the thread that was idle last; start one only if none is idle.

    PynamoDB keeps its botocore session and client per thread, and building them takes most
    of a second: with werkzeug's new thread per connection, nearly every request paid for it.
    Reusing the most recently idle thread keeps a few warm threads busy, and no connection
    ever waits for a thread.
    """

    def __init__(self, server):
        self._server = server
        self._idle: list[queue.SimpleQueue] = []
        self._lock = threading.Lock()

    def __call__(self, request, address) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(
                target=self._work, args=(inbox,), name="live-server", daemon=True
            ).start()
        inbox.put((request, address))

    def _work(self, inbox: queue.SimpleQueue) -> None:
        while True:
            request, address = inbox.get()
            self._server.process_request_thread(request, address)  # closes the connection
            with self._lock:
                self._idle.append(inbox)


@pytest.fixture(scope="session")
def _served(base_app) -> Iterator[str]:
    """The session's app on a free local port, served from daemon threads."""
    server = make_server(
        "127.0.0.1", 0, base_app, threaded=True, request_handler=_OneRequestPerConnection
    )
    server.process_request = _WarmThreads(server)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def live_server(_served, app) -> str:
    """The live server's base URL, on a fresh store; emails link back to this server.

    ``app`` (tests/conftest.py) resets moto and re-assigns the config, so the base URL is
    set after it.
    """
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(base_url=_served)
    return _served


class JavaScriptErrors(AssertionError):
    pass


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., object]]:
    """Open a page in a fresh browser context (``new_page(java_script_enabled=False)``).

    Every context is closed after the test. Uncaught JavaScript errors fail the test, and so
    do Content-Security-Policy violations (except on /dev/, whose stricter policy blocks the
    shell's scripts).
    """
    contexts = []
    errors: list[str] = []

    def on_console(page, message) -> None:
        if (
            message.type == "error"
            and "Content Security Policy" in message.text
            and "/dev/" not in page.url
        ):
            errors.append(f"{page.url}: {message.text}")

    def open_page(**context_options):
        context = browser.new_context(**context_options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: on_console(page, message))
        return page

    yield open_page
    for context in contexts:
        context.close()
    if errors:
        raise JavaScriptErrors("errors in the browser console:\n" + "\n".join(errors))


@pytest.fixture
def page(new_page, live_server):
    """A page in its own browser context, on a fresh store."""
    return new_page()


@pytest.fixture
def page_as(app, live_server, new_page) -> Callable[..., object]:
    """Open a page in a fresh browser context, already signed in as ``someone``.

    ``page_as(person, **context_options)`` skips the email round trip: it starts a server-side
    session in the store, as signing in does, and puts the signed session cookie in the
    context. The session starts at the app's clock, so a test that fixes the clock first
    signs in at that time.
    """
    from datetime import timedelta

    from app.store import people

    def open_page(someone, **context_options):
        page = new_page(**context_options)
        with app.app_context():
            now = app.extensions["cadenza"].clock()
            raw = people.start_session(someone.person_id, now, timedelta(days=1))
        serializer = app.session_interface.get_signing_serializer(app)
        cookie = serializer.dumps({"sid": raw, "pid": someone.person_id})
        page.context.add_cookies(
            [{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}]
        )
        return page

    return open_page
