"""Booked visits waiting for their reminder: the sparse `by_reminder` index, the claim, and each channel's mark.

A booked request carries `reminder_queue` = "due" and `remind_at` (visits/booking.py sets both at a booking or a
change, with the new `visit_sequence`). The reminder run reads the index for what is due, a bounded Query (the
index projects keys only: each request is then read whole, consistently), and claims a request with a
conditional write on the request item: still scheduled, the same visit_sequence, still queued, and no live claim
(a claim older than LEASE is a crashed run's, taken over). Each channel is marked `sending` before its call and
with its outcome after it, in the request's `reminder` map for that sequence: a run that finds `sending` left
by a lost answer never sends it again, and a failing SNS never re-sends the e-mail. A change of time starts a
new map (another sequence), so an old claim or mark never counts for the new time.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..core.clock import utc_iso
from .appointments import ENTITY, from_item, item_key
from .dynamo import ConditionFailed, call, deserialize, serialize

REMINDER_QUEUE = "due"
PAGE = 100
MAX_PAGES = 5  # at most 500 reminders a run; the next run, 15 minutes on, goes on with the rest
LEASE = timedelta(minutes=10)
CHANNELS = ("mail", "sms")
SENDING, RETRY = "sending", "retry"  # a channel's marks besides its outcome ("sent", "opted_out", ...)


@dataclass(frozen=True)
class Booking:
    """A request waiting for its reminder, as read from its item."""
    request: object  # intake.models.AppointmentRequest
    status: str
    visit_start: datetime
    visit_sequence: int
    remind_at: str
    queued: bool
    reminder: dict  # the marks of this visit_sequence's reminder ({} when none yet)

    @property
    def id(self):
        return self.request.id


def _time(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def booking_from_item(item):
    if item.get("entity") != ENTITY or item.get("visit_sequence") is None:
        return None
    sequence = int(item["visit_sequence"])
    reminder = item.get("reminder") or {}
    return Booking(
        request=from_item(item), status=item["status"], visit_start=_time(item.get("visit_start")),
        visit_sequence=sequence, remind_at=item.get("remind_at"), queued=item.get("reminder_queue") == REMINDER_QUEUE,
        reminder=reminder if reminder.get("sequence") == sequence else {},
    )


class ReminderRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def due(self, now):
        """Ids of the requests queued with `remind_at` at or before `now` (UTC ISO), soonest first, bounded."""
        request = {
            "TableName": self._table,
            "IndexName": "by_reminder",
            "KeyConditionExpression": "reminder_queue = :queue AND remind_at <= :now",
            "ExpressionAttributeValues": serialize({":queue": REMINDER_QUEUE, ":now": now}),
            "Limit": PAGE,
        }
        found = []
        for _ in range(MAX_PAGES):
            response = call(self._client.query, **request)
            found += [deserialize(item)["pk"].split("#", 1)[1] for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return list(dict.fromkeys(found))

    def get(self, request_id):
        """The booked request (a consistent read), or None when it is gone, erased or was never booked."""
        response = call(self._client.get_item, TableName=self._table, Key=serialize(item_key(request_id)),
                        ConsistentRead=True)
        return booking_from_item(deserialize(response["Item"])) if "Item" in response else None

    def claim(self, booking, at):
        """Claim the reminder of `booking`'s visit_sequence at `at` (UTC ISO); False when another run holds a live
        claim, or the request changed (no longer scheduled, another time, no longer queued)."""
        values = {":entity": ENTITY, ":scheduled": "scheduled", ":seq": booking.visit_sequence,
                  ":queue": REMINDER_QUEUE}
        if booking.reminder:  # a released or crashed run's claim on this very time: taken over, its marks kept
            update = "SET reminder.claimed_at = :at"
            mine = "reminder.#seq = :seq AND (attribute_not_exists(reminder.claimed_at) OR reminder.claimed_at < :stale)"
            values.update({":at": at, ":stale": utc_iso(_time(at) - LEASE)})
        else:
            update, mine = "SET reminder = :fresh", "(attribute_not_exists(reminder) OR reminder.#seq <> :seq)"
            values[":fresh"] = {"sequence": booking.visit_sequence, "claimed_at": at}
        return self._update(booking.id, update, f"{_BOOKED} AND {mine}", values, {"#seq": "sequence", "#status": "status"})

    def mark(self, booking, claimed_at, channel, outcome, at):
        """Record a channel's outcome on this claim's reminder; False when the claim is no longer ours. `sending`
        is marked only on a channel still to send (none yet, `retry`, or `sending` left by a run that lost its
        mark)."""
        condition = "reminder.#seq = :seq AND reminder.claimed_at = :claimed"
        values = {":outcome": outcome, ":at": at, ":seq": booking.visit_sequence, ":claimed": claimed_at}
        if outcome == SENDING:
            condition += (f" AND (attribute_not_exists(reminder.{channel}) OR reminder.{channel} = :retry"
                          f" OR reminder.{channel} = :sending)")
            values.update({":retry": RETRY, ":sending": SENDING})
        return self._update(booking.id, f"SET reminder.{channel} = :outcome, reminder.{channel}_at = :at", condition,
                            values, {"#seq": "sequence"})

    def release(self, booking, claimed_at):
        """Give up this claim, so that the next run tries the channels still to send."""
        self._update(booking.id, "REMOVE reminder.claimed_at", "reminder.#seq = :seq AND reminder.claimed_at = :claimed",
                     {":seq": booking.visit_sequence, ":claimed": claimed_at}, {"#seq": "sequence"})

    def dequeue(self, booking):
        """Take the request off the index (reminded, or not worth reminding), unless a change re-armed it."""
        return self._update(booking.id, "REMOVE reminder_queue",
                            "visit_sequence = :seq AND remind_at = :remind_at AND reminder_queue = :queue",
                            {":seq": booking.visit_sequence, ":remind_at": booking.remind_at,
                             ":queue": REMINDER_QUEUE})

    def _update(self, request_id, update, condition, values, names=None):
        request = {"TableName": self._table, "Key": serialize(item_key(request_id)), "UpdateExpression": update,
                   "ConditionExpression": condition, "ExpressionAttributeValues": serialize(values)}
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            call(self._client.update_item, **request)
        except ConditionFailed:
            return False
        return True


_BOOKED = "entity = :entity AND #status = :scheduled AND visit_sequence = :seq AND reminder_queue = :queue"

