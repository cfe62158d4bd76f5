"""The appointment request: the form as received, and the request as stored.

Validation needs three things from outside the form: the clinic's locations, its default
phone region and today's date in its time zone. They come in as the pydantic validation
context (see `validate_form`), so the rules stay pure and testable.
"""
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Literal, Optional

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..core.errors import ValidationFailed
from ..core.i18n import N_, Message

MAX_DAYS_AHEAD = 180

REASONS = (
    "back_pain", "neck_pain", "shoulder", "knee", "hip", "sports_injury",
    "post_surgery", "work_injury", "auto_accident", "other",
)
CONTACT_METHODS = ("phone", "email", "text")
TIMES = ("morning", "afternoon", "evening", "any")
# The words the form shows for each choice; alerts use the same, so staff read what was chosen.
REASON_LABELS = {
    "back_pain": N_("Back pain"),
    "neck_pain": N_("Neck pain"),
    "shoulder": N_("Shoulder"),
    "knee": N_("Knee"),
    "hip": N_("Hip"),
    "sports_injury": N_("Sports injury"),
    "post_surgery": N_("Recovery after surgery"),
    "work_injury": N_("Injury at work"),
    "auto_accident": N_("Car accident"),
    "other": N_("Something else"),
}
TIME_LABELS = {"morning": N_("Morning"), "afternoon": N_("Afternoon"), "evening": N_("Evening"), "any": N_("Any time")}
CONTACT_LABELS = {"phone": N_("Phone call"), "email": N_("Email"), "text": N_("Text message")}

LABELS = {
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "location": N_("Clinic location"),
    "preferred_contact": N_("Preferred contact"),
    "new_patient": N_("New patient"),
    "reason": N_("Reason for visit"),
    "preferred_date": N_("Preferred date"),
    "preferred_time": N_("Preferred time"),
    "has_referral": N_("Referral"),
    "insurance": N_("Insurance"),
    "message": N_("Message"),
    "contact_consent": N_("Consent to be contacted"),
    "sms_consent": N_("Consent to text messages"),
    "consent_version": N_("Consent wording"),
    "submission_id": N_("Submission id"),
    "form_token": N_("Form token"),
    "language": N_("Language"),
    "Idempotency-Key": N_("Idempotency-Key"),
}
BOOLEAN_FIELDS = ("new_patient", "has_referral", "contact_consent", "sms_consent")
OPTIONAL_FIELDS = (
    "preferred_contact", "new_patient", "reason", "preferred_date", "preferred_time",
    "has_referral", "insurance", "message", "sms_consent", "consent_version", "language",
)
_REQUIRED_MESSAGES = {
    "first_name": N_("Please enter your first name."),
    "last_name": N_("Please enter your last name."),
    "email": N_("Please enter your email address."),
    "phone": N_("Please enter a phone number we can reach you on."),
    "location": N_("Please choose a clinic location."),
    "contact_consent": N_("Please confirm that the clinic may contact you about this request."),
}
_CHOICE_MESSAGES = {
    "preferred_contact": N_("Choose phone, email or text."),
    "reason": N_("Choose one of the listed reasons, or other."),
    "preferred_time": N_("Choose morning, afternoon, evening or any."),
}

