"""Mailing sign-in codes, off the request path: the queue's consumer decides which codes an address's e-mails carry,
and when (signin.py queues the requests; docs/staff.md, "Sign-in", has the whole argument and its bounds).

A browser that signed in as the address before (its device entry, devices.py, checked against the account's
generation) is mailed its code at once: 5 an hour per device, 10 an hour per address, counted by device id.
Every other request, and a known browser's past those, is answered by the address's next e-mail of codes: at most
one every 2 minutes, carrying the codes of the last 5 networks that asked since the one before (one browser each:
a network's newer request replaces its older one; sign_in_sources.py), each beside the words its page shows.
Nothing a stranger does is refused for a budget they have spent: they can only be among the last 5 networks.
The first request of a quiet address is mailed at once; one that must wait is mailed by a follow-up the consumer
queues for itself (MailDue), at most 45 s ahead each, so the queue's age alarm (a minute) keeps its meaning. An address's state is one item, written only if unchanged since read (two consumers run at once).

A message handled twice (SQS delivers at least once) answers its request once: each browser's code item keeps the
ids of the requests it answered, and a code already mailed is never replaced by a copy of the request that asked.
"""
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Optional

from ..core.clock import utc_iso
from ..core.errors import MailNotSent
from ..core.logs import get_logger
from ..core.mail import Email
from .devices import DeviceClaim, generation
from .sign_in_sources import UNKNOWN

log = get_logger(__name__)

CODE_DIGITS = 8
CODE_VALID = timedelta(minutes=10)
MAIL_EVERY = timedelta(minutes=2)  # an address's e-mails of strangers' (anonymous) codes: one at most this often
CODES_PER_MAIL = 5  # the last networks that asked, each with its (latest) browser's code
CODES_PER_DEVICE = 5  # an hour, to a browser that signed in before, at once
CODES_TO_DEVICES = 10  # an hour, to all of an address's known browsers together
THROTTLE_WINDOW = timedelta(hours=1)
FOLLOW_UP_AT_MOST = timedelta(seconds=45)  # under the minute after which SignInCodesDelayedAlarm fires
_ATTEMPTS = 5  # read-decide-write rounds against another consumer's writes to the same address
_ANSWERED_KEPT = 10  # request ids a browser's code item remembers, so a redelivered one is not answered twice


@dataclass(frozen=True)
class CodeState:
    code_hash: Optional[str]
    salt: Optional[str]
    valid_until: Optional[str]
    tries: int
    requests: tuple  # the ids of the requests this browser's codes answered, oldest first
    version: int


@dataclass(frozen=True)
class CodeRequest:
    """A browser's request for a code, queued for the consumer that mails it."""
    address: str  # normalised
    browser: str  # a hash of the browser's sign-in id (the id itself stays in its cookie)
    words: str  # what the browser's page shows, and the e-mail beside its code
    device: Optional[DeviceClaim]  # the browser's device entry for the address, if it has one
    request_id: str
    requested_at: str
    source: str = UNKNOWN  # a keyed hash of the network it came from (sign_in_sources.py)


@dataclass(frozen=True)
class MailDue:
    """The consumer's follow-up to itself: mail the address's waiting requests once its next e-mail may go."""
    address: str


@dataclass(frozen=True)
class Waiting:
    """A request waiting for the address's next e-mail of codes."""
    browser: str
    words: str
    request_id: str
    requested_at: str
    source: str = UNKNOWN


@dataclass(frozen=True)
class MailState:
    """An address's e-mails of codes: when the last one of strangers' codes went, who waits for the next one, when
    its follow-up is due, and the codes mailed to known devices in the last hour ((device, at) pairs)."""
    mailed_at: Optional[str]
    waiting: tuple
    follow_up_at: Optional[str]
    known: tuple
    version: int


_NO_MAIL = MailState(mailed_at=None, waiting=(), follow_up_at=None, known=(), version=0)


def code_key(address, browser_hashed):
    """The code item of one browser's sign-in for `address`."""
    return f"{address}#{browser_hashed}"


def new_code():
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def code_hash(salt, code):
    return hashlib.sha256(f"{salt}:{code}".encode("ascii")).hexdigest()


def code_email(address, codes):
    """The e-mail of sign-in codes, each beside its browser's words: `codes` is [(words, code)], from the staff
    package's mail templates (sign-in-code.txt)."""
    from .mail_templates import TEMPLATES

    return Email(
        to=address,
        subject="Your sign-in code for the staff inbox",
        text=TEMPLATES.render("sign-in-code.txt", codes=[(words, f"{code[:4]} {code[4:]}") for words, code in codes]),
    )


