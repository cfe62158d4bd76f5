"""`python -m tools.staff_tokens` (what `make staff-token`, `staff-tokens` and `revoke-token` run), under moto."""
import io
import re

import pytest

from chalicelib.core.errors import Unauthorized
from chalicelib.staff.auth import Authenticator
from chalicelib.storage.tokens import TokenRepository
from tools import staff_tokens


def run(dynamodb, *argv):
    out = io.StringIO()
    staff_tokens.main(list(argv), client=dynamodb, out=out)
    return out.getvalue().splitlines()


def test_create_prints_the_token_alone_on_the_last_line_and_list_never_shows_it(dynamodb, table):
    lines = run(dynamodb, "create", "--name", "Dr O'Brien", "--role", "admin")

    token = lines[-1]
    assert re.fullmatch(r"appt_staff_[A-Za-z0-9_-]{43}", token)
    assert "Dr O'Brien" in lines[0] and "admin" in lines[0]
    member = Authenticator(TokenRepository(dynamodb, table)).authenticate(f"Bearer {token}")
    assert (member.name, member.role) == ("Dr O'Brien", "admin")
    listing = run(dynamodb, "list")
    assert listing[0].split() == ["ID", "NAME", "ROLE", "ACCOUNT", "CREATED", "LAST", "USED", "REVOKED"]
    assert "Dr O'Brien" in listing[1] and token not in "\n".join(listing)


def test_revoke_takes_the_id_from_the_list(dynamodb, table):
    token = run(dynamodb, "create", "--name", "Sam Staff")[-1]
    token_id = run(dynamodb, "list")[1].split()[0]

    said = run(dynamodb, "revoke", token_id)

    assert said[0].startswith(f"Revoked token {token_id} of Sam Staff (staff)")
    with pytest.raises(Unauthorized):
        Authenticator(TokenRepository(dynamodb, table)).authenticate(f"Bearer {token}")


def test_a_token_made_for_an_account_ends_for_good_when_the_account_is_disabled(dynamodb, table):
    from chalicelib.staff.accounts import AccountAdmin
    from chalicelib.storage.accounts import AccountRepository

    accounts = AccountRepository(dynamodb, table)
    AccountAdmin(accounts).add("dana@clinic.example", "Dana Desk", "admin")
    lines = run(dynamodb, "create", "--email", "Dana@Clinic.example")
    authenticator = Authenticator(TokenRepository(dynamodb, table), accounts)
    assert authenticator.authenticate(f"Bearer {lines[-1]}").name == "Dana Desk"
    assert "dana@clinic.example" in run(dynamodb, "list")[1]

    AccountAdmin(accounts).add("ana@clinic.example", "Ana Admin", "admin")  # so Dana is not the last admin
    AccountAdmin(accounts).disable("dana@clinic.example")
    AccountAdmin(accounts).add("dana@clinic.example", "Dana Desk", "admin")

    with pytest.raises(Unauthorized):
        authenticator.authenticate(f"Bearer {lines[-1]}")


@pytest.mark.parametrize("argv, message", [
    (["revoke", "000000000000"], "There is no staff token with that id."),
    (["create", "--name", " "], "name: Give the staff member's name"),
    (["create", "--email", "nobody@clinic.example"], "There is no active staff account"),
])
def test_mistakes_exit_with_a_message(dynamodb, table, argv, message):
    with pytest.raises(SystemExit) as stopped:
        run(dynamodb, *argv)

    assert str(stopped.value.code).startswith(message)


def test_an_empty_table_lists_how_to_make_a_token(dynamodb, table):
    assert "make staff-token" in run(dynamodb, "list")[-1]
