"""Webhook endpoints, as admins manage them (the inbox's Webhooks page and `make webhook-*`).

An endpoint is an `https://` URL and the events it wants. Its secret is shown once, when the endpoint is added
and at each rotation; after a rotation the old secret still signs for ROTATION_OVERLAP, so that the receiver
can switch without losing a delivery. Disabling stops deliveries (what is queued is dropped at its turn);
a receiver answering 410 Gone disables its endpoint itself (webhooks.delivery).
"""
import ipaddress
import re
import secrets as random
import socket
from datetime import timedelta
from urllib.parse import urlsplit

from ..core.clock import parse_utc, utc_iso, utcnow
from ..core.errors import NotFound, ValidationFailed
from ..core.logs import get_logger
from ..storage.webhooks import Endpoint, SigningSecret
from .addresses import is_public
from .signing import endpoint_secret, new_nonce

log = get_logger(__name__)

EVENT_TYPES = (
    "appointment.requested", "appointment.status_changed", "visit.booked", "visit.changed", "visit.cancelled",
    "visit.change_requested", "visit.confirmed", "appointment.erased",
)
ROTATION_OVERLAP = timedelta(hours=24)
MAX_URL = 2048
LOOPBACK_HOSTS = ("localhost",)


def new_endpoint_id():
    return "ep_" + random.token_hex(8)


_ENDPOINT_ID = re.compile(r"^ep_[0-9a-f]{16}$")


def is_endpoint_id(value):
    """Whether `value` is an endpoint id at all: anything else (a URL path's 3,000 characters, say, past DynamoDB's
    2,048-byte key) is no endpoint, answered 404 without asking the table."""
    return isinstance(value, str) and bool(_ENDPOINT_ID.fullmatch(value))


def url_problem(url, loopback_allowed):
    """What is wrong with `url` as a webhook endpoint, in words an admin can act on; None when it will do."""
    if not isinstance(url, str) or not url.strip():
        return "Enter the receiver's URL (https://...)."
    url = url.strip()
    if len(url) > MAX_URL:
        return f"A URL has at most {MAX_URL} characters."
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "A URL has no spaces or control characters."
    try:
        url.encode("utf-8")  # a lone surrogate (bytes that were not UTF-8, from a command line) is no URL
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # UnicodeEncodeError among them
        return "This is not a URL. Enter one like https://example.com/hooks/clinic."
    if port == 0:
        return "This is not a URL: port 0 reaches nothing. Leave the port out for https's own (443)."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Enter a whole URL, starting with https://."
    if parts.username is not None or parts.password is not None:
        return "Put no user name or password in the URL: each delivery is signed instead."
    if parts.fragment:
        return "A URL sent to has no #fragment."
    loopback = _is_loopback(parts.hostname)
    if parts.scheme == "http" and not (loopback and loopback_allowed):
        return "Use https://. Plain http:// is only for a receiver on this computer under make run."
    if loopback and not loopback_allowed:
        return "This address is the service's own computer: use the receiver's public https:// URL."
    if not loopback_allowed and _is_private_literal(parts.hostname):
        return "This address is private: use the receiver's public https:// URL."
    return None


