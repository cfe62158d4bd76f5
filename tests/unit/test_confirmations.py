"""The patient's confirmation e-mail: what it says, what it never says, the daily cap, and delivery once."""
import dataclasses
import re
from datetime import timedelta

import pytest

from chalicelib.core.errors import MailNotSent, StorageUnavailable
from chalicelib.notify.confirmations import (
    CAP_PER_DAY, SUBJECT, ConfirmationCap, ConfirmationDelivery, address_key, compose_confirmation,
)
from chalicelib.notify.delivery import MARK_ROUNDS
from tests.alerting import REF, RECEIVED, stored_request
from tests.fakes import Clock, FakeMailer
from tests.unit.test_delivery import FakeRepository, record, rescue

KEY = b"k" * 32
PAGE = "https://appointments.clinic.example/r/page-token"
HOSTILE = {
    "first_name": "Mallory", "last_name": "O'Hacker",
    "message": "Visit https://evil.example/login <a href='https://evil.example'>here</a>\r\nBcc: all@example.com "
               "\u202eevil\u202c <script>alert(1)</script> my back hurts",
    "insurance": "Acme <b>Gold</b> http://insure.example", "reason": "back_pain",
}


@pytest.fixture
def confirm_settings(settings):
    return dataclasses.replace(settings, locations={**settings.locations, "downtown": "Downtown Clinic"},
                               location_phones={"downtown": "+1 212-555-0100"},
                               confirmation_reply_to="front.desk@clinic.example")


def test_it_says_where_which_how_when_what_if_urgent_and_how_to_erase(confirm_settings):
    mail = compose_confirmation(stored_request(preferred_contact="text"), confirm_settings, PAGE)
    assert (mail.to, mail.subject, mail.reply_to) == ("jose.garcia@example.com", SUBJECT, ("front.desk@clinic.example",))
    for text in (mail.text, mail.html):
        assert "Downtown Clinic has received it" in text
        assert f"Your reference: {REF}" in text
        # Wednesday 10:00 in New York, 8 opening hours of 08:00-18:00: that evening.
        assert "by text message, by Wednesday 25 November, 6:00 PM." in text
        assert "call Downtown Clinic at +1 212-555-0100" in text
        assert "erased" in text


@pytest.mark.parametrize("preferred, words", [("phone", "by phone"), ("email", "by e-mail"),
                                              ("text", "by text message"), (..., "by phone")])
def test_it_says_how_the_clinic_will_get_in_touch(confirm_settings, preferred, words):
    mail = compose_confirmation(stored_request(preferred_contact=preferred), confirm_settings, PAGE)
    assert f"we will contact you {words}," in mail.text


def test_it_says_when_from_the_stored_due_time_in_the_clinics_zone(confirm_settings):
    from datetime import datetime, timezone

    request = stored_request().model_copy(update={"due_at": datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc)})
    assert "by Tuesday 8 December, 12:00 PM." in compose_confirmation(request, confirm_settings, PAGE).text


@pytest.mark.parametrize("language, words", [
    ("en", "we will contact you by phone, by the end of Tuesday 8 December."),
    ("es", "nos comunicaremos con usted por teléfono, a más tardar al final del martes 8 de diciembre."),
])
def test_a_due_time_at_midnight_is_the_end_of_the_day_before(confirm_settings, language, words):
    """Catches day_and_time writing midnight as it comes: "by Wednesday 9 December, 12:00 AM" (or 00:00), which
    reads as the start of Wednesday, a day later than the clinic means."""
    from datetime import datetime, timezone

    settings = dataclasses.replace(confirm_settings, languages=("en", "es"))
    request = stored_request().model_copy(update={  # midnight in New York
        "language": language, "due_at": datetime(2026, 12, 9, 5, 0, tzinfo=timezone.utc)})
    mail = compose_confirmation(request, settings, PAGE)
    assert words in mail.text and words in mail.html


def test_without_a_phone_for_the_location_it_says_to_call_the_clinic(confirm_settings):
    mail = compose_confirmation(stored_request(location="northside"), confirm_settings, PAGE)
    assert "If it is urgent, call Northside Clinic. In an emergency" in mail.text


