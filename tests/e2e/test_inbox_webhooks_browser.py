"""The admins' Webhooks page in a real browser (headless Chromium, as test_inbox_browser.py drives it) against the
local stack as `make run` starts it: adding an endpoint with JavaScript off, its secret shown once (and the one the
stack signs with), rotation, disabling, enabling and deleting; axe on every page of it; 360 px; the keyboard alone.

Each endpoint a test adds points at a receiver of its own on 127.0.0.1 that answers 204, and is deleted before the
test ends: the stack's other tests keep emitting events, and none may go astray or be retried to the end of time.
"""
import re
import threading
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import free_port
from tests.e2e.test_form_browser import (  # noqa: F401  (browser, playwright: the shared fixtures)
    DESKTOP, PHONE, browser, playwright, tab_to,
)
from tests.e2e.test_inbox_browser import assert_axe_clean, context, new_account, new_page, signed_in_page  # noqa: F401

pytestmark = pytest.mark.e2e

DELETED = "The endpoint was deleted. Its delivery history is no longer shown and expires within 30 days."
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802  (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def receiver():
    """A webhook receiver on 127.0.0.1 that takes every delivery (204); its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook/{uuid.uuid4().hex[:8]}"
    finally:
        server.shutdown()
        server.server_close()


def stack_secret(stack, endpoint_id):
    """The secret that signs deliveries to the endpoint now, derived as the stack derives it: from the emulator's
    deployment key and the nonce stored with the endpoint."""
    from chalicelib.core.config import Settings
    from chalicelib.core.keys import purpose_key
    from chalicelib.storage.webhooks import WebhookRepository
    from chalicelib.webhooks.endpoints import WebhookAdmin

    settings = Settings.from_env(stack.settings_env)
    key = stack.client("secretsmanager").get_secret_value(SecretId=settings.dedupe_key_secret)["SecretString"]
    admin = WebhookAdmin(WebhookRepository(stack.client("dynamodb"), settings.table_name), settings,
                         lambda: purpose_key(key.encode(), "webhook secrets"))
    return admin.signing_secrets(admin.get(endpoint_id))


def shown_secret(page):
    secret = page.locator(".secret code").inner_text().strip()
    assert SECRET.fullmatch(secret), secret
    return secret


def endpoint_id_of(page):
    return re.search(r"/staff/webhooks/(ep_[0-9a-f]+)$", page.get_by_role("link", name="Go to the endpoint")
                     .get_attribute("href")).group(1)


def add_endpoint(page, stack, url, events=None):
    """Adds `url` on the Webhooks page on screen (every event, or just `events`); its id and secret."""
    page.get_by_label("URL").fill(url)
    if events is not None:
        for box in page.get_by_role("group", name="Events to send").get_by_role("checkbox").all():
            box.set_checked(box.get_attribute("value") in events)
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhook endpoint added")
    return endpoint_id_of(page), shown_secret(page)


def delete_endpoint(page, stack, endpoint_id):
    page.goto(f"{stack.base_url}/staff/webhooks/{endpoint_id}")
    page.get_by_role("link", name="Delete this endpoint…").click()
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_role("status")).to_have_text(DELETED)


def test_without_javascript_an_admin_adds_rotates_disables_enables_and_deletes_an_endpoint(stack, context):
    admin = new_account(stack, "admin")
    page = signed_in_page(context, stack, admin, java_script_enabled=False)
    with receiver() as url:
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")

        endpoint_id, secret = add_endpoint(page, stack, url, events=("visit.booked", "visit.cancelled"))
        try:
            expect(page.get_by_text("It is shown only this once")).to_be_visible()
            assert stack_secret(stack, endpoint_id) == [secret]  # the one deliveries are signed with
            assert secret not in page.url

            page.get_by_role("link", name="Go to the endpoint").click()
            facts = page.locator(".facts")
            expect(facts).to_contain_text(url)
            expect(facts).to_contain_text("visit.booked")
            expect(facts).not_to_contain_text("visit.confirmed")
            expect(facts).to_contain_text(f"by {admin['name']}")
            expect(page.locator("main")).not_to_contain_text("whsec_")
            page.get_by_role("button", name="Rotate the secret").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("New signing secret")
            rotated = shown_secret(page)
            assert rotated != secret and stack_secret(stack, endpoint_id) == [rotated, secret]
            expect(page.get_by_text("The old secret keeps signing every delivery beside the new one")).to_be_visible()

            page.get_by_role("link", name="Go to the endpoint").click()
            page.get_by_role("button", name="Disable").click()
            expect(page.get_by_role("status")).to_contain_text("Disabled: nothing more is sent")
            expect(facts).to_contain_text("Disabled by an admin")
            page.get_by_role("button", name="Enable").click()
            expect(page.get_by_role("status")).to_contain_text("Enabled")
            expect(facts).to_contain_text("Active")

            page.get_by_role("link", name="Delete this endpoint…").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Delete this webhook endpoint?")
            page.get_by_role("link", name="Cancel").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Webhook endpoint")
        finally:
            delete_endpoint(page, stack, endpoint_id)
    expect(page.locator("main")).not_to_contain_text(url)


def test_staff_get_no_webhooks_link_and_a_not_allowed_page(stack, context):
    page = signed_in_page(context, stack, new_account(stack))
    expect(page.get_by_role("link", name="Webhooks")).to_have_count(0)
    answer = page.goto(f"{stack.base_url}/staff/webhooks")
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")


def test_axe_finds_no_wcag_22_aa_violations_on_the_webhooks_pages(stack, context):
    from chalicelib.storage.webhooks import Delivery, WebhookRepository

    admin = new_account(stack, "admin")
    # axe is injected as an inline script, which the pages' own policy rightly forbids.
    page = signed_in_page(context, stack, admin, bypass_csp=True)
    page.goto(f"{stack.base_url}/staff/webhooks")
    assert_axe_clean(page, "webhooks page")
    page.get_by_label("URL").fill("http://pms.clinic.example/hooks")  # plain http, and not on this computer
    for box in page.get_by_role("checkbox").all():
        box.uncheck()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("alert")).to_contain_text("There are 2 problems")
    assert_axe_clean(page, "webhooks page with errors")
    with receiver() as url:
        endpoint_id, _ = add_endpoint(page, stack, url, events=("visit.booked",))  # the refused form kept none
        try:
            assert_axe_clean(page, "the new secret")
            repository = WebhookRepository(stack.client("dynamodb"), stack.settings_env["APPOINTMENTS_TABLE"])
            for n, (outcome, status) in enumerate((("delivered", 204), ("failed", 503), ("failed", None))):
                repository.record_delivery(Delivery(endpoint_id, f"msg_axe{n}_0", "visit.booked", 1,
                                                    f"2026-12-01T10:0{n}:00.000Z", outcome, status, 40 + n),
                                           expires_at=2_000_000_000)
            page.goto(f"{stack.base_url}/staff/webhooks/{endpoint_id}")
            expect(page.get_by_role("table")).to_be_visible()
            assert_axe_clean(page, "endpoint page with deliveries")
            page.get_by_role("button", name="Rotate the secret").click()
            assert_axe_clean(page, "rotated secret")
            page.goto(f"{stack.base_url}/staff/webhooks/{endpoint_id}/delete")
            assert_axe_clean(page, "delete confirmation")
            page.goto(f"{stack.base_url}/staff/webhooks")
            assert_axe_clean(page, "webhooks page with an endpoint")
            page.goto(f"{stack.base_url}/staff/webhooks/ep_0000000000000000")
            assert_axe_clean(page, "no such endpoint")
        finally:
            delete_endpoint(page, stack, endpoint_id)


def test_the_webhooks_pages_fit_a_360px_phone(stack, context):
    from chalicelib.storage.webhooks import Delivery, WebhookRepository

    page = signed_in_page(context, stack, new_account(stack, "admin"), viewport=PHONE)
    with receiver() as url:
        page.goto(f"{stack.base_url}/staff/webhooks")
        endpoint_id, _ = add_endpoint(page, stack, url + "/" + "a-long-path-segment" * 6 + "?tenant=northside")
        try:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "secret page"
            repository = WebhookRepository(stack.client("dynamodb"), stack.settings_env["APPOINTMENTS_TABLE"])
            repository.record_delivery(Delivery(endpoint_id, "msg_k5qg2n4xw7ybz3hd6tjm8rfc_12",
                                                "visit.change_requested", 8, "2026-12-01T10:00:00.000Z", "failed",
                                                503, 10000), expires_at=2_000_000_000)
            for path, what in ((f"/staff/webhooks/{endpoint_id}", "endpoint page"), ("/staff/webhooks", "list"),
                               (f"/staff/webhooks/{endpoint_id}/delete", "delete confirmation")):
                page.goto(stack.base_url + path)
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], what
            page.goto(f"{stack.base_url}/staff/webhooks/{endpoint_id}")
            # Stacked as cards, and still a table to a screen reader.
            expect(page.get_by_role("table").get_by_role("columnheader")).to_have_count(7)
        finally:
            delete_endpoint(page, stack, endpoint_id)
    assert page.problems == []


def tab_until(page, target, limit=40):
    """Presses Tab until `target` (a locator) has the focus, and checks that it shows it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            assert target.evaluate("element => getComputedStyle(element).outlineStyle") != "none"
            return
    raise AssertionError(f"Tab never reached {target}")


def test_keyboard_alone_adds_an_endpoint_and_deletes_it(stack, context):
    page = signed_in_page(context, stack, new_account(stack, "admin"), viewport=PHONE)
    page.goto(f"{stack.base_url}/staff/webhooks")
    visited = []
    with receiver() as url:
        tab_to(page, "webhook-url", visited, limit=60)
        page.keyboard.type(url)
        tab_to(page, "event-appointment-requested", visited)
        page.keyboard.press("Space")  # unticks it: every box starts ticked
        expect(page.locator("#event-appointment-requested")).not_to_be_checked()
        tab_to(page, "event-appointment-erased", visited)
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Add endpoint")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhook endpoint added")
        endpoint_id = endpoint_id_of(page)
        try:
            tab_until(page, page.get_by_role("link", name="Go to the endpoint"))
            page.keyboard.press("Enter")
            expect(page.locator(".facts")).not_to_contain_text("appointment.requested")
            tab_until(page, page.get_by_role("link", name="Delete this endpoint…"))
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", level=1)).to_have_text("Delete this webhook endpoint?")
            tab_until(page, page.get_by_role("button", name="Delete for good"))
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_have_text(DELETED)
        except BaseException:
            delete_endpoint(page, stack, endpoint_id)
            raise
    assert page.problems == []
