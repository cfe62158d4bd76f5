"""The patient's page through Chalice's test client against moto: the page, its headers, its dead links (404/410,
never a 500), each answer's one transaction, the .ics, and the alert consumer telling staff of an answer once."""
import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

import boto3
import pytest

from chalicelib.staff.auth import StaffMember
from chalicelib.staff.triage import StaffService
from chalicelib.storage.appointments import stream_key
from chalicelib.storage.dynamo import deserialize, serialize
from chalicelib.storage.staff_records import StaffRepository
from tests.alerting import aws_subject_problems
from tests.conftest import STAGE_ENV
from tests.integration.test_alert_publish import received, subscribed_queue
from tests.staffing import TABLE, seed
from tests.unit.test_delivery import _record

SAM = StaffMember("Sam Staff", "staff", "tok-sam")
ANA = StaffMember("Ana Admin", "admin", "tok-ana")
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
PERSONAL = ("Zoë", "Okonkwo", "zoe.okonkwo@example.com", "555-0142", "Seeded request")


def utc_now():
    from chalicelib.core.clock import utcnow

    return utcnow()


def items_of(dynamodb, request_id):
    response = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues=serialize({":pk": f"APPT#{request_id}"}))
    return {item["sk"]: item for item in map(deserialize, response["Items"])}


def path_of(request_id):
    from chalicelib import wiring

    return wiring.patient_page_url(request_id).removeprefix(STAGE_ENV["PUBLIC_BASE_URL"])


