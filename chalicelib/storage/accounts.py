"""Staff accounts: one item per e-mail address, listed through the by_created index."""
from ..staff.accounts import Account
from .dynamo import ConditionFailed, call, deserialize, newest_first, serialize

ACCOUNT_ENTITY = "staff_account"


def account_key(email):
    return {"pk": f"STAFF#{email}", "sk": "STAFF"}


class AccountRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def get(self, email):
        response = call(self._client.get_item, TableName=self._table, Key=serialize(account_key(email)),
                        ConsistentRead=True)
        return _account(deserialize(response.get("Item", {})))

    def put(self, account):
        """Create the account, or update its name, role, active and digest flags; created_at stays the first one's."""
        response = call(
            self._client.update_item,
            TableName=self._table,
            Key=serialize(account_key(account.email)),
            UpdateExpression="SET entity = :entity, email = :email, #name = :name, #role = :role, active = :active, "
                             "digest = :digest, created_at = if_not_exists(created_at, :now), updated_at = :now",
            ExpressionAttributeNames={"#name": "name", "#role": "role"},
            ExpressionAttributeValues=serialize({
                ":entity": ACCOUNT_ENTITY, ":email": account.email, ":name": account.name, ":role": account.role,
                ":active": account.active, ":digest": account.digest, ":now": account.updated_at,
            }),
            ReturnValues="ALL_NEW",
        )
        return _account(deserialize(response["Attributes"]))

    def disable(self, email, now):
        """Mark the account disabled; None when there is no such account."""
        try:
            response = call(
                self._client.update_item,
                TableName=self._table,
                Key=serialize(account_key(email)),
                UpdateExpression="SET active = :false, updated_at = :now, disabled_at = :now",
                ConditionExpression="entity = :entity",
                ExpressionAttributeValues=serialize({":false": False, ":now": now, ":entity": ACCOUNT_ENTITY}),
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return _account(deserialize(response["Attributes"]))

    def all(self):
        """Every account, newest first (a Query on by_created, never a Scan)."""
        return [_account(item) for item in newest_first(self._client, self._table, ACCOUNT_ENTITY)]


def _account(item):
    if item.get("entity") != ACCOUNT_ENTITY:
        return None
    return Account(email=item["email"], name=item["name"], role=item["role"], active=bool(item["active"]),
                   created_at=item["created_at"], updated_at=item["updated_at"], disabled_at=item.get("disabled_at"),
                   digest=bool(item.get("digest", True)))  # accounts saved before the digest existed get it
