"""The staff service with an in-memory repository: transitions, history, erasure, listing rules."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.staff.auth import StaffMember
from chalicelib.core.clock import utc_iso
from chalicelib.staff.triage import (
    ACTIVE, HistoryEntry, ListQuery, Part, StaffRecord, StaffService, allowed_transitions,
)
from tests.conftest import remember_personal
from tests.fakes import Clock, FakeStaffRepository

ANA = StaffMember("Ana Admin", "admin", "tok-ana")
SAM = StaffMember("Sam Staff", "staff", "tok-sam")
CREATED = "2026-11-25T15:00:00.000Z"
# The contract: new → contacted, scheduled or closed; contacted → scheduled or closed; scheduled → scheduled
# (another time), attended, no_show or cancelled; cancelled → scheduled; suspected_spam → new; new →
# suspected_spam; and staff confirming a suspected request is spam (suspected_spam → suspected_spam, once).
ALLOWED = {("new", "contacted"), ("new", "scheduled"), ("new", "closed"), ("contacted", "scheduled"),
           ("contacted", "closed"), ("scheduled", "scheduled"), ("scheduled", "attended"), ("scheduled", "no_show"),
           ("scheduled", "cancelled"), ("cancelled", "scheduled"),
           ("suspected_spam", "new"), ("new", "suspected_spam"), ("suspected_spam", "suspected_spam")}
FROM = ("new", "contacted", "scheduled", "attended", "no_show", "cancelled", "closed", "suspected_spam")
TO = FROM
BOOKED = {"visit_at": "2026-11-27T10:00", "visit_start": "2026-11-27T15:00:00.000Z", "visit_sequence": 0}


def change_to(target):
    """A change to `target` as staff send it: a booking gives the visit's time."""
    return {"status": target, "visit_at": "2026-11-30T10:00"} if target == "scheduled" else {"status": target}


def a_record(request_id="req1", status="new", created_at=CREATED, location="downtown", history=(), **overrides):
    fields = {"first_name": "Marit", "last_name": "Solheim-Ørsted", "email": "marit.so@example.com",
              "phone": "+12125550177", "location": location, "contact_consent": True,
              "message": "Left knee, since the marathon.", **overrides}
    remember_personal(fields)
    return StaffRecord(id=request_id, status=status, created_at=created_at, location=location, fields=fields,
                       consent={"contact": {"given_at": created_at, "version": "2026-11-01"}}, history=history)


@pytest.fixture
def clock(fixed_now):
    return Clock(fixed_now)


@pytest.fixture
def repository():
    return FakeStaffRepository()


@pytest.fixture
def staff(repository, settings, clock):
    return StaffService(repository, settings, now=clock)


def fields_of(failure):
    return failure.value.fields


# --- transitions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("current", FROM)
@pytest.mark.parametrize("target", TO)
def test_every_transition_is_allowed_or_refused_as_the_contract_says(staff, repository, current, target):
    repository.records["req1"] = replace(a_record(status=current), **(BOOKED if current == "scheduled" else {}))

    if (current, target) in ALLOWED:
        answer = staff.update_status("req1", change_to(target), SAM)
        assert answer["status"] == target
        assert repository.records["req1"].status == target
    else:
        with pytest.raises(ValidationFailed) as failure:
            staff.update_status("req1", change_to(target), SAM)
        assert set(fields_of(failure)) == {"status"}
        assert repository.records["req1"].status == current
        assert repository.records["req1"].history == ()


def test_a_refused_transition_says_where_the_request_can_go(staff, repository):
    repository.records["req1"] = a_record(status="contacted")

    with pytest.raises(ValidationFailed) as failure:
        staff.update_status("req1", {"status": "new"}, SAM)

    assert fields_of(failure)["status"] == "This request is contacted: it can move to scheduled or closed."


def test_closed_is_final(staff, repository):
    repository.records["req1"] = a_record(status="closed")

    with pytest.raises(ValidationFailed) as failure:
        staff.update_status("req1", {"status": "new"}, SAM)

    assert "cannot change any more" in fields_of(failure)["status"]


