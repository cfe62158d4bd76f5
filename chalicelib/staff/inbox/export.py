"""The CSV export of a filter: every part as a download link ("Part 1 of 3"), as one answer holds only so much."""
import re

from ...core.errors import ValidationFailed
from .common import FILTERS, filter_summary, query, render, url

NO_SEARCH = "Search results cannot be exported: export a filter instead."
NOT_OURS = "This export link is not one the inbox made. Start the export again from the list."
# A later part's number, as the "More parts" link writes it: ASCII digits only (str.isdigit() takes "²" and "①",
# which int() refuses), and never the first part's, which has no cursor.
_LATER_PART = re.compile(r"[1-9][0-9]{0,4}")


def first_part(params):
    """The number of the first part asked for, taking `part` (and an empty search box) out of `params`.

    A search is refused: its terms would have to be in the download links (a phone number, an address in a URL),
    and the links without them hold every active request. `part` comes only with the cursor where that part
    starts, as the page's own "More parts" link gives them; either one alone, or a part that is not a number,
    is not a link the inbox made. Raises ValidationFailed."""
    if (params.pop("q", None) or "").strip():
        raise ValidationFailed({"q": NO_SEARCH})
    part, cursor = params.pop("part", None), params.get("cursor")
    if part is None and cursor is None:
        return 1
    if part is None or not cursor or not _LATER_PART.fullmatch(part) or int(part) < 2:
        raise ValidationFailed({"part": NOT_OURS})
    return int(part)


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
