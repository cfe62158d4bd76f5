"""Alert delivery from stream records, with hand-written fakes: exactly one alert per request."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from chalice.app import DynamoDBRecord

from chalicelib.core.errors import AlertNotSent, StorageUnavailable
from chalicelib.intake.models import AppointmentRequest, ConsentEvidence
from chalicelib.notify.delivery import MARK_ROUNDS, AlertDelivery
from chalicelib.storage.appointments import item_key, rescue_key
from chalicelib.storage.dynamo import serialize
from tests.conftest import remember_personal

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/appointments-dev/stream/2026-11-25T00:00:00.000"


def stored_request(request_id="req1", status="new", **fields):
    values = {
        "first_name": "Ingrid", "last_name": "Halvorsen", "email": "ingrid.h@example.com",
        "phone": "+12125550199", "location": "northside", "contact_consent": True,
        "preferred_contact": "phone", **fields,
    }
    remember_personal(values)
    consent = ConsentEvidence(given_at="2026-11-25T15:00:00.000Z", version="2026-11-01")
    return AppointmentRequest(
        id=request_id, status=status, created_at=NOW, expires_at=int((NOW + timedelta(days=365)).timestamp()),
        fields=values, contact_consent=consent, dedupe_key=f"key:{request_id}", content_hash="h" * 64,
    )


_sequence = iter(range(1000, 10**6))


def record(request=None, event_name="INSERT", keys=None):
    """A record of the table's KEYS_ONLY stream: which item changed, and nothing of its content."""
    if keys is None:
        keys = serialize(item_key(request.id))
    return _record(keys, event_name)


def rescue(request, event_name="INSERT"):
    """The stream record of a request's rescue item, written when staff move it out of suspected spam."""
    return _record(serialize(rescue_key(request.id)), event_name)


def _record(keys, event_name):
    return DynamoDBRecord({
        "eventID": "e1", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "eventSourceARN": STREAM_ARN,
        "dynamodb": {
            "ApproximateCreationDateTime": 1764082800, "Keys": keys,
            "SequenceNumber": str(next(_sequence)), "SizeBytes": 60, "StreamViewType": "KEYS_ONLY",
        },
    }, None)


class FakeRepository:
    def __init__(self, *requests):
        self.items = {r.id: r for r in requests}
        self.fail_marks = 0
        self.unreadable = set()
        self.reads = []

    def get(self, request_id):
        self.reads.append(request_id)
        if request_id in self.unreadable:
            raise ValueError("an item the code cannot read")
        return self.items.get(request_id)

    def mark_alerted(self, request_id, message_id, now):
        if self.fail_marks:
            self.fail_marks -= 1
            raise StorageUnavailable()
        if request_id not in self.items:
            return False
        self.items[request_id] = self.items[request_id].model_copy(update={"alerted_at": now.isoformat()})
        return True


class FakePublisher:
    def __init__(self, failures=0, retryable=True, refuse_full=False):
        self.sent = []
        self.failures = failures
        self.retryable = retryable
        self.refuse_full = refuse_full

    def publish(self, alert):
        if self.failures:
            self.failures -= 1
            raise AlertNotSent("Throttling", retryable=self.retryable)
        if self.refuse_full and "Ingrid" in alert.message:
            raise AlertNotSent("InvalidParameter", retryable=False)
        self.sent.append(alert)
        return f"msg-{len(self.sent)}"


@pytest.fixture
def delivery_for(settings):
    def build(repository, publisher, **overrides):
        from dataclasses import replace

        return AlertDelivery(repository, publisher, replace(settings, **overrides), now=lambda: NOW,
                             sleep=lambda seconds: None)

    return build


