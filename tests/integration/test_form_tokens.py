"""Form tokens and the spam rules through Chalice's test client, against moto: what a script sees,
what is stored, and that a suspected request pages nobody and mails nobody."""
import json
import re
from datetime import timedelta

import boto3
import pytest

from chalicelib.core.clock import utcnow
from chalicelib.intake import spam
from tests.conftest import STAGE_ENV, response_json, valid_fields
from tests.integration.test_api import ALLOWED_ORIGIN, BROWSER, assert_error, stored
from tests.integration.test_stream_alerts import (  # noqa: F401 (fixtures)
    driver, drain, inbox, received, sent_mail, stage_env,
)

TABLE = STAGE_ENV["APPOINTMENTS_TABLE"]


@pytest.fixture(autouse=True)
def signing_key(stage_env):
    """Tokens made here are signed as the app signs them: with the stage's settings and secret."""


def token_key():
    from chalicelib import wiring

    return wiring._form_token_key()


def served(seconds_ago=30):
    """A token as a form page served `seconds_ago` gets it: a person has had that long to fill it in."""
    return spam.issue_token(token_key(), utcnow() - timedelta(seconds=seconds_ago))


def status_and_reasons(dynamodb, table, request_id):
    item = stored(dynamodb, table, request_id)
    return item["status"]["S"], [r["S"] for r in item.get("spam_reasons", {}).get("L", [])]


# --- GET /form-token ------------------------------------------------------------------------

def test_form_token_gives_a_fresh_valid_token_never_cached(api):
    answer = api.client.http.get("/form-token")

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = response_json(answer)
    assert set(body) == {"form_token", "min_fill_seconds", "max_age_seconds"}
    assert (body["min_fill_seconds"], body["max_age_seconds"]) == (3, 24 * 3600)  # form.js renews a token before then
    read = spam.read_token(token_key(), body["form_token"], utcnow(), timedelta(hours=24))
    assert read.valid
    assert response_json(api.client.http.get("/form-token"))["form_token"] != body["form_token"]


