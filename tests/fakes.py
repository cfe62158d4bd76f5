"""Hand-written fakes of the adapters, so that the service's tests need no AWS at all."""
from dataclasses import replace
from datetime import timedelta

from chalicelib.core.errors import StorageUnavailable
from chalicelib.storage.appointments import Existing


def _existing(request):
    return Existing(request.id, request.dedupe_key, request.content_hash, request.created_at, request.location,
                    request.corrects)


class FakeRepository:
    """Requests in a dict. `add` behaves like the conditional PutItem: it never overwrites.
    tests/integration/test_repository_contract.py holds it to the DynamoDB repository's contract."""

    def __init__(self):
        self.requests = {}
        self.calls = []

    def add(self, request):
        from chalicelib.core.errors import PayloadTooLarge
        from chalicelib.storage.appointments import to_item
        from chalicelib.storage.dynamo import MAX_ITEM_BYTES, item_size

        self.calls.append(("add", request.id))
        if item_size(to_item(request)) > MAX_ITEM_BYTES:
            raise PayloadTooLarge()  # as DynamoDB refuses an item over 400 KB
        if request.id in self.requests:
            return _existing(self.requests[request.id])
        self.requests[request.id] = request
        return None

    def find(self, request_id):
        self.calls.append(("find", request_id))
        request = self.requests.get(request_id)
        return _existing(request) if request is not None else None


class UnavailableRepository:
    """Storage that is down or throttled: every call fails, nothing is kept."""

    def __init__(self):
        self.requests = {}

    def add(self, request):
        raise StorageUnavailable()

    def find(self, request_id):
        raise StorageUnavailable()


class Clock:
    """A clock the test moves by hand: `service(now=clock)`, then `clock.advance(minutes=11)`."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


class Ids:
    """Predictable ids for the service's `new_id=`: id-1, id-2, ..."""

    def __init__(self):
        self.issued = []

    def __call__(self):
        self.issued.append(f"id-{len(self.issued) + 1}")
        return self.issued[-1]


