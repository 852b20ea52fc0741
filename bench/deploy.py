"""The Lambda bundle: its size, and a cold start as Lambda runs it.

Builds the bundle with ``infra/package.py`` (for this machine's Python, so the bytecode it
ships is the bytecode used), unzips it, and starts it the way the deploy rehearsal does
(``tests/lambda_runtime.py``: an isolated process with only the bundle and the runtime's boto3 on
the path) against moto's server, seven times:

- ``cold_import_ms``: importing Zappa's ``handler`` and building the function (settings, the
  app, its secret key read from SSM), median of 7;
- ``cold_import_ratio``: that, over a bare ``import flask, boto3, pynamodb`` in the same kind of
  process (median of 7), the floor any Flask-on-DynamoDB function pays;
- ``job_cold_ms``: a fresh process's first scheduled run (init + the run, on empty tables);
- ``cold_request_ms``: a fresh process's first page (init + GET /login), what a person waits;
- ``cold_import_ms_secret_in_env``: the init again with the secret key in the environment,
  which shows what reading it from SSM costs (the first AWS client of the container, which a
  first request would otherwise pay for DynamoDB).
- ``cold_import_ms_without_bytecode``: the init of the same bundle without its ``.pyc`` files,
  as a bundle built by a Python other than the runtime's starts (it compiles every module).

Nothing depends on the day it runs: the job runs on whatever clock it is, over empty tables.
"""

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.store import table_definitions  # noqa: E402

RUNS = 7
STAGE = "dev"
REGION = "eu-west-1"
SENDER = "cadenza@mail.cadenza.example.org"
ENVIRONMENT = {
    "CADENZA_MODE": "aws",
    "CADENZA_CALENDAR_TABLE": "cadenza-dev-calendar",
    "CADENZA_SYSTEM_TABLE": "cadenza-dev-system",
    "CADENZA_SENDER": f"Cadenza <{SENDER}>",
    "CADENZA_BASE_URL": "https://abc123defg.execute-api.eu-west-1.amazonaws.com/dev",
    "CADENZA_SIGNUP": "open",
    "CADENZA_SECRET_PARAMETER": "/cadenza/dev/secret-key",
}
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
SCHEDULED = {
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "resources": [f"arn:aws:events:{REGION}:123456789012:rule/cadenza-{STAGE}-app.nudges.run"],
    "detail": {},
}
BARE_IMPORT = """
import sys, time
sys.path[:0] = sys.argv[1:3]
started = time.perf_counter()
import flask, boto3, pynamodb
print((time.perf_counter() - started) * 1000)
"""