def test_history_keeps_every_change_in_order_with_who_when_and_note(staff, repository, clock):
    repository.records["req1"] = a_record()
    steps = [("contacted", "Left a voicemail."), ("scheduled", "Tue 9:30 with Dr Lee."), ("attended", None)]
    remember_personal({"message": "Tue 9:30 with Dr Lee."})

    for status, note in steps:
        clock.advance(minutes=5)
        staff.update_status("req1", {**change_to(status), "note": note}, SAM if status != "attended" else ANA)

    history = staff.get("req1")["history"]
    assert history == [
        {"at": "2026-11-25T15:05:00.000Z", "by": "Sam Staff", "from": "new", "to": "contacted",
         "note": "Left a voicemail."},
        {"at": "2026-11-25T15:10:00.000Z", "by": "Sam Staff", "from": "contacted", "to": "scheduled",
         "note": "Tue 9:30 with Dr Lee.", "visit_at": "2026-11-30T10:00"},
        {"at": "2026-11-25T15:15:00.000Z", "by": "Ana Admin", "from": "scheduled", "to": "attended"},
    ]


def test_not_spam_after_all_gets_the_normal_retention(staff, repository, settings):
    repository.records["req1"] = a_record(status="suspected_spam")

    staff.update_status("req1", {"status": "new"}, SAM)

    created = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
    assert repository.expires_at["req1"] == int((created + timedelta(days=settings.retention_days)).timestamp())


def test_other_changes_keep_the_retention(staff, repository):
    repository.records["req1"] = a_record()

    staff.update_status("req1", {"status": "contacted"}, SAM)

    assert repository.expires_at == {}


def test_a_lost_race_is_a_conflict_naming_the_status_now(staff, repository):
    repository.records["req1"] = a_record(status="contacted")

    def colleague_schedules(repo):
        repo.records["req1"] = a_record(status="scheduled")

    repository.before_write = colleague_schedules
    with pytest.raises(Conflict) as failure:
        staff.update_status("req1", {"status": "closed", "note": "No answer."}, SAM)

    assert "now scheduled" in failure.value.message
    assert repository.records["req1"].status == "scheduled"
    assert repository.records["req1"].history == ()


def test_an_erased_request_cannot_change_status(staff, repository):
    repository.records["req1"] = a_record()
    staff.erase("req1", ANA)

    with pytest.raises(ValidationFailed) as failure:
        staff.update_status("req1", {"status": "contacted"}, SAM)

    assert fields_of(failure)["status"] == "This request was erased; its status cannot change."


@pytest.mark.parametrize("change, field", [
    ({}, "status"),
    ({"status": None}, "status"),
    ({"status": "done"}, "status"),
    ({"status": 3}, "status"),
    ({"status": "erased"}, "status"),
    ({"status": "contacted", "note": 7}, "note"),
    ({"status": "contacted", "note": "x" * 1001}, "note"),
    ({"status": "contacted", "note": "called\x00"}, "note"),
    ({"status": "contacted", "note": "tab\there"}, "note"),
    ({"status": "contacted", "note": "rtl \u202e override"}, "note"),
    ({"status": "contacted", "notes": "typo"}, "notes"),
    ({"status": "contacted", "Note!": "odd"}, "body"),
])
def test_a_bad_change_is_refused_naming_the_field(staff, repository, change, field):
    repository.records["req1"] = a_record()

    with pytest.raises(ValidationFailed) as failure:
        staff.update_status("req1", change, SAM)

    assert field in fields_of(failure)
    assert repository.records["req1"].status == "new"


def test_a_note_keeps_line_breaks_and_is_trimmed(staff, repository):
    repository.records["req1"] = a_record()

    answer = staff.update_status("req1", {"status": "contacted", "note": "  Called.\r\nCall back Fri.  "}, SAM)

    assert answer["history"][0]["note"] == "Called.\nCall back Fri."


def test_a_note_of_1000_characters_is_kept_and_a_blank_one_is_none(staff, repository):
    repository.records["a"] = a_record("a")
    repository.records["b"] = a_record("b")

    long = staff.update_status("a", {"status": "contacted", "note": "n" * 1000}, SAM)
    blank = staff.update_status("b", {"status": "contacted", "note": "   "}, SAM)

    assert long["history"][0]["note"] == "n" * 1000
    assert "note" not in blank["history"][0]


@pytest.mark.parametrize("request_id", ["nope", "a/b", "x" * 129, "", "ünï"])
def test_an_unknown_or_impossible_id_is_not_found(staff, repository, request_id):
    with pytest.raises(NotFound):
        staff.get(request_id)
    with pytest.raises(NotFound):
        staff.update_status(request_id, {"status": "contacted"}, SAM)
    with pytest.raises(NotFound):
        staff.erase(request_id, ANA)
    assert all(read == "nope" for read in repository.reads)


