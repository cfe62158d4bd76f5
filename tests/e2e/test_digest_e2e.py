"""The morning digest over the running stack: `make digest` (tools/digest.py) against the stack's emulator sends
one e-mail to each active account that has not opted out, once a day, and no patient data in it."""
import io
import json
import time
import uuid

import pytest

from tests.conftest import valid_fields
from tests.e2e.test_intake_http import post_json
from tools import digest, staff_accounts

pytestmark = pytest.mark.e2e

SUBJECT = "Appointment requests this morning"


def digests_to(stack, address):
    return [m for m in stack.sent_mail(address) if m["Content"]["Simple"]["Subject"]["Data"].startswith(SUBJECT)]


def wait_for_digest(stack, address, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = digests_to(stack, address)
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no digest reached {address} within {timeout:.0f} s")


def test_make_digest_mails_each_active_account_once_and_names_no_patient(stack, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    tag = uuid.uuid4().hex[:8]
    patient = valid_fields(first_name="Perpetua", last_name=f"Zabriskie-Quell{tag}", email=f"perpetua.{tag}@example.com",
                           phone="(212) 555-0176", message=f"Digest end to end {tag}: my ankle", location="northside")
    status, _, body = post_json(stack, patient)
    assert status == 201
    request_id = json.loads(body)["id"]
    readers = [f"digest-{tag}-{n}@clinic.example" for n in ("a", "b")]
    for address in readers:
        stack.add_staff(address, "Digest Reader")
    opted_out, disabled = f"digest-{tag}-off@clinic.example", f"digest-{tag}-gone@clinic.example"
    dynamodb = stack.client("dynamodb")
    staff_accounts.main(["add", "--email", opted_out, "--name", "No Digest", "--digest", "off"], client=dynamodb,
                        out=io.StringIO())
    stack.add_staff(disabled, "Gone Away")
    staff_accounts.main(["disable", "--email", disabled], client=dynamodb, out=io.StringIO())

    out = io.StringIO()
    digest.main(["--aws-port", str(stack.aws_port)], out=out)
    assert out.getvalue().startswith("Sent the morning digest to ")

    for address in readers:
        [mail] = wait_for_digest(stack, address)
        text = mail["Content"]["Simple"]["Body"]["Text"]["Data"]
        html = mail["Content"]["Simple"]["Body"]["Html"]["Data"]
        assert "Northside Clinic\n- New: " in text
        assert "/staff/?status=new&location=northside" in text
        for value in (patient["first_name"], patient["last_name"], patient["email"], patient["phone"], "555-0176",
                      patient["message"], request_id[:8]):
            assert value not in text and value not in html, value

    again = io.StringIO()
    digest.main(["--aws-port", str(stack.aws_port)], out=again)  # the same day: nobody gets a second
    time.sleep(2)
    for address in readers:
        assert len(digests_to(stack, address)) == 1
    assert digests_to(stack, opted_out) == [] and digests_to(stack, disabled) == []
    assert "had today's already" in again.getvalue()