def test_it_repeats_nothing_the_sender_typed(confirm_settings):
    request = stored_request(**HOSTILE)
    mail = compose_confirmation(request, confirm_settings, PAGE)
    typed = [HOSTILE["first_name"], HOSTILE["last_name"], "evil", "script", "Bcc", "Acme", "insure", "back",
             "Back pain", "+12125550142", "212-555-0142"]
    for text in (mail.subject, mail.text, mail.html):
        assert not [word for word in typed if word.lower() in text.lower()]
        assert "http" not in text.replace(PAGE, "") and "\u202e" not in text
    assert re.findall(r"<a\b[^>]*>", mail.html) == [f'<a href="{PAGE}">']  # the patient's page, the only link
    assert not re.search(r"<script|<img|<form", mail.html)


def test_the_html_escapes_what_comes_from_config(confirm_settings):
    settings = dataclasses.replace(confirm_settings, locations={"downtown": "Smith & Sons <Physio>"})
    mail = compose_confirmation(stored_request(), settings, PAGE)
    assert "Smith &amp; Sons &lt;Physio&gt;" in mail.html and "<Physio>" not in mail.html


def test_without_a_reply_to_setting_there_is_none(confirm_settings):
    mail = compose_confirmation(stored_request(), dataclasses.replace(confirm_settings, confirmation_reply_to=""), PAGE)
    assert mail.reply_to == ()


# --- the cap ------------------------------------------------------------------------------------

class FakeCapStore:
    def __init__(self):
        self.items = {}

    def sends(self, who):
        sent, version = self.items.get(who, ({}, None))
        return dict(sent), version

    def record(self, who, sent, expires_at, previous_version):
        if self.items.get(who, ({}, None))[1] != previous_version:
            return False
        self.items[who] = (dict(sent), (previous_version or 0) + 1)
        return True


def test_three_confirmations_a_day_to_one_address_and_not_a_fourth():
    clock = Clock(RECEIVED)
    cap = ConfirmationCap(FakeCapStore(), lambda: KEY, now=clock)
    assert [cap.allow("ana@example.com", f"r{n}") for n in range(4)] == [True] * CAP_PER_DAY + [False]
    assert cap.allow("other@example.com", "r9")


def test_the_cap_counts_a_day_back_to_the_millisecond():
    clock = Clock(RECEIVED)
    cap = ConfirmationCap(FakeCapStore(), lambda: KEY, now=clock)
    for n in range(3):
        assert cap.allow("ana@example.com", f"r{n}")
    clock.advance(hours=23, minutes=59, seconds=59)
    assert not cap.allow("ana@example.com", "r3")
    clock.advance(seconds=1)  # the first is exactly 24 hours old: it no longer counts
    assert cap.allow("ana@example.com", "r4")


def test_a_retried_request_is_counted_once():
    cap = ConfirmationCap(FakeCapStore(), lambda: KEY, now=Clock(RECEIVED))
    assert all(cap.allow("ana@example.com", "r1") for _ in range(5))
    assert cap.allow("ana@example.com", "r2") and cap.allow("ana@example.com", "r3")
    assert not cap.allow("ana@example.com", "r4")


def test_at_the_cap_a_request_s_own_retry_is_still_allowed():
    cap = ConfirmationCap(FakeCapStore(), lambda: KEY, now=Clock(RECEIVED))
    assert [cap.allow("ana@example.com", f"r{n}") for n in (1, 2, 3)] == [True] * CAP_PER_DAY
    assert cap.allow("ana@example.com", "r3")  # its record retried: it was counted, so it may go
    assert not cap.allow("ana@example.com", "r4")


def test_an_erased_request_leaves_its_address_s_count_and_frees_its_place():
    store = FakeCapStore()
    cap = ConfirmationCap(store, lambda: KEY, now=Clock(RECEIVED))
    assert all(cap.allow("ana@example.com", f"r{n}") for n in (1, 2, 3))
    cap.forget("Ana@Example.com", "r2")
    assert "r2" not in repr(store.items)
    assert cap.allow("ana@example.com", "r4")


