"""Device cookies: a browser's signed word that it signed in as an address before, one entry per address.

A browser that signed in as an address gets its codes for that address at once, counted by its device id, however
many strangers ask (signin.py). The `staff_device` cookie holds up to MAX_ENTRIES entries, dot-separated, newest
first, so that on a shared front-desk computer each person who signs in keeps their own. Each entry is a value of
core.signing's Signer (made and checked there, time-stamped, void after LIFETIME) over 40 bytes:

- a hash of the normalised address under the device cookies' key (16 bytes): the cookie names no address;
- the device's random id (16 bytes): what its codes are counted by. The browser cannot choose it, as it can
  choose its sign-in id, so one cookie never yields more than its own share;
- the account's generation (8 bytes): a hash of when the account was last disabled. Disabling an account voids
  every device entry of its for good, as it ends its sessions; enabling it again brings none back. The queue's
  consumer compares it with the account it reads anyway, so the request path reads nothing.

16 entries of 86 characters are about 1.4 KB, well inside a browser's 4 KB for a cookie. Cookies of the format
before this one (an id and a hex signature) read as no entry: such a browser asks as a stranger once, and its
next sign-in gives it an entry.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..core.signing import Signer

LIFETIME = timedelta(days=400)  # the most a browser keeps a cookie (Chrome caps Max-Age at 400 days)
MAX_ENTRIES = 16
_TAG, _DEVICE, _GENERATION = 16, 16, 8


@dataclass(frozen=True)
class DeviceClaim:
    """What a request carries to the queue's consumer when its browser holds an entry for the address (hex)."""
    device: str
    generation: str


@dataclass(frozen=True)
class _Entry:
    value: str
    made_at: object
    tag: bytes
    device: bytes
    generation: bytes


def generation(disabled_at):
    """The account's device generation (hex): it changes each time the account is disabled."""
    return hashlib.sha256(f"staff account disabled at {disabled_at or 'never'}".encode()).hexdigest()[:2 * _GENERATION]


def new_device_id():
    return secrets.token_bytes(_DEVICE)


class DeviceCookies:
    def __init__(self, key, *, make_device_id=new_device_id):
        self._key = key  # () -> bytes, read when first needed
        self._make_device_id = make_device_id

    def claim(self, value, address, now):
        """The DeviceClaim of the cookie's entry for `address` (normalised), or None."""
        entries = self._entries(value, now)
        tag = self._tag(address) if entries else None
        for entry in entries:
            if hmac.compare_digest(entry.tag, tag):
                return DeviceClaim(entry.device.hex(), entry.generation.hex())
        return None

    def add(self, value, address, disabled_at, now):
        """The cookie after signing in as `address`: its entry made afresh (same device id), first; the others kept,
        newest first, up to MAX_ENTRIES in all."""
        tag = self._tag(address)
        entries = self._entries(value, now)
        mine = next((entry for entry in entries if hmac.compare_digest(entry.tag, tag)), None)
        device = mine.device if mine else self._make_device_id()
        fresh = self._signer().sign(tag + device + bytes.fromhex(generation(disabled_at)), now)
        others = sorted((entry for entry in entries if entry is not mine), key=lambda entry: entry.made_at,
                        reverse=True)
        return ".".join([fresh] + [entry.value for entry in others][:MAX_ENTRIES - 1])

    def _entries(self, value, now):
        if not isinstance(value, str):
            return []
        signer, found = self._signer(), []
        for part in value.split(".")[:MAX_ENTRIES]:  # never more work than a cookie of ours can ask for
            signed = signer.read(part, now, LIFETIME)
            if signed is not None:
                payload = signed.payload
                found.append(_Entry(part, signed.made_at, payload[:_TAG], payload[_TAG:_TAG + _DEVICE],
                                    payload[_TAG + _DEVICE:]))
        return found

    def _tag(self, address):
        return hmac.new(self._key(), b"address " + address.encode("utf-8"), hashlib.sha256).digest()[:_TAG]

    def _signer(self):
        return Signer(self._key(), _TAG + _DEVICE + _GENERATION)
