"""The morning digest under moto: the counting queries and the claims held to one contract with their fakes
(tests/fakes.py), the scheduled handler, `python -m tools.digest`, and no patient data in what SES is given."""
import io
import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.core.clock import utc_iso
from chalicelib.storage.digest_claims import DigestClaims, claim_key
from chalicelib.storage.digest_counts import Count, DigestCounts, FirstContact
from tests.conftest import STAGE_ENV, response_json, valid_fields
from tests.fakes import FakeDigestClaims, FakeDigestCounts
from tests.integration.test_stream_alerts import sent_mail
from tests.staffing import Tokens, seed
from tools.stream_driver import scheduled_event

TABLE = STAGE_ENV["APPOINTMENTS_TABLE"]
NOW = datetime(2026, 12, 8, 13, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def iso(moment):
    return utc_iso(moment)


class Real:
    """DigestCounts, with requests stored by the service as it stores them (tests/staffing.py), then moved on."""

    def __init__(self, dynamodb, settings):
        self.repository = DigestCounts(dynamodb, TABLE)
        self._dynamodb, self._settings = dynamodb, settings

    def add(self, status="new", location="downtown", created_at=None, due_at=None, first_contact=None):
        request_id = seed(self._dynamodb, self._settings, created_at, status=status, location=location)
        sets, values = [], {}
        if due_at:
            sets.append("due_at = :due")
            values[":due"] = {"S": due_at}
        if first_contact:
            sets.append("first_contact = :first")
            values[":first"] = {"M": {"at": {"S": created_at}, **{
                name: {"N": str(value)} for name, value in first_contact.items()}}}
        expression = ("SET " + ", ".join(sets) if sets else "") + ("" if due_at else " REMOVE due_at")
        self._dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
                                   UpdateExpression=expression.strip(),
                                   **({"ExpressionAttributeValues": values} if values else {}))


class Fake:
    def __init__(self):
        self.repository = FakeDigestCounts()

    def add(self, **request):
        self.repository.add(**request)


@pytest.fixture(params=["fake", "dynamodb"])
def counted(request):
    if request.param == "fake":
        return Fake()
    return Real(request.getfixturevalue("dynamodb"), request.getfixturevalue("settings"))


@pytest.fixture(params=["fake", "dynamodb"])
def claims(request):
    if request.param == "fake":
        return FakeDigestClaims()
    request.getfixturevalue("table")
    return DigestClaims(request.getfixturevalue("dynamodb"), TABLE)


# --- the contracts --------------------------------------------------------------------------------

def test_counts_are_per_status_and_location_from_a_time_and_due_by_a_time(counted, table):
    counted.add(status="new", location="downtown", created_at=iso(NOW - DAY), due_at=iso(NOW - timedelta(hours=1)))
    counted.add(status="new", location="downtown", created_at=iso(NOW - DAY), due_at=iso(NOW))
    counted.add(status="new", location="downtown", created_at=iso(NOW - DAY),
                due_at=iso(NOW + timedelta(milliseconds=1)))
    counted.add(status="new", location="lakeview", created_at=iso(NOW - 2 * DAY), due_at=iso(NOW - DAY))
    counted.add(status="contacted", location="downtown", created_at=iso(NOW - DAY), due_at=iso(NOW - DAY))
    counted.add(status="suspected_spam", location="downtown", created_at=iso(NOW - 7 * DAY))
    counted.add(status="suspected_spam", location="downtown", created_at=iso(NOW - 7 * DAY - timedelta(seconds=1)))
    counts = counted.repository

    assert counts.count("new", "downtown") == Count(3)
    assert counts.count("new", "downtown", due_by=iso(NOW)) == Count(2)
    assert counts.count("new", "lakeview", due_by=iso(NOW)) == Count(1)
    assert counts.count("new", "northside") == Count(0)
    assert counts.count("suspected_spam", "downtown") == Count(2)
    assert counts.count("suspected_spam", "downtown", created_from=iso(NOW - 7 * DAY)) == Count(1)


