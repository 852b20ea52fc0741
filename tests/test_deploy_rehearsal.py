"""The offline deploy rehearsal: the real bundle, run as Lambda runs it, against moto's server.

``infra/package.py`` builds the bundle as ``make package`` does (for this machine's Python, so
the shipped bytecode is the one used), completed from the outputs of a data stack created in
moto's server from ``infra/cadenza.yaml``. The bundle is unzipped and imported in a fresh,
isolated process with only itself and the runtime's boto3 on the path
(``tests/lambda_runtime.py``), then called with API Gateway REST proxy events, for the
execute-api URL with its stage and for a custom domain mapped at the root, and with the
scheduled event Zappa creates. Every AWS action the bundle calls is recorded and compared with
the app's IAM policy.
"""

import json
import re
import subprocess
import sys
import urllib.request
import uuid
import zipfile
from base64 import b64decode
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes, policy
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.formdata import form_in
from tests.test_infra import TEMPLATE_PATH, _listed, allowed, load_template, resource_text

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
SENDER = "cadenza@mail.cadenza.example.org"
SECRET_PARAMETER = f"/cadenza/{STAGE}/secret-key"
DATA_STACK = f"cadenza-{STAGE}-data"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
EXECUTE_API_HOST = "abc123defg.execute-api.eu-west-1.amazonaws.com"
CUSTOM_DOMAIN = "cadenza.example.org"
# The two ways the app is reached: (Host header, the base URL configured for it, and the path
# prefix a browser sends that API Gateway takes off before the event).
LAYOUTS = {
    "execute-api": (EXECUTE_API_HOST, f"https://{EXECUTE_API_HOST}/{STAGE}", f"/{STAGE}"),
    "custom-domain": (CUSTOM_DOMAIN, f"https://{CUSTOM_DOMAIN}", ""),
}
SCHEDULE_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/cadenza-{STAGE}-app.nudges.run"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
ROME = ZoneInfo("Europe/Rome")

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _package_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("package", ROOT / "infra" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server():
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    yield f"http://{host}:{port}"
    # The server's state is this process's moto state, which later tests share: wipe it.
    urllib.request.urlopen(  # noqa: S310 (a local address)
        urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")
    ).close()
    moto.stop()


def _client(server: str, service: str):
    return boto3.session.Session().client(
        service,
        endpoint_url=server,
        region_name=REGION,
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",
    )


@pytest.fixture(scope="module")
def data_stack(server):
    """The stage's data stack in moto's server, the secret in SSM, the sender verified."""
    cloudformation = _client(server, "cloudformation")
    parameters = {
        "Stage": STAGE,
        "SenderAddress": SENDER,
        "BaseUrl": LAYOUTS["execute-api"][1],
        "Signup": "open",
    }
    declared = load_template()["Parameters"]
    cloudformation.create_stack(
        StackName=DATA_STACK,
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in parameters.items()
            if key in declared
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=DATA_STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {each["OutputKey"]: each["OutputValue"] for each in stack["Outputs"]}
    _client(server, "ssm").put_parameter(
        Name=SECRET_PARAMETER, Type="SecureString", Value="s" * 48, Overwrite=True
    )
    ses = _client(server, "ses")
    ses.verify_email_identity(EmailAddress=SENDER)
    environment = json.loads(outputs["ZappaEnvironment"])
    configuration_set = environment.get("CADENZA_SES_CONFIGURATION_SET")
    if configuration_set:  # moto's CloudFormation does not create SES configuration sets
        names = [c["Name"] for c in ses.list_configuration_sets()["ConfigurationSets"]]
        if configuration_set not in names:
            ses.create_configuration_set(ConfigurationSet={"Name": configuration_set})
    tables = {outputs[f"{name}Name"]: name for name in ("CalendarTable", "SystemTable")}
    return outputs, tables


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, data_stack):
    outputs, _ = data_stack
    work = tmp_path_factory.mktemp("bundle")
    (work / "outputs.json").write_text(json.dumps(outputs))
    zipped = work / "cadenza-dev.zip"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "infra" / "package.py"),
            STAGE,
            "--runtime",
            RUNTIME,
            "--output",
            str(zipped),
            "--stack-outputs",
            str(work / "outputs.json"),
        ],
        check=True,
        capture_output=True,
    )
    unzipped = work / "task"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(unzipped)
    return zipped, unzipped


@pytest.fixture(scope="module")
def runtime_sdk(tmp_path_factory):
    """The AWS SDK as the Lambda runtime has it: boto3 at the oldest version we accept."""
    target = tmp_path_factory.mktemp("runtime")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            _package_module().RUNTIME_BOTO3,
        ],
        check=True,
        capture_output=True,
    )
    return target


