from chalicelib.core import coldstart  # first of all: it pauses the garbage collector for the cold start
from chalice import Chalice, Cron, Rate, Response

from chalicelib.core import logs, web
from chalicelib.core.config import get_settings
from chalicelib.intake import http as intake_http
from chalicelib.wiring import (
    appointment_service, digest, escalation, inbox_pages, mail_delivery, new_form_token, patient_page_token,
    patient_pages, reminders, sign_in, staff_authenticator, staff_service, stream_consumers, thanks_details,
    thanks_reference, webhook_delivery,
)

app = Chalice(app_name="appointments")
app.register_middleware(coldstart.resume_after_first_event, "all")

# Deployment wires the real stream by reference (Fn::GetAtt in the merge template);
# this value only names the event source in the generated template.
TABLE_STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/appointments/stream/set-by-template"
SIGN_IN_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:set-by-template"  # the same for the sign-in code queue
WEBHOOK_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:set-by-template.fifo"  # and for the webhook deliveries


# Chalice answers a Content-Type outside a route's list with its own 415, before our code runs
# (no CORS, no log line). A GET or a preflight has no body to read: any type will do.
ANY_CONTENT_TYPE = ["*/*"]


def _origins():
    return get_settings().allowed_origins


def _endpoint(route):
    return web.endpoint(route, lambda: app.current_request, _origins, error_page=intake_http.error_answer)


@app.route("/appointments", methods=["POST"], content_types=["*/*"])
@_endpoint("POST /appointments")
def create_appointment():
    request = app.current_request
    submission = intake_http.read_submission(request.headers, request.raw_body)
    receipt = appointment_service().submit(
        submission.fields, submission.idempotency_key, submission.key_field, request.headers.get("accept-language")
    )
    if web.wants_html(request.headers.get("accept")):
        location = intake_http.thank_you_url(get_settings().thank_you_url, intake_http.answer_language(request),
                                             thanks_reference(receipt.id, receipt.created_at))
        return web.redirect(location), "replayed" if receipt.replayed else "created"
    page = patient_page_token(receipt.id, receipt.created_at)  # as of the first: a replay's answer is the same
    body = intake_http.receipt_body(receipt, get_settings(), page)
    return web.json_response(201, body), "replayed" if receipt.replayed else "created"


@app.route("/appointments", methods=["OPTIONS"], content_types=ANY_CONTENT_TYPE)
@_endpoint("OPTIONS /appointments")
def appointments_preflight():
    request = app.current_request
    headers = web.cors_headers(request.headers.get("origin"), _origins(), preflight=True)
    return web.empty_response(204, headers), "preflight"


