"""Staff book, change, cancel and close visits: what is stored, and which visit e-mail each one sends."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.staff.auth import StaffMember
from chalicelib.staff.triage import StaffService, StaffRecord
from tests.fakes import FakeStaffRepository

SAM = StaffMember("Sam Staff", "staff", "tok-sam")
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in New York


def a_request(status="new", **values):
    return StaffRecord(id="req1", status=status, created_at="2026-12-07T14:00:00.000Z", location="downtown",
                       fields={"email": "p@example.com", "location": "downtown"}, **values)


@pytest.fixture
def repository():
    return FakeStaffRepository(a_request())


@pytest.fixture
def staff(repository, settings):
    return StaffService(repository, settings, now=lambda: NOW)


def book(staff, when, status="scheduled"):
    return staff.update_status("req1", {"status": status, "visit_at": when}, SAM)


def test_a_booking_stores_the_local_time_its_instant_and_sequence_0_and_sends_the_booked_e_mail(staff, repository):
    answer = book(staff, "2026-12-08T10:00")

    assert (answer["visit_at"], answer["visit_start"], answer["visit_sequence"]) == (
        "2026-12-08T10:00", "2026-12-08T15:00:00.000Z", 0)
    assert repository.visit_mails == [("req1", "booked", 0)]
    assert repository.reminders["req1"] == "2026-12-07T15:00:00.000Z"  # 24 hours ahead: due at once
    assert answer["history"][-1]["visit_at"] == "2026-12-08T10:00"


def test_booking_again_at_another_time_is_a_change_with_the_next_sequence(staff, repository):
    book(staff, "2026-12-08T10:00")
    answer = book(staff, "2026-12-09T11:30")

    assert (answer["status"], answer["visit_at"], answer["visit_sequence"]) == ("scheduled", "2026-12-09T11:30", 1)
    assert repository.visit_mails[-1] == ("req1", "changed", 1)
    assert repository.reminders["req1"] == "2026-12-08T16:30:00.000Z"


def test_booking_again_at_the_same_time_is_refused(staff, repository):
    book(staff, "2026-12-08T10:00")

    with pytest.raises(ValidationFailed) as failure:
        book(staff, "2026-12-08T10:00")

    assert "already booked at that time" in failure.value.fields["visit_at"]
    assert len(repository.visit_mails) == 1


def test_a_cancellation_sends_the_cancelled_e_mail_ends_the_reminder_and_a_new_booking_counts_on(staff, repository):
    book(staff, "2026-12-08T10:00")
    staff.update_status("req1", {"status": "cancelled"}, SAM)

    assert repository.visit_mails[-1] == ("req1", "cancelled", 1)
    assert "req1" not in repository.reminders

    answer = book(staff, "2026-12-10T10:00")
    assert repository.visit_mails[-1] == ("req1", "booked", 2)  # the same calendar event, its SEQUENCE rising
    assert answer["visit_sequence"] == 2


@pytest.mark.parametrize("outcome", ["attended", "no_show"])
def test_after_the_visit_its_outcome_ends_the_reminder_and_sends_no_e_mail(staff, repository, outcome):
    book(staff, "2026-12-08T10:00")

    staff.update_status("req1", {"status": outcome}, SAM)

    assert repository.visit_mails == [("req1", "booked", 0)]
    assert "req1" not in repository.reminders


def test_a_booking_needs_its_time_and_only_a_booking_takes_one(staff, repository):
    with pytest.raises(ValidationFailed) as failure:
        staff.update_status("req1", {"status": "scheduled"}, SAM)
    assert "YYYY-MM-DDTHH:MM" in failure.value.fields["visit_at"]

    with pytest.raises(ValidationFailed) as failure:
        staff.update_status("req1", {"status": "contacted", "visit_at": "2026-12-08T10:00"}, SAM)
    assert set(failure.value.fields) == {"visit_at"}
    assert repository.records["req1"].status == "new"


def test_a_time_the_location_is_closed_is_booked_with_a_warning(staff, repository):
    answer = book(staff, "2026-12-13T10:00")  # a Sunday: downtown is closed

    assert answer["status"] == "scheduled"
    assert answer["warnings"] == ["The location is closed at the booked time: check the time with the patient."]
    assert "warnings" not in book(staff, "2026-12-14T10:00")


def test_booking_a_new_request_is_its_first_contact(staff, repository):
    book(staff, "2026-12-08T10:00")

    assert repository.records["req1"].first_contact["wall_minutes"] == 60


def test_the_visit_outcome_is_a_metric_line_per_location(staff, repository):
    import json

    from tests.conftest import captured_log_lines

    repository.records["req1"] = replace(a_request("scheduled"), visit_at="2026-12-07T09:00",
                                         visit_start="2026-12-07T14:00:00.000Z", visit_sequence=0)
    before = len(captured_log_lines())
    staff.update_status("req1", {"status": "no_show"}, SAM)

    [line] = [json.loads(l) for l in captured_log_lines()[before:] if '"visit_outcome"' in l]
    assert (line["location"], line["VisitsMissed"]) == ("downtown", 1)
    (metrics,) = line["_aws"]["CloudWatchMetrics"]
    assert metrics["Metrics"] == [{"Name": "VisitsMissed", "Unit": "Count"}]
    assert all(dimension in line for dimension in metrics["Dimensions"][0])


def test_a_time_the_calendar_cannot_convert_is_a_422_not_a_500(staff, repository):
    with pytest.raises(ValidationFailed) as failure:
        book(staff, "9999-12-31T23:59")

    assert "365 days" in failure.value.fields["visit_at"]


def test_erasure_keeps_no_booked_time_note_or_patient_s_answer_in_the_history(staff, repository):
    """Catches a tombstone whose history still says what the patient answered (or when the visit was)."""
    from chalicelib.staff.triage import HistoryEntry

    ana = StaffMember("Ana Admin", "admin", "tok-ana")
    book(staff, "2026-12-08T10:00")
    record = repository.records["req1"]
    repository.records["req1"] = replace(record, history=record.history + (
        HistoryEntry("2026-12-07T16:00:00.000Z", "patient", "scheduled", "scheduled", answer="change_requested"),))

    erased = staff.erase("req1", ana).record

    assert all(set(entry) == {"at", "by", "from", "to"} for entry in erased["history"])


def test_a_second_erasure_finishes_the_clean_up_of_the_first(staff, repository):
    """Catches an erasure whose outbox clean-up failed (a 503) staying half done when it is asked again."""
    ana = StaffMember("Ana Admin", "admin", "tok-ana")
    book(staff, "2026-12-08T10:00")
    staff.erase("req1", ana)
    repository.visit_mails.append(("req1", "booked", 0))  # as if the first clean-up had failed

    assert staff.erase("req1", ana).erased_now is False
    assert repository.visit_mails == []