class Lambda:
    """One warm container of the function: the bundle imported once, events sent to it."""

    def __init__(self, task: Path, runtime_sdk: Path, server: str):
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(ROOT / "tests" / "lambda_runtime.py")]
            + [str(task), str(runtime_sdk)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**FAKE_CREDENTIALS, "CADENZA_AWS_ENDPOINT": server, "TZ": "UTC"},
        )
        self.ready_ms = self._answer()["ready_ms"]

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        assert line, "the function's process ended (its stderr is above)"
        return json.loads(line)

    def invoke(self, event: dict):
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        answer = self._answer()
        assert "error" not in answer, answer["error"]
        return answer["result"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Browser:
    """A person's browser on one layout: cookies kept, URLs turned into API Gateway events."""

    def __init__(self, function: Lambda, layout: str):
        self.function = function
        self.host, self.base_url, self.prefix = LAYOUTS[layout]
        self.cookies: dict[str, str] = {}
        self.last_url = f"{self.base_url}/"

    def event_path(self, url: str) -> tuple[str, str]:
        """The path API Gateway puts in the event for ``url`` (a link as the page has it)."""
        parts = urlsplit(url)
        if parts.netloc:
            assert parts.netloc == self.host, url
        path = parts.path
        assert path.startswith(self.prefix + "/"), f"{url} misses {self.prefix!r}"
        return path[len(self.prefix) :], parts.query

    def request(self, method: str, url: str, form: dict | None = None) -> dict:
        path, query = self.event_path(url)
        headers = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.9",
            "Accept-Language": "en",
            "User-Agent": "rehearsal",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.last_url
            body = urlencode(form)
        parameters = dict(parse_qsl(query)) or None
        event = {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": parameters,
            "multiValueQueryStringParameters": (
                {k: [v] for k, v in parameters.items()} if parameters else None
            ),
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": {
                "resourcePath": "/{proxy+}",
                "httpMethod": method,
                "path": f"/{STAGE}{path}" if self.prefix else path,
                "stage": STAGE,
                "requestId": str(uuid.uuid4()),
                "domainName": self.host,
                "apiId": "abc123defg",
                "identity": {"sourceIp": "203.0.113.9", "userAgent": "rehearsal"},
            },
            "body": body,
            "isBase64Encoded": False,
        }
        response = self.function.invoke(event)
        for name, values in (response.get("multiValueHeaders") or {}).items():
            if name.lower() == "set-cookie":
                for value in values:
                    for morsel in SimpleCookie(value).values():
                        self.cookies[morsel.key] = morsel.value
        if response.get("isBase64Encoded"):
            response["body"] = b64decode(response["body"]).decode()
        if method == "GET":
            self.last_url = f"https://{self.host}{self.prefix}{path}"
        return response

    def get(self, url: str) -> dict:
        return self.request("GET", url)

    def submit(self, page: str, fill: dict | None = None, **which) -> dict:
        """Send a form of ``page`` as a browser would, with some fields filled in."""
        form = form_in(page, **which)
        data = dict(form.data().items(multi=False))
        data.update(fill or {})
        return self.request(form.method.upper(), form.action or self.last_url, data)

    def follow(self, response: dict) -> dict:
        while response["statusCode"] in (301, 302, 303):
            response = self.get(header(response, "Location"))
        return response


def header(response: dict, name: str) -> str:
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return values[0]
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    raise KeyError(name)


def sent_mail(to: str) -> list:
    """The messages moto's SES (serving from this process) accepted for ``to``, oldest first."""
    from app.local.emulator import sent_raw_messages

    messages = [message_from_bytes(raw, policy=policy.default) for raw in sent_raw_messages()]
    return [message for message in messages if to in str(message["To"])]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


LINK = re.compile(r"https?://\S+")
HREF = re.compile(r'(?:href|action|hx-get|hx-post)="([^"]+)"')


def assert_local_links_on(page: str, prefix: str) -> None:
    """Every link in a page leads into the app where the browser is (stage and all)."""
    for link in HREF.findall(page):
        if link.startswith(("#", "mailto:", "http", "data:")):
            continue
        assert link.startswith(prefix + "/"), link
        if prefix:
            assert not link.startswith(prefix + prefix + "/"), link


@pytest.fixture(scope="module")
def lambdas(bundle, runtime_sdk, server):
    """One warm function per layout, each with its layout's base URL in its settings."""
    _, task = bundle
    settings = (task / "zappa_settings.py").read_text()
    started = {}
    for layout, (_host, base_url, _prefix) in LAYOUTS.items():
        copy = task.parent / f"task-{layout}"
        if not copy.exists():
            subprocess.run(["cp", "-r", str(task), str(copy)], check=True)
        (copy / "zappa_settings.py").write_text(
            re.sub(r"'CADENZA_BASE_URL': '[^']*'", f"'CADENZA_BASE_URL': '{base_url}'", settings)
        )
        # Its bytecode is unchecked (never compared with the source): drop it with the edit.
        for compiled in (copy / "__pycache__").glob("zappa_settings.*.pyc"):
            compiled.unlink()
        started[layout] = Lambda(copy, runtime_sdk, server)
    yield started
    for function in started.values():
        function.close()


