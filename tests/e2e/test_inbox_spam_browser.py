"""The inbox's "Possible spam" view in Chromium against the running stack: reasons in words, the
week's count, "Not spam" (alerted and confirmed once) and "Spam", at 360 px and axe-clean."""
import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import valid_fields
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_alerts_http import collect, subscribe_queue
from tests.e2e.test_confirmations_http import fresh_address, mail_to
from tests.e2e.test_form_browser import PHONE, browser, playwright  # noqa: F401 (fixtures)
from tests.e2e.test_inbox_browser import assert_axe_clean, context, new_account, signed_in_page  # noqa: F401
from tests.e2e.test_intake_http import http, post_json, stored

pytestmark = pytest.mark.e2e


def sent_by_a_script(stack, first_name, last_name, **fields):
    """A script's request: it takes a token and posts at once. Returns (id, the fields sent)."""
    status, _, body = http(stack, "GET", "/form-token")
    assert status == 200
    sent = valid_fields(**{"first_name": first_name, "last_name": last_name, "email": fresh_address(),
                           "location": "northside",
                           "message": f"spam e2e {uuid.uuid4().hex[:8]}",
                           "form_token": json.loads(body)["form_token"], **fields})
    status, _, body = post_json(stack, sent)
    assert status == 201, body
    return json.loads(body)["id"], sent


def row(page, request_id):
    return page.locator("table.requests tbody tr").filter(has=page.locator(f'a[href$="/requests/{request_id}"]'))


def test_staff_review_possible_spam_rescue_a_person_and_the_screenshot_is_saved(stack, context):
    quick, quick_fields = sent_by_a_script(stack, "Priya", "Raman")
    linky, _ = sent_by_a_script(stack, "Cheapo", "Pillsworth", message="Cheap pills http://a.example www.b.example")
    queue = subscribe_queue(stack)
    # axe is injected as an inline script, which the pages' own policy rightly forbids.
    page = signed_in_page(context, stack, new_account(stack), viewport=PHONE, bypass_csp=True)

    expect(page.locator(".spam-count")).to_contain_text(re.compile(r"\d+ possible-spam requests? arrived in the "
                                                                   r"last 7 days"))
    page.get_by_role("link", name="Review possible spam").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Possible spam")
    expect(row(page, quick)).to_contain_text(re.compile(r"sent \d\.\d seconds after the page was served"))
    expect(row(page, linky)).to_contain_text("2 web addresses in the text")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_axe_clean(page, "the possible spam view")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = min(page.evaluate("document.documentElement.scrollHeight"), 1400)
    page.screenshot(path=str(SCREENSHOTS / "inbox-possible-spam-phone.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": PHONE["width"], "height": height})

    row(page, quick).get_by_role("button", name=re.compile(r"^Not spam\W+Priya Raman")).click()

    expect(page.get_by_role("status")).to_contain_text("Moved to New as not spam")
    expect(row(page, quick)).to_have_count(0)
    assert stored(stack, quick)["status"]["S"] == "new"
    assert len(mail_to(stack, quick_fields["email"])) == 1
    alerts = collect(stack, queue, lambda got: any(quick in m["Message"] for m in got))
    assert sum(quick in alert["Message"] for alert in alerts) == 1

    row(page, linky).get_by_role("button", name=re.compile(r"^Spam\W+Cheapo Pillsworth")).click()

    expect(page.get_by_role("status")).to_contain_text("Marked as spam")
    expect(row(page, linky)).to_contain_text("marked as spam by staff")
    expect(row(page, linky).get_by_role("button")).to_have_count(1)
    assert [r["S"] for r in stored(stack, linky)["spam_reasons"]["L"]] == ["too_fast", "links", "staff"]
    assert_axe_clean(page, "the possible spam view after a decision")
    assert len(stack.sent_mail(to=quick_fields["email"])) == 1
    assert page.problems == []
