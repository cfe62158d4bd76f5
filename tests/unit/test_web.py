"""HTTP translation without HTTP: reading bodies, content negotiation, CORS, error answers."""
import json
from decimal import Decimal

import pytest
from chalice.app import CaseInsensitiveMapping

from chalicelib.core.errors import InvalidBody, PayloadTooLarge, StorageUnavailable, UnsupportedMediaType, ValidationFailed
from chalicelib.core.web import MAX_BODY_BYTES, cors_headers, error_response, wants_fhir, wants_html
from chalicelib.intake.http import error_page, read_submission, thank_you_url

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
ALLOWED = ("http://localhost:8080", "http://127.0.0.1:8080")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def read(body, content_type=FORM, **headers):
    mapping = {"Content-Type": content_type} if content_type else {}
    mapping.update({name.replace("_", "-"): value for name, value in headers.items()})
    return read_submission(CaseInsensitiveMapping(mapping), body if isinstance(body, bytes) else body.encode())


# --- JSON bodies -------------------------------------------------------------------------------

def test_a_json_object_gives_its_fields_as_sent():
    submission = read('{"first_name": "Zoë", "new_patient": true, "extra": [1]}', JSON)

    assert submission.fields == {"first_name": "Zoë", "new_patient": True, "extra": [1]}
    assert submission.idempotency_key is None


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON; charset=UTF-8",
    'application/json;charset="utf8"',
])
def test_json_content_types_in_utf8_are_accepted(content_type):
    assert read("{}", content_type).fields == {}


@pytest.mark.parametrize("body", [
    '{"first_name": ', "", "{'a': 1}", '{"a": 1}}', '{"a": NaN}', '{"a": Infinity}', "[" * 5000,
])
def test_broken_json_is_an_invalid_body(body):
    with pytest.raises(InvalidBody):
        read(body, JSON)


@pytest.mark.parametrize("body", ["[]", '[{"first_name": "Zoë"}]', '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_an_invalid_body(body):
    with pytest.raises(InvalidBody) as failed:
        read(body, JSON)
    assert "JSON object" in failed.value.message


def test_a_4300_digit_number_in_an_unknown_field_is_read_and_left_alone():
    fields = read('{"first_name": "Zoë", "tracking": ' + "9" * 4300 + ', "score": ' + "9" * 5000 + "}", JSON).fields
    assert fields["first_name"] == "Zoë"


def test_a_huge_number_in_a_form_field_reaches_the_model_to_be_refused():
    assert read('{"phone": ' + "9" * 5000 + "}", JSON).fields["phone"] == Decimal("9" * 5000)


def test_a_byte_order_mark_before_json_is_ignored():
    assert read("\ufeff" + json.dumps({"first_name": "Zoë"}), JSON).fields == {"first_name": "Zoë"}


@pytest.mark.parametrize("content_type", ["application/json; charset=us-ascii", "application/json; charset=US-ASCII"])
def test_a_body_declared_us_ascii_is_read_as_utf8(content_type):
    assert read('{"first_name": "Zoe"}', content_type).fields == {"first_name": "Zoe"}


@pytest.mark.parametrize("header", ["", "   "])
def test_an_empty_idempotency_key_header_counts_as_absent(header):
    assert read("{}", JSON, Idempotency_Key=header).idempotency_key is None
    submission = read('{"submission_id": "form-4b1d9e7a2c"}', JSON, Idempotency_Key=header)
    assert (submission.idempotency_key, submission.key_field) == ("form-4b1d9e7a2c", "submission_id")


def test_json_escapes_are_decoded_and_lone_surrogates_reach_the_model():
    assert read('{"first_name": "Jos\\u00e9", "last_name": "\\ud800"}', JSON).fields == {
        "first_name": "José", "last_name": "\ud800"
    }


@pytest.mark.parametrize("content_type", [JSON, FORM])
@pytest.mark.parametrize("body", [b'{"first_name": "Jos\xe9"}', b"first_name=Jos\xe9", b"\xff\xfe{}", b"\xed\xa0\x80"])
def test_bytes_that_are_not_utf8_are_an_invalid_body(content_type, body):
    with pytest.raises(InvalidBody) as failed:
        read(body, content_type)
    assert "UTF-8" in failed.value.message


# --- form bodies -------------------------------------------------------------------------------

def test_a_form_body_is_decoded_as_utf8():
    fields = read("first_name=Jos%C3%A9&last_name=O%27Brien+Smith&city=%E6%9D%8E").fields

    assert fields["first_name"] == "José"
    assert fields["last_name"] == "O'Brien Smith"
    assert fields["city"] == "李"


@pytest.mark.parametrize("body", ["first_name=Jos%E9", "first_name=%C3", "first_name=%ED%A0%80", "message=%FF%FE"])
def test_percent_encoding_of_bytes_that_are_not_utf8_is_an_invalid_body(body):
    with pytest.raises(InvalidBody):
        read(body)


def test_an_empty_form_field_counts_as_absent():
    fields = read("first_name=&last_name=+++&insurance=&email=zoe%40example.com").fields

    assert "first_name" not in fields and "last_name" not in fields and "insurance" not in fields
    assert fields["email"] == "zoe@example.com"


@pytest.mark.parametrize("word", ["on", "true", "yes", "1", "ON", "True", "YES", " on "])
@pytest.mark.parametrize("field", ["new_patient", "has_referral", "contact_consent", "sms_consent"])
def test_form_words_for_true(field, word):
    assert read(f"{field}={word}").fields[field] is True


@pytest.mark.parametrize("word", ["false", "no", "0", "FALSE", "No"])
@pytest.mark.parametrize("field", ["new_patient", "has_referral", "contact_consent", "sms_consent"])
def test_form_words_for_false(field, word):
    assert read(f"{field}={word}").fields[field] is False


@pytest.mark.parametrize("field", ["new_patient", "has_referral", "contact_consent", "sms_consent"])
@pytest.mark.parametrize("body", ["", "first_name=Zo%C3%AB", "{field}=", "{field}=++"])
def test_an_absent_or_empty_checkbox_is_false(field, body):
    assert read(body.format(field=field)).fields[field] is False


def test_an_unknown_checkbox_word_is_left_for_the_model_to_refuse():
    assert read("contact_consent=maybe").fields["contact_consent"] == "maybe"


def test_the_last_non_empty_value_of_a_repeated_form_field_wins():
    assert read("reason=knee&reason=hip&reason=").fields["reason"] == "hip"


def test_a_form_with_too_many_fields_is_an_invalid_body():
    with pytest.raises(InvalidBody):
        read("&".join(f"f{n}=x" for n in range(101)))


# --- content types and size --------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [
    None, "", "text/plain", "text/html", "multipart/form-data; boundary=x", "application/xml", "application/jsonp",
])
def test_another_content_type_is_unsupported(content_type):
    with pytest.raises(UnsupportedMediaType):
        read('{"first_name": "Zoë"}', content_type)


