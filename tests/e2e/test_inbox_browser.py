"""The staff inbox in a real browser: headless Chromium (Debian's) driven by Playwright, against
the local stack exactly as `make run` starts it, signing in with codes read from the emulator's
sent mail (RunningStack.add_staff and sign_in_code, tests/e2e/conftest.py). The browser, its
launch flags and the keyboard helper are the form page's (tests/e2e/test_form_browser.py).
(The same rules over plain HTTP: test_inbox_http.py.)
"""
import csv
import io
import json
import re
import time
import urllib.request
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import valid_fields
from tests.e2e.conftest import SCREENSHOTS, STAFF_INBOX, free_port
from tests.e2e.test_form_browser import (  # noqa: F401  (browser, playwright: the shared fixtures)
    DESKTOP, PHONE, axe_violations, browser, playwright, serve, tab_to,
)
from tests.e2e.test_intake_http import post_json

pytestmark = pytest.mark.e2e

POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


# --- accounts, requests, sign-in ----------------------------------------------------------

def new_account(stack, role="staff"):
    tag = uuid.uuid4().hex[:10]
    email, name = f"e2e-{role}-{tag}@clinic.example", f"E2E {role.title()} {tag[:6]}"
    stack.add_staff(email, name, role)
    return {"email": email, "name": name, "role": role}


def new_request(stack, **overrides):
    """A stored request (through the real API); returns (id, the fields sent)."""
    fields = valid_fields(**{"location": "northside", "reason": "knee",
                             "message": f"Inbox e2e {uuid.uuid4().hex[:12]}", **overrides})
    status, _, body = post_json(stack, fields)
    assert status == 201, body
    return json.loads(body)["id"], fields


def alert_link(request_id, timeout=30.0):
    """The inbox link in the staff alert for `request_id`, as the stack's alert inbox file shows it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(rf"https?://\S+/staff/requests/{re.escape(request_id)}(?![A-Za-z0-9_-])", STAFF_INBOX.read_text())
        if found:
            return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no alert with a link to {request_id} in {STAFF_INBOX}")


@pytest.fixture
def context(browser):
    """A fresh browser context per call; `page.problems` collects script and CSP errors."""
    contexts = []

    def open_(viewport=DESKTOP, **options):
        made = browser.new_context(viewport=viewport, accept_downloads=True, **options)
        contexts.append(made)
        return made

    yield open_
    for made in contexts:
        made.close()


def new_page(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on("console", lambda message: page.problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    return page


def sign_in(page, stack, account):
    """From the sign-in page on screen, through the e-mailed code, to wherever the inbox sends us."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    code = ask_for_code(page, stack, account["email"])
    page.get_by_label("Sign-in code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {account['name']}")).to_be_visible()


def ask_for_code(page, stack, email):
    """Sends the sign-in page on screen for `email`; returns the code that was mailed."""
    before = len(stack.sent_mail(email))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    return stack.sign_in_code(email, after=before)


def signed_in_page(context_factory, stack, account, **options):
    page = new_page(context_factory(**options))
    page.goto(stack.base_url + "/staff/")
    sign_in(page, stack, account)
    return page


def session_cookie(page):
    [cookie] = [c for c in page.context.cookies() if c["name"] == "staff_session"]
    return cookie


def assert_axe_clean(page, what):
    violations = axe_violations(page)
    assert violations == [], f"{what}:\n" + "\n".join(violations)


def post(stack, path, form, headers):
    request = urllib.request.Request(stack.base_url + path, data=form.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --- signing in -----------------------------------------------------------------------------

def test_sign_in_with_the_emailed_code_sets_a_same_site_session_cookie(stack, context):
    account = new_account(stack)
    page = new_page(context())

    answer = page.goto(stack.base_url + "/staff/")
    assert answer.headers["content-security-policy"] == POLICY
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["cache-control"] == "no-store"
    sign_in(page, stack, account)

    assert urlsplit(page.url).path == "/staff/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Requests")
    expect(page.get_by_role("link", name="Staff accounts")).to_have_count(0)  # staff, not admin
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/staff"
    assert cookie["secure"] is False  # plain http on loopback; deployed stages add Secure
    assert len(cookie["value"]) >= 22  # at least 128 bits, however it is encoded
    assert account["email"] not in page.url
    assert page.problems == []


