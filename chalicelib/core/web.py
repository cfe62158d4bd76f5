"""HTTP translation: reading bodies, content negotiation, CORS and error answers."""
import functools
import json
import re
import time
import uuid
from decimal import Decimal
from urllib.parse import parse_qsl

from chalice import Response

from . import logs
from .i18n import N_
from .errors import (
    AppError, ConfigError, Forbidden, InvalidBody, PayloadTooLarge, StorageUnavailable, Unauthorized,
    UnsupportedMediaType,
)

MAX_BODY_BYTES = 16 * 1024
# US-ASCII is a subset of UTF-8: a body declared so reads the same.
UTF8_CHARSETS = ("utf-8", "utf8", "us-ascii", "ascii")
MAX_FORM_FIELDS = 100
JSON_TYPE = "application/json"
FHIR_TYPE = "application/fhir+json"
FORM_TYPE = "application/x-www-form-urlencoded"
ALLOWED_HEADERS = "Content-Type, Idempotency-Key"

log = logs.get_logger(__name__)


def media_type_of(header):
    if not header:
        return None, {}
    media_type, *rest = header.split(";")
    params = {}
    for part in rest:
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), params


def body_text(raw_body, too_large):
    raw_body = raw_body or b""
    if len(raw_body) > MAX_BODY_BYTES:
        raise too_large
    try:
        return raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidBody(N_("The request body is not valid UTF-8.")) from None


