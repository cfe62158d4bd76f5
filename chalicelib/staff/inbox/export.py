"""The CSV export of a filter: every part as a download link ("Part 1 of 3"), as one answer holds only so much."""
from .common import FILTERS, filter_summary, query, render, url


def export_page(base, staff, filters, locations, parts, more_cursor, first=1):
    """`parts` from number `first` on; `more_cursor` where the parts after them start, if there are more."""
    filters = {name: str(value) for name, value in (filters or {}).items() if value and name in FILTERS}
    known = more_cursor is None and first == 1

    def download(cursor=None):
        return url(base, "appointments.csv", query(filters, cursor))

    whole = None
    if known and len(parts) == 1:
        whole = {"url": download(), "rows": _count(sum(part.rows for part in parts))}
    return render(
        "export.html", base, "Export CSV", staff,
        summary=filter_summary(filters, locations),
        whole=whole,
        total=len(parts) if known else None,
        parts=[{"number": number, "url": download(part.cursor), "rows": _count(part.rows)}
               for number, part in enumerate(parts, first)],
        more=url(base, "export", query(filters, more_cursor) + f"&part={first + len(parts)}") if more_cursor else None,
        back=url(base, "", query(filters)),
    )


def _count(rows):
    return "1 request" if rows == 1 else f"{rows} requests"
