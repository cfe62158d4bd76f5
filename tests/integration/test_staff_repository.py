"""The staff side of the DynamoDB adapter under moto: indexes not scans, pages, cursors, writes, tokens."""
import base64
import json
from datetime import datetime, timezone

import pytest
from chalice.app import DynamoDBRecord

from chalicelib.notify.delivery import AlertDelivery
from chalicelib.staff.auth import StaffMember, TokenAdmin
from chalicelib.staff.triage import ACTIVE, HistoryEntry, InvalidCursor, ListQuery, StaffService
from chalicelib.storage import staff_records as repository_module
from chalicelib.storage.appointments import AppointmentRepository
from chalicelib.storage.dynamo import deserialize
from chalicelib.storage.staff_records import StaffRepository, encode_cursor
from chalicelib.storage.tokens import TokenRepository
from tests.conftest import remember_personal
from tests.fakes import Clock
from tests.staffing import TABLE, seed

ANA = StaffMember("Ana Admin", "admin", "tok-ana")


class ScanAttempted(AssertionError):
    pass


@pytest.fixture
def repository(dynamodb, table):
    def refuse(**_):
        raise ScanAttempted("the staff API scanned the table")

    dynamodb.meta.events.register("before-call.dynamodb.Scan", refuse)
    yield StaffRepository(dynamodb, table)
    dynamodb.meta.events.unregister("before-call.dynamodb.Scan", refuse)


@pytest.fixture
def queries(dynamodb):
    """The parameters of every Query call the code makes."""
    seen = []

    def record(params, **_):
        seen.append(dict(params))

    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", record)
    return seen


@pytest.fixture
def clock(fixed_now):
    return Clock(fixed_now)


@pytest.fixture
def staff(repository, settings, clock):
    return StaffService(repository, settings, now=clock)


def raw_item(dynamodb, request_id):
    return dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                             ConsistentRead=True).get("Item")


def every_page(repository, query, limit):
    records, cursor, pages = [], None, 0
    while True:
        page = repository.list_page(query, limit, cursor)
        records += page.records
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return records, pages
        assert pages < 100


@pytest.fixture
def mixed(dynamodb, settings):
    """23 requests over three days, two locations and every status, some received at the same instant."""
    seeds = []
    plan = [("new", "downtown"), ("contacted", "northside"), ("scheduled", "downtown"), ("closed", "northside"),
            ("suspected_spam", "downtown"), ("new", "northside")]
    for n in range(23):
        status, location = plan[n % len(plan)]
        when = f"2026-11-{23 + n // 8}T1{n % 8 // 3}:00:00.000Z"  # groups of three share an instant
        seeds.append((seed(dynamodb, settings, when, status=status, location=location), status, location, when))
    return seeds


def expected(mixed, statuses=ACTIVE, location=None):
    return sorted((when, request_id) for request_id, status, loc, when in mixed
                  if status in statuses and location in (None, loc))


# --- one index per filter, never a scan ----------------------------------------------------------------

@pytest.mark.parametrize("query, index, filtered", [
    (ListQuery(), "by_created", True),
    (ListQuery(statuses=("contacted",)), "by_status", False),
    (ListQuery(location="northside"), "by_location", True),
    (ListQuery(statuses=("new",), location="northside"), "by_status", True),
    (ListQuery(statuses=("suspected_spam",)), "by_status", False),
    (ListQuery(created_from="2026-11-24T05:00:00.000Z", created_to="2026-11-25T04:59:59.999Z"), "by_created", True),
])
def test_each_filter_is_a_query_on_its_index(repository, mixed, queries, query, index, filtered):
    repository.list_page(query, 5)

    assert {q["IndexName"] for q in queries} == {index}
    assert all(q["ScanIndexForward"] is False for q in queries)
    assert all(("FilterExpression" in q) == filtered for q in queries)


