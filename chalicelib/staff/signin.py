"""Staff sign-in with a one-time code sent by e-mail, and the sessions it opens.

Codes, not links: mail scanners open links before people do and would spend a one-time link,
and a code read on a phone works in the browser on the desk. A code has 8 digits, works once
for 10 minutes, and is void after 5 wrong tries.

Nobody can lock a staff member out. A code belongs to the browser that asked for it (its
random sign-in id, kept in a cookie): it signs in only there, and wrong tries from any other
browser are against that browser's own code, or none. Browsers that ask anonymously share 5
codes an hour per address; a browser that signed in as that address before shows a signed
device cookie and has 5 of its own, so a flood of strangers' requests never stops its codes.
A guesser gets at most 25 tries an hour at 10^8 codes.

Asking for a code answers the same whether or not the address has an account, and costs the same:
the request path only puts the request on a queue (one call, whatever the address), and a queue
consumer reads the account, counts the request and mails the code, off the request path. Only an
active account is mailed. A wrong code costs the same whether or not the address has an account
too: one read and one conditional write. Codes and session ids are stored only as hashes. A session ends after
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
class CodeRequest:
    """A browser's request for a code, queued for the consumer that mails it."""
    address: str  # normalised
    browser: str  # a hash of the browser's sign-in id (the id itself stays in its cookie)
    known_device: bool
    requested_at: str


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


def new_browser_id():
    """The random id that ties a code to the browser that asked for it: 256 bits, 43 characters."""
    return secrets.token_urlsafe(32)


