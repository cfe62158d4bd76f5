"""POST /appointments through Chalice's test client, against moto: every status code of the spec."""
import json
import re

import pytest
from botocore.stub import Stubber

from tests.conftest import captured_log_lines, remember_personal, response_json, valid_fields

ALLOWED_ORIGIN = "http://localhost:8080"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
KEY = "api-test-key-0001"


def assert_error(response, status, code):
    """The spec's error body, exactly: {"error", "message"[, "fields"]}, as JSON."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response_json(response)
    assert set(body) == ({"error", "message", "fields"} if code == "validation_failed" else {"error", "message"})
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"].endswith(".")
    return body


def stored_items(dynamodb, table):
    # Only the test looks at the whole table; the code under test never does.
    return dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]


def stored(dynamodb, table, request_id):
    return dynamodb.get_item(
        TableName=table, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}}, ConsistentRead=True
    ).get("Item")


def post_raw(api, body, content_type=None, headers=None, personal=None):
    """A body sent as given (for the 400/415 cases); its personal values are remembered."""
    if personal:
        remember_personal(personal)
    all_headers = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
    return api.request("POST", "/appointments", headers=all_headers, body=body)


# --- 201 ---------------------------------------------------------------------------------------

def test_a_json_request_is_saved_and_answered_201(api, dynamodb, table):
    response = api.post_json(valid_fields(reason="knee"))

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response_json(response)
    assert set(body) == {"id", "status", "due_at", "page"}
    assert body["status"] == "received"
    item = stored(dynamodb, table, body["id"])
    assert item["status"] == {"S": "new"}
    assert item["fields"]["M"]["reason"] == {"S": "knee"}
    assert body["due_at"] == item["due_at"]["S"]
    assert page_names(body["page"]) == body["id"]


def page_names(url):
    """The request a patient's page link names (it checks the signature), or None."""
    from chalicelib import wiring
    from chalicelib.core.patient_links import read_page_token
    from chalicelib.core.clock import utcnow

    base = wiring.get_settings().public_base_url + "/r/"
    assert url.startswith(base)
    return read_page_token(wiring.purpose_key_of("patient pages")(), url[len(base):], utcnow())


def thanked(response):
    """Where a browser was sent, and the thank-you reference its `ref` carries (checked, then left out)."""
    from chalicelib import wiring
    from chalicelib.core.clock import utcnow
    from chalicelib.core.patient_links import read_page_token

    location = response.headers["Location"]
    base, _, ref = location.partition("&ref=")
    assert read_page_token(wiring.purpose_key_of("thank-you references")(), ref, utcnow())
    return base


def test_a_script_form_post_is_answered_in_json(api, dynamodb, table):
    response = api.post_form(valid_fields(contact_consent="on", new_patient="yes", has_referral="0"))

    assert response.status_code == 201
    fields = stored(dynamodb, table, response_json(response)["id"])["fields"]["M"]
    assert fields["contact_consent"] == {"BOOL": True}
    assert fields["new_patient"] == {"BOOL": True}
    assert fields["has_referral"] == {"BOOL": False}
    assert fields["sms_consent"] == {"BOOL": False}


def test_a_replay_with_the_same_key_is_201_with_the_first_id(api, dynamodb, table):
    first = api.post_json(valid_fields(), {"Idempotency-Key": KEY})
    again = api.post_json(valid_fields(), {"Idempotency-Key": KEY})

    assert first.status_code == again.status_code == 201
    assert response_json(again) == response_json(first)
    assert len(stored_items(dynamodb, table)) == 1


def test_an_identical_keyless_submission_is_201_with_the_first_id(api, dynamodb, table):
    first = api.post_json(valid_fields(message="Double click."))
    again = api.post_json(valid_fields(message="Double click."))

    assert again.status_code == 201
    assert response_json(again)["id"] == response_json(first)["id"]
    assert len(stored_items(dynamodb, table)) == 1


