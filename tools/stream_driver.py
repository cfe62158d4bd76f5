"""Runs the stream handlers locally the way Lambda's DynamoDB event source mappings do.

    python -m tools.stream_driver [--stage dev] [--max-retries 20]

It also runs the consumer of the sign-in code queue (SQS), as Lambda's SQS event source does: it
receives up to 10 messages, invokes the handler with them and deletes them once it returns; and the
webhook queue's (WebhookQueueDriver), deleting only what the handler did not hand back.

For each of the two handlers (staff alerts, confirmations), as for each of the two mappings in
AWS, it reads the table's stream from moto on its own and invokes the same Chalice handler that AWS would,
with the real event shape (moto's GetRecords output plus `eventSourceARN`), honouring
`batchItemFailures`: a failed record is retried with backoff (so an alert goes out within
seconds of SNS recovering) and, once its retries are used up, its position is sent to the
dead-letter queue and an ALARM line is printed, as the AWS on-failure destination and alarm do.

moto's trap: after a cancelled TransactWriteItems, an existing shard iterator keeps reading a
stale copy of the shard. So every poll asks for a fresh iterator after the last sequence
number handled, and reads the stream as it really is.
"""
import argparse
import json
import os
import time
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

from tools.resources import local_environment

MAX_BACKOFF_SECONDS = 5.0
STREAM_LOOKUP_SECONDS = 10.0
DEAD_LETTER_CHECK_SECONDS = 30.0
# An empty webhook queue is asked again after this long, not on every poll: each ask costs the emulator, and an
# idle `make run` should stay light (docs/performance.md). A delivery waits at most this long more.
WEBHOOK_IDLE_SECONDS = 2.0


