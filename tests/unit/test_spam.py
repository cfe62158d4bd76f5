"""The rules that tell people from bots (chalicelib/intake/spam.py): one test per rule and per boundary."""
import base64
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.intake import spam
from tests.conftest import TEST_ID_KEY

KEY = spam.token_key(TEST_ID_KEY)
ISSUED = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
MAX_AGE = timedelta(hours=24)
NONCE = bytes(range(16))


def token(issued=ISSUED, key=KEY, nonce=NONCE):
    return spam.issue_token(key, issued, nonce)


def read(value, now=ISSUED + timedelta(seconds=10)):
    return spam.read_token(KEY, value, now, MAX_AGE)


def judge(token_value=None, *, after=timedelta(seconds=10), honeypot=False, required=False, **fields):
    now = ISSUED + after
    found = read(token_value, now) if token_value is not None else None
    return spam.judge(honeypot=honeypot, token=token_value, read=found, now=now, fields=fields, min_fill=3,
                      tokens_required=required)


# --- the token ------------------------------------------------------------------------------

def test_a_token_reads_back_its_issue_time_and_nonce():
    found = read(token())

    assert found == spam.TokenRead(True, ISSUED, NONCE.hex())
    assert len(token()) == spam.TOKEN_LENGTH


def test_two_tokens_issued_at_the_same_moment_differ():
    assert spam.issue_token(KEY, ISSUED) != spam.issue_token(KEY, ISSUED)


def test_the_token_key_is_derived_from_the_deployment_key_and_is_not_it():
    assert spam.token_key(TEST_ID_KEY) == KEY != TEST_ID_KEY
    assert spam.token_key(b"another deployment's key") != KEY


def forged_signature():
    raw = base64.urlsafe_b64decode(token() + "==")
    return base64.urlsafe_b64encode(raw[:-16] + bytes(16)).decode().rstrip("=")


def with_issue_time_changed():
    """The body of a real token with a later issue time, under the old signature."""
    raw = bytearray(base64.urlsafe_b64decode(token() + "=="))
    raw[7] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize("value", [
    "",
    " ",
    token()[:-1],                      # one character short
    token() + "A",                     # one character too long
    token() * 20,                      # far too long
    "!" * spam.TOKEN_LENGTH,           # not base64
    token().replace(token()[0], "+"),  # base64, but not the URL-safe alphabet
    token(key=spam.token_key(b"another deployment's key")),
    forged_signature(),
    with_issue_time_changed(),
    "A" * spam.TOKEN_LENGTH,
    "Zé" + token()[2:],                # odd Unicode
    token()[:20] + "\n" + token()[21:],
])
def test_a_token_that_is_forged_or_malformed_is_invalid(value):
    assert read(value) == spam.TokenRead(False)


@pytest.mark.parametrize("value", [None, 12345, ["x"], {"token": "x"}, b"bytes"])
def test_a_token_that_is_not_text_is_invalid(value):
    assert read(value) == spam.TokenRead(False)


def test_a_token_exactly_at_its_maximum_age_is_valid_and_a_millisecond_later_is_not():
    assert read(token(), ISSUED + MAX_AGE).valid
    assert not read(token(), ISSUED + MAX_AGE + timedelta(milliseconds=1)).valid


def test_a_token_from_the_future_is_invalid():
    assert read(token(), ISSUED).valid
    assert not read(token(), ISSUED - timedelta(milliseconds=1)).valid


# --- the rules ------------------------------------------------------------------------------

def test_a_person_with_a_token_raises_no_suspicion():
    verdict = judge(token(), message="My knee hurts on the stairs.")

    assert verdict.reasons == ()
    assert not verdict.suspected


def test_honeypot():
    assert judge(token(), honeypot=True).reasons == ("honeypot",)


def test_token_invalid():
    verdict = judge(forged_signature())

    assert verdict.reasons == ("token_invalid",)
    assert verdict.fill_ms is None


