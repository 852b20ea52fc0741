"""What Cadenza costs on AWS: one simulated month of a 5-person team, and the fixed cost of running.

The real app (``create_app`` in test mode on moto's ``mock_aws``) is driven through a month of
November 2026 (30 days) by the Flask test client, and the real scheduled function
(``app.nudges.run``) runs at every 5-minute tick of the month: all 8,640 runs, none modelled.
Every HTTP request and every run is one Lambda invocation, and each is billed from what it
really did:

- **DynamoDB** request units from the real items: a hook on botocore's ``_make_api_call`` (where
  ``app.store.meter`` listens too: PynamoDB builds its own clients, so per-client event hooks
  would miss it) sizes the items each request reads (from the response) and writes (the stored
  item before and after, read from moto beside the request), index writes included, and
  failed conditional writes still charged. The sizing rules are ``item_size`` and friends below.
- **Lambda** duration: the invocation's CPU time on this machine (moto's and the metering's
  CPU taken out), scaled to the CPU share of ``memory_size`` (Lambda gives a full vCPU at
  1,769 MB), plus a documented round trip per DynamoDB and SES call. In-process time here is a
  proxy for Lambda's, not a measurement of it; the printed ``assumption_*`` lines say what is
  assumed.
- **SES** mails and their bytes; **CloudWatch Logs** bytes from what the app and Zappa log in
  each invocation plus Lambda's START/END/REPORT lines; **API Gateway** requests and bytes out.

Prices come from ``infra/pricing.json`` (one table, eu-west-1 list prices, no free tier; what
the free tier would leave is printed apart). The fixed cost is what a deployment pays with no
team at all: the schedule's empty runs, cold starts, and what ``infra/cadenza.yaml`` bills
monthly (alarms, keys, secrets), counted from the files at run time.

Page views a month (assumptions, printed): each person on each workday opens the calendar
twice and the browser fetches the 5 static files once; each person a week opens the week view
twice, the agenda twice, "My posts" once, 6 post panels just to read and comments once.
100 posts are created (two to six days ahead), each edited once; 30 are dragged to the next
day; 80 are marked published from the one-hour nudge's email link and 20 from the panel, so
none goes overdue: 200 nudges. 20 sign-ins through the emailed link (4 a person).
"""

import json
import math
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import logging  # noqa: E402

import yaml  # noqa: E402
from botocore.client import BaseClient  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

PRICING_FILE = ROOT / "infra" / "pricing.json"
TEMPLATE_FILE = ROOT / "infra" / "cadenza.yaml"
ZAPPA_FILE = ROOT / "zappa_settings.json"
STAGE = "dev"
DEFAULT_LOG_RETENTION_DAYS = 30
# Template resources billed by the month whatever the use (alarms are counted by their metrics).
MONTHLY_RESOURCES = {
    "AWS::CloudWatch::CompositeAlarm": "cloudwatch_composite_alarm_month",
    "AWS::KMS::Key": "kms_customer_key_month",
    "AWS::SecretsManager::Secret": "secrets_manager_secret_month",
}
MONTH_DAYS = 30

# DynamoDB capacity ---------------------------------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
# Storage bills each item (and each index copy of it) with 100 bytes of overhead.
STORAGE_OVERHEAD_BYTES = 100