def lambda_record(record, stream_arn):
    """A GetRecords record as a Lambda event record: epoch timestamps, plus eventSourceARN."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


class StreamDriver:
    def __init__(self, handler, dynamodb, streams, table_name, *, sqs=None, dead_letter_url=None,
                 batch_size=25, max_retries=20, clock=time.monotonic, say=print, what="staff alert",
                 function_name="appointments-local-staff-alerts"):
        self._handler = handler
        self._what = what
        self._function_name = function_name
        self._dynamodb = dynamodb
        self._streams = streams
        self._table = table_name
        self._sqs = sqs
        self._dead_letter_url = dead_letter_url
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._clock = clock
        self._say = say
        self._stream_arn = None
        self._shards = []
        self._looked_up = None  # when the stream and its shards were last looked up
        self._positions = {}  # shard id -> last sequence number handled
        self._attempts = {}  # sequence number -> failed attempts so far
        self._not_before = {}  # shard id -> monotonic time of the next retry

    def poll_once(self):
        """Read each shard once and invoke the handler on what is new. Returns records handled."""
        stream_arn, shards = self._stream()
        handled = 0
        try:
            for shard_id in shards:
                handled += self._poll_shard(stream_arn, shard_id)
        except self._streams.exceptions.ResourceNotFoundException:
            self._looked_up = None  # the table is gone, or new: look it up again next time
        return handled

    def _stream(self):
        """The table's stream and its shard ids, looked up again every STREAM_LOOKUP_SECONDS: a new
        table or shard is found within that, and an idle poll costs the emulator two calls, not four."""
        if self._looked_up is not None and self._clock() - self._looked_up < STREAM_LOOKUP_SECONDS:
            return self._stream_arn, self._shards
        try:
            stream_arn = self._dynamodb.describe_table(TableName=self._table)["Table"].get("LatestStreamArn")
        except self._dynamodb.exceptions.ResourceNotFoundException:
            return None, ()
        if stream_arn != self._stream_arn:  # a new table (or the first look): start from its beginning
            self._stream_arn, self._positions, self._attempts, self._not_before = stream_arn, {}, {}, {}
        if not stream_arn:
            return None, ()
        description = self._streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        self._shards = [shard["ShardId"] for shard in description["Shards"]]
        self._looked_up = self._clock()
        return stream_arn, self._shards

    def seconds_to_next_retry(self):
        """How long until the earliest failed batch may be retried (None: no retry pending)."""
        now = self._clock()
        pending = [moment - now for moment in self._not_before.values() if moment > now]
        return min(pending) if pending else None

    def _poll_shard(self, stream_arn, shard_id):
        if self._clock() < self._not_before.get(shard_id, 0):
            return 0
        position = self._positions.get(shard_id)
        where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position} if position \
            else {"ShardIteratorType": "TRIM_HORIZON"}
        iterator = self._streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **where)["ShardIterator"]
        records = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size)["Records"]
        if not records:
            return 0
        failed = self._invoke(stream_arn, records)
        if not failed:
            self._positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            return len(records)
        # As Lambda does with batchItemFailures: checkpoint before the first failure, retry from it.
        index = min(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
        if index:
            self._positions[shard_id] = records[index - 1]["dynamodb"]["SequenceNumber"]
        record = records[index]
        sequence = record["dynamodb"]["SequenceNumber"]
        attempts = self._attempts[sequence] = self._attempts.get(sequence, 0) + 1
        if attempts > self._max_retries:
            self._dead_letter(stream_arn, shard_id, record, attempts)
            self._positions[shard_id] = sequence
            self._attempts.pop(sequence, None)
        else:
            self._not_before[shard_id] = self._clock() + min(MAX_BACKOFF_SECONDS, 0.25 * 2 ** (attempts - 1))
        return index

    def _invoke(self, stream_arn, records):
        event = {"Records": [lambda_record(r, stream_arn) for r in records]}
        context = SimpleNamespace(aws_request_id=str(uuid.uuid4()), function_name=self._function_name,
                                  memory_limit_in_mb=128, get_remaining_time_in_millis=lambda: 60_000)
        try:
            response = self._handler(event, context) or {}
        except Exception:  # the whole batch failed, as a Lambda error would
            return {r["dynamodb"]["SequenceNumber"] for r in records}
        return {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}

    def _dead_letter(self, stream_arn, shard_id, record, attempts):
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        arrival = created.isoformat() if isinstance(created, datetime) else str(created)
        sequence = record["dynamodb"]["SequenceNumber"]
        message = {  # the shape of Lambda's on-failure destination record for a stream
            "version": "1.0",
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetryAttemptsExhausted",
                               "approximateInvokeCount": attempts,
                               "functionArn": f"arn:aws:lambda:local:000000000000:function:{self._function_name}"},
            "DDBStreamBatchInfo": {
                "shardId": shard_id, "startSequenceNumber": sequence, "endSequenceNumber": sequence,
                "approximateArrivalOfFirstRecord": arrival, "approximateArrivalOfLastRecord": arrival,
                "batchSize": 1, "streamArn": stream_arn,
            },
        }
        if self._sqs and self._dead_letter_url:
            self._sqs.send_message(QueueUrl=self._dead_letter_url, MessageBody=json.dumps(message))
        self._say(f"ALARM: a {self._what} failed {attempts} times and went to the dead-letter queue "
                  f"(stream record {sequence}). Fix the cause, then re-drive it.", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the stream handler against the local stack.")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--max-retries", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=0.1, help="seconds between polls while busy")
    parser.add_argument("--idle-interval", type=float, default=1.0,
                        help="at most this long between polls once idle: a new request is seen within it")
    parser.add_argument("--schedule-interval", type=float, default=float(os.environ.get("LOCAL_SCHEDULE_SECONDS", 30)),
                        help="seconds between runs of the scheduled functions (15 minutes in AWS; "
                             "LOCAL_SCHEDULE_SECONDS sets it too)")
    parser.add_argument("--digest-interval", type=float, default=float(os.environ.get("LOCAL_DIGEST_SECONDS", 0)),
                        help="seconds between looks whether the morning digest is due (hourly in AWS; "
                             "LOCAL_DIGEST_SECONDS sets it too; by default as often as the other schedule)")
    args = parser.parse_args(argv)

    # Like `chalice local`, the handler sees the stage's environment variables.
    os.environ.update(local_environment(args.stage, os.environ))
    from tools import faults

    faults.install_from_env("stream")  # only when APPOINTMENTS_FAULTS asks for it (the fault test)
    import boto3

    from app import (
        deliver_webhooks, escalate_overdue, send_confirmations, send_digest, send_reminders, send_sign_in_codes,
        send_staff_alerts,
    )
    from tools.resources import dead_letter_queue_name, webhook_dead_letter_url

    table = os.environ["APPOINTMENTS_TABLE"]
    sqs = boto3.client("sqs")
    dead_letter_url = sqs.get_queue_url(QueueName=dead_letter_queue_name(args.stage))["QueueUrl"]
    driver = Consumers([
        StreamDriver(handler, boto3.client("dynamodb"), boto3.client("dynamodbstreams"), table, sqs=sqs,
                     dead_letter_url=dead_letter_url, max_retries=args.max_retries, what=what,
                     function_name=f"appointments-local-{name}")
        for handler, what, name in ((send_staff_alerts, "staff alert", "staff-alerts"),
                                    (send_confirmations, "patient's confirmation", "confirmations"))
    ] + [QueueDriver(send_sign_in_codes, sqs, os.environ["SIGN_IN_QUEUE_URL"]),
         WebhookQueueDriver(deliver_webhooks, sqs, os.environ["WEBHOOK_QUEUE_URL"],
                            webhook_dead_letter_url(os.environ["WEBHOOK_QUEUE_URL"])),
         ScheduleDriver(escalate_overdue, args.schedule_interval, "appointments-local-escalations"),
         ScheduleDriver(send_reminders, args.schedule_interval, "appointments-local-reminders"),
         # Hourly in AWS; more often here: the digest itself sends only at DIGEST_HOUR, once a day.
         ScheduleDriver(send_digest, args.digest_interval or args.schedule_interval, "appointments-local-digest")])
    try:
        for pause in idle_pauses(driver, args.poll_interval, args.idle_interval):
            time.sleep(pause)
    except KeyboardInterrupt:
        pass


def sqs_event(messages, queue_arn):
    """ReceiveMessage's messages as Lambda's SQS event records."""
    return {"Records": [{
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    } for message in messages]}


class QueueDriver:
    """One SQS event source: receive a batch, invoke the handler, delete the batch once the handler returns
    (an exception leaves it to come back after the visibility timeout, as in AWS)."""

    def __init__(self, handler, sqs, queue_url, batch_size=10, function_name="appointments-local-sign-in-codes"):
        self._handler = handler
        self._sqs = sqs
        self._url = queue_url
        self._batch_size = batch_size
        self._function_name = function_name
        self._arn = None

    def poll_once(self):
        if self._arn is None:
            self._arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
        messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=self._batch_size).get(
            "Messages", [])
        if not messages:
            return 0
        context = SimpleNamespace(aws_request_id=str(uuid.uuid4()), function_name=self._function_name)
        self._handler(sqs_event(messages, self._arn), context)
        self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
            {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]} for number, message in enumerate(messages)])
        return len(messages)

    def seconds_to_next_retry(self):
        return None


class WebhookQueueDriver:
    """The webhook queue's event source, as Lambda's SQS event source mapping runs it with ReportBatchItemFailures:
    receive a batch (with its attributes: the handler reads ApproximateReceiveCount and MessageGroupId), invoke the
    handler, delete only what it did not hand back in batchItemFailures (a handler that raises hands back all of
    it). A message handed back comes again when its visibility timeout, which the handler set, runs out; after
    maxReceiveCount receives the queue's redrive moves it to the dead-letter queue, and an ALARM line says so, as
    the alarm on that queue does in AWS.

    moto's SQS honours the FIFO queue's redrive (a message received maxReceiveCount times goes to the dead-letter
    queue on the next receive, as in AWS), ChangeMessageVisibility and message groups (a group with a message in
    flight gives none). Where it differs: it caps a message's visibility at 12 hours from when it was *sent*, where
    AWS allows 12 hours from each receive: here the schedule's two 10-hour waits (after attempts 6 and 7, the
    message then 7.6 hours old) are refused, and the message comes back after the queue's visibility timeout."""

    def __init__(self, handler, sqs, queue_url, dead_letter_url, *, batch_size=1, clock=time.monotonic, say=print,
                 dead_letter_every=DEAD_LETTER_CHECK_SECONDS, idle_every=WEBHOOK_IDLE_SECONDS,
                 function_name="appointments-local-webhooks"):
        self._handler = handler
        self._sqs = sqs
        self._url = queue_url
        self._dead_letter_url = dead_letter_url
        self._batch_size = batch_size
        self._clock = clock
        self._say = say
        self._dead_letter_every = dead_letter_every
        self._function_name = function_name
        self._arn = None
        self._dead_letters = 0  # how many the dead-letter queue held at the last look
        self._next_look = clock()
        self._idle_every = idle_every
        self._next_receive = clock()

    def poll_once(self):
        """Deliver one batch; the number of messages done (failed ones make the driver no busier)."""
        if self._arn is None:
            self._arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
        if self._clock() < self._next_receive:
            return 0
        messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=self._batch_size,
                                             AttributeNames=["All"]).get("Messages", [])
        self._next_receive = self._clock() + (0 if messages else self._idle_every)
        done = self._invoke(messages) if messages else []
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]} for number, message in enumerate(done)])
        self._look_at_dead_letters()
        return len(done)

    def _invoke(self, messages):
        context = SimpleNamespace(aws_request_id=str(uuid.uuid4()), function_name=self._function_name)
        try:
            response = self._handler(sqs_event(messages, self._arn), context) or {}
        except Exception as error:  # the whole batch comes back, as after a Lambda error
            self._say(f"{self._function_name}: {type(error).__name__}; the batch comes back", flush=True)
            return []
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        return [message for message in messages if message["MessageId"] not in failed]

    def _look_at_dead_letters(self):
        """An ALARM line per message new in the dead-letter queue (looked at every `dead_letter_every` seconds: the
        emulator at rest is asked little)."""
        if self._clock() < self._next_look:
            return
        self._next_look = self._clock() + self._dead_letter_every
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._dead_letter_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        count = sum(int(attributes.get(name, 0)) for name in (
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))
        for number in range(self._dead_letters + 1, count + 1):
            self._say(f"ALARM: a webhook delivery failed every attempt and went to the dead-letter queue "
                      f"({number} there now). Fix the receiver, then re-drive it.", flush=True)
        self._dead_letters = count

    def seconds_to_next_retry(self):
        return None


