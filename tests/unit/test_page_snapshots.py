"""Every page and e-mail renders what it rendered before it came from templates.

The snapshots in tests/unit/snapshots were taken from the hand-built pages; a page may differ from its
snapshot only in whitespace between and inside its text (HTML), or not at all (text e-mails and subjects).
`UPDATE_SNAPSHOTS=1 pytest tests/unit/test_page_snapshots.py` rewrites them, for a change meant to be seen.
"""
import dataclasses
import json
import os
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib.core.config import Settings
from chalicelib.core.errors import ValidationFailed
from chalicelib.intake import http as intake_http
from chalicelib.intake import page
from chalicelib.intake.models import LABELS, REASON_LABELS
from chalicelib.notify.alerts import compose_alert
from chalicelib.notify.confirmations import compose_confirmation
from chalicelib.notify.digest import LocationFigures, compose_digest
from chalicelib.staff import inbox
from chalicelib.staff.signin import code_email
from chalicelib.staff.triage import Part
from chalicelib.storage.digest_counts import Count
from tests.alerting import EVERY_OPTIONAL_FIELD, stored_request
from tests.conftest import STAGE_ENV
from chalicelib.webhooks.endpoints import EVENT_TYPES
from tests.unit.test_inbox_pages import (
    ADMIN, CLINIC_TIME, HOSTILE, LOCATIONS, STAFF, WEBHOOK_NOW, accounts, deliveries, endpoint, erased, spam_view,
    view,
)

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
PAGE = "https://appointments.clinic.example/r/k5qg2n4xw7ybz3hd6tjm8rfc.page-token"
NOW = datetime(2026, 11, 30, 20, 4, tzinfo=timezone.utc)
MORNING = datetime(2026, 12, 7, 13, 0, tzinfo=timezone.utc)


def _settings():
    settings = Settings.from_env(STAGE_ENV)
    return dataclasses.replace(settings, locations={**settings.locations, "downtown": "Downtown Clinic"},
                               location_phones={"downtown": "+1 212-555-0100"},
                               confirmation_reply_to="front.desk@clinic.example")


def _list(staff=ADMIN, items=None, filters=None, next_cursor=None, **options):
    listing = {"items": [view()] if items is None else items, "next_cursor": next_cursor}
    return inbox.list_page("/api", staff, listing, filters or {}, LOCATIONS, CLINIC_TIME, REASON_LABELS, now=NOW,
                           **options)


def _request(staff=ADMIN, record=None, transitions=("contacted", "scheduled", "closed", "suspected_spam"), **options):
    return inbox.request_page("/api", staff, record or view(), transitions, CLINIC_TIME, REASON_LABELS, LABELS,
                              now=NOW, **options)


def _history_view():
    record = view("r-2", "contacted", message="Line one\nLine two \u202eevil", preferred_date="2026-12-03",
                  preferred_time="morning", new_patient=True, has_referral=False, sms_consent=True)
    record["language"] = "es"
    record["consent"]["sms"] = {"given_at": "2026-11-30T15:04:05.123Z", "version": "2026-11-01"}
    record["history"] = [
        {"at": "2026-11-30T16:00:00.000Z", "by": "Sam Staff", "from": "new", "to": "contacted", "note": "Left a message"},
        {"at": "2026-11-30T17:00:00.000Z", "by": HOSTILE, "from": "contacted", "to": "contacted"},
    ]
    return record


def _overdue_view():
    record = view("r-3", language="es")
    record.update(language="es", due_at="2026-11-30T18:00:00.000Z")
    return record


