"""Appointment requests: the item layout and the conditional writes of the request path and the stream.

What only staff read and write (records with history, tombstones, listings) is in staff_records.py,
so that POST /appointments never imports the staff modules.
"""
from collections import namedtuple
from datetime import datetime, timezone

from botocore.exceptions import BotoCoreError, ClientError

from ..core.clock import utc_iso
from ..core.lookup import REF_PREFIX
from ..core.errors import PayloadTooLarge
from ..intake.models import AppointmentRequest
from .dynamo import MAX_ITEM_BYTES, ConditionFailed, call, deserialize, item_size, plain, serialize, unavailable

ENTITY = "appointment"
# A new request waiting for its due time carries `due_queue`, the key of the sparse `by_due` index (sorted
# by `due_at`): the escalation queries it for what is overdue, and removes it once a request is escalated
# or leaves `new`, so the index holds only what may still become overdue.
DUE_QUEUE = "new"
# A booked visit whose reminder is still to go carries `reminder_queue`, the key of the sparse `by_reminder`
# index (sorted by `remind_at`): the reminders query it for what is due, and it goes once sent or called off.
REMINDER_QUEUE = "due"

# What a conditional write found in its place: enough to tell a replay, a reused token and a correction apart.
Existing = namedtuple("Existing", "id dedupe_key content_hash created_at location corrects", defaults=(None, None))


def item_key(request_id):
    return {"pk": f"APPT#{request_id}", "sk": "APPT"}


# The rescue of a request from suspected spam is an item of its own, beside the request (same key),
# written in one transaction with the status change. Its INSERT is what alerts and confirms a rescued
# request: changes to the request item itself (staff moving it on, the consumers' own marks) never do.
RESCUE_SK = "RESCUE"


def rescue_key(request_id):
    return {"pk": f"APPT#{request_id}", "sk": RESCUE_SK}


def to_item(request: AppointmentRequest):
    consent = {"contact": request.contact_consent.model_dump()}
    if request.sms_consent:
        consent["sms"] = request.sms_consent.model_dump()
    spam = {"spam_reasons": list(request.spam_reasons)} if request.spam_reasons else {}
    if request.spam_signals:
        spam["spam_signals"] = dict(request.spam_signals)
    if request.due_at is not None:
        spam["due_at"] = utc_iso(request.due_at)
        if request.status == "new":
            spam["due_queue"] = DUE_QUEUE
    if request.corrects:
        spam["corrects"] = request.corrects
    return {
        **item_key(request.id),
        **spam,
        **dict(request.lookups),
        "ref_prefix": request.id[:REF_PREFIX],
        "language": request.language,
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
        fields=plain(item.get("fields", {})),
        contact_consent=consent["contact"],
        sms_consent=consent.get("sms"),
        dedupe_key=item["dedupe_key"],
        content_hash=item["content_hash"],
        alerted_at=item.get("alerted_at"),
        confirmed_at=item.get("confirmed_at"),
        confirmation=item.get("confirmation"),
        spam_reasons=tuple(item.get("spam_reasons", ())),
        spam_signals={name: int(value) for name, value in item.get("spam_signals", {}).items()},
        due_at=datetime.fromisoformat(item["due_at"].replace("Z", "+00:00")) if item.get("due_at") else None,
        language=item.get("language") or "en",
        corrects=item.get("corrects"),
        visit_at=item.get("visit_at"),
        visit_start=datetime.fromisoformat(item["visit_start"].replace("Z", "+00:00")) if item.get("visit_start") else None,
        visit_sequence=int(item["visit_sequence"]) if item.get("visit_sequence") is not None else None,
        patient_answer=plain(item["patient_answer"]) if isinstance(item.get("patient_answer"), dict) else None,
    )


# Visit e-mails and the patient's answers are outbox items beside the request, written in the transaction that
# books, changes or cancels the visit, or records the answer: their INSERT is what sends them, once.
VISIT_SK = "VISIT#"  # + the visit's sequence, 4 digits: the mail consumer sends the visit e-mail
ANSWER_SK = "ANSWER#"  # + when: the alert consumer tells staff of the patient's answer
OUTBOX_PREFIXES = (VISIT_SK, ANSWER_SK)


def visit_mail_key(request_id, sequence):
    return {"pk": f"APPT#{request_id}", "sk": f"{VISIT_SK}{sequence:04d}"}


def answer_key(request_id, at):
    return {"pk": f"APPT#{request_id}", "sk": f"{ANSWER_SK}{at}"}


def stream_key(keys):
    """What a stream record's keys (DynamoDB JSON) are about: (kind, request id, sort key), kind one of
    "request", "rescue", "visit" (a visit e-mail to send) and "answer" (a patient's answer to tell staff of);
    (None, None, None) for any other item."""
    key = deserialize(keys or {})
    pk, sk = key.get("pk"), key.get("sk")
    if not isinstance(pk, str) or not pk.startswith("APPT#") or not isinstance(sk, str):
        return None, None, None
    kind = {"APPT": "request", RESCUE_SK: "rescue"}.get(sk)
    if kind is None:
        kind = "visit" if sk.startswith(VISIT_SK) else "answer" if sk.startswith(ANSWER_SK) else None
    return (kind, pk.split("#", 1)[1], sk) if kind else (None, None, None)


def stream_subject(keys):
    """A stream record's ("request" or "rescue", request id), or (None, None) for any other item."""
    kind, request_id, _ = stream_key(keys)
    return (kind, request_id) if kind in ("request", "rescue") else (None, None)


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
                # Never re-create, or touch the tombstone of, a request erased meanwhile.
                ConditionExpression="entity = :entity",
                ExpressionAttributeValues=serialize({":now": utc_iso(now), ":message_id": message_id, ":entity": ENTITY}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise self._unavailable(error) from None
        except BotoCoreError as error:
            raise self._unavailable(error) from None
        return True

    def mark_confirmed(self, request_id, outcome, now):
        """Record the confirmation's outcome (sent, over the cap, not sendable), so it is never sent twice.

        Its own attribute: a failed alert never re-sends a confirmation, nor a failed confirmation an alert.
        """
        try:
            call(self._client.update_item, TableName=self._table, Key=serialize(item_key(request_id)),
                 UpdateExpression="SET confirmed_at = :now, confirmation = :outcome",
                 ConditionExpression="entity = :entity",
                 ExpressionAttributeValues=serialize({":now": utc_iso(now), ":outcome": outcome, ":entity": ENTITY}))
        except ConditionFailed:
            return False
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
        return unavailable(error)


def _existing(item):
    created = item.get("created_at")
    return Existing(
        id=item.get("id"),
        dedupe_key=item.get("dedupe_key"),
        content_hash=item.get("content_hash"),
        created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else datetime.min.replace(tzinfo=timezone.utc),
        location=item.get("location"),
        corrects=item.get("corrects"),
    )
