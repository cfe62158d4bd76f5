"""No input ever produces a 500: arbitrary JSON and form bodies, posted through the API.

The bodies are posted with `api.request`, not `post_json`/`post_form`: what Hypothesis
generates is not a patient's data, and it borrows string constants from the code under test
("request", "validation_failed", ...), which the log audit would then report as leaks. The
personal values of `valid_fields()` that some bodies are built on are remembered.
"""
import json
import re
from urllib.parse import quote

from hypothesis import HealthCheck, event, given, settings as examples, strategies as st

from tests.conftest import remember_personal, valid_fields

FIELD_NAMES = (
    "first_name", "last_name", "email", "phone", "location", "preferred_contact", "new_patient", "reason",
    "preferred_date", "preferred_time", "has_referral", "insurance", "message", "contact_consent", "sms_consent",
    "website", "submission_id", "form_token", "language", "consent_version",
)
LIKELY_VALUES = (
    "", " ", "on", "true", "yes", "1", "false", "no", "0", "text", "phone", "email", "downtown", "knee", "any",
    "2026-12-01", "1999-01-01", "zoe@example.com", "(212) 555-0142", "order-7f3a9c21", "\u202e", "\ud800", "\x00",
    "en", "es", "ES", "xx", "2026-11-01",
)
ERRORS = {400: "invalid_body", 409: "idempotency_conflict", 413: "payload_too_large", 415: "unsupported_media_type",
          422: "validation_failed"}
# 409 is a correct answer too: the table lives across examples, so a valid body that reuses a
# generated submission_id with other content is a conflict.
ANSWERS = {201, *ERRORS}
FAST = examples(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Any code point, lone surrogates (which JSON can carry as \ud800 escapes) more often than by chance.
any_char = st.characters(exclude_categories=()) | st.characters(categories=["Cs"])
any_text = st.text(any_char)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text | st.sampled_from(LIKELY_VALUES)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_dicts = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=len(FIELD_NAMES))
nearly_valid = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=3).map(
    lambda overrides: {**valid_fields(), **overrides}
)
field_texts = st.text(any_char, max_size=40) | st.sampled_from(LIKELY_VALUES)
form_pieces = st.sampled_from(
    ["%", "%E9", "%C3", "%C3%AB", "%ZZ", "%00", "=", "&", "+", ";", *FIELD_NAMES, *LIKELY_VALUES]
)
form_text = st.lists(form_pieces | st.text(any_char, max_size=10), max_size=30).map("".join)
around_the_limit = st.builds(
    lambda head, extra: head + b"x" * (16 * 1024 - len(head) + extra), st.binary(max_size=40), st.integers(-2, 2)
)
form_fields = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), field_texts, max_size=20)
nearly_valid_form = st.dictionaries(st.sampled_from(FIELD_NAMES), field_texts, max_size=3).map(
    lambda overrides: {**valid_fields(contact_consent="on"), **overrides}
)


def post(api, body, content_type):
    return api.request("POST", "/appointments", headers={"Content-Type": content_type}, body=body)


def utf8(text):
    """Lone surrogates go out as the bytes they would be, which are not valid UTF-8."""
    return text.encode("utf-8", "surrogatepass")


def urlencoded(fields):
    return "&".join(f"{quote(utf8(name))}={quote(utf8(value))}" for name, value in fields.items()).encode()


def assert_spec_answer(response):
    event(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code in ANSWERS
    body = json.loads(response.body)
    if response.status_code == 201:
        assert set(body) == {"id", "status", "due_at", "page"} and body["status"] == "received"
        return
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["error"] == ERRORS[response.status_code]
    assert isinstance(body["message"], str) and body["message"]
    if response.status_code == 422:
        assert set(body) == {"error", "message", "fields"}
        assert body["fields"] and all(isinstance(text, str) and text for text in body["fields"].values())
    else:
        assert set(body) == {"error", "message"}


@FAST
@given(value=json_values | field_dicts | nearly_valid, ascii_only=st.booleans())
def test_any_json_value_gets_an_answer_from_the_spec(api, value, ascii_only):
    remember_personal(valid_fields())
    body = json.dumps(value).encode() if ascii_only else utf8(json.dumps(value, ensure_ascii=False))

    assert_spec_answer(post(api, body, "application/json"))


@FAST
@given(fields=form_fields | nearly_valid_form)
def test_any_form_fields_get_an_answer_from_the_spec(api, fields):
    remember_personal(valid_fields())

    assert_spec_answer(post(api, urlencoded(fields), "application/x-www-form-urlencoded"))


@FAST
@given(text=form_text)
def test_any_form_text_gets_an_answer_from_the_spec(api, text):
    assert_spec_answer(post(api, utf8(text), "application/x-www-form-urlencoded"))


@FAST
@given(
    body=st.binary(max_size=300) | around_the_limit,
    content_type=st.sampled_from([
        "application/json", "application/x-www-form-urlencoded", "application/json; charset=utf-8",
        "text/plain", "application/json; charset=latin-1", "multipart/form-data",
    ]),
)
def test_any_bytes_get_an_answer_from_the_spec(api, body, content_type):
    assert_spec_answer(post(api, body, content_type))


@FAST
@given(fields=form_fields | nearly_valid_form)
def test_a_browser_gets_a_page_or_the_thank_you_page_whatever_it_sends(api, settings, fields):
    remember_personal(valid_fields())
    response = api.request("POST", "/appointments", body=urlencoded(fields), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
    })

    event(f"status {response.status_code}")
    assert response.status_code in {303, 400, 409, 422}
    if response.status_code == 303:
        location, _, ref = response.headers["Location"].partition("&ref=")
        assert location in {settings.thank_you_url + "?lang=en", settings.thank_you_url + "?lang=es"}
        assert re.fullmatch(r"[A-Za-z0-9_-]{52}", ref)
    else:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.body.decode().startswith("<!doctype html>")