# --- erasure ---------------------------------------------------------------------------------------

def test_erasure_leaves_a_tombstone_with_no_personal_data(staff, repository, clock):
    repository.records["req1"] = a_record(
        status="contacted", history=(HistoryEntry("2026-11-25T15:01:00.000Z", "Sam Staff", "new", "contacted",
                                                  "Spoke to Marit, she prefers mornings."),),
    )
    remember_personal({"message": "Spoke to Marit, she prefers mornings."})
    clock.advance(hours=1)

    erasure = staff.erase("req1", ANA)

    assert erasure.erased_now
    assert erasure.record == {
        "id": "req1", "status": "erased", "created_at": CREATED, "location": "downtown",
        "location_name": "Downtown Clinic", "erased_at": "2026-11-25T16:00:00.000Z", "erased_by": "Ana Admin",
        "history": [
            {"at": "2026-11-25T15:01:00.000Z", "by": "Sam Staff", "from": "new", "to": "contacted"},
            {"at": "2026-11-25T16:00:00.000Z", "by": "Ana Admin", "from": "contacted", "to": "erased"},
        ],
    }
    tombstone = repository.records["req1"]
    assert tombstone.fields is None and tombstone.consent is None
    assert staff.get("req1") == erasure.record


def test_a_repeated_erasure_changes_nothing(staff, repository, clock):
    repository.records["req1"] = a_record()
    first = staff.erase("req1", ANA)
    clock.advance(days=1)

    again = staff.erase("req1", StaffMember("Other Admin", "admin", "tok-2"))

    assert not again.erased_now
    assert again.record == first.record


def test_erasure_racing_a_status_change_erases_what_is_there_now(staff, repository):
    repository.records["req1"] = a_record()

    def colleague_calls(repo):
        repo.records["req1"] = a_record(history=(
            HistoryEntry("2026-11-25T15:00:30.000Z", "Sam Staff", "new", "contacted", "Called her."),
        ), status="contacted")

    repository.before_write = colleague_calls
    erasure = staff.erase("req1", ANA)

    assert erasure.erased_now
    assert [(h["from"], h["to"]) for h in erasure.record["history"]] == [("new", "contacted"), ("contacted", "erased")]
    assert "note" not in erasure.record["history"][0]


# --- listing: filters, limits, dates -------------------------------------------------------------

def last_query(repository):
    return repository.queries[-1]


class Recording(FakeStaffRepository):
    def __init__(self):
        super().__init__()
        self.queries = []

    def list_page(self, query, limit, cursor=None):
        self.queries.append((query, limit, cursor))
        return super().list_page(query, limit, cursor)


@pytest.fixture
def recording(settings, clock):
    repository = Recording()
    return repository, StaffService(repository, settings, now=clock)


def test_the_default_listing_is_the_active_requests_25_at_a_time(recording):
    repository, staff = recording

    staff.list({})

    query, limit, cursor = last_query(repository)
    assert query.statuses == ACTIVE == ("new", "contacted", "scheduled", "attended", "no_show", "cancelled", "closed")
    assert (query.location, query.created_from, query.created_to, limit, cursor) == (None, None, None, 25, None)


@pytest.mark.parametrize("status", ["suspected_spam", "erased", "new"])
def test_spam_and_erased_are_listed_only_when_asked_for(recording, status):
    repository, staff = recording

    staff.list({"status": [status]})

    assert last_query(repository)[0].statuses == (status,)


def test_dates_are_days_in_the_clinics_time_zone(recording):
    repository, staff = recording

    staff.list({"from": ["2026-11-25"], "to": ["2026-11-25"]})
    november = last_query(repository)[0]
    staff.list({"from": ["2026-03-08"], "to": ["2026-03-08"]})  # clocks go forward in New York
    march = last_query(repository)[0]

    assert (november.created_from, november.created_to) == ("2026-11-25T05:00:00.000Z", "2026-11-26T04:59:59.999Z")
    assert (march.created_from, march.created_to) == ("2026-03-08T05:00:00.000Z", "2026-03-09T03:59:59.999Z")


@pytest.mark.parametrize("limit", ["1", "100", "25"])
def test_a_limit_from_1_to_100_is_taken(recording, limit):
    repository, staff = recording

    staff.list({"limit": [limit]})

    assert last_query(repository)[1] == int(limit)


