"""Visit e-mails and reminders under injected AWS faults (tools/faults.py), against a stack of their own.

Requests are booked through the staff API, then their reminders are moved into the past, while a quarter of
the stream process's AWS calls fail before reaching AWS, a tenth lose their answer after AWS acted, and a quarter are
throttled. Every booking must end with one visit e-mail, one reminder e-mail and one text: none lost, and a
duplicate only where a lost SES or SNS answer explains it. The same process runs the webhook feed and delivery: a
receiver that verifies each delivery gets every booking's two events. The clinic is where it is daytime now
(reminders never go at night): tests/e2e/test_visit_e2e.py.
"""
import json
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.conftest import remember_personal, valid_fields
from tests.e2e.conftest import OUTPUT, start_stack, stop_stack
from tests.e2e.test_docs_examples import staff_token
from tests.e2e.test_visit_e2e import daytime_zone
from tests.e2e.test_webhook_receiver_e2e import VerifyingReceiver, add_endpoint

pytestmark = pytest.mark.e2e

BOOKINGS = 12
RATES = {"reset": 0.15, "server_error": 0.10, "lost": 0.10, "throttled": 0.25}
FAULT_LOG = OUTPUT / "visit-faults.jsonl"


@pytest.fixture(scope="module")
def faulty_stack():
    OUTPUT.mkdir(exist_ok=True)
    FAULT_LOG.write_text("")
    zone = daytime_zone(datetime.now(timezone.utc))
    # In the stream process, which sends the visit e-mails and runs the reminders: the bookings themselves (the
    # API under faults) are tests/e2e/test_faults.py's subject.
    # At most 200 faults: enough for every kind to meet every step, few enough that the backlog drains in time.
    plan = {"seed": 28, "rates": RATES, "limit": 200, "log": str(FAULT_LOG), "processes": ["stream"]}
    running = start_stack(OUTPUT / "visit-faults-stack.log", OUTPUT / "visit-faults-inbox.txt", env={
        "APPOINTMENTS_FAULTS": json.dumps(plan), "LOCAL_SCHEDULE_SECONDS": "2", "LOCAL_DIGEST_SECONDS": "86400",
        "LOCAL_SETTINGS": json.dumps({"CLINIC_TIMEZONE": zone, "WEBHOOK_RETRY_SECONDS": "1,1,1,1,1,1,1"})})
    running.zone = ZoneInfo(zone)
    yield running
    stop_stack(running)


def until_final(call):
    """Call until the answer is not a 503 (or a dropped connection), as a careful client does."""
    for attempt in range(20):
        try:
            response = call()
        except requests.ConnectionError:
            continue
        if response.status_code != 503:
            return response
        time.sleep(min(0.2 * 2 ** attempt, 2))
    raise AssertionError("still 503 after 20 tries")


def book(stack, token, n, visit):
    email = f"visit.fault.{uuid.uuid4().hex[:8]}.{n}@example.com"
    phone = f"+1212555{1000 + n:04d}"
    fields = valid_fields(email=email, phone=phone, preferred_contact="text", sms_consent=True,
                          message=f"visit fault {n} {uuid.uuid4()}")
    remember_personal(fields)
    key = f"visit-fault-{uuid.uuid4().hex}"
    created = until_final(lambda: requests.post(f"{stack.base_url}/appointments", json=fields, timeout=30,
                                                headers={"Idempotency-Key": key}))
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    change = {"status": "scheduled", "visit_at": visit}
    booked = until_final(lambda: requests.patch(f"{stack.base_url}/staff/appointments/{request_id}", json=change,
                                                headers={"Authorization": f"Bearer {token}"}, timeout=30))
    assert booked.status_code == 200, booked.text
    return request_id, email, phone


def counted(read, expected, timeout):
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if expected <= set(found) or time.monotonic() > deadline:
            time.sleep(3)  # any late duplicate
            return Counter(read())
        time.sleep(0.5)


def texts(stack):
    path = stack.outbox.with_suffix(".sms.jsonl")
    return [json.loads(line)["PhoneNumber"] for line in path.read_text().splitlines()] if path.exists() else []


def test_under_injected_faults_each_booking_gets_one_visit_e_mail_one_reminder_one_text_and_its_webhooks(faulty_stack):
    stack = faulty_stack
    token = staff_token(stack, "staff")
    visit = (datetime.now(stack.zone) + timedelta(days=2)).replace(hour=10, minute=0).strftime("%Y-%m-%dT%H:%M")
    with VerifyingReceiver() as receiver:
        endpoint_id, receiver.secret = add_endpoint(stack, receiver.url, "appointment.requested,visit.booked")
        with ThreadPoolExecutor(max_workers=4) as pool:
            booked = list(pool.map(lambda n: book(stack, token, n, visit), range(BOOKINGS)))
        ids = [request_id for request_id, _, _ in booked]
        check_the_reminders(stack, booked, visit)
        # The webhook feed (the alert function) and the delivery (the stream driver's queue consumer) met the same
        # faults: each booking's two events reached the receiver, verified, each under one webhook-id.
        expected = {(f"msg_{request_id}_{unit}", kind) for request_id in ids
                    for unit, kind in ((0, "appointment.requested"), (1, "visit.booked"))}
        got = counted(lambda: [(h.headers["webhook-id"], json.loads(h.body)["type"]) for h in receiver.received],
                      expected, 60)
    assert receiver.failures == []
    assert set(got) == expected, f"{len(expected - set(got))} webhook events never delivered"
    assert {f["operation"] for f in faults()} >= {"SendMessageBatch"}


def faults():
    return [json.loads(line) for line in FAULT_LOG.read_text().splitlines()]


def check_the_reminders(stack, booked, visit):
    ids = [request_id for request_id, _, _ in booked]
    table = stack.settings_env["APPOINTMENTS_TABLE"]
    dynamodb = stack.client("dynamodb")
    for request_id in ids:
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                                 ConsistentRead=True)["Item"]
        assert (item["status"]["S"], item["visit_at"]["S"], item["visit_sequence"]["N"]) == ("scheduled", visit, "0")

    # The reminders are due at once: visit e-mails and reminders go out together, under the same faults.
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for request_id in ids:
        dynamodb.update_item(TableName=table, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                             UpdateExpression="SET remind_at = :past", ExpressionAttributeValues={":past": {"S": past}})

    def visit_mails():
        """(address, n) for the n-th e-mail with an .ics to each address: the booking's, then the reminder's."""
        sent = Counter(m["Destination"]["ToAddresses"][0] for m in stack.sent_mail() if m["Attachments"])
        return [(address, n) for address, count in sent.items() for n in range(count)]

    addresses = {email for _, email, _ in booked}
    phones = {phone for _, _, phone in booked}
    sent_texts = counted(lambda: texts(stack), phones, 150)
    mails = Counter(address for address, _ in counted(visit_mails, {(a, n) for a in addresses for n in (0, 1)}, 90))

    lost = Counter(f["operation"] for f in faults() if f["kind"] == "lost")
    assert set(sent_texts) == phones, f"{len(phones - set(sent_texts))} reminders never texted"
    assert sum(count - 1 for count in sent_texts.values()) <= lost["Publish"]
    assert all(mails[address] >= 2 for address in addresses), "a reminder e-mail never sent"
    assert sum(count - 2 for count in mails.values()) <= lost["SendEmail"]
    assert {"TransactWriteItems", "SendEmail", "Publish"} <= {f["operation"] for f in faults()}
    assert {f["process"] for f in faults()} == {"stream"}
