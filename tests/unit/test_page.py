"""The form page as rendered from the settings (no browser, no AWS)."""
import hashlib
import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

from chalicelib.core.config import Settings
from chalicelib.intake import page
from chalicelib.intake.models import REASON_LABELS, REASONS, TIME_LABELS, TIMES
from tests.conftest import STAGE_ENV
from tools.resources import ROOT, stage_environment

SPEC_FIELDS = {
    "first_name", "last_name", "email", "phone", "location", "preferred_contact", "new_patient", "reason",
    "preferred_date", "preferred_time", "has_referral", "insurance", "message", "contact_consent",
    "sms_consent", "website", "form_token",
}
# The consent wording each CONSENT_VERSION in use stands for. New wording, new version, new line.
CONSENT_WORDING = {
    "2026-11-01": "49bf6ce4be832c4138b8050835642190aca77ad50f4265343064cffb31d367c9",
}


class Controls(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.controls, self.labels, self.urls = [], set(), []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **attrs})
        if tag == "label":
            self.labels.add(attrs.get("for"))
        for name in ("href", "src", "action"):
            if name in attrs:
                self.urls.append(attrs[name])


def settings(**env):
    return Settings.from_env({**STAGE_ENV, **env})


def test_every_field_of_the_spec_is_on_the_form_with_a_label():
    controls = Controls(page.form_page(settings()))

    names = {control.get("name") for control in controls.controls}
    assert names == SPEC_FIELDS | {"consent_version"}
    for control in controls.controls:
        if control.get("type") != "hidden":
            assert control["id"] in controls.labels, control


def test_locations_come_from_config_and_are_escaped():
    locations = {"downtown": "Tom & Jerry's <Clinic>", "north": '"Quoted" North'}
    text = page.form_page(settings(CLINIC_LOCATIONS=json.dumps(locations)))

    assert '<option value="downtown">Tom &amp; Jerry&#x27;s &lt;Clinic&gt;</option>' in text
    assert '<option value="north">&quot;Quoted&quot; North</option>' in text
    assert "<Clinic>" not in text


def test_consent_version_is_shown_and_escaped():
    text = page.form_page(settings(CONSENT_VERSION="v2<script>"), '"><script>')
    assert '"><script>' not in text

    assert "Consent wording version v2&lt;script&gt;." in text
    assert "<script>" not in text.replace('<script src="', "")


def test_reasons_and_times_are_the_models_choices_in_order():
    controls = Controls(page.form_page(settings())).controls
    assert list(REASON_LABELS) == list(REASONS)
    assert list(TIME_LABELS) == list(TIMES)
    assert {c["value"] for c in controls if c.get("name") == "preferred_contact"} == {"phone", "email", "text"}


def test_date_limits_are_today_to_180_days_in_the_clinics_time_zone():
    # 03:00 UTC on 25 November is still 24 November in New York.
    text = page.form_page(settings(), now=datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc))

    assert 'min="2026-11-24"' in text
    assert 'max="2027-05-23"' in text


def test_the_page_carries_its_form_token_in_a_hidden_field_and_no_submission_id():
    text = page.form_page(settings(), "a" * 54)
    assert '<input type="hidden" name="form_token" value="' + "a" * 54 + '">' in text
    assert "submission_id" not in text  # the token's nonce stands in for it


def test_urls_are_relative_so_the_page_works_under_a_stage_prefix():
    urls = Controls(page.form_page(settings())).urls

    assert "appointments" in urls
    for url in urls:
        assert not url.startswith(("/", "http:", "https:", "//")), url


def test_the_stage_root_without_its_slash_is_sent_to_the_slash():
    assert page.slash_redirect("/api") == "/api/"
    assert page.slash_redirect("/api/") is None
    assert page.slash_redirect("/") is None
    assert page.slash_redirect(None) is None
    assert page.slash_redirect("//evil.example") is None


def test_the_policy_allows_only_this_origin_and_the_thank_you_page():
    policy = page.form_headers(settings(THANK_YOU_URL="https://www.example-clinic.com/thanks?from=form"))[
        "Content-Security-Policy"
    ]

    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe" not in policy
    assert "form-action 'self' https://www.example-clinic.com;" in policy
    assert "frame-ancestors 'none'" in policy


def test_assets_are_versioned_by_content_and_cached_long_only_when_versioned():
    body, headers = page.asset("form.js")
    version = hashlib.sha256(body.encode()).hexdigest()[:12]

    assert page.asset_url("form.js") == f"form.js?v={version}"
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Cache-Control"] == "public, max-age=300"
    assert page.asset("form.js", version)[1]["Cache-Control"] == "public, max-age=31536000, immutable"
    assert page.asset("form.js", "stale")[1]["Cache-Control"] == "public, max-age=300"
    assert page.asset("form.css")[1]["Content-Type"].startswith("text/css")


def test_changing_the_consent_wording_needs_a_new_consent_version():
    wording = "\n".join([page.CONSENT_TEXT, page.SMS_CONSENT_TEXT, page.SMS_DISCLOSURE])
    digest = hashlib.sha256(wording.encode()).hexdigest()
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())

    for stage in config["stages"]:
        version = stage_environment(stage)["CONSENT_VERSION"]
        assert CONSENT_WORDING.get(version) == digest, (
            f"stage {stage!r}: the consent wording is not the one CONSENT_VERSION {version!r} stands for. "
            "When the wording changes, give CONSENT_VERSION a new value and record it in CONSENT_WORDING."
        )


def test_the_form_carries_the_consent_version_it_shows():
    controls = Controls(page.form_page(settings(CONSENT_VERSION="2026-12-01,2026-11-01")))
    (hidden,) = [c for c in controls.controls if c.get("name") == "consent_version"]
    assert (hidden["type"], hidden["value"]) == ("hidden", "2026-12-01")
