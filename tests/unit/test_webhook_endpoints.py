"""Webhook endpoints as admins manage them, and their Standard Webhooks signatures (read back by the
`standardwebhooks` package, as a receiver would)."""
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chalicelib.core.config import Settings
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.webhooks import signing
from chalicelib.webhooks.endpoints import EVENT_TYPES, MAX_URL, WebhookAdmin, url_problem
from tests.conftest import STAGE_ENV
from tests.fakes import FakeWebhookRepository

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
KEY = b"webhook-secrets-key-for-tests-only!!"


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def admin(loopback=False, clock=None, repository=None):
    settings = replace(Settings.from_env(STAGE_ENV), webhook_loopback=loopback)
    nonces = iter(f"nonce-{n}" for n in range(100))
    ids = iter(f"ep_{n:016x}" for n in range(100))
    return WebhookAdmin(repository or FakeWebhookRepository(), settings, lambda: KEY, now=clock or (lambda: NOW),
                        new_id=lambda: next(ids), nonce=lambda: next(nonces))


def body(**data):
    return json.dumps({"type": "visit.booked", "timestamp": "2026-12-07T15:00:00.000Z", "data": data}).encode()


# --- The URL an admin gives

@pytest.mark.parametrize("url", ["https://receiver.example/hooks", "https://receiver.example:8443/h?clinic=1",
                                 "https://8.8.8.8/hooks", "https://deadbeef.example/hooks", "https://1e100.net/",
                                 "https://" + "a" * (MAX_URL - len("https://.example")) + ".example"])
def test_a_public_https_url_will_do(url):
    assert url_problem(url, loopback_allowed=False) is None


@pytest.mark.parametrize("url, words", [
    ("", "Enter the receiver's URL"),
    ("http://receiver.example/hooks", "Use https://"),
    ("https://" + "a" * (MAX_URL - len("https://.example") + 1) + ".example", "at most 2048"),
    ("https://user:pass@receiver.example/", "no user name or password"),
    ("https://receiver.example/hooks#part", "no #fragment"),
    ("https://receiver.example/ho oks", "no spaces"),
    ("https://receiver.example/\nX-Injected: 1", "no spaces"),
    ("ftp://receiver.example/", "starting with https://"),
    ("https:///nohost", "starting with https://"),
    ("https://receiver.example:99999/", "not a URL"),
    ("https://127.0.0.1/hooks", "the service's own computer"),
    ("https://localhost/hooks", "the service's own computer"),
    ("https://10.1.2.3/hooks", "private"),
    ("https://169.254.169.254/latest/meta-data", "private"),
    ("https://[fd00:ec2::254]/", "private"),
    ("https://localhost./hooks", "the service's own computer"),
    ("https://receiver.localhost/hooks", "the service's own computer"),
    ("https://127.1/hooks", "the service's own computer"),
    ("https://0x7f000001/hooks", "the service's own computer"),
    ("https://2130706433/hooks", "the service's own computer"),
    ("https://10.1/hooks", "private"),
    ("https://[fec0::1]/hooks", "private"),
    ("https://224.0.0.1/hooks", "private"),
    ("https://receiver.example:0/hooks", "port 0"),
])
def test_a_url_that_will_not_do_says_why(url, words):
    assert words in url_problem(url, loopback_allowed=False)


def test_plain_http_to_this_computer_is_for_the_local_stack_only():
    assert url_problem("http://127.0.0.1:9009/hook", loopback_allowed=True) is None
    assert url_problem("http://localhost:9009/hook", loopback_allowed=True) is None
    assert "Use https://" in url_problem("http://receiver.example/hook", loopback_allowed=True)
    assert "Use https://" in url_problem("http://127.0.0.1:9009/hook", loopback_allowed=False)


# --- Adding

def test_adding_gives_the_endpoint_and_its_secret_once():
    webhooks = admin()
    endpoint, secret = webhooks.add(" https://receiver.example/hooks ", ["visit.booked", "visit.booked"], "Ana")
    assert endpoint.url == "https://receiver.example/hooks"
    assert endpoint.events == ("visit.booked",)
    assert (endpoint.active, endpoint.created_by, endpoint.created_at) == (True, "Ana", "2026-12-07T15:00:00.000Z")
    assert secret.startswith("whsec_") and len(secret) > 40
    assert secret not in json.dumps(endpoint.as_json())
    assert webhooks.list() == [endpoint]


def test_the_secret_is_derived_never_stored():
    repository = FakeWebhookRepository()
    endpoint, secret = admin(repository=repository).add("https://r.example/h", ["visit.booked"], "Ana")
    assert secret == signing.endpoint_secret(KEY, endpoint.id, "nonce-0")
    assert secret not in repr(repository.endpoints) and secret.removeprefix("whsec_") not in repr(repository.endpoints)
    assert signing.endpoint_secret(b"another deployment's key!!!!!!!!!!!", endpoint.id, "nonce-0") != secret


def test_each_field_at_fault_is_named():
    with pytest.raises(ValidationFailed) as failed:
        admin().add("http://receiver.example/", [], "Ana")
    assert set(failed.value.fields) == {"url", "events"}
    with pytest.raises(ValidationFailed) as failed:
        admin().add("https://receiver.example/", ["visit.booked", "visit.rescheduled"], "Ana")
    assert "visit.rescheduled" in failed.value.fields["events"] and set(failed.value.fields) == {"events"}


def test_every_event_of_the_spec_can_be_chosen():
    endpoint, _ = admin().add("https://r.example/h", list(EVENT_TYPES), "Ana")
    assert endpoint.events == EVENT_TYPES == (
        "appointment.requested", "appointment.status_changed", "visit.booked", "visit.changed", "visit.cancelled",
        "visit.change_requested", "visit.confirmed", "appointment.erased")


