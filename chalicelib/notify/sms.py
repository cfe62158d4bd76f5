"""Reminder texts: the words (in the patient's language), their segments, and SNS's Publish to a phone number.

A text says who sends it (the location's name), when the visit is, the patient's page link, and how to stop
texts; nothing of their health and nothing they typed. It stays within MAX_SEGMENTS of its encoding: GSM-7
when every character is in the GSM 03.38 basic set or its extension table (an extension character is an escape
and itself: 2 septets), UCS-2 otherwise (UTF-16 code units: an emoji is 2). One segment holds 160 septets or
70 units; a concatenated message loses room to its header (153 / 67 a segment), and a character is never split
across two segments. When the full wording is too long (a long location name, Spanish), a shorter one is used,
then the location's name is cut: a third segment is never sent.
"""
import re
import unicodedata
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from ..core.errors import SmsNotSent
from ..core.i18n import N_, clock_time, day_and_time, translate
from ..core.logs import get_logger

log = get_logger(__name__)

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}  # (one segment, each of a concatenated message's)
MAX_SEGMENTS = 2

REMINDER = N_("{clinic}: a reminder of your visit on {when}. To confirm, cancel or change it: {link}")
SHORT_REMINDER = N_("{clinic}: your visit is on {when}. {link}")
SHORT_WHEN = N_("{month}/{day} {time}")
STOP = N_("Reply STOP to opt out")
UNDECOMPOSED = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th"})

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SMS_TYPE = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
# What retrying cannot change: the request itself is wrong. Anything else (throttling, SNS's own faults, a policy
# or spend limit the operator fixes) is tried again by the next run.
FINAL_ERRORS = frozenset({"InvalidParameter", "InvalidParameterValue", "ValidationError", "ValidationException"})


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    count: int


def segments(text):
    """How `text` goes as SMS: its encoding, size in that encoding's units, and number of segments."""
    if all(char in GSM_BASIC or char in GSM_EXTENSION for char in text):
        encoding, units = "GSM-7", [2 if char in GSM_EXTENSION else 1 for char in text]
    else:
        encoding, units = "UCS-2", [len(char.encode("utf-16-le")) // 2 for char in text]
    single, part = LIMITS[encoding]
    if sum(units) <= single:
        return Segments(encoding, sum(units), 1)
    count, used = 1, 0
    for size in units:  # an escape and its character, or a surrogate pair, stay in one segment
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return Segments(encoding, sum(units), count)


def fits(text):
    return segments(text).count <= MAX_SEGMENTS


def short_day_and_time(moment, language):
    """"12/8 4:00 PM" / "8/12 16:00": the date in digits, as the language orders them."""
    return translate(SHORT_WHEN, language).format(month=moment.month, day=moment.day,
                                                  time=clock_time(moment, language)[1])


def compose_reminder_text(clinic, visit_local, link, language):
    """The reminder text for a visit at `visit_local` (the clinic's wall time), within MAX_SEGMENTS; SmsNotSent
    (final) when not even the short wording with one letter of the location's name would fit (a link that long)."""
    clinic = " ".join(clinic.split())
    stop = translate(STOP, language)
    # The whole name first, as written, then in GSM letters (an accent alone can make a text UCS-2, with less than
    # half the room), in the full wording then the short one; only then a shorter name, in GSM letters first.
    names = tuple(dict.fromkeys((clinic, gsm_letters(clinic))))
    wordings = ((translate(REMINDER, language), day_and_time(visit_local, language)),
                (translate(SHORT_REMINDER, language), short_day_and_time(visit_local, language)))
    for wording, when in wordings:
        for name in names:
            text = f"{wording.format(clinic=name, when=when, link=link)} {stop}"
            if fits(text):
                return text
    short, when = wordings[1]
    for name in reversed(names):
        for length in range(len(name) - 1, 0, -1):
            text = f"{short.format(clinic=name[:length].rstrip(), when=when, link=link)} {stop}"
            if fits(text):
                return text
    raise SmsNotSent("too_long", retryable=False)


def gsm_letters(name):
    """The name in GSM 03.38's letters ("Łódź" -> "Lodz"): one letter outside them makes the whole text UCS-2,
    less than half the room."""
    plain = unicodedata.normalize("NFKD", name.translate(UNDECOMPOSED))
    return " ".join("".join(char for char in plain if char in GSM_BASIC).split())


class SmsSender:
    """Texts through SNS Publish to a phone number, unless SNS reports the number opted out."""

    def __init__(self, client):
        self._client = client

    def send(self, phone, text):
        """SNS's message id, or None when the number opted out (nothing sent). SmsNotSent(retryable=...)."""
        if not isinstance(phone, str) or not E164.match(phone):
            raise SmsNotSent("not_e164", retryable=False)
        if not fits(text):
            raise SmsNotSent("too_long", retryable=False)
        try:
            if self._client.check_if_phone_number_is_opted_out(phoneNumber=phone).get("isOptedOut"):
                log.info("text not sent: the number opted out", extra={"event": "sms_opted_out"})
                return None
            return self._client.publish(PhoneNumber=phone, Message=text, MessageAttributes=SMS_TYPE)["MessageId"]
        except ClientError as error:
            code = error.response["Error"]["Code"]
            raise SmsNotSent(code, retryable=code not in FINAL_ERRORS) from None
        except ParamValidationError:
            raise SmsNotSent("invalid_parameters", retryable=False) from None
        except BotoCoreError as error:
            raise SmsNotSent(type(error).__name__) from None
