"""The OpenAPI 3.1 document, generated from Chalice's route table and the pydantic models.

Every route the app registers must have an entry in OPERATIONS (a test fails otherwise);
the schemas come from the models, so the document cannot drift from what is validated.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .core.web import STATUS
from .intake.models import AppointmentForm
from .staff.triage import DEFAULT_LIMIT, MAX_LIMIT, MAX_NOTE, STATUSES
from .webhooks.endpoints import EVENT_TYPES, MAX_URL

TITLE = "Appointment requests"
VERSION = "1.0.0"


class Receipt(BaseModel):
    id: str = Field(description="The request's reference, for the patient and for staff.")
    status: Literal["received"]
    due_at: str = Field(description="By when the clinic will get in touch (UTC, ISO-8601): RESPONSE_TARGET_HOURS "
                                    "opening hours after the request arrived. Show it in the clinic's time zone.",
                        json_schema_extra={"format": "date-time"})
    page: str = Field(description="The patient's own page for this request (a signed link, nothing personal in it): "
                                  "where it stands, and answers such as \"I no longer need this\".",
                      json_schema_extra={"format": "uri"})


class FormToken(BaseModel):
    form_token: str = Field(description="Put it in the form's hidden `form_token` field, and send it with the request.")
    min_fill_seconds: int = Field(description="A request sent sooner than this after the token was issued is "
                                              "kept as possible spam (too_fast).")
    max_age_seconds: int = Field(description="How long the token lasts (FORM_TOKEN_MAX_AGE_HOURS): fetch a new one "
                                             "before then, as form.js does for a page left open.")


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="A stable code, e.g. validation_failed.")
    message: str = Field(description="What happened and what to do, for a person.")
    fields: Optional[Dict[str, str]] = Field(
        default=None, description="Only for validation_failed: each failing field and what to fix."
    )


@dataclass(frozen=True)
class Response:
    description: str
    model: Optional[type] = None
    media_type: str = "application/json"
    headers: tuple = ()
    alternatives: tuple = ()  # (media type, JSON schema): what the same status answers to another Accept


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: dict
    request: Optional[type] = None
    request_media_types: tuple = ()
    parameters: tuple = ()
    tags: tuple = ()
    security: bool = False
    description: str = ""
    extra: dict = field(default_factory=dict)


def _error(code, description):
    headers = ("Retry-After",) if code == "service_unavailable" else ()
    return STATUS[code], Response(description, ErrorBody, headers=headers)


def _errors(*codes_and_descriptions):
    return dict(_error(code, text) for code, text in codes_and_descriptions)


_HTML = "text/html"
_FHIR = "application/fhir+json"
_FHIR_APPOINTMENT = {"type": "object", "description": "A FHIR R4 Appointment (hl7.org/fhir/R4/appointment.html).",
                     "required": ["resourceType", "id", "status", "participant"],
                     "properties": {"resourceType": {"const": "Appointment"}}}
_FHIR_OUTCOME = {"type": "object", "description": "A FHIR R4 OperationOutcome: issue code not-found.",
                 "required": ["resourceType", "issue"], "properties": {"resourceType": {"const": "OperationOutcome"}}}
FHIR_ACCEPT = {"name": "Accept", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "application/fhir+json for the FHIR R4 Appointment; anything else: JSON."}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "8-128 characters of A-Z a-z 0-9 _ -. The same key with the same content within "
                   "24 hours returns the first result; with other content, 409.",
    "schema": {"type": "string"},
}
ASSET_VERSION = {"name": "v", "in": "query", "required": False, "description": "Cache-busting version.",
                 "schema": {"type": "string"}}

OPERATIONS = {
    ("POST", "/appointments"): Operation(
        summary="Request an appointment",
        description="Accepts JSON or a URL-encoded form (UTF-8). A plain HTML form post (Accept prefers "
                    "text/html) gets a 303 to the thank-you page, or an HTML page listing what to fix.",
        request=AppointmentForm,
        request_media_types=("application/json", "application/x-www-form-urlencoded"),
        parameters=(IDEMPOTENCY_KEY,),
        tags=("public",),
        responses={
            201: Response("Stored (or a replay of an earlier submission: the first one's id).", Receipt),
            303: Response("A plain HTML form post was stored: go to the thank-you page.", media_type=None,
                          headers=("Location",)),
            **_errors(
                ("invalid_body", "The body is not valid JSON, not an object, or not UTF-8."),
                ("idempotency_conflict", "The Idempotency-Key was used with different content."),
                ("payload_too_large", "The body is over 16 KiB."),
                ("unsupported_media_type", "Another content type or charset."),
                ("validation_failed", "One or more fields break their rule; see `fields`."),
                ("service_unavailable", "Storage is unavailable or throttled; nothing was stored. Retry."),
                ("server_misconfigured", "A setting is missing or invalid (logged with its name)."),
            ),
        },
    ),
    ("OPTIONS", "/appointments"): Operation(
        summary="CORS preflight for the form on the clinic's own website",
        tags=("public",),
        responses={204: Response("Allowed origins get Access-Control-Allow-* headers.", media_type=None)},
    ),
    ("GET", "/"): Operation(
        summary="The Request an Appointment page",
        tags=("public",),
        responses={
            200: Response("The form page.", media_type=_HTML),
            303: Response("Add the trailing slash to the stage URL.", media_type=None, headers=("Location",)),
            **_errors(("server_misconfigured", "A setting is missing or invalid (logged with its name).")),
        },
    ),
    ("GET", "/form-token"): Operation(
        summary="A fresh form token, for a form on the clinic's own website",
        description="form.js asks for one when its form has none. Cache-Control: no-store; CORS for "
                    "ALLOWED_ORIGINS. A token is good for FORM_TOKEN_MAX_AGE_HOURS and for one request.",
        tags=("public",),
        responses={
            200: Response("A token and the time trap.", FormToken),
            **_errors(("server_misconfigured", "A setting is missing or invalid (logged with its name).")),
        },
    ),
    ("GET", "/thanks"): Operation(
        summary="The default thank-you page",
        tags=("public",),
        responses={200: Response("The thank-you page.", media_type=_HTML)},
    ),
    ("GET", "/r/{token}"): Operation(
        summary="The patient's page",
        description="Where the request stands, the clinic and the reference (no personal data), in the patient's "
                    "language, with the answers the patient can give (plain form posts). noindex, no-store, "
                    "no-referrer. A link that no longer works gets a page saying so in every language offered.",
        tags=("public",),
        responses={200: Response("The page.", media_type=_HTML),
                   404: Response("A forged, truncated or unknown link.", media_type=_HTML),
                   410: Response("The link of an erased request, or 30 days past the visit (90 past the request "
                                 "without one).", media_type=_HTML)},
    ),
    ("POST", "/r/{token}"): Operation(
        summary="The patient's answer from their page",
        description="A plain form post: answer (withdrawn, not_me, confirmed, cancelled, change_requested), seen "
                    "(the status and visit the page showed) and answer_field (the page's own signed field). "
                    "Recorded once; a 303 back to the page with what happened (?done=recorded, already, changed "
                    "or try_again).",
        request_media_types=("application/x-www-form-urlencoded",),
        tags=("public",),
        responses={303: Response("Back to the page.", media_type=None, headers=("Location",)),
                   404: Response("A forged, truncated or unknown link.", media_type=_HTML),
                   410: Response("A link that no longer works.", media_type=_HTML)},
    ),
    ("GET", "/r/{token}/visit.ics"): Operation(
        summary="The booked visit's calendar file",
        tags=("public",),
        responses={200: Response("RFC 5545 iCalendar.", media_type="text/calendar"),
                   404: Response("No booked visit, or a link that never worked.", media_type=_HTML),
                   410: Response("A link that no longer works.", media_type=_HTML)},
    ),
    ("GET", "/robots.txt"): Operation(
        summary="Keeps crawlers out of the staff side",
        tags=("public",),
        responses={200: Response("Disallow: /staff/.", media_type="text/plain")},
    ),
    ("GET", "/form.css"): Operation(
        summary="The form's style sheet",
        tags=("public",),
        parameters=(ASSET_VERSION,),
        responses={200: Response("CSS.", media_type="text/css")},
    ),
    ("GET", "/form.js"): Operation(
        summary="The form's script",
        tags=("public",),
        parameters=(ASSET_VERSION,),
        responses={200: Response("JavaScript.", media_type="text/javascript")},
    ),
    ("GET", "/openapi.json"): Operation(
        summary="This document",
        tags=("public",),
        responses={200: Response("The OpenAPI 3.1 document.", dict)},
    ),
}


# --- The staff API ------------------------------------------------------------------------------

class StaffHistoryEntry(BaseModel):
    at: str = Field(description="When (UTC, ISO-8601).")
    by: str = Field(description="The staff member's name.")
    from_: str = Field(alias="from")
    to: str
    note: Optional[str] = Field(default=None, description="Removed when the request is erased.")
    visit_at: Optional[str] = Field(default=None, description="A booking or a change: the visit's local time "
                                                              "(removed when the request is erased).")
    answer: Optional[str] = Field(default=None, description="By the patient from their page (`by` is patient): "
                                                            "confirmed, cancelled, change_requested, withdrawn or "
                                                            "not_me.")


class StaffAppointment(BaseModel):
    id: str
    status: Literal[STATUSES]
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    location: str
    location_name: str
    fields: Optional[dict] = Field(default=None, description="The patient's answers; absent once erased.")
    consent: Optional[dict] = Field(default=None, description="Consent evidence; absent once erased.")
    alerted_at: Optional[str] = None
    erased_at: Optional[str] = None
    erased_by: Optional[str] = None
    language: Optional[str] = Field(default=None, description="The patient's language (en, es): call back in it.")
    due_at: Optional[str] = Field(default=None, description="When the clinic promised to get in touch (UTC): "
                                                            "RESPONSE_TARGET_HOURS opening hours after it arrived.")
    corrects: Optional[str] = Field(
        default=None, description="The id of the request this one corrects: the patient sent the form again from the "
                                  "same page, within 30 minutes, with other details.")
    visit_at: Optional[str] = Field(default=None, description="A booked visit: the clinic's local date and time "
                                                              "(YYYY-MM-DDTHH:MM in CLINIC_TIMEZONE).")
    visit_start: Optional[str] = Field(default=None, description="The booked visit's instant (UTC, ISO-8601).")
    visit_sequence: Optional[int] = Field(default=None, description="0 at the first booking, one more at each "
                                                                    "change or cancellation (the calendar's SEQUENCE).")
    patient_answer: Optional[dict] = Field(
        default=None, description="The patient's answer from their page: {answer: confirmed, cancelled, "
                                  "change_requested, withdrawn or not_me; at; sequence: the visit it answers}.")
    warnings: Optional[List[str]] = Field(
        default=None, description="Things staff should check, e.g. a visit booked when the location is closed.")
    spam_reasons: Optional[List[str]] = Field(
        default=None, description="Possible spam only: why, as reason codes (honeypot, token_invalid, too_fast, "
                                  "token_reused, links, no_token, staff, not_me).")
    spam_signals: Optional[dict] = Field(
        default=None, description="Possible spam only: the figures behind the reasons (fill_ms, links).")
    history: Optional[List[StaffHistoryEntry]] = Field(
        default=None, description="Status changes, oldest first (not in listings)."
    )


class StaffPage(BaseModel):
    items: List[StaffAppointment]
    next_cursor: Optional[str] = Field(description="Pass as `cursor` for the next page; null on the last.")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["new", "contacted", "scheduled", "attended", "no_show", "cancelled", "closed",
                    "suspected_spam"] = Field(
        description="new → contacted, scheduled or closed; contacted → scheduled or closed; scheduled → scheduled "
                    "(another time), attended, no_show or cancelled; cancelled → scheduled; suspected_spam → new; "
                    "new → suspected_spam; suspected_spam → suspected_spam (staff confirm it is spam, once)."
    )
    note: Optional[str] = Field(default=None, json_schema_extra={"maxLength": MAX_NOTE})
    visit_at: Optional[str] = Field(
        default=None, description="With status scheduled (and only then): the visit's local date and time in "
                                  "CLINIC_TIMEZONE, in the future, at most 365 days ahead. A time the location is "
                                  "closed is accepted, with a warning in the answer's `warnings`.",
        json_schema_extra={"pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$", "examples": ["2026-12-08T10:00"]})


def _query(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


STAFF_FILTERS = (
    _query("status", "Only this status. Without it: new, contacted, scheduled, attended, no_show, cancelled and "
                     "closed (no spam, no erased).", {"type": "string", "enum": list(STATUSES)}),
    _query("location", "A location id from CLINIC_LOCATIONS.", {"type": "string"}),
    _query("from", "Received on or after this day (YYYY-MM-DD, the clinic's time zone).",
           {"type": "string", "format": "date"}),
    _query("to", "Received on or before this day (YYYY-MM-DD, the clinic's time zone).",
           {"type": "string", "format": "date"}),
    _query("overdue", "true: only new requests past their due_at.", {"type": "string", "enum": ["true", "false"]}),
    _query("q", "Find requests by reference (whole, or its first 8 characters), phone number (any format) or "
                "e-mail address (any case): exact matches through keyed hashes. Any status; the other filters "
                "still apply; no paging.", {"type": "string", "minLength": 1, "maxLength": 254}),
)
STAFF_CURSOR = _query("cursor", "The next_cursor of the previous page.", {"type": "string"})
STAFF_LIMIT = _query("limit", f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
                     {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})
_STAFF_ERRORS = (
    ("unauthorized", "No valid staff token: missing, malformed, unknown or revoked."),
    ("service_unavailable", "Storage is unavailable or throttled. Retry."),
    ("server_misconfigured", "A setting is missing or invalid (logged with its name)."),
)
_NOT_FOUND = ("not_found", "No request with this id.")

OPERATIONS.update({
    ("GET", "/staff/appointments"): Operation(
        summary="List requests, newest first",
        parameters=STAFF_FILTERS + (STAFF_LIMIT, STAFF_CURSOR),
        tags=("staff",),
        security=True,
        responses={
            200: Response("One page of requests.", StaffPage),
            **_errors(*_STAFF_ERRORS, ("validation_failed", "A bad filter, limit or cursor; see `fields`.")),
        },
    ),
    ("GET", "/staff/appointments.csv"): Operation(
        summary="The same filters, as CSV for a spreadsheet",
        description="UTF-8 with a BOM. Cells starting with = + - @ get a leading apostrophe. When the export "
                    "is cut short (about 1.5 MB), X-Next-Cursor says where to go on (pass it as `cursor`).",
        parameters=STAFF_FILTERS + (STAFF_CURSOR,),
        tags=("staff",),
        security=True,
        responses={
            200: Response("CSV.", media_type="text/csv", headers=("Content-Disposition", "X-Next-Cursor")),
            **_errors(*_STAFF_ERRORS, ("validation_failed", "A bad filter or cursor; see `fields`.")),
        },
    ),
    ("GET", "/staff/appointments/{appointment_id}"): Operation(
        summary="One request, with its history (or its tombstone, once erased)",
        description="With `Accept: application/fhir+json` preferred over JSON (q-values count; JSON is the "
                    "default), the request as a FHIR R4 Appointment with the patient as a contained Patient, and an "
                    "unknown or erased id as a 404 OperationOutcome. The mapping: docs/integrations.md.",
        parameters=(FHIR_ACCEPT,),
        tags=("staff",),
        security=True,
        responses={200: Response("The request.", StaffAppointment, alternatives=((_FHIR, _FHIR_APPOINTMENT),)),
                   **_errors(*_STAFF_ERRORS),
                   404: Response(_NOT_FOUND[1], ErrorBody, alternatives=((_FHIR, _FHIR_OUTCOME),))},
    ),
    ("PATCH", "/staff/appointments/{appointment_id}"): Operation(
        summary="Change the status, with an optional note",
        request=StatusChange,
        request_media_types=("application/json",),
        tags=("staff",),
        security=True,
        responses={
            200: Response("The request as changed.", StaffAppointment),
            **_errors(
                *_STAFF_ERRORS, _NOT_FOUND,
                ("invalid_body", "The body is not a JSON object in UTF-8."),
                ("unsupported_media_type", "Not application/json."),
                ("payload_too_large", "The body is over 16 KiB."),
                ("validation_failed", "A bad status, note or transition; see `fields`."),
                ("conflict", "Someone else changed the status meanwhile: reload and decide again."),
            ),
        },
    ),
    ("DELETE", "/staff/appointments/{appointment_id}"): Operation(
        summary="Erase the personal data for good (admin only); a tombstone remains",
        tags=("staff",),
        security=True,
        responses={
            200: Response("The tombstone (again on a repeated erasure).", StaffAppointment),
            **_errors(
                *_STAFF_ERRORS, _NOT_FOUND,
                ("forbidden", "Only an admin may erase."),
                ("conflict", "The request kept changing while being erased: try again."),
            ),
        },
    ),
})


# --- The staff inbox: HTML pages for the browser (a session cookie, or a bearer token for tools) -------

class SignInForm(BaseModel):
    email: str = Field(description="The staff member's e-mail address.")
    next: Optional[str] = Field(default=None, description="A request id to open after signing in.")


class CodeForm(BaseModel):
    email: str
    code: str = Field(description="The 8-digit code from the e-mail (spaces allowed).")
    next: Optional[str] = None


class StatusForm(BaseModel):
    status: str = Field(description="The status to move to.")
    back: Optional[str] = Field(default=None, description="`spam`: return to the Possible spam view afterwards.")
    note: Optional[str] = Field(default=None, description=f"At most {MAX_NOTE} characters.")
    visit_date: Optional[str] = Field(
        default=None, description="With `status` `scheduled` (booking a visit, or changing its time): the visit's "
        "date in the clinic's time zone, `YYYY-MM-DD` (what a date field sends).")
    visit_time: Optional[str] = Field(
        default=None, description="With `visit_date`: the visit's local time, `HH:MM` (seconds, as a time field may "
        "send them, are dropped). Together they are the API's `visit_at`; a refused time (past, more than 365 days "
        "ahead, unreadable, skipped by a clock change) re-shows the page with a 422 and the problem at the field.")


class SearchForm(BaseModel):
    q: str = Field(description="A reference (or its first 8 characters), a phone number or an e-mail address.")


class EraseForm(BaseModel):
    confirm: Literal["yes"]


class AccountForm(BaseModel):
    email: str
    name: str
    role: Literal["staff", "admin"]


class DisableForm(BaseModel):
    email: str


class WebhookForm(BaseModel):
    url: str = Field(max_length=MAX_URL, description="The receiver's https:// URL (http:// on loopback under make "
                                                      "run only).")
    events: List[Literal[EVENT_TYPES]] = Field(description="The events it wants: the field given once for each.")


class DeleteWebhookForm(BaseModel):
    confirm: Literal["yes"]


_FORM = ("application/x-www-form-urlencoded",)
_PAGE_TEXT = {
    200: "The page.", 303: "Done: on to the next page (Location).", 400: "The form could not be read.",
    401: "Not signed in: the sign-in page.", 403: "Not allowed: a role that is not enough, or another Origin.",
    404: "No such request.", 409: "Someone else changed it meanwhile.", 413: "The form is over 16 KiB.",
    415: "Not a URL-encoded form.", 422: "Something to correct, shown on the page.",
    500: "A setting is missing or invalid (logged with its name).", 503: "Storage is unavailable. Retry.",
}


def _page(summary, statuses, form=None, security=True, parameters=()):
    responses = {status: Response(_PAGE_TEXT[status], media_type=None if status == 303 else _HTML,
                                  headers=("Location",) if status == 303 else ())
                 for status in sorted(set(statuses) | {500, 503})}
    return Operation(summary=summary, responses=responses, request=form,
                     request_media_types=_FORM if form else (), tags=("staff inbox",), security=security,
                     parameters=parameters)


_POSTED = (400, 403, 413, 415)
_ID_PAGE = (401, 403, 404)
OPERATIONS.update({
    ("GET", "/staff"): _page("The inbox: the list when signed in, else the sign-in page", (200,), security=False,
                             parameters=STAFF_FILTERS + (STAFF_CURSOR,)),
    ("POST", "/staff/sign-in"): _page("Ask for a sign-in code by e-mail (the same answer for any address)",
                                      (200, 422) + _POSTED, SignInForm, security=False),
    ("POST", "/staff/sign-in/code"): _page("Sign in with the code: sets the session cookie",
                                           (303, 401) + _POSTED, CodeForm, security=False),
    ("POST", "/staff/sign-out"): _page("Sign out: ends the session on the server", (200,) + _POSTED, security=False),
    ("POST", "/staff/search"): _page("Find requests by reference, phone or e-mail (posted: kept out of URLs)",
                                     (200, 303, 401, 422) + _POSTED, SearchForm),
    ("GET", "/staff/export"): _page("Every part of the filter's CSV export, each a download link", (200, 401, 422),
                                    parameters=STAFF_FILTERS + (STAFF_CURSOR,)),
    ("GET", "/staff/requests/{appointment_id}"): _page("One request's page", (200,) + _ID_PAGE),
    ("POST", "/staff/requests/{appointment_id}/status"): _page(
        "Change the status, with an optional note; book a visit or change its time (status scheduled with visit_date "
        "and visit_time)", (303, 409, 422) + _ID_PAGE + _POSTED, StatusForm),
    ("GET", "/staff/requests/{appointment_id}/erase"): _page("Confirm erasure (admin only)", (200,) + _ID_PAGE),
    ("POST", "/staff/requests/{appointment_id}/erase"): _page(
        "Erase the personal data for good (admin only)", (200, 303, 409) + _ID_PAGE + _POSTED, EraseForm),
    ("GET", "/staff/accounts"): _page("Staff accounts (admin only)", (200, 401, 403)),
    ("POST", "/staff/accounts"): _page("Add or update a staff account (admin only)",
                                       (200, 401, 422) + _POSTED, AccountForm),
    ("POST", "/staff/accounts/disable"): _page("Disable a staff account: its sessions end at once (admin only)",
                                               (200, 401, 404, 422) + _POSTED, DisableForm),
    ("GET", "/staff/webhooks"): _page("Webhook endpoints and the form that adds one (admin only)", (200, 401, 403)),
    ("POST", "/staff/webhooks"): _page("Add a webhook endpoint: the answer shows its secret, once (admin only)",
                                       (200, 401, 422) + _POSTED, WebhookForm),
    ("GET", "/staff/webhooks/{endpoint_id}"): _page("One webhook endpoint and its last 20 deliveries (admin only)",
                                                    (200,) + _ID_PAGE),
    ("POST", "/staff/webhooks/{endpoint_id}/rotate"): _page(
        "A new secret, shown once; the old one signs for 24 hours more (admin only)", (200,) + _ID_PAGE + _POSTED),
    ("POST", "/staff/webhooks/{endpoint_id}/disable"): _page("Stop deliveries to an endpoint (admin only)",
                                                             (303,) + _ID_PAGE + _POSTED),
    ("POST", "/staff/webhooks/{endpoint_id}/enable"): _page("Start deliveries to an endpoint again (admin only)",
                                                            (303,) + _ID_PAGE + _POSTED),
    ("GET", "/staff/webhooks/{endpoint_id}/delete"): _page("Confirm an endpoint's deletion (admin only)",
                                                           (200,) + _ID_PAGE),
    ("POST", "/staff/webhooks/{endpoint_id}/delete"): _page(
        "Delete an endpoint (admin only)", (200, 303) + _ID_PAGE + _POSTED,
        DeleteWebhookForm),
    ("GET", "/staff/inbox.css"): Operation(summary="The inbox's style sheet", tags=("staff inbox",),
                                           parameters=(ASSET_VERSION,),
                                           responses={200: Response("CSS.", media_type="text/css")}),
    ("GET", "/staff/inbox.js"): Operation(summary="The inbox's script", tags=("staff inbox",),
                                          parameters=(ASSET_VERSION,),
                                          responses={200: Response("JavaScript.", media_type="text/javascript")}),
})


def form_schema():
    """The form's fields as JSON Schema, with the honeypot and the body's submission id."""
    schema = AppointmentForm.model_json_schema(mode="validation")
    properties = schema["properties"]
    properties.pop("suspected_spam", None)
    properties["website"] = {"type": "string", "description": "Honeypot: leave empty (hidden from people)."}
    properties["submission_id"] = {"type": "string", "description": "Like the Idempotency-Key header."}
    schema["required"] = [name for name in schema.get("required", []) if name in properties]
    return schema


def build(routes, extra_operations=None):
    """The document for a Chalice app's route table (`app.routes`)."""
    operations = {**OPERATIONS, **(extra_operations or {})}
    components = {"ErrorBody": ErrorBody.model_json_schema(), "Receipt": Receipt.model_json_schema(),
                  "AppointmentForm": form_schema()}
    paths = {}
    for path, methods in sorted(routes.items()):
        for method in sorted(methods):
            operation = operations.get((method, path))
            if operation is None:
                raise LookupError(f"{method} {path} has no entry in chalicelib/openapi.py OPERATIONS")
            paths.setdefault(path, {})[method.lower()] = _operation(path, method, operation, components)
    document = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "Where the clinic's Request an Appointment form posts; and the staff API."},
        "paths": paths,
        "components": {"schemas": components},
    }
    if any(op.security for op in operations.values()):
        document["components"]["securitySchemes"] = {
            "staffToken": {"type": "http", "scheme": "bearer", "description": "A staff token from make staff-token."},
            "staffSession": {"type": "apiKey", "in": "cookie", "name": "staff_session",
                             "description": "The staff inbox's session, after sign-in by e-mailed code."},
        }
    return document


