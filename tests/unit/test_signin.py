"""Sign-in by e-mailed code and the sessions it opens, with fakes and a hand-moved clock."""
import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.core.errors import Unauthorized, ValidationFailed
from chalicelib.staff.accounts import AccountAdmin
from chalicelib.staff.signin import CODE_DIGITS, SignIn, SignInFailed, session_hash
from tests.fakes import Clock, FakeAccounts, FakeCodeQueue, FakeMailer, FakeSignInStore

START = datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)
BROWSER = "b" * 43  # the sign-in id of the browser asking (its staff_signin cookie)
STRANGER = "s" * 43
DEVICE_KEY = b"k" * 32


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
    queue = FakeCodeQueue()
    sign_in = SignIn(accounts, store, mailer, settings, lambda: DEVICE_KEY, queue, now=clock, make_code=codes)
    queue.consumer = sign_in.send_code
    return sign_in, accounts, store, mailer, codes


def mailed_code(mailer):
    return re.search(r"\b(\d{4}) (\d{4})\b", mailer.sent[-1].text).group(0).replace(" ", "")


def test_an_active_account_is_mailed_a_code_that_signs_in(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    assert [mail.to for mail in mailer.sent] == ["dana@clinic.example"]
    session, staff = sign_in.verify("dana@clinic.example", mailed_code(mailer), BROWSER)
    assert (staff.name, staff.role, staff.email) == ("Dana Desk", "staff", "dana@clinic.example")
    assert sign_in.staff_member(session).name == "Dana Desk"


def test_the_code_has_eight_digits_and_may_be_typed_with_spaces(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    assert len(code) == CODE_DIGITS == 8
    sign_in.verify("DANA@clinic.example ", f" {code[:4]} {code[4:]} ", BROWSER)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(world):
    sign_in, _, _, mailer, _ = world
    assert sign_in.request_code("nobody@clinic.example", BROWSER) is None
    assert sign_in.request_code("dana@clinic.example", BROWSER) is None
    assert [mail.to for mail in mailer.sent] == ["dana@clinic.example"]


def test_a_disabled_account_gets_no_code(world, clock):
    sign_in, accounts, _, mailer, _ = world
    AccountAdmin(accounts, now=clock).disable("dana@clinic.example")
    sign_in.request_code("dana@clinic.example", BROWSER)
    assert mailer.sent == []


def test_a_malformed_address_is_a_field_error(world):
    sign_in, *_ = world
    with pytest.raises(ValidationFailed) as failure:
        sign_in.request_code("dana at clinic", BROWSER)
    assert set(failure.value.fields) == {"email"}


def test_the_code_works_until_ten_minutes_and_not_at_ten(world, clock):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    clock.advance(minutes=10)
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", code, BROWSER)
    assert failure.value.reason == "expired"

    sign_in.request_code("dana@clinic.example", BROWSER)
    clock.advance(minutes=9, seconds=59)
    sign_in.verify("dana@clinic.example", mailed_code(mailer), BROWSER)


def test_a_code_works_once(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    sign_in.verify("dana@clinic.example", code, BROWSER)
    with pytest.raises(SignInFailed):
        sign_in.verify("dana@clinic.example", code, BROWSER)


def test_five_wrong_tries_void_the_code(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    wrong = "99999999" if code != "99999999" else "88888888"
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in.verify("dana@clinic.example", wrong, BROWSER)
    sign_in.verify("dana@clinic.example", code, BROWSER)  # four wrong tries: the right code still works

    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            sign_in.verify("dana@clinic.example", wrong, BROWSER)
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", code, BROWSER)
    assert failure.value.reason == "too_many_tries"


# Arabic-Indic, Persian (Extended Arabic-Indic), full-width and Devanagari digits.
OTHER_DIGITS = ("\u0660", "\u06f0", "\uff10", "\u0966")


@pytest.mark.parametrize("zero", OTHER_DIGITS)
def test_a_right_code_typed_in_other_digits_signs_in(world, zero):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    typed = "".join(chr(ord(zero) + int(digit)) for digit in mailed_code(mailer))
    _, staff = sign_in.verify("dana@clinic.example", f"{typed[:4]} {typed[4:]}", BROWSER)
    assert staff.name == "Dana Desk"


@pytest.mark.parametrize("typed", ["\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078",  # superscripts: digits, not decimals
                                   "\u2460\u2461\u2462\u2463\u2464\u2465\u2466\u2467",  # circled
                                   "1000000\u0661\u0662", "abcdefgh", "1" * 80, "", None, 12345678])
def test_a_code_in_anything_but_digits_is_not_right_and_never_an_error(world, typed, caplog):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", typed, BROWSER)
    assert failure.value.reason in ("malformed_code", "wrong_code")


def test_a_new_code_replaces_the_old_one(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    first = mailed_code(mailer)
    sign_in.request_code("dana@clinic.example", BROWSER)
    with pytest.raises(SignInFailed):
        sign_in.verify("dana@clinic.example", first, BROWSER)
    sign_in.verify("dana@clinic.example", mailed_code(mailer), BROWSER)


def test_at_most_five_codes_an_hour_per_address(world, clock):
    sign_in, _, _, mailer, _ = world
    for _ in range(7):
        sign_in.request_code("dana@clinic.example", BROWSER)
        clock.advance(minutes=1)
    assert len(mailer.sent) == 5
    clock.advance(minutes=52, seconds=59)  # the first request is 59:59 old: still counted
    sign_in.request_code("dana@clinic.example", BROWSER)
    assert len(mailer.sent) == 5
    clock.advance(seconds=1)  # an hour old: it no longer counts
    sign_in.request_code("dana@clinic.example", BROWSER)
    assert len(mailer.sent) == 6


def test_only_hashes_are_stored(world):
    sign_in, _, store, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    assert code not in repr(store.codes)
    session, _ = sign_in.verify("dana@clinic.example", code, BROWSER)
    assert session not in repr(store.sessions)
    assert set(store.sessions) == {session_hash(session)}


def test_a_session_id_has_at_least_128_random_bits(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    session, _ = sign_in.verify("dana@clinic.example", mailed_code(mailer), BROWSER)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", session)  # 256 bits, URL-safe base64


def signed_in(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    return sign_in.verify("dana@clinic.example", mailed_code(mailer), BROWSER)[0]


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
    queue = FakeCodeQueue()
    sign_in = SignIn(accounts, store, mailer, replace(settings, session_idle_minutes=5), lambda: DEVICE_KEY,
                     queue, now=clock, make_code=codes)
    queue.consumer = sign_in.send_code
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
    assert sign_in.request_code("dana@clinic.example", BROWSER) is None


def test_the_code_mail_says_nothing_but_the_code(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
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
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    clock.advance(minutes=1)
    AccountAdmin(accounts, now=clock).disable("dana@clinic.example")
    clock.advance(minutes=1)
    AccountAdmin(accounts, now=clock).add("dana@clinic.example", "Dana Desk", "staff")
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", code, BROWSER)
    assert failure.value.reason == "no_account"
    clock.advance(seconds=1)
    sign_in.request_code("dana@clinic.example", BROWSER)  # a code asked for after it was enabled again works
    assert sign_in.verify("dana@clinic.example", mailed_code(mailer), BROWSER)[1].name == "Dana Desk"


# --- nobody can lock a staff member out ----------------------------------------------------------------

def test_a_code_signs_in_only_in_the_browser_that_asked_for_it(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    with pytest.raises(SignInFailed) as failure:
        sign_in.verify("dana@clinic.example", code, STRANGER)
    assert failure.value.reason == "no_code"
    with pytest.raises(SignInFailed):
        sign_in.verify("dana@clinic.example", code, None)
    assert sign_in.verify("dana@clinic.example", code, BROWSER)[1].name == "Dana Desk"


def test_a_stranger_s_wrong_guesses_never_void_the_staff_member_s_code(world):
    sign_in, _, _, mailer, _ = world
    sign_in.request_code("dana@clinic.example", BROWSER)
    code = mailed_code(mailer)
    sign_in.request_code("dana@clinic.example", STRANGER)  # the stranger asks too: a code mailed to Dana
    for guess in range(10):
        with pytest.raises(SignInFailed):
            sign_in.verify("dana@clinic.example", f"{guess:08}", STRANGER)
    assert sign_in.verify("dana@clinic.example", code, BROWSER)[1].name == "Dana Desk"


def known_device(sign_in, address="dana@clinic.example"):
    return sign_in.device_cookie_value(None, address)


def test_a_flood_of_strangers_requests_never_stops_a_known_browser_s_codes(world):
    sign_in, _, _, mailer, _ = world
    device = known_device(sign_in)
    for n in range(20):  # strangers, each from a browser of their own
        sign_in.request_code("dana@clinic.example", f"{n:043}")
    flooded = len(mailer.sent)
    assert flooded == 5  # the anonymous share of the hour
    sign_in.request_code("dana@clinic.example", BROWSER, device)
    assert len(mailer.sent) == flooded + 1
    assert sign_in.verify("dana@clinic.example", mailed_code(mailer), BROWSER)[1].name == "Dana Desk"


def test_a_known_browser_has_five_codes_an_hour_of_its_own(world, clock):
    sign_in, _, _, mailer, _ = world
    device = known_device(sign_in)
    for _ in range(7):
        sign_in.request_code("dana@clinic.example", BROWSER, device)
    assert len(mailer.sent) == 5
    clock.advance(hours=1, seconds=1)
    sign_in.request_code("dana@clinic.example", BROWSER, device)
    assert len(mailer.sent) == 6


@pytest.mark.parametrize("device", [
    None, "", "not-a-device", "a" * 43 + ".0123", "a" * 43,
    "a" * 43 + "." + "0" * 32,  # the right shape, a forged signature
])
def test_only_a_device_cookie_signed_for_this_address_counts_as_known(world, device):
    sign_in, *_ = world
    assert not sign_in.is_known_device(device, "dana@clinic.example")
    assert sign_in.is_known_device(known_device(sign_in), "dana@clinic.example")
    assert not sign_in.is_known_device(known_device(sign_in, "ana@clinic.example"), "dana@clinic.example")


def test_signing_in_again_keeps_the_browser_s_device_id(world):
    sign_in, *_ = world
    first = known_device(sign_in)
    again = sign_in.device_cookie_value(first, "dana@clinic.example")
    assert again == first
    assert sign_in.device_cookie_value(first, "ana@clinic.example").split(".")[0] == first.split(".")[0]


class Counting:
    """Wraps a fake and counts the calls made to it, by method name."""

    def __init__(self, inner):
        self._inner = inner
        self.calls = []

    def __getattr__(self, name):
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self.calls.append(name)
            return attribute(*args, **kwargs)
        return counted


def test_asking_for_a_code_costs_the_same_for_every_address_and_mails_off_the_request_path(settings, clock):
    accounts, store, mailer, queue = Counting(FakeAccounts()), Counting(FakeSignInStore()), FakeMailer(), \
        FakeCodeQueue()
    AccountAdmin(accounts, now=clock).add("dana@clinic.example", "Dana Desk", "staff")
    accounts.calls.clear()
    sign_in = SignIn(accounts, store, mailer, settings, lambda: DEVICE_KEY, queue, now=clock)
    work = []
    for address in ("dana@clinic.example", "nobody@clinic.example"):
        sign_in.request_code(address, BROWSER)
        work.append((accounts.calls[:], store.calls[:], len(mailer.sent), len(queue.pending)))
        accounts.calls.clear(), store.calls.clear(), queue.pending.clear()
    assert work[0] == work[1] == ([], [], 0, 1)  # one queued request each, and nothing else


def test_the_queue_s_consumer_mails_only_active_accounts(settings, clock):
    accounts, mailer, queue = FakeAccounts(), FakeMailer(), FakeCodeQueue()
    AccountAdmin(accounts, now=clock).add("dana@clinic.example", "Dana Desk", "staff")
    sign_in = SignIn(accounts, FakeSignInStore(), mailer, settings, lambda: DEVICE_KEY, queue, now=clock)
    sign_in.request_code("nobody@clinic.example", BROWSER)
    sign_in.request_code("dana@clinic.example", BROWSER)
    assert [sign_in.send_code(request) for request in queue.pending] == ["no_account", "sent"]
    assert [mail.to for mail in mailer.sent] == ["dana@clinic.example"]


def test_a_wrong_code_costs_the_same_whether_or_not_the_address_has_an_account(settings, clock):
    accounts, counting, queue = FakeAccounts(), Counting(FakeSignInStore()), FakeCodeQueue()
    AccountAdmin(accounts, now=clock).add("dana@clinic.example", "Dana Desk", "staff")
    measured = SignIn(accounts, counting, FakeMailer(), settings, lambda: DEVICE_KEY, queue, now=clock)
    queue.consumer = measured.send_code
    measured.request_code("dana@clinic.example", STRANGER)  # a stranger's browser has a code for a staff address
    measured.request_code("nobody@clinic.example", STRANGER)
    work = []
    for address in ("dana@clinic.example", "nobody@clinic.example"):
        counting.calls.clear()
        with pytest.raises(SignInFailed):
            measured.verify(address, "12345678", STRANGER)
        work.append(counting.calls[:])
    assert work[0] == work[1] == ["code", "count_wrong_try"]