def attribute_size(value: dict) -> int:
    """Bytes of one attribute value in DynamoDB's wire format (``{"S": "..."}``, ...)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode()) for member in data)
    if kind == "NS":
        return sum(_number_size(member) for member in data)
    if kind == "BS":
        return sum(len(member) for member in data)
    # A list or map costs 3 bytes, and each element 1 byte more than its own size.
    if kind == "L":
        return 3 + sum(attribute_size(element) + 1 for element in data)
    if kind == "M":
        return 3 + sum(
            len(name.encode()) + attribute_size(element) + 1 for name, element in data.items()
        )
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def _number_size(text: str) -> int:
    """About 1 byte per two significant digits, plus 1 (leading and trailing zeros trimmed)."""
    digits = str(abs(Decimal(text)).normalize()).replace(".", "").lstrip("0")
    digits = re.sub(r"E.*$", "", digits)
    return math.ceil(len(digits) / 2) + 1


def item_size(item: dict | None) -> int:
    """An item's size: each attribute's name (UTF-8) plus its value."""
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read request units for ``size`` bytes read in one request: 4 KB steps, at least one;
    half for an eventually consistent read, double in a transaction."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def write_units(size: int, *, transactional: bool = False) -> int:
    """Write request units for one item of ``size`` bytes: 1 KB steps, at least one."""
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return 2 * units if transactional else units


# The month ------------------------------------------------------------------------------------

ROME = ZoneInfo("Europe/Rome")
START = datetime(2026, 11, 1, tzinfo=UTC)
TICK = timedelta(minutes=5)
SEED = 8
PEOPLE = [  # (address, name, role, language)
    ("giulia@cantina-aurora.example", "Giulia Ferrero", "admin", "it"),
    ("marco@cantina-aurora.example", "Marco Conti", "admin", "it"),
    ("sara@cantina-aurora.example", "Sara Galli", "editor", "it"),
    ("luca@cantina-aurora.example", "Luca Moretti", "editor", "en"),
    ("elena@cantina-aurora.example", "Elena Ricci", "editor", "en"),
]
POSTS, EDITED, MOVED, PUBLISHED_FROM_EMAIL, SIGN_INS = 100, 100, 30, 80, 20
# Page views a person makes (assumptions): per workday, and per week.
PER_WORKDAY = {"month": 2, "static": 1}
PER_WEEK = {"week": 2, "agenda": 2, "my_posts": 1, "panel": 6, "comment": 1}
STATIC_FILES = (
    "favicon.svg",
    "vendor/pico-2.1.1.min.css",
    "cadenza.css",
    "vendor/htmx-2.0.11.min.js",
    "cadenza.js",
)
COPY = (
    "Autumn in the Langhe: the Nebbiolo harvest is in, and the cellar smells of must. "
    "Join us on Saturday for a guided tasting of the 2022 Barolo and the new Dolcetto, "
    "with bread, cheese and hazelnuts from our neighbours.\n\n"
    "Booking link in bio. #langhe #barolo #winetasting #cantinaaurora"
)


@dataclass
class Usage:
    """What invocations did, summed."""

    invocations: int = 0
    billed_ms: int = 0
    dynamodb_calls: int = 0
    rru: float = 0.0
    wru: float = 0.0
    ses_calls: int = 0
    mails: int = 0
    mail_bytes: int = 0
    log_bytes: int = 0
    log_events: int = 0
    response_bytes: int = 0
    tables: Counter = field(default_factory=Counter)

    def add(self, other: "Usage") -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Invocation:
    usage: Usage = field(default_factory=Usage)
    excluded_cpu: float = 0.0  # moto's and the metering's CPU: not the app's


class LogBytes(logging.Handler):
    """Counts what would reach CloudWatch: each record as the Lambda Python runtime writes it."""

    def __init__(self, recorder: "Recorder", prefix_bytes: int):
        super().__init__(logging.INFO)
        self.recorder, self.prefix_bytes = recorder, prefix_bytes

    def emit(self, record):
        current = self.recorder.current
        if current is not None:
            current.usage.log_bytes += self.prefix_bytes + len(record.getMessage().encode()) + 1
            current.usage.log_events += 1


class Recorder:
    """Bills every DynamoDB and SES request made inside an invocation."""

    def __init__(self, indexes: dict[str, dict[str, list[str]]], keys: dict[str, list[str]]):
        self.indexes, self.keys = indexes, keys
        self.current: Invocation | None = None
        self.sent: list[bytes] = []  # every raw message, for the simulated people to open
        self._inner = BaseClient._make_api_call
        recorder = self

        def billed_call(client, operation, params):
            return recorder.call(client, operation, params)

        BaseClient._make_api_call = billed_call

    def close(self) -> None:
        BaseClient._make_api_call = self._inner

    def call(self, client, operation: str, params: dict):
        service = client.meta.service_model.service_name
        if service == "ses" and operation == "SendRawEmail":
            self.sent.append(params["RawMessage"]["Data"])
        invocation = self.current
        if invocation is None or service not in ("dynamodb", "ses"):
            return self._inner(client, operation, params)
        usage = invocation.usage
        metering = time.process_time()
        targets = self._write_targets(operation, params) if service == "dynamodb" else []
        before = [self._stored(client, table, key) for table, key, _kind in targets]
        started = time.process_time()
        invocation.excluded_cpu += started - metering
        error = None
        try:
            response = self._inner(client, operation, params)
        except ClientError as raised:
            response, error = raised.response, raised
        metering = time.process_time()
        invocation.excluded_cpu += metering - started
        if service == "ses":
            usage.ses_calls += 1
            if operation == "SendRawEmail" and error is None:
                usage.mails += 1
                usage.mail_bytes += len(params["RawMessage"]["Data"])
        else:
            usage.dynamodb_calls += 1
            for table in _tables_of(params):
                usage.tables[table] += 1
            usage.rru += _read_charge(operation, params, response)
            transactional = operation == "TransactWriteItems"
            for (table, key, kind), old in zip(targets, before, strict=True):
                new = None if error or kind == "delete" else self._stored(client, table, key)
                usage.wru += self._write_charge(table, old, new, kind, transactional, error)
        invocation.excluded_cpu += time.process_time() - metering
        if error is not None:
            raise error
        return response

    def _write_targets(self, operation: str, params: dict) -> list[tuple[str, dict, str]]:
        """(table, key, kind) of every item a write request touches."""
        if operation == "PutItem":
            table = params["TableName"]
            return [(table, self._key(table, params["Item"]), "put")]
        if operation in ("UpdateItem", "DeleteItem"):
            kind = "delete" if operation == "DeleteItem" else "update"
            return [(params["TableName"], params["Key"], kind)]
        targets = []
        if operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        targets.append((table, self._key(table, item), "put"))
                    else:
                        targets.append((table, request["DeleteRequest"]["Key"], "delete"))
        if operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((action, spec),) = entry.items()
                table = spec["TableName"]
                key = self._key(table, spec["Item"]) if action == "Put" else spec["Key"]
                kind = {"Put": "put", "Update": "update", "Delete": "delete"}.get(action, "check")
                targets.append((table, key, kind))
        return targets

    def _key(self, table: str, item: dict) -> dict:
        return {name: item[name] for name in self.keys[table]}

    def _stored(self, client, table: str, key: dict) -> dict | None:
        found = self._inner(
            client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}
        )
        return found.get("Item")

    def _write_charge(self, table, old, new, kind, transactional, error) -> float:
        """A write bills the larger of the item before and after (a failed condition: the item
        as stored), and each index whose copy it adds, changes or removes."""
        if kind == "check" or error is not None:
            return write_units(item_size(old), transactional=transactional)
        units = write_units(max(item_size(old), item_size(new)), transactional=transactional)
        for attributes in self.indexes[table].values():
            units += _index_writes(old, new, attributes)
        return units

    @contextmanager
    def invocation(self, usage: Usage, cpu_factor: float, waits_ms: Callable[[Usage], float]):
        """One Lambda invocation: its billed duration and platform log lines added to ``usage``."""
        invocation = Invocation()
        self.current = invocation
        started = time.process_time()
        try:
            yield invocation
        finally:
            self.current = None
            cpu = time.process_time() - started - invocation.excluded_cpu
            done = invocation.usage
            done.invocations = 1
            done.billed_ms = math.ceil(cpu * 1000 * cpu_factor + waits_ms(done))
            done.log_bytes += platform_log_bytes(done.billed_ms)
            done.log_events += 3
            usage.add(done)


def _index_writes(old: dict | None, new: dict | None, attributes: list[str]) -> int:
    """Write units an index spends when an item changes from ``old`` to ``new`` (ALL
    projection): a copy added or removed is one write, a changed key two, a changed item one."""

    def in_index(item):
        return item if item and all(name in item for name in attributes) else None

    before, after = in_index(old), in_index(new)
    if before is None and after is None:
        return 0
    if before is None or after is None:
        return write_units(item_size(before or after))
    if any(before[name] != after[name] for name in attributes):
        return write_units(item_size(before)) + write_units(item_size(after))
    return write_units(item_size(after)) if before != after else 0


def _read_charge(operation: str, params: dict, response: dict) -> float:
    if operation == "GetItem":
        return read_units(
            item_size(response.get("Item")), consistent=params.get("ConsistentRead", False)
        )
    if operation == "Query":
        items = response.get("Items", [])
        # No access pattern filters (app/store/models.py); a filtered Query would bill the
        # items it skipped, which the response does not show.
        assert response.get("ScannedCount", len(items)) == len(items), params
        return read_units(
            sum(item_size(item) for item in items),
            consistent=params.get("ConsistentRead", False),
        )
    if operation == "BatchGetItem":
        units = 0.0
        for table, request in params["RequestItems"].items():
            found = response.get("Responses", {}).get(table, [])
            consistent = request.get("ConsistentRead", False)
            units += sum(read_units(item_size(item), consistent=consistent) for item in found)
            missing = len(request["Keys"]) - len(found)
            units += missing * read_units(0, consistent=consistent)
        return units
    if operation == "TransactGetItems":
        return sum(
            read_units(item_size(entry.get("Item")), consistent=True, transactional=True)
            for entry in response.get("Responses", [])
        )
    return 0.0


def _tables_of(params: dict) -> list[str]:
    if "TableName" in params:
        return [params["TableName"]]
    if "RequestItems" in params:
        return list(params["RequestItems"])
    if "TransactItems" in params:
        return sorted({next(iter(e.values()))["TableName"] for e in params["TransactItems"]})
    return []


def platform_log_bytes(billed_ms: int) -> int:
    """Lambda's START, END and REPORT lines for one invocation."""
    request_id = "0d9e4c1a-5b8f-4a7e-9c3d-2f1b6e8a7c40"
    lines = (
        f"START RequestId: {request_id} Version: $LATEST\n",
        f"END RequestId: {request_id}\n",
        f"REPORT RequestId: {request_id}\tDuration: {billed_ms - 0.5:.2f} ms\t"
        f"Billed Duration: {billed_ms} ms\tMemory Size: 512 MB\tMax Memory Used: 121 MB\t\n",
    )
    return sum(len(line.encode()) for line in lines)