def test_forgetting_a_request_the_count_does_not_hold_writes_nothing():
    store = FakeCapStore()
    cap = ConfirmationCap(store, lambda: KEY, now=Clock(RECEIVED))
    cap.allow("ana@example.com", "r1")
    before = dict(store.items)
    cap.forget("ana@example.com", "r9")
    cap.forget("nobody@example.com", "r1")
    assert store.items == before


def test_the_cap_keys_addresses_by_a_keyed_hash_never_the_address():
    store = FakeCapStore()
    ConfirmationCap(store, lambda: KEY).allow("Ana@Example.com", "r1")
    (who,) = store.items
    assert who == address_key("ana@example.com", KEY) != address_key("ana@example.com", b"x" * 32)
    assert "ana" not in repr(store.items).lower()


# --- delivery -------------------------------------------------------------------------------------

class MarkingRepository(FakeRepository):
    def __init__(self, *requests):
        super().__init__(*requests)
        self.marks = []
        self.fail_confirm_marks = 0

    def mark_confirmed(self, request_id, outcome, now):
        if self.fail_confirm_marks:
            self.fail_confirm_marks -= 1
            raise StorageUnavailable()
        self.marks.append((request_id, outcome))
        self.items[request_id] = self.items[request_id].model_copy(
            update={"confirmed_at": now.isoformat(), "confirmation": outcome})
        return True


def delivery(repository, mailer, settings, cap=None):
    cap = cap or ConfirmationCap(FakeCapStore(), lambda: KEY, now=lambda: RECEIVED)
    return ConfirmationDelivery(repository, mailer, cap, settings, lambda request_id: f"{PAGE}/{request_id}",
                                now=lambda: RECEIVED + timedelta(seconds=2), sleep=lambda seconds: None)


def test_a_new_request_is_confirmed_once_however_often_its_records_come(confirm_settings):
    request = stored_request()
    repository, mailer = MarkingRepository(request), FakeMailer()
    confirm = delivery(repository, mailer, confirm_settings)
    assert confirm.deliver([record(request)]) == []
    assert confirm.deliver([record(request), record(request, event_name="MODIFY")]) == []
    assert [mail.to for mail in mailer.sent] == ["jose.garcia@example.com"]
    assert repository.marks == [(REF, "sent")]


FIRST = "firstrequestid0000000000"


def correction_of(first):
    return stored_request().model_copy(update={"corrects": first.id})


def test_a_correction_of_a_confirmed_request_gets_no_second_confirmation(confirm_settings):
    """The person corrected the request they had just sent, from the same page (intake.service): one confirmation is
    enough. Catches the consumer confirming every new request, `corrects` or not."""
    first = stored_request().model_copy(update={"id": FIRST, "confirmed_at": "2026-11-25T15:00:02.000Z",
                                                "confirmation": "sent"})
    correction = correction_of(first)
    repository, mailer = MarkingRepository(first, correction), FakeMailer()
    assert delivery(repository, mailer, confirm_settings).deliver([record(correction)]) == []
    assert mailer.sent == []
    assert repository.marks == [(REF, "correction")]


def test_a_correction_of_a_request_never_confirmed_is_the_one_confirmed(confirm_settings):
    """The first was kept as possible spam (autofill beat the time trap): skipping the correction too would leave the
    person with no confirmation at all."""
    first = stored_request().model_copy(update={"id": FIRST, "status": "suspected_spam"})
    correction = correction_of(first)
    repository, mailer = MarkingRepository(first, correction), FakeMailer()
    assert delivery(repository, mailer, confirm_settings).deliver([record(correction)]) == []
    assert [mail.to for mail in mailer.sent] == ["jose.garcia@example.com"]
    assert repository.marks == [(REF, "sent")]


def test_a_correction_whose_first_is_not_yet_decided_waits_for_it(confirm_settings):
    """Its record may come first, from another shard: retried, never sent twice, never left unsent."""
    first = stored_request().model_copy(update={"id": FIRST})
    correction = correction_of(first)
    repository, mailer = MarkingRepository(first, correction), FakeMailer()
    confirm = delivery(repository, mailer, confirm_settings)
    waiting = record(correction)
    assert confirm.deliver([waiting]) == [waiting.sequence_number]
    assert mailer.sent == []

    assert confirm.deliver([record(first)]) == []
    assert confirm.deliver([waiting]) == []
    assert len(mailer.sent) == 1 and repository.marks == [(FIRST, "sent"), (REF, "correction")]


