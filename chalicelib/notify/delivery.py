"""Staff alerts, sent from the table's stream: exactly one per stored, non-spam request.

The request path only writes the item. This side reads the stream (in AWS, Lambda's event
source mapping; locally, tools/stream_driver.py), publishes, then marks the item as alerted.
A failed record is reported back so that it is retried (and, after bounded retries, sent
to the dead-letter queue); the mark turns a retried record into a no-op. Once SNS has taken
an alert the record counts as delivered, marked or not: a duplicate alert can only come from
an SNS answer lost on its way back.

The mark is what keeps a message from going out twice, so it is tried harder than other
writes (MARK_ROUNDS rounds of the client's own attempts), and what was sent but still could
not be marked is remembered in the process (Unmarked): a record retried there, or another
record of the same request, marks it instead of sending it again.
"""
import time
from collections import OrderedDict
from dataclasses import replace

from ..core.clock import utc_iso, utcnow
from ..core.errors import AlertNotSent, MailNotSent, StorageUnavailable
from ..core.logs import get_logger
from ..storage.appointments import stream_key, stream_subject
from .alerts import ANSWER_SUBJECTS, compose_alert, compose_answer_alert

log = get_logger(__name__)

# Each round is the client's own 3 attempts; between rounds, a pause that outlasts a throttling burst.
MARK_ROUNDS = 3
MARK_PAUSES = (0.2, 0.5)


class Unmarked:
    """What this process sent but could not mark, by request id (bounded: the oldest are forgotten)."""

    def __init__(self, limit=10_000):
        self._sent = OrderedDict()
        self._limit = limit

    def remember(self, request_id, value):
        self._sent[request_id] = value
        while len(self._sent) > self._limit:
            self._sent.popitem(last=False)

    def get(self, request_id):
        return self._sent.get(request_id)

    def forget(self, request_id):
        self._sent.pop(request_id, None)


def mark_hard(mark, *, sleep=time.sleep):
    """Run `mark` until it succeeds, at most MARK_ROUNDS times; StorageUnavailable if it never did."""
    for pause in (*MARK_PAUSES[: MARK_ROUNDS - 1], None):
        try:
            return mark()
        except StorageUnavailable:
            if pause is None:
                raise
            sleep(pause)

# Only new items make a request due for its alert and its confirmation: the request's own INSERT, and the
# INSERT of its rescue from suspected spam (an item of its own, written with the status change). A change
# to the request item (MODIFY: a staff change, or either consumer's mark) never is, so a mark that failed in
# one consumer cannot make the other act twice. Which statuses, read after the record, make it due:
DUE_STATUSES = {
    "request": ("new", "contacted", "scheduled", "attended", "no_show", "cancelled", "closed"),
    "rescue": ("new",),
}


def due_request_id(record):
    """The id of the request a stream record makes due for delivery, or None."""
    kind, request_id = stream_subject(record.keys)
    return request_id if record.event_name == "INSERT" and kind else None


def due_statuses(record):
    return DUE_STATUSES[stream_subject(record.keys)[0]]


def each_record(records, handle, what):
    """`handle` each record; the sequence numbers of those that failed, to be retried (and, in the end,
    dead-lettered). A record that cannot even be read is retried too: never dropped.

    Records after a failed one are still handled, not left to the retry: once a batch's retries
    run out, Lambda sends it, from the failed record on, to the dead-letter queue, and requests
    that could have been delivered must not go with it. Their marks make the retry a no-op."""
    failed = []
    for record in records:
        try:
            handle(record)
        except (AlertNotSent, MailNotSent, StorageUnavailable) as error:
            log.warning(f"{what} not sent", extra={
                "event": f"{what}_failed", "sequence_number": record.sequence_number,
                "reason": getattr(error, "reason", error.code),
            })
            failed.append(record.sequence_number)
        except Exception as error:
            log.error("unreadable stream record", extra={
                "event": f"{what}_failed", "sequence_number": record.sequence_number,
                "error_type": type(error).__name__,
            })
            failed.append(record.sequence_number)
    return failed


