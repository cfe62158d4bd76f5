"""Staff tokens with an in-memory store: made once, kept as a hash, checked on every request."""
import hashlib
import re

import pytest

from chalicelib.core.errors import NotFound, StorageUnavailable, Unauthorized, ValidationFailed
from chalicelib.staff import auth
from chalicelib.staff.accounts import AccountAdmin
from chalicelib.staff.auth import Authenticator, StaffMember, TokenAdmin
from tests.fakes import Clock, FakeAccounts, FakeTokens


@pytest.fixture
def clock(fixed_now):
    return Clock(fixed_now)


@pytest.fixture
def tokens():
    return FakeTokens()


@pytest.fixture
def accounts(clock):
    accounts = FakeAccounts()
    AccountAdmin(accounts, now=clock).add("ana@clinic.example", "Ana Admin", "admin")
    AccountAdmin(accounts, now=clock).add("sam@clinic.example", "Sam Staff", "staff")
    return accounts


@pytest.fixture
def admin(tokens, accounts, clock):
    return TokenAdmin(tokens, accounts, now=clock)


@pytest.fixture
def authenticator(tokens, accounts, clock):
    return Authenticator(tokens, accounts, now=clock)


def bearer(token):
    return f"Bearer {token}"


def test_a_token_is_random_recognisable_and_stored_only_as_its_hash(admin, tokens):
    token, record = admin.create("Sam Staff", "staff")
    other, _ = admin.create("Sam Staff", "staff")

    assert re.fullmatch(r"appt_staff_[A-Za-z0-9_-]{43}", token)
    assert token != other
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert record.id == record.token_hash[:12]
    assert token not in repr(tokens.records)
    assert (record.name, record.role, record.created_at) == ("Sam Staff", "staff", "2026-11-25T15:00:00.000Z")


def test_a_valid_token_is_its_staff_member(admin, authenticator):
    token, record = admin.create("Ana Admin", "admin")

    assert authenticator.authenticate(bearer(token)) == StaffMember("Ana Admin", "admin", record.id)
    assert authenticator.authenticate(f"bearer   {token}  ").name == "Ana Admin"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_token_is_unauthorized(authenticator, header):
    with pytest.raises(Unauthorized) as failure:
        authenticator.authenticate(header)

    assert "Bearer" in failure.value.message


@pytest.mark.parametrize("header", [
    "appt_staff_" + "a" * 43,
    "Basic c2FtOnNlY3JldA==",
    "Bearer",
    "Bearer appt_staff_short",
    "Bearer staff_" + "a" * 43,
    "Bearer appt_staff_" + "a" * 44,
    "Bearer appt_staff_" + "a" * 42 + "!",
    "Bearer appt_staff_" + "a" * 43 + " extra",
    "Token appt_staff_" + "a" * 43,
])
def test_a_malformed_header_is_unauthorized_without_a_lookup(authenticator, tokens, header):
    tokens.get = lambda digest: pytest.fail("looked up a malformed token")

    with pytest.raises(Unauthorized):
        authenticator.authenticate(header)


def test_an_unknown_token_is_unauthorized(admin, authenticator):
    admin.create("Sam Staff", "staff")

    with pytest.raises(Unauthorized):
        authenticator.authenticate(bearer("appt_staff_" + "A" * 43))


def test_a_revoked_token_is_unauthorized_from_the_next_request(admin, authenticator):
    token, record = admin.create("Sam Staff", "staff")
    authenticator.authenticate(bearer(token))

    admin.revoke(record.id)

    with pytest.raises(Unauthorized) as failure:
        authenticator.authenticate(bearer(token))
    assert "revoked" in failure.value.message


def test_the_stored_hash_is_compared_in_constant_time(admin, authenticator, monkeypatch):
    token, record = admin.create("Sam Staff", "staff")
    compared = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))

    authenticator.authenticate(bearer(token))

    assert compared == [(record.token_hash, record.token_hash)]


def test_a_stored_record_under_another_hash_is_refused(admin, authenticator, tokens):
    """The comparison is not a formality: a record the store returns must be the token's own."""
    from dataclasses import replace

    token, record = admin.create("Sam Staff", "staff")
    tokens.records[record.token_hash] = replace(record, token_hash="0" * 64)

    with pytest.raises(Unauthorized):
        authenticator.authenticate(bearer(token))


def test_roles_rank_admin_above_staff():
    ana, sam = StaffMember("Ana", "admin", "1"), StaffMember("Sam", "staff", "2")

    assert ana.may("admin") and ana.may("staff")
    assert sam.may("staff") and not sam.may("admin")


