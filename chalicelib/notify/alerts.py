"""Staff alerts: a stored request turned into one SNS message, and publishing it.

What the patient typed is shown as text, never as structure:
- one-line fields (name, email, insurance) have every line break and control character
  turned into a space, so they cannot start a line of their own;
- the free-text message comes last, as a quoted block: every line of it, and every line it
  is wrapped into, starts with "> ", so a "Phone: ..." inside it cannot pass for a field;
- web addresses in form text are defanged ("https[:]//example[.]com": the scheme's colon
  and each dot before a domain label are bracketed), so a mail client links nothing but the
  patient's own email address and phone number;
- the subject is made of our own words, the location and the reference: no personal data,
  since SNS encrypts a message's body but not its subject or attributes.
"""
import json
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import date, timezone

import phonenumbers
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from ..core.config import Settings
from ..core.errors import AlertNotSent
from ..intake.languages import STAFF_NAMES
from ..intake.models import CONTACT_LABELS, LABELS, REASON_LABELS, TIME_LABELS, AppointmentRequest
from .mail_templates import TEMPLATES

EVENT = "appointment.requested"
# SNS Publish: a Subject is ASCII that begins with a letter, number or punctuation mark,
# has no line breaks or control characters, and is *less than* 100 characters: ours is at most
# 21 + 40 + 15 characters of plain ASCII.
# An SMS alert is two segments at most. SNS puts the topic's display name in front of every SMS
# sent from a topic ("APPOINTMENT REQUESTS> " is 22) and splits a longer one between words into
# segments of 153 GSM-7 characters (160 for a single one). So the first line, which says what
# happened, stays within one segment, and the link, on a line of its own, within the second
# (config caps PUBLIC_BASE_URL at 100 characters: 140 with the path and the id).
MAX_SMS = 130
MAX_SMS_LINK = 153
# The form's limits (SPEC). Longer stored text (an old or hand-edited item) is clipped, so the
# message stays far below SNS's 256 KB (262,144 bytes, attributes included) whatever is stored.
_LIMITS = {"name": 121, "email": 254, "phone": 40, "insurance": 100, "message": 2000}
_QUOTE = "> "
_WRAP = 76


# Latin letters that NFKD does not take apart, and typographic punctuation, in plain ASCII.
_FOLD = str.maketrans({
    "ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o",
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th",
    "ı": "i", "Ħ": "H", "ħ": "h", "Ŋ": "N", "ŋ": "n", "Ŧ": "T", "ŧ": "t", "Ə": "E", "ə": "e",
    "ĸ": "k", "‘": "'", "’": "'", "ʼ": "'", "ʻ": "'", "`": "'", "‚": ",", "“": '"', "”": '"',
    "„": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
})
# Embedding, override and isolate controls make text display as something it is not.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# GSM 03.38 basic set within ASCII: the rest (` [ \ ] ^ { | } ~) takes two septets or none.
_GSM_ASCII = set(map(chr, range(0x20, 0x7F))) - set("`[\\]^{|}~")
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)")
_DOMAIN_DOT = re.compile(r"(?<=\w)[.\u3002\uff0e\uff61](?=[^\W\d_]{2})")


@dataclass(frozen=True)
class Alert:
    subject: str
    message: str
    attributes: dict


def compose_alert(request: AppointmentRequest, settings: Settings) -> Alert:
    """The alert for a stored request, with as much detail as `settings.notify_detail` allows."""
    full = settings.notify_detail == "full"
    location = _one_line(settings.locations.get(request.location, request.location))
    received = _received(request.created_at, settings.timezone)
    link = inbox_link(request.id, settings)
    body = _email_body(request, location, received, full, link, settings)
    message = {
        "default": body,
        "email": body,
        "sms": _sms(request, location, received, link),
    }
    return Alert(
        subject=_subject(request, location),
        message=json.dumps(message, ensure_ascii=False),
        attributes={
            "location": {"DataType": "String", "StringValue": request.location},
            "event": {"DataType": "String", "StringValue": EVENT},
            "appointment_id": {"DataType": "String", "StringValue": request.id},
        },
    )


class AlertPublisher:
    def __init__(self, sns_client, topic_arn):
        self._sns = sns_client
        self._topic_arn = topic_arn

    def publish(self, alert: Alert) -> str:
        """Publish to the topic and return SNS's MessageId, or raise AlertNotSent."""
        try:
            response = self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=alert.subject,
                Message=alert.message,
                MessageStructure="json",
                MessageAttributes=alert.attributes,
            )
        except ClientError as error:
            raise _not_sent(error) from None
        except ParamValidationError:
            raise AlertNotSent("the alert is not a valid Publish request", retryable=False) from None
        except BotoCoreError as error:  # connection refused or timed out, no credentials, ...
            raise AlertNotSent(f"SNS unreachable ({type(error).__name__})", retryable=True) from None
        return response["MessageId"]


# SNS refuses the same message again for these; anything else (throttling, 5xx, a topic or
# key missing or not yet allowed) may pass on a later try. AWS's error text is not kept: it
# can quote what was sent.
_REFUSED = {"InvalidParameter", "InvalidParameterValue", "ParameterValueInvalid", "ValidationError",
            "ValidationException"}


def _not_sent(error):
    details = error.response.get("Error", {})
    code = details.get("Code") or "Unknown"
    if code in _REFUSED and "TopicArn" not in (details.get("Message") or ""):
        return AlertNotSent(f"SNS refused the message ({code})", retryable=False)
    return AlertNotSent(f"SNS did not take the alert ({code})", retryable=True)


def _subject(request, location):
    # Never the patient's name, at either level: SNS encrypts the body with the topic's KMS key,
    # but not the Subject or the message attributes. Location and reference say which request.
    return f"Appointment request - {to_ascii(location)[:40].strip() or request.location} (ref {request.id[:8]})"


