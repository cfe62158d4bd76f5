"""Publishing staff alerts to SNS under moto: delivery to subscribers, filter policies, failures."""
import dataclasses
import json
import socket

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from chalicelib.core.errors import AlertNotSent
from chalicelib.notify.alerts import Alert, AlertPublisher, compose_alert
from chalicelib.storage.appointments import from_item, to_item
from chalicelib.storage.dynamo import deserialize, serialize
from tests.conftest import STAGE_ENV
from tests.alerting import EVERY_OPTIONAL_FIELD, REF, aws_subject_problems, stored_request

TOPIC_ARN = STAGE_ENV["NOTIFY_TOPIC_ARN"]


@pytest.fixture
def sns(mocked_aws):
    return boto3.client("sns", region_name="us-east-1")


@pytest.fixture
def sqs(mocked_aws):
    return boto3.client("sqs", region_name="us-east-1")


def subscribed_queue(sns, sqs, topic_arn, name, filter_policy=None):
    """An SQS queue subscribed to the topic with the SNS envelope (RawMessageDelivery off)."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "false"}
    if filter_policy:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def received(sqs, url):
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_an_alert_reaches_a_subscribed_queue_with_subject_and_attributes(sns, sqs, topic, settings):
    inbox = subscribed_queue(sns, sqs, topic, "staff-inbox")
    alert = compose_alert(stored_request(**EVERY_OPTIONAL_FIELD), settings)

    message_id = AlertPublisher(sns, topic).publish(alert)

    [envelope] = received(sqs, inbox)
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == alert.subject
    assert aws_subject_problems(envelope["Subject"]) == []
    assert envelope["Message"] == json.loads(alert.message)["default"]
    assert "Name: José García-Núñez" in envelope["Message"]
    assert envelope["MessageAttributes"] == {
        "location": {"Type": "String", "Value": "downtown"},
        "event": {"Type": "String", "Value": "appointment.requested"},
        "appointment_id": {"Type": "String", "Value": REF},
    }


def test_each_location_queue_gets_only_its_own_alerts(sns, sqs, topic, settings):
    downtown = subscribed_queue(sns, sqs, topic, "downtown-desk", {"location": ["downtown"]})
    northside = subscribed_queue(sns, sqs, topic, "northside-desk", {"location": ["northside"]})
    everything = subscribed_queue(sns, sqs, topic, "all-requests", {"event": ["appointment.requested"]})
    publisher = AlertPublisher(sns, topic)
    for index, location in enumerate(["downtown", "northside", "lakeview", "downtown"]):
        request = stored_request(id=f"{location}{index:02d}".ljust(24, "x"), location=location)
        publisher.publish(compose_alert(request, settings))

    assert [e["MessageAttributes"]["location"]["Value"] for e in received(sqs, downtown)] == ["downtown", "downtown"]
    assert [e["MessageAttributes"]["location"]["Value"] for e in received(sqs, northside)] == ["northside"]
    assert len(received(sqs, everything)) == 4


def test_a_stored_item_round_trips_into_a_published_alert(sns, sqs, topic, settings):
    inbox = subscribed_queue(sns, sqs, topic, "staff-inbox")
    stored = from_item(deserialize(serialize(to_item(stored_request(**EVERY_OPTIONAL_FIELD)))))

    AlertPublisher(sns, topic).publish(compose_alert(stored, dataclasses.replace(settings, notify_detail="minimal")))

    [envelope] = received(sqs, inbox)
    assert envelope["Subject"] == f"Appointment request - Downtown Clinic (ref {REF[:8]})"
    assert "José" not in envelope["Message"] and "+12125550142" not in envelope["Message"]


def test_publishing_to_a_deleted_topic_can_be_retried(sns, topic, settings):
    sns.delete_topic(TopicArn=topic)
    with pytest.raises(AlertNotSent) as raised:
        AlertPublisher(sns, topic).publish(compose_alert(stored_request(), settings))
    assert raised.value.retryable is True
    assert "NotFound" in raised.value.reason


def test_publishing_to_a_topic_never_created_can_be_retried(sns, settings):
    missing = TOPIC_ARN.replace("appointment-alerts-dev", "no-such-topic")
    with pytest.raises(AlertNotSent) as raised:
        AlertPublisher(sns, missing).publish(compose_alert(stored_request(), settings))
    assert raised.value.retryable is True


@pytest.mark.parametrize("alert", [
    Alert(subject="A" * 101, message=json.dumps({"default": "x"}), attributes={}),
    Alert(subject="Too long", message=json.dumps({"default": "x" * 262_145}), attributes={}),
], ids=["subject", "message"])
def test_a_message_sns_refuses_is_not_retried(sns, topic, alert):
    with pytest.raises(AlertNotSent) as raised:
        AlertPublisher(sns, topic).publish(alert)
    assert raised.value.retryable is False


def test_publish_sends_exactly_the_composed_alert(aws_credentials, settings):
    sns = boto3.client("sns", region_name="us-east-1")
    alert = compose_alert(stored_request(), settings)
    with Stubber(sns) as stubber:
        stubber.add_response("publish", {"MessageId": "m-1"}, expected_params={
            "TopicArn": TOPIC_ARN,
            "Subject": alert.subject,
            "Message": alert.message,
            "MessageStructure": "json",
            "MessageAttributes": alert.attributes,
        })
        assert AlertPublisher(sns, TOPIC_ARN).publish(alert) == "m-1"


@pytest.mark.parametrize("code, status, message, retryable", [
    ("Throttled", 400, "Rate exceeded", True),
    ("Throttling", 400, "Rate exceeded", True),
    ("InternalError", 500, "Internal error", True),
    ("ServiceUnavailable", 503, "Service unavailable", True),
    ("KMSThrottling", 400, "KMS throttled", True),
    ("AuthorizationError", 403, "Not authorized to publish", True),
    ("NotFound", 404, "Topic does not exist", True),
    ("InvalidParameter", 400, "Invalid parameter: TopicArn", True),
    ("InvalidParameter", 400, "Invalid parameter: Subject", False),
    ("InvalidParameter", 400, "Invalid parameter: Message too long", False),
    ("ParameterValueInvalid", 400, "Invalid parameter: MessageAttributes", False),
])
def test_sns_errors_say_whether_a_retry_can_help(aws_credentials, settings, code, status, message, retryable):
    sns = boto3.client("sns", region_name="us-east-1")
    with Stubber(sns) as stubber:
        stubber.add_client_error("publish", service_error_code=code, service_message=message, http_status_code=status)
        with pytest.raises(AlertNotSent) as raised:
            AlertPublisher(sns, TOPIC_ARN).publish(compose_alert(stored_request(), settings))
    assert raised.value.retryable is retryable
    assert code in raised.value.reason
    assert message not in raised.value.reason


def test_sns_out_of_reach_can_be_retried(aws_credentials, settings):
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sns = boto3.client(
        "sns", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(AlertNotSent) as raised:
        AlertPublisher(sns, TOPIC_ARN).publish(compose_alert(stored_request(), settings))
    assert raised.value.retryable is True


def test_an_alert_that_is_not_a_valid_request_is_not_retried(aws_credentials):
    sns = boto3.client("sns", region_name="us-east-1")
    with pytest.raises(AlertNotSent) as raised:
        AlertPublisher(sns, TOPIC_ARN).publish(Alert(subject=None, message="{}", attributes={}))
    assert raised.value.retryable is False
