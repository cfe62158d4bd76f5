"""Staff tokens, one item each under the hash of the token (never the token itself)."""
from ..staff.auth import TokenRecord
from .dynamo import ConditionFailed, call, deserialize, newest_first, serialize

TOKEN_ENTITY = "staff_token"


def token_key(token_hash):
    return {"pk": f"TOKEN#{token_hash}", "sk": "TOKEN"}


class TokenRepository:
    """Staff tokens, one item each under the hash of the token (never the token itself)."""

    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def add(self, record):
        item = {
            **token_key(record.token_hash),
            "entity": TOKEN_ENTITY,
            "id": record.id,
            "name": record.name,
            "role": record.role,
            "token_hash": record.token_hash,
            "created_at": record.created_at,
            **({"email": record.email} if record.email else {}),
        }
        call(self._client.put_item, TableName=self._table, Item=serialize(item),
              ConditionExpression="attribute_not_exists(pk)")

    def get(self, token_hash):
        response = call(self._client.get_item, TableName=self._table, Key=serialize(token_key(token_hash)),
                         ConsistentRead=True)
        return _token_record(deserialize(response.get("Item", {})))

    def touch(self, token_hash, now, not_since):
        """Set last_used_at, unless it was set after `not_since` (by this request's twin, say)."""
        try:
            call(
                self._client.update_item,
                TableName=self._table,
                Key=serialize(token_key(token_hash)),
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(last_used_at) "
                                    "OR last_used_at <= :not_since)",
                ExpressionAttributeValues=serialize({":now": now, ":not_since": not_since}),
            )
        except ConditionFailed:
            pass

    def all(self):
        """Every token, revoked ones too, newest first (a Query on by_created, never a Scan)."""
        return [_token_record(item) for item in newest_first(self._client, self._table, TOKEN_ENTITY)]

    def revoke(self, token_hash, at):
        try:
            response = call(
                self._client.update_item,
                TableName=self._table,
                Key=serialize(token_key(token_hash)),
                UpdateExpression="SET revoked_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                ExpressionAttributeValues=serialize({":at": at}),
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return self.get(token_hash)
        return _token_record(deserialize(response["Attributes"]))


def _token_record(item):
    if item.get("entity") != TOKEN_ENTITY:
        return None
    return TokenRecord(
        id=item["id"], name=item["name"], role=item["role"], token_hash=item["token_hash"],
        created_at=item["created_at"], last_used_at=item.get("last_used_at"), revoked_at=item.get("revoked_at"),
        email=item.get("email"),
    )


