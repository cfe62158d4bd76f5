"""app.deliver_webhooks end to end under moto: the FIFO queue and its redrive, the table, a receiver on 127.0.0.1,
driven as the local stack drives it (tools/stream_driver.WebhookQueueDriver)."""
import json

import boto3
import pytest
from standardwebhooks.webhooks import Webhook

from chalicelib.storage.webhook_queue import Delivery
from tests.conftest import STAGE_ENV
from tests.webhook_receiver import Receiver
from tools.resources import webhook_dead_letter_url
from tools.stream_driver import WebhookQueueDriver, sqs_event


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def stage(table, webhook_queue, dedupe_key_secret, monkeypatch):
    """The dev stage's settings as the local stack has them (receivers on 127.0.0.1), with no waits between
    attempts: a test cannot sit out the real schedule."""
    from chalicelib import wiring

    for name, value in {**STAGE_ENV, "WEBHOOK_LOOPBACK": "on", "WEBHOOK_RETRY_SECONDS": "0,0,0,0,0,0,0"}.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    return wiring


@pytest.fixture
def receiver():
    statuses = {}  # webhook-id -> the statuses it answers, in turn (the last one again after that)

    def answer(got):
        queue = statuses.get(got.headers["webhook-id"], [204])
        return (queue.pop(0) if len(queue) > 1 else queue[0]), {}, b""

    with Receiver(answer) as running:
        running.statuses = statuses
        yield running


@pytest.fixture
def driver(stage, webhook_queue):
    from app import deliver_webhooks

    said, clock = [], Clock()
    running = WebhookQueueDriver(deliver_webhooks, boto3.client("sqs"), webhook_queue,
                                 webhook_dead_letter_url(webhook_queue), clock=clock,
                                 say=lambda text, **_: said.append(text))
    running.said, running.clock = said, clock
    return running


def poll(driver, rounds=1):
    for _ in range(rounds):
        driver.clock.now += 10
        driver.poll_once()


def queued(url):
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def add_endpoint(stage, url, events=("appointment.requested", "appointment.status_changed")):
    return stage.webhook_admin().add(url, list(events), "admin@example.com")


def put(stage, endpoint, request_id="req-1", unit=0, event_type="appointment.requested"):
    payload = json.dumps({"type": event_type, "timestamp": "2026-11-25T15:00:00.000Z",
                          "data": {"id": request_id, "status": "new"}}, separators=(",", ":"))
    delivery = Delivery(endpoint.id, f"msg_{request_id}_{unit}", event_type, request_id, payload)
    stage.webhook_queue().put([delivery])
    return delivery


def test_a_queued_event_reaches_its_receiver_signed_once_and_leaves_the_queue(stage, receiver, driver, webhook_queue):
    endpoint, secret = add_endpoint(stage, receiver.url)
    delivery = put(stage, endpoint)
    poll(driver, 3)
    [got] = receiver.received
    assert Webhook(secret).verify(got.body, got.headers) == json.loads(delivery.payload)
    assert got.headers["webhook-id"] == "msg_req-1_0" and got.headers["content-type"] == "application/json"
    assert queued(webhook_queue) == 0
    [attempt] = stage.webhook_admin().deliveries(endpoint.id)
    assert (attempt.event_id, attempt.attempt, attempt.outcome, attempt.status) == ("msg_req-1_0", 1, "delivered", 204)


def test_a_failing_receiver_gets_every_attempt_then_the_dead_letter_queue_and_one_alarm(
        stage, receiver, driver, webhook_queue):
    endpoint, _ = add_endpoint(stage, receiver.url)
    put(stage, endpoint)
    receiver.statuses["msg_req-1_0"] = [503]
    # After the last attempt the message waits out the queue's visibility timeout (6 minutes) before the redrive
    # takes it: the test does not.
    boto3.client("sqs").set_queue_attributes(QueueUrl=webhook_queue, Attributes={"VisibilityTimeout": "0"})
    poll(driver, 12)
    assert len(receiver.received) == 8
    attempts = stage.webhook_admin().deliveries(endpoint.id)
    assert sorted(a.attempt for a in attempts) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert {(a.outcome, a.status) for a in attempts} == {("failed", 503)}
    assert queued(webhook_queue) == 0 and queued(webhook_dead_letter_url(webhook_queue)) == 1
    assert [line for line in driver.said if line.startswith("ALARM")] == [
        "ALARM: a webhook delivery failed every attempt and went to the dead-letter queue (1 there now). "
        "Fix the receiver, then re-drive it."]


