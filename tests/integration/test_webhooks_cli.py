"""`python -m tools.webhooks` (what `make webhook-add`, `webhook-list` and `webhook-disable` run), under moto: the
local stack's way (the stage's settings, plain http:// on loopback allowed) and the deployed way (--aws: the
digest function's settings)."""
import io
import subprocess

import boto3
import pytest

from chalicelib.core.config import Settings
from chalicelib.core.keys import purpose_key
from chalicelib.storage.webhooks import WebhookRepository
from chalicelib.webhooks.endpoints import EVENT_TYPES, WebhookAdmin
from tests.conftest import STAGE_ENV
from tools import webhooks
from tools.resources import ROOT

HOOK = "https://pms.clinic.example/hooks/appointments"


@pytest.fixture
def stack(table, dedupe_key_secret):
    """The local stack's table and deployment key, in moto."""
    return table


def client_for(service):
    return boto3.client(service, region_name="us-east-1")


def run(*argv, clients=client_for):
    out = io.StringIO()
    webhooks.main(["--stage", "dev", *argv], client_for=clients, out=out)
    return out.getvalue().splitlines()


def deriving_admin(dynamodb, table, settings=None):
    """The service as the deployed functions build it: the key from the stage's secret, as wiring derives it."""
    secret = client_for("secretsmanager").get_secret_value(SecretId=STAGE_ENV["DEDUPE_KEY_SECRET"])["SecretString"]
    return WebhookAdmin(WebhookRepository(dynamodb, table), settings or Settings.from_env(STAGE_ENV),
                        lambda: purpose_key(secret.encode(), "webhook secrets"))


def test_add_prints_the_secret_once_on_its_last_line_and_it_is_the_one_that_signs(stack, dynamodb):
    """Catches a secret derived from any key but the deployment's (deliveries would not verify)."""
    said = run("add", "--url", HOOK, "--events", " visit.booked , visit.cancelled")

    endpoint_id = said[0].split()[2].rstrip(":")
    endpoint = WebhookRepository(dynamodb, stack).get(endpoint_id)
    assert said[0] == (f"Webhook endpoint {endpoint_id}: {HOOK}, visit.booked, visit.cancelled "
                       f"(table {stack}).")
    assert "shown only now" in said[1]
    assert said[-1].startswith("whsec_") and len(said) == 3
    assert deriving_admin(dynamodb, stack).signing_secrets(endpoint) == [said[-1]]
    assert (endpoint.events, endpoint.active, endpoint.created_by) == (
        ("visit.booked", "visit.cancelled"), True, "make webhook-*")


@pytest.mark.parametrize("events", [None, "all", ""])
def test_without_events_an_endpoint_gets_every_event(stack, dynamodb, events):
    said = run("add", "--url", HOOK, *(() if events is None else ("--events", events)))
    assert f"{HOOK}, every event" in said[0]
    [endpoint] = WebhookRepository(dynamodb, stack).all()
    assert endpoint.events == EVENT_TYPES


def test_list_shows_each_endpoint_and_disable_stops_one(stack, dynamodb):
    first = run("add", "--url", HOOK, "--events", "visit.booked")[0].split()[2].rstrip(":")
    second = run("add", "--url", "https://automation.example/catch/123")[0].split()[2].rstrip(":")

    said = run("disable", first)

    assert said == [f"Disabled {first} ({HOOK}): nothing more is sent to it. Enable it again on the inbox's "
                    "Webhooks page."]
    endpoint = WebhookRepository(dynamodb, stack).get(first)
    assert (endpoint.active, endpoint.disabled_reason) == (False, "admin")
    listing = run("list")
    assert listing[0].split() == ["ID", "URL", "EVENTS", "ACTIVE", "ADDED", "BY"]
    rows = {line.split()[0]: line.split()[1:4] for line in listing[1:]}
    assert rows == {first: [HOOK, "visit.booked", "no"], second: ["https://automation.example/catch/123", "all", "yes"]}


