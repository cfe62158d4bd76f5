"""Staff sign-in codes (one item per address and browser), each address's e-mails of codes (one item per address),
and sessions (one item per session), codes and sessions kept as hashes.

Both carry `expires_at`, the table's TTL attribute, so DynamoDB deletes them once they are of
no use; the code checks every time limit itself (TTL deletion can lag by days).
"""
from ..staff.code_mail import CodeState, MailState, Waiting
from ..staff.sign_in_sources import UNKNOWN
from ..staff.signin import SessionState
from .dynamo import ConditionFailed, call, deserialize, put_if_unchanged, serialize

CODE_ENTITY = "signin_code"
MAIL_ENTITY = "signin_mail"
SESSION_ENTITY = "staff_session"


def code_key(email):
    return {"pk": f"SIGNIN#{email}", "sk": "CODE"}


def mail_key(address):
    return {"pk": f"SIGNIN#{address}", "sk": "MAIL"}


def session_key(session_hash):
    return {"pk": f"SESSION#{session_hash}", "sk": "SESSION"}


class SignInRepository:
    def __init__(self, client, table_name):
        self._client = client
        self._table = table_name

    # --- codes -----------------------------------------------------------------------------------

    def code(self, email):
        response = call(self._client.get_item, TableName=self._table, Key=serialize(code_key(email)),
                        ConsistentRead=True)
        item = deserialize(response.get("Item", {}))
        if item.get("entity") != CODE_ENTITY:
            return None
        return CodeState(code_hash=item.get("code_hash"), salt=item.get("salt"), valid_until=item.get("valid_until"),
                         tries=int(item.get("tries", 0)), requests=tuple(item.get("requests", [])),
                         version=int(item["version"]))

    def save_code(self, email, state, expires_at, previous_version):
        """Write a new code, only if nobody did since `previous_version` was read. False when someone did."""
        item = {**code_key(email), "entity": CODE_ENTITY, "code_hash": state.code_hash, "salt": state.salt,
                "valid_until": state.valid_until, "tries": 0, "requests": list(state.requests),
                "version": state.version, "expires_at": expires_at}
        return put_if_unchanged(self._client, self._table, item, previous_version)

    def count_wrong_try(self, email, code_hash):
        """One more wrong try against this code (none if the code changed or was used meanwhile)."""
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(code_key(email)),
                 UpdateExpression="ADD tries :one", ConditionExpression="code_hash = :hash",
                 ExpressionAttributeValues=serialize({":one": 1, ":hash": code_hash}))
        except ConditionFailed:
            pass

    def use_code(self, email, code_hash, max_tries):
        """Spend the code: True for exactly one caller, only while it is unused and not locked out."""
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(code_key(email)),
                 UpdateExpression="REMOVE code_hash, salt, valid_until SET tries = :zero",
                 ConditionExpression="code_hash = :hash AND tries < :max",
                 ExpressionAttributeValues=serialize({":hash": code_hash, ":max": max_tries, ":zero": 0}))
        except ConditionFailed:
            return False
        return True

    # --- an address's e-mails of codes ------------------------------------------------------------------

    def mail_state(self, address):
        response = call(self._client.get_item, TableName=self._table, Key=serialize(mail_key(address)),
                        ConsistentRead=True)
        item = deserialize(response.get("Item", {}))
        if item.get("entity") != MAIL_ENTITY:
            return None
        return MailState(mailed_at=item.get("mailed_at"),
                         waiting=tuple(Waiting(w["browser"], w["words"], w["request_id"], w["requested_at"],
                                               w.get("source", UNKNOWN)) for w in item.get("waiting", [])),
                         follow_up_at=item.get("follow_up_at"),
                         known=tuple((device, at) for device, at in item.get("known", [])),
                         version=int(item["version"]))

    def save_mail_state(self, address, state, expires_at, previous_version):
        """Write the address's state, only if nobody did since `previous_version` was read. False when someone did."""
        item = {**mail_key(address), "entity": MAIL_ENTITY, "mailed_at": state.mailed_at,
                "waiting": [{"browser": w.browser, "words": w.words, "request_id": w.request_id,
                             "requested_at": w.requested_at, "source": w.source} for w in state.waiting],
                "follow_up_at": state.follow_up_at, "known": [list(pair) for pair in state.known],
                "version": state.version, "expires_at": expires_at}
        return put_if_unchanged(self._client, self._table, item, previous_version)

    # --- sessions --------------------------------------------------------------------------------

    def add_session(self, session):
        item = {**session_key(session.session_hash), "entity": SESSION_ENTITY, "email": session.email,
                "started_at": session.started_at, "last_seen_at": session.last_seen_at,
                "expires_at": session.expires_at}
        call(self._client.put_item, TableName=self._table, Item=serialize(item),
             ConditionExpression="attribute_not_exists(pk)")

    def session(self, session_hash):
        response = call(self._client.get_item, TableName=self._table, Key=serialize(session_key(session_hash)),
                        ConsistentRead=True)
        item = deserialize(response.get("Item", {}))
        if item.get("entity") != SESSION_ENTITY:
            return None
        return SessionState(session_hash=session_hash, email=item["email"], started_at=item["started_at"],
                            last_seen_at=item["last_seen_at"], expires_at=int(item["expires_at"]))

    def touch_session(self, session_hash, now):
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(session_key(session_hash)),
                 UpdateExpression="SET last_seen_at = :now", ConditionExpression="attribute_exists(pk)",
                 ExpressionAttributeValues=serialize({":now": now}))
        except ConditionFailed:
            pass

    def end_session(self, session_hash):
        call(self._client.delete_item, TableName=self._table, Key=serialize(session_key(session_hash)))
