"""Messages in the patient's language (chalicelib/core/i18n.py): dates in words, and parameters translated too."""
from datetime import datetime

import pytest

from chalicelib.core.i18n import Message, day_and_time, translate


@pytest.mark.parametrize("language, words", [
    ("en", "Tuesday 8 December, 12:00 PM"),
    ("es", "el martes 8 de diciembre a las 12:00"),
])
def test_a_day_and_time_in_words(language, words):
    assert day_and_time(datetime(2026, 12, 8, 12, 0), language) == words


@pytest.mark.parametrize("hour, minute, english, spanish", [
    (16, 0, "Monday 7 December, 4:00 PM", "el lunes 7 de diciembre a las 16:00"),
    (12, 0, "Monday 7 December, 12:00 PM", "el lunes 7 de diciembre a las 12:00"),
    (12, 30, "Monday 7 December, 12:30 PM", "el lunes 7 de diciembre a las 12:30"),
    (11, 59, "Monday 7 December, 11:59 AM", "el lunes 7 de diciembre a las 11:59"),
    (0, 30, "Monday 7 December, 12:30 AM", "el lunes 7 de diciembre a las 0:30"),
    (1, 15, "Monday 7 December, 1:15 AM", "el lunes 7 de diciembre a la 1:15"),
    (13, 15, "Monday 7 December, 1:15 PM", "el lunes 7 de diciembre a las 13:15"),
    (9, 5, "Monday 7 December, 9:05 AM", "el lunes 7 de diciembre a las 9:05"),
])
def test_each_language_writes_the_time_its_own_way(hour, minute, english, spanish):
    """Catches one clock for every language: the confirmation wrote "16:00" to US English readers (and "12:00 AM"
    for half past midnight needs the 12 AM boundary, "a la 1:15" Spanish's one o'clock)."""
    moment = datetime(2026, 12, 7, hour, minute)
    assert (day_and_time(moment, "en"), day_and_time(moment, "es")) == (english, spanish)


@pytest.mark.parametrize("moment, english, spanish", [
    (datetime(2026, 12, 9, 0, 0), "the end of Tuesday 8 December", "al final del martes 8 de diciembre"),
    (datetime(2027, 1, 1, 0, 0), "the end of Thursday 31 December", "al final del jueves 31 de diciembre"),
])
def test_midnight_is_the_end_of_the_day_before(moment, english, spanish):
    """Catches "by Wednesday 00:00": the patient reads a day later than the clinic means."""
    assert (day_and_time(moment, "en"), day_and_time(moment, "es")) == (english, spanish)


def test_every_weekday_and_month_has_its_spanish_name():
    days = {day_and_time(datetime(2026, 6, day, 9, 5), "es").split()[1] for day in range(1, 8)}
    months = {day_and_time(datetime(2026, month, 1, 9, 5), "es").split()[4] for month in range(1, 13)}
    assert days == {"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"}
    assert "septiembre" in months and "enero" in months and len(months) == 12


def test_a_message_is_its_english_text_and_translates_with_its_parameters():
    message = Message("{label} is required.", label="First name")

    assert message == "First name is required." and isinstance(message, str)
    assert translate(message, "es") == "El campo «Nombre» es obligatorio."
    assert translate(message, "en") == "First name is required."
    assert translate("Not a catalogued text", "es") == "Not a catalogued text"


def test_nothing_translates_to_nothing():
    """Catches `words(text)` reached with "": gettext("") is the catalogue's header (Project-Id-Version: …)."""
    from chalicelib.core.i18n import catalogue

    assert translate("", "es") == ""
    assert catalogue("es").gettext("") == ""
    assert "Project-Id-Version" not in translate(Message("{label} is required.", label=""), "es")
