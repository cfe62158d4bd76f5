"""No request left waiting, over the running stack: a request moved past its due time in the emulator is
escalated once, by the scheduled function the local driver runs, and the staff API lists it as overdue."""
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import valid_fields
from tests.e2e.test_alerts_http import subscribe_queue
from tests.e2e.test_docs_examples import staff_token
from tests.e2e.test_intake_http import post_json

pytestmark = pytest.mark.e2e


def escalations(stack, queue, seconds):
    """Every escalation message on `queue` during `seconds`."""
    sqs, found, deadline = stack.client("sqs"), [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_request_past_its_due_time_is_escalated_once_and_listed_as_overdue(stack):
    queue = subscribe_queue(stack, {"event": ["appointment.overdue"]})
    status, _, body = post_json(stack, valid_fields(location="lakeview", message=f"overdue e2e {uuid.uuid4()}"))
    assert status == 201
    request_id = json.loads(body)["id"]
    past = (datetime.now(timezone.utc) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stack.client("dynamodb").update_item(
        TableName=stack.settings_env["APPOINTMENTS_TABLE"],
        Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
        UpdateExpression="SET due_at = :due", ExpressionAttributeValues={":due": {"S": past}})

    messages = escalations(stack, queue, 12)  # the driver runs the schedule every 3 s here: several runs

    mine = [m for m in messages if request_id in m["Message"]]
    assert len(mine) == 1
    assert mine[0]["MessageAttributes"]["location"]["Value"] == "lakeview"
    assert "overdue by 2 h" in mine[0]["Message"]
    token = staff_token(stack, "staff")
    listed = requests.get(f"{stack.base_url}/staff/appointments?overdue=true&location=lakeview",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    [item] = [item for item in listed["items"] if item["id"] == request_id]
    assert item["due_at"] == past
