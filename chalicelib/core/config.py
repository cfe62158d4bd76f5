"""Settings, read from the environment once, when first needed, checked strictly.

Reading them lazily (not at import time) lets `chalice package` import the app without
the stage's variables, and names the broken variable on the first request that needs it.
"""
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import hours
from .errors import ConfigError

NOTIFY_DETAILS = ("full", "minimal")
SUPPORTED_LANGUAGES = ("en", "es")  # the patient languages with a catalogue
# A queue URL as SQS gives it (GetQueueUrl, or Ref in a template): https://sqs.REGION.amazonaws.com/ACCOUNT/NAME.
_QUEUE_URL = re.compile(r"^https://sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\d{12}/[A-Za-z0-9_-]{1,80}$")
_FIFO_QUEUE_URL = re.compile(r"^https://sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\d{12}/[A-Za-z0-9_-]{1,75}\.fifo$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_LOCATION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_SECRET_ID = re.compile(r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$")


# The Standard Webhooks schedule: after the first attempt, retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
# later: 8 attempts over 27 h 35 min, then the dead-letter queue.
WEBHOOK_RETRY_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 36000)


@dataclass(frozen=True)
class Settings:
    table_name: str
    topic_arn: str
    locations: dict
    timezone: ZoneInfo
    phone_region: str
    allowed_origins: tuple
    thank_you_url: str
    notify_detail: str
    retention_days: int
    consent_version: str
    dedupe_key_secret: str
    public_base_url: str
    mail_from: str
    consent_versions: tuple = ()  # every version the form may still show (the current one first)
    session_idle_minutes: int = 30
    mail_configuration_set: str = ""
    location_phones: dict = field(default_factory=dict)  # location id -> phone, as people dial it
    confirmations: bool = True
    confirmation_reply_to: str = ""
    sign_in_queue_url: str = ""
    form_tokens: str = "optional"  # "required": a request without a form token is suspected (no_token)
    form_token_max_age_hours: int = 24
    min_fill_seconds: int = 3
    location_weeks: dict = field(default_factory=dict)  # location id -> its week (core.hours), None: always open
    closed_dates: frozenset = frozenset()
    response_target_hours: int = 8
    digest_hour: int = 8
    languages: tuple = ("en",)  # the patient languages offered, the default first (intake.languages)
    location_addresses: dict = field(default_factory=dict)  # location id -> street address, for visit e-mails
    visit_minutes: int = 45  # a visit's length in its calendar file
    reminder_hours_before: int = 24  # how long before a visit its reminder goes (0: no reminders)
    sms_reminders: bool = False  # reminders also by text message, where the patient agreed to texts
    webhook_queue_url: str = ""  # the FIFO queue of webhook deliveries (webhooks.feed fills it, webhooks.delivery reads)
    webhook_retry_seconds: tuple = WEBHOOK_RETRY_SECONDS  # the waits before each retry of a failed delivery
    webhook_loopback: bool = False  # the local stack only: http:// receivers on 127.0.0.1 (never set in a stage)

    def opening_hours(self, location):
        """A location's OpeningHours (an unknown one is open around the clock)."""
        return hours.OpeningHours(self.location_weeks.get(location), self.closed_dates, self.timezone)

    def due_at(self, location, received):
        """When a request received at `received` must have been answered: RESPONSE_TARGET_HOURS opening hours on."""
        return self.opening_hours(location).due_at(received, self.response_target_hours)

    @property
    def public_origin(self):
        """The API's own origin (scheme://host[:port]): what a staff page's Origin header must be."""
        parts = urlsplit(self.public_base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def public_path(self):
        """The path the API lives under ("" locally, "/api" behind API Gateway's stage)."""
        return urlsplit(self.public_base_url).path

    @property
    def secure_cookies(self):
        return self.public_base_url.startswith("https://")

    @classmethod
    def from_env(cls, env):
        target_hours = _whole("RESPONSE_TARGET_HOURS", env.get("RESPONSE_TARGET_HOURS", ""), 8, 1, 720, "hours")
        return cls(
            table_name=_table_name(_required(env, "APPOINTMENTS_TABLE")),
            topic_arn=_topic_arn(_required(env, "NOTIFY_TOPIC_ARN")),
            locations=_locations(_required(env, "CLINIC_LOCATIONS")),
            timezone=_timezone(_required(env, "CLINIC_TIMEZONE")),
            phone_region=_phone_region(_required(env, "DEFAULT_PHONE_REGION")),
            allowed_origins=_origins(_required(env, "ALLOWED_ORIGINS")),
            thank_you_url=_url("THANK_YOU_URL", _required(env, "THANK_YOU_URL")),
            notify_detail=_choice("NOTIFY_DETAIL", _required(env, "NOTIFY_DETAIL"), NOTIFY_DETAILS),
            retention_days=_retention(_required(env, "RETENTION_DAYS")),
            consent_version=_consent_versions(_required(env, "CONSENT_VERSION"))[0],
            consent_versions=_consent_versions(_required(env, "CONSENT_VERSION")),
            dedupe_key_secret=_secret_id(_required(env, "DEDUPE_KEY_SECRET")),
            public_base_url=_base_url(_required(env, "PUBLIC_BASE_URL")),
            mail_from=_mail_from(_required(env, "MAIL_FROM")),
            session_idle_minutes=_minutes(env.get("STAFF_SESSION_IDLE_MINUTES", "").strip() or "30"),
            mail_configuration_set=_configuration_set(_required(env, "MAIL_CONFIGURATION_SET")),
            location_phones=_location_phones(_required(env, "CLINIC_LOCATIONS"), env.get("DEFAULT_PHONE_REGION", "")),
            confirmations=_choice("CONFIRMATIONS", env.get("CONFIRMATIONS", "").strip() or "on", ("on", "off")) == "on",
            location_weeks=_location_weeks(_required(env, "CLINIC_LOCATIONS"), env, target_hours),
            closed_dates=hours.parse_closed_dates(env.get("CLINIC_CLOSED_DATES", "")),
            response_target_hours=target_hours,
            digest_hour=_whole("DIGEST_HOUR", env.get("DIGEST_HOUR", ""), 8, 0, 23, "hours (0 to 23)"),
            languages=_languages(env.get("LANGUAGES", "").strip() or "en"),
            confirmation_reply_to=_reply_to(env.get("CONFIRMATION_REPLY_TO", "").strip()),
            sign_in_queue_url=_queue_url(_required(env, "SIGN_IN_QUEUE_URL")),
            form_tokens=_choice("FORM_TOKENS", env.get("FORM_TOKENS", "").strip() or "optional",
                                ("optional", "required")),
            form_token_max_age_hours=_whole("FORM_TOKEN_MAX_AGE_HOURS", env.get("FORM_TOKEN_MAX_AGE_HOURS", ""), 24,
                                            1, 168, "hours"),
            min_fill_seconds=_whole("MIN_FILL_SECONDS", env.get("MIN_FILL_SECONDS", ""), 3, 0, 60, "seconds"),
            location_addresses=_location_addresses(_required(env, "CLINIC_LOCATIONS")),
            visit_minutes=_whole("VISIT_MINUTES", env.get("VISIT_MINUTES", ""), 45, 5, 480, "minutes"),
            reminder_hours_before=_whole("REMINDER_HOURS_BEFORE", env.get("REMINDER_HOURS_BEFORE", ""), 24, 0, 168,
                                         "hours (0: no reminders)"),
            sms_reminders=_choice("SMS_REMINDERS", env.get("SMS_REMINDERS", "").strip() or "off", ("on", "off")) == "on",
            webhook_queue_url=_webhook_queue_url(_required(env, "WEBHOOK_QUEUE_URL")),
            webhook_retry_seconds=_retry_seconds(env.get("WEBHOOK_RETRY_SECONDS", "").strip()),
            webhook_loopback=_choice("WEBHOOK_LOOPBACK", env.get("WEBHOOK_LOOPBACK", "").strip() or "off",
                                     ("on", "off")) == "on",
        )


@lru_cache(maxsize=1)
def get_settings():
    return Settings.from_env(os.environ)


def _required(env, name):
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(name, "it is missing or empty")
    return value


def _table_name(value):
    if not _TABLE_NAME.match(value):
        raise ConfigError("APPOINTMENTS_TABLE", "a DynamoDB table name is 3-255 of A-Z a-z 0-9 _ . -")
    return value


def _topic_arn(value):
    if not _TOPIC_ARN.match(value):
        raise ConfigError("NOTIFY_TOPIC_ARN", "expected an SNS topic ARN like arn:aws:sns:REGION:ACCOUNT:NAME")
    return value


def _queue_url(value):
    if not _QUEUE_URL.match(value):
        raise ConfigError("SIGN_IN_QUEUE_URL", "expected an SQS queue URL like https://sqs.REGION.amazonaws.com/ACCOUNT/NAME")
    return value


def _webhook_queue_url(value):
    if not _FIFO_QUEUE_URL.match(value):
        raise ConfigError("WEBHOOK_QUEUE_URL",
                          "expected a FIFO SQS queue URL like https://sqs.REGION.amazonaws.com/ACCOUNT/NAME.fifo")
    return value


# SQS caps a message's visibility at 12 hours from its receive, and the consumer sets a wait after the receive, up
# to the queue's visibility timeout (360 s) later: a longer wait is refused by SQS (moto lets it through).
MAX_WEBHOOK_WAIT = 43_200 - 360


def _retry_seconds(value):
    """WEBHOOK_RETRY_SECONDS: exactly as many waits as the queue's redrive allows retries (its maxReceiveCount is
    one more), each at most MAX_WEBHOOK_WAIT."""
    if not value:
        return WEBHOOK_RETRY_SECONDS
    try:
        waits = tuple(int(part) for part in value.split(","))
    except ValueError:
        waits = ()
    if len(waits) != len(WEBHOOK_RETRY_SECONDS) or not all(0 <= wait <= MAX_WEBHOOK_WAIT for wait in waits):
        raise ConfigError("WEBHOOK_RETRY_SECONDS", f"expected {len(WEBHOOK_RETRY_SECONDS)} comma-separated "
                                                   f"whole seconds, each 0 to {MAX_WEBHOOK_WAIT} (12 hours less "
                                                   "the queue's visibility timeout)")
    return waits


def _locations(value):
    try:
        locations = json.loads(value)
    except ValueError:
        raise ConfigError("CLINIC_LOCATIONS", "it is not valid JSON") from None
    if not isinstance(locations, dict) or not locations:
        raise ConfigError("CLINIC_LOCATIONS", 'expected a JSON object like {"downtown": "Downtown Clinic"}')
    for location_id, name in locations.items():
        if not _LOCATION_ID.match(location_id):
            raise ConfigError(
                "CLINIC_LOCATIONS",
                f"location id {location_id!r} must be 1-40 of a-z 0-9 _ - (it is used in SNS filter policies)",
            )
        if isinstance(name, dict):
            if set(name) - {"name", "phone", "address", "hours"}:
                raise ConfigError("CLINIC_LOCATIONS", f'location {location_id!r}: use {{"name": ..., "phone": ..., '
                                                      f'"address": ..., "hours": ...}}')
            name = name.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError("CLINIC_LOCATIONS", f"location {location_id!r} needs a display name")
        locations[location_id] = name
    return dict(locations)


def _location_phones(value, region):
    """Each location's phone, where one is configured, in international format; a bad one names its location."""
    import phonenumbers

    phones = {}
    for location_id, entry in json.loads(value).items():
        if not isinstance(entry, dict) or entry.get("phone") is None:
            continue
        try:
            number = phonenumbers.parse(str(entry["phone"]), region or None)
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            raise ConfigError("CLINIC_LOCATIONS", f"location {location_id!r}: {entry['phone']!r} is not a phone number "
                                                  "people can dial, e.g. +1 212 555 0100")
        phones[location_id] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phones


# Visit e-mails and the calendar file give the address: one line, short enough for a calendar's LOCATION.
MAX_ADDRESS = 200


def _location_addresses(value):
    """Each location's street address, where one is configured; a bad one names its location."""
    addresses = {}
    for location_id, entry in json.loads(value).items():
        if not isinstance(entry, dict) or entry.get("address") is None:
            continue
        address = entry["address"]
        if not isinstance(address, str) or not address.strip() or len(address) > MAX_ADDRESS \
                or any(ord(char) < 0x20 or 0x7f <= ord(char) < 0xa0 for char in address):
            raise ConfigError("CLINIC_LOCATIONS", f"location {location_id!r}: give the address as one line of at most "
                                                  f"{MAX_ADDRESS} characters, e.g. \"120 Main St, Springfield, NY 10001\"")
        addresses[location_id] = " ".join(address.split())
    return addresses


def _configuration_set(value):
    # SES: a configuration set name is 1-64 of letters, digits, _ and -.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise ConfigError("MAIL_CONFIGURATION_SET", f"{value!r} is not an SES configuration set name "
                                                    "(1-64 of A-Z a-z 0-9 _ -)")
    return value


