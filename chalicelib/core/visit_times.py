"""Booking a visit: the time staff give, checked, and when its reminder is due.

Staff give the clinic's local date and time (`YYYY-MM-DDTHH:MM` in CLINIC_TIMEZONE): that is what the patient
is told. The instant is worked out once, at booking; a wall time that the clocks skip (the spring change) does
not exist and is refused, and one they pass twice (the autumn change) is the first of the two.
"""
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

MAX_DAYS_AHEAD = 365
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$", re.ASCII)
# Reminders never go between 21:00 and 08:00 clinic time. One that would is sent at the last scheduled run
# before 21:00 (the function runs every 15 minutes).
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)
LAST_BEFORE_QUIET = time(20, 45)


class VisitTimeInvalid(ValueError):
    """What is wrong with a visit time, in words staff can act on."""


@dataclass(frozen=True)
class VisitTime:
    local: str  # "YYYY-MM-DDTHH:MM", the clinic's wall time
    start: datetime  # the instant, UTC
    closed: bool  # the location is closed then (accepted, with a warning)


def visit_time(value, settings, location, now):
    """The visit time staff gave, checked; VisitTimeInvalid says what to fix."""
    example = (now.astimezone(settings.timezone) + timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    if not isinstance(value, str) or not _LOCAL.fullmatch(value.strip()):
        raise VisitTimeInvalid(f"Give the visit's local date and time as YYYY-MM-DDTHH:MM, e.g. {example}.")
    try:
        wall = datetime.fromisoformat(value.strip())
    except ValueError:
        raise VisitTimeInvalid(f"That is not a date and time on the calendar; e.g. {example}.") from None
    zone = settings.timezone
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if not local_now - timedelta(days=2) < wall < local_now + timedelta(days=MAX_DAYS_AHEAD + 2):
        # Far from now (the year 9999, say, whose instant may not even exist): checked before any arithmetic.
        raise VisitTimeInvalid("The visit must be in the future." if wall < local_now
                               else f"Book at most {MAX_DAYS_AHEAD} days ahead.")
    start = wall.replace(tzinfo=zone)
    if start.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != wall:
        raise VisitTimeInvalid("That time does not exist on that day: the clocks go forward then. "
                               "Choose a time an hour later.")
    start = start.astimezone(timezone.utc)
    if start <= now:
        raise VisitTimeInvalid("The visit must be in the future.")
    if start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise VisitTimeInvalid(f"Book at most {MAX_DAYS_AHEAD} days ahead.")
    hours = settings.opening_hours(location)
    closed = hours.open_minutes(start, start + timedelta(minutes=1)) == 0
    return VisitTime(local=wall.strftime("%Y-%m-%dT%H:%M"), start=start, closed=closed)


def reminder_time(visit_start, settings, now):
    """When the reminder of a visit at `visit_start` goes (UTC), or None when there is none to send.

    REMINDER_HOURS_BEFORE ahead, moved out of the quiet hours to the last run before them. Already past (a
    visit booked at short notice): at once, at the next run outside the quiet hours."""
    if settings.reminder_hours_before == 0 or visit_start <= now:
        return None
    zone = settings.timezone
    nominal = (visit_start - timedelta(hours=settings.reminder_hours_before)).astimezone(zone)
    if nominal.time() > LAST_BEFORE_QUIET:  # 20:46 to 23:59: a 15-minute run may not come again before 21:00
        nominal = datetime.combine(nominal.date(), LAST_BEFORE_QUIET, zone)
    elif nominal.time() < QUIET_UNTIL:
        nominal = datetime.combine(nominal.date() - timedelta(days=1), LAST_BEFORE_QUIET, zone)
    return nominal.astimezone(timezone.utc)


def quiet(moment, settings):
    """Whether `moment` is in the clinic's quiet hours, when no reminder goes."""
    local = moment.astimezone(settings.timezone).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL
