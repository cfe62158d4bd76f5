"""Reminders before a booked visit, with fixed clocks and in-memory fakes: the quiet hours in clinic time (DST
included), once per booked time, a change re-arming it, each channel marked on its own, texts only where agreed."""
import dataclasses
import typing
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from chalicelib.core.errors import SmsNotSent, StorageUnavailable
from chalicelib.core.mail import Email
from chalicelib.intake.models import AppointmentRequest, ConsentEvidence
from chalicelib.visits.reminders import Reminders
from tests.alerting import stored_request
from tests.conftest import captured_log_lines
from tests.fakes import Clock, FakeMailer, FakeReminderRepository, FakeTexts

# New York, a Tuesday afternoon in December (EST, UTC-5): 10:00 local is 15:00 UTC.
NOW = datetime(2026, 12, 8, 15, 0, tzinfo=timezone.utc)
PHONE = "+12125550142"
SMS_OK = ConsentEvidence(given_at="2026-11-25T15:00:00.000Z", version="2026-11-01")


def with_settings(settings, **changes):
    return dataclasses.replace(settings, **changes)


def compose(request, kind, settings, page_url, now):
    """notify.visit_mail.compose_visit_email's signature and what the reminder needs of it."""
    assert kind == "reminder"
    return Email(to=request.fields["email"], subject="Reminder", text=f"{page_url}\n")


@pytest.fixture
def store():
    return FakeReminderRepository()


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def mailer():
    return FakeMailer()


@pytest.fixture
def texts():
    return FakeTexts(opted_out={"+12125550199"})


@pytest.fixture
def sms_on(settings):
    return with_settings(settings, sms_reminders=True)


def reminders(store, mailer, texts, settings, clock):
    return Reminders(store, mailer, texts, settings, lambda request_id: f"https://clinic.example/r/t-{request_id}",
                     compose_mail=compose, now=clock, sleep=lambda seconds: None)


@pytest.fixture
def run(store, mailer, texts, sms_on, clock):
    return reminders(store, mailer, texts, sms_on, clock).run


def book(store, request_id="r1", visit=NOW + timedelta(hours=24), remind=NOW, sequence=0, sms=True, **fields):
    request = stored_request(id=request_id, **fields)
    if sms:
        request = request.model_copy(update={"sms_consent": SMS_OK})
    store.book(request, visit, remind, sequence)
    return request


def marks(store, request_id="r1"):
    return store.items[request_id].get("reminder", {})


# --- once, both channels ----------------------------------------------------------------------

def test_a_due_reminder_goes_once_by_mail_and_text_and_leaves_the_queue(run, store, mailer, texts):
    book(store)

    assert run() == {"reminded": 1}
    assert run() == {}

    [mail] = mailer.sent
    assert mail.to == "jose.garcia@example.com" and "https://clinic.example/r/t-r1" in mail.text
    [(phone, text)] = texts.sent
    assert phone == PHONE and "https://clinic.example/r/t-r1" in text and "Downtown Clinic" in text
    assert "Wednesday 9 December, 10:00 AM" in text  # the visit in clinic time, not UTC
    assert "reminder_queue" not in store.items["r1"]
    assert (marks(store)["mail"], marks(store)["sms"], marks(store)["sequence"]) == ("sent", "sent", 0)


def test_a_text_in_spanish_for_a_spanish_request(run, store, texts):
    book(store)
    store.items["r1"]["language"] = "es"

    run()
    [(_, text)] = texts.sent
    assert "el miércoles 9 de diciembre a las 10:00" in text and text.endswith("Responda STOP para darse de baja")


def test_nothing_of_the_patients_health_or_words_is_in_the_text(run, store, texts):
    book(store, reason="back_pain", message="My lower back hurts since the accident")

    run()
    [(_, text)] = texts.sent
    assert "back" not in text.lower() and "José" not in text and "García" not in text


