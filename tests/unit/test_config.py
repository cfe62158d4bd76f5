"""Settings: read when first needed, every bad or missing value named in the error."""
import json
import subprocess
import sys

import pytest

from chalicelib.core.config import Settings
from chalicelib.core.errors import ConfigError
from tests.conftest import STAGE_ENV, captured_log_lines
from tools.resources import ROOT


def env_with(**changes):
    env = dict(STAGE_ENV)
    for name, value in changes.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    return env


def test_the_dev_stage_is_valid():
    settings = Settings.from_env(STAGE_ENV)
    assert list(settings.locations) == ["downtown", "northside", "lakeview"]
    assert settings.allowed_origins == ("http://localhost:8080", "http://127.0.0.1:8080")
    assert settings.timezone.key == "America/New_York"


OPTIONAL = {"VISIT_MINUTES", "REMINDER_HOURS_BEFORE", "SMS_REMINDERS", "STAFF_SESSION_IDLE_MINUTES", "CONFIRMATIONS", "CONFIRMATION_REPLY_TO", "RESPONSE_TARGET_HOURS",
            "CLINIC_CLOSED_DATES", "DIGEST_HOUR", "LANGUAGES"}


@pytest.mark.parametrize("name", sorted(set(STAGE_ENV) - OPTIONAL))
def test_a_missing_setting_is_named(name):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(**{name: None}))
    assert error.value.setting == name
    assert name in str(error.value)


@pytest.mark.parametrize("name, value", [
    ("APPOINTMENTS_TABLE", "no spaces allowed"),
    ("NOTIFY_TOPIC_ARN", "appointment-alerts"),
    ("CLINIC_LOCATIONS", "downtown"),
    ("CLINIC_LOCATIONS", "[]"),
    ("CLINIC_LOCATIONS", '{"Down Town": "Downtown"}'),
    ("CLINIC_LOCATIONS", '{"downtown": ""}'),
    ("CLINIC_TIMEZONE", "Mars/Olympus_Mons"),
    ("CLINIC_TIMEZONE", "../../etc/passwd"),
    ("CLINIC_TIMEZONE", "EST"),  # a fixed offset: summer due times an hour off
    ("CLINIC_TIMEZONE", "Etc/GMT+5"),
    ("CLINIC_TIMEZONE", "UTC"),
    ("CLINIC_TIMEZONE", "EST5EDT"),
    ("CLINIC_TIMEZONE", "US/Eastern"),
    ("DEFAULT_PHONE_REGION", "USA"),
    ("ALLOWED_ORIGINS", "clinic.example"),
    ("ALLOWED_ORIGINS", "https://clinic.example/form"),
    ("ALLOWED_ORIGINS", "https://clinic.example?x=1"),
    ("ALLOWED_ORIGINS", "https://*.clinic.example"),
    ("ALLOWED_ORIGINS", "*"),
    ("ALLOWED_ORIGINS", "ftp://clinic.example"),
    ("ALLOWED_ORIGINS", "https://user@clinic.example"),
    ("ALLOWED_ORIGINS", "https://clinic.example:99999"),
    ("THANK_YOU_URL", "/thanks"),
    ("NOTIFY_DETAIL", "everything"),
    ("RETENTION_DAYS", "forever"),
    ("RETENTION_DAYS", "0"),
    ("CONSENT_VERSION", "v" * 65),
    ("PUBLIC_BASE_URL", "api.clinic.example"),
    ("PUBLIC_BASE_URL", "https://api.clinic.example/?next=1"),
    ("PUBLIC_BASE_URL", "https://api.clinic.example/#staff"),
    ("PUBLIC_BASE_URL", "ftp://api.clinic.example"),
    ("PUBLIC_BASE_URL", "https://termine.praxis-müller.example"),
    ("PUBLIC_BASE_URL", "https://staff:hunter2@api.clinic.example"),
    ("PUBLIC_BASE_URL", "https://" + "a" * 85 + ".example"),  # 101 characters
    ("MAIL_FROM", "appointments"),
    ("MAIL_FROM", "citas.clínica@clinic.example"),
    ("STAFF_SESSION_IDLE_MINUTES", "4"),
    ("STAFF_SESSION_IDLE_MINUTES", "721"),
    ("STAFF_SESSION_IDLE_MINUTES", "half an hour"),
    ("MAIL_CONFIGURATION_SET", "require tls"),
    ("CONFIRMATIONS", "yes"),
    ("CONFIRMATION_RESPONSE_TIME", "within one business day"),  # gone: the due time says when
    ("LANGUAGES", "en,fr"),
    ("LANGUAGES", "english"),
    ("RESPONSE_TARGET_HOURS", "0"),
    ("RESPONSE_TARGET_HOURS", "a day"),
    ("DIGEST_HOUR", "24"),
    ("DIGEST_HOUR", "8am"),
    ("CLINIC_CLOSED_DATES", "2026-12-25,Christmas"),
    ("CLINIC_CLOSED_DATES", "2026-02-30"),
    ("CLINIC_CLOSED_DATES", "25/12/2026"),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": "08:00-12:00,11:00-18:00"}}}'),  # overlap
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": "18:00-08:00"}}}'),  # ends before it starts
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": "09:00-09:00"}}}'),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"monday": "08:00-18:00"}}}'),  # no such weekday
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": null, "sun": null}}}'),  # never open
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {}}}'),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": "8-18"}}}'),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": "08:00-24:30"}}}'),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": "25:00-26:00"}}}'),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": {"mon": 8}}}'),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "D", "hours": "weekdays"}}'),
    ("CONFIRMATION_REPLY_TO", "front desk"),
    ("CLINIC_LOCATIONS", '{"downtown": {"name": "Downtown", "fax": "1"}}'),
    ("CLINIC_LOCATIONS", '{"downtown": {"phone": "+1 212 555 0100"}}'),
    ("DEDUPE_KEY_SECRET", "arn:aws:s3:::a-bucket"),
    ("PUBLIC_BASE_URL", "ftp://staff:hunter2@api.clinic.example"),
    ("ALLOWED_ORIGINS", "https://staff:hunter2@clinic.example"),
])
def test_a_bad_setting_is_named_with_what_is_expected(name, value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(**{name: value}))
    assert error.value.setting == name
    assert error.value.reason
    assert "hunter2" not in error.value.reason  # the reason is logged: a URL's password is masked


