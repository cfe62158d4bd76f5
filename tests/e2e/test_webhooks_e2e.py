"""Webhook delivery in the running stack: the stream driver's webhook queue consumer POSTs a queued event to a
receiver on 127.0.0.1, signed with the endpoint's secret, and takes it off the queue."""
import json
import time
import uuid

import pytest
from standardwebhooks.webhooks import Webhook

from chalicelib.core.clock import utc_iso, utcnow
from chalicelib.core.keys import purpose_key
from chalicelib.core.secret_key import SecretKey
from chalicelib.storage.webhook_queue import Delivery, WebhookQueue
from chalicelib.storage.webhooks import Endpoint, SigningSecret, WebhookRepository
from chalicelib.webhooks.signing import endpoint_secret
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e


def test_a_queued_event_reaches_a_local_receiver_signed(stack):
    env = stack.settings_env
    repository = WebhookRepository(stack.client("dynamodb"), env["APPOINTMENTS_TABLE"])
    key = purpose_key(SecretKey(stack.client("secretsmanager"), env["DEDUPE_KEY_SECRET"])(), "webhook secrets")
    endpoint_id, request_id, now = f"ep_{uuid.uuid4().hex[:16]}", f"req-{uuid.uuid4().hex[:8]}", utc_iso(utcnow())
    payload = json.dumps({"type": "appointment.requested", "timestamp": now, "data": {"id": request_id}})
    with Receiver() as receiver:
        repository.add(Endpoint(endpoint_id, receiver.url, ("appointment.requested",), True, now, "e2e", now,
                                (SigningSecret("e2e-nonce", now),)))
        try:
            WebhookQueue(stack.client("sqs"), env["WEBHOOK_QUEUE_URL"]).put(
                [Delivery(endpoint_id, f"msg_{request_id}_0", "appointment.requested", request_id, payload)])
            deadline = time.monotonic() + 20
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.1)
            [got] = receiver.received
            secret = endpoint_secret(key, endpoint_id, "e2e-nonce")
            assert Webhook(secret).verify(got.body, got.headers) == json.loads(payload)
            deadline = time.monotonic() + 10
            while not repository.deliveries(endpoint_id) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert [(d.outcome, d.status) for d in repository.deliveries(endpoint_id)] == [("delivered", 204)]
        finally:
            repository.delete(endpoint_id)