@pytest.mark.parametrize("content_type", [
    "application/json; charset=latin-1", "application/x-www-form-urlencoded; charset=ISO-8859-1",
    "application/json; charset=utf-16",
])
def test_a_charset_other_than_utf8_is_unsupported(content_type):
    with pytest.raises(UnsupportedMediaType) as failed:
        read("{}", content_type)
    assert "UTF-8" in failed.value.message


def test_a_body_of_exactly_16_kib_is_read():
    body = "message=" + "m" * (MAX_BODY_BYTES - len("message="))

    assert len(read(body).fields["message"]) == MAX_BODY_BYTES - len("message=")


@pytest.mark.parametrize("content_type", [JSON, FORM])
def test_a_body_over_16_kib_is_too_large(content_type):
    with pytest.raises(PayloadTooLarge):
        read(b"x" * (MAX_BODY_BYTES + 1), content_type)


def test_size_is_counted_in_bytes_not_characters():
    with pytest.raises(PayloadTooLarge):
        read("message=" + "李" * 5462)


# --- the idempotency key -----------------------------------------------------------------------

def test_the_idempotency_key_comes_from_the_header_trimmed():
    submission = read("{}", JSON, Idempotency_Key="  order-7f3a9c21 ")

    assert (submission.idempotency_key, submission.key_field) == ("order-7f3a9c21", "Idempotency-Key")


def test_a_form_sends_its_key_as_submission_id():
    submission = read("submission_id=order-7f3a9c21&first_name=Zo%C3%AB")

    assert (submission.idempotency_key, submission.key_field) == ("order-7f3a9c21", "submission_id")


def test_the_header_wins_over_the_submission_id_field():
    submission = read("submission_id=from-the-form", Idempotency_Key="from-the-header")

    assert (submission.idempotency_key, submission.key_field) == ("from-the-header", "Idempotency-Key")


@pytest.mark.parametrize("body", ["{}", '{"submission_id": ""}', '{"submission_id": "   "}', '{"submission_id": null}'])
def test_no_key_or_a_blank_one_means_keyless(body):
    assert read(body, JSON).idempotency_key is None


@pytest.mark.parametrize("value", [12345678, ["order-7f3a9c21"], {"k": "v"}, True])
def test_a_json_submission_id_that_is_not_text_is_passed_on_for_the_service_to_refuse(value):
    assert read(json.dumps({"submission_id": value}), JSON).idempotency_key == value


# --- content negotiation -----------------------------------------------------------------------

@pytest.mark.parametrize("accept", [
    BROWSER_ACCEPT, "text/html", "application/xhtml+xml", "application/json;q=0.5, text/html", "TEXT/HTML",
])
def test_a_browser_form_post_wants_html(accept):
    assert wants_html(accept)


