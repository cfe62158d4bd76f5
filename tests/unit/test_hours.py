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


def test_around_the_clock_is_plain_hours_but_not_on_a_holiday():
    assert due(local(2026, 12, 1, 23, 0), week=None) == local(2026, 12, 2, 7, 0)
    assert due(local(2026, 12, 24, 23, 0), week=None, closed={date(2026, 12, 25)}) == local(2026, 12, 26, 7, 0)


def test_a_closing_time_of_24_00_runs_to_midnight():
    week = hours.parse_week("x", {"sat": "20:00-24:00", "sun": "00:00-02:00"})
    assert due(local(2026, 12, 5, 23, 0), target=2, week=week) == local(2026, 12, 6, 1, 0)


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
