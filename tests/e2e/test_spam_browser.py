"""People and bots at the form in Chromium, with JavaScript on and off, against the running stack.

A person who takes the time a person takes is stored as `new`, alerted and confirmed. A script
that posts at once, forges a token or reuses one gets the very answer a person gets, and is kept
as `suspected_spam` with its reasons: nobody is paged and nothing is mailed.
"""
import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import valid_fields
from tests.e2e.test_alerts_http import collect, subscribe_queue
from tests.e2e.test_confirmations_http import fresh_address, mail_to
from tests.e2e.test_form_browser import (  # noqa: F401 (fixtures)
    browser, fill, open_page, patient, plain, playwright, stored_with_message, submit_and_wait_for_answer,
    thank_you_browser,
)
from tests.e2e.test_intake_http import post_json

pytestmark = pytest.mark.e2e

FORGED = "A" * 54  # the right length and alphabet, the wrong signature


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def javascript(request):
    return request.param


@pytest.fixture
def form(stack, open_page, thank_you_browser, javascript):
    """Opens the form page, with or without JavaScript."""
    def open_():
        if javascript:
            return open_page(stack.base_url + "/")
        return open_page(stack.base_url + "/", browser=thank_you_browser, java_script_enabled=False)
    return open_


def send(stack, page, javascript):
    """Sends the form; asserts the answer a person gets (success panel, or the thank-you page)."""
    if javascript:
        answer = submit_and_wait_for_answer(page, 201)
        expect(page.locator(".form-success")).to_contain_text(answer.json()["id"])
    else:
        with page.expect_navigation(url=re.compile(re.escape(stack.settings_env["THANK_YOU_URL"] + "?lang=en&ref="))):
            submit_and_wait_for_answer(page, 303)
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")


def person(**overrides):
    return patient(email=fresh_address(), message=f"Sore shoulder since the weekend ({uuid.uuid4().hex[:12]})",
                   **overrides)


def the_request(stack, fields):
    [item] = stored_with_message(stack, fields["message"])
    return plain(item)


def set_token(page, token):
    page.locator('input[name="form_token"]').evaluate("(field, token) => { field.value = token; }", token)


def everything_sent_before(stack, queue):
    """The alerts on `queue` once every request sent so far has been alerted and confirmed.

    The stream is read in order: once a request sent now is alerted and confirmed, every one
    sent before it has been handled by both consumers."""
    address = fresh_address()
    status, _, body = post_json(stack, valid_fields(email=address, message=f"barrier {uuid.uuid4()}"))
    assert status == 201
    reference = json.loads(body)["id"]
    assert len(mail_to(stack, address)) == 1, "the stream driver handled nothing new"
    return collect(stack, queue, lambda got: any(reference in m["Message"] for m in got))


def assert_quarantined(stack, queue, fields, reasons):
    request = the_request(stack, fields)
    assert request["status"] == "suspected_spam"
    assert request["spam_reasons"] == reasons
    alerts = everything_sent_before(stack, queue)
    assert not any(request["id"] in alert["Message"] for alert in alerts)
    assert stack.sent_mail(to=fields["email"]) == []


def test_a_person_at_a_human_pace_is_accepted_alerted_and_confirmed(stack, form, javascript):
    queue = subscribe_queue(stack)
    page = form()
    fields = person()
    fill(page, fields)

    send(stack, page, javascript)

    request = the_request(stack, fields)
    assert request["status"] == "new"
    assert "spam_reasons" not in request
    assert len(mail_to(stack, fields["email"])) == 1
    alerts = collect(stack, queue, lambda got: any(request["id"] in m["Message"] for m in got))
    assert sum(request["id"] in alert["Message"] for alert in alerts) == 1
    assert page.problems == []


def test_a_script_that_sends_at_once_is_quarantined_silently(stack, form, javascript):
    queue = subscribe_queue(stack)
    page = form()
    fields = person()
    fill(page, fields, human=False)

    send(stack, page, javascript)

    assert_quarantined(stack, queue, fields, ["too_fast"])


def test_a_forged_token_is_quarantined_silently(stack, form, javascript):
    queue = subscribe_queue(stack)
    page = form()
    set_token(page, FORGED)
    fields = person()
    fill(page, fields)

    send(stack, page, javascript)

    assert_quarantined(stack, queue, fields, ["token_invalid"])


def test_a_token_spent_on_other_content_is_quarantined_silently(stack, form, javascript):
    """Another location from the same token: no correction a person makes (intake.service), kept as token_reused."""
    queue = subscribe_queue(stack)
    first, second = form(), form()
    set_token(second, first.locator('input[name="form_token"]').input_value())
    sent_first, sent_second = person(), person(location="downtown")
    fill(first, sent_first)
    send(stack, first, javascript)
    fill(second, sent_second)

    send(stack, second, javascript)

    assert the_request(stack, sent_first)["status"] == "new"
    assert_quarantined(stack, queue, sent_second, ["token_reused"])
