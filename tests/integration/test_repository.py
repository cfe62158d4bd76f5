"""The DynamoDB adapter under moto: item layout, TTL, the conditional put, failures, no scans."""
import json
import socket
from datetime import timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from chalicelib.core.errors import PayloadTooLarge, StorageUnavailable
from chalicelib.intake.service import AppointmentService
from chalicelib.storage.appointments import AppointmentRepository, item_key, to_item
from chalicelib.storage.dynamo import MAX_ITEM_BYTES, deserialize, item_size
from tests.conftest import captured_log_lines, id_key, remember_personal, response_json, valid_fields
from tests.fakes import Clock, FakeRepository, Ids

KEY = "repo-test-key-0001"


@pytest.fixture
def repository(dynamodb, table):
    return AppointmentRepository(dynamodb, table)


@pytest.fixture
def clock(fixed_now):
    return Clock(fixed_now)


def submit(repository, settings, clock, fields, key=None):
    remember_personal(fields)
    return AppointmentService(repository, settings, id_key, now=clock, new_id=Ids()).submit(fields, key)


def a_request(settings, fixed_now, **overrides):
    """A request as the service builds it, without storing it anywhere."""
    fake = FakeRepository()
    fields = valid_fields(**overrides)
    remember_personal(fields)
    receipt = AppointmentService(fake, settings, id_key, now=lambda: fixed_now).submit(fields)
    return fake.requests[receipt.id]


def raw_item(dynamodb, table, request_id):
    return dynamodb.get_item(TableName=table, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                             ConsistentRead=True).get("Item")


def all_items(dynamodb, table):
    # Only the test looks at the whole table; the code under test never does.
    return dynamodb.scan(TableName=table)["Items"]


def test_item_layout(repository, dynamodb, table, settings, clock):
    receipt = submit(repository, settings, clock, valid_fields(
        preferred_contact="text", sms_consent=True, new_patient=False, message="Knee ✓", utm_source="ad",
    ))

    item = raw_item(dynamodb, table, receipt.id)

    assert item["pk"] == {"S": f"APPT#{receipt.id}"}
    assert item["sk"] == {"S": "APPT"}
    assert item["entity"] == {"S": "appointment"}
    assert item["id"] == {"S": receipt.id}
    assert item["status"] == {"S": "new"}
    assert item["location"] == {"S": "downtown"}
    assert item["created_at"] == {"S": "2026-11-25T15:00:00.000Z"}
    assert item["expires_at"] == {"N": str(int((clock.now + timedelta(days=365)).timestamp()))}
    assert item["fields"]["M"]["first_name"] == {"S": "Zoë"}
    assert item["fields"]["M"]["phone"] == {"S": "+12125550142"}
    assert item["fields"]["M"]["new_patient"] == {"BOOL": False}
    assert item["fields"]["M"]["message"] == {"S": "Knee ✓"}
    assert "utm_source" not in item["fields"]["M"]
    assert deserialize(item)["consent"] == {  # when, and which language's wording of which version
        "contact": {"given_at": "2026-11-25T15:00:00.000Z", "version": "2026-12-06", "language": "en"},
        "sms": {"given_at": "2026-11-25T15:00:00.000Z", "version": "2026-12-06", "language": "en"},
    }
    assert item["due_at"] == {"S": "2026-11-25T23:00:00.000Z"}  # 10:00 in New York, 8 opening hours on
    assert item["due_queue"] == {"S": "new"}  # watched by the escalation until contacted
    assert item["ref_prefix"] == {"S": receipt.id[:8]}
    assert len(item["phone_hash"]["S"]) == len(item["email_hash"]["S"]) == 64  # keyed hashes, never the values
    assert set(item) == {
        "pk", "sk", "entity", "id", "status", "location", "created_at", "expires_at", "fields", "consent",
        "dedupe_key", "content_hash", "due_at", "due_queue", "phone_hash", "email_hash", "ref_prefix", "language",
    }


def test_without_sms_consent_only_contact_consent_is_kept(repository, dynamodb, table, settings, clock):
    receipt = submit(repository, settings, clock, valid_fields())

    assert set(deserialize(raw_item(dynamodb, table, receipt.id))["consent"]) == {"contact"}


