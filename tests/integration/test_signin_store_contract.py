"""One contract for the sign-in store and the accounts: the hand-written fakes and DynamoDB (moto)."""

import pytest

from chalicelib.staff.accounts import Account
from chalicelib.staff.signin import CodeState, MailState, SessionState, Waiting
from chalicelib.storage.accounts import AccountRepository
from chalicelib.storage.sessions import SignInRepository
from tests.fakes import FakeAccounts, FakeSignInStore
from tests.staffing import TABLE


@pytest.fixture(params=["fake", "dynamodb"])
def kind(request):
    return request.param


@pytest.fixture
def store(kind, request):
    if kind == "fake":
        return FakeSignInStore()
    request.getfixturevalue("table")
    return SignInRepository(request.getfixturevalue("dynamodb"), TABLE)


@pytest.fixture
def accounts(kind, request):
    if kind == "fake":
        return FakeAccounts()
    request.getfixturevalue("table")
    return AccountRepository(request.getfixturevalue("dynamodb"), TABLE)


def code(version, code_hash="h1", requests=("2026-11-30T14:00:00.000Z",)):
    return CodeState(code_hash=code_hash, salt="s", valid_until="2026-11-30T14:10:00.000Z", tries=0,
                     requests=tuple(requests), version=version)


def test_a_first_code_is_written_once(store):
    assert store.code("a@clinic.example") is None
    assert store.save_code("a@clinic.example", code(1), 1, None)
    assert not store.save_code("a@clinic.example", code(1, "h2"), 1, None)  # someone got there first
    assert store.code("a@clinic.example") == code(1)


def test_a_new_code_needs_the_version_that_was_read(store):
    store.save_code("a@clinic.example", code(1), 1, None)
    assert store.save_code("a@clinic.example", code(2, "h2"), 1, 1)
    assert not store.save_code("a@clinic.example", code(3, "h3"), 1, 1)
    assert store.code("a@clinic.example").code_hash == "h2"


def test_wrong_tries_count_against_the_current_code_only(store):
    store.save_code("a@clinic.example", code(1), 1, None)
    store.count_wrong_try("a@clinic.example", "h1")
    store.count_wrong_try("a@clinic.example", "an older code")
    assert store.code("a@clinic.example").tries == 1


def test_a_code_is_spent_once_and_never_after_five_wrong_tries(store):
    store.save_code("a@clinic.example", code(1), 1, None)
    assert store.use_code("a@clinic.example", "h1", 5)
    assert not store.use_code("a@clinic.example", "h1", 5)
    spent = store.code("a@clinic.example")
    assert spent.code_hash is None and spent.requests == code(1).requests  # the throttle still counts

    store.save_code("a@clinic.example", code(2, "h2"), 1, 1)
    for _ in range(5):
        store.count_wrong_try("a@clinic.example", "h2")
    assert not store.use_code("a@clinic.example", "h2", 5)


def mail(version, waiting=(), mailed_at="2026-11-30T14:00:00.000Z", follow_up_at=None, known=()):
    return MailState(mailed_at=mailed_at, waiting=tuple(waiting), follow_up_at=follow_up_at, known=tuple(known),
                     version=version)


def test_an_address_s_e_mail_state_reads_back_as_written_and_needs_the_version_that_was_read(store):
    assert store.mail_state("a@clinic.example") is None
    first = mail(1, known=[("d" * 32, "2026-11-30T14:00:00.000Z")])
    assert store.save_mail_state("a@clinic.example", first, 1, None)
    assert not store.save_mail_state("a@clinic.example", mail(1), 1, None)  # someone got there first
    assert store.mail_state("a@clinic.example") == first
    waiting = mail(2, [Waiting("b" * 32, "otter lantern", "r1", "2026-11-30T14:00:30.000Z"),
                       Waiting("c" * 32, "comet harbor", "r2", "2026-11-30T14:00:40.000Z")],
                   follow_up_at="2026-11-30T14:01:15.000Z", known=first.known)
    assert store.save_mail_state("a@clinic.example", waiting, 1, 1)
    assert not store.save_mail_state("a@clinic.example", mail(3), 1, 1)
    assert store.mail_state("a@clinic.example") == waiting
    assert store.code("a@clinic.example") is None  # beside the codes, never one of them