def test_a_bad_setting_in_aws_is_a_logged_named_error_not_a_stack_trace(tmp_path, aws_credentials):
    from chalice.test import Client

    from app import app
    from chalicelib import wiring

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    config["stages"]["dev"]["environment_variables"]["CLINIC_TIMEZONE"] = "Nowhere/Special"
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    wiring.reset()
    try:
        with Client(app, stage_name="dev", project_dir=str(tmp_path)) as client:
            response = client.http.post("/appointments", headers={"Content-Type": "application/json"}, body="{}")
    finally:
        wiring.reset()
    assert response.status_code == 500
    assert json.loads(response.body)["error"] == "server_misconfigured"
    assert "Traceback" not in response.body.decode()
    assert "CLINIC_TIMEZONE" not in response.body.decode()  # details go to the log, not to the public
    logged = [json.loads(line) for line in captured_log_lines()]
    assert any(line.get("setting") == "CLINIC_TIMEZONE" and line["level"] == "ERROR" for line in logged)


def test_importing_the_app_builds_no_aws_client_and_reads_no_setting():
    """Cold start stays small, moto can start first, and `chalice package` imports without a stage."""
    code = (
        "import boto3, boto3.session\n"
        "def boom(*a, **k): raise SystemExit('an AWS client was built at import time')\n"
        "boto3.client = boto3.session.Session.client = boom\n"
        "import os\n"
        "for name in list(os.environ):\n"
        "    if name.isupper() and name not in ('PATH', 'HOME'): os.environ.pop(name)\n"
        "import app\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_staff_session_idle_timeout_defaults_to_30_minutes():
    assert Settings.from_env(env_with(STAFF_SESSION_IDLE_MINUTES=None)).session_idle_minutes == 30
    assert Settings.from_env(env_with(STAFF_SESSION_IDLE_MINUTES="5")).session_idle_minutes == 5
    assert Settings.from_env(env_with(STAFF_SESSION_IDLE_MINUTES="720")).session_idle_minutes == 720


@pytest.mark.parametrize("url, origin, path, secure", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000", "", False),
    ("https://api.clinic.example/", "https://api.clinic.example", "", True),
    ("https://abc.execute-api.us-east-1.amazonaws.com/api", "https://abc.execute-api.us-east-1.amazonaws.com",
     "/api", True),
])
def test_the_public_base_url_gives_the_origin_path_and_cookie_security(url, origin, path, secure):
    settings = Settings.from_env(env_with(PUBLIC_BASE_URL=url))
    assert (settings.public_origin, settings.public_path, settings.secure_cookies) == (origin, path, secure)


@pytest.mark.parametrize("given, base", [
    ("https://API.Clinic.example", "https://api.clinic.example"),
    ("https://api.clinic.example:443/api/", "https://api.clinic.example/api"),
    ("HTTPS://api.clinic.example:443", "https://api.clinic.example"),
    ("http://127.0.0.1:80", "http://127.0.0.1"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("https://api.clinic.example:8443/Api", "https://api.clinic.example:8443/Api"),  # a path keeps its case
    ("http://[::1]:8000", "http://[::1]:8000"),
])
def test_the_public_base_url_is_kept_as_a_browser_sends_its_origin(given, base):
    settings = Settings.from_env(env_with(PUBLIC_BASE_URL=given))
    assert settings.public_base_url == base
    assert settings.public_origin == base.removesuffix(settings.public_path)


def test_a_public_base_url_with_a_port_that_is_no_number_is_refused():
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(PUBLIC_BASE_URL="https://api.clinic.example:99999"))
    assert error.value.setting == "PUBLIC_BASE_URL"


