"""The embedded AWS stand-in for local mode: moto's server, made durable by a journal.

moto keeps state only in memory. Every request that changes state and succeeds is appended
to ``aws-journal.jsonl`` in the data folder (one JSON line, one ``write`` call) while writes
are serialized, so the journal's order is the order moto applied them. On start the journal
is replayed into a fresh moto, then compacted: the item writes are replaced by a snapshot of
the items that exist now (expired TTL items dropped, as DynamoDB would), and everything else
(tables, TTL settings, verified senders, sent mail) is kept in order.

moto alone walks a whole table for every Query and copies it for every transaction: with a few
years of posts ``make run`` took seconds a page. The emulator installs the patches of
``index``, ``attribute_values``, ``transactions`` and ``item_size`` (this folder) so that each
request takes time in proportion to what it reads or writes, with moto's own answers.

A kill -9 can tear at most the last line; loading drops a torn or unreadable line and says so.
One process at a time owns a data folder (an exclusive ``flock``); another process that needs
the same data talks to the owner's endpoint, announced in ``emulator.json``.
"""

import atexit
import base64
import fcntl
import io
import json
import logging
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app.config import Config, announce, announced

log = logging.getLogger(__name__)

JOURNAL = "aws-journal.jsonl"
ANNOUNCEMENT = "emulator.json"
DYNAMODB_READS = {
    "BatchGetItem",
    "DescribeContinuousBackups",
    "DescribeEndpoints",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTimeToLive",
    "GetItem",
    "ListTables",
    "ListTagsOfResource",
    "Query",
    "Scan",
    "TransactGetItems",
}
DYNAMODB_ITEM_WRITES = {
    "BatchWriteItem",
    "DeleteItem",
    "PutItem",
    "TransactWriteItems",
    "UpdateItem",
}
KEPT_HEADERS = ("Authorization", "Content-Type", "X-Amz-Target")
BATCH_SIZE = 25  # BatchWriteItem's limit


@dataclass(frozen=True)
class Record:
    """One recorded request: enough to send it again to a fresh moto."""

    method: str
    path: str
    query: str
    headers: dict
    body: str  # base64

    @classmethod
    def from_environ(cls, environ: dict, body: bytes) -> "Record":
        headers = {}
        for name in KEPT_HEADERS:
            value = environ.get("HTTP_" + name.upper().replace("-", "_"))
            if name == "Content-Type":
                value = environ.get("CONTENT_TYPE")
            if value:
                headers[name] = value
        return cls(
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO", "/"),
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=base64.b64encode(body).decode(),
        )

    @property
    def operation(self) -> str:
        """``dynamodb:PutItem``, ``ses:SendRawEmail``, … (``other:<method>`` otherwise)."""
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("DynamoDB_"):
            return "dynamodb:" + target.split(".", 1)[1]
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            action = parse_qs(base64.b64decode(self.body).decode()).get("Action", [""])[0]
            if action:
                return "ses:" + action
        return "other:" + self.method

    @property
    def changes_state(self) -> bool:
        service, _, name = self.operation.partition(":")
        if service == "dynamodb":
            return name not in DYNAMODB_READS
        if service == "ses":
            return not name.startswith(("Get", "List", "Describe"))
        return self.method not in ("GET", "HEAD")

    def environ(self) -> dict:
        return EnvironBuilder(
            method=self.method,
            path=self.path,
            query_string=self.query,
            headers=self.headers,
            data=base64.b64decode(self.body),
        ).get_environ()

    def to_line(self) -> bytes:
        return (json.dumps(self.__dict__, separators=(",", ":")) + "\n").encode()


class Journal:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def load(self) -> list[Record]:
        """Read every whole record; cut off a torn last line (a write cut by a crash)."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        whole = data.rfind(b"\n") + 1
        if whole < len(data):
            log.warning("journal: dropped a torn last write (%d bytes)", len(data) - whole)
            with open(self.path, "r+b") as handle:
                handle.truncate(whole)
        records = []
        for number, line in enumerate(data[:whole].splitlines(), start=1):
            try:
                records.append(Record(**json.loads(line)))
            except (ValueError, TypeError):
                log.warning("journal: skipped unreadable line %d", number)
        return records

    def append(self, record: Record) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(self._fd, record.to_line())

    def rewrite(self, records: list[Record]) -> None:
        """Replace the journal atomically (write, fsync, rename)."""
        self.close()
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            for record in records:
                handle.write(record.to_line())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class DataFolderLock:
    """An exclusive lock on a data folder, released by the OS even on kill -9."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(data_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


