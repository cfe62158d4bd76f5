"""Appointment requests as staff see them: records with history, tombstones, listings by index."""
import base64
import binascii
import json
import re
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from ..staff.triage import HistoryEntry, InvalidCursor, Page, StaffRecord
from .appointments import (
    DUE_QUEUE, ENTITY, OUTBOX_PREFIXES, REMINDER_QUEUE, AppointmentRepository, item_key, rescue_key, visit_mail_key,
)
from .dynamo import ConditionFailed, call, delete_prefixed, deserialize, plain, serialize, transact

ERASED_ENTITY = "erased_appointment"
# A page is filled from several Query calls when a FilterExpression drops items (DynamoDB applies
# Limit before the filter); this bounds the reads of one request. A page cut short by it still
# carries a cursor, so nothing is skipped.
MAX_QUERY_CALLS = 10
FILTERED_QUERY_LIMIT = 200
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,512}$")
_CURSOR_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_CURSOR_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def to_staff_record(item):
    """A request or its tombstone from an item, or None for any other kind of item."""
    if item.get("entity") not in (ENTITY, ERASED_ENTITY):
        return None
    return StaffRecord(
        id=item["id"],
        status=item["status"],
        created_at=item["created_at"],
        location=item["location"],
        fields=plain(item["fields"]) if "fields" in item else None,
        consent=item.get("consent"),
        alerted_at=item.get("alerted_at"),
        history=tuple(
            HistoryEntry(at=h["at"], by=h["by"], from_status=h["from"], to_status=h["to"], note=h.get("note"),
                         visit_at=h.get("visit_at"), answer=h.get("answer"))
            for h in item.get("history", [])
        ),
        erased_at=item.get("erased_at"),
        erased_by=item.get("erased_by"),
        spam_reasons=tuple(item.get("spam_reasons", ())),
        spam_signals={name: int(value) for name, value in item.get("spam_signals", {}).items()},
        due_at=item.get("due_at"),
        lookups={name: item[name] for name in ("phone_hash", "email_hash") if name in item} or None,
        language=item.get("language"),
        corrects=item.get("corrects"),
        first_contact={name: int(value) if name.endswith("minutes") else value
                       for name, value in item["first_contact"].items()}
        if isinstance(item.get("first_contact"), dict) else None,
        visit_at=item.get("visit_at"),
        visit_start=item.get("visit_start"),
        visit_sequence=int(item["visit_sequence"]) if item.get("visit_sequence") is not None else None,
        patient_answer={name: int(value) if name == "sequence" and value is not None else value
                        for name, value in item["patient_answer"].items()}
        if isinstance(item.get("patient_answer"), dict) else None,
        visit_mails=tuple(plain(mail) for mail in item.get("visit_mails", ())),
        reminder=plain(item["reminder"]) if isinstance(item.get("reminder"), dict) else None,
    )


def history_item(entry):
    return entry.as_json()


def tombstone_item(record):
    """Exactly what an erased request keeps: written whole, so nothing else can survive it."""
    item = {
        **item_key(record.id),
        "entity": ERASED_ENTITY,
        "id": record.id,
        "status": "erased",
        "created_at": record.created_at,
        "location": record.location,
        "erased_at": record.erased_at,
        "erased_by": record.erased_by,
        "history": [history_item(entry) for entry in record.history],
    }
    if record.alerted_at:
        item["alerted_at"] = record.alerted_at
    return item