def test_a_public_base_url_of_exactly_100_characters_is_taken_and_a_trailing_slash_does_not_count():
    url = "https://" + "a" * 84 + ".example"
    assert len(url) == 100
    assert Settings.from_env(env_with(PUBLIC_BASE_URL=url + "/")).public_base_url == url


def test_a_unicode_sender_domain_is_kept_as_punycode_for_ses():
    assert Settings.from_env(env_with(MAIL_FROM="citas@clínica.example")).mail_from == "citas@xn--clnica-4va.example"


@pytest.mark.parametrize("given, origin", [
    ("https://www.Clinic.example", "https://www.clinic.example"),
    ("HTTPS://clinic.example:443", "https://clinic.example"),
    ("http://clinic.example:80/", "http://clinic.example"),
    ("https://clinic.example:8443", "https://clinic.example:8443"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
])
def test_allowed_origins_are_written_as_browsers_send_them(given, origin):
    assert Settings.from_env(env_with(ALLOWED_ORIGINS=f" {given} ")).allowed_origins == (origin,)


def test_a_bad_origin_is_named_in_the_error():
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(ALLOWED_ORIGINS="https://clinic.example,https://clinic.example/form"))
    assert "https://clinic.example/form" in error.value.reason


def test_a_location_may_have_a_phone_people_can_dial():
    settings = Settings.from_env(env_with(CLINIC_LOCATIONS=json.dumps(
        {"downtown": {"name": "Downtown Clinic", "phone": "(212) 555-0100"}, "northside": "Northside Clinic"})))
    assert settings.locations == {"downtown": "Downtown Clinic", "northside": "Northside Clinic"}
    assert settings.location_phones == {"downtown": "+1 212-555-0100"}


def test_a_bad_location_phone_is_a_configuration_error_naming_the_location():
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(CLINIC_LOCATIONS=json.dumps(
            {"downtown": "Downtown Clinic", "lakeview": {"name": "Lakeview", "phone": "555-01"}})))
    assert error.value.setting == "CLINIC_LOCATIONS" and "'lakeview'" in error.value.reason


def test_confirmations_are_on_by_default_with_no_reply_to():
    settings = Settings.from_env(env_with(CONFIRMATIONS=None, CONFIRMATION_REPLY_TO=None))
    assert (settings.confirmations, settings.confirmation_reply_to) == (True, "")
    assert Settings.from_env(env_with(CONFIRMATIONS="off")).confirmations is False


def test_the_dev_stage_sends_confirmations():
    assert Settings.from_env(STAGE_ENV).confirmations is True


def test_response_times_default_to_8_business_hours_a_digest_at_8_and_no_holidays():
    settings = Settings.from_env(env_with(RESPONSE_TARGET_HOURS=None, DIGEST_HOUR=None, CLINIC_CLOSED_DATES=None))
    assert (settings.response_target_hours, settings.digest_hour, settings.closed_dates) == (8, 8, frozenset())


def test_each_location_has_its_hours_and_none_means_around_the_clock():
    settings = Settings.from_env(env_with(CLINIC_LOCATIONS=json.dumps({
        "downtown": {"name": "Downtown", "hours": {"mon": "08:00-12:00, 13:00-18:00", "sat": ["09:00-13:00"],
                                                   "sun": None}},
        "allday": "All Day Clinic",
    })))
    assert settings.location_weeks["downtown"] == (((480, 720), (780, 1080)), (), (), (), (), ((540, 780),), ())
    assert settings.location_weeks["allday"] is None


@pytest.mark.parametrize("hours, words", [
    ({"mon": "08:00-12:00,11:00-18:00"}, "overlap"),
    ({"mon": "18:00-08:00"}, "ends before it starts"),
    ({"mon": "08:00-08:00"}, "'08:00-08:00' is empty"),  # not "ends before it starts": it does not
    ({"funday": "08:00-18:00"}, "'funday' is not a weekday"),
    ({"mon": None}, "closed on every day of the week"),
])
def test_bad_hours_say_what_is_wrong_and_where(hours, words):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(CLINIC_LOCATIONS=json.dumps({"downtown": {"name": "D", "hours": hours}})))
    assert error.value.setting == "CLINIC_LOCATIONS"
    assert words in error.value.reason and "'downtown'" in error.value.reason


