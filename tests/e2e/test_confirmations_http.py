"""The patient's confirmation e-mail over the running stack: the stream driver, real SESv2 calls to moto.

The stream is read in order, so once a request sent later has been confirmed, every request
sent before it has been handled too: `handled_so_far` waits for that instead of sleeping.
"""
import json
import re
import time
import uuid

import pytest

from tests.conftest import valid_fields
from tests.e2e.conftest import stack_log_lines
from tests.e2e.test_alerts_http import collect, subscribe_queue
from tests.e2e.test_intake_http import post_as_a_person, post_json

pytestmark = pytest.mark.e2e

TIMEOUT = 15.0
HOSTILE_MESSAGE = (
    "Please call me back http://evil.example/phish?x=1\n"
    "<a href=\"//evil.example/login\">Reset your password</a>\r\n"
    "Bcc: victim@example.org\n"
    "<script>alert(1)</script> my back pain \u202eexe.txt\u202c"
)
HOSTILE_FRAGMENTS = ("evil.example", "phish", "Reset your password", "Bcc", "victim@example.org", "<script",
                     "alert(1)", "back pain", "exe.txt", "txt.exe", "\u202e", "\u202c", "http")


def fresh_address():
    return f"confirm-{uuid.uuid4().hex[:16]}@example.com"


def mail_to(stack, address, count=1, timeout=TIMEOUT):
    """The messages sent to `address` once there are at least `count` of them (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        mails = stack.sent_mail(to=address)
        if len(mails) >= count or time.monotonic() > deadline:
            return mails
        time.sleep(0.1)


def handled_so_far(stack):
    """Return once every request sent before this call has been through the stream handler."""
    address = fresh_address()
    status, _, _ = post_json(stack, valid_fields(email=address, message=f"barrier {uuid.uuid4()}"))
    assert status == 201
    assert len(mail_to(stack, address)) == 1, "the stream driver handled nothing new"


def submit(stack, fields, headers=None):
    status, _, body = post_json(stack, fields, headers)
    assert status == 201, body
    return json.loads(body)["id"]


def text_and_html(mail):
    body = mail["Content"]["Simple"]["Body"]
    return body["Text"]["Data"], body["Html"]["Data"]


def test_one_request_is_confirmed_once_with_nothing_the_sender_typed(stack, settings):
    address = fresh_address()
    fields = valid_fields(email=address, first_name="Siobhán-Zoë", last_name="Nguyễn d'Arcy-Øberg",
                          location="lakeview", reason="back_pain", preferred_contact="email",
                          insurance="<b>Acme</b> evil.example/ins", message=HOSTILE_MESSAGE)
    # One web address, in a request with a form token: a person's (two would be "Possible spam").
    status, _, body = post_as_a_person(stack, fields)
    assert status == 201, body
    reference = json.loads(body)["id"]
    mail_to(stack, address)
    handled_so_far(stack)
    mails = stack.sent_mail(to=address)
    assert len(mails) == 1
    mail = mails[0]
    assert mail["Destination"]["ToAddresses"] == [address]
    assert mail["ConfigurationSetName"] == stack.settings_env["MAIL_CONFIGURATION_SET"]
    assert mail["ReplyToAddresses"] == [stack.settings_env["CONFIRMATION_REPLY_TO"]]
    assert mail["Content"]["Simple"]["Subject"]["Data"] == "We have received your appointment request"
    text, page = text_and_html(mail)
    own_page = re.compile(re.escape(stack.base_url + "/r/") + r"[A-Za-z0-9_-]{52}")
    for part in (text, page):
        assert settings.locations["lakeview"] in part
        assert reference in part
        assert settings.location_phones["lakeview"] in part  # what to do if it is urgent
        # The one link: the patient's own page on this service (no other "http" anywhere)
        assert own_page.search(part)
        part = own_page.sub("", part)
        for typed in ("Siobhán", "Zoë", "Nguyễn", "Arcy", "Øberg", "Acme", *HOSTILE_FRAGMENTS):
            assert typed not in part, typed


def test_a_replay_sends_no_second_confirmation(stack):
    address = fresh_address()
    fields = valid_fields(email=address, message=f"replayed {uuid.uuid4()}")
    key = {"Idempotency-Key": f"confirm-replay-{uuid.uuid4().hex}"}
    first = submit(stack, fields, key)
    assert len(mail_to(stack, address)) == 1
    assert submit(stack, fields, key) == first
    handled_so_far(stack)
    assert len(stack.sent_mail(to=address)) == 1


def test_a_honeypot_hit_sends_no_confirmation(stack):
    address = fresh_address()
    submit(stack, valid_fields(email=address, website="http://spam.example", message=f"spam {uuid.uuid4()}"))
    handled_so_far(stack)
    assert stack.sent_mail(to=address) == []


def test_a_fourth_request_in_a_day_is_alerted_but_not_confirmed(stack):
    address = fresh_address()
    queue = subscribe_queue(stack)
    references = [submit(stack, valid_fields(email=address, location=location, message=f"request {n} {uuid.uuid4()}"))
                  for n, location in enumerate(("downtown", "northside", "lakeview", "downtown"))]
    assert len(set(references)) == 4
    assert len(mail_to(stack, address, count=3)) == 3
    handled_so_far(stack)
    mails = stack.sent_mail(to=address)
    assert len(mails) == 3
    confirmed = [reference for reference in references if any(reference in text_and_html(m)[0] for m in mails)]
    assert confirmed == references[:3]
    alerts = collect(stack, queue, lambda got: all(any(r in m["Message"] for m in got) for r in references))
    for reference in references:
        assert sum(reference in m["Message"] for m in alerts) == 1, reference


def test_a_confirmation_failing_for_a_while_is_sent_once_when_ses_is_back(stack):
    from tools.resources import create_mail_identity

    def failures():
        return sum('"event": "confirmation_failed"' in line for line in stack_log_lines())

    sesv2 = stack.client("sesv2")
    sender = stack.settings_env["MAIL_FROM"]
    address = fresh_address()
    queue = subscribe_queue(stack)
    before = failures()
    sesv2.delete_email_identity(EmailIdentity=sender)
    try:
        reference = submit(stack, valid_fields(email=address, message=f"outage {uuid.uuid4()}"))
        deadline = time.monotonic() + TIMEOUT
        while failures() < before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert failures() >= before + 2  # SES refused it, and the retry was refused too
        assert stack.sent_mail(to=address) == []
    finally:
        create_mail_identity(sesv2, sender)
    mails = mail_to(stack, address, timeout=30)
    assert len(mails) == 1
    assert reference in text_and_html(mails[0])[0]
    handled_so_far(stack)
    assert len(stack.sent_mail(to=address)) == 1
    alerts = collect(stack, queue, lambda got: any(reference in m["Message"] for m in got))
    assert sum(reference in m["Message"] for m in alerts) == 1
