"""The local emulator answers Queries from its own index exactly as plain moto does.

Every write goes, through boto3, both to the test suite's in-process moto (plain) and to the
emulator of ``make run`` in a subprocess (indexed); every Query then gets the same answer from
both, page by page. The data is random but seeded: a failure names its seed and repeats.
"""

import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from app.local import index
from app.store import table_definitions

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
# The app's tables, and one with numbers for sort keys and an index without a range key.
NUMBERS = {
    "TableName": "numbers",
    "BillingMode": "PAY_PER_REQUEST",
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "n", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "n", "AttributeType": "N"},
        {"AttributeName": "g", "AttributeType": "S"},
        {"AttributeName": "score", "AttributeType": "N"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_score",
            "KeySchema": [
                {"AttributeName": "g", "KeyType": "HASH"},
                {"AttributeName": "score", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "by_group",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ],
}
DEFINITIONS = [*table_definitions(), NUMBERS]
EMULATOR = """
import sys
from pathlib import Path

from app.local.emulator import Emulator

emulator = Emulator(Path(sys.argv[1])).start()
print(emulator.url, flush=True)
sys.stdin.read()
emulator.stop()
"""


class LocalEmulator:
    """The emulator ``make run`` starts, alone in a subprocess, on a data folder."""

    def __init__(self, data_dir: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", EMULATOR, str(data_dir)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        url = self.process.stdout.readline().strip()
        assert url.startswith("http://"), "the emulator did not start"
        self.client = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture
def plain(aws):
    """The suite's in-process moto, emptied, with the tables."""
    for by_region in get_backend("dynamodb").values():
        for backend in by_region.values():
            backend.reset()
    client = boto3.client("dynamodb", region_name=REGION)
    for definition in DEFINITIONS:
        client.create_table(**definition)
    return client


@pytest.fixture
def emulator(tmp_path):
    started = LocalEmulator(tmp_path)
    for definition in DEFINITIONS:
        started.client.create_table(**definition)
    yield started
    started.stop()


class World:
    """Random writes and Queries over a few partitions, sort keys with shared prefixes."""

    PARTITIONS = ["TEAM#a", "TEAM#a#", "TEAM#b", "TEAM#ä☃", "TEAM#big"]
    PREFIXES = ["POST#", "POST#1", "BODY#", "LOG#", "LOG#a#", "SCHEDULE#", ""]
    LETTERS = ["a", "b", "1", "10", "2", "#", "é", "😀", "Z", " "]
    OWNERS = ["OWNER#p1", "OWNER#p2", "OWNER#ü"]
    BUCKETS = ["DUE#2026-12-01", "DUE#2026-12-02"]
    GROUPS = ["g1", "g2", "gé"]

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.written = {definition["TableName"]: {} for definition in DEFINITIONS}

    def word(self, most: int = 4) -> str:
        return "".join(self.random.choices(self.LETTERS, k=self.random.randint(0, most)))

    def number(self) -> str:
        return str(Decimal(self.random.randint(-300, 300)) / self.random.choice([1, 10, 7]))

    # Writes ---------------------------------------------------------------------------------

    def write(self) -> tuple[str, dict]:
        """A random write: (operation, its parameters)."""
        table = self.random.choice(["cadenza-calendar"] * 4 + ["numbers", "cadenza-system"])
        roll = self.random.random()
        known = list(self.written[table].values())
        if known and roll < 0.2:
            return "update_item", self.update(table, self.random.choice(known))
        if known and roll < 0.3:
            key = self.key_of(table, self.random.choice(known))
            return "delete_item", {"TableName": table, "Key": key}
        if roll < 0.4:
            return "batch_write_item", self.batch(table)
        if roll < 0.5:
            return "transact_write_items", self.transaction(table, known)
        return "put_item", {"TableName": table, "Item": self.item(table)}

    def item(self, table: str) -> dict:
        if table == "numbers":
            item = {"pk": {"S": self.random.choice(self.PARTITIONS[:3])}, "n": {"N": self.number()}}
            if self.random.random() < 0.7:
                item["g"] = {"S": self.random.choice(self.GROUPS)}
            if self.random.random() < 0.6:
                item["score"] = {"N": self.number()}
        else:
            partition = self.random.choice(self.PARTITIONS)
            item = {
                "pk": {"S": partition},
                "sk": {"S": self.random.choice(self.PREFIXES) + self.word()},
            }
            if table == "cadenza-calendar":
                item.update(self.index_keys())
            if partition == "TEAM#big":  # larger items (pages at 1 MB: see the test below)
                item["copy"] = {"S": "x" * self.random.randint(2_000, 40_000)}
        item.update(self.attributes())
        self.written[table][self.key_text(table, item)] = item
        return item

    def index_keys(self) -> dict:
        keys = {}
        for name, chance in (("due_key", 0.6), ("idea_key", 0.3), ("trash_key", 0.2)):
            if self.random.random() < chance:
                keys[name] = {"S": f"2026-12-0{self.random.randint(1, 3)}#{self.word(2)}"}
        if self.random.random() < 0.5:
            keys["owner_pk"] = {"S": self.random.choice(self.OWNERS)}
            if self.random.random() < 0.9:  # an owner without a sort value is not in the index
                keys["owner_sk"] = {"S": self.word()}
        if self.random.random() < 0.4:
            keys["due_bucket"] = {"S": self.random.choice(self.BUCKETS)}
            keys["due_sk"] = {"S": self.word()}
        return keys

    def attributes(self) -> dict:
        """Other attributes, of every kind (binary ones take moto's long way out)."""
        kinds = {
            "title": lambda: {"S": self.word(8)},
            "count": lambda: {"N": self.number()},
            "done": lambda: {"BOOL": self.random.random() < 0.5},
            "nothing": lambda: {"NULL": True},
            "tags": lambda: {"SS": sorted({self.word(3) + "t" for _ in range(3)})},
            "sizes": lambda: {"NS": sorted({self.number() for _ in range(3)})},
            "raw": lambda: {"B": bytes(self.random.randrange(256) for _ in range(5))},
            "raws": lambda: {"BS": [b"\x00\x01", b"\xff"]},
            "meta": lambda: {"M": {"a": {"S": self.word()}, "b": {"L": [{"N": "1"}, {"S": ""}]}}},
            "list": lambda: {"L": [{"S": self.word()}, {"BOOL": False}, {"M": {}}]},
        }
        return {name: make() for name, make in kinds.items() if self.random.random() < 0.4}

    def update(self, table: str, item: dict) -> dict:
        """Move the item to another partition or range of an index, or out of it."""
        names = {"numbers": ["g", "score"], "cadenza-system": ["title"]}.get(
            table, ["due_key", "owner_pk", "owner_sk", "idea_key", "due_bucket", "due_sk"]
        )
        name = self.random.choice(names)
        key = self.key_of(table, item)
        if self.random.random() < 0.3:
            item.pop(name, None)
            return {"TableName": table, "Key": key, "UpdateExpression": f"REMOVE {name}"}
        value = {
            "score": lambda: {"N": self.number()},
            "g": lambda: {"S": self.random.choice(self.GROUPS)},
            "owner_pk": lambda: {"S": self.random.choice(self.OWNERS)},
            "due_bucket": lambda: {"S": self.random.choice(self.BUCKETS)},
        }.get(name, lambda: {"S": self.word() or "moved"})()
        item[name] = value
        return {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "SET #v = :v",
            "ExpressionAttributeNames": {"#v": name},
            "ExpressionAttributeValues": {":v": value},
        }

    def batch(self, table: str) -> dict:
        requests, keys = [], set()
        for _ in range(self.random.randint(1, 25)):
            item = self.item(table)
            if self.key_text(table, item) in keys:
                continue
            keys.add(self.key_text(table, item))
            if self.random.random() < 0.2:
                requests.append({"DeleteRequest": {"Key": self.key_of(table, item)}})
            else:
                requests.append({"PutRequest": {"Item": item}})
        return {"RequestItems": {table: requests}}

    def transaction(self, table: str, known: list) -> dict:
        """A put, an update and a delete, sometimes cancelled by a failed condition (moto then
        restores the table as it was)."""
        actions = [{"Put": {"TableName": table, "Item": self.item(table)}}]
        keys = {self.key_text(table, actions[0]["Put"]["Item"])}
        for kind in ("Update", "Delete"):
            chosen = self.random.choice(known) if known else None
            if chosen is None or self.key_text(table, chosen) in keys:
                continue
            keys.add(self.key_text(table, chosen))
            action = self.update(table, chosen) if kind == "Update" else {"TableName": table}
            action["Key"] = self.key_of(table, chosen)
            if self.random.random() < 0.3:
                action["ConditionExpression"] = "attribute_not_exists(pk)"  # fails
            actions.append({kind: action})
        return {"TransactItems": actions}

    def key_of(self, table: str, item: dict) -> dict:
        names = ("pk", "n") if table == "numbers" else ("pk", "sk")
        return {name: item[name] for name in names}

    def key_text(self, table: str, item: dict) -> str:
        return repr(self.key_of(table, item))

    # Queries --------------------------------------------------------------------------------

    def query(self) -> dict:
        definition = self.random.choice(DEFINITIONS)
        table = definition["TableName"]
        views = [(None, definition["KeySchema"])] + [
            (found["IndexName"], found["KeySchema"])
            for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
            for found in definition.get(kind, [])
        ]
        name, schema = self.random.choice(views)
        keys = {k["KeyType"]: k["AttributeName"] for k in schema}
        types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
        params = {"TableName": table, "ExpressionAttributeNames": {"#h": keys["HASH"]}}
        if name:
            params["IndexName"] = name
        values = {":h": self.value_of(table, keys["HASH"], types)}
        condition = "#h = :h"
        if "RANGE" in keys and self.random.random() < 0.8:
            params["ExpressionAttributeNames"]["#r"] = keys["RANGE"]
            condition += " AND " + self.range_condition(table, keys["RANGE"], types, values)
        params["KeyConditionExpression"] = condition
        self.options(params, values, consistent=not name or name in ("by_due", "ideas", "trash"))
        params["ExpressionAttributeValues"] = values
        if self.random.random() < 0.1:
            self.start_anywhere(params, table, keys, types)
        return params

    def value_of(self, table: str, name: str, types: dict) -> dict:
        found = [item[name] for item in self.written[table].values() if name in item]
        if found and self.random.random() < 0.9:
            return self.random.choice(found)
        return {"N": self.number()} if types[name] == "N" else {"S": self.word() or "none"}

    def range_condition(self, table: str, name: str, types: dict, values: dict) -> str:
        operator = self.random.choice(["=", "<", "<=", ">", ">=", "between", "begins_with"])
        if operator == "begins_with" and types[name] == "N":
            operator = ">="
        first, second = (self.value_of(table, name, types) for _ in range(2))
        if operator == "between":
            if types[name] == "N":
                first, second = sorted((first, second), key=lambda v: Decimal(v["N"]))
            else:
                first, second = sorted((first, second), key=lambda v: v["S"])
            values.update({":a": first, ":b": second})
            return "#r BETWEEN :a AND :b"
        if operator == "begins_with":
            text = first["S"]
            values[":a"] = {"S": text[: self.random.randint(1, max(1, len(text)))]}
            return "begins_with(#r, :a)"
        values[":a"] = first
        return f"#r {operator} :a"

    def options(self, params: dict, values: dict, consistent: bool) -> None:
        params["ScanIndexForward"] = self.random.random() < 0.5
        if self.random.random() < 0.6:
            params["Limit"] = self.random.randint(1, 7)
        if self.random.random() < 0.3:
            params["FilterExpression"] = self.random.choice(
                ["attribute_exists(title)", "begins_with(title, :t)", "done = :d"]
            )
            if ":t" in params["FilterExpression"]:
                values[":t"] = {"S": self.random.choice(self.LETTERS)}
            if ":d" in params["FilterExpression"]:
                values[":d"] = {"BOOL": True}
        if self.random.random() < 0.2:
            params["ProjectionExpression"] = "#h, title, meta.a, raw"
        elif self.random.random() < 0.1:
            params["Select"] = "COUNT"
        if consistent and self.random.random() < 0.3:
            params["ConsistentRead"] = True
        elif not consistent and self.random.random() < 0.05:
            params["ConsistentRead"] = True  # refused on a GSI: both must refuse it

    def start_anywhere(self, params: dict, table: str, keys: dict, types: dict) -> None:
        """An ExclusiveStartKey made from an item, not from an answer."""
        names = {*keys.values(), *(("pk", "n") if table == "numbers" else ("pk", "sk"))}
        candidates = [item for item in self.written[table].values() if names <= item.keys()]
        if candidates:
            item = self.random.choice(candidates)
            params["ExclusiveStartKey"] = {name: item[name] for name in names}


def answers(client, params: dict) -> list:
    """Every page of a Query (or its error), without the request metadata."""
    pages, params = [], dict(params)
    for _ in range(200):
        try:
            page = client.query(**params)
        except ClientError as error:
            return pages + [("error", error.response["Error"]["Code"])]
        page.pop("ResponseMetadata", None)
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    raise AssertionError("more than 200 pages")


def apply(client, operation: str, params: dict):
    try:
        getattr(client, operation)(**params)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "ok"


def run(world: World, plain, emulator: LocalEmulator, writes: int, queries_every: int) -> None:
    """Mirror the writes; after every few, compare a batch of Queries."""
    for number in range(1, writes + 1):
        operation, params = world.write()
        assert apply(plain, operation, params) == apply(emulator.client, operation, params), (
            operation,
            params,
        )
        if number % queries_every == 0:
            compare(world, plain, emulator, 25)


def compare(world: World, plain, emulator: LocalEmulator, queries: int) -> None:
    for _ in range(queries):
        params = world.query()
        assert answers(emulator.client, params) == answers(plain, params), params


@pytest.mark.parametrize("seed", [8, 2026])
def test_the_emulator_answers_every_query_as_plain_moto_does(plain, emulator, seed):
    world = World(seed)
    run(world, plain, emulator, writes=250, queries_every=50)
    compare(world, plain, emulator, 100)


def test_a_restarted_emulator_rebuilds_its_index_from_the_journal(plain, emulator, tmp_path):
    world = World(3)
    run(world, plain, emulator, writes=150, queries_every=50)
    emulator.stop()
    restarted = LocalEmulator(tmp_path)
    try:
        compare(world, plain, restarted, 75)
        run(world, plain, restarted, writes=40, queries_every=20)
    finally:
        restarted.stop()


@pytest.mark.parametrize("forward", [True, False])
def test_a_page_ends_at_1_mb_where_moto_ends_it(plain, emulator, forward):
    """moto ends a page when the next item it reads would pass 1 MB, even an item outside the
    key condition: the index hands it every item that can."""
    sizes = {"a1": 180_000, "a2": 180_000, "a3": 180_000, "a4": 180_000, "b1": 1_000}
    sizes.update({"b2": 350_000, "b3": 1_000, "_0": 350_000, "_1": 1_000})
    for sort_key, size in sizes.items():
        item = {"pk": {"S": "TEAM#big"}, "sk": {"S": sort_key}, "copy": {"S": "x" * size}}
        for client in (plain, emulator.client):
            client.put_item(TableName="cadenza-calendar", Item=item)
    params = {
        "TableName": "cadenza-calendar",
        "KeyConditionExpression": "pk = :t AND begins_with(sk, :a)",
        "ExpressionAttributeValues": {":t": {"S": "TEAM#big"}, ":a": {"S": "a"}},
        "ScanIndexForward": forward,
        "ProjectionExpression": "sk",
    }
    first = answers(plain, params)[0]
    assert first["Count"] == 4 and "LastEvaluatedKey" in first
    assert answers(emulator.client, params) == answers(plain, params)


def test_items_at_the_size_limit_are_refused_where_moto_refuses_them(plain, emulator):
    outcomes = []
    for size in (404_000, 404_961, 404_962, 405_100):  # 39 bytes more: 405,000 just passes
        item = {"pk": {"S": "TEAM#big"}, "sk": {"S": f"POST#{size}"}, "copy": {"S": "x" * size}}
        item.update({f"a{n}": {"S": "é"} for n in range(3)})
        params = {"TableName": "cadenza-calendar", "Item": item}
        outcomes.append(apply(plain, "put_item", params))
        assert apply(emulator.client, "put_item", params) == outcomes[-1], size
    grow = {
        "TableName": "cadenza-calendar",
        "Key": {"pk": {"S": "TEAM#big"}, "sk": {"S": "POST#404000"}},
        "UpdateExpression": "SET more = :m",
        "ExpressionAttributeValues": {":m": {"S": "y" * 990}},
    }
    assert apply(emulator.client, "update_item", grow) == apply(plain, "update_item", grow)
    assert "ok" in outcomes and "ValidationException" in outcomes
    params = {
        "TableName": "cadenza-calendar",
        "KeyConditionExpression": "pk = :t",
        "ExpressionAttributeValues": {":t": {"S": "TEAM#big"}},
        "ProjectionExpression": "sk, more",
    }
    assert answers(emulator.client, params) == answers(plain, params)


def install_the_index_for_this_test(monkeypatch) -> None:
    """The index in this process, its patches undone after the test."""
    for owner, name in ((Table, "query"), (Table, "put_item"), (Table, "delete_item")):
        monkeypatch.setattr(owner, name, getattr(owner, name))
    monkeypatch.setattr(DynamoDBBackend, "update_item", DynamoDBBackend.update_item)
    monkeypatch.setattr(index, "_moto", {})
    index.install()


def test_a_query_looks_only_at_its_answer_in_a_partition_of_years(plain, monkeypatch):
    days = [f"{2024 + n // 365}-{n % 365:03d}" for n in range(3 * 365)]
    for start in range(0, len(days), 25):
        plain.batch_write_item(
            RequestItems={
                "cadenza-calendar": [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": "TEAM#t"},
                                "sk": {"S": f"POST#{day}"},
                                "due_key": {"S": f"{day}#p"},
                            }
                        }
                    }
                    for day in days[start : start + 25]
                ]
            }
        )
    looked_at = []
    choose = index._candidates

    def spy(table, call):
        chosen = choose(table, call)
        looked_at.append(len(chosen))
        return chosen

    install_the_index_for_this_test(monkeypatch)
    monkeypatch.setattr(index, "_candidates", spy)
    month = plain.query(
        TableName="cadenza-calendar",
        IndexName="by_due",
        KeyConditionExpression="pk = :t AND due_key BETWEEN :a AND :b",
        ExpressionAttributeValues={
            ":t": {"S": "TEAM#t"},
            ":a": {"S": "2025-100"},
            ":b": {"S": "2025-131"},
        },
        ConsistentRead=True,
    )
    page = plain.query(
        TableName="cadenza-calendar",
        KeyConditionExpression="pk = :t AND begins_with(sk, :p)",
        ExpressionAttributeValues={":t": {"S": "TEAM#t"}, ":p": {"S": "POST#2026-1"}},
        ScanIndexForward=False,
        Limit=5,
    )
    assert month["Count"] == 31 and page["Count"] == 5
    assert looked_at == [32, 6]  # the answer, and the item moto looks at before it stops
