"""The webhook queue's consumer with fakes: what is sent, signed how, retried when, and what is dropped."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chalicelib.core.errors import StorageUnavailable
from chalicelib.storage.webhook_queue import Delivery, message_body
from chalicelib.storage.webhooks import Delivery as Attempt
from chalicelib.webhooks.delivery import WebhookDelivery
from chalicelib.webhooks.endpoints import WebhookAdmin
from chalicelib.webhooks.sender import Answer
from tests.conftest import captured_log_lines
from tests.fakes import Clock, FakeWebhookRepository

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
KEY = b"webhook-secrets-test-key-0123456789abcdef"
URL = "https://hooks.receiver.example/clinic/t0k3n-in-the-path"
PAYLOAD = json.dumps({"type": "appointment.requested", "timestamp": "2026-11-25T14:59:58.000Z",
                      "data": {"id": "req-1", "location": "downtown", "status": "new"}}, separators=(",", ":"))


class WebhookRepository(FakeWebhookRepository):
    """The shared fake, with the expiry of each attempt kept, and `down`: the calls that fail as DynamoDB's would."""

    def __init__(self):
        super().__init__()
        self.expiries, self.down = [], set()

    def _check(self, name):
        if name in self.down:
            raise StorageUnavailable()

    def get(self, endpoint_id):
        self._check("get")
        return super().get(endpoint_id)

    def set_active(self, endpoint_id, active, reason, now):
        self._check("set_active")
        return super().set_active(endpoint_id, active, reason, now)

    def record_delivery(self, delivery, expires_at):
        self._check("record_delivery")
        self.expiries.append(expires_at)
        super().record_delivery(delivery, expires_at)


class FakeQueue:
    def __init__(self):
        self.retries, self.down = [], False

    def retry_in(self, receipt_handle, seconds):
        if self.down:
            raise StorageUnavailable()
        self.retries.append((receipt_handle, seconds))


