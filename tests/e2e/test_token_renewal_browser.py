"""A form tab left open longer than its token lasts: form.js renews the token, so the person is no spam.

Chromium with a fake clock (Playwright's page.clock) runs a day ahead of the service: the page believes it was
opened a day ago, and it holds a token the service really issued a day ago (signed with the running stack's key).
Without the renewal, the service keeps the request as possible spam, `token_invalid`.
"""
import time
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from chalicelib.intake import spam
from tests.e2e.test_form_browser import (  # noqa: F401 (fixtures)
    browser, fill, playwright, submit_and_wait_for_answer,
)
from tests.e2e.test_spam_browser import person, set_token, the_request

pytestmark = pytest.mark.e2e


@pytest.fixture
def day_old_page(stack, browser):
    """The form page with a token issued just over FORM_TOKEN_MAX_AGE_HOURS ago, on a clock that has moved on."""
    max_age = int(stack.settings_env.get("FORM_TOKEN_MAX_AGE_HOURS") or 24)
    secret = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.settings_env["DEDUPE_KEY_SECRET"])["SecretString"].encode()
    old = spam.issue_token(spam.token_key(secret), datetime.now(timezone.utc) - timedelta(hours=max_age, minutes=5))
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.clock.install()
    page.goto(stack.base_url + "/")
    page.opened_at = time.monotonic()  # fill() keeps a person's pace from here
    set_token(page, old)
    page.clock.fast_forward(f"{max_age}:05:00")
    yield page, old
    context.close()


def test_a_page_looked_at_again_renews_its_old_token(stack, day_old_page):
    """Catches form.js never renewing a token: the page keeps the day-old one."""
    page, old = day_old_page
    with page.expect_response(lambda r: r.url.endswith("/form-token")) as renewed:
        page.evaluate("window.dispatchEvent(new Event('focus'))")
    assert renewed.value.status == 200
    expect(page.locator('input[name="form_token"]')).not_to_have_value(old)  # once the answer is read
    assert page.locator('input[name="form_token"]').input_value() != ""

    fields = person()
    fill(page, fields)
    submit_and_wait_for_answer(page, 201)
    stored = the_request(stack, fields)
    assert (stored["status"], stored.get("spam_reasons")) == ("new", None)


def test_a_form_sent_with_an_old_token_renews_it_first_and_waits_out_the_time_trap(stack, day_old_page):
    """Catches sending the page's token whatever its age (token_invalid), and sending at once with a token just
    fetched (too_fast)."""
    page, _ = day_old_page
    fields = person()
    fill(page, fields)
    submit_and_wait_for_answer(page, 201)
    stored = the_request(stack, fields)
    assert (stored["status"], stored.get("spam_reasons")) == ("new", None)


def test_a_page_served_again_from_a_cache_with_an_old_token_renews_it(stack, browser):
    """The page's own clock says it was just opened, but the token it holds is a day old (a page restored from a
    cache): the time in the token itself tells. Catches judging a token's age by the page's load time alone."""
    max_age = int(stack.settings_env.get("FORM_TOKEN_MAX_AGE_HOURS") or 24)
    secret = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.settings_env["DEDUPE_KEY_SECRET"])["SecretString"].encode()
    old = spam.issue_token(spam.token_key(secret), datetime.now(timezone.utc) - timedelta(hours=max_age, minutes=5))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(stack.base_url + "/")
        page.opened_at = time.monotonic()
        set_token(page, old)
        fields = person()
        fill(page, fields)
        submit_and_wait_for_answer(page, 201)
        stored = the_request(stack, fields)
        assert (stored["status"], stored.get("spam_reasons")) == ("new", None)
    finally:
        context.close()