def test_languages_default_to_english_and_keep_their_order():
    assert Settings.from_env(env_with(LANGUAGES=None)).languages == ("en",)
    assert Settings.from_env(env_with(LANGUAGES="es, EN,es")).languages == ("es", "en")


@pytest.mark.parametrize("zone", ["EST", "MST", "HST", "Etc/GMT+5", "UTC", "EST5EDT", "US/Eastern"])
def test_a_fixed_offset_or_legacy_time_zone_is_refused_with_a_region_zone_suggested(zone):
    """Catches CLINIC_TIMEZONE read with ZoneInfo alone: EST loads, keeps no summer time, and every summer due
    time is an hour off."""
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(CLINIC_TIMEZONE=zone))
    assert error.value.setting == "CLINIC_TIMEZONE"
    assert repr(zone) in error.value.reason and "America/New_York" in error.value.reason


@pytest.mark.parametrize("zone", ["America/New_York", "America/Argentina/Buenos_Aires", "Europe/Madrid",
                                  "Pacific/Honolulu", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_region_time_zones_are_taken(zone):
    assert Settings.from_env(env_with(CLINIC_TIMEZONE=zone)).timezone.key == zone


def test_touching_ranges_are_taken():
    """Catches the overlap check refusing ranges that only touch (`second_start <= first_end`)."""
    settings = Settings.from_env(env_with(CLINIC_LOCATIONS=json.dumps(
        {"downtown": {"name": "Downtown", "hours": {"mon": "08:00-12:00,12:00-18:00"}}})))
    assert settings.location_weeks["downtown"][0] == ((480, 720), (720, 1080))


def test_a_target_no_request_could_meet_is_refused_naming_the_setting_and_the_location():
    """Catches a startup that accepts RESPONSE_TARGET_HOURS=720 for a location open 4 hours a week (every
    submission then failed for want of a due time); the largest target it can meet in a year is taken."""
    saturdays = json.dumps({"downtown": "Downtown", "saturdays": {"name": "S", "hours": {"sat": "09:00-13:00"}}})
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(CLINIC_LOCATIONS=saturdays, RESPONSE_TARGET_HOURS="720"))
    assert error.value.setting == "RESPONSE_TARGET_HOURS"
    assert "'saturdays'" in error.value.reason and "'downtown'" not in error.value.reason
    assert Settings.from_env(env_with(CLINIC_LOCATIONS=saturdays, RESPONSE_TARGET_HOURS="208")) \
        .response_target_hours == 208


def test_the_webhook_retries_default_to_the_standard_webhooks_schedule():
    assert Settings.from_env(STAGE_ENV).webhook_retry_seconds == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert sum(Settings.from_env(STAGE_ENV).webhook_retry_seconds) >= 24 * 3600


@pytest.mark.parametrize("value", ["1,1,1", "1,1,1,1,1,1,1,1", "5,300,1800,7200,18000,36000,43201", "a,b,c,d,e,f,g",
                                   "-1,1,1,1,1,1,1"])
def test_a_bad_webhook_schedule_is_named(value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(WEBHOOK_RETRY_SECONDS=value))
    assert error.value.setting == "WEBHOOK_RETRY_SECONDS"


def test_a_webhook_schedule_of_seven_waits_up_to_12_hours_less_a_visibility_timeout_will_do():
    env = env_with(WEBHOOK_RETRY_SECONDS="0,1,1,1,1,1,42840")
    assert Settings.from_env(env).webhook_retry_seconds == (0, 1, 1, 1, 1, 1, 42840)


@pytest.mark.parametrize("wait", [43200, 42841])
def test_a_wait_sqs_would_refuse_is_refused_at_start(wait):
    """SQS caps a message's visibility at 12 hours from its receive, and ChangeMessageVisibility comes after the
    receive (up to the queue's 360 s visibility timeout later): 43200 is always refused in AWS (moto lets it
    through), and the delivery then comes back after 6 minutes instead of its wait."""
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(WEBHOOK_RETRY_SECONDS=f"5,300,1800,7200,18000,36000,{wait}"))
    assert error.value.setting == "WEBHOOK_RETRY_SECONDS"


@pytest.mark.parametrize("value", ["https://sqs.us-east-1.amazonaws.com/123456789012/webhooks",
                                   "https://example.com/123456789012/webhooks.fifo"])
def test_the_webhook_queue_is_a_fifo_queue(value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env_with(WEBHOOK_QUEUE_URL=value))
    assert error.value.setting == "WEBHOOK_QUEUE_URL"


def test_no_stage_lets_webhooks_reach_this_computer():
    assert Settings.from_env(STAGE_ENV).webhook_loopback is False
    assert "WEBHOOK_LOOPBACK" not in json.dumps(json.loads((ROOT / ".chalice" / "config.json").read_text()))
