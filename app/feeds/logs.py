"""Feed addresses are keys: no log line may carry one.

Every log record is built through one factory, so redacting there covers every logger and
every handler: the local server's request lines (werkzeug), Zappa's access line on Lambda,
Flask's "Exception on <path>" before a 500, and anything a later change logs.
"""

import logging
import re

# /feeds/<person>/<feed>/<secret>.ics: the secret goes, the rest stays to tell which feed.
_SECRET = re.compile(r"(/feeds/[^/\s]+/[^/\s]+/)[^/\s\"'?#]+")
REDACTED = r"\1[secret].ics"


def redact(text: str) -> str:
    return _SECRET.sub(REDACTED, text) if "/feeds/" in text else text


def _redacted(value):
    return redact(value) if isinstance(value, str) else value


def redact_feed_addresses() -> None:
    """Install the redacting record factory (once per process, however many apps)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts_feeds", False):
        return

    def factory(*args, **kwargs):
        record = make(*args, **kwargs)
        record.msg = _redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        return record

    factory.redacts_feeds = True
    logging.setLogRecordFactory(factory)
