"""The FIFO queue of webhook deliveries (SQS): the stream's feed puts one message per event and endpoint,
the delivery consumer takes them and sets each failure's next try.

A message's group is its endpoint and request, so that one receiver gets a request's events in order and a
failing receiver holds up nobody else. Its deduplication id is its event and endpoint: a stream record handled
twice within SQS's five-minute window queues it once (and the webhook-id, the same both times, lets a receiver
drop a later copy). SQS takes at most 10 messages per SendMessageBatch and 128 characters of group and
deduplication ids (A-Z a-z 0-9 and punctuation); a body is at most 256 KiB, and these are a few hundred bytes.
"""
import hashlib
import json
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ..core.errors import StorageUnavailable
from .dynamo import unavailable

MAX_BATCH = 10
MAX_MESSAGE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint: `payload` is the exact body that is signed and sent."""
    endpoint_id: str
    event_id: str
    event_type: str
    request_id: str
    payload: str


def message_body(delivery):
    body = json.dumps({"endpoint": delivery.endpoint_id, "id": delivery.event_id, "type": delivery.event_type,
                       "request": delivery.request_id, "payload": delivery.payload},
                      ensure_ascii=True, separators=(",", ":"))
    if len(body) > MAX_MESSAGE_BYTES:
        raise ValueError("a webhook delivery is larger than an SQS message may be")
    return body


def read_message(body):
    """The Delivery of a message body; ValueError (or KeyError, TypeError) for anything else."""
    data = json.loads(body)
    delivery = Delivery(data["endpoint"], data["id"], data["type"], data["request"], data["payload"])
    if not all(isinstance(value, str) for value in (delivery.endpoint_id, delivery.event_id, delivery.event_type,
                                                    delivery.request_id, delivery.payload)):
        raise ValueError("not a webhook delivery")
    return delivery


def _hashed(text):
    return hashlib.sha256(text.encode()).hexdigest()  # 64 characters, within SQS's 128, whatever the ids


class WebhookQueue:
    def __init__(self, client, queue_url):
        self._client = client
        self._url = queue_url

    def put(self, deliveries):
        """Queue every delivery, in order; StorageUnavailable when SQS did not take them all (the caller retries
        the lot, and deduplication drops what it already had)."""
        deliveries = list(deliveries)
        for start in range(0, len(deliveries), MAX_BATCH):
            entries = [{
                "Id": str(number), "MessageBody": message_body(delivery),
                "MessageGroupId": _hashed(f"{delivery.endpoint_id}:{delivery.request_id}"),
                "MessageDeduplicationId": _hashed(f"{delivery.event_id}:{delivery.endpoint_id}"),
            } for number, delivery in enumerate(deliveries[start:start + MAX_BATCH])]
            try:
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            except (ClientError, BotoCoreError) as error:
                raise unavailable(error) from None
            if response.get("Failed"):
                raise StorageUnavailable()

    def retry_in(self, receipt_handle, seconds):
        """Let a message come back `seconds` from now (the next try of a failed delivery)."""
        try:
            self._client.change_message_visibility(QueueUrl=self._url, ReceiptHandle=receipt_handle,
                                                   VisibilityTimeout=int(seconds))
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error) from None