def test_an_endpoint_its_receiver_gave_up_on_is_listed_as_410_gone(stack, dynamodb):
    endpoint_id = run("add", "--url", HOOK)[0].split()[2].rstrip(":")
    deriving_admin(dynamodb, stack).disable(endpoint_id, "delivery", reason="gone")
    assert "no (410 Gone)" in run("list")[1]


def test_an_empty_list_says_how_to_add_one(stack):
    assert "make webhook-add" in run("list")[-1]


def test_the_local_stack_takes_a_receiver_on_loopback_over_plain_http(stack, dynamodb):
    """tools.resources.local_environment sets WEBHOOK_LOOPBACK: `make webhook-add URL=http://127.0.0.1:9009/hook`."""
    assert run("add", "--url", "http://127.0.0.1:9009/hook")[-1].startswith("whsec_")


class DeployedFunctions:
    """Lambda's GetFunctionConfiguration, as the deployed digest function answers it: the dev stage's settings."""

    def __init__(self):
        self.asked = []

    def get_function_configuration(self, FunctionName):
        self.asked.append(FunctionName)
        return {"Environment": {"Variables": dict(STAGE_ENV)}}


def test_with_aws_the_deployed_settings_are_used_and_plain_http_is_refused(stack, dynamodb):
    functions = DeployedFunctions()

    def deployed(service):
        return functions if service == "lambda" else client_for(service)

    with pytest.raises(SystemExit) as stop:
        run("--aws", "add", "--url", "http://127.0.0.1:9009/hook", clients=deployed)
    assert str(stop.value).startswith("url: Use https://")
    assert functions.asked == ["appointments-dev-digest"]
    said = run("--aws", "--stack", "clinic-prod", "add", "--url", HOOK, clients=deployed)
    assert functions.asked[-1] == "clinic-prod-digest"
    [endpoint] = WebhookRepository(dynamodb, stack).all()
    assert deriving_admin(dynamodb, stack).signing_secrets(endpoint) == [said[-1]]


@pytest.mark.parametrize("argv, problem", [
    (["add", "--url", "ftp://pms.clinic.example/x"], "url: Enter a whole URL, starting with https://."),
    (["add", "--url", HOOK, "--events", "visit.booked,patient.details"], "events: Unknown event 'patient.details'"),
    (["add", "--url", "https://user:pw@pms.clinic.example/x"], "url: Put no user name or password in the URL"),
    (["disable", "ep_0000000000000000"], "There is no webhook endpoint 'ep_0000000000000000'"),
])
def test_mistakes_are_one_clear_line_and_add_nothing(stack, dynamodb, argv, problem):
    with pytest.raises(SystemExit) as stop:
        run(*argv)
    assert str(stop.value).startswith(problem)
    assert WebhookRepository(dynamodb, stack).all() == []


def test_without_the_deployment_s_key_add_says_so_and_adds_nothing(table, dynamodb):
    """No secret in the stack's Secrets Manager: one line naming the setting, and no endpoint without its secret."""
    with pytest.raises(SystemExit) as stop:
        run("add", "--url", HOOK)
    assert "DEDUPE_KEY_SECRET" in str(stop.value)
    assert WebhookRepository(dynamodb, table).all() == []


def test_without_the_local_stack_it_says_so_in_one_line(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(SystemExit) as stop:
        webhooks.main(["--stage", "dev", "--aws-port", "9", "list"])  # nothing listens on port 9
    assert "is `make run` running?" in str(stop.value)


def test_make_webhook_add_passes_events_only_when_given_and_says_what_it_needs():
    def dry_run(*extra):
        return subprocess.run(["make", "-s", "-n", "webhook-add", f"URL={HOOK}", *extra], cwd=ROOT,
                              capture_output=True, text=True).stdout

    assert f"add --url '{HOOK}' --events 'visit.booked,visit.cancelled'" in dry_run(
        "EVENTS=visit.booked,visit.cancelled")
    assert "--events" not in dry_run()
    assert "--aws --stack 'appointments-prod'" in dry_run("AWS=1", "STAGE=prod")
    result = subprocess.run(["make", "-s", "webhook-add"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "make webhook-add needs URL=https://..." in result.stderr