def test_suspected_spam_is_never_confirmed_until_staff_rescue_it(confirm_settings):
    spam = stored_request().model_copy(update={"status": "suspected_spam"})
    repository, mailer = MarkingRepository(spam), FakeMailer()
    confirm = delivery(repository, mailer, confirm_settings)
    confirm.deliver([record(spam)])
    assert mailer.sent == []
    repository.items[REF] = spam.model_copy(update={"status": "new"})
    confirm.deliver([record(spam, event_name="MODIFY")])  # the status change itself confirms nothing
    assert mailer.sent == []
    confirm.deliver([rescue(spam)])
    assert len(mailer.sent) == 1


def test_a_rescued_request_is_confirmed_once_though_its_mark_fails_and_the_alert_s_mark_arrives(confirm_settings):
    """Item 14 of the review: the confirmation of a rescued request is sent but its mark fails; the alert's
    mark (a MODIFY of the request) then reaches a fresh consumer, which knows nothing of the first."""
    spam = stored_request().model_copy(update={"status": "new"})
    repository, mailer = MarkingRepository(spam), FakeMailer()
    repository.fail_confirm_marks = 10**6  # the mark fails, however often it is tried
    delivery(repository, mailer, confirm_settings).deliver([rescue(spam)])
    assert len(mailer.sent) == 1
    fresh = delivery(repository, mailer, confirm_settings)  # another Lambda container: no memory of the send
    assert fresh.deliver([record(spam, event_name="MODIFY")]) == []
    assert len(mailer.sent) == 1


def test_an_alert_mark_on_an_unconfirmed_request_sends_nothing_itself(confirm_settings):
    request = stored_request()
    repository, mailer = MarkingRepository(request), FakeMailer()
    assert delivery(repository, mailer, confirm_settings).deliver([record(request, event_name="MODIFY")]) == []
    assert mailer.sent == []


def test_ses_down_retries_the_record_and_it_is_sent_once_when_ses_is_back(confirm_settings):
    request = stored_request()
    repository, mailer = MarkingRepository(request), FakeMailer()
    confirm = delivery(repository, mailer, confirm_settings)
    mailer.failing = "Throttling"
    first = record(request)
    assert confirm.deliver([first]) == [first.sequence_number]
    assert confirm.deliver([first]) == [first.sequence_number]
    mailer.failing = None
    assert confirm.deliver([first]) == []
    assert confirm.deliver([first]) == []
    assert len(mailer.sent) == 1


def test_an_address_ses_cannot_take_is_skipped_and_marked_not_retried(confirm_settings):
    request = stored_request(email="jösé@example.com")
    repository = MarkingRepository(request)

    class Refusing(FakeMailer):
        def send(self, email):
            raise MailNotSent("address_not_sendable", retryable=False)

    assert delivery(repository, Refusing(), confirm_settings).deliver([record(request)]) == []
    assert repository.marks == [(REF, "address_not_sendable")]


def test_past_the_cap_the_request_is_marked_skipped_and_nothing_is_sent(confirm_settings):
    requests = [stored_request(id=f"req{n}") for n in range(4)]
    repository, mailer = MarkingRepository(*requests), FakeMailer()
    confirm = delivery(repository, mailer, confirm_settings)
    assert confirm.deliver([record(r) for r in requests]) == []
    assert len(mailer.sent) == 3
    assert repository.marks[-1] == ("req3", "over_daily_cap")


def test_a_failed_mark_after_sending_sends_nothing_twice(confirm_settings):
    request = stored_request()
    repository, mailer = MarkingRepository(request), FakeMailer()
    repository.fail_confirm_marks = MARK_ROUNDS
    confirm = delivery(repository, mailer, confirm_settings)
    assert confirm.deliver([record(request)]) == []  # counted as delivered: SES has it
    assert len(mailer.sent) == 1
    assert repository.marks == []


