"""Queries in time proportional to their answer, for the local emulator's moto.

moto answers a Query by sorting every item of the table (and, on an index, by testing every
item against the key): with a few years of posts each month view of ``make run`` took seconds.
Here each table keeps, for itself and for each of its indexes (a *view*), its partitions' items
in moto's own order, maintained by moto's writes. A Query then hands moto's query code a table
stand-in holding only the items that can reach the answer: the key condition's run (found by
bisection), from the ``ExclusiveStartKey`` on, cut after ``Limit`` + 1 items, plus the one
item after the run that moto looks at before it stops. moto's code still decides everything
else (condition, start key, limit, filter, projection, the 1 MB page), so the answers are
moto's: tests/test_local_index.py checks them against plain moto on random data.

``install()`` patches moto's classes for the whole process: only the emulator calls it (the
``make run`` server and CLI commands that own the data folder), never the Lambda bundle, which
does not carry ``app/local``, nor the test suite's in-process moto.
"""

import bisect
import inspect
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, Table

# moto refuses items above this size (LimitedSizeDict): so while what a page has read stays
# below RESULT_SIZE_LIMIT minus this, no further item can end the page for its size.
LARGEST_ITEM = 405_000
STATE = "_cadenza_views"
KEY_TYPES = ("S", "N", "B")
SIZE = "_cadenza_size"

_sort_key = itemgetter(0)
# Held while views are built, changed or read: a write that lands while another thread builds
# the views is either in what the build reads or re-placed right after it.
_lock = threading.RLock()
_moto = {}  # the original methods, by name


@dataclass
class View:
    """The table itself or one index: each partition's items, in the order moto sorts them."""

    hash_attr: str
    range_attr: str | None  # the attribute a key condition on this view compares
    member_attrs: tuple[str, ...]  # an item is in the view only if it has them all
    sort_attrs: tuple[str, ...]  # moto's order (the partition's attribute first)
    partitions: dict = field(default_factory=dict)  # partition value -> [(sort tuple, Item)]
    placed: dict = field(default_factory=dict)  # primary key -> (partition value, entry)
    usable: bool = True  # False once values of one attribute cannot be ordered together

    def place(self, key: tuple, item, in_order: bool = True) -> None:
        """Add the item if it has the view's keys (at its place, or at the end for a build
        that sorts afterwards)."""
        if not self.usable or any(name not in item.attrs for name in self.member_attrs):
            return
        values = [item.attrs[name] for name in self.sort_attrs]
        if any(value.type not in KEY_TYPES for value in values):
            self.usable = False  # not a key moto could sort on: leave the view to moto
            return
        partition = _value(item.attrs[self.hash_attr])
        entry = (tuple(_cast(value) for value in values), item)
        entries = self.partitions.setdefault(partition, [])
        try:
            if in_order:
                bisect.insort(entries, entry, key=_sort_key)
            else:
                entries.append(entry)
        except TypeError:  # mixed types in one key attribute: moto's own sort fails too
            self.usable = False
            return
        self.placed[key] = (partition, entry)

    def sort(self) -> None:
        try:
            for entries in self.partitions.values():
                entries.sort(key=_sort_key)
        except TypeError:
            self.usable = False

    def remove(self, key: tuple) -> None:
        partition, entry = self.placed.pop(key, (None, None))
        if entry is None:
            return
        entries = self.partitions[partition]
        del entries[bisect.bisect_left(entries, entry[0], key=_sort_key)]
        if not entries:
            del self.partitions[partition]


