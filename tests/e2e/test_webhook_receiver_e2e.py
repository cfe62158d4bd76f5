"""Webhooks end to end, as a clinic's integrator meets them under `make run`: an endpoint added with
`make webhook-add` (tools.webhooks), real changes through the API, the stream driver's feed and delivery, and a
receiver that verifies every delivery with the `standardwebhooks` package.

This stack retries a failed delivery after 1 s instead of the Standard Webhooks schedule (5 s, 5 min, ...):
WEBHOOK_RETRY_SECONDS through LOCAL_SETTINGS, so a receiver's three failures take seconds."""
import json
import os
import select
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chalicelib.core.clock import utc_iso
from chalicelib.storage.webhooks import SigningSecret, WebhookRepository
from tests.conftest import remember_personal, valid_fields
from tests.e2e.conftest import OUTPUT, start_stack, stop_stack
from tests.e2e.test_docs_examples import staff_token
from tests.webhook_receiver import Receiver
from tools.resources import ROOT

pytestmark = pytest.mark.e2e

RETRIES = "1,1,1,1,1,1,1"


@pytest.fixture(scope="module")
def hook_stack():
    OUTPUT.mkdir(exist_ok=True)
    running = start_stack(OUTPUT / "webhooks-stack.log", OUTPUT / "webhooks-staff-inbox.txt", env={
        "LOCAL_SCHEDULE_SECONDS": "30", "LOCAL_DIGEST_SECONDS": "86400",
        "LOCAL_SETTINGS": json.dumps({"WEBHOOK_RETRY_SECONDS": RETRIES})})
    running.repository = endpoints(running)
    yield running
    stop_stack(running)


def endpoints(stack):
    return WebhookRepository(stack.client("dynamodb"), stack.settings_env["APPOINTMENTS_TABLE"])


def webhook_tool(stack, *args):
    """`make webhook-*` against this stack: its output's lines."""
    done = subprocess.run([sys.executable, "-m", "tools.webhooks", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **stack.aws_env}, check=True)
    return done.stdout.splitlines()


def add_endpoint(stack, url, events="appointment.requested"):
    lines = webhook_tool(stack, "add", "--url", url, "--events", events)
    secret = lines[-1].strip()
    [endpoint] = [e for e in endpoints(stack).all() if e.url == url]
    return endpoint.id, secret


class VerifyingReceiver(Receiver):
    """A receiver that checks each delivery with the standardwebhooks package, as the README's does, and answers
    `statuses` in turn (then 204)."""

    def __init__(self, secret_of=None, statuses=()):
        self.secret = None
        self.verified = []
        self.failures = []
        statuses = list(statuses)

        def answer(got):
            try:
                self.verified.append(Webhook(self.secret).verify(got.body, got.headers))
            except WebhookVerificationError as error:
                self.failures.append(str(error))
                return 400, {}, b""
            return (statuses.pop(0) if statuses else 204), {}, b""

        super().__init__(answer)


def post_request(stack, **changes):
    fields = valid_fields(email=f"hook.{uuid.uuid4().hex[:8]}@example.com", message=f"webhook e2e {uuid.uuid4()}",
                          **changes)
    remember_personal(fields)
    created = requests.post(f"{stack.base_url}/appointments", json=fields, timeout=10)
    assert created.status_code == 201, created.text
    return created.json()["id"], fields


