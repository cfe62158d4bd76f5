"""One request's page (its facts, what the patient sent, consent, status and history) and the page that
confirms its erasure."""
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

from ...intake.languages import STAFF_NAMES
from ...intake.models import CONTACT_LABELS, TIME_LABELS
from .common import (ANSWER_LABELS, STATUS_LABELS, Moment, answer_of, day, is_admin, location_of, moment, person_name,
                     render, request_url, spam_reasons, status_of, tel_uri, url, utcnow, visit_moment)

TRANSITION_LABELS = {
    "new": "New (not spam after all)",
    "contacted": "Contacted",
    "scheduled": "Scheduled",
    "attended": "Attended (came to the visit)",
    "no_show": "No-show (did not come)",
    "cancelled": "Cancelled (the visit is off)",
    "closed": "Closed",
    "suspected_spam": "Spam",
}
# The booking form's fields, by the name of what they make: the problems of visit_at are shown at the date.
BOOKING_FIELDS = {"visit_at": "visit-date", "visit_date": "visit-date", "visit_time": "visit-time",
                  "note": "book-note"}
# The order of a request's fields on its page; any others follow in the order stored.
FIELD_ORDER = (
    "first_name", "last_name", "email", "phone", "preferred_contact", "location", "new_patient", "reason",
    "preferred_date", "preferred_time", "has_referral", "insurance", "message", "contact_consent",
    "sms_consent",
)


@dataclass(frozen=True)
class Field:
    """One thing the patient sent, as its row shows it. `kind`: "missing", "words" (the inbox's own), "typed" (as the
    patient typed it), "link" (typed, to call or mail), "message" (typed, its lines kept) or "day"."""
    label: str
    kind: str
    text: str = ""
    href: Optional[str] = None
    when: Optional[Moment] = None


def request_page(base, staff, view, transitions, timezone, reasons, labels, notice=None, error=None, now=None,
                 form=None, fields=None):
    """`form` and `fields`: what a refused post sent and what is wrong with it, field by field, to show it again
    with each problem at its field (nothing typed is lost)."""
    erased = "fields" not in view or view.get("status") == "erased"
    form, fields = form or {}, dict(fields or {})
    booking_post = form.get("status") == "scheduled"
    problems = [(BOOKING_FIELDS.get(name) if booking_post else ("note" if name == "note" else None), text)
                for name, text in fields.items() if text]
    # The title stays free of the patient's name: titles end up in browser history and tabs.
    return render(
        "request.html", base, "Request", staff,
        back=url(base),
        erased=erased,
        name=person_name(view),
        error=error,
        problems=problems,
        notice=notice,
        warnings=[] if erased else list(view.get("warnings") or []),
        facts=_facts(view, timezone, now or utcnow(), base),
        erasure=_erasure(view, timezone) if erased else None,
        suspected=not erased and view.get("status") == "suspected_spam",
        spam_reasons=spam_reasons(view),
        fields=[] if erased else _fields(view, reasons, labels),
        consent=None if erased else [_consent("Contact consent", view, "contact", timezone),
                                     _consent("Text message consent", view, "sms", timezone)],
        booking=None if erased else _booking(base, view, transitions, form if booking_post else {},
                                             fields if booking_post else {}),
        change=None if erased else _change(base, view, transitions, {} if booking_post else form,
                                           {} if booking_post else fields),
        history=[_history_entry(entry, timezone) for entry in view.get("history") or []],
        erase=request_url(base, view["id"], "erase") if is_admin(staff) and not erased else None,
    )


def erase_page(base, staff, view):
    return render(
        "erase.html", base, "Erase this request?", staff,
        named=bool(view.get("fields")),
        name=person_name(view),
        reference=view.get("id", ""),
        action=request_url(base, view["id"], "erase"),
        cancel=request_url(base, view["id"]),
    )


def _facts(view, zone, now, base):
    language = view.get("language")
    corrects = view.get("corrects")
    return {
        "reference": view.get("id", ""),
        # The patient sent this from the same page again, to correct the request it names.
        "corrects": {"reference": corrects[:8], "url": request_url(base, corrects)} if corrects else None,
        "received": moment(view.get("created_at"), zone),
        "location": location_of(view),
        "status": status_of(view, now),
        "language": STAFF_NAMES.get(language, language) if language else None,
        "due": moment(view["due_at"], zone) if view.get("due_at") and view.get("status") == "new" else None,
        # The booked time, in the clinic's zone as staff gave it; kept in sight once attended, missed or cancelled.
        "visit": visit_moment(view.get("visit_at")),
        "visit_label": "Visit" if view.get("status") == "scheduled" else "Visit booked for",
        "answer": answer_of(view),
        "answered": moment((view.get("patient_answer") or {}).get("at"), zone),
        "alerts": "fields" in view,  # an erased request no longer says whether staff were alerted
        "alerted": moment(view.get("alerted_at"), zone),
    }


