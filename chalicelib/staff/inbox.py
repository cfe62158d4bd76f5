"""The staff inbox's pages, rendered on the server: sign-in, the list, one request, erasure, accounts.

Plain HTML from the inbox-*.html templates in chalicelib/staff/static, one stylesheet and one small
script, nothing from other hosts; every page works with JavaScript off. Every value that is
not this module's own words is HTML-escaped and stripped of bidirectional controls, and text a
person typed is isolated in <bdi>, so it cannot reorder what is around it.
URLs carry ids only: personal data appears in tel: and mailto: links and nowhere else.
"""
import html
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

from ..core.hours import waited_in_words
from ..core.pages import COMMON_HEADERS, StaticFiles
from ..intake.models import CONTACT_LABELS, TIME_LABELS
from ..intake.languages import STAFF_NAMES
from ..intake.spam import reason_words

STATIC = StaticFiles(Path(__file__).resolve().parent / "static")
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
    "closed": "Closed",
    "suspected_spam": "Possible spam",
    "erased": "Erased",
}
STATUS_CHOICES = (("", "Active (new to closed)"),) + tuple(STATUS_LABELS.items())
TRANSITION_LABELS = {
    "new": "New (not spam after all)",
    "contacted": "Contacted",
    "scheduled": "Scheduled",
    "closed": "Closed",
    "suspected_spam": "Spam",
}
# What a decision in the "Possible spam" view did, for the notice on the view it returns to.
SPAM_DECISIONS = {
    "new": "Moved to New as not spam: staff are alerted and the patient gets their confirmation.",
    "suspected_spam": "Marked as spam. It is deleted with the rest of the spam a week after it arrived.",
}
SPAM_DAYS = 7
ROLE_LABELS = {"staff": "Staff", "admin": "Admin"}
ACCOUNT_FIELDS = ("email", "name", "role")
CODE_SENT = ("If this address has a staff account, we have e-mailed it a sign-in code. "
             "It works for 10 minutes.")
# The order of a request's fields on its page; any others follow in the order stored.
FIELD_ORDER = (
    "first_name", "last_name", "email", "phone", "preferred_contact", "location", "new_patient", "reason",
    "preferred_date", "preferred_time", "has_referral", "insurance", "message", "contact_consent",
    "sms_consent",
)
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


# --- pages ---------------------------------------------------------------------------------

def sign_in_page(base, next_id=None, notice=None):
    content = STATIC.template("inbox-sign-in.html").substitute(
        action=_url(base, "sign-in"),
        notice=_notice(notice),
        next_field=_hidden("next", next_id),
    )
    return _layout(base, "Sign in", content)


def code_page(base, email, next_id=None, error=None):
    content = STATIC.template("inbox-code.html").substitute(
        action=_url(base, "sign-in/code"),
        sent=_e(CODE_SENT),
        email=_bdi(email),
        summary=_error_summary({"code": error} if error else {}, ("code",)),
        code_error=_field_error("code", error),
        described="code-hint code-error" if error else "code-hint",
        invalid=' aria-invalid="true"' if error else "",
        hidden=_hidden("email", email) + _hidden("next", next_id),
        again=_url(base, f"requests/{_id(next_id)}") if next_id else _url(base),
    )
    return _layout(base, "Enter your sign-in code", content)


