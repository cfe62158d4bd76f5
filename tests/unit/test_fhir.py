"""A request as a FHIR R4 Appointment: every status, the preferred period, the booked visit, detail levels."""
from dataclasses import replace

import pytest

from chalicelib.staff import fhir
from chalicelib.staff.auth import StaffMember
from chalicelib.staff.triage import STATUSES, StaffRecord, StaffService
from tests.fakes import Clock, FakeStaffRepository
from tests.fhir_validation import valid

SAM = StaffMember("Sam Staff", "staff", "tok-sam")
CREATED = "2026-11-25T15:00:00.000Z"
MESSAGE = "Left knee, since the marathon; please not Tuesdays."
BOOKED = {"visit_at": "2026-07-14T10:00", "visit_start": "2026-07-14T14:00:00.000Z", "visit_sequence": 0}
# R4's AppointmentStatus value set, and what each of our statuses is there.
EXPECTED = {"new": "proposed", "contacted": "proposed", "suspected_spam": "proposed", "scheduled": "booked",
            "attended": "fulfilled", "no_show": "noshow", "cancelled": "cancelled", "closed": "cancelled"}


def a_view(settings, status="new", booked=False, **fields):
    fields = {"first_name": "Marit", "last_name": "Solheim-Ørsted", "email": "marit.so@example.com",
              "phone": "+12125550177", "location": "downtown", "contact_consent": True, "reason": "knee",
              "message": MESSAGE, "insurance": "Oscar Silver 8812", "preferred_contact": "email", **fields}
    record = StaffRecord(id="k5qg2n4xw7ybz3hd6tjm8rfc", status=status, created_at=CREATED, location="downtown",
                         fields=fields, language="es", **(BOOKED if booked else {}))
    return StaffService(FakeStaffRepository(), settings).view(record)


@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_every_status_maps_into_r4s_value_set(settings, status):
    booked = status in ("scheduled", "attended", "no_show", "cancelled")
    resource = fhir.appointment(a_view(settings, status, booked=booked), settings)
    assert resource["status"] == EXPECTED[status]
    valid(resource)


def test_every_status_but_erased_has_a_mapping():
    assert set(fhir.STATUSES) == set(STATUSES) - {"erased"}


def test_the_resource_names_the_request_and_the_patient_as_a_contained_patient(settings):
    resource = valid_resource(a_view(settings), settings)
    assert resource["resourceType"] == "Appointment"
    assert resource["id"] == "k5qg2n4xw7ybz3hd6tjm8rfc"
    assert resource["identifier"] == [{"use": "official", "system": "http://127.0.0.1:8000/appointments",
                                       "value": "k5qg2n4xw7ybz3hd6tjm8rfc"}]
    assert resource["created"] == "2026-11-25T10:00:00-05:00"
    assert resource["contained"] == [{
        "resourceType": "Patient", "id": "patient",
        "name": [{"family": "Solheim-Ørsted", "given": ["Marit"]}],
        "telecom": [{"system": "phone", "value": "+12125550177"},
                    {"system": "email", "value": "marit.so@example.com", "rank": 1}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]}, "preferred": True}],
    }]
    assert resource["participant"][0]["actor"]["reference"] == "#patient"
    assert resource["participant"][1]["actor"] == {"display": "Downtown Clinic"}


@pytest.mark.parametrize("preferred_time, hours", [
    ("morning", ("08:00", "12:00")), ("afternoon", ("12:00", "17:00")), ("evening", ("17:00", "20:00")),
])
@pytest.mark.parametrize("day, offset", [("2026-07-14", "-04:00"), ("2026-12-15", "-05:00")])
def test_the_requested_period_is_the_preferred_part_of_the_day_in_the_clinics_time(settings, preferred_time, hours,
                                                                                    day, offset):
    resource = valid_resource(a_view(settings, preferred_date=day, preferred_time=preferred_time), settings)
    assert resource["requestedPeriod"] == [{"start": f"{day}T{hours[0]}:00{offset}",
                                            "end": f"{day}T{hours[1]}:00{offset}"}]