# --- the bundle ------------------------------------------------------------------------------


def test_the_bundle_ships_the_app_and_its_runtime_dependencies_only(bundle):
    zipped, _ = bundle
    with zipfile.ZipFile(zipped) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"handler.py", "zappa_settings.py", "app", "templates", "flask", "pynamodb"} <= tops
    assert {"tzdata"} <= tops, "zoneinfo needs tzdata on Lambda images without a tz database"
    for absent in (
        "tests",
        "bench",
        "docs",
        "infra",
        "build",
        ".venv",
        "dist",
        "boto3",
        "botocore",
    ):
        assert absent not in tops, absent
    for deploy_tool in ("troposphere", "cfn_flip", "placebo", "yaml", "tqdm", "requests", "pip"):
        assert deploy_tool not in tops, deploy_tool
    assert "setuptools" not in tops and "zappa/cli.py" not in names
    assert not any(name.startswith("app/local/") for name in names), "the emulator ships"
    locales = {
        Path(n).stem for n in names if n.startswith("babel/locale-data/") and n.endswith(".dat")
    }
    assert locales == {"root", "en", "it"}
    assert zipped.stat().st_size < 15e6


def test_the_bundle_carries_the_working_tree_not_an_installed_or_built_copy(bundle):
    """A file edited after any install is what ships (Zappa used to lay site-packages over it)."""
    zipped, _ = bundle
    with zipfile.ZipFile(zipped) as archive:
        shipped = {
            n: archive.read(n) for n in archive.namelist() if n.startswith(("app/", "templates/"))
        }
    tree = [
        path
        for folder in ("app", "templates")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".pyc", ".mo", ".po", ".pot")
        and not path.relative_to(ROOT).as_posix().startswith("app/local/")
    ]
    for path in tree:
        name = path.relative_to(ROOT).as_posix()
        assert shipped.get(name) == path.read_bytes(), f"{name} differs from the working tree"


def test_the_bundle_carries_compiled_italian_and_fresh_unchecked_bytecode(bundle):
    zipped, task = bundle
    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        catalogue = archive.read("app/translations/it/LC_MESSAGES/messages.mo")
    assert b"Accedi" in catalogue or b"accedi" in catalogue
    sources = [n for n in names if n.endswith(".py")]
    tag = sys.implementation.cache_tag
    for source in sources:
        folder, _, file = source.rpartition("/")
        compiled = f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc".lstrip("/")
        assert compiled in names, f"{source} has no bytecode"
    pyc = (task / "app" / "__pycache__" / f"__init__.{tag}.pyc").read_bytes()
    flags = int.from_bytes(pyc[4:8], "little")
    assert flags == 0b01, "bytecode must be hash-based and unchecked (zip dates are 1980)"


def test_the_bundles_settings_hide_tracebacks_and_subscribe_the_mail_events(bundle, data_stack):
    _, task = bundle
    outputs, _ = data_stack
    settings = (task / "zappa_settings.py").read_text()
    assert "DEBUG=False" in settings
    if "MailEventsTopicArn" in outputs:
        assert outputs["MailEventsTopicArn"] in settings
        assert "app.bounces.handle" in settings


# --- the function, as Lambda runs it --------------------------------------------------------


def _next_week_noon() -> datetime:
    today = datetime.now(UTC).astimezone(ROME).date()
    return datetime.combine(today + timedelta(days=7), time(12), tzinfo=ROME)