@pytest.mark.parametrize("params, field", [
    ({"limit": ["0"]}, "limit"),
    ({"limit": ["101"]}, "limit"),
    ({"limit": ["-1"]}, "limit"),
    ({"limit": ["ten"]}, "limit"),
    ({"limit": ["2.5"]}, "limit"),
    ({"status": ["done"]}, "status"),
    ({"status": ["new", "closed"]}, "status"),
    ({"location": ["uptown"]}, "location"),
    ({"from": ["2026-02-30"]}, "from"),
    ({"from": ["25/11/2026"]}, "from"),
    ({"to": ["tomorrow"]}, "to"),
    ({"to": ["9999-12-31"]}, "to"),
    ({"from": ["2026-11-26"], "to": ["2026-11-25"]}, "to"),
    ({"sort": ["asc"]}, "sort"),
    ({"Zoë@example.com": ["1"]}, "query"),
])
def test_a_bad_filter_is_refused_naming_it(recording, params, field):
    repository, staff = recording

    with pytest.raises(ValidationFailed) as failure:
        staff.list(params)

    assert field in fields_of(failure)
    assert repository.queries == []


def test_an_empty_parameter_counts_as_absent(recording):
    repository, staff = recording

    staff.list({"status": [""], "location": [" "], "from": [""], "to": [""], "limit": [""], "cursor": [""]})

    assert last_query(repository)[0] == ListQuery()
    assert last_query(repository)[1:] == (25, None)


def test_filters_combine(recording):
    repository, staff = recording

    staff.list({"status": ["contacted"], "location": ["northside"], "from": ["2026-11-01"], "limit": ["5"]})

    query, limit, _ = last_query(repository)
    assert (query.statuses, query.location, query.created_from, limit) == (
        ("contacted",), "northside", "2026-11-01T04:00:00.000Z", 5)


def test_a_cursor_the_listing_did_not_hand_out_is_a_validation_error(recording):
    _, staff = recording

    with pytest.raises(ValidationFailed) as failure:
        staff.list({"cursor": ["not-a-cursor"]})

    assert set(fields_of(failure)) == {"cursor"}


def test_listing_pages_through_everything_once(staff, repository):
    for n in range(7):
        repository.records[f"r{n}"] = a_record(f"r{n}", created_at=f"2026-11-2{n}T10:00:00.000Z")
    repository.records["spam"] = a_record("spam", status="suspected_spam")

    seen, cursor = [], None
    while True:
        page = staff.list({"limit": ["3"], **({"cursor": [cursor]} if cursor else {})})
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"r{n}" for n in reversed(range(7))]
    assert all("history" not in item for item in page["items"])


def test_the_export_reads_every_page_and_stops_at_its_budget(staff, repository, monkeypatch):
    from chalicelib.staff import triage as staff_module

    for n in range(250):
        repository.records[f"r{n:03}"] = a_record(f"r{n:03}", created_at=f"2026-11-25T10:{n // 60:02}:{n % 60:02}.000Z")

    whole = staff.export_csv({})
    monkeypatch.setattr(staff_module, "EXPORT_BUDGET", 1)
    cut = staff.export_csv({})

    assert (whole.rows, whole.next_cursor) == (250, None)
    assert cut.rows == 100 and cut.next_cursor is not None
    rest = staff.export_csv({"cursor": [cut.next_cursor]})
    assert rest.rows == 100


def test_a_sparse_export_reads_a_bounded_number_of_pages_and_hands_back_a_cursor(settings):
    from chalicelib.staff.triage import EXPORT_PAGES, Page

    class SparseIndex:
        """A big table where the filter matches almost nothing: every page comes back empty, with more to read."""

        def __init__(self):
            self.pages_read = 0

        def list_page(self, query, limit, cursor=None):
            self.pages_read += 1
            assert self.pages_read <= 50, "the export walks the whole index in one request"
            return Page([], str(int(cursor or 0) + 1))

    index = SparseIndex()
    export = StaffService(index, settings).export_csv({"status": ["closed"], "location": ["lakeview"]})

    assert index.pages_read == EXPORT_PAGES
    assert (export.rows, export.next_cursor) == (0, str(EXPORT_PAGES))