# Files read at run time -----------------------------------------------------------------------


def stage_settings() -> tuple[int, int]:
    """The stage's memory and how many times a month its schedule runs the job."""
    settings = json.loads(ZAPPA_FILE.read_text())[STAGE]
    (expression,) = [
        e["expression"] for e in settings["events"] if e["function"] == "app.nudges.run"
    ]
    found = re.fullmatch(r"rate\((\d+) minutes?\)", expression)
    if not found:
        raise SystemExit(f"cannot read the schedule {expression!r}")
    return settings["memory_size"], MONTH_DAYS * 24 * 60 // int(found.group(1))


def template_monthly() -> tuple[Counter, int, bool]:
    """What infra/cadenza.yaml bills each month whatever the use: (counts by price line, log
    retention days, whether the tables use the AWS managed KMS key)."""
    template = yaml.safe_load(TEMPLATE_FILE.read_text())
    defaults = {name: p.get("Default") for name, p in template.get("Parameters", {}).items()}
    resources = template["Resources"]
    counted = Counter()
    retention, managed_key = DEFAULT_LOG_RETENTION_DAYS, False
    for resource in resources.values():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::CloudWatch::Alarm":
            # A metric-math alarm bills each metric it reads.
            metrics = [m["MetricStat"] for m in properties.get("Metrics", []) if "MetricStat" in m]
            periods = [m.get("Period", 60) for m in metrics] or [properties.get("Period", 60)]
            high = min(periods) < 60
            counted[
                "cloudwatch_high_resolution_alarm_metric_month"
                if high
                else "cloudwatch_alarm_metric_month"
            ] += max(1, len(metrics))
        elif kind in MONTHLY_RESOURCES:
            counted[MONTHLY_RESOURCES[kind]] += 1
        elif kind == "AWS::Logs::LogGroup" and "RetentionInDays" in properties:
            value = properties["RetentionInDays"]
            retention = int(defaults[value["Ref"]] if isinstance(value, dict) else value)
        elif kind == "AWS::DynamoDB::Table":
            sse = properties.get("SSESpecification", {})
            managed_key |= bool(sse.get("SSEEnabled")) and "KMSMasterKeyId" not in sse
    return counted, retention, managed_key


