"""The queue's consumer against DynamoDB and SQS (moto): a request that waits for its address's next e-mail is kept in
the address's item, and the follow-up that mails it is queued on SQS with a delay under the queue's age alarm."""
from datetime import datetime, timezone

import pytest

from chalicelib.staff.accounts import AccountAdmin
from chalicelib.staff.signin import MailDue, SignIn
from chalicelib.storage.accounts import AccountRepository
from chalicelib.storage.sessions import SignInRepository
from chalicelib.storage.signin_queue import SignInQueue, handle_messages
from tests.conftest import STAGE_ENV
from tests.fakes import Clock, FakeMailer
from tests.staffing import TABLE

ADDRESS = "dana@clinic.example"


@pytest.fixture
def consumer(dynamodb, table, sign_in_queue, settings):
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    clock, mailer = Clock(datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)), FakeMailer()
    AccountAdmin(AccountRepository(dynamodb, TABLE), now=clock).add(ADDRESS, "Dana Desk", "staff")
    sign_in = SignIn(AccountRepository(dynamodb, TABLE), SignInRepository(dynamodb, TABLE), mailer, settings,
                     lambda: b"d" * 32, SignInQueue(sqs, STAGE_ENV["SIGN_IN_QUEUE_URL"]), words_key=lambda: b"w" * 32,
                     sources_key=lambda: b"n" * 32, now=clock)

    def deliver():
        """Hand the consumer what is visible on the queue now, as Lambda's event source does."""
        messages = sqs.receive_message(QueueUrl=STAGE_ENV["SIGN_IN_QUEUE_URL"], MaxNumberOfMessages=10).get(
            "Messages", [])
        handle_messages([message["Body"] for message in messages], sign_in.send_code)
        for message in messages:
            sqs.delete_message(QueueUrl=STAGE_ENV["SIGN_IN_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])

    def delayed():
        return int(sqs.get_queue_attributes(QueueUrl=STAGE_ENV["SIGN_IN_QUEUE_URL"], AttributeNames=[
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]["ApproximateNumberOfMessagesDelayed"])

    return sign_in, clock, mailer, deliver, delayed


def test_a_waiting_request_survives_in_the_table_and_its_follow_up_waits_on_the_queue(consumer):
    sign_in, clock, mailer, deliver, delayed = consumer
    sign_in.request_code(ADDRESS, "s" * 43)  # a stranger: the address's e-mail goes at once
    deliver()
    sign_in.request_code(ADDRESS, "b" * 43)  # Dana, a moment later: her code waits for the next e-mail
    deliver()
    assert len(mailer.sent) == 1 and delayed() == 1
    clock.advance(minutes=2)
    assert sign_in.send_code(MailDue(ADDRESS)) == "sent"  # the follow-up, once its delay is over
    assert f'the words "{sign_in.words("b" * 43)}"' in mailer.sent[-1].text
    assert sign_in.send_code(MailDue(ADDRESS)) == "nothing_due"  # a copy of it finds nothing to do
