"""One contract, two repositories: the hand-written fake the unit tests trust, and DynamoDB under moto.

If the fake drifts from the real adapter, a unit test could pass on behaviour DynamoDB does not have.
"""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import PayloadTooLarge
from chalicelib.storage.appointments import AppointmentRepository
from tests.alerting import stored_request
from tests.conftest import STAGE_ENV
from tests.fakes import FakeRepository

FIRST = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["fake", "dynamodb"])
def repository(request):
    if request.param == "fake":
        return FakeRepository()
    dynamodb = request.getfixturevalue("dynamodb")
    request.getfixturevalue("table")
    return AppointmentRepository(dynamodb, STAGE_ENV["APPOINTMENTS_TABLE"])


def test_a_new_id_is_stored_and_found(repository):
    request = stored_request(id="contract-new-1")
    assert repository.add(request) is None
    found = repository.find("contract-new-1")
    assert (found.id, found.dedupe_key, found.content_hash, found.created_at) == (
        request.id, request.dedupe_key, request.content_hash, FIRST)


def test_an_id_taken_is_never_overwritten_and_the_holder_is_returned(repository):
    first = stored_request(id="contract-taken-1")
    later = stored_request(id="contract-taken-1", created_at=FIRST + timedelta(hours=1), first_name="Other")
    later = later.model_copy(update={"dedupe_key": "content:other", "content_hash": "1" * 64})
    repository.add(first)

    existing = repository.add(later)

    assert (existing.id, existing.dedupe_key, existing.content_hash, existing.created_at) == (
        first.id, first.dedupe_key, first.content_hash, FIRST)
    assert repository.find("contract-taken-1").dedupe_key == first.dedupe_key


def test_an_unknown_id_is_none(repository):
    assert repository.find("contract-unknown") is None


def test_an_item_over_dynamodb_s_limit_is_refused_by_both(repository):
    huge = stored_request(id="contract-huge-1", message="x" * (400 * 1024))
    with pytest.raises(PayloadTooLarge):
        repository.add(huge)
    assert repository.find("contract-huge-1") is None
