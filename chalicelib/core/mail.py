"""E-mail through Amazon SES (the v2 API): sign-in codes for staff, confirmations for patients.

Real SES refuses what moto's SES accepts, so its rules are checked here before any call:
- addresses are 7-bit ASCII (SES has no SMTPUTF8; a Unicode domain must be Punycode, and a
  Unicode local part cannot be sent to at all);
- a header value is one line: a subject or address with a line break is refused, never sent;
- the whole message stays under SES's 40 MB (v2) and far under its 10 MB v1 limit.
"""
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from .errors import MailNotSent

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_SUBJECT = 998  # RFC 5322's line limit; SES folds longer subjects, we never need them


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str = None
    reply_to: tuple = ()


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
        body = {"Text": {"Data": email.text, "Charset": "UTF-8"}}
        if email.html is not None:
            body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
        size = sum(len(part["Data"].encode("utf-8")) for part in body.values()) + len(email.subject.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise MailNotSent("too_large", retryable=False)
        request = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Simple": {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}},
        }
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
