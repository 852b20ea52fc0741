"""Items built in time proportional to their attributes, for the local emulator's moto.

moto checks DynamoDB's 400 KB item limit each time it sets an attribute of a new item, by
measuring every attribute set so far: building an item of n attributes measures n²/2 of them.
Every write builds one, and so does every item the emulator replays from its journal at start
(a team with a few years of posts took seconds more to start). Here the sizes are added up as
the attributes are set: the same check at the same attribute (the running total passes the
limit exactly where moto's sum would), so the same item or the same ``ItemSizeTooLarge``.
tests/test_local_index.py writes items below and above the limit to both and compares.

``install()`` patches moto for the whole process: only the emulator calls it.
"""

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

LIMIT = 405_000  # LimitedSizeDict's
_moto = {}  # the original methods, by name


def install() -> None:
    if _moto:
        return
    _moto.update(init=Item.__init__)
    Item.__init__ = _init


def _init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = LimitedSizeDict()
    total = 0
    for key, value in attrs.items():
        converted = DynamoType(value)
        total += bytesize(key) + converted.size()
        if total > LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self.attrs, key, converted)