def _location_weeks(value, env, target_hours):
    # A setting that is gone is an error, not silently ignored: the confirmation now says when from the due time.
    if env.get("CONFIRMATION_RESPONSE_TIME", "").strip():
        raise ConfigError("CONFIRMATION_RESPONSE_TIME", "it is no longer used: the confirmation says when the clinic "
                                                        "will get in touch from each request's due time "
                                                        "(RESPONSE_TARGET_HOURS and the locations' hours); remove it")
    weeks = {location_id: hours.parse_week(location_id, entry.get("hours") if isinstance(entry, dict) else None)
             for location_id, entry in json.loads(value).items()}
    for location_id, week in weeks.items():
        hours.check_target(location_id, week, target_hours)
    return weeks


def _languages(value):
    languages = tuple(dict.fromkeys(code.strip().lower() for code in value.split(",") if code.strip()))
    unknown = [code for code in languages if code not in SUPPORTED_LANGUAGES]
    if not languages or unknown:
        raise ConfigError("LANGUAGES", f"{(unknown or [value])[0]!r} is not a language with a catalogue; use "
                                       f"{', '.join(SUPPORTED_LANGUAGES)} (the default first), e.g. en,es")
    return languages


def _reply_to(value):
    if not value:
        return ""
    try:
        return _mail_from(value)
    except ConfigError:
        raise ConfigError("CONFIRMATION_REPLY_TO", f"{value!r} is not a plain ASCII e-mail address") from None


