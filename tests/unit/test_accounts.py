"""Staff accounts with a fake store: the clinic always keeps an active admin."""
import pytest

from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.staff.accounts import LAST_ADMIN, AccountAdmin, staff_name
from tests.fakes import FakeAccounts


@pytest.fixture
def admin():
    accounts = AccountAdmin(FakeAccounts())
    accounts.add("ana@clinic.example", "Ana Admin", "admin")
    accounts.add("dana@clinic.example", "Dana Desk", "staff")
    return accounts


def roles(admin):
    return {account.email: (account.role, account.active) for account in admin.list()}


def test_the_only_admin_cannot_be_made_staff(admin):
    with pytest.raises(ValidationFailed) as refused:
        admin.add("ana@clinic.example", "Ana Admin", "staff")
    assert refused.value.fields == {"role": LAST_ADMIN}
    assert roles(admin)["ana@clinic.example"] == ("admin", True)


def test_the_only_admin_cannot_be_disabled(admin):
    with pytest.raises(ValidationFailed) as refused:
        admin.disable("Ana@clinic.example")
    assert refused.value.fields == {"email": LAST_ADMIN}
    assert roles(admin)["ana@clinic.example"] == ("admin", True)


def test_with_a_second_admin_either_may_step_down(admin):
    admin.add("dana@clinic.example", "Dana Desk", "admin")
    admin.add("ana@clinic.example", "Ana Admin", "staff")
    assert roles(admin) == {"ana@clinic.example": ("staff", True), "dana@clinic.example": ("admin", True)}
    with pytest.raises(ValidationFailed):
        admin.disable("dana@clinic.example")  # now Dana is the last one


def test_a_disabled_admin_does_not_count(admin):
    admin.add("dana@clinic.example", "Dana Desk", "admin")
    admin.disable("dana@clinic.example")
    with pytest.raises(ValidationFailed):
        admin.add("ana@clinic.example", "Ana Admin", "staff")


def test_staff_accounts_are_changed_and_disabled_freely(admin):
    admin.add("dana@clinic.example", "Dana D.", "staff")
    admin.disable("dana@clinic.example")
    assert roles(admin)["dana@clinic.example"] == ("staff", False)
    with pytest.raises(NotFound):
        admin.disable("nobody@clinic.example")


def test_the_first_admin_can_be_added_to_an_empty_clinic():
    accounts = AccountAdmin(FakeAccounts())
    accounts.add("ana@clinic.example", "Ana Admin", "admin")
    accounts.add("ana@clinic.example", "Ana A.", "admin")  # and saved again as admin
    assert roles(accounts) == {"ana@clinic.example": ("admin", True)}


def test_a_staff_name_may_have_a_joiner_between_letters_and_no_other_format_character():
    assert staff_name("\u0645\u0647\u200c\u0631\u0648\u0632") == "\u0645\u0647\u200c\u0631\u0648\u0632"
    for bad in ("\u200cAna", "Ana\u200b", "A\u202ena"):
        with pytest.raises(ValueError):
            staff_name(bad)


def test_accounts_get_the_morning_digest_unless_they_opt_out_and_adding_again_keeps_the_choice(admin):
    assert {a.email: a.digest for a in admin.list()} == {"ana@clinic.example": True, "dana@clinic.example": True}
    assert admin.add("dana@clinic.example", "Dana Desk", "staff", digest=False).digest is False
    assert admin.add("dana@clinic.example", "Dana D.", "staff").digest is False  # the inbox's form says nothing
    assert admin.add("dana@clinic.example", "Dana D.", "staff", digest=True).digest is True
    assert admin.add("new@clinic.example", "New Person", "staff", digest=False).digest is False
