"""The cost model's DynamoDB sizing rules (bench/cost.py), on items whose sizes are known."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "cost_model", Path(__file__).resolve().parent.parent / "bench" / "cost.py"
)
cost = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cost)

# 2 + 8 ("pk", "TEAM#abc") + 1 + 3 ("n", three digits: 2 bytes + 1) + 2 + 1 ("ok", a boolean)
FLAT = {"pk": {"S": "TEAM#abc"}, "n": {"N": "123"}, "ok": {"BOOL": True}}
# "m" (1) + a map (3) + "a": "xy" (1 + 2 + 1) + "b": a list (1 + 3 + (2 + 1) + (1 + 1) + 1)
NESTED = {"m": {"M": {"a": {"S": "xy"}, "b": {"L": [{"N": "1"}, {"S": "z"}]}}}}


def test_an_item_counts_its_attribute_names_and_values():
    assert cost.item_size(FLAT) == 17


def test_maps_and_lists_cost_three_bytes_and_one_per_element():
    assert cost.item_size(NESTED) == 18


def test_numbers_cost_a_byte_per_two_significant_digits_plus_one():
    assert cost.attribute_size({"N": "1200"}) == cost.attribute_size({"N": "12"}) == 2
    assert cost.attribute_size({"N": "-0.00123"}) == 3
    assert cost.attribute_size({"S": "caffè"}) == 6  # UTF-8 bytes, not characters


def test_writes_bill_each_started_kilobyte_and_transactions_twice():
    assert cost.write_units(1) == cost.write_units(1024) == 1
    assert cost.write_units(1025) == 2
    assert cost.write_units(1025, transactional=True) == 4


def test_reads_bill_four_kilobyte_steps_half_when_eventually_consistent():
    assert cost.read_units(0, consistent=False) == 0.5  # an empty answer still costs
    assert cost.read_units(4096, consistent=False) == 0.5
    assert cost.read_units(4097, consistent=False) == 1.0
    assert cost.read_units(4097, consistent=True) == 2.0
    assert cost.read_units(100, consistent=True, transactional=True) == 2.0


def test_a_query_rounds_the_sum_of_its_items_not_each_item():
    item = {"pk": {"S": "x" * 2998}}  # 3,000 bytes
    assert cost._read_charge("Query", {}, {"Items": [item, item]}) == 1.0  # 6,000 B: 2 x 0.5
    keys = {"t": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}]}}
    answer = {"Responses": {"t": [item]}}  # a batch rounds each item, the missing one too
    assert cost._read_charge("BatchGetItem", {"RequestItems": keys}, answer) == 1.0


def test_an_index_pays_for_copies_added_removed_and_rekeyed():
    pending = {**FLAT, "due_bucket": {"S": "2026-11-03"}, "due_sk": {"S": "09:00"}}
    moved = {**pending, "due_sk": {"S": "10:00"}}
    index = ["due_bucket", "due_sk"]
    assert cost._index_writes(FLAT, FLAT, index) == 0  # never in the sparse index
    assert cost._index_writes(FLAT, pending, index) == 1  # enters it
    assert cost._index_writes(pending, FLAT, index) == 1  # leaves it
    assert cost._index_writes(pending, moved, index) == 2  # a new key: delete and put
    assert cost._index_writes(pending, {**pending, "n": {"N": "4"}}, index) == 1
