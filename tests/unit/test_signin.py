"""Sign-in by e-mailed code and the sessions it opens, with fakes and a hand-moved clock."""
import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.core.errors import Unauthorized, ValidationFailed
from chalicelib.staff.accounts import AccountAdmin
from chalicelib.staff.signin import CODE_DIGITS, SignIn, SignInFailed, session_hash
from tests.fakes import Clock, FakeAccounts, FakeMailer, FakeSignInStore

START = datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)


class Codes:
    """Predictable codes: 10000001, 10000002, ..."""

    def __init__(self):
        self.issued = []

    def __call__(self):
        self.issued.append(str(10000001 + len(self.issued)))
        return self.issued[-1]


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def world(clock, settings):
    accounts, store, mailer, codes = FakeAccounts(), FakeSignInStore(), FakeMailer(), Codes()
    AccountAdmin(accounts, now=clock).add("Dana@Clinic.example", "Dana Desk", "staff")
    sign_in = SignIn(accounts, store, mailer, settings, now=clock, make_code=codes)
    return sign_in, accounts, store, mailer, codes


def mailed_code(mailer):
    return re.search(r"\b(\d{4}) (\d{4})\b", mailer.sent[-1].text).group(0).replace(" ", "")


def test_an_active_account_is_mailed_a_code_that_signs_in(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    assert [mail.to for mail in mailer.sent] == ["dana@clinic.example"]
    session, staff = sign_in.verify("dana@clinic.example", mailed_code(mailer))
    assert (staff.name, staff.role, staff.email) == ("Dana Desk", "staff", "dana@clinic.example")
    assert sign_in.staff_member(session).name == "Dana Desk"


def test_the_code_has_eight_digits_and_may_be_typed_with_spaces(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    code = mailed_code(mailer)
    assert len(code) == CODE_DIGITS == 8
    sign_in.verify("DANA@clinic.example ", f" {code[:4]} {code[4:]} ")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(world):
    sign_in, _, _, mailer, _ = world
    assert sign_in.request_code("nobody@clinic.example") is None
    assert sign_in.request_code("dana@clinic.example") is None
    assert [mail.to for mail in mailer.sent] == ["dana@clinic.example"]


def test_a_disabled_account_gets_no_code(world, clock):
    sign_in, accounts, _, mailer, _ = world
    AccountAdmin(accounts, now=clock).disable("dana@clinic.example")
    sign_in.request_code("dana@clinic.example")
    assert mailer.sent == []


def test_a_malformed_address_is_a_field_error(world):
    sign_in, *_ = world
    with pytest.raises(ValidationFailed) as failure:
        sign_in.request_code("dana at clinic")
    assert set(failure.value.fields) == {"email"}


def test_the_code_works_until_ten_minutes_and_not_at_ten(world, clock):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    code = mailed_code(mailer)
    clock.advance(minutes=10)
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", code)
    assert failure.value.reason == "expired"

    sign_in.request_code("dana@clinic.example")
    clock.advance(minutes=9, seconds=59)
    sign_in.verify("dana@clinic.example", mailed_code(mailer))


def test_a_code_works_once(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    code = mailed_code(mailer)
    sign_in.verify("dana@clinic.example", code)
    with pytest.raises(SignInFailed):
        sign_in.verify("dana@clinic.example", code)


def test_five_wrong_tries_void_the_code(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    code = mailed_code(mailer)
    wrong = "99999999" if code != "99999999" else "88888888"
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in.verify("dana@clinic.example", wrong)
    sign_in.verify("dana@clinic.example", code)  # four wrong tries: the right code still works

    sign_in.request_code("dana@clinic.example")
    code = mailed_code(mailer)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            sign_in.verify("dana@clinic.example", wrong)
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", code)
    assert failure.value.reason == "too_many_tries"


# Arabic-Indic, Persian (Extended Arabic-Indic), full-width and Devanagari digits.
OTHER_DIGITS = ("\u0660", "\u06f0", "\uff10", "\u0966")


@pytest.mark.parametrize("zero", OTHER_DIGITS)
def test_a_right_code_typed_in_other_digits_signs_in(world, zero):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    typed = "".join(chr(ord(zero) + int(digit)) for digit in mailed_code(mailer))
    _, staff = sign_in.verify("dana@clinic.example", f"{typed[:4]} {typed[4:]}")
    assert staff.name == "Dana Desk"


@pytest.mark.parametrize("typed", ["\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078",  # superscripts: digits, not decimals
                                   "\u2460\u2461\u2462\u2463\u2464\u2465\u2466\u2467",  # circled
                                   "1000000\u0661\u0662", "abcdefgh", "1" * 80, "", None, 12345678])
def test_a_code_in_anything_but_digits_is_not_right_and_never_an_error(world, typed, caplog):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", typed)
    assert failure.value.reason in ("malformed_code", "wrong_code")


def test_a_new_code_replaces_the_old_one(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    first = mailed_code(mailer)
    sign_in.request_code("dana@clinic.example")
    with pytest.raises(SignInFailed):
        sign_in.verify("dana@clinic.example", first)
    sign_in.verify("dana@clinic.example", mailed_code(mailer))


def test_at_most_five_codes_an_hour_per_address(world, clock):
    sign_in, _, _, mailer, _ = world
    for _ in range(7):
        sign_in.request_code("dana@clinic.example")
        clock.advance(minutes=1)
    assert len(mailer.sent) == 5
    clock.advance(minutes=52, seconds=59)  # the first request is 59:59 old: still counted
    sign_in.request_code("dana@clinic.example")
    assert len(mailer.sent) == 5
    clock.advance(seconds=1)  # an hour old: it no longer counts
    sign_in.request_code("dana@clinic.example")
    assert len(mailer.sent) == 6


def test_only_hashes_are_stored(world):
    sign_in, _, store, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    code = mailed_code(mailer)
    assert code not in repr(store.codes)
    session, _ = sign_in.verify("dana@clinic.example", code)
    assert session not in repr(store.sessions)
    assert set(store.sessions) == {session_hash(session)}


def test_a_session_id_has_at_least_128_random_bits(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    session, _ = sign_in.verify("dana@clinic.example", mailed_code(mailer))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", session)  # 256 bits, URL-safe base64


def signed_in(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    return sign_in.verify("dana@clinic.example", mailed_code(mailer))[0]


def test_a_session_ends_after_the_idle_timeout(world, clock, settings):
    sign_in = world[0]
    session = signed_in(world)
    assert settings.session_idle_minutes == 30
    clock.advance(minutes=29, seconds=59)
    sign_in.staff_member(session)  # used: the idle clock starts again
    clock.advance(minutes=29, seconds=59)
    sign_in.staff_member(session)
    clock.advance(minutes=30)
    with pytest.raises(Unauthorized):
        sign_in.staff_member(session)


def test_the_idle_timeout_comes_from_the_setting(world, clock, settings):
    _, accounts, store, mailer, codes = world
    sign_in = SignIn(accounts, store, mailer, replace(settings, session_idle_minutes=5), now=clock, make_code=codes)
    session = signed_in((sign_in, accounts, store, mailer, codes))
    clock.advance(minutes=5)
    with pytest.raises(Unauthorized):
        sign_in.staff_member(session)


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(world, clock):
    sign_in = world[0]
    session = signed_in(world)
    for _ in range(47):
        clock.advance(minutes=15)
        sign_in.staff_member(session)
    clock.advance(minutes=14, seconds=59)
    sign_in.staff_member(session)  # 11:59:59 after sign-in
    clock.advance(seconds=1)
    with pytest.raises(Unauthorized):
        sign_in.staff_member(session)


def test_disabling_an_account_ends_its_sessions_at_once(world, clock):
    sign_in, accounts, *_ = world
    session = signed_in(world)
    AccountAdmin(accounts, now=clock).disable("dana@clinic.example")
    with pytest.raises(Unauthorized):
        sign_in.staff_member(session)


def test_a_role_change_counts_from_the_next_request(world, clock):
    sign_in, accounts, *_ = world
    session = signed_in(world)
    AccountAdmin(accounts, now=clock).add("dana@clinic.example", "Dana Desk", "admin")
    assert sign_in.staff_member(session).role == "admin"


def test_signing_out_ends_the_session_on_the_server(world):
    sign_in, _, store, _, _ = world
    session = signed_in(world)
    sign_in.sign_out(session)
    assert store.sessions == {}
    with pytest.raises(Unauthorized):
        sign_in.staff_member(session)


@pytest.mark.parametrize("session", [None, "", "short", "x" * 43 + "!", "a" * 44])
def test_a_malformed_session_id_is_refused_without_a_lookup(world, session):
    sign_in, _, store, _, _ = world
    store.session = None  # any lookup would fail loudly
    with pytest.raises(Unauthorized):
        sign_in.staff_member(session)


def test_a_failed_mail_gives_the_same_answer(world):
    sign_in, _, _, mailer, _ = world
    mailer.failing = "Throttling"
    assert sign_in.request_code("dana@clinic.example") is None


def test_the_code_mail_says_nothing_but_the_code(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    mail = mailer.sent[0]
    assert mail.subject == "Your sign-in code for the staff inbox"
    assert "http" not in mail.text and "Dana" not in mail.text


def test_enabling_a_disabled_account_again_brings_back_no_session(world, clock):
    sign_in, accounts, _, _, _ = world
    session = signed_in(world)
    clock.advance(minutes=1)
    AccountAdmin(accounts, now=clock).disable("dana@clinic.example")
    clock.advance(minutes=1)
    AccountAdmin(accounts, now=clock).add("dana@clinic.example", "Dana Desk", "staff")
    with pytest.raises(Unauthorized):
        sign_in.staff_member(session)


def test_a_code_mailed_before_the_account_was_disabled_never_signs_it_in(world, clock):
    sign_in, accounts, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example")
    code = mailed_code(mailer)
    clock.advance(minutes=1)
    AccountAdmin(accounts, now=clock).disable("dana@clinic.example")
    clock.advance(minutes=1)
    AccountAdmin(accounts, now=clock).add("dana@clinic.example", "Dana Desk", "staff")
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", code)
    assert failure.value.reason == "no_account"
    clock.advance(seconds=1)
    sign_in.request_code("dana@clinic.example")  # a code asked for after it was enabled again works
    assert sign_in.verify("dana@clinic.example", mailed_code(mailer))[1].name == "Dana Desk"