def list_page(base, staff, listing, filters, locations, timezone, reasons, notice=None, spam_count=None,
              counts=None, now=None):
    """The list of requests; with status=suspected_spam, the "Possible spam" view with its reasons and decisions.
    `spam_count` is (how many arrived as possible spam in the last SPAM_DAYS days, whether that is exact);
    `counts` the new and overdue ones ({"new": (count, exact), "overdue": ...}); `now` what waiting is counted to."""
    now = now or _utcnow()
    filters = {name: str(value) for name, value in (filters or {}).items() if value}
    items = listing.get("items") or []
    spam_view = filters.get("status") == "suspected_spam"
    if spam_view:
        results = _spam_results(base, items, filters, locations, timezone) if items else _empty(filters)
    else:
        rows = "\n".join(_list_row(base, view, timezone, reasons, now) for view in items)
        results = _results(rows, filters, locations) if items else _empty(filters)
    content = STATIC.template("inbox-list.html").substitute(
        heading="Possible spam" if spam_view else "Requests",
        spam_count=_waiting_counts(base, counts) + _spam_count(base, spam_count, spam_view),
        overdue_checked=" checked" if filters.get("overdue") == "true" else "",
        notice=_notice(notice),
        action=_url(base),
        status_options=_options(STATUS_CHOICES, filters.get("status", "")),
        location_options=_options([("", "All locations"), *locations.items()], filters.get("location", "")),
        date_from=_e(filters.get("from", "")),
        date_to=_e(filters.get("to", "")),
        q=_e(filters.get("q", "")),
        search_action=_url(base, "search"),
        # Every page of this filter (no cursor); a search's results are not exported: what was searched for
        # (a phone number, an address) would be in the link.
        export="" if filters.get("q") else (
            f'<p class="export"><a class="button-link secondary" href="{_url(base, "export", _query(filters))}">'
            'Export CSV<span class="visually-hidden"> of these filters</span></a></p>'),
        results=results,
        paging=_paging(base, filters, listing.get("next_cursor")),
    )
    return _layout(base, "Possible spam" if spam_view else "Requests", content, staff)


def export_page(base, staff, filters, locations, parts, more_cursor, first=1):
    """Every part of a filter's CSV as a download link ("Part 1 of 3"): one response holds only so much."""
    filters = {name: str(value) for name, value in (filters or {}).items() if value and name in FILTERS}
    known = more_cursor is None and first == 1
    total = len(parts) if known else None
    rows = sum(part.rows for part in parts)
    if known and len(parts) == 1:
        links = (f'<p><a class="button-link" href="{_url(base, "appointments.csv", _query(filters))}" '
                 f'download="appointments.csv">Download appointments.csv</a> ({_count(rows)})</p>')
    else:
        items = []
        for number, part in enumerate(parts, first):
            of = f" of {total}" if total else ""
            items.append(f'<li><a href="{_url(base, "appointments.csv", _query(filters, part.cursor))}" '
                         f'download="appointments-part-{number}.csv">Part {number}{of}</a> ({_count(part.rows)})</li>')
        intro = (f"<p>The export is in {total} parts: download each one.</p>" if total else
                 "<p>The export is in several parts: download each one.</p>")
        links = intro + '\n<ol class="parts">\n' + "\n".join(items) + "\n</ol>"
    more = ""
    if more_cursor:
        query = _query(filters, more_cursor) + f"&part={first + len(parts)}"
        more = f'<p><a class="button-link secondary" href="{_url(base, "export", query)}">More parts</a></p>'
    content = STATIC.template("inbox-export.html").substitute(
        summary=_e(_filter_summary(filters, locations)), parts=links, more=more, back=_url(base, "", _query(filters)),
    )
    return _layout(base, "Export CSV", content, staff)


def _count(rows):
    return "1 request" if rows == 1 else f"{rows} requests"


def request_page(base, staff, view, transitions, timezone, reasons, labels, notice=None, error=None, now=None):
    erased = "fields" not in view or view.get("status") == "erased"
    content = STATIC.template("inbox-request.html").substitute(
        back=_url(base),
        heading="Erased request" if erased else _name(view),
        messages=_error_region(error) + _notice(notice),
        summary=_summary(view, timezone, now or _utcnow()),
        details=_erased_details(view, timezone) if erased else _why_spam(view) + _details(view, timezone, reasons,
                                                                                          labels),
        change=_status_form(base, view, transitions) if not erased else "",
        history=_history(view.get("history") or [], timezone),
        erase=_erase_link(base, view) if _is_admin(staff) and not erased else "",
    )
    # The title stays free of the patient's name: titles end up in browser history and tabs.
    return _layout(base, "Request", content, staff)


