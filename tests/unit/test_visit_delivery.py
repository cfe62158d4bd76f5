"""Visit e-mails from the stream: one per outbox item, to the request as it is now, never twice under faults."""
from datetime import datetime, timezone

import pytest

from chalicelib.core.errors import StorageUnavailable
from chalicelib.notify.delivery import MARK_ROUNDS
from chalicelib.notify.visit_delivery import MailDelivery, VisitMailDelivery
from chalicelib.storage.dynamo import serialize
from chalicelib.storage.visit_mails import outbox_key, visit_mail_subject
from tests.alerting import REF
from tests.fakes import FakeMailer, FakeVisitOutbox
from tests.unit.test_delivery import FakeRepository, _record, record
from tests.unit.test_visit_mail import PAGE, booked, visit_settings  # noqa: F401 (a fixture)

NOW = datetime(2026, 12, 6, 15, 0, 2, tzinfo=timezone.utc)


def visit_record(sequence, request_id=REF, event_name="INSERT"):
    return _record(serialize(outbox_key(request_id, sequence)), event_name)


@pytest.fixture
def world(visit_settings):
    requests, outbox, mailer = FakeRepository(), FakeVisitOutbox(), FakeMailer()
    delivery = VisitMailDelivery(requests, outbox, mailer, visit_settings, lambda request_id: f"{PAGE}/{request_id}",
                                 now=lambda: NOW, sleep=lambda seconds: None)
    return requests, outbox, mailer, delivery


def book(requests, outbox, sequence=0, kind="booked", status="scheduled"):
    requests.items[REF] = booked(sequence=sequence).model_copy(update={"status": status})
    outbox.add(REF, sequence, kind)


def test_a_booking_is_mailed_once_however_often_its_record_comes(world):
    requests, outbox, mailer, delivery = world
    book(requests, outbox)
    assert delivery.deliver([visit_record(0), visit_record(0)]) == []
    assert delivery.deliver([visit_record(0)]) == []
    [mail] = mailer.sent
    assert mail.attachments[0].filename == "visit.ics" and f"{PAGE}/{REF}" in mail.text
    assert outbox.visit_mails[REF] == [{"kind": "booked", "sequence": 0, "at": NOW, "outcome": "sent"}]


def test_a_superseded_item_sends_nothing_and_the_newer_one_sends(world):
    """Booked, then changed before the first e-mail went: only the change goes (catches a stale time mailed)."""
    requests, outbox, mailer, delivery = world
    book(requests, outbox, 0)
    book(requests, outbox, 1, kind="changed")
    assert delivery.deliver([visit_record(0), visit_record(1)]) == []
    [mail] = mailer.sent
    assert mail.subject.startswith("New time for your appointment")
    assert [entry["sequence"] for entry in outbox.visit_mails[REF]] == [1]


@pytest.mark.parametrize("status", ["suspected_spam", "cancelled", "attended"])
def test_a_booking_no_longer_scheduled_or_kept_as_spam_is_not_mailed(world, status):
    requests, outbox, mailer, delivery = world
    book(requests, outbox, status=status)
    assert delivery.deliver([visit_record(0)]) == []
    assert mailer.sent == []


def test_a_cancellation_is_mailed_to_a_cancelled_request_with_its_calendar_cancel(world):
    requests, outbox, mailer, delivery = world
    book(requests, outbox, 1, kind="cancelled", status="cancelled")
    assert delivery.deliver([visit_record(1)]) == []
    [mail] = mailer.sent
    assert b"METHOD:CANCEL" in mail.attachments[0].data


def test_an_erased_request_gets_nothing(world):
    requests, outbox, mailer, delivery = world
    outbox.add(REF, 0, "booked")  # the request itself is gone (erased: no appointment item)
    assert delivery.deliver([visit_record(0)]) == []
    assert mailer.sent == []


def test_ses_down_retries_the_record_and_it_is_sent_once_when_ses_is_back(world):
    requests, outbox, mailer, delivery = world
    book(requests, outbox)
    mailer.failing = "Throttling"
    item = visit_record(0)
    assert delivery.deliver([item]) == [item.sequence_number]
    assert REF not in outbox.visit_mails
    mailer.failing = None
    assert delivery.deliver([visit_record(0)]) == []
    assert len(mailer.sent) == 1 and outbox.visit_mails[REF][0]["outcome"] == "sent"


def test_an_address_ses_cannot_take_is_marked_with_why_and_not_retried(world):
    requests, outbox, mailer, delivery = world
    requests.items[REF] = booked(email="jösé@example.com")
    outbox.add(REF, 0, "booked")

    class Refusing(FakeMailer):
        def send(self, email):
            from chalicelib.core.mail import ses_address

            ses_address(email.to)

    delivery._mailer = Refusing()
    assert delivery.deliver([visit_record(0)]) == []
    assert outbox.visit_mails[REF][0]["outcome"] == "address_not_sendable"


def test_a_failed_mark_after_sending_sends_nothing_twice(world):
    """The mark failed every round: the record is not failed (retrying it would send again); this process
    remembers, and the next record of the item marks it without sending."""
    requests, outbox, mailer, delivery = world
    book(requests, outbox)
    outbox.fail_marks = MARK_ROUNDS
    assert delivery.deliver([visit_record(0)]) == []
    assert len(mailer.sent) == 1 and REF not in outbox.visit_mails
    assert delivery.deliver([visit_record(0)]) == []
    assert len(mailer.sent) == 1 and outbox.visit_mails[REF][0]["outcome"] == "sent"


def test_storage_down_before_sending_retries_the_record(world):
    requests, outbox, mailer, delivery = world
    book(requests, outbox)

    def down(request_id, sequence):
        raise StorageUnavailable()

    outbox.outbox = down
    item = visit_record(0)
    assert delivery.deliver([item]) == [item.sequence_number]
    assert mailer.sent == []


def test_only_inserts_of_visit_items_are_its_own(world):
    """A MODIFY (its own mark), the request's own record and a rescue are another consumer's."""
    requests, outbox, mailer, delivery = world
    book(requests, outbox)
    assert delivery.deliver([visit_record(0, event_name="MODIFY"), record(requests.items[REF])]) == []
    assert mailer.sent == []
    assert visit_mail_subject(serialize({"pk": f"APPT#{REF}", "sk": "VISIT#0003"})) == (REF, 3)
    assert visit_mail_subject(serialize({"pk": f"APPT#{REF}", "sk": "RESCUE"})) is None


def test_the_mail_consumer_fails_a_record_any_of_its_deliveries_failed():
    class Failing:
        def __init__(self, failed):
            self.failed = failed

        def deliver(self, records):
            return self.failed

    records = [visit_record(0), visit_record(1), visit_record(2)]
    numbers = [r.sequence_number for r in records]
    assert MailDelivery(Failing([numbers[2]]), Failing([numbers[0]])).deliver(records) == [numbers[0], numbers[2]]
