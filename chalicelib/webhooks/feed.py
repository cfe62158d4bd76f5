"""The webhook feed: from the table's stream to the webhook queue, the request item's history as the outbox.

It runs in the alert consumer (StreamConsumers, after the alerts). For a stream record of a request item it reads
the item as it is now and queues the events of the units not yet told (webhooks.events), one SQS message per event
and endpoint that wants it, in order; then it moves the item's `event_units` mark on (storage.webhook_marks). A
record that failed, in the queue or in the mark, is retried: the events' ids are the same the second time, so
SQS's deduplication (five minutes) and then the receiver drop the copy. What was queued here but could not be
marked is remembered in the process (notify.delivery.Unmarked), so that a retry here only marks it.

An endpoint hears of the changes made after it was added, never of older ones: otherwise an endpoint added to a
busy clinic would get, at each request's next change, everything that request went through before. The
endpoint list (one Query) is kept ENDPOINTS_TTL, and read again sooner when a change in hand may be newer than
the list, so that an endpoint misses nothing made after it existed. With no endpoint at all the feed reads no
item and marks nothing (a later endpoint is not told of what happened before it anyway): it costs the list, at
most once a batch. A disabled endpoint still counts as one: what happens while it is disabled is marked, and
enabling it again sends none of it. A record of a change that tells nothing (a consumer's mark, suspected spam)
costs one GetItem and no write.
"""
from datetime import timedelta, timezone

from ..core.clock import parse_utc, utcnow
from ..core.errors import StorageUnavailable
from ..core.logs import get_logger
from ..notify.delivery import Unmarked, each_record
from ..storage.appointments import stream_key
from ..storage.webhook_queue import Delivery
from .events import erasure, events_from, unit_count

log = get_logger(__name__)

ENDPOINTS_TTL = timedelta(seconds=30)
# A stream record's time is rounded down to the second; and the change's time (the API's clock) and the list's
# (this function's clock, and the index the list is read from, a moment behind its table) may differ a little.
STREAM_TIME_ROUNDING = timedelta(seconds=1)
CLOCK_MARGIN = timedelta(seconds=1)


class Endpoints:
    """Every webhook endpoint, read with one Query (WebhookRepository.all) and kept for a while.

    The list is good for a change when it was read after the change (read since the batch in hand began, whose
    records were all written before; or later than the change's time with a margin) and less than `ttl` ago;
    else it is read again. So an endpoint added just before a change hears of it, and a quiet stream costs one
    Query a batch at most, however many records it carries."""

    def __init__(self, repository, *, ttl=ENDPOINTS_TTL, now=utcnow):
        self._repository = repository
        self._ttl = ttl
        self._now = now
        self._endpoints = []
        self._read_at = None
        self._batch_began = None

    def begin_batch(self):
        self._batch_began = self._now()

    def any_for(self, changed_at):
        """Whether any endpoint (active or not) may have to hear of a change at `changed_at`."""
        if self._endpoints and self._recent():
            return True
        return bool(self.for_change(changed_at))

    def for_change(self, changed_at):
        """The endpoints as they were at least when `changed_at` happened."""
        if not (self._recent() and (self._read_since_batch() or self._read_at > changed_at + CLOCK_MARGIN)):
            self._endpoints = self._repository.all()
            self._read_at = self._now()
        return self._endpoints

    def _recent(self):
        return self._read_at is not None and self._now() - self._read_at < self._ttl

    def _read_since_batch(self):
        return self._batch_began is not None and self._read_at >= self._batch_began


