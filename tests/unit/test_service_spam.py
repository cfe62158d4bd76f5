"""A submission judged by the spam rules, with an in-memory repository: what is stored, and as what."""
import json
from datetime import timedelta

import pytest

from chalicelib.intake import spam
from chalicelib.intake.service import SPAM_RETENTION_DAYS, AppointmentService
from tests.conftest import TEST_ID_KEY, captured_log_lines, id_key, valid_fields
from tests.fakes import Clock, FakeRepository, Ids

TOKEN_KEY = spam.token_key(TEST_ID_KEY)


@pytest.fixture
def repository():
    return FakeRepository()


@pytest.fixture
def clock(fixed_now):
    return Clock(fixed_now)


@pytest.fixture
def service(repository, settings, clock):
    return AppointmentService(repository, settings, id_key, now=clock, new_id=Ids())


def service_with(repository, settings, clock, **changes):
    from dataclasses import replace

    return AppointmentService(repository, replace(settings, **changes), id_key, now=clock, new_id=Ids())


@pytest.fixture
def served(clock):
    """A form token issued now; the clock then moves on as a person fills the form."""
    token = spam.issue_token(TOKEN_KEY, clock())
    clock.advance(seconds=40)
    return token


def stored(repository, receipt):
    return repository.requests[receipt.id]


def test_a_person_with_a_token_is_stored_as_new_with_no_reasons(service, repository, served, settings, fixed_now):
    receipt = service.submit(valid_fields(form_token=served, message="Knee, see https://clinic.example/knee"))

    request = stored(repository, receipt)
    assert request.status == "new"
    assert request.spam_reasons == ()
    assert request.spam_signals == {}
    assert "form_token" not in request.fields
    assert request.expires_at == int((fixed_now + timedelta(seconds=40, days=settings.retention_days)).timestamp())


def test_a_request_sent_too_soon_is_suspected_spam_kept_briefly_with_its_figures(service, repository, clock):
    token = spam.issue_token(TOKEN_KEY, clock())
    clock.advance(seconds=1.2)

    receipt = service.submit(valid_fields(form_token=token))

    request = stored(repository, receipt)
    assert (receipt.status, receipt.replayed) == ("received", False)
    assert request.status == "suspected_spam"
    assert request.spam_reasons == ("too_fast",)
    assert request.spam_signals == {"fill_ms": 1200}
    assert request.expires_at == int((clock() + timedelta(days=SPAM_RETENTION_DAYS)).timestamp())


def test_a_forged_token_and_two_links_are_both_reasons(service, repository):
    receipt = service.submit(valid_fields(form_token="A" * spam.TOKEN_LENGTH, message="http://a.example www.b.example"))

    request = stored(repository, receipt)
    assert request.spam_reasons == ("token_invalid", "links")
    assert request.spam_signals == {"links": 2}


def test_the_honeypot_is_a_reason(service, repository, served):
    assert stored(repository, service.submit(valid_fields(form_token=served, website="x"))).spam_reasons == (
        "honeypot",)


def test_no_token_is_a_reason_only_where_tokens_are_required(repository, settings, clock):
    optional = service_with(repository, settings, clock, form_tokens="optional")
    required = service_with(repository, settings, clock, form_tokens="required")

    assert stored(repository, optional.submit(valid_fields(first_name="Ana"))).status == "new"
    assert stored(repository, required.submit(valid_fields(first_name="Bo"))).spam_reasons == ("no_token",)


def test_the_time_trap_follows_min_fill_seconds(repository, settings, clock):
    token = spam.issue_token(TOKEN_KEY, clock())
    clock.advance(seconds=9)
    patient = service_with(repository, settings, clock, min_fill_seconds=10)

    assert stored(repository, patient.submit(valid_fields(form_token=token))).spam_reasons == ("too_fast",)


def test_a_token_older_than_its_maximum_age_is_invalid(repository, settings, clock):
    token = spam.issue_token(TOKEN_KEY, clock())
    clock.advance(hours=2, milliseconds=1)
    service = service_with(repository, settings, clock, form_token_max_age_hours=2)

    assert stored(repository, service.submit(valid_fields(form_token=token))).spam_reasons == ("token_invalid",)


def test_the_same_token_with_the_same_content_is_a_replay(service, repository, served, clock):
    first = service.submit(valid_fields(form_token=served), "click-one-key")
    clock.advance(seconds=5)
    again = service.submit(valid_fields(form_token=served), "another-key-entirely")

    assert again.id == first.id
    assert again.replayed
    assert len(repository.requests) == 1


