"""The patient's confirmation e-mail, sent from the table's stream: one per stored request, never twice.

Anyone can type anyone's address into a public form, so the e-mail repeats nothing the sender
typed: no name, no message, no reason, no insurance, and no link of theirs. It says where the
request went (the location's name), its reference, how and when the clinic will get in touch,
the link to the patient's page (where they can also say they did not send it), what to do if
it is urgent, and how to have the data erased. At most CAP_PER_DAY go to one address in
24 hours; later requests are stored and alerted as usual, and only a log line (without the
address) says that their confirmation was skipped.

Like alerts, it is sent off the request path and marked on the item (`confirmed_at`, its own
mark), so a retried stream record sends nothing twice, and a failed alert never re-sends a
confirmation (nor a failed confirmation an alert).
"""
import hashlib
import hmac
import time
from datetime import timedelta

from ..core.clock import utc_iso, utcnow
from ..core.errors import MailNotSent, StorageUnavailable
from ..core.i18n import N_, day_and_time, translate
from ..core.logs import get_logger
from ..core.mail import Email
from .delivery import Unmarked, due_request_id, due_statuses, each_record, mark_hard
from .mail_templates import TEMPLATES

log = get_logger(__name__)

CAP_PER_DAY = 3
CAP_WINDOW = timedelta(hours=24)
SUBJECT = N_("We have received your appointment request")
CONTACT_WORDS = {"phone": N_("by phone"), "email": N_("by e-mail"), "text": N_("by text message")}


def compose_confirmation(request, settings, page_url):
    """The e-mail for a stored request, in the patient's language: the same content as plain text and as HTML.

    The templates hold the words (msgids of the catalogue) and the layout; the values they are given are ours
    alone, the words among them already in the patient's language."""
    language = request.language if request.language in settings.languages else settings.languages[0]
    due = request.due_at or settings.due_at(request.location, request.created_at)  # one stored before due times
    subject = translate(SUBJECT, language)
    values = {
        "subject": subject,
        "location": settings.locations.get(request.location, request.location),
        "phone": settings.location_phones.get(request.location),
        "reference": request.id,
        "how": translate(CONTACT_WORDS.get(request.fields.get("preferred_contact"), CONTACT_WORDS["phone"]), language),
        "when": day_and_time(due.astimezone(settings.timezone), language),
        "page_url": page_url,
    }
    text = TEMPLATES.render("confirmation.txt", language, **values)
    page = TEMPLATES.render("confirmation.html", language, **values)
    reply_to = (settings.confirmation_reply_to,) if settings.confirmation_reply_to else ()
    return Email(to=request.fields.get("email", ""), subject=subject, text=text, html=page, reply_to=reply_to)


def address_key(address, key):
    """The address as the cap counts it: a keyed hash, so the table never holds the address itself."""
    return hmac.new(key, address.strip().lower().encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


class ConfirmationCap:
    """At most CAP_PER_DAY confirmations to one address in 24 hours; a request's own retry never counts twice."""

    def __init__(self, repository, key, *, now=utcnow):
        self._repository = repository
        self._key = key
        self._now = now

    def allow(self, address, request_id):
        """True when this request may be confirmed to `address` (and count it); False past the cap."""
        who = address_key(address, self._key())
        for _ in range(3):
            now = self._now()
            sent, version = self._repository.sends(who)
            since = utc_iso(now - CAP_WINDOW)
            recent = {rid: at for rid, at in sent.items() if at > since}
            if request_id in recent:
                return True
            if len(recent) >= CAP_PER_DAY:
                return False
            recent[request_id] = utc_iso(now)
            if self._repository.record(who, recent, int((now + CAP_WINDOW).timestamp()), version):
                return True
        raise StorageUnavailable()  # the count kept changing under us: retry the record later

    def forget(self, address, request_id):
        """Take an erased request out of its address's count: no copy of its id stays with the address."""
        who = address_key(address, self._key())
        for _ in range(3):
            sent, version = self._repository.sends(who)
            if request_id not in sent:
                return
            del sent[request_id]
            if self._repository.record(who, sent, int((self._now() + CAP_WINDOW).timestamp()), version):
                return
        raise StorageUnavailable()


class ConfirmationDelivery:
    def __init__(self, repository, mailer, cap, settings, page_url, *, now=utcnow, sleep=time.sleep):
        self._repository = repository
        self._mailer = mailer
        self._cap = cap
        self._settings = settings
        self._page_url = page_url  # request id -> the link to the patient's page (wiring.patient_page_url)
        self._now = now
        self._sleep = sleep
        self._unmarked = Unmarked()

    def deliver(self, records):
        """Handle stream records; return the sequence numbers of those that must be retried."""
        if not self._settings.confirmations:
            return []
        return each_record(records, self._deliver, "confirmation")

    def _deliver(self, record):
        request_id = due_request_id(record)  # as for alerts: a new request, or a new rescue from suspected spam
        if request_id is None:
            return
        current = self._repository.get(request_id)
        if current is None or current.confirmed_at or current.status not in due_statuses(record):
            return
        decided = self._unmarked.get(current.id)
        if decided is not None:
            self._mark(current.id, decided)  # decided (and perhaps sent) here before: only the mark is missing
            return
        if current.corrects and self._first_was_confirmed(current.corrects):
            # The person corrected a request they had just sent, from the same page: one confirmation is enough.
            log.info("confirmation skipped", extra={"event": "confirmation_skipped", "appointment_id": current.id,
                                                    "reason": "correction"})
            self._mark(current.id, "correction")
            return
        email = compose_confirmation(current, self._settings, self._page_url(current.id))
        if not self._cap.allow(email.to, current.id):
            log.info("confirmation skipped", extra={"event": "confirmation_skipped", "appointment_id": current.id,
                                                    "reason": "over_daily_cap"})
            self._mark(current.id, "over_daily_cap")
            return
        try:
            self._mailer.send(email)
        except MailNotSent as error:
            if error.retryable:
                raise
            log.info("confirmation skipped", extra={"event": "confirmation_skipped", "appointment_id": current.id,
                                                    "reason": error.reason})
            self._mark(current.id, error.reason)
            return
        log.info("confirmation sent", extra={"event": "confirmation_sent", "appointment_id": current.id})
        self._mark(current.id, "sent")

    def _first_was_confirmed(self, first_id):
        """Whether the request a correction corrects got its confirmation. Not decided yet (its record may come
        later, from another shard): the correction's record is retried, so the person never gets two, nor none.
        Never sent (kept as possible spam, over the cap, refused): the correction is the one confirmed."""
        first = self._repository.get(first_id)
        if first is not None and first.confirmed_at is None and first.status != "suspected_spam":
            raise StorageUnavailable()
        return first is not None and first.confirmation == "sent"

    def _mark(self, request_id, outcome):
        try:
            mark_hard(lambda: self._repository.mark_confirmed(request_id, outcome, self._now()), sleep=self._sleep)
            self._unmarked.forget(request_id)
        except StorageUnavailable:
            # Decided (and perhaps sent): retrying the record would send it again, as with alerts.
            # Remembered, a record of this request seen again here marks it instead; elsewhere, the
            # next record of it finds no mark and asks the cap, which counts it once.
            self._unmarked.remember(request_id, outcome)
            log.warning("confirmation not marked", extra={"event": "confirmation_mark_failed",
                                                          "appointment_id": request_id, "outcome": outcome})
