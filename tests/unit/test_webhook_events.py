"""A request's webhook events from its item alone (webhooks.events): one per change, thin, the same every time."""
import json

import pytest

from chalicelib.storage.webhook_marks import feed_item
from chalicelib.webhooks.endpoints import EVENT_TYPES
from chalicelib.webhooks.events import erasure, events_from, unit_count
from tests.conftest import remember_personal

REF = "k5qg2n4xw7ybz3hd6tjm8rfc"
CREATED = "2026-11-25T15:00:00.000Z"
DUE = "2026-11-26T14:00:00.000Z"
FIELDS = {"first_name": "Henrietta", "last_name": "Vasquez-Oyelaran", "email": "henrietta.vo@example.com",
          "phone": "+12125550177", "location": "downtown", "message": "My left knee locks on the stairs",
          "insurance": "Aetna Choice 8812", "reason": "knee", "preferred_contact": "phone"}
NOTE = "Called Henrietta back, she prefers mornings"
THE_DATA = {"id", "location", "status", "previous_status", "created_at", "due_at", "visit_at", "visit_start",
            "visit_end", "by"}
remember_personal(FIELDS)


def entry(at, from_status, to_status, by="Sam Staff", note=None, visit_at=None, answer=None):
    """A history entry as the table holds it."""
    found = {"at": at, "by": by, "from": from_status, "to": to_status}
    found.update({name: value for name, value in (("note", note), ("visit_at", visit_at), ("answer", answer))
                  if value is not None})
    return found


def answer(at, from_status, to_status, said):
    return entry(at, from_status, to_status, by="patient", answer=said)


def item(*history, created_as="new", **extra):
    """A live request item as the table holds it: every personal field, and the history given."""
    status = history[-1]["to"] if history else created_as
    stored = {"pk": f"APPT#{REF}", "sk": "APPT", "entity": "appointment", "id": REF, "status": status,
              "created_at": CREATED, "location": "downtown", "fields": dict(FIELDS), "language": "en",
              "consent": {"contact": {"given_at": CREATED, "version": "2026-11-01"}}, "history": list(history),
              "phone_hash": "p" * 64, "email_hash": "e" * 64, "expires_at": 1795000000}
    if created_as == "new":
        stored["due_at"] = DUE
    else:
        stored["spam_reasons"] = ["honeypot"]
    stored.update(extra)
    return stored


def tombstone(*history):
    return {"pk": f"APPT#{REF}", "sk": "APPT", "entity": "erased_appointment", "id": REF, "status": "erased",
            "created_at": CREATED, "location": "downtown", "erased_at": "2026-12-02T09:00:00.000Z",
            "erased_by": "Ana Admin",
            "history": [{name: value for name, value in h.items() if name not in ("note", "visit_at", "answer")}
                        for h in history] + [entry("2026-12-02T09:00:00.000Z", history[-1]["to"] if history else "new",
                                                   "erased", by="Ana Admin")]}


def events(stored, settings, done=0):
    return events_from(feed_item(stored).record, done, settings)


def kinds(found):
    return [(e.unit, e.type) for e in found]


def test_a_new_request_is_one_appointment_requested_with_thin_data(settings):
    [event] = events(item(), settings)
    assert (event.id, event.type, event.unit, event.request_id) == (f"msg_{REF}_0", "appointment.requested", 0, REF)
    assert json.loads(event.payload) == {"type": "appointment.requested", "timestamp": CREATED, "data": {
        "id": REF, "location": "downtown", "status": "new", "created_at": CREATED, "due_at": DUE}}


# Every move of the staff API's table, from an announced request: (from, to, visit_at) -> event type.
STAFF_MOVES = [
    ("new", "contacted", None, "appointment.status_changed"),
    ("new", "scheduled", "2026-12-03T10:00", "visit.booked"),
    ("new", "closed", None, "appointment.status_changed"),
    ("new", "suspected_spam", None, "appointment.status_changed"),
    ("contacted", "scheduled", "2026-12-03T10:00", "visit.booked"),
    ("contacted", "closed", None, "appointment.status_changed"),
    ("scheduled", "scheduled", "2026-12-04T11:30", "visit.changed"),
    ("scheduled", "attended", None, "appointment.status_changed"),
    ("scheduled", "no_show", None, "appointment.status_changed"),
    ("scheduled", "cancelled", None, "visit.cancelled"),
    ("cancelled", "scheduled", "2026-12-04T11:30", "visit.booked"),
    ("suspected_spam", "new", None, "appointment.status_changed"),
]


