"""Webhook deliveries, taken from their FIFO queue (app.deliver_webhooks; locally, tools/stream_driver.py).

Each message is one event for one endpoint (storage.webhook_queue). The endpoint as it is now decides: deleted,
disabled or no longer wanting the event, the message is dropped. Otherwise the payload is POSTed, signed by every
current secret of the endpoint (two during a rotation). A 2xx is done; a 410 Gone disables the endpoint (its
receiver says it is gone for good) and is done; anything else, no answer included, is tried again
WEBHOOK_RETRY_SECONDS[n-1] later, where n is SQS's ApproximateReceiveCount (this attempt's number), and reported
in batchItemFailures so that Lambda leaves it on the queue. After the last wait's attempt the message is left to
the queue's redrive, which moves it to the dead-letter queue (maxReceiveCount) when it would come back.

A message's group is its endpoint and request. app.py takes one message an invocation (SQS counts a receive for
each message of a batch); should a batch hold more, once one fails, the later messages of its group in it
are not tried (the receiver must get a request's events in order) but handed back to come again with it. A failure
of our own (the table, the key, SQS) hands the message back too: nothing is lost, and nothing is ever dropped
that could still be delivered.

Every attempt is one log line (event "webhook_attempt") and one delivery record (kept DELIVERY_DAYS), with ids,
status and latency only: never the URL, which may carry a receiver's token, nor the body.
"""
import logging
import time
from datetime import timedelta

from ..core.clock import utc_iso, utcnow
from ..core.errors import NotFound, StorageUnavailable
from ..core.logs import get_logger
from ..storage.webhook_queue import read_message
from ..storage.webhooks import DELIVERY_DAYS, Delivery
from .addresses import REFUSALS
from .sender import Answer
from .signing import headers as signed_headers

log = get_logger(__name__)

GONE = 410
RECEIVER = "receiver"  # the actor of a disabling by 410 Gone, in the endpoint's log line


def outcome_of(answer):
    """The outcome of an attempt, as its delivery record keeps it."""
    if answer.status is None:
        return "refused" if answer.error in REFUSALS else "failed"
    if 200 <= answer.status < 300:
        return "delivered"
    if answer.status == GONE:
        return "gone"
    if 300 <= answer.status < 400:
        return "redirected"
    return "failed"