def test_no_staff_code_path_scans(repository, staff, dynamodb, settings, mixed):
    request_id = mixed[0][0]
    for params in ({}, {"status": ["suspected_spam"]}, {"location": ["northside"]}, {"from": ["2026-11-24"]},
                   {"status": ["new"], "location": ["downtown"], "to": ["2026-11-24"]}, {"limit": ["2"]}):
        page = staff.list(params)
        if page["next_cursor"]:
            staff.list({**params, "cursor": [page["next_cursor"]]})
        staff.export_csv({name: value for name, value in params.items() if name != "limit"})
    staff.get(request_id)
    staff.update_status(request_id, {"status": "contacted", "note": "Called."}, ANA)
    staff.erase(request_id, ANA)
    staff.erase(request_id, ANA)
    tokens = TokenAdmin(TokenRepository(dynamodb, TABLE))
    _, record = tokens.create("Sam Staff", "staff")
    tokens.list()
    tokens.revoke(record.id)

    with pytest.raises(ScanAttempted):
        dynamodb.scan(TableName=TABLE)  # the trap itself works


# --- pages: nothing lost, nothing twice -------------------------------------------------------------------

@pytest.mark.parametrize("statuses, location", [
    (ACTIVE, None), (ACTIVE, "downtown"), (("new",), None), (("new",), "northside"), (("suspected_spam",), None),
])
def test_paging_returns_every_match_once_newest_first(repository, mixed, statuses, location):
    want = expected(mixed, statuses, location)
    for limit in (1, 4, 100):
        records, pages = every_page(repository, ListQuery(statuses=statuses, location=location), limit)

        assert sorted((r.created_at, r.id) for r in records) == want
        assert [r.created_at for r in records] == sorted((r.created_at for r in records), reverse=True)
        assert pages == max(1, -(-len(want) // limit)), "only the last page may be short, and none is empty"


def test_a_filter_that_drops_most_items_still_fills_pages(repository, dynamodb, settings):
    kept = [seed(dynamodb, settings, f"2026-11-20T10:00:0{n}.000Z") for n in range(5)]
    for n in range(30):
        seed(dynamodb, settings, f"2026-11-21T10:00:{n:02}.000Z", status="suspected_spam")

    first = repository.list_page(ListQuery(), 3)
    second = repository.list_page(ListQuery(), 3, first.next_cursor)

    assert [r.id for r in first.records] == kept[::-1][:3]
    assert [r.id for r in second.records] == kept[::-1][3:]
    assert second.next_cursor is None


def test_pages_cut_short_by_the_read_bound_still_lose_nothing(repository, dynamodb, settings, monkeypatch):
    monkeypatch.setattr(repository_module, "FILTERED_QUERY_LIMIT", 1)
    monkeypatch.setattr(repository_module, "MAX_QUERY_CALLS", 2)
    kept = [seed(dynamodb, settings, f"2026-11-20T10:00:0{n}.000Z") for n in range(4)]
    for n in range(9):
        seed(dynamodb, settings, f"2026-11-20T10:00:1{n}.000Z", status="suspected_spam")

    records, pages = every_page(repository, ListQuery(), 2)

    assert [r.id for r in records] == kept[::-1]
    assert pages > 2


def test_the_last_full_page_has_no_cursor(repository, dynamodb, settings):
    for n in range(4):
        seed(dynamodb, settings, f"2026-11-20T10:00:0{n}.000Z")

    page = repository.list_page(ListQuery(), 4)

    assert len(page.records) == 4 and page.next_cursor is None


def test_dates_bound_the_listing_in_the_clinics_day(staff, dynamodb, settings):
    before = seed(dynamodb, settings, "2026-11-25T04:59:59.999Z")  # 11:59:59 PM on the 24th in New York
    first = seed(dynamodb, settings, "2026-11-25T05:00:00.000Z")  # midnight on the 25th
    last = seed(dynamodb, settings, "2026-11-26T04:59:59.999Z")
    after = seed(dynamodb, settings, "2026-11-26T05:00:00.000Z")

    ids = [item["id"] for item in staff.list({"from": ["2026-11-25"], "to": ["2026-11-25"]})["items"]]
    since = [item["id"] for item in staff.list({"from": ["2026-11-26"]})["items"]]
    until = [item["id"] for item in staff.list({"to": ["2026-11-24"]})["items"]]

    assert ids == [last, first]
    assert since == [after]
    assert until == [before]


# --- cursors: only what the listing handed out -------------------------------------------------------------

def test_a_cursor_outside_the_dates_asked_for_is_refused(repository):
    query = ListQuery(created_from="2026-11-24T05:00:00.000Z", created_to="2026-11-25T04:59:59.999Z")
    cursor = encode_cursor("2026-11-25T12:00:00.000Z", "k5qg2n4xw7ybz3hd6tjm8rfc")

    with pytest.raises(InvalidCursor):
        repository.list_page(query, 5, cursor)


def test_a_well_formed_cursor_for_an_unknown_item_just_positions_the_page(repository, mixed):
    cursor = encode_cursor("2026-11-24T00:00:00.000Z", "no-such-item")

    page = repository.list_page(ListQuery(statuses=("suspected_spam",)), 100, cursor)

    assert all(r.created_at < "2026-11-24T00:00:00.000Z" for r in page.records)


def test_a_cursor_holds_only_a_time_and_an_id(repository, mixed):
    cursor = repository.list_page(ListQuery(), 2).next_cursor

    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))

    assert set(decoded) == {"c", "i"}


