"""Visit e-mails, sent from the table's stream by the mail consumer: one per outbox item, never twice.

Booking, changing and cancelling a visit each write a `VISIT#nnnn` outbox item beside the request, in the
same transaction as the change; its INSERT is what sends the e-mail. The request is read again, as it is
now: erased, gone or kept as possible spam, it gets nothing; past this item's sequence (booked again or
cancelled since), the newer item sends instead; a booking or change no longer scheduled is not sent.
The mark (the outbox item's `sent_at`, and an entry in the request's `visit_mails`) is one conditional
transaction; what was decided but could not be marked is remembered in the process (Unmarked), as for
confirmations. A retryable refusal of SES fails the record: retried, then dead-lettered.
"""
import time

from ..core.clock import utcnow
from ..core.errors import MailNotSent, StorageUnavailable
from ..core.logs import get_logger
from ..storage.visit_mails import visit_mail_subject
from .delivery import Unmarked, each_record, mark_hard
from .visit_mail import compose_visit_email

log = get_logger(__name__)

NEVER_MAILED = ("suspected_spam", "erased")


class VisitMailDelivery:
    def __init__(self, requests, outbox, mailer, settings, page_url, *, now=utcnow, sleep=time.sleep):
        self._requests = requests  # storage.appointments.AppointmentRepository: the request as it is now
        self._outbox = outbox  # storage.visit_mails.VisitMailRepository
        self._mailer = mailer
        self._settings = settings
        self._page_url = page_url  # request id -> the link to the patient's page
        self._now = now
        self._sleep = sleep
        self._unmarked = Unmarked()

    def deliver(self, records):
        """Handle stream records (the others are another consumer's); the sequence numbers to retry."""
        return each_record(records, self._deliver, "visit_mail")

    def handles(self, record):
        return record.event_name == "INSERT" and visit_mail_subject(record.keys) is not None

    def _deliver(self, record):
        if not self.handles(record):
            return
        request_id, sequence = visit_mail_subject(record.keys)
        item = self._outbox.outbox(request_id, sequence)
        if item is None or item.get("sent_at"):
            return
        kind, key = item["kind"], (request_id, sequence)
        decided = self._unmarked.get(key)
        if decided is not None:
            self._mark(request_id, sequence, kind, decided)
            return
        request = self._requests.get(request_id)
        reason = self._skip_reason(request, kind, sequence)
        if reason:
            log.info("visit mail skipped", extra={"event": "visit_mail_skipped", "appointment_id": request_id,
                                                   "kind": kind, "reason": reason})
            return
        email = compose_visit_email(request, kind, self._settings, self._page_url(request_id), self._now())
        try:
            self._mailer.send(email)
            outcome = "sent"
        except MailNotSent as error:
            if error.retryable:
                raise
            outcome = error.reason
        log.info("visit mail sent" if outcome == "sent" else "visit mail skipped", extra={
            "event": "visit_mail_sent" if outcome == "sent" else "visit_mail_skipped",
            "appointment_id": request_id, "kind": kind, "sequence": sequence, "reason": outcome})
        self._mark(request_id, sequence, kind, outcome)

    @staticmethod
    def _skip_reason(request, kind, sequence):
        if request is None or request.status in NEVER_MAILED:
            return "not_mailed"
        if request.visit_sequence is None or request.visit_start is None or request.visit_sequence > sequence:
            return "superseded"
        if kind in ("booked", "changed") and request.status != "scheduled":
            return "not_scheduled"
        return None

    def _mark(self, request_id, sequence, kind, outcome):
        try:
            mark_hard(lambda: self._outbox.mark_sent(request_id, sequence, kind, outcome, self._now()),
                      sleep=self._sleep)
            self._unmarked.forget((request_id, sequence))
        except StorageUnavailable:
            self._unmarked.remember((request_id, sequence), outcome)
            log.warning("visit mail not marked", extra={"event": "visit_mail_mark_failed",
                                                         "appointment_id": request_id, "sequence": sequence})


class MailDelivery:
    """The mail consumer's deliveries (confirmations, visit e-mails) over one batch: each sees every record and
    acts on its own kind; a record any of them failed is retried (their marks make the retry a no-op for the
    others)."""

    def __init__(self, *deliveries):
        self._deliveries = deliveries

    def deliver(self, records):
        failed = set()
        for delivery in self._deliveries:
            failed.update(delivery.deliver(records))
        return [record.sequence_number for record in records if record.sequence_number in failed]
