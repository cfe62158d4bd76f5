from chalice import Chalice, Response

from chalicelib import logs, web
from chalicelib.config import get_settings
from chalicelib.wiring import alert_delivery, appointment_service, staff_authenticator, staff_service

app = Chalice(app_name="appointments")

# Deployment wires the real stream by reference (Fn::GetAtt in the merge template);
# this value only names the event source in the generated template.
TABLE_STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/appointments/stream/set-by-template"


def _origins():
    return get_settings().allowed_origins


def _endpoint(route):
    return web.endpoint(route, lambda: app.current_request, _origins)


@app.route("/appointments", methods=["POST"], content_types=["*/*"])
@_endpoint("POST /appointments")
def create_appointment():
    request = app.current_request
    submission = web.read_submission(request.headers, request.raw_body)
    receipt = appointment_service().submit(
        submission.fields, submission.idempotency_key, submission.key_field
    )
    if web.wants_html(request.headers.get("accept")):
        return web.redirect(get_settings().thank_you_url), "replayed" if receipt.replayed else "created"
    body = {"id": receipt.id, "status": receipt.status}
    return web.json_response(201, body), "replayed" if receipt.replayed else "created"


@app.route("/appointments", methods=["OPTIONS"])
@_endpoint("OPTIONS /appointments")
def appointments_preflight():
    request = app.current_request
    headers = web.cors_headers(request.headers.get("origin"), _origins(), preflight=True)
    return web.empty_response(204, headers), "preflight"


@app.route("/openapi.json", methods=["GET"])
@_endpoint("GET /openapi.json")
def openapi_document():
    from chalicelib import openapi  # imported here: its schema models would slow every cold start

    return web.json_response(200, openapi.document(app.routes)), "document"


@app.on_dynamodb_record(stream_arn=TABLE_STREAM_ARN, batch_size=25, starting_position="TRIM_HORIZON")
def send_staff_alerts(event):
    logs.request_id.set(getattr(event.context, "aws_request_id", None))
    failed = alert_delivery().deliver(list(event))
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@app.route("/", methods=["GET"])
@_endpoint("GET /")
def form_page():
    from chalicelib import page  # imported here: POST /appointments, on every cold start, needs none of it
    location = page.slash_redirect((app.current_request.context or {}).get("path"))
    if location:
        return web.redirect(location), "redirect"
    settings = get_settings()
    return web.html_response(200, page.form_page(settings), page.form_headers(settings)), "page"


@app.route("/thanks", methods=["GET"])
@_endpoint("GET /thanks")
def thanks_page():
    from chalicelib import page
    return web.html_response(200, page.thanks_page(), page.thanks_headers()), "page"


def _query(name):
    return (app.current_request.query_params or {}).get(name)


@app.route("/form.css", methods=["GET"])
@_endpoint("GET /form.css")
def form_css():
    from chalicelib import page
    body, headers = page.asset("form.css", _query("v"))
    return Response(body=body, status_code=200, headers=headers), "asset"


@app.route("/form.js", methods=["GET"])
@_endpoint("GET /form.js")
def form_js():
    from chalicelib import page
    body, headers = page.asset("form.js", _query("v"))
    return Response(body=body, status_code=200, headers=headers), "asset"


# --- The staff API: every route authenticates first (chalicelib/auth.py), inside the app -------------

def _authenticate(request):
    return staff_authenticator().authenticate(request.headers.get("authorization"))


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
    return web.json_response(200, staff_service().get(appointment_id)), "found"


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
