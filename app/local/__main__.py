"""``make run``: Cadenza on this machine, with DynamoDB and SES emulated in-process.

python -m app.local [--reset] [--port PORT]
"""

import argparse
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from app.config import SERVER_ANNOUNCEMENT, Config, ConfigError, announce

log = logging.getLogger(__name__)
NUDGE_EVERY_SECONDS = 60


def _nudge_every_minute(app, stop: threading.Event) -> None:
    """What the scheduled function does on AWS (every 5 minutes there)."""
    from app.nudges import run_once

    while not stop.wait(NUDGE_EVERY_SECONDS):
        try:
            outcome = run_once(app)
        except Exception:  # a failed run is retried at the next minute, as on Lambda
            log.exception("nudge run failed")
            continue
        if outcome.sent or outcome.failed:
            print(f"  Nudges: {outcome.sent} sent, {outcome.failed} failed", flush=True)


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    parser = argparse.ArgumentParser(prog="make run", description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="start with empty local data")
    parser.add_argument("--port", type=int, help="the web port (default: $PORT or 8000)")
    args = parser.parse_args(argv)

    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    if args.port:
        os.environ["PORT"] = str(args.port)
    try:
        config = Config.from_env({**os.environ, "CADENZA_MODE": "local"})
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2

    from app.local.emulator import DataFolderLock, Emulator

    lock = DataFolderLock(config.data_dir)
    if not lock.try_acquire():
        print(
            f"Another Cadenza is using {config.data_dir}/ already (stop it first, or set "
            "CADENZA_DATA_DIR to another folder).",
            file=sys.stderr,
        )
        return 1
    if args.reset:
        for entry in config.data_dir.iterdir():
            if entry.name not in ("lock", "secret_key"):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        print(f"Local data in {config.data_dir}/ cleared.")

    try:
        emulator = Emulator(config.data_dir, port=config.aws_port).start()
    except OSError as error:
        print(
            f"Cannot listen on 127.0.0.1:{config.aws_port} for the AWS emulator: {error}. "
            "Set CADENZA_AWS_PORT to a free port.",
            file=sys.stderr,
        )
        return 1

    from app import create_app
    from app.local import demo

    app = create_app(config.replace(aws_endpoint=emulator.url))
    with app.app_context():
        seeded = demo.seed(config.clock())
        link = demo.sign_in_link(config.clock())

    try:
        server = make_server("127.0.0.1", config.port, app, threaded=True)
    except OSError as error:
        emulator.stop()
        print(
            f"Cannot listen on 127.0.0.1:{config.port}: {error}. Use PORT=… to pick another.",
            file=sys.stderr,
        )
        return 1
    announcement = _announce(config)
    stop = threading.Event()
    threading.Thread(target=_nudge_every_minute, args=(app, stop), daemon=True).start()
    # Printed once the port is bound: the link works the moment it appears.
    print(
        f"\nCadenza is running at {config.base_url}/  (ready in {time.monotonic() - started:.1f} s)"
        f"\n  AWS emulator (DynamoDB + SES): {emulator.url}  "
        f"({emulator.replayed} journal records replayed)"
        f"\n  Local data: {config.data_dir.resolve()}/"
        + ("\n  Seeded the demo team Cantina Aurora." if seeded else "")
        + f"\n  Outbox: {config.base_url}/dev/outbox  (nudges are sent every minute)"
        f"\n\n  Sign in as the demo admin (valid 10 minutes, once):\n  {link}\n",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        announcement.unlink(missing_ok=True)
        emulator.stop()
    return 0


def _announce(config: Config) -> Path:
    """Tell CLI commands on this data folder where the server is, so their links reach it."""
    path = config.data_dir / SERVER_ANNOUNCEMENT
    announce(path, base_url=config.base_url)
    return path


if __name__ == "__main__":
    sys.exit(main())