def test_a_spent_token_on_other_content_half_an_hour_later_is_kept_as_token_reused(service, repository, served,
                                                                                    clock):
    first = service.submit(valid_fields(form_token=served))
    clock.advance(minutes=30, seconds=1)
    second = service.submit(valid_fields(form_token=served, first_name="Someone", email="other@example.com"))

    assert second.id != first.id
    assert not second.replayed
    assert stored(repository, first).status == "new"
    reused = stored(repository, second)
    assert (reused.status, reused.spam_reasons, reused.corrects) == ("suspected_spam", ("token_reused",), None)
    assert reused.fields["first_name"] == "Someone"


def test_a_spent_token_replays_for_its_whole_life_not_ten_minutes(service, repository, served, clock, settings):
    """Catches a token's replay window of REPLAY_WINDOW (10 min) instead of FORM_TOKEN_MAX_AGE_HOURS: a harvested
    token would then work again, as a new request, ten minutes after it was spent."""
    first = service.submit(valid_fields(form_token=served))
    clock.advance(hours=settings.form_token_max_age_hours - 1)
    again = service.submit(valid_fields(form_token=served))
    other = service.submit(valid_fields(form_token=served, first_name="Harvested"))

    assert (again.id, again.replayed) == (first.id, True)
    assert stored(repository, other).spam_reasons == ("token_reused",)


def test_a_correction_sent_again_from_the_same_page_is_a_request_that_names_the_first(service, repository, served,
                                                                                      clock):
    """A person sends, goes Back, fixes their phone number and sends again: not spam, and staff see which it corrects."""
    first = service.submit(valid_fields(form_token=served))
    clock.advance(minutes=29)
    fixed = service.submit(valid_fields(form_token=served, phone="212-555-0199"))

    correction = stored(repository, fixed)
    assert (correction.status, correction.spam_reasons, correction.corrects) == ("new", (), first.id)
    assert correction.due_at is not None and not fixed.replayed
    again = service.submit(valid_fields(form_token=served, phone="212-555-0199"))  # its own retry
    assert (again.id, again.replayed, len(repository.requests)) == (fixed.id, True, 2)


def test_two_corrections_are_requests_a_third_is_token_reused(service, repository, served, clock):
    first = service.submit(valid_fields(form_token=served))
    two = service.submit(valid_fields(form_token=served, first_name="Two"))
    three = service.submit(valid_fields(form_token=served, first_name="Three"))
    four = service.submit(valid_fields(form_token=served, first_name="Four"))

    assert [stored(repository, r).corrects for r in (two, three)] == [first.id, first.id]
    assert [stored(repository, r).status for r in (first, two, three, four)] == ["new", "new", "new", "suspected_spam"]
    assert stored(repository, four).spam_reasons == ("token_reused",)


def test_a_correction_for_another_location_is_token_reused(service, repository, served):
    service.submit(valid_fields(form_token=served))
    other = service.submit(valid_fields(form_token=served, location="northside"))

    assert stored(repository, other).spam_reasons == ("token_reused",)


def test_spending_a_token_costs_one_write_and_nothing_else(service, repository, served):
    service.submit(valid_fields(form_token=served))

    assert [call for call, _ in repository.calls] == ["add"]


def test_one_log_line_per_suspected_request_with_its_reasons_and_nothing_personal(service, clock):
    before = len(captured_log_lines())
    token = spam.issue_token(TOKEN_KEY, clock())

    receipt = service.submit(valid_fields(form_token=token, message="http://a.example http://b.example"))

    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    [line] = [line for line in lines if line.get("event") == "spam_suspected"]
    assert line["appointment_id"] == receipt.id
    assert line["reasons"] == ["too_fast", "links"]
    for value in valid_fields().values():
        assert str(value) not in json.dumps(line)
    assert "example" not in json.dumps(line)


def test_a_person_makes_no_spam_line(service, served):
    before = len(captured_log_lines())
    service.submit(valid_fields(form_token=served))

    assert not any('"spam_suspected"' in line for line in captured_log_lines()[before:])


def test_a_correction_s_own_retry_arriving_after_the_window_is_its_replay(service, repository, served, clock):
    """Catches checking the 30 minutes before looking for the correction itself: a network retry landing at 30:01
    became a second, token_reused request."""
    service.submit(valid_fields(form_token=served))
    clock.advance(minutes=29, seconds=59)
    fixed = service.submit(valid_fields(form_token=served, phone="212-555-0199"))
    clock.advance(seconds=3)
    retried = service.submit(valid_fields(form_token=served, phone="212-555-0199"))

    assert (retried.id, retried.replayed, len(repository.requests)) == (fixed.id, True, 2)
