"""The morning digest under moto: the counting queries and the claims held to one contract with their fakes
(tests/fakes.py), the scheduled handler, `python -m tools.digest`, and no patient data in what SES is given."""
import fnmatch
import io
import json
import re
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.core.clock import utc_iso
from chalicelib.core.keys import purpose_key
from chalicelib.storage.digest_claims import DigestClaims, claim_key
from chalicelib.storage.digest_counts import Count, DigestCounts, FirstContact
from tests.conftest import STAGE_ENV, TEST_ID_KEY, response_json, valid_fields
from tests.fakes import FakeDigestClaims, FakeDigestCounts
from tests.integration.test_stream_alerts import sent_mail
from tests.staffing import Tokens, seed
from tools.resources import ROOT
from tools.stream_driver import scheduled_event

TABLE = STAGE_ENV["APPOINTMENTS_TABLE"]
NOW = datetime(2026, 12, 8, 13, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
CLAIMS_KEY = purpose_key(TEST_ID_KEY, "digest claims")


def iso(moment):
    return utc_iso(moment)


class Real:
    """DigestCounts, with requests stored by the service as it stores them (tests/staffing.py), then moved on."""

    def __init__(self, dynamodb, settings):
        self.repository = DigestCounts(dynamodb, TABLE)
        self._dynamodb, self._settings = dynamodb, settings

    def add(self, status="new", location="downtown", created_at=None, due_at=None, first_contact=None,
            visit_start=None):
        request_id = seed(self._dynamodb, self._settings, created_at, status=status, location=location)
        sets, values = [], {}
        if visit_start:
            sets.append("visit_start = :start")
            values[":start"] = {"S": visit_start}
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
    return DigestClaims(request.getfixturevalue("dynamodb"), TABLE, lambda: CLAIMS_KEY)


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


def test_visits_are_counted_per_status_and_location_by_when_they_start_from_inclusive_to_exclusive(counted, table):
    start, end = NOW - 30 * DAY, NOW
    for status, location, visit_start in [
        ("no_show", "downtown", start),  # exactly at the start: in
        ("no_show", "downtown", start - timedelta(milliseconds=1)),  # just before: out
        ("no_show", "downtown", end - timedelta(milliseconds=1)),  # in
        ("no_show", "downtown", end),  # at the end: out
        ("no_show", "lakeview", NOW - DAY),  # another location
        ("attended", "downtown", NOW - DAY),  # another status
        ("no_show", "downtown", None),  # never booked (an older record): out
    ]:
        counted.add(status=status, location=location, created_at=iso(NOW - 40 * DAY),
                    visit_start=iso(visit_start) if visit_start else None)
    counts = counted.repository

    assert counts.visits("no_show", "downtown", iso(start), iso(end)) == Count(2)
    assert counts.visits("attended", "downtown", iso(start), iso(end)) == Count(1)
    assert counts.visits("no_show", "lakeview", iso(start), iso(end)) == Count(1)
    assert counts.visits("scheduled", "downtown", iso(start), iso(end)) == Count(0)


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
    DigestClaims(dynamodb, TABLE, lambda: CLAIMS_KEY).claim("2026-12-08", "Ana@Clinic.example",
                                                            "2026-12-08T13:00:00.000Z", 1765458000)
    [item] = [item for item in dynamodb.scan(TableName=TABLE)["Items"] if item["pk"]["S"].startswith("DIGEST#")]
    assert item["pk"]["S"] == "DIGEST#2026-12-08"
    assert item == {**{k: {"S": v} for k, v in claim_key("2026-12-08", "ana@clinic.example", CLAIMS_KEY).items()},
                    "entity": {"S": "digest_claim"}, "claimed_at": {"S": "2026-12-08T13:00:00.000Z"},
                    "expires_at": {"N": "1765458000"}}
    assert "ana" not in json.dumps(item).lower()


def test_a_claim_s_key_is_a_keyed_hash_of_the_address_that_a_staff_list_cannot_undo():
    """Catches `hashlib.sha256(email)`: anyone with the table and a list of the clinic's staff addresses could
    tell whose claims these are, and when each read the digest."""
    import hashlib

    address = "ana@clinic.example"
    who = claim_key("2026-12-08", address, CLAIMS_KEY)["sk"]
    assert who != "STAFF#" + hashlib.sha256(address.encode()).hexdigest()
    elsewhere = purpose_key(b"another deployment's key, 32 bytes", "digest claims")
    assert who != claim_key("2026-12-08", address, elsewhere)["sk"]
    assert who == claim_key("2026-12-09", " Ana@Clinic.example ", CLAIMS_KEY)["sk"]  # the same account every day


# --- the scheduled function, the command, and what the mail holds -----------------------------------

def add_staff(dynamodb, *accounts):
    from tools import staff_accounts

    for email, extra in accounts:
        staff_accounts.main(["add", "--email", email, "--name", email.split("@")[0].title(), *extra],
                            client=dynamodb, out=io.StringIO())


def digests():
    return [m for m in sent_mail() if m.subject.startswith("Appointment requests this morning")]


def test_the_hourly_function_mails_each_active_account_once_at_digest_hour(table, topic, dedupe_key_secret, dynamodb,
                                                                           monkeypatch):
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
    # Claimed under the deployment's key for digest claims (wiring.purpose_key_of), as `make digest` claims them.
    day = datetime.now(ZoneInfo(STAGE_ENV["CLINIC_TIMEZONE"])).date().isoformat()
    key = purpose_key(wiring.id_key()(), "digest claims")
    claimed = {i["sk"]["S"] for i in dynamodb.scan(TableName=TABLE)["Items"] if i["pk"]["S"] == f"DIGEST#{day}"}
    assert claimed == {claim_key(day, email, key)["sk"] for email in ("ana@clinic.example", "ben@clinic.example")}


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
    digest = Digest(AccountRepository(dynamodb, TABLE), DigestCounts(dynamodb, TABLE),
                    DigestClaims(dynamodb, TABLE, lambda: CLAIMS_KEY),
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


def test_make_digest_sends_now_and_says_how_many(table, topic, dedupe_key_secret, dynamodb):
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
    # Keyed as the scheduled run keys its claims, so that the morning's run skips them.
    from zoneinfo import ZoneInfo

    secret = client_for("secretsmanager").get_secret_value(SecretId=STAGE_ENV["DEDUPE_KEY_SECRET"])["SecretString"]
    key = purpose_key(secret.encode(), "digest claims")
    day = datetime.now(ZoneInfo(STAGE_ENV["CLINIC_TIMEZONE"])).date()
    claimed = {i["sk"]["S"] for i in dynamodb.scan(TableName=TABLE)["Items"] if i["pk"]["S"] == f"DIGEST#{day}"}
    assert claimed == {claim_key(day.isoformat(), email, key)["sk"] for email in ("ana@clinic.example",
                                                                                   "ben@clinic.example")}


def test_make_digest_without_the_local_stack_says_so_in_one_line(monkeypatch):
    from tools import digest

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(SystemExit) as stop:
        digest.main(["--stage", "dev", "--aws-port", "9"])  # nothing listens on port 9
    assert "is `make run` running?" in str(stop.value)


# --- what the digest function's role lets it do, call by call ----------------------------------------

POLICY = json.loads((ROOT / ".chalice" / "policy-digest.json").read_text())
INDEX_KEYS = {i["IndexName"]: i["KeySchema"][0]["AttributeName"] for i in json.loads(
    (ROOT / "infra" / "resources.json").read_text())["Resources"]["AppointmentsTable"]["Properties"][
    "GlobalSecondaryIndexes"]}
_NAME = re.compile(r"#\w+|\b[A-Za-z_]\w*\b(?!\s*\()")  # a name or an alias, not a function
_WORDS = {"AND", "OR", "NOT", "BETWEEN", "IN"}


class Recorded:
    """A botocore client that notes each call (service, operation, parameters) before making it."""

    def __init__(self, service, client, calls, refuse=None):
        self._service, self._client, self._calls, self._refuse = service, client, calls, refuse

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name in ("exceptions", "meta") or not callable(attribute):
            return attribute

        def call(**params):
            self._calls.append((self._service, name, params))
            if self._refuse and self._refuse(name, params):
                from botocore.exceptions import ClientError

                raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, name)
            return attribute(**params)

        return call


def named_attributes(params):
    """Every attribute a request names in its expressions (a superset of what IAM's dynamodb:Attributes holds)."""
    aliases, names = params.get("ExpressionAttributeNames", {}), set(params.get("Item", {}))
    for field in ("KeyConditionExpression", "FilterExpression", "ProjectionExpression", "ConditionExpression"):
        for token in _NAME.findall(re.sub(r":\w+", " ", params.get(field, ""))):
            if token.upper() not in _WORDS:
                names.add(aliases[token] if token.startswith("#") else token)
    return names


def leading_key(params):
    """The partition key value a request reaches: the item's, or the one its key condition sets."""
    if "Item" in params or "Key" in params:
        return (params.get("Item") or params["Key"])["pk"]["S"]
    aliases, values = params.get("ExpressionAttributeNames", {}), params["ExpressionAttributeValues"]
    partition = INDEX_KEYS[params["IndexName"]] if "IndexName" in params else "pk"
    for name, value in re.findall(r"(#?\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"]):
        if aliases.get(name, name) == partition:
            return values[value]["S"]
    raise AssertionError(f"no partition key in {params['KeyConditionExpression']}")


