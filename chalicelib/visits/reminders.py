"""The reminder before a booked visit: one e-mail, and one text where the patient agreed to texts.

A scheduled function (every 15 minutes in AWS; about every 30 s under `make run`) runs `Reminders.run`. It
sends nothing between 21:00 and 08:00 clinic time (booking puts a reminder that would fall there at 20:45, the
last run before). For each request the index gives (storage/reminders.py) it reads the request again, drops a
visit that is past, cancelled, erased or suspected spam, claims the reminder of the booked time, and sends
each channel still to send, each marked on its own: a failing SNS never re-sends the e-mail, nor SES the text.
A channel that failed for now is retried by a later run; once every channel has an outcome the request leaves
the index. A change of time re-arms it (a new visit_sequence, a new map of marks).
"""
import time
from collections import Counter

from ..core.clock import utc_iso, utcnow
from ..core.errors import MailNotSent, SmsNotSent, StorageUnavailable
from ..core.logs import get_logger
from ..core.visit_times import quiet
from ..notify.delivery import Unmarked, mark_hard
from ..notify.sms import E164, compose_reminder_text
from ..storage.reminders import CHANNELS, RETRY, SENDING

log = get_logger(__name__)

def _default_compose(request, kind, settings, page_url, now):
    from ..notify.visit_mail import compose_visit_email  # the visit e-mails' module (issue 28, mail)

    return compose_visit_email(request, kind, settings, page_url, now)


class Reminders:
    def __init__(self, repository, mailer, texts, settings, page_url, *, compose_mail=_default_compose, now=utcnow,
                 sleep=time.sleep):
        self._repository = repository
        self._mailer = mailer
        self._texts = texts
        self._settings = settings
        self._page_url = page_url  # request id -> the patient's page URL
        self._compose_mail = compose_mail
        self._now = now
        self._sleep = sleep
        # What this process sent but could not mark, by (request, visit, channel): marked, never sent again.
        self._unmarked = Unmarked()
        # The claims this process made, by (request, visit): one a failed run could not release (or whose answer
        # was lost) is carried on by the next run here, rather than waiting out its lease.
        self._claims = Unmarked()

    def run(self):
        """Send the reminders due now; how many requests ended each way ({} in the quiet hours)."""
        now = self._now()
        if quiet(now, self._settings):
            return {}
        at = utc_iso(now)
        done, failed = Counter(), None
        for request_id in self._repository.due(at):
            try:
                done[self._remind(request_id, now, at)] += 1
            except StorageUnavailable as error:  # this one waits for a later run (its claim's lease), not the rest
                done["unavailable"] += 1
                failed = error
        log.info("reminders run", extra={"event": "reminders_run", **done})
        if failed:
            raise failed
        return dict(done)

    def _remind(self, request_id, now, at):
        booking = self._repository.get(request_id)
        if booking is None or not booking.queued or not booking.remind_at or booking.remind_at > at:
            return "not_due"  # gone, or changed since the index was read
        if booking.status != "scheduled" or booking.visit_start is None or booking.visit_start <= now:
            self._repository.dequeue(booking)
            return "dropped"
        at = self._claim(booking, at)
        if at is None:
            return "claimed_elsewhere"
        outcomes = {}
        for channel in CHANNELS:
            marked = booking.reminder.get(channel)
            remembered = self._unmarked.get((booking.id, booking.visit_sequence, channel))
            if marked == SENDING and remembered is not None:  # sent here before: only its mark is missing
                outcome = self._mark(booking, at, channel, remembered)
                if outcome is None:
                    return "claimed_elsewhere"
                outcomes[channel] = outcome
                continue
            if marked == SENDING:
                # A run that marked it sending, then lost its mark, or stopped: whether it went is unknown. Sent
                # again, so that none is lost (a duplicate only where a message went and its mark was lost).
                log.warning("reminder outcome unknown", extra={"event": "reminder_outcome_unknown",
                                                               "appointment_id": booking.id, "channel": channel})
            elif marked not in (None, RETRY):
                outcomes[channel] = marked
                continue
            outcome = self._send(channel, booking, at, now)
            if outcome is None:
                return "claimed_elsewhere"
            outcomes[channel] = outcome
        log.info("reminder", extra={"event": "reminder", "appointment_id": booking.id, "visit_sequence":
                                    booking.visit_sequence, **{f"{c}_outcome": o for c, o in outcomes.items()}})
        if RETRY in outcomes.values():
            self._repository.release(booking, at)
            return "retry"
        self._repository.dequeue(booking)
        self._claims.forget((booking.id, booking.visit_sequence))
        return "reminded"

    def _claim(self, booking, at):
        """The claim's time when this run may send `booking`'s reminder (its own claim, or one this process made
        before), None when another run holds it."""
        key = (booking.id, booking.visit_sequence)
        held = booking.reminder.get("claimed_at")
        if held is not None and held == self._claims.get(key):
            return held
        # Remembered first, and kept whatever the answer: a claim whose answer was lost, retried by the client,
        # reads as refused (its own first write holds the item), yet it is ours.
        self._claims.remember(key, at)
        return at if self._repository.claim(booking, at) else None

    def _send(self, channel, booking, at, now):
        """The channel's outcome, marked; None when the claim was lost meanwhile."""
        skipped = self._sms_skipped(booking) if channel == "sms" else None
        if skipped:
            return skipped if self._repository.mark(booking, at, channel, skipped, at) else None
        if not self._repository.mark(booking, at, channel, SENDING, at):
            return None
        try:
            outcome = "sent" if self._deliver(channel, booking, now) else "opted_out"
        except (MailNotSent, SmsNotSent) as error:
            outcome = RETRY if error.retryable else "refused"
            log.warning("reminder not sent", extra={"event": "reminder_not_sent", "appointment_id": booking.id,
                                                    "channel": channel, "reason": error.reason})
        return self._mark(booking, at, channel, outcome)

    def _mark(self, booking, at, channel, outcome):
        """Mark the channel's outcome, tried hard (its mark is what keeps it from going twice); None when the claim
        was lost meanwhile. Still failing: remembered in this process, so its next run marks instead of sending."""
        key = (booking.id, booking.visit_sequence, channel)
        try:
            marked = mark_hard(lambda: self._repository.mark(booking, at, channel, outcome, at), sleep=self._sleep)
        except StorageUnavailable:
            self._unmarked.remember(key, outcome)
            raise
        self._unmarked.forget(key)
        return outcome if marked else None

    def _deliver(self, channel, booking, now):
        request, settings = booking.request, self._settings
        link = self._page_url(request.id)
        if channel == "mail":
            return self._mailer.send(self._compose_mail(request, "reminder", settings, link, now))
        language = request.language if request.language in settings.languages else settings.languages[0]
        text = compose_reminder_text(settings.locations.get(request.location, request.location),
                                     booking.visit_start.astimezone(settings.timezone), link, language)
        return self._texts.send(request.fields.get("phone"), text)

    def _sms_skipped(self, booking):
        if not self._settings.sms_reminders:
            return "off"
        if not booking.request.sms_consent:
            return "no_consent"
        if not E164.match(booking.request.fields.get("phone") or ""):
            return "no_number"
        return None
