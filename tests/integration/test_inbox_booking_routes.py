"""Booking a visit from the inbox's request page, through Chalice's test client against moto: the date and time
fields become the stored visit_at, a refused time comes back with what was typed, outcomes are recorded, and the
API's status filter finds a no-show."""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from tests.conftest import STAGE_ENV, valid_fields
from tests.integration.test_inbox_routes import FORM, cookie_of, inbox, sign_in  # noqa: F401
from tests.staffing import Tokens

ZONE = ZoneInfo(STAGE_ENV.get("CLINIC_TIMEZONE", "America/New_York"))


def new_request(api, message="inbox booking"):
    return json.loads(api.post_json(valid_fields(message=message)).body)["id"]


def tomorrow():
    return (datetime.now(timezone.utc).astimezone(ZONE) + timedelta(days=1)).date().isoformat()


def post(api, session, request_id, **form):
    return api.request("POST", f"/staff/requests/{request_id}/status", {**FORM, "Cookie": session}, urlencode(form))


def stored(dynamodb, request_id):
    return dynamodb.get_item(TableName=STAGE_ENV["APPOINTMENTS_TABLE"],
                             Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}})["Item"]


def test_booking_from_the_form_stores_visit_at_and_the_page_then_says_the_time(inbox, dynamodb):
    request_id = new_request(inbox)
    session = cookie_of(sign_in(inbox))

    answer = post(inbox, session, request_id, status="scheduled", visit_date=tomorrow(), visit_time="10:00")

    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/staff/requests/{request_id}?changed=scheduled"
    item = stored(dynamodb, request_id)
    assert item["status"]["S"] == "scheduled" and item["visit_at"]["S"] == f"{tomorrow()}T10:00"
    page = inbox.request("GET", answer.headers["Location"], {"Cookie": session}).body.decode()
    assert "Visit booked for " in page and "10:00\u00a0AM" in page
    assert "Change the time" in page


def test_a_time_in_the_past_is_refused_at_its_field_with_what_was_typed_kept(inbox, dynamodb):
    request_id = new_request(inbox)
    session = cookie_of(sign_in(inbox))
    yesterday = (datetime.now(timezone.utc).astimezone(ZONE) - timedelta(days=1)).date().isoformat()

    answer = post(inbox, session, request_id, status="scheduled", visit_date=yesterday, visit_time="09:30",
                  note="Called, she prefers mornings")

    assert answer.status_code == 422
    page = answer.body.decode()
    assert 'id="visit-date-error"' in page and "The visit must be in the future." in page
    assert f'value="{yesterday}"' in page and 'value="09:30"' in page
    assert "Called, she prefers mornings</textarea>" in page
    assert stored(dynamodb, request_id)["status"]["S"] == "new"


def test_a_time_missing_from_the_form_is_refused_and_nothing_is_stored(inbox, dynamodb):
    request_id = new_request(inbox)
    session = cookie_of(sign_in(inbox))
    answer = post(inbox, session, request_id, status="scheduled", visit_date=tomorrow(), visit_time="")
    assert answer.status_code == 422 and "Enter the visit&#x27;s time." in answer.body.decode()
    assert "visit_at" not in stored(dynamodb, request_id)


def test_a_closed_time_is_booked_with_a_warning_in_words(inbox, dynamodb):
    request_id = new_request(inbox)
    session = cookie_of(sign_in(inbox))
    answer = post(inbox, session, request_id, status="scheduled", visit_date=tomorrow(), visit_time="03:00")
    assert answer.status_code == 303
    page = inbox.request("GET", answer.headers["Location"], {"Cookie": session}).body.decode()
    assert "Warning: The location is closed at the booked time" in page


def test_a_no_show_recorded_in_the_inbox_is_found_by_the_api_s_status_filter(inbox, dynamodb):
    missed, other = new_request(inbox, "missed"), new_request(inbox, "came")
    session = cookie_of(sign_in(inbox))
    for request_id in (missed, other):
        assert post(inbox, session, request_id, status="scheduled", visit_date=tomorrow(),
                    visit_time="10:00").status_code == 303
    assert post(inbox, session, missed, status="no_show").status_code == 303

    tokens = Tokens(dynamodb)
    answer = inbox.request("GET", "/staff/appointments?status=no_show", tokens.header("staff"))
    assert answer.status_code == 200
    assert [item["id"] for item in json.loads(answer.body)["items"]] == [missed]
    page = inbox.request("GET", "/staff/?status=no_show", {"Cookie": session}).body.decode()
    assert f"/staff/requests/{missed}" in page and f"/staff/requests/{other}" not in page
    assert '<option value="no_show" selected>No-show</option>' in page