def reach(status):
    """History entries that take a new request to `status` (staff's own moves)."""
    path = {"new": [], "contacted": [("new", "contacted", None)],
            "scheduled": [("new", "scheduled", "2026-12-03T10:00")],
            "cancelled": [("new", "scheduled", "2026-12-03T10:00"), ("scheduled", "cancelled", None)],
            "suspected_spam": [("new", "suspected_spam", None)]}[status]
    return [entry(f"2026-11-26T1{n}:00:00.000Z", a, b, note=NOTE, visit_at=v) for n, (a, b, v) in enumerate(path)]


@pytest.mark.parametrize("from_status, to_status, visit_at, expected", STAFF_MOVES)
def test_every_staff_move_is_one_event_of_its_kind(settings, from_status, to_status, visit_at, expected):
    before = reach(from_status)
    move = entry("2026-11-27T16:00:00.000Z", from_status, to_status, note=NOTE, visit_at=visit_at)
    found = events(item(*before, move), settings, done=len(before) + 1)
    assert kinds(found) == [(len(before) + 1, expected)]
    [event] = found
    assert event.timestamp == "2026-11-27T16:00:00.000Z"
    data = event.data
    assert (data["status"], data["previous_status"], data["by"]) == (to_status, from_status, "staff")
    if expected.startswith("visit."):
        booked = visit_at or "2026-12-03T10:00"  # a cancellation names the visit it cancels
        assert data["visit_at"] == booked
    else:
        assert "visit_at" not in data


def test_a_visits_times_are_its_wall_time_and_its_instants_as_booking_worked_them_out(settings):
    from datetime import datetime, timezone

    from chalicelib.core.clock import utc_iso
    from chalicelib.core.visit_times import visit_time

    # The dev stage: America/New_York, 45-minute visits.
    # 01:30 on the autumn change happens twice in New York: booking takes the first (EDT, 05:30 UTC).
    booked = visit_time("2026-11-01T01:30", settings, "downtown", datetime(2026, 10, 20, tzinfo=timezone.utc))
    [event] = events(item(entry("2026-10-20T12:00:00.000Z", "new", "scheduled", visit_at="2026-11-01T01:30")),
                     settings, done=1)
    assert event.data["visit_start"] == utc_iso(booked.start) == "2026-11-01T05:30:00.000Z"
    assert event.data["visit_end"] == "2026-11-01T06:15:00.000Z"  # 45 minutes later, not 45 wall minutes


def test_a_cancellation_names_the_visit_booked_last_before_it_not_one_booked_after(settings):
    stored = item(entry("2026-11-26T10:00:00.000Z", "new", "scheduled", visit_at="2026-12-03T10:00"),
                  entry("2026-11-26T11:00:00.000Z", "scheduled", "scheduled", visit_at="2026-12-04T09:00"),
                  entry("2026-11-26T12:00:00.000Z", "scheduled", "cancelled"),
                  entry("2026-11-26T13:00:00.000Z", "cancelled", "scheduled", visit_at="2026-12-09T15:00"),
                  visit_at="2026-12-09T15:00", visit_start="2026-12-09T20:00:00.000Z")
    found = events(stored, settings, done=1)
    assert kinds(found) == [(1, "visit.booked"), (2, "visit.changed"), (3, "visit.cancelled"), (4, "visit.booked")]
    assert [e.data["visit_at"] for e in found] == ["2026-12-03T10:00", "2026-12-04T09:00", "2026-12-04T09:00",
                                                   "2026-12-09T15:00"]


BOOKED = entry("2026-11-26T10:00:00.000Z", "new", "scheduled", visit_at="2026-12-03T10:00")


@pytest.mark.parametrize("history, expected", [
    ([BOOKED, answer("2026-11-27T08:00:00.000Z", "scheduled", "scheduled", "confirmed")], "visit.confirmed"),
    ([BOOKED, answer("2026-11-27T08:00:00.000Z", "scheduled", "scheduled", "change_requested")],
     "visit.change_requested"),
    ([BOOKED, answer("2026-11-27T08:00:00.000Z", "scheduled", "cancelled", "cancelled")], "visit.cancelled"),
    ([answer("2026-11-27T08:00:00.000Z", "new", "closed", "withdrawn")], "appointment.status_changed"),
    ([entry("2026-11-26T10:00:00.000Z", "new", "contacted"),
      answer("2026-11-27T08:00:00.000Z", "contacted", "closed", "withdrawn")], "appointment.status_changed"),
    ([answer("2026-11-27T08:00:00.000Z", "new", "suspected_spam", "not_me")], "appointment.status_changed"),
])
def test_each_patient_answer_is_one_event_by_the_patient(settings, history, expected):
    [event] = events(item(*history), settings, done=len(history))
    assert event.type == expected and event.timestamp == "2026-11-27T08:00:00.000Z"
    assert event.data["by"] == "patient"
    assert (event.data["previous_status"], event.data["status"]) == (history[-1]["from"], history[-1]["to"])
    if expected.startswith("visit."):
        assert event.data["visit_at"] == "2026-12-03T10:00"  # the visit answered about