def test_first_contacts_are_those_of_the_requests_received_since_newest_first_spam_left_out(counted, table):
    counted.add(status="contacted", location="downtown", created_at=iso(NOW - DAY),
                first_contact={"wall_minutes": 40, "business_minutes": 30})
    counted.add(status="closed", location="lakeview", created_at=iso(NOW - 3 * DAY),
                first_contact={"wall_minutes": 200, "business_minutes": 125})
    counted.add(status="closed", location="downtown", created_at=iso(NOW - 8 * DAY),
                first_contact={"wall_minutes": 9, "business_minutes": 9})
    counted.add(status="suspected_spam", location="downtown", created_at=iso(NOW - DAY),
                first_contact={"wall_minutes": 5, "business_minutes": 5})
    counted.add(status="new", location="downtown", created_at=iso(NOW - DAY), due_at=iso(NOW))

    found, exact = counted.repository.first_contacts(iso(NOW - 7 * DAY))

    assert found == [FirstContact("downtown", 40, 30), FirstContact("lakeview", 200, 125)]
    assert exact is True


def test_a_claim_is_won_once_per_account_and_day(claims):
    assert claims.claim("2026-12-08", "ana@clinic.example", "t1", 1) is True
    assert claims.claim("2026-12-08", "ana@clinic.example", "t2", 1) is False
    assert claims.claim("2026-12-08", "ben@clinic.example", "t2", 1) is True
    assert claims.claim("2026-12-09", "ana@clinic.example", "t3", 1) is True


def test_only_the_claims_own_run_releases_it(claims):
    claims.claim("2026-12-08", "ana@clinic.example", "t1", 1)
    claims.release("2026-12-08", "ana@clinic.example", "t2")
    assert claims.claim("2026-12-08", "ana@clinic.example", "t3", 1) is False
    claims.release("2026-12-08", "ana@clinic.example", "t1")
    assert claims.claim("2026-12-08", "ana@clinic.example", "t3", 1) is True


def test_a_claim_is_a_small_expiring_item_keyed_without_the_address(dynamodb, table):
    DigestClaims(dynamodb, TABLE).claim("2026-12-08", "Ana@Clinic.example", "2026-12-08T13:00:00.000Z", 1765458000)
    [item] = [item for item in dynamodb.scan(TableName=TABLE)["Items"] if item["pk"]["S"].startswith("DIGEST#")]
    assert item["pk"]["S"] == "DIGEST#2026-12-08"
    assert item == {**{k: {"S": v} for k, v in claim_key("2026-12-08", "ana@clinic.example").items()},
                    "entity": {"S": "digest_claim"}, "claimed_at": {"S": "2026-12-08T13:00:00.000Z"},
                    "expires_at": {"N": "1765458000"}}
    assert "ana" not in json.dumps(item).lower()


# --- the scheduled function, the command, and what the mail holds -----------------------------------

def add_staff(dynamodb, *accounts):
    from tools import staff_accounts

    for email, extra in accounts:
        staff_accounts.main(["add", "--email", email, "--name", email.split("@")[0].title(), *extra],
                            client=dynamodb, out=io.StringIO())


def digests():
    return [m for m in sent_mail() if m.subject.startswith("Appointment requests this morning")]


def test_the_hourly_function_mails_each_active_account_once_at_digest_hour(table, topic, dynamodb, monkeypatch):
    from zoneinfo import ZoneInfo

    from app import send_digest
    from chalicelib import wiring

    from tools import staff_accounts

    add_staff(dynamodb, ("ana@clinic.example", ["--role", "admin"]), ("ben@clinic.example", []),
              ("off@clinic.example", ["--digest", "off"]), ("gone@clinic.example", []))
    staff_accounts.main(["disable", "--email", "gone@clinic.example"], client=dynamodb, out=io.StringIO())
    hour = datetime.now(ZoneInfo(STAGE_ENV["CLINIC_TIMEZONE"])).hour
    for name, value in STAGE_ENV.items():  # the function's environment, as Lambda gives it
        monkeypatch.setenv(name, value)

    monkeypatch.setenv("DIGEST_HOUR", str((hour + 1) % 24))  # not now: the function sends nothing
    wiring.reset()
    send_digest(scheduled_event(), None)
    assert digests() == []

    monkeypatch.setenv("DIGEST_HOUR", str(hour))
    wiring.reset()
    send_digest(scheduled_event(), None)
    send_digest(scheduled_event(), None)  # a retried run
    if datetime.now(ZoneInfo(STAGE_ENV["CLINIC_TIMEZONE"])).hour != hour:
        pytest.skip("the clinic's hour changed during the test")
    assert sorted(m.destinations["ToAddresses"][0] for m in digests()) == ["ana@clinic.example",
                                                                           "ben@clinic.example"]