@pytest.fixture(autouse=True)
def stage_env(monkeypatch):
    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def request_id(api, dynamodb, settings):
    received_at = (utc_now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return seed(dynamodb, settings, received_at)


def book(settings, request_id):
    tomorrow = (utc_now().astimezone(settings.timezone) + timedelta(days=2)).date()
    StaffService(StaffRepository(boto3.client("dynamodb"), TABLE), settings).update_status(
        request_id, {"status": "scheduled", "visit_at": f"{tomorrow}T10:00"}, SAM)


def get(api, path):
    return api.client.http.get(path, headers={"Accept": "text/html"})


def field(page, name):
    text = page.body.decode()
    start = text.index(f'name="{name}" value="') + len(f'name="{name}" value="')
    return text[start:text.index('"', start)]


def post_answer(api, path, answer, page=None):
    page = page or get(api, path)
    body = urlencode({"answer_field": field(page, "answer_field"), "seen": field(page, "seen"), "answer": answer})
    return api.client.http.post(path, headers=FORM, body=body)


def test_the_page_says_where_the_request_stands_without_personal_data_and_with_its_headers(api, request_id):
    page = get(api, path_of(request_id))
    text = page.body.decode()
    assert page.status_code == 200
    assert "We have received your request." in text and request_id in text and "Downtown" in text
    assert not [value for value in PERSONAL if value in text]
    headers = page.headers
    assert headers["X-Robots-Tag"].startswith("noindex") and '<meta name="robots" content="noindex' in text
    assert (headers["Cache-Control"], headers["Referrer-Policy"]) == ("no-store", "no-referrer")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "script" not in text


@pytest.mark.parametrize("mangle", [lambda t: t[:-3], lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
                                    lambda t: "nonsense", lambda t: t + "%00", lambda t: "x" * 5000])
def test_a_forged_or_truncated_link_is_a_404_page_in_both_languages(api, request_id, mangle):
    path = path_of(request_id)
    token = path.rsplit("/", 1)[1]
    for answer in (get(api, f"/r/{mangle(token)}"), api.client.http.post(f"/r/{mangle(token)}", headers=FORM,
                                                                          body="answer=confirmed"),
                   get(api, f"/r/{mangle(token)}/visit.ics")):
        assert answer.status_code == 404
        text = answer.body.decode()
        assert "This link no longer works" in text and "Este enlace ya no funciona" in text
        assert answer.headers["Cache-Control"] == "no-store"


def test_the_link_of_an_erased_request_is_a_410_and_nothing_can_be_answered(api, request_id, dynamodb, settings):
    path = path_of(request_id)
    page = get(api, path)
    StaffService(StaffRepository(dynamodb, TABLE), settings).erase(request_id, ANA)
    assert get(api, path).status_code == 410
    body = urlencode({"answer_field": field(page, "answer_field"), "seen": "new:", "answer": "withdrawn"})
    assert api.client.http.post(path, headers=FORM, body=body).status_code == 410
    assert set(items_of(dynamodb, request_id)) == {"APPT"}
    assert items_of(dynamodb, request_id)["APPT"]["status"] == "erased"


def test_i_will_be_there_is_recorded_once_in_one_transaction(api, request_id, dynamodb, settings):
    book(settings, request_id)
    path = path_of(request_id)
    page = get(api, path)
    assert "Your visit is booked for" in page.body.decode() and "visit.ics" in page.body.decode()

    first = post_answer(api, path, "confirmed", page)
    again = post_answer(api, path, "confirmed", page)  # the same form sent twice

    assert (first.status_code, first.headers["Location"]) == (303, f"./{path.rsplit('/', 1)[1]}?done=recorded")
    assert again.headers["Location"].endswith("?done=already")
    items = items_of(dynamodb, request_id)
    request = items["APPT"]
    assert request["status"] == "scheduled" and "reminder_queue" in request
    assert {k: request["patient_answer"][k] for k in ("answer", "sequence")} == {"answer": "confirmed", "sequence": 0}
    assert [h for h in request["history"] if h["by"] == "patient"] == [
        {"at": request["patient_answer"]["at"], "by": "patient", "from": "scheduled", "to": "scheduled",
         "answer": "confirmed"}]
    answers = [sk for sk in items if sk.startswith("ANSWER#")]
    assert answers == [f"ANSWER#{request['patient_answer']['at']}"]
    assert items[answers[0]]["event"] == "visit.confirmed"
    assert items[answers[0]]["expires_at"] == request["expires_at"]
    assert "You told us you will be there" in get(api, path + "?done=recorded").body.decode()


def test_i_need_to_cancel_cancels_dequeues_the_reminder_and_writes_the_cancellation_mail(api, request_id, dynamodb,
                                                                                       settings):
    book(settings, request_id)
    path = path_of(request_id)
    assert post_answer(api, path, "cancelled").headers["Location"].endswith("?done=recorded")
    items = items_of(dynamodb, request_id)
    request = items["APPT"]
    assert (request["status"], request["visit_sequence"]) == ("cancelled", 1)
    assert "reminder_queue" not in request and "remind_at" not in request
    assert (items["VISIT#0001"]["kind"], items["VISIT#0001"]["sequence"]) == ("cancelled", 1)
    assert [items[sk]["event"] for sk in items if sk.startswith("ANSWER#")] == ["visit.cancelled"]
    assert "is cancelled" in get(api, path).body.decode()


def test_i_did_not_send_this_keeps_it_as_spam_with_its_reason_and_tells_staff_nothing(api, request_id, dynamodb):
    path = path_of(request_id)
    assert post_answer(api, path, "not_me").headers["Location"].endswith("?done=recorded")
    items = items_of(dynamodb, request_id)
    request = items["APPT"]
    assert request["status"] == "suspected_spam" and "not_me" in request["spam_reasons"]
    assert "due_queue" not in request
    assert request["expires_at"] < int((utc_now() + timedelta(days=40)).timestamp())
    assert not [sk for sk in items if sk.startswith("ANSWER#")]


def test_a_forged_signed_field_records_nothing(api, request_id, dynamodb):
    path = path_of(request_id)
    body = urlencode({"answer_field": "A" * 52, "seen": "new:", "answer": "withdrawn"})
    answer = api.client.http.post(path, headers=FORM, body=body)
    assert answer.headers["Location"].endswith("?done=try_again")
    assert items_of(dynamodb, request_id)["APPT"]["status"] == "new"
    assert "press your answer again" in get(api, answer.headers["Location"].replace("./", "/r/")).body.decode()


def test_the_booked_visit_s_calendar_downloads_from_the_page(api, request_id, settings):
    import icalendar

    book(settings, request_id)
    answer = get(api, path_of(request_id) + "/visit.ics")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/calendar")
    event = icalendar.Calendar.from_ical(answer.body).walk("VEVENT")[0]
    assert event["UID"].startswith(request_id) and int(event["SEQUENCE"]) == 0


def test_without_a_booked_visit_there_is_no_calendar(api, request_id):
    assert get(api, path_of(request_id) + "/visit.ics").status_code == 404


def test_the_alert_consumer_tells_staff_of_an_answer_once_with_no_personal_data(api, request_id, dynamodb, settings):
    from chalicelib import wiring

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    queue = subscribed_queue(sns, sqs, STAGE_ENV["NOTIFY_TOPIC_ARN"], "answers")
    book(settings, request_id)
    post_answer(api, path_of(request_id), "change_requested")
    (sk,) = [sk for sk in items_of(dynamodb, request_id) if sk.startswith("ANSWER#")]
    record = _record(serialize({"pk": f"APPT#{request_id}", "sk": sk}), "INSERT")
    assert stream_key(record.keys)[0] == "answer"

    delivery = wiring.alert_delivery()
    assert delivery.deliver([record]) == []
    assert delivery.deliver([record]) == []  # a retried record
    wiring.reset()
    assert wiring.alert_delivery().deliver([record]) == []  # another process: the mark, not its memory

    messages = received(sqs, queue)
    assert len(messages) == 1
    message = messages[0]
    assert message["Subject"] == f"Another time asked for by the patient - ref {request_id[:8]}"
    assert aws_subject_problems(message["Subject"]) == []
    attributes = {name: value["Value"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {"event": "visit.change_requested", "location": "downtown"}
    body = json.loads(message["Message"]) if message["Message"].startswith("{") else message["Message"]
    text = json.dumps(body, ensure_ascii=False) + message["Subject"]
    assert f"{STAGE_ENV['PUBLIC_BASE_URL']}/staff/requests/{request_id}" in text
    assert not [value for value in PERSONAL if value in text]
    assert items_of(dynamodb, request_id)[sk]["sent_at"]