class FakeStaffRepository:
    """Staff records in a dict. Writes are conditional on what was read, like the real ones;
    `before_write` (a test's hook) runs just before each write: a colleague getting there first."""

    def __init__(self, *records):
        self.records = {record.id: record for record in records}
        self.expires_at = {}
        self.before_write = None
        self.reads = []
        self.visit_mails = []  # the outbox items written: (request id, kind, sequence)
        self.reminders = {}  # request id -> remind_at of a pending reminder

    def record(self, request_id):
        self.reads.append(request_id)
        return self.records.get(request_id)

    def list_page(self, query, limit, cursor=None):
        from chalicelib.staff.triage import InvalidCursor, Page

        matching = sorted(
            (r for r in self.records.values()
             if r.status in query.statuses
             and (query.location is None or r.location == query.location)
             and (query.created_from is None or r.created_at >= query.created_from)
             and (query.created_to is None or r.created_at <= query.created_to)
             and (query.due_by is None or (r.due_at is not None and r.due_at <= query.due_by))),
            key=lambda r: (r.created_at, r.id), reverse=True,
        )
        if cursor is not None and not cursor.isdigit():
            raise InvalidCursor()
        start = int(cursor or 0)
        more = start + limit < len(matching)
        return Page(matching[start:start + limit], str(start + limit) if more else None)

    def search(self, query, limit):
        """The lookup indexes, as the hashes a FakeStaffRepository's records carry in `lookups`."""
        from chalicelib.staff.triage import Page

        found = []
        for record in self.records.values():
            keys = {"ref_prefix": record.id[:8], **(record.lookups or {})}
            if any(keys.get(lookup.key_name) == lookup.value and (lookup.exact_id in (None, record.id))
                   for lookup in query.search) and record.status in query.statuses \
                    and (query.location is None or record.location == query.location):
                found.append(record)
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return Page(found[:limit], None)

    def count(self, status, created_from=None, location=None, due_by=None):
        return sum(r.status == status and (created_from is None or r.created_at >= created_from)
                   and (location is None or r.location == location)
                   and (due_by is None or (r.due_at is not None and r.due_at <= due_by))
                   for r in self.records.values()), True

    def change_status(self, record, entry, expires_at=None, spam_reasons=None, due_at=None, first_contact=None,
                      visit=None):
        from dataclasses import replace

        self._colleague()
        current = self.records.get(record.id)
        if current is None or current.erased or current.status != record.status:
            return None
        updated = replace(current, status=entry.to_status, history=current.history + (entry,))
        if visit is not None:
            self.visit_mails.append((record.id, visit.kind, visit.sequence))
            updated = replace(updated, visit_sequence=visit.sequence)
            if visit.kind != "cancelled":
                updated = replace(updated, visit_at=visit.visit_at, visit_start=visit.visit_start, patient_answer=None)
                self.reminders[record.id] = visit.remind_at
        if entry.from_status == "scheduled" and entry.to_status != "scheduled":
            self.reminders.pop(record.id, None)
        if spam_reasons is not None:
            updated = replace(updated, spam_reasons=tuple(spam_reasons))
        if first_contact is not None:
            updated = replace(updated, first_contact=dict(first_contact))
        if due_at is not None:
            updated = replace(updated, due_at=due_at)
        self.records[record.id] = updated
        if expires_at is not None:
            self.expires_at[record.id] = expires_at
        return updated

    def clear_outbox(self, request_id):
        self.visit_mails = [mail for mail in self.visit_mails if mail[0] != request_id]

    def erase(self, record, tombstone):
        self._colleague()
        current = self.records.get(record.id)
        if current is None or current.erased or current.status != record.status \
                or len(current.history) != len(record.history):
            return False
        self.records[record.id] = tombstone
        return True

    def _colleague(self):
        hook, self.before_write = self.before_write, None
        if hook:
            hook(self)


class FakeTokens:
    """Token records by hash, as TokenRepository keeps them."""

    def __init__(self):
        self.records = {}
        self.touches = []

    def add(self, record):
        self.records[record.token_hash] = record

    def get(self, token_hash):
        return self.records.get(token_hash)

    def touch(self, token_hash, now, not_since):
        from dataclasses import replace

        record = self.records[token_hash]
        if record.last_used_at is None or record.last_used_at <= not_since:
            self.records[token_hash] = replace(record, last_used_at=now)
            self.touches.append(now)

    def all(self):
        return sorted(self.records.values(), key=lambda r: r.created_at, reverse=True)

    def revoke(self, token_hash, at):
        from dataclasses import replace

        record = self.records[token_hash]
        if record.revoked_at is None:
            self.records[token_hash] = record = replace(record, revoked_at=at)
        return record


class FakeAccounts:
    """Staff accounts in a dict, as AccountRepository keeps them (created_at stays the first one's, and
    disabled_at the last disabling's)."""

    def __init__(self):
        self.accounts = {}

    def get(self, email):
        return self.accounts.get(email)

    def put(self, account):
        first = self.accounts.get(account.email)
        if first is not None:
            account = replace(account, created_at=first.created_at, disabled_at=first.disabled_at)
        self.accounts[account.email] = account
        return account

    def disable(self, email, now):
        if email not in self.accounts:
            return None
        self.accounts[email] = replace(self.accounts[email], active=False, updated_at=now, disabled_at=now)
        return self.accounts[email]

    def all(self):
        return sorted(self.accounts.values(), key=lambda a: a.created_at, reverse=True)