# IANA's region zones are Area/Location in these areas; the rest are links kept for old systems (US/Eastern) and
# fixed offsets (EST, UTC, Etc/GMT+5) that never change their clocks for summer time.
_REGION_AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian",
                 "Pacific")


def _timezone(value):
    try:
        zone = ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("CLINIC_TIMEZONE", f"{value!r} is not an IANA time zone such as America/New_York") from None
    if value.split("/")[0] not in _REGION_AREAS or "/" not in value:
        raise ConfigError("CLINIC_TIMEZONE", f"{value!r} is not a region's time zone: use the clinic's, such as "
                                             "America/New_York (a fixed offset such as EST keeps no summer time, "
                                             "so due times would be an hour off half the year)")
    return zone


def _phone_region(value):
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError("DEFAULT_PHONE_REGION", f"{value!r} is not a two-letter region code such as US")
    return value


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origins(value):
    origins = tuple(dict.fromkeys(_origin(o.strip()) for o in value.split(",") if o.strip()))
    if not origins:
        raise ConfigError("ALLOWED_ORIGINS", "name at least one origin")
    return origins


def _shown(url):
    """A URL fit for an error message and the log: a user name or password in it is masked."""
    return re.sub(r"//[^/?#]*@", "//***@", url)


def _origin(entry):
    """An origin as a browser sends it: scheme and host in lower case, no default port, nothing after."""
    problem = ConfigError("ALLOWED_ORIGINS", f"{_shown(entry)!r} is not an origin such as https://www.example-clinic.com "
                                             "(scheme and host only: no path, query, wildcard or user)")
    try:
        parts = urlsplit(entry[:-1] if entry.endswith("/") else entry)
        port = parts.port
    except ValueError:
        raise problem from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if (scheme not in _DEFAULT_PORTS or not host or "*" in entry or parts.username is not None
            or parts.path or parts.query or parts.fragment or "#" in entry or "?" in entry):
        raise problem
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


