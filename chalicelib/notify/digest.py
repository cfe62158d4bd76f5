"""The morning digest: once a day, at DIGEST_HOUR in CLINIC_TIMEZONE, one e-mail to every active staff account.

Per location it gives the new, overdue and possible-spam counts, the median time to first contact over the last
DAYS days, the visits booked for today (scheduled, starting between this and the next midnight on the clinic's
clock) and the no-show rate of the visits of the last NO_SHOW_DAYS days (no_show / (attended + no_show), by when the
visit started), with links to the inbox's filters: counts only, nothing about any patient.

The scheduled function runs every hour; `Digest.run` sends only when the clinic's local hour is DIGEST_HOUR.
Chalice schedules EventBridge rules, whose cron runs in UTC: the hourly rule and the local-hour check follow
daylight saving time with no rule to change twice a year. Each account's digest is claimed for the local date
before it is sent (storage/digest_claims.py), so a retried or overlapping run never sends one twice; a send
that fails releases its claim for a later run. Accounts that opted out (`digest` off) get none.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta
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
NO_SHOW_DAYS = 30
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
    visits_today: object = None  # Count of scheduled visits starting today, clinic time (None: not counted)
    attended: object = None  # Counts of the visits of the last NO_SHOW_DAYS days that were attended, and missed
    no_show: object = None


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


def no_show_rate(attended, no_show):
    """The no-show rate in words: "25 % (2 of 8 visits)", the percentage rounded half up; "no visits" when none.
    Counts that stopped before the end say "about"."""
    total = attended.value + no_show.value
    if total == 0:
        return "no visits" if attended.exact and no_show.exact else "not counted (too many to read)"
    percent = (200 * no_show.value + total) // (2 * total)  # round half up, in whole numbers
    about = "" if attended.exact and no_show.exact else "about "
    return f"{about}{percent} % ({no_show.value} of {total} visit{'s' if total != 1 else ''})"


def today_bounds(now, zone):
    """Today on the clinic's clock as [midnight, next midnight) in UTC ISO: 23 or 25 hours on a DST change."""
    day = now.astimezone(zone).date()
    return (utc_iso(datetime.combine(day, time(), zone)),
            utc_iso(datetime.combine(day + timedelta(days=1), time(), zone)))


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
            (contact, None)] + _visit_lines(figures, base, where)


def _visit_lines(figures, base, where):
    lines = []
    if figures.visits_today is not None:
        lines.append((f"Visits booked for today: {_count(figures.visits_today)}",
                      f"{base}/staff/?status=scheduled&{where}"))
    if figures.attended is not None and figures.no_show is not None:
        lines.append((f"No-show rate (last {NO_SHOW_DAYS} days): {no_show_rate(figures.attended, figures.no_show)}",
                      f"{base}/staff/?status=no_show&{where}"))
    return lines


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
        today, tomorrow = today_bounds(now, self._settings.timezone)
        # Visits whose start lies in the last NO_SHOW_DAYS days, up to now (the later bound is exclusive: a second on).
        month_ago, up_to_now = utc_iso(now - timedelta(days=NO_SHOW_DAYS)), utc_iso(now + timedelta(seconds=1))
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
                visits_today=self._counts.visits("scheduled", location, today, tomorrow),
                attended=self._counts.visits("attended", location, month_ago, up_to_now),
                no_show=self._counts.visits("no_show", location, month_ago, up_to_now),
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
