"""POST /appointments over real HTTP against the running local stack."""
import json
import re
import time
import urllib.request
import uuid

import pytest

from tests.conftest import remember_personal, valid_fields

pytestmark = pytest.mark.e2e


def http(stack, method, path, body=b"", headers=None):
    request = urllib.request.Request(stack.base_url + path, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post_json(stack, fields, headers=None):
    remember_personal(fields)
    return http(stack, "POST", "/appointments", json.dumps(fields).encode(),
                {"Content-Type": "application/json", **(headers or {})})


def post_as_a_person(stack, fields):
    """Posts as the form does for a person: with a fresh form token, no sooner than its time trap allows."""
    status, _, body = http(stack, "GET", "/form-token")
    assert status == 200, body
    answer = json.loads(body)
    time.sleep(answer["min_fill_seconds"] + 0.2)
    return post_json(stack, {**fields, "form_token": answer["form_token"]})


def stored(stack, request_id):
    item = stack.client("dynamodb").get_item(
        TableName=stack.settings_env["APPOINTMENTS_TABLE"],
        Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
        ConsistentRead=True,
    )
    return item.get("Item")


def test_json_post_is_stored(stack):
    status, _, body = post_json(stack, valid_fields(first_name="Amara", message=f"knee {uuid.uuid4()}"))
    assert status == 201
    answer = json.loads(body)
    assert answer["status"] == "received"
    assert stored(stack, answer["id"])["fields"]["M"]["first_name"] == {"S": "Amara"}


def raw_http(stack, request_text):
    """Send bytes exactly as written (curl-style) and return the raw response head."""
    import socket

    with socket.create_connection(("127.0.0.1", stack.api_port), timeout=10) as sock:
        sock.sendall(request_text.replace("\n", "\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    status_line, *header_lines = head.split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


def test_form_post_from_a_browser_is_redirected_to_the_thank_you_page(stack):
    from urllib.parse import urlencode

    fields = valid_fields(first_name="Siobhán", contact_consent="on", new_patient="yes",
                          message=f"hip {uuid.uuid4()}")
    remember_personal(fields)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(
        stack.base_url + "/appointments", data=urlencode(fields).encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )
    try:
        opener.open(request, timeout=30)
        raise AssertionError("expected a 303")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303
        assert answer.headers["Location"].startswith(stack.settings_env["THANK_YOU_URL"] + "?lang=en&ref=")


def test_form_post_with_errors_gets_a_readable_page(stack):
    status, headers, body = http(
        stack, "POST", "/appointments", b"first_name=Ana&email=not-an-email&contact_consent=on",
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert status == 422
    assert headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert "Email" in page and "Last name" in page and "Phone" in page


def test_cors_preflight_answers_only_the_allowed_origin(stack):
    status, headers = raw_http(stack, (
        "OPTIONS /appointments HTTP/1.1\n"
        "Host: 127.0.0.1\n"
        "Origin: http://localhost:8080\n"
        "Access-Control-Request-Method: POST\n"
        "Access-Control-Request-Headers: content-type, idempotency-key\n"
        "Connection: close\n\n"
    ))
    assert status in (200, 204)
    assert headers["access-control-allow-origin"] == "http://localhost:8080"
    assert "origin" in headers["vary"].lower()
    allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "idempotency-key"} <= allowed
    assert "POST" in headers["access-control-allow-methods"]

    status, headers = raw_http(stack, (
        "OPTIONS /appointments HTTP/1.1\n"
        "Host: 127.0.0.1\n"
        "Origin: https://evil.example\n"
        "Access-Control-Request-Method: POST\n"
        "Connection: close\n\n"
    ))
    assert "access-control-allow-origin" not in headers


def test_cross_origin_post_carries_the_matching_origin(stack):
    status, headers, _ = post_json(stack, valid_fields(message=f"cors {uuid.uuid4()}"),
                                   {"Origin": "http://127.0.0.1:8080"})
    assert status == 201
    assert headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"


def test_replay_with_the_same_key_returns_the_first_id(stack):
    key = f"e2e-{uuid.uuid4()}"
    fields = valid_fields(message=f"replay {uuid.uuid4()}")
    first = post_json(stack, fields, {"Idempotency-Key": key})
    again = post_json(stack, fields, {"Idempotency-Key": key})
    assert first[0] == again[0] == 201
    assert json.loads(first[2])["id"] == json.loads(again[2])["id"]
    changed = post_json(stack, {**fields, "message": "something else"}, {"Idempotency-Key": key})
    assert changed[0] == 409
    assert json.loads(changed[2])["error"] == "idempotency_conflict"


def test_concurrent_replays_are_one_request(stack):
    """Twenty simultaneous copies (a double click, a retrying proxy) become one stored item."""
    from concurrent.futures import ThreadPoolExecutor

    keyed = valid_fields(message=f"concurrent keyed {uuid.uuid4()}")
    keyless = valid_fields(message=f"concurrent keyless {uuid.uuid4()}")
    key = f"e2e-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=10) as pool:
        keyed_answers = list(pool.map(lambda _: post_json(stack, keyed, {"Idempotency-Key": key}), range(10)))
        keyless_answers = list(pool.map(lambda _: post_json(stack, keyless), range(10)))
    for answers in (keyed_answers, keyless_answers):
        assert {status for status, _, _ in answers} == {201}
        ids = {json.loads(body)["id"] for _, _, body in answers}
        assert len(ids) == 1
        assert stored(stack, ids.pop())


def test_concurrent_distinct_requests_are_all_stored(stack):
    from concurrent.futures import ThreadPoolExecutor

    requests_ = [valid_fields(message=f"distinct {n} {uuid.uuid4()}") for n in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda fields: post_json(stack, fields), requests_))
    ids = {json.loads(body)["id"] for status, _, body in answers if status == 201}
    assert len(ids) == 12
    assert all(stored(stack, request_id) for request_id in ids)


def test_storage_outage_is_a_503_with_retry_after_and_nothing_half_written(stack):
    from tools.resources import create_table

    dynamodb = stack.client("dynamodb")
    table = stack.settings_env["APPOINTMENTS_TABLE"]
    dynamodb.delete_table(TableName=table)
    try:
        status, headers, body = post_json(stack, valid_fields(message=f"outage {uuid.uuid4()}"))
        assert status == 503
        assert int(headers["Retry-After"]) > 0
        assert json.loads(body)["error"] == "service_unavailable"
    finally:
        create_table(dynamodb, table)
    status, _, body = post_json(stack, valid_fields(message=f"after outage {uuid.uuid4()}"))
    assert status == 201
    assert stored(stack, json.loads(body)["id"])
