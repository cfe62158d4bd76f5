"""The patient's page in Chromium against the running stack, opened from the link in the confirmation e-mail: each
answer with JavaScript on and off, in English and Spanish, at 360 px, axe-clean; the answer stored once and told
to staff on SNS; the README's screenshots (`UPDATE_SCREENSHOTS=1 ... -k screenshot`)."""
import json
import re
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.conftest import valid_fields
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_alerts_http import collect, subscribe_queue
from tests.e2e.test_confirmations_http import fresh_address, mail_to
from tests.e2e.test_docs_examples import staff_token
from tests.e2e.test_form_browser import PHONE, axe_violations, browser, playwright  # noqa: F401 (fixtures)
from tests.e2e.test_inbox_browser import context, new_page  # noqa: F401 (fixtures)
from tests.e2e.test_intake_http import http, post_json, stored

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {"received": "We have received your request.", "booked": "Your visit is booked for",
           "recorded": "we have passed your answer on to the clinic",
           "withdrawn": "I no longer need this", "not_me": "I did not send this", "confirmed": "I will be there",
           "cancelled": "I need to cancel", "change_requested": "I need another time"},
    "es": {"received": "Hemos recibido su solicitud.", "booked": "Su cita está reservada para",
           "recorded": "hemos transmitido su respuesta a la clínica",
           "withdrawn": "Ya no lo necesito", "not_me": "Yo no envié esto", "confirmed": "Allí estaré",
           "cancelled": "Necesito cancelar", "change_requested": "Necesito otra hora"},
}
# answer -> (status after, the event staff hear, or None)
AFTER = {"withdrawn": ("closed", "request.withdrawn"), "not_me": ("suspected_spam", None),
         "confirmed": ("scheduled", "visit.confirmed"), "cancelled": ("cancelled", "visit.cancelled"),
         "change_requested": ("scheduled", "visit.change_requested")}


def new_request(stack, language):
    email = fresh_address()
    fields = valid_fields(email=email, language=language, message=f"Patient page e2e {uuid.uuid4().hex[:10]}")
    status, _, body = post_json(stack, fields)
    assert status == 201, body
    return json.loads(body)["id"], email


def page_link(stack, email):
    """The patient's page link, as the confirmation e-mail gives it."""
    (mail,) = mail_to(stack, email)
    text = mail["Content"]["Simple"]["Body"]["Text"]["Data"]
    return re.search(r"https?://\S+/r/[A-Za-z0-9_-]+", text).group(0)


def book(stack, request_id):
    tomorrow = (datetime.now(ZoneInfo(stack.settings_env["CLINIC_TIMEZONE"])) + timedelta(days=1)).date()
    body = json.dumps({"status": "scheduled", "visit_at": f"{tomorrow}T10:00"}).encode()
    status, _, answer = http(stack, "PATCH", f"/staff/appointments/{request_id}", body, {
        "Authorization": f"Bearer {staff_token(stack, 'staff')}", "Content-Type": "application/json"})
    assert status == 200, answer


def alerted(stack, request_id, seconds=20):
    """Wait until the request's staff alert has gone out (the alert function marks it with alerted_at)."""
    deadline = time.monotonic() + seconds
    while "alerted_at" not in stored(stack, request_id) and time.monotonic() < deadline:
        time.sleep(0.2)


def open_patient_page(context, url, javascript):
    # axe is injected as a script, which the page's own policy rightly forbids: bypass_csp for it only.
    page = new_page(context(viewport=PHONE, java_script_enabled=javascript, bypass_csp=javascript))
    page.goto(url)
    return page


def assert_fits_and_axe_clean(page, javascript, what):
    if javascript:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        violations = axe_violations(page)
        assert violations == [], f"{what}:\n" + "\n".join(violations)


@pytest.mark.parametrize("javascript", [True, False], ids=["js on", "js off"])
@pytest.mark.parametrize("answer", list(AFTER))
def test_each_answer_from_the_e_mail_link_is_recorded_once_and_told_to_staff(stack, context, answer, javascript):
    language = "en" if javascript else "es"  # each answer in both languages, across the two runs
    words = WORDS[language]
    request_id, email = new_request(stack, language)
    url = page_link(stack, email)
    visit = answer in ("confirmed", "cancelled", "change_requested")
    if visit:
        book(stack, request_id)
    alerted(stack, request_id)  # its own alert gone first: the queue below is to hear of the answer alone
    queue = subscribe_queue(stack)

    page = open_patient_page(context, url, javascript)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("main")).to_contain_text(words["booked"] if visit else words["received"])
    assert "Zoë" not in page.content() and email not in page.content()
    assert_fits_and_axe_clean(page, javascript, f"the page before {answer}")

    page.get_by_role("button", name=words[answer]).click()

    expect(page.get_by_role("status")).to_contain_text(words["recorded"])
    expect(page.get_by_role("button", name=words[answer])).to_have_count(0)
    assert_fits_and_axe_clean(page, javascript, f"the page after {answer}")
    item = stored(stack, request_id)
    status, event = AFTER[answer]
    assert item["status"]["S"] == status
    assert item["patient_answer"]["M"]["answer"]["S"] == answer
    if event:
        alerts = collect(stack, queue, lambda got: any(request_id in m["Message"] for m in got))
        mine = [m for m in alerts if request_id in m["Message"]]
        assert [m["MessageAttributes"]["event"]["Value"] for m in mine] == [event]
        assert "Zoë" not in mine[0]["Subject"] + mine[0]["Message"] and email not in mine[0]["Message"]
    assert page.problems == []


def test_a_forged_link_says_it_no_longer_works_in_both_languages(stack, context):
    page = open_patient_page(context, stack.base_url + "/r/" + "A" * 52, True)
    expect(page.locator("main")).to_contain_text("This link no longer works")
    expect(page.locator("main")).to_contain_text("Este enlace ya no funciona")
    assert_fits_and_axe_clean(page, True, "the dead link's page")


@pytest.mark.parametrize("language, name", [("en", "patient-page-phone.png"), ("es", "patient-page-spanish-phone.png")])
def test_the_booked_page_screenshot_is_saved(stack, context, language, name):
    request_id, email = new_request(stack, language)
    url = page_link(stack, email)
    book(stack, request_id)
    page = open_patient_page(context, url, True)
    expect(page.locator("main")).to_contain_text(WORDS[language]["booked"])
    assert_fits_and_axe_clean(page, True, "the booked page")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = min(page.evaluate("document.documentElement.scrollHeight"), 1400)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True,
                    clip={"x": 0, "y": 0, "width": PHONE["width"], "height": height})