@pytest.mark.parametrize("accept", [
    None, "", "*/*", "application/json", "application/json, text/html", "text/html;q=0.5, application/json",
    "text/html;q=0", "text/html;q=abc", "application/json, text/plain, */*",
])
def test_scripts_and_everything_else_get_json(accept):
    assert not wants_html(accept)


@pytest.mark.parametrize("accept", [
    "application/fhir+json", "application/fhir+json; fhirVersion=4.0", "application/json;q=0.5, application/fhir+json",
    "application/fhir+json, */*;q=0.8", "APPLICATION/FHIR+JSON",
])
def test_a_fhir_client_gets_fhir(accept):
    assert wants_fhir(accept)


@pytest.mark.parametrize("accept", [
    None, "", "*/*", "application/json", "application/fhir+json;q=0.5, application/json",
    "application/fhir+json;q=0", "application/fhir+json;q=abc", "application/fhir+json, application/json",
    "application/*, application/fhir+json;q=0.9",
])
def test_json_stays_the_default_over_fhir(accept):
    assert not wants_fhir(accept)


# --- CORS ------------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", ALLOWED)
def test_an_allowed_origin_is_echoed(origin):
    headers = cors_headers(origin, ALLOWED)

    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Vary"] == "Origin"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Headers" not in headers


def test_a_preflight_for_an_allowed_origin_names_methods_and_headers():
    headers = cors_headers("http://localhost:8080", ALLOWED, preflight=True)

    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")} >= {"POST", "OPTIONS"}
    assert {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")} >= {
        "content-type", "idempotency-key"
    }


@pytest.mark.parametrize("origin", [
    None, "", "null", "https://evil.example", "http://localhost:8081", "https://localhost:8080",
    "http://localhost:8080.evil.example", "http://LOCALHOST:8080 ",
])
@pytest.mark.parametrize("preflight", [False, True])
def test_another_origin_gets_no_cors_grant(origin, preflight):
    assert cors_headers(origin, ALLOWED, preflight=preflight) == {"Vary": "Origin"}


# --- error answers -----------------------------------------------------------------------------

def test_an_error_body_has_exactly_error_and_message():
    response = error_response(InvalidBody())

    assert response.status_code == 400
    assert set(json.loads(response.body)) == {"error", "message"}


def test_a_validation_error_body_adds_fields():
    response = error_response(ValidationFailed({"email": "Please enter your email address."}))

    assert response.status_code == 422
    assert json.loads(response.body) == {
        "error": "validation_failed",
        "message": "Some fields need your attention. Please correct them and send the form again.",
        "fields": {"email": "Please enter your email address."},
    }


def test_storage_unavailable_says_when_to_retry():
    response = error_response(StorageUnavailable())

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


def test_the_html_error_page_lists_fields_by_label_and_escapes_them():
    page = error_page("Please fix <these>.", {"email": "Bad <script>alert(1)</script> & more", "x<y": "z"})

    assert "<li><strong>Email</strong>: Bad &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</li>" in page
    assert "<strong>x&lt;y</strong>" in page
    assert "Please fix &lt;these&gt;." in page
    assert "<script>" not in page


@pytest.mark.parametrize("configured, language, location", [
    ("https://www.clinic.example/thanks", "es", "https://www.clinic.example/thanks?lang=es"),
    ("https://www.clinic.example/thanks?from=form", "es", "https://www.clinic.example/thanks?from=form&lang=es"),
    ("https://www.clinic.example/thanks?lang=en&a=%20b", "es", "https://www.clinic.example/thanks?a=%20b&lang=es"),
    ("https://www.clinic.example/thanks?#top", "en", "https://www.clinic.example/thanks?lang=en#top"),
    ("https://www.clinic.example/thanks?language=x&lang", "es",
     "https://www.clinic.example/thanks?language=x&lang=es"),
])
def test_the_thank_you_page_carries_the_patients_language_in_its_own_query(configured, language, location):
    """Catches `lang=` glued on with "?" alone: a THANK_YOU_URL with a query string became ...?from=form?lang=es."""
    assert thank_you_url(configured, language) == location


@pytest.mark.parametrize("error", ["AppError", "ConfigError", "ValidationFailed", "InvalidBody", "PayloadTooLarge",
                                   "UnsupportedMediaType", "IdempotencyConflict", "StorageUnavailable"])
def test_every_error_a_patient_can_meet_has_its_words_in_the_catalogue(error):
    """Catches an error message left unmarked (no N_): it has no translation and stays English on a Spanish page."""
    from chalicelib.core import errors
    from chalicelib.core.i18n import translate

    message = getattr(errors, error).message
    assert translate(message, "es") != message


def test_the_language_of_an_answer_to_deeply_nested_json_is_the_browser_s_not_a_crash():
    """Catches answer_language letting json's RecursionError out: the error page would fail to draw."""
    from types import SimpleNamespace

    from chalicelib.intake.http import answer_language

    request = SimpleNamespace(raw_body=b"{\"a\": " + b"[" * 10_000, headers={"accept-language": "es"}, query_params=None)
    assert answer_language(request) == "es"
