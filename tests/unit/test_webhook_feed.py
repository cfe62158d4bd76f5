"""The webhook feed with hand-written fakes: stream records in, deliveries on the queue, marks on the item."""
import json
from datetime import datetime, timedelta, timezone

from chalice.app import DynamoDBRecord

from chalicelib.core.clock import utc_iso
from chalicelib.core.errors import StorageUnavailable
from chalicelib.storage.appointments import answer_key, item_key, rescue_key, visit_mail_key
from chalicelib.storage.dynamo import serialize
from chalicelib.storage.webhook_marks import feed_item
from chalicelib.storage.webhooks import Endpoint, endpoint_key
from chalicelib.webhooks.feed import Endpoints, StreamConsumers, WebhookFeed
from tests.fakes import Clock
from tests.unit.test_webhook_events import REF, entry, item, tombstone

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/appointments-dev/stream/2026-11-25T00:00:00.000"
_sequence = iter(range(1000, 10**6))


def record(keys=None, event_name="MODIFY", at=NOW):
    """A KEYS_ONLY stream record of the request item (or of `keys`), written at `at`."""
    return DynamoDBRecord({
        "eventID": "e1", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "eventSourceARN": STREAM_ARN,
        "dynamodb": {"ApproximateCreationDateTime": int(at.timestamp()),
                     "Keys": serialize(keys or item_key(REF)), "SequenceNumber": str(next(_sequence)),
                     "SizeBytes": 60, "StreamViewType": "KEYS_ONLY"},
    }, None)


def endpoint(endpoint_id, events=("appointment.requested", "appointment.status_changed", "visit.booked"),
             active=True, created_at="2026-01-01T00:00:00.000Z"):
    return Endpoint(id=endpoint_id, url=f"https://{endpoint_id}.example/hook", events=tuple(events), active=active,
                    created_at=created_at, created_by="Ana Admin", updated_at=created_at)


class FakeMarks:
    def __init__(self, *items):
        self.items = {stored["id"]: stored for stored in items}
        self.reads, self.writes = [], []
        self.failing_marks = 0

    def read(self, request_id):
        self.reads.append(request_id)
        stored = self.items.get(request_id)
        return feed_item(stored) if stored else None

    def mark_units(self, request_id, units):
        self._fail()
        stored = self.items[request_id]
        if stored["entity"] != "appointment" or stored.get("event_units", 0) >= units:
            return False
        stored["event_units"] = units
        self.writes.append(("units", request_id, units))
        return True

    def mark_erased(self, request_id):
        self._fail()
        stored = self.items[request_id]
        if stored["entity"] != "erased_appointment" or stored.get("erased_event"):
            return False
        stored["erased_event"] = True
        self.writes.append(("erased", request_id))
        return True

    def _fail(self):
        if self.failing_marks:
            self.failing_marks -= 1
            raise StorageUnavailable()


class FakeEndpointStore:
    def __init__(self, *endpoints):
        self.endpoints = list(endpoints)
        self.queries = 0

    def all(self):
        self.queries += 1
        return list(self.endpoints)


class FakeQueue:
    def __init__(self):
        self.sent, self.calls, self.failing = [], 0, False

    def put(self, deliveries):
        self.calls += 1
        if self.failing:
            raise StorageUnavailable()
        self.sent += list(deliveries)


class Setup:
    def __init__(self, settings, *endpoints, items=()):
        self.clock = Clock(NOW + timedelta(seconds=5))
        self.store = FakeEndpointStore(*endpoints)
        self.marks = FakeMarks(*items)
        self.queue = FakeQueue()
        self.feed = WebhookFeed(self.marks, Endpoints(self.store, now=self.clock), self.queue, settings)

    def sent(self):
        return [(d.endpoint_id, d.event_id, d.event_type) for d in self.queue.sent]


CONTACTED = entry(utc_iso(NOW), "new", "contacted", note="Spoke to Henrietta")