def erase_page(base, staff, view):
    content = STATIC.template("inbox-erase.html").substitute(
        what=f"the request from <strong>{_name(view)}</strong>" if view.get("fields") else "this request",
        reference=_e(view.get("id", "")),
        action=_url(base, f"requests/{_id(view['id'])}/erase"),
        cancel=_url(base, f"requests/{_id(view['id'])}"),
    )
    return _layout(base, "Erase this request?", content, staff)


def accounts_page(base, staff, accounts, error=None, fields=None, notice=None):
    fields = fields or {}
    content = STATIC.template("inbox-accounts.html").substitute(
        messages=_error_region(error) + _error_summary(fields, ACCOUNT_FIELDS, "account-") + _notice(notice),
        rows="\n".join(_account_row(base, staff, account) for account in accounts),
        action=_url(base, "accounts"),
        email_error=_field_error("account-email", fields.get("email")),
        email_attrs=_invalid("account-email", fields.get("email")),
        name_error=_field_error("account-name", fields.get("name")),
        name_attrs=_invalid("account-name", fields.get("name")),
        role_error=_field_error("account-role", fields.get("role")),
        role_attrs=_invalid("account-role", fields.get("role")),
        role_options=_options(ROLE_LABELS.items(), "staff"),
    )
    return _layout(base, "Staff accounts", content, staff)


def message_page(base, title, text, status_hint=None):
    content = STATIC.template("inbox-message.html").substitute(
        title=_e(title),
        text=_e(text),
        hint=f'<p class="hint">Error code: {_e(status_hint)}</p>' if status_hint else "",
        home=_url(base),
    )
    return _layout(base, title, content)


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


# --- parts ---------------------------------------------------------------------------------

def _layout(base, title, content, staff=None):
    return STATIC.template("inbox-layout.html").substitute(
        title=_e(title),
        css_url=_e(asset_url(base, "inbox.css")),
        js_url=_e(asset_url(base, "inbox.js")),
        home=_url(base),
        account=_account_bar(base, staff) if staff is not None else "",
        content=content,
    )


def _account_bar(base, staff):
    accounts = (f'<li><a href="{_url(base, "accounts")}">Staff accounts</a></li>'
                if _is_admin(staff) else "")
    return (
        '<nav class="account" aria-label="Staff inbox">\n'
        f'  <ul class="nav-links"><li><a href="{_url(base)}">Requests</a></li>{accounts}</ul>\n'
        f'  <p class="signed-in">Signed in as <strong>{_bdi(staff.name)}</strong>'
        f' ({_e(ROLE_LABELS.get(staff.role, staff.role))})</p>\n'
        f'  <form class="sign-out" action="{_url(base, "sign-out")}" method="post">'
        '<button type="submit" class="secondary">Sign out</button></form>\n'
        "</nav>"
    )


def _list_row(base, view, zone, reasons, now):
    fields = view.get("fields")
    link = _url(base, f"requests/{_id(view['id'])}")
    if fields:
        name = f'<a href="{link}">{_name(view)}</a>{_language_note(view)}'
        reason = reasons.get(fields.get("reason")) or fields.get("reason")
    else:
        name = f'<a href="{link}">Erased<span class="visually-hidden"> request {_e(view["id"])}</span></a>'
        reason = None
    return (
        "<tr>"
        f'<td data-label="Received">{_time(view.get("created_at"), zone)}</td>'
        f'<td data-label="Name">{name}</td>'
        f'<td data-label="Location">{_e(view.get("location_name") or view.get("location", ""))}</td>'
        f'<td data-label="Status">{_status(view.get("status"))} {_waiting(view, now)}</td>'
        f'<td data-label="Reason">{_e(reason) if reason else _none("Not given")}</td>'
        "</tr>"
    )


def _waiting_counts(base, counts):
    """How many requests are new, and how many of those overdue: the front desk's work at a glance."""
    if not counts:
        return ""
    (new, new_exact), (overdue, overdue_exact) = counts["new"], counts["overdue"]
    new_words = f"{'' if new_exact else 'More than '}{new} new request{'' if new == 1 else 's'}"
    if not overdue:
        return f'<p class="waiting-counts">{_e(new_words)}, none overdue.</p>'
    overdue_words = f"{'' if overdue_exact else 'more than '}{overdue} of them overdue"
    link = f'<a href="{_url(base, "", _query({"overdue": "true"}))}">Show the overdue ones</a>'
    return f'<p class="waiting-counts"><strong>{_e(new_words)}, {_e(overdue_words)}.</strong> {link}</p>'


