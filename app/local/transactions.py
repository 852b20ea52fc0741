"""Transactions in time proportional to what they write, for the local emulator's moto.

Before each TransactWriteItems moto deep-copies every table it names, to put the copy back if
one action fails: with a few years of posts every save in ``make run`` (one transaction) took
over a second. Here that copy is a shallow one (new partition dicts holding the same items),
and only the items the transaction updates in place are deep-copied first; if moto puts the
copy back, those copies replace the items moto changed. Puts and deletes replace or drop items
in the live table's dicts, which the copy does not share. moto's code still runs the
transaction, so the outcome is moto's: tests/test_local_index.py mixes cancelled transactions
into its random writes and compares every answer with plain moto's.

``install()`` patches moto for the whole process: only the emulator calls it.
"""

import copy

from moto.dynamodb import models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_moto = {}  # the original methods, by name


class _Copy:
    """The ``copy`` module as moto's DynamoDB backend sees it."""

    def __getattr__(self, name: str):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        # The backend module copies a Table only to restore it after a failed transaction.
        if isinstance(value, Table) and value.stream_shard is None:
            return _restorable(value)
        return copy.deepcopy(value, memo)


def install() -> None:
    if _moto:
        return
    _moto.update(transact_write_items=DynamoDBBackend.transact_write_items, copy=models.copy)
    models.copy = _Copy()
    DynamoDBBackend.transact_write_items = _transact_write_items


def _restorable(table: Table) -> Table:
    """A copy of the table that shares its items but not its dicts of items."""
    kept = copy.copy(table)
    kept.items = copy.copy(table.items)
    if table.range_key_attr:
        for hash_key, by_range in table.items.items():
            kept.items[hash_key] = dict(by_range)
    return kept


def _transact_write_items(self: DynamoDBBackend, transact_items: list) -> None:
    live = dict(self.tables)
    updated = _items_updated_in_place(self, transact_items)
    try:
        return _moto["transact_write_items"](self, transact_items)
    finally:
        for name, table in self.tables.items():
            if name in live and table is not live[name]:  # moto put its copy back
                for (hash_key, range_key), before in updated.get(name, {}).items():
                    if range_key is None:
                        table.items[hash_key] = before
                    else:
                        table.items[hash_key][range_key] = before


def _items_updated_in_place(backend: DynamoDBBackend, transact_items: list) -> dict:
    """Deep copies of the items the transaction's updates will change, by table and key."""
    updated: dict = {}
    for action in transact_items:
        update = action.get("Update") if isinstance(action, dict) else None
        table = backend.tables.get((update or {}).get("TableName"))
        if table is None or not isinstance(update.get("Key"), dict):
            continue
        key = update["Key"]
        if table.hash_key_attr not in key or (
            table.range_key_attr and table.range_key_attr not in key
        ):
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        bucket = table.items.get(hash_key)
        item = bucket.get(range_key) if range_key is not None and bucket is not None else bucket
        if item is not None:
            updated.setdefault(table.name, {})[(hash_key, range_key)] = copy.deepcopy(item)
    return updated
