"""The admins' webhooks pages through the inbox's routes, against moto, posted as a browser without JavaScript posts
them: adding an endpoint (and its secret, shown on that answer only), the form's problems, rotation, disabling and
enabling, deletion after its confirmation step, and the last deliveries."""
import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest

from chalicelib.storage.webhooks import Delivery, WebhookRepository
from chalicelib.webhooks.endpoints import EVENT_TYPES
from tests.conftest import captured_log_lines
from tests.integration.test_inbox_routes import FORM, cookie_of, inbox, sign_in  # noqa: F401  (inbox: the fixture)

HOOK = "https://pms.clinic.example/hooks/appointments?tenant=7"
SECRET = re.compile(r'<p class="secret"><code>(whsec_[A-Za-z0-9+/=]+)</code></p>')


@pytest.fixture
def admin(inbox):  # noqa: F811
    return {"Cookie": cookie_of(sign_in(inbox))}


@pytest.fixture
def endpoints(dynamodb, table):
    return WebhookRepository(dynamodb, table)


def post(inbox, cookie, path, fields):  # noqa: F811
    body = urlencode(fields, doseq=True) if isinstance(fields, dict) else urlencode(fields)
    return inbox.request("POST", path, {**FORM, **cookie}, body)


def get(inbox, cookie, path):  # noqa: F811
    return inbox.request("GET", path, cookie)


def add(inbox, cookie, url=HOOK, events=("visit.booked", "visit.cancelled")):  # noqa: F811
    """Posts the add form; (the answer, the new endpoint's id, the secret the answer shows)."""
    answer = post(inbox, cookie, "/staff/webhooks", [("url", url)] + [("events", event) for event in events])
    assert answer.status_code == 200, answer.body.decode()[:500]
    body = answer.body.decode()
    endpoint_id = re.search(r'href="/staff/webhooks/(ep_[0-9a-f]+)"', body).group(1)
    return answer, endpoint_id, SECRET.search(body).group(1)


def signing_secrets(endpoint):
    """The secrets that sign deliveries to `endpoint` now, as the delivery consumer derives them."""
    from chalicelib import wiring

    return wiring.webhook_admin().signing_secrets(endpoint)


def test_an_added_endpoint_s_secret_is_shown_once_on_the_answer_and_is_the_one_that_signs(
        inbox, admin, endpoints):  # noqa: F811
    """Catches a secret that is not the deriving one (deliveries would not verify), one shown through a redirect or a
    cacheable answer, and one that any later page shows again."""
    answer, endpoint_id, secret = add(inbox, admin)

    assert "Location" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
    assert "shown only this once" in answer.body.decode()
    endpoint = endpoints.get(endpoint_id)
    assert (endpoint.url, endpoint.events, endpoint.active, endpoint.created_by) == (
        HOOK, ("visit.booked", "visit.cancelled"), True, "Ana Admin")
    assert signing_secrets(endpoint) == [secret]
    for path in ("/staff/webhooks", f"/staff/webhooks/{endpoint_id}", f"/staff/webhooks/{endpoint_id}/delete"):
        page = get(inbox, admin, path)
        assert page.status_code == 200, path
        assert secret not in page.body.decode() and "whsec_" not in page.body.decode(), path
    listing = get(inbox, admin, "/staff/webhooks").body.decode()
    assert unescape(HOOK) in unescape(listing) and "Active" in listing


def test_the_form_s_problems_are_shown_at_their_fields_and_nothing_is_added(inbox, admin, endpoints):  # noqa: F811
    answer = post(inbox, admin, "/staff/webhooks", {"url": "http://pms.clinic.example/hooks"})

    body = answer.body.decode()
    assert answer.status_code == 422
    assert "There are 2 problems" in body
    assert re.search(r'id="webhook-url-error">.*Use https://', body)
    assert re.search(r'id="webhook-events-error">.*Choose at least one event', body)
    assert 'value="http://pms.clinic.example/hooks"' in body  # what was typed stays, to correct it
    assert "checked" not in re.search(r'<fieldset.*?</fieldset>', body, re.S).group(0)  # as it was sent: none
    assert endpoints.all() == []


def test_an_unknown_event_posted_is_refused(inbox, admin, endpoints):  # noqa: F811
    answer = post(inbox, admin, "/staff/webhooks", [("url", HOOK), ("events", "visit.booked"),
                                                    ("events", "patient.details")])
    assert answer.status_code == 422
    assert "Unknown event" in answer.body.decode()
    assert endpoints.all() == []


