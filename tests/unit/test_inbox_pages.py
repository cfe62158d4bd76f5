"""The staff inbox's pages as rendered (no browser, no AWS): escaping, URLs, controls, roles."""
import hashlib
import re
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.intake.models import LABELS, REASON_LABELS
from chalicelib.staff import inbox
from chalicelib.staff.triage import TRANSITIONS, Part
from chalicelib.storage.webhooks import Delivery, Endpoint, SigningSecret
from chalicelib.webhooks.endpoints import EVENT_TYPES

CLINIC_TIME = ZoneInfo("America/New_York")
LOCATIONS = {"downtown": "Downtown", "northside": "Northside & Co"}
HOSTILE = '<script>alert(1)</script>"onmouseover="x\u202eevil'
ADMIN = SimpleNamespace(name="Ana Admin", role="admin", email="ana@clinic.example")
STAFF = SimpleNamespace(name="Sam Staff", role="staff", email="sam@clinic.example")
PERSONAL = {
    "first_name": "Zoë",
    "last_name": "Okonkwo-Lindqvist",
    "email": "zoe.okonkwo@example.com",
    "phone": "+12125550142 ext. 4417",
    "message": "Left knee hurts on stairs",
    "insurance": "Acme Health PPO",
}


def view(request_id="r-1", status="new", **fields):
    return {
        "id": request_id,
        "status": status,
        "created_at": "2026-11-30T15:04:05.123Z",
        "location": "downtown",
        "location_name": "Downtown",
        "fields": {**PERSONAL, "location": "downtown", "preferred_contact": "phone", "reason": "knee",
                   "contact_consent": True, **fields},
        "consent": {"contact": {"given_at": "2026-11-30T15:04:05.123Z", "version": "2026-11-01"}},
        "alerted_at": "2026-11-30T15:04:07.000Z",
        "history": [],
    }


def spam_view(request_id="r-spam", reasons=("too_fast", "links"), signals=None, **fields):
    record = view(request_id, "suspected_spam", **fields)
    record.update(spam_reasons=list(reasons), spam_signals={"fill_ms": 1234, "links": 2} if signals is None else signals)
    return record


def erased(request_id="r-gone"):
    return {
        "id": request_id, "status": "erased", "created_at": "2026-11-29T09:00:00.000Z", "location": "downtown",
        "location_name": "Downtown", "erased_at": "2026-11-30T16:00:00.000Z", "erased_by": "Ana Admin",
        "history": [{"at": "2026-11-30T16:00:00.000Z", "by": "Ana Admin", "from": "new", "to": "erased"}],
    }


def accounts():
    return [
        {"email": "ana@clinic.example", "name": "Ana Admin", "role": "admin", "active": True,
         "created_at": "2026-11-01T10:00:00.000Z", "updated_at": "2026-11-01T10:00:00.000Z"},
        {"email": "sam@clinic.example", "name": "Sam Staff", "role": "staff", "active": True, "digest": False,
         "created_at": "2026-11-02T10:00:00.000Z", "updated_at": "2026-11-02T10:00:00.000Z"},
        {"email": "old@clinic.example", "name": "Olga Old", "role": "staff", "active": False,
         "created_at": "2026-10-02T10:00:00.000Z", "updated_at": "2026-11-03T10:00:00.000Z"},
    ]


WEBHOOK_NOW = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)


def endpoint(endpoint_id="ep_0123456789abcdef", url="https://pms.clinic.example/hooks?tenant=7&kind=all",
             events=("visit.booked", "visit.cancelled"), active=True, reason=None, rotated=False, by="Ana Admin"):
    """A webhook endpoint as the service returns it; `rotated`: its secret was rotated at 15:00 on WEBHOOK_NOW's day."""
    secrets = (SigningSecret("n1", "2026-11-30T15:00:00.000Z"),)
    if rotated:
        secrets = (SigningSecret("n2", "2026-12-01T15:00:00.000Z"),
                   SigningSecret("n1", "2026-11-30T15:00:00.000Z", "2026-12-02T15:00:00.000Z"))
    return Endpoint(endpoint_id, url, tuple(events), active, "2026-11-30T15:00:00.000Z", by,
                    "2026-12-01T15:00:00.000Z" if rotated else "2026-11-30T15:00:00.000Z", secrets, reason)


def deliveries(endpoint_id="ep_0123456789abcdef"):
    return [
        Delivery(endpoint_id, "msg_k5qg2n4xw7ybz3hd6tjm8rfc_2", "visit.booked", 2, "2026-12-01T15:30:00.000Z",
                 "delivered", 204, 87),
        Delivery(endpoint_id, "msg_k5qg2n4xw7ybz3hd6tjm8rfc_2", "visit.booked", 1, "2026-12-01T15:29:55.000Z",
                 "failed", 503, 10012),
        Delivery(endpoint_id, "msg_k5qg2n4xw7ybz3hd6tjm8rfc_1", "appointment.status_changed", 1,
                 "2026-12-01T15:00:00.000Z", "failed"),
    ]


