"""Messages in the patient's language (chalicelib/core/i18n.py): dates in words, and parameters translated too."""
from datetime import datetime

import pytest

from chalicelib.core.i18n import Message, day_and_time, translate


@pytest.mark.parametrize("language, words", [
    ("en", "Tuesday 8 December, 12:00"),
    ("es", "martes 8 de diciembre, 12:00"),
])
def test_a_day_and_time_in_words(language, words):
    assert day_and_time(datetime(2026, 12, 8, 12, 0), language) == words


def test_every_weekday_and_month_has_its_spanish_name():
    days = {day_and_time(datetime(2026, 6, day, 9, 5), "es").split()[0] for day in range(1, 8)}
    months = {day_and_time(datetime(2026, month, 1, 9, 5), "es").split()[3].rstrip(",") for month in range(1, 13)}
    assert days == {"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"}
    assert "septiembre" in months and "enero" in months and len(months) == 12


def test_a_message_is_its_english_text_and_translates_with_its_parameters():
    message = Message("{label} is required.", label="First name")

    assert message == "First name is required." and isinstance(message, str)
    assert translate(message, "es") == "Nombre es obligatorio."
    assert translate(message, "en") == "First name is required."
    assert translate("Not a catalogued text", "es") == "Not a catalogued text"


def test_nothing_translates_to_nothing():
    """Catches `words(text)` reached with "": gettext("") is the catalogue's header (Project-Id-Version: …)."""
    from chalicelib.core.i18n import catalogue

    assert translate("", "es") == ""
    assert catalogue("es").gettext("") == ""
    assert "Project-Id-Version" not in translate(Message("{label} is required.", label=""), "es")