def test_a_staff_member_named_patient_is_still_staff(settings):
    [event] = events(item(entry("2026-11-27T08:00:00.000Z", "new", "contacted", by="patient")), settings, done=1)
    assert event.data["by"] == "staff"


def test_suspected_spam_says_nothing_until_released_and_then_it_is_requested(settings):
    spam = item(created_as="suspected_spam")
    assert events(spam, settings) == []
    # Staff confirm it is spam, the patient's page is answered on it: still nothing.
    kept = [entry("2026-11-26T10:00:00.000Z", "suspected_spam", "suspected_spam"),
            answer("2026-11-26T11:00:00.000Z", "suspected_spam", "suspected_spam", "withdrawn")]
    assert events(item(*kept, created_as="suspected_spam"), settings) == []

    released = item(*kept, entry("2026-11-27T09:00:00.000Z", "suspected_spam", "new", note=NOTE),
                    entry("2026-11-27T10:00:00.000Z", "new", "contacted"), created_as="suspected_spam",
                    due_at="2026-11-27T17:00:00.000Z")
    found = events(released, settings)
    assert kinds(found) == [(3, "appointment.requested"), (4, "appointment.status_changed")]
    assert found[0].timestamp == "2026-11-27T09:00:00.000Z"
    assert found[0].data == {"id": REF, "location": "downtown", "status": "new", "created_at": CREATED,
                             "due_at": "2026-11-27T17:00:00.000Z"}


def test_a_request_told_of_then_moved_to_spam_says_so_then_nothing_until_released_again(settings):
    stored = item(entry("2026-11-26T10:00:00.000Z", "new", "suspected_spam"),
                  entry("2026-11-26T11:00:00.000Z", "suspected_spam", "suspected_spam"),
                  answer("2026-11-26T12:00:00.000Z", "suspected_spam", "suspected_spam", "not_me"),
                  entry("2026-11-26T13:00:00.000Z", "suspected_spam", "new"))
    found = events(stored, settings)
    assert kinds(found) == [(0, "appointment.requested"), (1, "appointment.status_changed"),
                            (4, "appointment.status_changed")]
    assert (found[2].data["previous_status"], found[2].data["status"]) == ("suspected_spam", "new")


def test_not_me_is_a_status_change_to_suspected_spam_and_then_silence(settings):
    stored = item(answer("2026-11-26T10:00:00.000Z", "new", "suspected_spam", "not_me"),
                  entry("2026-11-26T11:00:00.000Z", "suspected_spam", "suspected_spam"))
    found = events(stored, settings)
    assert kinds(found) == [(0, "appointment.requested"), (1, "appointment.status_changed")]
    assert found[1].data == {"id": REF, "location": "downtown", "status": "suspected_spam",
                             "previous_status": "new", "by": "patient"}


def test_events_from_a_unit_on_are_the_same_events_with_the_same_ids(settings):
    stored = item(*reach("cancelled"), entry("2026-11-28T10:00:00.000Z", "cancelled", "scheduled",
                                             visit_at="2026-12-09T15:00"))
    every = events(stored, settings)
    assert [e.id for e in every] == [f"msg_{REF}_{n}" for n in range(4)]
    assert unit_count(feed_item(stored).record) == 4
    for done in range(5):
        assert events(stored, settings, done=done) == every[done:]
    assert [e.payload for e in events(stored, settings)] == [e.payload for e in every]