def webhook_pages(base="", staff=ADMIN, hook=None):
    hook = hook or endpoint()
    return {
        "webhooks": inbox.webhooks_page(base, staff, [hook, endpoint("ep_2", active=False, reason="gone")],
                                        EVENT_TYPES, CLINIC_TIME,
                                        form={"url": "http://pms.example", "events": ["visit.booked"]},
                                        fields={"url": "Use https://.", "events": "Choose at least one event."}),
        "webhook": inbox.webhook_page(base, staff, hook, deliveries(hook.id), CLINIC_TIME, notice="Enabled.",
                                      now=WEBHOOK_NOW),
        "webhook-secret": inbox.webhook_secret_page(base, staff, hook, "whsec_" + "A" * 43 + "=", CLINIC_TIME),
        "webhook-delete": inbox.webhook_delete_page(base, staff, hook, CLINIC_TIME),
    }


def list_page(base="", staff=ADMIN, items=None, filters=None, next_cursor=None, **options):
    listing = {"items": [view()] if items is None else items, "next_cursor": next_cursor}
    return inbox.list_page(base, staff, listing, filters or {}, LOCATIONS, CLINIC_TIME, REASON_LABELS, **options)


def request_page(base="", staff=ADMIN, record=None, transitions=("contacted",), **options):
    return inbox.request_page(base, staff, record or view(), transitions, CLINIC_TIME, REASON_LABELS, LABELS,
                              **options)


def every_page(base="", staff=ADMIN, record=None):
    record = record or view()
    return {
        "sign-in": inbox.sign_in_page(base, next_id="r-1", notice="You have been signed out."),
        "code": inbox.code_page(base, "ana@clinic.example", next_id="r-1", error="That code is not right."),
        "list": list_page(base, staff, items=[record, erased()], filters={"status": "new"}, next_cursor="c2"),
        "request": request_page(base, staff, record, notice="Status changed to contacted.", error="Conflict."),
        "possible-spam": list_page(base, staff, items=[{**spam_view(), "fields": record["fields"]}, erased()],
                                   filters={"status": "suspected_spam"}, spam_count=(2, True),
                                   notice=inbox.SPAM_DECISIONS["new"]),
        "erase": inbox.erase_page(base, staff, record),
        "accounts": inbox.accounts_page(base, staff, accounts(), error="Check the form.",
                                        fields={"email": "Enter an e-mail address."}, notice="Saved."),
        "message": inbox.message_page(base, "Not found", "There is no such request.", "404"),
        **webhook_pages(base, staff),
    }


