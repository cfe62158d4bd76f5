"""Faults in the handlers' own AWS calls (tools/faults.py), against a stack of their own.

Connection resets, throttling, 500s and answers lost after AWS acted are injected at botocore's
HTTP layer, seeded, in the API and stream processes only, at heavy rates and with no budget, so
the stream functions meet them all through their backlog: 25 % of calls fail before reaching AWS,
10 % lose the answer after AWS acted, 25 % are throttled. Clients retry with their keys after a
503 or a lost answer, as form.js does. Every request must end as one stored, alerted and
confirmed request, with no 500; a duplicate alert may only come from a lost SNS answer, and a
duplicate confirmation from a lost SES one.
"""
import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import valid_fields
from tests.e2e.conftest import OUTPUT, start_stack, stop_stack
from tests.e2e.test_alerts_http import subscribe_queue
from tests.e2e.test_intake_http import post_json

pytestmark = pytest.mark.e2e

REQUESTS = 150
RATES = {"reset": 0.15, "server_error": 0.10, "lost": 0.10, "throttled": 0.25}
FAULT_LOG = OUTPUT / "faults.jsonl"


@pytest.fixture(scope="module")
def faulty_stack():
    OUTPUT.mkdir(exist_ok=True)
    FAULT_LOG.write_text("")
    # Plus an SES outage at the start: 12 failed calls outlast botocore's 3 tries of a message, so
    # the first confirmation fails several times over and is sent only on a later retry.
    plan = {"seed": 12, "rates": RATES, "limit": 400, "log": str(FAULT_LOG), "outages": {"SendEmail": 12}}
    running = start_stack(OUTPUT / "faults-stack.log", OUTPUT / "faults-inbox.txt",
                          env={"APPOINTMENTS_FAULTS": json.dumps(plan)})
    yield running
    stop_stack(running)


def send_until_answered(stack, fields, key):
    """POST with one key until the answer is final: again after a 503 or a lost connection.

    20 tries: at these fault rates botocore's retry quota runs dry and about half the tries answer 503, so
    12 in a row happened to one request in a hundred runs or so (0.5 ** 12 for each of 150 requests)."""
    answers = []
    for attempt in range(20):
        try:
            status, _, body = post_json(stack, fields, {"Idempotency-Key": key})
        except OSError:  # the connection dropped: the request may or may not have been stored
            answers.append(("lost", None))
            continue
        answers.append((status, json.loads(body)))
        if status != 503:
            break
        time.sleep(min(0.2 * 2 ** attempt, 2))
    return answers


def received(stack, queue_url, expected_ids, timeout=90):
    # A deadline, not a wait: each request also gets its confirmation (and its mark's record), so
    # on a busy two-core machine the stream can take most of a minute to work through 200 of them.
    sqs, alerts = stack.client("sqs"), []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not expected_ids <= {a for a in alerts}:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", []):
            alerts.append(json.loads(message["Body"])["MessageAttributes"]["appointment_id"]["Value"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    time.sleep(2)  # any late duplicate
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        alerts.append(json.loads(message["Body"])["MessageAttributes"]["appointment_id"]["Value"])
    return alerts


def confirmed(stack, addresses, timeout=60):
    """The address of each confirmation sent, once all of `addresses` have one or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        sent = [address for mail in stack.sent_mail() for address in mail["Destination"]["ToAddresses"]
                if address in addresses]
        if addresses <= set(sent) or time.monotonic() > deadline:
            return sent
        time.sleep(0.5)


def test_under_injected_aws_faults_every_request_is_stored_once_alerted_and_confirmed(faulty_stack):
    stack = faulty_stack
    queue = subscribe_queue(stack)
    run = uuid.uuid4().hex[:8]
    # An address each: at most 3 confirmations go to one address a day.
    submissions = [(valid_fields(message=f"fault run {run} request {n}", email=f"fault.{run}.{n}@example.com"),
                    f"fault-{run}-{n:04}") for n in range(REQUESTS)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda s: send_until_answered(stack, *s), submissions))
    all_answered = time.time()

    statuses = Counter(status for attempts in answers for status, _ in attempts)
    assert 500 not in statuses and 502 not in statuses, statuses
    finals = [attempts[-1] for attempts in answers]
    assert all(status == 201 for status, _ in finals), Counter(status for status, _ in finals)
    ids = [body["id"] for _, body in finals]
    for attempts, request_id in zip(answers, ids):  # a retry never got another request's id
        assert {body["id"] for status, body in attempts if status == 201} == {request_id}

    table = stack.client("dynamodb")
    items = []
    for page in table.get_paginator("scan").paginate(TableName=stack.settings_env["APPOINTMENTS_TABLE"],
                                                     ConsistentRead=True):
        items += [item for item in page["Items"] if f"fault run {run}" in json.dumps(item)]
    assert sorted(item["id"]["S"] for item in items) == sorted(ids)  # stored once each

    alerts = Counter(received(stack, queue, set(ids)))
    assert set(alerts) == set(ids), f"{len(set(ids) - set(alerts))} requests never alerted"
    duplicates = sum(count - 1 for count in alerts.values())
    faults = [json.loads(line) for line in FAULT_LOG.read_text().splitlines()]
    lost_publishes = sum(1 for f in faults if f["operation"] == "Publish" and f["kind"] == "lost")
    assert duplicates <= lost_publishes, (duplicates, Counter((f["operation"], f["kind"]) for f in faults))

    addresses = {fields["email"] for fields, _ in submissions}
    confirmations = Counter(confirmed(stack, addresses))
    assert set(confirmations) == addresses, f"{len(addresses - set(confirmations))} requests never confirmed"
    lost_sends = sum(1 for f in faults if f["operation"] == "SendEmail" and f["kind"] == "lost")
    assert sum(count - 1 for count in confirmations.values()) <= lost_sends

    assert {f["process"] for f in faults} == {"api", "stream"}  # both sides really were hit
    assert {"PutItem", "Publish", "SendEmail"} <= {f["operation"] for f in faults}
    late = {f["operation"] for f in faults if f["process"] == "stream" and f["time"] > all_answered}
    assert {"GetItem", "Publish", "SendEmail", "UpdateItem"} <= late  # the backlog met faults too
