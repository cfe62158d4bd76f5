"""E-mail through Amazon SES (the v2 API): sign-in codes for staff, confirmations and visits for patients.

A message without attachments goes as SES's simple content; one with attachments (a visit's .ics) as a
raw MIME message built with the standard library's `email` package: multipart/mixed of the
multipart/alternative text and HTML, then each attachment. Sending raw content through SESv2 SendEmail
is authorised as `ses:SendRawEmail`, not `ses:SendEmail`.

Real SES refuses what moto's SES accepts, so its rules are checked here before any call:
- addresses are 7-bit ASCII (SES has no SMTPUTF8; a Unicode domain must be Punycode, and a
  Unicode local part cannot be sent to at all);
- a header value is one line: a subject or address with a line break is refused, never sent;
  a raw message's subject may hold any text, written as RFC 2047 encoded words;
- a raw message is 7-bit ASCII throughout (every part quoted-printable or base64) with no line
  over 998 octets (RFC 5322; SES refuses a line over 1,000 characters with its CRLF);
- the whole message stays under SES's 10 MB, the v1 limit (v2 takes 40 MB).
"""
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from .errors import MailNotSent

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_SUBJECT = 998  # RFC 5322's line limit; SES folds longer subjects, we never need them
MAX_LINE_OCTETS = 998  # RFC 5322 2.1.1, without the CRLF


@dataclass(frozen=True)
class Attachment:
    filename: str  # plain ASCII: "visit.ics"
    content_type: str  # with its parameters: "text/calendar; charset=UTF-8; method=PUBLISH"
    data: bytes


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str = None
    reply_to: tuple = ()
    attachments: tuple = ()  # of Attachment


def ses_address(address):
    """The address as SES takes it (ASCII, Punycode domain), or MailNotSent when SES cannot."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=False).ascii_email
    except (EmailNotValidError, TypeError):
        raise MailNotSent("address_not_sendable", retryable=False) from None


def _one_line(value):
    return isinstance(value, str) and value.strip() and not any(c in value for c in "\r\n\x00") \
        and all(c == "\t" or ord(c) >= 0x20 for c in value)


class Mailer:
    def __init__(self, client, sender, configuration_set=None):
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, email: Email):
        """Send one message; its SES message id. MailNotSent(retryable=...) when it was not sent."""
        to = ses_address(email.to)
        reply_to = [ses_address(address) for address in email.reply_to]
        if not _one_line(email.subject) or len(email.subject) > MAX_SUBJECT:
            raise MailNotSent("bad_subject", retryable=False)
        request = {"FromEmailAddress": self._sender, "Destination": {"ToAddresses": [to]}}
        if email.attachments:
            request["Content"] = {"Raw": {"Data": raw_message(email, self._sender, to, reply_to)}}
        else:
            request["Content"] = {"Simple": _simple(email)}
            if reply_to:
                request["ReplyToAddresses"] = reply_to
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            return self._client.send_email(**request)["MessageId"]
        except ClientError as error:
            # Every refusal of SES itself (an unverified sender, the sandbox, a paused account, a missing
            # configuration set, throttling) is the operator's to fix, not the message's: retried, and
            # in the end dead-lettered with an alarm. Only what is checked above is final.
            raise MailNotSent(error.response["Error"]["Code"]) from None
        except ParamValidationError:
            raise MailNotSent("invalid_parameters", retryable=False) from None
        except BotoCoreError as error:
            raise MailNotSent(type(error).__name__) from None


def _simple(email):
    body = {"Text": {"Data": email.text, "Charset": "UTF-8"}}
    if email.html is not None:
        body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
    size = sum(len(part["Data"].encode("utf-8")) for part in body.values()) + len(email.subject.encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise MailNotSent("too_large", retryable=False)
    return {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}


def raw_message(email, sender, to, reply_to=()):
    """`email` as the bytes of a MIME message SES takes, or MailNotSent when SES would refuse it."""
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP)  # CRLF lines, headers folded at 78 and RFC 2047-encoded when not ASCII
    message["From"], message["To"], message["Subject"] = sender, to, email.subject
    if reply_to:
        message["Reply-To"] = ", ".join(reply_to)
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if email.html is not None:
        message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for attachment in email.attachments:
        maintype, subtype, params = _content_type(attachment)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename,
                               params=params, cte="base64")
    raw = message.as_bytes()
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MailNotSent("too_large", retryable=False)
    if not raw.isascii():
        raise MailNotSent("not_7bit", retryable=False)
    if any(len(line) > MAX_LINE_OCTETS for line in raw.split(b"\r\n")):
        raise MailNotSent("line_too_long", retryable=False)
    return raw


def _content_type(attachment):
    """(maintype, subtype, parameters) of an attachment whose name and type are plain one-line ASCII."""
    from email.message import Message

    if not all(_one_line(value) and value.isascii() and '"' not in value
               for value in (attachment.filename, attachment.content_type)) or "/" not in attachment.content_type:
        raise MailNotSent("bad_attachment", retryable=False)
    header = Message()
    header["Content-Type"] = attachment.content_type
    return header.get_content_maintype(), header.get_content_subtype(), dict(header.get_params()[1:])