class FakeSignInStore:
    """Codes, addresses' e-mails of codes and sessions in dicts, with the real store's conditions on every write."""

    def __init__(self):
        self.codes = {}
        self.mail = {}
        self.sessions = {}
        self.expiry = {}

    def mail_state(self, address):
        return self.mail.get(address)

    def save_mail_state(self, address, state, expires_at, previous_version):
        current = self.mail.get(address)
        if (current.version if current else None) != previous_version:
            return False
        self.mail[address] = state
        self.expiry[("mail", address)] = expires_at
        return True

    def code(self, email):
        return self.codes.get(email)

    def save_code(self, email, state, expires_at, previous_version):
        current = self.codes.get(email)
        if (current.version if current else None) != previous_version:
            return False
        self.codes[email] = replace(state, tries=0)
        self.expiry[email] = expires_at
        return True

    def count_wrong_try(self, email, code_hash):
        current = self.codes.get(email)
        if current is not None and current.code_hash == code_hash:
            self.codes[email] = replace(current, tries=current.tries + 1)

    def use_code(self, email, code_hash, max_tries):
        current = self.codes.get(email)
        if current is None or current.code_hash != code_hash or current.tries >= max_tries:
            return False
        self.codes[email] = replace(current, code_hash=None, salt=None, valid_until=None, tries=0)
        return True

    def add_session(self, session):
        assert session.session_hash not in self.sessions
        self.sessions[session.session_hash] = session

    def session(self, session_hash):
        return self.sessions.get(session_hash)

    def touch_session(self, session_hash, now):
        if session_hash in self.sessions:
            self.sessions[session_hash] = replace(self.sessions[session_hash], last_seen_at=now)

    def end_session(self, session_hash):
        self.sessions.pop(session_hash, None)


class FakeCodeQueue:
    """Sign-in code messages as the queue holds them. With a `consumer` (SignIn.send_code), each is handled as
    soon as it is put, as the queue's consumer does moments later; without one, they wait in `pending`. A message
    put with a delay waits in `delayed` until `advance` moves the `clock` past its time, as SQS keeps it hidden."""

    def __init__(self, consumer=None, clock=None):
        self.pending = []
        self.delayed = []  # (due, message), in the order put
        self.consumer = consumer
        self.clock = clock

    def put(self, message, delay_seconds=0):
        if delay_seconds:
            assert 0 < delay_seconds <= 900, "SQS delays a message by at most 15 minutes"
            self.delayed.append((self.clock() + timedelta(seconds=delay_seconds), message))
            return
        self.pending.append(message)
        while self.consumer and self.pending:
            self.consumer(self.pending.pop(0))

    def advance(self, **delta):
        """Move the clock by `delta`, stopping at each delayed message's time to hand it to the consumer."""
        until = self.clock() + timedelta(**delta)
        while True:
            due = sorted((when, n) for n, (when, _) in enumerate(self.delayed) if when <= until)
            if not due:
                break
            when, n = due[0]
            _, message = self.delayed.pop(n)
            if when > self.clock():
                self.clock.advance(seconds=(when - self.clock()).total_seconds())
            self.consumer(message)
        if until > self.clock():
            self.clock.advance(seconds=(until - self.clock()).total_seconds())


class FakeMailer:
    """Keeps what it was asked to send; `failing` makes it refuse like SES when it is down."""

    def __init__(self):
        self.sent = []
        self.failing = None

    def send(self, email):
        from chalicelib.core.errors import MailNotSent

        if self.failing:
            raise MailNotSent(self.failing)
        self.sent.append(email)
        return f"message-{len(self.sent)}"


class FakeDueRepository:
    """New requests waiting for their due time, and the escalation's claims: conditional like the real ones.
    tests/integration/test_escalation.py holds it and storage.due.DueRepository to one contract."""

    def __init__(self):
        self.items = {}  # id -> {"location", "due_at", "status", "queued", "escalated_at"}

    def wait(self, request_id, location, due_at, status="new"):
        self.items[request_id] = {"location": location, "due_at": due_at, "status": status, "queued": status == "new",
                                  "escalated_at": None}

    def overdue(self, now):
        from chalicelib.storage.due import Waiting

        return [Waiting(request_id, item["location"], item["due_at"])
                for request_id, item in sorted(self.items.items(), key=lambda pair: pair[1]["due_at"])
                if item["queued"] and item["due_at"] <= now]

    def claim(self, request_id, at):
        item = self.items.get(request_id)
        if not item or item["status"] != "new" or not item["queued"]:
            return False
        item.update(queued=False, escalated_at=at)
        return True

    def release(self, request_id, at):
        item = self.items.get(request_id)
        if item and item["status"] == "new" and item["escalated_at"] == at:
            item.update(queued=True, escalated_at=None)