PATIENTS = [
    {"first_name": "Quillon", "last_name": "Vandersloot-Okafor", "email": "quillon.vandersloot@example.com",
     "phone": "(212) 555-0187", "message": "Marathon knee, worse on stairs", "location": "downtown"},
    {"first_name": "Ysolde", "last_name": "Brackenridge", "email": "ysolde.brackenridge@example.com",
     "phone": "(212) 555-0163", "message": "Shoulder after a fall skiing", "location": "lakeview"},
    {"first_name": "Thaddeus", "last_name": "Oyelaran-Pike", "email": "thaddeus.op@example.com",
     "phone": "(212) 555-0134", "message": "Cheap pills here", "location": "downtown",
     "website": "http://spam.example"},
]


def test_the_digest_counts_what_was_posted_and_holds_no_patient_data(api, dynamodb):
    from chalicelib import wiring
    from chalicelib.core.mail import Mailer
    from chalicelib.notify.digest import Digest
    from chalicelib.storage.accounts import AccountRepository

    ids = [response_json(api.post_json(valid_fields(**patient)))["id"] for patient in PATIENTS]
    api.request("PATCH", f"/staff/appointments/{ids[1]}", headers={
        **Tokens(dynamodb).header("staff"), "Content-Type": "application/json"}, body=json.dumps({"status": "contacted"}))
    add_staff(dynamodb, ("ana@clinic.example", ["--role", "admin"]))

    given = []

    class Spy(Mailer):
        def send(self, email):
            given.append(email)
            return super().send(email)

    settings = wiring.get_settings()
    digest = Digest(AccountRepository(dynamodb, TABLE), DigestCounts(dynamodb, TABLE), DigestClaims(dynamodb, TABLE),
                    Spy(wiring.aws_client("sesv2"), settings.mail_from, settings.mail_configuration_set), settings)
    assert digest.run(force=True).sent == 1

    [email] = given
    [accepted] = digests()
    assert accepted.destinations["ToAddresses"] == ["ana@clinic.example"]
    assert "- New: 1 —" in email.text and "- Possible spam (last 7 days): 1 —" in email.text
    lakeview = email.text[email.text.index("Lakeview"):]
    assert "- New: 0 —" in lakeview and "0 min of opening hours, 0 min on the clock (1 request)" in lakeview
    everything = email.subject + email.text + email.html + accepted.body
    for patient in PATIENTS:
        for field in ("first_name", "last_name", "email", "phone", "message"):
            assert patient[field] not in everything, field
        assert patient["phone"][-8:] not in everything
    for request_id in ids:
        assert request_id[:8] not in everything


def test_make_digest_sends_now_and_says_how_many(table, topic, dynamodb):
    from tools import digest

    add_staff(dynamodb, ("ana@clinic.example", ["--role", "admin"]), ("ben@clinic.example", []),
              ("off@clinic.example", ["--digest", "off"]))

    def client_for(service):
        return boto3.client(service, region_name="us-east-1")

    out = io.StringIO()
    assert digest.main(["--stage", "dev"], client_for=client_for, out=out) == 2
    assert out.getvalue() == "Sent the morning digest to 2 staff accounts.\n"
    out = io.StringIO()
    assert digest.main(["--stage", "dev"], client_for=client_for, out=out) == 0
    assert out.getvalue() == "Sent the morning digest to 0 staff accounts (2 had today's already).\n"
    assert sorted(m.destinations["ToAddresses"][0] for m in digests()) == ["ana@clinic.example",
                                                                           "ben@clinic.example"]


def test_make_digest_without_the_local_stack_says_so_in_one_line(monkeypatch):
    from tools import digest

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(SystemExit) as stop:
        digest.main(["--stage", "dev", "--aws-port", "9"])  # nothing listens on port 9
    assert "is `make run` running?" in str(stop.value)