def test_a_requests_events_arrive_in_order_across_a_retry(stage, receiver, driver):
    endpoint, _ = add_endpoint(stage, receiver.url)
    put(stage, endpoint, unit=0)
    put(stage, endpoint, unit=1, event_type="appointment.status_changed")
    receiver.statuses["msg_req-1_0"] = [500, 204]
    poll(driver, 4)
    assert [got.headers["webhook-id"] for got in receiver.received] == ["msg_req-1_0", "msg_req-1_0", "msg_req-1_1"]


def test_only_what_was_delivered_is_deleted(stage, receiver, driver, webhook_queue, monkeypatch):
    monkeypatch.setenv("WEBHOOK_RETRY_SECONDS", "300,300,300,300,300,300,300")
    stage.reset()
    endpoint, _ = add_endpoint(stage, receiver.url)
    put(stage, endpoint, request_id="req-1")
    put(stage, endpoint, request_id="req-2")
    receiver.statuses["msg_req-2_0"] = [500]
    assert driver.poll_once() == 1
    poll(driver, 2)
    assert [got.headers["webhook-id"] for got in receiver.received] == ["msg_req-1_0", "msg_req-2_0"]
    assert queued(webhook_queue) == 1  # req-2's event, back in 5 minutes


def test_410_disables_the_endpoint_and_its_later_events_are_dropped(stage, receiver, driver, webhook_queue):
    endpoint, _ = add_endpoint(stage, receiver.url)
    put(stage, endpoint, request_id="req-1")
    receiver.statuses["msg_req-1_0"] = [410]
    poll(driver, 2)
    put(stage, endpoint, request_id="req-2")
    poll(driver, 2)
    assert [got.headers["webhook-id"] for got in receiver.received] == ["msg_req-1_0"]
    gone = stage.webhook_admin().get(endpoint.id)
    assert (gone.active, gone.disabled_reason) == (False, "gone")
    assert queued(webhook_queue) == 0


def test_a_handler_that_fails_leaves_the_whole_batch_on_the_queue(stage, receiver, webhook_queue):
    endpoint, _ = add_endpoint(stage, receiver.url)
    put(stage, endpoint, request_id="req-1")
    put(stage, endpoint, request_id="req-2")
    said = []

    def broken(event, context):
        raise RuntimeError("down")

    driver = WebhookQueueDriver(broken, boto3.client("sqs"), webhook_queue, webhook_dead_letter_url(webhook_queue),
                                say=lambda text, **_: said.append(text))
    assert driver.poll_once() == 0
    assert queued(webhook_queue) == 2 and said == ["appointments-local-webhooks: RuntimeError; the batch comes back"]


def test_the_dead_letter_alarm_sounds_once_per_new_message(stage, driver, webhook_queue):
    sqs, dead_letters = boto3.client("sqs"), webhook_dead_letter_url(webhook_queue)

    def dead_letter(number):
        sqs.send_message(QueueUrl=dead_letters, MessageBody="{}", MessageGroupId="g",
                         MessageDeduplicationId=str(number))

    dead_letter(1)
    poll(driver)
    driver.clock.now += 1  # looked at again only after DEAD_LETTER_CHECK_SECONDS
    dead_letter(2)
    driver.poll_once()
    assert len(driver.said) == 1
    poll(driver)
    dead_letter(3)
    dead_letter(4)
    poll(driver, 2)
    assert [line.split("(")[1].split(")")[0] for line in driver.said] == [
        "1 there now", "2 there now", "3 there now", "4 there now"]


def test_the_handler_gets_lambdas_sqs_event_with_the_receive_count_and_group(stage, webhook_queue):
    endpoint, _ = add_endpoint(stage, "http://127.0.0.1:9/hooks")
    put(stage, endpoint)
    events = []
    driver = WebhookQueueDriver(lambda event, context: events.append(event) or {"batchItemFailures": []},
                                boto3.client("sqs"), webhook_queue, webhook_dead_letter_url(webhook_queue))
    driver.poll_once()
    [record] = events[0]["Records"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["MessageGroupId"]
    assert record["eventSourceARN"].endswith(":appointments-webhooks-dev.fifo")
    assert set(record) == set(sqs_event([{"MessageId": "m", "ReceiptHandle": "r", "Body": "b"}],
                                        "arn:aws:sqs:us-east-1:1:q")["Records"][0])