def test_a_mark_that_fails_once_is_tried_again_and_lands(confirm_settings):
    request = stored_request()
    repository, mailer = MarkingRepository(request), FakeMailer()
    repository.fail_confirm_marks = MARK_ROUNDS - 1
    assert delivery(repository, mailer, confirm_settings).deliver([record(request)]) == []
    assert repository.marks == [(REF, "sent")] and len(mailer.sent) == 1


def test_a_batch_retried_past_a_sent_but_unmarked_confirmation_sends_it_once(confirm_settings):
    """A is sent and its mark fails every round; a later record B fails; the batch comes again."""
    a, b = stored_request(), stored_request(id="req-b", email="b.person@example.com")
    repository, mailer = MarkingRepository(a, b), FakeMailer()
    confirm = delivery(repository, mailer, confirm_settings)
    repository.fail_confirm_marks = MARK_ROUNDS
    real_send = mailer.send
    mailer.send = lambda email: (_ for _ in ()).throw(MailNotSent("Throttling", retryable=True)) \
        if email.to == "b.person@example.com" else real_send(email)
    batch = [record(a), record(b)]
    assert confirm.deliver(batch) == [batch[1].sequence_number]
    mailer.send = real_send
    assert confirm.deliver(batch) == []
    assert sorted(mail.to for mail in mailer.sent) == ["b.person@example.com", "jose.garcia@example.com"]
    assert sorted(repository.marks) == [(REF, "sent"), ("req-b", "sent")]


def test_confirmations_off_sends_nothing_and_reads_nothing(confirm_settings):
    request = stored_request()
    repository, mailer = MarkingRepository(request), FakeMailer()
    assert delivery(repository, mailer, dataclasses.replace(confirm_settings, confirmations=False)).deliver(
        [record(request)]) == []
    assert mailer.sent == [] and repository.reads == []


def test_an_erased_request_is_not_confirmed(confirm_settings):
    request = stored_request()
    repository, mailer = MarkingRepository(), FakeMailer()
    assert delivery(repository, mailer, confirm_settings).deliver([record(request)]) == []
    assert mailer.sent == []


def test_a_spanish_request_is_confirmed_in_spanish_with_the_date_in_spanish(confirm_settings):
    from datetime import datetime, timezone

    settings = dataclasses.replace(confirm_settings, languages=("en", "es"))
    request = stored_request(preferred_contact="text").model_copy(update={
        "language": "es", "due_at": datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc)})

    mail = compose_confirmation(request, settings, PAGE)

    assert mail.subject == "Hemos recibido su solicitud de cita"
    for text in (mail.text, mail.html):
        assert "Gracias por su solicitud de cita. Downtown Clinic la ha recibido." in text
        assert "nos comunicaremos con usted por mensaje de texto, a más tardar el martes 8 de diciembre a las 12:00." in text
        assert f"Su número de referencia: {REF}" in text
        assert "Ofrecemos ayuda con el idioma sin costo: llame a Downtown Clinic al +1 212-555-0100" in text
    assert '<html lang="es">' in mail.html


def test_a_language_the_stage_no_longer_offers_is_confirmed_in_the_default(confirm_settings):
    request = stored_request().model_copy(update={"language": "es"})
    english_only = dataclasses.replace(confirm_settings, languages=("en",))
    assert compose_confirmation(request, english_only, PAGE).subject == SUBJECT


@pytest.mark.parametrize("language, words", [
    ("en", "You can follow your request, or tell us you no longer need it, on its page:"),
    ("es", "Puede seguir su solicitud, o decirnos que ya no la necesita, en su página:"),
])
def test_it_links_the_patient_s_page_given_for_the_request(confirm_settings, language, words):
    """Catches a confirmation without the link (the patient's only way to answer without calling), or with
    another request's: the delivery asks page_url for the id of the request it confirms."""
    request = stored_request().model_copy(update={"language": language})
    repository, mailer = MarkingRepository(request), FakeMailer()
    delivery(repository, mailer, dataclasses.replace(confirm_settings, languages=("en", "es"))).deliver([record(request)])
    [mail] = mailer.sent
    assert f"{words}\n{PAGE}/{REF}\n" in mail.text
    assert f'<a href="{PAGE}/{REF}">{PAGE}/{REF}</a>' in mail.html
