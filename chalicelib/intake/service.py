"""The steps of a submission: validate, decide replay or new, store once."""
import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from ..core.clock import utc_iso, utcnow
from ..core.errors import IdempotencyConflict, StorageUnavailable, ValidationFailed
from ..core.keys import purpose_key
from ..core.logs import get_logger
from ..core.lookup import lookup_key, lookups
from .languages import choose as choose_language
from . import spam
from .models import AppointmentRequest, ConsentEvidence, validate_form

log = get_logger(__name__)

KEY_WINDOW = timedelta(hours=24)
REPLAY_WINDOW = timedelta(minutes=10)
SPAM_RETENTION_DAYS = 7
# A person who sends, goes Back, corrects a detail and sends again spends the page's token twice: within
# this time of the first send, for the same location, up to this many corrections are requests of their own.
CORRECTION_WINDOW = timedelta(minutes=30)
MAX_CORRECTIONS = 2
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


@dataclass(frozen=True)
class Receipt:
    id: str
    replayed: bool
    status: str = "received"
    due_at: Optional[datetime] = None  # when the clinic will get in touch (a suspected request's reads the same)
    created_at: Optional[datetime] = None  # when the first one arrived: its page link is signed as of then


def random_id():
    return _b32(secrets.token_bytes(15))


def derived_id(dedupe_key, secret):
    """The id a submission gets when it is first seen, so that a replay lands on the same item.

    Keyed (HMAC-SHA256 under the request ids' key, from the deployment's `secret`: core.keys): whoever
    knows what a person sent cannot compute the id of their request from it.
    """
    return _b32(_mac(purpose_key(secret, "request ids"), f"id:{dedupe_key}")[:15])


def content_digest(form_values, secret):
    """What tells a replay's content from other content, keyed like the ids, so nobody can recompute it."""
    return _mac(purpose_key(secret, "request ids"),
                "content:" + json.dumps(form_values, sort_keys=True, ensure_ascii=False)).hex()


def _mac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _b32(raw):
    return base64.b32encode(raw).decode().lower()


