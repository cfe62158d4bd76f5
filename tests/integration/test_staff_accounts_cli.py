"""`python -m tools.staff_accounts` (what `make staff-add`, `staff-list` and `staff-disable` run), under moto."""
import io
import subprocess

import pytest

from chalicelib.storage.accounts import AccountRepository
from tools import staff_accounts
from tools.resources import ROOT


def run(dynamodb, *argv):
    out = io.StringIO()
    staff_accounts.main(list(argv), client=dynamodb, out=out)
    return out.getvalue().splitlines()


def test_add_is_idempotent_and_updates_the_name_and_role(dynamodb, table):
    run(dynamodb, "add", "--email", "Dana@Clinic.example", "--name", "Dana", "--role", "staff")
    said = run(dynamodb, "add", "--email", "dana@clinic.example", "--name", "Dana O'Brien", "--role", "admin")
    assert said[0].startswith("Staff account dana@clinic.example: Dana O'Brien, admin, active")
    accounts = AccountRepository(dynamodb, table).all()
    assert [(a.email, a.name, a.role, a.active) for a in accounts] == [
        ("dana@clinic.example", "Dana O'Brien", "admin", True)]


def test_list_shows_every_account_and_disable_marks_it_inactive(dynamodb, table):
    run(dynamodb, "add", "--email", "a@clinic.example", "--name", "Ana", "--role", "admin")
    run(dynamodb, "add", "--email", "b@clinic.example", "--name", "Ben")
    assert run(dynamodb, "disable", "--email", "B@clinic.example")[0].startswith("Disabled b@clinic.example (Ben)")
    listing = run(dynamodb, "list")
    assert listing[0].split() == ["EMAIL", "NAME", "ROLE", "ACTIVE", "DIGEST", "CREATED", "UPDATED"]
    rows = {line.split()[0]: line.split()[1:4] for line in listing[1:]}
    assert rows == {"a@clinic.example": ["Ana", "admin", "yes"], "b@clinic.example": ["Ben", "staff", "no"]}
    run(dynamodb, "add", "--email", "b@clinic.example", "--name", "Ben")  # adding again re-activates
    assert AccountRepository(dynamodb, table).get("b@clinic.example").active


def test_the_morning_digest_is_on_unless_turned_off_and_adding_again_keeps_it(dynamodb, table):
    said = run(dynamodb, "add", "--email", "b@clinic.example", "--name", "Ben", "--digest", "off")
    assert said[0].startswith("Staff account b@clinic.example: Ben, staff, active, morning digest off")
    run(dynamodb, "add", "--email", "a@clinic.example", "--name", "Ana", "--role", "admin")
    run(dynamodb, "add", "--email", "b@clinic.example", "--name", "Ben B.")  # idempotent: the choice stays
    listing = run(dynamodb, "list")
    assert listing[0].split()[-3] == "DIGEST"
    assert {line.split()[0]: line.split()[-3] for line in listing[1:]} == {
        "a@clinic.example": "on", "b@clinic.example": "off"}
    run(dynamodb, "add", "--email", "b@clinic.example", "--name", "Ben", "--digest", "on")
    assert AccountRepository(dynamodb, table).get("b@clinic.example").digest is True


def test_make_staff_add_passes_digest_only_when_given():
    def dry_run(*extra):
        return subprocess.run(["make", "-s", "-n", "staff-add", "EMAIL=x@clinic.example", "NAME=X", *extra],
                              cwd=ROOT, capture_output=True, text=True).stdout

    assert "--digest 'off'" in dry_run("DIGEST=off")
    assert "--digest" not in dry_run()


def test_an_empty_list_says_how_to_add_one(dynamodb, table):
    assert "make staff-add" in run(dynamodb, "list")[-1]


@pytest.mark.parametrize("argv, problem", [
    (["add", "--email", "not an address", "--name", "X"], "email:"),
    (["add", "--email", "x@clinic.example", "--name", "Bad\u202eName"], "name:"),
    (["disable", "--email", "nobody@clinic.example"], "There is no staff account"),
])
def test_mistakes_are_one_clear_line(dynamodb, table, argv, problem):
    with pytest.raises(SystemExit) as stop:
        run(dynamodb, *argv)
    assert problem in str(stop.value)


def test_make_staff_add_says_what_it_needs():
    result = subprocess.run(["make", "-s", "staff-add", "EMAIL=x@clinic.example"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert 'make staff-add needs EMAIL=... NAME="Their Name"' in result.stderr
