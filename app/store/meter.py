"""Count DynamoDB requests and the items they read, for tests and benchmarks.

moto's consumed-capacity figures are placeholders, so what is counted is what a bill follows:
requests, and items read (``ScannedCount`` for a Query, items returned for a get).
"""

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from botocore.client import BaseClient

Listener = Callable[[str, dict, dict], None]
_listeners: list[Listener] = []
_original = BaseClient._make_api_call


def _metered_call(client, operation_name, api_params):
    if client.meta.service_model.service_name == "dynamodb":
        for listener in list(_listeners):
            listener(operation_name, api_params, {})
        response = _original(client, operation_name, api_params)
        for listener in list(_listeners):
            listener(operation_name, api_params, response)
        return response
    return _original(client, operation_name, api_params)


def listen(listener: Listener) -> None:
    """Call ``listener(operation, params, response)`` before (empty response) and after."""
    BaseClient._make_api_call = _metered_call
    _listeners.append(listener)


def stop_listening(listener: Listener) -> None:
    _listeners.remove(listener)


def items_read(operation: str, response: dict) -> int:
    if operation == "Query":
        return int(response.get("ScannedCount", response.get("Count", 0)))
    if operation == "GetItem":
        return 1 if "Item" in response else 0
    if operation in ("BatchGetItem", "TransactGetItems"):
        found = response.get("Responses", {})
        return (
            sum(len(items) for items in found.values()) if isinstance(found, dict) else len(found)
        )
    return 0


@dataclass
class Meter:
    calls: list[str] = field(default_factory=list)
    items: int = 0
    seconds: float = 0.0  # time spent waiting for DynamoDB
    _started: dict = field(default_factory=dict)

    def __call__(self, operation: str, params: dict, response: dict) -> None:
        thread = threading.get_ident()
        if not response:
            self._started[thread] = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started.pop(thread, time.perf_counter())
        self.calls.append(operation)
        self.items += items_read(operation, response)


@contextmanager
def metered():
    """Count the DynamoDB calls made inside the block (all threads)."""
    meter = Meter()
    listen(meter)
    try:
        yield meter
    finally:
        stop_listening(meter)
