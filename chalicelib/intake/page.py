"""The "Request an Appointment" page and its thank-you page, rendered from the settings.

Plain HTML from chalicelib/intake/templates, with the CSS and one small script from chalicelib/intake/static (no
build step, nothing from other hosts). The templates escape every value they are given.
"""
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from ..core.i18n import N_, catalogue
from ..core.pages import COMMON_HEADERS, StaticFiles
from ..core.templates import Templates
from .languages import OWN_NAMES
from .models import MAX_DAYS_AHEAD, REASON_LABELS, REASONS, TIME_LABELS, TIMES

STATIC = StaticFiles(Path(__file__).resolve().parent / "static")

# Changing these words changes what patients agree to: give CONSENT_VERSION a new value too
# (tests/unit/test_page.py pins the wording of each version in use).
# (Each language's wording comes from its catalogue; a change to any of them needs a new version.)
CONSENT_TEXT = N_("I agree that the clinic may contact me about this appointment request, using the details I "
                  "have given.")
SMS_CONSENT_TEXT = N_("I agree to receive text messages about my appointment request.")
SMS_DISCLOSURE = N_(
    "Message frequency varies. Message and data rates may apply. "
    "Reply STOP to stop receiving texts, or HELP for help. Agreeing is not a condition of receiving care."
)
# The notice of language help, as other pages give it: a line in each patient language a page is not in, in that
# language ("Atención: si habla español, …"), as Section 1557 taglines do. English readers have the page's own.
LANGUAGE_HELP_TAGLINE = N_("Attention: if you speak English, language help is available to you free of charge. Call us "
                           "and ask for an interpreter.")
# What form.js says while sending and after; the page gives them in its language (data-messages).
SCRIPT_MESSAGES = {
    "sending": N_("Sending your request…"),
    "fix": N_("Please correct the highlighted fields, then send the form again."),
    "retry": N_("We could not save your request just now. What you typed is still here: please wait a few seconds, "
                "then press “Send request” to try again."),
    "offline": N_("We could not reach the clinic. Please check your internet connection, then press “Send request” "
                  "to try again. If your request did get through, sending it again will not create a second one."),
    "conflict": N_("This request was already sent with different details. To send a new request, please reload this "
                   "page."),
    "problem": N_("Something went wrong on our side. Please try again, or call the clinic."),
    "summaryOne": N_("There is 1 problem with your request"),
    "summaryMany": N_("There are {n} problems with your request"),
    "successTitle": N_("Thank you – your request has been sent"),
    "successNext": N_("The clinic will contact you soon, the way you asked, to arrange a time."),
    "successWhen": N_("The clinic will contact you the way you asked, by {when}, to arrange a time."),
    "pageIntro": N_("Your request has its own page: see where it stands, and tell the clinic if you no longer need it."),
    "pageLink": N_("Open your request’s page"),
    "reference": N_("Your reference: "),
}
_PLAIN_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
_HOST_SOURCE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
TEMPLATES = Templates(Path(__file__).resolve().parent / "templates")


def form_page(settings, form_token="", *, now=None, language="en"):
    """The form in `language`, with the clinic's locations, today's date limits and a fresh form token
    (intake.spam): the token's nonce is also what makes the page's retries replays, as a submission id did."""
    words = catalogue(language).gettext
    today = (now or datetime.now(timezone.utc)).astimezone(settings.timezone).date()
    script = {name: words(text) for name, text in SCRIPT_MESSAGES.items()}
    return TEMPLATES.render(
        "form.html", language,
        switch=[(code, OWN_NAMES[code]) for code in settings.languages if code != language],
        taglines=[(code, catalogue(code).gettext(LANGUAGE_HELP_TAGLINE))
                  for code in settings.languages if code not in (language, "en")],
        phones=[(settings.locations[place], phone)
                for place, phone in settings.location_phones.items() if place in settings.locations],
        script_messages=json.dumps(script, ensure_ascii=False),
        timezone=settings.timezone.key,
        css_url=asset_url("form.css"),
        js_url=asset_url("form.js"),
        locations=list(settings.locations.items()),
        reasons=[(reason, words(REASON_LABELS[reason])) for reason in REASONS],
        times=[(time, words(TIME_LABELS[time])) for time in TIMES],
        min_date=today.isoformat(),
        max_date=(today + timedelta(days=MAX_DAYS_AHEAD)).isoformat(),
        consent_text=words(CONSENT_TEXT),
        sms_consent_text=words(SMS_CONSENT_TEXT),
        sms_disclosure=words(SMS_DISCLOSURE),
        consent_version=settings.consent_version,
        form_token=form_token,
        token_max_age=settings.form_token_max_age_hours * 3600,
        min_fill=settings.min_fill_seconds,
    )


def page_language(settings, query_params, accept_language):
    """?lang= first, then Accept-Language, then the first of LANGUAGES (intake.languages)."""
    from .languages import choose

    return choose(settings.languages, (query_params or {}).get("lang"), accept_language)


def slash_redirect(path):
    """Where to send a browser that asked for the page without its trailing slash, or None.

    Behind API Gateway the page is at https://…/STAGE/ but also answers at https://…/STAGE,
    where the page's relative URLs ("appointments", "form.js") would miss the stage.
    """
    if path and not path.endswith("/") and _PLAIN_PATH.match(path):
        return path + "/"
    return None


def thanks_page(language="en", thanks=None, zone=None):
    """The thank-you page; with `thanks` (visits.thanks.Thanks), when the clinic will get in touch (in the clinic's
    `zone`) and the link to the patient's page."""
    from ..core.i18n import day_and_time

    return TEMPLATES.render("thanks.html", language, css_url=asset_url("form.css"),
                            when=day_and_time(thanks.due_at.astimezone(zone), language) if thanks else None,
                            page_url=thanks.page_url if thanks else None)


def form_headers(settings):
    # form-action also governs where the post may redirect to: the thank-you page's origin.
    form_action = " ".join(["'self'", *_origin(settings.thank_you_url)])
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
    )
    return {**COMMON_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "no-store", "Vary": "Accept-Language"}


def thanks_headers(personal=False):
    """`personal`: the page of one request (its `ref`): kept by nobody, never indexed, its link never passed on."""
    policy = "default-src 'none'; style-src 'self'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    if personal:
        return {**COMMON_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    # Its words follow the browser's Accept-Language: a shared cache keeps one copy per language.
    return {**COMMON_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "public, max-age=300",
            "Vary": "Accept-Language"}


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


def _origin(url):
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [origin] if _HOST_SOURCE.match(origin) else []
