"""The visit e-mails' outbox items (`VISIT#nnnn` beside the request, written with the booking, change or
cancellation) and their marks: which one is due, and, in one transaction, that it went out.

The mark is conditional on the outbox item still being unmarked, and appends to the request's own
`visit_mails` ({"kind", "sequence", "at", "outcome"}) in the same transaction, so neither is written twice.
"""
from ..core.clock import utc_iso
from .appointments import ENTITY as REQUEST_ENTITY, VISIT_SK, stream_key, visit_mail_key as outbox_key
from .dynamo import call, deserialize, serialize, transact

OUTBOX_ENTITY = "visit_mail"


def visit_mail_subject(keys):
    """(request id, sequence) of a stream record's keys when they name a visit e-mail's outbox item, else None."""
    kind, request_id, sk = stream_key(keys)
    if kind != "visit" or not sk[len(VISIT_SK):].isdigit():
        return None
    return request_id, int(sk[len(VISIT_SK):])


class VisitMailRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def outbox(self, request_id, sequence):
        """The outbox item as stored ({"kind", "sequence", "sent_at", ...}), or None when it is gone (expired)."""
        response = call(self._client.get_item, TableName=self._table, Key=serialize(outbox_key(request_id, sequence)),
                        ConsistentRead=True)
        item = deserialize(response.get("Item", {}))
        return item if item.get("entity") == OUTBOX_ENTITY else None

    def mark_sent(self, request_id, sequence, kind, outcome, now):
        """Mark the outbox item (only if unmarked) and record the e-mail on the request, at once. False when the
        item was marked already, or the request is erased or gone (nothing is written then)."""
        at = utc_iso(now)
        entry = {"kind": kind, "sequence": sequence, "at": at, "outcome": outcome}
        return transact(self._client, [
            {"Update": {
                "TableName": self._table, "Key": serialize(outbox_key(request_id, sequence)),
                "UpdateExpression": "SET sent_at = :at, outcome = :outcome",
                "ConditionExpression": "entity = :entity AND attribute_not_exists(sent_at)",
                "ExpressionAttributeValues": serialize({":at": at, ":outcome": outcome,
                                                        ":entity": OUTBOX_ENTITY}),
            }},
            {"Update": {
                "TableName": self._table, "Key": serialize({"pk": f"APPT#{request_id}", "sk": "APPT"}),
                "UpdateExpression": "SET visit_mails = list_append(if_not_exists(visit_mails, :none), :entry)",
                "ConditionExpression": "entity = :entity",
                "ExpressionAttributeValues": serialize({":none": [], ":entry": [entry],
                                                        ":entity": REQUEST_ENTITY}),
            }},
        ])
