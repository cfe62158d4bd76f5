"""The webhook feed's view of a request item, and its marks on it (the "history as outbox").

A request's events come from its item: unit 0 is the request itself, unit i+1 its history entry i. `event_units`
says how many units the feed has already turned into events; an erased request's tombstone carries
`erased_event` once its appointment.erased has been queued. Both marks only ever move forward (conditional
writes), so a stream record handled twice, or late, never takes a request back.

The feed reads only what events are made of (a projection): none of the patient's fields ever reaches it.
"""
from dataclasses import dataclass

from ..staff.triage import StaffRecord
from .appointments import ENTITY, item_key
from .dynamo import ConditionFailed, call, deserialize, serialize
from .staff_records import ERASED_ENTITY, to_staff_record

EVENT_UNITS = "event_units"
ERASED_EVENT = "erased_event"
_READ = ("entity", "id", "status", "created_at", "location", "due_at", "history", "erased_at", "erased_by",
         EVENT_UNITS, ERASED_EVENT)


@dataclass(frozen=True)
class FeedItem:
    """A request (or its tombstone) as the feed reads it: the record, and how far its events have gone."""

    record: StaffRecord  # only the parts named in _READ are set: no fields, no consent
    units: int = 0  # units already turned into events
    erased_event: bool = False  # a tombstone whose appointment.erased was queued


def feed_item(item):
    """The FeedItem of a (deserialized) item, or None for any item that is neither a request nor a tombstone."""
    record = to_staff_record(item)
    if record is None:
        return None
    return FeedItem(record, int(item.get(EVENT_UNITS) or 0), bool(item.get(ERASED_EVENT)))


class WebhookMarks:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def read(self, request_id):
        """The request or its tombstone as it is now (a consistent read), or None."""
        names = {f"#a{number}": name for number, name in enumerate(_READ)}
        response = call(self._client.get_item, TableName=self._table, Key=serialize(item_key(request_id)),
                        ConsistentRead=True, ProjectionExpression=", ".join(names),
                        ExpressionAttributeNames=names)
        return feed_item(deserialize(response.get("Item", {})))

    def mark_units(self, request_id, units):
        """Record that the request's first `units` units have been queued. False when it was erased meanwhile
        or is already marked as far (or further): a mark never goes back."""
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(item_key(request_id)),
                 UpdateExpression="SET #units = :units",
                 ConditionExpression="entity = :entity AND (attribute_not_exists(#units) OR #units < :units)",
                 ExpressionAttributeNames={"#units": EVENT_UNITS},
                 ExpressionAttributeValues=serialize({":units": units, ":entity": ENTITY}))
        except ConditionFailed:
            return False
        return True

    def mark_erased(self, request_id):
        """Record on the tombstone that appointment.erased was queued. False when it already was."""
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(item_key(request_id)),
                 UpdateExpression="SET #erased = :yes",
                 ConditionExpression="entity = :entity AND attribute_not_exists(#erased)",
                 ExpressionAttributeNames={"#erased": ERASED_EVENT},
                 ExpressionAttributeValues=serialize({":yes": True, ":entity": ERASED_ENTITY}))
        except ConditionFailed:
            return False
        return True
