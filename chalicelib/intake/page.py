"""The "Request an Appointment" page and its thank-you page, rendered from the settings.

Plain HTML, CSS and one small script from chalicelib/intake/static (no build step, nothing from
other hosts). Everything that comes from config is HTML-escaped.
"""
import html
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from ..core.pages import COMMON_HEADERS, StaticFiles
from .models import MAX_DAYS_AHEAD, REASON_LABELS, REASONS, TIME_LABELS, TIMES

STATIC = StaticFiles(Path(__file__).resolve().parent / "static")

# Changing these words changes what patients agree to: give CONSENT_VERSION a new value too
# (tests/unit/test_page.py pins the wording of each version in use).
CONSENT_TEXT = "I agree that the clinic may contact me about this appointment request, using the details I have given."
SMS_CONSENT_TEXT = "I agree to receive text messages about my appointment request."
SMS_DISCLOSURE = (
    "Message frequency varies. Message and data rates may apply. "
    "Reply STOP to stop receiving texts, or HELP for help. Agreeing is not a condition of receiving care."
)

_PLAIN_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
_HOST_SOURCE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def form_page(settings, form_token="", *, now=None):
    """The form, with the clinic's locations, today's date limits and a fresh form token (intake.spam): the
    token's nonce is also what makes the page's retries replays, as a submission id did."""
    today = (now or datetime.now(timezone.utc)).astimezone(settings.timezone).date()
    return STATIC.template("form.html").substitute(
        css_url=asset_url("form.css"),
        js_url=asset_url("form.js"),
        location_options=_options(settings.locations.items()),
        reason_options=_options((reason, REASON_LABELS[reason]) for reason in REASONS),
        time_options=_options((time, TIME_LABELS[time]) for time in TIMES),
        min_date=today.isoformat(),
        max_date=(today + timedelta(days=MAX_DAYS_AHEAD)).isoformat(),
        consent_text=html.escape(CONSENT_TEXT),
        sms_consent_text=html.escape(SMS_CONSENT_TEXT),
        sms_disclosure=html.escape(SMS_DISCLOSURE),
        consent_version=html.escape(settings.consent_version),
        form_token=html.escape(form_token),
    )


def slash_redirect(path):
    """Where to send a browser that asked for the page without its trailing slash, or None.

    Behind API Gateway the page is at https://…/STAGE/ but also answers at https://…/STAGE,
    where the page's relative URLs ("appointments", "form.js") would miss the stage.
    """
    if path and not path.endswith("/") and _PLAIN_PATH.match(path):
        return path + "/"
    return None


def thanks_page():
    return STATIC.template("thanks.html").substitute(css_url=asset_url("form.css"))


def form_headers(settings):
    # form-action also governs where the post may redirect to: the thank-you page's origin.
    form_action = " ".join(["'self'", *_origin(settings.thank_you_url)])
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
    )
    return {**COMMON_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "no-store"}


def thanks_headers():
    policy = "default-src 'none'; style-src 'self'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    return {**COMMON_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "public, max-age=300"}


def robots_txt(settings):
    """Crawlers may read the form; the staff side is none of their business (its pages say noindex too)."""
    return f"User-agent: *\nDisallow: {settings.public_path}/staff/\n"


def robots_headers():
    return {**COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "public, max-age=86400"}


def asset(name, version=None):
    """(body, headers) of form.css or form.js (see StaticFiles.asset)."""
    return STATIC.asset(name, version)


def asset_url(name):
    """Relative, so that it works at / locally and under the stage prefix behind API Gateway."""
    return f"{name}?v={STATIC.version(name)}"


def _options(choices):
    return "\n".join(
        f'      <option value="{html.escape(value)}">{html.escape(label)}</option>' for value, label in choices
    )


def _origin(url):
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [origin] if _HOST_SOURCE.match(origin) else []