def _waiting(view, now):
    """For a new request: how long it has waited, and once past its due time, by how much it is overdue."""
    if view.get("status") != "new" or not view.get("created_at"):
        return ""
    waited = now - _moment(view["created_at"])
    text = f'<span class="waited">waiting {_e(waited_in_words(waited))}</span>'
    due = view.get("due_at")
    if due and now >= _moment(due):
        text += f' <strong class="overdue">Overdue by {_e(waited_in_words(now - _moment(due)))}</strong>'
    return text


def _language_note(view):
    """ "Language: Spanish" under the name, for a request in another language than English."""
    language = view.get("language")
    if not language or language == "en":
        return ""
    return f'<span class="language">Language: {_e(STAFF_NAMES.get(language, language))}</span>'


def _utcnow():
    return datetime.now(timezone.utc)  # `timezone` is datetime's here: the pages' own parameter shadows it


def _moment(value):
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _spam_count(base, spam_count, spam_view):
    """How many requests arrived as possible spam lately, on every list, so the view is never forgotten."""
    if spam_count is None:
        return ""
    count, exact = spam_count
    many = "" if exact else "More than "
    if count == 0:
        text = f"No possible spam arrived in the last {SPAM_DAYS} days."
    elif count == 1 and exact:
        text = f"1 possible-spam request arrived in the last {SPAM_DAYS} days."
    else:
        text = f"{many}{count} possible-spam requests arrived in the last {SPAM_DAYS} days."
    link = "" if spam_view or count == 0 else (
        f' <a href="{_url(base, "", _query({"status": "suspected_spam"}))}">Review possible spam</a>')
    return f'<p class="spam-count">{_e(text)}{link}</p>'


def _spam_results(base, items, filters, locations, zone):
    rows = "\n".join(_spam_row(base, view, zone) for view in items)
    return (
        '<table class="requests spam">\n'
        f"<caption>{_e(_filter_summary(filters, locations))}</caption>\n"
        '<thead><tr><th scope="col">Received</th><th scope="col">Name</th><th scope="col">Location</th>'
        '<th scope="col">Why</th><th scope="col">Decide</th></tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n</table>"
    )


def _spam_row(base, view, zone):
    link = _url(base, f"requests/{_id(view['id'])}")
    name = f'<a href="{link}">{_name(view)}</a>' if view.get("fields") else _e("Erased")
    return (
        "<tr>"
        f'<td data-label="Received">{_time(view.get("created_at"), zone)}</td>'
        f'<td data-label="Name">{name}</td>'
        f'<td data-label="Location">{_e(view.get("location_name") or view.get("location", ""))}</td>'
        f'<td data-label="Why">{_spam_reasons(view)}</td>'
        f'<td data-label="Decide">{_spam_decisions(base, view, zone)}</td>'
        "</tr>"
    )


def _spam_reasons(view):
    signals = view.get("spam_signals") or {}
    reasons = view.get("spam_reasons") or []
    if not reasons:
        return _none("No reason recorded")
    items = "".join(f"<li>{_e(reason_words(reason, signals))}</li>" for reason in reasons)
    return f'<ul class="reasons">{items}</ul>'


def _spam_decisions(base, view, zone):
    """ "Not spam" and "Spam", each a form of its own: one press decides, and works without JavaScript."""
    action = _url(base, f"requests/{_id(view['id'])}/status")
    who = f'<span class="visually-hidden">: {_name(view)}, received {_time(view.get("created_at"), zone)}</span>'
    buttons = [("new", "Not spam", "")]
    if "staff" not in (view.get("spam_reasons") or []):
        buttons.append(("suspected_spam", "Spam", ' class="secondary"'))
    forms = "".join(
        f'<form class="inline" action="{action}" method="post">{_hidden("status", status)}{_hidden("back", "spam")}'
        f"<button type=\"submit\"{kind}>{label}{who}</button></form>"
        for status, label, kind in buttons
    )
    return f'<div class="decisions">{forms}</div>'


