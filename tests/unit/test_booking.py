"""Booking a visit: the local time staff give, and when its reminder goes (fixed clocks, the clinic in New York)."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.core.visit_times import VisitTimeInvalid, quiet, reminder_time, visit_time

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)  # Monday 7 December, 10:00 in New York


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def test_a_local_time_is_the_instant_the_clinic_s_wall_clock_shows_in_winter_and_summer(settings):
    assert visit_time("2026-12-08T10:00", settings, "downtown", NOW).start == utc(2026, 12, 8, 15, 0)
    assert visit_time("2027-06-08T10:00", settings, "downtown", NOW).start == utc(2027, 6, 8, 14, 0)


def test_a_time_the_clocks_skip_is_refused_and_a_time_they_pass_twice_is_the_first(settings):
    with pytest.raises(VisitTimeInvalid, match="clocks go forward"):
        visit_time("2027-03-14T02:30", settings, "downtown", NOW)

    assert visit_time("2027-11-07T01:30", settings, "downtown", NOW).start == utc(2027, 11, 7, 5, 30)  # EDT, first


@pytest.mark.parametrize("value", ["2026-12-08 10:00", "2026-12-08T10:00:00", "2026-12-08", "10:00", "", None, 20261208,
                                   "2026-02-30T10:00", "2026-12-08T24:00", "２０２６-12-08T10:00"])
def test_anything_but_a_calendar_date_and_time_is_refused_with_an_example(settings, value):
    with pytest.raises(VisitTimeInvalid, match="e.g. 2026-12-08T10:00"):
        visit_time(value, settings, "downtown", NOW)


@pytest.mark.parametrize("value", ["9999-12-31T23:59", "0001-01-01T00:00", "2026-12-05T10:00"])
def test_a_time_far_from_now_is_refused_before_any_arithmetic(settings, value):
    """Catches an OverflowError (a 500) converting the year 9999 in a zone behind UTC, or the year 1 ahead of it."""
    with pytest.raises(VisitTimeInvalid):
        visit_time(value, settings, "downtown", NOW)


def test_the_visit_must_be_in_the_future_and_at_most_365_days_ahead(settings):
    with pytest.raises(VisitTimeInvalid, match="future"):
        visit_time("2026-12-07T10:00", settings, "downtown", NOW)  # exactly now
    assert visit_time("2026-12-07T10:01", settings, "downtown", NOW).start == utc(2026, 12, 7, 15, 1)
    assert visit_time("2027-12-07T10:00", settings, "downtown", NOW)  # exactly 365 days
    with pytest.raises(VisitTimeInvalid, match="365 days"):
        visit_time("2027-12-07T10:01", settings, "downtown", NOW)


def test_a_time_the_location_is_closed_is_accepted_and_flagged(settings):
    assert visit_time("2026-12-08T07:59", settings, "downtown", NOW).closed  # opens at 08:00
    assert not visit_time("2026-12-08T08:00", settings, "downtown", NOW).closed
    assert visit_time("2026-12-13T10:00", settings, "downtown", NOW).closed  # a Sunday
    assert not visit_time("2026-12-13T03:00", settings, "northside", NOW).closed  # no hours: always open


@pytest.mark.parametrize("visit, remind", [
    # 24 hours before, when that is between 08:00 and 21:00 in New York
    (utc(2026, 12, 9, 15, 0), utc(2026, 12, 8, 15, 0)),
    # exactly 08:00: allowed
    (utc(2026, 12, 9, 13, 0), utc(2026, 12, 8, 13, 0)),
    # 07:59 is quiet: the evening before at 20:45
    (utc(2026, 12, 9, 12, 59), utc(2026, 12, 8, 1, 45)),
    # exactly 21:00 is quiet: the same evening at 20:45
    (utc(2026, 12, 10, 2, 0), utc(2026, 12, 9, 1, 45)),
    # 20:45, the last run before 21:00, is allowed
    (utc(2026, 12, 10, 1, 45), utc(2026, 12, 9, 1, 45)),
    # 20:59 too close to 21:00 for a run every 15 minutes: at 20:45
    (utc(2026, 12, 10, 1, 59), utc(2026, 12, 9, 1, 45)),
])
def test_a_reminder_goes_24_hours_ahead_or_at_the_last_run_before_the_quiet_hours(settings, visit, remind):
    assert reminder_time(visit, settings, NOW) == remind


def test_across_the_spring_change_the_quiet_hours_are_the_clinic_s_wall_clock(settings):
    # Monday 15 March 2027 at 09:00 EDT; 24 hours before is Sunday 14 March at 09:00 EDT (08:00 EST, before the
    # change, does not count): allowed.
    assert reminder_time(utc(2027, 3, 15, 13, 0), settings, NOW) == utc(2027, 3, 14, 13, 0)
    # Sunday 14 March 2027 08:30 EDT, 24 hours before is Saturday 07:30 EST: quiet, so Friday 20:45 EST.
    assert reminder_time(utc(2027, 3, 14, 12, 30), settings, NOW) == utc(2027, 3, 13, 1, 45)


def test_a_visit_booked_2_hours_ahead_is_reminded_at_once_and_a_past_one_never(settings):
    soon = utc(2026, 12, 7, 17, 0)
    assert reminder_time(soon, settings, NOW) <= NOW
    assert reminder_time(NOW, settings, NOW) is None


def test_no_reminders_when_the_lead_is_zero(settings):
    assert reminder_time(utc(2026, 12, 9, 15, 0), replace(settings, reminder_hours_before=0), NOW) is None


def test_quiet_hours_are_21_to_8_clinic_time(settings):
    assert quiet(utc(2026, 12, 8, 2, 0), settings)  # 21:00
    assert not quiet(utc(2026, 12, 8, 1, 59), settings)  # 20:59
    assert quiet(utc(2026, 12, 8, 12, 59), settings)  # 07:59
    assert not quiet(utc(2026, 12, 8, 13, 0), settings)  # 08:00
