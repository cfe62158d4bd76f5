"""The steps of a submission, with an in-memory repository: no AWS, exact times and ids."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.errors import IdempotencyConflict, StorageUnavailable, ValidationFailed
from chalicelib.intake.service import SPAM_RETENTION_DAYS, AppointmentService, derived_id
from chalicelib.storage.appointments import Existing
from tests.conftest import TEST_ID_KEY, id_key, valid_fields
from tests.fakes import Clock, FakeRepository, Ids, UnavailableRepository

NEW_YORK = ZoneInfo("America/New_York")
KEY = "order-7f3a9c21"


@pytest.fixture
def repository():
    return FakeRepository()


@pytest.fixture
def clock(fixed_now):
    return Clock(fixed_now)


@pytest.fixture
def ids():
    return Ids()


@pytest.fixture
def service(repository, settings, clock, ids):
    return AppointmentService(repository, settings, id_key, now=clock, new_id=ids)


def stored(repository, request_id):
    return repository.requests[request_id]


def test_a_valid_request_is_stored_as_new(service, repository, fixed_now):
    receipt = service.submit(valid_fields(reason="knee", message="Twisted it skiing."))

    request = stored(repository, receipt.id)
    assert receipt.status == "received"
    assert not receipt.replayed
    assert request.status == "new"
    assert request.created_at == fixed_now
    assert request.location == "downtown"
    assert request.fields == {
        "first_name": "Zoë",
        "last_name": "Okonkwo-Lindqvist",
        "email": "zoe.okonkwo@example.com",
        "phone": "+12125550142",
        "location": "downtown",
        "contact_consent": True,
        "preferred_contact": "phone",
        "reason": "knee",
        "message": "Twisted it skiing.",
    }


def test_unknown_fields_are_not_stored(service, repository):
    receipt = service.submit(valid_fields(utm_source="newsletter", is_admin=True, website=""))

    assert set(stored(repository, receipt.id).fields) == {
        "first_name", "last_name", "email", "phone", "location", "contact_consent", "preferred_contact",
    }


def test_double_click_is_one_request(service, repository, clock):
    first = service.submit(valid_fields(), KEY)
    clock.advance(seconds=1)
    second = service.submit(valid_fields(), KEY)

    assert second.id == first.id == derived_id(f"key:{KEY}", TEST_ID_KEY)
    assert not first.replayed
    assert second.replayed
    assert list(repository.requests) == [first.id]


def test_retry_with_the_same_key_a_day_later_minus_a_second_is_still_a_replay(service, repository, clock):
    first = service.submit(valid_fields(), KEY)
    clock.advance(hours=24, seconds=-1)

    assert service.submit(valid_fields(), KEY).id == first.id
    assert len(repository.requests) == 1


def test_same_key_with_different_content_is_a_conflict(service, repository):
    first = service.submit(valid_fields(), KEY)

    with pytest.raises(IdempotencyConflict):
        service.submit(valid_fields(message="Something else entirely."), KEY)
    assert stored(repository, first.id).fields.get("message") is None
    assert len(repository.requests) == 1


def test_same_key_with_the_same_normalised_content_is_a_replay_not_a_conflict(service, repository):
    first = service.submit(valid_fields(email="zoe.okonkwo@EXAMPLE.com", phone="212-555-0142"), KEY)
    again = service.submit(valid_fields(email="zoe.okonkwo@example.com", phone=" (212) 555 0142 ", website=""), KEY)

    assert again.id == first.id
    assert again.replayed


def test_key_reused_after_24_hours_is_a_new_request_and_nothing_is_overwritten(service, repository, clock):
    first = service.submit(valid_fields(), KEY)
    first_stored = stored(repository, first.id)
    clock.advance(hours=24)

    second = service.submit(valid_fields(message="A new request, a day later."), KEY)

    assert second.id != first.id
    assert not second.replayed
    assert stored(repository, first.id) == first_stored
    assert stored(repository, second.id).fields["message"] == "A new request, a day later."


def test_retry_of_a_request_made_with_a_reused_key_is_a_replay(service, repository, clock):
    service.submit(valid_fields(), KEY)
    clock.advance(days=3)
    second = service.submit(valid_fields(message="A new request with an old key."), KEY)
    clock.advance(seconds=2)

    retry = service.submit(valid_fields(message="A new request with an old key."), KEY)

    assert retry.id == second.id
    assert retry.replayed
    assert len(repository.requests) == 2


def test_retry_of_a_reused_key_is_found_across_a_window_boundary(service, repository, clock, settings):
    service.submit(valid_fields(), KEY)
    # Just before midnight UTC, then just after: the retry's window slot is a new one.
    clock.now = datetime(2026, 11, 27, 23, 59, 59, tzinfo=timezone.utc)
    second = service.submit(valid_fields(message="Late at night."), KEY)
    clock.advance(seconds=2)

    retry = service.submit(valid_fields(message="Late at night."), KEY)
    assert retry.id == second.id
    assert len(repository.requests) == 2
    with pytest.raises(IdempotencyConflict):
        service.submit(valid_fields(message="Something else."), KEY)


def test_identical_keyless_submission_within_ten_minutes_is_a_replay(service, repository, clock):
    first = service.submit(valid_fields())
    clock.advance(minutes=9, seconds=59)
    again = service.submit(valid_fields())

    assert again.id == first.id == derived_id(f"content:{stored(repository, first.id).content_hash}", TEST_ID_KEY)
    assert again.replayed
    assert len(repository.requests) == 1


def test_identical_keyless_submission_after_ten_minutes_is_a_new_request(service, repository, clock):
    first = service.submit(valid_fields())
    clock.advance(minutes=10)
    again = service.submit(valid_fields())

    assert again.id != first.id
    assert not again.replayed
    assert len(repository.requests) == 2


def test_double_click_on_a_resubmitted_identical_request_is_one_request(service, repository, clock):
    service.submit(valid_fields())
    clock.advance(hours=2)
    second = service.submit(valid_fields())
    clock.advance(seconds=1)

    assert service.submit(valid_fields()).id == second.id
    assert len(repository.requests) == 2


def test_keyless_submissions_with_different_content_are_different_requests(service, repository):
    first = service.submit(valid_fields())
    second = service.submit(valid_fields(preferred_time="morning"))

    assert first.id != second.id
    assert len(repository.requests) == 2


def test_an_id_taken_by_another_item_is_never_overwritten(service, repository):
    squatter = stored(repository, service.submit(valid_fields(first_name="Amara")).id)
    taken_id = derived_id(f"key:{KEY}", TEST_ID_KEY)
    repository.requests[taken_id] = squatter.model_copy(update={"id": taken_id})

    receipt = service.submit(valid_fields(), KEY)

    assert receipt.id != taken_id
    assert not receipt.replayed
    assert stored(repository, taken_id).fields["first_name"] == "Amara"
    assert stored(repository, receipt.id).fields["first_name"] == "Zoë"


def test_when_every_id_tried_is_taken_the_caller_is_asked_to_retry(settings, fixed_now):
    class Occupied(FakeRepository):
        def add(self, request):
            self.calls.append(("add", request.id))
            return Existing(request.id, "key:someone-else", "other", fixed_now)

    repository = Occupied()
    service = AppointmentService(repository, settings, id_key, now=lambda: fixed_now, new_id=Ids())

    with pytest.raises(StorageUnavailable):
        service.submit(valid_fields(), KEY)
    day = int(fixed_now.timestamp() // 86400)
    assert repository.calls == [
        ("add", derived_id(f"key:{KEY}", TEST_ID_KEY)),
        ("find", derived_id(f"key:{KEY}#{day - 1}", TEST_ID_KEY)),
        ("add", derived_id(f"key:{KEY}#{day}", TEST_ID_KEY)),
        ("add", "id-1"),
        ("add", "id-2"),
    ]


def test_honeypot_is_stored_as_suspected_spam_and_kept_only_briefly(service, repository, fixed_now):
    receipt = service.submit(valid_fields(website="http://cheap-pills.example"))

    request = stored(repository, receipt.id)
    assert receipt.status == "received"
    assert not receipt.replayed
    assert request.status == "suspected_spam"
    assert "website" not in request.fields
    assert request.expires_at == int((fixed_now + timedelta(days=SPAM_RETENTION_DAYS)).timestamp())


def test_real_request_is_kept_for_the_configured_retention(service, repository, settings, fixed_now):
    request = stored(repository, service.submit(valid_fields()).id)

    assert settings.retention_days == 365
    assert request.expires_at == int((fixed_now + timedelta(days=365)).timestamp())
    assert request.expires_at > int((fixed_now + timedelta(days=SPAM_RETENTION_DAYS)).timestamp())


def test_honeypot_with_the_same_key_as_a_real_request_is_a_conflict(service):
    service.submit(valid_fields(), KEY)

    with pytest.raises(IdempotencyConflict):
        service.submit(valid_fields(website="spam"), KEY)


def test_consent_evidence_records_the_time_and_the_wording_version(service, repository, settings):
    request = stored(repository, service.submit(valid_fields()).id)

    assert request.contact_consent.given_at == "2026-11-25T15:00:00.000Z"
    assert request.contact_consent.version == settings.consent_version == "2026-12-06"
    assert request.sms_consent is None


def test_sms_consent_evidence_is_kept_when_given(service, repository):
    request = stored(repository, service.submit(valid_fields(preferred_contact="text", sms_consent=True)).id)

    assert request.sms_consent == request.contact_consent
    assert request.fields["sms_consent"] is True


def test_times_are_recorded_in_utc_whatever_zone_the_clock_gives(repository, settings):
    moment = datetime(2026, 11, 25, 10, 0, tzinfo=NEW_YORK)
    service = AppointmentService(repository, settings, id_key, now=lambda: moment)

    request = stored(repository, service.submit(valid_fields()).id)

    assert request.contact_consent.given_at == "2026-11-25T15:00:00.000Z"
    assert request.expires_at == int(datetime(2027, 11, 25, 15, 0, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize("utc_moment, accepted", [
    # 23:59 on 25 November in New York is already 26 November in UTC.
    (datetime(2026, 11, 26, 4, 59, tzinfo=timezone.utc), True),
    # 00:01 on 26 November in New York: the 25th is now in the past.
    (datetime(2026, 11, 26, 5, 1, tzinfo=timezone.utc), False),
])
def test_today_is_the_clinics_date_not_utcs(repository, settings, utc_moment, accepted):
    service = AppointmentService(repository, settings, id_key, now=lambda: utc_moment)

    if accepted:
        receipt = service.submit(valid_fields(preferred_date="2026-11-25"))
        assert stored(repository, receipt.id).fields["preferred_date"] == "2026-11-25"
    else:
        with pytest.raises(ValidationFailed) as failed:
            service.submit(valid_fields(preferred_date="2026-11-25"))
        assert failed.value.fields == {"preferred_date": "The preferred date cannot be in the past."}


def test_180_days_ahead_is_counted_from_the_clinics_date(repository, settings):
    # 00:30 UTC on 1 March is still 28 February in New York.
    service = AppointmentService(repository, settings, id_key, now=lambda: datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc))

    with pytest.raises(ValidationFailed) as failed:
        service.submit(valid_fields(preferred_date="2027-08-28"))
    assert set(failed.value.fields) == {"preferred_date"}
    receipt = service.submit(valid_fields(preferred_date="2027-08-27"))
    assert stored(repository, receipt.id).fields["preferred_date"] == "2027-08-27"


@pytest.mark.parametrize("key", [
    "short",
    "has spaces in it",
    "semi;colon-key",
    "ключ-ключ-ключ",
    "x" * 129,
    "",
    12345678,
    ["order-7f3a9c21"],
    {"key": "order-7f3a9c21"},
    True,
])
def test_invalid_idempotency_key_is_reported_on_its_field(service, repository, key):
    with pytest.raises(ValidationFailed) as failed:
        service.submit(valid_fields(), key)

    assert failed.value.fields == {"Idempotency-Key": "Use 8 to 128 characters of A-Z, a-z, 0-9, _ and -."}
    assert repository.requests == {}


@pytest.mark.parametrize("key", ["a" * 8, "A" * 128, "Zz0_-Zz0_-"])
def test_valid_idempotency_keys_are_accepted(service, key):
    assert not service.submit(valid_fields(), key).replayed


def test_invalid_key_is_reported_alongside_the_forms_errors(service):
    with pytest.raises(ValidationFailed) as failed:
        service.submit(valid_fields(email="nobody", location="moon"), "bad", "submission_id")

    assert set(failed.value.fields) == {"email", "location", "submission_id"}


def test_invalid_form_stores_nothing(service, repository):
    with pytest.raises(ValidationFailed):
        service.submit(valid_fields(contact_consent=False))

    assert repository.requests == {}
    assert repository.calls == []


def test_storage_failure_is_storage_unavailable(settings, fixed_now):
    service = AppointmentService(UnavailableRepository(), settings, id_key, now=lambda: fixed_now)

    with pytest.raises(StorageUnavailable):
        service.submit(valid_fields(), KEY)


def test_an_id_cannot_be_computed_from_what_was_sent_without_the_deployment_key(settings, fixed_now):
    def submitted(key):
        repository = FakeRepository()
        receipt = AppointmentService(repository, settings, lambda: key, now=lambda: fixed_now).submit(valid_fields())
        return receipt.id, stored(repository, receipt.id)

    first_id, first = submitted(b"k" * 32)
    again_id, _ = submitted(b"k" * 32)
    other_id, other = submitted(b"q" * 32)

    assert first_id == again_id  # one deployment: a replay lands on the same id
    assert other_id != first_id  # another key: nothing to recompute from the content alone
    assert other.content_hash != first.content_hash and other.dedupe_key != first.dedupe_key


def test_the_key_is_not_fetched_for_a_submission_that_fails_validation(repository, settings, fixed_now):
    def no_key():
        raise AssertionError("the key was fetched")

    with pytest.raises(ValidationFailed):
        AppointmentService(repository, settings, no_key, now=lambda: fixed_now).submit(valid_fields(email="nope"))


def test_the_consent_version_stored_is_the_one_the_form_showed(repository, settings, fixed_now):
    settings = replace(settings, consent_version="2026-12-01", consent_versions=("2026-12-01", "2026-11-01"))
    service = AppointmentService(repository, settings, id_key, now=lambda: fixed_now)

    older_page = service.submit(valid_fields(consent_version="2026-11-01", sms_consent=True))
    script = service.submit(valid_fields(message="no version given"))

    assert stored(repository, older_page.id).contact_consent.version == "2026-11-01"
    assert stored(repository, older_page.id).sms_consent.version == "2026-11-01"
    assert "consent_version" not in stored(repository, older_page.id).fields
    assert stored(repository, script.id).contact_consent.version == "2026-12-01"


@pytest.mark.parametrize("version", ["2020-01-01", 7, "2026-11-01,2026-12-01"])
def test_a_consent_version_the_service_does_not_know_is_refused(repository, settings, fixed_now, version):
    service = AppointmentService(repository, settings, id_key, now=lambda: fixed_now)
    with pytest.raises(ValidationFailed) as failed:
        service.submit(valid_fields(consent_version=version))
    assert set(failed.value.fields) == {"consent_version"}


def test_a_request_is_due_after_the_target_in_its_locations_opening_hours(service, repository, fixed_now):
    # Wednesday 10:00 in New York; downtown opens 08:00-18:00 on Wednesdays; the target is 8 hours.
    request = stored(repository, service.submit(valid_fields(location="downtown")).id)

    assert fixed_now.astimezone(NEW_YORK).hour == 10
    assert request.due_at == datetime(2026, 11, 25, 18, 0, tzinfo=NEW_YORK)


def test_a_location_open_around_the_clock_is_due_8_hours_later(service, repository, fixed_now):
    request = stored(repository, service.submit(valid_fields(location="northside")).id)

    assert request.due_at == fixed_now + timedelta(hours=8)


def test_possible_spam_waits_for_nobody(service, repository):
    assert stored(repository, service.submit(valid_fields(website="x")).id).due_at is None


@pytest.mark.parametrize("sent, accept_language, stored_language", [
    ({"language": "es"}, "en-US,en", "es"),      # the field first
    ({}, "es-MX,es;q=0.9", "es"),                # else the request's Accept-Language
    ({}, "fr-FR,de;q=0.5", "en"),                # else the default
    ({}, None, "en"),
    ({"language": " ES "}, None, "es"),
])
def test_the_request_keeps_the_patients_language(repository, settings, fixed_now, sent, accept_language,
                                                 stored_language):
    from dataclasses import replace

    service = AppointmentService(repository, replace(settings, languages=("en", "es")), id_key,
                                 now=Clock(fixed_now), new_id=Ids())
    receipt = service.submit(valid_fields(**sent), accept_language=accept_language)

    assert stored(repository, receipt.id).language == stored_language
    assert "language" not in stored(repository, receipt.id).fields


def test_a_language_that_is_not_offered_is_refused_on_its_field(repository, settings, fixed_now):
    from dataclasses import replace

    service = AppointmentService(repository, replace(settings, languages=("en", "es")), id_key, now=Clock(fixed_now))
    with pytest.raises(ValidationFailed) as failed:
        service.submit(valid_fields(language="fr"))
    assert failed.value.fields == {"language": "Choose one of: en, es."}