def test_a_new_request_goes_to_each_active_endpoint_that_wants_it_and_existed_then(settings):
    later = utc_iso(NOW + timedelta(seconds=1))
    run = Setup(settings, endpoint("ep_all"), endpoint("ep_visits", events=("visit.booked",)),
                endpoint("ep_off", active=False), endpoint("ep_later", created_at=later),
                items=[item(created_at=utc_iso(NOW))])
    assert run.feed.deliver([record(event_name="INSERT")]) == []
    assert run.sent() == [("ep_all", f"msg_{REF}_0", "appointment.requested")]
    [delivery] = run.queue.sent
    assert delivery.request_id == REF and json.loads(delivery.payload)["data"]["id"] == REF
    assert run.marks.writes == [("units", REF, 1)]


def test_changes_go_in_order_and_the_mark_moves_past_them(settings):
    booked = entry(utc_iso(NOW + timedelta(seconds=1)), "contacted", "scheduled", visit_at="2026-12-03T10:00")
    run = Setup(settings, endpoint("ep_a"), endpoint("ep_b", events=("visit.booked", "appointment.requested")),
                items=[item(CONTACTED, booked)])
    assert run.feed.deliver([record(event_name="INSERT")]) == []
    assert run.sent() == [("ep_a", f"msg_{REF}_0", "appointment.requested"),
                          ("ep_b", f"msg_{REF}_0", "appointment.requested"),
                          ("ep_a", f"msg_{REF}_1", "appointment.status_changed"),
                          ("ep_a", f"msg_{REF}_2", "visit.booked"), ("ep_b", f"msg_{REF}_2", "visit.booked")]
    assert run.marks.writes == [("units", REF, 3)]
    # The later records of the same changes find them marked: one read each, nothing queued, nothing written.
    assert run.feed.deliver([record(), record()]) == []
    assert (len(run.queue.sent), run.queue.calls, len(run.marks.writes), len(run.marks.reads)) == (5, 1, 1, 3)


def test_a_consumers_own_mark_costs_one_read_and_nothing_else(settings):
    run = Setup(settings, endpoint("ep_a"), items=[item(event_units=1, alerted_at=utc_iso(NOW))])
    assert run.feed.deliver([record()]) == []
    assert (run.marks.reads, run.queue.calls, run.marks.writes, run.store.queries) == ([REF], 0, [], 1)


def test_with_no_endpoint_at_all_nothing_is_read_queued_or_marked(settings):
    run = Setup(settings, items=[item(CONTACTED)])
    assert run.feed.deliver([record(event_name="INSERT"), record()]) == []
    assert (run.marks.reads, run.queue.calls, run.marks.writes, run.store.queries) == ([], 0, [], 1)


def test_an_endpoint_added_later_hears_of_later_changes_only(settings):
    run = Setup(settings, items=[item(created_at=utc_iso(NOW - timedelta(days=1)))])
    run.clock.now = NOW - timedelta(days=1, seconds=-5)
    assert run.feed.deliver([record(event_name="INSERT", at=NOW - timedelta(days=1))]) == []
    run.store.endpoints.append(endpoint("ep_new", created_at=utc_iso(NOW - timedelta(minutes=1))))
    run.marks.items[REF]["history"] = [CONTACTED]
    run.clock.now = NOW + timedelta(seconds=5)
    assert run.feed.deliver([record(at=NOW)]) == []
    assert run.sent() == [("ep_new", f"msg_{REF}_1", "appointment.status_changed")]
    assert run.marks.writes == [("units", REF, 2)]


def test_a_disabled_endpoint_has_what_happens_meanwhile_marked_not_sent(settings):
    run = Setup(settings, endpoint("ep_off", active=False), items=[item(CONTACTED)])
    assert run.feed.deliver([record()]) == []
    assert (run.queue.calls, run.marks.writes) == (0, [("units", REF, 2)])