# Bidirectional marks, overrides and isolates can make text display differently from what it is.
_BIDI_CONTROLS = set("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


JOINERS = ("\u200c", "\u200d")  # zero-width non-joiner, zero-width joiner


def joins_letters(text, index):
    """True when text[index] is a zero-width (non-)joiner with a letter, or a letter's mark, on each side."""
    def letter(position):
        return 0 <= position < len(text) and unicodedata.category(text[position])[0] in "LM"

    return text[index] in JOINERS and letter(index - 1) and letter(index + 1)


def _email_problem(address):
    """What is wrong with an address email-validator refused, in our words (translated), not in its English ones:
    its reasons are free English text, no code to translate them by, and their wording changes between versions.
    The shape of the address tells most; for the rest, whether the part after the @ is a valid domain on its own."""
    if "@" not in address:
        return N_("it needs an @ sign, as in name@example.com.")
    if any(char.isspace() for char in address):
        return N_("it cannot contain spaces or line breaks.")
    if address.count("@") > 1:
        return N_("it has more than one @ sign.")
    local, _, domain = address.partition("@")
    if not local:
        return N_("there is nothing before the @ sign.")
    if not domain:
        return N_("there is nothing after the @ sign.")
    try:
        validate_email(f"name@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return N_("the part after the @ sign is not a domain that can receive e-mail, such as example.com.")
    return N_("the part before the @ sign has characters or dots that an email address cannot have there.")


def _rule(msgid, **params):
    """A rule's message, in words a patient can act on, that the answer gives in their language."""
    return PydanticCustomError("rule", "{message}", {"message": Message(msgid, **params)})


def _clean_text(value, *, field, max_length, multiline=False, name=False):
    """Trim and NFC-normalise; refuse control characters (newlines only where multiline).

    A name also refuses invisible format characters (Unicode Cf: bidi marks, zero-width
    spaces, BOMs, tags), except the zero-width non-joiner and joiner between two letters, where
    they are part of how Persian, Kurdish, Malayalam or Sinhala names are written. Free text has
    its bidi controls dropped instead: they only change how the text is shown, and a patient may
    have pasted them in without knowing.
    """
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not name:
        value = "".join(char for char in value if char not in _BIDI_CONTROLS)
    value = unicodedata.normalize("NFC", value.strip())
    for index, char in enumerate(value):
        if multiline and char in "\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            if multiline:
                raise _rule(N_("{label} cannot contain control characters."), label=LABELS[field])
            raise _rule(N_("{label} cannot contain control characters or line breaks."), label=LABELS[field])
        if name and unicodedata.category(char) == "Cf" and not joins_letters(value, index):
            raise _rule(N_("{label} cannot contain invisible formatting characters."), label=LABELS[field])
    if len(value) > max_length:
        raise _rule(N_("{label} can be at most {max_length} characters (it has {length})."), label=LABELS[field],
                    max_length=max_length, length=len(value))
    return value


class AppointmentForm(BaseModel):
    """What the patient sent, validated and normalised. Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False, frozen=True)

    # json_schema_extra only documents the rules (OpenAPI); the validators below enforce them,
    # after trimming and normalising, with messages a patient can act on.
    first_name: str = Field(strict=True, json_schema_extra={"minLength": 1, "maxLength": 60})
    last_name: str = Field(strict=True, json_schema_extra={"minLength": 1, "maxLength": 60})
    email: str = Field(strict=True, json_schema_extra={"format": "email", "maxLength": 254})
    phone: str = Field(strict=True, description="Stored as E.164; without +country, DEFAULT_PHONE_REGION applies.",
                       json_schema_extra={"minLength": 1, "maxLength": 40})
    location: str = Field(strict=True, description="A location id from CLINIC_LOCATIONS.")
    contact_consent: StrictBool = Field(description="Must be true.")
    preferred_contact: Literal["phone", "email", "text"] = "phone"
    new_patient: Optional[StrictBool] = None
    reason: Optional[Literal[REASONS]] = None
    preferred_date: Optional[str] = Field(default=None, strict=True, description="YYYY-MM-DD, today to 180 days ahead.",
                                          json_schema_extra={"format": "date"})
    preferred_time: Optional[Literal[TIMES]] = None
    has_referral: Optional[StrictBool] = None
    insurance: Optional[str] = Field(default=None, strict=True, json_schema_extra={"maxLength": 100})
    message: Optional[str] = Field(default=None, strict=True, json_schema_extra={"maxLength": 2000})
    sms_consent: Optional[StrictBool] = Field(default=None, validate_default=True)
    consent_version: Optional[str] = Field(default=None, strict=True,
                                           description="The consent wording the form showed (its hidden field).")
    form_token: Optional[str] = Field(default=None, strict=True,
                                      description="The form's hidden token (GET /form-token gives one); "
                                                  "checked by the spam rules, never refused.")
    language: Optional[str] = Field(default=None, strict=True,
                                    description="The language the patient used (LANGUAGES); without it, the "
                                                "request's Accept-Language decides.")
    suspected_spam: bool = False

    @model_validator(mode="before")
    @classmethod
    def _absent_values(cls, data):
        """null and blank optional values mean "not given"; the honeypot becomes a flag."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        honeypot = data.pop("website", None)
        data["suspected_spam"] = _is_filled(honeypot)
        for name in OPTIONAL_FIELDS:
            value = data.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                data.pop(name, None)
        return data

    @field_validator("first_name", "last_name")
    @classmethod
    def _name(cls, value, info):
        value = _clean_text(value, field=info.field_name, max_length=60, name=True)
        if not value:
            raise _rule(_REQUIRED_MESSAGES[info.field_name])
        if not any(unicodedata.category(char).startswith("L") for char in value):
            raise _rule(N_("{label} needs at least one letter."), label=LABELS[info.field_name])
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value):
        value = value.strip()
        if not value:
            raise _rule(_REQUIRED_MESSAGES["email"])
        if len(value) > 254:
            raise _rule(N_("An email address can be at most 254 characters."))
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            raise _rule(N_("Please check your email address: {detail}"), detail=Message(_email_problem(value))) from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value, info):
        value = _clean_text(value, field="phone", max_length=40)
        if not value:
            raise _rule(_REQUIRED_MESSAGES["phone"])
        region = (info.context or {}).get("phone_region", "US")
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise _rule(N_("Please enter a phone number we can call, with its area code, e.g. 212-555-0142."))
        normalised = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return f"{normalised} ext. {number.extension}" if number.extension else normalised

    @field_validator("location")
    @classmethod
    def _location(cls, value, info):
        locations = (info.context or {}).get("locations", {})
        value = value.strip()
        if not value:
            raise _rule(_REQUIRED_MESSAGES["location"])
        if value not in locations:
            raise _rule(N_("Please choose one of our clinic locations: {locations}."),
                        locations=", ".join(locations.values()))
        return value

    @field_validator("contact_consent")
    @classmethod
    def _consent(cls, value):
        if value is not True:
            raise _rule(_REQUIRED_MESSAGES["contact_consent"])
        return value

    @field_validator("preferred_date")
    @classmethod
    def _preferred_date(cls, value, info):
        value = value.strip()
        try:
            day = date.fromisoformat(value) if _ISO_DATE.match(value) else None
        except ValueError:
            day = None
        if day is None:
            raise _rule(N_("Enter the date as YYYY-MM-DD, e.g. 2026-12-01."))
        today = (info.context or {}).get("today") or date.today()
        if day < today:
            raise _rule(N_("The preferred date cannot be in the past."))
        if day > today + timedelta(days=MAX_DAYS_AHEAD):
            raise _rule(N_("The preferred date can be at most {days} days ahead."), days=MAX_DAYS_AHEAD)
        return day.isoformat()

    @field_validator("insurance")
    @classmethod
    def _insurance(cls, value):
        return _clean_text(value, field="insurance", max_length=100)

    @field_validator("message")
    @classmethod
    def _message(cls, value):
        return _clean_text(value, field="message", max_length=2000, multiline=True)

    @field_validator("consent_version")
    @classmethod
    def _consent_version(cls, value, info):
        known = (info.context or {}).get("consent_versions") or ()
        value = value.strip()
        if value not in known:
            raise _rule(N_("This form is out of date: please reload the page and send your request again."))
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value, info):
        offered = (info.context or {}).get("languages") or ("en",)
        if value.strip().lower() not in offered:
            raise _rule(N_("Choose one of: {choices}."), choices=", ".join(offered))
        return value.strip().lower()

    @field_validator("sms_consent")
    @classmethod
    def _sms_needs_consent(cls, value, info):
        if info.data.get("preferred_contact") == "text" and value is not True:
            raise _rule(N_("To be contacted by text, please agree to receive text messages."))
        return value

    def fields(self):
        """The patient's answers as stored: only what was given."""
        return self.model_dump(exclude_none=True,
                               exclude={"suspected_spam", "consent_version", "form_token", "language"})

    def content(self):
        """What tells a replay from other content: everything sent but the token."""
        return self.model_dump(exclude={"form_token"})


