"""The morning digest's claims: one small item per staff account and local date, so that none gets two.

A run claims an account's digest with a conditional PutItem before sending it: of a retried run, or two
runs at once, exactly one claim succeeds. A send that fails deletes its own claim, so that a later run
sends it. The key holds a keyed hash of the address (core.keys, "digest claims"), not the address: a plain
hash of a staff address is undone by hashing the clinic's staff list. The item expires through the table's TTL.
"""
import hashlib
import hmac

from .dynamo import ConditionFailed, call, serialize

CLAIM_ENTITY = "digest_claim"


def claim_key(day, email, key):
    """`day` is the clinic's local date (YYYY-MM-DD): the digest is once a day where the clinic is; `key` the
    digest claims' key (bytes)."""
    who = hmac.new(key, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return {"pk": f"DIGEST#{day}", "sk": f"STAFF#{who}"}


class DigestClaims:
    def __init__(self, client, table_name, key):
        """`key()` gives the digest claims' key (wiring.purpose_key_of("digest claims")), read when first needed."""
        self._client = client
        self._table = table_name
        self._key = key

    def claim(self, day, email, at, expires_at):
        """True for exactly one caller per account and day: that caller sends the digest."""
        item = {**claim_key(day, email, self._key()), "entity": CLAIM_ENTITY, "claimed_at": at,
                "expires_at": expires_at}
        try:
            call(self._client.put_item, TableName=self._table, Item=serialize(item),
                 ConditionExpression="attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def release(self, day, email, at):
        """Undo the claim made `at` (its digest was not sent), so that a later run sends it."""
        try:
            call(self._client.delete_item, TableName=self._table, Key=serialize(claim_key(day, email, self._key())),
                 ConditionExpression="claimed_at = :at", ExpressionAttributeValues=serialize({":at": at}))
        except ConditionFailed:
            pass  # not this run's claim: it is not ours to undo
