"""The admins' webhooks pages as rendered (no browser, no AWS): what each shows, its forms, and the secret's one
showing. (Every page's shared checks, escaping included, run on these too: test_inbox_pages.every_page.)"""
import re
from datetime import timedelta

import pytest

from chalicelib.staff import inbox
from chalicelib.staff.inbox.webhooks import EVENT_WORDS, OUTCOME_WORDS
from chalicelib.storage.webhooks import Delivery
from chalicelib.webhooks.endpoints import EVENT_TYPES
from tests.unit.test_inbox_pages import (
    ADMIN, CLINIC_TIME, STAFF, WEBHOOK_NOW, Parsed, deliveries, endpoint, list_page,
)


def listing(endpoints=None, **options):
    return inbox.webhooks_page("/api", ADMIN, [endpoint()] if endpoints is None else endpoints, EVENT_TYPES,
                               CLINIC_TIME, **options)


def one(hook=None, history=None, now=WEBHOOK_NOW, **options):
    hook = hook or endpoint()
    return inbox.webhook_page("/api", ADMIN, hook, deliveries(hook.id) if history is None else history,
                              CLINIC_TIME, now=now, **options)


def test_the_webhooks_link_is_for_admins_only():
    assert '<a href="/staff/webhooks">Webhooks</a>' in list_page(staff=ADMIN)
    assert "/staff/webhooks" not in list_page(staff=STAFF)


def test_every_event_type_is_offered_in_words():
    """Catches an event the service knows (webhooks.endpoints) that the form would offer as a bare name."""
    assert set(EVENT_WORDS) == set(EVENT_TYPES)


def test_each_endpoint_is_listed_with_its_url_events_state_and_who_added_it():
    hooks = [endpoint(), endpoint("ep_2", active=False, reason="gone"), endpoint("ep_3", active=False,
                                                                                   reason="admin")]
    text = listing(hooks)

    rows = re.findall(r"<tr><td.*?</tr>", text)
    assert len(rows) == 3
    assert "<code><bdi>https://pms.clinic.example/hooks?tenant=7&amp;kind=all</bdi></code>" in rows[0]
    assert "<li><code>visit.booked</code></li><li><code>visit.cancelled</code></li>" in rows[0]
    assert [re.search(r'data-label="Status">([^<]+)<', row).group(1) for row in rows] == [
        "Active", "Disabled: the receiver answered 410 Gone", "Disabled by an admin"]
    assert ('<time datetime="2026-11-30T15:00:00.000Z">Mon 30 Nov 2026, 10:00\u00a0AM</time> by '
            "<bdi>Ana Admin</bdi>") in rows[0]
    assert [re.search(r'href="([^"]+)"', row).group(1) for row in rows] == [
        "/api/staff/webhooks/ep_0123456789abcdef", "/api/staff/webhooks/ep_2", "/api/staff/webhooks/ep_3"]


def test_no_endpoint_yet_says_so_without_a_table():
    text = listing([])
    assert "No webhook endpoints yet" in text and "<table" not in text


def test_the_add_form_has_a_url_field_and_a_box_per_event_all_ticked_at_first():
    page = Parsed(listing())

    [form] = page.all("form", action="/api/staff/webhooks")
    assert form["method"] == "post"
    [url] = page.all("input", name="url")
    assert (url["type"], url["id"], url["value"], url["maxlength"]) == ("url", "webhook-url", "", "2048")
    assert "required" in url and "aria-invalid" not in url
    boxes = page.all("input", type="checkbox", name="events")
    assert [box["value"] for box in boxes] == list(EVENT_TYPES)
    assert all("checked" in box for box in boxes)
    assert page.all("legend")
    assert "visit.confirmed</code>: The patient said they will be there" in listing()


def test_a_refused_add_keeps_what_was_sent_and_shows_each_problem_at_its_field():
    fields = {"url": "Use https://.", "events": "Choose at least one event."}
    text = listing(form={"url": "http://pms.example/x", "events": ["visit.booked"]}, fields=fields)
    page = Parsed(text)

    [url] = page.all("input", name="url")
    assert url["value"] == "http://pms.example/x"
    assert url["aria-invalid"] == "true" and url["aria-describedby"] == "webhook-url-error webhook-url-hint"
    assert [box["value"] for box in page.all("input", type="checkbox") if "checked" in box] == ["visit.booked"]
    [group] = page.all("fieldset")
    assert group["aria-describedby"] == "webhook-events-error"
    assert page.all("p", id="webhook-events-error") and page.all("p", id="webhook-url-error")
    # The summary's links go to the URL field and to the first box (a fieldset takes no focus).
    assert page.all("a", href="#webhook-url") and page.all("a", href="#event-appointment-requested")
    assert "There are 2 problems" in text


def test_plain_http_is_mentioned_only_where_it_is_allowed():
    assert "http://127.0.0.1:PORT" in listing(loopback=True)
    assert "http://127.0.0.1" not in listing(loopback=False)


