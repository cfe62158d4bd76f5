"""The SES adapter against moto's SES, and the rules of real SES that moto does not enforce."""
import pytest

from chalicelib.core.errors import MailNotSent
from chalicelib.core.mail import Attachment, Email, Mailer
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


# Raw messages: a visit's e-mail with its .ics, built with the standard library's `email` package.

CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n" \
           b"UID:abc@clinic.example\r\nDTSTAMP:20261206T120000Z\r\nDTSTART:20270112T150000Z\r\n" \
           b"SUMMARY:Cita en Cl\xc3\xadnica Centro\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
ICS = Attachment("visit.ics", "text/calendar; charset=UTF-8; method=PUBLISH", CALENDAR)


def with_ics(**changes):
    values = dict(to="dana@clinic.example", subject="Su cita en Clínica Señora Núñez — martes 12 de enero",
                  text="Hola,\nsu cita: martes 12 de enero, 10:00.\n" + "ñ" * 2000, html="<p>Hola, ñandú</p>",
                  attachments=(ICS,))
    return Email(**{**values, **changes})


def parsed_raw(sent):
    from email import message_from_string, policy

    return message_from_string(sent.raw_data, policy=policy.default)


def test_a_message_with_an_attachment_reaches_ses_as_mime_with_its_calendar_readable(sesv2):
    """Catches a raw message SES would take apart wrongly: the text, the HTML and the .ics each where a mail
    client looks for them, and the calendar's bytes arriving whole (a parser reads them)."""
    import icalendar

    message_id = Mailer(sesv2, SENDER).send(with_ics(reply_to=("front.desk@clinic.example",)))
    [sent] = sent_messages()
    assert sent.id == message_id and set(sent.destinations) == {"dana@clinic.example"}
    message = parsed_raw(sent)
    assert (message["From"], message["To"], message["Reply-To"]) == (
        SENDER, "dana@clinic.example", "front.desk@clinic.example")
    assert message["Subject"] == "Su cita en Clínica Señora Núñez — martes 12 de enero"
    assert message.get_content_type() == "multipart/mixed"
    alternative, calendar = message.iter_parts()
    assert [part.get_content_type() for part in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith("Hola,\nsu cita: martes 12 de enero, 10:00.\nñ")
    assert message.get_body(("html",)).get_content().strip() == "<p>Hola, ñandú</p>"
    assert (calendar.get_content_type(), calendar.get_filename(), calendar.get_param("method")) == (
        "text/calendar", "visit.ics", "PUBLISH")
    assert calendar.get_content_disposition() == "attachment"
    assert calendar.get_payload(decode=True) == CALENDAR
    [event] = icalendar.Calendar.from_ical(calendar.get_payload(decode=True)).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Cita en Clínica Centro"


def test_the_raw_message_goes_through_sesv2_send_email_with_the_configuration_set(sesv2):
    calls = []
    sesv2.meta.events.register("provide-client-params.sesv2.SendEmail", lambda params, **_: calls.append(dict(params)))
    Mailer(sesv2, SENDER, configuration_set="require-tls").send(with_ics())
    [call] = calls
    assert set(call["Content"]) == {"Raw"} and isinstance(call["Content"]["Raw"]["Data"], bytes)
    assert call["ConfigurationSetName"] == "require-tls"
    assert call["Destination"] == {"ToAddresses": ["dana@clinic.example"]}


def test_a_raw_message_is_seven_bit_with_no_line_over_998_octets_and_its_subject_encoded(sesv2):
    """SES wants every part outside ASCII encoded and no line over 1,000 characters: catches an 8bit part, a
    long line of the text sent as it is, and a Unicode subject written raw into the header."""
    Mailer(sesv2, SENDER).send(with_ics(text="x" * 5000 + " ñ", subject="é" * 998))
    raw = sent_messages()[0].raw_data.encode("utf-8")
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # RFC 2047 encoded words in the header
    assert parsed_raw(sent_messages()[0])["Subject"] == "é" * 998


@pytest.mark.parametrize("extra, reason", [("X-Note: ñ\r\n".encode("utf-8"), "not_7bit"),
                                           (b"X-Note: " + b"x" * 991 + b"\r\n", "line_too_long")])
def test_what_ses_refuses_is_caught_before_the_call_whatever_the_email_package_writes(monkeypatch, extra, reason):
    """The checks stand on the bytes, not on trust in the email package's encoding and folding: a header line
    of 999 octets, or one byte outside ASCII, never reaches SES."""
    from email.message import EmailMessage

    as_bytes = EmailMessage.as_bytes
    monkeypatch.setattr(EmailMessage, "as_bytes", lambda self, *args, **kwargs: extra + as_bytes(self, *args, **kwargs))
    with pytest.raises(MailNotSent) as failure:
        Mailer(client=None, sender=SENDER).send(with_ics())
    assert (failure.value.reason, failure.value.retryable) == (reason, False)


def test_a_header_line_of_998_octets_is_sent(sesv2, monkeypatch):
    from email.message import EmailMessage

    as_bytes = EmailMessage.as_bytes
    monkeypatch.setattr(EmailMessage, "as_bytes",
                        lambda self, *args, **kwargs: b"X-Note: " + b"x" * 990 + b"\r\n" + as_bytes(self, *args, **kwargs))
    Mailer(sesv2, SENDER).send(with_ics())
    assert len(sent_messages()) == 1


def test_a_raw_message_over_ten_megabytes_is_refused_before_the_call():
    """base64 makes 7.9 MB of attachment into 10.5 MB of message: the size that counts is the encoded one."""
    big = Attachment("visit.ics", "text/calendar; charset=UTF-8", b"x" * 7_900_000)
    with pytest.raises(MailNotSent) as failure:
        Mailer(client=None, sender=SENDER).send(with_ics(attachments=(big,)))
    assert (failure.value.reason, failure.value.retryable) == ("too_large", False)


@pytest.mark.parametrize("subject", ["Su cita\r\nBcc: victim@example.com", "", "x" * 999])
def test_a_raw_message_s_subject_is_one_header_line_too(subject):
    with pytest.raises(MailNotSent) as failure:
        Mailer(client=None, sender=SENDER).send(with_ics(subject=subject))
    assert failure.value.reason == "bad_subject"


@pytest.mark.parametrize("attachment", [
    Attachment("visit.ics\r\nBcc: victim@example.com", "text/calendar", b"x"),
    Attachment("cita-señora.ics", "text/calendar", b"x"),
    Attachment("visit.ics", "text/calendar;\nmethod=PUBLISH", b"x"),
    Attachment("visit.ics", "calendar", b"x"),
])
def test_an_attachment_whose_name_or_type_is_not_one_plain_line_is_refused(attachment):
    with pytest.raises(MailNotSent) as failure:
        Mailer(client=None, sender=SENDER).send(with_ics(attachments=(attachment,)))
    assert (failure.value.reason, failure.value.retryable) == ("bad_attachment", False)