def test_a_form_replay_with_submission_id_is_one_request(api, dynamodb, table):
    fields = valid_fields(contact_consent="on", submission_id="form-key-0001")
    first = api.post_form(fields)
    again = api.post_form(fields)

    assert response_json(again)["id"] == response_json(first)["id"]
    assert len(stored_items(dynamodb, table)) == 1


def test_a_honeypot_hit_answers_exactly_like_a_success(api, dynamodb, table):
    response = api.post_json(valid_fields(website="http://cheap-pills.example"))

    assert response.status_code == 201
    body = response_json(response)
    assert set(body) == {"id", "status", "due_at", "page"} and body["status"] == "received"
    assert stored(dynamodb, table, body["id"])["status"] == {"S": "suspected_spam"}
    assert body["due_at"] == response_json(api.post_json(valid_fields(message="A person.")))["due_at"]


def test_no_ip_address_is_stored(api, dynamodb, table):
    api.post_json(valid_fields(), {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "198.51.100.7"})

    [item] = stored_items(dynamodb, table)
    assert "203.0.113.9" not in json.dumps(item)
    assert "198.51.100.7" not in json.dumps(item)
    assert "127.0.0.1" not in json.dumps(item)


# --- 303 for a browser ---------------------------------------------------------------------------

def test_a_browser_form_post_is_sent_to_the_thank_you_page(api, settings, dynamodb, table):
    response = api.post_form(valid_fields(contact_consent="on"), BROWSER)

    assert response.status_code == 303
    assert settings.thank_you_url == "http://127.0.0.1:8000/thanks"
    assert thanked(response) == "http://127.0.0.1:8000/thanks?lang=en"
    assert response.body == b""
    assert len(stored_items(dynamodb, table)) == 1


def test_the_thank_you_page_never_comes_from_the_request(api, settings):
    fields = valid_fields(contact_consent="on", next="https://evil.example", redirect="https://evil.example",
                          thank_you_url="https://evil.example")
    response = api.post_form(fields, {**BROWSER, "Referer": "https://evil.example/form", "Host": "evil.example"})

    assert thanked(response) == settings.thank_you_url + "?lang=en"


def test_a_browser_replay_is_sent_to_the_thank_you_page_too(api, settings):
    api.post_form(valid_fields(contact_consent="on"), BROWSER)
    again = api.post_form(valid_fields(contact_consent="on"), BROWSER)

    assert (again.status_code, thanked(again)) == (303, settings.thank_you_url + "?lang=en")


def test_a_spanish_form_post_from_an_english_browser_thanks_the_patient_in_spanish(api, settings):
    """Catches the redirect to the bare THANK_YOU_URL: /thanks then followed the browser's English."""
    english_browser = {**BROWSER, "Accept-Language": "en-US,en;q=0.9"}
    response = api.post_form(valid_fields(contact_consent="on", language="es"), english_browser)

    assert (response.status_code, thanked(response)) == (303, settings.thank_you_url + "?lang=es")
    thanks = api.client.http.get("/thanks?lang=es", headers=english_browser).body.decode()
    assert '<html lang="es">' in thanks and "<h1>Gracias</h1>" in thanks


def test_without_a_language_field_the_thank_you_page_follows_accept_language(api, settings):
    response = api.post_form(valid_fields(contact_consent="on"), {**BROWSER, "Accept-Language": "es-MX,es;q=0.9"})

    assert thanked(response) == settings.thank_you_url + "?lang=es"


