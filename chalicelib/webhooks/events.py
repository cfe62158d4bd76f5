"""A request's webhook events, worked out from its item alone: one event per change, thin, deterministic.

Unit 0 is the request itself (appointment.requested), unit i+1 its history entry i. A request that arrived as
suspected spam says nothing until staff release it: the release is its appointment.requested. Once announced,
every change is one event: a booking visit.booked, another time visit.changed, a cancellation visit.cancelled,
the patient's answers visit.confirmed, visit.change_requested and visit.cancelled (by the patient), any other
move appointment.status_changed (the patient's "no longer needed" and "I did not send this" among them); an
erasure appointment.erased, only for a request that was ever announced. While a request is (back) in suspected
spam, nothing but its release is told. Once erased, a request tells its erasure and nothing else: a change not
yet told then (its record still failing) is not told after it.

An event's id is `msg_{request}_{unit}` (`msg_{request}_erased`), so the same change handled twice is the same
event, and its body holds ids, the location, statuses and times: never a name, a contact detail, a message, a
note or a reason, and `by` says "staff" or "patient", never who. A visit's times come from the history entry that
booked it, not from the item's current visit, so that an event worked out late says what happened then.
"""
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..core.clock import utc_iso


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    request_id: str
    timestamp: str  # UTC ISO: when the change happened
    data: dict
    unit: object = None  # its unit, or "erased"

    @property
    def payload(self):
        """The exact body that is signed and sent."""
        return json.dumps({"type": self.type, "timestamp": self.timestamp, "data": self.data},
                          ensure_ascii=True, separators=(",", ":"))


def unit_count(record):
    """How many units a (live) request has: itself and each history entry."""
    return 1 + len(record.history)


def created_status(record):
    """The status the request was stored with: before its first change, or still."""
    return record.history[0].from_status if record.history else record.status


def ever_announced(record):
    """Whether anything was ever told of this request: it arrived as a real one, or was released from spam."""
    return created_status(record) != "suspected_spam" or any(
        entry.from_status == "suspected_spam" and entry.to_status == "new" for entry in record.history)


def events_from(record, done, settings):
    """The events of a live request's units `done` and on, in order (units that tell nothing have none)."""
    announced = created_status(record) != "suspected_spam"
    events = [_requested(record, 0, record.created_at)] if done == 0 and announced else []
    booked = None  # the local time of the visit booked last, as of each entry
    for number, entry in enumerate(record.history, start=1):
        event = None
        if entry.from_status == "suspected_spam":
            if entry.to_status == "new":  # released
                event = _requested(record, number, entry.at) if not announced else _changed(record, number, entry)
                announced = True
        elif announced:
            event = _change(record, number, entry, booked, settings)
        if entry.to_status == "scheduled":
            booked = entry.visit_at or booked
        if event is not None and number >= done:
            events.append(event)
    return events


def erasure(record):
    """The appointment.erased of a tombstone, or None when nothing was ever told of the request."""
    if not ever_announced(record):
        return None
    erased = record.history[-1] if record.history else None
    data = {"id": record.id, "location": record.location, "status": "erased"}
    if erased is not None:
        data["previous_status"] = erased.from_status
    data["by"] = "staff"
    return Event(f"msg_{record.id}_erased", "appointment.erased", record.id, record.erased_at or record.created_at,
                 data, "erased")


def _requested(record, unit, at):
    data = {"id": record.id, "location": record.location, "status": "new", "created_at": record.created_at}
    if record.due_at:
        data["due_at"] = record.due_at
    return Event(_id(record, unit), "appointment.requested", record.id, at, data, unit)


def _changed(record, unit, entry, event_type="appointment.status_changed", visit=None):
    data = {"id": record.id, "location": record.location, "status": entry.to_status,
            "previous_status": entry.from_status}
    data.update(visit or {})
    data["by"] = "patient" if entry.answer else "staff"
    return Event(_id(record, unit), event_type, record.id, entry.at, data, unit)


def _change(record, unit, entry, booked, settings):
    if entry.to_status == "scheduled" and entry.answer is None:
        event_type = "visit.changed" if entry.from_status == "scheduled" else "visit.booked"
        return _changed(record, unit, entry, event_type, _visit(entry.visit_at or record.visit_at, settings))
    if entry.to_status == "cancelled":
        return _changed(record, unit, entry, "visit.cancelled", _visit(booked, settings))
    if entry.answer in ("confirmed", "change_requested"):
        return _changed(record, unit, entry, f"visit.{entry.answer}", _visit(booked, settings))
    return _changed(record, unit, entry)


def _visit(local, settings):
    """A visit's times: its local wall time, and its start and end (UTC) as booking worked them out."""
    if not local:
        return {}
    try:
        start = datetime.fromisoformat(local).replace(tzinfo=settings.timezone).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return {}
    return {"visit_at": local, "visit_start": utc_iso(start),
            "visit_end": utc_iso(start + timedelta(minutes=settings.visit_minutes))}


def _id(record, unit):
    return f"msg_{record.id}_{unit}"
