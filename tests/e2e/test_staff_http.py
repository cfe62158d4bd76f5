"""The staff API over real HTTP against the running local stack, with tokens made by the CLI."""
import csv
import io
import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid
from datetime import date, timedelta

import pytest

from tests.conftest import remember_personal, valid_fields
from tests.staffing import ROUTES
from tools.resources import ROOT

pytestmark = pytest.mark.e2e



def http(stack, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    all_headers = {**({"Content-Type": "application/json"} if isinstance(body, dict) else {}), **(headers or {})}
    request = urllib.request.Request(stack.base_url + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def staff_tokens(stack, *args):
    """`python -m tools.staff_tokens ...` against the running stack, as `make staff-token` runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "tools.staff_tokens", *args], cwd=ROOT, env={**os.environ, **stack.aws_env},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.fixture(scope="module")
def tokens(stack):
    run = uuid.uuid4().hex[:6]
    made = {}
    for kind, role in (("staff", "staff"), ("admin", "admin"), ("revoked", "staff")):
        lines = staff_tokens(stack, "create", "--name", f"E2E {kind} {run}", "--role", role)
        made[kind] = lines[-1]
        assert made[kind].startswith("appt_staff_")
    listing = staff_tokens(stack, "list")
    [revoked_line] = [line for line in listing if f"E2E revoked {run}" in line]
    staff_tokens(stack, "revoke", revoked_line.split()[0])
    assert not any(token in "\n".join(staff_tokens(stack, "list")) for token in made.values())
    made["unknown"] = "appt_staff_" + "Z" * 43
    made["run"] = run
    return made


def bearer(tokens, kind):
    if kind == "none":
        return {}
    if kind == "malformed":
        return {"Authorization": "Bearer not-a-token"}
    return {"Authorization": f"Bearer {tokens[kind]}"}


def post_request(stack, **overrides):
    fields = valid_fields(**{"message": f"e2e staff {uuid.uuid4()}", **overrides})
    remember_personal(fields)
    status, _, body = http(stack, "POST", "/appointments", fields)
    assert status == 201
    return json.loads(body)["id"], fields


def test_post_list_update_export_and_erase_over_http(stack, tokens):
    admin, staff = bearer(tokens, "admin"), bearer(tokens, "staff")
    request_id, fields = post_request(stack, first_name="Oluwaseun", last_name="Adébáyọ̀-Hale",
                                      email="seun.hale@example.net", insurance="=Cigna+PPO")
    note = f"Called Oluwaseun, booked for Monday {tokens['run']}."
    remember_personal({"message": note})

    status, headers, body = http(stack, "GET", "/staff/appointments?status=new&location=downtown&limit=100",
                                 None, staff)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert request_id in [item["id"] for item in json.loads(body)["items"]]

    status, _, body = http(stack, "GET", f"/staff/appointments/{request_id}", None, staff)
    assert status == 200 and json.loads(body)["fields"]["last_name"] == fields["last_name"]

    status, _, body = http(stack, "PATCH", f"/staff/appointments/{request_id}", {"status": "contacted", "note": note},
                           staff)
    assert status == 200 and json.loads(body)["history"][0]["note"] == note
    status, _, body = http(stack, "PATCH", f"/staff/appointments/{request_id}", {"status": "new"}, staff)
    assert status == 422 and json.loads(body)["error"] == "validation_failed"

    status, headers, body = http(stack, "GET", "/staff/appointments.csv?status=contacted", None, staff)
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))}
    assert rows[request_id]["last_name"] == fields["last_name"]
    assert rows[request_id]["insurance"] == "'=Cigna+PPO"

    assert http(stack, "DELETE", f"/staff/appointments/{request_id}", None, staff)[0] == 403
    status, _, body = http(stack, "DELETE", f"/staff/appointments/{request_id}", None, admin)
    assert status == 200
    tombstone = json.loads(body)
    assert tombstone["status"] == "erased" and tombstone["erased_by"] == f"E2E admin {tokens['run']}"
    assert http(stack, "DELETE", f"/staff/appointments/{request_id}", None, admin)[:1] == (200,)

    readable = [http(stack, "GET", f"/staff/appointments/{request_id}", None, staff)[2]]
    for query in ("", "?status=erased", "?status=contacted", "?location=downtown"):
        readable.append(http(stack, "GET", "/staff/appointments" + query, None, staff)[2])
        readable.append(http(stack, "GET", "/staff/appointments.csv" + query, None, staff)[2])
    item = stack.client("dynamodb").get_item(
        TableName=stack.settings_env["APPOINTMENTS_TABLE"],
        Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}}, ConsistentRead=True)["Item"]
    readable.append(json.dumps(item, ensure_ascii=False).encode())
    for value in (fields["first_name"], fields["last_name"], fields["email"], "Cigna", note, fields["message"]):
        assert not any(value.encode() in text for text in readable), value
    assert item["status"] == {"S": "erased"}


def test_the_authorization_matrix_over_http(stack, tokens):
    request_id, _ = post_request(stack)
    expected = {"none": 401, "malformed": 401, "unknown": 401, "revoked": 401, "staff": 200, "admin": 200}
    answers = {}
    for method, route in ROUTES:
        path = route.replace("{id}", request_id)
        for caller in expected:
            body = {"status": "contacted"} if method == "PATCH" else None
            if method == "PATCH" and caller == "admin":
                body = {"status": "scheduled", "visit_at": (date.today() + timedelta(days=2)).isoformat() + "T10:00"}
            status, headers, text = http(stack, method, path, body, bearer(tokens, caller))
            answers[(method, route, caller)] = status
            if status in (401, 403):
                error = json.loads(text)
                assert set(error) == {"error", "message"}
                assert error["error"] == {401: "unauthorized", 403: "forbidden"}[status]

    assert answers == {
        (method, route, caller): 403 if (method, caller) == ("DELETE", "staff") else status
        for method, route in ROUTES for caller, status in expected.items()
    }


def test_revocation_over_http_is_immediate(stack, tokens):
    lines = staff_tokens(stack, "create", "--name", f"E2E short-lived {tokens['run']}", "--role", "staff")
    token = lines[-1]
    [record_id] = re.findall(r"\(id ([0-9a-f]{12})\)", lines[0])
    assert http(stack, "GET", "/staff/appointments?limit=1", None, {"Authorization": f"Bearer {token}"})[0] == 200

    staff_tokens(stack, "revoke", record_id)

    assert http(stack, "GET", "/staff/appointments?limit=1", None, {"Authorization": f"Bearer {token}"})[0] == 401