def test_the_thank_you_page_of_a_plain_post_says_when_and_links_the_patient_s_page(api, settings):
    response = api.post_form(valid_fields(contact_consent="on", language="es"), BROWSER)
    location = response.headers["Location"]
    ref = location.partition("&ref=")[2]

    page = api.client.http.get(location[len("http://127.0.0.1:8000"):], headers=BROWSER)
    text = page.body.decode()

    link = re.search(r'la necesita\. <a href="([^"]+)"', text).group(1)
    assert "a más tardar " in text and page_names(link)
    assert ref not in link  # the page's own token, not the short-lived reference
    assert (page.headers["Cache-Control"], page.headers["Referrer-Policy"], page.headers["X-Robots-Tag"]) == (
        "no-store", "no-referrer", "noindex")
    forged = api.client.http.get("/thanks?lang=es&ref=" + ref[:-2] + "AA", headers=BROWSER).body.decode()
    assert "a más tardar" not in forged and "/r/" not in forged and "<h1>Gracias</h1>" in forged
    page_link = page_names(link) and link[len(settings.public_base_url) + 3:]
    as_ref = api.client.http.get("/thanks?lang=es&ref=" + page_link, headers=BROWSER).body.decode()
    assert "/r/" not in as_ref  # a page token is no thank-you reference (keys of their own)


# --- 422 ---------------------------------------------------------------------------------------

def test_validation_errors_name_every_failing_field(api, dynamodb, table):
    response = api.post_json(valid_fields(first_name="", email="not-an-email", location="moon", phone=None))

    body = assert_error(response, 422, "validation_failed")
    assert set(body["fields"]) == {"first_name", "email", "location", "phone"}
    assert body["fields"]["first_name"] == "Please enter your first name."
    assert stored_items(dynamodb, table) == []


@pytest.mark.parametrize("fields", [{}, {"first_name": None}, {"first_name": 3, "contact_consent": "yes"}])
def test_missing_null_or_wrongly_typed_required_fields_are_422(api, fields):
    body = assert_error(api.post_json(fields), 422, "validation_failed")

    assert {"first_name", "last_name", "email", "phone", "location", "contact_consent"} <= set(body["fields"])
    assert all(isinstance(text, str) and text for text in body["fields"].values())


def test_an_unticked_consent_box_is_422(api):
    body = assert_error(api.post_form(valid_fields(contact_consent=...)), 422, "validation_failed")

    assert body["fields"] == {"contact_consent": "Please confirm that the clinic may contact you about this request."}


@pytest.mark.parametrize("headers, fields, field", [
    ({"Idempotency-Key": "short"}, {}, "Idempotency-Key"),
    ({"Idempotency-Key": "has spaces inside"}, {}, "Idempotency-Key"),
    ({}, {"submission_id": "bad key!"}, "submission_id"),
    ({}, {"submission_id": 12345678}, "submission_id"),
])
def test_an_invalid_idempotency_key_is_422_on_its_field(api, headers, fields, field):
    body = assert_error(api.post_json(valid_fields(**fields), headers), 422, "validation_failed")

    assert set(body["fields"]) == {field}


def test_a_browser_gets_a_readable_page_listing_what_to_fix(api):
    response = api.post_form(valid_fields(email="zoe@<b>.example", location="moon", contact_consent=...), BROWSER)

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.body.decode()
    assert "<strong>Email</strong>" in page
    assert "<strong>Clinic location</strong>" in page
    assert "<strong>Consent to be contacted</strong>" in page
    assert "the part after the @ sign is not a domain that can receive e-mail" in page
    assert "<b>" not in page and "&lt;b&gt;" not in page  # the reason is ours: nothing typed is echoed, escaped or not


# --- 400 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"first_name": "Zo',
    b"{first_name: 1}",
    b"",
    b"[]",
    b'[{"first_name": "Zo\xc3\xab"}]',
    b'"a string"',
    b"42",
    b"null",
    b'{"phone": NaN}',
    b'{"first_name": "Jos\xe9"}',
    b"\xff\xfe{\x00}\x00",
])
def test_a_json_body_that_cannot_be_read_is_400(api, body):
    assert_error(post_raw(api, body, "application/json"), 400, "invalid_body")


@pytest.mark.parametrize("body", [b"first_name=Jos\xe9", b"first_name=Jos%E9", b"first_name=%C3", b"message=%ED%A0%80"])
def test_a_form_body_that_is_not_utf8_is_400(api, body):
    assert_error(post_raw(api, body, "application/x-www-form-urlencoded"), 400, "invalid_body")


