"""Requests to triage and staff tokens, made the way the service and `make staff-token` make them."""
import itertools
from datetime import datetime, timezone

from chalicelib.intake.service import AppointmentService
from chalicelib.staff.auth import TokenAdmin
from chalicelib.storage.appointments import AppointmentRepository
from chalicelib.storage.tokens import TokenRepository
from tests.conftest import STAGE_ENV, id_key, remember_personal, valid_fields

# Every staff route, as the authorization matrix tests walk them.
ROUTES = [
    ("GET", "/staff/appointments"),
    ("GET", "/staff/appointments.csv"),
    ("GET", "/staff/appointments/{id}"),
    ("PATCH", "/staff/appointments/{id}"),
    ("DELETE", "/staff/appointments/{id}"),
]

TABLE = STAGE_ENV["APPOINTMENTS_TABLE"]
_serial = itertools.count(1)


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def seed(dynamodb, settings, when, *, status="new", location="downtown", **overrides):
    """Store one request received at `when` (ISO, UTC) and give it `status`; returns its id."""
    fields = valid_fields(**{"location": location, "message": f"Seeded request {next(_serial)}.", **overrides})
    if status == "suspected_spam":
        fields["website"] = "http://spam.example"
    remember_personal(fields)
    service = AppointmentService(AppointmentRepository(dynamodb, TABLE), settings, id_key, now=lambda: at(when))
    request_id = service.submit(fields).id
    if status not in ("new", "suspected_spam"):
        dynamodb.update_item(
            TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
            UpdateExpression="SET #status = :status", ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status}},
        )
    return request_id


class Tokens:
    """A token of each kind the authorization matrix needs."""

    def __init__(self, dynamodb):
        admin = TokenAdmin(TokenRepository(dynamodb, TABLE))
        self.staff, _ = admin.create("Sam Staff", "staff")
        self.admin, _ = admin.create("Ana Admin", "admin")
        self.revoked, revoked = admin.create("Rex Revoked", "admin")
        admin.revoke(revoked.id)
        self.unknown = "appt_staff_" + "Q" * 43
        self.malformed = "appt_staff_not-a-token"
        self._admin = admin

    def header(self, kind):
        """The Authorization header a caller of this kind sends (None: no header at all)."""
        if kind == "none":
            return {}
        if kind == "malformed":
            return {"Authorization": f"Token {self.malformed}"}
        return {"Authorization": f"Bearer {getattr(self, kind)}"}

    def revoke(self, token):
        from chalicelib.staff.auth import token_hash

        self._admin.revoke(token_hash(token)[:12])
