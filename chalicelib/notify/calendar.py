"""A booked visit as an iCalendar file (RFC 5545), written by hand: the standard library only.

One VEVENT with a UID that stays the same for the request and a SEQUENCE that rises with each change,
so a calendar replaces the event it already holds; a cancellation is METHOD:CANCEL with STATUS:CANCELLED.
DTSTART/DTEND are the clinic's wall time with its zone (TZID) and a VTIMEZONE describing that zone's
offsets from a year before the visit to a year after, taken from zoneinfo: a calendar in any zone
reads the visit at the right instant across a change of daylight saving time. A wall time that occurs
twice (the hour clocks go back) is written in UTC, which RFC 5545 allows and no calendar misreads.

Nothing of the patient is in it: the file is attached to the patient's e-mail and downloadable from
their page, and says only where and when.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..core.i18n import N_, translate

PRODID = "-//Appointment requests//Visit calendar 1.0//EN"
FOLD_OCTETS = 75
WINDOW = timedelta(days=366)
SUMMARY = N_("Appointment at {location}")
DESCRIPTION = N_("Your page: {url}")


@dataclass(frozen=True)
class Visit:
    uid: str
    sequence: int
    start: datetime  # aware
    minutes: int
    zone: object  # a zoneinfo.ZoneInfo, named by its key
    summary: str
    location: str
    url: str
    description: str = ""
    cancelled: bool = False
    organizer: str = None  # the sender's address: RFC 5546 wants an ORGANIZER for PUBLISH and CANCEL
    organizer_name: str = None


def visit_calendar(request, settings, page_url, now, language, *, cancelled=False):
    """The .ics of a stored request's booked visit, in `language`: the visit e-mails attach it, the patient's page
    offers it to download."""
    location = settings.locations.get(request.location, request.location)
    return calendar_file(Visit(
        uid=visit_uid(request.id, settings.public_base_url), sequence=request.visit_sequence or 0,
        start=request.visit_start, minutes=settings.visit_minutes, zone=settings.timezone,
        summary=translate(SUMMARY, language).format(location=location),
        location=settings.location_addresses.get(request.location) or location, url=page_url,
        description=translate(DESCRIPTION, language).format(url=page_url),
        cancelled=cancelled, organizer=settings.mail_from, organizer_name=location,
    ), now)


def visit_uid(request_id, public_base_url):
    """The UID of a request's visit: the same for every change of it, unique to this deployment."""
    from urllib.parse import urlsplit

    return f"{request_id}@{urlsplit(public_base_url).hostname}"


def calendar_file(visit: Visit, now) -> bytes:
    """The .ics of `visit`, as UTF-8 bytes with CRLF lines folded at 75 octets."""
    start = visit.start.astimezone(timezone.utc)
    end = start + timedelta(minutes=visit.minutes)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
        "METHOD:CANCEL" if visit.cancelled else "METHOD:PUBLISH",
        *timezone_lines(visit.zone, start - WINDOW, end + WINDOW),
        "BEGIN:VEVENT",
        f"UID:{text(visit.uid)}",
        f"SEQUENCE:{int(visit.sequence)}",
        f"DTSTAMP:{_utc(now)}",
        _zoned("DTSTART", start, visit.zone),
        _zoned("DTEND", end, visit.zone),
        f"SUMMARY:{text(visit.summary)}",
        f"LOCATION:{text(visit.location)}",
        f"URL:{visit.url}",
        *([f"DESCRIPTION:{text(visit.description)}"] if visit.description else []),
        *([_organizer(visit)] if visit.organizer else []),
        "STATUS:CANCELLED" if visit.cancelled else "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def text(value):
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    value = str(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line):
    """A content line folded at 75 octets (RFC 5545 3.1): never inside a UTF-8 character."""
    parts, current, size, limit = [], [], 0, FOLD_OCTETS
    for character in line:
        octets = len(character.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, FOLD_OCTETS - 1  # a continuation line starts with one space
        current.append(character)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)


def timezone_lines(zone, since, until):
    """A VTIMEZONE for `zone`: the observance in force at `since`, then one per change of offset until `until`."""
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone.key}"]
    before = since.astimezone(zone)
    lines += _observance(zone, before.replace(tzinfo=None), before.utcoffset(), since)
    for moment in transitions(zone, since, until):
        offset_before = (moment - timedelta(seconds=1)).astimezone(zone).utcoffset()
        lines += _observance(zone, (moment + offset_before).replace(tzinfo=None), offset_before, moment)
    return lines + ["END:VTIMEZONE"]


def transitions(zone, since, until):
    """The UTC instants in [since, until] at which `zone`'s offset, name or daylight saving changes."""
    found, day, moment = [], timedelta(days=1), since
    while moment < until:
        following = min(moment + day, until)
        if _state(zone, moment) != _state(zone, following):
            low, high = int(moment.timestamp()), int(following.timestamp())
            while high - low > 1:  # the first second of the new state
                middle = (low + high) // 2
                low, high = (middle, high) if _state(zone, _at(middle)) == _state(zone, moment) else (low, middle)
            found.append(_at(high))
        moment = following
    return found


def _observance(zone, local_start, offset_from, moment):
    local = moment.astimezone(zone)
    kind = "DAYLIGHT" if local.dst() else "STANDARD"
    return [f"BEGIN:{kind}", f"DTSTART:{local_start:%Y%m%dT%H%M%S}", f"TZOFFSETFROM:{_offset(offset_from)}",
            f"TZOFFSETTO:{_offset(local.utcoffset())}", f"TZNAME:{text(local.tzname())}", f"END:{kind}"]


def _state(zone, moment):
    local = moment.astimezone(zone)
    return local.utcoffset(), local.dst(), local.tzname()


def _at(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc)


def _offset(delta):
    seconds = int(delta.total_seconds())
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _utc(moment):
    return f"{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def _zoned(name, moment, zone):
    """The clinic's wall time with its TZID; UTC when that wall time occurs twice, since RFC 5545 reads such a
    time as its first occurrence."""
    local = moment.astimezone(zone)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():  # the second of a repeated hour
        return f"{name}:{_utc(moment)}"
    return f"{name};TZID={zone.key}:{local:%Y%m%dT%H%M%S}"


def _organizer(visit):
    name = (visit.organizer_name or "").replace('"', "")
    parameter = f';CN="{name}"' if name else ""
    return f"ORGANIZER{parameter}:mailto:{visit.organizer}"
