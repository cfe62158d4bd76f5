"""The patient's page: what it shows of a request, and the answers a patient gives on it (SPEC "From request to
visit", "The patient's page").

The page is opened by its link's token (core.patient_links) and judged against the record: a token for an erased
request, or one more than 30 days past the visit (90 past the request when no visit was booked), no longer opens it
(LinkGone, 410); a forged, truncated or unknown one never did (LinkUnknown, 404). The page shows the clinic, the
reference and where the request stands, never a name, a contact detail or a message; a suspected-spam request
reads exactly like a received one, so a script learns nothing from it.

Each answer is a plain form post carrying the page's own signed field (the request's id, signed when the page was
drawn, under its own key: good for ANSWER_FIELD_HOURS), and the status and visit the page showed. It is recorded
once per visit, in one conditional transaction with its history line ("by the patient") and, when staff are to
hear of it, the alert's outbox item (storage.answers):
- before a booking: "withdrawn" (→ closed; staff hear `request.withdrawn`) and "not_me" (→ suspected_spam with
  reason not_me and spam's short retention). Staff hear nothing on SNS of a not_me, nor of any answer on a
  request already kept as possible spam: spam alerts nobody, and a not_me is a request nobody needs to call
  back; the inbox shows it under possible spam with its reason. The mail consumer and the reminders skip
  suspected spam, so no more e-mail goes about it.
- for a booked visit: "confirmed" (stays scheduled; `visit.confirmed`), "cancelled" (→ cancelled, the reminder
  dequeued, the cancellation e-mail's outbox item written as for a staff cancellation; `visit.cancelled`) and
  "change_requested" (stays scheduled; `visit.change_requested`).
"""
import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from ..core.clock import utc_iso, utcnow
from ..core.patient_links import ID_BYTES, read_page_token
from ..core.signing import Signer
from ..intake import spam
from ..intake.service import SPAM_RETENTION_DAYS
from ..staff.triage import HistoryEntry

OPEN_PAST_VISIT = timedelta(days=30)
OPEN_PAST_REQUEST = timedelta(days=90)
ANSWER_FIELD_HOURS = 12
BEFORE_BOOKING = ("withdrawn", "not_me")
FOR_A_VISIT = ("confirmed", "change_requested", "cancelled")
ANSWERS = BEFORE_BOOKING + FOR_A_VISIT
# What staff hear on SNS of each answer (None: nothing).
EVENTS = {"withdrawn": "request.withdrawn", "confirmed": "visit.confirmed", "cancelled": "visit.cancelled",
          "change_requested": "visit.change_requested", "not_me": None}
# Where each answer moves the request from each status it is offered in (absent: it stays).
MOVES = {("withdrawn", "new"): "closed", ("withdrawn", "contacted"): "closed",
         ("not_me", "new"): "suspected_spam", ("not_me", "contacted"): "suspected_spam",
         ("cancelled", "scheduled"): "cancelled"}
# What happened to a post, as the page says it after the redirect (?done=).
OUTCOMES = ("recorded", "already", "changed", "try_again")


class LinkGone(Exception):
    """The link did work, and no longer does: 410."""

    status = 410


class LinkUnknown(Exception):
    """The link never named a request here: 404."""

    status = 404


@dataclass(frozen=True)
class PageView:
    """What the page shows, and nothing more: no name, no contact detail, no message."""

    request_id: str
    reference: str
    language: str
    stage: str  # received, contacted, booked, changed, cancelled, done, withdrawn, not_me
    location: str  # the location's name
    address: Optional[str]
    phone: Optional[str]
    due_at: Optional[object]  # received: when the clinic will get in touch (aware, the clinic's zone)
    visit_at: Optional[object]  # booked, changed, cancelled: the visit's time (aware, the clinic's zone)
    answer: Optional[str]  # the patient's answer to what the page shows (this visit), if any
    offers: tuple  # the answers the page offers now
    seen: str  # the status and visit sequence the page shows, sent back with an answer: "scheduled:0"
    answer_field: str  # the page's own signed field
    calendar: bool  # whether the visit's .ics is offered