def scheduled_event(now=None, rule="local-schedule"):
    """An EventBridge scheduled event, as Lambda hands it to a scheduled function."""
    now = now or datetime.now(timezone.utc)
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
            "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"], "detail": {}}


class ScheduleDriver:
    """A scheduled function run every `every` seconds, as EventBridge runs it in AWS (every 15 minutes)."""

    def __init__(self, handler, every, function_name, clock=time.monotonic, say=print):
        self._handler = handler
        self._every = every
        self._function_name = function_name
        self._clock = clock
        self._say = say
        self._next = clock()

    def poll_once(self):
        if self._clock() < self._next:
            return 0
        self._next = self._clock() + self._every
        context = SimpleNamespace(aws_request_id=str(uuid.uuid4()), function_name=self._function_name)
        try:
            self._handler(scheduled_event(), context)
        except Exception as error:  # as in AWS: the run failed, and the next one goes on
            self._say(f"{self._function_name}: {type(error).__name__}; the next run tries again", flush=True)
        return 0  # not "busy": a schedule does not make the driver poll faster

    def seconds_to_next_retry(self):
        return max(0.0, self._next - self._clock())


class Consumers:
    """Several stream consumers polled in turn, each with its own positions and retries."""

    def __init__(self, drivers):
        self._drivers = drivers

    def poll_once(self):
        """Poll each consumer, even when one fails (the emulator restarting, say), then raise the first error."""
        handled, errors = 0, []
        for driver in self._drivers:
            try:
                handled += driver.poll_once()
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]
        return handled

    def seconds_to_next_retry(self):
        waits = [wait for wait in (driver.seconds_to_next_retry() for driver in self._drivers) if wait is not None]
        return min(waits, default=None)


def idle_pauses(driver, busy, idle, say=print):
    """Poll, and yield how long to sleep before the next poll: none after work (there may be
    more), then from `busy` doubling up to `idle` while nothing happens (4 calls a second to the
    emulator at rest instead of 16), but never past a pending retry, so it is retried on time."""
    pause = busy / 2
    while True:
        try:
            handled = driver.poll_once()
        except Exception as error:  # the emulator restarting, say: keep polling
            say(f"stream driver: {type(error).__name__}; retrying", flush=True)
            handled, pause = 0, idle
        if handled:
            pause = busy / 2
            yield 0
            continue
        pause = min(idle, pause * 2)
        retry = driver.seconds_to_next_retry()
        yield pause if retry is None else min(pause, retry)


if __name__ == "__main__":
    main()
