"""Overdue requests escalated once per location, with fixed clocks and in-memory fakes."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import AlertNotSent
from chalicelib.notify.escalation import EVENT, LISTED, Escalation, compose_escalation
from chalicelib.storage.due import Waiting
from tests.alerting import aws_subject_problems
from tests.conftest import captured_log_lines
from tests.fakes import Clock, FakeDueRepository, FakePublisher

NOW = datetime(2026, 12, 8, 15, 0, tzinfo=timezone.utc)


def iso(moment):
    from chalicelib.core.clock import utc_iso

    return utc_iso(moment)


@pytest.fixture
def due():
    return FakeDueRepository()


@pytest.fixture
def sns():
    return FakePublisher()


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def escalation(due, sns, settings, clock):
    return Escalation(due, sns, settings, now=clock)


def bodies(sns):
    return [json.loads(alert.message)["default"] for alert in sns.sent]


def test_a_request_past_its_due_time_is_escalated_once_with_its_link(escalation, due, sns, settings):
    due.wait("r1aaaaaaaaaaaaaaaaaaaaaa", "downtown", iso(NOW - timedelta(hours=1, minutes=5)))

    assert escalation.run() == {"downtown": 1}
    assert escalation.run() == {}

    [alert] = sns.sent
    assert alert.attributes["event"]["StringValue"] == EVENT
    assert alert.attributes["location"]["StringValue"] == "downtown"
    [body] = bodies(sns)
    assert "overdue by 1 h 5 min" in body
    assert f"{settings.public_base_url}/staff/requests/r1aaaaaaaaaaaaaaaaaaaaaa" in body
    assert "ref r1aaaaaa" in body


def test_exactly_at_its_due_time_it_is_overdue_and_a_millisecond_before_it_is_not(escalation, due, sns):
    due.wait("at", "downtown", iso(NOW))
    due.wait("before", "downtown", "2026-12-08T15:00:00.001Z")

    assert escalation.run() == {"downtown": 1}
    assert "ref at," in bodies(sns)[0] and "before" not in bodies(sns)[0]


def test_one_message_per_location(escalation, due, sns):
    for request_id, location in (("a1", "downtown"), ("a2", "downtown"), ("b1", "lakeview")):
        due.wait(request_id, location, iso(NOW - timedelta(minutes=30)))

    assert escalation.run() == {"downtown": 2, "lakeview": 1}
    assert sorted(alert.attributes["location"]["StringValue"] for alert in sns.sent) == ["downtown", "lakeview"]
    assert any(alert.subject.endswith("(2)") for alert in sns.sent)


def test_a_request_contacted_meanwhile_is_not_escalated(escalation, due, sns):
    due.wait("r1", "downtown", iso(NOW - timedelta(hours=2)), status="contacted")

    assert escalation.run() == {}
    assert sns.sent == []


def test_a_retried_run_escalates_nothing_twice(escalation, due, sns):
    due.wait("r1", "downtown", iso(NOW - timedelta(hours=2)))
    escalation.run()

    escalation.run()  # the scheduler's retry of a run that did its work

    assert len(sns.sent) == 1


def test_two_overlapping_runs_escalate_each_request_once(due, sns, settings, clock):
    """The second run reads the index before the first has claimed anything: each claim is conditional."""
    due.wait("r1", "downtown", iso(NOW - timedelta(hours=2)))
    due.wait("r2", "downtown", iso(NOW - timedelta(hours=1)))
    first, second = Escalation(due, sns, settings, now=clock), Escalation(due, sns, settings, now=clock)
    seen_by_second = due.overdue(iso(NOW))
    due_overdue = due.overdue
    due.overdue = lambda now: seen_by_second  # the second run's read happened before the first's claims

    first.run()
    second.run()
    due.overdue = due_overdue

    sent = "".join(bodies(sns))
    assert sent.count("ref r1,") == 1 and sent.count("ref r2,") == 1


def test_a_message_sns_refuses_is_released_for_the_next_run(escalation, due, sns, clock):
    due.wait("r1", "downtown", iso(NOW - timedelta(hours=2)))
    sns.failing = True

    with pytest.raises(AlertNotSent):
        escalation.run()

    sns.failing = False
    clock.advance(minutes=15)
    assert escalation.run() == {"downtown": 1}
    assert len(sns.sent) == 1


def test_the_message_names_no_patient_and_its_subject_obeys_sns(settings):
    overdue = [Waiting("k5qg2n4xw7ybz3hd6tjm8rfc", "lakeview", iso(NOW - timedelta(days=2, hours=3)))]
    alert = compose_escalation("lakeview", overdue, settings, NOW)

    assert aws_subject_problems(alert.subject) == []
    assert set(alert.attributes) == {"location", "event"}
    message = json.loads(alert.message)
    assert set(message) == {"default", "email", "sms"}
    assert "overdue by 2 d 3 h" in message["default"]
    assert "/staff/?overdue=true&location=lakeview" in message["sms"]


def test_a_long_list_is_cut_with_a_link_to_the_rest(settings):
    overdue = [Waiting(f"r{n:023d}", "downtown", iso(NOW - timedelta(hours=1))) for n in range(LISTED + 7)]
    body = json.loads(compose_escalation("downtown", overdue, settings, NOW).message)["default"]

    assert body.count("/staff/requests/") == LISTED
    assert "and 7 more" in body
    assert len(json.dumps(body).encode()) < 64 * 1024


def test_each_run_logs_a_metric_line_per_location_and_nothing_personal(escalation, due):
    due.wait("r1", "downtown", iso(NOW - timedelta(hours=2)))
    before = len(captured_log_lines())

    escalation.run()

    [line] = [json.loads(line) for line in captured_log_lines()[before:] if '"escalated"' in line]
    assert line["OverdueEscalated"] == 1 and line["location"] == "downtown"
    (metrics,) = line["_aws"]["CloudWatchMetrics"]
    assert metrics["Metrics"] == [{"Name": "OverdueEscalated", "Unit": "Count"}]
    assert all(name in line for name in metrics["Dimensions"][0])
