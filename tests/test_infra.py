"""The CloudFormation template and zappa_settings.json agree with the models they serve.

``app.store.table_definitions()`` (built from the PynamoDB models) is the one source of truth for
keys and indexes; ``infra/cadenza.yaml`` must describe the same tables, and the policy it gives
the app must stay least-privilege (never a Scan). ``zappa_settings.json`` must point each stage
at the tables and role that the stack creates for it. ``.ci/run`` runs the suite twice, the
second time with the clock faked to a night in Rome on a DST-switch day.
"""

import fnmatch
import json
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
import yaml

from app.store import TTL_ATTRIBUTE, table_definitions

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "infra" / "cadenza.yaml"
ZAPPA_SETTINGS_PATH = ROOT / "zappa_settings.json"
ROME = ZoneInfo("Europe/Rome")

# table_definitions() lists the calendar table, then the system table.
TABLE_RESOURCES = ("CalendarTable", "SystemTable")

# Item actions also authorise TransactWriteItems / TransactGetItems, which have no IAM action
# of their own; DescribeTable is what PynamoDB asks for a table's key schema.
APP_DYNAMODB_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:Query",
}
# Actions that can read a whole table: a PartiQL SELECT without a key condition is a scan.
SCANNING_ACTIONS = ("dynamodb:Scan", "dynamodb:PartiQLSelect")

TEST_STAGE = "infratest"  # the suite's own tables are test-calendar and test-system
TEST_PARAMETERS = {
    "Stage": TEST_STAGE,
    "SenderAddress": "cadenza@mail.example.org",
    "BaseUrl": "https://cadenza.example.org",
}


# --- reading the template -------------------------------------------------------------------


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe YAML loader that also reads the short intrinsic tags (``!Ref``, ``!Sub``...)."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _short_tag)


def load_template() -> dict:
    # A SafeLoader subclass: the S506 warning is about yaml.load's unsafe default loaders.
    return yaml.load(TEMPLATE_PATH.read_text(), Loader=_CloudFormationLoader)  # noqa: S506


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def definitions() -> dict[str, dict]:
    found = table_definitions()
    assert len(found) == len(TABLE_RESOURCES)
    return dict(zip(TABLE_RESOURCES, found, strict=True))


def resources_of_type(template: dict, kind: str) -> dict[str, dict]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def render(value, **parameters):
    """A template string (plain, ``Ref`` of a parameter or ``Fn::Sub``) with parameters put in."""
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and "Fn::Sub" in value:
        value = value["Fn::Sub"]
    return re.sub(r"\$\{(\w+)\}", lambda m: parameters[m.group(1)], value)


# --- comparing tables, DynamoDB's way: order matters nowhere but in a key's HASH / RANGE ----


def _keys(schema: list[dict]) -> list[tuple[str, str]]:
    return sorted((key["KeyType"], key["AttributeName"]) for key in schema)


def _projection(projection: dict) -> tuple[str, tuple[str, ...]]:
    return projection["ProjectionType"], tuple(sorted(projection.get("NonKeyAttributes", [])))


def _indexes(indexes: list[dict] | None) -> dict[str, tuple]:
    indexes = indexes or []
    names = [index["IndexName"] for index in indexes]
    assert len(names) == len(set(names)), f"an index name repeats: {names}"
    return {
        index["IndexName"]: (_keys(index["KeySchema"]), _projection(index["Projection"]))
        for index in indexes
    }


def shape(table: dict) -> dict:
    """What must match between a CreateTable request, a template table and DescribeTable."""
    return {
        "KeySchema": _keys(table["KeySchema"]),
        "AttributeDefinitions": sorted(
            (attribute["AttributeName"], attribute["AttributeType"])
            for attribute in table["AttributeDefinitions"]
        ),
        "LocalSecondaryIndexes": _indexes(table.get("LocalSecondaryIndexes")),
        "GlobalSecondaryIndexes": _indexes(table.get("GlobalSecondaryIndexes")),
    }