@pytest.mark.parametrize("preferred_time", ["any", None])
def test_any_time_of_the_preferred_day_is_the_whole_day(settings, preferred_time):
    resource = valid_resource(a_view(settings, preferred_date="2026-03-08", preferred_time=preferred_time), settings)
    # The day the clocks go forward in New York: it starts at -05:00 and ends at -04:00.
    assert resource["requestedPeriod"] == [{"start": "2026-03-08T00:00:00-05:00", "end": "2026-03-09T00:00:00-04:00"}]


def test_without_a_preferred_date_there_is_no_requested_period(settings):
    assert "requestedPeriod" not in valid_resource(a_view(settings, preferred_time="morning"), settings)


def test_the_booked_visit_is_start_and_end_visit_minutes_apart(settings):
    resource = valid_resource(a_view(settings, "scheduled", booked=True), settings)
    assert (resource["start"], resource["end"]) == ("2026-07-14T10:00:00-04:00", "2026-07-14T10:45:00-04:00")
    assert resource["minutesDuration"] == 45
    longer = replace(settings, visit_minutes=60)
    assert valid_resource(a_view(longer, "scheduled", booked=True), longer)["end"] == "2026-07-14T11:00:00-04:00"


def test_an_unbooked_request_has_no_start_or_end(settings):
    resource = valid_resource(a_view(settings, "contacted"), settings)
    assert "start" not in resource and "end" not in resource


def test_the_reason_only_with_full_detail(settings):
    assert valid_resource(a_view(settings), settings)["reasonCode"] == [{"text": "Knee"}]
    minimal = replace(settings, notify_detail="minimal")
    resource = valid_resource(a_view(minimal), minimal)
    assert "reasonCode" not in resource and "serviceType" not in resource
    assert "Knee" not in str(resource) and "knee" not in str(resource)


@pytest.mark.parametrize("detail", ["full", "minimal"])
def test_never_the_message_insurance_or_a_comment(settings, detail):
    settings = replace(settings, notify_detail=detail)
    resource = valid_resource(a_view(settings, "scheduled", booked=True), settings)
    assert MESSAGE not in str(resource) and "Oscar" not in str(resource)
    assert not {"comment", "patientInstruction", "description"} & set(resource)


def test_unknown_and_erased_ids_are_a_not_found_operation_outcome(settings):
    record = StaffRecord(id="k5qg2n4xw7ybz3hd6tjm8rfc", status="erased", created_at=CREATED, location="downtown",
                         erased_at=CREATED, erased_by="Ana Admin")
    service = StaffService(FakeStaffRepository(record), settings, now=Clock(None))
    for request_id in ("k5qg2n4xw7ybz3hd6tjm8rfc", "a2a2a2a2a2a2a2a2a2a2a2a2"):
        status, outcome = fhir.read(service, settings, request_id, SAM)
        assert status == 404
        valid(outcome)
        assert outcome["issue"][0]["severity"] == "error" and outcome["issue"][0]["code"] == "not-found"


def test_a_found_request_is_read_through_the_audited_get(settings):
    record = StaffRecord(id="k5qg2n4xw7ybz3hd6tjm8rfc", status="new", created_at=CREATED, location="downtown",
                         fields={"first_name": "Marit", "last_name": "Solheim", "email": "m@example.com",
                                 "phone": "+12125550177"})
    repository = FakeStaffRepository(record)
    status, resource = fhir.read(StaffService(repository, settings), settings, record.id, SAM)
    assert status == 200 and resource["status"] == "proposed"
    assert repository.reads == [record.id]
    valid(resource)


def test_the_validator_refuses_a_status_outside_r4_and_a_missing_participant(settings):
    resource = fhir.appointment(a_view(settings), settings)
    with pytest.raises(AssertionError):
        valid({**resource, "status": "scheduled"})
    with pytest.raises(Exception):
        valid({key: value for key, value in resource.items() if key != "participant"})
    with pytest.raises(AssertionError):
        valid({**resource, "status": "booked"})  # app-3: booked without a start


def valid_resource(view, settings):
    resource = fhir.appointment(view, settings)
    valid(resource)
    return resource
