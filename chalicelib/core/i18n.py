"""Words a patient reads, in their language: gettext catalogues under chalicelib/locale, read by the standard
library at run time (Babel extracts and compiles them, as a development tool only: `make i18n`).

English is the source language: a message is its English text, marked with N_() where it is defined and
translated where it is shown. A Message is a str (its English text, so logs and tests read it as before) that
also carries its msgid and parameters, so that a validation error can be given in the patient's language.
"""
import gettext
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"


def N_(text):
    """Marks `text` for the catalogue where it is defined; it is translated where it is shown."""
    return text


class Message(str):
    """English text that can be given in another language: msgid.format(**params), parameters translated too."""

    def __new__(cls, msgid, **params):
        text = super().__new__(cls, msgid.format(**params) if params else msgid)
        text.msgid, text.params = msgid, params
        return text

    def __reduce__(self):
        return (str, (str(self),))


class _Catalogue(gettext.GNUTranslations):
    """A compiled catalogue in which nothing translates to nothing. GNU gettext keeps the catalogue's header
    (Project-Id-Version: …) as the translation of the empty msgid, so gettext("") would print it on a page."""

    def gettext(self, message):
        return super().gettext(message) if message else message

    def pgettext(self, context, message):
        return super().pgettext(context, message) if message else message


@lru_cache(maxsize=None)
def catalogue(language):
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], class_=_Catalogue, fallback=True)


def translate(text, language):
    """`text` in `language`: a Message with its parameters, a plain msgid, or (untranslated) anything else."""
    if language == "en" or not isinstance(text, str) or not text:
        return text
    words = catalogue(language).gettext
    if isinstance(text, Message):
        params = {name: translate(value, language) for name, value in text.params.items()}
        return words(text.msgid).format(**params) if params else words(text.msgid)
    return words(text)


WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
          N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


# How each language writes the time of day: US English on a 12-hour clock ("4:00 PM", as staff alerts do), every
# other language on a 24-hour one ("16:00"). The words around the time come from the catalogue.
TWELVE_HOUR_CLOCK = {"en": ("AM", "PM")}


def clock_time(moment, language):
    """(the hour the clock shows, the time as the language writes it): (4, "4:00 PM") / (16, "16:00")."""
    if language in TWELVE_HOUR_CLOCK:
        hour = moment.hour % 12 or 12
        return hour, f"{hour}:{moment:%M} {TWELVE_HOUR_CLOCK[language][moment.hour >= 12]}"
    return moment.hour, f"{moment.hour}:{moment:%M}"


def day_and_time(moment, language):
    """A local time in words: "Tuesday 8 December, 4:00 PM" / "el martes 8 de diciembre a las 16:00". Midnight
    is the end of the day before ("the end of Tuesday 8 December"), never 00:00 of the next."""
    if (moment.hour, moment.minute) == (0, 0):
        return translate(N_("the end of {weekday} {day} {month}"), language).format(**_day(moment - timedelta(days=1),
                                                                                         language))
    hour, time = clock_time(moment, language)
    # Spanish writes "a la 1:30" but "a las 13:30": a time the clock shows in the hour one has its own words.
    pattern = N_("{weekday} {day} {month}, {one_oclock}") if hour == 1 else N_("{weekday} {day} {month}, {time}")
    return translate(pattern, language).format(**_day(moment, language), time=time, one_oclock=time)


def _day(moment, language):
    return {"weekday": translate(WEEKDAYS[moment.weekday()], language), "day": moment.day,
            "month": translate(MONTHS[moment.month - 1], language)}
