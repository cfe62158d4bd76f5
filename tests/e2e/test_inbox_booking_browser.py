"""Booking a visit in the staff inbox, in a real browser (Debian's Chromium through Playwright) against the local
stack as `make run` starts it: booked for tomorrow 10:00 with JavaScript on and off, the booked time shown in
words, the time changed, a no-show recorded and found by the list's filter, a closed time warned in words, a past
time refused at its field with nothing lost, axe-clean at 360 px, and the booking form's screenshot."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_form_browser import (  # noqa: F401  (browser, playwright: the shared fixtures)
    DESKTOP, PHONE, axe_violations, browser, playwright,
)
from tests.e2e.test_inbox_browser import (  # noqa: F401  (context: the shared fixture)
    assert_axe_clean, context, new_account, new_request, signed_in_page,
)

pytestmark = pytest.mark.e2e


def clinic_day(stack, days):
    zone = ZoneInfo(stack.settings_env.get("CLINIC_TIMEZONE", "America/New_York"))
    return (datetime.now(timezone.utc).astimezone(zone) + timedelta(days=days)).date()


def in_words(day, hour, minute="00"):
    """How the inbox says a visit's time: Mon 7 Dec 2026, 10:00 AM."""
    twelve = hour % 12 or 12
    return f"{day:%a} {day.day} {day:%b %Y}, {twelve}:{minute}\u00a0{'AM' if hour < 12 else 'PM'}"


def book(page, day, at, button="Book the visit"):
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Time", exact=True).fill(at)
    page.get_by_role("button", name=button).click()


def open_request(page, stack, request_id):
    page.goto(f"{stack.base_url}/staff/requests/{request_id}")
    expect(page.get_by_role("heading", name="Book a visit")).to_be_visible()


def test_booked_for_tomorrow_10_00_then_moved_then_a_no_show_with_javascript(stack, context):
    request_id, _ = new_request(stack)
    page = signed_in_page(context, stack, new_account(stack))
    open_request(page, stack, request_id)
    tomorrow = clinic_day(stack, 1)

    book(page, tomorrow, "10:00")

    expect(page.get_by_role("status")).to_have_text(f"Visit booked for {in_words(tomorrow, 10)}.")
    expect(page.locator(".facts")).to_contain_text(f"Visit{in_words(tomorrow, 10)}")
    expect(page.locator(".history li").first).to_contain_text(f"Booked for {tomorrow:%a} {tomorrow.day} {tomorrow:%b}, 10:00")
    # Booked: the form now changes the time, and offers what follows a visit.
    expect(page.get_by_label("Date", exact=True)).to_have_value(tomorrow.isoformat())
    expect(page.get_by_label("Time", exact=True)).to_have_value("10:00")
    expect(page.get_by_role("radio")).to_have_count(3)

    book(page, tomorrow, "11:30", button="Change the time")
    expect(page.get_by_role("status")).to_have_text(f"Visit booked for {in_words(tomorrow, 11, '30')}.")
    expect(page.locator(".history")).to_contain_text(f"Moved to {tomorrow:%a} {tomorrow.day} {tomorrow:%b}, 11:30")

    page.get_by_role("radio", name="No-show (did not come)").check()
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_have_text("Status changed to no-show.")
    expect(page.get_by_label("Date", exact=True)).to_have_count(0)  # final: nothing more to book
    expect(page.locator(".facts")).to_contain_text(f"Visit booked for{in_words(tomorrow, 11, '30')}")

    page.goto(f"{stack.base_url}/staff/?status=no_show")
    row = page.locator("table.requests tbody tr").filter(has=page.locator(f'a[href$="/requests/{request_id}"]'))
    expect(row).to_contain_text("No-show")
    expect(row).to_contain_text(f"Visit: {in_words(tomorrow, 11, '30')}")
    assert page.problems == []


def test_booked_without_javascript(stack, context):
    request_id, _ = new_request(stack)
    page = signed_in_page(context, stack, new_account(stack), java_script_enabled=False)
    open_request(page, stack, request_id)
    tomorrow = clinic_day(stack, 1)

    book(page, tomorrow, "10:00")

    expect(page.get_by_role("status")).to_have_text(f"Visit booked for {in_words(tomorrow, 10)}.")
    expect(page.get_by_role("heading", name="Change the time")).to_be_visible()


def test_a_past_time_is_refused_at_its_field_a_closed_time_is_warned_and_both_are_axe_clean_at_360px(stack, context):
    request_id, _ = new_request(stack, location="downtown")  # the dev stage gives downtown its opening hours
    page = signed_in_page(context, stack, new_account(stack), viewport=PHONE, bypass_csp=True)
    open_request(page, stack, request_id)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_axe_clean(page, "the booking form")

    yesterday = clinic_day(stack, -1)
    page.get_by_label("Comment").fill("Prefers mornings")
    book(page, yesterday, "09:30")

    expect(page.locator("#visit-date-error")).to_contain_text("The visit must be in the future.")
    expect(page.get_by_label("Date", exact=True)).to_have_value(yesterday.isoformat())
    expect(page.get_by_label("Time", exact=True)).to_have_value("09:30")
    expect(page.locator("#book-note")).to_have_value("Prefers mornings")
    expect(page.get_by_label("Date", exact=True)).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_axe_clean(page, "the booking form with a refused time")

    tomorrow = clinic_day(stack, 1)
    book(page, tomorrow, "03:00")  # downtown is closed at night
    expect(page.get_by_role("status")).to_contain_text("Warning: The location is closed at the booked time")
    expect(page.locator("p.warning")).to_have_text(
        "Warning: The location is closed at the booked time: check the time with the patient.")
    assert_axe_clean(page, "a booked request with a warning")
    assert page.problems == []


def test_the_booking_form_screenshot_is_saved(stack, context):
    request_id, _ = new_request(stack, first_name="Amara", last_name="Okafor")
    page = signed_in_page(context, stack, new_account(stack), viewport=PHONE)
    open_request(page, stack, request_id)
    page.get_by_label("Date", exact=True).fill(clinic_day(stack, 1).isoformat())
    page.get_by_label("Time", exact=True).fill("10:00")
    page.get_by_label("Time", exact=True).blur()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section = page.locator("section", has=page.get_by_role("heading", name="Book a visit"))
    section.screenshot(path=str(SCREENSHOTS / "inbox-booking-phone.png"))
    assert (SCREENSHOTS / "inbox-booking-phone.png").stat().st_size > 5_000