# --- conditional writes -------------------------------------------------------------------------------

def test_a_status_change_appends_to_history_only_if_nobody_changed_it(repository, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")
    record = repository.record(request_id)
    entry = HistoryEntry("2026-11-25T15:05:00.000Z", "Sam Staff", "new", "contacted", "Called.")

    updated = repository.change_status(record, entry)
    again = repository.change_status(record, entry)

    assert updated.status == "contacted" and updated.history == (entry,)
    assert again is None
    assert len(deserialize(raw_item(dynamodb, request_id))["history"]) == 1


def rescue_item(dynamodb, request_id):
    return dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "RESCUE"}},
                             ConsistentRead=True).get("Item")


def test_a_rescue_from_spam_writes_its_rescue_item_with_the_status_change(repository, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z", status="suspected_spam")
    record = repository.record(request_id)
    entry = HistoryEntry("2026-11-25T15:05:00.000Z", "Sam Staff", "suspected_spam", "new", "A real patient.")

    updated = repository.change_status(record, entry, expires_at=1_900_000_000)

    assert updated.status == "new" and updated.history == (entry,)
    rescue = deserialize(rescue_item(dynamodb, request_id))
    # the id, when, and the request's new expiry: nothing personal, not even the note
    assert rescue == {"pk": f"APPT#{request_id}", "sk": "RESCUE", "entity": "rescue", "id": request_id,
                      "at": entry.at, "expires_at": 1_900_000_000}


def test_a_rescue_that_lost_a_race_writes_nothing(repository, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z", status="suspected_spam")
    record = repository.record(request_id)
    entry = HistoryEntry("2026-11-25T15:05:00.000Z", "Sam Staff", "suspected_spam", "new")
    assert repository.change_status(record, entry) is not None
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "RESCUE"}})

    assert repository.change_status(record, entry) is None  # someone rescued it first: a conflict
    assert rescue_item(dynamodb, request_id) is None
    assert len(deserialize(raw_item(dynamodb, request_id))["history"]) == 1


def test_other_status_changes_write_no_rescue_item(repository, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")
    repository.change_status(repository.record(request_id),
                             HistoryEntry("2026-11-25T15:05:00.000Z", "Sam Staff", "new", "contacted"))
    assert rescue_item(dynamodb, request_id) is None


def test_erasure_writes_the_tombstone_whole(repository, staff, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z", preferred_contact="text", sms_consent=True,
                      insurance="Aetna 4471")
    staff.update_status(request_id, {"status": "contacted", "note": "Spoke to Zoë."}, ANA)
    remember_personal({"message": "Spoke to Zoë."})
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                         UpdateExpression="SET alerted_at = :a, alert_message_id = :m",
                         ExpressionAttributeValues={":a": {"S": "2026-11-25T15:00:02.000Z"}, ":m": {"S": "msg-1"}})
    before = deserialize(raw_item(dynamodb, request_id))

    staff.erase(request_id, ANA)

    item = deserialize(raw_item(dynamodb, request_id))
    assert set(item) == {"pk", "sk", "entity", "id", "status", "created_at", "location", "alerted_at",
                         "erased_at", "erased_by", "history"}
    assert (item["entity"], item["status"], item["erased_by"]) == ("erased_appointment", "erased", "Ana Admin")
    assert all("note" not in entry for entry in item["history"])
    for value in (*before["fields"].values(), before["dedupe_key"], before["content_hash"]):
        if isinstance(value, str) and value not in ("downtown", "phone", "text"):
            assert value not in json.dumps(item, ensure_ascii=False)
    assert "expires_at" not in item, "the tombstone stays: it is the record that the erasure happened"