# --- reading policies -----------------------------------------------------------------------


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict) -> list[tuple[str, dict]]:
    """Every statement of every identity policy in the template, with where it lives."""
    found = []
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            documents.append(properties["PolicyDocument"])
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            documents += [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        for document in documents:
            found += [(name, statement) for statement in _listed(document["Statement"])]
    return found


def allowed(template: dict) -> list[tuple[str, dict]]:
    return [(name, s) for name, s in policy_statements(template) if s["Effect"] == "Allow"]


def resource_text(resource) -> str:
    """A policy resource as one string: ``Fn::GetAtt`` becomes ``${Name.Attr}``."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        target = target.split(".", 1) if isinstance(target, str) else target
        return f"${{{target[0]}.{target[1]}}}"
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        return resource["Fn::Sub"]
    if isinstance(resource, dict) and "Ref" in resource:
        return f"${{{resource['Ref']}}}"
    return resource


# --- the tables ------------------------------------------------------------------------------


def test_the_template_holds_exactly_the_tables_the_models_define(template):
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    assert sorted(tables) == sorted(TABLE_RESOURCES)
    names = {render(tables[name]["Properties"]["TableName"], Stage="dev") for name in tables}
    assert names == {"cadenza-dev-calendar", "cadenza-dev-system"}


@pytest.mark.parametrize("resource", TABLE_RESOURCES)
def test_each_table_has_the_keys_and_attribute_definitions_of_its_models(
    template, definitions, resource
):
    table = shape(template["Resources"][resource]["Properties"])
    wanted = shape(definitions[resource])
    assert table["KeySchema"] == wanted["KeySchema"]
    assert table["AttributeDefinitions"] == wanted["AttributeDefinitions"]


@pytest.mark.parametrize("resource", TABLE_RESOURCES)
def test_each_table_has_the_indexes_of_its_models_with_their_keys_and_projections(
    template, definitions, resource
):
    table = shape(template["Resources"][resource]["Properties"])
    wanted = shape(definitions[resource])
    assert table["LocalSecondaryIndexes"] == wanted["LocalSecondaryIndexes"]
    assert table["GlobalSecondaryIndexes"] == wanted["GlobalSecondaryIndexes"]


@pytest.mark.parametrize("resource", TABLE_RESOURCES)
def test_each_table_is_billed_per_request_with_no_provisioned_capacity(
    template, definitions, resource
):
    properties = template["Resources"][resource]["Properties"]
    assert properties["BillingMode"] == definitions[resource]["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in properties
    for index in properties.get("GlobalSecondaryIndexes", []):
        assert "ProvisionedThroughput" not in index, index["IndexName"]


@pytest.mark.parametrize("resource", TABLE_RESOURCES)
def test_each_table_expires_items_on_the_models_ttl_attribute(template, resource):
    ttl = template["Resources"][resource]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


@pytest.mark.parametrize("resource", TABLE_RESOURCES)
def test_each_table_has_point_in_time_recovery_and_encryption_at_rest(template, resource):
    properties = template["Resources"][resource]["Properties"]
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True


@pytest.mark.parametrize("resource", TABLE_RESOURCES)
def test_each_table_outlives_the_deletion_or_replacement_of_its_stack(template, resource):
    table = template["Resources"][resource]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


# --- the policy ------------------------------------------------------------------------------


def test_no_policy_in_the_template_allows_a_scan_or_every_dynamodb_action(template):
    statements = allowed(template)
    assert statements
    for where, statement in statements:
        assert "NotAction" not in statement, f"{where}: an Allow with NotAction grants too much"
        for action in _listed(statement["Action"]):
            assert action.lower() not in ("*", "dynamodb:*"), f"{where} allows {action}"
            for scanning in SCANNING_ACTIONS:
                assert not fnmatch.fnmatchcase(scanning.lower(), action.lower()), (
                    f"{where} allows {scanning} through {action}"
                )


def test_the_app_policy_allows_exactly_the_dynamodb_actions_the_app_needs(template):
    actions = {
        action
        for _, statement in allowed(template)
        for action in _listed(statement["Action"])
        if action.startswith("dynamodb:")
    }
    assert actions == APP_DYNAMODB_ACTIONS


def test_the_app_policy_reaches_only_the_two_tables_and_their_indexes(template):
    tables = {f"${{{name}.Arn}}" for name in TABLE_RESOURCES}
    indexes = {f"${{{name}.Arn}}/index/*" for name in TABLE_RESOURCES}
    for where, statement in allowed(template):
        actions = _listed(statement["Action"])
        if not any(action.startswith("dynamodb:") for action in actions):
            continue
        assert all(action.startswith("dynamodb:") for action in actions), where
        reached = {resource_text(resource) for resource in _listed(statement["Resource"])}
        if actions == ["dynamodb:Query"]:
            assert reached == tables | indexes, where
        else:
            assert reached == tables, f"{where}: item actions need the tables only"


def test_the_app_policy_denies_scans_of_both_tables_and_their_indexes_outright(template):
    denials = [s for _, s in policy_statements(template) if s["Effect"] == "Deny"]
    scans = [s for s in denials if "dynamodb:Scan" in _listed(s["Action"])]
    assert scans, "no explicit Deny of dynamodb:Scan"
    reached = {resource_text(resource) for s in scans for resource in _listed(s["Resource"])}
    for name in TABLE_RESOURCES:
        assert {f"${{{name}.Arn}}", f"${{{name}.Arn}}/index/*"} <= reached


def test_mail_may_be_sent_only_raw_and_only_from_the_sender_address(template):
    mail = [
        (where, statement)
        for where, statement in allowed(template)
        if any(action.lower().startswith("ses:") for action in _listed(statement["Action"]))
    ]
    assert len(mail) == 1
    _, statement = mail[0]
    assert _listed(statement["Action"]) == ["ses:SendRawEmail"]
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderAddress"}}}
    assert "SenderAddress" in template["Parameters"]


def test_the_execution_role_carries_the_app_policy_and_nothing_broader(template):
    roles = resources_of_type(template, "AWS::IAM::Role")
    assert list(roles) == ["ExecutionRole"]
    role = roles["ExecutionRole"]["Properties"]
    managed = [resource_text(arn) for arn in role["ManagedPolicyArns"]]
    assert managed == [
        "${AppPolicy}",
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ]
    trusted = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    # Zappa uses its role for the function, API Gateway's integration and the events' rules.
    assert set(trusted) == {
        "lambda.amazonaws.com",
        "apigateway.amazonaws.com",
        "events.amazonaws.com",
    }


def test_the_outputs_name_both_tables_and_the_policy(template):
    outputs = template["Outputs"]
    assert outputs["CalendarTableName"]["Value"] == {"Ref": "CalendarTable"}
    assert outputs["SystemTableName"]["Value"] == {"Ref": "SystemTable"}
    assert outputs["AppPolicyArn"]["Value"] == {"Ref": "AppPolicy"}


def test_the_template_passes_cfn_lint():
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed")
    problems = api.lint_file(TEMPLATE_PATH)
    assert not problems, "\n".join(str(problem) for problem in problems)


# --- the template, deployed to moto ---------------------------------------------------------


def test_cloudformation_creates_tables_whose_keys_and_indexes_match_the_models(aws):
    region = "eu-west-1"
    cloudformation = boto3.client("cloudformation", region_name=region)
    dynamodb = boto3.client("dynamodb", region_name=region)
    iam = boto3.client("iam", region_name=region)
    stack = f"cadenza-{TEST_STAGE}"
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in TEST_PARAMETERS.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    created = []
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
        names = [outputs["CalendarTableName"], outputs["SystemTableName"]]
        assert names == [f"cadenza-{TEST_STAGE}-calendar", f"cadenza-{TEST_STAGE}-system"]
        assert outputs["AppPolicyArn"].endswith(f":policy/cadenza-{TEST_STAGE}-app")
        created = names

        for name, wanted in zip(names, table_definitions(), strict=True):
            table = dynamodb.describe_table(TableName=name)["Table"]
            assert shape(table) == shape(wanted), name
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

        cloudformation.delete_stack(StackName=stack)
        # DeletionPolicy: Retain keeps the data when the stack goes.
        assert set(names) <= set(dynamodb.list_tables()["TableNames"])
    finally:
        for name in created:
            dynamodb.delete_table(TableName=name)
        # moto leaves a stack's managed policy behind; don't leak it into later tests.
        for policy in iam.list_policies(Scope="Local")["Policies"]:
            if policy["PolicyName"] == f"cadenza-{TEST_STAGE}-app":
                iam.delete_policy(PolicyArn=policy["Arn"])


# --- zappa_settings.json ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def zappa_stages() -> dict[str, dict]:
    return json.loads(ZAPPA_SETTINGS_PATH.read_text())


def test_zappa_has_a_dev_and_a_production_stage(zappa_stages):
    assert {"dev", "production"} <= set(zappa_stages)


def test_every_zappa_stage_uses_the_tables_and_role_its_stack_creates(template, zappa_stages):
    stage_pattern = template["Parameters"]["Stage"]["AllowedPattern"]
    resources = template["Resources"]
    for stage, settings in zappa_stages.items():
        assert re.fullmatch(stage_pattern, stage), stage
        environment = settings["environment_variables"]
        assert environment["CADENZA_MODE"] == "aws"
        assert environment["CADENZA_CALENDAR_TABLE"] == render(
            resources["CalendarTable"]["Properties"]["TableName"], Stage=stage
        )
        assert environment["CADENZA_SYSTEM_TABLE"] == render(
            resources["SystemTable"]["Properties"]["TableName"], Stage=stage
        )
        # Zappa must not create its own role (its default policy allows dynamodb:* on all).
        assert settings["manage_roles"] is False
        assert settings["role_name"] == render(
            resources["ExecutionRole"]["Properties"]["RoleName"], Stage=stage
        )
        # The role may invoke the function Zappa names "<project_name>-<stage>".
        assert f"{settings['project_name']}-{stage}" == f"cadenza-{stage}"


def test_every_zappa_stage_runs_the_wsgi_app_and_the_nudges_every_five_minutes(zappa_stages):
    for stage, settings in zappa_stages.items():
        assert settings["app_function"] == "app.wsgi.app", stage
        assert settings["runtime"] in ("python3.11", "python3.12"), stage
        assert settings["keep_warm"] is False, stage
        assert settings["aws_region"] and settings["s3_bucket"], stage
        assert {"function": "app.nudges.run", "expression": "rate(5 minutes)"}.items() <= (
            settings["events"][0].items()
        ), stage
        assert {"tests", "bench", "docs", ".cadenza", ".venv"} <= set(settings["exclude"]), stage


def test_no_secret_is_written_into_zappa_settings(zappa_stages):
    for stage, settings in zappa_stages.items():
        for block in ("environment_variables", "aws_environment_variables"):
            assert "CADENZA_SECRET_KEY" not in settings.get(block, {}), stage


# CI ------------------------------------------------------------------------------------------


def test_ci_runs_the_suite_again_at_night_in_rome_on_a_dst_switch_day():
    ci = (ROOT / ".ci" / "run").read_text()
    steps = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert steps == ["make test", "make test-any-hour"]
    assert re.search(r"packages=\(.*\bfaketime\b.*\)", ci)  # installed with chromium
    makefile = (ROOT / "Makefile").read_text()
    fake_now = re.search(r"^FAKE_NOW \?= (.+)$", makefile, re.M).group(1)
    assert "TZ=UTC" in makefile  # so faketime reads FAKE_NOW as UTC
    instant = datetime.fromisoformat(fake_now).replace(tzinfo=UTC).astimezone(ROME)
    assert instant.hour >= 21 or instant.hour < 8  # in the default quiet hours
    midnight = datetime.combine(instant.date(), time(0), ROME)
    next_midnight = datetime.combine(instant.date() + timedelta(days=1), time(0), ROME)
    assert midnight.utcoffset() != next_midnight.utcoffset()  # the clocks change that day
