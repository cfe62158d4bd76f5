"""The inbox's export page through its routes, against moto: what it offers is what the downloads hold, and a
link the inbox did not make (a search, a part number alone or not in ASCII digits) is refused, never a 500."""
import csv
import io
import re
from html import unescape

import pytest

from tests.integration.test_inbox_routes import cookie_of, inbox, sign_in  # noqa: F401  (inbox: the fixture)
from tests.staffing import seed


@pytest.fixture
def signed_in(inbox):  # noqa: F811
    return {"Cookie": cookie_of(sign_in(inbox))}


def links(body, pattern):
    """The links of the page's <a> tags whose address starts with `pattern`."""
    return [unescape(href) for href in re.findall(rf'<a [^>]*href="({pattern}[^"]*)"', body)]


def downloaded(inbox, cookie, hrefs):  # noqa: F811
    ids = []
    for href in hrefs:
        part = inbox.request("GET", href, cookie)
        assert part.status_code == 200 and part.headers["Content-Type"].startswith("text/csv")
        ids += [row["id"] for row in csv.DictReader(io.StringIO(part.body.decode("utf-8-sig")))]
    return ids


def test_a_search_is_not_exported_and_no_download_holds_every_request_instead(
        inbox, signed_in, dynamodb, settings):  # noqa: F811
    """Catches `first = ...` without the search check: "(1 request)" over a link that drops q and downloads
    every active request."""
    found = seed(dynamodb, settings, "2026-11-02T10:00:00.000Z", phone="(212) 555-0187")
    seed(dynamodb, settings, "2026-11-02T11:00:00.000Z", phone="(212) 555-0163")

    answer = inbox.request("GET", "/staff/export?q=%28212%29+555-0187", signed_in)

    body = answer.body.decode()
    assert answer.status_code == 422, body[:300]
    assert "Search results cannot be exported: export a filter instead." in body
    assert "/staff/" in links(body, "/staff/")  # back to the list, and no download at all
    assert "appointments.csv" not in body and "1 request" not in body and found not in body


def test_an_empty_search_box_is_the_plain_export(inbox, signed_in, dynamodb, settings):  # noqa: F811
    """Catches handing a blank `q` on to the listing (a 422 for a search box left empty), as the list page
    treats it: the plain filter."""
    seed(dynamodb, settings, "2026-11-02T10:00:00.000Z")
    answer = inbox.request("GET", "/staff/export?q=+&status=new", signed_in)
    assert answer.status_code == 200
    assert links(answer.body.decode(), "/staff/appointments.csv") == ["/staff/appointments.csv?status=new"]


@pytest.mark.parametrize("part", ["%C2%B2", "%E2%91%A0", "7", "2"])  # ², ①, then numbers with no cursor
def test_a_part_number_alone_or_not_in_ascii_digits_is_refused_not_a_500(
        inbox, signed_in, dynamodb, settings, part):  # noqa: F811
    """Catches `int(part) if part.isdigit()`: "²" and "①" pass isdigit() and int() raises (a 500), and part=7
    without its cursor labelled the first part "Part 7"."""
    seed(dynamodb, settings, "2026-11-02T10:00:00.000Z")
    answer = inbox.request("GET", f"/staff/export?part={part}", signed_in)
    body = answer.body.decode()
    assert answer.status_code == 422, body[:300]
    assert "not one the inbox made" in body and "Part " not in body and "appointments.csv" not in body


@pytest.fixture
def thirteen_parts(dynamodb, settings, monkeypatch):
    """Parts of 2 rows (one page of 2 each): 13 parts, more than the page lists at once (10)."""
    from chalicelib.staff import triage

    monkeypatch.setattr(triage, "EXPORT_PAGES", 1)
    monkeypatch.setattr(triage, "MAX_LIMIT", 2)
    return {seed(dynamodb, settings, f"2026-11-03T10:{n:02}:00.000Z") for n in range(26)}


def test_more_parts_carries_its_cursor_and_number_and_every_row_is_in_one_part(
        inbox, signed_in, thirteen_parts):  # noqa: F811
    first = inbox.request("GET", "/staff/export", signed_in).body.decode()
    [more] = links(first, "/staff/export")
    assert re.search(r"[?&]cursor=[^&]+", more) and more.endswith("&part=11")
    rest = inbox.request("GET", more, signed_in)
    assert rest.status_code == 200
    later = rest.body.decode()
    assert [n for n in re.findall(r">Part (\d+)<", later)] == ["11", "12", "13"]
    parts = links(first, "/staff/appointments.csv") + links(later, "/staff/appointments.csv")
    exported = downloaded(inbox, signed_in, parts)
    assert len(exported) == 26 and set(exported) == thirteen_parts


def test_a_later_part_in_other_digits_than_ascii_is_refused(inbox, signed_in, thirteen_parts):  # noqa: F811
    """Catches `part.isdigit()` alone: "١١" (Arabic-Indic eleven) passes it and int() reads it as 11."""
    [more] = links(inbox.request("GET", "/staff/export", signed_in).body.decode(), "/staff/export")
    answer = inbox.request("GET", more.replace("&part=11", "&part=%D9%A1%D9%A1"), signed_in)
    assert answer.status_code == 422
    assert inbox.request("GET", more.replace("&part=11", ""), signed_in).status_code == 422  # a cursor, no part
