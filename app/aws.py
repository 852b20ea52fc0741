"""Where AWS lives: one place that knows the endpoint, region and credentials.

Clients are created lazily and cached: botocore clients are thread-safe and expensive to build.
They all come from one boto3 session, so botocore's loader (the endpoint and service catalogue)
is read once: every further client of a cold Lambda container costs ~20 ms instead of ~130 ms.
A session is not thread-safe while it builds a client, hence the lock.
"""

import threading

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from app.config import Config, ConfigError

# Local and test modes talk to an emulator: fixed dummy credentials mean boto never goes
# looking for real ones (or probes the EC2 metadata service).
EMULATOR_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}

_settings: dict = {}
_clients: dict = {}
_session: list = []  # the one boto3 session the clients come from (built with the first)
_building = threading.Lock()


def configure(config: Config) -> None:
    _settings.clear()
    _settings["region_name"] = config.region
    if config.mode != "aws":
        _settings.update(EMULATOR_CREDENTIALS)
    if config.aws_endpoint:
        _settings["endpoint_url"] = config.aws_endpoint
    with _building:
        _clients.clear()
        _session.clear()


def settings() -> dict:
    """The keyword arguments every client is built with (region, endpoint, credentials)."""
    return dict(_settings)


def client(service: str):
    found = _clients.get(service)
    if found is not None:
        return found
    with _building:
        if service not in _clients:
            if not _session:
                _session.append(boto3.session.Session())
            retries = BotoConfig(retries={"mode": "standard", "max_attempts": 3})
            _clients[service] = _session[0].client(service, config=retries, **_settings)
        return _clients[service]


def secret_key(config: Config) -> str:
    """The secret key in the SSM SecureString parameter ``config.secret_parameter``, decrypted.

    Called while the app is built, so once per Lambda container (the job shares the web app).
    It raises ConfigError naming what to fix, never the value.
    """
    configure(config)
    name = config.secret_parameter
    try:
        found = client("ssm").get_parameter(Name=name, WithDecryption=True)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        if code == "ParameterNotFound":
            raise ConfigError(
                f"the SSM parameter {name} (CADENZA_SECRET_PARAMETER) does not exist: create it "
                "as a SecureString holding the secret key"
            ) from None
        needs = " (the function's role needs ssm:GetParameter on it)" if "Denied" in code else ""
        raise ConfigError(f"the SSM parameter {name} could not be read: {code}{needs}") from None
    except BotoCoreError as error:
        raise ConfigError(
            f"SSM could not be reached to read the parameter {name}: {type(error).__name__}"
        ) from None
    return found["Parameter"]["Value"]
