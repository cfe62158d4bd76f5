"""What every page of the staff inbox shares: its templates and layout, URLs, times, statuses, headers and assets.

Python prepares plain values (words, URLs, a time as a `Moment`); the templates in chalicelib/staff/templates
hold every tag and escape every value. URLs carry ids only: personal data appears in tel: and mailto: links
and nowhere else.
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Optional
from urllib.parse import quote, urlencode

from ...core.hours import waited_in_words
from ...core.pages import COMMON_HEADERS, StaticFiles
from ...core.templates import Templates
from ...intake.spam import reason_words

_STAFF = Path(__file__).resolve().parent.parent
STATIC = StaticFiles(_STAFF / "static")
TEMPLATES = Templates(_STAFF / "templates")
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# COMMON_HEADERS (the form page's too) sends `Referrer-Policy: same-origin`, not `no-referrer`: with
# no-referrer Chromium sends `Origin: null` on the inbox's own form posts, and the origin check
# would refuse them.

FILTERS = ("status", "location", "from", "to", "overdue")
STATUS_LABELS = {
    "new": "New",
    "contacted": "Contacted",
    "scheduled": "Scheduled",
    "attended": "Attended",
    "no_show": "No-show",
    "cancelled": "Cancelled",
    "closed": "Closed",
    "suspected_spam": "Possible spam",
    "erased": "Erased",
}
# What the patient said on their page (SPEC "From request to visit"), in words.
ANSWER_LABELS = {
    "confirmed": "Will be there",
    "cancelled": "Cancelled by the patient",
    "change_requested": "Asks for another time",
    "withdrawn": "No longer needs this",
    "not_me": "Says they did not send this",
}
ROLE_LABELS = {"staff": "Staff", "admin": "Admin"}


@dataclass(frozen=True)
class Moment:
    """A time as a page shows it: its words, and the stored value for the datetime attribute (None: not a time)."""
    text: str
    iso: Optional[str] = None


@dataclass(frozen=True)
class Status:
    """A request's status, and for a new one how long it has waited and, once late, by how much."""
    name: str
    label: str
    waited: Optional[str] = None
    overdue: Optional[str] = None


def render(template, base, title, staff=None, **values):
    """A page: `template` in the layout, with the account bar when someone is signed in."""
    return TEMPLATES.render(template, title=title, home=url(base), css_url=asset_url(base, "inbox.css"),
                            js_url=asset_url(base, "inbox.js"), account=_account(base, staff), **values)


def _account(base, staff):
    if staff is None:
        return None
    return {
        "name": staff.name,
        "role": ROLE_LABELS.get(staff.role, staff.role),
        "accounts": url(base, "accounts") if is_admin(staff) else None,
        "webhooks": url(base, "webhooks") if is_admin(staff) else None,
        "sign_out": url(base, "sign-out"),
    }


# --- HTTP ----------------------------------------------------------------------------------

def inbox_headers():
    return {**COMMON_HEADERS, "Content-Security-Policy": POLICY, "Cache-Control": "no-store"}


def tel_uri(stored):
    """A stored phone number ("+12125550142 ext. 4417") as an RFC 3966 URI: tel:+1-212-555-0142;ext=4417."""
    import phonenumbers

    number, _, extension = stored.partition(" ext. ")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return "tel:" + "".join(c for c in number if c.isdigit() or c == "+")
    parsed.extension = extension.strip() or None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.RFC3966)


def asset(name, version=None):
    """(body, headers) of inbox.css or inbox.js (see StaticFiles.asset)."""
    return STATIC.asset(name, version)


def asset_url(base, name):
    return f"{base}/staff/{name}?v={STATIC.version(name)}"


# --- URLs ----------------------------------------------------------------------------------

def url(base, path="", query=""):
    return f"{base}/staff/{path}" + (f"?{query}" if query else "")


def request_url(base, request_id, action=""):
    """A request's page, or one of its actions ("status", "erase"): by its id only."""
    return url(base, f"requests/{quote(str(request_id), safe='')}" + (f"/{action}" if action else ""))