def test_a_reminder_not_yet_due_waits(run, store, mailer):
    book(store, remind=NOW + timedelta(milliseconds=1))

    assert run() == {}
    assert mailer.sent == []


def test_a_visit_booked_two_hours_ahead_is_reminded_at_once(run, store, mailer, texts):
    book(store, visit=NOW + timedelta(hours=2), remind=NOW)  # booking: REMINDER_HOURS_BEFORE has already passed

    assert run() == {"reminded": 1}
    assert len(mailer.sent) == len(texts.sent) == 1


# --- the quiet hours, in clinic time ------------------------------------------------------------

@pytest.mark.parametrize("utc, sends", [
    (datetime(2026, 12, 9, 1, 59, tzinfo=timezone.utc), True),    # 20:59 EST
    (datetime(2026, 12, 9, 2, 0, tzinfo=timezone.utc), False),    # 21:00 EST: quiet
    (datetime(2026, 12, 9, 12, 59, tzinfo=timezone.utc), False),  # 07:59 EST
    (datetime(2026, 12, 9, 13, 0, tzinfo=timezone.utc), True),    # 08:00 EST
])
def test_nothing_goes_from_21_00_until_08_00_clinic_time(store, mailer, texts, sms_on, utc, sends):
    book(store, visit=utc + timedelta(hours=12), remind=utc - timedelta(hours=3))

    assert bool(reminders(store, mailer, texts, sms_on, Clock(utc)).run()) is sends
    assert len(mailer.sent) == len(texts.sent) == int(sends)


@pytest.mark.parametrize("utc, sends", [
    # The weekend daylight saving time ends (Sunday 1 November 2026, 02:00 EDT -> 01:00 EST): 12:30 UTC is
    # 08:30 on Saturday (EDT, UTC-4) but 07:30 on Sunday (EST, UTC-5).
    (datetime(2026, 10, 31, 12, 30, tzinfo=timezone.utc), True),
    (datetime(2026, 11, 1, 12, 30, tzinfo=timezone.utc), False),
    (datetime(2026, 11, 1, 13, 0, tzinfo=timezone.utc), True),
    # ...and the weekend it starts (Sunday 8 March 2026): 00:30 UTC is 19:30 EST on Saturday, 20:30 EDT on Sunday,
    # and 01:00 UTC is 21:00 EDT on Sunday.
    (datetime(2026, 3, 8, 0, 30, tzinfo=timezone.utc), True),
    (datetime(2026, 3, 9, 0, 30, tzinfo=timezone.utc), True),
    (datetime(2026, 3, 9, 1, 0, tzinfo=timezone.utc), False),
])
def test_the_quiet_hours_follow_the_clinics_clock_across_a_dst_weekend(store, mailer, texts, sms_on, utc, sends):
    book(store, visit=utc + timedelta(hours=20), remind=utc - timedelta(minutes=15))

    reminders(store, mailer, texts, sms_on, Clock(utc)).run()
    assert len(mailer.sent) == int(sends)


# --- never for a visit that is past, cancelled, erased, suspected spam, or changed --------------------

def test_a_past_visit_is_never_reminded_and_leaves_the_queue(run, store, mailer):
    book(store, visit=NOW, remind=NOW - timedelta(hours=24))  # exactly now: it has begun

    assert run() == {"dropped": 1}
    assert mailer.sent == [] and "reminder_queue" not in store.items["r1"]


# The statuses the stored model knows (cancelled, attended and no_show come with the foundation of issue 28).
KNOWN = typing.get_args(AppointmentRequest.model_fields["status"].annotation)


@pytest.mark.parametrize("status", [s for s in ("cancelled", "suspected_spam", "attended", "no_show", "closed",
                                                "contacted") if s in KNOWN])
def test_a_request_no_longer_scheduled_is_never_reminded(run, store, mailer, texts, status):
    book(store)
    store.items["r1"]["status"] = status  # left in the queue by a write that forgot it: still never sent

    assert run() == {"dropped": 1}
    assert mailer.sent == [] and texts.sent == []