def request_of(service, operation, params, settings):
    """(IAM action, resource as the policy names it, condition context) of one recorded call."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    name = {botocore.xform_name(o): o for o in model.operation_names}[operation]
    if service == "dynamodb":
        resource = {"Fn::Sub": "${AppointmentsTable.Arn}" + (f"/index/{params['IndexName']}" if "IndexName" in
                                                             params else "")}
        context = {"dynamodb:Attributes": named_attributes(params), "dynamodb:LeadingKeys": {leading_key(params)}}
        if "Select" in params:
            context["dynamodb:Select"] = {params["Select"]}
        return f"dynamodb:{name}", resource, context
    if service == "secretsmanager":
        assert params["SecretId"] == settings.dedupe_key_secret
        return f"secretsmanager:{name}", {"Ref": "DedupeKeySecret"}, {}
    assert service == "sesv2" and params["FromEmailAddress"] == settings.mail_from
    return f"ses:{name}", None, {"ses:FromAddress": {json.dumps({"Ref": "MailFrom"})}}


def holds(operator, key, allowed, context):
    allowed = allowed if isinstance(allowed, list) else [allowed]
    allowed = {json.dumps(a) if isinstance(a, dict) else a for a in allowed}
    given = context.get(key)
    if operator == "StringEquals":
        return given is not None and len(given) == 1 and given <= allowed
    if operator == "ForAllValues:StringEquals":
        return given is None or given <= allowed
    if operator == "ForAllValues:StringLike":
        return given is None or all(any(fnmatch.fnmatchcase(g, a) for a in allowed) for g in given)
    raise AssertionError(f"this test does not know {operator}: teach it, or use a known operator")


def allowed_by_policy(action, resource, context):
    for statement in POLICY["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] != "Allow" or action not in statement["Action"]:
            continue
        if resource is not None and resource not in resources:
            continue
        if all(holds(operator, key, allowed, context) for operator, keys in statement.get("Condition", {}).items()
               for key, allowed in keys.items()):
            return statement["Sid"]
    return None


def test_every_call_the_digest_function_makes_is_one_its_policy_allows(table, topic, dedupe_key_secret, dynamodb,
                                                                       settings, monkeypatch):
    """Catches a digest read the role refuses in AWS while moto allows it: a Query of by_status without
    Select COUNT, of requests in by_created without Select SPECIFIC_ATTRIBUTES and named attributes (every
    patient's name and message are projected there), or a call the policy does not name at all."""
    from chalicelib import wiring
    from chalicelib.core.errors import MailNotSent

    real = Real(dynamodb, settings)
    real.add(status="contacted", created_at=iso(datetime.now(timezone.utc) - DAY),
             first_contact={"wall_minutes": 40, "business_minutes": 30})
    real.add(status="new", created_at=iso(datetime.now(timezone.utc) - DAY), due_at=iso(datetime.now(timezone.utc)))
    real.add(status="suspected_spam", created_at=iso(datetime.now(timezone.utc) - DAY))
    add_staff(dynamodb, ("ana@clinic.example", ["--role", "admin"]), ("ben@clinic.example", []))
    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    calls, built = [], wiring.aws_client

    def recorded_client(service):  # ben's digest SES refuses for now: his claim is released (a DeleteItem)
        return Recorded(service, built(service), calls,
                        lambda operation, params: "ben@" in str(params.get("Destination")))

    recorded_client.cache_clear = built.cache_clear  # wiring.reset() clears it
    monkeypatch.setattr(wiring, "aws_client", recorded_client)

    with pytest.raises(MailNotSent):
        wiring.digest().run(force=True)

    made = {(service, operation) for service, operation, _ in calls}
    assert {("dynamodb", "query"), ("dynamodb", "put_item"), ("dynamodb", "delete_item"),
            ("secretsmanager", "get_secret_value"), ("sesv2", "send_email")} <= made
    assert [params.get("Select") for service, operation, params in calls
            if params.get("IndexName") == "by_status"] == ["COUNT"] * 6 * len(settings.locations)  # new, overdue,
    # spam, visits today, attended and no-shows of the last 30 days
    for service, operation, params in calls:
        action, resource, context = request_of(service, operation, params, settings)
        assert allowed_by_policy(action, resource, context), (action, resource, context)
    # What it may read by name in by_created (its staff accounts' attributes among them) is nothing of a request's
    # but its keys, status, location and first contact: a patient's details are in `fields`, never readable.
    readable = set().union(*(s["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
                             for s in POLICY["Statement"] if "dynamodb:Attributes" in json.dumps(s.get("Condition"))))
    requests = [item for item in dynamodb.scan(TableName=TABLE)["Items"] if item["pk"]["S"].startswith("APPT#")]
    assert requests and all("fields" in item for item in requests)
    for item in requests:
        assert set(item) & readable <= {"pk", "sk", "entity", "created_at", "status", "location", "first_contact"}


@pytest.mark.parametrize("params", [
    {"TableName": TABLE, "IndexName": "by_status", "KeyConditionExpression": "#status = :s",
     "ExpressionAttributeNames": {"#status": "status"}, "ExpressionAttributeValues": {":s": {"S": "new"}}},
    {"TableName": TABLE, "IndexName": "by_created", "KeyConditionExpression": "entity = :e",
     "ExpressionAttributeValues": {":e": {"S": "appointment"}}},
    {"TableName": TABLE, "IndexName": "by_created", "KeyConditionExpression": "entity = :e",
     "Select": "SPECIFIC_ATTRIBUTES", "ProjectionExpression": "#location, fields",
     "ExpressionAttributeNames": {"#location": "location"}, "ExpressionAttributeValues": {":e": {"S": "appointment"}}},
    {"TableName": TABLE, "IndexName": "by_location", "KeyConditionExpression": "#l = :l", "Select": "COUNT",
     "ExpressionAttributeNames": {"#l": "location"}, "ExpressionAttributeValues": {":l": {"S": "downtown"}}},
    {"TableName": TABLE, "Key": {"pk": {"S": "APPT#x"}, "sk": {"S": "APPT"}}},
], ids=["by_status read whole", "by_created read whole", "a request's fields", "another index", "a request item"])
def test_the_policy_check_refuses_what_would_read_a_patient_s_data(settings, params):
    """The check above, shown to refuse: reads of requests whole, or of their fields, are not the digest's."""
    operation = "get_item" if "Key" in params else "query"
    assert allowed_by_policy(*request_of("dynamodb", operation, params, settings)) is None
