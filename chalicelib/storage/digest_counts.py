"""What the morning digest counts: requests by status and location, booked visits by when they start, and the last
days' first contacts.

Counts are COUNT queries on the `by_status` index (no item comes back); first contacts a Query on
`by_created` that reads back only each request's location and `first_contact`. Both indexes project every
attribute, so the digest function's policy (.chalice/policy-digest.json) allows these reads and no others: a
Query of `by_status` only with Select COUNT, and of the requests in `by_created` only with Select
SPECIFIC_ATTRIBUTES and attributes named there. Never a scan, and bounded: past MAX_PAGES reads a figure says
it is not exact ("at least").
"""
from dataclasses import dataclass

from .appointments import ENTITY
from .dynamo import call, deserialize, serialize

MAX_PAGES = 10  # each read is up to 1 MB of items: thousands of requests, far more than a clinic's week


@dataclass(frozen=True)
class Count:
    value: int
    exact: bool = True  # False: the reads stopped at MAX_PAGES, and there are more


@dataclass(frozen=True)
class FirstContact:
    location: str
    wall_minutes: int
    business_minutes: int


class DigestCounts:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def count(self, status, location, created_from=None, due_by=None):
        """Requests of `status` at `location` (arrived from `created_from` on; due by `due_by`), as a Count."""
        names, values = {"#status": "status", "#location": "location"}, {":status": status, ":location": location}
        condition, filters = "#status = :status", ["#location = :location"]
        if created_from:
            condition += " AND created_at >= :from"
            values[":from"] = created_from
        if due_by:
            filters.append("due_at <= :due_by")
            values[":due_by"] = due_by
        request = {"TableName": self._table, "IndexName": "by_status", "KeyConditionExpression": condition,
                   "FilterExpression": " AND ".join(filters), "ExpressionAttributeNames": names,
                   "ExpressionAttributeValues": serialize(values), "Select": "COUNT"}
        total = 0
        for _ in range(MAX_PAGES):
            response = call(self._client.query, **request)
            total += response["Count"]
            if "LastEvaluatedKey" not in response:
                return Count(total)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return Count(total, exact=False)

    def visits(self, status, location, start_from, start_before):
        """Requests of `status` at `location` whose booked visit starts in [start_from, start_before) (UTC ISO), as
        a Count: the same COUNT query on `by_status`, filtered on `visit_start` (no item comes back)."""
        request = {
            "TableName": self._table, "IndexName": "by_status", "KeyConditionExpression": "#status = :status",
            "FilterExpression": "#location = :location AND visit_start >= :from AND visit_start < :before",
            "ExpressionAttributeNames": {"#status": "status", "#location": "location"},
            "ExpressionAttributeValues": serialize({":status": status, ":location": location, ":from": start_from,
                                                    ":before": start_before}),
            "Select": "COUNT",
        }
        total = 0
        for _ in range(MAX_PAGES):
            response = call(self._client.query, **request)
            total += response["Count"]
            if "LastEvaluatedKey" not in response:
                return Count(total)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return Count(total, exact=False)

    def first_contacts(self, created_from):
        """(FirstContacts of the requests that arrived from `created_from` on and have one, newest first; whether
        that is all of them). A request staff marked as spam is no contact: CloudWatch's metric leaves it out too."""
        request = {
            "TableName": self._table, "IndexName": "by_created",
            "KeyConditionExpression": "entity = :entity AND created_at >= :from",
            "FilterExpression": "attribute_exists(first_contact) AND #status <> :spam",
            "Select": "SPECIFIC_ATTRIBUTES", "ProjectionExpression": "#location, first_contact",
            "ExpressionAttributeNames": {"#status": "status", "#location": "location"},
            "ExpressionAttributeValues": serialize({":entity": ENTITY, ":from": created_from,
                                                    ":spam": "suspected_spam"}),
            "ScanIndexForward": False,
        }
        found = []
        for _ in range(MAX_PAGES):
            response = call(self._client.query, **request)
            for item in map(deserialize, response.get("Items", [])):
                contact = item.get("first_contact")
                if isinstance(contact, dict) and item.get("location"):
                    found.append(FirstContact(item["location"], int(contact.get("wall_minutes", 0)),
                                              int(contact.get("business_minutes", 0))))
            if "LastEvaluatedKey" not in response:
                return found, True
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found, False
