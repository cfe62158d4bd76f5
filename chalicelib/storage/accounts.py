"""Staff accounts: one item per e-mail address, listed through the by_created index."""
from ..staff.accounts import Account
from .dynamo import ConditionFailed, call, deserialize, serialize

ACCOUNT_ENTITY = "staff_account"
# What a listing reads back, by name: by_created projects every attribute of every item, requests included, and
# the morning digest's policy lets it read these names there and no others (.chalice/policy-digest.json).
LISTED = ("email", "name", "role", "active", "digest", "created_at", "updated_at", "disabled_at", "entity")


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
        return self._update(email, "SET active = :false, updated_at = :now, disabled_at = :now",
                            {":false": False, ":now": now})

    def set_digest(self, email, on, now):
        """Turn the account's morning digest on or off, and nothing else; None when there is no such account."""
        return self._update(email, "SET digest = :digest, updated_at = :now", {":digest": bool(on), ":now": now})

    def _update(self, email, expression, values):
        """One conditional change of an existing account, which it returns as it is now; None when there is none."""
        try:
            response = call(
                self._client.update_item,
                TableName=self._table,
                Key=serialize(account_key(email)),
                UpdateExpression=expression,
                ConditionExpression="entity = :entity",
                ExpressionAttributeValues=serialize({**values, ":entity": ACCOUNT_ENTITY}),
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return _account(deserialize(response["Attributes"]))

    def all(self):
        """Every account, newest first (a Query on by_created, never a Scan), reading back only LISTED."""
        names = {f"#{name}": name for name in LISTED}  # name and role are reserved words
        request = {
            "TableName": self._table, "IndexName": "by_created", "KeyConditionExpression": "#entity = :entity",
            "Select": "SPECIFIC_ATTRIBUTES", "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize({":entity": ACCOUNT_ENTITY}), "ScanIndexForward": False,
        }
        accounts = []
        while True:
            response = call(self._client.query, **request)
            accounts += [_account(deserialize(item)) for item in response.get("Items", [])]
            if not response.get("LastEvaluatedKey"):
                return accounts
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _account(item):
    if item.get("entity") != ACCOUNT_ENTITY:
        return None
    return Account(email=item["email"], name=item["name"], role=item["role"], active=bool(item["active"]),
                   created_at=item["created_at"], updated_at=item["updated_at"], disabled_at=item.get("disabled_at"),
                   digest=bool(item.get("digest", True)))  # accounts saved before the digest existed get it
