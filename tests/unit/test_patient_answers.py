"""The patient's page and answers (visits.answers, visits.page) with fakes and fixed clocks."""
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.clock import utc_iso
from chalicelib.core.patient_links import page_token
from chalicelib.intake.service import SPAM_RETENTION_DAYS
from chalicelib.staff.triage import HistoryEntry, StaffRecord
from chalicelib.visits import page
from chalicelib.visits.answers import LinkGone, LinkUnknown, PatientPages
from tests.fakes import Clock, FakeAnswerRepository

PAGE_KEY, ANSWER_KEY = b"p" * 32, b"a" * 32
ID = "k5qg2n4xw7ybz3hd6tjmarfc"
OTHER = "abcdefghijklmnopqrstuvwx"
RECEIVED = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 6, 15, 0, tzinfo=timezone.utc)
VISIT = datetime(2026, 12, 9, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
FIELDS = {"first_name": "Zoë", "last_name": "Okonkwo-Lindqvist", "email": "zoe.okonkwo@example.com",
          "phone": "+12125550142", "message": "My knee hurts when I run."}


def stored(status="new", request_id=ID, **changes):
    record = StaffRecord(id=request_id, status=status, created_at=utc_iso(RECEIVED), location="downtown",
                         fields=dict(FIELDS), due_at="2026-12-02T21:00:00.000Z" if status == "new" else None,
                         language="en")
    if status in ("scheduled", "cancelled", "attended", "no_show"):
        record = replace(record, visit_at="2026-12-09T10:00", visit_start=utc_iso(VISIT), visit_sequence=0)
    return replace(record, **changes)


def service(settings, *records, now=NOW):
    clock = Clock(now)
    repository = FakeAnswerRepository(*records)
    return PatientPages(repository, settings, lambda: PAGE_KEY, lambda: ANSWER_KEY, now=clock), repository, clock


def token(request_id=ID):
    return page_token(PAGE_KEY, request_id, RECEIVED)


def post(pages, answer, request_id=ID, **overrides):
    view = pages.view(token(request_id))
    form = {"answer": answer, "seen": view.seen, "answer_field": view.answer_field, **overrides}
    return pages.answer(token(request_id), form)


# (status before, answer) -> (status after, the event staff hear, or None)
RECORDED = [
    ("new", "withdrawn", "closed", "request.withdrawn"),
    ("new", "not_me", "suspected_spam", None),
    ("contacted", "withdrawn", "closed", "request.withdrawn"),
    ("contacted", "not_me", "suspected_spam", None),
    ("suspected_spam", "withdrawn", "suspected_spam", None),
    ("suspected_spam", "not_me", "suspected_spam", None),
    ("scheduled", "confirmed", "scheduled", "visit.confirmed"),
    ("scheduled", "change_requested", "scheduled", "visit.change_requested"),
    ("scheduled", "cancelled", "cancelled", "visit.cancelled"),
]


@pytest.mark.parametrize("before, answer, after, event", RECORDED)
def test_each_answer_offered_is_recorded_with_its_history_line_and_event(settings, before, answer, after, event):
    pages, repository, _ = service(settings, stored(before))
    assert post(pages, answer) == "recorded"
    record = repository.records[ID]
    assert record.status == after
    assert record.patient_answer == {"answer": answer, "at": utc_iso(NOW),
                                     "sequence": 0 if before == "scheduled" else None}
    assert record.history[-1] == HistoryEntry(utc_iso(NOW), "patient", before, after, answer=answer)
    assert [item for item in repository.outbox if item[0] == "answer"] == ([("answer", ID, event)] if event else [])


@pytest.mark.parametrize("answer", ["withdrawn", "not_me", "confirmed", "change_requested", "cancelled"])
def test_the_same_answer_again_changes_nothing_and_sends_nothing(settings, answer):
    before = "scheduled" if answer in ("confirmed", "change_requested", "cancelled") else "new"
    pages, repository, clock = service(settings, stored(before))
    view = pages.view(token())
    form = {"answer": answer, "seen": view.seen, "answer_field": view.answer_field}
    assert pages.answer(token(), form) == "recorded"
    after = repository.records[ID]
    clock.advance(minutes=1)
    assert pages.answer(token(), form) == "already"  # the same post again (a double click)
    assert repository.records[ID] == after
    assert len(repository.outbox) == len({item for item in repository.outbox})
    assert len([item for item in repository.outbox if item[0] == "answer"]) <= 1


def test_not_me_adds_its_reason_and_spam_s_short_retention(settings):
    pages, repository, _ = service(settings, stored("new"))
    post(pages, "not_me")
    assert repository.records[ID].spam_reasons == ("not_me",)
    assert repository.expires_at[ID] == int((NOW + timedelta(days=SPAM_RETENTION_DAYS)).timestamp())


def test_i_need_to_cancel_writes_the_cancellation_mail_of_the_next_sequence(settings):
    pages, repository, _ = service(settings, stored("scheduled", visit_sequence=2))
    post(pages, "cancelled")
    assert ("visit", ID, 3) in repository.outbox and repository.records[ID].visit_sequence == 3


def test_a_confirmed_visit_can_still_be_cancelled(settings):
    pages, repository, clock = service(settings, stored("scheduled"))
    assert post(pages, "confirmed") == "recorded"
    clock.advance(hours=1)
    assert "confirmed" not in pages.view(token()).offers
    assert post(pages, "cancelled") == "recorded"
    assert repository.records[ID].status == "cancelled"


@pytest.mark.parametrize("status, answer", [
    ("new", "confirmed"), ("new", "cancelled"), ("contacted", "change_requested"), ("scheduled", "withdrawn"),
    ("scheduled", "not_me"), ("cancelled", "confirmed"), ("closed", "withdrawn"), ("attended", "cancelled"),
    ("no_show", "change_requested"), ("new", "anything"), ("new", None),
])
def test_an_answer_the_page_does_not_offer_records_nothing(settings, status, answer):
    pages, repository, _ = service(settings, stored(status))
    before = repository.records[ID]
    assert post(pages, answer) == "changed"
    assert repository.records[ID] == before and repository.outbox == []


def test_an_answer_to_a_page_that_has_changed_since_records_nothing(settings):
    pages, repository, _ = service(settings, stored("scheduled"))
    view = pages.view(token())
    repository.records[ID] = replace(repository.records[ID], visit_sequence=1, visit_at="2026-12-10T10:00")
    form = {"answer": "confirmed", "seen": view.seen, "answer_field": view.answer_field}
    assert pages.answer(token(), form) == "changed"
    assert repository.records[ID].patient_answer is None


def test_a_staff_change_racing_the_answer_wins_and_nothing_is_recorded(settings):
    pages, repository, _ = service(settings, stored("new"))
    repository.before_write = lambda: repository.records.update({ID: stored("contacted")})
    assert post(pages, "withdrawn") == "changed"
    assert repository.records[ID].status == "contacted" and repository.outbox == []


@pytest.mark.parametrize("field", [None, "", "A" * 52, "x"])
def test_a_missing_or_forged_signed_field_records_nothing(settings, field):
    pages, repository, _ = service(settings, stored("new"))
    assert post(pages, "withdrawn", answer_field=field) == "try_again"
    assert repository.records[ID].status == "new"


def test_the_signed_field_of_another_request_records_nothing(settings):
    pages, repository, _ = service(settings, stored("new"), stored("new", request_id=OTHER))
    other_field = pages.view(token(OTHER)).answer_field
    assert post(pages, "withdrawn", answer_field=other_field) == "try_again"
    assert repository.records[ID].status == "new"


def test_the_signed_field_is_good_for_12_hours_exactly(settings):
    pages, repository, clock = service(settings, stored("new"))
    view = pages.view(token())
    form = {"answer": "withdrawn", "seen": view.seen, "answer_field": view.answer_field}
    clock.advance(hours=12, milliseconds=1)
    assert pages.answer(token(), form) == "try_again"
    clock.advance(milliseconds=-1)
    assert pages.answer(token(), form) == "recorded"


def test_the_page_of_a_visit_opens_until_30_days_after_it_exactly(settings):
    pages, _, clock = service(settings, stored("attended"), now=VISIT + timedelta(days=30))
    assert pages.view(token()).stage == "done"
    clock.advance(milliseconds=1)
    with pytest.raises(LinkGone):
        pages.view(token())


def test_the_page_of_a_cancelled_visit_also_closes_30_days_after_the_visit(settings):
    pages, _, clock = service(settings, stored("cancelled"), now=VISIT + timedelta(days=30, milliseconds=1))
    with pytest.raises(LinkGone):
        pages.view(token())


def test_without_a_visit_the_page_opens_until_90_days_after_the_request_exactly(settings):
    pages, _, clock = service(settings, stored("closed"), now=RECEIVED + timedelta(days=90))
    assert pages.view(token()).stage == "done"
    clock.advance(milliseconds=1)
    with pytest.raises(LinkGone):
        pages.view(token())
    with pytest.raises(LinkGone):
        pages.answer(token(), {})


def test_an_erased_request_s_page_is_gone_and_an_unknown_one_never_was(settings):
    pages, _, _ = service(settings, stored("erased", fields=None))
    with pytest.raises(LinkGone):
        pages.view(token())
    with pytest.raises(LinkUnknown):
        pages.view(token(OTHER))
    for forged in (token()[:-1], token()[:-1] + ("A" if token()[-1] != "A" else "B"), page_token(b"x" * 32, ID, NOW),
                   "", "../../staff"):
        with pytest.raises(LinkUnknown):
            pages.view(forged)


def html(settings, record, query=None):
    pages, _, _ = service(settings, record)
    response, _ = page.show(pages, settings, token(), query or {})
    return response.status_code, response.body


def test_a_suspected_spam_request_s_page_reads_exactly_like_a_received_one(settings):
    received = stored("new", due_at=utc_iso(settings.due_at("downtown", RECEIVED)))
    spam = stored("suspected_spam", due_at=None, spam_reasons=("honeypot",))
    assert html(settings, spam) == html(settings, received)
    assert "We have received your request." in html(settings, spam)[1]


@pytest.mark.parametrize("status", ["new", "contacted", "scheduled", "cancelled", "closed", "suspected_spam"])
def test_the_page_shows_no_name_contact_detail_or_message(settings, status):
    _, body = html(settings, stored(status))
    text = re.sub(r"\s+", " ", body)
    for value in ("Zoë", "Okonkwo", "zoe.okonkwo", "2125550142", "555-0142", "knee"):
        assert value not in text
    assert ID in text and "Downtown" in text


@pytest.mark.parametrize("status, words", [
    ("new", "The clinic will get in touch by Wednesday 2 December, 4:00 PM."),
    ("contacted", "The clinic has been in touch with you"),
    ("scheduled", "Your visit is booked for Wednesday 9 December, 10:00 AM."),
    ("cancelled", "Your visit on Wednesday 9 December, 10:00 AM is cancelled."),
    ("attended", "This request is complete."),
])
def test_the_page_says_where_the_request_stands_in_words(settings, status, words):
    assert words in re.sub(r"\s+", " ", html(settings, stored(status))[1])


def test_a_changed_visit_says_it_moved_and_offers_its_calendar(settings):
    _, body = html(settings, stored("scheduled", visit_sequence=1))
    assert "Your visit has moved" in body and "/visit.ics" in body


def test_the_page_is_in_the_patient_s_language(settings):
    _, body = html(settings, stored("scheduled", language="es"))
    assert '<html lang="es">' in body
    assert "Su cita está reservada para el miércoles 9 de diciembre a las 10:00." in re.sub(r"\s+", " ", body)
    assert "Necesito cancelar" in body


@pytest.mark.parametrize("done, words", [("recorded", "passed your answer on"), ("already", "already have this"),
                                         ("changed", "did not record"), ("try_again", "press your answer again")])
def test_the_page_says_what_happened_to_a_post(settings, done, words):
    assert words in html(settings, stored("new"), {"done": done})[1]


def test_a_done_value_the_service_never_gives_is_not_shown(settings):
    assert html(settings, stored("new"), {"done": "<script>"}) == html(settings, stored("new"))
