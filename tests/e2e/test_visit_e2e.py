"""From request to visit over the running stack, as a new user tries it under `make run`: a request booked
through the staff API sends the visit e-mail with its .ics; moving its reminder's time into the past makes the
local driver's reminder run send one reminder e-mail and one text, once.

Reminders never go between 21:00 and 08:00 clinic time, so this stack's clinic is wherever it is daytime now
(LOCAL_SETTINGS overrides CLINIC_TIMEZONE): the test reads the same at any hour of the day."""
import json
import random
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests

from tests.conftest import remember_personal, valid_fields
from tests.e2e.conftest import OUTPUT, start_stack, stop_stack
from tests.e2e.test_docs_examples import staff_token

pytestmark = pytest.mark.e2e

# Region zones around the world: one of them has its clock between 10:00 and 17:00 at any moment.
ZONES = ("America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Pacific/Auckland", "Asia/Tokyo",
         "Asia/Kolkata", "Europe/London", "Asia/Dubai", "America/Sao_Paulo", "Australia/Perth")


def daytime_zone(now):
    return next(zone for zone in ZONES if 10 <= now.astimezone(ZoneInfo(zone)).hour < 17)


@pytest.fixture(scope="module")
def daytime_stack():
    OUTPUT.mkdir(exist_ok=True)
    zone = daytime_zone(datetime.now(timezone.utc))
    running = start_stack(OUTPUT / "visit-stack.log", OUTPUT / "visit-staff-inbox.txt", env={
        "LOCAL_SCHEDULE_SECONDS": "2", "LOCAL_DIGEST_SECONDS": "86400",
        "LOCAL_SETTINGS": json.dumps({"CLINIC_TIMEZONE": zone})})
    running.zone = ZoneInfo(zone)
    yield running
    stop_stack(running)


def texts(stack, to):
    path = stack.outbox.with_suffix(".sms.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [sms for sms in map(json.loads, lines) if sms["PhoneNumber"] == to]


def wait_for(read, count, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = read()
        if len(found) >= count:
            return found
        time.sleep(0.3)
    return read()


def test_a_booked_visit_is_mailed_with_its_calendar_then_reminded_once_by_mail_and_text(daytime_stack):
    stack = daytime_stack
    email = f"visit.{uuid.uuid4().hex[:8]}@example.com"
    phone = f"+1212555{random.randrange(100, 199):04d}"  # a number of its own (one ending in 99 is opted out)
    fields = valid_fields(email=email, phone=phone, preferred_contact="text", sms_consent=True,
                          message=f"visit e2e {uuid.uuid4()}")
    remember_personal(fields)
    created = requests.post(f"{stack.base_url}/appointments", json=fields, timeout=10)
    assert created.status_code == 201
    request_id = created.json()["id"]
    token = staff_token(stack, "staff")
    visit = (datetime.now(stack.zone) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)

    booked = requests.patch(f"{stack.base_url}/staff/appointments/{request_id}", timeout=10,
                            headers={"Authorization": f"Bearer {token}"},
                            json={"status": "scheduled", "visit_at": visit.strftime("%Y-%m-%dT%H:%M")})

    assert booked.status_code == 200, booked.text
    mails = wait_for(lambda: stack.sent_mail(email), 2)  # the confirmation, then the visit e-mail
    [visit_mail] = [m for m in mails if m["Attachments"]]
    [attachment] = visit_mail["Attachments"]
    assert (attachment["FileName"], attachment["ContentType"].split(";")[0]) == ("visit.ics", "text/calendar")
    calendar = icalendar.Calendar.from_ical(attachment["Data"])
    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].dt.astimezone(timezone.utc) == visit.astimezone(timezone.utc)
    page_link = re.compile(re.escape(stack.base_url + "/r/") + r"[A-Za-z0-9_-]{52}\b")
    assert page_link.search(visit_mail["Content"]["Simple"]["Body"]["Text"]["Data"])

    # Move the clock: the reminder is due now (24 hours ahead of a visit 2 days away is tomorrow).
    stack.client("dynamodb").update_item(
        TableName=stack.settings_env["APPOINTMENTS_TABLE"],
        Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
        UpdateExpression="SET remind_at = :past",
        ExpressionAttributeValues={":past": {"S": (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")}})

    reminders = wait_for(lambda: [m for m in stack.sent_mail(email) if m not in mails], 1)
    sms = wait_for(lambda: texts(stack, phone), 1)
    time.sleep(5)  # two more runs of the schedule: nothing more

    assert len([m for m in stack.sent_mail(email) if m not in mails]) == len(reminders) == 1
    assert len(texts(stack, phone)) == len(sms) == 1
    assert "Reply STOP" in sms[0]["Message"] and page_link.search(sms[0]["Message"])
    assert fields["message"] not in sms[0]["Message"] and fields["first_name"] not in sms[0]["Message"]