def test_a_browser_gets_a_page_for_a_body_that_cannot_be_read(api):
    response = post_raw(api, b"first_name=Jos%E9", "application/x-www-form-urlencoded", BROWSER)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


# --- 413 ---------------------------------------------------------------------------------------

def test_a_json_body_over_16_kib_is_413(api, dynamodb, table):
    assert_error(api.post_json(valid_fields(message="m" * (16 * 1024))), 413, "payload_too_large")
    assert stored_items(dynamodb, table) == []


def test_a_form_body_over_16_kib_is_413(api):
    assert_error(api.post_form(valid_fields(insurance="i" * (16 * 1024))), 413, "payload_too_large")


# --- 415 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [
    None, "text/plain", "text/plain; charset=utf-8", "application/json; charset=latin-1",
    "application/x-www-form-urlencoded; charset=iso-8859-1", "multipart/form-data; boundary=xyz", "application/xml",
])
def test_another_content_type_is_415(api, content_type, dynamodb, table):
    fields = valid_fields()
    response = post_raw(api, json.dumps(fields).encode(), content_type, personal=fields)

    assert_error(response, 415, "unsupported_media_type")
    assert stored_items(dynamodb, table) == []


# --- 409 ---------------------------------------------------------------------------------------

def test_the_same_key_with_different_content_is_409(api, dynamodb, table):
    first = api.post_json(valid_fields(message="First."), {"Idempotency-Key": KEY})
    changed = api.post_json(valid_fields(message="Second."), {"Idempotency-Key": KEY})

    assert_error(changed, 409, "idempotency_conflict")
    [item] = stored_items(dynamodb, table)
    assert item["id"] == {"S": response_json(first)["id"]}
    assert item["fields"]["M"]["message"] == {"S": "First."}


def test_a_patient_who_corrects_a_sent_form_reads_what_to_do_in_plain_words(api):
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    sent = valid_fields(contact_consent="on", submission_id="form-4b1d9e7a2c")
    assert api.post_form(sent, browser).status_code == 303
    corrected = api.post_form({**sent, "phone": "(212) 555-0199"}, browser)

    assert corrected.status_code == 409
    page = corrected.body.decode()
    assert "We already have your request" in page and "call the clinic" in page and "new request" in page
    assert "Idempotency" not in page and "key" not in page.lower()


def test_a_spanish_patient_who_corrects_a_sent_form_reads_it_in_spanish_and_nothing_else(api):
    """Catches translate("") reaching gettext: the page's empty advice printed the catalogue's header
    (Project-Id-Version: …) under "Ya tenemos su solicitud"."""
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "en-US,en;q=0.9"}
    sent = valid_fields(contact_consent="on", submission_id="form-9c2e4f7a1b", language="es")
    assert api.post_form(sent, browser).status_code == 303
    corrected = api.post_form({**sent, "phone": "(212) 555-0199"}, browser)

    assert corrected.status_code == 409
    page = corrected.body.decode()
    assert '<html lang="es">' in page and "<h1>Ya tenemos su solicitud</h1>" in page
    assert "llame a la clínica" in page
    assert "Project-Id-Version" not in page and "Content-Type:" not in page and "Plural-Forms" not in page


# --- 503 ---------------------------------------------------------------------------------------

def test_a_missing_table_is_503_with_retry_after(api, dynamodb, table):
    dynamodb.delete_table(TableName=table)

    response = api.post_json(valid_fields())

    assert_error(response, 503, "service_unavailable")
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize("code", [
    "ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError",
])
def test_throttled_storage_is_503_and_the_retry_is_stored_once(api, dynamodb, table, code):
    from chalicelib import wiring

    with Stubber(wiring.aws_client("dynamodb")) as stub:
        stub.add_client_error("put_item", service_error_code=code, http_status_code=400)
        refused = api.post_json(valid_fields(), {"Idempotency-Key": KEY, "Origin": ALLOWED_ORIGIN})

    assert_error(refused, 503, "service_unavailable")
    assert refused.headers["Retry-After"] == "5"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert stored_items(dynamodb, table) == []

    retried = api.post_json(valid_fields(), {"Idempotency-Key": KEY})
    assert retried.status_code == 201
    assert len(stored_items(dynamodb, table)) == 1


