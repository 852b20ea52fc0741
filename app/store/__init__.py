"""The only package that knows DynamoDB: models, keys and named queries.

Routes call the named functions in ``people``, ``teams``, ``posts`` and ``reminders``; none of
them builds a raw request. The access patterns are listed in ``models``.
"""

from contextlib import contextmanager, suppress

from botocore.exceptions import BotoCoreError
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException

from app import aws
from app.config import Config
from app.store.models import (
    CALENDAR_MODELS,
    SYSTEM_MODELS,
    CalendarMeta,
    Person,
    SystemMeta,
)


class StoreError(Exception):
    """The store did not answer as expected."""


class Conflict(StoreError):
    """A conditional write lost: someone changed the item first."""


class NotFound(StoreError):
    """The item does not exist (or belongs to another team)."""


def conditional_failure(error: Exception) -> bool:
    """Whether a PynamoDB write error is a lost condition (rather than an outage)."""
    if item_too_large(error):  # a cancelled transaction, but no one else's change
        return False
    cause = getattr(error, "cause_response_code", None)
    return cause in ("ConditionalCheckFailedException", "TransactionCanceledException")


def item_too_large(error: Exception) -> bool:
    """Whether DynamoDB refused a write because an item would pass its 400 KB limit.

    The forms' limits keep every item under it (tests/test_size_limits.py); this is what
    turns a mistake in those limits into a clear "too large" page rather than an outage or a
    conflict. DynamoDB says so in the error, or in a transaction's cancellation reasons.
    """
    messages = [getattr(error, "cause_response_message", None)]
    with suppress(AttributeError):  # only a transaction's error has reasons
        messages += [reason.message for reason in error.cancellation_reasons if reason]
    return any("item size has exceeded" in (message or "").lower() for message in messages)


@contextmanager
def lost_conditions_raise(reported: Exception):
    """Report a write whose condition did not hold as ``reported``; let outages through."""
    try:
        yield
    except PynamoDBException as error:
        if conditional_failure(error):
            raise reported from error
        raise


_connection: dict[str, Connection] = {}


def configure(config: Config) -> None:
    """Point every model at the configured tables and endpoint."""
    aws.configure(config)
    settings = aws.settings()
    CalendarMeta.table_name = config.calendar_table
    SystemMeta.table_name = config.system_table
    for meta in (CalendarMeta, SystemMeta):
        meta.region = settings["region_name"]
        meta.host = settings.get("endpoint_url")
        meta.aws_access_key_id = settings.get("aws_access_key_id")
        meta.aws_secret_access_key = settings.get("aws_secret_access_key")
    for model in CALENDAR_MODELS + SYSTEM_MODELS:
        model._connection = None  # PynamoDB caches it per class
    _connection["default"] = Connection(
        region=settings["region_name"],
        host=settings.get("endpoint_url"),
        aws_access_key_id=settings.get("aws_access_key_id"),
        aws_secret_access_key=settings.get("aws_secret_access_key"),
    )


def connection() -> Connection:
    """The low-level connection that transactions run on."""
    return _connection["default"]


def table_definitions() -> list[dict]:
    """CreateTable arguments for both tables, merged from the models that share each table.

    The CloudFormation template in ``infra/`` must describe the same keys and indexes (a test
    compares them), so the models stay the one source of truth.
    """
    definitions = []
    for meta, models in ((CalendarMeta, CALENDAR_MODELS), (SystemMeta, SYSTEM_MODELS)):
        attributes: dict[str, str] = {}
        key_schema = None
        indexes = {"GlobalSecondaryIndexes": {}, "LocalSecondaryIndexes": {}}
        for model in models:
            schema = model._get_schema()
            key_schema = key_schema or schema["key_schema"]
            for definition in schema["attribute_definitions"]:
                attributes[definition["AttributeName"]] = definition["AttributeType"]
            for kind, found in (
                ("GlobalSecondaryIndexes", schema["global_secondary_indexes"]),
                ("LocalSecondaryIndexes", schema["local_secondary_indexes"]),
            ):
                for index in found:
                    for definition in index["attribute_definitions"]:
                        attributes[definition["AttributeName"]] = definition["AttributeType"]
                    indexes[kind][index["index_name"]] = {
                        "IndexName": index["index_name"],
                        "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"]),
                        "Projection": index["projection"],
                    }
        definition = {
            "TableName": meta.table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": sorted(key_schema, key=lambda k: k["KeyType"]),
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in sorted(attributes.items())
            ],
        }
        for kind, found in indexes.items():
            if found:
                definition[kind] = [found[name] for name in sorted(found)]
        definitions.append(definition)
    return definitions


TTL_ATTRIBUTE = "expires_at"


def create_tables() -> None:
    """Create both tables with their indexes and TTL, if they are missing (local and tests)."""
    client = aws.client("dynamodb")
    existing = set(client.list_tables()["TableNames"])
    for definition in table_definitions():
        if definition["TableName"] in existing:
            continue
        client.create_table(**definition)
        client.get_waiter("table_exists").wait(
            TableName=definition["TableName"], WaiterConfig={"Delay": 1}
        )
        client.update_time_to_live(
            TableName=definition["TableName"],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )


def ping() -> bool:
    """Return whether the store answers (one cheap read of a key that never exists)."""
    try:
        Person.get("HEALTH", "HEALTH")
    except Person.DoesNotExist:
        return True
    except (PynamoDBException, BotoCoreError):
        return False
    return True