def test_removes_and_other_items_are_not_read(settings):
    run = Setup(settings, endpoint("ep_a"), items=[item()])
    others = [record(keys, event_name="INSERT") for keys in (
        rescue_key(REF), visit_mail_key(REF, 0), answer_key(REF, utc_iso(NOW)), endpoint_key("ep_a"),
        {"pk": "ACCOUNT#a@example.com", "sk": "ACCOUNT"})]
    assert run.feed.deliver([record(event_name="REMOVE"), *others]) == []
    assert (run.marks.reads, run.queue.calls) == ([], 0)


def test_the_endpoint_list_is_kept_and_read_again_when_a_change_may_be_newer_than_it(settings):
    ids = [c * 24 for c in "abcde"]
    run = Setup(settings, endpoint("ep_a"), items=[{**item(), "id": i, "pk": f"APPT#{i}"} for i in ids])
    run.feed.deliver([record(item_key(i), event_name="INSERT") for i in ids])
    assert run.store.queries == 1 and len(run.queue.sent) == 5

    run.clock.advance(seconds=10)  # records of changes made before the list was read: it will do
    for i in ids:
        run.marks.items[i]["history"] = [CONTACTED]
    run.feed.deliver([record(item_key(i), at=NOW) for i in ids])
    assert run.store.queries == 1 and len(run.queue.sent) == 10

    # A new batch of changes made after the list was read: read again, once for the whole batch.
    changed = run.clock.now - timedelta(seconds=1)
    for i in ids:
        run.marks.items[i]["history"].append(entry(utc_iso(changed), "contacted", "closed"))
    run.feed.deliver([record(item_key(i), at=changed) for i in ids])
    assert run.store.queries == 2 and len(run.queue.sent) == 15

    run.clock.advance(seconds=30)  # and, however old the changes, never kept longer than 30 seconds
    run.feed.deliver([record(item_key(ids[0]), at=NOW)])
    assert run.store.queries == 3


def test_an_endpoint_added_just_before_a_change_hears_of_it_though_the_list_was_fresh(settings):
    run = Setup(settings, items=[item(created_at=utc_iso(NOW))])
    run.feed.deliver([record(event_name="INSERT", at=NOW)])  # read the list: empty
    run.clock.advance(seconds=3)
    run.store.endpoints.append(endpoint("ep_new", created_at=utc_iso(run.clock.now)))
    run.clock.advance(seconds=1)
    run.marks.items[REF]["history"] = [entry(utc_iso(run.clock.now), "new", "contacted")]
    run.clock.advance(seconds=1)
    assert run.feed.deliver([record(at=run.clock.now - timedelta(seconds=1))]) == []
    assert run.sent() == [("ep_new", f"msg_{REF}_1", "appointment.status_changed")]


def test_while_sqs_fails_the_record_is_retried_unmarked_and_the_batch_stops_calling_it(settings):
    other = {**item(CONTACTED), "id": "x" * 24, "pk": "APPT#" + "x" * 24}
    done = {**item(event_units=1), "id": "y" * 24, "pk": "APPT#" + "y" * 24}
    run = Setup(settings, endpoint("ep_a"), items=[item(CONTACTED), other, done])
    run.queue.failing = True
    batch = [record(), record(keys=item_key("x" * 24)), record(keys=item_key("y" * 24))]
    assert run.feed.deliver(batch) == [batch[0].sequence_number, batch[1].sequence_number]
    assert (run.queue.calls, run.marks.writes) == (1, [])  # the second never waited for SQS again

    run.queue.failing = False
    assert run.feed.deliver(batch) == []
    assert [d.event_id for d in run.queue.sent] == [f"msg_{REF}_0", f"msg_{REF}_1", f"msg_{'x' * 24}_0",
                                                    f"msg_{'x' * 24}_1"]


def test_a_mark_that_failed_is_retried_without_queuing_again_in_this_process(settings):
    run = Setup(settings, endpoint("ep_a"), items=[item(CONTACTED)])
    run.marks.failing_marks = 1
    first = record()
    assert run.feed.deliver([first]) == [first.sequence_number]
    assert len(run.queue.sent) == 2 and run.marks.writes == []
    assert run.feed.deliver([first]) == []
    assert len(run.queue.sent) == 2 and run.marks.writes == [("units", REF, 2)]