class WebhookFeed:
    def __init__(self, marks, endpoints, queue, settings):
        self._marks = marks  # storage.webhook_marks.WebhookMarks
        self._endpoints = endpoints  # Endpoints
        self._queue = queue  # storage.webhook_queue.WebhookQueue
        self._settings = settings
        self._unmarked = Unmarked()
        self._queue_failed = False

    def deliver(self, records):
        """Handle stream records; return the sequence numbers of those that must be retried."""
        self._endpoints.begin_batch()
        # Once SQS has failed in a batch, the batch's later records that have something to queue fail at once:
        # they are retried with it, and the function does not spend its time on SQS's timeouts.
        self._queue_failed = False
        return each_record(records, self._handle, "webhook_event")

    def _handle(self, record):
        kind, request_id, _ = stream_key(record.keys)
        # A REMOVE is the table's TTL (or a tombstone's end): nothing happened that a receiver could be told.
        if kind != "request" or record.event_name not in ("INSERT", "MODIFY"):
            return
        if not self._endpoints.any_for(_record_time(record)):
            return  # nobody to tell: no read, no mark
        item = self._marks.read(request_id)
        if item is None:
            return
        if item.record.erased:
            self._erased(item)
        else:
            self._changed(item)

    def _changed(self, item):
        record = item.record
        total = unit_count(record)
        if item.units >= total:
            return  # nothing new: a consumer's mark, or a record handled before
        done = max(item.units, self._unmarked.get(record.id) or 0)
        events = events_from(record, done, self._settings)
        if not events and done == item.units:
            # Units that tell nothing (suspected spam) need no mark: worked out again, they still tell nothing. So
            # a flood of spam costs no write, and no stream record of its own.
            return
        self._queue_events(record.id, events)
        self._mark(record.id, record.id, total, lambda: self._marks.mark_units(record.id, total))

    def _erased(self, item):
        if item.erased_event:
            return
        event = erasure(item.record)
        if event is None:
            return  # never told of: its erasure is not told either
        key = (item.record.id, "erased")
        if not self._unmarked.get(key):
            self._queue_events(item.record.id, [event])
        self._mark(item.record.id, key, True, lambda: self._marks.mark_erased(item.record.id))

    def _queue_events(self, request_id, events):
        if not events:
            return
        endpoints = self._endpoints.for_change(max(parse_utc(event.timestamp) for event in events))
        deliveries = [Delivery(endpoint.id, event.id, event.type, request_id, event.payload)
                      for event in events for endpoint in endpoints
                      if endpoint.wants(event.type) and parse_utc(endpoint.created_at) <= parse_utc(event.timestamp)]
        if not deliveries:
            return
        if self._queue_failed:
            raise StorageUnavailable()
        try:
            self._queue.put(deliveries)
        except StorageUnavailable:
            self._queue_failed = True
            raise
        log.info("webhook events queued", extra={
            "event": "webhook_events_queued", "appointment_id": request_id,
            "event_ids": [event.id for event in events], "deliveries": len(deliveries)})

    def _mark(self, request_id, key, value, mark):
        try:
            mark()  # False: erased or marked meanwhile; either way, nothing is left to do here
        except StorageUnavailable:
            # Queued, not marked: the record is retried, and this process then marks it without queuing again.
            self._unmarked.remember(key, value)
            log.warning("webhook events queued but not marked", extra={"event": "webhook_mark_failed",
                                                                        "appointment_id": request_id})
            raise
        self._unmarked.forget(key)


def _record_time(record):
    """When the record's change happened, at the latest (its stream time, rounded down to the second, is naive UTC)."""
    return record.timestamp.replace(tzinfo=timezone.utc) + STREAM_TIME_ROUNDING


class StreamConsumers:
    """The consumers that share the alert function's reading of the stream (DynamoDB Streams serves two readers a
    shard; the mail consumer is the other): staff alerts first, over the whole batch, then the webhook feed, so
    that nothing the feed waits for (SQS, its timeouts) ever holds up an alert. A record that failed in either is
    retried for both: each is a no-op for what it has already done."""

    def __init__(self, *consumers):
        self._consumers = consumers

    def deliver(self, records):
        records = list(records)
        failed = []
        for consumer in self._consumers:
            failed += consumer.deliver(records)
        return list(dict.fromkeys(failed))