def test_erasure_does_not_overwrite_a_change_made_since_it_read(repository, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")
    stale = repository.record(request_id)
    repository.change_status(stale, HistoryEntry("2026-11-25T15:01:00.000Z", "Sam", "new", "contacted"))
    tombstone = stale.__class__(id=stale.id, status="erased", created_at=stale.created_at, location=stale.location,
                                erased_at="2026-11-25T15:02:00.000Z", erased_by="Ana Admin")

    assert repository.erase(stale, tombstone) is False
    assert repository.record(request_id).status == "contacted"


def test_the_intake_side_does_not_see_a_tombstone(repository, staff, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")
    staff.erase(request_id, ANA)
    intake = AppointmentRepository(dynamodb, TABLE)

    assert intake.get(request_id) is None
    existing = intake.find(request_id)
    assert (existing.id, existing.dedupe_key, existing.content_hash) == (request_id, None, None)


# --- no alert for a request erased before its alert went out ----------------------------------------------

class Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, alert):
        self.sent.append(alert)
        return f"msg-{len(self.sent)}"


def insert_record(image):
    return DynamoDBRecord({
        "eventID": "e1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/appointments-dev/stream/x",
        "dynamodb": {"ApproximateCreationDateTime": 1764082800, "Keys": {k: image[k] for k in ("pk", "sk")},
                     "SequenceNumber": "1", "SizeBytes": 60, "StreamViewType": "KEYS_ONLY"},
    }, None)


def test_a_request_erased_before_its_alert_is_not_alerted(staff, dynamodb, settings):
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")
    image = raw_item(dynamodb, request_id)
    staff.erase(request_id, ANA)
    publisher = Publisher()

    failed = AlertDelivery(AppointmentRepository(dynamodb, TABLE), publisher, settings).deliver([insert_record(image)])

    assert failed == [] and publisher.sent == []
    assert "alerted_at" not in raw_item(dynamodb, request_id)


# --- staff tokens ----------------------------------------------------------------------------------------

def test_a_token_item_holds_the_hash_and_stays_out_of_the_request_indexes(dynamodb, table):
    admin = TokenAdmin(TokenRepository(dynamodb, table))
    token, record = admin.create("Sam Staff", "staff")

    item = deserialize(dynamodb.get_item(TableName=table, Key={"pk": {"S": f"TOKEN#{record.token_hash}"},
                                                               "sk": {"S": "TOKEN"}})["Item"])

    assert set(item) == {"pk", "sk", "entity", "id", "name", "role", "token_hash", "created_at"}
    assert token not in json.dumps(item)
    assert StaffRepository(dynamodb, table).list_page(ListQuery(), 10).records == []


def test_tokens_are_listed_revoked_and_touched_in_the_table(dynamodb, table, settings, clock):
    tokens = TokenRepository(dynamodb, table)
    admin = TokenAdmin(tokens, now=clock)
    _, first = admin.create("Sam Staff", "staff")
    clock.advance(minutes=1)
    _, second = admin.create("Ana Admin", "admin")
    seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")  # a request is not a token

    tokens.touch(first.token_hash, "2026-11-25T15:03:00.000Z", "2026-11-25T15:02:00.000Z")
    tokens.touch(first.token_hash, "2026-11-25T15:03:30.000Z", "2026-11-25T15:02:30.000Z")  # within the minute
    revoked = admin.revoke(first.id)
    again = admin.revoke(first.id)

    assert [r.id for r in admin.list()] == [second.id, first.id]
    assert tokens.get(first.token_hash).last_used_at == "2026-11-25T15:03:00.000Z"
    assert revoked.revoked_at == again.revoked_at == "2026-11-25T15:01:00.000Z"
    assert tokens.get("0" * 64) is None


@pytest.mark.parametrize("mark", ["alerted", "confirmed"])
def test_a_mark_arriving_after_erasure_leaves_the_tombstone_as_it_is(staff, dynamodb, settings, mark):
    """The stream function read the request, then staff erased it: its mark must not write onto the tombstone."""
    request_id = seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")
    staff.erase(request_id, ANA)
    tombstone = raw_item(dynamodb, request_id)
    requests = AppointmentRepository(dynamodb, TABLE)
    now = datetime(2026, 11, 25, 15, 0, 5, tzinfo=timezone.utc)

    marked = requests.mark_alerted(request_id, "msg-1", now) if mark == "alerted" \
        else requests.mark_confirmed(request_id, "sent", now)

    assert marked is False
    assert raw_item(dynamodb, request_id) == tombstone


@pytest.mark.parametrize("mark", ["alerted", "confirmed"])
def test_a_mark_for_a_request_that_is_gone_creates_nothing(dynamodb, table, mark):
    requests = AppointmentRepository(dynamodb, TABLE)
    now = datetime(2026, 11, 25, 15, 0, 5, tzinfo=timezone.utc)
    marked = requests.mark_alerted("gone", "msg-1", now) if mark == "alerted" else requests.mark_confirmed(
        "gone", "sent", now)
    assert marked is False
    assert dynamodb.scan(TableName=TABLE)["Items"] == []


# --- staff accounts ----------------------------------------------------------------------------------------

def test_an_account_is_listed_with_every_field_it_was_saved_with(dynamodb, table, settings, clock):
    """Catches a field of Account missing from the listing's projection (storage.accounts.LISTED): the inbox and
    the digest would see an account without it."""
    from chalicelib.staff.accounts import AccountAdmin
    from chalicelib.storage.accounts import AccountRepository

    accounts = AccountRepository(dynamodb, table)
    admin = AccountAdmin(accounts, now=clock)
    admin.add("ana@clinic.example", "Ana Admin", "admin")
    admin.add("sam@clinic.example", "Sam Staff", "staff", digest=False)
    clock.advance(minutes=1)
    admin.disable("sam@clinic.example")
    seed(dynamodb, settings, "2026-11-25T15:00:00.000Z")  # a request is not an account

    assert sorted(accounts.all(), key=lambda a: a.email) == [accounts.get("ana@clinic.example"),
                                                             accounts.get("sam@clinic.example")]
    assert accounts.get("sam@clinic.example").disabled_at is not None


def test_turning_a_digest_on_or_off_changes_that_and_nothing_else_of_the_account(dynamodb, table, clock):
    """Catches a digest switch made by saving the account again (AccountAdmin.add, or a put of what was read): it
    would make a disabled account active, or undo a change made meanwhile."""
    from dataclasses import replace

    from chalicelib.staff.accounts import AccountAdmin
    from chalicelib.storage.accounts import AccountRepository

    accounts = AccountRepository(dynamodb, table)
    admin = AccountAdmin(accounts, now=clock)
    admin.add("ana@clinic.example", "Ana Admin", "admin")
    admin.add("sam@clinic.example", "Sam Staff", "staff")
    clock.advance(minutes=1)
    before = admin.disable("sam@clinic.example")
    clock.advance(minutes=1)

    off = admin.set_digest(" Sam@Clinic.example", False, actor="Ana Admin")

    assert off == accounts.get("sam@clinic.example") == replace(before, digest=False, updated_at=off.updated_at)
    assert off.updated_at > before.updated_at and off.active is False
    assert admin.set_digest("sam@clinic.example", True).digest is True


def test_the_digest_of_an_unknown_address_is_not_found_and_no_item_is_made(dynamodb, table):
    from chalicelib.core.errors import NotFound, ValidationFailed
    from chalicelib.staff.accounts import AccountAdmin
    from chalicelib.storage.accounts import AccountRepository

    admin = AccountAdmin(AccountRepository(dynamodb, table))
    with pytest.raises(NotFound):
        admin.set_digest("nobody@clinic.example", False)
    with pytest.raises(ValidationFailed):
        admin.set_digest("not an address", False)
    assert dynamodb.scan(TableName=table)["Items"] == []
