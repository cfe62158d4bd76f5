"""Booking through the real table (moto): the visit's attributes, its e-mail's outbox item, erasure of both."""
from datetime import datetime, timezone

import pytest

from chalicelib.staff.auth import StaffMember
from chalicelib.staff.triage import StaffService
from chalicelib.storage.appointments import stream_key
from chalicelib.storage.dynamo import deserialize, serialize
from chalicelib.storage.staff_records import StaffRepository
from tests.staffing import TABLE, seed

SAM = StaffMember("Sam Staff", "staff", "tok-sam")
ANA = StaffMember("Ana Admin", "admin", "tok-ana")
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def staff(dynamodb, table, settings):
    return StaffService(StaffRepository(dynamodb, table), settings, now=lambda: NOW)


def items_of(dynamodb, request_id):
    response = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues=serialize({":pk": f"APPT#{request_id}"}))
    return {item["sk"]: item for item in map(deserialize, response["Items"])}


def test_a_booking_writes_the_visit_and_its_e_mail_s_outbox_item_in_one_go(dynamodb, staff, settings):
    request_id = seed(dynamodb, settings, "2026-12-07T14:00:00.000Z")

    staff.update_status(request_id, {"status": "scheduled", "visit_at": "2026-12-09T10:00"}, SAM)

    items = items_of(dynamodb, request_id)
    request = items["APPT"]
    assert (request["visit_at"], request["visit_start"], request["visit_sequence"]) == (
        "2026-12-09T10:00", "2026-12-09T15:00:00.000Z", 0)
    assert (request["reminder_queue"], request["remind_at"]) == ("due", "2026-12-08T15:00:00.000Z")
    assert "due_queue" not in request
    outbox = items["VISIT#0000"]
    assert {k: outbox[k] for k in ("entity", "id", "kind", "sequence")} == {
        "entity": "visit_mail", "id": request_id, "kind": "booked", "sequence": 0}
    assert outbox["expires_at"] == request["expires_at"]
    assert stream_key(serialize({"pk": f"APPT#{request_id}", "sk": "VISIT#0000"})) == ("visit", request_id, "VISIT#0000")


def test_a_change_and_a_cancellation_each_add_an_item_and_the_cancellation_ends_the_reminder(dynamodb, staff, settings):
    request_id = seed(dynamodb, settings, "2026-12-07T14:00:00.000Z")
    staff.update_status(request_id, {"status": "scheduled", "visit_at": "2026-12-09T10:00"}, SAM)
    staff.update_status(request_id, {"status": "scheduled", "visit_at": "2026-12-10T16:00"}, SAM)
    staff.update_status(request_id, {"status": "cancelled"}, SAM)

    items = items_of(dynamodb, request_id)
    assert [(items[sk]["kind"], items[sk]["sequence"]) for sk in ("VISIT#0000", "VISIT#0001", "VISIT#0002")] == [
        ("booked", 0), ("changed", 1), ("cancelled", 2)]
    request = items["APPT"]
    assert (request["status"], request["visit_sequence"], request["visit_at"]) == ("cancelled", 2, "2026-12-10T16:00")
    assert "reminder_queue" not in request and "remind_at" not in request


def test_two_bookings_of_one_sequence_at_once_store_one(dynamodb, staff, settings):
    """Two staff booking the same request at once: the second, which read it before the first wrote, changes nothing."""
    request_id = seed(dynamodb, settings, "2026-12-07T14:00:00.000Z")
    repository = StaffRepository(dynamodb, TABLE)
    record = repository.record(request_id)
    staff.update_status(request_id, {"status": "scheduled", "visit_at": "2026-12-09T10:00"}, SAM)

    from chalicelib.staff.triage import HistoryEntry, VisitChange
    late = repository.change_status(record, HistoryEntry("2026-12-07T15:00:00.000Z", "Ana Admin", "new", "scheduled"),
                                    visit=VisitChange("booked", 0, "2026-12-09T11:00", "2026-12-09T16:00:00.000Z"))

    assert late is None
    assert items_of(dynamodb, request_id)["APPT"]["visit_at"] == "2026-12-09T10:00"


def test_erasure_removes_the_visit_and_its_outbox_items(dynamodb, staff, settings):
    request_id = seed(dynamodb, settings, "2026-12-07T14:00:00.000Z")
    staff.update_status(request_id, {"status": "scheduled", "visit_at": "2026-12-09T10:00", "note": "Room 2"}, SAM)

    staff.erase(request_id, ANA)

    items = items_of(dynamodb, request_id)
    assert set(items) == {"APPT"}
    tombstone = items["APPT"]
    assert not {"visit_at", "visit_start", "visit_sequence", "remind_at", "reminder_queue"} & set(tombstone)
    assert all("visit_at" not in entry and "note" not in entry for entry in tombstone["history"])
