"""The admins' accounts page through the inbox's routes, against moto: each account's morning digest turned on or
off with the row's own form, as a browser without JavaScript posts it, and what the next digest does about it."""
import re
from html import unescape
from urllib.parse import urlencode

import pytest

from chalicelib.staff.accounts import AccountAdmin
from chalicelib.storage.accounts import AccountRepository
from tests.integration.test_inbox_routes import FORM, cookie_of, inbox, sign_in  # noqa: F401  (inbox: the fixture)

SAM = "sam@clinic.example"


@pytest.fixture
def admin(inbox, dynamodb, table):  # noqa: F811
    AccountAdmin(AccountRepository(dynamodb, table)).add(SAM, "Sam Staff", "staff")
    return {"Cookie": cookie_of(sign_in(inbox))}


def digest_form(page, email):
    """(action, fields) of the morning digest form in `email`'s row, as a browser would post it."""
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if f'value="{email}"' in r)
    [form] = re.findall(r'<td data-label="Morning digest">.*?</td>', row, re.S)
    action = re.search(r'<form class="inline" action="([^"]+)" method="post">', form).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert '<button type="submit"' in form
    return unescape(action), {name: unescape(value) for name, value in fields.items()}


def post(inbox, cookie, action, fields):  # noqa: F811
    return inbox.request("POST", action, {**FORM, **cookie}, urlencode(fields))


def test_an_admin_turns_a_digest_off_and_on_with_the_row_s_form(inbox, admin, dynamodb, table):  # noqa: F811
    """Catches the switch not reaching the account (or posting the state it already has): Sam's row says Off after
    its "Turn off", his account has the digest off, and the row then offers "Turn on"."""
    page = inbox.request("GET", "/staff/accounts", admin).body.decode()
    action, fields = digest_form(page, SAM)
    assert (action, fields) == ("/staff/accounts", {"email": SAM, "digest": "off"})

    answer = post(inbox, admin, action, fields)

    body = answer.body.decode()
    assert answer.status_code == 200, body[:300]
    assert "Morning digest off for Sam Staff." in body
    assert digest_form(body, SAM)[1] == {"email": SAM, "digest": "on"}
    account = AccountRepository(dynamodb, table).get(SAM)
    assert (account.digest, account.active, account.name, account.role) == (False, True, "Sam Staff", "staff")
    assert post(inbox, admin, *digest_form(body, SAM)).status_code == 200
    assert AccountRepository(dynamodb, table).get(SAM).digest is True


def test_the_morning_run_skips_an_account_turned_off_in_the_inbox(inbox, admin, dynamodb, table):  # noqa: F811
    from chalicelib import wiring
    from chalicelib.core.mail import Mailer
    from chalicelib.notify.digest import Digest
    from chalicelib.storage.digest_claims import DigestClaims
    from chalicelib.storage.digest_counts import DigestCounts

    page = inbox.request("GET", "/staff/accounts", admin).body.decode()
    assert post(inbox, admin, *digest_form(page, SAM)).status_code == 200
    sent = []

    class Sent(Mailer):
        def send(self, email):
            sent.append(email.to)
            return super().send(email)

    settings = wiring.get_settings()
    Digest(AccountRepository(dynamodb, table), DigestCounts(dynamodb, table),
           DigestClaims(dynamodb, table, lambda: b"k" * 32),
           Sent(wiring.aws_client("sesv2"), settings.mail_from, settings.mail_configuration_set),
           settings).run(force=True)
    assert sent == ["ana@clinic.example"]


def test_a_disabled_account_s_digest_is_switched_and_the_account_stays_disabled(
        inbox, admin, dynamodb, table):  # noqa: F811
    """Catches a switch that saves the account again (AccountAdmin.add): it would enable a disabled account."""
    AccountAdmin(AccountRepository(dynamodb, table)).disable(SAM)
    page = inbox.request("GET", "/staff/accounts", admin).body.decode()

    assert post(inbox, admin, *digest_form(page, SAM)).status_code == 200

    account = AccountRepository(dynamodb, table).get(SAM)
    assert (account.digest, account.active) == (False, False)


@pytest.mark.parametrize("fields, message", [
    ({"email": SAM, "digest": "maybe"}, "Turn the morning digest on or off."),
    ({"email": SAM, "digest": ""}, "Turn the morning digest on or off."),
    ({"email": "nobody@clinic.example", "digest": "off"}, "There is no staff account with that e-mail address."),
    ({"digest": "off"}, "Enter an e-mail address."),
])
def test_a_crafted_digest_post_is_refused_and_changes_nothing(
        inbox, admin, dynamodb, table, fields, message):  # noqa: F811
    answer = post(inbox, admin, "/staff/accounts", fields)
    assert answer.status_code == 422
    assert message in answer.body.decode()
    assert AccountRepository(dynamodb, table).get(SAM).digest is True
    assert AccountRepository(dynamodb, table).get("nobody@clinic.example") is None