def test_a_new_request_is_alerted_once_and_marked(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher()
    assert delivery_for(repository, publisher).deliver([record(request)]) == []
    assert len(publisher.sent) == 1
    assert publisher.sent[0].attributes["location"]["StringValue"] == "northside"
    assert repository.items["req1"].alerted_at


def test_a_retried_batch_does_not_alert_twice(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher()
    delivery = delivery_for(repository, publisher)
    same = record(request)
    delivery.deliver([same])
    delivery.deliver([same])
    assert len(publisher.sent) == 1


def test_spam_is_told_by_the_item_read_not_by_the_stream_record(delivery_for):
    spam = stored_request("spam1", status="suspected_spam")
    repository, publisher = FakeRepository(spam), FakePublisher()
    assert delivery_for(repository, publisher).deliver([record(spam)]) == []
    assert repository.reads == ["spam1"] and publisher.sent == []


def test_other_kinds_of_item_are_not_read(delivery_for):
    repository, publisher = FakeRepository(), FakePublisher()
    token = record(keys=serialize({"pk": "TOKEN#" + "a" * 64, "sk": "TOKEN"}))
    assert delivery_for(repository, publisher).deliver([token]) == []
    assert repository.reads == [] and publisher.sent == []


def test_a_request_rescued_from_spam_is_alerted_exactly_once_by_its_rescue_item(delivery_for):
    rescued = stored_request("spam1", status="new")  # read after staff moved it out of suspected spam
    repository, publisher = FakeRepository(rescued), FakePublisher()
    delivery = delivery_for(repository, publisher)
    assert delivery.deliver([record(rescued, event_name="MODIFY")]) == []  # the status change itself
    assert publisher.sent == []
    assert delivery.deliver([rescue(rescued)]) == []
    assert delivery.deliver([rescue(rescued), record(rescued, event_name="MODIFY")]) == []  # a retry, the mark
    assert len(publisher.sent) == 1
    assert repository.items["spam1"].alerted_at


def test_a_rescue_of_a_request_still_in_spam_or_moved_on_alerts_nobody(delivery_for):
    """The rescue item is read against the request as it is now: only a `new` request is due."""
    for status in ("suspected_spam", "contacted"):
        request = stored_request("spam2", status=status)
        repository, publisher = FakeRepository(request), FakePublisher()
        assert delivery_for(repository, publisher).deliver([rescue(request), rescue(request, "MODIFY")]) == []
        assert publisher.sent == []


def test_a_rescued_request_s_changes_never_alert_even_before_its_mark(delivery_for):
    """The review's case: the confirmation's mark (a MODIFY) reaches the alert consumer of a rescued request
    that is not marked alerted yet; only the rescue's own INSERT may alert it."""
    rescued = stored_request("spam3", status="new")
    repository, publisher = FakeRepository(rescued), FakePublisher()
    for _ in range(3):
        assert delivery_for(repository, publisher).deliver([record(rescued, event_name="MODIFY")]) == []
    assert publisher.sent == []


def test_a_mark_on_a_new_request_whose_alert_mark_failed_sends_no_second_alert(delivery_for):
    """SNS took the alert but the mark failed; the confirmation's mark then changes the item (MODIFY)."""
    request = stored_request("req4", status="new")  # not marked alerted, never in suspected spam
    repository, publisher = FakeRepository(request), FakePublisher()
    assert delivery_for(repository, publisher).deliver([record(request, event_name="MODIFY")]) == []
    assert publisher.sent == []


def test_a_staff_change_to_a_request_not_yet_alerted_does_not_alert_it(delivery_for):
    contacted = stored_request("req3", status="contacted")
    repository, publisher = FakeRepository(contacted), FakePublisher()
    assert delivery_for(repository, publisher).deliver([record(contacted, event_name="MODIFY")]) == []
    assert publisher.sent == []


def test_spam_updates_and_deletions_alert_nobody(delivery_for):
    spam = stored_request("spam1", status="suspected_spam")
    request = stored_request("req2").model_copy(update={"alerted_at": NOW.isoformat()})
    repository, publisher = FakeRepository(spam, request), FakePublisher()
    failed = delivery_for(repository, publisher).deliver([
        record(spam), record(spam, event_name="MODIFY"), record(request, event_name="MODIFY"),
        record(request, event_name="REMOVE"),
    ])
    assert failed == []
    assert publisher.sent == []


def test_sns_failing_then_recovering_gives_exactly_one_alert(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher(failures=3)
    delivery = delivery_for(repository, publisher)
    same = record(request)
    for _ in range(3):
        assert delivery.deliver([same]) == [same.sequence_number]
        assert not repository.items["req1"].alerted_at
    assert delivery.deliver([same]) == []
    assert len(publisher.sent) == 1


def test_one_bad_record_neither_blocks_nor_duplicates_the_others(delivery_for):
    good1, good2 = stored_request("good1"), stored_request("good2")
    repository, publisher = FakeRepository(good1, good2), FakePublisher()
    repository.unreadable.add("bad")
    bad = record(keys=serialize(item_key("bad")))
    batch = [record(good1), bad, record(good2)]
    delivery = delivery_for(repository, publisher)
    assert delivery.deliver(batch) == [bad.sequence_number]
    assert delivery.deliver(batch[1:]) == [bad.sequence_number]  # the retry starts at the bad one
    assert sorted(alert.attributes["location"]["StringValue"] for alert in publisher.sent) == ["northside"] * 2
    assert len(publisher.sent) == 2


def test_a_request_erased_before_its_alert_alerts_nobody(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(), FakePublisher()
    assert delivery_for(repository, publisher).deliver([record(request)]) == []
    assert publisher.sent == []


def test_a_full_alert_sns_refuses_is_sent_minimal_instead(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher(refuse_full=True)
    assert delivery_for(repository, publisher, notify_detail="full").deliver([record(request)]) == []
    assert len(publisher.sent) == 1
    assert "Ingrid" not in publisher.sent[0].message


def test_a_refused_minimal_alert_is_retried_and_not_dropped(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher(failures=1, retryable=False)
    failed = delivery_for(repository, publisher, notify_detail="minimal").deliver([record(request)])
    assert failed == [record_sequence(failed)]
    assert publisher.sent == []


def record_sequence(failed):
    assert len(failed) == 1
    return failed[0]


def test_a_failed_mark_after_sns_took_the_alert_sends_no_second_one(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher()
    repository.fail_marks = MARK_ROUNDS
    delivery = delivery_for(repository, publisher)
    assert delivery.deliver([record(request)]) == []  # delivered: not retried
    assert not repository.items["req1"].alerted_at
    contacted = repository.items["req1"].model_copy(update={"status": "contacted"})
    repository.items["req1"] = contacted
    assert delivery.deliver([record(contacted, event_name="MODIFY")]) == []  # staff's next change
    assert len(publisher.sent) == 1


def test_a_mark_that_fails_once_is_tried_again_and_lands(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher()
    repository.fail_marks = MARK_ROUNDS - 1
    assert delivery_for(repository, publisher).deliver([record(request)]) == []
    assert repository.items["req1"].alerted_at
    assert len(publisher.sent) == 1


def test_a_sent_but_unmarked_request_seen_again_is_marked_not_sent_again(delivery_for):
    request = stored_request()
    repository, publisher = FakeRepository(request), FakePublisher()
    repository.fail_marks = MARK_ROUNDS
    delivery = delivery_for(repository, publisher)
    first = record(request)
    assert delivery.deliver([first]) == []
    assert delivery.deliver([first]) == []  # the same record again, as a retried batch brings it
    assert len(publisher.sent) == 1
    assert repository.items["req1"].alerted_at  # the second time only the mark was written


def test_a_batch_retried_past_a_sent_but_unmarked_request_alerts_it_once(delivery_for):
    """The fault run's duplicates: A is published and its mark fails, a later record B fails, and
    the batch comes again with A in it. A is marked, not published again; B is retried until sent."""
    a, b = stored_request("reqA"), stored_request("reqB")
    repository, publisher = FakeRepository(a, b), FakePublisher()
    delivery = delivery_for(repository, publisher)
    repository.fail_marks = MARK_ROUNDS  # A's mark fails every round
    real_publish = publisher.publish
    publisher.publish = lambda alert: (_ for _ in ()).throw(AlertNotSent("Throttling")) \
        if "reqB" in alert.message else real_publish(alert)
    batch = [record(a), record(b)]
    assert delivery.deliver(batch) == [batch[1].sequence_number]
    publisher.publish = real_publish
    assert delivery.deliver(batch) == []
    alerted = [alert.attributes["appointment_id"]["StringValue"] for alert in publisher.sent]
    assert sorted(alerted) == ["reqA", "reqB"]
    assert repository.items["reqA"].alerted_at and repository.items["reqB"].alerted_at


def test_records_after_a_failed_one_are_still_delivered_in_the_same_batch(delivery_for):
    """Lambda dead-letters a batch from its failed record on: requests behind it must not wait for that."""
    a, b, c = stored_request("reqA"), stored_request("reqB"), stored_request("reqC")
    repository, publisher = FakeRepository(a, b, c), FakePublisher()
    real_publish = publisher.publish
    publisher.publish = lambda alert: (_ for _ in ()).throw(AlertNotSent("Throttling")) \
        if "reqA" in json.dumps(alert.attributes) else real_publish(alert)
    batch = [record(a), record(b), record(c)]
    assert delivery_for(repository, publisher).deliver(batch) == [batch[0].sequence_number]
    assert [alert.attributes["appointment_id"]["StringValue"] for alert in publisher.sent] == ["reqB", "reqC"]
