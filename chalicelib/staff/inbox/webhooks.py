"""The webhooks pages (admins only): the endpoints, one endpoint with its last deliveries, a new secret shown once,
and the step that confirms a deletion.

The endpoints and deliveries come as the webhooks service returns them (storage.webhooks' Endpoint and Delivery,
read by their attributes); the event types as wiring passes them (webhooks.endpoints.EVENT_TYPES), so that this
package need not import the layer above it. A secret appears on the page that answers the post which made it,
and on no other: never in a URL, a redirect or a list.
"""
from urllib.parse import quote

from ...core.clock import parse_utc
from .common import moment, problems, render, url, utcnow

WEBHOOK_FIELDS = ("url", "events")
# What each event tells the receiver, in the words the add form puts beside its name.
EVENT_WORDS = {
    "appointment.requested": "A request came in (one held as possible spam: once released)",
    "appointment.status_changed": "A request's status changed: contacted, closed, possible spam and so on",
    "visit.booked": "A visit was booked",
    "visit.changed": "A booked visit moved to another time",
    "visit.cancelled": "A visit was cancelled, by staff or by the patient",
    "visit.change_requested": "The patient asked for another time",
    "visit.confirmed": "The patient said they will be there",
    "appointment.erased": "A request was erased",
}
# What became of a delivery attempt (webhooks.delivery records it), in words.
OUTCOME_WORDS = {
    "delivered": "Delivered",
    "failed": "Failed (tried again later)",
    "gone": "410 Gone: endpoint disabled",
    "refused": "Refused: not a public address",
    "redirected": "Redirect, not followed",
}
DONE = {
    "disabled": "Disabled: nothing more is sent to this endpoint until it is enabled again.",
    "enabled": "Enabled: the next events are sent to this endpoint.",
}
DELETED = "The endpoint was deleted. Its delivery history is no longer shown and expires within 30 days."


def webhooks_page(base, staff, endpoints, event_types, zone, loopback=False, form=None, fields=None, notice=None):
    """The endpoints and the add form; `form` ({"url", "events"}) and `fields` (problems) after a refused add."""
    fields = fields or {}
    form = form or {"url": "", "events": list(event_types)}  # a new endpoint wants every event unless unticked
    events = [{"name": name, "id": "event-" + name.replace(".", "-"), "words": EVENT_WORDS.get(name, ""),
               "checked": name in form.get("events", ())} for name in event_types]
    # The summary's link to the events goes to the first box, as a link to a group of checkboxes should.
    first_box = events[0]["id"] if events else None
    return render(
        "webhooks.html", base, "Webhooks", staff,
        notice=notice,
        problems=[(first_box if field == "webhook-events" else field, text)
                  for field, text in problems(fields, WEBHOOK_FIELDS, "webhook-")],
        rows=[_row(base, endpoint, zone) for endpoint in endpoints],
        action=url(base, "webhooks"),
        errors={name: fields.get(name) for name in WEBHOOK_FIELDS},
        typed_url=form.get("url", ""),
        events=events,
        loopback=loopback,
    )


def webhook_page(base, staff, endpoint, deliveries, zone, notice=None, now=None):
    """One endpoint: what it is, its secrets' state, its last deliveries, and what an admin can do with it."""
    now = now or utcnow()
    current, previous = _secrets(endpoint, now)
    return render(
        "webhook.html", base, "Webhook endpoint", staff,
        notice=notice,
        back=url(base, "webhooks"),
        endpoint=_row(base, endpoint, zone),
        updated=moment(endpoint.updated_at, zone),
        secret_made=moment(current.created_at, zone) if current else None,
        previous_until=moment(previous.expires_at, zone) if previous else None,
        deliveries=[_delivery(delivery, zone) for delivery in deliveries],
        rotate=endpoint_url(base, endpoint.id, "rotate"),
        switch=endpoint_url(base, endpoint.id, "disable" if endpoint.active else "enable"),
        delete=endpoint_url(base, endpoint.id, "delete"),
    )


def webhook_secret_page(base, staff, endpoint, secret, zone, rotated=False, now=None):
    """The answer to an add or a rotation: the new secret, this once. `rotated`: the old one's end is shown."""
    previous = _secrets(endpoint, now or utcnow())[1] if rotated else None
    return render(
        "webhook-secret.html", base, "New signing secret" if rotated else "Webhook endpoint added", staff,
        rotated=rotated,
        endpoint=_row(base, endpoint, zone),
        secret=secret,
        previous_until=moment(previous.expires_at, zone) if previous else None,
        back=url(base, "webhooks"),
    )


def webhook_delete_page(base, staff, endpoint, zone):
    return render(
        "webhook-delete.html", base, "Delete this webhook endpoint?", staff,
        endpoint=_row(base, endpoint, zone),
        action=endpoint_url(base, endpoint.id, "delete"),
    )


def endpoint_url(base, endpoint_id, action=""):
    """An endpoint's page, or one of its actions ("rotate", "disable", "enable", "delete"): by its id only."""
    return url(base, f"webhooks/{quote(str(endpoint_id), safe='')}" + (f"/{action}" if action else ""))


def state_words(endpoint):
    if endpoint.active:
        return "Active"
    if endpoint.disabled_reason == "gone":
        return "Disabled: the receiver answered 410 Gone"
    return "Disabled by an admin"


def _row(base, endpoint, zone):
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "state": state_words(endpoint),
        "created": moment(endpoint.created_at, zone),
        "created_by": endpoint.created_by,
        "link": endpoint_url(base, endpoint.id),
    }


def _secrets(endpoint, now):
    """(the current secret, the rotated-out one while it still signs, else None)."""
    secrets = list(endpoint.secrets)
    current = secrets[0] if secrets else None
    previous = [s for s in secrets[1:] if s.expires_at and parse_utc(s.expires_at) > now]
    return current, previous[0] if previous else None


def _delivery(delivery, zone):
    return {
        "at": moment(delivery.at, zone),
        "event_type": delivery.event_type,
        "event_id": delivery.event_id,
        "attempt": delivery.attempt,
        "status": delivery.status,
        "outcome": OUTCOME_WORDS.get(delivery.outcome, delivery.outcome.replace("_", " ").capitalize()),
        "delivered": delivery.outcome == "delivered",
        "latency": f"{delivery.latency_ms:,}\u00a0ms" if delivery.latency_ms is not None else None,
    }