class AppointmentService:
    def __init__(self, repository, settings, id_key, *, now=utcnow, new_id=random_id):
        """`id_key()` gives the deployment's secret key (bytes); it is called only once a submission is valid."""
        self._repository = repository
        self._settings = settings
        self._id_key = id_key
        self._now = now
        self._new_id = new_id


    def submit(self, data, idempotency_key=None, key_field="Idempotency-Key", accept_language=None):
        """Store a submission once; return a Receipt (a replay returns the first one's id and due time)."""
        now = self._now()
        form, problems = None, {}
        try:
            form = validate_form(
                data,
                locations=self._settings.locations,
                phone_region=self._settings.phone_region,
                today=now.astimezone(self._settings.timezone).date(),
                consent_versions=self._settings.consent_versions,
                languages=self._settings.languages,
            )
        except ValidationFailed as failed:
            problems.update(failed.fields)
        if idempotency_key is not None and not (
            isinstance(idempotency_key, str) and _IDEMPOTENCY_KEY.match(idempotency_key)
        ):
            problems[key_field] = "Use 8 to 128 characters of A-Z, a-z, 0-9, _ and -."
        if problems:
            raise ValidationFailed(problems)

        secret = self._id_key()
        settings = self._settings
        read = spam.read_token(spam.token_key(secret), form.form_token, now,
                               timedelta(hours=settings.form_token_max_age_hours)) if form.form_token is not None \
            else None
        verdict = spam.judge(honeypot=form.suspected_spam, token=form.form_token, read=read, now=now,
                             fields=form.fields(), min_fill=settings.min_fill_seconds,
                             tokens_required=settings.form_tokens == "required")
        content_hash = content_digest(form.content(), secret)
        if read is not None and read.valid:
            # The token's nonce is the page load's own key: its retries are replays, and the same token
            # with other content is a reused token. Spending it costs no call beyond the one write.
            dedupe_key, window = f"token:{read.nonce}", timedelta(hours=settings.form_token_max_age_hours)
        elif idempotency_key is not None:
            dedupe_key, window = f"key:{idempotency_key}", KEY_WINDOW
        else:
            dedupe_key, window = f"content:{content_hash}", REPLAY_WINDOW
        language = form.language or choose_language(settings.languages, None, accept_language)
        request = self._request(form, now, derived_id(dedupe_key, secret), dedupe_key, content_hash, verdict,
                                lookups(lookup_key(secret), form.fields()), language)

        # An id taken by an older request (outside its window) or by something else is never
        # overwritten. The request goes to a slot named for the current window instead, where a
        # retry of it lands too, unless the previous window's slot holds a recent one.
        slot = int(now.timestamp() // window.total_seconds())
        for attempt in range(4):
            existing = self._repository.add(request)
            if existing is None:
                return self._stored(request)
            try:
                receipt = _replay(existing, request, window, settings)
                if receipt is None and attempt == 0:
                    existing = self._repository.find(derived_id(f"{dedupe_key}#{slot - 1}", secret))
                    receipt = _replay(existing, request, window, settings)
            except IdempotencyConflict:
                if not dedupe_key.startswith("token:"):
                    raise
                return self._correction(existing, form, now, secret, content_hash, verdict, language)
            if receipt is not None:
                return receipt
            next_id = derived_id(f"{dedupe_key}#{slot}", secret) if attempt == 0 else self._new_id()
            request = request.model_copy(update={"id": next_id})
        raise StorageUnavailable()

    def _correction(self, first, form, now, secret, content_hash, verdict, language):
        """Other content under a spent token (`first` is what it was spent on). Sent again from the same page
        within CORRECTION_WINDOW, for the same location, it is a correction: a request of its own that names the
        one it corrects, under the id of its place in line, so that its own retries are replays. A third, a late
        or another location's is kept as token_reused."""
        late = now - first.created_at > CORRECTION_WINDOW or form.fields()["location"] != first.location
        for number in range(1, MAX_CORRECTIONS + 1):
            dedupe_key = f"{first.dedupe_key}#correction{number}"
            if late:  # no new correction now; but a correction's own retry, arriving late, is still its replay
                existing = self._repository.find(derived_id(dedupe_key, secret))
                if existing is not None and (existing.dedupe_key, existing.content_hash) == (dedupe_key, content_hash):
                    return _replayed(existing, self._settings)
                continue
            request = self._request(form, now, derived_id(dedupe_key, secret), dedupe_key, content_hash, verdict,
                                    lookups(lookup_key(secret), form.fields()), language)
            request = request.model_copy(update={"corrects": first.corrects or first.id})
            existing = self._repository.add(request)
            if existing is None:
                log.info("correction stored", extra={"event": "correction_stored", "appointment_id": request.id,
                                                     "corrects": request.corrects})
                return self._stored(request)
            if existing.dedupe_key == dedupe_key and existing.content_hash == content_hash:
                return _replayed(existing, self._settings)
        return self._reused_token(form, now, secret, content_hash, verdict, language)

    def _reused_token(self, form, now, secret, content_hash, verdict, language):
        """Other content under a spent token, not a correction: kept, under an id of its own, as suspected spam."""
        for _ in range(4):
            request_id = self._new_id()
            request = self._request(form, now, request_id, f"reused:{request_id}", content_hash,
                                    verdict.with_reason("token_reused"), lookups(lookup_key(secret), form.fields()),
                                    language)
            if self._repository.add(request) is None:
                return self._stored(request)
        raise StorageUnavailable()

    def _stored(self, request):
        if request.status == "suspected_spam":
            # Reason codes only: nothing the sender typed. The answer is a success's all the same.
            log.info("spam suspected", extra={"event": "spam_suspected", "appointment_id": request.id,
                                              "reasons": list(request.spam_reasons)})
        # A suspected request is due nowhere, but its answer reads like any other's.
        return Receipt(request.id, replayed=False, created_at=request.created_at,
                       due_at=request.due_at or self._settings.due_at(request.location, request.created_at))

    def _request(self, form, now, request_id, dedupe_key, content_hash, verdict, found_by, language):
        settings = self._settings
        # The version the patient was shown (the form's hidden field); a script without one agrees to the current.
        consent = ConsentEvidence(given_at=utc_iso(now), version=form.consent_version or settings.consent_version,
                                  language=language)
        retention = SPAM_RETENTION_DAYS if verdict.suspected else settings.retention_days
        return AppointmentRequest(
            id=request_id,
            status="suspected_spam" if verdict.suspected else "new",
            spam_reasons=verdict.reasons,
            spam_signals=verdict.signals() if verdict.suspected else {},
            # Possible spam waits for nobody: it gets a due time if staff move it to new.
            due_at=None if verdict.suspected else settings.due_at(form.fields()["location"], now),
            lookups=found_by,
            language=language,
            created_at=now,
            expires_at=int((now + timedelta(days=retention)).timestamp()),
            fields=form.fields(),
            contact_consent=consent,
            sms_consent=consent if form.sms_consent else None,
            dedupe_key=dedupe_key,
            content_hash=content_hash,
        )


def _replayed(existing, settings):
    """The first one's receipt: its id, and its due time as its location and arrival decided it."""
    return Receipt(existing.id, replayed=True, created_at=existing.created_at,
                   due_at=settings.due_at(existing.location, existing.created_at))


def _replay(existing, request, window, settings):
    """The first one's receipt when `existing` is this submission, seen within the window."""
    if existing is None or existing.dedupe_key != request.dedupe_key:
        return None
    if request.created_at - existing.created_at >= window:
        return None
    if existing.content_hash != request.content_hash:
        raise IdempotencyConflict()
    return _replayed(existing, settings)