class Views:
    """The views of one table, built from its items the first time it is queried."""

    def __init__(self, table: Table):
        self.items = table.items  # moto replaces the dict when it restores a table
        self.signature = _signature(table)
        self.by_index = {None: _base_view(table)}
        for index in table.all_indexes():
            view = _index_view(table, index)
            if view is not None:
                self.by_index[index.name] = view
        for item in stored_items(table):
            key = _primary_key(item.hash_key, item.range_key)
            for view in self.by_index.values():
                view.place(key, item, in_order=False)
        for view in self.by_index.values():
            view.sort()

    def __deepcopy__(self, memo):
        # moto deep-copies a table before a transaction, to restore it if one write fails: the
        # copy builds its own views if it is ever queried.
        return None

    def resync(self, table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> None:
        """Re-place the item with this primary key as it is now (or drop it, if gone)."""
        key = _primary_key(hash_key, range_key)
        bucket = table.items.get(hash_key)
        item = bucket.get(range_key) if table.range_key_attr and bucket is not None else bucket
        if item is not None:
            item.__dict__.pop(SIZE, None)  # moto updates items in place
        for view in self.by_index.values():
            view.remove(key)
            if item is not None:
                view.place(key, item)


def install() -> None:
    """Make every moto DynamoDB table in this process answer Queries from its views."""
    if _moto:
        return
    _moto.update(
        query=Table.query,
        query_signature=inspect.signature(Table.query),
        put_item=Table.put_item,
        delete_item=Table.delete_item,
        update_item=DynamoDBBackend.update_item,
    )
    Table.query = _query
    Table.put_item = _put_item
    Table.delete_item = _delete_item
    DynamoDBBackend.update_item = _update_item


def stored_items(table: Table) -> Iterator:
    """Every item of a moto table, as stored (moto's ``all_items`` sorts them first)."""
    for bucket in table.items.values():
        yield from bucket.values() if table.range_key_attr else [bucket]


def _views(table: Table) -> Views:
    """The table's views, built now if it has none yet or its indexes changed (call with
    ``_lock`` held)."""
    views = table.__dict__.get(STATE)
    if views is None or views.items is not table.items or views.signature != _signature(table):
        views = Views(table)
        setattr(table, STATE, views)
    return views


def _resync(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> None:
    """Bring the table's views up to date with a written item (none yet: nothing to do)."""
    with _lock:
        views = table.__dict__.get(STATE)
        if views is not None and views.items is table.items:
            views.resync(table, hash_key, range_key)


def _cast(value: DynamoType):
    """moto's ``cast_value``, quicker for strings (most keys)."""
    return value.value if value.type == "S" else value.cast_value


def _value(value: DynamoType) -> tuple:
    """A key value as a dict key, equal where moto's values are equal (1 and 1.0 are)."""
    return value.type, _cast(value)


def _primary_key(hash_key: DynamoType, range_key: DynamoType | None) -> tuple:
    return _value(hash_key), None if range_key is None else _value(range_key)


def _signature(table: Table) -> tuple:
    return tuple(
        (index.name, tuple((k["AttributeName"], k["KeyType"]) for k in index.schema))
        for index in table.all_indexes()
    )


def _base_view(table: Table) -> View:
    sort_attrs = table._generate_attr_to_sort_by([table.hash_key_attr], [table.range_key_attr])
    return View(
        hash_attr=table.hash_key_attr,
        range_attr=table.range_key_attr,
        member_attrs=tuple(sort_attrs),
        sort_attrs=tuple(sort_attrs),
    )


def _index_view(table: Table, index) -> View | None:
    """The view of an index with one hash and at most one range attribute (as moto sorts it)."""
    hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    if len(hashes) != 1 or len(ranges) > 1:
        return None  # multi-attribute keys: left to moto
    if ranges:
        order_range = ranges[0]
    elif isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
        order_range = table.range_key_attr
    else:
        order_range = table.hash_key_attr
    sort_attrs = table._generate_attr_to_sort_by(
        [hashes[0], table.hash_key_attr], [order_range, table.range_key_attr]
    )
    return View(
        hash_attr=hashes[0],
        range_attr=ranges[0] if ranges else None,
        member_attrs=tuple(dict.fromkeys([*hashes, *ranges, *table.table_key_attrs])),
        sort_attrs=tuple(sort_attrs),
    )


# Writes -------------------------------------------------------------------------------------


def _put_item(self: Table, item_attrs: dict, *args, **kwargs):
    item = _moto["put_item"](self, item_attrs, *args, **kwargs)
    _resync(self, item.hash_key, item.range_key)
    return item


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None):
    item = _moto["delete_item"](self, hash_key, range_key)
    if item is not None:
        _resync(self, item.hash_key, item.range_key)
    return item


def _update_item(self: DynamoDBBackend, table_name: str, key: dict, *args, **kwargs):
    """moto updates the stored item in place: re-place it afterwards, even if the update failed
    half-way."""
    try:
        return _moto["update_item"](self, table_name, key, *args, **kwargs)
    finally:
        table = self.tables.get(table_name)
        if table is not None and table.hash_key_attr in key:
            range_value = key.get(table.range_key_attr) if table.range_key_attr else None
            _resync(
                table,
                DynamoType(key[table.hash_key_attr]),
                DynamoType(range_value) if range_value is not None else None,
            )


# Queries ------------------------------------------------------------------------------------


class _Candidates:
    """The table as moto's query code sees it: the same table, holding only the candidates."""

    def __init__(self, table: Table, items: list):
        self._table, self._items = table, items

    def all_items(self) -> list:
        return self._items

    def __getattr__(self, name: str):
        return getattr(self._table, name)


def _query(self: Table, *args, **kwargs):
    original = _moto["query"]
    call = _moto["query_signature"].bind(self, *args, **kwargs).arguments
    try:
        with _lock:
            items = _candidates(self, call)
    except (KeyError, IndexError, TypeError):
        items = None  # a start key or values it cannot order: moto answers its own way
    if items is None:
        return original(self, *args, **kwargs)
    return original(_Candidates(self, items), *args, **kwargs)


def _candidates(table: Table, call: dict) -> list | None:
    """The items moto's query needs to see, in moto's order; None to let moto see them all."""
    view = _views(table).by_index.get(call.get("index_name"))
    hashes = call.get("hash_key_conditions") or []
    ranges = call.get("range_key_conditions") or []
    limit = call.get("limit")
    if not view or not view.usable or len(hashes) > 1 or len(ranges) > 1:
        return None
    partition = hashes[0][1] if hashes else call.get("hash_key")
    if partition is None or (hashes and hashes[0][0] != view.hash_attr):
        return None
    if (ranges and ranges[0][0] != view.range_attr) or (limit is not None and limit < 1):
        return None
    entries = view.partitions.get(_value(partition), [])
    comparison = call.get("range_comparison")
    run = _run(entries, comparison, call.get("range_objs") or []) if comparison else None
    if call.get("filter_kwargs") or (comparison and run is None):
        return [item for _, item in entries]  # the partition: what moto would consider
    low, high = run or (0, len(entries))
    start_key = call.get("exclusive_start_key")
    after = None if start_key is None else _sort_tuple(start_key, view.sort_attrs)
    if call.get("scan_index_forward") is False:
        chosen = _backward(entries, low, high, after, limit)
    else:
        chosen = _forward(entries, low, high, after, limit)
    return [item for _, item in chosen]


def _forward(entries: list, low: int, high: int, after, limit: int | None) -> list:
    skip = 0 if after is None else bisect.bisect_right(entries, after, key=_sort_key)
    first, end = max(low, skip), max(high, skip)
    if limit is not None and end - first > limit:
        return entries[first : first + limit + 1]  # moto stops at the item after the page
    if _may_end_page_for_size(entries[first:end]):
        return entries[first:]
    return entries[first : end + 1]  # with the next item, which moto looks at before stopping


def _backward(entries: list, low: int, high: int, after, limit: int | None) -> list:
    skip = len(entries) if after is None else bisect.bisect_left(entries, after, key=_sort_key)
    first, end = min(low, skip), min(high, skip)
    if limit is not None and end - first > limit:
        return entries[end - limit - 1 : end]
    if _may_end_page_for_size(entries[first:end]):
        return entries[:end]
    return entries[max(first - 1, 0) : end]


def _may_end_page_for_size(page: list) -> bool:
    """Whether an item outside the key condition could still end this page for its size."""
    return sum(_size(item) for _, item in page) > RESULT_SIZE_LIMIT - LARGEST_ITEM


def _size(item) -> int:
    """moto's size of an item, kept with it until it is written again."""
    size = item.__dict__.get(SIZE)
    if size is None:
        size = item.__dict__[SIZE] = item.size()
    return size


def _sort_tuple(start_key: dict, sort_attrs: tuple) -> tuple:
    return tuple(DynamoType(start_key[name]).cast_value for name in sort_attrs)


def _run(entries: list, comparison: str, values: list) -> tuple[int, int] | None:
    """Where the items meeting a key condition lie in the partition (sorted on the range
    attribute, the second of the sort tuple); None for a condition it cannot bound."""
    operands = [value.cast_value for value in values]

    def key(entry):
        return entry[0][1]

    def left(value, lo=0):
        return bisect.bisect_left(entries, value, lo=lo, key=key)

    def right(value):
        return bisect.bisect_right(entries, value, key=key)

    everything = len(entries)
    try:
        match comparison.upper(), operands:
            case (("=" | "EQ"), [value]):
                return left(value), right(value)
            case (("<" | "LT"), [value]):
                return 0, left(value)
            case (("<=" | "LE"), [value]):
                return 0, right(value)
            case ((">" | "GT"), [value]):
                return right(value), everything
            case ((">=" | "GE"), [value]):
                return left(value), everything
            case "BETWEEN", [lower, upper]:
                start = left(lower)
                return start, max(start, right(upper))
            case "BEGINS_WITH", [prefix]:
                start = left(prefix)
                end = bisect.bisect_left(
                    entries, True, lo=start, key=lambda entry: not key(entry).startswith(prefix)
                )
                return start, end
    except (TypeError, AttributeError):  # operands of another type than the stored values
        return None
    return None