def _url(name, value):
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"{value!r} is not an absolute http(s) URL")
    return value


# Every alert carries a link to the request: base URL, "/staff/requests/" and a 24-character id.
# An SMS alert keeps that link whole in its second segment (153 GSM characters).
MAX_BASE_URL = 100


def _base_url(value):
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment \
            or not re.fullmatch(r"(/[A-Za-z0-9._~-]+)*/?", parts.path):
        raise ConfigError("PUBLIC_BASE_URL", f"{_shown(value)!r} is not the API's base URL, e.g. "
                                             "https://api.clinic.example or "
                                             "https://abc123.execute-api.us-east-1.amazonaws.com/api")
    if not value.isascii() or "@" in parts.netloc:
        raise ConfigError("PUBLIC_BASE_URL", f"{_shown(value)!r} must be plain ASCII with no user name or "
                                             "password (a Unicode domain in Punycode, xn--...)")
    base = _as_browsers_send_it(parts).rstrip("/")
    length = len(base) + sum(base.count(char) for char in "~[]")  # each takes two GSM-7 septets in an SMS
    if length > MAX_BASE_URL:
        raise ConfigError("PUBLIC_BASE_URL", f"{value!r} is {length} characters (~, [ and ] count twice); at "
                                             f"most {MAX_BASE_URL} keep the link whole in every alert, SMS included")
    return base


