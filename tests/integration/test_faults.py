"""The faults tools/faults.py injects reach the handlers as the real services' own errors."""
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from tools.faults import FaultPlan

CALLS = {
    ("dynamodb", "get_item"): {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}}},
    ("sns", "publish"): {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m"},
    ("sesv2", "send_email"): {"FromEmailAddress": "a@clinic.example", "Destination": {"ToAddresses": ["b@x.example"]},
                              "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}}},
    ("secretsmanager", "get_secret_value"): {"SecretId": "appointments-dedupe-key"},
    ("sqs", "send_message_batch"): {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/w.fifo",
                                    "Entries": [{"Id": "1", "MessageBody": "m", "MessageGroupId": "g",
                                                 "MessageDeduplicationId": "d"}]},
}
THROTTLED = {"dynamodb": ("ThrottlingException", 400), "sns": ("Throttling", 400),
             "sesv2": ("TooManyRequestsException", 429), "secretsmanager": ("ThrottlingException", 400),
             "sqs": ("RequestThrottled", 400)}
SERVER_ERROR = {"dynamodb": "InternalServerError", "sns": "InternalFailure", "sesv2": "InternalFailure",
                "secretsmanager": "InternalServiceError", "sqs": "InternalError"}


def faulty_client(monkeypatch, service, kind):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = botocore.session.get_session().create_client(
        service, region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    return FaultPlan("test", rate=1.0, limit=10, kinds=(kind,)).attach(client)


@pytest.mark.parametrize("kind", ["throttled", "server_error"])
@pytest.mark.parametrize("service, operation", CALLS)
def test_throttling_and_a_server_error_are_the_service_s_own_errors(monkeypatch, service, operation, kind):
    client = faulty_client(monkeypatch, service, kind)
    with pytest.raises(ClientError) as error:
        getattr(client, operation)(**CALLS[service, operation])
    expected = THROTTLED[service] if kind == "throttled" else (SERVER_ERROR[service], 500)
    assert (error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == expected


@pytest.mark.parametrize("service, operation", CALLS)
def test_a_reset_is_a_closed_connection(monkeypatch, service, operation):
    client = faulty_client(monkeypatch, service, "reset")
    with pytest.raises(ConnectionClosedError):
        getattr(client, operation)(**CALLS[service, operation])


def test_an_outage_fails_the_first_calls_of_its_operation_and_then_lets_them_through():
    plan = FaultPlan("test", rate=0.0, outages={"SendEmail": 2})
    assert [plan.choose("SendEmail") for _ in range(3)] == ["server_error", "server_error", None]
    assert plan.choose("Publish") is None


def test_rates_per_kind_are_kept_over_many_calls_with_no_limit():
    rates = {"reset": 0.15, "server_error": 0.1, "lost": 0.1, "throttled": 0.25}
    plan = FaultPlan("test", seed=3, rates=rates, limit=None)
    kinds = [plan.choose("UpdateItem") for _ in range(20_000)]
    for kind, share in rates.items():
        assert abs(kinds.count(kind) / len(kinds) - share) < 0.015, kind
    assert abs(kinds.count(None) / len(kinds) - 0.4) < 0.015


def test_rates_that_add_up_past_one_are_refused():
    with pytest.raises(ValueError):
        FaultPlan("test", rates={"reset": 0.6, "lost": 0.5})
