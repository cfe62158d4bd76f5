"""The form page in a real browser: headless Chromium (Debian's) driven by Playwright,
against the local stack exactly as `make run` starts it.

`make browser` installs Chromium and axe-core (npm); `make test` runs it first.
"""
import json
import re
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect, sync_playwright

from chalicelib.core.config import Settings
from tests.conftest import remember_personal
from tests.e2e.conftest import SCREENSHOTS, free_port
from tools.resources import ROOT

pytestmark = pytest.mark.e2e
expect.set_options(timeout=15_000)  # two cores shared with the whole stack: be patient, not flaky

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT = SCREENSHOTS / "form-phone.png"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
EMBED_ORIGIN_PORT = 8080
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# A person takes longer than the form's time trap (MIN_FILL_SECONDS, 3 under make run) to fill it in.
HUMAN_FILL_SECONDS = 4.5


# --- the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def playwright():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium package).")
    with sync_playwright() as playwright:
        yield playwright


def launch(playwright, *args):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + list(args))


@pytest.fixture(scope="module")
def browser(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def open_page(browser):
    """Opens a page in a fresh browser context; `page.problems` collects script and CSP errors."""
    contexts = []

    def open_(url, browser=browser, viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
        page.on("console", lambda message: _console_problem(page, message))
        page.goto(url)
        page.opened_at = time.monotonic()
        return page

    yield open_
    for context in contexts:
        context.close()


def _console_problem(page, message):
    # A 4xx/5xx answer to fetch is logged by Chromium as "Failed to load resource": expected here.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        page.problems.append(message.text)


# --- filling the form and reading what was stored ------------------------------------------

def patient(**overrides):
    fields = {
        "first_name": "Zoë",
        "last_name": "O'Brien-Lindqvist",
        "email": "zoe.obrien@example.com",
        "phone": "(212) 555-0142",
        "location": "northside",
        "message": f"Left knee hurts on stairs ({uuid.uuid4().hex[:12]})",
        "contact_consent": True,
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not ...}


def fill(page, fields, human=True):
    """Fills the form as a person would: typing short answers, pasting long ones, never faster than a
    person. `human=False` fills it as a script does: all at once."""
    remember_personal(fields)
    for name, value in fields.items():
        control = page.locator(f'[name="{name}"]')
        if name == "preferred_contact":
            page.check(f"#preferred_contact-{value}")
        elif isinstance(value, bool):
            control.set_checked(value)
        elif control.evaluate("element => element.tagName") == "SELECT":
            control.select_option(value)
        elif human and len(value) <= 60 and control.get_attribute("type") != "date":
            control.clear()
            control.press_sequentially(value, delay=15)
        else:
            control.fill(value)
    if human:
        at_human_pace(page)


def at_human_pace(page):
    """Waits until a person could have filled the form in since the page was opened."""
    page.wait_for_timeout(max(0.0, HUMAN_FILL_SECONDS - (time.monotonic() - page.opened_at)) * 1000)


def stored_with_message(stack, message):
    """Every stored request whose message is `message` (a scan: in a test only, never in the service)."""
    client = stack.client("dynamodb")
    items, start = [], None
    while True:
        page = client.scan(
            TableName=stack.settings_env["APPOINTMENTS_TABLE"],
            FilterExpression="#fields.#message = :message",
            ExpressionAttributeNames={"#fields": "fields", "#message": "message"},
            ExpressionAttributeValues={":message": {"S": message}},
            ConsistentRead=True,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def plain(item):
    from boto3.dynamodb.types import TypeDeserializer

    return {name: TypeDeserializer().deserialize(value) for name, value in item.items()}


def submit_and_wait_for_answer(page, status=None):
    with page.expect_response(lambda r: r.url.endswith("/appointments") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Send request").click()
    if status is not None:
        assert answer.value.status == status
    return answer.value


def clinic_today(stack):
    return datetime.now(ZoneInfo(stack.settings_env["CLINIC_TIMEZONE"])).date()


# --- the page as served --------------------------------------------------------------------

def test_every_field_is_labelled_with_the_right_type_and_autocomplete(stack, open_page):
    page = open_page(stack.base_url + "/")

    expect(page).to_have_title("Request an Appointment")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request an Appointment")
    labelled = {
        "first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone",
        "location": "Clinic location", "new_patient": "new patient", "reason": "Reason for visit",
        "preferred_date": "Preferred date", "preferred_time": "Preferred time", "has_referral": "referral",
        "insurance": "Insurance", "message": "Message", "contact_consent": "contact me",
        "preferred_contact-phone": "Phone call", "preferred_contact-email": "Email",
        "preferred_contact-text": "Text message",
    }
    for element_id, name in labelled.items():
        expect(page.locator(f"#{element_id}")).to_have_accessible_name(re.compile(re.escape(name)))
    expect(page.get_by_role("group", name="How should we contact you?")).to_be_visible()

    for name, kind, autocomplete in [
        ("first_name", "text", "given-name"), ("last_name", "text", "family-name"),
        ("email", "email", "email"), ("phone", "tel", "tel"), ("preferred_date", "date", None),
    ]:
        expect(page.locator(f"#{name}")).to_have_attribute("type", kind)
        if autocomplete:
            expect(page.locator(f"#{name}")).to_have_attribute("autocomplete", autocomplete)
    for name in ("first_name", "last_name", "email", "phone", "location", "contact_consent"):
        expect(page.locator(f"#{name}")).to_have_attribute("required", "")
        expect(page.locator(f'label[for="{name}"]')).to_contain_text("(required)")
    for name in ("reason", "preferred_date", "preferred_time", "insurance", "message"):
        expect(page.locator(f"#{name}")).not_to_have_attribute("required", "")

    locations = Settings.from_env(stack.settings_env).locations  # names, whether given plainly or with a phone
    options = page.locator("#location option").evaluate_all("os => os.map(o => [o.value, o.textContent])")
    assert options[1:] == [[key, name] for key, name in locations.items()]
    assert page.locator("#reason option").evaluate_all("os => os.map(o => o.value)")[1:] == [
        "back_pain", "neck_pain", "shoulder", "knee", "hip", "sports_injury",
        "post_surgery", "work_injury", "auto_accident", "other",
    ]
    today = clinic_today(stack)
    expect(page.locator("#preferred_date")).to_have_attribute("min", today.isoformat())
    expect(page.locator("#preferred_date")).to_have_attribute("max", (today + timedelta(days=180)).isoformat())
    expect(page.locator("form")).to_contain_text(f"Consent wording version {stack.settings_env['CONSENT_VERSION'].split(',')[0]}")
    token = page.locator('input[name="form_token"]')
    expect(token).to_have_attribute("type", "hidden")
    assert re.fullmatch(r"[A-Za-z0-9_-]{54}", token.input_value())
    assert page.problems == []


def test_text_message_consent_appears_only_when_text_is_chosen(stack, open_page):
    page = open_page(stack.base_url + "/")
    sms = page.get_by_label("I agree to receive text messages")

    expect(sms).to_be_hidden()
    page.get_by_role("radio", name="Text message").check()
    expect(sms).to_be_visible()
    expect(sms).to_have_accessible_description(re.compile("Reply STOP.*HELP"))
    page.get_by_role("radio", name="Phone call").check()
    expect(sms).to_be_hidden()


def test_the_honeypot_is_hidden_from_people_and_screen_readers(stack, open_page):
    page = open_page(stack.base_url + "/")
    honeypot = page.locator('input[name="website"]')

    box = honeypot.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0
    expect(honeypot).to_have_attribute("tabindex", "-1")
    expect(page.locator(".hp")).to_have_attribute("aria-hidden", "true")
    assert "Leave this field empty" not in page.locator("body").aria_snapshot()
    assert "website" not in page.locator("body").aria_snapshot()


def test_the_page_answers_with_a_content_security_policy(stack):
    with urllib.request.urlopen(stack.base_url + "/", timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
    thank_you = urlsplit(stack.settings_env["THANK_YOU_URL"])
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    assert f"form-action 'self' {thank_you.scheme}://{thank_you.netloc};" in policy


# --- sending it ----------------------------------------------------------------------------

def test_submit_with_javascript_shows_success_and_stores_the_request(stack, open_page):
    page = open_page(stack.base_url + "/")
    preferred_date = (clinic_today(stack) + timedelta(days=14)).isoformat()
    fields = patient(
        preferred_contact="text", sms_consent=True, new_patient=True, reason="knee",
        preferred_date=preferred_date, preferred_time="morning", has_referral=True, insurance="Acme Health PPO",
    )
    fill(page, fields)
    token = page.locator('input[name="form_token"]').input_value()

    with page.expect_request("**/appointments") as sent:
        answer = submit_and_wait_for_answer(page, 201)

    success = page.locator(".form-success")
    expect(success).to_be_visible()
    expect(success).to_be_focused()
    expect(success).to_contain_text("your request has been sent")
    expect(success).to_contain_text(re.compile(r"by \w+day, \w+ \d+ at \d+:\d\d\s?[AP]M"))  # the due time, in words
    expect(success.get_by_role("link", name="Open your request’s page")).to_have_attribute("href", answer.json()["page"])
    request_id = answer.json()["id"]
    expect(success).to_contain_text(request_id)
    expect(page.locator("form")).to_be_hidden()
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,128}", sent.value.headers["idempotency-key"])
    assert sent.value.post_data_json["form_token"] == token
    assert "application/json" in sent.value.headers["accept"]

    [item] = stored_with_message(stack, fields["message"])
    stored = plain(item)
    assert stored["id"] == request_id
    assert stored["status"] == "new"
    assert stored["fields"] == {
        "first_name": "Zoë", "last_name": "O'Brien-Lindqvist", "email": "zoe.obrien@example.com",
        "phone": "+12125550142", "location": "northside", "preferred_contact": "text",
        "new_patient": True, "reason": "knee", "preferred_date": preferred_date, "preferred_time": "morning",
        "has_referral": True, "insurance": "Acme Health PPO", "message": fields["message"],
        "contact_consent": True, "sms_consent": True,
    }
    assert stored["consent"]["contact"]["version"] == stack.settings_env["CONSENT_VERSION"].split(",")[0]
    assert page.problems == []


def test_a_message_of_2000_chinese_characters_is_sent_and_stored(stack, open_page):
    page = open_page(stack.base_url + "/")
    message = ("膝盖上楼梯时疼痛，请在下午给我打电话。" * 120)[:1988] + uuid.uuid4().hex[:12]
    fill(page, patient(first_name="李", last_name="小龙", message=message))

    with page.expect_request("**/appointments") as sent:
        submit_and_wait_for_answer(page, 201)

    assert sent.value.headers["content-type"] == "application/json"
    assert len(message) == 2000 and len(sent.value.post_data_buffer) < 16 * 1024
    [item] = stored_with_message(stack, message)
    assert plain(item)["fields"]["first_name"] == "李"
    assert page.problems == []


def test_invalid_email_and_missing_consent_are_shown_next_to_those_fields(stack, open_page):
    page = open_page(stack.base_url + "/")
    fields = patient(email="zoe.obrien@example", contact_consent=False)
    fill(page, fields)

    answer = submit_and_wait_for_answer(page, 422)

    assert set(answer.json()["fields"]) == {"email", "contact_consent"}
    for name in ("email", "contact_consent"):
        field = page.locator(f'[data-field="{name}"]')
        error = field.locator(".field-error")
        expect(error).to_be_visible()
        expect(error).to_have_text(answer.json()["fields"][name])
        control = page.locator(f"#{name}")
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(control).to_have_accessible_description(re.compile(re.escape(answer.json()["fields"][name])))
    expect(page.locator("#email")).to_be_focused()
    expect(page.locator(".field-error")).to_have_count(2)
    expect(page.locator(".error-summary")).to_contain_text("There are 2 problems")
    expect(page.locator(".error-summary a")).to_have_count(2)
    expect(page.locator("#first_name")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Send request")).to_be_enabled()
    assert stored_with_message(stack, fields["message"]) == []

    # Fixing them and sending again works, with the errors gone.
    fill(page, {"email": "zoe.obrien@example.com", "contact_consent": True})
    submit_and_wait_for_answer(page, 201)
    expect(page.locator(".form-success")).to_be_visible()
    assert len(stored_with_message(stack, fields["message"])) == 1
    assert page.problems == []


def test_double_click_on_submit_is_one_request(stack, open_page):
    page = open_page(stack.base_url + "/")
    fields = patient()
    fill(page, fields)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)

    page.get_by_role("button", name="Send request").dblclick()

    expect(page.locator(".form-success")).to_be_visible()
    assert len(posts) == 1
    assert len(stored_with_message(stack, fields["message"])) == 1


def test_a_failed_send_shows_a_friendly_retry_message_and_keeps_the_key(stack, open_page):
    page = open_page(stack.base_url + "/")
    fields = patient()
    fill(page, fields)
    keys, tokens, answers = [], [], iter(["network failure", "503", "the real service"])

    def flaky(route):
        keys.append(route.request.headers["idempotency-key"])
        tokens.append(route.request.post_data_json["form_token"])
        what = next(answers)
        if what == "network failure":
            route.abort("internetdisconnected")
        elif what == "503":
            body = {"error": "service_unavailable", "message": "We could not save your request just now."}
            route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json",
                          body=json.dumps(body))
        else:
            route.continue_()

    page.route("**/appointments", flaky)
    button = page.get_by_role("button", name="Send request")
    status = page.locator("#form-status")

    button.click()
    expect(status).to_contain_text("could not reach the clinic")
    expect(button).to_be_enabled()
    expect(button).to_be_focused()

    button.click()
    expect(status).to_contain_text("could not save your request just now")
    expect(status).to_contain_text("try again")

    page.keyboard.press("Enter")
    expect(page.locator(".form-success")).to_be_visible()
    assert len(keys) == 3 and len(set(keys)) == 1
    assert set(tokens) == {page.locator('input[name="form_token"]').input_value()}
    assert len(stored_with_message(stack, fields["message"])) == 1


@pytest.fixture
def thank_you_browser(playwright, stack):
    """A browser for which the dev stage's THANK_YOU_URL origin is this stack.

    The dev stage redirects to http://127.0.0.1:8000/thanks (what `make run` serves); the stack
    under test runs on a free port. Chromium's --host-rules sends connections for that origin
    to this stack, so the browser follows the real 303 to the real URL and gets the real page.
    (Playwright's request routing cannot do this: it never sees the target of a redirect.)
    """
    thank_you = urlsplit(stack.settings_env["THANK_YOU_URL"])
    rule = f"--host-rules=MAP {thank_you.hostname}:{thank_you.port or 80} 127.0.0.1:{stack.api_port}"
    browser = launch(playwright, rule)
    yield browser
    browser.close()


def test_without_javascript_the_browser_lands_on_the_thank_you_page(stack, open_page, thank_you_browser):
    page = open_page(stack.base_url + "/", browser=thank_you_browser, java_script_enabled=False)
    fields = patient()
    fill(page, fields)

    # The patient's language goes along, and the patient's page token (a signed id, nothing they typed).
    thanks = re.compile(re.escape(stack.settings_env["THANK_YOU_URL"] + "?lang=en&ref=") + r"[A-Za-z0-9_-]{52}$")
    with page.expect_navigation(url=thanks):
        answer = submit_and_wait_for_answer(page, 303)

    assert thanks.match(answer.headers["location"])
    sent = answer.request.all_headers()
    assert sent["content-type"] == "application/x-www-form-urlencoded"  # a plain form post, no script
    assert "idempotency-key" not in sent
    assert thanks.match(page.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator("body")).to_contain_text("We have received your appointment request")
    expect(page.locator("body")).to_contain_text(re.compile(r"by \w+day \d+ \w+, \d+:\d\d [AP]M, to arrange"))
    expect(page.get_by_role("link", name="Open your request’s page")).to_have_attribute(
        "href", re.compile(re.escape(stack.base_url + "/r/") + r"[A-Za-z0-9_-]{52}$"))
    assert len(stored_with_message(stack, fields["message"])) == 1
    assert page.problems == []


def test_without_javascript_a_double_click_is_one_request(stack, open_page, thank_you_browser):
    page = open_page(stack.base_url + "/", browser=thank_you_browser, java_script_enabled=False)
    fields = patient()
    fill(page, fields)

    page.get_by_role("button", name="Send request").dblclick()

    # The second submission cancels the first navigation (the first post may or may not have
    # reached the service), so wait for where the browser ends up rather than for one navigation.
    expect(page).to_have_url(re.compile(re.escape(stack.settings_env["THANK_YOU_URL"] + "?lang=en&ref=")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert len(stored_with_message(stack, fields["message"])) == 1


# --- the form on another site --------------------------------------------------------------

def embedded_page(api):
    """The recipe in docs/form.md: the <form> copied onto another page, posting to the API's URL."""
    with urllib.request.urlopen(api + "/", timeout=10) as response:
        served = response.read().decode()
    form = re.search(r"<form .*?</form>", served, re.S).group(0)
    form = form.replace('action="appointments"', f'action="{api}/appointments"')
    form = re.sub(r'\s*<input type="hidden" name="form_token"[^>]*>', "", form)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Riverside Physio – Book a visit</title>"
        f'<link rel="stylesheet" href="{api}/form.css"><script src="{api}/form.js" defer></script>'
        f'</head><body><main class="page"><h1>Book a visit</h1>{form}</main></body></html>'
    )


class _OnePage(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        if self.path != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def serve(page, port):
    handler = type("Page", (_OnePage,), {"body": page.encode()})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site_on_allowed_origin(stack):
    origin = f"http://127.0.0.1:{EMBED_ORIGIN_PORT}"
    assert origin in stack.settings_env["ALLOWED_ORIGINS"].split(",")
    try:
        server = serve(embedded_page(stack.base_url), EMBED_ORIGIN_PORT)
    except OSError as error:
        pytest.fail(
            f"127.0.0.1:{EMBED_ORIGIN_PORT} is taken ({error}). The cross-origin test needs it: {origin} is "
            "the other site the dev stage allows in ALLOWED_ORIGINS. Stop what listens there and run again."
        )
    yield origin
    server.shutdown()
    server.server_close()


@pytest.fixture
def site_on_unlisted_origin(stack):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    assert origin not in stack.settings_env["ALLOWED_ORIGINS"].split(",")
    server = serve(embedded_page(stack.base_url), port)
    yield origin
    server.shutdown()
    server.server_close()


def test_the_form_on_an_allowed_origin_submits_across_origins(stack, open_page, site_on_allowed_origin):
    page = open_page(site_on_allowed_origin + "/")
    fields = patient()
    fill(page, fields)

    answer = submit_and_wait_for_answer(page, 201)

    assert answer.request.all_headers()["origin"] == site_on_allowed_origin
    assert answer.all_headers()["access-control-allow-origin"] == site_on_allowed_origin
    expect(page.locator(".form-success")).to_be_visible()
    [item] = stored_with_message(stack, fields["message"])
    assert plain(item)["id"] == answer.json()["id"]
    assert page.problems == []


def test_the_form_on_an_unlisted_origin_is_blocked_by_the_browser(stack, open_page, site_on_unlisted_origin):
    page = open_page(site_on_unlisted_origin + "/")
    fields = patient()
    fill(page, fields)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.url.endswith("/appointments") else None)

    with page.expect_console_message(lambda message: "blocked by CORS policy" in message.text):
        page.get_by_role("button", name="Send request").click()

    expect(page.locator("#form-status")).to_contain_text("could not reach the clinic")
    expect(page.locator(".form-success")).to_have_count(0)
    assert [r.method for r in posts] == ["POST"]
    assert posts[0].failure is not None
    assert stored_with_message(stack, fields["message"]) == []


# --- accessibility, phones and keyboards ---------------------------------------------------

def axe_violations(page, tags=WCAG_22_AA):
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        tags,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(f"    {n['target']}: {n['failureSummary']}"
                                                            for n in v["nodes"])
        for v in result["violations"]
    ]


def test_axe_finds_no_wcag_21_aa_violations(stack, open_page):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser` (npm ci installs axe-core).")
    # axe is injected as an inline script, which the page's own policy rightly forbids.
    page = open_page(stack.base_url + "/", bypass_csp=True)
    assert axe_violations(page) == [], "empty form:\n" + "\n".join(axe_violations(page))

    page.get_by_role("radio", name="Text message").check()
    submit_and_wait_for_answer(page, 422)
    expect(page.locator(".error-summary")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], "with errors shown:\n" + "\n".join(violations)

    page.goto(stack.base_url + "/thanks")
    violations = axe_violations(page)
    assert violations == [], "thank-you page:\n" + "\n".join(violations)


def test_fits_a_360px_phone_screen_and_the_screenshot_is_saved(stack, open_page):
    page = open_page(stack.base_url + "/", viewport=PHONE)

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000

    page.get_by_role("radio", name="Text message").check()
    submit_and_wait_for_answer(page, 422)
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.problems == []


def tab_to(page, element_id, visited, limit=40):
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.name || ''")
        visited.append(focused)
        if focused == element_id:
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"#{element_id} shows no focus outline"
            return
    raise AssertionError(f"Tab never reached #{element_id}; went through {visited}")


def test_keyboard_alone_fills_and_sends_the_form(stack, open_page):
    page = open_page(stack.base_url + "/", viewport=PHONE)
    fields = patient(location="lakeview")
    remember_personal(fields)
    visited = []

    for name in ("first_name", "last_name", "email", "phone"):
        tab_to(page, name, visited)
        page.keyboard.type(fields[name])
    tab_to(page, "preferred_contact-phone", visited)
    page.keyboard.press("ArrowRight")  # radio group: arrows move the choice
    page.keyboard.press("ArrowRight")
    expect(page.locator("#preferred_contact-text")).to_be_checked()
    tab_to(page, "sms_consent", visited)
    page.keyboard.press("Space")
    tab_to(page, "location", visited)
    page.keyboard.type("Lakeview")
    tab_to(page, "message", visited)
    page.keyboard.type(fields["message"])
    tab_to(page, "contact_consent", visited)
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send request")).to_be_focused()
    at_human_pace(page)
    with page.expect_response("**/appointments") as answer:
        page.keyboard.press("Enter")

    assert answer.value.status == 201
    expect(page.locator(".form-success")).to_be_focused()
    assert "website" not in visited
    [item] = stored_with_message(stack, fields["message"])
    stored = plain(item)["fields"]
    assert (stored["location"], stored["preferred_contact"], stored["sms_consent"]) == ("lakeview", "text", True)
    assert page.problems == []