def test_a_wrong_code_is_announced_and_focused(stack, context):
    account = new_account(stack)
    page = new_page(context())
    page.goto(stack.base_url + "/staff/")
    code = ask_for_code(page, stack, account["email"])

    page.get_by_label("Sign-in code").fill("0" * len(code) if code != "0" * len(code) else "1" * len(code))
    page.get_by_role("button", name="Sign in").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    field = page.get_by_label("Sign-in code")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(summary.locator("li").inner_text())))
    field.fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Requests")


def test_an_alerts_link_leads_through_sign_in_to_that_request(stack, context):
    account = new_account(stack)
    request_id, fields = new_request(stack)
    link = alert_link(request_id)
    assert link == f"{stack.base_url}/staff/requests/{request_id}"  # PUBLIC_BASE_URL: this stack
    page = new_page(context())

    page.goto(link)
    expect(page.locator('input[name="next"]')).to_have_value(request_id)
    sign_in(page, stack, account)

    assert urlsplit(page.url).path == f"/staff/requests/{request_id}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{fields['first_name']} {fields['last_name']}")
    expect(page.get_by_role("link", name=fields["email"])).to_have_attribute("href", f"mailto:{fields['email']}")
    expect(page.get_by_role("link", name="+12125550142")).to_have_attribute("href", "tel:+1-212-555-0142")
    for value in (fields["first_name"], fields["last_name"], fields["email"], "2125550142"):
        assert value not in page.url
    assert page.problems == []


# --- working on requests --------------------------------------------------------------------

