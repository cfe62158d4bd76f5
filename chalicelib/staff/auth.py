"""Staff tokens: random, shown once, kept only as a SHA-256 hash, checked on every request.

The check runs inside the app rather than in an API Gateway authorizer. A Chalice authorizer
can only deny with a 403 and its own `{"message"}` body in `chalice local`, and API Gateway
caches an authorizer's answer for minutes, so a revoked token would go on working. Here each
request reads its token's item (one consistent GetItem): the same 401/403 bodies in
`chalice local`, the test client and AWS, and a revocation counts from the next request.
"""
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from ..core.clock import utc_iso, utcnow
from ..core.errors import NotFound, StorageUnavailable, Unauthorized, ValidationFailed

ROLES = ("staff", "admin")
TOKEN_PREFIX = "appt_staff_"
# Writing last_used_at on every request would double the cost of a read; once a minute is enough.
LAST_USED_EVERY = timedelta(minutes=1)
MAX_NAME = 60
_TOKEN = re.compile(r"^appt_staff_[A-Za-z0-9_-]{43}$")
_BEARER = re.compile(r"^bearer +(\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class StaffMember:
    name: str
    role: str
    token_id: Optional[str] = None
    email: Optional[str] = None  # set for inbox sessions: the account's address

    def may(self, role):
        """True when this member's role is `role` or above it (admin may do what staff may)."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class TokenRecord:
    id: str
    name: str
    role: str
    token_hash: str
    created_at: str
    last_used_at: Optional[str] = None
    revoked_at: Optional[str] = None
    email: Optional[str] = None  # the staff account it belongs to; None for a token made by name alone

    def as_json(self):
        return {"id": self.id, "name": self.name, "role": self.role, "created_at": self.created_at,
                "last_used_at": self.last_used_at, "revoked_at": self.revoked_at, "account": self.email}


def new_token():
    """A recognisable prefix (so secret scanners and people know it) and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Authenticator:
    def __init__(self, tokens, accounts=None, *, now=utcnow):
        self._tokens = tokens
        self._accounts = accounts
        self._now = now

    def authenticate(self, authorization):
        """The staff member an Authorization header belongs to, or Unauthorized (401)."""
        if not authorization or not authorization.strip():
            raise Unauthorized()
        match = _BEARER.fullmatch(authorization.strip())
        if not match or not _TOKEN.fullmatch(match.group(1)):
            raise Unauthorized("Send the staff token as: Authorization: Bearer TOKEN.")
        digest = token_hash(match.group(1))
        record = self._tokens.get(digest)
        if record is None or record.revoked_at or not hmac.compare_digest(record.token_hash, digest):
            raise Unauthorized("This staff token is unknown or was revoked. Ask an admin for a new one.")
        member = StaffMember(record.name, record.role, record.id)
        if record.email is not None:
            # A token of an account acts as the account is now: its name and role, and never once the
            # account was disabled after the token was made (enabling it again brings the token back not).
            account = self._accounts.get(record.email)
            if account is None or not account.admits(record.created_at):
                raise Unauthorized("This staff token's account is disabled. Ask an admin for a new one.")
            member = StaffMember(account.name, account.role, record.id)
        now = self._now()
        if record.last_used_at is None or record.last_used_at <= utc_iso(now - LAST_USED_EVERY):
            try:
                self._tokens.touch(digest, utc_iso(now), utc_iso(now - LAST_USED_EVERY))
            except StorageUnavailable:
                pass  # bookkeeping only: the token was read and is valid
        return member


class TokenAdmin:
    """Make, list and revoke tokens (tools/staff_tokens.py; the same against moto and AWS)."""

    def __init__(self, tokens, accounts=None, *, now=utcnow, make_token=new_token):
        self._tokens = tokens
        self._accounts = accounts
        self._now = now
        self._make_token = make_token

    def create_for(self, email):
        """A new token of the active staff account `email`, acting with its name and role while it stays
        active: disabling the account ends it for good. Returns (token, record)."""
        from .accounts import normalise_email

        try:
            address = normalise_email(email)
        except ValueError as error:
            raise ValidationFailed({"email": str(error)}) from None
        account = self._accounts.get(address)
        if account is None or not account.active:
            raise NotFound("There is no active staff account with that e-mail address (see make staff-list).")
        return self._add(account.name, account.role, email=address)

    def create(self, name, role):
        """A new token for `name`, of no account: returns (token, record). The token itself is never stored."""
        problems = {}
        name = unicodedata.normalize("NFC", (name or "").strip())
        if not name or len(name) > MAX_NAME or any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
                                                   for c in name):
            problems["name"] = f"Give the staff member's name: 1 to {MAX_NAME} characters, on one line."
        if role not in ROLES:
            problems["role"] = "Choose staff or admin."
        if problems:
            raise ValidationFailed(problems)
        return self._add(name, role)

    def _add(self, name, role, email=None):
        token = self._make_token()
        digest = token_hash(token)
        record = TokenRecord(id=digest[:12], name=name, role=role, token_hash=digest,
                             created_at=utc_iso(self._now()), email=email)
        self._tokens.add(record)
        return token, record

    def list(self):
        return self._tokens.all()

    def revoke(self, token_id):
        """Revoke at once; revoking a revoked token again keeps the first time."""
        record = next((r for r in self._tokens.all() if r.id == token_id), None)
        if record is None:
            raise NotFound("There is no staff token with that id.")
        if record.revoked_at:
            return record
        return self._tokens.revoke(record.token_hash, utc_iso(self._now())) or record
