"""Every configuration accepted at startup gives every request a due time (SPEC, "Response times"): random
opening hours, holidays, targets and zones, through Settings.from_env as a stage would load them.

Catches a horizon the accepted settings can outrun (the old fixed 800 days: `{"sat": "09:00-13:00"}` with
RESPONSE_TARGET_HOURS=720 raised "no opening hours within the horizon" on every submission, a 500 with
nothing stored), and a due time that is not exactly the target's opening minutes after arrival.
"""
import json
from datetime import date, datetime, timedelta

from hypothesis import given, settings as examples, strategies as st
from zoneinfo import ZoneInfo

from chalicelib.core import hours
from chalicelib.core.config import Settings
from chalicelib.core.errors import ConfigError
from tests.conftest import STAGE_ENV

# Zones whose clocks change in the awkward ways: at midnight (Havana, Santiago), by half an hour (Lord Howe),
# back for summer (Dublin), twice more for Ramadan (Casablanca), and none at all (Kolkata).
ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "America/Havana",
         "Africa/Casablanca", "Europe/Dublin", "Asia/Kolkata")


def clock(minute):
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def days(draw):
    """One weekday's hours as the setting writes them: null, or one to three ranges that neither overlap nor
    touch (touching ranges have a test of their own), 24:00 allowed as a closing time."""
    if draw(st.booleans()):
        return None
    bounds = sorted(draw(st.lists(st.integers(0, 24 * 60), min_size=2, max_size=6, unique=True)))
    bounds = bounds[:len(bounds) // 2 * 2]
    return ",".join(f"{clock(start)}-{clock(end)}" for start, end in zip(bounds[::2], bounds[1::2]))


weeks = st.one_of(st.none(), st.fixed_dictionaries({name: days() for name in hours.WEEKDAYS}))


@st.composite
def closed_dates(draw, around):
    """A long closure just after arrival (the worst place for one), and holidays scattered around it."""
    first = around + timedelta(days=draw(st.integers(0, 30)))
    run = {first + timedelta(days=n) for n in range(draw(st.integers(0, 800)))}
    scattered = draw(st.sets(st.dates(around - timedelta(days=400), around + timedelta(days=800)), max_size=30))
    return run | scattered


@given(data=st.data(), week=weeks, zone=st.sampled_from(ZONES), at_the_limit=st.booleans(),
       received=st.datetimes(datetime(2026, 1, 1), datetime(2030, 12, 31)))
@examples(max_examples=300, deadline=None)
def test_every_accepted_configuration_gives_every_request_its_due_time(data, week, zone, at_the_limit, received):
    received = received.replace(second=0, microsecond=0, tzinfo=ZoneInfo(zone))
    if week is not None and not any(week.values()):
        week["mon"] = "09:00-09:30"
    weekly = 7 * 24 * 60 if week is None else \
        sum(end - start for day in hours.parse_week("x", week) for start, end in day)
    target = max(1, min(720, weekly * hours.TARGET_WEEKS // 60)) if at_the_limit else data.draw(st.integers(1, 720))
    closed = data.draw(closed_dates(received.date()))
    location = {"name": "Somewhere"} if week is None else {"name": "Somewhere", "hours": week}
    env = {**STAGE_ENV, "CLINIC_LOCATIONS": json.dumps({"somewhere": location}), "CLINIC_TIMEZONE": zone,
           "CLINIC_CLOSED_DATES": ",".join(sorted(day.isoformat() for day in closed)),
           "RESPONSE_TARGET_HOURS": str(target)}
    try:
        loaded = Settings.from_env(env)
    except ConfigError as refused:
        assert refused.setting == "RESPONSE_TARGET_HOURS" and "'somewhere'" in refused.reason
        assert target * 60 > weekly * hours.TARGET_WEEKS
        return

    due = loaded.due_at("somewhere", received)

    assert due > received
    assert loaded.opening_hours("somewhere").open_minutes(received, due) == target * 60


def test_every_day_closed_for_years_is_no_reason_to_lose_a_request():
    """Holidays are unbounded in number: the horizon grows with them."""
    closed = ",".join((date(2026, 12, 1) + timedelta(days=n)).isoformat() for n in range(3 * 366))
    loaded = Settings.from_env({**STAGE_ENV, "CLINIC_CLOSED_DATES": closed})
    due = loaded.due_at("downtown", datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("America/New_York")))
    # The first day open again is Monday 3 December 2029; downtown opens 08:00: 8 hours on, 16:00.
    assert due.astimezone(ZoneInfo("America/New_York")) == datetime(2029, 12, 3, 16, 0,
                                                                    tzinfo=ZoneInfo("America/New_York"))
