"""Stored requests to alert about, and what real SNS accepts as a Subject (moto accepts more)."""
import string
from datetime import datetime, timezone

from chalicelib.intake.models import AppointmentRequest, ConsentEvidence
from tests.conftest import remember_personal

REF = "k5qg2n4xw7ybz3hd6tjm8rfc"
RECEIVED = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
EVERY_OPTIONAL_FIELD = {
    "preferred_contact": "email",
    "new_patient": True,
    "reason": "sports_injury",
    "preferred_date": "2026-12-01",
    "preferred_time": "afternoon",
    "has_referral": True,
    "insurance": "Blue Cross PPO 4471",
    "message": "My knee hurts when I run.\nMornings are best.",
}


def stored_request(*, id=REF, created_at=RECEIVED, **overrides):
    """A request as the table holds it (validated fields, phone in E.164); `...` leaves a field out."""
    fields = {
        "first_name": "José",
        "last_name": "García-Núñez",
        "email": "jose.garcia@example.com",
        "phone": "+12125550142",
        "location": "downtown",
        "preferred_contact": "phone",
    }
    fields.update(overrides)
    fields = {name: value for name, value in fields.items() if value is not ...}
    remember_personal(fields)
    return AppointmentRequest(
        id=id,
        status="new",
        created_at=created_at,
        expires_at=int(created_at.timestamp()) + 365 * 86400,
        fields=fields,
        contact_consent=ConsentEvidence(given_at="2026-11-25T15:00:00.000Z", version="2026-11-01"),
        dedupe_key=f"content:{id}",
        content_hash="0" * 64,
    )


def aws_subject_problems(subject):
    """What real SNS objects to in a Publish Subject (moto only refuses more than 100 characters).

    The Publish API reference: ASCII text that begins with a letter, number or punctuation
    mark; no line breaks or control characters; less than 100 characters long.
    """
    if not isinstance(subject, str) or not subject:
        return ["empty"]
    problems = []
    if not subject.isascii():
        problems.append("not ASCII: " + ascii("".join(c for c in subject if not c.isascii())))
    if any(c in "\r\n" for c in subject):
        problems.append("line break")
    if any((ord(c) < 0x20 or ord(c) == 0x7F) and c not in "\r\n" for c in subject):
        problems.append("control character")
    if len(subject) >= 100:
        problems.append(f"{len(subject)} characters, not less than 100")
    first = subject[0]
    if not (first.isascii() and (first.isalnum() or first in string.punctuation)):
        problems.append(f"begins with {first!r}, not a letter, number or punctuation mark")
    return problems
