"""Staff triage: find requests, read one with its history, move it along, export, erase.

Listing shows the requests staff work on (new, contacted, scheduled, closed). Suspected spam
and erased requests are listed only when asked for by status, so neither is mixed into a
day's work. Erasure replaces the request with a tombstone: its id, time, location, who erased
it and when, and the history of status changes without their notes (a note can name the
patient). Nothing personal is kept.
"""
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Optional

from ..core.clock import utc_iso, utcnow
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.logs import get_logger
from ..intake import spam
from ..intake.service import SPAM_RETENTION_DAYS
from . import csv_export

log = get_logger(__name__)

ACTIVE = ("new", "contacted", "scheduled", "attended", "no_show", "cancelled", "closed")
STATUSES = ACTIVE + ("suspected_spam", "erased")
# new → contacted → scheduled (a visit booked, with its time) or closed; a scheduled visit is booked again at
# another time (scheduled → scheduled), attended, missed (no_show) or cancelled, and a cancelled one can be
# booked again. suspected_spam → new when it was a person after all, new → suspected_spam when it was not
# (reason "staff", and spam's short retention); suspected_spam → suspected_spam is staff confirming it is spam
# (reason "staff" added, once). Closed, attended, no_show and erased are final.
# Only a move to one of these is the clinic getting in touch: marking a request as spam is not, and a
# request moved back from spam to new is still waiting for its first contact.
FIRST_CONTACTS = ("contacted", "scheduled", "closed")
TRANSITIONS = {
    "new": ("contacted", "scheduled", "closed", "suspected_spam"),
    "contacted": ("scheduled", "closed"),
    "scheduled": ("scheduled", "attended", "no_show", "cancelled"),
    "attended": (),
    "no_show": (),
    "cancelled": ("scheduled",),
    "closed": (),
    "suspected_spam": ("new", "suspected_spam"),
    "erased": (),
}
# What a visit's outcome publishes as a metric per location (embedded metric format: no API call).
VISIT_OUTCOMES = {"attended": "VisitsAttended", "no_show": "VisitsMissed"}
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_NOTE = 1000
FILTERS = ("status", "location", "from", "to", "overdue", "q")
# The CSV comes back in one Lambda response (6 MB at most, JSON-escaped on the way): stop well
# inside it and hand back a cursor for the rest.
EXPORT_BUDGET = 1_500_000
# And read at most this many listing pages (each at most MAX_QUERY_CALLS Query calls): with a
# sparse filter on a big table, pages come back nearly empty, and walking the whole index in
# one request would outlast the Lambda's timeout. The cursor goes on from where it stopped.
EXPORT_PAGES = 3
# The inbox's export page lists the parts of a filter's CSV, this many at a time (each read once to
# find where the next starts), and links on to the rest.
EXPORT_PARTS_SHOWN = 10
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LIMIT = re.compile(r"^\d{1,3}$")
_NAME = re.compile(r"^[a-z][a-z_]{0,29}$")
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    by: str
    from_status: str
    to_status: str
    note: Optional[str] = None
    visit_at: Optional[str] = None  # a booking: the visit's local time
    answer: Optional[str] = None  # by the patient, from their page: their answer (visits.answers)

    def without_note(self):
        """What an erased request keeps of this entry: who moved it and when, not what was said, booked or
        answered."""
        return replace(self, note=None, visit_at=None, answer=None)

    def as_json(self):
        entry = {"at": self.at, "by": self.by, "from": self.from_status, "to": self.to_status}
        for name in ("note", "visit_at", "answer"):
            if getattr(self, name) is not None:
                entry[name] = getattr(self, name)
        return entry


