"""Opening hours and due times (chalicelib/core/hours.py) with fixed clocks: evenings, weekends,
holidays, the clocks changing, and the inbox's words for waiting."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core import hours

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_8_TO_6 = hours.parse_week("downtown", {day: "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")})


def local(*args):
    return datetime(*args, tzinfo=NEW_YORK)


def clinic(week=WEEKDAYS_8_TO_6, closed=()):
    return hours.OpeningHours(week, frozenset(closed), NEW_YORK)


def due(received, target=8, **options):
    return clinic(**options).due_at(received, target).astimezone(NEW_YORK)


def test_a_request_inside_opening_hours_is_due_that_many_opening_hours_later():
    assert due(local(2026, 12, 1, 9, 0), target=2) == local(2026, 12, 1, 11, 0)


def test_a_request_whose_hours_run_past_closing_carries_over_to_the_next_opening():
    assert due(local(2026, 12, 1, 15, 0)) == local(2026, 12, 2, 13, 0)  # 3 h Tuesday, 5 h Wednesday


def test_a_request_sent_on_friday_evening_is_due_on_monday_not_saturday():
    assert due(local(2026, 12, 4, 19, 30)) == local(2026, 12, 7, 16, 0)


def test_a_request_sent_before_opening_counts_from_opening():
    assert due(local(2026, 12, 1, 6, 0), target=1) == local(2026, 12, 1, 9, 0)


def test_exactly_at_closing_it_counts_from_the_next_opening():
    assert due(local(2026, 12, 1, 18, 0), target=1) == local(2026, 12, 2, 9, 0)
    assert due(local(2026, 12, 1, 17, 0), target=1) == local(2026, 12, 1, 18, 0)


def test_a_holiday_is_skipped():
    christmas = date(2026, 12, 25)  # a Friday
    assert due(local(2026, 12, 24, 17, 0), closed={christmas}) == local(2026, 12, 28, 15, 0)


def test_lunch_breaks_do_not_count():
    week = hours.parse_week("x", {"mon": "08:00-12:00,13:00-17:00"})
    assert due(local(2026, 11, 30, 11, 0), target=2, week=week) == local(2026, 11, 30, 14, 0)


def test_when_the_clocks_go_back_an_open_night_has_its_extra_hour():
    # Open around the clock; on 1 November 2026 New York goes from 2:00 EDT back to 1:00 EST.
    received = local(2026, 10, 31, 22, 0)
    assert clinic(week=None).due_at(received, 8) == received.astimezone(timezone.utc) + timedelta(hours=8)
    assert due(received, week=None) == local(2026, 11, 1, 5, 0)  # 7 on the wall clock, 8 in real time


def test_when_the_clocks_go_forward_opening_hours_stay_at_their_wall_clock_times():
    # 8 March 2026: 2:00 EST becomes 3:00 EDT. Friday 17:00 EST, 8 hours: 1 on Friday, 7 on Monday (EDT).
    assert due(local(2026, 3, 6, 17, 0)) == local(2026, 3, 9, 15, 0)
    assert due(local(2026, 3, 6, 17, 0)).utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize("received, expected", [
    # Sunday 8 March 2026, 2:00 EST becomes 3:00 EDT: that day has 23 hours, and 48 real hours are 49 on the wall
    # clock. Saturday 12:00 EST is 17:00 UTC; Monday 17:00 UTC is 13:00 EDT.
    (local(2026, 3, 7, 12, 0), datetime(2026, 3, 9, 17, 0, tzinfo=timezone.utc)),
    # Sunday 1 November 2026, 2:00 EDT becomes 1:00 EST: that day has 25 hours, and 48 real hours are 47 on the
    # wall clock. Saturday 12:00 EDT is 16:00 UTC; Monday 16:00 UTC is 11:00 EST.
    (local(2026, 10, 31, 12, 0), datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)),
])
def test_around_the_clock_48_hours_across_a_change_of_the_clocks_are_48_real_hours(received, expected):
    """Catches a day of opening hours taken as 24 real hours (e.g. `_moment(day, 0) + timedelta(days=1)` for a
    24:00 close), which counts the spring's lost hour twice and drops the autumn's extra one; and opening time
    counted on the wall clock (`opens.astimezone(self.zone) + remaining`). Either is an hour off, as the request
    runs past the end of the day the clocks change."""
    assert clinic(week=None).due_at(received, 48) == expected
    assert clinic(week=None).open_minutes(received, expected) == 48 * 60


def test_a_boundary_the_spring_forward_gap_skips_is_read_as_the_first_instant_after_it():
    """Catches `return local.astimezone(timezone.utc)` for a boundary in the gap: 02:30, which the clock never
    shows on 8 March, read as 02:30 EST (03:30 EDT) counted the half hour 03:00-03:30 twice, due at 04:00."""
    week = hours.parse_week("x", {"sun": "01:30-02:30,03:00-07:00"})
    # Open 01:30-02:00 EST (the clock then shows 03:00), then 03:00-07:00 EDT: 30 + 90 minutes.
    assert due(local(2026, 3, 8, 1, 30), target=2, week=week) == local(2026, 3, 8, 4, 30)
    assert clinic(week=week).open_minutes(local(2026, 3, 8, 0, 0), local(2026, 3, 8, 12, 0)) == 30 + 240


def test_hours_inside_the_spring_forward_gap_are_no_opening_time():
    week = hours.parse_week("x", {"sun": "02:00-02:45,09:00-10:00"})
    assert due(local(2026, 3, 8, 0, 0), target=1, week=week) == local(2026, 3, 8, 10, 0)
    assert due(local(2026, 3, 15, 0, 0), target=1, week=week) == local(2026, 3, 15, 9, 15)  # a week later: 45 + 15


def test_a_boundary_in_the_repeated_hour_when_the_clocks_go_back_is_its_first_occurrence():
    """Catches `local.replace(fold=1)` (the second 01:30): 00:00-01:30 would then be 2 h 30 min of real time."""
    week = hours.parse_week("x", {"sun": "00:00-01:30,02:00-06:00"})
    # 1 November 2026: open 00:00 EDT to the first 01:30 (EDT), 90 minutes; then from 02:00 EST.
    assert due(local(2026, 11, 1, 0, 0), target=2, week=week) == local(2026, 11, 1, 2, 30)
    assert due(local(2026, 11, 1, 0, 0), target=2, week=week).utcoffset() == timedelta(hours=-5)


def test_touching_ranges_are_one_stretch_of_opening_hours():
    """Catches the overlap check refusing ranges that only touch (`if second_start <= first_end`)."""
    touching = hours.parse_week("x", {day: "08:00-12:00,12:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")})
    assert touching == tuple(((480, 720), (720, 1080)) if n < 5 else () for n in range(7))
    for received, target in ((local(2026, 12, 1, 11, 0), 2), (local(2026, 12, 1, 15, 0), 8),
                             (local(2026, 12, 1, 10, 0), 2), (local(2026, 12, 4, 19, 30), 8)):
        assert due(received, target, week=touching) == due(received, target)
    assert clinic(week=touching).open_minutes(local(2026, 12, 1, 0, 0), local(2026, 12, 2, 0, 0)) == 600


def test_around_the_clock_is_plain_hours_but_not_on_a_holiday():
    assert due(local(2026, 12, 1, 23, 0), week=None) == local(2026, 12, 2, 7, 0)
    assert due(local(2026, 12, 24, 23, 0), week=None, closed={date(2026, 12, 25)}) == local(2026, 12, 26, 7, 0)


def test_a_closing_time_of_24_00_runs_to_midnight():
    week = hours.parse_week("x", {"sat": "20:00-24:00", "sun": "00:00-02:00"})
    assert due(local(2026, 12, 5, 23, 0), target=2, week=week) == local(2026, 12, 6, 1, 0)


def test_a_target_of_more_than_a_year_of_a_locations_hours_is_refused_naming_the_setting_and_the_location():
    saturday_mornings = hours.parse_week("sat", {"sat": "09:00-13:00"})  # 4 h a week, 208 h in 52 weeks
    hours.check_target("sat", saturday_mornings, 208)
    with pytest.raises(hours.ConfigError) as error:
        hours.check_target("sat", saturday_mornings, 209)
    assert error.value.setting == "RESPONSE_TARGET_HOURS"
    assert "'sat'" in error.value.reason and "4 h a week" in error.value.reason
    hours.check_target("allday", None, 720)


def test_the_largest_target_accepted_gets_a_due_time_behind_two_years_of_holidays():
    """Catches a fixed horizon (the old 800 days) shorter than the closed dates can make a wait."""
    saturday_mornings = hours.parse_week("sat", {"sat": "09:00-13:00"})
    closed = {date(2027, 1, 1) + timedelta(days=n) for n in range(365 + 366)}  # 2027 and 2028
    hours.check_target("sat", saturday_mornings, 208)
    # 51 Saturdays in 2026 after 9 January, none in 2027 or 2028: the 52nd is 6 January 2029.
    assert due(local(2026, 1, 9, 12, 0), target=208, week=saturday_mornings, closed=closed) == local(2029, 1, 6, 13, 0)


def test_opening_minutes_between_two_moments():
    opened = clinic()
    assert opened.open_minutes(local(2026, 12, 4, 17, 0), local(2026, 12, 7, 9, 30)) == 60 + 90
    assert opened.open_minutes(local(2026, 12, 5, 10, 0), local(2026, 12, 5, 11, 0)) == 0  # Saturday
    assert opened.open_minutes(local(2026, 12, 1, 9, 0), local(2026, 12, 1, 9, 0)) == 0


def test_due_in_words():
    assert hours.due_in_words(datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc), NEW_YORK) == "Tuesday 8 December, 12:00"


@pytest.mark.parametrize("minutes, words", [
    (0, "0 min"), (59, "59 min"), (60, "1 h"), (190, "3 h 10 min"), (1440, "1 d"), (1440 + 4 * 60 + 5, "1 d 4 h"),
])
def test_waiting_in_words(minutes, words):
    assert hours.waited_in_words(timedelta(minutes=minutes, seconds=30)) == words
