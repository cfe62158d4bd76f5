"""Staff sign-in with a one-time code sent by e-mail, and the sessions it opens.

Codes, not links: mail scanners open links before people do and would spend a one-time link,
and a code read on a phone works in the browser on the desk. A code has 8 digits, works once
for 10 minutes, and is void after 5 wrong tries.

Nobody can lock a staff member out (docs/staff.md, "Sign-in", has the whole argument and its bounds). A code
belongs to the browser that asked for it (its random sign-in id, kept in a cookie): it signs in only there, and
wrong tries from any other browser are against that browser's own code, or none. No request is refused for a
budget strangers can spend: a browser that signed in as the address before (its entry in the device cookie,
devices.py) is mailed its code at once, and every other is answered by the address's next e-mail of codes, at
most one every 2 minutes, each code beside the words its browser's page shows (code_mail.py, sign_in_words.py).

Asking for a code answers the same whether or not the address has an account, and costs the same:
the request path only puts the request on a queue (one call, whatever the address), and a queue
consumer (code_mail.py) reads the account, decides and mails the codes, off the request path. Only an
active account is mailed. A wrong code costs the same whether or not the address has an account
too: one read and one conditional write. Codes and session ids are stored only as hashes. A session ends after
`STAFF_SESSION_IDLE_MINUTES` without use, 12 hours after sign-in, at sign-out, or as soon as its
account is disabled (the account is read on every request), for good: enabling the account again
brings back no session, no code and no device entry from before.
"""
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..core.clock import utc_iso, utcnow
from ..core.errors import StorageUnavailable, Unauthorized, ValidationFailed
from ..core.logs import get_logger
from .accounts import normalise_email
from .auth import StaffMember
from .code_mail import (CODE_DIGITS, CODE_VALID, CodeMail, CodeRequest, CodeState, MailDue, MailState, Waiting,
                        code_email, code_hash, code_key, new_code)
from .devices import DeviceCookies
from .sign_in_sources import source_of
from .sign_in_words import browser_words

# What other modules and the tests name from here, wherever it now lives.
__all__ = ["CODE_DIGITS", "CodeRequest", "CodeState", "MailDue", "MailState", "SessionState", "SignIn", "SignInFailed",
           "Waiting", "code_email", "new_browser_id", "session_hash"]

log = get_logger(__name__)

MAX_TRIES = 5
SESSION_LIMIT = timedelta(hours=12)
# Writing last_seen_at on every request would double the cost of a page; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


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


def browser_hash(browser):
    """A browser's sign-in id as stored and queued: hashed, never as is."""
    return hashlib.sha256(browser.encode("ascii")).hexdigest()[:32]


# What a failed try is checked against when there is no code: no code hash is ever this, so the
# conditional write fails as it does for a wrong code, and leaves nothing behind.
_NO_CODE = "-"


def new_session_id():
    """256 random bits, URL-safe: 43 characters."""
    return secrets.token_urlsafe(32)


def new_request_id():
    return secrets.token_hex(8)


def session_hash(session_id):
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


class SignIn:
    def __init__(self, accounts, store, mailer, settings, device_key, queue, *, words_key, sources_key, now=utcnow,
                 make_code=new_code, make_session_id=new_session_id, make_request_id=new_request_id):
        self._accounts = accounts
        self._store = store
        self._queue = queue  # .put(message, delay_seconds=0): what send_code() handles off the request path
        self._devices = DeviceCookies(device_key)  # device_key: () -> bytes, from the deployment's key
        self._words_key = words_key  # () -> bytes: the words each sign-in page shows (sign_in_words.py)
        self._sources_key = sources_key  # () -> bytes: the networks requests come from (sign_in_sources.py)
        self._code_mail = CodeMail(accounts, store, mailer, queue, now=now, make_code=make_code)
        self._idle = timedelta(minutes=settings.session_idle_minutes)
        self._now = now
        self._make_session_id = make_session_id
        self._make_request_id = make_request_id

    def words(self, browser):
        """The words the page of the browser whose sign-in id is `browser` shows, and its code's e-mail repeats
        (None for anything but a sign-in id)."""
        return browser_words(self._words_key(), browser) if _valid_id(browser) else None

    def request_code(self, email, browser, device=None, source_ip=None):
        """Queue a code for the browser `browser` (its sign-in id), mailed by send_code() if the address has an
        active account. `device` is the browser's device cookie, if it has one; `source_ip` the caller's address,
        queued only as a keyed hash of its network. The same single call for every address, and no answer:
        neither may tell who has an account."""
        try:
            address = normalise_email(email)
        except ValueError as error:
            raise ValidationFailed({"email": str(error)}) from None
        if not _valid_id(browser):
            raise ValueError("a browser id from new_browser_id()")
        now = self._now()
        claim = self._devices.claim(device, address, now)
        self._queue.put(CodeRequest(address=address, browser=browser_hash(browser), words=self.words(browser),
                                    device=claim, request_id=self._make_request_id(), requested_at=utc_iso(now),
                                    source=source_of(self._sources_key(), source_ip)))
        log.info("sign-in code requested", extra={"event": "sign_in_code_requested",
                                                  "device": "known" if claim else "anonymous"})

    def send_code(self, message):
        """Handle one queued message, off the request path (code_mail.py); its outcome."""
        return self._code_mail.handle(message)

    def device_cookie_value(self, device, address):
        """The device cookie to keep after signing in as `address`: the browser's own, with its entry for `address`
        made afresh (or added), signed with the account's generation."""
        account = self._accounts.get(address)
        return self._devices.add(device, address, account.disabled_at if account else None, self._now())

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
        key = code_key(address, browser_hash(browser))
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
    if not hmac.compare_digest(code_hash(state.salt, code), state.code_hash):
        return "wrong_code"
    return None


def _valid_id(value):
    return isinstance(value, str) and _SESSION_ID.fullmatch(value) is not None


def _moment(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
