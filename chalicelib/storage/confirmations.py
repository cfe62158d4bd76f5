"""How many confirmations went to one address in the last 24 hours: one short-lived item per address.

The address is never stored: the item is keyed by a keyed hash of it (the deployment's secret
key), holds only request ids and times, and expires through the table's TTL a day after its
last send.
"""
from .dynamo import call, deserialize, put_if_unchanged, serialize

CAP_ENTITY = "confirmation_cap"


def cap_key(address_key):
    return {"pk": f"CONFIRM#{address_key}", "sk": "CAP"}


class ConfirmationCapRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    def sends(self, address_key):
        """({request id: when}, version) of the confirmations recorded for this address."""
        response = call(self._client.get_item, TableName=self._table, Key=serialize(cap_key(address_key)),
                        ConsistentRead=True)
        item = deserialize(response.get("Item", {}))
        if item.get("entity") != CAP_ENTITY:
            return {}, None
        return dict(item.get("sent", {})), int(item["version"])

    def record(self, address_key, sent, expires_at, previous_version):
        """Write the sends, only if nobody did since `previous_version` was read. False when someone did."""
        item = {**cap_key(address_key), "entity": CAP_ENTITY, "sent": sent,
                "version": (previous_version or 0) + 1, "expires_at": expires_at}
        return put_if_unchanged(self._client, self._table, item, previous_version)