class PatientPages:
    def __init__(self, repository, settings, page_key, answer_key, *, now=utcnow):
        self._repository = repository  # storage.answers.AnswerRepository
        self._settings = settings
        self._page_key = page_key  # () -> key: "patient pages"
        self._answer_key = answer_key  # () -> key: "patient answers"
        self._now = now

    def open(self, token):
        """The record a token opens now; LinkUnknown or LinkGone."""
        request_id = read_page_token(self._page_key(), token, self._now())
        record = self._repository.record(request_id) if request_id else None
        if record is None:
            raise LinkUnknown()
        if record.erased or self._expired(record):
            raise LinkGone()
        return record

    def view(self, token):
        return self._view(self.open(token))

    def calendar(self, token, page_url):
        """The .ics of the booked visit (bytes), or None when there is no booked visit to offer."""
        from ..notify.calendar import visit_calendar

        record = self.open(token)
        if record.status != "scheduled" or not record.visit_start:
            return None
        return visit_calendar(_Visit(record), self._settings, page_url, self._now(), record.language or "en")

    def answer(self, token, form):
        """Record the answer of a post (`form`: {"answer", "seen", "answer_field"}); one of OUTCOMES. LinkUnknown
        or LinkGone when the page itself no longer opens."""
        record = self.open(token)
        now = self._now()
        if not self._field_is_good(form.get("answer_field"), record.id, now):
            return "try_again"
        answer = form.get("answer")
        if _already(record, answer):
            return "already"  # the same answer again (a second click, a reload): nothing changes, nothing is sent
        view = self._view(record)
        if form.get("seen") != view.seen or answer not in view.offers:
            return "changed"
        at = utc_iso(now)
        target = MOVES.get((answer, record.status), record.status)
        entry = HistoryEntry(at, "patient", record.status, target, answer=answer)
        event = EVENTS[answer] if record.status != "suspected_spam" else None
        expires_at = spam_reasons = cancel_sequence = None
        if answer == "not_me":
            spam_reasons = tuple(r for r in spam.REASONS if r in record.spam_reasons or r == "not_me")
            if record.status != "suspected_spam":
                expires_at = int((now + timedelta(days=SPAM_RETENTION_DAYS)).timestamp())
        if answer == "cancelled":
            cancel_sequence = (record.visit_sequence or 0) + 1
        recorded = self._repository.record_answer(
            record, entry, {"answer": answer, "at": at, "sequence": record.visit_sequence}, event=event,
            expires_at=expires_at, spam_reasons=spam_reasons, cancel_sequence=cancel_sequence)
        return "recorded" if recorded else "changed"

    # --- what the page shows

    def _view(self, record):
        settings = self._settings
        zone = settings.timezone
        stage, offers = self._stage(record)
        answer = self._answer_shown(record, stage)
        if answer in offers:
            offers = tuple(offer for offer in offers if offer != answer)
        due_at = None
        if stage == "received":
            # A suspected-spam request has no due time stored: the one a received request would have.
            due = _moment(record.due_at) if record.due_at else settings.due_at(record.location, _moment(record.created_at))
            due_at = due.astimezone(zone)
        visit_at = _moment(record.visit_start).astimezone(zone) if record.visit_start and stage in (
            "booked", "changed", "cancelled") else None
        return PageView(
            request_id=record.id, reference=record.id, language=record.language or "en", stage=stage,
            location=settings.locations.get(record.location, record.location),
            address=settings.location_addresses.get(record.location),
            phone=settings.location_phones.get(record.location), due_at=due_at, visit_at=visit_at, answer=answer,
            offers=offers, seen=f"{_shown_status(record)}:{'' if record.visit_sequence is None else record.visit_sequence}",
            answer_field=self._field(record.id), calendar=record.status == "scheduled" and bool(record.visit_start),
        )

    @staticmethod
    def _stage(record):
        status, answer = record.status, (record.patient_answer or {}).get("answer")
        if answer == "not_me" and status == "suspected_spam":
            return "not_me", ()
        if answer == "withdrawn" and status in ("closed", "suspected_spam"):
            return "withdrawn", ()
        if status in ("new", "suspected_spam"):
            return "received", BEFORE_BOOKING
        if status == "contacted":
            return "contacted", BEFORE_BOOKING
        if status == "scheduled":
            return ("booked" if not record.visit_sequence else "changed"), FOR_A_VISIT
        if status == "cancelled":
            return "cancelled", ()
        return "done", ()

    @staticmethod
    def _answer_shown(record, stage):
        answer = record.patient_answer or {}
        if stage in ("booked", "changed") and answer.get("sequence") == record.visit_sequence:
            return answer.get("answer")
        if stage == "cancelled" and answer.get("answer") == "cancelled":
            return "cancelled"
        return None

    def _expired(self, record):
        now = self._now()
        if record.visit_start:
            return now - _moment(record.visit_start) > OPEN_PAST_VISIT
        return now - _moment(record.created_at) > OPEN_PAST_REQUEST

    # --- the page's own signed field

    def _signer(self):
        return Signer(self._answer_key(), ID_BYTES)

    def _field(self, request_id):
        return self._signer().sign(_id_bytes(request_id), self._now())

    def _field_is_good(self, value, request_id, now):
        signed = self._signer().read(value, now, timedelta(hours=ANSWER_FIELD_HOURS))
        return signed is not None and signed.payload == _id_bytes(request_id)


def _already(record, answer):
    given = record.patient_answer or {}
    if answer not in ANSWERS or given.get("answer") != answer:
        return False
    if answer == "cancelled":
        return record.status == "cancelled"
    return given.get("sequence") == record.visit_sequence


def _shown_status(record):
    """The status as the page shows it: a suspected-spam request is shown (and answered) as a new one."""
    return "new" if record.status == "suspected_spam" else record.status


def _id_bytes(request_id):
    return base64.b32decode(request_id.upper())


def _moment(value):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Visit:
    """A staff record as notify.calendar.visit_calendar reads a request: id, location, visit_start, visit_sequence."""

    def __init__(self, record):
        self.id, self.location = record.id, record.location
        self.visit_start = _moment(record.visit_start)
        self.visit_sequence = record.visit_sequence
