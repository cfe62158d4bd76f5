"""Every inbox route, signed out, as `staff` and as `admin`: the answer each must get, and that a
refused change changed nothing. (The bearer-token API has its own matrix in test_staff_api.py.)"""
import json
from urllib.parse import urlencode

import pytest

from chalicelib.core.config import Settings
from chalicelib.staff.accounts import AccountAdmin
from chalicelib.storage.accounts import AccountRepository
from chalicelib.storage.webhooks import WebhookRepository
from chalicelib.webhooks.endpoints import WebhookAdmin
from tests.conftest import STAGE_ENV
from tests.integration.test_inbox_routes import FORM, cookie_of, inbox, new_request, sign_in  # noqa: F401

STAFF, ADMIN = "sam@clinic.example", "ana@clinic.example"
HOOK = "https://pms.clinic.example/hooks"


@pytest.fixture
def sessions(inbox, dynamodb, table):  # noqa: F811  (inbox: the fixture)
    AccountAdmin(AccountRepository(dynamodb, table)).add(STAFF, "Sam Staff", "staff")
    return {"signed out": {}, "staff": {"Cookie": cookie_of(sign_in(inbox, STAFF))},
            "admin": {"Cookie": cookie_of(sign_in(inbox, ADMIN))}}


def new_endpoint(dynamodb, table):
    """A webhook endpoint, made as the inbox makes one; its id."""
    admin = WebhookAdmin(WebhookRepository(dynamodb, table), Settings.from_env(STAGE_ENV), lambda: b"k" * 32)
    return admin.add(HOOK, ["visit.booked"], "Ana Admin")[0].id


