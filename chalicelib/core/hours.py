"""Opening hours and due times: calendar arithmetic in the clinic's time zone.

A location's `hours` give, per weekday, the times it is open ("08:00-18:00", or several ranges:
"08:00-12:00,13:00-18:00"); null, or a weekday left out, means closed that day. No `hours` at all
means open around the clock. CLINIC_CLOSED_DATES closes every location on those days. A request is
due RESPONSE_TARGET_HOURS opening hours after it arrived. Times are counted in real (UTC) time, so
a day on which the clocks change has the hours it really has: opening time is time the clinic's wall
clock shows it open. A boundary the clock skips (02:30 when 02:00 becomes 03:00) is read as the first
instant after the gap; one the clock shows twice (01:30 when 02:00 becomes 01:00), as the first time.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from .errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY = 24 * 60
# RESPONSE_TARGET_HOURS may be at most this many weeks of a location's regular hours (check_target), so
# that every request gets a due time within due_at's horizon.
TARGET_WEEKS = 52


def parse_week(location_id, value):
    """A location's `hours` as 7 tuples (Monday first) of (opening minute, closing minute), or None for
    "around the clock" (no `hours`). A bad entry is a ConfigError naming CLINIC_LOCATIONS and the location."""
    if value is None:
        return None
    where = f"location {location_id!r}"
    if not isinstance(value, dict):
        raise ConfigError("CLINIC_LOCATIONS", f'{where}: hours are an object like {{"mon": "08:00-18:00", "sun": null}}')
    unknown = [name for name in value if name not in WEEKDAYS]
    if unknown:
        raise ConfigError("CLINIC_LOCATIONS", f"{where}: {unknown[0]!r} is not a weekday; use {', '.join(WEEKDAYS)}")
    week = tuple(_day_ranges(where, name, value.get(name)) for name in WEEKDAYS)
    if not any(week):
        raise ConfigError("CLINIC_LOCATIONS", f"{where} is closed on every day of the week; give its opening hours, "
                                              "or leave hours out for a location open around the clock")
    return week


def _day_ranges(where, name, value):
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else None
    if not parts or not all(isinstance(part, str) for part in parts):
        raise ConfigError("CLINIC_LOCATIONS", f'{where}, {name}: give hours like "08:00-18:00" (or null: closed)')
    ranges = []
    for part in parts:
        found = _RANGE.match(part)
        if not found:
            raise ConfigError("CLINIC_LOCATIONS", f'{where}, {name}: {part.strip()!r} is not like "08:00-18:00"')
        start_h, start_m, end_h, end_m = map(int, found.groups())
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start_h > 23 or start_m > 59 or end_m > 59 or end > _DAY:
            raise ConfigError("CLINIC_LOCATIONS", f"{where}, {name}: {part.strip()!r} is not a time of day (00:00 to "
                                                  "24:00)")
        if end == start:
            raise ConfigError("CLINIC_LOCATIONS", f"{where}, {name}: {part.strip()!r} is empty: it opens and closes "
                                                  "at the same time")
        if end < start:
            raise ConfigError("CLINIC_LOCATIONS", f"{where}, {name}: {part.strip()!r} ends before it starts (a "
                                                  "night past midnight is two ranges: 20:00-24:00, then 00:00-02:00 "
                                                  "the next day)")
        ranges.append((start, end))
    ranges.sort()
    for (_, first_end), (second_start, _) in zip(ranges, ranges[1:]):
        if second_start < first_end:
            raise ConfigError("CLINIC_LOCATIONS", f"{where}, {name}: the hours {value!r} overlap")
    return tuple(ranges)


def check_target(location_id, week, target_hours):
    """Refuse a RESPONSE_TARGET_HOURS that is more than TARGET_WEEKS of the location's regular hours, at startup
    (a ConfigError naming the setting and the location): what is accepted, due_at's horizon always reaches."""
    weekly = 7 * _DAY if week is None else sum(end - start for day in week for start, end in day)
    if target_hours * 60 > weekly * TARGET_WEEKS:
        raise ConfigError("RESPONSE_TARGET_HOURS", f"{target_hours} opening hours is more than location "
                                                   f"{location_id!r} is open in {TARGET_WEEKS} weeks "
                                                   f"({_hours(weekly)} a week); lower it, or give {location_id!r} "
                                                   "more opening hours")


def _hours(minutes):
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def parse_closed_dates(value):
    dates = set()
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            if not _DATE.match(entry):
                raise ValueError
            dates.add(date.fromisoformat(entry))
        except ValueError:
            raise ConfigError("CLINIC_CLOSED_DATES", f"{entry!r} is not a date like 2026-12-25") from None
    return frozenset(dates)


@dataclass(frozen=True)
class OpeningHours:
    week: object  # 7 tuples of (start, end) minutes, Monday first; None: around the clock
    closed_dates: frozenset
    zone: object  # a ZoneInfo

    def open_between(self, day):
        """The day's opening intervals as (start, end) in UTC."""
        if day in self.closed_dates:
            return []
        ranges = ((0, _DAY),) if self.week is None else self.week[day.weekday()]
        return [(self._moment(day, start), self._moment(day, end)) for start, end in ranges]

    def _moment(self, day, minute):
        """The instant the wall clock reads `minute` on `day`: the first time it does (fold 0) when the clocks go
        back, and the first instant after the gap when they go forward past it."""
        if minute == _DAY:
            day, minute = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minute // 60, minute % 60), self.zone)
        moment = local.astimezone(timezone.utc)
        if moment.astimezone(self.zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            return self._end_of_gap(local.replace(fold=1).astimezone(timezone.utc), moment)
        return moment

    def _end_of_gap(self, before, after):
        """The instant the clocks jump, between `before` (still the old offset) and `after` (the new one)."""
        old = before.astimezone(self.zone).utcoffset()
        while after - before > timedelta(seconds=1):
            middle = before + (after - before) / 2
            if middle.astimezone(self.zone).utcoffset() == old:
                before = middle
            else:
                after = middle
        return after.replace(microsecond=0)

    def horizon_days(self):
        """Days due_at looks ahead. check_target allows a target of TARGET_WEEKS of regular hours; each closed date,
        and each day the clocks change, takes at most one day's hours away: twice that many weeks covers both,
        whatever the clocks do (no zone changes them more than a few times a year)."""
        return 7 * 2 * (TARGET_WEEKS + len(self.closed_dates) + 1)

    def due_at(self, start, hours):
        """`hours` opening hours after `start` (an aware datetime), in UTC."""
        remaining = timedelta(hours=hours)
        start = start.astimezone(timezone.utc)
        day = start.astimezone(self.zone).date() - timedelta(days=1)  # an interval may run past midnight
        for _ in range(self.horizon_days()):
            for opens, closes in self.open_between(day):
                opens = max(opens, start)
                if opens >= closes:
                    continue
                if closes - opens >= remaining:
                    return opens + remaining
                remaining -= closes - opens
            day += timedelta(days=1)
        raise ValueError("no opening hours within the horizon")

    def open_minutes(self, start, end):
        """Whole opening minutes from `start` to `end` (aware datetimes)."""
        start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
        total = timedelta()
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self.open_between(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return int(total // timedelta(minutes=1))


def due_in_words(due, zone):
    """"Tuesday 8 December, 12:00" in the clinic's time zone."""
    local = due.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


def waited_in_words(delta):
    """"3 h 10 min", "45 min", "2 d 4 h": how long, for a person at a glance."""
    minutes = max(0, int(delta // timedelta(minutes=1)))
    days, rest = divmod(minutes, _DAY)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