@dataclass(frozen=True)
class StaffRecord:
    """A stored request as staff see it; once erased, only the tombstone's parts are set."""

    id: str
    status: str
    created_at: str
    location: str
    fields: Optional[dict] = None
    consent: Optional[dict] = None
    alerted_at: Optional[str] = None
    history: tuple = ()
    erased_at: Optional[str] = None
    erased_by: Optional[str] = None
    spam_reasons: tuple = ()  # why it is in "Possible spam" (intake.spam.REASONS)
    spam_signals: Optional[dict] = None  # the figures behind the reasons
    due_at: Optional[str] = None  # UTC ISO: when the clinic promised to get in touch
    first_contact: Optional[dict] = None  # at the first change out of new: {"at", "business_minutes", "wall_minutes"}
    lookups: Optional[dict] = None  # the keyed hashes it can be found by (core.lookup); gone once erased
    language: Optional[str] = None  # the patient's language: what staff call back in
    corrects: Optional[str] = None  # the id of the request this one corrects (the patient sent again from its page)
    visit_at: Optional[str] = None  # the booked visit's local time, "YYYY-MM-DDTHH:MM" (core.visit_times)
    visit_start: Optional[str] = None  # its instant, UTC ISO
    visit_sequence: Optional[int] = None  # 0 at the first booking, one more at each change or cancellation
    patient_answer: Optional[dict] = None  # {"answer", "at", "sequence"}: what the patient said on their page
    visit_mails: tuple = ()  # the visit e-mails that went out: {"kind", "sequence", "at", "outcome"}
    reminder: Optional[dict] = None  # the reminder of the booked time: {"sequence", "mail_at", "sms_at", ...}

    @property
    def erased(self):
        return self.status == "erased"


@dataclass(frozen=True)
class ListQuery:
    """Which requests to list: `statuses` (one asked for, or every active one), a location, a time range."""

    statuses: tuple = ACTIVE
    location: Optional[str] = None
    created_from: Optional[str] = None
    created_to: Optional[str] = None
    due_by: Optional[str] = None  # UTC ISO: only requests due at or before it (overdue=true: now)
    search: tuple = ()  # staff.search.Lookup: a search, answered from the lookup indexes (no paging)


@dataclass(frozen=True)
class VisitChange:
    """A booking, a change or a cancellation, as the store writes it with its visit e-mail's outbox item."""

    kind: str  # "booked", "changed" or "cancelled": which e-mail the patient gets
    sequence: int
    visit_at: Optional[str] = None  # booked and changed: the local time, and its instant (UTC ISO)
    visit_start: Optional[str] = None
    remind_at: Optional[str] = None  # when its reminder is due (UTC ISO); None: no reminder to send


@dataclass(frozen=True)
class Page:
    records: list
    next_cursor: Optional[str] = None


@dataclass(frozen=True)
class Export:
    text: str
    rows: int
    next_cursor: Optional[str] = None


@dataclass(frozen=True)
class Part:
    cursor: Optional[str]  # where this part of an export starts (None: at the start)
    rows: int


@dataclass(frozen=True)
class Erasure:
    record: dict
    erased_now: bool


class Invalid(ValidationFailed):
    message = "Some of what was sent needs changing: see fields."


class InvalidCursor(Exception):
    """A cursor that this listing did not hand out (garbage, tampered with, or for other dates)."""


@dataclass
class _Params:
    values: dict
    problems: dict = field(default_factory=dict)

    def one(self, name):
        """The parameter's value; None when absent or empty (an HTML form's "any")."""
        given = [value.strip() for value in self.values.get(name) or [] if value.strip()]
        if len(given) > 1:
            self.problems[name] = f"Give {name} once."
            return None
        return given[0] if given else None