def device_token(key, device_id, address):
    """A browser's proof that it signed in as `address` before: its id and a keyed hash of (id, address)."""
    signature = hmac.new(key, f"{device_id}:{address}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{device_id}.{signature}"


def browser_hash(browser):
    """A browser's sign-in id as stored and queued: hashed, never as is."""
    return hashlib.sha256(browser.encode("ascii")).hexdigest()[:32]


def _code_for(address, browser_hashed):
    """The code item of one browser's sign-in for `address`."""
    return f"{address}#{browser_hashed}"


# What a failed try is checked against when there is no code: no code hash is ever this, so the
# conditional write fails as it does for a wrong code, and leaves nothing behind.
_NO_CODE = "-"


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
    """The e-mail with a sign-in code, from the inbox's templates (sign-in-code.txt)."""
    from .inbox import TEMPLATES  # the pages, and Jinja2, only where a code is mailed

    return Email(
        to=address,
        subject="Your sign-in code for the staff inbox",
        text=TEMPLATES.render("sign-in-code.txt", code=f"{code[:4]} {code[4:]}"),
    )


class SignIn:
    def __init__(self, accounts, store, mailer, settings, device_key, queue, *, now=utcnow, make_code=new_code,
                 make_session_id=new_session_id):
        self._accounts = accounts
        self._store = store
        self._queue = queue  # .put(CodeRequest): the requests that send_code() handles off the request path
        self._mailer = mailer
        self._device_key = device_key  # () -> bytes: signs device cookies (derived from the deployment's key)
        self._idle = timedelta(minutes=settings.session_idle_minutes)
        self._now = now
        self._make_code = make_code
        self._make_session_id = make_session_id

    def request_code(self, email, browser, device=None):
        """Queue a code for the browser `browser` (its sign-in id), mailed by send_code() if the address has an
        active account. `device` is the browser's device cookie, if it has one. The same single call for
        every address, and no answer: neither may tell who has an account."""
        try:
            address = normalise_email(email)
        except ValueError as error:
            raise ValidationFailed({"email": str(error)}) from None
        if not _valid_id(browser):
            raise ValueError("a browser id from new_browser_id()")
        known = self.is_known_device(device, address)
        self._queue.put(CodeRequest(address=address, browser=browser_hash(browser), known_device=known,
                                    requested_at=utc_iso(self._now())))
        log.info("sign-in code requested", extra={"event": "sign_in_code_requested",
                                                  "device": "known" if known else "anonymous"})

    def send_code(self, request):
        """Mail a queued request its code, if its address has an active account and its share allows. The outcome
        goes to the log: sent, no_account, throttled or mail_failed (no retry: the person asks again)."""
        outcome = self._send_code(request.address, request.browser, request.known_device)
        log.info("sign-in code handled", extra={"event": "sign_in_code", "outcome": outcome,
                                                "device": "known" if request.known_device else "anonymous"})
        return outcome

    def is_known_device(self, device, address):
        """True when `device` is the signed device cookie of a browser that signed in as `address` before."""
        if not isinstance(device, str) or "." not in device:
            return False
        device_id = device.split(".", 1)[0]
        return _valid_id(device_id) and hmac.compare_digest(device, device_token(self._device_key(), device_id, address))

    def device_cookie_value(self, device, address):
        """The device cookie to keep after signing in as `address`: the browser's own, re-signed, or a new one."""
        device_id = device.split(".", 1)[0] if isinstance(device, str) else ""
        return device_token(self._device_key(), device_id if _valid_id(device_id) else new_browser_id(), address)

    def _send_code(self, address, browser, known):
        account = self._accounts.get(address)
        if account is None or not account.active:
            return "no_account"
        now = self._now()
        if not known and not self._count(address, now, code=None):
            return "throttled"  # strangers' requests for this address use up only the anonymous share
        code, salt = self._make_code(), secrets.token_hex(16)
        if not self._count(_code_for(address, browser), now, code=(_code_hash(salt, code), salt)):
            return "throttled"
        try:
            self._mailer.send(code_email(address, code))
        except MailNotSent as error:
            log.warning("sign-in code not sent", extra={"event": "sign_in_code_failed", "reason": error.reason})
            return "mail_failed"
        return "sent"

    def _count(self, key, now, code):
        """Count one code request against `key`'s hourly share, writing the new code (hash, salt) if given.
        False when the share is used up, or another request won the race for it."""
        state = self._store.code(key)
        since = utc_iso(now - THROTTLE_WINDOW)
        recent = tuple(t for t in (state.requests if state else ()) if t > since)
        if len(recent) >= CODES_PER_HOUR:
            return False
        code_hash, salt = code or (None, None)
        fresh = CodeState(code_hash=code_hash, salt=salt, valid_until=utc_iso(now + CODE_VALID) if code else None,
                          tries=0, requests=recent + (utc_iso(now),), version=(state.version + 1) if state else 1)
        return self._store.save_code(key, fresh, int((now + THROTTLE_WINDOW).timestamp()),
                                     state.version if state else None)

    def verify(self, email, code, browser):
        """(session id, staff member) for the right code typed in the browser it was sent for; SignInFailed
        otherwise. One log line either way."""
        try:
            session_id, staff = self._verify(email, code, browser)
        except SignInFailed as failure:
            log.info("sign-in failed", extra={"event": "sign_in", "outcome": "failure", "reason": failure.reason})
            raise
        log.info("signed in", extra={"event": "sign_in", "outcome": "success", "actor": staff.name})
        return session_id, staff

    def _verify(self, email, code, browser):
        try:
            address = normalise_email(email)
        except ValueError:
            raise SignInFailed("bad_address") from None
        code = ascii_digits(code)
        if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", code):
            raise SignInFailed("malformed_code")
        if not _valid_id(browser):
            raise SignInFailed("no_code")  # a browser that never asked for one
        key = _code_for(address, browser_hash(browser))
        now = self._now()
        state = self._store.code(key)
        reason = _refusal(state, code, utc_iso(now))
        if reason:
            # The same read and conditional write whether or not there is a code, so the time a wrong
            # code takes does not tell a stranger that the address has an account.
            self._store.count_wrong_try(key, state.code_hash if state and state.code_hash else _NO_CODE)
            raise SignInFailed(reason)
        if not self._store.use_code(key, state.code_hash, MAX_TRIES):
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


def _refusal(state, code, now):
    """Why `code` does not sign in against `state`, or None when it does."""
    if state is None or not state.code_hash:
        return "no_code"
    if state.tries >= MAX_TRIES:
        return "too_many_tries"
    if state.valid_until <= now:
        return "expired"
    if not hmac.compare_digest(_code_hash(state.salt, code), state.code_hash):
        return "wrong_code"
    return None


def _valid_id(value):
    return isinstance(value, str) and _SESSION_ID.fullmatch(value) is not None


def _moment(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