def pages():
    """{name: HTML} of every page, in every language it has."""
    settings = _settings()
    found = {}
    for language in ("en", "es"):
        found[f"form-{language}"] = page.form_page(settings, "TOKEN.abc", now=NOW, language=language)
        found[f"thanks-{language}"] = page.thanks_page(language)
        failed = ValidationFailed({"email": "Enter a valid e-mail address.", "phone": "Enter a phone number."})
        request = SimpleNamespace(headers={"accept": "text/html", "accept-language": language}, raw_body=b"")
        found[f"error-validation-{language}"] = intake_http.error_answer(failed, request).body
        found[f"error-plain-{language}"] = intake_http.error_page(
            "We could not save your request just now.", language=language)
    found.update({
        "staff-sign-in": inbox.sign_in_page("/api", next_id="r-1", notice="You have been signed out."),
        "staff-sign-in-plain": inbox.sign_in_page(""),
        "staff-code": inbox.code_page("/api", "ana@clinic.example", next_id="r-1", error="That code is not right.",
                                      words="otter lantern"),
        "staff-code-plain": inbox.code_page("", "ana@clinic.example"),
        "staff-list": _list(items=[view(), _overdue_view(), _history_view(), erased()], filters={"status": "new"},
                            next_cursor="c2", counts={"new": (4, True), "overdue": (1, True)}, spam_count=(1, True)),
        "staff-list-filters": _list(staff=STAFF, filters={"location": "northside", "from": "2026-11-01",
                                                          "to": "2026-11-30", "cursor": "c1", "overdue": "true"},
                                    counts={"new": (30, False), "overdue": (0, True)}, spam_count=(0, True)),
        "staff-list-empty": _list(items=[], spam_count=(7, False), notice="Saved."),
        "staff-list-empty-filtered": _list(items=[], filters={"from": "2026-11-01"}),
        "staff-list-search": _list(filters={"q": "k5qg2n4x"}),
        "staff-list-search-empty": _list(items=[], filters={"q": "k5qg2n4x"}),
        "staff-list-spam": _list(items=[spam_view(), spam_view("r-s2", reasons=("staff",)),
                                        spam_view("r-s3", reasons=())], filters={"status": "suspected_spam"},
                                 spam_count=(3, True), notice=inbox.SPAM_DECISIONS["new"]),
        "staff-request": _request(notice="Status changed to contacted.", error="Conflict."),
        "staff-request-history": _request(staff=STAFF, record=_history_view(), transitions=("scheduled",)),
        "staff-request-overdue": _request(record=_overdue_view()),
        "staff-request-spam": _request(record=spam_view(), transitions=("new",)),
        "staff-request-final": _request(record=view("r-4", "closed"), transitions=()),
        "staff-request-erased": _request(record=erased(), transitions=()),
        "staff-erase": inbox.erase_page("/api", ADMIN, view()),
        "staff-erase-erased": inbox.erase_page("/api", ADMIN, {"id": "r-9"}),
        "staff-accounts": inbox.accounts_page("/api", ADMIN, accounts(), error="Check the form.",
                                              fields={"email": "Enter an e-mail address.", "name": "Too long."},
                                              notice="Saved."),
        "staff-accounts-plain": inbox.accounts_page("", STAFF, accounts()),
        "staff-export-one": inbox.export_page("/api", STAFF, {"status": "closed"}, LOCATIONS, [Part(None, 1)], None),
        "staff-export-parts": inbox.export_page("/api", STAFF, {"location": "downtown"}, LOCATIONS,
                                                [Part(None, 500), Part("c2", 12)], None),
        "staff-export-more": inbox.export_page("/api", ADMIN, {}, LOCATIONS, [Part("c3", 500), Part("c4", 500)],
                                               "c5", first=3),
        "staff-webhooks": inbox.webhooks_page("/api", ADMIN, [endpoint(), endpoint("ep_2", active=False,
                                                                                   reason="gone")],
                                              EVENT_TYPES, CLINIC_TIME, notice=inbox.webhooks.DELETED),
        "staff-webhooks-errors": inbox.webhooks_page("", ADMIN, [], EVENT_TYPES, CLINIC_TIME, loopback=True,
                                                     form={"url": "http://pms.example", "events": []},
                                                     fields={"url": "Use https://.",
                                                             "events": "Choose at least one event."}),
        "staff-webhook": inbox.webhook_page("/api", ADMIN, endpoint(rotated=True), deliveries(), CLINIC_TIME,
                                            notice=inbox.webhooks.DONE["enabled"], now=WEBHOOK_NOW),
        "staff-webhook-disabled": inbox.webhook_page("", ADMIN, endpoint(active=False, reason="admin"), [],
                                                     CLINIC_TIME, now=WEBHOOK_NOW),
        "staff-webhook-secret": inbox.webhook_secret_page("/api", ADMIN, endpoint(), "whsec_" + "A" * 43 + "=",
                                                          CLINIC_TIME),
        "staff-webhook-rotated": inbox.webhook_secret_page("/api", ADMIN, endpoint(rotated=True),
                                                           "whsec_" + "B" * 43 + "=", CLINIC_TIME, rotated=True,
                                                           now=WEBHOOK_NOW),
        "staff-webhook-delete": inbox.webhook_delete_page("/api", ADMIN, endpoint(), CLINIC_TIME),
        "staff-message": inbox.message_page("/api", "Not found", "There is no such request.", "404"),
        "staff-message-plain": inbox.message_page("", "Signed out", "You have been signed out."),
    })
    return found


