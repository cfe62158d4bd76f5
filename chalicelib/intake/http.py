"""The form's HTTP: a POST body as the form's fields, and the readable page a plain post gets on an error."""
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..core import web
from ..core.config import SUPPORTED_LANGUAGES, get_settings
from ..core.errors import AppError, InvalidBody, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from ..core.i18n import N_, translate
from .languages import choose as choose_language
from .models import BOOLEAN_FIELDS, LABELS

_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


@dataclass(frozen=True)
class Submission:
    fields: dict
    idempotency_key: object
    key_field: str


def read_submission(headers, raw_body):
    """Turn a POST body into field values, or raise the matching AppError."""
    media_type, params = web.media_type_of(headers.get("content-type"))
    if media_type not in (web.JSON_TYPE, web.FORM_TYPE):
        raise UnsupportedMediaType()
    if params.get("charset", "utf-8").lower() not in web.UTF8_CHARSETS:
        raise UnsupportedMediaType(N_("Send the form in UTF-8 (charset=utf-8)."))
    text = web.body_text(raw_body, PayloadTooLarge())
    fields = (
        web.json_object(text, N_("The request body must be a JSON object with the form's fields."))
        if media_type == web.JSON_TYPE else _form_fields(text)
    )
    header_key = (headers.get("idempotency-key") or "").strip()
    if header_key:  # an empty header counts as absent
        return Submission(fields, header_key, "Idempotency-Key")
    body_key = fields.get("submission_id")
    if isinstance(body_key, str) and not body_key.strip():
        body_key = None
    return Submission(fields, body_key.strip() if isinstance(body_key, str) else body_key, "submission_id")


def _form_fields(text):
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=web.MAX_FORM_FIELDS
        )
    except (ValueError, UnicodeDecodeError):
        raise InvalidBody(N_("The form body could not be read as UTF-8 URL-encoded fields.")) from None
    fields = {}
    for name, value in pairs:
        if value.strip() or name == "form_token":  # an empty token was sent, and is invalid: not absent
            fields[name] = value
    if "language" in fields and fields["language"].strip().lower() not in _offered_languages():
        del fields["language"]  # a browser's form: another language falls back to the default, with no error
    for name in BOOLEAN_FIELDS:
        # An unticked checkbox is simply not sent: absent means false.
        fields[name] = _form_boolean(fields[name]) if name in fields else False
    return fields


def _form_boolean(value):
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return value


def error_answer(error, request):
    """A browser's plain post gets a page that lists what to fix; a script gets the JSON body. Both speak the
    request's language (its `language` field, else its Accept-Language), whatever the error."""
    as_page = web.wants_html(request.headers.get("accept"))
    language = answer_language(request)
    error = in_language(error, language)
    return web.error_response(error, (lambda failed: _page_of(failed, language)) if as_page else None)


def in_language(error, language):
    """The error as the patient reads it: its message, and a validation error's fields, in `language`. (The
    error was raised for this one answer: its message is set on it, not on its class.)"""
    if language == "en":
        return error
    if isinstance(error, ValidationFailed):
        error = ValidationFailed({name: translate(text, language) for name, text in error.fields.items()})
    error.message = translate(error.message, language)
    return error


def _offered_languages():
    try:
        return get_settings().languages
    except AppError:
        return SUPPORTED_LANGUAGES  # a broken setting still gets its 500 in the patient's language


def answer_language(request):
    """The language of an answer: the body's `language` field, else the page's ?lang=, else Accept-Language, else
    the default."""
    offered = _offered_languages()
    sent = None
    try:
        body = (request.raw_body or b"")[:web.MAX_BODY_BYTES].decode("utf-8")
        if body.lstrip().startswith("{"):
            value = json.loads(body).get("language")
        else:
            value = dict(parse_qsl(body, max_num_fields=web.MAX_FORM_FIELDS)).get("language")
        sent = value if isinstance(value, str) else None
    except (ValueError, UnicodeDecodeError, AttributeError, RecursionError):  # deeply nested JSON: no field to read
        pass
    if sent is None:
        sent = (getattr(request, "query_params", None) or {}).get("lang")
    return choose_language(offered, sent, request.headers.get("accept-language"))


def thank_you_url(url, language, ref=None):
    """The configured thank-you page (never one from the request) in the patient's language: `lang=` added to
    its query string, in place of any `lang=` it had, and `ref=`, the patient's page token (a signed id, nothing
    they typed); the rest of the URL stays exactly as configured."""
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&") if pair and pair.split("=", 1)[0] not in ("lang", "ref")]
    added = [f"lang={language}"] + ([f"ref={ref}"] if ref else [])
    return urlunsplit(parts._replace(query="&".join([*kept, *added])))


def receipt_body(receipt, settings, page_token):
    """The 201's body: the reference, by when the clinic will get in touch (UTC), and the patient's page."""
    from ..core.clock import utc_iso
    from ..core.patient_links import page_url

    return {"id": receipt.id, "status": receipt.status, "due_at": utc_iso(receipt.due_at),
            "page": page_url(settings, page_token)}


def _page_of(error, language="en"):
    if hasattr(error, "patient_message"):
        return error_page(translate(error.patient_message, language), title=error.patient_title, advice="",
                          language=language)
    return error_page(error.message, getattr(error, "fields", None), language=language)


BACK_ADVICE = N_("Use your browser’s Back button to return to the form: what you typed is still there.")
TITLE = N_("Please check your appointment request")


def error_page(message, fields=None, *, title=TITLE, advice=BACK_ADVICE, language="en"):
    from .page import TEMPLATES

    return TEMPLATES.render(
        "error.html", language, title=translate(title, language), message=message,
        advice=translate(advice, language),
        fields=[(translate(LABELS.get(name, name), language), text) for name, text in (fields or {}).items()],
    )