def inbox_link(request_id, settings):
    """The request's page in the staff inbox: the id only, never personal data in a URL."""
    return f"{settings.public_base_url}/staff/requests/{request_id}"


def _email_body(request, location, received, full, link, settings):
    fields = request.fields if full else {}
    return TEMPLATES.render(
        "alert.txt",
        full=full,
        location=location,
        link=link,
        reference=request.id,
        corrects={"reference": request.corrects[:8], "link": inbox_link(request.corrects, settings)}
        if request.corrects else None,
        received=received,
        location_label=LABELS["location"],
        # At both levels: which language to call back in is not health data.
        patient_language=STAFF_NAMES.get(request.language, request.language),
        details=list(_details(fields)) if full else [],
        quoted=_quoted(fields["message"]) if fields.get("message") else [],
    )


def _details(fields):
    yield "Name", _clip(_defang(_name(fields)), _LIMITS["name"])
    if fields.get("phone"):
        yield LABELS["phone"], _phone(fields["phone"])
    if fields.get("email"):
        yield LABELS["email"], _clip(_one_line(fields["email"]), _LIMITS["email"])
    choices = (
        ("preferred_contact", CONTACT_LABELS),
        ("reason", REASON_LABELS),
    )
    for field, labels in choices:
        if fields.get(field):
            yield LABELS[field], labels.get(fields[field]) or _one_line(str(fields[field]))
    if fields.get("preferred_date"):
        yield LABELS["preferred_date"], _day(fields["preferred_date"])
    if fields.get("preferred_time"):
        value = fields["preferred_time"]
        yield LABELS["preferred_time"], TIME_LABELS.get(value) or _one_line(str(value))
    for field in ("new_patient", "has_referral"):
        if isinstance(fields.get(field), bool):
            yield LABELS[field], "Yes" if fields[field] else "No"
    if fields.get("insurance"):
        yield LABELS["insurance"], _clip(_defang(_one_line(fields["insurance"])), _LIMITS["insurance"])


def _sms(request, location, received, link):
    # The id is not repeated: it ends the link. The link comes from config, plain ASCII.
    place = "".join(char for char in to_ascii(location) if char in _GSM_ASCII)[:30].strip()
    text = f"New appointment request, {place or request.location}. Received {received}."
    return "".join(char for char in text if char in _GSM_ASCII)[:MAX_SMS] + "\n" + link


def _name(fields):
    return _one_line(f"{fields.get('first_name', '')} {fields.get('last_name', '')}")


def _quoted(text):
    clipped = len(text) > _LIMITS["message"]
    lines = []
    for line in text[: _LIMITS["message"]].splitlines() or [""]:
        parts = textwrap.wrap(_defang(_printable(line)), _WRAP - len(_QUOTE), break_on_hyphens=False)
        lines += [(_QUOTE + part).rstrip() for part in parts or [""]]
    if clipped:
        lines.append(_QUOTE + "[cut here: the whole message is in the staff API]")
    return lines


def to_ascii(text):
    """Plain ASCII for a subject: José → Jose, Łukasz → Lukasz, Straße → Strasse.

    Accents go (NFKD, then combining marks dropped); Latin letters that do not decompose come
    from a small table; letters of other scripts, emoji and controls become spaces.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD)).translate(_FOLD)
    kept = (
        char if " " <= char <= "~" else " "
        for char in decomposed
        if not unicodedata.combining(char)
    )
    return " ".join("".join(kept).split())


def _printable(text):
    """Line breaks and control characters as spaces; bidi controls dropped."""
    return "".join(
        " " if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") else char
        for char in text.translate(_BIDI_CONTROLS)
    )


def _one_line(text):
    return " ".join(_printable(text).split())


def _defang(text):
    return _DOMAIN_DOT.sub("[.]", _SCHEME.sub(r"\1[:]", text))


def _clip(text, width):
    if len(text) <= width:
        return text
    cut = text[: width - 3]
    if " " in cut[width // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "..."


def _phone(value):
    value = _clip(_one_line(value), _LIMITS["phone"])
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _day(value):
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return _one_line(str(value))
    return f"{day:%a} {day.day} {day:%b %Y}"


def _received(created_at, zone):
    """Wed 25 Nov 2026, 10:00 AM EST: in the clinic's zone, with its abbreviation."""
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=timezone.utc)
    moment = created_at.astimezone(zone)
    hour = moment.hour % 12 or 12
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {hour}:{moment:%M %p %Z}"


# A patient's answer on their page (visits.answers), told to staff: what happened, the reference and the inbox link,
# nothing the patient typed. The subject is ours, ASCII, at most 45 + 14 characters.
ANSWER_SUBJECTS = {
    "visit.confirmed": "Visit confirmed by the patient",
    "visit.cancelled": "Visit cancelled by the patient",
    "visit.change_requested": "Another time asked for by the patient",
    "request.withdrawn": "Request withdrawn by the patient",
}


def compose_answer_alert(request, event, settings: Settings) -> Alert:
    """The alert of a patient's answer (`event`, one of ANSWER_SUBJECTS) about a stored request."""
    what = ANSWER_SUBJECTS[event]
    link = inbox_link(request.id, settings)
    body = f"{what} on their page.\n\nReference: {request.id}\nOpen it in the inbox: {link}\n"
    sms = f"{what}, ref {request.id[:8]}.\n{link}"
    return Alert(
        subject=f"{what} - ref {request.id[:8]}",
        message=json.dumps({"default": body, "email": body, "sms": sms}, ensure_ascii=False),
        attributes={
            "event": {"DataType": "String", "StringValue": event},
            "location": {"DataType": "String", "StringValue": request.location},
        },
    )