class AlertDelivery:
    def __init__(self, repository, publisher, settings, *, answers=None, now=utcnow, sleep=time.sleep):
        self._repository = repository
        self._answers = answers  # storage.answers.AnswerRepository: the patients' answers' outbox items
        self._publisher = publisher
        self._settings = settings
        self._now = now
        self._sleep = sleep
        self._unmarked = Unmarked()

    def deliver(self, records):
        """Handle stream records; return the sequence numbers of those that must be retried."""
        return each_record(records, self._deliver, "alert")

    def _deliver(self, record):
        kind, answered, sk = stream_key(record.keys)
        if kind == "answer" and record.event_name == "INSERT" and self._answers is not None:
            return self._deliver_answer(answered, sk)
        request_id = due_request_id(record)
        if request_id is None:
            return  # changes, expiry deletions and other kinds of item alert nobody
        # The stream carries keys only (so that it keeps no copy of personal data): the item as it
        # is now decides, erased meanwhile, suspected spam, or a retry of one already delivered.
        current = self._repository.get(request_id)
        if current is None or current.alerted_at or current.status not in due_statuses(record):
            return
        message_id = self._unmarked.get(current.id)
        if message_id is None:
            message_id = self._publish(current)
            log.info("alert sent", extra={"event": "alert_sent", "appointment_id": current.id,
                                          "location": current.location})
        try:
            mark_hard(lambda: self._repository.mark_alerted(current.id, message_id, self._now()), sleep=self._sleep)
            self._unmarked.forget(current.id)
        except StorageUnavailable:
            # SNS has the alert: retrying the record would send it again. Remembered, a record of this
            # request seen again here marks it instead; elsewhere, a later record of it alerts nobody
            # (a staff change, or its erasure).
            self._unmarked.remember(current.id, message_id)
            log.warning("alert sent but not marked", extra={"event": "alert_mark_failed",
                                                            "appointment_id": current.id})

    def _deliver_answer(self, request_id, sk):
        """A patient's answer (an `ANSWER#` outbox item's INSERT): one SNS message, the item marked so a retried
        record publishes nothing twice. Nothing for an item gone or marked, or a request erased or kept as spam."""
        item = self._answers.answer_outbox(request_id, sk)
        if item is None or item.get("sent_at") or item.get("event") not in ANSWER_SUBJECTS:
            return
        key = (request_id, sk)
        outcome = self._unmarked.get(key)
        if outcome is None:
            request = self._repository.get(request_id)
            if request is None or request.status == "suspected_spam":
                return
            try:
                outcome = self._publisher.publish(compose_answer_alert(request, item["event"], self._settings))
            except AlertNotSent as error:
                if error.retryable:
                    raise
                outcome = "refused"  # SNS will refuse it again: marked, never retried
            log.info("answer alert sent", extra={"event": "answer_alert_sent", "appointment_id": request_id,
                                                 "location": request.location, "answer_event": item["event"],
                                                 "outcome": "refused" if outcome == "refused" else "sent"})
        try:
            mark_hard(lambda: self._answers.mark_answer_sent(request_id, sk, outcome, utc_iso(self._now())),
                      sleep=self._sleep)
            self._unmarked.forget(key)
        except StorageUnavailable:
            self._unmarked.remember(key, outcome)
            log.warning("answer alert sent but not marked", extra={"event": "answer_alert_mark_failed",
                                                                   "appointment_id": request_id})

    def _publish(self, request):
        try:
            return self._publisher.publish(compose_alert(request, self._settings))
        except AlertNotSent as error:
            if error.retryable or self._settings.notify_detail == "minimal":
                raise
            # SNS refused this message itself: staff still learn of the request, without details.
            log.warning("full alert refused, sending minimal", extra={"event": "alert_downgraded",
                                                                       "reason": error.reason})
            minimal = replace(self._settings, notify_detail="minimal")
            return self._publisher.publish(compose_alert(request, minimal))