class Parsed(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.elements, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag=None, **wanted):
        return [attrs for name, attrs in self.elements
                if (tag is None or name == tag) and all(attrs.get(k) == v for k, v in wanted.items())]

    @property
    def urls(self):
        return [attrs[key] for _, attrs in self.elements for key in ("href", "action", "src") if key in attrs]

    @property
    def controls(self):
        return [(tag, attrs) for tag, attrs in self.elements
                if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden"]


# --- every page ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(every_page()))
def test_every_page_is_a_whole_accessible_document(name):
    text = every_page()[name]
    page = Parsed(text)

    assert text.startswith("<!doctype html>")
    assert page.all("html") == [{"lang": "en"}]
    assert page.all("meta", name="viewport")
    assert page.all("link", rel="icon", href="data:,")
    assert page.all("a")[0] == {"class": "skip-link", "href": "#main"}
    assert len(page.all("h1")) == 1
    assert len(page.all("main", id="main")) == 1
    assert len(page.all("header")) == 1
    ids = [attrs["id"] for _, attrs in page.elements if "id" in attrs]
    assert len(ids) == len(set(ids)), ids
    for fragment in (url for url in page.urls if url.startswith("#")):
        assert fragment[1:] in ids, fragment
    assert not re.search(r"\$[a-z_]+", text), "a template placeholder was left unfilled"


@pytest.mark.parametrize("name", list(every_page()))
def test_every_control_has_a_label(name):
    page = Parsed(every_page()[name])
    labelled = {attrs.get("for") for attrs in page.all("label")}

    assert page.controls or name in ("erase", "message", "webhook", "webhook-secret", "webhook-delete")
    for tag, attrs in page.controls:
        assert attrs.get("id") in labelled, (tag, attrs)
    for attrs in page.all("button"):
        assert attrs.get("type") == "submit"


@pytest.mark.parametrize("base", ["", "/api"])
def test_every_link_and_action_is_an_absolute_path_under_the_base(base):
    for name, text in every_page(base).items():
        page = Parsed(text)
        for url in page.urls:
            if url.startswith(("#", "data:", "tel:", "mailto:")):
                continue
            assert url.startswith(f"{base}/staff/"), (name, url)
        for attrs in page.all("form"):
            assert attrs["method"] in ("get", "post")
            assert (attrs["method"] == "get") == (attrs["action"] == f"{base}/staff/"), (name, attrs)
        css, js = page.all("link", rel="stylesheet")[0]["href"], page.all("script")[0]
        assert re.fullmatch(rf"{base}/staff/inbox\.css\?v=[0-9a-f]{{12}}", css)
        assert re.fullmatch(rf"{base}/staff/inbox\.js\?v=[0-9a-f]{{12}}", js["src"]) and "defer" in js


def test_no_personal_data_in_any_url_but_tel_and_mailto():
    personal = [*PERSONAL.values(), "+12125550142", "zoe.okonkwo", "Zo%C3%AB", "ana@clinic.example",
                "sam@clinic.example", "ana%40clinic.example"]
    for name, text in every_page().items():
        for url in Parsed(text).urls:
            if url.startswith(("tel:", "mailto:")):
                continue
            for value in personal:
                assert value.lower() not in url.lower(), (name, url, value)


# --- escaping ------------------------------------------------------------------------------

def test_hostile_text_is_escaped_and_cannot_reorder_the_page():
    record = view(first_name=HOSTILE, last_name=HOSTILE, message=HOSTILE, insurance=HOSTILE)
    record["history"] = [{"at": "2026-11-30T16:00:00.000Z", "by": HOSTILE, "from": "new", "to": "contacted",
                          "note": HOSTILE}]
    staff = SimpleNamespace(name=HOSTILE, role="admin", email="ana@clinic.example")
    pages = every_page(staff=staff, record=record)
    pages["accounts-hostile"] = inbox.accounts_page(
        "", staff, [{**accounts()[1], "name": HOSTILE, "email": HOSTILE}], error=HOSTILE, fields={"name": HOSTILE})
    pages.update({f"{name}-hostile": text for name, text in webhook_pages(
        staff=staff, hook=endpoint(HOSTILE, url=HOSTILE, events=(HOSTILE,), by=HOSTILE)).items()})
    pages["code-hostile"] = inbox.code_page("", HOSTILE, next_id=HOSTILE, error=HOSTILE)
    pages["message-hostile"] = inbox.message_page("", HOSTILE, HOSTILE, HOSTILE)
    pages["list-hostile-filters"] = list_page(filters={"status": HOSTILE, "from": HOSTILE, "cursor": HOSTILE},
                                              next_cursor=HOSTILE)

    for name, text in pages.items():
        assert "<script>alert" not in text, name
        assert '"onmouseover="' not in text, name
        assert "\u202e" not in text, name
        assert len(Parsed(text).all("script")) == 1, name  # only inbox.js
        assert not any("onmouseover" in attrs for _, attrs in Parsed(text).elements), name
    request = pages["request"]
    assert "<h1><bdi>&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;xevil" in request
    assert "Signed in as <strong><bdi>&lt;script&gt;" in request


def test_patient_text_is_isolated_so_it_reads_as_typed():
    text = request_page(record=view(first_name="\u05d9\u05e2\u05dc", last_name="Cohen"))

    assert "<h1><bdi>\u05d9\u05e2\u05dc Cohen</bdi></h1>" in text
    assert "<dd><bdi>\u05d9\u05e2\u05dc</bdi></dd>" in text


# --- the list ------------------------------------------------------------------------------

def test_the_list_shows_each_request_in_clinic_time_with_a_link_by_id():
    page = Parsed(list_page(items=[view("r-1"), erased("r-2")]))
    text = list_page(items=[view("r-1"), erased("r-2")])

    assert '<time datetime="2026-11-30T15:04:05.123Z">Mon 30 Nov 2026, 10:04\u00a0AM</time>' in text
    assert '<a href="/staff/requests/r-1"><bdi>Zoë Okonkwo-Lindqvist</bdi></a>' in text
    assert [th for th in re.findall(r'<th scope="col">([^<]+)</th>', text)] == [
        "Received", "Name", "Location", "Status", "Reason"]
    assert "<caption>" in text
    assert "Knee" in text
    erased_row = re.search(r"<tr>(?:(?!</tr>).)*r-2(?:(?!</tr>).)*</tr>", text).group(0)
    assert ">Erased<" in erased_row and "Zoë" not in erased_row
    assert all(attrs.get("data-label") for attrs in page.all("td"))  # the phone layout's card labels


def test_the_filter_form_shows_the_current_filters():
    text = list_page(filters={"status": "suspected_spam", "location": "northside", "from": "2026-11-01",
                              "to": "2026-11-30"})
    page = Parsed(text)

    [form] = page.all("form", method="get", **{"class": "filters"})
    assert form["action"] == "/staff/"
    assert '<option value="suspected_spam" selected>Possible spam</option>' in text
    assert '<option value="northside" selected>Northside &amp; Co</option>' in text
    assert '<option value="">Active (new to closed)</option>' in text
    assert '<option value="erased">Erased</option>' in text
    assert page.all("input", type="date", name="from", value="2026-11-01")
    assert page.all("input", type="date", name="to", value="2026-11-30")
    assert [attrs["name"] for _, attrs in page.controls] == ["q", "status", "location", "from", "to", "overdue"]
    assert "checked" not in page.all("input", name="overdue")[0]


def test_active_is_the_default_status_filter():
    text = list_page()
    assert '<option value="" selected>Active (new to closed)</option>' in text
    assert '<option value="" selected>All locations</option>' in text


def test_export_keeps_the_filters_but_not_the_cursor():
    filters = {"status": "contacted", "location": "downtown", "from": "2026-11-01", "to": "2026-11-30",
               "cursor": "page-2-cursor"}
    page = Parsed(list_page(filters=filters, next_cursor="page-3-cursor"))

    [export] = [a for a in page.all("a") if "/export" in a["href"]]
    url = urlsplit(export["href"])
    assert url.path == "/staff/export"
    assert dict(parse_qsl(url.query)) == {"status": "contacted", "location": "downtown",
                                          "from": "2026-11-01", "to": "2026-11-30"}


def export_links(parts, more=None, first=1, filters=None):
    html_text = inbox.export_page("", STAFF, filters or {"status": "closed"}, {"downtown": "Downtown"}, parts, more,
                                  first)
    page = Parsed(html_text)
    links = [(a["href"], a.get("download")) for a in page.all("a") if "appointments" in a["href"] or "export" in
             a["href"]]
    return links, SimpleNamespace(text=" ".join(page.text), html=html_text)


def test_an_export_of_one_part_is_one_download():
    links, page = export_links([Part(None, 42)])
    assert links == [("/staff/appointments.csv?status=closed", "appointments.csv")]
    assert "42 requests" in page.text


def test_an_export_of_several_parts_offers_each_numbered_with_its_cursor():
    links, page = export_links([Part(None, 300), Part("c2", 300), Part("c3", 12)])
    assert links == [("/staff/appointments.csv?status=closed", "appointments-part-1.csv"),
                     ("/staff/appointments.csv?status=closed&cursor=c2", "appointments-part-2.csv"),
                     ("/staff/appointments.csv?status=closed&cursor=c3", "appointments-part-3.csv")]
    assert "Part 1 of 3" in page.text and "Part 3 of 3" in page.text and "12 requests" in page.text


def test_more_parts_than_a_page_shows_link_on_numbered_from_where_they_stopped():
    links, page = export_links([Part("c11", 300), Part("c12", 300)], more="c13", first=11)
    assert links[-1] == ("/staff/export?status=closed&cursor=c13&part=13", None)
    assert ">Part 11</a>" in page.html and ">Part 12</a>" in page.html  # how many in all is not known yet


def test_paging_goes_on_with_the_same_filters_and_back_to_the_newest():
    page = Parsed(list_page(filters={"status": "new", "cursor": "page-2"}, next_cursor="page-3"))
    links = {a.get("rel"): a["href"] for a in page.all("a") if a["href"].startswith("/staff/?")}

    assert dict(parse_qsl(urlsplit(links["next"]).query)) == {"status": "new", "cursor": "page-3"}
    assert dict(parse_qsl(urlsplit(links[None]).query)) == {"status": "new"}
    assert "Newest first" in list_page(filters={"cursor": "page-2"})


def test_the_first_page_has_no_newest_first_link_and_the_last_no_next_link():
    text = list_page(filters={"status": "new"})
    assert "Newest first" not in text
    assert "Next page" not in text
    assert "Next page" in list_page(next_cursor="c")


def test_an_empty_list_says_so():
    assert "No requests to work on" in list_page(items=[])
    assert "No requests match these filters" in list_page(items=[], filters={"location": "downtown"})
    assert "<table" not in list_page(items=[])


def test_the_staff_accounts_link_is_for_admins_only():
    assert 'href="/staff/accounts"' in list_page(staff=ADMIN)
    assert 'href="/staff/accounts"' not in list_page(staff=STAFF)
    assert "Sam Staff" in list_page(staff=STAFF)
    [sign_out] = Parsed(list_page(staff=STAFF)).all("form", action="/staff/sign-out")
    assert sign_out["method"] == "post"


# --- one request ---------------------------------------------------------------------------

def test_every_field_is_shown_with_its_label():
    record = view(new_patient=True, has_referral=False, preferred_date="2026-12-14", preferred_time="morning",
                  sms_consent=True, preferred_contact="text")
    record["consent"]["sms"] = {"given_at": "2026-11-30T15:04:05.123Z", "version": "2026-11-01"}
    text = request_page(record=record)

    for name in record["fields"]:
        if name != "location":
            assert f"<dt>{LABELS[name]}</dt>" in text, name
    assert "<dt>Clinic location</dt><dd>Downtown</dd>" in text
    assert "<dd>Text message</dd>" in text and "<dd>Morning</dd>" in text and "<dd>Knee</dd>" in text
    assert '<dt>New patient</dt><dd>Yes</dd>' in text and '<dt>Referral</dt><dd>No</dd>' in text
    assert "Mon 14 Dec 2026" in text
    assert text.count("wording version 2026-11-01") == 2
    assert "<code>r-1</code>" in text


def test_phone_and_email_are_tel_and_mailto_links():
    text = request_page(record=view(phone="+44 20 7946 0958", email="o'brien+clinic@example.com"))

    assert '<a href="tel:+44-20-7946-0958"><bdi>+44 20 7946 0958</bdi></a>' in text
    assert 'href="mailto:o%27brien%2Bclinic@example.com"' in text


@pytest.mark.parametrize("stored, uri", [
    ("+12125550142 ext. 4417", "tel:+1-212-555-0142;ext=4417"),  # as the form stores one with an extension
    ("+12125550142", "tel:+1-212-555-0142"),
    ("+442079460958", "tel:+44-20-7946-0958"),
    ("not a number 555", "tel:555"),
])
def test_a_tel_link_follows_rfc_3966_extension_and_all(stored, uri):
    assert f'<a href="{uri}">' in request_page(record=view(phone=stored))


@pytest.mark.parametrize("status", [s for s in TRANSITIONS if s != "erased"])
def test_exactly_the_allowed_transitions_are_offered(status):
    allowed = TRANSITIONS[status]
    page = Parsed(request_page(record=view(status=status), transitions=allowed))

    # Booking (scheduled) has its own form, with the date and time it needs; every other move is a radio.
    plain = [name for name in allowed if name != "scheduled"]
    radios = page.all("input", type="radio", name="status")
    assert [radio["value"] for radio in radios] == plain
    booking = page.all("input", type="hidden", name="status", value="scheduled")
    assert len(booking) == (1 if "scheduled" in allowed else 0)
    assert len(page.all("input", type="date", name="visit_date")) == len(booking)
    forms = page.all("form", action="/staff/requests/r-1/status")
    assert len(forms) == (1 if plain else 0) + len(booking)
    if allowed:
        assert all(form["method"] == "post" for form in forms)
        notes = page.all("textarea", name="note")
        assert len(notes) == len(forms)
        assert all(note["maxlength"] == "1000" and "required" not in note for note in notes)
        assert all(("checked" in radio) == (len(plain) == 1) for radio in radios)


def test_history_shows_who_changed_what_and_when_in_clinic_time():
    record = view(status="contacted")
    record["history"] = [{"at": "2026-11-30T16:30:00.000Z", "by": "Sam Staff", "from": "new", "to": "contacted",
                          "note": "Left a voicemail.\nTry again at 3."}]
    text = request_page(record=record, transitions=("scheduled", "closed"))

    assert "Mon 30 Nov 2026, 11:30\u00a0AM</time>, by <bdi>Sam Staff</bdi>" in text
    assert 'New <span aria-hidden="true">→</span><span class="visually-hidden">to</span> Contacted' in text
    assert "Left a voicemail.\nTry again at 3." in text
    assert "No status changes yet." in request_page()


def test_erasure_is_offered_to_admins_only():
    assert 'href="/staff/requests/r-1/erase"' in request_page(staff=ADMIN)
    assert "/erase" not in request_page(staff=STAFF)
    assert "Erase this request…" in request_page(staff=ADMIN)


def test_an_erased_request_shows_the_tombstone_and_no_controls():
    text = request_page(record=erased(), transitions=())
    page = Parsed(text)

    assert "<h1>Erased request</h1>" in text
    assert "Ana Admin" in text
    assert not page.all("form", method="post")[1:]  # only Sign out
    assert "/erase" not in text


def test_messages_are_announced():
    text = request_page(error="Someone else changed this request meanwhile.", notice="Status changed to contacted.")
    page = Parsed(text)

    assert page.all("div", role="alert")
    assert page.all("p", role="status")
    assert "Someone else changed this request meanwhile." in text
    assert "Status changed to contacted." in text
    assert 'href="/staff/"' in text and "Back to the list" in text


def test_the_title_never_holds_the_patients_name():
    for name, text in every_page().items():
        title = re.search(r"<title>(.*?)</title>", text).group(1)
        assert "Zoë" not in title and "Okonkwo" not in title, name


# --- erasure, sign-in, accounts, messages --------------------------------------------------

def test_the_erase_page_asks_for_confirmation():
    text = inbox.erase_page("/api", ADMIN, view())
    page = Parsed(text)

    [form] = page.all("form", action="/api/staff/requests/r-1/erase")
    assert form["method"] == "post"
    assert page.all("input", type="hidden", name="confirm", value="yes")
    assert page.all("button", type="submit", **{"class": "danger"})
    assert page.all("a", href="/api/staff/requests/r-1")
    assert "for good" in text and "anonymous record" in text


def test_the_sign_in_page_asks_for_an_e_mail_address():
    page = Parsed(inbox.sign_in_page("/api", notice="Your session ended; sign in again."))

    [form] = page.all("form", action="/api/staff/sign-in")
    assert form["method"] == "post"
    [email] = page.all("input", name="email")
    # "username email" would be two field names, which HTML (and axe's autocomplete-valid) refuses.
    assert email["type"] == "email" and email["autocomplete"] == "username"
    assert not page.all("input", name="next")
    assert page.all("p", role="status")
    assert Parsed(inbox.sign_in_page("", next_id="r-9")).all("input", type="hidden", name="next", value="r-9")


def test_the_code_page_says_the_same_whatever_the_address():
    page = Parsed(inbox.code_page("", "anyone@example.com", next_id="r-9"))
    text = inbox.code_page("", "anyone@example.com")

    assert inbox.CODE_SENT in text
    [form] = page.all("form", action="/staff/sign-in/code")
    assert form["method"] == "post"
    [code] = page.all("input", name="code")
    assert (code["inputmode"], code["autocomplete"]) == ("numeric", "one-time-code")
    assert "pattern" not in code  # Arabic-Indic, Persian and full-width digits are the server's to read
    assert page.all("input", type="hidden", name="email", value="anyone@example.com")
    assert page.all("input", type="hidden", name="next", value="r-9")
    assert page.all("a", href="/staff/requests/r-9")  # start again, and still land on that request
    assert Parsed(text).all("a", href="/staff/")
    assert "aria-invalid" not in text and 'role="alert"' not in text


def test_a_wrong_code_is_in_an_error_summary_tied_to_the_field():
    page = Parsed(inbox.code_page("", "a@example.com", error="That code is not right or has expired."))

    [summary] = page.all("div", role="alert")
    assert summary["tabindex"] == "-1"
    assert page.all("a", href="#code")
    [code] = page.all("input", name="code")
    assert code["aria-invalid"] == "true"
    assert "code-error" in code["aria-describedby"].split()
    assert page.all("p", id="code-error")


def test_an_admin_may_disable_every_active_account_but_their_own():
    text = inbox.accounts_page("", ADMIN, accounts())
    page = Parsed(text)

    disables = page.all("form", action="/staff/accounts/disable")
    assert [form["method"] for form in disables] == ["post"]
    assert re.findall(r'action="/staff/accounts/disable" method="post"><input type="hidden" name="email" '
                      r'value="([^"]+)"', text) == ["sam@clinic.example"]


def test_each_account_s_morning_digest_is_shown_with_a_plain_form_that_turns_it_the_other_way():
    """Catches a row without its digest control, or a button that posts the state the account already has: each
    row says On or Off and posts (no script needed) its address and the other state to the accounts route."""
    text = inbox.accounts_page("/api", ADMIN, accounts())

    rows = re.findall(r'<td data-label="Morning digest">(On|Off) <form class="inline" action="/api/staff/accounts" '
                      r'method="post"><input type="hidden" name="email" value="([^"]+)"><input type="hidden" '
                      r'name="digest" value="(on|off)"><button type="submit" class="secondary">Turn (on|off)<span '
                      r'class="visually-hidden"> the morning digest for ([^<]+)</span></button></form>', text)
    assert rows == [("On", "ana@clinic.example", "off", "off", "Ana Admin"),
                    ("Off", "sam@clinic.example", "on", "on", "Sam Staff"),
                    ("On", "old@clinic.example", "off", "off", "Olga Old")]
    assert '<th scope="col">Morning digest</th>' in text


def test_the_account_form_shows_each_problem_at_its_field():
    fields = {"email": "Enter an e-mail address such as name@clinic.example.", "role": "Choose staff or admin."}
    text = inbox.accounts_page("", ADMIN, accounts(), fields=fields)
    page = Parsed(text)

    [form] = page.all("form", action="/staff/accounts", **{"class": "stack narrow"})
    assert form["method"] == "post"
    assert [attrs["name"] for _, attrs in page.controls] == ["email", "name", "role"]
    assert page.all("input", name="email", type="email")
    assert [o["value"] for o in page.all("option")] == ["staff", "admin"]
    for field in ("email", "role"):
        [control] = [a for _, a in page.controls if a["name"] == field]
        assert control["aria-invalid"] == "true"
        assert control["aria-describedby"] == f"account-{field}-error"
        assert page.all("a", href=f"#account-{field}")
    [name] = [a for _, a in page.controls if a["name"] == "name"]
    assert "aria-invalid" not in name
    assert "There are 2 problems" in text


def test_the_message_page_leads_back_to_the_inbox():
    page = Parsed(inbox.message_page("/api", "Signed out", "Sign in again to go on.", "401"))
    assert page.all("a", href="/api/staff/")
    assert "Error code: 401" in inbox.message_page("", "x", "y", "401")


# --- HTTP ----------------------------------------------------------------------------------

def test_pages_are_sent_with_a_strict_policy_and_never_cached():
    headers = inbox.inbox_headers()

    assert headers["Content-Security-Policy"] == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name, kind", [("inbox.css", "text/css"), ("inbox.js", "text/javascript")])
def test_assets_are_versioned_by_content(name, kind):
    body, headers = inbox.asset(name)
    version = hashlib.sha256(body.encode()).hexdigest()[:12]

    assert inbox.asset_url("/api", name) == f"/api/staff/{name}?v={version}"
    assert headers["Content-Type"].startswith(kind)
    assert headers["Cache-Control"] == "public, max-age=300"
    assert inbox.asset(name, version)[1]["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_assets_stay_small_and_load_nothing_from_elsewhere():
    for name in ("inbox.css", "inbox.js"):
        body, _ = inbox.asset(name)
        assert len(body.encode()) < 12_000, name
        assert "http:" not in body and "https:" not in body and "//" not in body.replace("// ", ""), name
        assert "@import" not in body and "url(" not in body, name


# --- the "Possible spam" view ---------------------------------------------------------------

def spam_list(items=None, **options):
    return list_page(items=[spam_view()] if items is None else items, filters={"status": "suspected_spam"},
                     spam_count=(1, True), **options)


def test_the_possible_spam_view_gives_each_reason_in_words_with_its_figures():
    page = Parsed(spam_list())

    text = " ".join(page.text)
    assert "sent 1.2 seconds after the page was served" in text
    assert "2 web addresses in the text" in text
    assert "Possible spam" in text and "Why" in text


def test_each_possible_spam_request_has_not_spam_and_spam_buttons_that_come_back_to_the_view():
    text = spam_list()
    page = Parsed(text)

    forms = page.all("form", action="/staff/requests/r-spam/status", method="post")
    assert len(forms) == 2
    decisions = [value for tag, attrs in page.elements if tag == "input" and attrs.get("name") == "status"
                 for value in [attrs["value"]]]
    assert decisions == ["new", "suspected_spam"]
    assert len(page.all("input", type="hidden", name="back", value="spam")) == 2
    labels = [re.sub(r"<[^>]+>", "", label) for label in re.findall(r"<button[^>]*>(.*?)</button>", text)]
    decided = [label for label in labels if label.startswith(("Not spam", "Spam"))]
    # Each button names its request, for a screen reader going from button to button.
    assert [label.split(":")[0] for label in decided] == ["Not spam", "Spam"]
    assert all("Zoë Okonkwo-Lindqvist" in label for label in decided)


def test_a_request_staff_confirmed_as_spam_offers_only_not_spam():
    page = Parsed(spam_list([spam_view(reasons=("too_fast", "staff"))]))

    assert [attrs["value"] for attrs in page.all("input", name="status")] == ["new"]
    assert "marked as spam by staff" in " ".join(page.text)


@pytest.mark.parametrize("count, words, link", [
    ((0, True), "No possible spam arrived in the last 7 days.", False),
    ((1, True), "1 possible-spam request arrived in the last 7 days.", True),
    ((12, True), "12 possible-spam requests arrived in the last 7 days.", True),
    ((2000, False), "More than 2000 possible-spam requests arrived in the last 7 days.", True),
])
def test_the_list_says_how_much_possible_spam_arrived_this_week(count, words, link):
    text = list_page(spam_count=count)

    assert words in text
    assert ('href="/staff/?status=suspected_spam"' in text) == link


def test_the_possible_spam_view_does_not_link_to_itself():
    assert 'href="/staff/?status=suspected_spam"' not in spam_list()


def test_a_suspected_requests_page_says_why():
    page = Parsed(request_page(record=spam_view(), transitions=("new", "suspected_spam")))

    text = " ".join(page.text)
    assert "Why it is in possible spam" in text
    assert "sent 1.2 seconds after the page was served" in text
    assert [attrs["value"] for attrs in page.all("input", type="radio")] == ["new", "suspected_spam"]
    assert "Why it is in possible spam" not in request_page()


# --- waiting and overdue ------------------------------------------------------------------------

NOW = datetime(2026, 11, 30, 18, 14, 5, 200_000, tzinfo=timezone.utc)  # 3 h 10 min after view()'s created_at


def test_a_new_request_shows_how_long_it_has_waited_and_when_late_by_how_much_in_words():
    waiting = {**view(), "due_at": "2026-11-30T20:00:00.000Z"}
    late = {**view("r-2"), "due_at": "2026-11-30T17:14:05.300Z"}

    text = list_page(items=[waiting, late], now=NOW)

    rows = re.findall(r"<tr>.*?</tr>", text, re.S)[1:]
    assert "waiting 3 h 10 min" in rows[0] and "Overdue" not in rows[0]
    assert "waiting 3 h 10 min" in rows[1] and "Overdue by 59 min" in rows[1]


def test_exactly_at_its_due_time_a_request_is_overdue():
    assert "Overdue by 0 min" in list_page(items=[{**view(), "due_at": "2026-11-30T18:14:05.200Z"}], now=NOW)


def test_only_new_requests_wait():
    text = list_page(items=[{**view(status="contacted"), "due_at": "2026-11-30T16:00:00.000Z"}], now=NOW)
    [row] = re.findall(r"<tr>.*?</tr>", text, re.S)[1:]
    assert "waiting" not in row and "Overdue" not in row


@pytest.mark.parametrize("counts, words, link", [
    ({"new": (12, True), "overdue": (3, True)}, "12 new requests, 3 of them overdue.", True),
    ({"new": (1, True), "overdue": (0, True)}, "1 new request, none overdue.", False),
    ({"new": (900, False), "overdue": (40, True)}, "More than 900 new requests, 40 of them overdue.", True),
])
def test_the_list_counts_new_and_overdue_requests(counts, words, link):
    text = list_page(counts=counts, now=NOW)
    assert words in text
    assert ('href="/staff/?overdue=true"' in text) == link


def test_the_overdue_filter_is_kept_ticked_and_carried_to_paging_and_export():
    page = Parsed(list_page(filters={"overdue": "true"}, next_cursor="c2", now=NOW))

    assert "checked" in page.all("input", name="overdue")[0]
    assert all("overdue=true" in attrs["href"] for attrs in page.all("a") if "cursor=c2" in attrs.get("href", "")
               or "/export" in attrs.get("href", ""))
    assert "Overdue requests, all locations" in " ".join(page.text)


def test_the_request_page_says_when_contact_is_due():
    text = request_page(record={**view(), "due_at": "2026-11-30T17:14:05.300Z"}, now=NOW)
    assert "Contact due by" in text and "Overdue by 59 min" in text



# --- finding a request --------------------------------------------------------------------------

def test_one_search_box_labelled_with_what_it_finds():
    page = Parsed(list_page(filters={"q": "+1 212 555 0142"}))

    [search] = page.all("form", role="search")
    # Posted: a phone number or an address searched for stays out of the URL and the browser's history.
    assert (search["action"], search["method"]) == ("/staff/search", "post")
    assert not [url for url in page.urls if "q=" in url or "555" in url]
    [box] = page.all("input", name="q")
    assert (box["type"], box["value"], box["id"]) == ("search", "+1 212 555 0142", "q")
    assert "Find a request" in " ".join(page.text)
    assert "Requests found by your search" in " ".join(page.text)


def test_a_search_that_finds_nothing_says_what_to_try():
    assert "No request matches this search" in list_page(items=[], filters={"q": "nobody@example.com"})


def test_staff_are_told_which_language_to_call_back_in():
    spanish = {**view(), "language": "es"}

    assert "Language: Spanish" in list_page(items=[spanish], now=NOW)
    assert "Language:" not in re.findall(r"<tbody>.*</tbody>", list_page(items=[{**view(), "language": "en"}],
                                                                           now=NOW), re.S)[0]
    page = Parsed(request_page(record=spanish, now=NOW))
    assert "Language" in page.text and "Spanish" in " ".join(page.text)


def test_a_correction_names_the_request_it_corrects_in_the_list_and_on_its_page():
    """Staff see "Corrects ref …" (intake.service keeps a patient's correction as a request of its own)."""
    record = {**view("r-2"), "corrects": "k5qg2n4xw7ybz3hd6tjm8rfc"}
    listed = list_page(items=[record])
    assert '<span class="corrects">Corrects ref k5qg2n4x</span>' in listed
    page = request_page(record=record)
    assert '<a href="/staff/requests/k5qg2n4xw7ybz3hd6tjm8rfc">ref k5qg2n4x</a>' in page
    assert "Corrects" not in list_page() + request_page()


@pytest.mark.parametrize("params, first", [({}, 1), ({"status": "new"}, 1), ({"q": " "}, 1),
                                           ({"cursor": "c11", "part": "11"}, 11)])
def test_the_export_starts_at_part_1_or_at_the_part_its_more_link_names(params, first):
    assert inbox.export.first_part(dict(params)) == first


@pytest.mark.parametrize("params", [{"part": "7"}, {"cursor": "c2"}, {"cursor": "c2", "part": "²"},
                                    {"cursor": "c2", "part": "①"}, {"cursor": "c11", "part": "١١"},
                                    {"cursor": "c2", "part": "1"}, {"cursor": "c2", "part": "02"},
                                    {"cursor": "c2", "part": "100000"}, {"q": "(212) 555-0187"}])
def test_an_export_link_the_inbox_did_not_make_is_refused(params):
    """Catches `int(part) if part.isdigit()` (a 500 for "²", "Part 7" for part 1) and an export of a search."""
    from chalicelib.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        inbox.export.first_part(dict(params))