def wait_for(read, count, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(read()) < count:
        time.sleep(0.2)
    return read()


def test_every_change_reaches_the_receiver_verified_in_order_and_thin(hook_stack):
    stack = hook_stack
    with VerifyingReceiver() as receiver:
        endpoint_id, receiver.secret = add_endpoint(stack, receiver.url, "all")
        try:
            request_id, fields = post_request(stack)
            token, admin = staff_token(stack, "staff"), staff_token(stack, "admin")
            zone = ZoneInfo(stack.settings_env["CLINIC_TIMEZONE"])
            day = (datetime.now(zone) + timedelta(days=3)).strftime("%Y-%m-%d")
            for change in ({"status": "scheduled", "visit_at": f"{day}T10:00"},
                           {"status": "scheduled", "visit_at": f"{day}T11:30"}, {"status": "cancelled"}):
                answer = requests.patch(f"{stack.base_url}/staff/appointments/{request_id}", json=change, timeout=10,
                                        headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 200, answer.text
            # An erasure supersedes what is not sent yet (the request is gone): let the changes go out first.
            wait_for(lambda: receiver.verified, 4)
            erased = requests.delete(f"{stack.base_url}/staff/appointments/{request_id}", timeout=10,
                                     headers={"Authorization": f"Bearer {admin}"})
            assert erased.status_code == 200

            events = wait_for(lambda: receiver.verified, 5)
        finally:
            stack.repository.delete(endpoint_id)

    assert receiver.failures == []
    assert [e["type"] for e in events] == ["appointment.requested", "visit.booked", "visit.changed", "visit.cancelled",
                                           "appointment.erased"]
    assert {e["data"]["id"] for e in events} == {request_id}
    assert [e["data"]["status"] for e in events[:4]] == ["new", "scheduled", "scheduled", "cancelled"]
    assert events[1]["data"]["visit_at"] == f"{day}T10:00" and events[2]["data"]["visit_at"] == f"{day}T11:30"
    ids = [got.headers["webhook-id"] for got in receiver.received]
    assert ids == [f"msg_{request_id}_{unit}" for unit in range(4)] + [f"msg_{request_id}_erased"]
    bodies = b"".join(got.body for got in receiver.received).decode()
    for name in ("first_name", "last_name", "email", "phone", "message"):
        assert fields[name] not in bodies, name


def test_a_tampered_body_or_a_stale_timestamp_fails_the_receivers_check(hook_stack):
    stack = hook_stack
    with VerifyingReceiver() as receiver:
        endpoint_id, receiver.secret = add_endpoint(stack, receiver.url)
        try:
            post_request(stack)
            [event] = wait_for(lambda: receiver.verified, 1)
        finally:
            stack.repository.delete(endpoint_id)
    [got] = receiver.received
    hook = Webhook(receiver.secret)
    tampered = got.body.replace(b'"new"', b'"closed"')
    assert tampered != got.body
    with pytest.raises(WebhookVerificationError):
        hook.verify(tampered, got.headers)
    # The signature covers the time it was sent: six minutes on, the same delivery is a replay the check refuses.
    later = datetime.now(timezone.utc) + timedelta(minutes=6)
    with mock.patch("standardwebhooks.webhooks.datetime", wraps=datetime) as clock:
        clock.now.return_value = later
        with pytest.raises(WebhookVerificationError, match="too old"):
            hook.verify(got.body, got.headers)
    assert hook.verify(got.body, got.headers) == event


def test_after_a_rotation_both_secrets_verify_until_the_old_one_is_retired(hook_stack):
    from chalicelib.core.keys import purpose_key
    from chalicelib.core.secret_key import SecretKey
    from chalicelib.webhooks.endpoints import WebhookAdmin
    from chalicelib.core.config import Settings

    stack = hook_stack
    settings = Settings.from_env({**stack.settings_env, "WEBHOOK_LOOPBACK": "on"})
    key = purpose_key(SecretKey(stack.client("secretsmanager"), settings.dedupe_key_secret)(), "webhook secrets")
    admin = WebhookAdmin(stack.repository, settings, lambda: key)
    with VerifyingReceiver() as receiver:
        endpoint_id, old = add_endpoint(stack, receiver.url)
        try:
            new = admin.rotate(endpoint_id, "e2e")
            receiver.secret = old
            post_request(stack)
            wait_for(lambda: receiver.received, 1)
            assert Webhook(new).verify(receiver.received[0].body, receiver.received[0].headers)
            # 24 hours on (the old secret's end moved into the past): only the new secret signs.
            current, previous = stack.repository.get(endpoint_id).secrets
            stack.repository.set_secrets(endpoint_id, (current, SigningSecret(
                previous.nonce, previous.created_at, utc_iso(datetime.now(timezone.utc) - timedelta(seconds=1)))),
                utc_iso(datetime.now(timezone.utc)))
            post_request(stack)
            wait_for(lambda: receiver.received, 2)
        finally:
            stack.repository.delete(endpoint_id)
    assert len(receiver.verified) == 1 and len(receiver.failures) == 1  # the old secret: first yes, then no
    second = receiver.received[1]
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(second.body, second.headers)


def test_a_receiver_that_fails_three_times_gets_the_event_again_after_each_and_then_no_more(hook_stack):
    stack = hook_stack
    with VerifyingReceiver(statuses=[500, 500, 500]) as receiver:
        endpoint_id, receiver.secret = add_endpoint(stack, receiver.url)
        try:
            request_id, _ = post_request(stack)
            wait_for(lambda: receiver.received, 4, seconds=60)
            time.sleep(5)  # retries come 1 s apart here: five seconds more and nothing comes
            attempts = wait_for(lambda: stack.repository.deliveries(endpoint_id), 4)
        finally:
            stack.repository.delete(endpoint_id)
    assert [got.headers["webhook-id"] for got in receiver.received] == [f"msg_{request_id}_0"] * 4
    assert len(receiver.verified) == 4
    assert [(d.attempt, d.status, d.outcome) for d in reversed(attempts)] == [
        (1, 500, "failed"), (2, 500, "failed"), (3, 500, "failed"), (4, 204, "delivered")]


def test_a_410_disables_the_endpoint_and_nothing_more_is_sent(hook_stack):
    stack = hook_stack
    with VerifyingReceiver(statuses=[410]) as receiver:
        endpoint_id, receiver.secret = add_endpoint(stack, receiver.url)
        try:
            post_request(stack)
            wait_for(lambda: receiver.received, 1)
            endpoint = wait_for(lambda: [e for e in [stack.repository.get(endpoint_id)] if not e.active], 1)
            post_request(stack)
            time.sleep(4)
        finally:
            stack.repository.delete(endpoint_id)
    assert [(e.active, e.disabled_reason) for e in endpoint] == [(False, "gone")]
    assert len(receiver.received) == 1
    listed = "\n".join(webhook_tool(stack, "list"))
    assert endpoint_id not in listed  # deleted at the end of the test


def test_a_redirect_is_not_followed(hook_stack):
    stack = hook_stack

    def answer(got):
        if got.path.endswith("/moved"):
            return 204, {}, b""
        return 302, {"location": receiver.url + "/moved"}, b""

    with Receiver(answer) as receiver:
        endpoint_id, _ = add_endpoint(stack, receiver.url)
        try:
            post_request(stack)
            wait_for(lambda: receiver.received, 3)
            attempts = stack.repository.deliveries(endpoint_id)
        finally:
            stack.repository.delete(endpoint_id)
    assert [got.path for got in receiver.received if got.path.endswith("/moved")] == []
    assert len(receiver.received) >= 3  # tried again on the schedule, at the same URL each time
    assert {(d.status, d.outcome) for d in attempts} == {(302, "redirected")}


def readme_receiver():
    """The README's receiver, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```python\n", text.index("### Telling the clinic's other systems")) + len("```python\n")
    return text[start:text.index("```", start)]


def test_the_readme_receiver_prints_each_event_it_verified(hook_stack, tmp_path):
    from tests.e2e.conftest import free_port

    stack, port = hook_stack, free_port()
    code = readme_receiver()
    assert code.count("9009") == 1 and len([line for line in code.splitlines() if line.strip()]) <= 12
    script = tmp_path / "receiver.py"
    script.write_text(code.replace("9009", str(port)))
    url = f"http://127.0.0.1:{port}/hook"
    lines = webhook_tool(stack, "add", "--url", url, "--events", "appointment.requested,visit.booked")
    endpoint_id, secret = [e.id for e in endpoints(stack).all() if e.url == url][0], lines[-1].strip()
    receiver = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "WEBHOOK_SECRET": secret},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        request_id, _ = post_request(stack)
        ready, _, _ = select.select([receiver.stdout], [], [], 30)  # the stack retries until the receiver is up
        line = receiver.stdout.readline() if ready else ""
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
        endpoints(stack).delete(endpoint_id)
    assert line.split() == ["appointment.requested", request_id, "new"]