def _is_filled(value):
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return value is not False


def validate_form(data, *, locations, phone_region, today, consent_versions=(), languages=("en",)):
    """Validate a submission (a dict of field values) or raise ValidationFailed with every field."""
    context = {"locations": locations, "phone_region": phone_region, "today": today,
               "consent_versions": consent_versions, "languages": languages}
    try:
        return AppointmentForm.model_validate(data, context=context)
    except ValidationError as error:
        raise ValidationFailed(_field_messages(error)) from None


def _field_messages(error):
    fields = {}
    for item in error.errors(include_url=False, include_input=True):
        if not item["loc"]:
            continue
        field = str(item["loc"][0])
        fields.setdefault(field, _friendly(field, item))
    return fields


def _friendly(field, item):
    kind = item["type"]
    label = LABELS.get(field, field)
    if kind == "rule":
        return (item.get("ctx") or {}).get("message") or item["msg"]
    if kind == "missing" or item.get("input") is None:
        return Message(_REQUIRED_MESSAGES[field]) if field in _REQUIRED_MESSAGES else \
            Message(N_("{label} is required."), label=label)
    if kind in ("literal_error", "enum"):
        return Message(_CHOICE_MESSAGES[field]) if field in _CHOICE_MESSAGES else \
            Message(N_("{label} has a value we do not recognise."), label=label)
    if kind.startswith("bool"):
        return Message(N_("{label} must be true or false."), label=label)
    if kind.startswith("string"):
        return Message(N_("{label} must be text."), label=label)
    return Message(N_("{label} is not valid."), label=label)


class ConsentEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    given_at: str
    version: str
    language: Optional[str] = None  # whose wording of that version the patient saw (absent: before languages)


class AppointmentRequest(BaseModel):
    """A request as stored: the validated answers plus what the service adds."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: Literal["new", "contacted", "scheduled", "attended", "no_show", "cancelled", "closed", "suspected_spam"]
    created_at: datetime
    expires_at: int
    fields: dict
    contact_consent: ConsentEvidence
    sms_consent: Optional[ConsentEvidence] = None
    dedupe_key: str
    content_hash: str
    alerted_at: Optional[str] = None
    confirmed_at: Optional[str] = None  # the confirmation e-mail was sent, or deliberately not (see confirmation)
    confirmation: Optional[str] = None
    spam_reasons: tuple = ()  # reason codes (intake.spam.REASONS) of a suspected request
    spam_signals: dict = {}  # the figures behind them: {"fill_ms": 1200, "links": 2}
    due_at: Optional[datetime] = None  # when the clinic promised to get in touch (RESPONSE_TARGET_HOURS opening hours on)
    lookups: dict = {}  # keyed hashes of the phone and e-mail, for staff to find it by (core.lookup)
    language: str = "en"  # the patient's language: what the confirmation is in, and what staff call back in
    corrects: Optional[str] = None  # the id of the request this one corrects (sent again from its page: intake.service)
    visit_at: Optional[str] = None  # a booked visit: the clinic's wall time, "YYYY-MM-DDTHH:MM" (core.visit_times)
    visit_start: Optional[datetime] = None  # and its instant (UTC)
    visit_sequence: Optional[int] = None  # 0 when first booked, one more at each change or cancellation
    patient_answer: Optional[dict] = None  # the patient's answer from their page: {"answer", "at", "sequence"}

    @property
    def location(self):
        return self.fields["location"]