class FakePublisher:
    """SNS as the escalation sees it: what it took, or a refusal while `failing`."""

    def __init__(self):
        self.sent = []
        self.failing = False

    def publish(self, alert):
        from chalicelib.core.errors import AlertNotSent

        if self.failing:
            raise AlertNotSent("SNS did not take the alert (Throttling)", retryable=True)
        self.sent.append(alert)
        return f"msg-{len(self.sent)}"


class FakeDigestCounts:
    """Requests as the digest counts them: dicts with status, location, created_at, due_at, first_contact and
    visit_start.
    tests/integration/test_morning_digest.py holds it and storage.digest_counts.DigestCounts to one contract."""

    def __init__(self):
        self.requests = []

    def add(self, status="new", location="downtown", created_at="2026-12-08T12:00:00.000Z", due_at=None,
            first_contact=None, visit_start=None):
        self.requests.append({"status": status, "location": location, "created_at": created_at, "due_at": due_at,
                              "first_contact": first_contact, "visit_start": visit_start})

    def visits(self, status, location, start_from, start_before):
        from chalicelib.storage.digest_counts import Count

        return Count(sum(r["status"] == status and r["location"] == location and r["visit_start"] is not None
                         and start_from <= r["visit_start"] < start_before for r in self.requests))

    def count(self, status, location, created_from=None, due_by=None):
        from chalicelib.storage.digest_counts import Count

        return Count(sum(r["status"] == status and r["location"] == location
                         and (created_from is None or r["created_at"] >= created_from)
                         and (due_by is None or (r["due_at"] is not None and r["due_at"] <= due_by))
                         for r in self.requests))

    def first_contacts(self, created_from):
        from chalicelib.storage.digest_counts import FirstContact

        found = sorted((r for r in self.requests if r["first_contact"] and r["created_at"] >= created_from
                        and r["status"] != "suspected_spam"), key=lambda r: r["created_at"], reverse=True)
        return [FirstContact(r["location"], r["first_contact"]["wall_minutes"], r["first_contact"]["business_minutes"])
                for r in found], True


class FakeDigestClaims:
    """The digest's claims per (local date, address), conditional like the DynamoDB ones."""

    def __init__(self):
        self.claims = {}  # (day, email) -> (claimed at, expires_at)

    def claim(self, day, email, at, expires_at):
        if (day, email) in self.claims:
            return False
        self.claims[(day, email)] = (at, expires_at)
        return True

    def release(self, day, email, at):
        if self.claims.get((day, email), (None,))[0] == at:
            del self.claims[(day, email)]


class FakeVisitOutbox:
    """Visit e-mails' outbox items and their marks, conditional like storage.visit_mails.VisitMailRepository;
    `fail_marks` makes that many marks fail as DynamoDB does when down. `visit_mails` is what the request holds."""

    def __init__(self):
        self.items = {}  # (request id, sequence) -> item
        self.visit_mails = {}  # request id -> [{"kind", "sequence", "at", "outcome"}]
        self.fail_marks = 0

    def add(self, request_id, sequence, kind):
        self.items[(request_id, sequence)] = {"entity": "visit_mail", "id": request_id, "kind": kind,
                                              "sequence": sequence}

    def outbox(self, request_id, sequence):
        item = self.items.get((request_id, sequence))
        return dict(item) if item else None

    def mark_sent(self, request_id, sequence, kind, outcome, now):
        if self.fail_marks:
            self.fail_marks -= 1
            raise StorageUnavailable()
        item = self.items.get((request_id, sequence))
        if item is None or item.get("sent_at"):
            return False
        item.update(sent_at=now, outcome=outcome)
        self.visit_mails.setdefault(request_id, []).append(
            {"kind": kind, "sequence": sequence, "at": now, "outcome": outcome})
        return True


