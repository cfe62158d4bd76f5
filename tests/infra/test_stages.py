"""The stages in .chalice/config.json: dev for the laptop, prod safe by default."""
import re
from urllib.parse import urlsplit

from chalicelib.core.config import MAX_BASE_URL, Settings
from tools.resources import ROOT, stage_environment


def test_the_prod_stage_is_a_valid_configuration():
    Settings.from_env(stage_environment("prod"))


def test_prod_alerts_carry_no_personal_or_health_details_by_default():
    """Staff e-mail is the most common way clinic forms leak health data."""
    assert Settings.from_env(stage_environment("prod")).notify_detail == "minimal"


def test_prod_talks_only_to_https_origins():
    settings = Settings.from_env(stage_environment("prod"))
    assert all(urlsplit(origin).scheme == "https" for origin in settings.allowed_origins)
    assert urlsplit(settings.thank_you_url).scheme == "https"


def test_the_table_is_named_after_the_stack_as_the_stage_says(template):
    """Tools outside the stack find the table by the stage's name; `make deploy` names the stack so."""
    makefile = (ROOT / "Makefile").read_text()
    assert "STACK ?= appointments-$(STAGE)" in makefile
    assert template["Resources"]["AppointmentsTable"]["Properties"]["TableName"] == {"Fn::Sub": "${AWS::StackName}"}
    for stage in ("dev", "prod"):
        assert stage_environment(stage)["APPOINTMENTS_TABLE"] == f"appointments-{stage}"


def test_the_template_gives_the_functions_the_stack_s_table_and_topic_and_the_rest_as_configured(template):
    env = stage_environment("prod")
    assert "set-by-the-template" in env["NOTIFY_TOPIC_ARN"]  # the account is not known until deploy
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["APPOINTMENTS_TABLE"] == {"Ref": "AppointmentsTable"}
    assert variables["NOTIFY_TOPIC_ARN"] == {"Ref": "AlertsTopic"}
    assert variables["DEDUPE_KEY_SECRET"] == {"Ref": "DedupeKeySecret"}
    assert variables["WEBHOOK_QUEUE_URL"] == {"Ref": "WebhookQueue"}
    assert variables["NOTIFY_DETAIL"] == "minimal"
    from_the_stack = ("APPOINTMENTS_TABLE", "NOTIFY_TOPIC_ARN", "MAIL_FROM", "PUBLIC_BASE_URL", "DEDUPE_KEY_SECRET",
                      "MAIL_CONFIGURATION_SET", "STAFF_SESSION_IDLE_MINUTES", "SIGN_IN_QUEUE_URL", "WEBHOOK_QUEUE_URL")
    assert {name: value for name, value in variables.items() if isinstance(value, str)} == {
        name: value for name, value in env.items() if name not in from_the_stack}


def test_the_sender_and_public_url_are_stack_parameters(template):
    """The sender must be an SES identity of the account deployed to; the URL is known only once deployed."""
    assert "Default" not in template["Parameters"]["MailFrom"]
    assert "Default" not in template["Parameters"]["PublicBaseUrl"]
    assert template["Parameters"]["PublicBaseUrl"]["MaxLength"] == MAX_BASE_URL  # what the setting accepts
    # CloudFormation cannot lower-case a value: it refuses what a browser's Origin would not match.
    pattern = re.compile(template["Parameters"]["PublicBaseUrl"]["AllowedPattern"])
    for url in ("https://api.clinic.example", "https://abc.execute-api.us-east-1.amazonaws.com/api",
                "https://api.clinic.example:8443", "https://api.clinic.example:4430/api"):
        assert pattern.fullmatch(url), url
    for url in ("https://API.clinic.example", "https://api.clinic.example:443", "https://api.clinic.example:443/api",
                "http://api.clinic.example", "https://api.clinic.example/"):
        assert not pattern.fullmatch(url), url
    for function in ("APIHandler", "SendStaffAlerts", "SendConfirmations"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["MAIL_FROM"] == {"Ref": "MailFrom"}
        assert variables["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    idle = template["Parameters"]["StaffSessionIdleMinutes"]
    assert (idle["Default"], idle["MinValue"], idle["MaxValue"]) == (30, 5, 720)  # what the setting accepts
    assert template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"][
        "STAFF_SESSION_IDLE_MINUTES"] == {"Ref": "StaffSessionIdleMinutes"}