def test_an_erased_request_is_never_reminded(run, store, mailer):
    book(store)
    store.items["r1"] = {**store.items["r1"], "entity": "erased_appointment", "status": "erased"}

    assert run() == {"not_due": 1}
    assert mailer.sent == []


def test_a_change_re_arms_the_reminder_and_the_old_claim_does_not_count(run, store, mailer, clock):
    request = book(store)
    assert run() == {"reminded": 1}

    clock.advance(hours=1)
    store.book(request, NOW + timedelta(days=3), NOW + timedelta(days=2), sequence=1)  # another time
    assert run() == {}
    clock.advance(days=2)
    assert run() == {"reminded": 1}
    assert len(mailer.sent) == 2
    assert marks(store)["sequence"] == 1 and marks(store)["mail"] == "sent"


def test_a_claim_read_before_a_change_cannot_send_for_the_new_time(store, mailer, texts, sms_on, clock):
    request = book(store)
    stale = store.get("r1")
    store.book(request, NOW + timedelta(days=3), NOW + timedelta(days=2), sequence=1)

    assert store.claim(stale, "2026-12-08T15:00:00.000Z") is False


def test_a_live_claim_of_another_run_is_respected_and_a_crashed_ones_is_taken_over(run, store, mailer, clock):
    book(store)
    store.claim(store.get("r1"), "2026-12-08T14:55:00.000Z")  # another run, 5 minutes ago, still at it

    assert run() == {"claimed_elsewhere": 1}
    clock.advance(minutes=6)  # its claim is now older than the 10 minutes' lease: it crashed
    assert run() == {"reminded": 1}
    assert len(mailer.sent) == 1


# --- each channel on its own ----------------------------------------------------------------------

def test_a_failing_sns_is_retried_without_sending_the_email_again(run, store, mailer, texts, clock):
    book(store)
    texts.failing = SmsNotSent("Throttling", retryable=True)

    assert run() == {"retry": 1}
    assert marks(store)["mail"] == "sent" and marks(store)["sms"] == "retry"
    texts.failing = None
    clock.advance(minutes=15)
    assert run() == {"reminded": 1}
    assert len(mailer.sent) == 1 and len(texts.sent) == 1


def test_a_failing_ses_is_retried_without_sending_the_text_again(run, store, mailer, texts, clock):
    book(store)
    mailer.failing = "Throttling"

    assert run() == {"retry": 1}
    mailer.failing = None
    assert run() == {"reminded": 1}  # the release lets the very next run go on
    assert len(mailer.sent) == 1 and len(texts.sent) == 1


def test_a_final_refusal_is_not_retried(run, store, mailer, texts):
    book(store)
    texts.failing = SmsNotSent("InvalidParameter", retryable=False)

    assert run() == {"reminded": 1}
    assert marks(store)["sms"] == "refused" and "reminder_queue" not in store.items["r1"]


def test_never_twice_when_the_mark_after_sending_fails(run, store, mailer, texts, clock):
    """The process remembers what it sent but could not mark: its next run marks it instead of sending again."""
    book(store)
    store.failing_marks = {("mail", "sent")}

    with pytest.raises(StorageUnavailable):
        run()
    assert len(mailer.sent) == 1
    store.failing_marks = set()
    clock.advance(minutes=11)  # the lease has run out: a later run takes the claim over
    assert run() == {"reminded": 1}
    assert len(mailer.sent) == 1 and len(texts.sent) == 1
    assert marks(store)["mail"] == "sent"