# --- CORS --------------------------------------------------------------------------------------

def preflight(api, origin, request_headers="content-type, idempotency-key"):
    return api.request("OPTIONS", "/appointments", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": request_headers,
    })


@pytest.mark.parametrize("origin", ["http://localhost:8080", "http://127.0.0.1:8080"])
def test_a_preflight_from_an_allowed_origin_is_granted(api, origin):
    response = preflight(api, origin)

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in response.headers["Vary"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "idempotency-key"} <= allowed


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:8080.evil.example"])
def test_a_preflight_from_another_origin_is_not_granted(api, origin):
    response = preflight(api, origin)

    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_a_post_from_an_allowed_origin_can_read_its_answer(api):
    response = api.post_json(valid_fields(), {"Origin": ALLOWED_ORIGIN})

    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("send, status", [
    (lambda api, h: api.post_json(valid_fields(email="nope"), h), 422),
    (lambda api, h: post_raw(api, b"[]", "application/json", h), 400),
    (lambda api, h: post_raw(api, b"{}", "text/plain", h), 415),
])
def test_error_answers_carry_cors_so_the_page_can_show_them(api, send, status):
    response = send(api, {"Origin": ALLOWED_ORIGIN})

    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


def test_a_post_from_another_origin_gets_no_cors_grant(api):
    response = api.post_json(valid_fields(), {"Origin": "https://evil.example"})

    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


# --- logs ----------------------------------------------------------------------------------------

def test_each_answer_is_one_json_access_log_line(api):
    before = len(captured_log_lines())

    api.post_json(valid_fields(email="nope"))

    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    [access] = [line for line in lines if line.get("event") == "request"]
    assert access["route"] == "POST /appointments"
    assert (access["status"], access["outcome"]) == (422, "validation_failed")
    assert isinstance(access["latency_ms"], float)
    assert access["request_id"]
    [validation] = [line for line in lines if line.get("event") == "validation_failed"]
    assert validation["fields"] == ["email"]
    assert validation["request_id"] == access["request_id"]


def test_the_id_key_is_read_from_secrets_manager_once_for_many_requests(api):
    from chalicelib import wiring

    calls = []
    for service in ("secretsmanager", "dynamodb"):
        wiring.aws_client(service).meta.events.register(
            "before-call", lambda model, **_: calls.append(model.name))
    for n in range(3):
        assert api.post_json(valid_fields(message=f"request {n}")).status_code == 201
    assert calls == ["GetSecretValue", "PutItem", "PutItem", "PutItem"]


def test_a_phone_extension_reaches_the_staff_api(api, dynamodb, table):
    from tests.staffing import Tokens

    request_id = api.post_json(valid_fields(phone="212-555-0142 ext. 4417")).json_body["id"]
    tokens = Tokens(dynamodb)
    answer = api.request("GET", f"/staff/appointments/{request_id}", headers=tokens.header("staff"))
    assert response_json(answer)["fields"]["phone"] == "+12125550142 ext. 4417"


def test_small_mismatches_of_a_well_meant_request_are_accepted(api):
    body = json.dumps(valid_fields(message="bom and ascii"))[:-1] + ', "tracking": ' + "7" * 4300 + "}"
    answer = api.post_json("\ufeff" + body, {"Content-Type": "application/json; charset=us-ascii",
                                             "Idempotency-Key": ""})
    assert answer.status_code == 201, answer.body