def test_the_endpoint_s_page_shows_its_last_deliveries_in_words():
    text = one()

    rows = re.findall(r"<tr><td.*?</tr>", text)
    assert len(rows) == 3
    cells = [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td data-label="[^"]+">(.*?)</td>', row)]
             for row in rows]
    assert cells == [
        ["Tue 1 Dec 2026, 10:30\u00a0AM", "visit.booked", "msg_k5qg2n4xw7ybz3hd6tjm8rfc_2", "2", "204", "Delivered",
         "87\u00a0ms"],
        ["Tue 1 Dec 2026, 10:29\u00a0AM", "visit.booked", "msg_k5qg2n4xw7ybz3hd6tjm8rfc_2", "1", "503",
         "Failed (tried again later)", "10,012\u00a0ms"],
        ["Tue 1 Dec 2026, 10:00\u00a0AM", "appointment.status_changed", "msg_k5qg2n4xw7ybz3hd6tjm8rfc_1", "1",
         "No answer", "Failed (tried again later)", "None"],
    ]
    assert [h for h in re.findall(r'<th scope="col">([^<]+)</th>', text)] == [
        "Time", "Event", "Event id", "Attempt", "HTTP status", "Outcome", "Latency"]


def test_an_endpoint_without_deliveries_says_so():
    text = one(history=[])
    assert "Nothing was sent to this endpoint in the last 30 days." in text and "<table" not in text


@pytest.mark.parametrize("outcome", sorted(OUTCOME_WORDS))
def test_each_outcome_is_in_words(outcome):
    text = one(history=[Delivery("ep_1", "msg_r_0", "visit.booked", 1, "2026-12-01T15:00:00.000Z", outcome)])
    assert OUTCOME_WORDS[outcome] in text


def test_an_outcome_the_page_does_not_know_is_still_shown():
    text = one(history=[Delivery("ep_1", "msg_r_0", "visit.booked", 1, "2026-12-01T15:00:00.000Z", "timed_out")])
    assert "<strong>Timed out</strong>" in text


def test_an_active_endpoint_offers_rotate_disable_and_delete_each_a_plain_form_or_link():
    page = Parsed(one())

    posts = [form["action"] for form in page.all("form") if form["method"] == "post" and "webhooks" in form["action"]]
    assert posts == [f"/api/staff/webhooks/ep_0123456789abcdef/{action}" for action in ("rotate", "disable")]
    assert page.all("a", href="/api/staff/webhooks/ep_0123456789abcdef/delete")
    text = one()
    assert "keeps signing every delivery for 24 hours" in text
    assert "<dd>Active</dd>" in text


def test_a_disabled_endpoint_offers_enable_instead():
    text = one(endpoint(active=False, reason="gone"))
    assert 'action="/api/staff/webhooks/ep_0123456789abcdef/enable"' in text
    assert "/disable" not in text
    assert "<dd>Disabled: the receiver answered 410 Gone</dd>" in text


def test_a_rotation_s_overlap_is_shown_while_it_lasts():
    during = one(endpoint(rotated=True))
    after = one(endpoint(rotated=True), now=WEBHOOK_NOW + timedelta(days=1, hours=1))

    assert ("The one before it also signs until <time datetime=\"2026-12-02T15:00:00.000Z\">Wed 2 Dec 2026, "
            "10:00\u00a0AM</time>") in during
    assert "The one before it, which still signs now, stops at once." in during
    assert "The one before it" not in after


def test_the_secret_is_shown_once_with_a_warning_and_never_in_a_link():
    secret = "whsec_" + "Q" * 43 + "="
    text = inbox.webhook_secret_page("/api", ADMIN, endpoint(), secret, CLINIC_TIME)
    page = Parsed(text)

    assert f'<p class="secret"><code>{secret}</code></p>' in text
    assert "It is shown only this once" in text
    assert not [url for url in page.urls if secret in url or "whsec" in url]
    assert page.all("a", href="/api/staff/webhooks/ep_0123456789abcdef")
    assert "Webhook endpoint added" in text and "old secret" not in text


def test_a_rotated_secret_s_page_says_until_when_the_old_one_signs():
    text = inbox.webhook_secret_page("/api", ADMIN, endpoint(rotated=True), "whsec_x", CLINIC_TIME, rotated=True,
                                     now=WEBHOOK_NOW)
    assert "<h1>New signing secret</h1>" in text
    assert ('The old secret keeps signing every delivery beside the new one until <time '
            'datetime="2026-12-02T15:00:00.000Z">') in text


def test_the_deletion_is_confirmed_with_a_plain_form():
    text = inbox.webhook_delete_page("/api", ADMIN, endpoint(), CLINIC_TIME)
    page = Parsed(text)

    [form] = page.all("form", action="/api/staff/webhooks/ep_0123456789abcdef/delete")
    assert form["method"] == "post"
    assert page.all("input", type="hidden", name="confirm", value="yes")
    assert page.all("a", href="/api/staff/webhooks/ep_0123456789abcdef")  # Cancel
    assert "Delete for good" in text and "pms.clinic.example" in text
