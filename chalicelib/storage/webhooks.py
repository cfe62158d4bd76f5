"""Webhook endpoints (one item each, all in the partition WEBHOOKS) and their last deliveries.

Every endpoint is an item of the one partition WEBHOOKS, so that listing them is a Query of that partition: the
alert function's role (the feed) may Query the table on that leading key alone (.chalice/policy-alerts.json),
and reads no staff account or request to list the endpoints. An endpoint keeps no secret: each of its signing
secrets is derived from the deployment's key and a random nonce stored here (webhooks.signing), so the table
alone signs nothing. A delivery attempt is an item of its own in its endpoint's partition (WEBHOOK#id), kept
30 days (the table's TTL); the admin's page reads the newest 20 with one Query. Deleting an endpoint leaves its
attempts to that TTL: they hold ids, statuses and latencies, nothing personal, and nothing shows them once the
endpoint is gone.
"""
from dataclasses import dataclass
from typing import Optional

from .dynamo import ConditionFailed, call, deserialize, serialize

ENDPOINT_ENTITY = "webhook_endpoint"
ENDPOINTS_PARTITION = "WEBHOOKS"  # every endpoint's pk: the alert function's role may Query this one partition
ENDPOINT_PREFIX = "ENDPOINT#"
DELIVERY_ENTITY = "webhook_delivery"
DELIVERY_DAYS = 30


@dataclass(frozen=True)
class SigningSecret:
    nonce: str
    created_at: str
    expires_at: Optional[str] = None  # a rotated-out secret signs until then (24 hours after the rotation)


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    events: tuple
    active: bool
    created_at: str
    created_by: str
    updated_at: str
    secrets: tuple = ()  # SigningSecret, the newest first
    disabled_reason: Optional[str] = None  # "admin" or "gone" (the receiver answered 410)

    def wants(self, event_type):
        return self.active and event_type in self.events

    def as_json(self):
        return {"id": self.id, "url": self.url, "events": list(self.events), "active": self.active,
                "disabled_reason": self.disabled_reason, "created_at": self.created_at,
                "created_by": self.created_by, "updated_at": self.updated_at}


@dataclass(frozen=True)
class Delivery:
    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    at: str
    outcome: str  # delivered, failed, gone, refused, redirected
    status: Optional[int] = None  # the receiver's HTTP status; None when there was no answer
    latency_ms: Optional[int] = None


def endpoint_key(endpoint_id):
    return {"pk": ENDPOINTS_PARTITION, "sk": f"{ENDPOINT_PREFIX}{endpoint_id}"}


def deliveries_partition(endpoint_id):
    return f"WEBHOOK#{endpoint_id}"


class WebhookRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def add(self, endpoint):
        call(self._client.put_item, TableName=self._table, Item=serialize(_item(endpoint)),
             ConditionExpression="attribute_not_exists(pk)")
        return endpoint

    def get(self, endpoint_id):
        response = call(self._client.get_item, TableName=self._table, Key=serialize(endpoint_key(endpoint_id)),
                        ConsistentRead=True)
        return _endpoint(deserialize(response.get("Item", {})))

    def all(self):
        """Every endpoint, newest first: a Query of the WEBHOOKS partition (never a Scan, no index), all pages.

        The sort keys hold the endpoints' random ids, so the order is made here, by created_at (then id)."""
        request = {"TableName": self._table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                   "ExpressionAttributeValues": serialize({":pk": ENDPOINTS_PARTITION, ":prefix": ENDPOINT_PREFIX})}
        endpoints = []
        while True:
            response = call(self._client.query, **request)
            endpoints += [e for e in (_endpoint(deserialize(item)) for item in response.get("Items", [])) if e]
            if not response.get("LastEvaluatedKey"):
                return sorted(endpoints, key=lambda e: (e.created_at, e.id), reverse=True)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def set_secrets(self, endpoint_id, secrets, now):
        """The endpoint's signing secrets from now on (the newest first); None when there is no such endpoint."""
        return self._update(endpoint_id, "SET secrets = :secrets, updated_at = :now",
                            {":secrets": [_secret_item(s) for s in secrets], ":now": now})

    def set_active(self, endpoint_id, active, reason, now):
        """Enable (reason None) or disable the endpoint; None when there is no such endpoint."""
        if active:
            return self._update(endpoint_id, "SET active = :active, updated_at = :now REMOVE disabled_reason",
                                {":active": True, ":now": now})
        return self._update(endpoint_id, "SET active = :active, disabled_reason = :reason, updated_at = :now",
                            {":active": False, ":reason": reason, ":now": now})

    def delete(self, endpoint_id):
        """The endpoint's item alone; False when there was no such endpoint.

        Its delivery attempts stay until their TTL (expires_at, DELIVERY_DAYS): a busy endpoint has thousands, more
        than one API request could delete, and they name no one. Nothing reads them without their endpoint."""
        try:
            call(self._client.delete_item, TableName=self._table, Key=serialize(endpoint_key(endpoint_id)),
                 ConditionExpression="entity = :entity",
                 ExpressionAttributeValues=serialize({":entity": ENDPOINT_ENTITY}))
        except ConditionFailed:
            return False
        return True

    def record_delivery(self, delivery, expires_at):
        """One delivery attempt, kept until `expires_at` (epoch seconds, the table's TTL)."""
        item = {
            "pk": deliveries_partition(delivery.endpoint_id),
            "sk": f"DELIVERY#{delivery.at}#{delivery.event_id}#{delivery.attempt:02d}",
            "entity": DELIVERY_ENTITY, "endpoint_id": delivery.endpoint_id, "event_id": delivery.event_id,
            "event_type": delivery.event_type, "attempt": delivery.attempt, "at": delivery.at,
            "outcome": delivery.outcome, "expires_at": expires_at,
        }
        if delivery.status is not None:
            item["status"] = delivery.status
        if delivery.latency_ms is not None:
            item["latency_ms"] = delivery.latency_ms
        call(self._client.put_item, TableName=self._table, Item=serialize(item))

    def deliveries(self, endpoint_id, limit=20):
        """The endpoint's newest `limit` delivery attempts, newest first."""
        response = call(self._client.query, TableName=self._table,
                        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                        ExpressionAttributeValues=serialize({":pk": deliveries_partition(endpoint_id),
                                                             ":prefix": "DELIVERY#"}),
                        ScanIndexForward=False, Limit=limit)
        return [_delivery(deserialize(item)) for item in response.get("Items", [])]

    def _update(self, endpoint_id, expression, values):
        try:
            response = call(self._client.update_item, TableName=self._table, Key=serialize(endpoint_key(endpoint_id)),
                            UpdateExpression=expression, ConditionExpression="entity = :entity",
                            ExpressionAttributeValues=serialize({**values, ":entity": ENDPOINT_ENTITY}),
                            ReturnValues="ALL_NEW")
        except ConditionFailed:
            return None
        return _endpoint(deserialize(response["Attributes"]))


def _secret_item(secret):
    item = {"nonce": secret.nonce, "created_at": secret.created_at}
    if secret.expires_at:
        item["expires_at"] = secret.expires_at
    return item


def _item(endpoint):
    item = {**endpoint_key(endpoint.id), "entity": ENDPOINT_ENTITY, "id": endpoint.id, "url": endpoint.url,
            "events": list(endpoint.events), "active": endpoint.active, "created_at": endpoint.created_at,
            "created_by": endpoint.created_by, "updated_at": endpoint.updated_at,
            "secrets": [_secret_item(s) for s in endpoint.secrets]}
    if endpoint.disabled_reason:
        item["disabled_reason"] = endpoint.disabled_reason
    return item


def _endpoint(item):
    if item.get("entity") != ENDPOINT_ENTITY:
        return None
    return Endpoint(
        id=item["id"], url=item["url"], events=tuple(item.get("events", ())), active=bool(item.get("active")),
        created_at=item["created_at"], created_by=item.get("created_by", ""), updated_at=item["updated_at"],
        secrets=tuple(SigningSecret(s["nonce"], s["created_at"], s.get("expires_at")) for s in item.get("secrets", ())),
        disabled_reason=item.get("disabled_reason"))


def _delivery(item):
    return Delivery(endpoint_id=item["endpoint_id"], event_id=item["event_id"], event_type=item["event_type"],
                    attempt=int(item["attempt"]), at=item["at"], outcome=item["outcome"],
                    status=int(item["status"]) if item.get("status") is not None else None,
                    latency_ms=int(item["latency_ms"]) if item.get("latency_ms") is not None else None)