def _operation(path, method, operation, components):
    result = {
        "operationId": f"{method.lower()}{_camel(path)}",
        "summary": operation.summary,
        "tags": list(operation.tags),
        "responses": {str(status): _response(response, components)
                      for status, response in sorted(operation.responses.items())},
    }
    if operation.description:
        result["description"] = operation.description
    parameters = list(operation.parameters) + [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_parameters(path)
    ]
    if parameters:
        result["parameters"] = parameters
    if operation.request is not None:
        reference = _component(operation.request, components)
        result["requestBody"] = {
            "required": True,
            "content": {media_type: {"schema": reference} for media_type in operation.request_media_types},
        }
    if operation.security:
        result["security"] = [{"staffToken": []}, {"staffSession": []}]
    result.update(operation.extra)
    return result


def _response(response, components):
    result = {"description": response.description}
    if response.headers:
        result["headers"] = {name: {"schema": {"type": "string"}} for name in response.headers}
    if response.media_type:
        schema = {"type": "string"} if response.model is None else (
            {"type": "object"} if response.model is dict else _component(response.model, components))
        result["content"] = {response.media_type: {"schema": schema}}
    for media_type, schema in response.alternatives:
        result.setdefault("content", {})[media_type] = {"schema": schema}
    return result


def _component(model, components):
    name = model.__name__
    if name not in components:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for nested_name, nested in schema.pop("$defs", {}).items():
            components.setdefault(nested_name, nested)
        components[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _path_parameters(path):
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _camel(path):
    words = [part.strip("{}") for part in path.replace(".", "/").replace("-", "/").split("/") if part]
    return "".join(word[:1].upper() + word[1:] for word in words) or "Root"


_built = {}


def document(routes):
    """The document for this app, built once per process."""
    if "document" not in _built:
        _built["document"] = build(routes)
    return _built["document"]
