"""Configuration read from the environment.

Three modes share one code path:

- ``local``: the embedded AWS stand-in (moto server, journaled to ``CADENZA_DATA_DIR``);
- ``test``: moto's in-process ``mock_aws``;
- ``aws``: real AWS, as on Lambda.

The mode only decides where AWS lives, how strict the secrets are and whether the developer
outbox exists; nothing else in the code branches on it.
"""

import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

MODES = ("local", "test", "aws")
SIGNUP_POLICIES = ("open", "invite")
DEFAULT_PORT = 8000
DEFAULT_AWS_PORT = 8001
# Written by ``make run`` in its data folder while it serves: {"base_url": ..., "pid": ...}.
SERVER_ANNOUNCEMENT = "server.json"
SECRET_KEY_MIN_LENGTH = 32
TEST_SECRET_KEY = "test-secret-key-not-for-production-0123456789"  # noqa: S105


class ConfigError(RuntimeError):
    """The environment does not describe a runnable Cadenza."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Config:
    mode: str = "local"
    calendar_table: str = "cadenza-calendar"
    system_table: str = "cadenza-system"
    region: str = "eu-west-1"
    sender: str = "Cadenza <cadenza@example.com>"
    base_url: str = f"http://127.0.0.1:{DEFAULT_PORT}"
    port: int = DEFAULT_PORT  # where ``make run`` serves
    secret_key: str = ""
    # The SSM SecureString parameter holding the secret key in ``aws`` mode, read once when
    # the app is built (CADENZA_SECRET_KEY, if set, wins: tests and local runs).
    secret_parameter: str | None = None
    signup: str = "open"
    data_dir: Path = Path(".cadenza")
    # Where DynamoDB and SES answer; None means AWS's own endpoints (or moto's mock in tests).
    aws_endpoint: str | None = None
    aws_port: int = DEFAULT_AWS_PORT
    login_rate_per_address: int = 5
    login_rate_per_ip: int = 30
    login_rate_window_minutes: int = 15
    # A sign-in request is answered no sooner than this after it arrived, whether or not a
    # link was mailed: with invite-only sign-up the time taken (an SES call, or none) would
    # otherwise tell who has an account. Above SES's usual latency from Lambda (~100 ms).
    sign_in_answer_seconds: float = 0.4
    session_days: int = 30
    ses_rate: float = 1.0  # emails per second SES accepts (1 in the SES sandbox)
    nudge_budget_seconds: float = 25.0  # a run stops claiming after this (Lambda timeout 30 s)
    nudge_lease_seconds: int = 300  # a crashed run's claim expires after this
    mail_configuration_set: str | None = None  # SES configuration set every email goes through
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)

    @property
    def emulated(self) -> bool:
        """Whether AWS is a stand-in: tables and sender are provisioned, /dev/outbox exists."""
        return self.mode != "aws"

    @property
    def secure_cookies(self) -> bool:
        return self.mode == "aws"

    def replace(self, **changes) -> "Config":
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        read_secret: Callable[["Config"], str] | None = None,
    ) -> "Config":
        """The configuration the environment describes.

        In ``aws`` mode without CADENZA_SECRET_KEY, ``read_secret(config)`` fetches the key from
        the parameter CADENZA_SECRET_PARAMETER names (``app.aws.secret_key`` reads SSM): this
        module itself never touches the network.
        """
        env = os.environ if environ is None else environ
        mode = env.get("CADENZA_MODE", "local")
        if mode not in MODES:
            raise ConfigError(f"CADENZA_MODE must be one of {', '.join(MODES)}, not {mode!r}")
        signup = env.get("CADENZA_SIGNUP", "open")
        if signup not in SIGNUP_POLICIES:
            raise ConfigError(f"CADENZA_SIGNUP must be 'open' or 'invite', not {signup!r}")
        port = _int(env, "PORT", DEFAULT_PORT)
        data_dir = Path(env.get("CADENZA_DATA_DIR", ".cadenza"))
        config = cls(
            port=port,
            mode=mode,
            calendar_table=env.get("CADENZA_CALENDAR_TABLE", cls.calendar_table),
            system_table=env.get("CADENZA_SYSTEM_TABLE", cls.system_table),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            sender=env.get("CADENZA_SENDER", ""),
            base_url=_base_url(env, mode, port, data_dir),
            secret_key=env.get("CADENZA_SECRET_KEY", ""),
            secret_parameter=env.get("CADENZA_SECRET_PARAMETER") or None,
            signup=signup,
            data_dir=data_dir,
            aws_endpoint=env.get("CADENZA_AWS_ENDPOINT") or None,
            mail_configuration_set=env.get("CADENZA_SES_CONFIGURATION_SET") or None,
            aws_port=_int(env, "CADENZA_AWS_PORT", DEFAULT_AWS_PORT),
            ses_rate=_float(env, "CADENZA_SES_RATE", cls.ses_rate),
            nudge_budget_seconds=_float(
                env, "CADENZA_NUDGE_BUDGET_SECONDS", cls.nudge_budget_seconds
            ),
        )
        if mode == "aws" and not config.secret_key and config.secret_parameter and read_secret:
            where = f"the SSM parameter {config.secret_parameter} (CADENZA_SECRET_PARAMETER)"
            config = config.replace(secret_key=_long_enough(read_secret(config), where))
        return config.with_mode_defaults()

    def with_mode_defaults(self) -> "Config":
        """Fill what each mode may default, and refuse what ``aws`` mode must be given."""
        if self.mode == "aws":
            if not self.secret_key:
                raise ConfigError(
                    "no secret key: name the SSM SecureString parameter that holds it in "
                    "CADENZA_SECRET_PARAMETER (or set CADENZA_SECRET_KEY)"
                )
            _long_enough(self.secret_key, "CADENZA_SECRET_KEY")
            if not self.sender or "example.com" in self.sender:
                raise ConfigError("CADENZA_SENDER must be a verified SES sender address")
            return self
        sender = self.sender or "Cadenza <cadenza@cadenza.localhost>"
        if self.mode == "test":
            return self.replace(sender=sender, secret_key=self.secret_key or TEST_SECRET_KEY)
        return self.replace(
            sender=sender, secret_key=self.secret_key or _local_secret(self.data_dir)
        )


def _long_enough(secret_key: str, where: str) -> str:
    if len(secret_key) < SECRET_KEY_MIN_LENGTH:
        raise ConfigError(
            f"{where} must hold a secret key of at least {SECRET_KEY_MIN_LENGTH} random characters"
        )
    return secret_key


def _base_url(env: Mapping[str, str], mode: str, port: int, data_dir: Path) -> str:
    """The one rule for the base URL of links, for the server, the CLI and the job alike.

    ``CADENZA_BASE_URL`` if set; else, in local mode, the base URL of the ``make run`` that
    serves this data folder (so a CLI run in another shell links to the server's real port);
    else ``http://127.0.0.1:$PORT``.
    """
    explicit = env.get("CADENZA_BASE_URL")
    if explicit:
        return explicit.rstrip("/")
    announced = announced_base_url(data_dir) if mode == "local" else None
    return announced or f"http://127.0.0.1:{port}"


def announced_base_url(data_dir: Path) -> str | None:
    """The base URL a live ``make run`` announced for ``data_dir``, if one serves it."""
    found = announced(data_dir / SERVER_ANNOUNCEMENT)
    return found.get("base_url") if found else None


def announce(path: Path, **fields) -> None:
    """Tell other processes on a data folder about this one: ``fields`` and its pid, written
    whole (a reader never sees half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**fields, "pid": os.getpid()}))
    os.replace(tmp, path)


def announced(path: Path) -> dict | None:
    """What a process still alive announced at ``path``, or None."""
    try:
        found = json.loads(path.read_text())
        os.kill(found["pid"], 0)  # a process killed with -9 leaves its file behind
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0")
    return value


def _local_secret(data_dir: Path) -> str:
    """Keep one random key per data folder, so local sessions survive restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".secret_key.{os.getpid()}"
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        # link() is atomic and refuses to overwrite: two first starts agree on one key.
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
