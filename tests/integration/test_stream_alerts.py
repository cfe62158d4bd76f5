"""The stream handlers and the local stream driver under moto: real stream records, real SNS and SES."""
import json

import boto3
import pytest

from tests.conftest import STAGE_ENV, valid_fields
from tools.resources import create_dead_letter_queue, create_topic
from tools.stream_driver import Consumers, StreamDriver, lambda_record


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def stage_env(monkeypatch):
    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def inbox(topic):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    url = sqs.create_queue(QueueName="test-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return url


def received(queue_url):
    sqs = boto3.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def driver(api, stage_env):
    """Both consumers of the stream, as the local stack runs them."""
    from app import send_confirmations, send_staff_alerts

    said = []
    sqs = boto3.client("sqs")
    clock = Clock()
    dlq = create_dead_letter_queue(sqs, "dev")
    running = Consumers([
        StreamDriver(handler, boto3.client("dynamodb"), boto3.client("dynamodbstreams"),
                     STAGE_ENV["APPOINTMENTS_TABLE"], sqs=sqs, dead_letter_url=dlq, max_retries=3, clock=clock,
                     say=lambda text, **_: said.append(text), function_name=f"appointments-local-{name}")
        for handler, name in ((send_staff_alerts, "staff-alerts"), (send_confirmations, "confirmations"))
    ])
    running.clock, running.said, running.dlq = clock, said, dlq
    return running


def drain(driver, rounds=10):
    for _ in range(rounds):
        driver.clock.now += 10
        driver.poll_once()


def test_handler_takes_real_stream_records(api, inbox, stage_env):
    from app import send_staff_alerts

    answer = api.post_json(valid_fields(message="handler test"))
    assert answer.status_code == 201
    dynamodb, streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
    stream_arn = dynamodb.describe_table(TableName=STAGE_ENV["APPOINTMENTS_TABLE"])["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    event = {"Records": [lambda_record(r, stream_arn) for r in records]}
    assert event["Records"][0]["eventSourceARN"] == stream_arn

    assert send_staff_alerts(event, None) == {"batchItemFailures": []}
    assert send_staff_alerts(event, None) == {"batchItemFailures": []}  # a retried batch
    alerts = received(inbox)
    assert len(alerts) == 1
    assert alerts[0]["MessageAttributes"]["location"]["Value"] == "downtown"
    assert alerts[0]["MessageAttributes"]["event"]["Value"]


def test_each_request_is_alerted_exactly_once_and_spam_and_replays_never(api, inbox, driver):
    ids = set()
    for n in range(5):
        fields = valid_fields(message=f"request {n}")
        ids.add(api.post_json(fields).json_body["id"])
        api.post_json(fields)  # a replay
    api.post_json(valid_fields(message="buy cheap pills", website="http://spam.example"))
    drain(driver)
    alerts = received(inbox)
    assert len(alerts) == 5
    assert driver.said == []


def test_an_alert_survives_an_sns_outage(api, inbox, driver, topic):
    sns = boto3.client("sns")
    sns.delete_topic(TopicArn=topic)
    api.post_json(valid_fields(message="during the outage"))
    drain(driver, rounds=2)
    assert received(inbox) == []

    create_topic(sns, STAGE_ENV["NOTIFY_TOPIC_ARN"])
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    drain(driver)
    assert len(received(inbox)) == 1
    assert driver.said == []


def test_an_alert_that_can_never_be_sent_ends_in_the_dead_letter_queue(api, inbox, driver, topic):
    boto3.client("sns").delete_topic(TopicArn=topic)
    api.post_json(valid_fields(message="never deliverable"))
    drain(driver, rounds=8)
    dead = received(driver.dlq)
    assert len(dead) == 1
    assert dead[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert dead[0]["requestContext"]["functionArn"].endswith(":function:appointments-local-staff-alerts")
    table = boto3.client("dynamodb").describe_table(TableName=STAGE_ENV["APPOINTMENTS_TABLE"])["Table"]
    assert dead[0]["DDBStreamBatchInfo"]["streamArn"] == table["LatestStreamArn"]
    assert any("ALARM" in line for line in driver.said)

    # The stream moved on: later requests are alerted again once SNS is back.
    create_topic(boto3.client("sns"), STAGE_ENV["NOTIFY_TOPIC_ARN"])
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    api.post_json(valid_fields(message="after the dead letter"))
    drain(driver)
    assert len(received(inbox)) == 1


def stream_records():
    dynamodb, streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
    stream_arn = dynamodb.describe_table(TableName=STAGE_ENV["APPOINTMENTS_TABLE"])["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return records


def test_the_stream_keeps_no_personal_data_of_a_changed_and_erased_request(api, inbox, driver, settings):
    from chalicelib.staff.auth import StaffMember
    from chalicelib.staff.triage import StaffService
    from chalicelib.storage.staff_records import StaffRepository

    ana = StaffMember("Ana Admin", "admin", "tok-ana")
    fields = valid_fields(first_name="Wilhelmina", message="Please call after five; my knee is worse")
    request_id = api.post_json(fields).json_body["id"]
    drain(driver)
    staff = StaffService(StaffRepository(boto3.client("dynamodb"), STAGE_ENV["APPOINTMENTS_TABLE"]), settings)
    staff.update_status(request_id, {"status": "contacted", "note": "Spoke to Wilhelmina"}, ana)
    staff.erase(request_id, ana)

    records = stream_records()
    assert {r["eventName"] for r in records} == {"INSERT", "MODIFY"}
    text = json.dumps(records, default=str)
    assert "Wilhelmina" not in text and "my knee" not in text and fields["email"] not in text
    assert all(set(r["dynamodb"]) & {"NewImage", "OldImage"} == set() for r in records)


def test_a_request_staff_move_out_of_suspected_spam_is_alerted_once(api, inbox, driver, settings):
    from chalicelib.staff.auth import StaffMember
    from chalicelib.staff.triage import StaffService
    from chalicelib.storage.staff_records import StaffRepository

    sam = StaffMember("Sam Staff", "staff", "tok-sam")
    request_id = api.post_json(valid_fields(message="a real person", website="autofill")).json_body["id"]
    drain(driver)
    assert received(inbox) == []

    staff = StaffService(StaffRepository(boto3.client("dynamodb"), STAGE_ENV["APPOINTMENTS_TABLE"]), settings)
    staff.update_status(request_id, {"status": "new", "note": "not spam after all"}, sam)
    drain(driver)
    staff.update_status(request_id, {"status": "contacted"}, sam)
    drain(driver)

    alerts = received(inbox)
    assert len(alerts) == 1
    assert alerts[0]["MessageAttributes"]["appointment_id"]["Value"] == request_id


# --- the patient's confirmation, from the same records, through moto's SES -------------------------

def sent_mail():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages


def test_each_request_gets_one_confirmation_and_spam_and_replays_none(api, inbox, driver):
    first = api.post_json(valid_fields(email="first.patient@example.com", message="confirm me"),
                          headers={"Idempotency-Key": "confirm-once-123"})
    api.post_json(valid_fields(email="first.patient@example.com", message="confirm me"),
                  headers={"Idempotency-Key": "confirm-once-123"})
    api.post_json(valid_fields(email="spam.bot@example.com", website="http://spam.example"))
    drain(driver)
    drain(driver)
    mails = [(m.destinations["ToAddresses"], m.subject) for m in sent_mail()]
    assert mails == [(["first.patient@example.com"], "We have received your appointment request")]
    assert json.loads(first.body)["id"] in sent_mail()[0].body
    item = boto3.client("dynamodb").get_item(TableName=STAGE_ENV["APPOINTMENTS_TABLE"], Key={
        "pk": {"S": "APPT#" + json.loads(first.body)["id"]}, "sk": {"S": "APPT"}})["Item"]
    assert item["confirmation"]["S"] == "sent" and "alerted_at" in item


def test_while_ses_is_down_every_new_request_is_still_alerted_at_once(api, inbox, driver):
    sesv2 = boto3.client("sesv2")
    sesv2.delete_email_identity(EmailIdentity=STAGE_ENV["MAIL_FROM"])  # SES now refuses every message
    api.post_json(valid_fields(email="first.in.outage@example.com", message="first during the outage"))
    driver.poll_once()
    assert len(received(inbox)) == 1 and sent_mail() == []
    assert driver.seconds_to_next_retry() is not None  # the confirmation waits for its retry

    api.post_json(valid_fields(email="second.in.outage@example.com", message="second during the outage"))
    driver.poll_once()  # the same moment: the confirmation's retry is not due yet
    assert len(received(inbox)) == 1  # the second request's alert, not held up by the first's confirmation


def test_a_confirmation_failing_while_ses_is_down_is_sent_once_later_and_the_alert_is_not_repeated(
        api, inbox, driver):
    sesv2 = boto3.client("sesv2")
    sesv2.delete_email_identity(EmailIdentity=STAGE_ENV["MAIL_FROM"])  # SES now refuses every message
    api.post_json(valid_fields(email="patient.later@example.com", message="ses outage"))
    drain(driver, rounds=2)
    assert sent_mail() == [] and len(received(inbox)) == 1
    from tools.resources import create_mail_identity

    create_mail_identity(sesv2, STAGE_ENV["MAIL_FROM"])
    drain(driver, rounds=4)
    assert [m.destinations["ToAddresses"] for m in sent_mail()] == [["patient.later@example.com"]]
    assert received(inbox) == []  # no second alert


def test_an_idle_poll_reads_the_shard_and_looks_the_stream_up_again_only_every_ten_seconds(api, stage_env):
    from app import send_staff_alerts

    dynamodb, streams, calls = boto3.client("dynamodb"), boto3.client("dynamodbstreams"), []
    for client in (dynamodb, streams):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    clock = Clock()
    driver = StreamDriver(send_staff_alerts, dynamodb, streams, STAGE_ENV["APPOINTMENTS_TABLE"], clock=clock)
    driver.poll_once()
    assert calls == ["DescribeTable", "DescribeStream", "GetShardIterator", "GetRecords"]

    calls.clear()
    clock.now += 9.9
    driver.poll_once()
    assert calls == ["GetShardIterator", "GetRecords"]

    calls.clear()
    clock.now += 0.1
    driver.poll_once()
    assert calls[:2] == ["DescribeTable", "DescribeStream"]