class FakeSender:
    """Answers with `answers` in turn (the last one again after that); keeps what it was asked to POST."""

    def __init__(self, *answers):
        self.answers = list(answers) or [Answer(204)]
        self.posts = []

    def post(self, url, body, headers):
        self.posts.append((url, body, headers))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class Stopwatch:
    """A monotonic clock that moves 0.1234 s between two readings: each POST takes that long."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        self.now += 0.1234
        return self.now


@pytest.fixture
def world(settings):
    repository, queue, clock = WebhookRepository(), FakeQueue(), Clock(NOW)
    nonces = iter(f"nonce-{n}" for n in range(100))
    admin = WebhookAdmin(repository, settings, lambda: KEY, now=clock, new_id=iter(["ep_0000000000000001", "ep_0000000000000002"]).__next__,
                         nonce=lambda: next(nonces))
    endpoint, secret = admin.add(URL, ["appointment.requested", "visit.booked"], "admin@example.com")

    def delivery(sender):
        return WebhookDelivery(repository, admin, queue, sender, settings, now=clock, clock=Stopwatch())

    class World:
        pass

    world = World()
    world.repository, world.queue, world.clock, world.admin = repository, queue, clock, admin
    world.endpoint, world.secret, world.delivery, world.settings = endpoint, secret, delivery, settings
    return world


def event(unit=0, endpoint_id="ep_0000000000000001", event_type="appointment.requested", request_id="req-1"):
    return Delivery(endpoint_id, f"msg_{request_id}_{unit}", event_type, request_id, PAYLOAD)


def record(delivery, attempt=1, message_id=None, group=None):
    message_id = message_id or f"sqs-{delivery.event_id}"
    return {"messageId": message_id, "receiptHandle": f"receipt-{message_id}", "body": message_body(delivery),
            "attributes": {"ApproximateReceiveCount": str(attempt),
                           "MessageGroupId": group or f"{delivery.endpoint_id}:{delivery.request_id}"},
            "eventSource": "aws:sqs"}


def test_a_2xx_is_delivered_signed_and_recorded(world):
    sender = FakeSender(Answer(204))
    assert world.delivery(sender).handle([record(event())]) == []
    [(url, body, headers)] = sender.posts
    assert (url, body) == (URL, PAYLOAD.encode())
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == "msg_req-1_0" and headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert world.queue.retries == []
    assert world.repository.attempts == [
        Attempt("ep_0000000000000001", "msg_req-1_0", "appointment.requested", 1, "2026-11-25T15:00:00.000Z", "delivered", 204, 123)]
    assert world.repository.expiries == [int((NOW + timedelta(days=30)).timestamp())]


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 7])
def test_each_failed_attempt_comes_back_after_its_own_wait(world, attempt):
    message = record(event(), attempt=attempt)
    assert world.delivery(FakeSender(Answer(500))).handle([message]) == [message["messageId"]]
    assert world.queue.retries == [(message["receiptHandle"], (5, 300, 1800, 7200, 18000, 36000, 36000)[attempt - 1])]
    [attempt_record] = world.repository.attempts
    assert (attempt_record.attempt, attempt_record.outcome, attempt_record.status) == (attempt, "failed", 500)


def logged_since(before):
    return [json.loads(line) for line in captured_log_lines()[before:]]


def test_the_last_attempts_failure_is_left_to_the_redrive(world):
    message, before = record(event(), attempt=8), len(captured_log_lines())
    assert world.delivery(FakeSender(Answer(503))).handle([message]) == [message["messageId"]]
    assert world.queue.retries == []  # it comes back after the queue's visibility timeout, into the dead-letter queue
    assert [line["outcome"] for line in logged_since(before) if line.get("event") == "webhook_dead_lettered"] == [
        "dead_lettered"]
    assert world.repository.attempts[0].attempt == 8


def test_410_gone_disables_the_endpoint_and_is_done(world):
    assert world.delivery(FakeSender(Answer(410))).handle([record(event())]) == []
    endpoint = world.repository.endpoints["ep_0000000000000001"]
    assert (endpoint.active, endpoint.disabled_reason) == (False, "gone")
    assert world.queue.retries == [] and world.repository.attempts[0].outcome == "gone"


def test_a_410_that_could_not_disable_the_endpoint_is_tried_again(world):
    world.repository.down = {"set_active"}
    message = record(event())
    assert world.delivery(FakeSender(Answer(410))).handle([message]) == [message["messageId"]]
    assert world.queue.retries == [(message["receiptHandle"], 5)]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_failure_never_followed(world, status):
    sender, message = FakeSender(Answer(status)), record(event())
    assert world.delivery(sender).handle([message]) == [message["messageId"]]
    assert len(sender.posts) == 1
    assert world.repository.attempts[0].outcome == "redirected"


@pytest.mark.parametrize("answer, outcome", [
    (Answer(None, "timeout"), "failed"), (Answer(None, "connection"), "failed"), (Answer(None, "dns"), "failed"),
    (Answer(None, "private"), "refused"), (Answer(None, "scheme"), "refused"), (Answer(400), "failed"),
])
def test_no_answer_or_a_refused_address_is_tried_again(world, answer, outcome):
    message = record(event())
    assert world.delivery(FakeSender(answer)).handle([message]) == [message["messageId"]]
    assert world.queue.retries == [(message["receiptHandle"], 5)]
    attempt = world.repository.attempts[0]
    assert (attempt.outcome, attempt.status) == (outcome, answer.status)


@pytest.mark.parametrize("change", ["disabled", "deleted", "unsubscribed"])
def test_a_message_for_an_endpoint_that_no_longer_wants_it_is_dropped(world, change):
    if change == "disabled":
        world.admin.disable("ep_0000000000000001", "admin@example.com")
    elif change == "deleted":
        del world.repository.endpoints["ep_0000000000000001"]
    sender = FakeSender()
    kind = "visit.cancelled" if change == "unsubscribed" else "appointment.requested"
    assert world.delivery(sender).handle([record(event(event_type=kind))]) == []
    assert sender.posts == [] and world.queue.retries == [] and world.repository.attempts == []


@pytest.mark.parametrize("body", ["not json", "{}", json.dumps({"endpoint": 1, "id": "x", "type": "t",
                                                                 "request": "r", "payload": "p"})])
def test_an_unreadable_message_is_dropped_not_retried(world, body):
    sender = FakeSender()
    message = {**record(event()), "body": body}
    assert world.delivery(sender).handle([message]) == []
    assert sender.posts == [] and world.queue.retries == []


def test_during_a_rotation_both_secrets_sign_and_either_verifies(world):
    now = datetime.now(timezone.utc).replace(microsecond=0)  # the verifier checks the timestamp against its own clock
    world.clock.now = now
    new_secret = world.admin.rotate("ep_0000000000000001", "admin@example.com")
    sender = FakeSender()
    world.delivery(sender).handle([record(event())])
    [(_, body, headers)] = sender.posts
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (world.secret, new_secret):
        assert Webhook(secret).verify(body, headers) == json.loads(PAYLOAD)

    world.clock.now = now + timedelta(hours=24, seconds=1)  # the old secret's overlap is over
    sender = FakeSender()
    world.delivery(sender).handle([record(event(unit=1))])
    [(_, body, headers)] = sender.posts
    assert len(headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(world.secret).verify(body, {**headers, "webhook-timestamp": str(int(now.timestamp()))})
    assert headers["webhook-signature"] == _sign(new_secret, headers, body)


def _sign(secret, headers, body):
    moment = datetime.fromtimestamp(int(headers["webhook-timestamp"]), timezone.utc)
    return Webhook(secret).sign(headers["webhook-id"], moment, body)


def test_behind_a_failure_its_groups_later_messages_wait_and_other_groups_go(world):
    first, second = record(event(unit=0)), record(event(unit=1))
    other = record(event(request_id="req-2"))
    sender = FakeSender(Answer(503), Answer(204))
    assert world.delivery(sender).handle([first, other, second]) == [first["messageId"], second["messageId"]]
    assert [headers["webhook-id"] for _, _, headers in sender.posts] == ["msg_req-1_0", "msg_req-2_0"]
    # The held one comes back with the failed one, behind it in its group, not 6 minutes later.
    assert world.queue.retries == [(first["receiptHandle"], 5), (second["receiptHandle"], 5)]


@pytest.mark.parametrize("broken", ["get", "signing key"])
def test_our_own_failure_hands_the_message_back(world, broken):
    if broken == "get":
        world.repository.down = {"get"}
    else:
        world.admin._secret_key = lambda: (_ for _ in ()).throw(StorageUnavailable())
    sender, message = FakeSender(), record(event(), attempt=2)
    assert world.delivery(sender).handle([message]) == [message["messageId"]]
    assert sender.posts == [] and world.queue.retries == [(message["receiptHandle"], 300)]


def test_a_retry_sqs_did_not_take_is_still_handed_back(world):
    world.queue.down = True
    message = record(event())
    assert world.delivery(FakeSender(Answer(500))).handle([message]) == [message["messageId"]]


def test_an_attempt_not_recorded_changes_nothing_of_its_outcome(world):
    world.repository.down = {"record_delivery"}
    assert world.delivery(FakeSender(Answer(200))).handle([record(event())]) == []
    message = record(event(unit=1))
    assert world.delivery(FakeSender(Answer(500))).handle([message]) == [message["messageId"]]


def test_one_log_line_per_attempt_with_ids_status_and_latency_and_never_the_url_or_body(world):
    before = len(captured_log_lines())
    world.delivery(FakeSender(Answer(500), Answer(204))).handle(
        [record(event(), attempt=3), record(event(request_id="req-2"))])
    attempts = [line for line in logged_since(before) if line.get("event") == "webhook_attempt"]
    assert [{k: line[k] for k in ("endpoint_id", "event_id", "event_type", "attempt", "status", "outcome",
                                  "latency_ms")} for line in attempts] == [
        {"endpoint_id": "ep_0000000000000001", "event_id": "msg_req-1_0", "event_type": "appointment.requested", "attempt": 3,
         "status": 500, "outcome": "failed", "latency_ms": 123},
        {"endpoint_id": "ep_0000000000000001", "event_id": "msg_req-2_0", "event_type": "appointment.requested", "attempt": 1,
         "status": 204, "outcome": "delivered", "latency_ms": 123},
    ]
    text = "\n".join(captured_log_lines()[before:])
    for secret in ("t0k3n", "hooks.receiver.example", "downtown", "2026-11-25T14:59:58", "whsec_"):
        assert secret not in text


def test_an_endpoint_with_no_current_secret_is_sent_nothing_unsigned(world):
    """An endpoint item stored without secrets (by hand, or a write gone wrong) would be POSTed an empty
    webhook-signature: the body goes out unsigned. It is not sent; the message comes back for a rotation to fix."""
    world.repository.set_secrets("ep_0000000000000001", (), "2026-11-25T15:00:00.000Z")
    sender = FakeSender(Answer(204))
    message = record(event())
    assert world.delivery(sender).handle([message]) == [message["messageId"]]
    assert sender.posts == []
    assert world.queue.retries == [(message["receiptHandle"], 5)]
    [attempt] = world.repository.attempts
    assert (attempt.outcome, attempt.status) == ("failed", None)
