"""GET /staff/appointments/{id} as FHIR through Chalice's test client, against moto: negotiation, 404s, auth."""
import json
from datetime import date, timedelta

import pytest

from tests.conftest import captured_log_lines, response_json, valid_fields
from tests.fhir_validation import valid
from tests.staffing import Tokens

FHIR = "application/fhir+json"
MESSAGE = "Right shoulder; evenings only, please."


@pytest.fixture
def tokens(dynamodb, table):
    return Tokens(dynamodb)


def get(api, tokens, request_id, accept=None, caller="staff"):
    headers = {**tokens.header(caller), **({"Accept": accept} if accept else {})}
    return api.request("GET", f"/staff/appointments/{request_id}", headers=headers, body=b"")


def post(api, **overrides):
    response = api.post_json(valid_fields(message=MESSAGE, reason="shoulder", **overrides))
    assert response.status_code == 201
    return response_json(response)["id"]


def test_fhir_json_is_answered_with_a_valid_appointment(api, tokens):
    preferred = (date.today() + timedelta(days=10)).isoformat()
    request_id = post(api, preferred_date=preferred, preferred_time="morning")
    before = len(captured_log_lines())

    response = get(api, tokens, request_id, FHIR)

    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    resource = response_json(response)
    valid(resource)
    assert (resource["resourceType"], resource["id"], resource["status"]) == ("Appointment", request_id, "proposed")
    assert resource["requestedPeriod"][0]["start"].startswith(f"{preferred}T08:00:00-0")
    assert resource["contained"][0]["name"] == [{"family": "Okonkwo-Lindqvist", "given": ["Zoë"]}]
    assert resource["reasonCode"] == [{"text": "Shoulder"}]  # the stage's NOTIFY_DETAIL is full
    assert MESSAGE not in response.body.decode()
    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    assert [line["actor"] for line in lines if line.get("event") == "record_viewed"] == ["Sam Staff"]
    assert [line["outcome"] for line in lines if line.get("event") == "request"] == ["found"]


@pytest.mark.parametrize("accept", ["application/fhir+json;q=0.5, application/json", "application/json",
                                    "*/*", None, "application/fhir+json;q=0"])
def test_json_stays_the_default_and_wins_when_preferred(api, tokens, accept):
    request_id = post(api)
    response = get(api, tokens, request_id, accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response_json(response)["status"] == "new" and "resourceType" not in response_json(response)


def test_fhir_preferred_by_q_value_over_json(api, tokens):
    request_id = post(api)
    response = get(api, tokens, request_id, "application/json;q=0.4, application/fhir+json;q=0.9")
    assert response.headers["Content-Type"] == "application/fhir+json; charset=utf-8"


def test_a_booked_visit_has_its_start_and_end(api, tokens):
    request_id = post(api)
    day = date.today() + timedelta(days=2)
    booked = api.request("PATCH", f"/staff/appointments/{request_id}",
                         headers={**tokens.header("staff"), "Content-Type": "application/json"},
                         body=json.dumps({"status": "scheduled", "visit_at": f"{day.isoformat()}T10:00"}))
    assert booked.status_code == 200, booked.body

    resource = response_json(get(api, tokens, request_id, FHIR))

    valid(resource)
    assert resource["status"] == "booked"
    assert resource["start"].startswith(f"{day.isoformat()}T10:00:00-0")
    assert resource["end"].startswith(f"{day.isoformat()}T10:45:00-0")


def test_unknown_and_erased_ids_answer_a_not_found_operation_outcome(api, tokens):
    erased = post(api)
    assert api.request("DELETE", f"/staff/appointments/{erased}", headers=tokens.header("admin"),
                       body=b"").status_code == 200

    for request_id in (erased, "k5qg2n4xw7ybz3hd6tjm8rfc", "not an id"):
        response = get(api, tokens, request_id.replace(" ", "%20"), FHIR)
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
        outcome = response_json(response)
        valid(outcome)
        assert outcome["issue"] == [{"severity": "error", "code": "not-found",
                                     "diagnostics": "There is no appointment request with this id."}]


@pytest.mark.parametrize("caller", ["none", "unknown", "revoked"])
def test_without_a_valid_token_it_is_401_whatever_is_accepted(api, tokens, caller):
    request_id = post(api)
    response = get(api, tokens, request_id, FHIR, caller)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Okonkwo" not in response.body.decode()
