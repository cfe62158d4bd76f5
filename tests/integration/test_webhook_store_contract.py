"""One contract for the webhook endpoints' store: the hand-written fake and DynamoDB (moto)."""
import pytest

from chalicelib.storage.webhooks import Delivery, Endpoint, SigningSecret, WebhookRepository
from tests.fakes import FakeWebhookRepository
from tests.staffing import TABLE


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return FakeWebhookRepository()
    request.getfixturevalue("table")
    return WebhookRepository(request.getfixturevalue("dynamodb"), TABLE)


def endpoint(endpoint_id="ep_1", created_at="2026-12-07T10:00:00.000Z", **changes):
    values = dict(id=endpoint_id, url="https://receiver.example/hooks", events=("visit.booked", "visit.cancelled"),
                  active=True, created_at=created_at, created_by="Ana Admin", updated_at=created_at,
                  secrets=(SigningSecret("n1", created_at),))
    return Endpoint(**{**values, **changes})


def attempt(endpoint_id, at, event_id="msg_r1_0", number=1, **changes):
    values = dict(endpoint_id=endpoint_id, event_id=event_id, event_type="visit.booked", attempt=number, at=at,
                  outcome="delivered", status=200, latency_ms=31)
    return Delivery(**{**values, **changes})


def test_an_endpoint_reads_back_as_it_was_added(store):
    store.add(endpoint())
    assert store.get("ep_1") == endpoint()


def test_an_unknown_endpoint_is_none(store):
    assert store.get("ep_nobody") is None
    assert store.set_active("ep_nobody", False, "admin", "2026-12-07T11:00:00.000Z") is None
    assert store.set_secrets("ep_nobody", (), "2026-12-07T11:00:00.000Z") is None
    assert store.delete("ep_nobody") is False


def test_endpoints_are_listed_newest_first(store):
    store.add(endpoint("ep_old", "2026-12-01T10:00:00.000Z"))
    store.add(endpoint("ep_new", "2026-12-05T10:00:00.000Z"))
    store.add(endpoint("ep_mid", "2026-12-03T10:00:00.000Z"))  # ids in no order of time (they are random)
    assert [e.id for e in store.all()] == ["ep_new", "ep_mid", "ep_old"]


def test_disabling_keeps_the_reason_and_enabling_clears_it(store):
    store.add(endpoint())
    disabled = store.set_active("ep_1", False, "gone", "2026-12-07T11:00:00.000Z")
    assert (disabled.active, disabled.disabled_reason, disabled.updated_at) == (False, "gone",
                                                                               "2026-12-07T11:00:00.000Z")
    assert not disabled.wants("visit.booked")
    enabled = store.set_active("ep_1", True, None, "2026-12-07T12:00:00.000Z")
    assert (enabled.active, enabled.disabled_reason) == (True, None)
    assert store.get("ep_1") == enabled


def test_new_secrets_replace_the_old_ones(store):
    store.add(endpoint())
    secrets = (SigningSecret("n2", "2026-12-07T11:00:00.000Z"),
               SigningSecret("n1", "2026-12-07T10:00:00.000Z", "2026-12-08T11:00:00.000Z"))
    assert store.set_secrets("ep_1", secrets, "2026-12-07T11:00:00.000Z").secrets == secrets
    assert store.get("ep_1").secrets == secrets


def test_the_newest_twenty_deliveries_are_read_newest_first(store):
    store.add(endpoint())
    for minute in range(25):
        store.record_delivery(attempt("ep_1", f"2026-12-07T10:{minute:02d}:00.000Z"), expires_at=1_900_000_000)
    store.record_delivery(attempt("ep_1", "2026-12-07T10:30:00.000Z", status=None, latency_ms=None,
                                  outcome="failed", number=2), expires_at=1_900_000_000)
    read = store.deliveries("ep_1")
    assert len(read) == 20
    assert read[0] == attempt("ep_1", "2026-12-07T10:30:00.000Z", status=None, latency_ms=None, outcome="failed",
                              number=2)
    assert [d.at for d in read[1:]] == [f"2026-12-07T10:{m:02d}:00.000Z" for m in range(24, 5, -1)]


def test_deliveries_are_each_endpoints_own(store):
    store.add(endpoint("ep_1"))
    store.add(endpoint("ep_2"))
    store.record_delivery(attempt("ep_2", "2026-12-07T10:00:00.000Z"), expires_at=1_900_000_000)
    assert store.deliveries("ep_1") == []
    assert len(store.deliveries("ep_2")) == 1


def test_deleting_an_endpoint_deletes_it_alone_and_leaves_its_deliveries_to_their_ttl(store):
    """Deleting is one DeleteItem, inside an API request: a busy endpoint's 30 days of attempts are left to the
    table's TTL (expires_at), as they were recorded. Nothing shows them once the endpoint is gone (its page is a
    404), and another endpoint's id is never the same (random)."""
    store.add(endpoint())
    store.add(endpoint("ep_2"))
    store.record_delivery(attempt("ep_1", "2026-12-07T10:00:00.000Z"), expires_at=1_900_000_000)
    assert store.delete("ep_1") is True
    assert store.get("ep_1") is None and [e.id for e in store.all()] == ["ep_2"]
    assert store.deliveries("ep_1") == [attempt("ep_1", "2026-12-07T10:00:00.000Z")]
    assert store.delete("ep_1") is False
