"""Staff sign-in with a one-time code sent by e-mail, and the sessions it opens.

Codes, not links: mail scanners open links before people do and would spend a one-time link,
and a code read on a phone works in the browser on the desk. A code has 8 digits, works once
for 10 minutes, and is void after 5 wrong tries; an address gets at most 5 codes an hour. With
those limits a guesser gets at most 25 tries an hour at 10^8 codes.

Asking for a code answers the same whether or not the address has an account; only an active
account is mailed. Codes and session ids are stored only as hashes. A session ends after
`STAFF_SESSION_IDLE_MINUTES` without use, 12 hours after sign-in, at sign-out, or as soon as its
account is disabled (the account is read on every request), for good: enabling the account again
brings back no session, and no code, from before.
"""
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from ..core.clock import utc_iso, utcnow
from ..core.errors import MailNotSent, StorageUnavailable, Unauthorized, ValidationFailed
from ..core.logs import get_logger
from ..core.mail import Email
from .accounts import normalise_email
from .auth import StaffMember

log = get_logger(__name__)

CODE_DIGITS = 8
CODE_VALID = timedelta(minutes=10)
MAX_TRIES = 5
CODES_PER_HOUR = 5
THROTTLE_WINDOW = timedelta(hours=1)
SESSION_LIMIT = timedelta(hours=12)
# Writing last_seen_at on every request would double the cost of a page; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class CodeState:
    code_hash: Optional[str]
    salt: Optional[str]
    valid_until: Optional[str]
    tries: int
    requests: tuple
    version: int


@dataclass(frozen=True)
class SessionState:
    session_hash: str
    email: str
    started_at: str
    last_seen_at: str
    expires_at: int


class SignInFailed(Unauthorized):
    message = "That code is not right, or it has expired. Check the latest e-mail, or ask for a new code."

    def __init__(self, reason):
        super().__init__()
        self.reason = reason


def ascii_digits(typed):
    """The code as typed, in ASCII digits: a phone set to Arabic, Persian or a full-width keyboard
    types the same code in other digits. Spaces and dashes go; anything else stays, to be refused."""
    if not isinstance(typed, str):
        return ""
    kept = (c for c in typed if not c.isspace() and c != "-")
    return "".join(str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c for c in kept)


def new_code():
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def new_session_id():
    """256 random bits, URL-safe: 43 characters."""
    return secrets.token_urlsafe(32)


def session_hash(session_id):
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _code_hash(salt, code):
    return hashlib.sha256(f"{salt}:{code}".encode("ascii")).hexdigest()


def code_email(address, code):
    spaced = f"{code[:4]} {code[4:]}"
    return Email(
        to=address,
        subject="Your sign-in code for the staff inbox",
        text=(
            f"Your sign-in code is {spaced}\n\n"
            "Type it into the sign-in page that asked for it. It works once, for 10 minutes.\n\n"
            "If you did not ask for a code, you can ignore this e-mail: nobody can sign in without it.\n"
        ),
    )