class StaffService:
    def __init__(self, repository, settings, *, now=utcnow, confirmation_cap=None, search_key=None):
        self._repository = repository
        self._search_key = search_key  # () -> the key of the lookup hashes (core.lookup); needed for q only
        self._settings = settings
        self._now = now
        # Counts confirmations per address by request id (notify.confirmations.ConfirmationCap):
        # erasure takes the request out of it too. Passed in: staff does not import notify.
        self._confirmation_cap = confirmation_cap

    def list(self, params):
        """One page, newest first: {"items": [...], "next_cursor": str or None}."""
        query, limit, cursor = self._listing(params, extra=("limit", "cursor"))
        page = self._page(query, limit, cursor)
        return {"items": [self.view(r, history=False) for r in page.records], "next_cursor": page.next_cursor}

    def _first_contact(self, record):
        """How long the request waited for its first change out of new: wall-clock and opening minutes."""
        now = self._now()
        received = _moment(record.created_at)
        return {"at": utc_iso(now), "wall_minutes": int((now - received) // timedelta(minutes=1)),
                "business_minutes": self._settings.opening_hours(record.location).open_minutes(received, now)}

    def _publish_first_contact(self, record, first_contact):
        # Embedded metric format: CloudWatch turns this log line into metrics per location, with no API call.
        log.info("first contact", extra={
            "event": "first_contact", "appointment_id": record.id, "location": record.location,
            "table": self._settings.table_name,
            "FirstContactMinutes": first_contact["wall_minutes"],
            "FirstContactBusinessMinutes": first_contact["business_minutes"],
            "_aws": {"Timestamp": int(self._now().timestamp() * 1000), "CloudWatchMetrics": [{
                "Namespace": "AppointmentRequests", "Dimensions": [["table", "location"], ["table"]],
                "Metrics": [{"Name": "FirstContactMinutes", "Unit": "None"},
                            {"Name": "FirstContactBusinessMinutes", "Unit": "None"}]}]},
        })

    def spam_count(self, days=7):
        """How many requests arrived as possible spam in the last `days` days: (count, whether exact)."""
        return self._repository.count("suspected_spam", utc_iso(self._now() - timedelta(days=days)))

    def waiting_counts(self, location=None):
        """{"new": (count, exact), "overdue": (count, exact)}: what the front desk has to work through."""
        return {"new": self._repository.count("new", location=location),
                "overdue": self._repository.count("new", location=location, due_by=utc_iso(self._now()))}

    def get(self, request_id, viewer=None):
        """One request with its history; with `viewer`, the audit line that they opened it."""
        record = self._record(request_id)
        if viewer is not None:
            log.info("record viewed", extra={"event": "record_viewed", "appointment_id": record.id,
                                             "actor": viewer.name})
        return self.view(record)

    def update_status(self, request_id, change, staff):
        """Apply {"status": ..., "note": ..., "visit_at": ...} by `staff`; raise ValidationFailed, NotFound or
        Conflict."""
        target, note, visit_at = _status_change(change)
        record = self._record(request_id)
        _check_transition(record, target)
        visit = self._visit_change(record, target, visit_at)
        entry = HistoryEntry(utc_iso(self._now()), staff.name, record.status, target, note,
                             visit_at=visit.visit_at if visit else None)
        expires_at, spam_reasons, due_at, first_contact = None, None, None, None
        if record.status == "new" and target in FIRST_CONTACTS and not record.first_contact:
            first_contact = self._first_contact(record)
        if target == "new":
            due_at = utc_iso(self._settings.due_at(record.location, self._now()))  # rescued: due from now
        if target == "suspected_spam":
            spam_reasons = tuple(r for r in spam.REASONS if r in record.spam_reasons or r == "staff")
            if record.status != "suspected_spam":
                expires_at = int((self._now() + timedelta(days=SPAM_RETENTION_DAYS)).timestamp())
        elif record.status == "suspected_spam":
            expires_at = self._retention_end(record)
        updated = self._repository.change_status(record, entry, expires_at=expires_at, spam_reasons=spam_reasons,
                                                 due_at=due_at, first_contact=first_contact, visit=visit)
        if updated is None:
            current = self._record(request_id)
            raise Conflict(f"Someone else changed this request meanwhile: it is now {current.status}. "
                           "Reload it and decide again.")
        log.info("status changed", extra={"event": "status_changed", "appointment_id": record.id,
                                          "from": record.status, "to": target, "actor": staff.name})
        if first_contact and target != "suspected_spam":
            self._publish_first_contact(record, first_contact)
        if target in VISIT_OUTCOMES:
            self._publish_visit_outcome(record, target)
        return self.view(updated)

    def _visit_change(self, record, target, visit_at):
        """The booking, change or cancellation a status change is (None for any other): its time checked."""
        from ..core.visit_times import VisitTimeInvalid, reminder_time, visit_time

        if target == "cancelled":
            return VisitChange("cancelled", (record.visit_sequence or 0) + 1)
        if target != "scheduled":
            return None
        now = self._now()
        try:
            booked = visit_time(visit_at, self._settings, record.location, now)
        except VisitTimeInvalid as error:
            raise Invalid({"visit_at": str(error)}) from None
        if record.status == "scheduled" and booked.local == record.visit_at:
            raise Invalid({"visit_at": "The visit is already booked at that time: give the new time."})
        remind_at = reminder_time(booked.start, self._settings, now)
        first = record.visit_sequence is None
        return VisitChange("changed" if record.status == "scheduled" else "booked",
                           0 if first else record.visit_sequence + 1, booked.local, utc_iso(booked.start),
                           utc_iso(remind_at) if remind_at else None)

    def _publish_visit_outcome(self, record, outcome):
        name = VISIT_OUTCOMES[outcome]
        log.info("visit outcome", extra={
            "event": "visit_outcome", "appointment_id": record.id, "location": record.location, "outcome": outcome,
            "table": self._settings.table_name, name: 1,
            "_aws": {"Timestamp": int(self._now().timestamp() * 1000), "CloudWatchMetrics": [{
                "Namespace": "AppointmentRequests", "Dimensions": [["table", "location"], ["table"]],
                "Metrics": [{"Name": name, "Unit": "Count"}]}]},
        })

    def erase(self, request_id, staff):
        """Erase the personal data for good; a repeated erasure changes nothing."""
        record = self._record(request_id)
        for _ in range(3):
            if record.erased:
                # An erasure whose clean-up failed (answered 503) is finished by the next one.
                self._repository.clear_outbox(record.id)
                return Erasure(self.view(record), erased_now=False)
            now = utc_iso(self._now())
            if self._confirmation_cap is not None and (record.fields or {}).get("email"):
                # First: once the tombstone is written the address is gone, and with it the cap's key.
                self._confirmation_cap.forget(record.fields["email"], record.id)
            entry = HistoryEntry(now, staff.name, record.status, "erased")
            history = tuple(h.without_note() for h in record.history) + (entry,)
            tombstone = StaffRecord(
                id=record.id, status="erased", created_at=record.created_at, location=record.location,
                alerted_at=record.alerted_at, history=history, erased_at=now, erased_by=staff.name,
            )
            if self._repository.erase(record, tombstone):
                log.info("request erased", extra={"event": "erased", "appointment_id": record.id,
                                                  "from": record.status, "actor": staff.name})
                return Erasure(self.view(tombstone), erased_now=True)
            record = self._record(request_id)  # changed meanwhile: erase what is there now
        raise Conflict("This request keeps changing; try erasing it again.")

    def export_csv(self, params):
        """The listing's filters as CSV, up to EXPORT_PAGES pages or EXPORT_BUDGET bytes; the cursor says where to go on."""
        query, _, cursor = self._listing(params, extra=("cursor",))
        return self._export(query, cursor)

    def export_parts(self, params, max_parts=EXPORT_PARTS_SHOWN):
        """Where each part of the filter's CSV starts, for the inbox to offer every one of them: the parts
        ([Part]) from `cursor` on, at most `max_parts`, and the cursor of the part after them (None: no more)."""
        query, _, cursor = self._listing(params, extra=("cursor",))
        parts = []
        while len(parts) < max_parts:
            export = self._export(query, cursor)
            parts.append(Part(cursor, export.rows))
            cursor = export.next_cursor
            if cursor is None:
                break
        return parts, cursor

    def _export(self, query, cursor):
        rows = []
        size = 0
        for _ in range(EXPORT_PAGES):
            page = self._page(query, MAX_LIMIT, cursor)
            batch = [csv_export.row(r, self._settings.timezone) for r in page.records]
            rows += batch
            size += sum(csv_export.size(row) for row in batch)
            cursor = page.next_cursor
            if cursor is None or size >= EXPORT_BUDGET:
                break
        return Export(csv_export.to_csv(rows), len(rows), cursor)

    def view(self, record, history=True):
        data = {
            "id": record.id,
            "status": record.status,
            "created_at": record.created_at,
            "location": record.location,
            "location_name": self._settings.locations.get(record.location, record.location),
        }
        if record.erased:
            data.update(erased_at=record.erased_at, erased_by=record.erased_by)
        else:
            data.update(fields=record.fields, consent=record.consent, alerted_at=record.alerted_at)
        if record.due_at and not record.erased:
            data["due_at"] = record.due_at
        if record.language and not record.erased:
            data["language"] = record.language
        if record.corrects and not record.erased:
            data["corrects"] = record.corrects
        if record.visit_at and not record.erased:
            data.update(visit_at=record.visit_at, visit_start=record.visit_start, visit_sequence=record.visit_sequence)
            if record.status == "scheduled" and self._closed_at(record):
                data["warnings"] = ["The location is closed at the booked time: check the time with the patient."]
        if record.patient_answer and not record.erased:
            data["patient_answer"] = dict(record.patient_answer)
        if record.status == "suspected_spam":
            data["spam_reasons"] = list(record.spam_reasons)
            data["spam_signals"] = dict(record.spam_signals or {})
        if history:
            data["history"] = [entry.as_json() for entry in record.history]
        return data

    def _closed_at(self, record):
        start = _moment(record.visit_start)
        return self._settings.opening_hours(record.location).open_minutes(start, start + timedelta(minutes=1)) == 0

    def _record(self, request_id):
        record = self._repository.record(request_id) if _ID.fullmatch(request_id or "") else None
        if record is None:
            raise NotFound()
        return record

    def _page(self, query, limit, cursor):
        if query.search:
            return self._repository.search(query, limit)
        try:
            return self._repository.list_page(query, limit, cursor)
        except InvalidCursor:
            raise Invalid({"cursor": "This cursor does not belong to this listing. Start again without it."}) from None

    def _retention_end(self, record):
        created = _moment(record.created_at)
        return int((created + timedelta(days=self._settings.retention_days)).timestamp())

    def _listing(self, values, extra):
        params = _Params(values or {})
        params.problems.update(_unknown(params.values, FILTERS + extra, "query", "parameter"))
        status = params.one("status")
        location = params.one("location")
        since = self._day(params, "from")
        until = self._day(params, "to", end=True)
        limit = params.one("limit") if "limit" in extra else None
        cursor = params.one("cursor")
        overdue = params.one("overdue")
        search = self._search(params)
        if overdue not in (None, "true", "false"):
            params.problems["overdue"] = "Give overdue=true for the overdue requests only (or leave it out)."
        elif overdue == "true" and status not in (None, "new"):
            params.problems["overdue"] = "Only new requests can be overdue: leave status out, or choose new."
        if status is not None and status not in STATUSES:
            params.problems["status"] = "Choose one of: " + ", ".join(STATUSES) + "."
        if location is not None and location not in self._settings.locations:
            params.problems["location"] = "Choose one of: " + ", ".join(self._settings.locations) + "."
        if since and until and since > until:
            params.problems["to"] = "The end date cannot be before the start date."
        if limit is None:
            limit = DEFAULT_LIMIT
        elif _LIMIT.fullmatch(limit) and 1 <= int(limit) <= MAX_LIMIT:
            limit = int(limit)
        else:
            params.problems["limit"] = f"Give a whole number from 1 to {MAX_LIMIT}."
        if params.problems:
            raise Invalid(params.problems)
        overdue = overdue == "true"
        query = ListQuery(
            statuses=("new",) if overdue else (status,) if status else ACTIVE, location=location, created_from=since,
            created_to=until, due_by=utc_iso(self._now()) if overdue else None, search=search,
        )
        if search and not status and not overdue:
            query = replace(query, statuses=STATUSES[:-1])  # a search finds a request whatever its status
        return query, limit, cursor

    def _search(self, params):
        """q: a reference, a phone number or an e-mail address, as index look-ups; text that is none of them
        finds nothing. Present but empty, or longer than any address, it is a 422."""
        from .search import MAX_QUERY, Lookup, lookups

        raw = params.values.get("q")
        if raw is None:
            return ()
        q = params.one("q")
        if q is None:
            if "q" not in params.problems:
                params.problems["q"] = "Give a reference, a phone number or an e-mail address to search for."
            return ()
        if len(q) > MAX_QUERY or any(unicodedata.category(char) in ("Cc", "Cs") for char in q):
            params.problems["q"] = (f"Search for a reference, a phone number or an e-mail address (at most "
                                    f"{MAX_QUERY} characters, one line).")
            return ()
        found = tuple(lookups(q, self._search_key(), self._settings.phone_region))
        return found or (Lookup("by_ref", "ref_prefix", "-"),)  # nothing it could be: a look-up that finds none

    def _day(self, params, name, end=False):
        """A date in the clinic's time zone as a created_at bound (UTC): its first or its last millisecond."""
        value = params.one(name)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value) if _DATE.fullmatch(value) else None
            if day is not None:
                start = datetime.combine(day + timedelta(days=1) if end else day, time(), self._settings.timezone)
                return utc_iso(start - timedelta(milliseconds=1) if end else start)
        except (ValueError, OverflowError):
            pass
        params.problems[name] = "Enter the date as YYYY-MM-DD, e.g. 2026-12-01."
        return None