def test_a_new_add_form_ticks_every_event(inbox, admin):  # noqa: F811
    page = get(inbox, admin, "/staff/webhooks").body.decode()
    ticked = re.findall(r'<input type="checkbox" id="[^"]+" name="events" value="([^"]+)" checked>', page)
    assert ticked == list(EVENT_TYPES)


def test_rotating_shows_a_new_secret_once_and_the_old_one_still_signs(inbox, admin, endpoints):  # noqa: F811
    _, endpoint_id, first = add(inbox, admin)

    answer = post(inbox, admin, f"/staff/webhooks/{endpoint_id}/rotate", {})

    body = answer.body.decode()
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    [second] = SECRET.findall(body)
    assert second != first
    assert "The old secret keeps signing every delivery beside the new one until" in body
    assert signing_secrets(endpoints.get(endpoint_id)) == [second, first]
    page = get(inbox, admin, f"/staff/webhooks/{endpoint_id}").body.decode()
    assert "The one before it also signs until" in page
    assert first not in page and second not in page


def test_disable_and_enable_go_back_to_the_endpoint_s_page_saying_so(inbox, admin, endpoints):  # noqa: F811
    _, endpoint_id, _ = add(inbox, admin)

    disabled = post(inbox, admin, f"/staff/webhooks/{endpoint_id}/disable", {})

    assert (disabled.status_code, disabled.headers["Location"]) == (
        303, f"/staff/webhooks/{endpoint_id}?done=disabled")
    endpoint = endpoints.get(endpoint_id)
    assert (endpoint.active, endpoint.disabled_reason) == (False, "admin")
    page = get(inbox, admin, disabled.headers["Location"]).body.decode()
    assert "Disabled: nothing more is sent" in page and "<dd>Disabled by an admin</dd>" in page
    assert f'action="/staff/webhooks/{endpoint_id}/enable"' in page
    assert f'action="/staff/webhooks/{endpoint_id}/disable"' not in page

    enabled = post(inbox, admin, f"/staff/webhooks/{endpoint_id}/enable", {})

    assert enabled.headers["Location"] == f"/staff/webhooks/{endpoint_id}?done=enabled"
    assert endpoints.get(endpoint_id).active is True
    assert "<dd>Active</dd>" in get(inbox, admin, enabled.headers["Location"]).body.decode()


def test_an_endpoint_its_receiver_gave_up_on_says_410_gone(inbox, admin, endpoints):  # noqa: F811
    from chalicelib import wiring

    _, endpoint_id, _ = add(inbox, admin)
    wiring.webhook_admin().disable(endpoint_id, "delivery", reason="gone")

    assert "Disabled: the receiver answered 410 Gone" in get(inbox, admin, "/staff/webhooks").body.decode()
    page = get(inbox, admin, f"/staff/webhooks/{endpoint_id}").body.decode()
    assert "<dd>Disabled: the receiver answered 410 Gone</dd>" in page


def test_deleting_asks_first_and_then_the_endpoint_and_its_page_are_gone(inbox, admin, endpoints):  # noqa: F811
    _, endpoint_id, _ = add(inbox, admin)
    endpoints.record_delivery(Delivery(endpoint_id, "msg_r1_0", "visit.booked", 1, "2026-12-01T10:00:00.000Z",
                                       "delivered", 200, 80), expires_at=2_000_000_000)
    page = get(inbox, admin, f"/staff/webhooks/{endpoint_id}").body.decode()
    confirm = re.search(r'href="(/staff/webhooks/[^"]+/delete)"', page).group(1)
    confirmation = get(inbox, admin, confirm).body.decode()
    assert "Delete this webhook endpoint?" in confirmation
    assert '<input type="hidden" name="confirm" value="yes">' in confirmation

    unconfirmed = post(inbox, admin, confirm, {})
    assert unconfirmed.status_code == 200 and "Delete this webhook endpoint?" in unconfirmed.body.decode()
    assert endpoints.get(endpoint_id) is not None

    deleted = post(inbox, admin, confirm, {"confirm": "yes"})

    assert (deleted.status_code, deleted.headers["Location"]) == (303, "/staff/webhooks?deleted=1")
    # Its delivery attempts are left to their TTL (30 days); nothing shows them without the endpoint.
    assert endpoints.get(endpoint_id) is None and len(endpoints.deliveries(endpoint_id)) == 1
    listing = get(inbox, admin, deleted.headers["Location"]).body.decode()
    assert "The endpoint was deleted. Its delivery history is no longer shown" in listing
    assert "No webhook endpoints yet" in listing
    gone = get(inbox, admin, f"/staff/webhooks/{endpoint_id}")
    assert gone.status_code == 404 and "There is no such webhook endpoint" in gone.body.decode()