def test_the_export_parts_together_hold_every_row_once(staff, repository):
    from chalicelib.staff.triage import EXPORT_PAGES, MAX_LIMIT

    for n in range(650):
        repository.records[f"r{n:03}"] = a_record(f"r{n:03}", created_at=f"2026-11-25T1{n // 600}:{n // 60 % 10:02}:"
                                                                         f"{n % 60:02}.000Z")
    parts, more = staff.export_parts({})

    per_part = EXPORT_PAGES * MAX_LIMIT
    assert [part.rows for part in parts] == [per_part, per_part, 650 - 2 * per_part] and more is None
    assert parts[0].cursor is None
    rows = []
    for part in parts:
        text = staff.export_csv({"cursor": [part.cursor]} if part.cursor else {}).text
        rows += text.splitlines()[1:]
    assert len(rows) == len(set(rows)) == 650


def test_the_export_parts_are_listed_a_few_at_a_time_with_where_the_rest_start(staff, repository):
    for n in range(650):
        repository.records[f"r{n:03}"] = a_record(f"r{n:03}", created_at=f"2026-11-25T1{n // 600}:{n // 60 % 10:02}:"
                                                                         f"{n % 60:02}.000Z")
    first, more = staff.export_parts({}, max_parts=2)
    rest, end = staff.export_parts({"cursor": [more]}, max_parts=2)
    assert (len(first), len(rest), end) == (2, 1, None)
    assert rest[0].cursor == more
    assert sum(part.rows for part in first + rest) == 650


def test_an_empty_filter_is_one_part_of_no_rows(staff):
    assert staff.export_parts({"status": ["closed"]}) == ([Part(None, 0)], None)


def test_the_export_takes_no_limit(staff):
    with pytest.raises(ValidationFailed) as failure:
        staff.export_csv({"limit": ["5"]})

    assert "limit" in fields_of(failure)


def test_staff_marking_a_new_request_as_spam_gives_reason_staff_and_spam_s_short_retention(staff, repository,
                                                                                           clock):
    repository.records["req1"] = a_record(status="new")
    answer = staff.update_status("req1", {"status": "suspected_spam"}, SAM)
    assert answer["status"] == "suspected_spam" and answer["spam_reasons"] == ["staff"]
    assert repository.records["req1"].spam_reasons == ("staff",)


def test_staff_confirming_spam_adds_reason_staff_once_and_keeps_the_retention(staff, repository):
    repository.records["req1"] = replace(a_record(status="suspected_spam"), spam_reasons=("too_fast", "links"),
                                         spam_signals={"fill_ms": 800, "links": 3})

    answer = staff.update_status("req1", {"status": "suspected_spam"}, SAM)

    assert answer["spam_reasons"] == ["too_fast", "links", "staff"]
    assert answer["spam_signals"] == {"fill_ms": 800, "links": 3}
    assert "req1" not in repository.expires_at  # still gone a week after it arrived
    with pytest.raises(ValidationFailed) as failure:
        staff.update_status("req1", {"status": "suspected_spam"}, SAM)
    assert "already marked as spam" in fields_of(failure)["status"]
    assert len(repository.records["req1"].history) == 1


def test_a_request_confirmed_as_spam_can_still_be_rescued(staff, repository):
    repository.records["req1"] = replace(a_record(status="suspected_spam"), spam_reasons=("staff",))

    assert allowed_transitions(staff.get("req1")) == ("new",)
    assert staff.update_status("req1", {"status": "new"}, SAM)["status"] == "new"


def test_the_possible_spam_of_the_last_7_days_is_counted_from_the_clock(staff, repository, clock):
    now = clock()
    for name, age in (("fresh", timedelta(days=6, hours=23)), ("edge", timedelta(days=7)),
                      ("old", timedelta(days=7, milliseconds=1))):
        repository.records[name] = a_record(name, status="suspected_spam", created_at=utc_iso(now - age))
    repository.records["person"] = a_record("person", status="new", created_at=utc_iso(now))

    assert staff.spam_count(7) == (2, True)


# --- waiting, overdue, first contact -------------------------------------------------------------

def test_overdue_true_lists_new_requests_due_by_now_and_nothing_else(staff, repository, clock):
    now = clock()
    repository.records.update({
        "late": replace(a_record("late"), due_at=utc_iso(now - timedelta(minutes=1))),
        "exact": replace(a_record("exact", created_at="2026-11-25T14:00:00.000Z"), due_at=utc_iso(now)),
        "early": replace(a_record("early"), due_at=utc_iso(now + timedelta(milliseconds=1))),
        "done": replace(a_record("done", status="contacted"), due_at=utc_iso(now - timedelta(days=1))),
    })

    listed = [item["id"] for item in staff.list({"overdue": ["true"]})["items"]]

    assert sorted(listed) == ["exact", "late"]
    assert staff.waiting_counts() == {"new": (3, True), "overdue": (2, True)}


