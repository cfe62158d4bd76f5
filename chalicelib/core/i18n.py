"""Words a patient reads, in their language: gettext catalogues under chalicelib/locale, read by the standard
library at run time (Babel extracts and compiles them, as a development tool only: `make i18n`).

English is the source language: a message is its English text, marked with N_() where it is defined and
translated where it is shown. A Message is a str (its English text, so logs and tests read it as before) that
also carries its msgid and parameters, so that a validation error can be given in the patient's language.
"""
import gettext
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


def day_and_time(moment, language):
    """"Tuesday 8 December, 12:00" / "martes 8 de diciembre, 12:00": a local time in words."""
    weekday, month = translate(WEEKDAYS[moment.weekday()], language), translate(MONTHS[moment.month - 1], language)
    pattern = translate(N_("{weekday} {day} {month}, {time}"), language)
    return pattern.format(weekday=weekday, day=moment.day, month=month, time=f"{moment:%H:%M}")
