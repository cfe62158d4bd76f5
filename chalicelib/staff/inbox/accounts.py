"""The staff accounts page (admins only): everyone who can sign in, each with their morning digest on or off, and the
form that adds or updates one."""
from .common import ROLE_LABELS, problems, render, url

ACCOUNT_FIELDS = ("email", "name", "role")


def accounts_page(base, staff, accounts, error=None, fields=None, notice=None):
    """`fields`: the form's problems, by field."""
    fields = fields or {}
    return render(
        "accounts.html", base, "Staff accounts", staff,
        error=error,
        problems=problems(fields, ACCOUNT_FIELDS, "account-"),
        notice=notice,
        rows=[_row(base, staff, account) for account in accounts],
        action=url(base, "accounts"),
        errors={name: fields.get(name) for name in ACCOUNT_FIELDS},
        role_choices=list(ROLE_LABELS.items()),
    )


def _row(base, staff, account):
    email = account.get("email", "")
    active = bool(account.get("active"))
    mine = email.casefold() == (getattr(staff, "email", None) or "").casefold()
    return {
        "name": account.get("name", ""),
        "email": email,
        "role": ROLE_LABELS.get(account.get("role"), account.get("role", "")),
        "active": active,
        "mine": mine,
        "disable": url(base, "accounts/disable") if active and not mine else None,
        "digest": bool(account.get("digest", True)),
        # The add form's route: a post with `digest` (and no name or role) turns one account's digest on or off.
        "digest_action": url(base, "accounts"),
    }
