"""The webhook feed under moto: the real table, its stream, the alert consumer and the FIFO webhook queue.

A request made through the service, moved on by staff, answered by the patient and erased reaches the queue as
exactly one event per change, in order, for each endpoint that wants it; a replayed batch adds nothing a receiver
would keep; SQS failing holds up no staff alert and loses no event.
"""
import json
from datetime import timedelta

import boto3
import pytest

from chalicelib.core.clock import utcnow
from chalicelib.staff.auth import StaffMember
from chalicelib.staff.triage import StaffService
from chalicelib.storage.appointments import item_key
from chalicelib.storage.dynamo import serialize
from chalicelib.storage.staff_records import StaffRepository
from chalicelib.storage.webhook_queue import read_message
from chalicelib.storage.webhooks import Endpoint, SigningSecret, WebhookRepository
from chalicelib.webhooks.endpoints import EVENT_TYPES
from tests.conftest import STAGE_ENV, valid_fields
from tests.integration.test_patient_page import path_of, post_answer
from tests.integration.test_stream_alerts import drain, driver, inbox, received, stage_env, stream_records  # noqa: F401
from tests.unit.test_delivery import _record
from tools.resources import create_webhook_queues
from tools.stream_driver import lambda_record

TABLE = STAGE_ENV["APPOINTMENTS_TABLE"]
QUEUE_URL = STAGE_ENV["WEBHOOK_QUEUE_URL"]
SAM = StaffMember("Sam Staff", "staff", "tok-sam")
ANA = StaffMember("Ana Admin", "admin", "tok-ana")
NOTE = "Rang Wilhelmina back about her shoulder"


def add_endpoint(endpoint_id, events=EVENT_TYPES):
    created = "2026-01-01T00:00:00.000Z"
    WebhookRepository(boto3.client("dynamodb"), TABLE).add(Endpoint(
        id=endpoint_id, url=f"https://{endpoint_id}.example/hook", events=tuple(events), active=True,
        created_at=created, created_by="Ana Admin", updated_at=created, secrets=(SigningSecret("n" * 32, created),)))


def queued():
    """Every message on the webhook queue, in the order SQS gives them, taken off it."""
    sqs, found = boto3.client("sqs"), []
    while True:
        batch = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(read_message(message["Body"]))
            sqs.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])


def waiting():
    """How many messages wait on the webhook queue (none taken off: SQS's deduplication remembers what it has)."""
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=QUEUE_URL,
                                                          AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def to(endpoint_id, deliveries):
    return [(d.event_id, d.event_type) for d in deliveries if d.endpoint_id == endpoint_id]


def staff(settings):
    return StaffService(StaffRepository(boto3.client("dynamodb"), TABLE), settings)


def local_day(settings, days):
    return (utcnow().astimezone(settings.timezone) + timedelta(days=days)).date()


@pytest.fixture
def endpoints(api, stage_env):  # noqa: F811
    add_endpoint("ep_all")
    add_endpoint("ep_requests", events=("appointment.requested",))


def test_a_requests_life_is_one_event_per_change_in_order_and_nothing_personal(api, inbox, driver, endpoints,
                                                                              settings):
    fields = valid_fields(first_name="Wilhelmina", message="My shoulder clicks when I lift my arm")
    request_id = api.post_json(fields).json_body["id"]
    drain(driver)
    staff(settings).update_status(request_id, {"status": "contacted", "note": NOTE}, SAM)
    drain(driver)
    staff(settings).update_status(
        request_id, {"status": "scheduled", "visit_at": f"{local_day(settings, 2)}T10:00", "note": NOTE}, SAM)
    drain(driver)
    staff(settings).update_status(request_id, {"status": "scheduled", "visit_at": f"{local_day(settings, 3)}T11:30"},
                                  SAM)
    drain(driver)
    assert post_answer(api, path_of(request_id), "confirmed").status_code == 303
    drain(driver)
    staff(settings).erase(request_id, ANA)
    drain(driver)

    deliveries = queued()
    ids = [f"msg_{request_id}_{unit}" for unit in range(5)] + [f"msg_{request_id}_erased"]
    assert to("ep_all", deliveries) == list(zip(ids, [
        "appointment.requested", "appointment.status_changed", "visit.booked", "visit.changed", "visit.confirmed",
        "appointment.erased"]))
    assert to("ep_requests", deliveries) == [(ids[0], "appointment.requested")]
    assert len(received(inbox)) == 2  # staff heard of the request, and of the patient's answer, on SNS

    changed = json.loads(next(d.payload for d in deliveries if d.event_type == "visit.changed"))
    assert changed["data"]["visit_at"] == f"{local_day(settings, 3)}T11:30"
    assert changed["data"]["previous_status"] == "scheduled" and changed["data"]["by"] == "staff"
    text = " ".join(d.payload for d in deliveries)
    for value in (*(v for v in fields.values() if isinstance(v, str) and v != "downtown"), NOTE, "Wilhelmina",
                  "Sam Staff", "Ana Admin", "+12125550142"):
        assert value not in text, value