def query(filters, cursor=None):
    """The list's filters as a query string, in a fixed order, empty ones left out; a cursor only when given."""
    # Never q: a search is posted, so that a phone number or an address stays out of URLs and history.
    pairs = [(name, filters[name]) for name in FILTERS if filters.get(name) and name != "q"]
    return urlencode(pairs + ([("cursor", cursor)] if cursor else []))


# --- what a request shows ------------------------------------------------------------------

def filter_summary(filters, locations):
    if filters.get("q"):
        return "Requests found by your search, newest first"
    status = "Overdue" if filters.get("overdue") == "true" else STATUS_LABELS.get(filters.get("status"), "Active")
    where = locations.get(filters.get("location"), "all locations")
    dates = ""
    if filters.get("from") and filters.get("to"):
        dates = f", received {filters['from']} to {filters['to']}"
    elif filters.get("from"):
        dates = f", received from {filters['from']}"
    elif filters.get("to"):
        dates = f", received until {filters['to']}"
    return f"{status} requests, {where}{dates}, newest first"


def person_name(view):
    """The patient's name as they gave it, or "" (the pages then say "Request")."""
    fields = view.get("fields") or {}
    return " ".join(part for part in (fields.get("first_name"), fields.get("last_name")) if part)


def location_of(view):
    return view.get("location_name") or view.get("location", "")


def status_of(view, now):
    name = view.get("status") or ""
    label = STATUS_LABELS.get(name, name)
    if name != "new" or not view.get("created_at"):
        return Status(name, label)
    due = view.get("due_at")
    overdue = waited_in_words(now - _parsed(due)) if due and now >= _parsed(due) else None
    return Status(name, label, waited_in_words(now - _parsed(view["created_at"])), overdue)


def spam_reasons(view):
    """Why a request is in possible spam, each reason in words with its figures."""
    signals = view.get("spam_signals") or {}
    return [reason_words(reason, signals) for reason in view.get("spam_reasons") or []]


def problems(errors, fields, prefix=""):
    """(id of its field, or None, text) of each problem of a form, for the error summary that links to them."""
    return [(prefix + name if name in fields else None, text) for name, text in errors.items() if text]


def is_admin(staff):
    return getattr(staff, "role", None) == "admin"


# --- times ---------------------------------------------------------------------------------

def moment(value, zone):
    """Mon 30 Nov 2026, 10:04 AM in the clinic's zone; None for no time, the stored text for one not readable."""
    if not value:
        return None
    try:
        at = _parsed(value)
    except ValueError:
        return Moment(str(value))
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    local = at.astimezone(zone)
    hour = local.hour % 12 or 12
    return Moment(f"{local:%a} {local.day} {local:%b %Y}, {hour}:{local:%M}\u00a0{local:%p}", str(value))  # one line


def visit_moment(visit_at, year=True):
    """A booked visit's local wall time ("2026-12-08T10:00", already the clinic's zone) in words: Tue 8 Dec 2026,
    10:00 AM (without the year: Tue 8 Dec, 10:00 AM); None when there is none, the stored text when unreadable."""
    if not visit_at:
        return None
    try:
        local = datetime.fromisoformat(str(visit_at))
    except ValueError:
        return Moment(str(visit_at))
    hour = local.hour % 12 or 12
    when = f"{local:%a} {local.day} {local:%b}" + (f" {local:%Y}" if year else "")
    return Moment(f"{when}, {hour}:{local:%M}\u00a0{local:%p}", local.strftime("%Y-%m-%dT%H:%M"))


def answer_of(view):
    """The patient's answer in words, or None; an answer about an earlier booked time says so."""
    answer = view.get("patient_answer") or {}
    words = ANSWER_LABELS.get(answer.get("answer"))
    if words is None:
        return None
    sequence = answer.get("sequence")
    if sequence is not None and view.get("visit_sequence") is not None and sequence != view["visit_sequence"]:
        words += " (about an earlier time)"
    return words


def day(value):
    """Thu 3 Dec 2026 for a stored date; None when it is not one."""
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    return Moment(f"{parsed:%a} {parsed.day} {parsed:%b %Y}", parsed.isoformat())


def utcnow():
    return datetime.now(timezone.utc)


def _parsed(value):
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
