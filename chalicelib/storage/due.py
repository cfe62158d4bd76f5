"""New requests waiting for their due time: the sparse `by_due` index, and the escalation's claim on each.

A new request carries `due_queue` until it is escalated or leaves `new` (appointments.to_item sets it,
staff changes remove it). The escalation reads the index for what is past `due_at`, a bounded Query, and
claims each request with a conditional write that removes it from the index: of two runs, or a retried
one, exactly one claim succeeds, and a request contacted meanwhile fails the condition.
"""
from dataclasses import dataclass

from .appointments import DUE_QUEUE, ENTITY, item_key
from .dynamo import ConditionFailed, call, deserialize, serialize

PAGE = 100
MAX_PAGES = 5  # at most 500 overdue requests a run; the next run goes on with the rest


@dataclass(frozen=True)
class Waiting:
    id: str
    location: str
    due_at: str


class DueRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def overdue(self, now):
        """New requests due at or before `now` (UTC ISO), oldest due first, at most PAGE * MAX_PAGES."""
        request = {
            "TableName": self._table,
            "IndexName": "by_due",
            "KeyConditionExpression": "due_queue = :queue AND due_at <= :now",
            "ExpressionAttributeValues": serialize({":queue": DUE_QUEUE, ":now": now}),
            "Limit": PAGE,
        }
        found = []
        for _ in range(MAX_PAGES):
            response = call(self._client.query, **request)
            found += [Waiting(item["id"], item["location"], item["due_at"])
                      for item in map(deserialize, response.get("Items", []))]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def claim(self, request_id, at):
        """Take a request off the due index, marked `escalated_at`; False when it is no longer new and waiting."""
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(item_key(request_id)),
                 UpdateExpression="REMOVE due_queue SET escalated_at = :at",
                 ConditionExpression="entity = :entity AND #status = :new AND due_queue = :queue",
                 ExpressionAttributeNames={"#status": "status"},
                 ExpressionAttributeValues=serialize({":at": at, ":entity": ENTITY, ":new": "new",
                                                      ":queue": DUE_QUEUE}))
        except ConditionFailed:
            return False
        return True

    def release(self, request_id, at):
        """Undo this run's claim (its message was not sent), so that the next run escalates the request."""
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(item_key(request_id)),
                 UpdateExpression="SET due_queue = :queue REMOVE escalated_at",
                 ConditionExpression="#status = :new AND escalated_at = :at",
                 ExpressionAttributeNames={"#status": "status"},
                 ExpressionAttributeValues=serialize({":at": at, ":new": "new", ":queue": DUE_QUEUE}))
        except ConditionFailed:
            pass  # contacted meanwhile: nothing to escalate any more
