"""The form page as rendered from the settings (no browser, no AWS)."""
import hashlib
import html
import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from chalicelib.core.config import Settings
from chalicelib.intake import page
from chalicelib.intake.models import REASON_LABELS, REASONS, TIME_LABELS, TIMES
from tests.conftest import STAGE_ENV
from tools.resources import ROOT, stage_environment

SPEC_FIELDS = {
    "first_name", "last_name", "email", "phone", "location", "preferred_contact", "new_patient", "reason",
    "preferred_date", "preferred_time", "has_referral", "insurance", "message", "contact_consent",
    "sms_consent", "website", "form_token", "language",
}
# The consent wording each CONSENT_VERSION in use stands for. New wording, new version, new line.
# Each language's wording of a version, pinned: changing any of them needs a new version.
CONSENT_WORDING = {
    "2026-11-01": {
        "en": "49bf6ce4be832c4138b8050835642190aca77ad50f4265343064cffb31d367c9",
        "es": "51a7e4cb36929a449e4b48b6c50dec64c7852eb1ccc39b1da220749b122b16b7",
    },
    # Spanish: "se comunique conmigo acerca de… los datos que he proporcionado"; "Dar su consentimiento no es
    # condición para recibir atención médica". English unchanged.
    "2026-12-06": {
        "en": "49bf6ce4be832c4138b8050835642190aca77ad50f4265343064cffb31d367c9",
        "es": "774a9f36d4d8e0ea61f1ed94e35e14f7d22972776aa9cb769eaeea57d839d22b",
    },
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


@pytest.mark.parametrize("language", ["en", "es"])
def test_changing_the_consent_wording_needs_a_new_consent_version(language):
    from chalicelib.core.i18n import translate

    wording = "\n".join(translate(text, language) for text in (page.CONSENT_TEXT, page.SMS_CONSENT_TEXT,
                                                                page.SMS_DISCLOSURE))
    digest = hashlib.sha256(wording.encode()).hexdigest()
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())

    for stage in config["stages"]:
        env = stage_environment(stage)
        version = env["CONSENT_VERSION"].split(",")[0]
        if language not in env.get("LANGUAGES", "en"):
            continue
        assert CONSENT_WORDING.get(version, {}).get(language) == digest, (
            f"stage {stage!r}: the {language} consent wording is not the one CONSENT_VERSION {version!r} stands "
            "for. When any language's wording changes, give CONSENT_VERSION a new value and record every "
            "language's wording in CONSENT_WORDING."
        )
    shown = page.form_page(settings(LANGUAGES="en,es"), language=language)
    for text in (page.CONSENT_TEXT, page.SMS_CONSENT_TEXT, page.SMS_DISCLOSURE):
        assert html.escape(translate(text, language)) in shown


def test_the_form_carries_the_consent_version_it_shows():
    controls = Controls(page.form_page(settings(CONSENT_VERSION="2026-12-01,2026-11-01")))
    (hidden,) = [c for c in controls.controls if c.get("name") == "consent_version"]
    assert (hidden["type"], hidden["value"]) == ("hidden", "2026-12-01")



# --- languages ------------------------------------------------------------------------------------

def spanish_page():
    return page.form_page(settings(LANGUAGES="en,es"), "A" * 54, language="es")


def test_the_spanish_page_says_so_and_offers_english():
    text = spanish_page()

    assert '<html lang="es">' in text
    assert '<input type="hidden" name="language" value="es">' in text
    assert '<a href="?lang=en" hreflang="en" lang="en">English</a>' in text
    assert '<nav class="language-switch" aria-label="Idioma">' in text
    assert "<h1>Solicitar una cita</h1>" in text
    assert "(obligatorio)" in text and "(required)" not in text
    assert '<a href="?lang=es" hreflang="es" lang="es">Español</a>' in page.form_page(settings(LANGUAGES="en,es"))


def test_every_label_option_and_button_of_the_spanish_page_is_spanish():
    text = spanish_page()
    english = ["First name", "Last name", "Phone call", "Choose a clinic", "Back pain", "Morning", "Send request",
               "Consent wording version", "About you", "I have a referral", "Language help"]
    assert not [words for words in english if words in text]
    assert "Dolor de espalda" in text and "Enviar solicitud" in text and "Mañana" in text


def test_the_script_gets_its_messages_in_the_pages_language():
    import json as json_module

    found = re.search(r'data-messages="([^"]*)"', spanish_page())
    messages = json_module.loads(html.unescape(found.group(1)))
    assert messages["sending"] == "Enviando su solicitud…"
    assert messages["summaryMany"] == "Hay {n} problemas en su solicitud"


def test_the_page_says_that_language_help_is_available_with_the_locations_phones():
    text = spanish_page()
    assert "Ofrecemos ayuda con el idioma sin costo" in text
    assert "+1 212-555-0100" in text


def test_the_english_page_also_says_in_spanish_that_language_help_is_available():
    """Catches the notice in the page's language only: a Spanish reader sent to the English page did not learn
    that help is there (Section 1557 notices carry a tagline in each language)."""
    english = page.form_page(settings(LANGUAGES="en,es"))

    assert ('<p class="language-help" lang="es">Atención: si habla español, tiene a su disposición servicios '
            "gratuitos de asistencia lingüística. Llámenos y pida un intérprete.</p>") in english
    assert english.index("Language help is available free of charge") < english.index("si habla español")
    assert 'lang="en">Attention' not in spanish_page() and "if you speak" not in spanish_page()
    assert "si habla español" not in page.form_page(settings(LANGUAGES="en"))


def test_the_spanish_page_speaks_us_spanish_and_its_consent_says_what_the_english_says():
    text = spanish_page()
    for words in ("Acepto que la clínica se comunique conmigo acerca de esta solicitud de cita, usando los datos que "
                  "he proporcionado.",
                  "Dar su consentimiento no es condición para recibir atención médica.",
                  "Accidente de auto", "Tengo un referido de un médico", "Horario preferido",
                  "Soy paciente nuevo/a en esta clínica"):
        assert words in text, words
    found = re.search(r'data-messages="([^"]*)"', text)
    messages = json.loads(html.unescape(found.group(1)))
    assert "haga clic en «Enviar solicitud»" in messages["retry"] and "pulse" not in messages["retry"]
    assert messages["reference"] == "Su número de referencia: "


def test_with_one_language_there_is_no_switch():
    assert "language-switch" not in page.form_page(settings(LANGUAGES="en"))


def test_the_thank_you_page_in_spanish():
    text = page.thanks_page("es")
    assert '<html lang="es">' in text and "<h1>Gracias</h1>" in text and 'href="./?lang=es"' in text
    assert page.thanks_headers()["Vary"] == "Accept-Language"
