"""Staff accounts for the inbox: an e-mail address, a name, a role, active or disabled.

Adding is idempotent: adding an address again updates its name and role and makes it active.
Each account gets the morning digest (notify/digest.py) unless it has opted out (`digest` off, from the command
line or an admin's accounts page); adding an address again without saying leaves that choice as it was.
Disabling ends the account's sessions at once, because every session is checked against its
account on every request (signin.py), and for good: a session, code or token that began before
the last disabling stays void when the account is enabled again. The clinic always keeps an active admin: the last one
can be neither demoted nor disabled (add another admin first).
"""
import unicodedata
from dataclasses import dataclass
from typing import Optional

from ..core.clock import utc_iso, utcnow
from ..core.errors import NotFound, ValidationFailed
from ..core.logs import get_logger
from ..intake.models import joins_letters

log = get_logger(__name__)

ROLES = ("staff", "admin")
MAX_NAME = 60
MAX_EMAIL = 254
LAST_ADMIN = "This is the clinic's only active admin. Make someone else an admin first."


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    role: str
    active: bool
    created_at: str
    updated_at: str
    disabled_at: Optional[str] = None  # the last time it was disabled: what began before then stays ended
    digest: bool = True  # the morning digest, unless the account opted out

    def admits(self, since):
        """True when something of this account's that began at `since` (a session, a code, a token) is valid:
        the account is active and was not disabled after it began. Enabling it again brings none of it back."""
        return self.active and (self.disabled_at is None or since > self.disabled_at)

    def as_json(self):
        return {"email": self.email, "name": self.name, "role": self.role, "active": self.active,
                "digest": self.digest, "created_at": self.created_at, "updated_at": self.updated_at}


def normalise_email(value):
    """The address as accounts are keyed: trimmed, lower case, ASCII (SES sends to nothing else).

    Raises ValueError with a message a person can act on.
    """
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(value, str) or not value.strip():
        raise ValueError("Enter an e-mail address.")
    if len(value.strip()) > MAX_EMAIL:
        raise ValueError(f"An e-mail address has at most {MAX_EMAIL} characters.")
    try:
        address = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValueError("Enter an e-mail address such as name@clinic.example.") from None
    return address.ascii_email.lower()


def staff_name(value):
    name = unicodedata.normalize("NFC", (value or "").strip()) if isinstance(value, str) else ""
    if not name or len(name) > MAX_NAME or any(
            unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn") and not joins_letters(name, i)
            for i, c in enumerate(name)):
        raise ValueError(f"Give the staff member's name: 1 to {MAX_NAME} characters, on one line.")
    return name


class AccountAdmin:
    """Add, list and disable accounts (the `make staff-*` commands and the inbox's admin page)."""

    def __init__(self, accounts, *, now=utcnow):
        self._accounts = accounts
        self._now = now

    def add(self, email, name, role, actor="cli", digest=None):
        """Add or update an account; `digest` True or False turns its morning digest on or off, None keeps it."""
        problems = {}
        for field, check in (("email", lambda: normalise_email(email)), ("name", lambda: staff_name(name))):
            try:
                check()
            except ValueError as error:
                problems[field] = str(error)
        if role not in ROLES:
            problems["role"] = "Choose staff or admin."
        if not problems and role != "admin" and self._is_last_admin(normalise_email(email)):
            problems["role"] = LAST_ADMIN
        if problems:
            raise ValidationFailed(problems)
        now = utc_iso(self._now())
        if digest is None:
            existing = self._accounts.get(normalise_email(email))
            digest = existing.digest if existing else True
        account = self._accounts.put(Account(normalise_email(email), staff_name(name), role, True, now, now,
                                             digest=bool(digest)))
        log.info("staff account saved", extra={"event": "account_saved", "account": account.name,
                                               "role": account.role, "digest": account.digest, "actor": actor})
        return account

    def set_digest(self, email, on, actor="cli"):
        """Turn an account's morning digest on (True) or off (False); its name, role and state stay as they are."""
        try:
            address = normalise_email(email)
        except ValueError as error:
            raise ValidationFailed({"email": str(error)}) from None
        account = self._accounts.set_digest(address, bool(on), utc_iso(self._now()))
        if account is None:
            raise NotFound("There is no staff account with that e-mail address.")
        log.info("staff account digest set", extra={"event": "account_digest_set", "account": account.name,
                                                     "digest": account.digest, "actor": actor})
        return account

    def list(self):
        return self._accounts.all()

    def disable(self, email, actor="cli"):
        try:
            address = normalise_email(email)
        except ValueError as error:
            raise ValidationFailed({"email": str(error)}) from None
        if self._is_last_admin(address):
            raise ValidationFailed({"email": LAST_ADMIN})
        account = self._accounts.disable(address, utc_iso(self._now()))
        if account is None:
            raise NotFound("There is no staff account with that e-mail address.")
        log.info("staff account disabled", extra={"event": "account_disabled", "account": account.name,
                                                  "actor": actor})
        return account

    def _is_last_admin(self, address):
        """True when `address` is the only active admin: an admin action on it leaves the clinic with none."""
        admins = {account.email for account in self._accounts.all() if account.active and account.role == "admin"}
        return admins == {address}
