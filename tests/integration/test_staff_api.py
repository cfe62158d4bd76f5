"""The staff API through Chalice's test client, against moto: authentication, listing, triage, erasure, CSV."""
import csv
import io
import json
from datetime import datetime, timedelta

import boto3
import pytest

from tests.conftest import STAGE_ENV, captured_log_lines, remember_personal, response_json, valid_fields
from tests.staffing import ROUTES, TABLE, Tokens, seed

CALLERS = ("none", "malformed", "unknown", "revoked", "staff", "admin")
PATIENT = {
    "first_name": "Henrike", "last_name": "Van der Berg-Quispe", "email": "henrike.vdb@example.org",
    "phone": "(646) 555-0193", "insurance": "Oscar Silver 8812", "message": "Right shoulder; evenings only.",
    "preferred_contact": "text", "sms_consent": True, "reason": "shoulder",
}


@pytest.fixture
def tokens(dynamodb, table):
    return Tokens(dynamodb)


def staff_call(api, tokens, method, path, caller="staff", body=None, headers=None):
    all_headers = {**tokens.header(caller), **(headers or {})}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        all_headers.setdefault("Content-Type", "application/json")
    return api.request(method, path, headers=all_headers, body=body or b"")


def assert_error(response, status, code):
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response_json(response)
    assert set(body) == ({"error", "message", "fields"} if code == "validation_failed" else {"error", "message"})
    assert body["error"] == code
    return body


def post(api, **overrides):
    response = api.post_json(valid_fields(**{"message": f"staff api {overrides}", **overrides}))
    assert response.status_code == 201
    return response_json(response)["id"]


def stored(dynamodb, request_id):
    return dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                             ConsistentRead=True).get("Item")


# --- the authorization matrix ------------------------------------------------------------------------

@pytest.mark.parametrize("method, route", ROUTES)
def test_every_staff_route_answers_each_kind_of_caller_as_the_spec_says(api, tokens, dynamodb, method, route):
    request_id = post(api)
    path = route.replace("{id}", request_id)
    change = {"new": {"status": "contacted"}, "contacted": {"status": "scheduled", "visit_at": tomorrow_at(10)}}
    expected = {"none": 401, "malformed": 401, "unknown": 401, "revoked": 401, "staff": 200, "admin": 200}
    if method == "DELETE":
        expected["staff"] = 403

    answers = {}
    for caller in CALLERS:
        status = stored(dynamodb, request_id)["status"]["S"]
        body = change.get(status) if method == "PATCH" else None
        answers[caller] = staff_call(api, tokens, method, path, caller, body)

    assert {caller: answer.status_code for caller, answer in answers.items()} == expected
    for caller, answer in answers.items():
        if answer.status_code == 401:
            assert_error(answer, 401, "unauthorized")
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        elif answer.status_code == 403:
            assert_error(answer, 403, "forbidden")
    assert stored(dynamodb, request_id)["status"]["S"] == {
        "GET": "new", "PATCH": "scheduled", "DELETE": "erased"}[method]


def tomorrow_at(hour):
    """A visit time staff could book: tomorrow at `hour`, the clinic's local time."""
    from zoneinfo import ZoneInfo

    day = datetime.now(ZoneInfo(STAGE_ENV["CLINIC_TIMEZONE"])).date() + timedelta(days=1)
    return f"{day.isoformat()}T{hour:02d}:00"


def test_a_revoked_token_stops_working_at_once(api, tokens):
    assert staff_call(api, tokens, "GET", "/staff/appointments").status_code == 200

    tokens.revoke(tokens.staff)

    assert_error(staff_call(api, tokens, "GET", "/staff/appointments"), 401, "unauthorized")


def test_staff_routes_grant_no_cors_and_are_never_cached(api, tokens):
    origin = {"Origin": "http://localhost:8080"}  # allowed for the public form
    request_id = post(api)

    for caller in ("staff", "none"):
        for method, route in ROUTES[:3]:
            answer = staff_call(api, tokens, method, route.replace("{id}", request_id), caller, headers=origin)
            assert "Access-Control-Allow-Origin" not in answer.headers
            assert answer.headers["Cache-Control"] == "no-store"
    assert api.post_json(valid_fields(message="cors check"), origin).headers["Access-Control-Allow-Origin"]