def emails():
    """{name: text} of every e-mail and alert: subjects, text bodies and HTML bodies."""
    settings = _settings()
    found = {}
    for language in ("en", "es"):
        request = stored_request(preferred_contact="email").model_copy(update={"language": language})
        mail = compose_confirmation(request, settings, PAGE)
        found[f"confirmation-{language}.txt"] = f"{mail.subject}\n{mail.reply_to}\n\n{mail.text}"
        found[f"confirmation-{language}.html"] = mail.html
    no_phone = compose_confirmation(stored_request(location="northside"), settings, PAGE)
    found["confirmation-no-phone.txt"] = f"{no_phone.subject}\n\n{no_phone.text}"
    for detail in ("full", "minimal"):
        hostile = "Visit https://evil.example\r\nPhone: 1\n" + "long " * 500
        request = stored_request(**{**EVERY_OPTIONAL_FIELD, "message": hostile}).model_copy(update={"language": "es"})
        alert = compose_alert(request, dataclasses.replace(settings, notify_detail=detail))
        found[f"alert-{detail}.txt"] = (f"{alert.subject}\n{json.dumps(alert.attributes, sort_keys=True)}\n\n"
                                        + "\n---\n".join(f"{k}:\n{v}" for k, v in json.loads(alert.message).items()))
    figures = [LocationFigures("downtown", "Downtown Clinic", Count(4), Count(1), Count(2), 12, 125, 220),
               LocationFigures("northside", "Northside & Co", Count(5000, exact=False), Count(0), Count(0), 0),
               LocationFigures("lakeview", "Lakeview", Count(2), Count(1), Count(1, exact=False), 1, 48, 1130)]
    digest = compose_digest("dana@clinic.example", figures, settings, MORNING)
    found["digest.txt"] = f"{digest.subject}\n\n{digest.text}"
    found["digest.html"] = digest.html
    code = code_email("ana@clinic.example", [("otter lantern", "12345678")])
    found["sign-in-code.txt"] = f"{code.subject}\n{code.html!r}\n\n{code.text}"
    codes = code_email("ana@clinic.example", [("otter lantern", "12345678"), ("comet harbor", "87654321")])
    found["sign-in-code-several.txt"] = f"{codes.subject}\n{codes.html!r}\n\n{codes.text}"
    return found


_ASSET_VERSION = re.compile(r"\?v=[0-9a-f]{12}\b")


class _Tokens(HTMLParser):
    """The document as a list of tags and text, whitespace collapsed: what a browser shows, not the source's layout."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tokens = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        # An asset's ?v= is its content's hash (core.pages): a page links whatever the stylesheet is now.
        self.tokens.append(("<", tag, tuple((name, _ASSET_VERSION.sub("?v=*", " ".join((value or "").split())))
                                            for name, value in attrs)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.tokens.append(("</", tag))

    def handle_data(self, data):
        text = " ".join(data.split())
        if text:
            self.tokens.append(("text", text))

    def handle_decl(self, decl):
        self.tokens.append(("!", decl.lower()))


def normalised(html_text):
    return _Tokens(html_text).tokens


def _check(name, rendered, suffix, compare):
    path = SNAPSHOTS / f"{name}{suffix}"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no snapshot of {name}: run with UPDATE_SNAPSHOTS=1 to take one"
    compare(rendered, path.read_text(encoding="utf-8"))


def _same_html(rendered, snapshot):
    assert normalised(rendered) == normalised(snapshot)


def _same_text(rendered, snapshot):
    assert rendered == snapshot


@pytest.mark.parametrize("name", sorted(pages()))
def test_each_page_renders_as_before(name):
    _check(name, pages()[name], ".html", _same_html)


@pytest.mark.parametrize("name", sorted(emails()))
def test_each_email_renders_as_before(name):
    rendered = emails()[name]
    _check(name, rendered, "", _same_html if name.endswith(".html") else _same_text)


def test_the_comparison_sees_a_changed_word_attribute_or_tag_but_not_whitespace():
    before = '<p class="a">Hello <b>there</b></p>'
    assert normalised(before) == normalised('<p  class="a">\n  Hello\n<b>there</b>\n</p>')
    assert normalised(before) == normalised("<p class='a'>Hello <b>th&#101;re</b></p>")
    assert normalised('<link href="a.css?v=0123456789ab">') == normalised('<link href="a.css?v=ba9876543210">')
    for changed in ('<p class="b">Hello <b>there</b></p>', '<p class="a">Hello <i>there</i></p>',
                    '<p class="a">Hallo <b>there</b></p>', '<p class="a">Hello there</p>'):
        assert normalised(before) != normalised(changed)