def _moment(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _status_change(change):
    problems = _unknown(change, ("status", "note", "visit_at"), "body", "field")
    target = change.get("status")
    if target is None:
        problems["status"] = "Give the new status."
    elif not isinstance(target, str) or target not in STATUSES or target == "erased":
        problems["status"] = "Choose one of: " + ", ".join(s for s in STATUSES if s != "erased") + "."
    note = change.get("note")
    try:
        note = _clean_note(note)
    except ValueError as error:
        problems["note"] = str(error)
    visit_at = change.get("visit_at")
    if target != "scheduled" and visit_at is not None:
        problems["visit_at"] = "Give visit_at only when booking a visit (status scheduled)."
    if problems:
        raise Invalid(problems)
    return target, note, visit_at


def _unknown(names, known, where, kind):
    """Names not in `known`, each with what to send instead. Names that are not plain words go under
    `where`: they are echoed back and logged, and a mistyped URL or body could hold anything."""
    problems = {}
    for name in names:
        if name not in known:
            key = name if _NAME.fullmatch(name) else where
            problems[key] = f"Unknown {kind}. Use " + ", ".join(known) + "."
    return problems


def _clean_note(note):
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValueError("A note is text.")
    note = unicodedata.normalize("NFC", note.replace("\r\n", "\n").replace("\r", "\n").strip())
    if any(char != "\n" and (char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"))
           for char in note):
        raise ValueError("A note cannot contain control characters (line breaks are fine).")
    if len(note) > MAX_NOTE:
        raise ValueError(f"A note can be at most {MAX_NOTE} characters (it has {len(note)}).")
    return note or None


def allowed_transitions(view):
    """The statuses a request (a view) can move to now."""
    status = view["status"]
    if status == "suspected_spam" and "staff" in view.get("spam_reasons", ()):
        return ("new",)
    return TRANSITIONS.get(status, ())


def _check_transition(record, target):
    current = record.status
    if current == "erased":
        raise Invalid({"status": "This request was erased; its status cannot change."})
    if current == target == "suspected_spam" and "staff" in record.spam_reasons:
        raise Invalid({"status": "This request is already marked as spam by staff."})
    allowed = TRANSITIONS[current]
    if target not in allowed:
        where = ("it cannot change any more" if not allowed
                 else "it can move to " + " or ".join(allowed))
        raise Invalid({"status": f"This request is {current}: {where}."})