def test_a_sending_mark_left_by_a_process_that_stopped_is_sent_again_never_lost(store, mailer, texts, sms_on, clock):
    """Catches "sending left behind: never again": a run that marked the text sending, then lost the mark of its
    outcome and stopped (a retryable failure it could not record, a crash) would leave the patient without it."""
    book(store)
    store.failing_marks = {("sms", "retry")}
    texts.failing = SmsNotSent("Throttling", retryable=True)

    with pytest.raises(StorageUnavailable):
        reminders(store, mailer, texts, sms_on, clock).run()
    assert marks(store)["sms"] == "sending" and texts.sent == []
    store.failing_marks, texts.failing = set(), None
    clock.advance(minutes=11)

    assert reminders(store, mailer, texts, sms_on, clock).run() == {"reminded": 1}  # another process
    assert len(texts.sent) == 1 and len(mailer.sent) == 1
    assert any('"reminder_outcome_unknown"' in line for line in captured_log_lines())


def test_a_claim_this_process_could_not_release_is_carried_on_by_its_next_run_not_waited_out(
        store, mailer, texts, sms_on, clock):
    """Catches a retry held back by the process's own lease: SNS failed, and releasing the claim failed too (the
    same outage), so the claim stays; the next run here goes on at once, another process only after the lease."""
    book(store)
    store.failing_marks = {("release",)}
    texts.failing = SmsNotSent("Throttling", retryable=True)
    here = reminders(store, mailer, texts, sms_on, clock)

    with pytest.raises(StorageUnavailable):
        here.run()
    store.failing_marks, texts.failing = set(), None
    clock.advance(minutes=1)

    assert reminders(store, mailer, texts, sms_on, clock).run() == {"claimed_elsewhere": 1}  # another process
    assert here.run() == {"reminded": 1}
    assert len(texts.sent) == 1 and len(mailer.sent) == 1


def test_a_claim_whose_answer_was_lost_is_this_process_s_own_at_its_next_run(store, mailer, texts, sms_on, clock):
    """Catches forgetting a claim that read as refused: the client retried a claim whose answer was lost, and the
    retry found the claim the first try had written; nobody else would send that reminder for 10 minutes."""
    book(store)
    store.failing_marks = {("claim",)}
    here = reminders(store, mailer, texts, sms_on, clock)

    assert here.run() == {"claimed_elsewhere": 1}
    store.failing_marks = set()
    clock.advance(minutes=1)

    assert here.run() == {"reminded": 1}
    assert len(texts.sent) == 1 and len(mailer.sent) == 1


def test_one_request_failing_does_not_hold_up_the_others(run, store, mailer, clock):
    book(store, "r1", remind=NOW - timedelta(minutes=1))
    book(store, "r2")
    store.failing_marks = {("r1", "mail", "sending")}

    with pytest.raises(StorageUnavailable):
        run()
    assert [mail.text for mail in mailer.sent] == ["https://clinic.example/r/t-r2\n"]
    store.failing_marks = set()
    clock.advance(minutes=11)
    assert run() == {"reminded": 1}
    assert len(mailer.sent) == 2


# --- texts only where agreed -----------------------------------------------------------------------

def test_no_text_without_the_patients_sms_consent(run, store, mailer, texts):
    book(store, sms=False)

    assert run() == {"reminded": 1}
    assert len(mailer.sent) == 1 and texts.sent == []
    assert marks(store)["sms"] == "no_consent"


def test_no_text_while_sms_reminders_are_off(store, mailer, texts, settings, clock):
    book(store)

    reminders(store, mailer, texts, with_settings(settings, sms_reminders=False), clock).run()
    assert len(mailer.sent) == 1 and texts.sent == []
    assert marks(store)["sms"] == "off"


def test_an_opted_out_number_gets_no_text_and_is_not_retried(run, store, mailer, texts, clock):
    book(store, phone="+12125550199")

    assert run() == {"reminded": 1}
    assert texts.sent == [] and marks(store)["sms"] == "opted_out"
    clock.advance(minutes=15)
    assert run() == {}


def test_no_log_line_names_the_patient(run, store):
    book(store, phone="+12125550199")
    run()

    assert not any(value in line for line in captured_log_lines()
                   for value in ("5550199", "jose.garcia", "García"))