def test_the_patients_language_is_stored_and_an_unknown_one_is_a_422(api, dynamodb, table):
    spanish = api.post_json(valid_fields(message="en español"), {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    chosen = api.post_json(valid_fields(message="elegido", language="es"), {"Accept-Language": "en"})
    refused = api.post_json(valid_fields(language="fr"))

    assert stored(dynamodb, table, response_json(spanish)["id"])["language"] == {"S": "es"}
    assert stored(dynamodb, table, response_json(chosen)["id"])["language"] == {"S": "es"}
    body = assert_error(refused, 422, "validation_failed")
    assert set(body["fields"]) == {"language"}
    for value in (["es"], {"es": True}, 7):
        assert set(assert_error(api.post_json(valid_fields(language=value)), 422, "validation_failed")["fields"]) == \
            {"language"}


def test_a_spanish_request_is_told_what_to_fix_in_spanish(api):
    by_field = assert_error(api.post_json(valid_fields(email="nope", language="es")), 422, "validation_failed")
    by_header = assert_error(api.post_json(valid_fields(first_name=""), {"Accept-Language": "es-MX,es;q=0.9"}),
                             422, "validation_failed")
    english = assert_error(api.post_json(valid_fields(first_name=""), {"Accept-Language": "fr, en;q=0.5"}),
                           422, "validation_failed")

    assert by_field["message"].startswith("Algunos campos necesitan su atención")
    assert by_field["fields"]["email"] == ("Revise su dirección de correo electrónico: le falta el signo @, como en "
                                           "nombre@example.com.")
    assert by_header["fields"]["first_name"] == "Escriba su nombre."
    assert english["fields"]["first_name"] == "Please enter your first name."
    long_name = assert_error(api.post_json(valid_fields(first_name="a" * 61, language="es")), 422, "validation_failed")
    assert long_name["fields"]["first_name"] == "El campo «Nombre» puede tener como máximo 60 caracteres (tiene 61)."


def test_a_browsers_plain_post_in_spanish_gets_the_page_of_what_to_fix_in_spanish(api):
    answer = api.post_form(valid_fields(contact_consent="on", phone="12", language="es"), BROWSER)

    page = answer.body.decode()
    assert answer.status_code == 422
    assert '<html lang="es">' in page and "Revise su solicitud de cita" in page
    assert "<strong>Teléfono</strong>" in page and "Atrás" in page


def test_the_form_page_follows_lang_then_accept_language(api):
    assert '<html lang="es">' in api.client.http.get("/?lang=es", headers=BROWSER).body.decode()
    assert '<html lang="es">' in api.client.http.get("/", headers={**BROWSER, "Accept-Language": "es-US"}).body.decode()
    for odd in ({"Accept-Language": ";;q=abc,"}, {"Accept-Language": "x" * 10_000}):
        assert '<html lang="en">' in api.client.http.get("/?lang=xx", headers={**BROWSER, **odd}).body.decode()
    thanks = api.client.http.get("/thanks", headers={"Accept-Language": "es"})
    assert "<h1>Gracias</h1>" in thanks.body.decode() and thanks.headers["Vary"] == "Accept-Language, Origin"


def test_a_browsers_form_with_a_language_not_offered_falls_back_without_an_error(api, dynamodb, table):
    answer = api.post_form(valid_fields(contact_consent="on", language="xx", message="form in xx"))

    assert answer.status_code == 201
    assert stored(dynamodb, table, response_json(answer)["id"])["language"] == {"S": "en"}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_null_or_blank_language_is_absent(api, dynamodb, table, value):
    answer = api.post_json(valid_fields(language=value, message=f"blank language {value!r}"),
                           {"Accept-Language": "es"})

    assert answer.status_code == 201
    assert stored(dynamodb, table, response_json(answer)["id"])["language"] == {"S": "es"}


# --- every answer in the patient's language ------------------------------------------------------

ENGLISH_BROWSER = {**BROWSER, "Accept-Language": "en-US,en;q=0.9"}


def _fail_the_service(monkeypatch):
    import app as app_module

    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_module, "appointment_service", broken)


@pytest.mark.parametrize("case, status, msgid", [
    ("not_utf8", 400, "The form body could not be read as UTF-8 URL-encoded fields."),
    ("too_large", 413, "The request is too large. Please shorten your message and try again."),
    ("text_plain", 415, "Send the form as application/json or application/x-www-form-urlencoded, in UTF-8."),
    ("latin1", 415, "Send the form in UTF-8 (charset=utf-8)."),
    ("no_table", 503, "We could not save your request just now. Nothing was saved; please try again in a few seconds."),
    ("bug", 500, "Something went wrong on our side. Please try again, or call the clinic."),
])
def test_a_spanish_page_gets_every_error_in_spanish_on_a_plain_post(api, dynamodb, table, monkeypatch, case, status,
                                                                     msgid):
    """Catches an error answer that translates only validation errors: 400/413/415/500/503 gave the English
    message under the Spanish title."""
    from urllib.parse import urlencode

    from chalicelib.core.i18n import translate

    form = urlencode(valid_fields(contact_consent="on", language="es"))
    content_type = "application/x-www-form-urlencoded"
    if case == "not_utf8":
        form = "language=es&first_name=%FF%FE"
    elif case == "too_large":
        form += "&message=" + "a" * 17_000
    elif case == "text_plain":
        content_type = "text/plain"
    elif case == "latin1":
        content_type += "; charset=iso-8859-1"
    elif case == "no_table":
        dynamodb.delete_table(TableName=table)
    else:
        _fail_the_service(monkeypatch)
    response = post_raw(api, form.encode(), content_type, ENGLISH_BROWSER, personal=valid_fields())

    assert response.status_code == status
    page = response.body.decode()
    assert '<html lang="es">' in page and "<h1>Revise su solicitud de cita</h1>" in page
    assert f"<p>{translate(msgid, 'es')}</p>" in page and msgid not in page
    assert translate(msgid, "es") != msgid


@pytest.mark.parametrize("case, status, code", [
    ("not_json", 400, "invalid_body"),
    ("not_an_object", 400, "invalid_body"),
    ("too_large", 413, "payload_too_large"),
    ("text_plain", 415, "unsupported_media_type"),
    ("no_table", 503, "service_unavailable"),
    ("bug", 500, "internal_error"),
])
def test_a_scripts_json_error_message_is_in_the_pages_language(api, dynamodb, table, monkeypatch, case, status, code):
    """Catches JSON messages that were English whatever the request's language: form.js showed them on the
    Spanish page. form.js sends Accept-Language: es (a body over 16 KiB cannot be read for its language)."""
    from chalicelib.core import errors
    from chalicelib.core.i18n import translate

    body, content_type = json.dumps(valid_fields(language="es")), "application/json"
    if case == "not_json":
        body = '{"language": "es",'
    elif case == "not_an_object":
        body = '["language", "es"]'
    elif case == "too_large":
        body = json.dumps(valid_fields(language="es", message="a" * 17_000))
    elif case == "text_plain":
        content_type = "text/plain"
    elif case == "no_table":
        dynamodb.delete_table(TableName=table)
    else:
        _fail_the_service(monkeypatch)
    response = post_raw(api, body.encode(), content_type, {"Accept-Language": "es"}, personal=valid_fields())

    answer = assert_error(response, status, code)
    english = {"invalid_body": ("The request body is not valid JSON.",
                                "The request body must be a JSON object with the form's fields."),
               "payload_too_large": (errors.PayloadTooLarge.message,),
               "unsupported_media_type": (errors.UnsupportedMediaType.message,),
               "service_unavailable": (errors.StorageUnavailable.message,),
               "internal_error": (errors.AppError.message,)}[code]
    assert answer["message"] in {translate(text, "es") for text in english}
    assert answer["message"] not in english


def test_the_body_language_field_wins_over_an_english_browser_for_any_error(api, dynamodb, table):
    dynamodb.delete_table(TableName=table)

    answer = api.post_json(valid_fields(language="es"), {"Accept-Language": "en-US,en;q=0.9"})

    assert response_json(answer)["message"].startswith("No pudimos guardar su solicitud")
