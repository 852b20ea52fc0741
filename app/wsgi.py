"""The WSGI entry point (Zappa's ``app_function``, and ``flask --app app.wsgi``).

``app`` is the Flask app, or, while the configuration is unusable, a stand-in that answers
503 with what to fix and builds the app once it can (see ``OneApp``). The scheduled job
(``app.nudges.run``) uses the same ``one_app``: one build per Lambda container.
"""

import logging
import re

from app import OneApp

# Zappa logs every request line, path included (logger "zappa.wsgi", at INFO), Flask logs the
# path of a request that failed (logger "app"), and CloudWatch keeps both: sign-in and
# one-click links carry their token in the path, so it is cut out.
TOKEN_IN_PATH = re.compile(r"(/login/|/n/unsubscribe/|/n/)[\w.-]+")


def hide_tokens(record: logging.LogRecord) -> bool:
    record.msg, record.args = TOKEN_IN_PATH.sub(r"\1…", record.getMessage()), None
    return True


for logger in ("zappa.wsgi", "app"):
    logging.getLogger(logger).addFilter(hide_tokens)
one_app = OneApp()
app = one_app.wsgi()