class SignIn:
    def __init__(self, accounts, store, mailer, settings, *, now=utcnow, make_code=new_code,
                 make_session_id=new_session_id):
        self._accounts = accounts
        self._store = store
        self._mailer = mailer
        self._idle = timedelta(minutes=settings.session_idle_minutes)
        self._now = now
        self._make_code = make_code
        self._make_session_id = make_session_id

    def request_code(self, email):
        """E-mail a code to an active account. Returns nothing: the answer must not tell who has one."""
        try:
            address = normalise_email(email)
        except ValueError as error:
            raise ValidationFailed({"email": str(error)}) from None
        outcome = self._send_code(address)
        log.info("sign-in code requested", extra={"event": "sign_in_code", "outcome": outcome})

    def _send_code(self, address):
        account = self._accounts.get(address)
        if account is None or not account.active:
            return "no_account"
        now = self._now()
        state = self._store.code(address)
        since = utc_iso(now - THROTTLE_WINDOW)
        recent = tuple(t for t in (state.requests if state else ()) if t > since)
        if len(recent) >= CODES_PER_HOUR:
            return "throttled"
        code, salt = self._make_code(), secrets.token_hex(16)
        fresh = CodeState(code_hash=_code_hash(salt, code), salt=salt, valid_until=utc_iso(now + CODE_VALID), tries=0,
                          requests=recent + (utc_iso(now),), version=(state.version + 1) if state else 1)
        expires_at = int((now + THROTTLE_WINDOW).timestamp())
        if not self._store.save_code(address, fresh, expires_at, state.version if state else None):
            return "throttled"  # another request for this address won the race
        try:
            self._mailer.send(code_email(address, code))
        except MailNotSent as error:
            log.warning("sign-in code not sent", extra={"event": "sign_in_code_failed", "reason": error.reason})
            return "mail_failed"
        return "sent"

    def verify(self, email, code):
        """(session id, staff member) for the right code; SignInFailed otherwise. One log line either way."""
        try:
            session_id, staff = self._verify(email, code)
        except SignInFailed as failure:
            log.info("sign-in failed", extra={"event": "sign_in", "outcome": "failure", "reason": failure.reason})
            raise
        log.info("signed in", extra={"event": "sign_in", "outcome": "success", "actor": staff.name})
        return session_id, staff

    def _verify(self, email, code):
        try:
            address = normalise_email(email)
        except ValueError:
            raise SignInFailed("bad_address") from None
        code = ascii_digits(code)
        if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", code):
            raise SignInFailed("malformed_code")
        now = self._now()
        state = self._store.code(address)
        if state is None or not state.code_hash:
            raise SignInFailed("no_code")
        if state.tries >= MAX_TRIES:
            raise SignInFailed("too_many_tries")
        if state.valid_until <= utc_iso(now):
            raise SignInFailed("expired")
        if not hmac.compare_digest(_code_hash(state.salt, code), state.code_hash):
            self._store.count_wrong_try(address, state.code_hash)
            raise SignInFailed("wrong_code")
        if not self._store.use_code(address, state.code_hash, MAX_TRIES):
            raise SignInFailed("already_used")
        account = self._accounts.get(address)
        issued_at = utc_iso(_moment(state.valid_until) - CODE_VALID)
        if account is None or not account.admits(issued_at):
            raise SignInFailed("no_account")  # disabled, or disabled after this code was mailed
        session_id = self._make_session_id()
        self._store.add_session(SessionState(
            session_hash=session_hash(session_id), email=address, started_at=utc_iso(now), last_seen_at=utc_iso(now),
            expires_at=int((now + SESSION_LIMIT).timestamp()),
        ))
        return session_id, StaffMember(account.name, account.role, email=address)

    def staff_member(self, session_id):
        """The signed-in staff member of a session id, or Unauthorized."""
        if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
            raise Unauthorized("Sign in to the staff inbox.")
        digest = session_hash(session_id)
        state = self._store.session(digest)
        if state is None:
            raise Unauthorized("Your session has ended. Sign in again.")
        now = self._now()
        started = _moment(state.started_at)
        last_seen = _moment(state.last_seen_at)
        account = self._accounts.get(state.email)
        if now >= started + SESSION_LIMIT or now >= last_seen + self._idle or account is None \
                or not account.admits(state.started_at):
            self._store.end_session(digest)
            raise Unauthorized("Your session has ended. Sign in again.")
        if now - last_seen >= TOUCH_EVERY:
            try:
                self._store.touch_session(digest, utc_iso(now))
            except StorageUnavailable:
                pass  # bookkeeping only: the session was read and is valid
        return StaffMember(account.name, account.role, email=state.email)

    def sign_out(self, session_id):
        if isinstance(session_id, str) and _SESSION_ID.fullmatch(session_id):
            self._store.end_session(session_hash(session_id))


def _moment(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
