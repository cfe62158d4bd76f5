"""The escalation under moto: the due index, the conditional claims, real SNS; and one contract for the
fake due repository (tests/fakes.py) and the DynamoDB one."""
import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.storage.due import DueRepository
from tests.conftest import STAGE_ENV, response_json, valid_fields
from tests.fakes import FakeDueRepository
from tests.integration.test_stream_alerts import inbox, received  # noqa: F401 (fixture)
from tools.stream_driver import scheduled_event

TABLE = STAGE_ENV["APPOINTMENTS_TABLE"]
NOW = datetime(2026, 12, 8, 15, 0, tzinfo=timezone.utc)


def iso(moment):
    from chalicelib.core.clock import utc_iso

    return utc_iso(moment)


def set_due(dynamodb, request_id, due_at):
    """What a check does to the emulator: move a request's due time."""
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                         UpdateExpression="SET due_at = :due", ExpressionAttributeValues={":due": {"S": due_at}})


def set_status(dynamodb, request_id, status):
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                         UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": {"S": status}})


class Real:
    """The DynamoDB repository, with requests stored as the API stores them."""

    def __init__(self, api, dynamodb):
        self.repository = DueRepository(dynamodb, TABLE)
        self._api, self._dynamodb = api, dynamodb

    def wait(self, location, due_at, status="new"):
        request_id = response_json(self._api.post_json(valid_fields(location=location, message=f"due {due_at}")))["id"]
        set_due(self._dynamodb, request_id, due_at)
        if status != "new":
            set_status(self._dynamodb, request_id, status)
        return request_id


class Fake:
    def __init__(self):
        self.repository = FakeDueRepository()
        self._count = 0

    def wait(self, location, due_at, status="new"):
        self._count += 1
        request_id = f"fake{self._count:020d}"
        self.repository.wait(request_id, location, due_at, status)
        return request_id


@pytest.fixture(params=["fake", "dynamodb"])
def due(request):
    if request.param == "fake":
        return Fake()
    return Real(request.getfixturevalue("api"), request.getfixturevalue("dynamodb"))


# --- the contract -----------------------------------------------------------------------------

def test_overdue_is_what_is_due_by_now_oldest_first(due):
    late = due.wait("downtown", iso(NOW - timedelta(hours=3)))
    later = due.wait("lakeview", iso(NOW - timedelta(hours=1)))
    exactly = due.wait("downtown", iso(NOW))
    due.wait("downtown", iso(NOW + timedelta(milliseconds=1)))

    assert [w.id for w in due.repository.overdue(iso(NOW))] == [late, later, exactly]
    assert due.repository.overdue(iso(NOW))[1].location == "lakeview"


def test_a_claim_succeeds_once_and_takes_the_request_off_the_index(due):
    request_id = due.wait("downtown", iso(NOW - timedelta(hours=1)))

    assert due.repository.claim(request_id, iso(NOW)) is True
    assert due.repository.claim(request_id, iso(NOW)) is False
    assert due.repository.overdue(iso(NOW)) == []


def test_a_request_no_longer_new_cannot_be_claimed(due):
    request_id = due.wait("downtown", iso(NOW - timedelta(hours=1)), status="contacted")

    assert due.repository.claim(request_id, iso(NOW)) is False


def test_a_released_claim_is_overdue_again_but_only_the_claims_own_release(due):
    request_id = due.wait("downtown", iso(NOW - timedelta(hours=1)))
    due.repository.claim(request_id, iso(NOW))

    due.repository.release(request_id, iso(NOW + timedelta(minutes=1)))  # another run's claim time: not ours
    assert due.repository.overdue(iso(NOW)) == []
    due.repository.release(request_id, iso(NOW))
    assert [w.id for w in due.repository.overdue(iso(NOW))] == [request_id]


# --- end to end under moto ----------------------------------------------------------------------

def test_a_request_moved_past_its_due_time_is_escalated_once_through_sns(api, inbox, dynamodb):
    from app import escalate_overdue

    request_id = response_json(api.post_json(valid_fields(location="lakeview")))["id"]
    assert "due_queue" in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"},
                                                                  "sk": {"S": "APPT"}})["Item"]
    received(inbox)  # the new request's own alert comes from the stream, not from here
    set_due(dynamodb, request_id, iso(datetime.now(timezone.utc) - timedelta(hours=1)))

    escalate_overdue(scheduled_event(), None)
    escalate_overdue(scheduled_event(), None)  # a retried run

    [message] = received(inbox)
    assert message["MessageAttributes"]["event"]["Value"] == "appointment.overdue"
    assert message["MessageAttributes"]["location"]["Value"] == "lakeview"
    assert request_id in message["Message"]
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}})["Item"]
    assert "escalated_at" in item and "due_queue" not in item


def test_staff_contacting_a_request_takes_it_off_the_due_index(api, dynamodb):
    from tests.staffing import Tokens

    request_id = response_json(api.post_json(valid_fields()))["id"]
    tokens = Tokens(dynamodb)
    api.request("PATCH", f"/staff/appointments/{request_id}", headers={**tokens.header("staff"),
                "Content-Type": "application/json"}, body=json.dumps({"status": "contacted"}))

    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}})["Item"]
    assert item["status"]["S"] == "contacted"
    assert "due_queue" not in item and "due_at" in item
    assert item["first_contact"]["M"]["wall_minutes"]["N"] == "0"
