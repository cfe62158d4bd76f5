"""The queue of staff sign-in code requests (SQS): the request path puts, a consumer mails the codes.

SQS takes a message body of up to 256 KiB of XML characters (#x9, #xA, #xD, #x20-#xD7FF, ...);
the SQS of moto takes more. A message here is ASCII JSON of a few hundred bytes, checked against
the limit anyway: an address is at most 254 characters.
"""
import json

from botocore.exceptions import BotoCoreError, ClientError

from ..core.logs import get_logger
from ..staff.signin import CodeRequest
from .dynamo import unavailable

log = get_logger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024


def message_body(request):
    body = json.dumps({"email": request.address, "browser": request.browser, "known_device": request.known_device,
                       "requested_at": request.requested_at}, ensure_ascii=True, separators=(",", ":"))
    if len(body.encode("ascii")) > MAX_MESSAGE_BYTES:
        raise ValueError("a sign-in code request is larger than an SQS message may be")
    return body


def read_message(body):
    """The CodeRequest of a message body; ValueError (or KeyError, TypeError) for anything else."""
    data = json.loads(body)
    request = CodeRequest(address=data["email"], browser=data["browser"], known_device=data["known_device"],
                          requested_at=data["requested_at"])
    if not all(isinstance(value, str) for value in (request.address, request.browser, request.requested_at)) \
            or not isinstance(request.known_device, bool):
        raise ValueError("not a sign-in code request")
    return request


class SignInQueue:
    def __init__(self, client, queue_url):
        self._client = client
        self._url = queue_url

    def put(self, request):
        try:
            self._client.send_message(QueueUrl=self._url, MessageBody=message_body(request))
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error) from None


def handle_messages(bodies, send_code):
    """`send_code` each message's request. Nothing is retried: a message that cannot be read or handled is
    logged (its kind of error only) and dropped, and the person asks for a code again."""
    for body in bodies:
        try:
            send_code(read_message(body))
        except Exception as error:  # noqa: BLE001 - one bad message must not take the others' codes with it
            log.warning("sign-in code request dropped", extra={"event": "sign_in_code", "outcome": "dropped",
                                                               "error_type": type(error).__name__})
