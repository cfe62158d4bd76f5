"""Overdue requests escalated once per location, with fixed clocks and in-memory fakes."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from botocore.exceptions import ClientError

from chalicelib.core.errors import AlertNotSent
from chalicelib.notify.escalation import EVENT, LISTED, Escalation, compose_escalation
from chalicelib.storage.due import MAX_PAGES, PAGE, DueRepository, Waiting
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


class PagedDynamoDB:
    """DynamoDB as storage.due.DueRepository uses it: the sparse by_due index read a page (`Limit` items) at a time,
    with LastEvaluatedKey while more match, and the conditional claim that takes a request off the index."""

    def __init__(self):
        self.items = {}  # pk -> item, in DynamoDB JSON
        self.queries = []

    def wait(self, request_id, location, due_at):
        self.items[f"APPT#{request_id}"] = {"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"},
                                            "entity": {"S": "appointment"}, "status": {"S": "new"},
                                            "id": {"S": request_id}, "location": {"S": location},
                                            "due_at": {"S": due_at}, "due_queue": {"S": "new"}}

    def query(self, **request):
        assert request["IndexName"] == "by_due" and request["Limit"] <= 100
        self.queries.append(request)
        now = request["ExpressionAttributeValues"][":now"]["S"]
        on_index = sorted((item for item in self.items.values() if "due_queue" in item and item["due_at"]["S"] <= now),
                          key=lambda item: (item["due_at"]["S"], item["pk"]["S"]))
        if "ExclusiveStartKey" in request:
            after = (request["ExclusiveStartKey"]["due_at"]["S"], request["ExclusiveStartKey"]["pk"]["S"])
            on_index = [item for item in on_index if (item["due_at"]["S"], item["pk"]["S"]) > after]
        page = on_index[:request["Limit"]]
        response = {"Items": page}
        if len(on_index) > len(page):
            last = page[-1]
            response["LastEvaluatedKey"] = {name: last[name] for name in ("pk", "sk", "due_queue", "due_at")}
        return response

    def update_item(self, **request):
        item = self.items[request["Key"]["pk"]["S"]]
        at = request["ExpressionAttributeValues"][":at"]
        if request["UpdateExpression"].startswith("REMOVE due_queue"):  # the claim
            if item["status"]["S"] != "new" or "due_queue" not in item:
                raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}, "UpdateItem")
            del item["due_queue"]
            item["escalated_at"] = at
        elif item.get("escalated_at") == at:  # the release
            item["due_queue"] = {"S": "new"}
            del item["escalated_at"]
        return {}


def test_more_overdue_requests_than_a_page_are_all_escalated_and_each_once(settings, sns, clock):
    """Catches reading only the first page of the by_due index (`for _ in range(1)`, MAX_PAGES = 1, or a
    missing ExclusiveStartKey): the 101st overdue request and those after it were never escalated."""
    dynamodb = PagedDynamoDB()
    count = PAGE * 2 + 50
    for n in range(count):
        dynamodb.wait(f"r{n:023d}", ("downtown", "lakeview")[n % 2], iso(NOW - timedelta(minutes=count - n)))
    escalation = Escalation(DueRepository(dynamodb, "appointments"), sns, settings, now=clock)

    assert escalation.run() == {"downtown": count // 2, "lakeview": count // 2}
    assert len(dynamodb.queries) == 3
    assert escalation.run() == {}
    assert all("due_queue" not in item and item["escalated_at"] for item in dynamodb.items.values())
    assert sorted(alert.subject[-5:] for alert in sns.sent) == [f"({count // 2})"] * 2


def test_past_the_pages_a_run_reads_the_next_run_escalates_the_rest(settings, sns, clock):
    dynamodb = PagedDynamoDB()
    count = PAGE * MAX_PAGES + 20
    for n in range(count):
        dynamodb.wait(f"r{n:023d}", "downtown", iso(NOW - timedelta(minutes=count - n)))
    escalation = Escalation(DueRepository(dynamodb, "appointments"), sns, settings, now=clock)

    assert escalation.run() == {"downtown": PAGE * MAX_PAGES}  # the oldest due first
    clock.advance(minutes=15)
    assert escalation.run() == {"downtown": 20}
    assert escalation.run() == {}
    assert all("due_queue" not in item for item in dynamodb.items.values())
    second_run = iso(NOW + timedelta(minutes=15))
    assert sorted(pk for pk, item in dynamodb.items.items() if item["escalated_at"] == {"S": second_run}) == \
        [f"APPT#r{n:023d}" for n in range(count - 20, count)]