class FakeReminderRepository:
    """Booked requests as items (dicts, as `deserialize` gives them) and the reminder's conditional writes, like
    storage.reminders.ReminderRepository's. tests/integration/test_reminder_index.py holds both to one contract.
    `failing_marks` holds (channel, outcome) or (id, channel, outcome) marks that fail as DynamoDB does when down,
    and ("release",) to fail releasing a claim."""

    def __init__(self):
        self.items = {}
        self.failing_marks = set()

    def book(self, request, visit_start, remind_at, sequence=0, status="scheduled"):
        """What booking (and a change) writes: the visit, its sequence, and the reminder queued."""
        from chalicelib.core.clock import utc_iso
        from chalicelib.storage.appointments import to_item

        item = self.items.get(request.id) or to_item(request)
        item.update(status=status, visit_start=utc_iso(visit_start), visit_sequence=sequence,
                    remind_at=utc_iso(remind_at), reminder_queue="due")
        self.items[request.id] = item

    def due(self, now):
        return [item["id"] for item in sorted(self.items.values(), key=lambda item: item.get("remind_at", ""))
                if item.get("reminder_queue") == "due" and item["remind_at"] <= now]

    def get(self, request_id):
        import copy

        from chalicelib.storage.reminders import booking_from_item

        item = self.items.get(request_id)
        return booking_from_item(copy.deepcopy(item)) if item else None

    def claim(self, booking, at):
        from datetime import datetime

        from chalicelib.storage.reminders import LEASE

        item = self.items.get(booking.id)
        if not self._booked(item, booking):
            return False
        reminder = item.get("reminder")
        if booking.reminder:
            stale = datetime.fromisoformat(at.replace("Z", "+00:00")) - LEASE
            claimed = reminder.get("claimed_at") if reminder else None
            if not reminder or reminder.get("sequence") != booking.visit_sequence or (
                    claimed and datetime.fromisoformat(claimed.replace("Z", "+00:00")) >= stale):
                return False
            reminder["claimed_at"] = at
        else:
            if reminder and reminder.get("sequence") == booking.visit_sequence:
                return False
            item["reminder"] = {"sequence": booking.visit_sequence, "claimed_at": at}
        # ("claim",) in failing_marks: the claim is written, and its answer lost; the client's retry of it then
        # finds its own claim there and reads as refused.
        return ("claim",) not in self.failing_marks

    def mark(self, booking, claimed_at, channel, outcome, at):
        from chalicelib.core.errors import StorageUnavailable

        if {(channel, outcome), (booking.id, channel, outcome)} & self.failing_marks:
            raise StorageUnavailable()
        reminder = (self.items.get(booking.id) or {}).get("reminder")
        if not reminder or reminder.get("sequence") != booking.visit_sequence or reminder.get("claimed_at") != claimed_at:
            return False
        if outcome == "sending" and reminder.get(channel) not in (None, "retry", "sending"):
            return False
        reminder.update({channel: outcome, f"{channel}_at": at})
        return True

    def release(self, booking, claimed_at):
        if ("release",) in self.failing_marks:
            raise StorageUnavailable()
        reminder = (self.items.get(booking.id) or {}).get("reminder")
        if reminder and reminder.get("sequence") == booking.visit_sequence and reminder.get("claimed_at") == claimed_at:
            del reminder["claimed_at"]

    def dequeue(self, booking):
        item = self.items.get(booking.id)
        if not item or item.get("visit_sequence") != booking.visit_sequence or item.get("remind_at") != booking.remind_at \
                or item.get("reminder_queue") != "due":
            return False
        del item["reminder_queue"]
        return True

    @staticmethod
    def _booked(item, booking):
        return item is not None and item.get("entity") == "appointment" and item.get("status") == "scheduled" \
            and item.get("visit_sequence") == booking.visit_sequence and item.get("reminder_queue") == "due"