def test_erasure_is_told_once_only_of_a_request_ever_told_of(settings):
    told = feed_item(tombstone(*reach("scheduled")))
    event = erasure(told.record)
    assert (event.id, event.type, event.timestamp) == (f"msg_{REF}_erased", "appointment.erased",
                                                       "2026-12-02T09:00:00.000Z")
    assert event.data == {"id": REF, "location": "downtown", "status": "erased", "previous_status": "scheduled",
                          "by": "staff"}

    assert erasure(feed_item(tombstone()).record) is not None  # erased while new
    assert erasure(feed_item({**tombstone(), "history": [
        entry("2026-12-02T09:00:00.000Z", "suspected_spam", "erased", by="Ana Admin")]}).record) is None
    never = [entry("2026-11-26T10:00:00.000Z", "suspected_spam", "suspected_spam")]
    assert erasure(feed_item({**tombstone(), "history": never + [
        entry("2026-12-02T09:00:00.000Z", "suspected_spam", "erased", by="Ana Admin")]}).record) is None
    released = [entry("2026-11-26T10:00:00.000Z", "suspected_spam", "new"),
                entry("2026-11-26T11:00:00.000Z", "new", "suspected_spam")]
    assert erasure(feed_item({**tombstone(), "history": released + [
        entry("2026-12-02T09:00:00.000Z", "suspected_spam", "erased", by="Ana Admin")]}).record) is not None


def test_the_marks_are_read_from_the_item():
    assert (feed_item(item()).units, feed_item(item()).erased_event) == (0, False)
    assert feed_item(item(event_units=3)).units == 3
    assert feed_item({**tombstone(), "erased_event": True}).erased_event
    assert feed_item({"pk": "WEBHOOKS", "sk": "ENDPOINT#ep_1", "entity": "webhook_endpoint"}) is None
    assert feed_item({}) is None


def every_event(settings):
    life = item(entry("2026-11-26T10:00:00.000Z", "new", "contacted", note=NOTE),
                entry("2026-11-26T11:00:00.000Z", "contacted", "scheduled", note=NOTE, visit_at="2026-12-03T10:00"),
                answer("2026-11-27T08:00:00.000Z", "scheduled", "scheduled", "confirmed"),
                entry("2026-11-27T09:00:00.000Z", "scheduled", "scheduled", note=NOTE, visit_at="2026-12-04T10:00"),
                answer("2026-11-27T10:00:00.000Z", "scheduled", "scheduled", "change_requested"),
                answer("2026-11-27T11:00:00.000Z", "scheduled", "cancelled", "cancelled"),
                entry("2026-11-28T10:00:00.000Z", "cancelled", "scheduled", note=NOTE, visit_at="2026-12-09T15:00"),
                entry("2026-12-09T16:00:00.000Z", "scheduled", "attended", note=NOTE),
                patient_answer={"answer": "cancelled", "at": "2026-11-27T11:00:00.000Z", "sequence": 1},
                spam_signals={"fill_ms": 1200}, corrects="a" * 24)
    found = events(life, settings) + [erasure(feed_item(tombstone(*life["history"])).record)]
    return found


def test_a_whole_life_is_every_kind_of_event_once_in_order(settings):
    found = every_event(settings)
    assert [e.type for e in found] == [
        "appointment.requested", "appointment.status_changed", "visit.booked", "visit.confirmed", "visit.changed",
        "visit.change_requested", "visit.cancelled", "visit.booked", "appointment.status_changed",
        "appointment.erased"]
    assert set(e.type for e in found) == set(EVENT_TYPES)
    assert len({e.id for e in found}) == len(found)


def test_no_payload_holds_anything_personal_or_typed(settings):
    for event in every_event(settings):
        body = json.loads(event.payload)
        assert set(body) == {"type", "timestamp", "data"}
        assert set(body["data"]) <= THE_DATA
        text = event.payload.lower()
        for value in list(FIELDS.values()) + [NOTE, "Sam Staff", "Ana Admin", "p" * 64, "e" * 64, "fill_ms"]:
            if value not in ("downtown", "knee", "phone"):
                assert value.lower() not in text, (event.type, value)
        for word in ("knee", "phone", "answer", "note", "reason", "message", "name", "email", "corrects"):
            assert word not in text, (event.type, word)


def test_the_documented_events_are_the_events_and_the_example_is_what_the_feed_sends(settings):
    import re

    from tools.resources import ROOT

    text = (ROOT / "docs" / "webhook-events.md").read_text(encoding="utf-8")
    assert set(EVENT_TYPES) <= set(re.findall(r"`([a-z]+\.[a-z_]+)`", text))
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    stored = item(entry("2026-11-25T18:00:00.000Z", "new", "contacted"),
                  entry("2026-11-26T16:00:00.000Z", "contacted", "scheduled", visit_at="2026-12-03T10:00"))
    assert json.loads(events(stored, settings, done=2)[0].payload) == example