def test_changing_a_status_with_a_note_is_recorded_once(stack, context):
    account = new_account(stack)
    request_id, _ = new_request(stack)
    page = signed_in_page(context, stack, account)
    page.goto(f"{stack.base_url}/staff/requests/{request_id}")
    note = f"Left a voicemail {uuid.uuid4().hex[:6]}."

    page.get_by_role("radio", name="Contacted").check()
    page.get_by_label("Note").fill(note)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.get_by_role("button", name="Change status").dblclick()

    expect(page.get_by_role("status")).to_have_text("Status changed to contacted.")
    assert urlsplit(page.url).path == f"/staff/requests/{request_id}"
    history = page.locator(".history li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text(account["name"])
    expect(history).to_contain_text(note)
    # contacted → closed (a radio) or scheduled (the booking form, with its date and time)
    expect(page.get_by_role("radio")).to_have_count(1)
    expect(page.get_by_role("heading", name="Book a visit")).to_be_visible()
    assert len(posts) == 1
    assert page.problems == []


def test_export_downloads_the_csv_of_the_current_filter(stack, context):
    account = new_account(stack)
    request_id, fields = new_request(stack, location="lakeview")
    page = signed_in_page(context, stack, account)
    page.get_by_label("Location").select_option("lakeview")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("link", name=f"{fields['first_name']} {fields['last_name']}").first).to_be_visible()

    page.get_by_role("link", name=re.compile("^Export CSV")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export CSV")
    assert page.problems == []
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^(Download appointments.csv|Part 1)")).click()

    assert download.value.suggested_filename.endswith(".csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert request_id in {row["id"] for row in rows}
    assert {row["location"] for row in rows} == {"lakeview"}


def test_signing_out_ends_the_session_on_the_server(stack, context):
    account = new_account(stack)
    request_id, _ = new_request(stack)
    page = signed_in_page(context, stack, account)
    old = session_cookie(page)["value"]

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("status")).to_contain_text("signed out")
    answer = page.goto(f"{stack.base_url}/staff/requests/{request_id}")
    assert answer.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    request = urllib.request.Request(f"{stack.base_url}/staff/requests/{request_id}",
                                     headers={"Cookie": f"staff_session={old}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401  # the old cookie is worth nothing now, not just forgotten


def test_an_alert_link_clicked_in_web_mail_opens_the_request_for_a_signed_in_person(stack, context):
    """Web mail in a browser is another site: "localhost" is not the site "127.0.0.1" is."""
    account = new_account(stack)
    request_id, _ = new_request(stack)
    page = signed_in_page(context, stack, account)
    port = free_port()
    link = f"{stack.base_url}/staff/requests/{request_id}"
    mail = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Inbox</title></head><body>'
            f'<p>New appointment request</p><a href="{link}">Open the request</a></body></html>')
    server = serve(mail, port)
    try:
        page.goto(f"http://localhost:{port}/")
        page.get_by_role("link", name="Open the request").click()
        page.wait_for_url(link)
    finally:
        server.shutdown()
        server.server_close()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    expect(page.locator(".facts")).to_contain_text("New")


def test_a_change_posted_from_another_origin_with_the_session_is_refused(stack, context):
    account = new_account(stack)
    request_id, _ = new_request(stack)
    page = signed_in_page(context, stack, account)
    cookie = f"staff_session={session_cookie(page)['value']}"
    other = f"http://127.0.0.1:{free_port()}"

    # Another site on the same host (another port is the same site, so SameSite does not help).
    attack = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Win a prize</title></head><body>'
        f'<form method="post" action="{stack.base_url}/staff/requests/{request_id}/status">'
        '<input type="hidden" name="status" value="contacted"><button>Claim</button></form></body></html>'
    )
    server = serve(attack, int(urlsplit(other).port))
    try:
        page.goto(other + "/")
        with page.expect_response(f"**/staff/requests/{request_id}/status") as answer:
            page.get_by_role("button", name="Claim").click()
    finally:
        server.shutdown()
        server.server_close()
    assert answer.value.status == 403
    assert answer.value.request.all_headers()["origin"] == other
    assert "staff_session=" in answer.value.request.all_headers().get("cookie", "")

    for headers in ({"Origin": other}, {"Origin": "null"}, {}):
        status, _ = post(stack, f"/staff/requests/{request_id}/status", "status=contacted",
                         {"Cookie": cookie, **headers})
        assert status == 403, headers
    page.goto(f"{stack.base_url}/staff/requests/{request_id}")
    expect(page.locator(".facts")).to_contain_text("New")
    expect(page.locator(".history li")).to_have_count(0)


def test_without_javascript_sign_in_and_status_change_still_work(stack, context):
    account = new_account(stack)
    request_id, _ = new_request(stack)
    page = signed_in_page(context, stack, account, java_script_enabled=False)
    page.goto(f"{stack.base_url}/staff/requests/{request_id}")

    page.get_by_role("radio", name="Contacted").check()
    page.get_by_role("button", name="Change status").click()

    expect(page.get_by_role("status")).to_have_text("Status changed to contacted.")


def test_an_admin_erases_a_request_after_confirming(stack, context):
    admin = new_account(stack, "admin")
    request_id, fields = new_request(stack)
    page = signed_in_page(context, stack, admin)
    page.goto(f"{stack.base_url}/staff/requests/{request_id}")

    page.get_by_role("link", name="Erase this request…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase this request?")
    page.get_by_role("link", name="Cancel").click()
    assert urlsplit(page.url).path == f"/staff/requests/{request_id}"
    page.get_by_role("link", name="Erase this request…").click()
    page.get_by_role("button", name="Erase for good").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Erased request")
    expect(page.locator("main")).not_to_contain_text(fields["last_name"])
    expect(page.get_by_role("link", name="Erase this request…")).to_have_count(0)


def test_an_admin_adds_and_disables_a_staff_member_but_not_themselves(stack, context):
    admin = new_account(stack, "admin")
    page = signed_in_page(context, stack, admin)
    email = f"e2e-added-{uuid.uuid4().hex[:10]}@clinic.example"

    page.get_by_role("link", name="Staff accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff accounts")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Name").fill("Desk Newcomer")
    page.get_by_label("Role").select_option("staff")
    page.get_by_role("button", name="Save staff member").click()

    expect(page.get_by_role("status")).to_contain_text("Desk Newcomer")
    row = page.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("Active")
    own = page.get_by_role("row").filter(has_text=admin["email"])
    expect(own.get_by_role("button", name="Disable")).to_have_count(0)  # never themselves (their digest, yes)
    expect(own.get_by_role("button", name="Turn off")).to_have_count(1)
    row.get_by_role("button", name="Disable Desk Newcomer").click()
    expect(page.get_by_role("row").filter(has_text=email)).to_contain_text("Disabled")
    assert page.problems == []


# --- accessibility, phones and keyboards ----------------------------------------------------

def test_axe_finds_no_wcag_22_aa_violations_on_any_inbox_page(stack, context):
    admin = new_account(stack, "admin")
    request_id, _ = new_request(stack)
    # axe is injected as an inline script, which the pages' own policy rightly forbids.
    page = new_page(context(bypass_csp=True))
    page.goto(f"{stack.base_url}/staff/requests/{request_id}")
    assert_axe_clean(page, "sign-in page")
    code = ask_for_code(page, stack, admin["email"])
    assert_axe_clean(page, "code page")
    page.get_by_label("Sign-in code").fill("00000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_axe_clean(page, "code page with an error")
    page.get_by_label("Sign-in code").fill(code)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    assert_axe_clean(page, "request page")
    page.goto(f"{stack.base_url}/staff/")
    assert_axe_clean(page, "list page")
    page.goto(f"{stack.base_url}/staff/?status=erased&location=downtown&from=2000-01-01&to=2000-01-02")
    expect(page.locator(".empty")).to_be_visible()
    assert_axe_clean(page, "list page, nothing found")
    page.goto(f"{stack.base_url}/staff/export?location=downtown")
    assert_axe_clean(page, "export page")
    page.goto(f"{stack.base_url}/staff/requests/{request_id}/erase")
    assert_axe_clean(page, "erase confirmation")
    page.goto(f"{stack.base_url}/staff/accounts")
    assert_axe_clean(page, "accounts page")
    page.get_by_label("Name").fill("x")
    page.get_by_role("button", name="Save staff member").click()
    assert_axe_clean(page, "accounts page with errors")
    page.goto(f"{stack.base_url}/staff/requests/no-such-request")
    assert_axe_clean(page, "not found page")


def test_fits_a_360px_phone_and_the_screenshots_are_saved(stack, context):
    account = new_account(stack)
    request_id, _ = new_request(stack, first_name="Zoë", last_name="Okonkwo-Lindqvist", preferred_contact="text",
                                sms_consent=True, insurance="Acme Health PPO")
    page = signed_in_page(context, stack, account, viewport=PHONE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{stack.base_url}/staff/?location=northside")
    expect(page.locator("table.requests tbody tr").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Stacked as cards, and still a table to a screen reader.
    expect(page.get_by_role("table").get_by_role("columnheader")).to_have_count(5)
    height = min(page.evaluate("document.documentElement.scrollHeight"), 1600)  # the top few cards
    page.screenshot(path=str(SCREENSHOTS / "inbox-list-phone.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": PHONE["width"], "height": height})

    page.goto(f"{stack.base_url}/staff/requests/{request_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "inbox-request-phone.png"), full_page=True)
    for name in ("inbox-list-phone.png", "inbox-request-phone.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000
    assert page.problems == []


def test_keyboard_alone_signs_in_and_changes_a_status(stack, context):
    account = new_account(stack)
    request_id, _ = new_request(stack)
    page = new_page(context(viewport=PHONE))
    page.goto(f"{stack.base_url}/staff/requests/{request_id}")
    visited = []

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    tab_to(page, "email", visited)
    before = len(stack.sent_mail(account["email"]))
    page.keyboard.type(account["email"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    tab_to(page, "code", visited)
    page.keyboard.type(stack.sign_in_code(account["email"], after=before))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Enter your sign-in code")
    assert urlsplit(page.url).path == f"/staff/requests/{request_id}"

    tab_to(page, "status-contacted", visited, limit=60)
    page.keyboard.press("Space")
    tab_to(page, "note", visited)
    page.keyboard.type("Called from the keyboard.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Change status")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("Status changed to contacted.")
    expect(page.locator(".history li")).to_contain_text("Called from the keyboard.")
    assert page.problems == []


def test_a_stranger_s_flood_neither_stops_nor_voids_the_codes_of_a_browser_that_signed_in_before(stack, context):
    """The review's lock-out, replayed: a stranger who knows the address asks for codes from fresh browsers and
    guesses in each; the staff member's own browser, which signed in before, still gets its code at once."""
    account = new_account(stack)
    page = signed_in_page(context, stack, account)  # this browser now holds its signed device entry
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    for _ in range(6):
        stranger = requests.Session()
        stranger.headers["Origin"] = stack.base_url
        assert stranger.post(stack.base_url + "/staff/sign-in", data={"email": account["email"]},
                             timeout=10).status_code == 200
        for _ in range(5):
            guessed = stranger.post(stack.base_url + "/staff/sign-in/code",
                                    data={"email": account["email"], "code": "12345678"}, timeout=10)
            assert guessed.status_code == 401
    # The stranger's browsers wait for the address's next e-mail, two minutes after her first one; give the queue's
    # consumer time to handle their requests (it polls at least once a second).
    time.sleep(3)
    assert len(stack.sent_mail(account["email"])) == 1
    sign_in(page, stack, account)  # her code comes at once, in an e-mail of its own
    page.goto(stack.base_url + "/staff/")
    expect(page.get_by_text(f"Signed in as {account['name']}")).to_be_visible()


@pytest.mark.parametrize("zero", ["\u0660", "\u06f0", "\uff10"])  # Arabic-Indic, Persian, full-width
def test_a_code_typed_in_other_digits_signs_in_from_the_browser(stack, context, zero):
    """A phone keyboard set to Arabic, Persian or full-width types the code in its own digits: the page lets
    the browser send them (no ASCII-only pattern), and the server reads them."""
    account = new_account(stack)
    page = new_page(context())
    page.goto(stack.base_url + "/staff/")
    code = ask_for_code(page, stack, account["email"])
    page.get_by_label("Sign-in code").fill("".join(chr(ord(zero) + int(digit)) for digit in code))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {account['name']}")).to_be_visible()


def test_the_list_shows_waiting_and_overdue_in_words_and_the_screenshot_is_saved(stack, context):
    late, _ = new_request(stack, first_name="Amara", last_name="Okafor", location="downtown")
    new_request(stack, first_name="Tomás", last_name="Quintero", location="downtown", reason="back_pain")
    def ago(minutes):
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - minutes * 60))

    # As if it came in 9 h 20 min ago and was due 1 h 15 min ago.
    stack.client("dynamodb").update_item(
        TableName=stack.settings_env["APPOINTMENTS_TABLE"], Key={"pk": {"S": f"APPT#{late}"}, "sk": {"S": "APPT"}},
        UpdateExpression="SET due_at = :due, created_at = :created",
        ExpressionAttributeValues={":due": {"S": ago(75)}, ":created": {"S": ago(560)}})
    page = signed_in_page(context, stack, new_account(stack), viewport=DESKTOP, bypass_csp=True)

    page.goto(f"{stack.base_url}/staff/?location=downtown&status=new")

    late_row = page.locator("table.requests tbody tr").filter(has=page.locator(f'a[href$="/requests/{late}"]'))
    expect(late_row).to_contain_text("waiting 9 h 20 min")
    expect(late_row).to_contain_text("Overdue by 1 h 15 min")
    expect(page.locator(".waiting-counts")).to_contain_text(re.compile(r"\d+ new requests?, \d+ of them overdue"))
    assert_axe_clean(page, "the list with waiting and overdue requests")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "inbox-overdue.png"), full_page=False)

    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"overdue=true"))
    expect(late_row).to_have_count(1)
    rows = page.locator("table.requests tbody tr")
    assert all("Overdue by" in text for text in rows.all_inner_texts())
    assert page.problems == []


def test_the_search_box_finds_a_request_by_phone_without_putting_it_in_the_url(stack, context):
    request_id, _ = new_request(stack, phone="(917) 555-0123", first_name="Ingrid", last_name="Bergqvist")
    page = signed_in_page(context, stack, new_account(stack), viewport=PHONE)

    page.get_by_label("Find a request").fill("917 555 0123")
    page.get_by_role("button", name="Search").click()

    expect(page.locator("table.requests")).to_contain_text("Ingrid Bergqvist")
    expect(page.locator(f'a[href$="/requests/{request_id}"]')).to_have_count(1)
    assert "0123" not in page.url and "917" not in page.url
    assert page.problems == []
