"""The SES adapter against moto's SES, and the rules of real SES that moto does not enforce."""
import pytest

from chalicelib.core.errors import MailNotSent
from chalicelib.core.mail import Email, Mailer
from tools.resources import create_mail_identity

SENDER = "appointments@clinic.example"


@pytest.fixture
def sesv2(mocked_aws):
    import boto3

    client = boto3.client("sesv2", region_name="us-east-1")
    create_mail_identity(client, SENDER)
    return client


def sent_messages():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages


def test_a_message_reaches_ses_from_the_sender_to_the_address(sesv2):
    message_id = Mailer(sesv2, SENDER).send(Email("dana@clinic.example", "Your code", "Code 1234 5678"))
    [sent] = sent_messages()
    assert sent.id == message_id
    assert (sent.source, sent.destinations["ToAddresses"], sent.subject) == (
        SENDER, ["dana@clinic.example"], "Your code")
    assert sent.body == "Code 1234 5678"


def test_an_unverified_sender_is_a_failure_to_retry_until_the_operator_fixes_it(mocked_aws):
    import boto3

    mailer = Mailer(boto3.client("sesv2", region_name="us-east-1"), "someone@elsewhere.example")
    with pytest.raises(MailNotSent) as failure:
        mailer.send(Email("dana@clinic.example", "Your code", "Code"))
    assert (failure.value.reason, failure.value.retryable) == ("MessageRejected", True)


def test_a_unicode_domain_is_sent_as_punycode(sesv2):
    Mailer(sesv2, SENDER).send(Email("dana@bücher.example", "Your code", "Code"))
    assert sent_messages()[0].destinations["ToAddresses"] == ["dana@xn--bcher-kva.example"]


@pytest.mark.parametrize("address", ["jösé@clinic.example", "李@clinic.example", "not an address", None])
def test_an_address_ses_cannot_send_to_is_refused_before_any_call(address):
    """Real SES has no SMTPUTF8: a Unicode local part cannot be sent to, and moto would accept it."""
    with pytest.raises(MailNotSent) as failure:
        Mailer(client=None, sender=SENDER).send(Email(address, "Your code", "Code"))
    assert (failure.value.reason, failure.value.retryable) == ("address_not_sendable", False)


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: victim@example.com", "Hi\nthere", "", "   ", "nul\x00", "x" * 999])
def test_a_subject_that_is_not_one_header_line_is_refused(subject):
    with pytest.raises(MailNotSent) as failure:
        Mailer(client=None, sender=SENDER).send(Email("dana@clinic.example", subject, "Code"))
    assert failure.value.reason == "bad_subject"


def test_a_subject_of_998_characters_is_sent(sesv2):
    Mailer(sesv2, SENDER).send(Email("dana@clinic.example", "x" * 998, "Code"))
    assert len(sent_messages()) == 1


def test_reply_to_and_configuration_set_are_passed_on(sesv2):
    calls = []
    sesv2.meta.events.register("provide-client-params.sesv2.SendEmail", lambda params, **_: calls.append(dict(params)))
    Mailer(sesv2, SENDER, configuration_set="require-tls").send(
        Email("dana@clinic.example", "Subject", "Text", html="<p>Text</p>", reply_to=("front.desk@clinic.example",)))
    assert calls[0]["ConfigurationSetName"] == "require-tls"
    assert calls[0]["ReplyToAddresses"] == ["front.desk@clinic.example"]
    assert calls[0]["Content"]["Simple"]["Body"]["Text"]["Data"] == "Text"


def test_ses_down_is_a_retryable_failure(monkeypatch):
    import boto3
    from botocore.exceptions import EndpointConnectionError

    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    def refuse(**_):
        raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "send_email", refuse)
    with pytest.raises(MailNotSent) as failure:
        Mailer(client, SENDER).send(Email("dana@clinic.example", "Subject", "Text"))
    assert failure.value.retryable is True


def test_a_message_over_ten_megabytes_is_refused():
    with pytest.raises(MailNotSent) as failure:
        Mailer(client=None, sender=SENDER).send(Email("dana@clinic.example", "Big", "x" * (10 * 1024 * 1024 + 1)))
    assert failure.value.reason == "too_large"