def attempt_number(record):
    """This attempt's number: SQS's count of the message's receives, this one included."""
    try:
        return max(1, int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1


class WebhookDelivery:
    def __init__(self, repository, admin, queue, sender, settings, *, now=utcnow, clock=time.monotonic):
        self._repository = repository  # storage.webhooks.WebhookRepository
        self._admin = admin  # webhooks.endpoints.WebhookAdmin: the endpoints' current secrets, and disabling
        self._queue = queue  # storage.webhook_queue.WebhookQueue: a failed message's next try
        self._sender = sender  # webhooks.sender.Sender
        self._settings = settings
        self._now = now
        self._clock = clock

    def handle(self, records):
        """Deliver Lambda's SQS records (dicts); the messageIds to hand back (batchItemFailures)."""
        failed, held = [], {}  # held: group id -> the wait of its message that failed in this batch
        for record in records:
            group = record.get("attributes", {}).get("MessageGroupId")
            if group is not None and group in held:
                self._hold(record, held[group])
            else:
                try:
                    done, wait = self._deliver(record)
                except Exception as error:  # noqa: BLE001 - our own failure: the message comes back, never lost
                    log.error("webhook delivery failed", extra={
                        "event": "webhook_error", "message_id": record.get("messageId"),
                        "attempt": attempt_number(record), "error_type": type(error).__name__})
                    done, wait = False, self._retry(record)
                if done:
                    continue
                if group is not None:
                    held[group] = wait
            failed.append(record.get("messageId"))
        return failed

    def _deliver(self, record):
        """(done, the wait set for the next try) for one message."""
        attempt = attempt_number(record)
        try:
            delivery = read_message(record["body"])
        except Exception as error:  # noqa: BLE001 - retrying would not make it readable
            log.error("webhook message dropped", extra={"event": "webhook_dropped", "reason": "unreadable",
                                                        "message_id": record.get("messageId"),
                                                        "error_type": type(error).__name__})
            return True, None
        endpoint = self._repository.get(delivery.endpoint_id)
        if endpoint is None or not endpoint.wants(delivery.event_type):
            reason = "deleted" if endpoint is None else "disabled" if not endpoint.active else "unsubscribed"
            log.info("webhook message dropped", extra={
                "event": "webhook_dropped", "reason": reason, "endpoint_id": delivery.endpoint_id,
                "event_id": delivery.event_id, "event_type": delivery.event_type, "attempt": attempt})
            return True, None
        now = self._now()
        body = delivery.payload.encode("utf-8")
        secrets = self._admin.signing_secrets(endpoint, now)
        headers = {**signed_headers(secrets, delivery.event_id, now.timestamp(), body),
                   "content-type": "application/json"}
        started = self._clock()
        # No current secret (an item stored without one): never POST an unsigned body; a rotation makes one.
        answer = self._sender.post(endpoint.url, body, headers) if secrets else Answer(None, "unsigned")
        latency_ms = round((self._clock() - started) * 1000)
        outcome = outcome_of(answer)
        done = outcome in ("delivered", "gone")
        if outcome == "gone":
            done = self._disable(endpoint.id)
        wait = None if done else self._retry(record, attempt)
        log.log(logging.INFO if done else logging.WARNING, "webhook attempt", extra={
            "event": "webhook_attempt", "endpoint_id": endpoint.id, "event_id": delivery.event_id,
            "event_type": delivery.event_type, "attempt": attempt, "status": answer.status, "outcome": outcome,
            "latency_ms": latency_ms, "error": answer.error, "retry_seconds": wait})
        self._record(Delivery(endpoint.id, delivery.event_id, delivery.event_type, attempt, utc_iso(now), outcome,
                              answer.status, latency_ms), now)
        if not done and attempt > len(self._settings.webhook_retry_seconds):
            log.warning("webhook delivery given up", extra={
                "event": "webhook_dead_lettered", "endpoint_id": endpoint.id, "event_id": delivery.event_id,
                "event_type": delivery.event_type, "attempt": attempt, "outcome": "dead_lettered"})
        return done, wait

    def _retry(self, record, attempt=None):
        """Set the message's next try, per the schedule; None after the last attempt (then the redrive takes it),
        or when SQS did not take the change (then it comes back after the queue's visibility timeout)."""
        attempt = attempt or attempt_number(record)
        schedule = self._settings.webhook_retry_seconds
        if attempt > len(schedule):
            return None
        try:
            self._queue.retry_in(record["receiptHandle"], schedule[attempt - 1])
        except StorageUnavailable:
            log.warning("webhook retry not scheduled", extra={"event": "webhook_retry_failed",
                                                              "message_id": record.get("messageId"),
                                                              "attempt": attempt})
            return None
        return schedule[attempt - 1]

    def _hold(self, record, wait):
        """A message behind a failed one of its group: not tried, handed back to come again with it."""
        log.info("webhook message held", extra={"event": "webhook_held", "message_id": record.get("messageId"),
                                                "attempt": attempt_number(record)})
        if wait is not None:
            try:
                self._queue.retry_in(record["receiptHandle"], wait)
            except StorageUnavailable:
                pass  # it comes back after the queue's visibility timeout, behind the failed one still

    def _disable(self, endpoint_id):
        """Disable an endpoint whose receiver answered 410 Gone; False when that could not be saved (the message
        is then tried again, and disables it then)."""
        try:
            self._admin.disable(endpoint_id, RECEIVER, reason="gone")
        except NotFound:
            pass  # deleted meanwhile
        except StorageUnavailable:
            return False
        return True

    def _record(self, delivery, now):
        try:
            self._repository.record_delivery(delivery, int((now + timedelta(days=DELIVERY_DAYS)).timestamp()))
        except StorageUnavailable:
            # Only the admin's list of recent attempts misses it; the log line above has it.
            log.warning("webhook attempt not recorded", extra={"event": "webhook_record_failed",
                                                               "endpoint_id": delivery.endpoint_id,
                                                               "event_id": delivery.event_id})
