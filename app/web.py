"""Request helpers shared by every blueprint: settings, clock, htmx-aware rendering."""

import re
from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, g, redirect, render_template, request, session
from jinja2_fragments.flask import render_block
from markupsafe import Markup, escape
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items

from app import values
from app.config import Config

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def settings() -> Config:
    return current_app.extensions["cadenza"]


def now() -> datetime:
    """The current instant from the configured clock (tests move it)."""
    return settings().clock()


def link_to(endpoint: str, **values) -> str:
    """An absolute link (emails, the job, the CLI): the configured base URL, then the route's
    path from the app's root.

    The one rule for absolute URLs. The base URL may carry a path (the API Gateway stage on the
    execute-api URL) and is the only root used: never the current request's script root, which
    differs when the same app is reached on its execute-api URL (under ``/<stage>``) and on a
    custom domain mapped at the root. Needs an app context, not a request.
    """
    base = urlsplit(settings().base_url)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def wants_fragment() -> bool:
    """Whether htmx asked for a swap (not a boosted navigation or a history restore)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render a page, or only its named block when htmx swaps that block."""
    if block and wants_fragment():
        html = render_block(template, block, **context)
        if session.get("_flashes"):  # messages flashed during a swap reach the page out of band
            html += render_template("partials/flash.html", out_of_band=True)
        return html, status
    return render_template(template, **context), status


def go(target: str):
    """Redirect; htmx requests get ``HX-Redirect`` so the whole page changes, not a swap."""
    if request.headers.get("HX-Request") == "true":
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def safe_next(target: str | None) -> str | None:
    """The address to return to after signing in, or None unless ``target`` is a local path.

    ``target`` is a path from the app's root (``request.full_path``, as the sign-in redirect
    stores it); the answer puts it under this request's root (``/<stage>`` on the execute-api
    URL), the way ``url_for`` does. Only local paths pass: no open redirects.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return request.script_root + target if not parts.scheme and not parts.netloc else None


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escape plain text and make its web addresses clickable."""
    escaped = str(escape(text))
    # Safe: the text is escaped first; only the matched addresses are wrapped.
    return Markup(  # noqa: S704
        _URL.sub(
            lambda found: f'<a href="{found.group(0)}" rel="noopener">{found.group(0)}</a>', escaped
        )
    )


class TemplateMacros:
    """A template's macros as a Jinja global, so blocks rendered alone can use them too."""

    def __init__(self, template: str):
        self.template = template

    def __getattr__(self, name: str):
        return getattr(current_app.jinja_env.get_template(self.template).module, name)


class PlainParameters(ImmutableMultiDict):
    """Form fields and query parameters as every view reads them: plain text (``values``).

    One rule for every field, present and future: NUL and other control characters never
    reach a form, a check or the store, and what surrounds them is kept.
    """

    def __init__(self, mapping=None):
        super().__init__(
            [
                (name, values.plain_text(value) if isinstance(value, str) else value)
                for name, value in iter_multi_items(mapping or ())
            ]
        )


class PlainRequest(Request):
    parameter_storage_class = PlainParameters


def init_app(app: Flask) -> None:
    app.request_class = PlainRequest
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["forms"] = TemplateMacros("partials/forms.html")
    app.jinja_env.filters["linkify"] = linkify

    @app.after_request
    def headers(response):
        response.vary.add("HX-Request")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("person") is not None:
            # Someone's calendar: no shared cache, and no browser history after signing out.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
