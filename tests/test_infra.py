"""The CloudFormation template and zappa_settings.json agree with the models they serve.

``app.store.table_definitions()`` (built from the PynamoDB models) is the one source of truth for
keys and indexes; ``infra/cadenza.yaml`` must describe the same tables, and the policy it gives
the app must allow exactly the calls the app makes (never a Scan). ``zappa_settings.json`` must
point each stage at the tables and role that the stack creates for it, and the stack must never
share a name with what Zappa creates (Zappa's own stack is named after the function). ``.ci/run``
runs the suite twice, the second time with the clock faked to a night in Rome on a DST-switch
day.
"""

import fnmatch
import json
import re
import warnings
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
import yaml
from zappa.cli import ZappaCLI

from app import mail
from app.store import TTL_ATTRIBUTE, table_definitions
from tests.conftest import sent_mail_requests

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "infra" / "cadenza.yaml"
ZAPPA_SETTINGS_PATH = ROOT / "zappa_settings.json"
README_PATH = ROOT / "infra" / "README.md"
MAKEFILE_PATH = ROOT / "Makefile"
DEPLOYER_POLICY_PATH = ROOT / "infra" / "deployer-policy.json"
ROME = ZoneInfo("Europe/Rome")

# table_definitions() lists the calendar table, then the system table.
TABLE_RESOURCES = ("CalendarTable", "SystemTable")

# What the app's code calls (app/store, app/mail.py, the secret key at cold start). Item actions
# also authorise TransactWriteItems / TransactGetItems, which have no IAM action of their own:
# the app's transactions hold puts, updates and deletes, never a ConditionCheck. PynamoDB 6
# never asks DescribeTable; nothing batch-writes; only the calendar table is queried.
APP_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "ses:SendRawEmail",
    "ssm:GetParameter",
}
# What the Lambda service does with the execution role on the function's behalf.
ROLE_ACTIONS = {
    "lambda:InvokeFunction",  # API Gateway and EventBridge invoke the function
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sns:Publish",  # the on-failure destination of asynchronous (scheduled) runs
}
# Actions that can read a whole table: a PartiQL SELECT without a key condition is a scan.
SCANNING_ACTIONS = ("dynamodb:Scan", "dynamodb:PartiQLSelect")

