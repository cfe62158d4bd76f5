"""Overdue requests escalated once: per location, one SNS message naming them by reference and link.

A scheduled function (every 15 minutes in AWS; about every 30 s under `make run`) runs `Escalation.run`.
It claims each overdue request before publishing (storage/due.py), so a retried or overlapping run never
escalates one twice; a message SNS does not take releases its claims for the next run. The message holds
references, links and how late each is: nothing about the patient. `event` = `appointment.overdue` and
`location` let a clinic route escalations to a manager with an SNS filter policy.
"""
import json
from collections import defaultdict
from datetime import datetime

from ..core.clock import utc_iso, utcnow
from ..core.errors import AlertNotSent
from ..core.hours import waited_in_words
from ..core.logs import get_logger
from .alerts import Alert, inbox_link, to_ascii

log = get_logger(__name__)

EVENT = "appointment.overdue"
LISTED = 50  # per message; a link to the inbox's Overdue filter covers the rest


def compose_escalation(location, overdue, settings, now):
    """The message for one location's overdue requests (a list of storage.due.Waiting)."""
    name = " ".join(settings.locations.get(location, location).split())
    count = len(overdue)
    what = "1 appointment request is" if count == 1 else f"{count} appointment requests are"
    lines = [f"{what} past the time {name} promised to get in touch, and still new:", ""]
    for waiting in overdue[:LISTED]:
        late = waited_in_words(now - datetime.fromisoformat(waiting.due_at.replace("Z", "+00:00")))
        lines.append(f"- ref {waiting.id[:8]}, overdue by {late}: {inbox_link(waiting.id, settings)}")
    if count > LISTED:
        lines.append(f"- and {count - LISTED} more")
    lines += ["", f"All overdue requests here: {settings.public_base_url}/staff/?overdue=true&location={location}"]
    body = "\n".join(lines) + "\n"
    short = f"{what} overdue at {name}: {settings.public_base_url}/staff/?overdue=true&location={location}"
    subject = f"Overdue appointment requests - {to_ascii(name)[:40].strip() or location} ({count})"
    return Alert(
        subject=subject,
        message=json.dumps({"default": body, "email": body, "sms": short}, ensure_ascii=False),
        attributes={
            "location": {"DataType": "String", "StringValue": location},
            "event": {"DataType": "String", "StringValue": EVENT},
        },
    )


class Escalation:
    def __init__(self, repository, publisher, settings, *, now=utcnow):
        self._repository = repository
        self._publisher = publisher
        self._settings = settings
        self._now = now

    def run(self):
        """Escalate what is overdue now; {location: how many}. Raises AlertNotSent when a message could not be
        sent (its requests are released for the next run)."""
        now = self._now()
        at = utc_iso(now)
        by_location = defaultdict(list)
        for waiting in self._repository.overdue(at):
            if self._repository.claim(waiting.id, at):
                by_location[waiting.location].append(waiting)
        failed = None
        for location, overdue in by_location.items():
            try:
                self._publisher.publish(compose_escalation(location, overdue, self._settings, now))
            except AlertNotSent as error:
                for waiting in overdue:
                    self._repository.release(waiting.id, at)
                log.warning("escalation failed", extra={"event": "escalation_failed", "location": location,
                                                        "reason": str(error)})
                failed = failed or error
                continue
            log.info("overdue escalated", extra={
                "event": "escalated", "location": location, "appointment_ids": [w.id for w in overdue],
                # Embedded metric format: CloudWatch makes this line a metric, without an API call.
                "_aws": {"Timestamp": int(now.timestamp() * 1000), "CloudWatchMetrics": [{
                    "Namespace": "AppointmentRequests", "Dimensions": [["table", "location"], ["table"]],
                    "Metrics": [{"Name": "OverdueEscalated", "Unit": "Count"}]}]},
                "table": self._settings.table_name, "OverdueEscalated": len(overdue),
            })
        if failed:
            raise failed
        return {location: len(overdue) for location, overdue in by_location.items()}