def _results(rows, filters, locations):
    return (
        '<table class="requests">\n'
        f"<caption>{_e(_filter_summary(filters, locations))}</caption>\n"
        '<thead><tr><th scope="col">Received</th><th scope="col">Name</th><th scope="col">Location</th>'
        '<th scope="col">Status</th><th scope="col">Reason</th></tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n</table>"
    )


def _filter_summary(filters, locations):
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


def _empty(filters):
    if filters.get("q"):
        text = ("No request matches this search. Check the reference, or try the phone number or e-mail address "
                "the patient gave.")
        return f'<p class="empty">{_e(text)}</p>'
    if any(filters.get(name) for name in FILTERS):
        text = "No requests match these filters. Change or clear them to see more."
    else:
        text = "No requests to work on. New ones appear here as soon as they arrive."
    return f'<p class="empty">{_e(text)}</p>'


def _paging(base, filters, next_cursor):
    links = []
    if filters.get("cursor"):
        links.append(f'<a class="button-link secondary" href="{_url(base, "", _query(filters))}">Newest first</a>')
    if next_cursor:
        query = _query(filters, next_cursor)
        links.append(f'<a class="button-link" href="{_url(base, "", query)}" rel="next">Next page</a>')
    if not links:
        return ""
    return '<nav class="paging" aria-label="Pages">' + " ".join(links) + "</nav>"


def _summary(view, zone, now):
    rows = [
        ("Reference", f"<code>{_e(view.get('id', ''))}</code>"),
        ("Received", _time(view.get("created_at"), zone)),
        ("Clinic location", _e(view.get("location_name") or view.get("location", ""))),
        ("Status", f'{_status(view.get("status"))} {_waiting(view, now)}'.strip()),
    ]
    if view.get("language"):
        rows.append(("Language", f"{_e(STAFF_NAMES.get(view['language'], view['language']))} "
                                 '<span class="hint">(call back in it)</span>'))
    if view.get("due_at") and view.get("status") == "new":
        rows.append(("Contact due by", _time(view["due_at"], zone)))
    if "fields" in view:
        alerted = view.get("alerted_at")
        rows.append(("Staff alerted", _time(alerted, zone) if alerted else _none("Not yet")))
    return _dl(rows, "facts")


def _why_spam(view):
    if view.get("status") != "suspected_spam":
        return ""
    return ('<section aria-labelledby="why-heading">\n<h2 id="why-heading">Why it is in possible spam</h2>\n'
            f"{_spam_reasons(view)}\n</section>\n")


def _details(view, zone, reasons, labels):
    fields = view.get("fields") or {}
    names = [name for name in FIELD_ORDER if name in fields] + [
        name for name in fields if name not in FIELD_ORDER and name not in ("location", "website")
    ]
    rows = [(labels.get(name, name), _field_value(name, fields[name], reasons, view)) for name in names]
    consent = view.get("consent") or {}
    evidence = [
        ("Contact consent", _consent(consent.get("contact"), zone)),
        ("Text message consent", _consent(consent.get("sms"), zone)),
    ]
    return (
        '<section aria-labelledby="details-heading">\n<h2 id="details-heading">What they sent</h2>\n'
        + _dl(rows, "fields")
        + '\n</section>\n<section aria-labelledby="consent-heading">\n<h2 id="consent-heading">Consent</h2>\n'
        + _dl(evidence, "fields")
        + "\n</section>"
    )


def _erased_details(view, zone):
    rows = [
        ("Erased", _time(view.get("erased_at"), zone) if view.get("erased_at") else _none("Unknown")),
        ("Erased by", _bdi(view.get("erased_by") or "")),
    ]
    return (
        '<section aria-labelledby="details-heading">\n<h2 id="details-heading">Erasure</h2>\n'
        "<p>The personal data of this request was erased for good. This anonymous record shows only that "
        "it existed.</p>\n" + _dl(rows, "fields") + "\n</section>"
    )