def _literal_address(host):
    """The IP address a host written as one names, in any form a resolver takes (127.1, 0x7f000001, 2130706433,
    a trailing dot); None for a name."""
    host = host.rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(ch in "0123456789abcdefx." for ch in host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _is_loopback(host):
    name = host.lower().rstrip(".")
    if name in LOOPBACK_HOSTS or name.endswith(".localhost"):  # RFC 6761: every *.localhost is this computer
        return True
    address = _literal_address(host)
    return address is not None and address.is_loopback


def _is_private_literal(host):
    address = _literal_address(host)
    return address is not None and not is_public(address)


def events_problem(events):
    if not events:
        return "Choose at least one event."
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        return f"Unknown event {unknown[0]!r}: choose from {', '.join(EVENT_TYPES)}."
    return None


class WebhookAdmin:
    def __init__(self, repository, settings, secret_key, *, now=utcnow, new_id=new_endpoint_id, nonce=new_nonce):
        self._repository = repository
        self._settings = settings
        self._secret_key = secret_key  # a callable: the "webhook secrets" key (bytes), derived when first needed
        self._now = now
        self._new_id = new_id
        self._nonce = nonce

    def add(self, url, events, actor):
        """A new endpoint and its secret (shown once). ValidationFailed names the field at fault."""
        events = tuple(dict.fromkeys(e.strip() for e in (events or ()) if isinstance(e, str) and e.strip()))
        fields = {name: problem for name, problem in (
            ("url", url_problem(url, self._settings.webhook_loopback)), ("events", events_problem(events)))
            if problem}
        if fields:
            raise ValidationFailed(fields)
        now = utc_iso(self._now())
        endpoint = Endpoint(id=self._new_id(), url=url.strip(), events=events, active=True, created_at=now,
                            created_by=actor, updated_at=now, secrets=(SigningSecret(self._nonce(), now),))
        secret = self._secret(endpoint.id, endpoint.secrets[0])  # first: no endpoint is stored without its secret shown
        self._repository.add(endpoint)
        log.info("webhook endpoint added", extra={"event": "webhook_endpoint_added", "endpoint_id": endpoint.id,
                                                  "actor": actor, "events": list(events)})
        return endpoint, secret

    def list(self):
        return self._repository.all()

    def get(self, endpoint_id):
        endpoint = self._repository.get(endpoint_id) if is_endpoint_id(endpoint_id) else None
        if endpoint is None:
            raise NotFound()
        return endpoint

    def rotate(self, endpoint_id, actor):
        """A new secret (shown once); the current one keeps signing for ROTATION_OVERLAP, older ones stop now."""
        endpoint = self.get(endpoint_id)
        now = self._now()
        fresh = SigningSecret(self._nonce(), utc_iso(now))
        current = endpoint.secrets[0] if endpoint.secrets else None
        kept = (fresh,) if current is None else (
            fresh, SigningSecret(current.nonce, current.created_at, utc_iso(now + ROTATION_OVERLAP)))
        if self._repository.set_secrets(endpoint.id, kept, utc_iso(now)) is None:
            raise NotFound()
        log.info("webhook secret rotated", extra={"event": "webhook_secret_rotated", "endpoint_id": endpoint.id,
                                                  "actor": actor})
        return self._secret(endpoint.id, fresh)

    def disable(self, endpoint_id, actor, reason="admin"):
        return self._set_active(endpoint_id, False, reason, actor)

    def enable(self, endpoint_id, actor):
        return self._set_active(endpoint_id, True, None, actor)

    def delete(self, endpoint_id, actor):
        if not is_endpoint_id(endpoint_id) or not self._repository.delete(endpoint_id):
            raise NotFound()
        log.info("webhook endpoint deleted", extra={"event": "webhook_endpoint_deleted", "endpoint_id": endpoint_id,
                                                    "actor": actor})

    def deliveries(self, endpoint_id, limit=20):
        return self._repository.deliveries(endpoint_id, limit)

    def signing_secrets(self, endpoint, now=None):
        """The secrets that sign a delivery to `endpoint` now: the newest, and a rotated-out one still in its overlap."""
        now = now or self._now()
        return [self._secret(endpoint.id, s) for s in endpoint.secrets
                if s.expires_at is None or parse_utc(s.expires_at) > now]

    def _set_active(self, endpoint_id, active, reason, actor):
        endpoint = self._repository.set_active(endpoint_id, active, reason, utc_iso(self._now())) \
            if is_endpoint_id(endpoint_id) else None
        if endpoint is None:
            raise NotFound()
        log.info("webhook endpoint " + ("enabled" if active else "disabled"), extra={
            "event": "webhook_endpoint_enabled" if active else "webhook_endpoint_disabled",
            "endpoint_id": endpoint.id, "actor": actor, "reason": reason})
        return endpoint

    def _secret(self, endpoint_id, secret):
        return endpoint_secret(self._secret_key(), endpoint_id, secret.nonce)