class Emulator:
    """DynamoDB and SES on a loopback port, backed by the journal in ``data_dir``."""

    def __init__(self, data_dir: Path, port: int = 0, host: str = "127.0.0.1"):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from app.local import attribute_values, index, item_size, transactions

        # Queries, writes and the replay in time proportional to what they read or write, not
        # to the table (see each module).
        index.install()
        attribute_values.install()
        transactions.install()
        item_size.install()
        self.data_dir = data_dir
        self.journal = Journal(data_dir / JOURNAL)
        self.moto = DomainDispatcherApplication(create_backend_app)
        self._host, self._port = host, port
        self._write_lock = threading.Lock()
        self._server = None
        self.replayed = 0

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "Emulator":
        self._restore()
        self._server = make_server(
            self._host, self._port, self, threaded=True, request_handler=_quiet_handler()
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        announce(self.data_dir / ANNOUNCEMENT, url=self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
            (self.data_dir / ANNOUNCEMENT).unlink(missing_ok=True)
        self.journal.close()

    def _restore(self) -> None:
        records = self.journal.load()
        for record in records:
            _, status, _ = run_wsgi_app(self.moto, record.environ(), buffered=True)
            if not status.startswith("2"):
                log.warning("journal: %s answered %s on replay", record.operation, status)
        self.replayed = len(records)
        if any(record.operation.partition(":")[2] in DYNAMODB_ITEM_WRITES for record in records):
            self.journal.rewrite(_compacted(records))

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_cadenza/ping":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if environ.get("PATH_INFO") == "/_cadenza/outbox":
            body = json.dumps(
                [base64.b64encode(raw).decode() for raw in sent_raw_messages()]
            ).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        record = Record.from_environ(environ, body)
        if not record.changes_state:
            return self.moto(environ, start_response)
        with self._write_lock:
            app_iter, status, headers = run_wsgi_app(self.moto, environ, buffered=True)
            if status.startswith("2"):
                self.journal.append(record)
        start_response(status, headers.to_wsgi_list())
        return app_iter


def _quiet_handler():
    """moto's request handler without its access log.

    Every page makes a few DynamoDB calls and the nudge loop queries every minute: one log
    line each buried the sign-in link that ``make run`` prints. Errors are still logged.
    """
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        def log_request(self, code="-", size="-") -> None:
            pass

    return QuietRequestHandler


def _compacted(records: list[Record]) -> list[Record]:
    """Everything but item writes, in order, then the items that exist now."""
    kept = [r for r in records if r.operation.partition(":")[2] not in DYNAMODB_ITEM_WRITES]
    return kept + _item_snapshot(int(time.time()))


def _item_snapshot(now_epoch: int) -> list[Record]:
    from moto.backends import get_backend

    from app.local.index import stored_items

    snapshot = []
    for by_region in get_backend("dynamodb").values():
        for region, backend in by_region.items():
            for table in backend.tables.values():
                ttl_name = (table.ttl or {}).get("AttributeName")
                items = []
                for item in stored_items(table):
                    attributes = item.to_json()["Attributes"]
                    expires = attributes.get(ttl_name, {}).get("N") if ttl_name else None
                    if expires is not None and float(expires) < now_epoch:
                        continue  # what DynamoDB's TTL would have deleted
                    items.append({"PutRequest": {"Item": attributes}})
                for start in range(0, len(items), BATCH_SIZE):
                    body = {"RequestItems": {table.name: items[start : start + BATCH_SIZE]}}
                    snapshot.append(_dynamodb_record(region, "BatchWriteItem", body))
    return snapshot


def _dynamodb_record(region: str, operation: str, body: dict) -> Record:
    scope = f"local/20260101/{region}/dynamodb/aws4_request"
    return Record(
        method="POST",
        path="/",
        query="",
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, "
            "Signature=0",
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        },
        body=base64.b64encode(json.dumps(body, default=_binary).encode()).decode(),
    )


def _binary(value: bytes) -> str:
    """moto hands binary values nested in maps, lists and sets back as bytes: the wire
    carries them in base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def sent_raw_messages() -> list[bytes]:
    """Every raw message the in-process SES stand-in accepted, oldest first."""
    from moto.backends import get_backend

    messages = []
    for by_region in get_backend("ses").values():
        for backend in by_region.values():
            for message in backend.sent_messages:
                raw = getattr(message, "raw_data", None)
                if raw is not None:
                    messages.append(raw.encode() if isinstance(raw, str) else raw)
    return messages


def fetch_raw_messages(endpoint: str) -> list[bytes]:
    """The sent messages of an emulator in this or another process."""
    with urllib.request.urlopen(f"{endpoint}/_cadenza/outbox", timeout=10) as response:  # noqa: S310
        return [base64.b64decode(each) for each in json.load(response)]


# Attaching a process to a data folder ------------------------------------------------------

_owned: list = []


def attach(config: Config, wait_seconds: float = 15.0) -> str:
    """Return the emulator endpoint for ``config.data_dir``.

    If no process owns the folder, this one takes it and starts an emulator (on a free port)
    for as long as it lives; otherwise it uses the owner's announced endpoint.
    """
    lock = DataFolderLock(config.data_dir)
    if lock.try_acquire():
        emulator = Emulator(config.data_dir).start()
        _owned.append((lock, emulator))
        atexit.register(emulator.stop)
        return emulator.url
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        endpoint = _announced_endpoint(config.data_dir)
        if endpoint:
            return endpoint
        time.sleep(0.2)
    raise RuntimeError(f"{config.data_dir} is in use by another process that announced no endpoint")


def _announced_endpoint(data_dir: Path) -> str | None:
    found = announced(data_dir / ANNOUNCEMENT)
    if found is None:
        return None
    try:
        with urllib.request.urlopen(f"{found['url']}/_cadenza/ping", timeout=2):  # noqa: S310
            return found["url"]
    except (OSError, ValueError, KeyError):
        return None
