"""Fixtures shared by every layer: settings, moto (credentials first), the Chalice test client.

Every personal value a test posts goes through `post_json`/`post_form` helpers or is
registered with `remember_personal`, so the last test can prove none reached a log line.
"""
import json
import logging
from datetime import datetime, timezone

import pytest

from chalicelib.core import logs
from chalicelib.core.config import Settings
from tools.resources import (
    ROOT, create_dedupe_key_secret, create_mail_configuration_set, create_sign_in_queue, create_webhook_queues, create_mail_identity, create_table, create_topic,
    stage_environment,
)

STAGE_ENV = stage_environment("dev")
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "message", "insurance")
_captured_log_lines = []
_personal_values = set()


class _Capture(logging.Handler):
    def emit(self, record):
        _captured_log_lines.append(self.format(record))


def pytest_configure(config):
    handler = _Capture()
    handler.setFormatter(logs.JsonFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger("chalicelib").addHandler(handler)


def pytest_collection_modifyitems(items):
    """The log audit runs last, after every other test has logged what it logs."""
    audits = ("test_no_personal_value_in_any_log_line", "test_no_ip_address_in_any_log_line")
    last = [item for item in items if item.name in audits]
    items[:] = [item for item in items if item not in last] + last


def captured_log_lines():
    return list(_captured_log_lines)


def personal_values():
    return set(_personal_values)


def remember_personal(fields):
    for name in PERSONAL_FIELDS:
        value = fields.get(name) if isinstance(fields, dict) else None
        if isinstance(value, str) and len(value.strip()) >= 4:
            _personal_values.add(value.strip())


def valid_fields(**overrides):
    fields = {
        "first_name": "Zoë",
        "last_name": "Okonkwo-Lindqvist",
        "email": "zoe.okonkwo@example.com",
        "phone": "(212) 555-0142",
        "location": "downtown",
        "contact_consent": True,
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not ...}


@pytest.fixture
def settings():
    return Settings.from_env(STAGE_ENV)


@pytest.fixture
def fixed_now():
    return datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def aws_credentials(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        # botocore would send DynamoDB Streams calls to an account-specific host moto does not know.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def mocked_aws(aws_credentials):
    from moto import mock_aws

    from chalicelib import wiring

    with mock_aws():
        wiring.reset()
        yield
        wiring.reset()


@pytest.fixture
def dynamodb(mocked_aws):
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def table(dynamodb):
    create_table(dynamodb, STAGE_ENV["APPOINTMENTS_TABLE"])
    return STAGE_ENV["APPOINTMENTS_TABLE"]


@pytest.fixture
def topic(mocked_aws):
    """The alert topic, and SES ready to send (the stream handler sends alerts and confirmations)."""
    import boto3

    sesv2 = boto3.client("sesv2", region_name="us-east-1")
    create_mail_identity(sesv2, STAGE_ENV["MAIL_FROM"])
    create_mail_configuration_set(sesv2, STAGE_ENV["MAIL_CONFIGURATION_SET"])
    return create_topic(boto3.client("sns", region_name="us-east-1"), STAGE_ENV["NOTIFY_TOPIC_ARN"])


@pytest.fixture
def dedupe_key_secret(mocked_aws):
    import boto3

    return create_dedupe_key_secret(boto3.client("secretsmanager", region_name="us-east-1"),
                                    STAGE_ENV["DEDUPE_KEY_SECRET"])


# A fixed key for services built by hand in tests (the deployed one comes from Secrets Manager).
TEST_ID_KEY = b"test-only-key-for-request-ids-0123456789"


def id_key():
    return TEST_ID_KEY


@pytest.fixture
def sign_in_queue(mocked_aws):
    import boto3

    return create_sign_in_queue(boto3.client("sqs", region_name="us-east-1"), STAGE_ENV["SIGN_IN_QUEUE_URL"])


@pytest.fixture
def webhook_queue(mocked_aws):
    """The FIFO queue of webhook deliveries (and its dead-letter queue), as the template makes them; its URL."""
    import boto3

    return create_webhook_queues(boto3.client("sqs", region_name="us-east-1"), STAGE_ENV["WEBHOOK_QUEUE_URL"])


@pytest.fixture
def api(table, topic, dedupe_key_secret, sign_in_queue, webhook_queue, monkeypatch):
    """Chalice's own test client, with the dev stage's settings, against moto."""
    from chalice.test import Client

    from app import app
    from chalicelib import wiring

    with Client(app, stage_name="dev", project_dir=str(ROOT)) as client:
        wiring.reset()
        yield Api(client)
    wiring.reset()


class Api:
    def __init__(self, client):
        self.client = client

    def post_json(self, fields, headers=None):
        remember_personal(fields)
        body = fields if isinstance(fields, (str, bytes)) else json.dumps(fields)
        return self.client.http.post(
            "/appointments", headers={"Content-Type": "application/json", **(headers or {})}, body=body
        )

    def post_form(self, body, headers=None):
        from urllib.parse import parse_qsl, urlencode

        if isinstance(body, dict):
            remember_personal(body)
            body = urlencode(body)
        else:
            remember_personal(dict(parse_qsl(body)))
        return self.client.http.post(
            "/appointments",
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
            body=body,
        )

    def request(self, method, path, headers=None, body=b""):
        return self.client.http.request(method, path, headers=headers or {}, body=body)


def response_json(response):
    return json.loads(response.body)


def deliver_sign_in_codes():
    """Run the sign-in code queue's consumer on what is queued in moto, as Lambda's SQS event source does."""
    import boto3

    from app import send_sign_in_codes
    from tools.stream_driver import QueueDriver

    driver = QueueDriver(send_sign_in_codes, boto3.client("sqs", region_name="us-east-1"),
                         STAGE_ENV["SIGN_IN_QUEUE_URL"])
    while driver.poll_once():
        pass