def test_sessions_are_kept_by_hash_touched_and_ended(store):
    session = SessionState("f" * 64, "a@clinic.example", "2026-11-30T14:00:00.000Z", "2026-11-30T14:00:00.000Z",
                           1_800_000_000)
    store.add_session(session)
    assert store.session("f" * 64) == session
    store.touch_session("f" * 64, "2026-11-30T14:05:00.000Z")
    assert store.session("f" * 64).last_seen_at == "2026-11-30T14:05:00.000Z"
    store.end_session("f" * 64)
    assert store.session("f" * 64) is None
    store.touch_session("f" * 64, "2026-11-30T14:06:00.000Z")  # touching an ended session does not revive it
    assert store.session("f" * 64) is None


def account(email="a@clinic.example", name="Ana", role="staff", at="2026-11-30T14:00:00.000Z"):
    return Account(email, name, role, True, at, at)


def test_putting_an_account_again_updates_it_and_keeps_when_it_was_made(accounts):
    accounts.put(account())
    updated = accounts.put(account(name="Ana Admin", role="admin", at="2026-12-01T09:00:00.000Z"))
    assert (updated.name, updated.role, updated.active) == ("Ana Admin", "admin", True)
    assert (updated.created_at, updated.updated_at) == ("2026-11-30T14:00:00.000Z", "2026-12-01T09:00:00.000Z")
    assert accounts.get("a@clinic.example") == updated


def test_disabling_keeps_the_account_inactive_and_an_unknown_one_is_none(accounts):
    accounts.put(account())
    assert accounts.disable("a@clinic.example", "2026-12-01T09:00:00.000Z").active is False
    assert accounts.get("a@clinic.example").active is False
    assert accounts.disable("nobody@clinic.example", "2026-12-01T09:00:00.000Z") is None
    assert accounts.get("nobody@clinic.example") is None


def test_enabling_again_keeps_when_the_account_was_last_disabled(accounts):
    accounts.put(account())
    accounts.disable("a@clinic.example", "2026-12-01T09:00:00.000Z")
    enabled = accounts.put(account(at="2026-12-01T10:00:00.000Z"))
    assert (enabled.active, enabled.disabled_at) == (True, "2026-12-01T09:00:00.000Z")
    assert accounts.get("a@clinic.example") == enabled
    assert accounts.disable("a@clinic.example", "2026-12-02T09:00:00.000Z").disabled_at == "2026-12-02T09:00:00.000Z"


def test_all_accounts_newest_first(accounts):
    accounts.put(account("old@clinic.example", at="2026-11-01T00:00:00.000Z"))
    accounts.put(account("new@clinic.example", at="2026-11-30T00:00:00.000Z"))
    assert [a.email for a in accounts.all()] == ["new@clinic.example", "old@clinic.example"]


def test_codes_and_sessions_expire_through_the_table_ttl(dynamodb, table):
    store = SignInRepository(dynamodb, TABLE)
    store.save_code("a@clinic.example", code(1), 1_800_000_000, None)
    store.add_session(SessionState("e" * 64, "a@clinic.example", "x", "x", 1_800_000_100))
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]["AttributeName"]
    items = [dynamodb.get_item(TableName=TABLE, Key=key)["Item"] for key in (
        {"pk": {"S": "SIGNIN#a@clinic.example"}, "sk": {"S": "CODE"}},
        {"pk": {"S": "SESSION#" + "e" * 64}, "sk": {"S": "SESSION"}},
    )]
    assert [item[ttl]["N"] for item in items] == ["1800000000", "1800000100"]