TEST_STAGE = "infratest"  # the suite's own tables are test-calendar and test-system
TEST_PARAMETERS = {
    "Stage": TEST_STAGE,
    "SenderAddress": "cadenza@mail.example.org",
    "BaseUrl": "https://cadenza.example.org",
    "AlertEmail": "ops@example.org",
}
# Resource types with a price per month whatever the traffic (an alarm is $0.10 a metric, a
# KMS key $1, a secret $0.40): the stack must cost nothing while nobody uses it.
FIXED_COST_TYPES = {
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
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


def statements_of(template: dict, resource: str) -> list[dict]:
    """The statements of one policy resource, or of every inline policy of one role."""
    return [statement for name, statement in policy_statements(template) if name == resource]


def allowed_actions(template: dict, resource: str) -> dict[str, set[str]]:
    """What one policy resource (or role) allows, action by action, with the resources.

    The deploy rehearsal compares ``allowed_actions(template, "AppPolicy")`` with the actions it
    records while the bundle runs.
    """
    found: dict[str, set[str]] = {}
    for statement in statements_of(template, resource):
        if statement["Effect"] != "Allow":
            continue
        for action in _listed(statement["Action"]):
            reached = {resource_text(r) for r in _listed(statement["Resource"])}
            found.setdefault(action, set()).update(reached)
    return found


def zappa_environment(template: dict, **parameters) -> dict[str, str]:
    """The ``ZappaEnvironment`` output as the stack would render it (defaults filled in)."""
    given = {
        **{name: str(p["Default"]) for name, p in template["Parameters"].items() if "Default" in p},
        **parameters,
    }
    tables = {
        name: render(template["Resources"][name]["Properties"]["TableName"], **given)
        for name in TABLE_RESOURCES
    }
    return json.loads(render(template["Outputs"]["ZappaEnvironment"]["Value"], **given, **tables))


def physical_names(template: dict, stage: str) -> dict[str, str]:
    """Every name the template gives a resource (``TableName``, ``TopicName``, ``Name``...)."""
    names = {}
    for logical, resource in template["Resources"].items():
        for key, value in resource.get("Properties", {}).items():
            if not key.endswith("Name") or key == "DisplayName":
                continue
            if isinstance(value, dict) and value.get("Ref") in template["Resources"]:
                continue  # a reference to another resource, not a name of this one
            names[f"{logical}.{key}"] = render(value, Stage=stage)
    return names


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
def test_each_table_has_point_in_time_recovery_and_encryption_at_rest_at_no_kms_cost(
    template, resource
):
    properties = template["Resources"][resource]["Properties"]
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    # DynamoDB always encrypts at rest; false means with its own key, not a billed KMS key.
    assert properties["SSESpecification"] == {"SSEEnabled": False}


@pytest.mark.parametrize("resource", TABLE_RESOURCES)
def test_each_table_outlives_the_deletion_or_replacement_of_its_stack(template, resource):
    table = template["Resources"][resource]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


# --- the policy ------------------------------------------------------------------------------


def test_no_policy_in_the_template_allows_a_scan_or_every_action_of_a_service(template):
    statements = allowed(template)
    assert statements
    for where, statement in statements:
        assert "NotAction" not in statement, f"{where}: an Allow with NotAction grants too much"
        assert "NotResource" not in statement, where
        for action in _listed(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{where} allows {action}"
            for scanning in SCANNING_ACTIONS:
                assert not fnmatch.fnmatchcase(scanning.lower(), action.lower()), (
                    f"{where} allows {scanning} through {action}"
                )


def test_the_app_policy_allows_exactly_the_calls_the_app_makes(template):
    assert set(allowed_actions(template, "AppPolicy")) == APP_ACTIONS


def test_the_execution_role_adds_only_what_lambda_does_on_the_functions_behalf(template):
    assert set(allowed_actions(template, "ExecutionRole")) == ROLE_ACTIONS


def test_the_app_policy_reaches_the_two_tables_and_queries_only_the_calendar(template):
    tables = {f"${{{name}.Arn}}" for name in TABLE_RESOURCES}
    reached = {
        action: resources
        for action, resources in allowed_actions(template, "AppPolicy").items()
        if action.startswith("dynamodb:")
    }
    # The system table has no index, and the app reads it by key only.
    assert reached.pop("dynamodb:Query") == {"${CalendarTable.Arn}", "${CalendarTable.Arn}/index/*"}
    for action, resources in reached.items():
        assert resources == tables, f"{action}: item actions need the tables only"


def test_the_app_policy_denies_scans_of_both_tables_and_their_indexes_outright(template):
    denials = [s for _, s in policy_statements(template) if s["Effect"] == "Deny"]
    scans = [s for s in denials if "dynamodb:Scan" in _listed(s["Action"])]
    assert scans, "no explicit Deny of dynamodb:Scan"
    reached = {resource_text(resource) for s in scans for resource in _listed(s["Resource"])}
    for name in TABLE_RESOURCES:
        assert {f"${{{name}.Arn}}", f"${{{name}.Arn}}/index/*"} <= reached


def test_mail_may_be_sent_only_raw_from_the_sender_and_through_the_stages_configuration_set(
    template,
):
    mail_statements = [
        statement
        for _, statement in allowed(template)
        if any(action.lower().startswith("ses:") for action in _listed(statement["Action"]))
    ]
    assert all(_listed(s["Action"]) == ["ses:SendRawEmail"] for s in mail_statements)
    by_resource = {resource_text(s["Resource"]): s for s in mail_statements}
    identities = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
    configuration_set = (
        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/"
        + template["Resources"]["MailConfigurationSet"]["Properties"]["Name"]["Fn::Sub"]
    )
    assert set(by_resource) == {identities, configuration_set}
    # Any identity, as long as the From address is the sender's: SES checks the identity it
    # sends from (the address, or its verified domain).
    assert by_resource[identities]["Condition"] == {
        "StringEquals": {"ses:FromAddress": {"Ref": "SenderAddress"}}
    }
    assert "SenderAddress" in template["Parameters"]


def test_mail_goes_out_with_the_bare_sender_address_the_policy_conditions_on(app, ctx, inject):
    # ses:FromAddress must hold whichever address SES reads, the Source parameter or the From
    # header: the app passes the same bare address in both.
    seen = sent_mail_requests(inject)
    sender = app.extensions["cadenza"].sender
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "anna@example.com"
    message["Subject"] = "Policy check"
    message.set_content("Policy check\n")
    mail.send(message)
    (parameters,) = seen
    assert parameters.get("Source") == parseaddr(sender)[1]


def test_the_app_may_read_only_its_stages_secret_key_parameter(template):
    environment = zappa_environment(template, **TEST_PARAMETERS)
    parameter = environment["CADENZA_SECRET_PARAMETER"]
    assert parameter == f"/cadenza/{TEST_STAGE}/secret-key"
    reached = allowed_actions(template, "AppPolicy")["ssm:GetParameter"]
    account = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
    assert {render(arn, Stage=TEST_STAGE) for arn in reached} == {f"{account}:parameter{parameter}"}
    # SecureString under the AWS managed key aws/ssm: no kms permission at all.
    assert not any(a.startswith("kms:") for a in allowed_actions(template, "AppPolicy"))


def test_the_execution_role_carries_the_app_policy_and_nothing_broader(template):
    roles = resources_of_type(template, "AWS::IAM::Role")
    assert list(roles) == ["ExecutionRole"]
    role = roles["ExecutionRole"]["Properties"]
    # No AWSLambdaBasicExecutionRole: it may create any log group and write to every one.
    assert [resource_text(arn) for arn in role["ManagedPolicyArns"]] == ["${AppPolicy}"]
    trusted = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    # Zappa uses its role for the function, API Gateway's integration and the events' rules.
    assert set(trusted) == {
        "lambda.amazonaws.com",
        "apigateway.amazonaws.com",
        "events.amazonaws.com",
    }


def test_the_function_writes_only_to_its_own_log_group_and_publishes_only_alerts(template):
    reached = allowed_actions(template, "ExecutionRole")
    group = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${LogGroup}:*"
    assert reached["logs:CreateLogStream"] == reached["logs:PutLogEvents"] == {group}
    assert reached["sns:Publish"] == {"${AlertsTopic}"}


# --- logs, alerts and mail events ------------------------------------------------------------


def test_the_stack_adds_no_fixed_monthly_cost(template):
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    assert not kinds & FIXED_COST_TYPES


def test_the_functions_log_group_keeps_logs_for_a_limited_time(template, zappa_names):
    group = template["Resources"]["LogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    retention = template["Parameters"]["LogRetentionDays"]
    assert retention["Default"] == 30
    assert 9999 not in retention["AllowedValues"]  # CloudWatch's "never expire" is not offered
    for stage, names in zappa_names.items():
        # The group Lambda writes to, so Lambda never makes one without a retention.
        assert render(group["Properties"]["LogGroupName"], Stage=stage) == (
            f"/aws/lambda/{names['function']}"
        )


def test_failed_runs_go_to_an_alerts_topic_with_an_optional_email_subscription(template):
    topic = template["Resources"]["AlertsTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert render(topic["Properties"]["TopicName"], Stage="dev") == "cadenza-dev-alerts"
    assert topic["Properties"]["Subscription"] == {
        "Fn::If": [
            "HasAlertEmail",
            [{"Protocol": "email", "Endpoint": {"Ref": "AlertEmail"}}],
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert template["Parameters"]["AlertEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }


def test_bounces_and_complaints_reach_the_mail_events_topic_through_the_configuration_set(
    template,
):
    resources = template["Resources"]
    configuration_set = resources["MailConfigurationSet"]
    assert configuration_set["Type"] == "AWS::SES::ConfigurationSet"
    destination = resources["MailEventsDestination"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert sorted(event_destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert event_destination["SnsDestination"]["TopicARN"] == {"Ref": "MailEventsTopic"}
    topic = resources["MailEventsTopic"]["Properties"]
    assert render(topic["TopicName"], Stage="dev") == "cadenza-dev-mail-events"
    # The app sends through the set the stack creates.
    environment = zappa_environment(template, **TEST_PARAMETERS)
    assert environment["CADENZA_SES_CONFIGURATION_SET"] == render(
        configuration_set["Properties"]["Name"], Stage=TEST_STAGE
    )


def test_only_ses_of_this_account_may_publish_mail_events(template):
    policy = template["Resources"]["MailEventsTopicPolicy"]
    assert policy["Type"] == "AWS::SNS::TopicPolicy"
    assert policy["Properties"]["Topics"] == [{"Ref": "MailEventsTopic"}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert _listed(statement["Action"]) == ["sns:Publish"]
    assert statement["Resource"] == {"Ref": "MailEventsTopic"}
    assert statement["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    # SES checks the topic policy when the destination is created.
    depends = template["Resources"]["MailEventsDestination"]["DependsOn"]
    assert "MailEventsTopicPolicy" in _listed(depends)


def test_complaints_also_reach_the_alert_address_when_there_is_one(template):
    subscription = template["Resources"]["ComplaintsToAlertEmail"]
    assert subscription["Condition"] == "HasAlertEmail"
    properties = subscription["Properties"]
    assert properties["TopicArn"] == {"Ref": "MailEventsTopic"}
    assert (properties["Protocol"], properties["Endpoint"]) == ("email", {"Ref": "AlertEmail"})
    # SES event publishing puts the type in the message body, not in message attributes.
    assert properties["FilterPolicyScope"] == "MessageBody"
    assert properties["FilterPolicy"] == {"eventType": ["Complaint"]}


def test_the_outputs_name_the_tables_the_policy_the_topics_and_the_log_group(template):
    outputs = template["Outputs"]
    assert outputs["CalendarTableName"]["Value"] == {"Ref": "CalendarTable"}
    assert outputs["SystemTableName"]["Value"] == {"Ref": "SystemTable"}
    assert outputs["AppPolicyArn"]["Value"] == {"Ref": "AppPolicy"}
    assert outputs["AlertsTopicArn"]["Value"] == {"Ref": "AlertsTopic"}
    assert outputs["MailEventsTopicArn"]["Value"] == {"Ref": "MailEventsTopic"}
    assert outputs["LogGroupName"]["Value"] == {"Ref": "LogGroup"}
    environment = zappa_environment(template, **TEST_PARAMETERS)
    assert set(environment) == {
        "CADENZA_MODE",
        "CADENZA_CALENDAR_TABLE",
        "CADENZA_SYSTEM_TABLE",
        "CADENZA_SENDER",
        "CADENZA_BASE_URL",
        "CADENZA_SIGNUP",
        "CADENZA_SECRET_PARAMETER",
        "CADENZA_SES_CONFIGURATION_SET",
    }


def test_the_template_passes_cfn_lint():
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed")
    problems = api.lint_file(TEMPLATE_PATH)
    assert not problems, "\n".join(str(problem) for problem in problems)


# --- the template, deployed to moto ---------------------------------------------------------

# moto's CloudFormation creates tables, roles, policies, topics (with their e-mail subscriptions)
# and log groups; it skips these with a warning. cfn-lint and the tests above check them.
MOTO_SKIPS = {
    "AWS::SES::ConfigurationSet",
    "AWS::SES::ConfigurationSetEventDestination",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
}


def test_cloudformation_creates_the_stage_with_its_tables_log_group_and_topics(aws, template):
    region = "eu-west-1"
    cloudformation = boto3.client("cloudformation", region_name=region)
    dynamodb = boto3.client("dynamodb", region_name=region)
    iam = boto3.client("iam", region_name=region)
    logs = boto3.client("logs", region_name=region)
    sns = boto3.client("sns", region_name=region)
    stack = f"cadenza-{TEST_STAGE}-data"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloudformation.create_stack(
            StackName=stack,
            TemplateBody=TEMPLATE_PATH.read_text(),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in TEST_PARAMETERS.items()
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    skipped = {
        found.group(1)
        for warning in caught
        if (found := re.search(r"Tried to parse (\S+) but", str(warning.message)))
    }
    assert skipped <= MOTO_SKIPS, "moto no longer creates a resource it used to"
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

        (group,) = logs.describe_log_groups(logGroupNamePrefix=outputs["LogGroupName"])["logGroups"]
        assert group["logGroupName"] == f"/aws/lambda/cadenza-{TEST_STAGE}"
        assert group["retentionInDays"] == 30

        alerts = outputs["AlertsTopicArn"]
        assert alerts.endswith(f":cadenza-{TEST_STAGE}-alerts")
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=alerts)["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
            ("email", TEST_PARAMETERS["AlertEmail"])
        ]
        assert outputs["MailEventsTopicArn"].endswith(f":cadenza-{TEST_STAGE}-mail-events")
        sns.get_topic_attributes(TopicArn=outputs["MailEventsTopicArn"])

        # The output the operator copies into zappa_settings.json, as the stack rendered it.
        assert json.loads(outputs["ZappaEnvironment"]) == zappa_environment(
            template, **TEST_PARAMETERS
        )

        cloudformation.delete_stack(StackName=stack)
        # DeletionPolicy: Retain keeps the data when the stack goes.
        assert set(names) <= set(dynamodb.list_tables()["TableNames"])
    finally:
        for name in created:
            dynamodb.delete_table(TableName=name)
        # moto leaves some of a stack's resources behind; don't leak them into later tests.
        for policy in iam.list_policies(Scope="Local")["Policies"]:
            if policy["PolicyName"] == f"cadenza-{TEST_STAGE}-app":
                iam.delete_policy(PolicyArn=policy["Arn"])
        for topic in sns.list_topics()["Topics"]:
            if f":cadenza-{TEST_STAGE}-" in topic["TopicArn"]:
                sns.delete_topic(TopicArn=topic["TopicArn"])
        for group in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/cadenza-")[
            "logGroups"
        ]:
            logs.delete_log_group(logGroupName=group["logGroupName"])


# --- zappa_settings.json ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def zappa_stages() -> dict[str, dict]:
    return json.loads(ZAPPA_SETTINGS_PATH.read_text())


@pytest.fixture(scope="module")
def zappa_names(zappa_stages) -> dict[str, dict]:
    """What Zappa itself names for each stage, by Zappa's own code (no AWS call is made).

    Zappa names the function "<project_name>-<stage>", slugified, and gives the same name to its
    CloudFormation stack and its API; its EventBridge rules are named from it too.
    """
    session = boto3.Session(
        region_name="eu-west-1", aws_access_key_id="offline", aws_secret_access_key="offline"
    )
    names = {}
    for stage in zappa_stages:
        cli = ZappaCLI()
        cli.api_stage = stage
        cli.load_settings(str(ZAPPA_SETTINGS_PATH), session=session)
        rules = [
            cli.zappa.get_scheduled_event_name(event, event["function"], cli.lambda_name, index)
            for index, event in enumerate(cli.stage_config.get("events", []))
        ]
        names[stage] = {
            "function": cli.lambda_name,
            "stack": cli.lambda_name,
            "api": cli.lambda_name,
            "rules": rules,
        }
    return names


def _every_zappa_name(names: dict) -> set[str]:
    return {names["function"], names["stack"], names["api"], *names["rules"]}


def _expanded(text: str, stage: str, variables: dict[str, str]) -> str:
    """A stack name with its stage placeholder (or a Makefile variable) filled in."""
    text = re.sub(r"<stage>|\$\{?STAGE\}?|\$\(STAGE\)", stage, text)
    return re.sub(
        r"\$[({](\w+)[)}]", lambda m: _expanded(variables[m.group(1)], stage, variables), text
    )


def makefile_stack_names(stage: str) -> set[str]:
    """The stack names ``make infra STAGE=<stage>`` deploys to (``--stack-name`` in a recipe)."""
    makefile = MAKEFILE_PATH.read_text()
    variables = dict(re.findall(r"^(\w+)\s*[:?]?=\s*(.*?)\s*$", makefile, re.M))
    found = re.findall(r"--stack-name[ =](\S+)", makefile)
    return {_expanded(name, stage, variables) for name in found}


def readme_stack_names() -> set[str]:
    """Every ``--stack-name`` in the operator's guide."""
    found = re.findall(r"--stack-name[ =](\S+)", README_PATH.read_text())
    return {name.strip("`'\".,;:*") for name in found}


def test_the_data_stack_never_takes_the_name_zappa_gives_its_own_stack(zappa_names):
    documented = readme_stack_names()
    assert documented, "infra/README.md names no stack"
    for stage, names in zappa_names.items():
        for name in documented:
            assert _expanded(name, stage, {}) not in _every_zappa_name(names), (stage, name)
    for stage, names in zappa_names.items():
        deployed = makefile_stack_names(stage)
        assert len(deployed) == 1, f"make infra STAGE={stage} deploys to {deployed or 'no stack'}"
        (stack,) = deployed
        assert stack not in _every_zappa_name(names), (stage, stack)
        # The guide names the stack the Makefile deploys (for every stage it shows).
        for name in documented:
            written = _expanded(name, stage, {})
            if "<stage>" in name or "STAGE" in name or written.startswith(f"cadenza-{stage}-"):
                assert written == stack, (stage, name)


def test_no_resource_of_the_stack_takes_a_name_zappa_uses(template, zappa_names):
    for stage, names in zappa_names.items():
        taken = _every_zappa_name(names)
        for where, name in physical_names(template, stage).items():
            assert name not in taken, f"{where} is {name}, a name Zappa uses for {stage}"


def test_zappa_has_a_dev_and_a_production_stage(zappa_stages):
    assert {"dev", "production"} <= set(zappa_stages)


def test_every_zappa_stage_uses_the_tables_and_role_its_stack_creates(
    template, zappa_stages, zappa_names
):
    stage_pattern = template["Parameters"]["Stage"]["AllowedPattern"]
    resources = template["Resources"]
    invoked = allowed_actions(template, "ExecutionRole")["lambda:InvokeFunction"]
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
        # The role may invoke the function Zappa names, and its versions.
        function = zappa_names[stage]["function"]
        assert {render(arn, Stage=stage).rsplit(":function:", 1)[1] for arn in invoked} == {
            function,
            f"{function}:*",
        }


def test_every_zappa_stage_runs_the_wsgi_app_and_the_nudges_every_five_minutes(zappa_stages):
    for stage, settings in zappa_stages.items():
        assert settings["app_function"] == "app.wsgi.app", stage
        assert settings["runtime"] in ("python3.11", "python3.12"), stage
        assert settings["keep_warm"] is False, stage
        assert settings["aws_region"] and settings["s3_bucket"], stage
        assert {"function": "app.nudges.run", "expression": "rate(5 minutes)"}.items() <= (
            settings["events"][0].items()
        ), stage


def test_no_secret_is_written_into_zappa_settings(zappa_stages):
    for stage, settings in zappa_stages.items():
        for block in ("environment_variables", "aws_environment_variables"):
            assert "CADENZA_SECRET_KEY" not in settings.get(block, {}), stage


# --- the deployer's permissions --------------------------------------------------------------

# What the steps of infra/README.md call with the operator's own credentials: the data stack
# (CloudFormation creates every resource of the template as the caller), Zappa's deploy, update,
# rollback, schedule and SNS event source, the on-failure destination, the secret, the logs.
DEPLOY_STEPS = {
    "cloudformation:CreateChangeSet",  # aws cloudformation deploy
    "cloudformation:ExecuteChangeSet",
    "cloudformation:CreateStack",  # Zappa's own stack
    "cloudformation:UpdateStack",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:CreatePolicy",
    "iam:AttachRolePolicy",
    "iam:GetRole",  # Zappa looks the role up by name
    "iam:PassRole",
    "dynamodb:CreateTable",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:UpdateContinuousBackups",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "logs:FilterLogEvents",  # zappa tail
    "sns:CreateTopic",
    "sns:SetTopicAttributes",
    "sns:Subscribe",  # the e-mail subscription, and Zappa's SNS event source
    "ses:CreateConfigurationSet",
    "ses:CreateConfigurationSetEventDestination",
    "ssm:PutParameter",
    "s3:CreateBucket",
    "s3:PutObject",
    "s3:GetObject",
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:ListVersionsByFunction",  # zappa rollback
    "lambda:AddPermission",
    "lambda:InvokeFunction",  # zappa invoke
    "lambda:PutFunctionEventInvokeConfig",  # the on-failure destination
    "apigateway:POST",
    "events:PutRule",
    "events:PutTargets",
}


def test_the_deployer_policy_is_a_valid_policy_that_covers_every_deploy_step():
    policy = json.loads(DEPLOYER_POLICY_PATH.read_text())
    assert policy["Version"] == "2012-10-17"
    statements = policy["Statement"]
    sids = [statement["Sid"] for statement in statements]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids)
    granted = set()
    for statement in statements:
        assert statement["Effect"] == "Allow", statement["Sid"]
        assert statement["Resource"], statement["Sid"]
        for action in _listed(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), action  # no wildcard
            granted.add(action)
    assert not DEPLOY_STEPS - granted, "the deployer may not call these"


def test_the_deployer_may_pass_only_the_stages_role_and_only_to_lambda_and_api_gateway():
    policy = json.loads(DEPLOYER_POLICY_PATH.read_text())
    passing = [s for s in policy["Statement"] if "iam:PassRole" in _listed(s["Action"])]
    (statement,) = passing
    assert _listed(statement["Action"]) == ["iam:PassRole"]
    assert statement["Resource"] == "arn:aws:iam::*:role/cadenza-*-lambda"
    services = statement["Condition"]["StringEquals"]["iam:PassedToService"]
    assert sorted(services) == ["apigateway.amazonaws.com", "lambda.amazonaws.com"]


# CI ------------------------------------------------------------------------------------------


def test_ci_runs_the_suite_again_at_night_in_rome_on_a_dst_switch_day():
    ci = (ROOT / ".ci" / "run").read_text()
    steps = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert steps == ["make test", "make test-any-hour"]
    assert re.search(r"packages\+=\(faketime\)", ci)  # installed when missing, like chromium
    makefile = (ROOT / "Makefile").read_text()
    fake_now = re.search(r"^FAKE_NOW \?= (.+)$", makefile, re.M).group(1)
    assert "TZ=UTC" in makefile  # so faketime reads FAKE_NOW as UTC
    instant = datetime.fromisoformat(fake_now).replace(tzinfo=UTC).astimezone(ROME)
    assert instant.hour >= 21 or instant.hour < 8  # in the default quiet hours
    midnight = datetime.combine(instant.date(), time(0), ROME)
    next_midnight = datetime.combine(instant.date() + timedelta(days=1), time(0), ROME)
    assert midnight.utcoffset() != next_midnight.utcoffset()  # the clocks change that day