def test_form_token_answers_cors_for_an_allowed_origin_only(api):
    allowed = api.client.http.get("/form-token", headers={"Origin": ALLOWED_ORIGIN})
    other = api.client.http.get("/form-token", headers={"Origin": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_form_page_carries_a_valid_token_and_is_never_cached(api):
    answer = api.client.http.get("/", headers=BROWSER)

    assert answer.headers["Cache-Control"] == "no-store"
    [token] = re.findall(r'name="form_token" value="([^"]*)"', answer.body.decode())
    assert spam.read_token(token_key(), token, utcnow(), timedelta(hours=24)).valid


# --- what a sender sees: a success, always --------------------------------------------------

def test_a_suspected_request_is_answered_exactly_as_a_person_is(api, dynamodb, table):
    person = api.post_json(valid_fields(form_token=served(), message="a person"))
    bot = api.post_json(valid_fields(form_token=served(seconds_ago=0), message="a bot"))

    assert person.status_code == bot.status_code == 201
    assert person.headers == bot.headers
    assert set(response_json(bot)) == set(response_json(person)) == {"id", "status", "due_at", "page"}
    assert response_json(bot)["status"] == response_json(person)["status"] == "received"
    assert status_and_reasons(dynamodb, table, response_json(person)["id"]) == ("new", [])
    assert status_and_reasons(dynamodb, table, response_json(bot)["id"]) == ("suspected_spam", ["too_fast"])


def test_a_suspected_plain_form_post_gets_the_same_303(api, dynamodb, table):
    person = api.post_form(valid_fields(contact_consent="on", form_token=served(), message="person"), BROWSER)
    bot = api.post_form(valid_fields(contact_consent="on", form_token="forged", message="bot"), BROWSER)

    assert person.status_code == bot.status_code == 303
    # The same but for the page token each carries (of its own request: the same length, the same form).
    person_location, _, person_ref = person.headers.pop("Location").partition("&ref=")
    bot_location, _, bot_ref = bot.headers.pop("Location").partition("&ref=")
    assert (person_location, len(person_ref)) == (bot_location, len(bot_ref)) and person_ref != bot_ref
    assert person.headers == bot.headers
    assert person.body == bot.body


@pytest.mark.parametrize("value", ["", "x" * 5000, "%%%%", "A" * spam.TOKEN_LENGTH, "\u202e" + "A" * 53])
def test_a_bad_token_is_token_invalid_never_an_error(api, dynamodb, table, value):
    answer = api.post_json(valid_fields(form_token=value))

    assert answer.status_code == 201
    assert status_and_reasons(dynamodb, table, response_json(answer)["id"]) == ("suspected_spam", ["token_invalid"])


def test_an_empty_token_in_a_form_post_is_token_invalid(api, dynamodb, table):
    answer = api.post_form(valid_fields(contact_consent="on", form_token=""))

    assert status_and_reasons(dynamodb, table, response_json(answer)["id"]) == ("suspected_spam", ["token_invalid"])


@pytest.mark.parametrize("value", [["x"], {"token": "x"}, 12345, True])
def test_a_token_that_is_not_text_in_json_is_a_422(api, dynamodb, table, value):
    answer = api.post_json(valid_fields(form_token=value))

    body = assert_error(answer, 422, "validation_failed")
    assert set(body["fields"]) == {"form_token"}
    assert dynamodb.scan(TableName=table)["Items"] == []


def test_a_token_spent_on_the_same_content_is_a_replay_and_on_other_content_a_correction_then_kept_aside(
        api, dynamodb, table):
    token = served()
    first = response_json(api.post_json(valid_fields(form_token=token)))
    again = response_json(api.post_json(valid_fields(form_token=token)))
    fixed = [response_json(api.post_json(valid_fields(form_token=token, phone=f"212-555-01{n}"))) for n in (70, 71)]
    elsewhere = response_json(api.post_json(valid_fields(form_token=token, location="northside")))

    assert again == first
    assert all(answer["id"] != first["id"] and answer["status"] == "received" for answer in [*fixed, elsewhere])
    assert status_and_reasons(dynamodb, table, first["id"]) == ("new", [])
    for correction in fixed:
        assert status_and_reasons(dynamodb, table, correction["id"]) == ("new", [])
        assert dynamodb.get_item(TableName=table, Key={"pk": {"S": f"APPT#{correction['id']}"}, "sk": {"S": "APPT"}})[
            "Item"]["corrects"] == {"S": first["id"]}
    assert status_and_reasons(dynamodb, table, elsewhere["id"]) == ("suspected_spam", ["token_reused"])


def test_a_request_with_a_token_costs_one_put_item(api):
    from chalicelib import wiring

    assert api.post_json(valid_fields(message="warm the key up")).status_code == 201
    calls = []
    for service in ("secretsmanager", "dynamodb"):
        wiring.aws_client(service).meta.events.register("before-call", lambda model, **_: calls.append(model.name))

    assert api.post_json(valid_fields(form_token=served(), message="one write")).status_code == 201
    assert calls == ["PutItem"]


def test_the_spam_line_names_the_reasons_and_nothing_typed(api):
    from tests.conftest import captured_log_lines

    before = len(captured_log_lines())
    api.post_json(valid_fields(message="visit https://a.example and www.b.example", first_name="Mallory"))

    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    [line] = [line for line in lines if line.get("event") == "spam_suspected"]
    assert line["reasons"] == ["links"]
    assert "Mallory" not in json.dumps(line) and "example" not in json.dumps(line)


# --- nobody paged, nobody mailed; "Not spam" alerts and confirms once ------------------------

def test_suspected_requests_page_nobody_and_mail_nobody(api, inbox, driver):
    token = served()
    api.post_json(valid_fields(email="fast@example.com", form_token=served(seconds_ago=1)))
    api.post_json(valid_fields(email="forged@example.com", form_token="A" * spam.TOKEN_LENGTH))
    api.post_json(valid_fields(email="links@example.com", message="http://a.example http://b.example"))
    api.post_json(valid_fields(email="person@example.com", form_token=token))
    api.post_json(valid_fields(email="reused@example.com", form_token=token, location="northside"))
    drain(driver)

    assert [m.destinations["ToAddresses"] for m in sent_mail()] == [["person@example.com"]]
    assert len(received(inbox)) == 1


def test_a_correction_alerts_staff_once_and_mails_the_patient_nothing_more(api, inbox, driver):
    token = served()
    first = response_json(api.post_json(valid_fields(email="person@example.com", form_token=token)))
    api.post_json(valid_fields(email="person@example.com", phone="212-555-0177", form_token=token))
    drain(driver)
    drain(driver)

    assert [m.destinations["ToAddresses"] for m in sent_mail()] == [["person@example.com"]]
    alerts = [message["Message"] for message in received(inbox)]
    assert len(alerts) == 2
    assert sum(f"It corrects an earlier request sent from the same page: ref {first['id'][:8]}" in alert
               for alert in alerts) == 1


def test_not_spam_alerts_and_confirms_exactly_once(api, inbox, driver, settings):
    from chalicelib.staff.auth import StaffMember
    from chalicelib.staff.triage import StaffService
    from chalicelib.storage.staff_records import StaffRepository

    request_id = response_json(api.post_json(valid_fields(email="quick.typist@example.com",
                                                          form_token=served(seconds_ago=2))))["id"]
    drain(driver)
    staff = StaffService(StaffRepository(boto3.client("dynamodb"), TABLE), settings)
    staff.update_status(request_id, {"status": "new"}, StaffMember("Sam Staff", "staff", "tok-sam"))
    drain(driver)
    drain(driver)

    assert [m.destinations["ToAddresses"] for m in sent_mail()] == [["quick.typist@example.com"]]
    [alert] = received(inbox)
    assert alert["MessageAttributes"]["appointment_id"]["Value"] == request_id
