"""Booking a visit in the inbox (issue 28), as rendered: the date and time form, the booked time and the patient's
answer in words, the history of bookings and answers, the list's visit column, and the form's fields made into
visit_at."""
import re

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.staff.http import visit_at_of
from chalicelib.staff.inbox import STATUS_CHOICES
from chalicelib.staff.triage import STATUSES, TRANSITIONS
from tests.unit.test_inbox_pages import Parsed, list_page, request_page, view


def booked(status="scheduled", visit_at="2026-12-08T10:00", sequence=0, **extra):
    record = view(status=status)
    record.update(visit_at=visit_at, visit_start="2026-12-08T15:00:00.000Z", visit_sequence=sequence, **extra)
    return record


def text_of(html):
    text = re.sub(r"\s+", " ", " ".join(Parsed(html).text)).replace("\u00a0", " ")
    return text.replace(" ,", ",").replace("( ", "(").replace(" )", ")")


# --- the form ------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["new", "contacted", "cancelled"])
def test_a_request_that_can_be_booked_offers_a_labelled_date_and_time_posted_as_scheduled(status):
    page = Parsed(request_page(record=view(status=status), transitions=TRANSITIONS[status]))

    [form] = [f for f in page.all("form", action="/staff/requests/r-1/status", method="post")
              if "booking" in f.get("class", "")]
    assert page.all("input", type="hidden", name="status", value="scheduled")
    [day] = page.all("input", type="date", name="visit_date", id="visit-date")
    [at] = page.all("input", type="time", name="visit_time", id="visit-time")
    assert page.all("label", **{"for": "visit-date"}) and page.all("label", **{"for": "visit-time"})
    assert day["value"] == "" and at["value"] == ""
    assert "Book a visit" in text_of(request_page(record=view(status=status), transitions=TRANSITIONS[status]))


def test_a_scheduled_request_offers_to_change_the_time_prefilled_and_its_outcomes():
    html = request_page(record=booked(), transitions=TRANSITIONS["scheduled"])
    page = Parsed(html)

    assert page.all("input", type="date", name="visit_date", value="2026-12-08")
    assert page.all("input", type="time", name="visit_time", value="10:00")
    assert "Change the time" in text_of(html) and "Book a visit" not in text_of(html)
    radios = [radio["value"] for radio in page.all("input", type="radio", name="status")]
    assert radios == ["attended", "no_show", "cancelled"]
    assert "No-show (did not come)" in text_of(html)


@pytest.mark.parametrize("status", ["closed", "attended", "no_show", "suspected_spam"])
def test_a_request_that_cannot_be_booked_has_no_booking_form(status):
    page = Parsed(request_page(record=view(status=status), transitions=TRANSITIONS[status]))
    assert not page.all("input", name="visit_date")


def test_a_refused_booking_is_shown_again_with_the_problem_at_the_date_and_nothing_lost():
    form = {"status": "scheduled", "visit_date": "2026-12-01", "visit_time": "09:30", "note": "Called at 3"}
    html = request_page(record=view(status="contacted"), transitions=TRANSITIONS["contacted"], form=form,
                        fields={"visit_at": "The visit must be in the future."})
    page = Parsed(html)

    assert page.all("input", name="visit_date", value="2026-12-01", **{"aria-invalid": "true"})
    assert page.all("input", name="visit_time", value="09:30", **{"aria-invalid": "true"})
    [error] = page.all("p", id="visit-date-error")
    assert "visit-date-error" in page.all("input", name="visit_date")[0]["aria-describedby"]
    assert ">Called at 3</textarea>" in html  # in the booking form's note, not the status form's
    assert html.index("Called at 3") < html.index('id="change-heading"')
    # The error summary at the top links to the field.
    assert '<a href="#visit-date">The visit must be in the future.</a>' in html
    assert error is not None


def test_a_refused_status_change_keeps_its_choice_and_note_in_its_own_form():
    html = request_page(record=booked(), transitions=TRANSITIONS["scheduled"],
                        form={"status": "no_show", "note": "x" * 5}, fields={"note": "Too long."})
    page = Parsed(html)
    assert "checked" in page.all("input", type="radio", value="no_show")[0]
    assert page.all("textarea", id="note", **{"aria-invalid": "true"})
    assert not page.all("input", name="visit_date", **{"aria-invalid": "true"})


# --- the booked time, the answer, warnings -------------------------------------------------------------------

def test_the_booked_time_is_in_words_in_the_clinic_s_zone():
    html = request_page(record=booked(), transitions=TRANSITIONS["scheduled"])
    assert '<time datetime="2026-12-08T10:00">Tue 8 Dec 2026, 10:00\u00a0AM</time>' in html
    assert "Visit Tue 8 Dec 2026, 10:00 AM (clinic time)" in text_of(html)