DEFAULT_PORTS = {"http": 80, "https": 443}


def _as_browsers_send_it(parts):
    """Scheme and host in lower case and no default port, as a browser's Origin header has them: the
    inbox compares the two, and https://API.clinic.example:443 would otherwise refuse every change."""
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("PUBLIC_BASE_URL", f"{parts.geturl()!r} has a port that is not a number from 0 to 65535") \
            from None
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = "" if port is None or port == DEFAULT_PORTS[parts.scheme] else f":{port}"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _mail_from(value):
    from email_validator import EmailNotValidError, validate_email

    # SES takes only 7-bit ASCII addresses (no SMTPUTF8); a Unicode domain must be Punycode.
    try:
        address = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ConfigError("MAIL_FROM", f"{value!r} is not a plain ASCII e-mail address such as "
                                       "appointments@clinic.example (a verified SES identity)") from None
    return address.ascii_email


def _minutes(value):
    if not re.fullmatch(r"\d{1,4}", value) or not 5 <= int(value) <= 720:
        raise ConfigError("STAFF_SESSION_IDLE_MINUTES", f"{value!r} is not a whole number of minutes from 5 to 720")
    return int(value)


def _whole(name, value, default, low, high, unit):
    value = value.strip()
    if not value:
        return default
    if not re.fullmatch(r"\d{1,4}", value) or not low <= int(value) <= high:
        raise ConfigError(name, f"{value!r} is not a whole number of {unit} from {low} to {high}")
    return int(value)


def _choice(name, value, choices):
    if value not in choices:
        raise ConfigError(name, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _retention(value):
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= 3650:
        raise ConfigError("RETENTION_DAYS", f"{value!r} is not a whole number of days from 1 to 3650")
    return days


def _consent_versions(value):
    """The current version, then any earlier ones still accepted (a page opened before the change)."""
    versions = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not versions or any(len(v) > 64 for v in versions):
        raise ConfigError("CONSENT_VERSION", "keep each version short (at most 64 characters), e.g. 2026-11-01, "
                                             "the current one first")
    return versions


def _secret_id(value):
    if not _SECRET_ID.match(value):
        raise ConfigError("DEDUPE_KEY_SECRET", "expected a Secrets Manager secret's ARN or name")
    return value
