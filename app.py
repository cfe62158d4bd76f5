from chalice import Chalice

from chalicelib import web
from chalicelib.config import get_settings
from chalicelib.wiring import appointment_service

app = Chalice(app_name="appointments")


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
