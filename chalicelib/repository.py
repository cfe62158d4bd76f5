"""DynamoDB storage of appointment requests. Nothing else knows the item layout."""
from collections import namedtuple
from datetime import datetime

from decimal import Decimal
from botocore.exceptions import BotoCoreError, ClientError

from .errors import PayloadTooLarge, StorageUnavailable
from .logs import get_logger
from .models import AppointmentRequest, utc_iso

log = get_logger(__name__)

# DynamoDB's documented item limit is 400 KB, counting attribute names and values in UTF-8.
# moto stores larger items without complaint, so the limit is checked here.
MAX_ITEM_BYTES = 400 * 1024
ENTITY = "appointment"

Existing = namedtuple("Existing", "id dedupe_key content_hash created_at")



def item_key(request_id):
    return {"pk": f"APPT#{request_id}", "sk": "APPT"}


def to_item(request: AppointmentRequest):
    consent = {"contact": request.contact_consent.model_dump()}
    if request.sms_consent:
        consent["sms"] = request.sms_consent.model_dump()
    return {
        **item_key(request.id),
        "entity": ENTITY,
        "id": request.id,
        "status": request.status,
        "location": request.location,
        "created_at": utc_iso(request.created_at),
        "expires_at": request.expires_at,
        "fields": request.fields,
        "consent": consent,
        "dedupe_key": request.dedupe_key,
        "content_hash": request.content_hash,
    }


def from_item(item):
    """A stored request from its item (as `deserialize` or a stream image gives it)."""
    consent = item.get("consent", {})
    return AppointmentRequest(
        id=item["id"],
        status=item["status"],
        created_at=datetime.fromisoformat(item["created_at"].replace("Z", "+00:00")),
        expires_at=int(item["expires_at"]),
        fields=_plain(item.get("fields", {})),
        contact_consent=consent["contact"],
        sms_consent=consent.get("sms"),
        dedupe_key=item["dedupe_key"],
        content_hash=item["content_hash"],
        alerted_at=item.get("alerted_at"),
    )


def from_stream_image(image):
    """The request in a stream record's image (DynamoDB JSON), or None for other kinds of item."""
    item = deserialize(image or {})
    return from_item(item) if item.get("entity") == ENTITY else None


def _plain(value):
    """DynamoDB gives numbers back as Decimal; the request's fields hold no numbers, only str/bool."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def item_size(value, name=""):
    """Bytes that DynamoDB counts for an attribute (names and values, UTF-8), or a whole item."""
    size = len(name.encode("utf-8"))
    if isinstance(value, bool) or value is None:
        return size + 1
    if isinstance(value, str):
        return size + len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, (int, float)):
        return size + 21
    if isinstance(value, dict):
        return size + 3 + sum(item_size(v, k) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return size + 3 + sum(item_size(v) + 1 for v in value)
    return size + len(bytes(value))


def serialize(item):
    """Plain values as DynamoDB JSON. Items hold only str, bool, int, None, dict and list.

    Written here rather than imported from boto3.dynamodb.types: importing boto3 costs the
    cold start time and memory (it pulls in s3transfer), and botocore alone is enough.
    """
    return {name: _typed(value) for name, value in item.items()}


def deserialize(item):
    return {name: _plain_value(value) for name, value in item.items()}


def _typed(value):
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {str(k): _typed(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [_typed(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in an item")


def _plain_value(typed):
    (kind, value), = typed.items()
    if kind in ("S", "BOOL"):
        return value
    if kind == "N":
        return int(value) if value.lstrip("-").isdigit() else Decimal(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _plain_value(v) for k, v in value.items()}
    if kind == "L":
        return [_plain_value(v) for v in value]
    if kind in ("SS", "NS", "BS"):
        return set(value)
    return value


class AppointmentRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def add(self, request: AppointmentRequest):
        """Store a new request with one conditional PutItem.

        Returns None when stored, or the `Existing` item already holding that id.
        """
        item = to_item(request)
        if item_size(item) > MAX_ITEM_BYTES:
            raise PayloadTooLarge()
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise self._unavailable(error) from None
            old = error.response.get("Item") or self._get_raw(request.id)
        except BotoCoreError as error:
            raise self._unavailable(error) from None
        return _existing(deserialize(old))

    def find(self, request_id):
        """The `Existing` item holding that id, or None (a consistent read, never a scan)."""
        item = self._get_raw(request_id)
        return _existing(deserialize(item)) if item else None

    def get(self, request_id):
        """The stored request, or None when there is none (never stored, erased or expired)."""
        item = self._get_raw(request_id)
        return from_item(deserialize(item)) if item.get("entity", {}).get("S") == ENTITY else None

    def mark_alerted(self, request_id, message_id, now):
        """Record that the staff alert went out, so a retried stream batch does not send it again."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=serialize(item_key(request_id)),
                UpdateExpression="SET alerted_at = :now, alert_message_id = :message_id",
                # Never re-create an item that was erased meanwhile.
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=serialize({":now": utc_iso(now), ":message_id": message_id}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise self._unavailable(error) from None
        except BotoCoreError as error:
            raise self._unavailable(error) from None
        return True

    def _get_raw(self, request_id):
        try:
            response = self._client.get_item(
                TableName=self._table, Key=serialize(item_key(request_id)), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise self._unavailable(error) from None
        return response.get("Item", {})

    def _unavailable(self, error):
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        log.warning("storage unavailable", extra={"event": "storage_error", "error_code": code})
        return StorageUnavailable()


def _existing(item):
    created = item.get("created_at")
    return Existing(
        id=item.get("id"),
        dedupe_key=item.get("dedupe_key"),
        content_hash=item.get("content_hash"),
        created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else datetime.min,
    )
