"""The visit's iCalendar file, read back by a real parser (icalendar): the instant, across daylight saving time
in both hemispheres, the UID and SEQUENCE a calendar updates by, a cancellation, escaping and folding."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from chalicelib.notify.calendar import Visit, calendar_file, fold, visit_uid

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
NEW_YORK = ZoneInfo("America/New_York")


def visit(start, zone=NEW_YORK, **changes):
    values = dict(uid="abc123@clinic.example", sequence=0, start=start, minutes=45, zone=zone,
                  summary="Visit at Downtown Clinic", location="12 Main St, New York", url="https://clinic.example/r/t")
    return Visit(**{**values, **changes})


def parsed(file):
    calendar = icalendar.Calendar.from_ical(file)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def instants_by_own_timezone(file):
    """DTSTART and DTEND read with the file's own VTIMEZONE, not the parser's zone of the same name: what a
    calendar that does not know the zone (or knows an older version of it) does."""
    calendar, event = parsed(file)
    [vtimezone] = calendar.walk("VTIMEZONE")
    zone = vtimezone.to_tz(lookup_tzid=False)
    return tuple(event[name].dt.replace(tzinfo=None).replace(tzinfo=zone).astimezone(timezone.utc)
                 if event[name].params.get("TZID") else event[name].dt for name in ("DTSTART", "DTEND"))


def local_days(zone, first, days, hour, minute=0):
    return [datetime(*first, hour, minute, tzinfo=zone) + timedelta(days=n) for n in range(days)]


AROUND_CHANGES = [
    *[("America/New_York", moment) for day in ((2027, 3, 10), (2027, 11, 3))
      for moment in local_days(NEW_YORK, day, 8, 10) + local_days(NEW_YORK, day, 8, 3, 30)],
    # The southern hemisphere: Sydney leaves daylight saving on 4 April 2027 and starts it on 3 October.
    *[("Australia/Sydney", moment) for day in ((2027, 4, 1), (2027, 9, 30))
      for moment in local_days(ZoneInfo("Australia/Sydney"), day, 7, 9, 15)],
    ("America/Santiago", datetime(2027, 4, 4, 11, 0, tzinfo=ZoneInfo("America/Santiago"))),
    ("Asia/Tokyo", datetime(2027, 3, 14, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))),  # no daylight saving at all
]


@pytest.mark.parametrize("zone, local", AROUND_CHANGES, ids=lambda value: str(value))
def test_the_visit_lands_at_its_instant_across_daylight_saving_changes(zone, local):
    """Catches a wrong offset in the VTIMEZONE (or a missing observance): the file's own zone puts the visit an
    hour off in the week of a change; and a DTSTART written in UTC or without its TZID."""
    start = local.astimezone(timezone.utc)
    file = calendar_file(visit(start, ZoneInfo(zone)), NOW)
    _, event = parsed(file)
    assert event["DTSTART"].params["TZID"] == zone
    assert event["DTSTART"].dt.astimezone(timezone.utc) == start
    assert event["DTSTART"].dt.replace(tzinfo=None) == local.replace(tzinfo=None)  # the clinic's wall time
    assert instants_by_own_timezone(file) == (start, start + timedelta(minutes=45))


def test_a_visit_across_the_spring_change_lasts_its_minutes():
    """01:45 EST + 45 minutes is 03:30 EDT: a DTEND of wall time + 45 minutes (02:30, which does not exist)
    would be a different length in every calendar."""
    start = datetime(2027, 3, 14, 1, 45, tzinfo=NEW_YORK).astimezone(timezone.utc)
    file = calendar_file(visit(start), NOW)
    _, event = parsed(file)
    assert event["DTEND"].dt.replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)
    assert instants_by_own_timezone(file) == (start, start + timedelta(minutes=45))


@pytest.mark.parametrize("utc_hour", [5, 6])  # 01:30 EDT, then 01:30 EST an hour later
def test_both_visits_at_a_wall_time_that_occurs_twice_land_at_their_own_instant(utc_hour):
    """RFC 5545 reads a repeated wall time as its first occurrence: written with its TZID, the second 01:30 of 7
    November would move an hour earlier."""
    start = datetime(2027, 11, 7, utc_hour, 30, tzinfo=timezone.utc)
    file = calendar_file(visit(start), NOW)
    _, event = parsed(file)
    assert event["DTSTART"].dt.astimezone(timezone.utc) == start
    assert instants_by_own_timezone(file)[0] == start


def test_the_uid_is_the_requests_and_the_sequence_is_the_visits():
    start = datetime(2027, 1, 12, 15, 0, tzinfo=timezone.utc)
    uid = visit_uid("01JABCDEF", "https://appointments.clinic.example/prod")
    _, event = parsed(calendar_file(visit(start, uid=uid, sequence=3), NOW))
    assert (str(event["UID"]), event["SEQUENCE"]) == ("01JABCDEF@appointments.clinic.example", 3)
    assert event["DTSTAMP"].dt == NOW


def test_a_booking_is_published_and_confirmed_and_a_cancellation_is_cancelled():
    start = datetime(2027, 1, 12, 15, 0, tzinfo=timezone.utc)
    booked, booked_event = parsed(calendar_file(visit(start), NOW))
    cancelled, cancelled_event = parsed(calendar_file(visit(start, cancelled=True, sequence=1), NOW))
    assert (booked["METHOD"], booked_event["STATUS"]) == ("PUBLISH", "CONFIRMED")
    assert (cancelled["METHOD"], cancelled_event["STATUS"]) == ("CANCEL", "CANCELLED")
    assert str(cancelled_event["UID"]) == str(booked_event["UID"])


def test_summary_location_url_and_organizer_read_back_as_given():
    start = datetime(2027, 1, 12, 15, 0, tzinfo=timezone.utc)
    location = 'Clínica "Centro"; 2º piso, calle Nueva 12\\B\nMadrid'
    _, event = parsed(calendar_file(visit(start, location=location, summary="Cita en Clínica Centro, Madrid",
                                          organizer="citas@clinic.example", organizer_name='Clínica "Centro"'),
                                    NOW))
    assert str(event["LOCATION"]) == location
    assert str(event["SUMMARY"]) == "Cita en Clínica Centro, Madrid"
    assert str(event["URL"]) == "https://clinic.example/r/t"
    assert str(event["ORGANIZER"]) == "mailto:citas@clinic.example"


def test_a_long_address_with_accents_is_folded_at_75_octets_and_reads_back_whole():
    """Catches folding by characters (a line of accented letters over 75 octets) and a fold inside a UTF-8
    character, which no strict parser reads."""
    start = datetime(2027, 1, 12, 15, 0, tzinfo=timezone.utc)
    address = "Clínica de Fisioterapia Señora Núñez, Avenida de la Constitución 123, 3º izquierda, Málaga, España"
    file = calendar_file(visit(start, location=address), NOW)
    lines = file.split(b"\r\n")
    assert lines[-1] == b"" and b"\n" not in b"".join(lines)  # CRLF only
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # each physical line is whole UTF-8
    assert any(line.startswith(b" ") for line in lines)
    assert str(parsed(file)[1]["LOCATION"]) == address


@pytest.mark.parametrize("line", ["x" * 75, "x" * 76, "é" * 40, "x" + "€" * 50, "LOCATION:" + "😀" * 30])
def test_folding_keeps_every_line_within_75_octets_and_unfolds_to_the_line(line):
    folded = fold(line)
    assert all(len(part.encode("utf-8")) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