@pytest.mark.parametrize("params, field", [
    ({"overdue": ["yes"]}, "overdue"),
    ({"overdue": ["true"], "status": ["closed"]}, "overdue"),
])
def test_a_bad_overdue_filter_is_a_422(staff, params, field):
    with pytest.raises(ValidationFailed) as failure:
        staff.list(params)
    assert field in fields_of(failure)


def test_overdue_false_or_empty_is_the_plain_list(staff, repository):
    repository.records["r"] = a_record("r")
    assert staff.list({"overdue": ["false"]}) == staff.list({"overdue": [""]}) == staff.list({})


def test_the_first_change_out_of_new_records_how_long_it_waited_in_both_clocks(staff, repository, clock):
    # Received Wednesday 25 November 15:00 UTC (10:00 in New York); contacted Thursday 14:00 UTC (9:00).
    repository.records["req1"] = a_record(created_at="2026-11-25T15:00:00.000Z")
    clock.now = datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc)

    staff.update_status("req1", {"status": "contacted"}, SAM)
    staff.update_status("req1", {"status": "closed"}, SAM)

    first = repository.records["req1"].first_contact
    assert first["wall_minutes"] == 23 * 60
    assert first["business_minutes"] == 8 * 60 + 60  # Wednesday 10:00-18:00, Thursday 08:00-09:00
    assert first["at"] == "2026-11-26T14:00:00.000Z"  # the second change kept the first one's figures


def test_marking_spam_then_not_spam_is_no_first_contact_the_real_contact_is(staff, repository, clock):
    """Catches `target != "new"` as the first-contact test: the Spam click was recorded, the real call never."""
    repository.records["req1"] = a_record(created_at="2026-11-25T15:00:00.000Z")
    clock.now = datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)
    staff.update_status("req1", {"status": "suspected_spam"}, SAM)
    staff.update_status("req1", {"status": "new"}, SAM)
    assert repository.records["req1"].first_contact is None

    clock.now = datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc)
    staff.update_status("req1", {"status": "contacted"}, SAM)
    assert repository.records["req1"].first_contact["at"] == "2026-11-26T14:00:00.000Z"


def test_the_first_contact_is_a_metric_line_per_location(staff, repository, clock):
    import json

    from tests.conftest import captured_log_lines

    repository.records["req1"] = a_record(created_at=utc_iso(clock() - timedelta(minutes=42)))
    before = len(captured_log_lines())
    staff.update_status("req1", {"status": "contacted"}, SAM)

    [line] = [json.loads(l) for l in captured_log_lines()[before:] if '"first_contact"' in l]
    assert (line["location"], line["FirstContactMinutes"]) == ("downtown", 42)
    (metrics,) = line["_aws"]["CloudWatchMetrics"]
    assert {m["Name"] for m in metrics["Metrics"]} == {"FirstContactMinutes", "FirstContactBusinessMinutes"}
    assert all(dimension in line for dimension in metrics["Dimensions"][0])


def test_a_request_rescued_from_spam_is_due_from_the_rescue(staff, repository, settings, clock):
    """Catches the rescue counting from arrival (`due_at(record.location, _moment(record.created_at))`): a request
    that waited in "Possible spam" for three days would be overdue the moment it is released, and escalated at
    once. The old version of this test received and rescued it at the same instant, so it could not tell."""
    from chalicelib.notify.escalation import Escalation
    from tests.fakes import FakeDueRepository, FakePublisher

    arrived = "2026-11-22T15:00:00.000Z"  # Sunday 10:00 in New York, downtown closed: due Monday 16:00 from then
    repository.records["req1"] = a_record(status="suspected_spam", created_at=arrived)

    staff.update_status("req1", {"status": "new"}, SAM)  # Wednesday 25 November, 10:00 in New York

    # 8 of downtown's opening hours from the rescue: 18:00 that Wednesday.
    assert repository.records["req1"].due_at == "2026-11-25T23:00:00.000Z"
    due, sns = FakeDueRepository(), FakePublisher()
    due.wait("req1", "downtown", repository.records["req1"].due_at)
    escalation = Escalation(due, sns, settings, now=clock)
    assert escalation.run() == {} and sns.sent == []
    clock.advance(hours=8)
    assert escalation.run() == {"downtown": 1}