# (method, path, form body, {who: status}); REF is a fresh request's id, ENDPOINT a fresh webhook endpoint's.
ROUTES = [
    ("GET", "/staff/", None, {"signed out": 200, "staff": 200, "admin": 200}),
    ("GET", "/staff/export", None, {"signed out": 401, "staff": 200, "admin": 200}),
    ("POST", "/staff/search", {"q": "inbox routes"}, {"signed out": 401, "staff": 200, "admin": 200}),
    ("GET", "/staff/requests/REF", None, {"signed out": 401, "staff": 200, "admin": 200}),
    ("POST", "/staff/requests/REF/status", {"status": "contacted"}, {"signed out": 401, "staff": 303, "admin": 303}),
    ("GET", "/staff/requests/REF/erase", None, {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/requests/REF/erase", {"confirm": "yes"}, {"signed out": 401, "staff": 403, "admin": 303}),
    ("GET", "/staff/accounts", None, {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/accounts", {"email": "new@clinic.example", "name": "New Admin", "role": "admin"},
     {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/accounts", {"email": STAFF, "digest": "off"}, {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/accounts/disable", {"email": STAFF}, {"signed out": 401, "staff": 403, "admin": 200}),
    ("GET", "/staff/webhooks", None, {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/webhooks", {"url": "https://other.clinic.example/hooks", "events": "visit.booked"},
     {"signed out": 401, "staff": 403, "admin": 200}),
    ("GET", "/staff/webhooks/ENDPOINT", None, {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/webhooks/ENDPOINT/rotate", {}, {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/webhooks/ENDPOINT/disable", {}, {"signed out": 401, "staff": 403, "admin": 303}),
    ("POST", "/staff/webhooks/ENDPOINT/enable", {}, {"signed out": 401, "staff": 403, "admin": 303}),
    ("GET", "/staff/webhooks/ENDPOINT/delete", None, {"signed out": 401, "staff": 403, "admin": 200}),
    ("POST", "/staff/webhooks/ENDPOINT/delete", {"confirm": "yes"}, {"signed out": 401, "staff": 403, "admin": 303}),
    ("GET", "/staff/inbox.css", None, {"signed out": 200, "staff": 200, "admin": 200}),
    ("GET", "/staff/inbox.js", None, {"signed out": 200, "staff": 200, "admin": 200}),
]


def call(api, method, path, form, headers):
    if method == "GET":
        return api.request("GET", path, {"Accept": "text/html", **headers})
    return api.request(method, path, {**FORM, **headers}, urlencode(form or {}))


@pytest.mark.parametrize("who", ["signed out", "staff", "admin"])
@pytest.mark.parametrize("method, path, form, expected", ROUTES,
                         ids=[f"{m} {p}" + (" (digest)" if "digest" in (f or {}) else "") for m, p, f, _ in ROUTES])
def test_every_inbox_route_answers_each_role_as_it_must(inbox, sessions, who, method, path, form, expected,
                                                        dynamodb, table):
    if "ENDPOINT" in path:
        path = path.replace("ENDPOINT", new_endpoint(dynamodb, table))
    path = path.replace("REF", new_request(inbox))
    answer = call(inbox, method, path, form, sessions[who])
    assert answer.status_code == expected[who], answer.body.decode()[:300]


def test_every_inbox_route_is_in_the_matrix():
    """Catches a route added to app.py without its row above: each must say who may use it."""
    from app import app

    covered = {(method, path.replace("REF", "{appointment_id}").replace("ENDPOINT", "{endpoint_id}").rstrip("/")
                or "/staff") for method, path, _, _ in ROUTES}
    unauthenticated = {("POST", "/staff/sign-in"), ("POST", "/staff/sign-in/code"), ("POST", "/staff/sign-out")}
    inbox_routes = {(method, path) for path, methods in app.routes.items() for method in methods
                    if path.startswith("/staff") and not path.startswith("/staff/appointments")}
    assert inbox_routes - unauthenticated <= covered, sorted(inbox_routes - unauthenticated - covered)


def test_staff_cannot_make_an_account_and_nothing_is_made(inbox, sessions, dynamodb, table):
    call(inbox, "POST", "/staff/accounts", {"email": "mallory@clinic.example", "name": "Mallory", "role": "admin"},
         sessions["staff"])
    assert AccountRepository(dynamodb, table).get("mallory@clinic.example") is None


def test_staff_cannot_disable_an_account_and_it_stays_active(inbox, sessions, dynamodb, table):
    assert call(inbox, "POST", "/staff/accounts/disable", {"email": ADMIN}, sessions["staff"]).status_code == 403
    assert AccountRepository(dynamodb, table).get(ADMIN).active


def test_staff_cannot_turn_off_someone_s_morning_digest_and_it_stays_on(inbox, sessions, dynamodb, table):
    """Catches the digest switch answering before the admin check: it shares POST /staff/accounts, admins only."""
    answer = call(inbox, "POST", "/staff/accounts", {"email": ADMIN, "digest": "off"}, sessions["staff"])
    assert answer.status_code == 403
    assert AccountRepository(dynamodb, table).get(ADMIN).digest is True


def test_staff_cannot_erase_a_request_and_it_is_still_there(inbox, sessions, dynamodb, table):
    request_id = new_request(inbox)
    assert call(inbox, "POST", f"/staff/requests/{request_id}/erase", {"confirm": "yes"},
                sessions["staff"]).status_code == 403
    view = inbox.request("GET", f"/staff/appointments/{request_id}", sessions["admin"])
    assert json.loads(view.body)["status"] == "new"


WEBHOOK_CHANGES = [
    ("POST", "/staff/webhooks", {"url": "https://other.clinic.example/hooks", "events": "visit.booked"}),
    ("POST", "/staff/webhooks/ENDPOINT/rotate", {}),
    ("POST", "/staff/webhooks/ENDPOINT/disable", {}),
    ("POST", "/staff/webhooks/ENDPOINT/enable", {}),
    ("POST", "/staff/webhooks/ENDPOINT/delete", {"confirm": "yes"}),
]


@pytest.mark.parametrize("who, origin", [("staff", None), ("admin", "http://127.0.0.1:8081"), ("admin", "null"),
                                         ("admin", "")])
@pytest.mark.parametrize("method, path, form", WEBHOOK_CHANGES, ids=[p for _, p, _ in WEBHOOK_CHANGES])
def test_a_refused_webhook_change_changes_nothing(inbox, sessions, dynamodb, table, who, origin, method, path, form):
    """Staff with the inbox's own Origin, or an admin's session posted from another origin (or with none): a 403,
    and the endpoints are as they were: none added, none deleted, disabled or enabled, no secret rotated."""
    repository = WebhookRepository(dynamodb, table)
    endpoint_id = new_endpoint(dynamodb, table)
    if path.endswith("/enable"):
        repository.set_active(endpoint_id, False, "admin", "2026-12-01T10:00:00.000Z")
    before = repository.all()
    headers = {**FORM, **sessions[who]}
    if origin is not None:  # "": no Origin header at all
        headers = {**{k: v for k, v in headers.items() if k != "Origin"}, **({"Origin": origin} if origin else {})}
    answer = inbox.request(method, path.replace("ENDPOINT", endpoint_id), headers, urlencode(form))
    assert answer.status_code == 403, answer.body.decode()[:300]
    assert repository.all() == before


def test_an_admin_cannot_disable_themselves_with_a_crafted_post(inbox, sessions, dynamodb, table):
    AccountAdmin(AccountRepository(dynamodb, table)).add("second@clinic.example", "Second Admin", "admin")
    answer = call(inbox, "POST", "/staff/accounts/disable", {"email": " ANA@clinic.example"}, sessions["admin"])
    assert answer.status_code == 422
    assert "your own account" in answer.body.decode()
    assert AccountRepository(dynamodb, table).get(ADMIN).active


def test_the_last_admin_cannot_demote_themselves_in_the_inbox(inbox, sessions, dynamodb, table):
    answer = call(inbox, "POST", "/staff/accounts", {"email": ADMIN, "name": "Ana Admin", "role": "staff"},
                  sessions["admin"])
    assert answer.status_code == 422
    assert "only active admin" in answer.body.decode()
    assert AccountRepository(dynamodb, table).get(ADMIN).role == "admin"


# The patient's page: its link is the only key, the same for everyone; staff signed in get nothing more from it, and
# a bad token (forged, truncated, or another request's with one character changed) opens nothing for anyone.
# (method, path, form, status); TOKEN is a fresh request's page token, BAD a forged one.
PATIENT_ROUTES = [
    ("GET", "/r/TOKEN", None, 200),
    ("GET", "/r/TOKEN/visit.ics", None, 404),  # no visit booked yet
    ("POST", "/r/TOKEN", {"answer": "confirmed", "seen": "new:", "answer_field": "forged"}, 303),
    ("GET", "/r/BAD", None, 404),
    ("POST", "/r/BAD", {"answer": "withdrawn", "seen": "new:", "answer_field": "forged"}, 404),
    ("GET", "/r/BAD/visit.ics", None, 404),
]


@pytest.mark.parametrize("who", ["signed out", "staff", "admin"])
@pytest.mark.parametrize("method, path, form, expected", PATIENT_ROUTES, ids=[f"{m} {p}" for m, p, _, _ in PATIENT_ROUTES])
def test_the_patient_s_page_answers_everyone_alike_and_a_bad_token_opens_nothing(inbox, sessions, who, method, path,
                                                                                 form, expected, monkeypatch):
    from chalicelib import wiring
    from tests.conftest import STAGE_ENV

    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)
    request_id = new_request(inbox)
    token = wiring.patient_page_url(request_id).rsplit("/", 1)[1]
    bad = token[:-1] + ("A" if token[-1] != "A" else "B")
    answer = call(inbox, method, path.replace("TOKEN", token).replace("BAD", bad), form, sessions[who])
    assert answer.status_code == expected, answer.body.decode()[:300]
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["Referrer-Policy"] == "no-referrer"
    if method == "POST" and expected == 303:
        assert answer.headers["Location"].endswith("?done=try_again")  # nothing recorded without the page's field