def test_an_empty_token_is_invalid_not_absent():
    assert judge("").reasons == ("token_invalid",)
    assert judge(None).reasons == ()


def test_too_fast_at_2_9_seconds_and_not_at_3_0():
    assert judge(token(), after=timedelta(milliseconds=2999)).reasons == ("too_fast",)
    assert judge(token(), after=timedelta(milliseconds=2900)).fill_ms == 2900
    assert judge(token(), after=timedelta(seconds=3)).reasons == ()


def test_no_token_only_when_tokens_are_required():
    assert judge(None, required=True).reasons == ("no_token",)
    assert judge(None, required=False).reasons == ()
    assert judge(token(), required=True).reasons == ()
    assert judge("", required=True).reasons == ("token_invalid",)


def test_one_web_address_with_a_token_is_a_persons_and_two_are_links():
    assert judge(token(), message="I found you at https://clinic.example/knees").reasons == ()
    assert judge(token(), message="https://a.example and www.b.example").reasons == ("links",)


def test_a_person_in_pain_is_no_link():
    """Catches the old pattern, "www." anywhere: "Owww… Owww." landed in Possible spam."""
    assert judge(None, message="Owww… Owww. My knee, www.").reasons == ()


def test_one_web_address_without_a_token_is_links():
    assert judge(None, message="see www.cheap.example").reasons == ("links",)
    assert judge(None, message="no address here").reasons == ()


def test_one_web_address_with_an_invalid_token_is_not_counted_twice():
    assert judge(forged_signature(), message="http://a.example").reasons == ("token_invalid",)


@pytest.mark.parametrize("fields, count", [
    ({"message": "HTTP://A.EXAMPLE WWW.B.EXAMPLE"}, 2),
    ({"message": "http://a.example", "insurance": "https://b.example"}, 2),
    ({"first_name": "www.x.example", "last_name": "http://y.example"}, 2),
    ({"message": "an e-mail: www@example.com is not a link, nor is example.com"}, 0),
    ({"message": "ftp://files.example"}, 0),
    ({"email": "http://x.example", "phone": "https://y.example", "location": "www.z"}, 0),  # not typed freely
    ({"message": "Owww… Owww. It hurts, www."}, 0),  # catches a `www\.` with no domain after it
    ({"message": "www. example.com, awww.example.com, http:// and https://"}, 0),
    ({"message": "www.clínica-sur.es and https://www.b.example/x?y=1"}, 2),
    ({"message": "(www.a.example) https://b.example"}, 2),
])
def test_web_addresses_are_counted_in_the_fields_a_person_types(fields, count):
    assert spam.count_links(fields) == count


def test_every_reason_is_kept_in_one_order():
    verdict = judge(None, honeypot=True, required=True, message="http://a.example http://b.example")

    assert verdict.reasons == ("honeypot", "links", "no_token")
    assert verdict.with_reason("token_reused").reasons == ("honeypot", "token_reused", "links", "no_token")


def test_the_signals_are_figures_only():
    verdict = judge(token(), after=timedelta(milliseconds=1234), message="http://a.example http://b.example")

    assert verdict.signals() == {"links": 2, "fill_ms": 1234}
    assert judge(None).signals() == {}


# --- in words, for staff --------------------------------------------------------------------

@pytest.mark.parametrize("reason, signals, words", [
    ("too_fast", {"fill_ms": 1234}, "sent 1.2 seconds after the page was served"),
    ("too_fast", {}, "sent too soon after the page was served"),
    ("links", {"links": 2}, "2 web addresses in the text"),
    ("links", {"links": 1}, "1 web address, and no form token"),
    ("honeypot", {}, "a field that people cannot see was filled in"),
    ("staff", {}, "marked as spam by staff"),
    ("something_new", {}, "something_new"),
])
def test_each_reason_reads_in_words(reason, signals, words):
    assert spam.reason_words(reason, signals) == words


def test_every_reason_has_words():
    assert set(spam.REASON_WORDS) == set(spam.REASONS)