def json_object(text, not_an_object):
    try:
        # A byte-order mark is allowed before JSON (RFC 8259 §8.1: a reader may ignore it).
        data = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant, parse_int=_integer)
    except (ValueError, RecursionError):
        raise InvalidBody(N_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise InvalidBody(not_an_object)
    return data


def _reject_constant(name):
    raise ValueError(name)


def _integer(digits):
    # Python refuses int() of more than 4,300 digits; such a number in a field nobody reads
    # must not turn the whole body away. No field of the form is a number anyway.
    return int(digits) if len(digits) <= 100 else Decimal(digits)


def _prefers(accept, wanted, over):
    """True when `accept` gives one of the `wanted` media types a higher q than any of `over` (and above 0)."""
    wanted_q = other_q = 0.0
    for part in (accept or "").split(","):
        media_type, params = media_type_of(part)
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if media_type in wanted:
            wanted_q = max(wanted_q, q)
        elif media_type in over:
            other_q = max(other_q, q)
    return wanted_q > 0 and wanted_q > other_q


def wants_html(accept):
    """True when the client (a browser's plain form post) prefers text/html over JSON."""
    return _prefers(accept, ("text/html", "application/xhtml+xml"), (JSON_TYPE,))


def wants_fhir(accept):
    """True when the client prefers application/fhir+json over plain JSON (which stays the default)."""
    return _prefers(accept, (FHIR_TYPE,), (JSON_TYPE, "application/*", "*/*"))


def cors_headers(origin, allowed_origins, preflight=False):
    if not origin or origin.rstrip("/") not in allowed_origins:
        return {"Vary": "Origin"}
    headers = {
        "Access-Control-Allow-Origin": origin.rstrip("/"),
        "Vary": "Origin",
        "Access-Control-Expose-Headers": "Retry-After",
    }
    if preflight:
        headers.update({
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
        })
    return headers


def json_response(status, body, headers=None):
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def fhir_response(status, resource, headers=None):
    return Response(
        body=json.dumps(resource, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": f"{FHIR_TYPE}; charset=utf-8", **(headers or {})},
    )


def html_response(status, page, headers=None):
    return Response(
        body=page, status_code=status, headers={"Content-Type": "text/html; charset=utf-8", **(headers or {})}
    )


def empty_response(status, headers=None):
    return Response(body="", status_code=status, headers=headers or {})


def redirect(location):
    return Response(body="", status_code=303, headers={"Location": location})


STATUS = {
    "validation_failed": 422,
    "invalid_body": 400,
    "unsupported_media_type": 415,
    "payload_too_large": 413,
    "idempotency_conflict": 409,
    "conflict": 409,
    "service_unavailable": 503,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "server_misconfigured": 500,
    "internal_error": 500,
}


def error_response(error: AppError, render_page=None):
    """The answer to a domain error: its JSON body, or the page `render_page(error)` makes of it."""
    status = STATUS.get(error.code, 500)
    headers = {}
    if isinstance(error, StorageUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="staff"'
    if render_page is not None:
        return html_response(status, render_page(error), headers)
    body = {"error": error.code, "message": error.message}
    fields = getattr(error, "fields", None)
    if fields is not None:
        body["fields"] = fields
    return json_response(status, body, headers)


def endpoint(route, current_request, allowed_origins=lambda: (), *, authenticate=None, role=None,
             headers=None, error_page=None):
    """Wrap a view: request id, CORS, error answers and one access log line per request.

    With `authenticate` (request -> staff member, or raise Unauthorized), the caller is checked
    before the view runs: a member who may not act as `role` gets a 403, the view gets
    `staff=`, and the access line names the staff member as `actor`. With `error_page`
    ((error, request) -> Response), errors are answered by it (the form's page for a browser's
    plain post, or the staff inbox's own pages); without it, by the JSON error body.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            request = current_request()
            started = time.perf_counter()
            token = logs.request_id.set(_request_id(request))
            outcome = "ok"
            staff = None
            try:
                if authenticate is None:
                    response, outcome = view(*args, **kwargs)
                else:
                    staff = authenticate(request)
                    if role and not staff.may(role):
                        raise Forbidden(f"Your role does not allow this: it needs the {role} role.")
                    response, outcome = view(*args, staff=staff, **kwargs)
            except ConfigError as error:
                outcome = error.code
                log.error("configuration error", extra={"event": "config_error", "setting": error.setting,
                                                        "reason": error.reason})
                response = _answer(error, request, error_page)
            except AppError as error:
                outcome = error.code
                if getattr(error, "fields", None):
                    log.info("validation failed", extra={"event": "validation_failed", "fields": sorted(error.fields)})
                response = _answer(error, request, error_page)
            except Exception as error:  # the last line of defence: never a stack trace to the caller
                outcome = "internal_error"
                log.error("unhandled error", extra={"event": "unhandled_error", "error_type": type(error).__name__})
                response = _answer(AppError(), request, error_page)
            try:
                origins = allowed_origins()
            except ConfigError:
                origins = ()
            varies = response.headers.get("Vary")  # a page's own (Accept-Language) is kept beside Origin
            response.headers.update(cors_headers(request.headers.get("origin"), origins))
            if varies and varies != "Origin":
                response.headers["Vary"] = f"{varies}, Origin"
            response.headers.update(headers or {})
            line = {
                "event": "request",
                "route": route,
                "status": response.status_code,
                "outcome": outcome,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            if staff is not None:
                line["actor"] = staff.name
                line.update({name: value for name, value in kwargs.items() if _REQUEST_ID.fullmatch(str(value))})
            log.info("request", extra=line)
            logs.request_id.reset(token)
            return response

        return wrapper

    return decorate


def _answer(error, request, error_page):
    if error_page is not None:
        try:
            return error_page(error, request)
        except Exception as failure:  # rendering the error page failed: fall back to the plain answer
            log.error("error page failed", extra={"event": "unhandled_error", "error_type": type(failure).__name__})
    return error_response(error)


# Path parameters are logged only when they have the shape of our ids: a mistyped URL could hold anything.
_REQUEST_ID = re.compile(r"^[a-z2-7]{24}$")
# Staff answers carry patient data: no cache anywhere may keep them, and no search engine index them.
STAFF_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
# The patient's page (visits.page): its link is the key to it, so no cache keeps it, no search engine indexes it,
# no site it links to learns its address, and nothing but its own CSS and a post to itself may run on it.
PATIENT_PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src data:; form-action 'self'; "
                                "base-uri 'none'; frame-ancestors 'none'"),
}


def staff_endpoint(route, current_request, authenticate, role="staff"):
    """A staff route: authenticated first, JSON errors only (never the form's HTML page), nothing cached.

    No CORS origin is granted, whatever ALLOWED_ORIGINS says: the staff API is for staff tools,
    not for scripts on the clinic's website, so browsers keep other sites' scripts out of it.
    """
    return endpoint(route, current_request, lambda: (), authenticate=authenticate, role=role,
                    headers=STAFF_HEADERS)


def read_json_object(headers, raw_body):
    """A JSON object body (a staff change), or the matching AppError."""
    media_type, params = media_type_of(headers.get("content-type"))
    if media_type != JSON_TYPE or params.get("charset", "utf-8").lower() not in UTF8_CHARSETS:
        raise UnsupportedMediaType("Send the change as application/json in UTF-8.")
    text = body_text(raw_body, PayloadTooLarge("The request is too large: a note can be at most 1000 characters."))
    return json_object(text, 'The request body must be a JSON object, e.g. {"status": "contacted"}.')


def read_form(headers, raw_body):
    """A URL-encoded form post (a staff inbox page) as {name: value}, or the matching AppError."""
    return dict(read_form_pairs(headers, raw_body))


def read_form_pairs(headers, raw_body):
    """A URL-encoded form post as (name, value) pairs in order: a group of checkboxes sends one name many times."""
    media_type, params = media_type_of(headers.get("content-type"))
    if media_type != FORM_TYPE or params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("Send the form as application/x-www-form-urlencoded in UTF-8.")
    text = body_text(raw_body, PayloadTooLarge())
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_FORM_FIELDS)
    except (ValueError, UnicodeDecodeError):
        raise InvalidBody("The form could not be read as UTF-8 URL-encoded fields.") from None
    return pairs


def query_lists(request):
    """The query string as {name: [values]} (a name may be given more than once)."""
    params = request.query_params or {}
    return {name: list(params.getlist(name)) if hasattr(params, "getlist") else [params[name]] for name in params}


def csv_response(text, filename, next_cursor=None):
    headers = {"Content-Type": "text/csv; charset=utf-8",
               "Content-Disposition": f'attachment; filename="{filename}"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    return Response(body=text, status_code=200, headers=headers)


def _request_id(request):
    context = getattr(request, "context", None) or {}
    return context.get("requestId") or str(uuid.uuid4())