def _erasure(view, zone):
    return {"at": moment(view.get("erased_at"), zone), "by": view.get("erased_by") or ""}


def _fields(view, reasons, labels):
    fields = view.get("fields") or {}
    names = [name for name in FIELD_ORDER if name in fields] + [
        name for name in fields if name not in FIELD_ORDER and name not in ("location", "website")
    ]
    return [_field(labels.get(name, name), name, fields[name], reasons, view) for name in names]


def _field(label, name, value, reasons, view):
    if value is None or value == "":
        return Field(label, "missing")
    if isinstance(value, bool):
        return Field(label, "words", "Yes" if value else "No")
    text = str(value)
    if name == "phone":
        return Field(label, "link", text, tel_uri(text))
    if name == "email":
        return Field(label, "link", text, "mailto:" + quote(text, safe="@"))
    if name == "location":
        return Field(label, "words", view.get("location_name") or text)
    if name == "reason":
        return Field(label, "words", reasons.get(text, text))
    if name == "preferred_contact":
        return Field(label, "words", CONTACT_LABELS.get(text, text))
    if name == "preferred_time":
        return Field(label, "words", TIME_LABELS.get(text, text))
    if name == "preferred_date":
        shown = day(text)
        return Field(label, "day", text, when=shown) if shown else Field(label, "typed", text)
    if name == "message":
        return Field(label, "message", text)
    return Field(label, "typed", text)


def _consent(label, view, kind, zone):
    """A consent's row: whether the patient agreed, when, and to which wording."""
    evidence = (view.get("consent") or {}).get(kind)
    if not evidence:
        return {"label": label, "given": False}
    return {"label": label, "given": True, "at": moment(evidence.get("given_at"), zone),
            "version": evidence.get("version")}


def _booking(base, view, transitions, form, fields):
    """The form that books a visit (new, contacted, cancelled) or moves a booked one: a date and a time field,
    which the inbox's post makes into visit_at. None when the request cannot be booked now."""
    if "scheduled" not in transitions:
        return None
    change = view.get("status") == "scheduled"
    booked = (view.get("visit_at") or "T").split("T") if change else ("", "")
    error = next((text for name, text in fields.items() if name in ("visit_at", "visit_date", "visit_time") and text),
                 None)
    return {
        "action": request_url(base, view["id"], "status"),
        "heading": "Change the time" if change else "Book a visit",
        "button": "Change the time" if change else "Book the visit",
        "hint": ("The new date and time, in the clinic's time zone. The patient gets an e-mail with the new time."
                 if change else "In the clinic's time zone. The patient gets an e-mail with the time."),
        "date": form.get("visit_date", booked[0]) if form else booked[0],
        "time": form.get("visit_time", booked[1]) if form else booked[1],
        "note": form.get("note", ""),
        "error": error,
        "note_error": fields.get("note"),
    }


def _change(base, view, transitions, form, fields):
    status = view.get("status")
    # Booking has a form of its own, with the date and time it needs.
    choices = [name for name in transitions if name != "scheduled"]
    return {
        "action": request_url(base, view["id"], "status"),
        "current": STATUS_LABELS.get(status, status),
        "choices": [(name, TRANSITION_LABELS.get(name, STATUS_LABELS.get(name, name))) for name in choices],
        "chosen": form.get("status"),
        "note": form.get("note", ""),
        "note_error": fields.get("note"),
        "bookable": "scheduled" in transitions,
    }


def _history_entry(entry, zone):
    before, after = entry.get("from"), entry.get("to")
    visit = visit_moment(entry.get("visit_at"), year=False)
    if visit is not None:
        visit = ("Moved to " if before == after == "scheduled" else "Booked for ") + visit.text
    answer = entry.get("answer")
    return {
        "at": moment(entry.get("at"), zone),
        "by": "the patient" if answer else entry.get("by", ""),
        "typed_by": not answer,  # a staff member's name as stored; "the patient" is the inbox's own words
        "before": STATUS_LABELS.get(before, before),
        "after": STATUS_LABELS.get(after, after),
        "moved": before != after,
        "visit": visit,
        "answer": ANSWER_LABELS.get(answer, answer) if answer else None,
        "note": entry.get("note"),
    }