@app.route("/openapi.json", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_endpoint("GET /openapi.json")
def openapi_document():
    from chalicelib import openapi  # imported here: its schema models would slow every cold start

    return web.json_response(200, openapi.document(app.routes)), "document"


# Alerts and confirmations read the stream as two consumers, each with its own retries (DynamoDB
# Streams serves two per shard): SES failing never holds up a staff alert, nor SNS a confirmation.
@app.on_dynamodb_record(stream_arn=TABLE_STREAM_ARN, batch_size=25, starting_position="TRIM_HORIZON")
def send_staff_alerts(event):
    return _stream_batch(event, stream_consumers())  # staff alerts, then webhook events (webhooks.feed)


@app.on_dynamodb_record(stream_arn=TABLE_STREAM_ARN, batch_size=25, starting_position="TRIM_HORIZON")
def send_confirmations(event):
    return _stream_batch(event, mail_delivery())


def _stream_batch(event, delivery):
    logs.request_id.set(getattr(event.context, "aws_request_id", None))
    records = list(event)
    failed = set(delivery.deliver(records))
    return {"batchItemFailures": [{"itemIdentifier": r.sequence_number} for r in records if r.sequence_number in failed]}


@app.route("/", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_endpoint("GET /")
def form_page():
    from chalicelib.intake import page  # imported here: POST /appointments, on every cold start, needs none of it
    location = page.slash_redirect((app.current_request.context or {}).get("path"))
    if location:
        return web.redirect(location), "redirect"
    settings = get_settings()
    request = app.current_request
    language = page.page_language(settings, request.query_params, request.headers.get("accept-language"))
    return web.html_response(200, page.form_page(settings, new_form_token(), language=language),
                             page.form_headers(settings)), "page"


@app.route("/form-token", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_endpoint("GET /form-token")
def form_token():
    """A fresh form token, for a form on the clinic's own site (form.js asks for one when its form has none)."""
    request = app.current_request
    headers = {**web.cors_headers(request.headers.get("origin"), _origins()), "Cache-Control": "no-store"}
    settings = get_settings()
    body = {"form_token": new_form_token(), "min_fill_seconds": settings.min_fill_seconds,
            "max_age_seconds": settings.form_token_max_age_hours * 3600}
    return web.json_response(200, body, headers), "issued"


@app.route("/robots.txt", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_endpoint("GET /robots.txt")
def robots_txt():
    from chalicelib.intake import page
    return Response(body=page.robots_txt(get_settings()), status_code=200, headers=page.robots_headers()), "robots"


@app.route("/thanks", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_endpoint("GET /thanks")
def thanks_page():
    from chalicelib.intake import page
    request = app.current_request
    language = page.page_language(get_settings(), request.query_params, request.headers.get("accept-language"))
    ref = _query("ref")
    thanks = thanks_details().read(ref) if ref else None
    body = page.thanks_page(language, thanks, get_settings().timezone)
    return web.html_response(200, body, page.thanks_headers(personal=bool(ref))), "page"


def _query(name):
    return (app.current_request.query_params or {}).get(name)


@app.route("/form.css", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_endpoint("GET /form.css")
def form_css():
    from chalicelib.intake import page
    body, headers = page.asset("form.css", _query("v"))
    return Response(body=body, status_code=200, headers=headers), "asset"


@app.route("/form.js", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_endpoint("GET /form.js")
def form_js():
    from chalicelib.intake import page
    body, headers = page.asset("form.js", _query("v"))
    return Response(body=body, status_code=200, headers=headers), "asset"


# --- The patient's page (chalicelib/visits/page.py): opened by the signed link every e-mail to the patient carries

def _patient_page_error(error, request):
    from chalicelib.visits import page

    return page.error_page(get_settings(), error)


def _page_endpoint(route):
    return web.endpoint(route, lambda: app.current_request, headers=web.PATIENT_PAGE_HEADERS,
                        error_page=_patient_page_error)


@app.route("/r/{token}", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_page_endpoint("GET /r/{token}")
def patient_page(token):
    from chalicelib.visits import page

    return page.show(patient_pages(), get_settings(), token, app.current_request.query_params)


@app.route("/r/{token}", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@_page_endpoint("POST /r/{token}")
def patient_answer(token):
    from chalicelib.visits import page

    request = app.current_request
    return page.answer(patient_pages(), get_settings(), token, request.headers, request.raw_body)


@app.route("/r/{token}/visit.ics", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@_page_endpoint("GET /r/{token}/visit.ics")
def patient_visit_calendar(token):
    from chalicelib.core.patient_links import page_url
    from chalicelib.visits import page

    settings = get_settings()
    return page.calendar(patient_pages(), settings, token, page_url(settings, token))


# --- The staff API: every route authenticates first (a bearer token or the inbox session), inside the app

def _authenticate(request):
    from chalicelib.staff import http as inbox_http

    return inbox_http.authenticate(request, get_settings(), staff_authenticator(), sign_in())


def _staff_endpoint(route, role="staff"):
    return web.staff_endpoint(route, lambda: app.current_request, _authenticate, role)


def _filters():
    return web.query_lists(app.current_request)


@app.route("/staff/appointments", methods=["GET"], content_types=["*/*"])
@_staff_endpoint("GET /staff/appointments")
def list_appointments(staff):
    return web.json_response(200, staff_service().list(_filters())), "listed"


@app.route("/staff/appointments.csv", methods=["GET"], content_types=["*/*"])
@_staff_endpoint("GET /staff/appointments.csv")
def export_appointments(staff):
    export = staff_service().export_csv(_filters())
    return web.csv_response(export.text, "appointments.csv", export.next_cursor), "exported"


@app.route("/staff/appointments/{appointment_id}", methods=["GET"], content_types=["*/*"])
@_staff_endpoint("GET /staff/appointments/{id}")
def get_appointment(appointment_id, staff):
    if web.wants_fhir(app.current_request.headers.get("accept")):
        from chalicelib.staff import fhir

        status, resource = fhir.read(staff_service(), get_settings(), appointment_id, staff)
        return web.fhir_response(status, resource), "found" if status == 200 else "not_found"
    return web.json_response(200, staff_service().get(appointment_id, staff)), "found"


@app.route("/staff/appointments/{appointment_id}", methods=["PATCH"], content_types=["*/*"])
@_staff_endpoint("PATCH /staff/appointments/{id}")
def update_appointment(appointment_id, staff):
    request = app.current_request
    change = web.read_json_object(request.headers, request.raw_body)
    return web.json_response(200, staff_service().update_status(appointment_id, change, staff)), "updated"


@app.route("/staff/appointments/{appointment_id}", methods=["DELETE"], content_types=["*/*"])
@_staff_endpoint("DELETE /staff/appointments/{id}", role="admin")
def erase_appointment(appointment_id, staff):
    erasure = staff_service().erase(appointment_id, staff)
    return web.json_response(200, erasure.record), "erased" if erasure.erased_now else "already_erased"


# --- The staff inbox: pages for the browser (chalicelib/staff/http.py), signed in by an e-mailed code ---

def _inbox_error_page(error, request):
    from chalicelib.staff import http as inbox_http

    return inbox_http.error_page(error, request, get_settings())


def _inbox_endpoint(route, role=None, signed_in=True, headers=web.STAFF_HEADERS):
    return web.endpoint(route, lambda: app.current_request, authenticate=_authenticate if signed_in else None,
                        role=role, headers=headers, error_page=_inbox_error_page)


@app.route("/staff", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/", signed_in=False)
def inbox_home():
    return inbox_pages().home(app.current_request)


# Requests still new past their due time, escalated once per location; the local stack runs it every 30 s.
@app.schedule(Rate(15, unit=Rate.MINUTES))
def escalate_overdue(event):
    logs.request_id.set(getattr(event.context, "aws_request_id", None))
    escalation().run()


# Reminders before booked visits (e-mail, and a text where the patient agreed), never 21:00-08:00 clinic time;
# the local stack runs it every 30 s.
@app.schedule(Rate(15, unit=Rate.MINUTES))
def send_reminders(event):
    logs.request_id.set(getattr(event.context, "aws_request_id", None))
    reminders().run()


# The morning digest: EventBridge's cron runs in UTC, so every hour; the service sends at DIGEST_HOUR where the
# clinic is (daylight saving time included), once a day per account.
@app.schedule(Cron(0, "*", "*", "*", "?", "*"))
def send_digest(event):
    logs.request_id.set(getattr(event.context, "aws_request_id", None))
    digest().run()


# Sign-in codes are mailed off the request path: asking costs one SQS message whatever the address,
# so neither the answer nor its timing tells who has an account. No retries: a code is of use for
# minutes, and the person asks again.
@app.on_sqs_message(queue_arn=SIGN_IN_QUEUE_ARN, batch_size=10, maximum_concurrency=2)
def send_sign_in_codes(event):
    from chalicelib.storage import signin_queue  # here: the request path never needs it

    logs.request_id.set(getattr(event.context, "aws_request_id", None))
    signin_queue.handle_messages((record.body for record in event), sign_in().send_code)


# Webhooks go out off the request path, from the FIFO queue the alert consumer's feed fills: each failure is handed
# back (batchItemFailures) with its next try set, and after the last one the queue's redrive dead-letters it.
# One message an invocation: SQS counts a receive for every message of a batch, so later events of a request held
# behind a failing one would use up their own attempts unsent, and be dead-lettered with it.
@app.on_sqs_message(queue_arn=WEBHOOK_QUEUE_ARN, batch_size=1)
def deliver_webhooks(event):
    logs.request_id.set(getattr(event.context, "aws_request_id", None))
    failed = webhook_delivery().handle([record.to_dict() for record in event])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


@app.route("/staff/sign-in", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/sign-in", signed_in=False)
def inbox_request_code():
    return inbox_pages().request_code(app.current_request)


@app.route("/staff/sign-in/code", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/sign-in/code", signed_in=False)
def inbox_verify_code():
    return inbox_pages().verify_code(app.current_request)


@app.route("/staff/sign-out", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/sign-out", signed_in=False)
def inbox_sign_out():
    return inbox_pages().sign_out(app.current_request)


@app.route("/staff/search", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/search")
def inbox_search(staff):
    return inbox_pages().search(app.current_request, staff)


@app.route("/staff/export", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/export")
def inbox_export(staff):
    return inbox_pages().export(app.current_request, staff)


@app.route("/staff/requests/{appointment_id}", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/requests/{id}")
def inbox_request(appointment_id, staff):
    return inbox_pages().request(appointment_id, staff, app.current_request.query_params or {}), "page"


@app.route("/staff/requests/{appointment_id}/status", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/requests/{id}/status")
def inbox_change_status(appointment_id, staff):
    return inbox_pages().change_status(app.current_request, appointment_id, staff)


@app.route("/staff/requests/{appointment_id}/erase", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/requests/{id}/erase", role="admin")
def inbox_erase_confirmation(appointment_id, staff):
    return inbox_pages().erase_confirmation(appointment_id, staff)


@app.route("/staff/requests/{appointment_id}/erase", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/requests/{id}/erase", role="admin")
def inbox_erase(appointment_id, staff):
    return inbox_pages().erase(app.current_request, appointment_id, staff)


@app.route("/staff/accounts", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/accounts", role="admin")
def inbox_accounts(staff):
    return inbox_pages().accounts(staff), "page"


@app.route("/staff/accounts", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/accounts", role="admin")
def inbox_save_account(staff):
    return inbox_pages().save_account(app.current_request, staff)


@app.route("/staff/accounts/disable", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/accounts/disable", role="admin")
def inbox_disable_account(staff):
    return inbox_pages().disable_account(app.current_request, staff)


# Webhook endpoints (admins): a new secret is shown once, on the answer to the post that made it.
@app.route("/staff/webhooks", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/webhooks", role="admin")
def inbox_webhooks(staff):
    return inbox_pages().webhooks(staff, app.current_request.query_params or {}), "page"


@app.route("/staff/webhooks", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/webhooks", role="admin")
def inbox_add_webhook(staff):
    return inbox_pages().add_webhook(app.current_request, staff)


@app.route("/staff/webhooks/{endpoint_id}", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/webhooks/{id}", role="admin")
def inbox_webhook(endpoint_id, staff):
    return inbox_pages().webhook(endpoint_id, staff, app.current_request.query_params or {})


@app.route("/staff/webhooks/{endpoint_id}/rotate", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/webhooks/{id}/rotate", role="admin")
def inbox_rotate_webhook(endpoint_id, staff):
    return inbox_pages().rotate_webhook(endpoint_id, staff)


@app.route("/staff/webhooks/{endpoint_id}/disable", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/webhooks/{id}/disable", role="admin")
def inbox_disable_webhook(endpoint_id, staff):
    return inbox_pages().switch_webhook(endpoint_id, staff, active=False)


@app.route("/staff/webhooks/{endpoint_id}/enable", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/webhooks/{id}/enable", role="admin")
def inbox_enable_webhook(endpoint_id, staff):
    return inbox_pages().switch_webhook(endpoint_id, staff, active=True)


@app.route("/staff/webhooks/{endpoint_id}/delete", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/webhooks/{id}/delete", role="admin")
def inbox_delete_webhook_confirmation(endpoint_id, staff):
    return inbox_pages().delete_webhook_confirmation(endpoint_id, staff)


@app.route("/staff/webhooks/{endpoint_id}/delete", methods=["POST"], content_types=["*/*"])
@_inbox_endpoint("POST /staff/webhooks/{id}/delete", role="admin")
def inbox_delete_webhook(endpoint_id, staff):
    return inbox_pages().delete_webhook(app.current_request, endpoint_id, staff)


# The inbox's CSS and script hold no patient data: cached by their versioned URLs, as the form's are.
@app.route("/staff/inbox.css", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/inbox.css", signed_in=False, headers=None)
def inbox_css():
    from chalicelib.staff import inbox

    body, headers = inbox.asset("inbox.css", _query("v"))
    return Response(body=body, status_code=200, headers=headers), "asset"


@app.route("/staff/inbox.js", methods=["GET"], content_types=["*/*"])
@_inbox_endpoint("GET /staff/inbox.js", signed_in=False, headers=None)
def inbox_js():
    from chalicelib.staff import inbox

    body, headers = inbox.asset("inbox.js", _query("v"))
    return Response(body=body, status_code=200, headers=headers), "asset"