def _field_value(name, value, reasons, view):
    if value is None or value == "":
        return _none("Not given")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value)
    if name == "phone":
        return f'<a href="{_e(tel_uri(text))}">{_bdi(text)}</a>'
    if name == "email":
        return f'<a href="{_e("mailto:" + quote(text, safe="@"))}">{_bdi(text)}</a>'
    if name == "location":
        return _e(view.get("location_name") or text)
    if name == "reason":
        return _e(reasons.get(text, text))
    if name == "preferred_contact":
        return _e(CONTACT_LABELS.get(text, text))
    if name == "preferred_time":
        return _e(TIME_LABELS.get(text, text))
    if name == "preferred_date":
        return _day(text)
    if name == "message":
        return f'<span class="multiline">{_bdi(text)}</span>'
    return _bdi(text)


def _consent(evidence, zone):
    if not evidence:
        return _none("Not given")
    given = _time(evidence.get("given_at"), zone) if evidence.get("given_at") else "at an unknown time"
    version = evidence.get("version")
    wording = f", wording version {_e(version)}" if version else ""
    return f"Given {given}{wording}"


def _status_form(base, view, transitions):
    if not transitions:
        return (
            '<section aria-labelledby="change-heading">\n<h2 id="change-heading">Change the status</h2>\n'
            f'<p>This request is {_e(STATUS_LABELS.get(view.get("status"), view.get("status")))}: '
            "its status cannot change any more.</p>\n</section>"
        )
    only = len(transitions) == 1
    choices = "\n".join(
        '<div class="choice">'
        f'<input type="radio" id="status-{_e(status)}" name="status" value="{_e(status)}"'
        f'{" checked" if only else ""} required>'
        f'<label for="status-{_e(status)}">{_e(TRANSITION_LABELS.get(status, STATUS_LABELS.get(status, status)))}'
        "</label></div>"
        for status in transitions
    )
    return STATIC.template("inbox-status-form.html").substitute(
        action=_url(base, f"requests/{_id(view['id'])}/status"),
        current=_e(STATUS_LABELS.get(view.get("status"), view.get("status"))),
        choices=choices,
    )


def _history(history, zone):
    if not history:
        return "<p>No status changes yet.</p>"
    entries = []
    for entry in history:
        note = entry.get("note")
        change = (f'{_e(STATUS_LABELS.get(entry.get("from"), entry.get("from")))} '
                  f'<span aria-hidden="true">→</span><span class="visually-hidden">to</span> '
                  f'{_e(STATUS_LABELS.get(entry.get("to"), entry.get("to")))}')
        entries.append(
            "<li>"
            f'<p class="when">{_time(entry.get("at"), zone)}, by <bdi>{_e(entry.get("by", ""))}</bdi></p>'
            f'<p class="change">{change}</p>'
            + (f'<p class="note multiline">{_bdi(note)}</p>' if note else "")
            + "</li>"
        )
    return '<ol class="history">\n' + "\n".join(entries) + "\n</ol>"


def _erase_link(base, view):
    return (
        '<section aria-labelledby="erase-heading">\n<h2 id="erase-heading">Erasure</h2>\n'
        "<p>When the person asks for their data to be removed.</p>\n"
        f'<p><a class="danger-link" href="{_url(base, "requests/" + _id(view["id"]) + "/erase")}">'
        "Erase this request…</a></p>\n</section>"
    )


def _account_row(base, staff, account):
    email = account.get("email", "")
    active = bool(account.get("active"))
    mine = email.casefold() == (getattr(staff, "email", None) or "").casefold()
    if active and not mine:
        action = (
            f'<form class="inline" action="{_url(base, "accounts/disable")}" method="post">'
            + _hidden("email", email)
            + f'<button type="submit" class="secondary">Disable<span class="visually-hidden"> '
            f"{_e(account.get('name', ''))}</span></button></form>"
        )
    elif mine:
        action = _none("You")
    else:
        action = _none("None")
    return (
        "<tr>"
        f'<td data-label="Name"><bdi>{_e(account.get("name", ""))}</bdi></td>'
        f'<td data-label="E-mail"><bdi>{_e(email)}</bdi></td>'
        f'<td data-label="Role">{_e(ROLE_LABELS.get(account.get("role"), account.get("role", "")))}</td>'
        f'<td data-label="Status">{"Active" if active else "Disabled"}</td>'
        f'<td data-label="Action">{action}</td>'
        "</tr>"
    )