def test_a_replayed_batch_adds_nothing_for_the_receiver(api, inbox, driver, endpoints, settings):
    from app import send_staff_alerts

    request_id = api.post_json(valid_fields(message="replay me")).json_body["id"]
    drain(driver)
    staff(settings).update_status(request_id, {"status": "contacted"}, SAM)
    drain(driver)
    assert waiting() == 3

    stream_arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    event = {"Records": [lambda_record(r, stream_arn) for r in stream_records()]}
    assert send_staff_alerts(event, None) == {"batchItemFailures": []}
    assert waiting() == 3  # the marks: nothing new to queue

    # Even with the mark lost (queued, never marked), the same events are the same messages: SQS drops them.
    boto3.client("dynamodb").update_item(TableName=TABLE, Key=serialize(item_key(request_id)),
                                         UpdateExpression="REMOVE event_units")
    assert send_staff_alerts(event, None) == {"batchItemFailures": []}
    assert waiting() == 3
    assert sorted(d.event_id for d in queued()) == [f"msg_{request_id}_0", f"msg_{request_id}_0", f"msg_{request_id}_1"]
    assert len(received(inbox)) == 1  # one alert, not repeated


def test_while_sqs_is_down_the_alert_goes_out_and_the_events_follow_once_it_is_back(api, inbox, driver, endpoints):
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=QUEUE_URL)
    request_id = api.post_json(valid_fields(message="during an SQS outage")).json_body["id"]
    drain(driver, rounds=2)
    assert len(received(inbox)) == 1  # staff alerted at once
    assert driver.seconds_to_next_retry() is not None  # the record waits for its retry, for the feed

    create_webhook_queues(sqs, QUEUE_URL)
    drain(driver)
    assert sorted((d.endpoint_id, d.event_id) for d in queued()) == [("ep_all", f"msg_{request_id}_0"),
                                                                     ("ep_requests", f"msg_{request_id}_0")]
    assert received(inbox) == []  # the retried record alerted nobody twice
    assert driver.said == []


def test_spam_is_silent_until_released_and_its_erasure_too(api, inbox, driver, endpoints, settings):
    kept = api.post_json(valid_fields(message="buy now", website="http://spam.example")).json_body["id"]
    released = api.post_json(valid_fields(message="a person after all", website="autofill")).json_body["id"]
    drain(driver)
    staff(settings).update_status(kept, {"status": "suspected_spam"}, SAM)
    staff(settings).erase(kept, ANA)
    drain(driver)
    assert queued() == []

    staff(settings).update_status(released, {"status": "new", "note": "not spam"}, SAM)
    drain(driver)
    assert to("ep_all", queued()) == [(f"msg_{released}_1", "appointment.requested")]


def test_a_consumers_mark_costs_the_feed_one_get_item(api, endpoints, stage_env):  # noqa: F811
    from chalicelib import wiring

    request_id = api.post_json(valid_fields(message="count my calls")).json_body["id"]
    consumers = wiring.stream_consumers()
    insert = _record(serialize(item_key(request_id)), "INSERT")
    assert consumers.deliver([insert]) == []
    calls = []
    for service in wiring.AWS_SERVICES:
        wiring.aws_client(service).meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    assert consumers.deliver([_record(serialize(item_key(request_id)), "MODIFY")]) == []
    assert calls == ["GetItem"]


def test_post_appointments_makes_no_new_aws_call_with_endpoints_in_place(api, endpoints):
    from chalicelib import wiring

    assert api.post_json(valid_fields(message="warm the key up")).status_code == 201
    calls = []
    for service in wiring.AWS_SERVICES:
        wiring.aws_client(service).meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    for n in range(2):
        assert api.post_json(valid_fields(message=f"one write {n}")).status_code == 201
    assert calls == ["PutItem", "PutItem"]