def measured_init_ms(cpu_factor: float) -> float:
    """CPU of a cold start's INIT (importing the app and building it), in a fresh process."""
    code = (
        "import time\n"
        "started = time.process_time()\n"
        "from app import create_app\n"
        "from app.config import Config\n"
        "import app.nudges.job\n"
        "create_app(Config(mode='aws', secret_key='x' * 40, sender='Cadenza <c@cadenza.org>'))\n"
        "print(time.process_time() - started)\n"
    )
    samples = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        samples.append(float(done.stdout.strip().splitlines()[-1]))
    return sorted(samples)[1] * 1000 * cpu_factor


# The simulation ------------------------------------------------------------------------------


def main() -> None:
    os.environ.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        CADENZA_MODE="test",
    )
    import time_machine
    from moto import mock_aws

    from app import create_app, mail, nudges, store
    from app.config import Config
    from app.local import attribute_values, index
    from app.store import people, teams

    # moto answers a Query by sorting the whole table: a month of runs and page views would
    # take an hour. The local emulator's patches answer the same (tests/test_local_index.py
    # compares them with moto's) in time proportional to the answer; moto's CPU is not billed
    # either way.
    index.install()
    attribute_values.install()
    prices = json.loads(PRICING_FILE.read_text())
    price, assume = prices["prices"], prices["assumptions"]
    memory_mb, runs_a_month = stage_settings()
    cpu_factor = assume["lambda_full_vcpu_mb"]["value"] / memory_mb
    dynamodb_ms, ses_ms = assume["dynamodb_call_ms"]["value"], assume["ses_call_ms"]["value"]
    overhead_ms = assume["zappa_overhead_ms"]["value"] * cpu_factor
    # The real job waits 1/CADENZA_SES_RATE between mails (1 s by default); the bench runs it
    # without waiting and bills the wait instead.
    send_interval_ms = 1000 / Config.ses_rate

    def waits(usage: Usage) -> float:
        waited = max(0, usage.mails - 1) * send_interval_ms
        return overhead_ms + usage.dynamodb_calls * dynamodb_ms + usage.ses_calls * ses_ms + waited

    with mock_aws(), time_machine.travel(START, tick=False) as clock:
        config = Config(mode="test", ses_rate=1_000_000.0, nudge_budget_seconds=3600.0)
        app = create_app(config.with_mode_defaults())
        with app.app_context():
            store.create_tables()
            mail.verify_sender(app.extensions["cadenza"].sender)
        definitions = store.table_definitions()
        recorder = Recorder(
            indexes={
                d["TableName"]: {
                    index["IndexName"]: [k["AttributeName"] for k in index["KeySchema"]]
                    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                    for index in d.get(kind, [])
                }
                for d in definitions
            },
            keys={
                d["TableName"]: [k["AttributeName"] for k in d["KeySchema"]] for d in definitions
            },
        )
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)  # the bench prints figures, not the app's log
        root.addHandler(LogBytes(recorder, assume["lambda_log_prefix_bytes"]["value"]))
        # Zappa's scheduled entry point builds the app once per container and keeps it here.
        nudges._application = app

        month = Month(app, recorder, clock, cpu_factor, waits, assume["user_agent"]["value"])
        with app.app_context():
            month.set_up(people, teams)
        month.run()
        recorder.close()
        storage_bytes = month.stored_bytes()

    template, retention_days, managed_key = template_monthly()
    report(
        month,
        price,
        prices["free_tier"],
        memory_mb=memory_mb,
        runs_a_month=runs_a_month,
        storage_bytes=storage_bytes,
        template=template,
        retention_days=retention_days,
        managed_key=managed_key,
        init_ms=measured_init_ms(cpu_factor),
        cold_starts=assume["cold_starts_per_day"]["value"] * MONTH_DAYS,
        assumptions={
            "cpu_factor": cpu_factor,
            "dynamodb_call_ms": dynamodb_ms,
            "ses_call_ms": ses_ms,
            "zappa_overhead_ms": overhead_ms,
        },
    )


