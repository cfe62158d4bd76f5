"""The alert consumer telling staff of a patient's answer (notify.delivery.AlertDelivery, ANSWER# items)."""
import json

import pytest

from chalicelib.core.errors import StorageUnavailable
from chalicelib.notify.delivery import AlertDelivery
from chalicelib.storage.dynamo import serialize
from tests.alerting import RECEIVED, REF, aws_subject_problems, stored_request
from tests.fakes import FakePublisher
from tests.unit.test_delivery import _record

SK = "ANSWER#2026-12-06T15:00:00.000Z"


class Requests:
    def __init__(self, request):
        self.request = request

    def get(self, request_id):
        return self.request


class Outbox:
    def __init__(self, event="visit.cancelled"):
        self.items = {(REF, SK): {"entity": "patient_answer", "id": REF, "event": event, "at": SK[7:]}}
        self.failing_marks = 0

    def answer_outbox(self, request_id, sk):
        return self.items.get((request_id, sk))

    def mark_answer_sent(self, request_id, sk, outcome, now_iso):
        if self.failing_marks:
            self.failing_marks -= 1
            raise StorageUnavailable()
        item = self.items.get((request_id, sk))
        if item is None or item.get("sent_at"):
            return False
        item.update(sent_at=now_iso, outcome=outcome)
        return True


def delivery(settings, request=None, outbox=None, publisher=None):
    request = request if request is not None else stored_request(message="My knee hurts").model_copy(update={"status": "cancelled"})
    return AlertDelivery(Requests(request), publisher or FakePublisher(), settings, answers=outbox or Outbox(),
                         now=lambda: RECEIVED, sleep=lambda seconds: None)


def answer_record(event_name="INSERT"):
    return _record(serialize({"pk": f"APPT#{REF}", "sk": SK}), event_name)


@pytest.mark.parametrize("event, subject", [
    ("visit.confirmed", "Visit confirmed by the patient"), ("visit.cancelled", "Visit cancelled by the patient"),
    ("visit.change_requested", "Another time asked for by the patient"),
    ("request.withdrawn", "Request withdrawn by the patient")])
def test_each_answer_is_one_message_with_its_event_and_no_personal_data(settings, event, subject):
    publisher, outbox = FakePublisher(), Outbox(event)
    consumer = delivery(settings, outbox=outbox, publisher=publisher)
    assert consumer.deliver([answer_record()]) == []
    assert consumer.deliver([answer_record()]) == []  # retried: marked, nothing twice
    (alert,) = publisher.sent
    assert alert.subject == f"{subject} - ref {REF[:8]}" and aws_subject_problems(alert.subject) == []
    assert {name: value["StringValue"] for name, value in alert.attributes.items()} == {
        "event": event, "location": "downtown"}
    text = alert.subject + alert.message
    for value in ("José", "García", "jose.garcia", "2125550142", "knee"):
        assert value not in text
    assert f"/staff/requests/{REF}" in json.loads(alert.message)["email"]
    assert outbox.items[(REF, SK)]["sent_at"]


def test_a_retryable_sns_failure_fails_the_record_and_marks_nothing(settings):
    publisher, outbox = FakePublisher(), Outbox()
    publisher.failing = True
    record = answer_record()
    assert delivery(settings, outbox=outbox, publisher=publisher).deliver([record]) == [record.sequence_number]
    assert "sent_at" not in outbox.items[(REF, SK)]


def test_sent_but_not_marked_is_marked_on_the_retry_not_sent_again(settings):
    publisher, outbox = FakePublisher(), Outbox()
    outbox.failing_marks = 3  # every round of the first try
    consumer = delivery(settings, outbox=outbox, publisher=publisher)
    consumer.deliver([answer_record()])
    consumer.deliver([answer_record()])
    assert len(publisher.sent) == 1 and outbox.items[(REF, SK)]["sent_at"]


@pytest.mark.parametrize("status", ["suspected_spam"])
def test_nothing_is_sent_for_a_request_kept_as_spam_or_gone(settings, status):
    publisher = FakePublisher()
    delivery(settings, request=stored_request().model_copy(update={"status": status}), publisher=publisher).deliver([answer_record()])
    gone = AlertDelivery(Requests(None), publisher, settings, answers=Outbox(), now=lambda: RECEIVED)
    gone.deliver([answer_record()])
    assert publisher.sent == []


def test_a_change_to_an_answer_item_sends_nothing(settings):
    publisher = FakePublisher()
    delivery(settings, publisher=publisher).deliver([answer_record("MODIFY"), answer_record("REMOVE")])
    assert publisher.sent == []
