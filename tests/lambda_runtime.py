"""A stand-in for Lambda's Python runtime, for the deploy rehearsal.

    python -I -S tests/lambda_runtime.py BUNDLE RUNTIME_SDK

Run isolated (``-I -S``: no site-packages, no user site, no PYTHON* variables), so only the
unzipped bundle and the runtime's own boto3 (RUNTIME_SDK, as Lambda puts /var/runtime after
/var/task) are importable. Like Lambda it imports ``handler`` from the bundle once, then calls
``handler.lambda_handler(event, context)`` for each event, in one process (a warm container).

Protocol: one JSON event per line on stdin, one JSON line per answer on stdout:
``{"result": ...}`` or ``{"error": "Type: message"}``. The special event
``{"rehearsal": "actions"}`` answers with every AWS action the bundle called so far, as
``[iam_action, resource]`` pairs. Anything the app prints goes to stderr.
"""

import json
import os
import sys
import time
import traceback
import uuid
import zoneinfo

bundle, runtime_sdk = sys.argv[1], sys.argv[2]
answers = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # the app's own prints and logs must not mix with the answers
sys.stdout = sys.stderr
sys.path[:0] = [bundle, runtime_sdk]
os.chdir(bundle)  # Lambda's working directory is the unzipped bundle (/var/task)

# The clock of the cold start starts here: the handler imports botocore itself (through boto3),
# so importing it first, to record the calls, must count too.
started = time.perf_counter()
import botocore.client  # noqa: E402  (the runtime's: the path is set just above)

# Newer Lambda images (Amazon Linux 2023) have no /usr/share/zoneinfo: look nowhere but in the
# bundle's tzdata package, as zoneinfo does there.
zoneinfo.reset_tzpath(to=[])

# IAM names a few services differently from their API endpoints.
IAM_PREFIX = {"email": "ses"}
# IAM authorizes a transaction item by item, as the single-item action.
TRANSACT_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
recorded: set[tuple[str, str]] = set()
_make_api_call = botocore.client.BaseClient._make_api_call


def _resource(prefix: str, params: dict) -> str:
    if prefix == "dynamodb":
        table = params.get("TableName", "")
        return f"{table}/index/{params['IndexName']}" if params.get("IndexName") else table
    if prefix == "ssm":
        return params.get("Name", "")
    if prefix == "ses":
        return params.get("ConfigurationSetName", "") or "identity"
    return ""


def _recording(self, operation_name, params):
    prefix = IAM_PREFIX.get(self.meta.service_model.endpoint_prefix)
    prefix = prefix or self.meta.service_model.endpoint_prefix
    if operation_name in ("TransactWriteItems", "TransactGetItems"):
        for item in params.get("TransactItems", []):
            (kind, request), *_ = item.items()
            recorded.add((f"dynamodb:{TRANSACT_ITEMS[kind]}", _resource(prefix, request)))
    elif "RequestItems" in params:  # a batch is authorized table by table
        for table in params["RequestItems"]:
            recorded.add((f"{prefix}:{operation_name}", table))
    else:
        recorded.add((f"{prefix}:{operation_name}", _resource(prefix, params)))
    return _make_api_call(self, operation_name, params)


botocore.client.BaseClient._make_api_call = _recording


class Context:
    """The parts of Lambda's context object that Zappa and the app read."""

    function_name = "cadenza-dev"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/cadenza-dev"
    log_stream_name = "rehearsal"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:cadenza-dev"

    def __init__(self, timeout_seconds: float = 30.0):
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


import handler  # noqa: E402

handler.LambdaHandler()  # what the first invocation does: settings, environment, the app
answers.write(json.dumps({"ready_ms": (time.perf_counter() - started) * 1000}) + "\n")

for line in sys.stdin:
    event = json.loads(line)
    if event.get("rehearsal") == "actions":
        answers.write(json.dumps({"result": sorted(recorded)}) + "\n")
        continue
    try:
        result = handler.lambda_handler(event, Context())
        answers.write(json.dumps({"result": result}, default=str) + "\n")
    except Exception as error:
        traceback.print_exc()
        answers.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
