"""Deploy one stage: ``python infra/deploy.py STAGE`` (``make deploy STAGE=…``).

The data stack ``cadenza-STAGE-data`` (``make infra``) must exist. This reads its outputs,
completes the stage's Zappa settings with them, builds the bundle (``infra/package.py``),
runs ``zappa deploy`` the first time and ``zappa update`` after that with that bundle, sends the
scheduled job's failures to the alerts topic, and checks ``/healthz``.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
import package  # noqa: E402  (infra/ is a folder of scripts, not a package)


def data_stack_name(stage: str) -> str:
    """The data stack's name: never Zappa's own ``<project>-<stage>``, which it would replace."""
    return f"cadenza-{stage}-data"


def stack_outputs(cloudformation, stage: str) -> dict:
    stack = cloudformation.describe_stacks(StackName=data_stack_name(stage))["Stacks"][0]
    return {each["OutputKey"]: each["OutputValue"] for each in stack.get("Outputs", [])}


def function_exists(lambda_client, name: str) -> bool:
    try:
        lambda_client.get_function(FunctionName=name)
    except lambda_client.exceptions.ResourceNotFoundException:
        return False
    return True


def healthy(base_url: str, attempts: int = 5) -> int:
    """The status of ``/healthz`` (retried while a new function warms up)."""
    status = 0
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=30) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        time.sleep(2 * (attempt + 1))
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    args = parser.parse_args(argv)
    stage = args.stage

    settings = package.stage_settings(stage)
    session = boto3.session.Session(region_name=settings["aws_region"])
    outputs = stack_outputs(session.client("cloudformation"), stage)
    completed = package.with_stack_outputs(settings, outputs)
    function_name = f"{completed['project_name']}-{stage}"

    with tempfile.TemporaryDirectory(prefix="cadenza-deploy-") as work:
        bundle = Path(work) / f"cadenza-{stage}.zip"
        built = package.build(stage, bundle, stack_outputs=outputs)
        print(f"Bundle: {built['zipped_mb']} MB, {built['files']} files, for {built['runtime']}")
        # Zappa reads the stage's settings from its working folder: the completed ones.
        (Path(work) / "zappa_settings.json").write_text(json.dumps({stage: completed}, indent=2))
        lambda_client = session.client("lambda")
        command = "update" if function_exists(lambda_client, function_name) else "deploy"
        zappa = Path(sys.executable).with_name("zappa")
        subprocess.run([str(zappa), command, stage, "--zip", str(bundle)], cwd=work, check=True)

    lambda_client.put_function_event_invoke_config(
        FunctionName=function_name,
        # The job and the bounce handler are idempotent: two retries are safe, and a run that
        # still fails (or is throttled for an hour) reaches the alerts topic with its event.
        MaximumRetryAttempts=2,
        MaximumEventAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Destination": outputs["AlertsTopicArn"]}},
    )
    base_url = json.loads(outputs["ZappaEnvironment"])["CADENZA_BASE_URL"]
    status = healthy(base_url)
    print(f"{base_url}/healthz: {status or 'no answer'}")
    if status != 200:
        print(
            "Not healthy yet. A 503 names what is missing (the secret key parameter, the "
            "sender); see infra/README.md, step 2.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
