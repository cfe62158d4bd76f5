"""The morning digest: once a day, at DIGEST_HOUR in CLINIC_TIMEZONE, one e-mail to every active staff account.

Per location it gives the new, overdue and possible-spam counts and the median time to first contact over
the last DAYS days, with links to the inbox's filters: counts only, nothing about any patient.

The scheduled function runs every hour; `Digest.run` sends only when the clinic's local hour is DIGEST_HOUR.
Chalice schedules EventBridge rules, whose cron runs in UTC: the hourly rule and the local-hour check follow
daylight saving time with no rule to change twice a year. Each account's digest is claimed for the local date
before it is sent (storage/digest_claims.py), so a retried or overlapping run never sends one twice; a send
that fails releases its claim for a later run. Accounts that opted out (`digest` off) get none.
"""
from dataclasses import dataclass
from datetime import timedelta
from statistics import median
from typing import Optional

from ..core.clock import utc_iso, utcnow
from ..core.errors import MailNotSent
from ..core.hours import due_in_words, waited_in_words
from ..core.logs import get_logger
from ..core.mail import Email
from .mail_templates import TEMPLATES

log = get_logger(__name__)

DAYS = 7
CLAIM_DAYS = 3  # how long a claim is kept (the table's TTL): well past its day in every time zone
FOOTER = ("Counts only: open the inbox to see the requests. To stop this e-mail, an admin turns your morning "
          "digest off on the inbox's Staff accounts page, or runs make staff-add EMAIL=... NAME=... DIGEST=off "
          "for your account.")


@dataclass(frozen=True)
class LocationFigures:
    location: str
    name: str
    new: object  # storage.digest_counts.Count
    overdue: object
    spam: object
    contacts: int  # requests first contacted among those that arrived in the last DAYS days
    median_business_minutes: Optional[float] = None
    median_wall_minutes: Optional[float] = None


@dataclass(frozen=True)
class DigestRun:
    due: bool  # False: not DIGEST_HOUR where the clinic is, nothing was looked at
    sent: int = 0
    already_sent: int = 0  # accounts that had today's digest (a retried or overlapping run sent it)


def _count(count):
    return f"{count.value}" if count.exact else f"at least {count.value}"


def _total(counts):
    counts = list(counts)
    return f"{sum(c.value for c in counts)}" + ("" if all(c.exact for c in counts) else "+")


def _minutes(minutes):
    return waited_in_words(timedelta(minutes=minutes))


def _lines(figures, base):
    """(words, link) pairs for one location; a link may be None."""
    where = f"location={figures.location}"
    contact = "Time to first contact (median, last 7 days): "
    if figures.contacts:
        contact += (f"{_minutes(figures.median_business_minutes)} of opening hours, "
                    f"{_minutes(figures.median_wall_minutes)} on the clock "
                    f"({figures.contacts} request{'s' if figures.contacts != 1 else ''})")
    else:
        contact += "no request contacted yet"
    return [(f"New: {_count(figures.new)}", f"{base}/staff/?status=new&{where}"),
            (f"Overdue: {_count(figures.overdue)}", f"{base}/staff/?overdue=true&{where}"),
            (f"Possible spam (last 7 days): {_count(figures.spam)}", f"{base}/staff/?status=suspected_spam&{where}"),
            (contact, None)]


def compose_digest(to, figures, settings, now):
    """The digest for one account: `figures` is a list of LocationFigures. Plain text and simple HTML."""
    base = settings.public_base_url
    values = {
        "subject": (f"Appointment requests this morning: {_total(f.new for f in figures)} new, "
                    f"{_total(f.overdue for f in figures)} overdue"),
        "heading": f"Appointment requests, {due_in_words(now, settings.timezone)}",
        "sections": [(location.name, _lines(location, base)) for location in figures],
        "inbox": f"{base}/staff/",
        "footer": FOOTER,
    }
    return Email(to=to, subject=values["subject"], text=TEMPLATES.render("digest.txt", **values),
                 html=TEMPLATES.render("digest.html", **values))


class Digest:
    def __init__(self, accounts, counts, claims, mailer, settings, *, now=utcnow):
        self._accounts = accounts
        self._counts = counts
        self._claims = claims
        self._mailer = mailer
        self._settings = settings
        self._now = now

    def is_due(self, now):
        """True in the hour that starts at DIGEST_HOUR on the clinic's clock, whatever its offset from UTC that day."""
        return now.astimezone(self._settings.timezone).hour == self._settings.digest_hour

    def figures(self, now):
        """Each location's LocationFigures, in the order CLINIC_LOCATIONS lists them."""
        at, week_ago = utc_iso(now), utc_iso(now - timedelta(days=DAYS))
        contacts, _ = self._counts.first_contacts(week_ago)
        figures = []
        for location, name in self._settings.locations.items():
            mine = [c for c in contacts if c.location == location]
            figures.append(LocationFigures(
                location=location, name=" ".join(name.split()),
                new=self._counts.count("new", location),
                overdue=self._counts.count("new", location, due_by=at),
                spam=self._counts.count("suspected_spam", location, created_from=week_ago),
                contacts=len(mine),
                median_business_minutes=median(c.business_minutes for c in mine) if mine else None,
                median_wall_minutes=median(c.wall_minutes for c in mine) if mine else None,
            ))
        return figures

    def run(self, force=False):
        """Send today's digest to each active account that has not had it, if it is DIGEST_HOUR (or `force`).

        Raises MailNotSent when SES refused one for now: its claim is released, and a later run sends it."""
        now = self._now()
        if not force and not self.is_due(now):
            return DigestRun(due=False)
        recipients = [account for account in self._accounts.all() if account.active and account.digest]
        if not recipients:
            return DigestRun(due=True)
        figures = self.figures(now)
        day = now.astimezone(self._settings.timezone).date().isoformat()
        at, expires_at = utc_iso(now), int((now + timedelta(days=CLAIM_DAYS)).timestamp())
        sent, already, failed = 0, 0, None
        for account in recipients:
            if not self._claims.claim(day, account.email, at, expires_at):
                already += 1
                continue
            try:
                self._mailer.send(compose_digest(account.email, figures, self._settings, now))
            except MailNotSent as error:
                if error.retryable:
                    self._claims.release(day, account.email, at)
                    failed = failed or error
                # Not retryable (an address SES cannot take): the claim stays, as retrying cannot help today.
                log.warning("digest not sent", extra={"event": "digest_failed", "reason": error.reason,
                                                      "retryable": error.retryable})
                continue
            sent += 1
        if sent or failed:
            log.info("digest sent", extra={"event": "digest_sent", "local_date": day, "sent": sent,
                                           "already_sent": already})
        if failed:
            raise failed
        return DigestRun(due=True, sent=sent, already_sent=already)
