"""The queue of staff sign-in code requests (SQS): the request path puts, a consumer mails the codes.

Two kinds of message: a browser's request (CodeRequest), and the consumer's follow-up to itself (MailDue), queued
with a delay for when an address's next e-mail of codes may go.

SQS takes a message body of up to 256 KiB of XML characters (#x9, #xA, #xD, #x20-#xD7FF, ...);
the SQS of moto takes more. A message here is ASCII JSON of a few hundred bytes, checked against
the limit anyway: an address is at most 254 characters.
"""
import json

from botocore.exceptions import BotoCoreError, ClientError

from ..core.logs import get_logger
from ..staff.devices import DeviceClaim
from ..staff.code_mail import CodeRequest, MailDue
from ..staff.sign_in_sources import UNKNOWN
from .dynamo import unavailable

log = get_logger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024


def message_body(message):
    if isinstance(message, MailDue):
        data = {"mail_due": message.address}
    else:
        device = message.device and {"id": message.device.device, "generation": message.device.generation}
        data = {"email": message.address, "browser": message.browser, "words": message.words, "device": device,
                "request_id": message.request_id, "requested_at": message.requested_at, "source": message.source}
    body = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    if len(body.encode("ascii")) > MAX_MESSAGE_BYTES:
        raise ValueError("a sign-in code request is larger than an SQS message may be")
    return body


def read_message(body):
    """The CodeRequest or MailDue of a message body; ValueError (or KeyError, TypeError) for anything else.
    A request queued before MailDue and device claims existed has no words: it is refused, and asked again; one
    queued before sources existed is from the unknown source."""
    data = json.loads(body)
    if "mail_due" in data:
        if not isinstance(data["mail_due"], str):
            raise ValueError("not a follow-up")
        return MailDue(data["mail_due"])
    device = data["device"]
    request = CodeRequest(address=data["email"], browser=data["browser"], words=data["words"],
                          device=device and DeviceClaim(device["id"], device["generation"]),
                          request_id=data["request_id"], requested_at=data["requested_at"],
                          source=data.get("source", UNKNOWN))
    texts = (request.address, request.browser, request.words, request.request_id, request.requested_at,
             request.source)
    if not all(isinstance(value, str) for value in texts) or (request.device is not None and not all(
            isinstance(value, str) for value in (request.device.device, request.device.generation))):
        raise ValueError("not a sign-in code request")
    return request


class SignInQueue:
    def __init__(self, client, queue_url):
        self._client = client
        self._url = queue_url

    def put(self, message, delay_seconds=0):
        """Queue a CodeRequest (at once), or a MailDue (`delay_seconds` ahead: SQS allows up to 900)."""
        request = {"QueueUrl": self._url, "MessageBody": message_body(message)}
        if delay_seconds:
            request["DelaySeconds"] = delay_seconds
        try:
            self._client.send_message(**request)
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error) from None


def handle_messages(bodies, send_code):
    """`send_code` each message. Nothing is retried: a message that cannot be read or handled is logged (its kind
    of error only) and dropped, and the person asks for a code again. One bad message must not fail the batch:
    Lambda would hand SQS back all of it, the others would come again, and their codes be handled twice."""
    for body in bodies:
        try:
            send_code(read_message(body))
        except Exception as error:  # noqa: BLE001 - one bad message must not take the others' codes with it
            log.warning("sign-in code request dropped", extra={"event": "sign_in_code", "outcome": "dropped",
                                                               "error_type": type(error).__name__})
