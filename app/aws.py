"""Where AWS lives: one place that knows the endpoint, region and credentials.

Clients are created lazily and cached: botocore clients are thread-safe and expensive to build
(moto's mock resets boto3's default session, so per-request clients would also be slow in tests).
"""

from functools import cache

import boto3
from botocore.config import Config as BotoConfig

from app.config import Config

# Local and test modes talk to an emulator: fixed dummy credentials mean boto never goes
# looking for real ones (or probes the EC2 metadata service).
EMULATOR_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}

_settings: dict = {}


def configure(config: Config) -> None:
    _settings.clear()
    _settings["region_name"] = config.region
    if config.mode != "aws":
        _settings.update(EMULATOR_CREDENTIALS)
    if config.aws_endpoint:
        _settings["endpoint_url"] = config.aws_endpoint
    client.cache_clear()


def settings() -> dict:
    """The keyword arguments every client is built with (region, endpoint, credentials)."""
    return dict(_settings)


@cache
def client(service: str):
    retries = {"mode": "standard", "max_attempts": 3}
    return boto3.session.Session().client(service, config=BotoConfig(retries=retries), **_settings)