class FakeTexts:
    """SNS's SMS as the reminder sees it: what it took, None for an opted-out number, or a refusal while `failing`."""

    def __init__(self, opted_out=()):
        self.sent = []
        self.opted_out = set(opted_out)
        self.failing = None  # an SmsNotSent to raise

    def send(self, phone, text):
        if self.failing:
            raise self.failing
        if phone in self.opted_out:
            return None
        self.sent.append((phone, text))
        return f"sms-{len(self.sent)}"


class FakeAnswerRepository:
    """storage.answers.AnswerRepository in a dict: `record_answer` holds only when the request is as read (status,
    visit sequence, the answer it had), like the real conditional transaction; `outbox` keeps what it wrote."""

    def __init__(self, *records):
        self.records = {record.id: record for record in records}
        self.outbox = []  # ("answer", request id, event) and ("visit", request id, sequence)
        self.expires_at = {}
        self.before_write = None

    def record(self, request_id):
        return self.records.get(request_id)

    def record_answer(self, record, entry, answer, *, event=None, expires_at=None, spam_reasons=None,
                      cancel_sequence=None):
        if self.before_write:
            self.before_write()
        current = self.records.get(record.id)
        if (current is None or current.erased or current.status != record.status
                or current.visit_sequence != record.visit_sequence
                or (current.patient_answer or {}).get("at") != (record.patient_answer or {}).get("at")):
            return False
        changes = {"status": entry.to_status, "history": current.history + (entry,), "patient_answer": dict(answer)}
        if spam_reasons is not None:
            changes["spam_reasons"] = tuple(spam_reasons)
        if cancel_sequence is not None:
            changes["visit_sequence"] = cancel_sequence
            self.outbox.append(("visit", record.id, cancel_sequence))
        if expires_at is not None:
            self.expires_at[record.id] = expires_at
        if event:
            self.outbox.append(("answer", record.id, event))
        self.records[record.id] = replace(current, **changes)
        return True


class FakeWebhookRepository:
    """storage.webhooks.WebhookRepository in memory (tests/integration/test_webhook_store_contract.py holds both)."""

    def __init__(self):
        self.endpoints = {}
        self.attempts = []

    def add(self, endpoint):
        if endpoint.id in self.endpoints:
            raise AssertionError("an endpoint id was made twice")
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def get(self, endpoint_id):
        return self.endpoints.get(endpoint_id)

    def all(self):
        return sorted(self.endpoints.values(), key=lambda e: (e.created_at, e.id), reverse=True)

    def set_secrets(self, endpoint_id, secrets, now):
        return self._change(endpoint_id, secrets=tuple(secrets), updated_at=now)

    def set_active(self, endpoint_id, active, reason, now):
        return self._change(endpoint_id, active=active, disabled_reason=None if active else reason, updated_at=now)

    def delete(self, endpoint_id):
        """The endpoint alone: its attempts are left to their TTL, as in DynamoDB."""
        return self.endpoints.pop(endpoint_id, None) is not None

    def record_delivery(self, delivery, expires_at):
        self.attempts.append(delivery)

    def deliveries(self, endpoint_id, limit=20):
        mine = [a for a in self.attempts if a.endpoint_id == endpoint_id]
        mine.sort(key=lambda a: (a.at, a.event_id, a.attempt), reverse=True)
        return mine[:limit]

    def _change(self, endpoint_id, **changes):
        from dataclasses import replace

        if endpoint_id not in self.endpoints:
            return None
        self.endpoints[endpoint_id] = replace(self.endpoints[endpoint_id], **changes)
        return self.endpoints[endpoint_id]
