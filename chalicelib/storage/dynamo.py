"""DynamoDB's wire format, its documented limits, and one way to call it, shared by every store."""
from decimal import Decimal

from botocore.exceptions import BotoCoreError, ClientError

from ..core.errors import StorageUnavailable
from ..core.logs import get_logger

log = get_logger(__name__)

# DynamoDB's documented item limit is 400 KB, counting attribute names and values in UTF-8.
# moto stores larger items without complaint, so the limit is checked here.
MAX_ITEM_BYTES = 400 * 1024


class ConditionFailed(Exception):
    """A write's ConditionExpression did not hold."""


def plain(value):
    """DynamoDB gives numbers back as Decimal; the request's fields hold no numbers, only str/bool."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
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


def call(operation, **kwargs):
    """One DynamoDB call: a failed condition as ConditionFailed, any other failure as StorageUnavailable."""
    try:
        return operation(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise ConditionFailed() from None
        raise unavailable(error) from None
    except BotoCoreError as error:
        raise unavailable(error) from None


def transact(client, items):
    """One TransactWriteItems: True when written, False when a condition did not hold (the transaction was
    cancelled for it), StorageUnavailable for any other failure."""
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as error:
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if error.response["Error"]["Code"] == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
            return False
        raise unavailable(error) from None
    except BotoCoreError as error:
        raise unavailable(error) from None
    return True


def put_if_unchanged(client, table, item, previous_version):
    """Put `item`, only if the stored one still has `previous_version` (None: only if there is none).

    False when someone wrote it meanwhile: optimistic locking on an item's `version` attribute.
    """
    condition, values = ("attribute_not_exists(pk)", None) if previous_version is None \
        else ("version = :version", {":version": previous_version})
    request = {"TableName": table, "Item": serialize(item), "ConditionExpression": condition}
    if values:
        request["ExpressionAttributeValues"] = serialize(values)
    try:
        call(client.put_item, **request)
    except ConditionFailed:
        return False
    return True


def delete_prefixed(client, table, pk, prefix):
    """Delete every item of partition `pk` whose sort key begins with `prefix`: a Query of keys only, page by page."""
    request = {"TableName": table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
               "ExpressionAttributeValues": serialize({":pk": pk, ":prefix": prefix}), "ProjectionExpression": "pk, sk"}
    while True:
        response = call(client.query, **request)
        for key in response.get("Items", []):
            call(client.delete_item, TableName=table, Key=key)
        if not response.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def newest_first(client, table, entity):
    """Every item of one kind, newest first: a Query on the by_created index (never a Scan), all pages."""
    request = {
        "TableName": table,
        "IndexName": "by_created",
        "KeyConditionExpression": "entity = :entity",
        "ExpressionAttributeValues": serialize({":entity": entity}),
        "ScanIndexForward": False,
    }
    items = []
    while True:
        response = call(client.query, **request)
        items += [deserialize(item) for item in response.get("Items", [])]
        if not response.get("LastEvaluatedKey"):
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def unavailable(error):
    """A botocore failure as StorageUnavailable, logged by its error code only."""
    code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
    log.warning("storage unavailable", extra={"event": "storage_error", "error_code": code})
    return StorageUnavailable()