@pytest.fixture(autouse=True)
def clock():
    """The function runs in its own process on the real clock: this test follows it."""
    yield


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_new_team_signs_in_plans_a_post_and_is_nudged_through_the_handler(
    layout, lambdas, server
):
    function = lambdas[layout]
    browser = Browser(function, layout)
    host, base_url, prefix = LAYOUTS[layout]
    address = f"ada.{layout}@example.org"

    health = browser.get(f"{prefix}/healthz")
    assert health["statusCode"] == 200, health["body"]

    page = browser.get(f"{prefix}/login")
    assert page["statusCode"] == 200
    assert_local_links_on(page["body"], prefix)
    answer = browser.submit(page["body"], {"email": address}, action=f"{prefix}/login")
    assert answer["statusCode"] == 200, answer["body"][:500]

    (mail,) = sent_mail(address)
    link = LINK.search(text_of(mail)).group(0)
    assert link.startswith(f"{base_url}/login/"), link
    confirm = browser.get(link)
    assert confirm["statusCode"] == 200, confirm["body"][:500]
    welcome = browser.follow(browser.submit(confirm["body"]))
    assert welcome["statusCode"] == 200
    assert_local_links_on(welcome["body"], prefix)
    calendar = browser.follow(
        browser.submit(
            welcome["body"],
            {"name": "Ada", "team_name": f"Rehearsal {layout}", "zone": "Europe/Rome"},
            id="welcome-form",
        )
    )
    assert calendar["statusCode"] == 200, calendar["body"][:500]
    assert_local_links_on(calendar["body"], prefix)

    new_post = re.search(r'href="([^"]+/posts/new[^"]*)"', calendar["body"]).group(1)
    editor = browser.get(new_post)
    assert editor["statusCode"] == 200
    due = _next_week_noon()
    saved = browser.follow(
        browser.submit(
            editor["body"],
            {
                "title": "Rehearsal post",
                "day": due.date().isoformat(),
                "at": "12:00",
                "status": "approved",
            },
            id="post-form",
        )
    )
    assert saved["statusCode"] == 200, saved["body"][:500]

    ran = function.invoke(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": datetime.now(UTC).isoformat(),
            "region": REGION,
            "resources": [SCHEDULE_RULE],
            "detail": {},
            "kwargs": {"now": (due - timedelta(minutes=59)).isoformat()},
        }
    )
    assert ran["sent"] >= 1, ran
    nudge = sent_mail(address)[-1]
    assert "Rehearsal post" in str(nudge["Subject"]) + text_of(nudge)
    links = LINK.findall(text_of(nudge))
    assert links and all(link.startswith(base_url + "/") for link in links), links
    opened = browser.follow(browser.get(links[0]))
    assert opened["statusCode"] == 200, opened["body"][:500]

    post_link = re.search(r'href="([^"]+/posts/(?!new)[^"/?#]+)"', saved["body"]).group(1)
    post = browser.get(post_link)
    assert post["statusCode"] == 200 and "Rehearsal post" in post["body"]
    signed_out = browser.follow(browser.submit(post["body"], action=f"{prefix}/logout"))
    assert signed_out["statusCode"] == 200
    assert browser.get(post_link)["statusCode"] in (302, 303)


def test_a_bounce_reaches_the_handler_through_the_mail_events_topic(lambdas, data_stack):
    """SES publishes to the topic, SNS invokes the function, Zappa picks the function by ARN."""
    outputs, _ = data_stack
    address = "ada.execute-api@example.org"  # signed in by the test above
    bounce = {
        "eventType": "Bounce",
        "mail": {"destination": [address], "messageId": "rehearsal"},
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "diagnosticCode": "smtp; 550"}],
            "timestamp": datetime.now(UTC).isoformat(),
        },
    }
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {
                    "Type": "Notification",
                    "TopicArn": outputs["MailEventsTopicArn"],
                    "Message": json.dumps(bounce),
                },
            }
        ]
    }
    assert lambdas["execute-api"].invoke(event)["marked"] == 1


def test_the_function_answers_a_real_scheduled_event_on_the_real_clock(lambdas):
    ran = lambdas["execute-api"].invoke(
        {
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "resources": [SCHEDULE_RULE],
            "detail": {},
        }
    )
    assert set(ran) >= {"sent", "failed"}


def test_an_uncaught_error_shows_no_traceback(lambdas):
    answer = lambdas["custom-domain"].invoke({"httpMethod": "GET", "headers": None, "path": None})
    assert answer["statusCode"] == 500
    assert "Traceback" not in answer["body"] and "File " not in answer["body"]


def test_the_app_policy_allows_exactly_what_the_bundle_called(lambdas, data_stack):
    """Runs last in this module: the recorded actions are those of every test above."""
    _, physical = data_stack
    called = set()
    for function in lambdas.values():
        called |= {tuple(pair) for pair in function.invoke({"rehearsal": "actions"})}
    assert called, "nothing recorded"

    def as_policy_resource(action: str, resource: str) -> tuple[str, str]:
        if action.startswith("dynamodb:"):
            table, _, index = resource.partition("/index/")
            arn = f"${{{physical[table]}.Arn}}"
            return action, f"{arn}/index/*" if index else arn
        return action, ""

    recorded = {as_policy_resource(action, resource) for action, resource in called}
    granted = set()
    for where, statement in allowed(load_template()):
        if where != "AppPolicy":
            continue
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]):
                text = resource_text(resource) if action.startswith("dynamodb:") else ""
                granted.add((action, text))
    assert recorded == granted