def encode_cursor(created_at, request_id):
    raw = json.dumps({"c": created_at, "i": request_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor, query):
    """(created_at, id) from a cursor this listing handed out; InvalidCursor for anything else."""
    if not isinstance(cursor, str) or not _CURSOR.fullmatch(cursor):
        raise InvalidCursor()
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidCursor() from None
    if not isinstance(data, dict) or set(data) != {"c", "i"}:
        raise InvalidCursor()
    created_at, request_id = data["c"], data["i"]
    if not (isinstance(created_at, str) and _CURSOR_TIME.fullmatch(created_at)
            and isinstance(request_id, str) and _CURSOR_ID.fullmatch(request_id)):
        raise InvalidCursor()
    try:
        datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCursor() from None
    # DynamoDB refuses a start key outside the key condition: a cursor from other dates is not ours.
    if (query.created_from and created_at < query.created_from) or (query.created_to and created_at > query.created_to):
        raise InvalidCursor()
    return created_at, request_id


def _plan(query):
    """The index, its key, and the filter for a ListQuery: a Query, never a Scan."""
    names, values, filters = {}, {}, []
    if len(query.statuses) == 1:
        index, key_name, key_value = "by_status", "status", query.statuses[0]
        if query.location:
            names["#location"] = "location"
            values[":location"] = query.location
            filters.append("#location = :location")
    else:
        if query.location:
            index, key_name, key_value = "by_location", "location", query.location
        else:
            index, key_name, key_value = "by_created", "entity", ENTITY
        names["#status"] = "status"
        placeholders = []
        for number, status in enumerate(query.statuses):
            values[f":status{number}"] = status
            placeholders.append(f":status{number}")
        filters.append(f"#status IN ({', '.join(placeholders)})")
    if query.due_by:
        values[":due_by"] = query.due_by
        filters.append("due_at <= :due_by")
    names["#key"] = key_name
    values[":key"] = key_value
    condition = _key_and_dates(query, values)
    return index, key_name, key_value, condition, " AND ".join(filters), names, values


def _key_and_dates(query, values):
    """An index's key condition, `#key = :key`, narrowed to the query's dates (their values added to `values`)."""
    condition = "#key = :key"
    if query.created_from and query.created_to:
        condition += " AND created_at BETWEEN :from AND :to"
    elif query.created_from:
        condition += " AND created_at >= :from"
    elif query.created_to:
        condition += " AND created_at <= :to"
    values.update({name: value for name, value in ((":from", query.created_from), (":to", query.created_to))
                   if value})
    return condition


class StaffRepository(AppointmentRepository):
    """What the staff API reads and writes: requests and their tombstones, through the key and the indexes."""

    def record(self, request_id):
        """The request or its tombstone (a consistent read), or None."""
        return to_staff_record(deserialize(self._get_raw(request_id)))

    def list_page(self, query, limit, cursor=None):
        """Up to `limit` records, newest first, and a cursor when more may follow."""
        index, key_name, key_value, condition, filters, names, values = _plan(query)
        start = None
        if cursor:
            created_at, request_id = decode_cursor(cursor, query)
            start = serialize({**item_key(request_id), key_name: key_value, "created_at": created_at})
        request = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": False,
            "Limit": max(limit + 1, FILTERED_QUERY_LIMIT) if filters else limit + 1,
        }
        if filters:
            request["FilterExpression"] = filters
        items = []
        for _ in range(MAX_QUERY_CALLS):
            if start:
                request["ExclusiveStartKey"] = start
            try:
                response = self._client.query(**request)
            except ClientError as error:
                if cursor and error.response["Error"]["Code"] == "ValidationException":
                    raise InvalidCursor() from None
                raise self._unavailable(error) from None
            except BotoCoreError as error:
                raise self._unavailable(error) from None
            items += [deserialize(item) for item in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if len(items) > limit or not start:
                break
        page = items[:limit]
        if page and (len(items) > limit or start):
            next_cursor = encode_cursor(page[-1]["created_at"], page[-1]["id"])
        elif start:  # every item read so far was filtered out, and the index goes on
            last = deserialize(start)
            next_cursor = encode_cursor(last["created_at"], last["pk"].split("#", 1)[1])
        else:
            next_cursor = None
        return Page([to_staff_record(item) for item in page], next_cursor)

    def search(self, query, limit):
        """The requests a search finds (query.search: index look-ups), newest first, at most `limit`; the
        listing's other filters apply. One Query per look-up, on the lookup indexes only."""
        found = {}
        for lookup in query.search:
            names, values = {"#key": lookup.key_name}, {":key": lookup.value}
            condition = _key_and_dates(query, values)
            response = call(self._client.query, TableName=self._table, IndexName=lookup.index,
                            KeyConditionExpression=condition, ExpressionAttributeNames=names,
                            ExpressionAttributeValues=serialize(values), ScanIndexForward=False,
                            Limit=FILTERED_QUERY_LIMIT)
            for item in map(deserialize, response.get("Items", [])):
                record = to_staff_record(item)
                if record is None or (lookup.exact_id and record.id != lookup.exact_id):
                    continue
                if record.status in query.statuses and (query.location is None or record.location == query.location) \
                        and (query.due_by is None or (record.due_at or "~") <= query.due_by):
                    found[record.id] = record
        records = sorted(found.values(), key=lambda r: (r.created_at, r.id), reverse=True)
        return Page(records[:limit], None)

    def count(self, status, created_from=None, location=None, due_by=None):
        """How many requests of `status` (arrived from `created_from` on, at `location`, due by `due_by`), and
        whether that is all of them (False: there are more, and the reads stopped). A COUNT query on the status
        index: no item is read back."""
        names, values, filters = {"#status": "status"}, {":status": status}, []
        condition = "#status = :status"
        if created_from:
            condition += " AND created_at >= :from"
            values[":from"] = created_from
        if location:
            names["#location"] = "location"
            values[":location"] = location
            filters.append("#location = :location")
        if due_by:
            values[":due_by"] = due_by
            filters.append("due_at <= :due_by")
        request = {
            "TableName": self._table,
            "IndexName": "by_status",
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "Select": "COUNT",
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        total = 0
        for _ in range(MAX_QUERY_CALLS):
            response = call(self._client.query, **request)
            total += response["Count"]
            if "LastEvaluatedKey" not in response:
                return total, True
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return total, False

    def change_status(self, record, entry, expires_at=None, spam_reasons=None, due_at=None, first_contact=None,
                      visit=None):
        """Move `record` on, only if nobody did meanwhile. The updated record, or None when someone did.

        A rescue from suspected spam (to `new`) also writes the request's rescue item, in the same
        transaction: its INSERT on the stream is what alerts and confirms the request, once. A booking, a
        change or a cancellation (`visit`, a triage.VisitChange) writes its visit e-mail's outbox item so."""
        sets = ["#status = :to", "history = list_append(if_not_exists(history, :none), :entry)", "updated_at = :at"]
        values = {":to": entry.to_status, ":from": record.status, ":entity": ENTITY, ":none": [],
                  ":entry": [history_item(entry)], ":at": entry.at}
        if expires_at is not None:
            sets.append("expires_at = :expires")
            values[":expires"] = expires_at
        if spam_reasons is not None:
            sets.append("spam_reasons = :reasons")
            values[":reasons"] = list(spam_reasons)
        if first_contact is not None:
            sets.append("first_contact = :first")
            values[":first"] = first_contact
        removes = []
        if entry.to_status == "new" and due_at is not None:  # a rescue: due from now, and watched again
            sets += ["due_at = :due", "due_queue = :queue"]
            values.update({":due": due_at, ":queue": DUE_QUEUE})
        elif entry.to_status != "new":
            removes.append("due_queue")  # it waits for nobody any more: out of the escalation's index
        _visit_update(visit, entry, sets, removes, values)
        update = {
            "TableName": self._table,
            "Key": serialize(item_key(record.id)),
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ConditionExpression": "entity = :entity AND #status = :from",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": serialize(values),
        }
        if record.status == "suspected_spam" and entry.to_status == "new":
            return self._rescue(record, update, expires_at)
        if visit is not None:
            outbox = {**visit_mail_key(record.id, visit.sequence), "entity": "visit_mail", "id": record.id,
                      "kind": visit.kind, "sequence": visit.sequence, "at": entry.at,
                      "expires_at": expires_at or self._expires_at(record.id)}
            return self._with_outbox(record, update, outbox)
        try:
            response = call(self._client.update_item, **update, ReturnValues="ALL_NEW")
        except ConditionFailed:
            return None
        return to_staff_record(deserialize(response["Attributes"]))

    def _expires_at(self, request_id):
        item = deserialize(self._get_raw(request_id))
        return int(item.get("expires_at") or 0) or None

    def _with_outbox(self, record, update, outbox):
        """The status change and an outbox item, in one transaction (the item's INSERT sends its message)."""
        if outbox.get("expires_at") is None:
            outbox.pop("expires_at", None)
        if not transact(self._client, [
            {"Update": update},
            {"Put": {"TableName": self._table, "Item": serialize(outbox),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]):
            return None
        return self.record(record.id)

    def _rescue(self, record, update, expires_at):
        rescue = {**rescue_key(record.id), "entity": "rescue", "id": record.id, "at": update[
            "ExpressionAttributeValues"][":at"]["S"]}
        if expires_at is not None:
            rescue["expires_at"] = expires_at
        if not transact(self._client, [
            {"Update": update},
            # Put, not a condition on absence: a request moved back to spam and rescued again has
            # been alerted already, and its consumers find it so.
            {"Put": {"TableName": self._table, "Item": serialize(rescue)}},
        ]):
            return None
        return self.record(record.id)

    def erase(self, record, tombstone):
        """Replace the request by its tombstone, only if it is still as read. False when it changed."""
        try:
            call(
                self._client.put_item,
                TableName=self._table,
                Item=serialize(tombstone_item(tombstone)),
                ConditionExpression=(
                    "entity = :entity AND #status = :status "
                    "AND (attribute_not_exists(history) OR size(history) = :entries)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=serialize(
                    {":entity": ENTITY, ":status": record.status, ":entries": len(record.history)}
                ),
            )
        except ConditionFailed:
            return False
        self.clear_outbox(record.id)
        return True

    def clear_outbox(self, request_id):
        """The erased request's outbox items (visit e-mails, answers) go with it: a Query on its own key."""
        for prefix in OUTBOX_PREFIXES:
            delete_prefixed(self._client, self._table, f"APPT#{request_id}", prefix)


def _visit_update(visit, entry, sets, removes, values):
    """What a booking, a change or a cancellation sets on the request; leaving scheduled ends its reminder."""
    if visit is not None and visit.kind in ("booked", "changed"):
        sets += ["visit_at = :visit_at", "visit_start = :visit_start", "visit_sequence = :sequence"]
        values.update({":visit_at": visit.visit_at, ":visit_start": visit.visit_start, ":sequence": visit.sequence})
        removes.append("patient_answer")  # a new time: the answer to the old one no longer stands
        if visit.remind_at:
            sets += ["remind_at = :remind_at", "reminder_queue = :reminders"]
            values.update({":remind_at": visit.remind_at, ":reminders": REMINDER_QUEUE})
            return
    elif visit is not None:
        sets.append("visit_sequence = :sequence")
        values[":sequence"] = visit.sequence
    if entry.from_status == "scheduled" or (visit is not None and visit.kind in ("booked", "changed")):
        removes += ["remind_at", "reminder_queue"]