def test_a_browser_asking_for_html_still_gets_json_errors(api, tokens):
    answer = staff_call(api, tokens, "GET", "/staff/appointments", "none", headers={"Accept": "text/html"})

    assert_error(answer, 401, "unauthorized")


def test_unknown_ids_are_404_and_other_content_types_do_not_matter_to_a_get(api, tokens):
    assert_error(staff_call(api, tokens, "GET", "/staff/appointments/k5qg2n4xw7ybz3hd6tjm8rfc"), 404, "not_found")
    assert_error(staff_call(api, tokens, "DELETE", "/staff/appointments/nope", "admin"), 404, "not_found")
    answer = staff_call(api, tokens, "GET", "/staff/appointments", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200


def test_answers_match_the_documented_models(api, tokens):
    from chalicelib.openapi import StaffAppointment, StaffPage

    request_id = post(api)
    answers = [
        (StaffPage, staff_call(api, tokens, "GET", "/staff/appointments")),
        (StaffAppointment, staff_call(api, tokens, "GET", f"/staff/appointments/{request_id}")),
        (StaffAppointment, patch(api, tokens, request_id, {"status": "contacted", "note": "Called back."})),
        (StaffAppointment, staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")),
        (StaffPage, staff_call(api, tokens, "GET", "/staff/appointments?status=erased")),
    ]

    for model, answer in answers:
        assert answer.status_code == 200
        model.model_validate(response_json(answer))


# --- listing ------------------------------------------------------------------------------------

@pytest.fixture
def triage(dynamodb, settings):
    """Requests of three days at two clinics, in every status."""
    made = {}
    plan = [
        ("a", "2026-11-23T14:00:00.000Z", "new", "downtown"),
        ("b", "2026-11-23T18:00:00.000Z", "contacted", "northside"),
        ("c", "2026-11-24T14:00:00.000Z", "scheduled", "downtown"),
        ("d", "2026-11-24T18:00:00.000Z", "closed", "northside"),
        ("e", "2026-11-25T04:30:00.000Z", "new", "northside"),  # 11:30 PM on the 24th in New York
        ("f", "2026-11-25T14:00:00.000Z", "suspected_spam", "downtown"),
        ("g", "2026-11-25T15:00:00.000Z", "new", "downtown"),
    ]
    for name, when, status, location in plan:
        made[name] = seed(dynamodb, settings, when, status=status, location=location)
    return made


def listed(api, tokens, query=""):
    answer = staff_call(api, tokens, "GET", "/staff/appointments" + query)
    assert answer.status_code == 200, answer.body
    return response_json(answer)


def ids(api, tokens, triage, query=""):
    names = {request_id: name for name, request_id in triage.items()}
    return "".join(names[item["id"]] for item in listed(api, tokens, query)["items"])


FILTERED = [
    ("", "gedcba"),
    ("?status=new", "gea"),
    ("?status=suspected_spam", "f"),
    ("?location=downtown", "gca"),
    ("?from=2026-11-24", "gedc"),
    ("?to=2026-11-24", "edcba"),
    ("?from=2026-11-24&to=2026-11-24", "edc"),
    ("?status=new&location=northside", "e"),
    ("?status=suspected_spam&location=downtown", "f"),
    ("?location=northside&from=2026-11-24", "ed"),
    ("?status=new&location=downtown&from=2026-11-25&to=2026-11-25", "g"),
    ("?status=closed&location=downtown", ""),
]


def test_filters_alone_and_combined(api, tokens, triage):
    answers = [(query, ids(api, tokens, triage, query)) for query, _ in FILTERED]

    assert answers == FILTERED


def test_a_listed_request_carries_what_staff_need_to_call_back(api, tokens, triage):
    [item] = listed(api, tokens, "?status=scheduled")["items"]

    assert item["fields"]["phone"] == "+12125550142"
    assert item["location_name"] == "Downtown Clinic"
    assert item["consent"]["contact"]["version"] == STAGE_ENV["CONSENT_VERSION"].split(",")[0]
    assert "history" not in item


def test_pages_cover_everything_once(api, tokens, triage):
    seen, cursor, pages = [], None, 0
    while True:
        page = listed(api, tokens, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert pages == 3
    assert seen == [triage[name] for name in "gedcba"]


def test_a_cursor_keeps_the_filters_of_its_listing(api, tokens, triage):
    first = listed(api, tokens, "?location=downtown&limit=1")

    second = listed(api, tokens, f"?location=downtown&limit=5&cursor={first['next_cursor']}")

    assert [item["id"] for item in second["items"]] == [triage["c"], triage["a"]]


def test_a_tampered_cursor_is_a_422(api, tokens, triage):
    for cursor in ("nonsense", "eyJjIjoxfQ", "%00%ff", "eyJjIjogIjIwMjYtMTEtMjVUMTU6MDA6MDAuMDAwWiJ9", "x" * 2000):
        body = assert_error(staff_call(api, tokens, "GET", f"/staff/appointments?cursor={cursor}"), 422,
                            "validation_failed")
        assert set(body["fields"]) == {"cursor"}


def test_a_cursor_with_one_character_changed_is_a_422_or_a_page_never_a_500(api, tokens, triage):
    cursor = listed(api, tokens, "?limit=1")["next_cursor"]

    for position in range(0, len(cursor), 3):
        tampered = cursor[:position] + ("A" if cursor[position] != "A" else "B") + cursor[position + 1:]
        answer = staff_call(api, tokens, "GET", f"/staff/appointments?cursor={tampered}")
        assert answer.status_code in (200, 422)


def test_limit_bounds(api, tokens, triage):
    for limit, status in (("0", 422), ("1", 200), ("100", 200), ("101", 422), ("x", 422), ("-5", 422)):
        answer = staff_call(api, tokens, "GET", f"/staff/appointments?limit={limit}")

        assert answer.status_code == status, limit
        if status == 200:
            assert len(response_json(answer)["items"]) == min(int(limit), 6)
        else:
            assert set(response_json(answer)["fields"]) == {"limit"}


def test_a_bad_filter_is_a_422_naming_it(api, tokens):
    for query, field in (("?status=archived", "status"), ("?location=mars", "location"), ("?from=yesterday", "from"),
                         ("?from=2026-11-25&to=2026-11-24", "to"), ("?status=new&status=closed", "status"),
                         ("?page=2", "page")):
        for route in ("/staff/appointments", "/staff/appointments.csv"):
            body = assert_error(staff_call(api, tokens, "GET", route + query), 422, "validation_failed")
            assert field in body["fields"], query


# --- status changes ------------------------------------------------------------------------------

def patch(api, tokens, request_id, change, caller="staff"):
    if isinstance(change, dict) and isinstance(change.get("note"), str):
        remember_personal({"message": change["note"]})
    return staff_call(api, tokens, "PATCH", f"/staff/appointments/{request_id}", caller, change)


def test_a_request_moves_through_triage_with_its_history_in_order(api, tokens):
    request_id = post(api)
    steps = [("contacted", "Voicemail left at 10:05.", "staff"), ("scheduled", "Booked Thu 3 PM, Dr Lee.", "admin"),
             ("attended", None, "staff")]

    for status, note, caller in steps:
        visit = {"visit_at": tomorrow_at(15)} if status == "scheduled" else {}
        answer = patch(api, tokens, request_id, {"status": status, **visit, **({"note": note} if note else {})}, caller)
        assert answer.status_code == 200
        assert response_json(answer)["status"] == status

    history = response_json(staff_call(api, tokens, "GET", f"/staff/appointments/{request_id}"))["history"]
    assert [(h["by"], h["from"], h["to"], h.get("note")) for h in history] == [
        ("Sam Staff", "new", "contacted", "Voicemail left at 10:05."),
        ("Ana Admin", "contacted", "scheduled", "Booked Thu 3 PM, Dr Lee."),
        ("Sam Staff", "scheduled", "attended", None),
    ]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)


def test_not_spam_after_all(api, tokens, dynamodb):
    answer = api.post_json(valid_fields(message="real person, odd browser", website="autofilled"))
    request_id = response_json(answer)["id"]

    assert response_json(patch(api, tokens, request_id, {"status": "new"}))["status"] == "new"
    item = stored(dynamodb, request_id)
    created = int(datetime.fromisoformat(item["created_at"]["S"].replace("Z", "+00:00")).timestamp())
    assert int(item["expires_at"]["N"]) == created + int(STAGE_ENV["RETENTION_DAYS"]) * 86400


def test_a_forbidden_transition_is_a_422(api, tokens, dynamodb, settings):
    """Every pair is in tests/unit/test_staff.py; these go through HTTP and the table's condition."""
    for current, target in (("new", "attended"), ("contacted", "no_show"), ("new", "new"), ("contacted", "new"),
                            ("closed", "contacted"), ("scheduled", "contacted"), ("contacted", "suspected_spam"),
                            ("attended", "scheduled"), ("cancelled", "attended")):
        request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z", status=current)

        body = assert_error(patch(api, tokens, request_id, {"status": target}), 422, "validation_failed")

        assert set(body["fields"]) == {"status"}
        assert stored(dynamodb, request_id)["status"]["S"] == current


BAD_PATCHES = [
    (b'{"status": "contacted"}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    (b"status=contacted", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    (b"{not json", {"Content-Type": "application/json"}, 400, "invalid_body"),
    (b'["contacted"]', {"Content-Type": "application/json"}, 400, "invalid_body"),
    (b"", {"Content-Type": "application/json"}, 400, "invalid_body"),
    (b'{"status": "contacted", "note": "' + b"n" * 17000 + b'"}', {"Content-Type": "application/json"}, 413,
     "payload_too_large"),
    (b'{"status": "contacted", "colour": "red"}', {"Content-Type": "application/json"}, 422, "validation_failed"),
    (b'{"status": "contacted"}', {}, 415, "unsupported_media_type"),
]


def test_a_bad_patch_body_gets_the_spec_error(api, tokens, dynamodb):
    request_id = post(api)

    for body, headers, status, code in BAD_PATCHES:
        answer = staff_call(api, tokens, "PATCH", f"/staff/appointments/{request_id}", body=body, headers=headers)
        assert_error(answer, status, code)
    assert stored(dynamodb, request_id)["status"]["S"] == "new"


def test_losing_a_race_to_a_colleague_is_a_409(api, tokens, dynamodb, monkeypatch):
    from chalicelib.storage.staff_records import StaffRepository

    request_id = post(api)
    patch(api, tokens, request_id, {"status": "contacted"})
    real = StaffRepository.change_status

    def colleague_first(self, record, entry, **changes):
        dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                             UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": {"S": "scheduled"}})
        return real(self, record, entry, **changes)

    monkeypatch.setattr(StaffRepository, "change_status", colleague_first)
    body = assert_error(patch(api, tokens, request_id, {"status": "closed"}), 409, "conflict")

    assert "scheduled" in body["message"]
    assert stored(dynamodb, request_id)["status"]["S"] == "scheduled"


def test_every_staff_action_is_logged_with_the_name_and_never_the_note(api, tokens):
    request_id = post(api)
    note = "Patient asked us not to call her work number 212-555-0111."
    before = len(captured_log_lines())

    patch(api, tokens, request_id, {"status": "contacted", "note": note})
    staff_call(api, tokens, "GET", "/staff/appointments.csv")
    staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")

    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    access = [line for line in lines if line.get("event") == "request"]
    assert [(line["route"], line["actor"]) for line in access] == [
        ("PATCH /staff/appointments/{id}", "Sam Staff"),
        ("GET /staff/appointments.csv", "Sam Staff"),
        ("DELETE /staff/appointments/{id}", "Ana Admin"),
    ]
    assert access[0]["appointment_id"] == request_id
    changed = [line for line in lines if line.get("event") in ("status_changed", "erased")]
    assert [(line["event"], line["actor"]) for line in changed] == [("status_changed", "Sam Staff"),
                                                                     ("erased", "Ana Admin")]
    assert not any(note in json.dumps(line) or "212-555-0111" in json.dumps(line) for line in lines)


# --- erasure --------------------------------------------------------------------------------------

def every_readable_text(api, tokens, dynamodb):
    """Everything any staff route answers, and the whole table (the test may scan; the code never does)."""
    texts = []
    for query in ("", "?status=erased", "?location=downtown", "?status=contacted", "?status=new"):
        texts.append(staff_call(api, tokens, "GET", "/staff/appointments" + query, "admin").body.decode())
        texts.append(staff_call(api, tokens, "GET", "/staff/appointments.csv" + query, "admin").body.decode())
    texts.append(json.dumps(dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"], ensure_ascii=False))
    return texts


def test_after_erasure_no_personal_value_can_be_read_back_anywhere(api, tokens, dynamodb):
    fields = valid_fields(**PATIENT)
    request_id = response_json(api.post_json(fields, {"Idempotency-Key": "erase-me-0001"}))["id"]
    note = "Henrike prefers her mobile after 6."
    patch(api, tokens, request_id, {"status": "contacted", "note": note})
    before = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}})["Item"]
    personal = [fields[name] for name in ("first_name", "last_name", "email", "insurance", "message")]
    personal += ["+16465550193", "6465550193", note, "erase-me-0001", before["content_hash"]["S"]]
    assert any(personal[0] in text for text in every_readable_text(api, tokens, dynamodb))

    erased = staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")

    assert erased.status_code == 200
    tombstone = response_json(erased)
    assert (tombstone["id"], tombstone["status"], tombstone["erased_by"]) == (request_id, "erased", "Ana Admin")
    assert tombstone["history"][-1]["to"] == "erased"
    readable = every_readable_text(api, tokens, dynamodb)
    readable.append(staff_call(api, tokens, "GET", f"/staff/appointments/{request_id}").body.decode())
    leaks = [value for value in personal for text in readable if value in text]
    assert leaks == []
    assert response_json(staff_call(api, tokens, "GET", f"/staff/appointments/{request_id}")) == tombstone
    assert request_id in listed(api, tokens, "?status=erased")["items"][0]["id"]
    assert request_id not in json.dumps(listed(api, tokens, ""))


def test_erasure_takes_the_request_out_of_its_address_s_confirmation_count(api, tokens, dynamodb):
    from chalicelib import wiring
    from chalicelib.notify.confirmations import address_key
    from chalicelib.storage.confirmations import ConfirmationCapRepository

    kept, erased = post(api, email="henrike@example.com"), post(api, email="henrike@example.com", message="her later request, about the left wrist")
    cap = wiring.confirmation_cap()
    assert cap.allow("henrike@example.com", kept) and cap.allow("henrike@example.com", erased)  # as confirmed
    count = ConfirmationCapRepository(dynamodb, TABLE)
    who = address_key("henrike@example.com", wiring.purpose_key_of("confirmation cap")())
    assert set(count.sends(who)[0]) == {kept, erased}

    assert staff_call(api, tokens, "DELETE", f"/staff/appointments/{erased}", "admin").status_code == 200

    assert set(count.sends(who)[0]) == {kept}


def test_a_repeated_erasure_is_harmless(api, tokens):
    request_id = post(api)
    first = staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")

    again = staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")

    assert first.status_code == again.status_code == 200
    assert response_json(again) == response_json(first)
    assert_error(patch(api, tokens, request_id, {"status": "contacted"}), 422, "validation_failed")


def test_a_resubmission_after_erasure_is_a_new_request(api, tokens, dynamodb):
    keyless = valid_fields(message="please erase and let me resend")
    keyed = valid_fields(message="keyed, erased, resent")
    first = response_json(api.post_json(keyless))["id"]
    first_keyed = response_json(api.post_json(keyed, {"Idempotency-Key": "resend-key-0001"}))["id"]
    for request_id in (first, first_keyed):
        staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")

    again = api.post_json(keyless)
    again_keyed = api.post_json(keyed, {"Idempotency-Key": "resend-key-0001"})
    changed_keyed = api.post_json({**keyed, "message": "other words"}, {"Idempotency-Key": "resend-key-0001"})

    assert again.status_code == again_keyed.status_code == 201
    assert changed_keyed.status_code == 409, "the key now belongs to the resent request"
    new_id, new_keyed = response_json(again)["id"], response_json(again_keyed)["id"]
    assert new_id != first and new_keyed != first_keyed
    assert stored(dynamodb, new_id)["fields"]["M"]["message"] == {"S": "please erase and let me resend"}
    assert stored(dynamodb, first)["status"] == {"S": "erased"}
    assert "fields" not in stored(dynamodb, first)


# --- CSV -------------------------------------------------------------------------------------------

def test_the_csv_opens_in_pythons_csv_module_with_every_field_intact(api, tokens):
    tricky = valid_fields(first_name="Zoë, \"Zo\"", last_name="=HYPERLINK(\"http://x.example\",\"y\")",
                          insurance="@Risk, Inc.", message="Line one,\n\"two\"\n-three\n+four\n=SUM(A1)")
    request_id = response_json(api.post_json(tricky))["id"]

    # A web address in a request without a form token puts it in "Possible spam": its CSV is the same.
    answer = staff_call(api, tokens, "GET", "/staff/appointments.csv?status=suspected_spam")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="appointments.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.body.decode("utf-8-sig"), newline="")))
    [row] = [row for row in rows if row["id"] == request_id]
    assert row["first_name"] == "Zoë, \"Zo\""
    assert row["last_name"] == "'=HYPERLINK(\"http://x.example\",\"y\")"
    assert row["insurance"] == "'@Risk, Inc."
    assert row["message"] == "Line one,\n\"two\"\n-three\n+four\n=SUM(A1)"
    assert row["phone"] == "'+12125550142"
    assert row["email"] == tricky["email"]


def test_the_csv_takes_the_same_filters(api, tokens, triage):
    def exported(query):
        answer = staff_call(api, tokens, "GET", "/staff/appointments.csv" + query)
        return [row["id"] for row in csv.DictReader(io.StringIO(answer.body.decode("utf-8-sig"), newline=""))]

    assert exported("?location=northside&from=2026-11-24") == [triage["e"], triage["d"]]
    assert exported("?status=suspected_spam") == [triage["f"]]
    assert exported("") == [triage[name] for name in "gedcba"]
    assert_error(staff_call(api, tokens, "GET", "/staff/appointments.csv?limit=5"), 422, "validation_failed")


# --- no scans, no alerts ------------------------------------------------------------------------------

def test_no_staff_route_scans(api, tokens):
    from chalicelib import wiring

    def refuse(**_):
        raise AssertionError("a staff route scanned the table")

    wiring.aws_client("dynamodb").meta.events.register("before-call.dynamodb.Scan", refuse)
    request_id = post(api)
    answers = [
        staff_call(api, tokens, "GET", "/staff/appointments?location=downtown&status=new&from=2026-01-01"),
        staff_call(api, tokens, "GET", "/staff/appointments.csv"),
        staff_call(api, tokens, "GET", f"/staff/appointments/{request_id}"),
        patch(api, tokens, request_id, {"status": "contacted"}),
        staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin"),
        staff_call(api, tokens, "GET", "/staff/appointments?status=erased"),
    ]

    assert [answer.status_code for answer in answers] == [200] * 6


def stream_records(dynamodb):
    from tools.stream_driver import lambda_record

    streams = boto3.client("dynamodbstreams")
    stream_arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    records = []
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return [lambda_record(record, stream_arn) for record in records]


@pytest.fixture
def alerts(topic, monkeypatch):
    """Run the stream handler over the whole stream; returns the alerts the topic has sent so far."""
    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    url = sqs.create_queue(QueueName="staff-api-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sent = []

    def deliver(dynamodb):
        from app import send_staff_alerts

        records = stream_records(dynamodb)
        assert send_staff_alerts({"Records": records}, None) == {"batchItemFailures": []}
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                sent.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return records, sent

    return deliver


def test_staff_changes_and_erasure_alert_nobody(api, tokens, dynamodb, alerts):
    request_id = post(api)
    _, sent = alerts(dynamodb)
    assert len(sent) == 1

    patch(api, tokens, request_id, {"status": "contacted", "note": "Called."})
    patch(api, tokens, request_id, {"status": "scheduled", "visit_at": tomorrow_at(10)})
    staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")
    records, sent = alerts(dynamodb)

    assert len(sent) == 1
    # alert mark, 2 changes (the booking with its visit e-mail's outbox item), erasure (and the item's removal)
    ours = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == f"APPT#{request_id}"]
    assert sorted((r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"][:6]) for r in ours[-6:]) == [
        ("INSERT", "VISIT#"), ("MODIFY", "APPT"), ("MODIFY", "APPT"), ("MODIFY", "APPT"), ("MODIFY", "APPT"),
        ("REMOVE", "VISIT#")]


def test_a_request_erased_before_its_alert_went_out_alerts_nobody(api, tokens, dynamodb, alerts):
    request_id = post(api)
    staff_call(api, tokens, "DELETE", f"/staff/appointments/{request_id}", "admin")

    _, sent = alerts(dynamodb)

    assert sent == []
