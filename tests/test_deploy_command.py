"""``make deploy`` (infra/deploy.py): the steps around Zappa, against moto.

Zappa itself needs a real AWS account, so its run is stood in for here: the test checks what
``infra/deploy.py`` hands it (the command, the bundle, the settings completed from the data
stack) and what it does after (the on-failure destination, the health check). The bundle it
builds is the one the deploy rehearsal runs.
"""

import importlib.util
import io
import json
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from tests.test_infra import TEMPLATE_PATH

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"
REGION = "eu-west-1"
PARAMETERS = {
    "Stage": STAGE,
    "SenderAddress": "cadenza@mail.example.org",
    "BaseUrl": "https://cadenza.example.org",
    "AlertEmail": "ops@example.org",
}


def _deploy_module():
    sys.path.insert(0, str(ROOT / "infra"))
    try:
        spec = importlib.util.spec_from_file_location("deploy", ROOT / "infra" / "deploy.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "infra"))
    return module


@pytest.fixture
def data_stack(aws):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=f"cadenza-{STAGE}-data",
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=f"cadenza-{STAGE}-data")["Stacks"][0]
    yield {each["OutputKey"]: each["OutputValue"] for each in stack["Outputs"]}
    functions = boto3.client("lambda", region_name=REGION)
    names = [found["FunctionName"] for found in functions.list_functions()["Functions"]]
    if f"cadenza-{STAGE}" in names:
        functions.delete_function(FunctionName=f"cadenza-{STAGE}")
    cloudformation.delete_stack(StackName=f"cadenza-{STAGE}-data")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in (f"cadenza-{STAGE}-calendar", f"cadenza-{STAGE}-system"):
        dynamodb.delete_table(TableName=table)  # kept by the stack (Retain)
    iam = boto3.client("iam", region_name=REGION)
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        if policy["PolicyName"] == f"cadenza-{STAGE}-app":
            iam.delete_policy(PolicyArn=policy["Arn"])


def _create_function(role_arn: str) -> None:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return 1\n")
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=f"cadenza-{STAGE}",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )


@pytest.fixture
def deploy(monkeypatch, data_stack, tmp_path):
    """infra/deploy.py with Zappa's run and the bundle build recorded instead of run."""
    module = _deploy_module()
    ran = []

    def build(stage, output, runtime=None, stack_outputs=None):
        output.write_bytes(b"bundle")
        ran.append(("build", stage, stack_outputs))
        return {"zipped_mb": 0.1, "files": 1, "runtime": "python3.12"}

    def zappa(command, cwd, check):
        settings = json.loads((Path(cwd) / "zappa_settings.json").read_text())
        ran.append(("zappa", command[1:3], Path(command[-1]).name, settings[STAGE]))
        if command[1] == "deploy":  # what zappa deploy leaves behind: the function
            _create_function(data_stack["ExecutionRoleArn"])

    monkeypatch.setattr(module.package, "build", build)
    monkeypatch.setattr(module.subprocess, "run", zappa)
    monkeypatch.setattr(module, "healthy", lambda base_url: ran.append(("health", base_url)) or 200)
    module.ran = ran
    return module


def test_a_first_deploy_runs_zappa_deploy_with_the_data_stacks_settings_then_alerts_failures(
    deploy, data_stack
):
    assert deploy.main([STAGE]) == 0
    (build, zappa, health) = deploy.ran
    assert build == ("build", STAGE, data_stack)
    assert zappa[1] == ["deploy", STAGE] and zappa[2] == f"cadenza-{STAGE}.zip"
    settings = zappa[3]
    assert settings["role_name"] == data_stack["ExecutionRoleName"]
    assert settings["manage_roles"] is False
    environment = json.loads(data_stack["ZappaEnvironment"])
    assert settings["environment_variables"].items() >= environment.items()
    subscriptions = [e for e in settings["events"] if "event_source" in e]
    assert subscriptions == [
        {
            "function": "app.bounces.handle",
            "event_source": {"arn": data_stack["MailEventsTopicArn"], "events": ["sns:Publish"]},
        }
    ]
    assert health == ("health", environment["CADENZA_BASE_URL"])

    invoke_config = boto3.client("lambda", region_name=REGION).get_function_event_invoke_config(
        FunctionName=f"cadenza-{STAGE}"
    )
    assert (
        invoke_config["DestinationConfig"]["OnFailure"]["Destination"]
        == (data_stack["AlertsTopicArn"])
    )
    assert invoke_config["MaximumRetryAttempts"] == 2


def test_a_later_deploy_updates_the_function_zappa_made(deploy, data_stack):
    _create_function(data_stack["ExecutionRoleArn"])
    assert deploy.main([STAGE]) == 0
    assert deploy.ran[1][1] == ["update", STAGE]


def test_a_stage_that_is_not_healthy_fails_the_deploy_and_says_where_to_look(
    deploy, monkeypatch, capsys
):
    monkeypatch.setattr(deploy, "healthy", lambda base_url: 503)
    assert deploy.main([STAGE]) == 1
    assert "503" in capsys.readouterr().out


def test_the_data_stack_is_never_named_as_zappas_own_stack():
    deploy = _deploy_module()
    for stage in json.loads((ROOT / "zappa_settings.json").read_text()):
        assert deploy.data_stack_name(stage) != f"cadenza-{stage}"