class Month:
    """The team, its people's browsers, and the month's events in time order."""

    def __init__(self, app, recorder, clock, cpu_factor, waits, user_agent):
        self.app, self.recorder, self.clock = app, recorder, clock
        self.cpu_factor, self.waits, self.user_agent = cpu_factor, waits, user_agent
        self.web, self.job = Usage(), Usage()
        self.empty_runs, self.empty = 0, Usage()  # runs that found nothing due
        self.requests: dict[str, Usage] = {}  # by kind of request
        self.random = random.Random(SEED)
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self.posts: list[dict] = []

    # Set-up (not billed: a team's first day is not a typical month) ---------------------------

    def set_up(self, people, teams) -> None:
        from app.store.models import Person

        self.people = []
        for address, name, _role, language in PEOPLE:
            someone = people.find_or_create_person(address, START, language, "Europe/Rome")
            people.update_profile(
                someone, name=name, language=language, zone="Europe/Rome", week_start=0
            )
            self.people.append(Person.get(*Person.key(someone.person_id)))
        self.team = teams.create_team(
            self.people[0], name="Cantina Aurora", zone="Europe/Rome", language="it", now=START
        )
        for someone, (_address, _name, role, _language) in zip(
            self.people[1:], PEOPLE[1:], strict=True
        ):
            raw = teams.invite(
                self.team, address=someone.email, role=role, invited_by="Giulia", now=START
            )
            teams.accept_invite(people.token(raw, START), someone, START)
        self.browsers = []
        for someone in self.people:
            browser = self.app.test_client()
            session_id = people.start_session(someone.person_id, START, timedelta(days=31))
            with browser.session_transaction() as session:
                session["sid"], session["pid"] = session_id, someone.person_id
            self.browsers.append(browser)
        self._plan()

    def _plan(self) -> None:
        """Every event of the month at its time (Rome office hours for people)."""
        workdays = [START.date() + timedelta(days=n) for n in range(MONTH_DAYS)]
        workdays = [day for day in workdays if day.weekday() < 5]
        weeks = MONTH_DAYS / 7
        for person in range(len(PEOPLE)):
            for day in workdays:
                for _ in range(PER_WORKDAY["static"]):
                    self._at(self._office_time(day), self._static, person)
                for _ in range(PER_WORKDAY["month"]):
                    self._at(self._office_time(day), self._month_view, person)
            for action, per_week in PER_WEEK.items():
                for _ in range(round(per_week * weeks)):
                    when = self._office_time(self.random.choice(workdays))
                    self._at(when, getattr(self, f"_{action}"), person)
        for n in range(SIGN_INS):
            self._at(
                self._office_time(self.random.choice(workdays)), self._sign_in, n % len(PEOPLE)
            )
        for n in range(POSTS):
            owner = n % len(PEOPLE)
            due_day = START.date() + timedelta(days=2 + n * 27 // POSTS)
            due = datetime(
                due_day.year, due_day.month, due_day.day, 10 + n % 8, 30 * (n % 2), tzinfo=ROME
            )
            created = max(START, due - timedelta(days=2 + n % 5, hours=2))
            post = {"n": n, "owner": owner, "due": due, "title": f"Tasting post {n + 1:03d}"}
            self.posts.append(post)
            self._at(created, self._create, post)
            if _spread(n, EDITED):
                self._at(created + timedelta(hours=3), self._edit, post)
            if _spread(n, MOVED):
                self._at(created + timedelta(hours=5), self._move, post)
            published = post_due_moved(post) + timedelta(minutes=15)
            if _spread(n, PUBLISHED_FROM_EMAIL):
                self._at(published, self._publish_from_email, post)
            else:
                self._at(published, self._publish_in_panel, post)
        self.events.sort(key=lambda event: (event[0], event[1]))

    def _office_time(self, day: date) -> datetime:
        minute = self.random.randrange(9 * 60, 18 * 60)
        return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=ROME)

    def _at(self, when: datetime, action, *args) -> None:
        self.events.append((when.astimezone(UTC), len(self.events), lambda: action(*args)))

    # The month, tick by tick -------------------------------------------------------------------

    def run(self) -> None:
        from app import nudges

        pending = iter(self.events)
        upcoming = next(pending, None)
        for tick in range(MONTH_DAYS * 24 * 60 // 5):
            now = START + tick * TICK
            while upcoming is not None and upcoming[0] < now:
                self.clock.move_to(upcoming[0])
                upcoming[2]()
                upcoming = next(pending, None)
            self.clock.move_to(now)
            run = Usage()
            with self.recorder.invocation(run, self.cpu_factor, self.waits):
                outcome = nudges.run({}, None)
            self.job.add(run)
            if not any(outcome.values()) and run.rru <= _empty_run_rru(run):
                self.empty_runs += 1
                self.empty.add(run)

    def request(self, person: int, method: str, path: str, kind: str, **kwargs):
        """One HTTP request through API Gateway: one Lambda invocation, logged as Zappa does."""
        from zappa.wsgi import common_log

        browser = self.browsers[person]
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("User-Agent", self.user_agent)
        if method == "POST":
            headers["X-CSRFToken"] = _csrf(browser, self.app)
        usage = Usage()
        with self.recorder.invocation(usage, self.cpu_factor, self.waits):
            started = time.perf_counter()
            response = browser.open(path, method=method, headers=headers, **kwargs)
            elapsed_us = int((time.perf_counter() - started) * 1_000_000)
            common_log(response.request.environ, _Logged(response), response_time=elapsed_us)
        usage.response_bytes = len(response.data) + sum(
            len(name) + len(value) + 4 for name, value in response.headers.items()
        )
        self.web.add(usage)
        self.requests.setdefault(kind, Usage()).add(usage)
        assert response.status_code < 400, (path, response.status_code, response.text[:500])
        return response

    # What people do ----------------------------------------------------------------------------

    def _static(self, person: int) -> None:
        for name in STATIC_FILES:
            self.request(person, "GET", f"/static/{name}", "static file")

    def _month_view(self, person: int) -> None:
        month = periods_month(self.clock_now())
        self.request(person, "GET", f"/t/{self.team.team_id}/month/{month}", "month view")

    def _week(self, person: int) -> None:
        day = self.clock_now().astimezone(ROME).date()
        monday = day - timedelta(days=day.weekday())
        path = f"/t/{self.team.team_id}/week/{monday.isoformat()}"
        self.request(person, "GET", path, "week view", headers={"HX-Request": "true"})

    def _agenda(self, person: int) -> None:
        self.request(person, "GET", f"/t/{self.team.team_id}/agenda", "agenda")

    def _my_posts(self, person: int) -> None:
        self.request(person, "GET", "/my/posts", "my posts")

    def _panel(self, person: int) -> None:
        created = [post for post in self.posts if "post_id" in post]
        if created:
            post = self.random.choice(created)
            self._open_panel(person, post, "post panel")

    def _comment(self, person: int) -> None:
        created = [post for post in self.posts if "post_id" in post]
        if not created:
            return
        post = self.random.choice(created)
        self._open_panel(person, post, "post panel")
        path = f"/t/{self.team.team_id}/posts/{post['post_id']}/comments"
        self.request(
            person,
            "POST",
            path,
            "comment",
            data={"text": "Looks good to me. @Giulia can we add the booking link?"},
            headers={"HX-Request": "true"},
        )

    def _open_panel(self, person: int, post: dict, kind: str):
        path = f"/t/{self.team.team_id}/posts/{post['post_id']}"
        return self.request(person, "GET", path, kind, headers={"HX-Request": "true"})

    def _sign_in(self, person: int) -> None:
        address = PEOPLE[person][0]
        self.browsers[person] = self.app.test_client()  # a new device, or a cleared browser
        self.request(person, "GET", "/login", "sign-in")
        sent = len(self.recorder.sent)
        self.request(person, "POST", "/login", "sign-in", data={"email": address})
        (raw,) = self.recorder.sent[sent:]
        link = re.search(r"https?://\S+(/login/[\w-]+)", _text(raw)).group(1)
        page = self.request(person, "GET", link, "sign-in").text
        landing = self.request(person, "POST", link, "sign-in", data=_own_form(page))
        self.request(person, "GET", _path(landing.headers["Location"]), "sign-in")

    def _create(self, post: dict) -> None:
        from tests.formdata import form_in

        person, day = post["owner"], post["due"].date().isoformat()
        team = self.team.team_id
        page = self.request(
            person,
            "GET",
            f"/t/{team}/posts/new?date={day}",
            "create post",
            headers={"HX-Request": "true"},
        ).text
        form = form_in(page, id="post-form").data()
        form["title"], form["copy"] = post["title"], COPY
        form["at"], form["tags"] = post["due"].strftime("%H:%M"), "tasting, autumn"
        form.setlist("channels", ["Instagram", "Facebook"])
        response = self.request(
            person,
            "POST",
            f"/t/{team}/posts",
            "create post",
            data=form,
            headers={"HX-Request": "true"},
        )
        post["post_id"] = re.search(rf"/t/{team}/posts/([\w-]+)/move", response.text).group(1)

    def _edit(self, post: dict) -> None:
        self._save_panel(post, "edit post", copy=COPY + "\n\nSee you in the cellar!")

    def _publish_in_panel(self, post: dict) -> None:
        self._save_panel(post, "publish (panel)", status="published")

    def _save_panel(self, post: dict, kind: str, **changes) -> None:
        from tests.formdata import form_in

        page = self._open_panel(post["owner"], post, kind).text
        form = form_in(page, id="post-form")
        data = form.data()
        for name, value in changes.items():
            data[name] = value
        self.request(
            post["owner"], "POST", form.action, kind, data=data, headers={"HX-Request": "true"}
        )

    def _move(self, post: dict) -> None:
        from tests.formdata import form_in

        page = self._open_panel(post["owner"], post, "move post").text
        form = form_in(page, id="move-form")
        data = form.data()
        post["moved_to"] = post["due"] + timedelta(days=1)
        data["date"] = post["moved_to"].date().isoformat()
        self.request(post["owner"], "POST", form.action, "move post", data=data)

    def _publish_from_email(self, post: dict) -> None:
        link = self._published_link(post)
        page = self.request(post["owner"], "GET", link, "publish (email link)").text
        self.request(post["owner"], "POST", link, "publish (email link)", data=_own_form(page))

    def _published_link(self, post: dict) -> str:
        """The "Mark as published" link of the latest nudge about ``post`` (in any language:
        the first action link of a nudge)."""
        for raw in reversed(self.recorder.sent):
            text = _text(raw)
            if post["title"] in text:
                return _path(re.search(r"https?://\S+/n/(?!unsubscribe/)\S+", text).group(0))
        raise AssertionError(f"no nudge about {post['title']!r}")

    def clock_now(self) -> datetime:
        """The simulated instant (time-machine holds the clock still at each event)."""
        return datetime.now(UTC)

    # End of the month --------------------------------------------------------------------------

    def stored_bytes(self) -> int:
        """Table and index bytes a month's data occupies (storage bills them with overhead)."""
        from app import aws

        client, total = aws.client("dynamodb"), 0
        for table, indexes in self.recorder.indexes.items():
            for page in client.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    copies = 1 + sum(all(a in item for a in attrs) for attrs in indexes.values())
                    total += copies * (item_size(item) + STORAGE_OVERHEAD_BYTES)
        return total


def post_due_moved(post: dict) -> datetime:
    """When a post is due, once its planned move (if any) has happened."""
    return post["due"] + (timedelta(days=1) if _spread(post["n"], MOVED) else timedelta())


def _spread(n: int, count: int) -> bool:
    """Whether post ``n`` is one of ``count`` posts spread evenly over the month's POSTS."""
    return n * count // POSTS != (n + 1) * count // POSTS


def periods_month(moment: datetime) -> str:
    local = moment.astimezone(ROME)
    return f"{local.year}-{local.month:02d}"


def _empty_run_rru(run: Usage) -> float:
    """An empty run reads only empty due-index pages: half a unit per Query."""
    return run.dynamodb_calls * read_units(0, consistent=False)


class _Logged:
    """What Zappa's access log needs of a response."""

    def __init__(self, response):
        self.status_code, self.content = response.status_code, response.data


def _csrf(browser, app) -> str:
    import secrets

    from itsdangerous import URLSafeTimedSerializer

    with browser.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


def _own_form(page: str):
    """What a browser sends with the page's one form posting back to the page itself."""
    from tests.formdata import forms_in

    (form,) = [f for f in forms_in(page) if f.method == "post" and not f.action]
    return form.data()


def _text(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=policy.default)
    return message.get_body(("plain",)).get_content()


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# The bill --------------------------------------------------------------------------------------


@dataclass
class Bill:
    """Quantities for a month, by price line of infra/pricing.json."""

    quantities: Counter

    def usd(self, price: dict, free: dict | None = None) -> dict[str, float]:
        """Dollars by price line; with ``free``, after the free tier's allowances."""
        allowance = FREE_TIER_OF if free else {}
        lines = {}
        for name, quantity in self.quantities.items():
            if name in allowance:
                quantity = max(0.0, quantity - free[allowance[name]])
            lines[name] = quantity * price[name]["usd"] / price[name]["per"]
        return lines


# Which free-tier allowance covers which price line.
FREE_TIER_OF = {
    "lambda_request": "lambda_requests",
    "lambda_gb_second": "lambda_gb_seconds",
    "api_gateway_rest_request": "api_gateway_rest_requests_first_12_months",
    "data_transfer_out_gb": "data_transfer_out_gb",
    "dynamodb_storage_gb_month": "dynamodb_storage_gb",
    "ses_email": "ses_emails_first_12_months",
    "cloudwatch_logs_ingest_gb": "cloudwatch_logs_gb",
    "cloudwatch_alarm_metric_month": "cloudwatch_alarm_metrics",
    "kms_request": "kms_requests",
}


def bills(month: Month, **figures) -> tuple[Bill, Bill]:
    """The team's bill (everything it caused) and the fixed one (the same deployment with no
    team: the schedule's runs finding nothing, cold starts, the template's monthly resources)."""
    memory_mb, runs, retention = (
        figures["memory_mb"],
        figures["runs_a_month"],
        figures["retention_days"],
    )
    empty = month.empty
    share = runs / month.empty_runs  # the schedule's month of runs that find nothing due
    cold_ms = figures["init_ms"] * figures["cold_starts"]

    def log_lines(log_bytes: float, log_events: float) -> dict[str, float]:
        ingested = (log_bytes + 26 * log_events) / 1e9
        return {
            "cloudwatch_logs_ingest_gb": ingested,
            "cloudwatch_logs_storage_gb_month": ingested * retention / MONTH_DAYS,
        }

    fixed_ms = empty.billed_ms * share + cold_ms
    fixed = Counter(
        {
            "lambda_request": runs,
            "lambda_gb_second": fixed_ms / 1000 * memory_mb / 1024,
            "dynamodb_read_request_unit": empty.rru * share,
            # The AWS managed key: DynamoDB asks KMS for a table's key again after 5 minutes
            # without use, so each run finds it expired (at most one request per table read).
            "kms_request": runs * len(empty.tables) if figures["managed_key"] else 0,
            **log_lines(empty.log_bytes * share, empty.log_events * share),
            **figures["template"],
        }
    )
    web, job = month.web, month.job
    team_ms = web.billed_ms + job.billed_ms - empty.billed_ms * share
    stored_gb = figures["storage_bytes"] / 1e9
    team = Counter(
        {
            "lambda_request": web.invocations,
            "lambda_gb_second": team_ms / 1000 * memory_mb / 1024,
            "api_gateway_rest_request": web.invocations,
            "data_transfer_out_gb": web.response_bytes / 1e9,
            "dynamodb_read_request_unit": web.rru + job.rru - empty.rru * share,
            "dynamodb_write_request_unit": web.wru + job.wru,
            "dynamodb_storage_gb_month": stored_gb,
            "dynamodb_pitr_gb_month": stored_gb,
            "ses_email": web.mails + job.mails,
            "ses_data_gb": (web.mail_bytes + job.mail_bytes) / 1e9,
            **log_lines(
                web.log_bytes + job.log_bytes - empty.log_bytes * share,
                web.log_events + job.log_events - empty.log_events * share,
            ),
        }
    )
    return Bill(team), Bill(fixed)


def report(month: Month, price: dict, free: dict, **figures) -> None:
    assert month.job.invocations == figures["runs_a_month"], month.job.invocations
    team, fixed = bills(month, **figures)
    team_usd, fixed_usd = team.usd(price), fixed.usd(price)
    both = Bill(team.quantities + fixed.quantities)
    q, f, web, empty = team.quantities, fixed.quantities, month.web, month.empty
    print(f"cost_per_team_month_usd: {sum(team_usd.values()):.4f}")
    print(f"fixed_cost_month_usd: {sum(fixed_usd.values()):.4f}")
    print(f"cost_month_with_free_tier_usd: {sum(both.usd(price, free).values()):.4f}")
    print(f"lambda_invocations_month: {q['lambda_request'] + f['lambda_request']:.0f}")
    print(f"lambda_invocations_http_month: {web.invocations}")
    print(f"lambda_invocations_schedule_month: {month.job.invocations}")
    print("lambda_invocations_sns_bounce_month: 0")
    print(f"lambda_gb_seconds_month: {q['lambda_gb_second'] + f['lambda_gb_second']:.1f}")
    print(f"lambda_gb_seconds_team_month: {q['lambda_gb_second']:.1f}")
    print(f"lambda_gb_seconds_fixed_month: {f['lambda_gb_second']:.1f}")
    print(f"lambda_billed_ms_per_request_mean: {web.billed_ms / web.invocations:.0f}")
    print(f"lambda_billed_ms_per_empty_run_mean: {empty.billed_ms / month.empty_runs:.0f}")
    print(f"lambda_init_ms_per_cold_start: {figures['init_ms']:.0f}")
    rru = q["dynamodb_read_request_unit"] + f["dynamodb_read_request_unit"]
    print(f"dynamodb_rru_month: {rru:.1f}")
    print(f"dynamodb_wru_month: {q['dynamodb_write_request_unit']:.0f}")
    print(f"dynamodb_wru_http_month: {web.wru:.0f}")
    print(f"dynamodb_wru_schedule_month: {month.job.wru:.0f}")
    print(f"dynamodb_rru_team_month: {q['dynamodb_read_request_unit']:.1f}")
    print(f"dynamodb_rru_fixed_month: {f['dynamodb_read_request_unit']:.1f}")
    print(f"dynamodb_calls_month: {web.dynamodb_calls + month.job.dynamodb_calls}")
    print(f"dynamodb_stored_mb_team: {figures['storage_bytes'] / 1e6:.2f}")
    print(f"ses_mails_month: {q['ses_email']:.0f}")
    print(f"ses_nudges_month: {month.job.mails}")
    print(f"ses_mail_bytes_mean: {q['ses_data_gb'] * 1e9 / max(1, q['ses_email']):.0f}")
    print(f"log_gb_month: {q['cloudwatch_logs_ingest_gb'] + f['cloudwatch_logs_ingest_gb']:.4f}")
    print(
        f"log_bytes_per_request_mean: {(web.log_bytes + 26 * web.log_events) / web.invocations:.0f}"
    )
    per_run = (empty.log_bytes + 26 * empty.log_events) / month.empty_runs
    print(f"log_bytes_per_empty_run_mean: {per_run:.0f}")
    print(f"log_retention_days: {figures['retention_days']}")
    print(f"api_gateway_requests_month: {q['api_gateway_rest_request']:.0f}")
    print(f"data_out_mb_month: {q['data_transfer_out_gb'] * 1000:.1f}")
    print(f"kms_requests_month: {f['kms_request']:.0f}")
    for name in sorted(figures["template"]):
        print(f"template_{name}: {figures['template'][name]}")
    for name, value in sorted(team_usd.items()):
        print(f"team_{name}_usd: {value:.5f}")
    for name, value in sorted(fixed_usd.items()):
        print(f"fixed_{name}_usd: {value:.5f}")
    for kind, done in sorted(month.requests.items()):
        n = done.invocations
        print(
            f"requests_{re.sub(r'[^a-z]+', '_', kind).strip('_')}: {n} "
            f"(each: {done.rru / n:.1f} RRU, {done.wru / n:.1f} WRU, {done.billed_ms / n:.0f} ms)"
        )
    print(f"schedule_runs_finding_nothing: {month.empty_runs}")
    a = figures["assumptions"]
    print(
        f"assumption_cpu_scale: {a['cpu_factor']:.2f} (CPU time on this machine x 1769 MB / "
        f"{figures['memory_mb']} MB: a proxy for Lambda's duration, not a measurement of it)"
    )
    print(f"assumption_dynamodb_call_ms: {a['dynamodb_call_ms']}")
    print(f"assumption_ses_call_ms: {a['ses_call_ms']}")
    print(f"assumption_zappa_overhead_ms: {a['zappa_overhead_ms']:.1f}")
    print(f"assumption_cold_starts_month: {figures['cold_starts']}")
    print(f"assumption_page_views: per person per workday {PER_WORKDAY}, per week {PER_WEEK}")
    print("assumption_prices: infra/pricing.json (eu-west-1 list prices, no free tier)")


if __name__ == "__main__":
    main()