# --- Rotating, disabling, deleting

def test_after_a_rotation_both_secrets_sign_for_exactly_24_hours():
    clock = Clock()
    webhooks = admin(clock=clock)
    endpoint, old = webhooks.add("https://r.example/h", ["visit.booked"], "Ana")
    clock.now = NOW + timedelta(hours=3)
    new = webhooks.rotate(endpoint.id, "Ana")
    assert new != old
    endpoint = webhooks.get(endpoint.id)
    assert webhooks.signing_secrets(endpoint) == [new, old]
    clock.now = NOW + timedelta(hours=27) - timedelta(milliseconds=1)
    assert webhooks.signing_secrets(endpoint) == [new, old]
    clock.now = NOW + timedelta(hours=27)
    assert webhooks.signing_secrets(endpoint) == [new]


def test_a_second_rotation_retires_the_first_secret_at_once():
    webhooks = admin()
    endpoint, first = webhooks.add("https://r.example/h", ["visit.booked"], "Ana")
    second = webhooks.rotate(endpoint.id, "Ana")
    third = webhooks.rotate(endpoint.id, "Ana")
    assert webhooks.signing_secrets(webhooks.get(endpoint.id)) == [third, second]
    assert first not in webhooks.signing_secrets(webhooks.get(endpoint.id))


def test_disabled_endpoints_want_nothing_until_enabled():
    webhooks = admin()
    endpoint, _ = webhooks.add("https://r.example/h", ["visit.booked"], "Ana")
    assert webhooks.disable(endpoint.id, "Ana").wants("visit.booked") is False
    assert webhooks.get(endpoint.id).disabled_reason == "admin"
    enabled = webhooks.enable(endpoint.id, "Ana")
    assert enabled.wants("visit.booked") and not enabled.wants("visit.cancelled")


@pytest.mark.parametrize("action", ["get", "rotate", "disable", "enable", "delete"])
def test_an_unknown_endpoint_is_not_found(action):
    webhooks = admin()
    call = getattr(webhooks, action)
    with pytest.raises(NotFound):
        call("ep_nobody") if action == "get" else call("ep_nobody", "Ana")


def test_deleting_forgets_the_endpoint():
    webhooks = admin()
    endpoint, _ = webhooks.add("https://r.example/h", ["visit.booked"], "Ana")
    webhooks.delete(endpoint.id, "Ana")
    assert webhooks.list() == []
    with pytest.raises(NotFound):
        webhooks.delete(endpoint.id, "Ana")


# --- Signatures, as the standardwebhooks package reads them

def test_a_receiver_verifies_a_delivery_with_its_secret():
    secret = signing.endpoint_secret(KEY, "ep_1", "n")
    now = datetime.now(timezone.utc).timestamp()  # the package checks the timestamp against its own clock
    headers = signing.headers([secret], "msg_r1_0", now, body(id="r1"))
    assert headers["webhook-id"] == "msg_r1_0" and headers["webhook-timestamp"] == str(int(now))
    assert Webhook(secret).verify(body(id="r1"), headers) == json.loads(body(id="r1"))


def test_a_tampered_body_fails_verification():
    secret = signing.endpoint_secret(KEY, "ep_1", "n")
    headers = signing.headers([secret], "msg_r1_0", datetime.now(timezone.utc).timestamp(), body(id="r1"))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body(id="r2"), headers)


def test_an_old_timestamp_fails_verification():
    secret = signing.endpoint_secret(KEY, "ep_1", "n")
    old = datetime.now(timezone.utc) - timedelta(minutes=10)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body(id="r1"), signing.headers([secret], "msg_r1_0", old.timestamp(), body(id="r1")))


def test_during_a_rotation_either_secret_verifies_and_a_retired_one_does_not():
    clock = Clock()
    webhooks = admin(clock=clock)
    endpoint, old = webhooks.add("https://r.example/h", ["visit.booked"], "Ana")
    new = webhooks.rotate(endpoint.id, "Ana")
    now = datetime.now(timezone.utc).timestamp()
    during = signing.headers(webhooks.signing_secrets(webhooks.get(endpoint.id)), "msg_r1_0", now, body())
    assert len(during["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(body(), during) and Webhook(old).verify(body(), during)
    clock.now = NOW + timedelta(hours=24)
    after = signing.headers(webhooks.signing_secrets(webhooks.get(endpoint.id)), "msg_r1_0", now, body())
    assert Webhook(new).verify(body(), after)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body(), after)


def test_a_url_that_is_not_utf_8_is_refused_not_stored():
    """`make webhook-add URL=...` with bytes that are not UTF-8 gives Python a lone surrogate: taken, it breaks the
    DynamoDB write with a traceback (and could never be sent)."""
    assert "not a URL" in url_problem("https://receiver.example/caf\udce9", loopback_allowed=False)


class NoTable(FakeWebhookRepository):
    def __getattribute__(self, name):
        if name in ("get", "delete", "set_active", "set_secrets"):
            raise AssertionError("asked the table about something that is no endpoint id")
        return super().__getattribute__(name)


@pytest.mark.parametrize("endpoint_id", ["x" * 3000, "EP_0000000000000000", "ep_000000000000000", "../ep", ""])
@pytest.mark.parametrize("action", ["get", "rotate", "disable", "enable", "delete"])
def test_what_is_no_endpoint_id_is_not_found_without_asking_the_table(action, endpoint_id):
    webhooks = admin(repository=NoTable())
    call = getattr(webhooks, action)
    with pytest.raises(NotFound):
        call(endpoint_id) if action == "get" else call(endpoint_id, "Ana")