def test_the_endpoint_s_page_lists_its_last_20_deliveries_newest_first(inbox, admin, endpoints):  # noqa: F811
    _, endpoint_id, _ = add(inbox, admin)
    for n in range(25):
        outcome, status, latency = (("failed", 503, 1200 + n) if n % 5 == 0 else ("delivered", 204, 40 + n))
        endpoints.record_delivery(Delivery(endpoint_id, f"msg_r{n:02d}_0", "visit.booked", 1 + n % 3,
                                           f"2026-12-01T10:{n:02d}:00.000Z", outcome, status, latency),
                                  expires_at=2_000_000_000)
    endpoints.record_delivery(Delivery(endpoint_id, "msg_r99_1", "visit.changed", 2, "2026-12-01T11:00:00.000Z",
                                       "refused"), expires_at=2_000_000_000)

    page = get(inbox, admin, f"/staff/webhooks/{endpoint_id}").body.decode()

    rows = re.findall(r"<tr><td data-label=\"Time\">.*?</tr>", page)
    assert len(rows) == 20
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td data-label="[^"]+">(.*?)</td>', rows[0])]
    assert cells == ["Tue 1 Dec 2026, 6:00\u00a0AM", "visit.changed", "msg_r99_1", "2", "No answer",
                     "Refused: not a public address", "None"]
    assert "msg_r24_0" in rows[1] and "msg_r06_0" in rows[19] and "msg_r05_0" not in page
    assert '<td data-label="HTTP status">204</td>' in rows[2] and "63\u00a0ms" in rows[2]
    assert "<strong>Failed (tried again later)</strong>" in rows[5] and "1,220\u00a0ms" in rows[5]


@pytest.mark.parametrize("path", ["/staff/webhooks/ep_0000000000000000", "/staff/webhooks/APPT%23x",
                                  "/staff/webhooks/ep_0000000000000000/delete"])
def test_an_unknown_endpoint_is_a_404_page(inbox, admin, path):  # noqa: F811
    answer = get(inbox, admin, path)
    assert answer.status_code == 404
    assert "There is no such webhook endpoint" in answer.body.decode()


@pytest.mark.parametrize("action", ["rotate", "disable", "enable", "delete"])
def test_an_action_on_an_unknown_endpoint_is_a_404_and_makes_nothing(inbox, admin, endpoints, action):  # noqa: F811
    answer = post(inbox, admin, f"/staff/webhooks/ep_0000000000000000/{action}", {"confirm": "yes"})
    assert answer.status_code == 404
    assert endpoints.all() == []


def test_each_change_is_logged_with_who_did_it_and_never_the_url_or_a_secret(inbox, admin):  # noqa: F811
    before = len(captured_log_lines())
    _, endpoint_id, first = add(inbox, admin)
    second = SECRET.search(post(inbox, admin, f"/staff/webhooks/{endpoint_id}/rotate", {}).body.decode()).group(1)
    post(inbox, admin, f"/staff/webhooks/{endpoint_id}/disable", {})
    post(inbox, admin, f"/staff/webhooks/{endpoint_id}/enable", {})
    post(inbox, admin, f"/staff/webhooks/{endpoint_id}/delete", {"confirm": "yes"})

    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    changes = [(line["event"], line["actor"], line["endpoint_id"]) for line in lines
               if line.get("event", "").startswith("webhook_")]
    assert changes == [(event, "Ana Admin", endpoint_id) for event in (
        "webhook_endpoint_added", "webhook_secret_rotated", "webhook_endpoint_disabled", "webhook_endpoint_enabled",
        "webhook_endpoint_deleted")]
    requests = [line for line in lines if line.get("event") == "request" and "webhooks" in line["route"]]
    assert [line["outcome"] for line in requests] == [
        "webhook_added", "secret_rotated", "webhook_disabled", "webhook_enabled", "webhook_deleted"]
    text = "\n".join(captured_log_lines()[before:])
    for value in ("pms.clinic.example", first, second, first[6:20], second[6:20]):
        assert value not in text
