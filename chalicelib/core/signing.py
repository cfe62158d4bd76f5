"""Signed, time-stamped values: made and checked here, for every purpose that hands one out.

A value is base64url (no padding) of: the time it was made (milliseconds since the epoch, 8 bytes), the
payload, and the first 16 bytes of HMAC-SHA256 over both under the purpose's own key (core.keys). Reading one
checks its length, its signature in constant time, and its age: nothing forged, truncated, from the future or
out of date passes.

Why not itsdangerous, made for this: its timestamps count whole seconds, and the form's time trap tells 2.999
seconds from 3 (intake.spam); and the form's POST reads a token on every request, where each import is paid on
a cold start. The format is the one form tokens already had, so tokens served before this module still read.
"""
import base64
import binascii
import hashlib
import hmac
import string
from dataclasses import dataclass
from datetime import datetime, timezone

_TIME_BYTES, _SIGNATURE_BYTES = 8, 16
_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass(frozen=True)
class Signed:
    made_at: datetime
    payload: bytes


class Signer:
    def __init__(self, key, payload_bytes):
        """`key`: this purpose's key; `payload_bytes`: the one length its payloads have."""
        self._key = key
        self._payload_bytes = payload_bytes
        raw_bytes = _TIME_BYTES + payload_bytes + _SIGNATURE_BYTES
        self.length = (raw_bytes * 8 + 5) // 6  # characters of base64url without padding

    def sign(self, payload, now):
        """The signed value of `payload` (bytes of the purpose's length), made at `now` (an aware datetime)."""
        if len(payload) != self._payload_bytes:
            raise ValueError(f"a payload here has {self._payload_bytes} bytes, not {len(payload)}")
        body = int(now.timestamp() * 1000).to_bytes(_TIME_BYTES, "big") + payload
        return base64.urlsafe_b64encode(body + self._mac(body)).decode("ascii").rstrip("=")

    def read(self, value, now, max_age):
        """The Signed value, or None for anything forged, malformed, from the future or older than `max_age`."""
        if not isinstance(value, str) or len(value) != self.length or not set(value) <= _ALPHABET:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return None
        body, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
        if len(body) != _TIME_BYTES + self._payload_bytes or not hmac.compare_digest(signature, self._mac(body)):
            return None
        made_at = datetime.fromtimestamp(int.from_bytes(body[:_TIME_BYTES], "big") / 1000, tz=timezone.utc)
        if made_at > now or now - made_at > max_age:
            return None
        return Signed(made_at, body[_TIME_BYTES:])

    def _mac(self, body):
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