class CodeMail:
    def __init__(self, accounts, store, mailer, queue, *, now, make_code=new_code):
        self._accounts = accounts
        self._store = store
        self._mailer = mailer
        self._queue = queue  # .put(MailDue, delay_seconds=...): the follow-ups it queues for itself
        self._now = now
        self._make_code = make_code

    def handle(self, message):
        """Handle one queued message: a CodeRequest, or a MailDue follow-up. The outcome goes to the log: sent
        (with how many codes the e-mail carried), waiting (for the address's next e-mail), no_account,
        duplicate (answered already), nothing_due or mail_failed (no retry: the person asks again)."""
        if isinstance(message, MailDue):
            outcome, codes = self._mail_due(message.address)
            device = "follow_up"
        else:
            outcome, codes, device = self._answer(message)
        log.info("sign-in code handled", extra={"event": "sign_in_code", "outcome": outcome, "device": device,
                                                "codes": codes})
        return outcome

    def _answer(self, request):
        account = self._accounts.get(request.address)
        if account is None or not account.active:
            return "no_account", 0, "anonymous"
        if self._answered(request.address, request.browser, request.request_id):
            return "duplicate", 0, "anonymous"
        known = request.device is not None and hmac.compare_digest(request.device.generation,
                                                                   generation(account.disabled_at))
        mine = Waiting(request.browser, request.words, request.request_id, request.requested_at, request.source)
        for _ in range(_ATTEMPTS):
            now = self._now()
            state = self._store.mail_state(request.address) or _NO_MAIL
            known_codes = _within_the_hour(state.known, now)
            if known and _device_may_have_one(known_codes, request.device.device):
                if self._save(request.address, replace(state, known=known_codes + ((request.device.device,
                                                                                     utc_iso(now)),)), state, now):
                    return self._mail(request.address, (mine,)) + ("known",)
                continue
            # One place a network: a flood from one replaces its own request, never pushes out another network's.
            waiting = tuple(w for w in state.waiting if w.browser != mine.browser and w.source != mine.source) + (mine,)
            if _may_mail(state, now):
                if self._save(request.address, MailState(utc_iso(now), (), None, known_codes, 0), state, now):
                    return self._mail(request.address, waiting[-CODES_PER_MAIL:]) + ("anonymous",)
                continue
            follow_up_at = state.follow_up_at if _on_its_way(state, now) else self._follow_up(request.address,
                                                                                              state, now)
            if self._save(request.address, replace(state, waiting=waiting[-CODES_PER_MAIL:],
                                                   follow_up_at=follow_up_at, known=known_codes), state, now):
                return "waiting", 0, "anonymous"
        return "busy", 0, "anonymous"

    def _mail_due(self, address):
        account = self._accounts.get(address)
        if account is None or not account.active:
            return "no_account", 0
        for _ in range(_ATTEMPTS):
            now = self._now()
            state = self._store.mail_state(address)
            if state is None or not state.waiting:
                return "nothing_due", 0
            known_codes = _within_the_hour(state.known, now)
            if _may_mail(state, now):
                if self._save(address, MailState(utc_iso(now), (), None, known_codes, 0), state, now):
                    return self._mail(address, state.waiting)
                continue
            if state.follow_up_at and _moment(state.follow_up_at) > now + timedelta(seconds=1):
                return "nothing_due", 0  # a copy of a follow-up: the one due later will mail them
            follow_up_at = self._follow_up(address, state, now)
            if self._save(address, replace(state, follow_up_at=follow_up_at, known=known_codes), state, now):
                return "waiting", 0
        return "busy", 0

    def _follow_up(self, address, state, now):
        """Queue a MailDue for when the next e-mail may go, or FOLLOW_UP_AT_MOST from now if that is sooner (then
        it queues the next); the time it is due. Queued before the state that expects it is written: a copy
        left over by a lost race finds nothing to do."""
        due = min(_moment(state.mailed_at) + MAIL_EVERY, now + FOLLOW_UP_AT_MOST)
        seconds = max(1, math.ceil((due - now).total_seconds()))
        self._queue.put(MailDue(address), delay_seconds=seconds)
        return utc_iso(now + timedelta(seconds=seconds))

    def _save(self, address, new, state, now):
        fresh = replace(new, version=state.version + 1)
        return self._store.save_mail_state(address, fresh, int((now + THROTTLE_WINDOW).timestamp()),
                                           state.version or None)

    def _answered(self, address, browser, request_id):
        state = self._store.code(code_key(address, browser))
        return state is not None and request_id in state.requests

    def _mail(self, address, waiting):
        """One e-mail with a fresh code for each waiting browser not answered already: (outcome, codes)."""
        codes = []
        for entry in waiting:
            code = self._issue(address, entry)
            if code is not None:
                codes.append((entry.words, code))
        if not codes:
            return "duplicate", 0
        try:
            self._mailer.send(code_email(address, codes))
        except MailNotSent as error:
            log.warning("sign-in code not sent", extra={"event": "sign_in_code_failed", "reason": error.reason})
            return "mail_failed", len(codes)
        return "sent", len(codes)

    def _issue(self, address, entry):
        """A new code for one browser, its hash written over the browser's last; None if that request was answered
        already (a redelivered message) or another consumer wrote meanwhile."""
        key = code_key(address, entry.browser)
        state = self._store.code(key)
        answered = state.requests if state else ()
        if entry.request_id in answered:
            return None
        now = self._now()
        code, salt = self._make_code(), secrets.token_hex(16)
        fresh = CodeState(code_hash=code_hash(salt, code), salt=salt, valid_until=utc_iso(now + CODE_VALID), tries=0,
                          requests=(answered + (entry.request_id,))[-_ANSWERED_KEPT:],
                          version=(state.version + 1) if state else 1)
        if not self._store.save_code(key, fresh, int((now + THROTTLE_WINDOW).timestamp()),
                                     state.version if state else None):
            return None
        return code


def _moment(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _within_the_hour(known, now):
    since = utc_iso(now - THROTTLE_WINDOW)
    return tuple((device, at) for device, at in known if at > since)


def _device_may_have_one(known_codes, device):
    return len(known_codes) < CODES_TO_DEVICES and sum(d == device for d, _ in known_codes) < CODES_PER_DEVICE


def _may_mail(state, now):
    """True when the address's next e-mail of strangers' codes may go: none went in the last MAIL_EVERY."""
    return state.mailed_at is None or now >= _moment(state.mailed_at) + MAIL_EVERY


def _on_its_way(state, now):
    """True when a follow-up is queued and not overdue (one lost on the way is queued again)."""
    return state.follow_up_at is not None and now <= _moment(state.follow_up_at) + FOLLOW_UP_AT_MOST