def test_another_process_queues_the_same_events_again_with_the_same_ids(settings):
    stored = item(CONTACTED)
    one, two = Setup(settings, endpoint("ep_a"), items=[stored]), Setup(settings, endpoint("ep_a"), items=[stored])
    one.marks.failing_marks = 1
    one.feed.deliver([record()])
    two.feed.deliver([record()])
    assert [(d.event_id, d.payload) for d in one.queue.sent] == [(d.event_id, d.payload) for d in two.queue.sent]
    assert two.marks.writes == [("units", REF, 2)]


def test_an_erasure_is_told_once_and_what_was_not_told_before_it_never(settings):
    told = {**tombstone(CONTACTED)}
    run = Setup(settings, endpoint("ep_a", events=("appointment.erased",)), items=[told])
    assert run.feed.deliver([record(), record()]) == []
    assert run.sent() == [("ep_a", f"msg_{REF}_erased", "appointment.erased")]
    assert run.marks.writes == [("erased", REF)]


def test_the_erasure_of_a_request_never_told_of_says_nothing(settings):
    spam = {**tombstone(), "history": [entry("2026-12-02T09:00:00.000Z", "suspected_spam", "erased")]}
    run = Setup(settings, endpoint("ep_a", events=("appointment.erased",)), items=[spam])
    assert run.feed.deliver([record()]) == []
    assert (run.queue.calls, run.marks.writes) == (0, [])


def test_a_failed_erasure_mark_is_retried_without_queuing_again(settings):
    run = Setup(settings, endpoint("ep_a", events=("appointment.erased",)), items=[tombstone(CONTACTED)])
    run.marks.failing_marks = 1
    erased = record()
    assert run.feed.deliver([erased]) == [erased.sequence_number]
    assert run.feed.deliver([erased]) == []
    assert len(run.queue.sent) == 1 and run.marks.writes == [("erased", REF)]


def test_spam_sends_nothing_and_costs_no_write_until_released(settings):
    run = Setup(settings, endpoint("ep_a"), items=[item(created_as="suspected_spam")])
    assert run.feed.deliver([record(event_name="INSERT")]) == []
    run.marks.items[REF]["history"] = [entry(utc_iso(NOW), "suspected_spam", "suspected_spam")]
    assert run.feed.deliver([record()]) == []
    assert (run.queue.calls, run.marks.writes) == (0, [])
    run.marks.items[REF]["history"].append(entry(utc_iso(NOW), "suspected_spam", "new"))
    run.marks.items[REF]["status"] = "new"
    assert run.feed.deliver([record()]) == []
    assert run.sent() == [("ep_a", f"msg_{REF}_2", "appointment.requested")]
    assert run.marks.writes == [("units", REF, 3)]


def test_an_unreadable_item_fails_its_record_only(settings):
    run = Setup(settings, endpoint("ep_a"), items=[item()])
    run.marks.items[REF]["history"] = [{"at": utc_iso(NOW)}]  # not a history entry
    broken, fine = record(), record(keys=item_key("z" * 24))
    assert run.feed.deliver([broken, fine]) == [broken.sequence_number]


class Consumer:
    def __init__(self, name, calls, failing=()):
        self.name, self.calls, self.failing = name, calls, failing

    def deliver(self, records):
        self.calls.append((self.name, [r.sequence_number for r in records]))
        return [r.sequence_number for r in records if r.sequence_number in self.failing]


def test_stream_consumers_run_alerts_over_the_batch_first_and_fail_what_either_failed():
    batch = [record() for _ in range(3)]
    numbers = [r.sequence_number for r in batch]
    calls = []
    both = StreamConsumers(Consumer("alerts", calls, failing={numbers[1]}),
                           Consumer("feed", calls, failing={numbers[1], numbers[2]}))
    assert both.deliver(iter(batch)) == [numbers[1], numbers[2]]
    assert calls == [("alerts", numbers), ("feed", numbers)]