def _package():
    spec = importlib.util.spec_from_file_location("package", ROOT / "infra" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def provision(endpoint: str) -> None:
    session = boto3.session.Session(region_name=REGION, **_keys())
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    names = [ENVIRONMENT["CADENZA_CALENDAR_TABLE"], ENVIRONMENT["CADENZA_SYSTEM_TABLE"]]
    for name, definition in zip(names, table_definitions(), strict=True):
        dynamodb.create_table(**{**definition, "TableName": name})
    session.client("ssm", endpoint_url=endpoint).put_parameter(
        Name=ENVIRONMENT["CADENZA_SECRET_PARAMETER"], Type="SecureString", Value="b" * 48
    )
    session.client("ses", endpoint_url=endpoint).verify_email_identity(EmailAddress=SENDER)


def _keys() -> dict:
    return {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


LOGIN_PAGE = {  # API Gateway's REST proxy event for GET /dev/login
    "resource": "/{proxy+}",
    "path": "/login",
    "httpMethod": "GET",
    "headers": {
        "Host": "abc123defg.execute-api.eu-west-1.amazonaws.com",
        "X-Forwarded-Proto": "https",
        "Accept-Language": "it",
    },
    "multiValueHeaders": {},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": {"proxy": "login"},
    "requestContext": {"stage": STAGE, "path": f"/{STAGE}/login", "identity": {}},
    "body": None,
    "isBase64Encoded": False,
}


def cold_start(
    task: Path, runtime_sdk: Path, endpoint: str, first: dict, environment: dict | None = None
) -> tuple[float, float]:
    """(handler init ms, init + the ``first`` event ms) of one fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        # -B: like /var/task, nowhere to write the bytecode it compiles
        [sys.executable, "-I", "-S", "-B", str(ROOT / "tests" / "lambda_runtime.py")]
        + [str(task), str(runtime_sdk)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**CREDENTIALS, "CADENZA_AWS_ENDPOINT": endpoint, "TZ": "UTC", **(environment or {})},
    )
    ready_ms = json.loads(process.stdout.readline())["ready_ms"]
    process.stdin.write(json.dumps(first) + "\n")
    process.stdin.flush()
    answer = json.loads(process.stdout.readline())
    first_ms = (time.perf_counter() - started) * 1000
    assert "error" not in answer, answer
    process.stdin.close()
    process.wait(timeout=30)
    return ready_ms, first_ms


def bare_import(task: Path, runtime_sdk: Path) -> float:
    found = subprocess.run(
        [sys.executable, "-I", "-S", "-c", BARE_IMPORT, str(task), str(runtime_sdk)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(found.stdout)


def main() -> None:
    package = _package()
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory(prefix="cadenza-bench-") as work:
        work = Path(work)
        outputs = {"ZappaEnvironment": json.dumps(ENVIRONMENT)}
        built = package.build(STAGE, work / "bundle.zip", runtime, outputs)
        # The size that ships: the stage's own runtime (no bytecode when it isn't this Python).
        shipped = package.build(STAGE, work / "shipped.zip", None, outputs)
        task = work / "task"
        with zipfile.ZipFile(work / "bundle.zip") as archive:
            archive.extractall(task)
        runtime_sdk = work / "runtime"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            + ["--target", str(runtime_sdk), package.RUNTIME_BOTO3],
            check=True,
        )
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            os.environ.update(CREDENTIALS)
            provision(endpoint)
            jobs = [cold_start(task, runtime_sdk, endpoint, SCHEDULED) for _ in range(RUNS)]
            pages = [cold_start(task, runtime_sdk, endpoint, LOGIN_PAGE) for _ in range(RUNS)]
            in_env = {"CADENZA_SECRET_KEY": "e" * 48}
            without_ssm = [
                cold_start(task, runtime_sdk, endpoint, LOGIN_PAGE, in_env) for _ in range(RUNS)
            ]
            bare = [bare_import(task, runtime_sdk) for _ in range(RUNS)]
            shutil.copytree(task, work / "no-bytecode", ignore=shutil.ignore_patterns("*.pyc"))
            uncompiled = [
                cold_start(work / "no-bytecode", runtime_sdk, endpoint, LOGIN_PAGE)
                for _ in range(RUNS)
            ]
        finally:
            server.stop()
    init_ms = statistics.median(ready for ready, _ in jobs + pages)
    bare_ms = statistics.median(bare)
    init_without_ssm_ms = statistics.median(ready for ready, _ in without_ssm)
    print(f"bundle_mb: {shipped['zipped_mb']}")
    print(f"bundle_unzipped_mb: {shipped['unzipped_mb']}")
    print(f"bundle_files: {shipped['files']}")
    print(f"bundle_mb_{runtime.replace('.', '')}_with_bytecode: {built['zipped_mb']}")
    print(f"cold_import_ms: {init_ms:.0f}")
    print(f"bare_import_ms: {bare_ms:.0f}")
    print(f"cold_import_ratio: {init_ms / bare_ms:.2f}")
    print(f"cold_import_ms_secret_in_env: {init_without_ssm_ms:.0f}")
    print(f"cold_import_ratio_secret_in_env: {init_without_ssm_ms / bare_ms:.2f}")
    uncompiled_ms = statistics.median(ready for ready, _ in uncompiled)
    print(f"cold_import_ms_without_bytecode: {uncompiled_ms:.0f}")
    print(f"job_cold_ms: {statistics.median(first for _, first in jobs):.0f}")
    print(f"cold_request_ms: {statistics.median(first for _, first in pages):.0f}")


if __name__ == "__main__":
    main()
