"""The list of requests: search, filters, how many wait, export and paging. With status=suspected_spam it is
the "Possible spam" view, where each request says why it is there and is decided with one press."""
from ...intake.languages import STAFF_NAMES
from .common import (FILTERS, STATUS_LABELS, answer_of, filter_summary, location_of, moment, person_name, query,
                     render, request_url, spam_reasons, status_of, url, utcnow, visit_moment)

# Every status staff can filter by: the active ones (new to closed, in that order), then possible spam and erased.
STATUS_CHOICES = (("", "Active (new to closed)"),) + tuple(STATUS_LABELS.items())
# What a decision in the "Possible spam" view did, for the notice on the view it returns to.
SPAM_DECISIONS = {
    "new": "Moved to New as not spam: staff are alerted and the patient gets their confirmation.",
    "suspected_spam": "Marked as spam. It is deleted with the rest of the spam a week after it arrived.",
}
SPAM_DAYS = 7


def list_page(base, staff, listing, filters, locations, timezone, reasons, notice=None, spam_count=None,
              counts=None, now=None):
    """The list of requests; with status=suspected_spam, the "Possible spam" view with its reasons and decisions.
    `spam_count` is (how many arrived as possible spam in the last SPAM_DAYS days, whether that is exact);
    `counts` the new and overdue ones ({"new": (count, exact), "overdue": ...}); `now` what waiting is counted to."""
    now = now or utcnow()
    filters = {name: str(value) for name, value in (filters or {}).items() if value}
    spam_view = filters.get("status") == "suspected_spam"
    row = _spam_row if spam_view else _row
    next_cursor = listing.get("next_cursor")
    return render(
        "list.html", base, "Possible spam" if spam_view else "Requests", staff,
        counts=_waiting_counts(base, counts),
        spam_count=_spam_count(base, spam_count, spam_view),
        notice=notice,
        search_action=url(base, "search"),
        q=filters.get("q", ""),
        action=url(base),
        status_choices=STATUS_CHOICES,
        status=filters.get("status", ""),
        location_choices=[("", "All locations"), *locations.items()],
        location=filters.get("location", ""),
        date_from=filters.get("from", ""),
        date_to=filters.get("to", ""),
        overdue=filters.get("overdue") == "true",
        # Every page of this filter (no cursor); a search's results are not exported: what was searched for
        # (a phone number, an address) would be in the link.
        export=None if filters.get("q") else url(base, "export", query(filters)),
        spam_view=spam_view,
        caption=filter_summary(filters, locations),
        rows=[row(base, view, timezone, reasons, now) for view in listing.get("items") or []],
        searched=bool(filters.get("q")),
        filtered=any(filters.get(name) for name in FILTERS),
        newest=url(base, "", query(filters)) if filters.get("cursor") else None,
        next_page=url(base, "", query(filters, next_cursor)) if next_cursor else None,
    )


def _row(base, view, zone, reasons, now):
    fields = view.get("fields")
    language = view.get("language")
    return {
        "id": view["id"],
        "url": request_url(base, view["id"]),
        "erased": not fields,
        "name": person_name(view),
        # "Language: Spanish" under the name, for a request in another language than English.
        "language": STAFF_NAMES.get(language, language) if language and language != "en" else None,
        "corrects": view["corrects"][:8] if view.get("corrects") else None,
        "received": moment(view.get("created_at"), zone),
        "location": location_of(view),
        "status": status_of(view, now),
        # A booked visit's time (the clinic's, as booked) and what the patient answered, in words.
        "visit": visit_moment(view.get("visit_at")) if fields else None,
        "answer": answer_of(view) if fields else None,
        "reason": (reasons.get(fields.get("reason")) or fields.get("reason")) if fields else None,
    }


def _spam_row(base, view, zone, reasons, now):
    return {
        "url": request_url(base, view["id"]),
        "erased": not view.get("fields"),
        "name": person_name(view),
        "received": moment(view.get("created_at"), zone),
        "location": location_of(view),
        "reasons": spam_reasons(view),
        # "Not spam" and "Spam", each a form of its own: one press decides, and works without JavaScript.
        "decide": request_url(base, view["id"], "status"),
        "may_be_spam": "staff" not in (view.get("spam_reasons") or []),
    }


def _waiting_counts(base, counts):
    """How many requests are new, and how many of those overdue: the front desk's work at a glance."""
    if not counts:
        return None
    (new, new_exact), (overdue, overdue_exact) = counts["new"], counts["overdue"]
    return {
        "new": f"{'' if new_exact else 'More than '}{new} new request{'' if new == 1 else 's'}",
        "overdue": f"{'' if overdue_exact else 'more than '}{overdue} of them overdue" if overdue else None,
        "url": url(base, "", query({"overdue": "true"})),
    }


def _spam_count(base, spam_count, spam_view):
    """How many requests arrived as possible spam lately, on every list, so the view is never forgotten."""
    if spam_count is None:
        return None
    count, exact = spam_count
    many = "" if exact else "More than "
    if count == 0:
        text = f"No possible spam arrived in the last {SPAM_DAYS} days."
    elif count == 1 and exact:
        text = f"1 possible-spam request arrived in the last {SPAM_DAYS} days."
    else:
        text = f"{many}{count} possible-spam requests arrived in the last {SPAM_DAYS} days."
    link = None if spam_view or count == 0 else url(base, "", query({"status": "suspected_spam"}))
    return {"text": text, "url": link}