def test_a_honeypot_hit_is_stored_as_suspected_spam_for_a_week(repository, dynamodb, table, settings, clock):
    receipt = submit(repository, settings, clock, valid_fields(website="http://spam.example"))

    item = deserialize(raw_item(dynamodb, table, receipt.id))
    assert item["status"] == "suspected_spam"
    assert item["expires_at"] == Decimal(int((clock.now + timedelta(days=7)).timestamp()))
    assert "website" not in item["fields"]


def test_ttl_is_enabled_on_expires_at(dynamodb, table):
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]

    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_a_taken_id_returns_the_existing_item_and_keeps_it(repository, dynamodb, table, settings, fixed_now):
    first = a_request(settings, fixed_now)
    second = a_request(settings, fixed_now + timedelta(hours=1), message="Another one.").model_copy(
        update={"id": first.id}
    )

    assert repository.add(first) is None
    existing = repository.add(second)

    assert existing.id == first.id
    assert existing.dedupe_key == first.dedupe_key
    assert existing.content_hash == first.content_hash
    assert existing.created_at == fixed_now
    assert "message" not in deserialize(raw_item(dynamodb, table, first.id))["fields"]
    assert len(all_items(dynamodb, table)) == 1


def test_find_reads_one_item_by_id(repository, settings, fixed_now):
    request = a_request(settings, fixed_now)
    repository.add(request)

    assert repository.find(request.id).created_at == fixed_now
    assert repository.find("no-such-id") is None


def test_retries_and_replays_through_the_real_table_store_one_item(repository, dynamodb, table, settings, clock):
    first = submit(repository, settings, clock, valid_fields(), KEY)
    clock.advance(seconds=3)
    again = submit(repository, settings, clock, valid_fields(), KEY)
    clock.advance(days=2)
    reused = submit(repository, settings, clock, valid_fields(message="Two days later."), KEY)
    clock.advance(seconds=3)
    retried = submit(repository, settings, clock, valid_fields(message="Two days later."), KEY)

    assert again.id == first.id and again.replayed
    assert reused.id != first.id and not reused.replayed
    assert retried.id == reused.id and retried.replayed
    assert len(all_items(dynamodb, table)) == 2


# --- failures become StorageUnavailable ------------------------------------------------------------

def quick_client(**kwargs):
    """A DynamoDB client that does not retry, so a failure shows at once."""
    return boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1),
        **kwargs,
    )


@pytest.mark.parametrize("code, status", [
    ("ProvisionedThroughputExceededException", 400),
    ("ThrottlingException", 400),
    ("RequestLimitExceeded", 400),
    ("InternalServerError", 500),
    ("ServiceUnavailable", 503),
    ("ResourceNotFoundException", 400),
    ("AccessDeniedException", 400),
])
def test_an_aws_error_on_put_is_storage_unavailable(settings, fixed_now, code, status):
    client = quick_client()
    stub = Stubber(client)
    stub.add_client_error("put_item", service_error_code=code, http_status_code=status)

    with stub, pytest.raises(StorageUnavailable):
        AppointmentRepository(client, "appointments-dev").add(a_request(settings, fixed_now))


