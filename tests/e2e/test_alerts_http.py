"""Staff alerts over the running stack: the stream driver, real SNS calls to moto, SQS subscribers."""
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import valid_fields
from tests.e2e.conftest import stack_log_lines
from tests.e2e.test_intake_http import post_json

pytestmark = pytest.mark.e2e


def subscribe_queue(stack, filter_policy=None):
    sns, sqs = stack.client("sns"), stack.client("sqs")
    url = sqs.create_queue(QueueName=f"e2e-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
    sns.subscribe(TopicArn=stack.settings_env["NOTIFY_TOPIC_ARN"], Protocol="sqs", Endpoint=arn,
                  Attributes=attributes)
    return url


def collect(stack, queue_url, until, timeout=30.0):
    """Receive notifications until `until(messages)` holds or the time is up; then a little more."""
    sqs = stack.client("sqs")
    messages, deadline, settle = [], time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", []):
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if until(messages):
            settle = settle or time.monotonic() + 2  # wait a moment for any duplicate
            if time.monotonic() > settle:
                break
    return messages


def test_a_request_reaches_staff_once_with_routing_attributes(stack):
    queue = subscribe_queue(stack)
    status, _, body = post_json(stack, valid_fields(location="lakeview", message=f"e2e alert {uuid.uuid4()}"))
    assert status == 201
    reference = json.loads(body)["id"]
    messages = collect(stack, queue, lambda got: any(reference in m["Message"] for m in got))
    mine = [m for m in messages if reference in m["Message"]]
    assert len(mine) == 1
    attributes = mine[0]["MessageAttributes"]
    assert attributes["location"]["Value"] == "lakeview"
    assert attributes["event"]["Value"]
    assert mine[0]["Subject"].isascii() and len(mine[0]["Subject"]) < 100


def test_a_burst_of_requests_and_replays_is_alerted_exactly_once_each(stack):
    queue = subscribe_queue(stack, {"location": ["northside"]})
    burst = [valid_fields(location="northside", message=f"burst {n} {uuid.uuid4()}") for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda fields: post_json(stack, fields), burst + burst))
    assert {status for status, _, _ in answers} == {201}
    references = {json.loads(body)["id"] for _, _, body in answers}
    assert len(references) == 8
    messages = collect(stack, queue, lambda got: sum(any(r in m["Message"] for r in references) for m in got) >= 8)
    for reference in references:
        assert sum(reference in m["Message"] for m in messages) == 1, reference


def test_an_alert_posted_while_sns_is_down_arrives_once_it_is_back(stack):
    from tools.resources import create_topic

    def failures():
        return sum('"event": "alert_failed"' in line for line in stack_log_lines())

    sns = stack.client("sns")
    topic = stack.settings_env["NOTIFY_TOPIC_ARN"]
    before = failures()
    sns.delete_topic(TopicArn=topic)
    try:
        status, _, body = post_json(stack, valid_fields(message=f"outage {uuid.uuid4()}"))
        assert status == 201  # the request path does not depend on SNS
        reference = json.loads(body)["id"]
        # Bring SNS back just after the driver's 4th failed try: its next one is 2 s away, time
        # enough to subscribe before the alert goes out.
        deadline = time.monotonic() + 30
        while failures() < before + 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert failures() >= before + 4
    finally:
        create_topic(sns, topic)
    queue = subscribe_queue(stack)
    messages = collect(stack, queue, lambda got: any(reference in m["Message"] for m in got), timeout=60)
    assert sum(reference in m["Message"] for m in messages) == 1
