"""Reminders under moto: the sparse by_reminder index, the claim on the request item (two runs at once send once),
SNS texts (a number ending in 99 is opted out in moto) and the marks stored on the item; and one contract for
the fake reminder repository (tests/fakes.py) and the DynamoDB one."""
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.core.clock import utc_iso
from chalicelib.core.mail import Email, Mailer
from chalicelib.intake.models import ConsentEvidence
from chalicelib.notify.sms import SmsSender
from chalicelib.storage.appointments import to_item
from chalicelib.storage.dynamo import deserialize, serialize
from chalicelib.storage.reminders import MAX_PAGES, PAGE, ReminderRepository
from chalicelib.visits.reminders import Reminders
from tests.alerting import stored_request
from tests.conftest import STAGE_ENV
from tests.fakes import Clock, FakeReminderRepository
from tests.integration.test_sms_publish import sms_sent
from tests.unit.test_reminders import with_settings

TABLE = STAGE_ENV["APPOINTMENTS_TABLE"]
NOW = datetime(2026, 12, 8, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
AT = utc_iso(NOW)
SMS_OK = ConsentEvidence(given_at="2026-11-25T15:00:00.000Z", version="2026-11-01")


def request(request_id, **fields):
    return stored_request(id=request_id, **fields).model_copy(update={"sms_consent": SMS_OK})


class Real:
    """The DynamoDB repository, with booked requests written as booking writes them."""

    def __init__(self, dynamodb):
        self.dynamodb = dynamodb
        self.repository = ReminderRepository(dynamodb, TABLE)

    def book(self, request, visit_start, remind_at, sequence=0, status="scheduled"):
        item = {**to_item(request), "status": status, "visit_start": utc_iso(visit_start), "visit_sequence": sequence,
                "remind_at": utc_iso(remind_at), "reminder_queue": "due"}
        old = self.dynamodb.get_item(TableName=TABLE, Key=serialize({"pk": f"APPT#{request.id}", "sk": "APPT"}))
        if "Item" in old and "reminder" in deserialize(old["Item"]):
            item["reminder"] = deserialize(old["Item"])["reminder"]
        self.dynamodb.put_item(TableName=TABLE, Item=serialize(item))

    def item(self, request_id):
        return deserialize(self.dynamodb.get_item(TableName=TABLE, Key=serialize(
            {"pk": f"APPT#{request_id}", "sk": "APPT"}), ConsistentRead=True)["Item"])


class Fake:
    def __init__(self):
        self.repository = FakeReminderRepository()

    def book(self, *args, **kwargs):
        self.repository.book(*args, **kwargs)

    def item(self, request_id):
        return self.repository.items[request_id]


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return Fake()
    request.getfixturevalue("table")
    return Real(request.getfixturevalue("dynamodb"))


# --- the contract -----------------------------------------------------------------------------

def test_due_is_what_is_queued_by_now_soonest_first(store):
    store.book(request("later"), NOW + timedelta(days=1), NOW - timedelta(minutes=5))
    store.book(request("sooner"), NOW + timedelta(days=1), NOW - timedelta(hours=2))
    store.book(request("exactly"), NOW + timedelta(days=1), NOW)
    store.book(request("not-yet"), NOW + timedelta(days=1), NOW + timedelta(milliseconds=1))

    assert store.repository.due(AT) == ["sooner", "later", "exactly"]


def test_two_runs_at_once_claim_once(store):
    store.book(request("r1"), NOW + timedelta(days=1), NOW)
    first, second = store.repository.get("r1"), store.repository.get("r1")

    assert store.repository.claim(first, AT) is True
    assert store.repository.claim(second, AT) is False


def test_a_claim_read_before_a_change_fails_and_the_change_gets_its_own(store):
    store.book(request("r1"), NOW + timedelta(days=1), NOW)
    before = store.repository.get("r1")
    assert store.repository.claim(before, AT) is True
    store.book(request("r1"), NOW + timedelta(days=2), NOW, sequence=1)

    after = store.repository.get("r1")
    assert after.reminder == {}  # the old time's claim does not count for the new one
    assert store.repository.claim(before, utc_iso(NOW + timedelta(hours=1))) is False
    assert store.repository.claim(after, AT) is True


def test_a_claim_older_than_the_lease_is_taken_over_and_keeps_its_marks(store):
    store.book(request("r1"), NOW + timedelta(days=1), NOW)
    store.repository.claim(store.repository.get("r1"), AT)
    store.repository.mark(store.repository.get("r1"), AT, "mail", "sent", AT)

    assert store.repository.claim(store.repository.get("r1"), utc_iso(NOW + timedelta(minutes=9))) is False
    assert store.repository.claim(store.repository.get("r1"), utc_iso(NOW + timedelta(minutes=11))) is True
    assert store.repository.get("r1").reminder["mail"] == "sent"


def test_a_channel_is_marked_sending_only_while_it_is_still_to_send(store):
    store.book(request("r1"), NOW + timedelta(days=1), NOW)
    booking = store.repository.get("r1")
    store.repository.claim(booking, AT)

    assert store.repository.mark(booking, AT, "sms", "sending", AT) is True
    assert store.repository.mark(booking, AT, "sms", "sending", AT) is True  # left by a run that lost its mark
    assert store.repository.mark(booking, AT, "sms", "retry", AT) is True
    assert store.repository.mark(booking, AT, "sms", "sending", AT) is True
    assert store.repository.mark(booking, AT, "sms", "sent", AT) is True
    assert store.repository.mark(booking, AT, "sms", "sending", AT) is False  # it went: never again
    assert store.repository.mark(booking, "2026-12-08T14:00:00.000Z", "sms", "sent", AT) is False  # not our claim


def test_dequeue_takes_it_off_the_index_unless_a_change_re_armed_it(store):
    store.book(request("r1"), NOW + timedelta(days=1), NOW)
    stale = store.repository.get("r1")
    store.book(request("r1"), NOW + timedelta(days=2), NOW, sequence=1)

    assert store.repository.dequeue(stale) is False
    assert store.repository.due(AT) == ["r1"]
    assert store.repository.dequeue(store.repository.get("r1")) is True
    assert store.repository.due(AT) == []


# --- DynamoDB only --------------------------------------------------------------------------------

def test_the_index_query_is_bounded(table, dynamodb):
    store = Real(dynamodb)
    for n in range(PAGE * MAX_PAGES + 3):
        store.book(request(f"r{n:04d}"), NOW + timedelta(days=1), NOW - timedelta(seconds=n))

    assert len(store.repository.due(AT)) == PAGE * MAX_PAGES


def test_a_request_without_a_booking_is_not_in_the_index(table, dynamodb):
    dynamodb.put_item(TableName=TABLE, Item=serialize(to_item(request("plain"))))

    assert ReminderRepository(dynamodb, TABLE).due(utc_iso(NOW + timedelta(days=999))) == []


# --- the whole run under moto: SES, SNS, the stored marks ---------------------------------------------

def compose(request, kind, settings, page_url, now):
    return Email(to=request.fields["email"], subject="Reminder", text=f"{page_url}\n")


@pytest.fixture
def run(table, topic, dynamodb, settings):
    def run(at=NOW):
        return Reminders(ReminderRepository(dynamodb, TABLE),
                         Mailer(boto3.client("sesv2", region_name="us-east-1"), STAGE_ENV["MAIL_FROM"],
                                STAGE_ENV["MAIL_CONFIGURATION_SET"]),
                         SmsSender(boto3.client("sns", region_name="us-east-1")),
                         with_settings(settings, sms_reminders=True), lambda request_id: f"https://c.example/r/{request_id}",
                         compose_mail=compose, now=Clock(at)).run()
    return run


def test_a_reminder_goes_by_ses_and_sns_once_and_is_marked_on_the_item(run, dynamodb):
    store = Real(dynamodb)
    store.book(request("r1"), NOW + timedelta(days=1), NOW)

    assert run() == {"reminded": 1}
    assert run() == {}
    [(phone, text)] = sms_sent()
    assert phone == "+12125550142" and "https://c.example/r/r1" in text and text.endswith("Reply STOP to opt out")
    item = store.item("r1")
    assert "reminder_queue" not in item
    assert {k: item["reminder"][k] for k in ("sequence", "mail", "sms", "claimed_at")} == {
        "sequence": 0, "mail": "sent", "sms": "sent", "claimed_at": AT}


def test_a_number_ending_in_99_is_opted_out_in_moto_the_mail_still_goes(run, dynamodb):
    store = Real(dynamodb)
    store.book(request("r1", phone="+12125550199"), NOW + timedelta(days=1), NOW)

    assert run() == {"reminded": 1}
    assert sms_sent() == []
    assert (store.item("r1")["reminder"]["mail"], store.item("r1")["reminder"]["sms"]) == ("sent", "opted_out")


def test_two_runs_at_once_send_one_text(run, dynamodb):
    store = Real(dynamodb)
    store.book(request("r1"), NOW + timedelta(days=1), NOW)
    repository = ReminderRepository(dynamodb, TABLE)
    other = repository.get("r1")

    assert run() == {"reminded": 1}
    assert repository.claim(other, AT) is False  # the other run, which had read it before the first claimed it
    assert len(sms_sent()) == 1
