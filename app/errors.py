"""Error pages: every failure a person can cause is a clear 4xx page, never a 500."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, make_response
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from pynamodb.exceptions import PynamoDBException
from werkzeug.exceptions import HTTPException, InternalServerError

from app.store import conditional_failure, item_too_large
from app.web import render

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("Your role in this team does not allow that.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not shared with you.")),
    405: (_l("Not allowed"), _l("That action is not available here.")),
    409: (
        _l("Changed meanwhile"),
        _l("Someone changed this at the same time. Reload and try again."),
    ),
    410: (_l("Link expired"), _l("This link has expired or was already used.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    422: (_l("Please check the form"), _l("Some of what you entered could not be used.")),
    429: (_l("Too many requests"), _l("Please wait a few minutes and try again.")),
    500: (
        _l("Something went wrong"),
        _l("We could not finish that. Nothing was lost; please try again."),
    ),
    503: (
        _l("Unavailable"),
        _l("Cadenza cannot reach its storage right now. Please try again shortly."),
    ),
}


TOO_LARGE_TO_STORE = _l("This is too large to store. Shorten what you wrote and try again.")
FORM_EXPIRED = _l("Form expired")
# Flask-WTF's reasons for refusing a form, told so that a person knows what to do.
CSRF_REASONS = {
    "The referrer header is missing.": (
        _l("Your browser hid where this form came from"),
        _l(
            "Your browser, or one of its extensions, did not say which page sent this form. "
            "On a secure connection Cadenza needs to know, to be sure the form is its own. "
            "Allow it for this site (the Referer header), or reload the page and send the "
            "form again."
        ),
    ),
    "The referrer does not match the host.": (
        _l("Form sent from another site"),
        _l(
            "This form was sent from a page at another address. Open Cadenza at its usual "
            "address, reload the page and send the form again."
        ),
    ),
    "The CSRF session token is missing.": (
        _l("Cookie missing"),
        _l(
            "Your browser did not send Cadenza's cookie with this form: it may block cookies "
            "for this site, or you signed out in another tab. Allow cookies for this site, "
            "reload the page and send the form again."
        ),
    ),
    "The CSRF token is missing.": (
        FORM_EXPIRED,
        _l(
            "This form arrived without its security code (it may come from a page saved "
            "earlier, or from another site). Reload the page and send it again."
        ),
    ),
    "The CSRF token is invalid.": (
        FORM_EXPIRED,
        _l(
            "This form belongs to an earlier sign-in: you signed in or out since the page "
            "opened. Reload the page and send it again."
        ),
    ),
}
CSRF_REASONS["The CSRF tokens do not match."] = CSRF_REASONS["The CSRF token is invalid."]
CSRF_OTHER = (
    FORM_EXPIRED,
    _l("This form was open too long or came from another page. Reload the page and send it again."),
)


def error_page(code: int, message=None, title=None) -> Response:
    """The error page (or, for htmx, its alert fragment) as a response."""
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    body, status = render(
        "errors/error.html",
        "error",
        status=code,
        code=code,
        title=title or default_title,
        message=message or default_message,
    )
    return make_response(body, status)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        log.info("form refused: %s", error.description)
        title, message = CSRF_REASONS.get(error.description, CSRF_OTHER)
        return error_page(400, message, title)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return error_page(error.code)

    @app.errorhandler(PynamoDBException)
    @app.errorhandler(BotoCoreError)
    @app.errorhandler(ClientError)  # a plain boto call (the batch reads) refused by AWS
    def store_failed(error: Exception):
        if item_too_large(error):
            log.warning("item over DynamoDB's size limit", exc_info=error)
            return error_page(413, TOO_LARGE_TO_STORE)
        # A lost write condition that no route expected is still someone else's change.
        if conditional_failure(error):
            return error_page(409)
        log.error("storage unavailable", exc_info=error)
        return error_page(503)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        log.error("unhandled error", exc_info=error.original_exception)
        return error_page(500)
