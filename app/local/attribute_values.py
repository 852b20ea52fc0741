"""DynamoDB answers written as moto writes them, without its per-attribute shape walk.

moto writes every response through a serializer driven by botocore's service model: for each
attribute of each item it tries every member of ``AttributeValue`` with a few name spellings,
about a millisecond an attribute. A month of posts is hundreds of attributes, so the emulator's
month view spent most of its time there. An attribute map whose values need no encoding
(strings, numbers, booleans, nulls, string and number sets, maps and lists of those) is
already what moto would write; binary values still go the long way (they are base64-encoded).
tests/test_local_index.py compares the answers with plain moto's, binary and nested values
included.

``install()`` patches moto for the whole process: only the emulator calls it.
"""

from moto.core.serialize import BaseJSONSerializer

_moto = {}  # the original methods, by name
_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_SETS = ("SS", "NS")


def install() -> None:
    if _moto:
        return
    _moto.update(map=BaseJSONSerializer._serialize_type_map)
    BaseJSONSerializer._serialize_type_map = _serialize_type_map


def _serialize_type_map(self, serialized, value, shape, key) -> None:
    if shape.value.name == "AttributeValue" and isinstance(value, dict):
        plain = _plain_map(value)
        if plain is not None:
            serialized[self.get_serialized_name(shape, key)] = plain
            return
    _moto["map"](self, serialized, value, shape, key)


def _plain_map(attributes: dict) -> dict | None:
    """The attributes as moto's serializer would write them; None if one needs encoding."""
    plain = {}
    for name, value in attributes.items():
        written = _plain(value)
        if written is None:
            return None
        plain[name] = written
    return plain


def _plain(value) -> dict | None:
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if kind in _SCALARS:
        return {kind: inner} if isinstance(inner, _SCALARS[kind]) else None
    if kind in _SETS:
        fine = isinstance(inner, list) and all(isinstance(each, str) for each in inner)
        return {kind: list(inner)} if fine else None
    if kind == "M" and isinstance(inner, dict):
        members = _plain_map(inner)
        return None if members is None else {"M": members}
    if kind == "L" and isinstance(inner, list):
        elements = [_plain(each) for each in inner]
        return None if any(each is None for each in elements) else {"L": elements}
    return None
