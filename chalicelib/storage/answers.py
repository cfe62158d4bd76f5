"""The patient's answers from their page: the request moved on, its history line, its `patient_answer`, and the
staff alert's outbox item (`ANSWER#` + when), all in one conditional transaction; and that outbox item as the
alert consumer reads and marks it.

The write holds only when the request is still as the page showed it (its status, its visit's sequence, and the
answer it already had), so the same post sent twice, or a post racing a staff change, records nothing twice.
"""
from .appointments import ENTITY, answer_key, item_key, visit_mail_key
from .dynamo import ConditionFailed, call, deserialize, serialize, transact
from .staff_records import StaffRepository, history_item


class AnswerRepository(StaffRepository):
    """What the patient's page reads (the request or its tombstone, `record`) and writes (`record_answer`)."""

    def record_answer(self, record, entry, answer, *, event=None, expires_at=None, spam_reasons=None,
                      cancel_sequence=None):
        """Record `answer` ({"answer", "at", "sequence"}) on `record` as `entry` (a triage.HistoryEntry by the
        patient) says, only if the request is still as read. With `event`, the staff alert's outbox item goes in
        the same transaction; with `cancel_sequence`, the visit is cancelled: its reminder leaves the queue and the
        cancellation e-mail's outbox item (that sequence) is written too. True when recorded, False when the
        request changed meanwhile (nothing written)."""
        sets = ["#status = :to", "history = list_append(if_not_exists(history, :none), :entry)", "updated_at = :at",
                "patient_answer = :answer"]
        values = {":to": entry.to_status, ":from": record.status, ":entity": ENTITY, ":none": [],
                  ":entry": [history_item(entry)], ":at": entry.at, ":answer": answer}
        removes = []
        if entry.to_status != "new":
            removes.append("due_queue")  # it waits for nobody any more
        if expires_at is not None:
            sets.append("expires_at = :expires")
            values[":expires"] = expires_at
        if spam_reasons is not None:
            sets.append("spam_reasons = :reasons")
            values[":reasons"] = list(spam_reasons)
        if cancel_sequence is not None:
            sets.append("visit_sequence = :next")
            values[":next"] = cancel_sequence
            removes += ["remind_at", "reminder_queue"]
        condition = ["entity = :entity", "#status = :from"]
        if record.visit_sequence is None:
            condition.append("attribute_not_exists(visit_sequence)")
        else:
            condition.append("visit_sequence = :sequence")
            values[":sequence"] = record.visit_sequence
        if record.patient_answer is None:
            condition.append("attribute_not_exists(patient_answer)")
        else:
            condition.append("patient_answer.#at = :answered_at")
            values[":answered_at"] = record.patient_answer.get("at")
        update = {
            "TableName": self._table,
            "Key": serialize(item_key(record.id)),
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ConditionExpression": " AND ".join(condition),
            "ExpressionAttributeNames": {"#status": "status", **({"#at": "at"} if record.patient_answer else {})},
            "ExpressionAttributeValues": serialize(values),
        }
        items = [{"Update": update}]
        kept_until = expires_at or self._expires_at(record.id) if (event or cancel_sequence is not None) else None
        if event:
            outbox = {**answer_key(record.id, entry.at), "entity": "patient_answer", "id": record.id,
                      "event": event, "at": entry.at}
            items.append(_put_new(self._table, outbox, kept_until))
        if cancel_sequence is not None:
            mail = {**visit_mail_key(record.id, cancel_sequence), "entity": "visit_mail", "id": record.id,
                    "kind": "cancelled", "sequence": cancel_sequence, "at": entry.at}
            items.append(_put_new(self._table, mail, kept_until))
        if len(items) > 1:
            return transact(self._client, items)
        try:
            call(self._client.update_item, **update)
        except ConditionFailed:
            return False
        return True

    # --- the alert consumer's side

    def answer_outbox(self, request_id, sk):
        """The `ANSWER#` outbox item (a consistent read), or None."""
        response = call(self._client.get_item, TableName=self._table,
                        Key=serialize({"pk": f"APPT#{request_id}", "sk": sk}), ConsistentRead=True)
        item = response.get("Item")
        return deserialize(item) if item else None

    def mark_answer_sent(self, request_id, sk, outcome, now_iso):
        """Mark the outbox item as told to staff, once: False when it was already marked, or is gone."""
        try:
            call(self._client.update_item, TableName=self._table,
                 Key=serialize({"pk": f"APPT#{request_id}", "sk": sk}),
                 UpdateExpression="SET sent_at = :now, outcome = :outcome",
                 ConditionExpression="attribute_exists(pk) AND attribute_not_exists(sent_at)",
                 ExpressionAttributeValues=serialize({":now": now_iso, ":outcome": outcome}))
        except ConditionFailed:
            return False
        return True


def _put_new(table, item, expires_at):
    if expires_at is not None:
        item["expires_at"] = expires_at
    return {"Put": {"TableName": table, "Item": serialize(item), "ConditionExpression": "attribute_not_exists(pk)"}}