def test_a_closed_time_warning_is_in_words_on_the_page():
    record = booked(warnings=["The location is closed at the booked time: check the time with the patient."])
    text = text_of(request_page(record=record, transitions=TRANSITIONS["scheduled"]))
    assert "Warning: The location is closed at the booked time" in text
    assert "Warning" not in text_of(request_page(record=booked(), transitions=TRANSITIONS["scheduled"]))


@pytest.mark.parametrize("answer, words", [
    ("confirmed", "Will be there"), ("cancelled", "Cancelled by the patient"),
    ("change_requested", "Asks for another time"), ("withdrawn", "No longer needs this"),
    ("not_me", "Says they did not send this"),
])
def test_the_patient_s_answer_is_in_words_on_the_page_and_in_the_list(answer, words):
    record = booked(patient_answer={"answer": answer, "at": "2026-12-06T14:00:00.000Z", "sequence": 0})
    assert f"Patient's answer {words} (Sun 6 Dec 2026, 9:00 AM)" in text_of(
        request_page(record=record, transitions=TRANSITIONS["scheduled"]))
    assert f"Patient: {words}" in text_of(list_page(items=[record]))


def test_an_answer_about_an_earlier_time_says_so():
    record = booked(sequence=1, patient_answer={"answer": "confirmed", "at": "2026-12-06T14:00:00.000Z",
                                                "sequence": 0})
    assert "Will be there (about an earlier time)" in text_of(list_page(items=[record]))


def test_the_list_shows_each_booked_visit_s_time_and_nothing_for_others():
    text = text_of(list_page(items=[booked(), view("r-2")]))
    assert text.count("Visit: ") == 1
    assert "Visit: Tue 8 Dec 2026, 10:00 AM" in text


def test_the_status_filter_offers_every_status():
    assert [value for value, _ in STATUS_CHOICES[1:]] == list(STATUSES)
    html = list_page(filters={"status": "no_show"})
    assert '<option value="no_show" selected>No-show</option>' in html
    assert "No-show requests, all locations" in text_of(html)


# --- the history ---------------------------------------------------------------------------------

def test_the_history_says_bookings_changes_and_answers_in_words():
    record = booked(sequence=1)
    record["history"] = [
        {"at": "2026-12-06T14:00:00.000Z", "by": "Sam Staff", "from": "contacted", "to": "scheduled",
         "visit_at": "2026-12-08T10:00"},
        {"at": "2026-12-06T15:00:00.000Z", "by": "Sam Staff", "from": "scheduled", "to": "scheduled",
         "visit_at": "2026-12-09T14:30"},
        {"at": "2026-12-06T16:00:00.000Z", "by": "patient", "from": "scheduled", "to": "scheduled",
         "answer": "confirmed"},
        {"at": "2026-12-06T17:00:00.000Z", "by": "patient", "from": "scheduled", "to": "cancelled",
         "answer": "cancelled"},
    ]
    text = text_of(request_page(record=record, transitions=TRANSITIONS["scheduled"]))
    assert "Contacted → to Scheduled Booked for Tue 8 Dec, 10:00 AM" not in text
    assert "by Sam Staff Booked for Tue 8 Dec, 10:00 AM Contacted → to Scheduled" in text
    # A change of time is no change of status: only the new time.
    assert "by Sam Staff Moved to Wed 9 Dec, 2:30 PM" in text
    assert "Scheduled → to Scheduled" not in text
    assert "11:00 AM, by the patient Will be there" in text
    assert "12:00 PM, by the patient Cancelled by the patient Scheduled → to Cancelled" in text


# --- the form's fields made into visit_at ------------------------------------------------------------

@pytest.mark.parametrize("day, at, visit_at", [
    ("2026-12-08", "10:00", "2026-12-08T10:00"),
    (" 2026-12-08 ", "10:00:00", "2026-12-08T10:00"),  # a time field with seconds
    ("2026-12-08", "09:05:00.000", "2026-12-08T09:05"),
])
def test_the_date_and_time_fields_make_visit_at(day, at, visit_at):
    assert visit_at_of({"visit_date": day, "visit_time": at}) == visit_at


@pytest.mark.parametrize("form, says", [
    ({}, "Enter the visit's date and time."),
    ({"visit_time": "10:00"}, "Enter the visit's date."),
    ({"visit_date": "2026-12-08"}, "Enter the visit's time."),
    ({"visit_date": "12/08/2026", "visit_time": "10:00"}, "as YYYY-MM-DD"),
    ({"visit_date": "2026-12-08", "visit_time": "10am"}, "as HH:MM"),
    ({"visit_date": "2026-12-08T10:00", "visit_time": "10:00"}, "as YYYY-MM-DD"),
])
def test_a_missing_or_unreadable_date_or_time_is_a_problem_of_visit_at(form, says):
    with pytest.raises(ValidationFailed) as raised:
        visit_at_of(form)
    assert says in raised.value.fields["visit_at"]