def test_last_use_is_written_at_most_once_a_minute(admin, authenticator, tokens, clock):
    token, record = admin.create("Sam Staff", "staff")

    authenticator.authenticate(bearer(token))
    clock.advance(seconds=30)
    authenticator.authenticate(bearer(token))
    clock.advance(seconds=31)
    authenticator.authenticate(bearer(token))

    assert tokens.touches == ["2026-11-25T15:00:00.000Z", "2026-11-25T15:01:01.000Z"]
    assert tokens.get(record.token_hash).last_used_at == "2026-11-25T15:01:01.000Z"


def test_a_failed_last_use_write_does_not_refuse_a_valid_token(admin, authenticator, tokens):
    token, _ = admin.create("Sam Staff", "staff")

    def down(*_):
        raise StorageUnavailable()

    tokens.touch = down

    assert authenticator.authenticate(bearer(token)).name == "Sam Staff"


def test_tokens_are_listed_newest_first_revoked_ones_too(admin, clock):
    _, first = admin.create("Sam Staff", "staff")
    clock.advance(minutes=1)
    _, second = admin.create("Ana Admin", "admin")
    admin.revoke(first.id)

    listed = admin.list()

    assert [r.id for r in listed] == [second.id, first.id]
    assert listed[1].revoked_at == "2026-11-25T15:01:00.000Z"


def test_revoking_twice_keeps_the_first_time(admin, clock):
    _, record = admin.create("Sam Staff", "staff")
    first = admin.revoke(record.id)
    clock.advance(hours=1)

    assert admin.revoke(record.id).revoked_at == first.revoked_at


def test_revoking_an_unknown_id_is_not_found(admin):
    with pytest.raises(NotFound):
        admin.revoke("000000000000")


@pytest.mark.parametrize("name, role, field", [
    ("", "staff", "name"),
    ("   ", "staff", "name"),
    ("x" * 61, "staff", "name"),
    ("Sam\nStaff", "staff", "name"),
    ("Sam\u202eStaff", "staff", "name"),
    ("Sam Staff", "owner", "role"),
    ("Sam Staff", None, "role"),
])
def test_a_token_needs_a_name_on_one_line_and_a_known_role(admin, tokens, name, role, field):
    with pytest.raises(ValidationFailed) as failure:
        admin.create(name, role)

    assert field in failure.value.fields
    assert tokens.records == {}


# --- tokens that belong to a staff account --------------------------------------------------------

def test_an_account_s_token_acts_with_the_account_s_name_and_role_as_they_are_now(admin, authenticator, accounts,
                                                                                   clock):
    token, record = admin.create_for("Sam@Clinic.example")
    assert (record.email, record.name, record.role) == ("sam@clinic.example", "Sam Staff", "staff")
    clock.advance(seconds=1)
    AccountAdmin(accounts, now=clock).add("sam@clinic.example", "Sam S. Staff", "admin")
    assert authenticator.authenticate(bearer(token)) == StaffMember("Sam S. Staff", "admin", record.id)


def test_disabling_an_account_ends_its_tokens_for_good(admin, authenticator, accounts, clock):
    token, _ = admin.create_for("sam@clinic.example")
    clock.advance(minutes=5)
    AccountAdmin(accounts, now=clock).disable("sam@clinic.example")
    with pytest.raises(Unauthorized):
        authenticator.authenticate(bearer(token))
    clock.advance(minutes=5)
    AccountAdmin(accounts, now=clock).add("sam@clinic.example", "Sam Staff", "staff")  # enabled again
    with pytest.raises(Unauthorized):
        authenticator.authenticate(bearer(token))
    clock.advance(seconds=1)
    fresh, _ = admin.create_for("sam@clinic.example")
    assert authenticator.authenticate(bearer(fresh)).name == "Sam Staff"


def test_a_token_is_made_only_for_an_active_account(admin, accounts, clock):
    AccountAdmin(accounts, now=clock).disable("sam@clinic.example")
    for email in ("sam@clinic.example", "nobody@clinic.example"):
        with pytest.raises(NotFound):
            admin.create_for(email)
    with pytest.raises(ValidationFailed):
        admin.create_for("not an address")


def test_a_token_made_by_name_alone_belongs_to_no_account(admin, authenticator):
    token, record = admin.create("Reporting Script", "staff")
    assert record.email is None
    assert authenticator.authenticate(bearer(token)).name == "Reporting Script"