def _error_summary(problems, fields, prefix=""):
    """The problems of a form, each linking to its field; focused by inbox.js, announced without it."""
    problems = {name: text for name, text in problems.items() if text}
    if not problems:
        return ""
    title = "There is a problem" if len(problems) == 1 else f"There are {len(problems)} problems"
    items = "".join(
        f'<li><a href="#{_e(prefix + name)}">{_e(text)}</a></li>' if name in fields else f"<li>{_e(text)}</li>"
        for name, text in problems.items()
    )
    return (
        '<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="field-errors-title">'
        f'<h2 id="field-errors-title">{title}</h2><ul>{items}</ul></div>'
    )


def _error_region(error):
    if not error:
        return ""
    return (
        '<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title">'
        f'<h2 id="error-summary-title">There is a problem</h2><p>{_e(error)}</p></div>'
    )


def _field_error(field_id, error):
    if not error:
        return ""
    return f'<p class="field-error" id="{_e(field_id)}-error"><span class="visually-hidden">Error: </span>{_e(error)}</p>'


def _invalid(field_id, error):
    return f' aria-invalid="true" aria-describedby="{_e(field_id)}-error"' if error else ""


def _notice(notice):
    return f'<p class="notice" role="status">{_e(notice)}</p>' if notice else ""


def _dl(rows, kind):
    items = "\n".join(f"<div><dt>{_e(term)}</dt><dd>{value}</dd></div>" for term, value in rows)
    return f'<dl class="{kind}">\n{items}\n</dl>'


def _status(status):
    status = status or ""
    return f'<span class="status status-{_e(status)}">{_e(STATUS_LABELS.get(status, status))}</span>'


def _none(text):
    return f'<span class="none">{_e(text)}</span>'


def _name(view):
    fields = view.get("fields") or {}
    name = " ".join(part for part in (fields.get("first_name"), fields.get("last_name")) if part)
    return _bdi(name) if name else "Request"


def _hidden(name, value):
    if value is None or value == "":
        return ""
    return f'<input type="hidden" name="{_e(name)}" value="{_e(value)}">'


def _options(choices, selected):
    return "\n".join(
        f'<option value="{_e(value)}"{" selected" if value == selected else ""}>{_e(label)}</option>'
        for value, label in choices
    )


def _time(value, zone):
    """Mon 30 Nov 2026, 10:04 AM in the clinic's zone, in a <time> with the UTC value."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return _e(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    text = f"{local:%a} {local.day} {local:%b %Y}, {hour}:{local:%M}\u00a0{local:%p}"  # 10:04 AM on one line
    return f'<time datetime="{_e(str(value))}">{text}</time>'


def _day(value):
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return _bdi(value)
    return f'<time datetime="{day.isoformat()}">{day:%a} {day.day} {day:%b %Y}</time>'


def _url(base, path="", query=""):
    return _e(f"{base}/staff/{path}" + (f"?{query}" if query else ""))


def _query(filters, cursor=None):
    """The list's filters as a query string, in a fixed order, empty ones left out; a cursor only when given."""
    # Never q: a search is posted, so that a phone number or an address stays out of URLs and history.
    pairs = [(name, filters[name]) for name in FILTERS if filters.get(name) and name != "q"]
    return urlencode(pairs + ([("cursor", cursor)] if cursor else []))


def _id(value):
    return quote(str(value), safe="")


def _is_admin(staff):
    return getattr(staff, "role", None) == "admin"


def _e(value):
    """Escaped, without bidirectional controls: they could make text read differently from what it is."""
    return html.escape(str(value).translate(_BIDI_CONTROLS))


def _bdi(value):
    return f"<bdi>{_e(value)}</bdi>"


