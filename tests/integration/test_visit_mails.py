"""Visit e-mails under moto: the outbox item's mark and the request's visit_mails written once, in one
transaction; and the whole delivery, from a VISIT# record to a raw message in SES whose .ics icalendar reads."""
from datetime import datetime, timezone

import pytest

from tests.conftest import STAGE_ENV

from chalicelib.storage.appointments import item_key, to_item
from chalicelib.storage.dynamo import deserialize, serialize
from chalicelib.storage.visit_mails import VisitMailRepository, outbox_key
from tests.alerting import REF, stored_request

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=timezone.utc)
VISIT = datetime(2027, 3, 16, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def outbox(dynamodb, table):
    return VisitMailRepository(dynamodb, table)


def store(dynamodb, table, request, sequences=((0, "booked"),), **visit):
    item = {**to_item(request), "status": "scheduled", **visit}
    dynamodb.put_item(TableName=table, Item=serialize(item))
    for sequence, kind in sequences:
        dynamodb.put_item(TableName=table, Item=serialize({
            **outbox_key(request.id, sequence), "entity": "visit_mail", "id": request.id, "kind": kind,
            "sequence": sequence, "at": "2026-12-06T14:59:00.000Z", "expires_at": 1900000000}))


def read(dynamodb, table, key):
    return deserialize(dynamodb.get_item(TableName=table, Key=serialize(key), ConsistentRead=True).get("Item", {}))


def test_an_outbox_item_is_marked_once_and_the_request_records_the_mail_once(dynamodb, table, outbox):
    store(dynamodb, table, stored_request())
    assert outbox.outbox(REF, 0)["kind"] == "booked" and outbox.outbox(REF, 1) is None
    assert outbox.mark_sent(REF, 0, "booked", "sent", NOW) is True
    assert outbox.mark_sent(REF, 0, "booked", "sent", NOW) is False  # a retry, or another process
    assert read(dynamodb, table, outbox_key(REF, 0))["sent_at"] == "2026-12-06T15:00:00.000Z"
    assert read(dynamodb, table, item_key(REF))["visit_mails"] == [
        {"kind": "booked", "sequence": 0, "at": "2026-12-06T15:00:00.000Z", "outcome": "sent"}]
    assert outbox.outbox(REF, 0)["outcome"] == "sent"


def test_a_request_erased_meanwhile_is_neither_recreated_nor_its_item_marked(dynamodb, table, outbox):
    """Catches an unconditional append to visit_mails, which would write a bare item where the request was."""
    store(dynamodb, table, stored_request())
    dynamodb.delete_item(TableName=table, Key=serialize(item_key(REF)))
    assert outbox.mark_sent(REF, 0, "booked", "sent", NOW) is False
    assert read(dynamodb, table, item_key(REF)) == {}
    assert "sent_at" not in read(dynamodb, table, outbox_key(REF, 0))


def test_a_second_mark_of_the_same_request_appends_its_own_entry(dynamodb, table, outbox):
    store(dynamodb, table, stored_request(), sequences=((0, "booked"), (1, "cancelled")))
    outbox.mark_sent(REF, 0, "booked", "sent", NOW)
    outbox.mark_sent(REF, 1, "cancelled", "address_not_sendable", NOW)
    assert [(m["kind"], m["outcome"]) for m in read(dynamodb, table, item_key(REF))["visit_mails"]] == [
        ("booked", "sent"), ("cancelled", "address_not_sendable")]


def test_a_visit_record_sends_a_raw_mail_to_ses_with_a_calendar_icalendar_reads(dynamodb, table, topic, monkeypatch):
    """The whole mail consumer (app.send_confirmations' delivery) on a VISIT# INSERT: the e-mail reaches moto's
    SES as raw MIME, its .ics lands at the visit's instant, and the mark is written."""
    import icalendar
    from email import message_from_string, policy
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib import wiring
    from tests.unit.test_visit_delivery import visit_record

    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    monkeypatch.setattr(wiring, "patient_page_url", lambda request_id: f"https://clinic.example/r/{request_id}")
    store(dynamodb, table, stored_request(), visit_at="2027-03-16T10:00", visit_start="2027-03-16T14:00:00.000Z",
          visit_sequence=0)
    assert wiring.mail_delivery().deliver([visit_record(0)]) == []
    [sent] = [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if hasattr(m, "raw_data")]
    message = message_from_string(sent.raw_data, policy=policy.default)
    [calendar] = message.iter_attachments()
    [event] = icalendar.Calendar.from_ical(calendar.get_payload(decode=True)).walk("VEVENT")
    assert event["DTSTART"].dt.astimezone(timezone.utc) == VISIT
    assert read(dynamodb, table, outbox_key(REF, 0))["outcome"] == "sent"