def test_an_error_reading_the_taken_item_is_storage_unavailable(settings, fixed_now):
    client = quick_client()
    stub = Stubber(client)
    stub.add_client_error("put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400)
    stub.add_client_error("get_item", service_error_code="ThrottlingException", http_status_code=400)

    with stub, pytest.raises(StorageUnavailable):
        AppointmentRepository(client, "appointments-dev").add(a_request(settings, fixed_now))


def test_a_missing_table_is_storage_unavailable(dynamodb, table, settings, fixed_now):
    repository = AppointmentRepository(dynamodb, "no-such-table")

    with pytest.raises(StorageUnavailable):
        repository.add(a_request(settings, fixed_now))
    with pytest.raises(StorageUnavailable):
        repository.find("any-id")


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_endpoint_is_storage_unavailable(settings, fixed_now):
    client = quick_client(endpoint_url=f"http://127.0.0.1:{unused_port()}")
    repository = AppointmentRepository(client, "appointments-dev")

    with pytest.raises(StorageUnavailable):
        repository.add(a_request(settings, fixed_now))
    with pytest.raises(StorageUnavailable):
        repository.find("any-id")


def test_storage_errors_are_logged_by_code_only(settings, fixed_now):
    client = quick_client()
    stub = Stubber(client)
    stub.add_client_error("put_item", service_error_code="ThrottlingException", service_message="Rate exceeded")
    before = len(captured_log_lines())

    with stub, pytest.raises(StorageUnavailable):
        AppointmentRepository(client, "appointments-dev").add(a_request(settings, fixed_now))

    [line] = [json.loads(line) for line in captured_log_lines()[before:]]
    assert (line["level"], line["event"], line["error_code"]) == ("WARNING", "storage_error", "ThrottlingException")
    assert "Rate exceeded" not in json.dumps(line)


# --- the item size guard -----------------------------------------------------------------------

def test_item_size_counts_names_and_values_in_utf8():
    assert item_size("abc") == 3
    assert item_size("ü") == 2
    assert item_size("李") == 3
    assert item_size("🦵") == 4
    assert item_size("abc", "name") == 7
    assert item_size(True, "flag") == 5
    assert item_size({"a": "bc"}) == 3 + (1 + 2) + 1


def test_a_real_request_is_far_below_the_item_limit(settings, fixed_now):
    request = a_request(settings, fixed_now, message="🦵" * 2000, insurance="李" * 100)

    assert item_size(to_item(request)) < MAX_ITEM_BYTES / 10


def test_an_item_over_400_kb_is_refused_before_anything_is_written(repository, dynamodb, table, settings, fixed_now):
    request = a_request(settings, fixed_now)
    huge = request.model_copy(update={"fields": {**request.fields, "message": "m" * MAX_ITEM_BYTES}})

    with pytest.raises(PayloadTooLarge):
        repository.add(huge)
    assert all_items(dynamodb, table) == []


def test_item_key_names_the_request():
    assert item_key("abc") == {"pk": "APPT#abc", "sk": "APPT"}


# --- the request path never scans ------------------------------------------------------------

class ScanAttempted(AssertionError):
    pass


def refuse_scans(client):
    def refuse(**_):
        raise ScanAttempted("the request path scanned the table")

    client.meta.events.register("before-call.dynamodb.Scan", refuse)
    with pytest.raises(ScanAttempted):
        client.scan(TableName="appointments-dev")  # the trap itself works


def test_no_code_path_of_a_submission_scans(api, dynamodb):
    from chalicelib import wiring

    refuse_scans(wiring.aws_client("dynamodb"))
    key = {"Idempotency-Key": "no-scan-key-0001"}

    answers = [
        api.post_json(valid_fields(message="no scan: new")),
        api.post_json(valid_fields(message="no scan: new")),  # keyless replay
        api.post_json(valid_fields(message="no scan: keyed"), key),
        api.post_json(valid_fields(message="no scan: keyed"), key),  # keyed replay
        api.post_json(valid_fields(message="no scan: conflict"), key),
        api.post_json(valid_fields(website="spam", message="no scan: spam")),
        api.post_form(valid_fields(contact_consent="on", message="no scan: form"), {"Accept": "text/html"}),
        api.post_json(valid_fields(email="broken")),
        api.post_json({"first_name": "Zoë"}, {"Idempotency-Key": "bad"}),
    ]

    assert [a.status_code for a in answers] == [201, 201, 201, 201, 409, 201, 303, 422, 422]
    assert response_json(answers[1])["id"] == response_json(answers[0])["id"]


def test_no_code_path_of_a_reused_key_scans(repository, dynamodb, settings, clock):
    refuse_scans(dynamodb)

    for step in ({}, {"seconds": 5}, {"days": 2}, {"seconds": 5}, {"minutes": 11}):
        clock.advance(**step)
        submit(repository, settings, clock, valid_fields(), KEY)
        submit(repository, settings, clock, valid_fields())


def test_a_storage_endpoint_that_never_answers_gives_up_within_seconds(settings, fixed_now, aws_credentials):
    """The production client settings (timeouts, bounded retries): a silent server never hangs a request."""
    import time

    import botocore.session

    from chalicelib.wiring import CLIENT_CONFIG

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    try:
        client = botocore.session.get_session().create_client(
            "dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            config=Config(**CLIENT_CONFIG),
        )
        service = AppointmentService(AppointmentRepository(client, "appointments"), settings, id_key, now=lambda: fixed_now)
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            service.submit(valid_fields())
        assert time.monotonic() - started < 15
    finally:
        silent.close()
