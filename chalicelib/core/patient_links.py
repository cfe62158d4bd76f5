"""The patient's page link: a signed token naming the request, and nothing else (core.signing).

The token carries the request's id (its 15 random or keyed bytes, never anything the patient typed) and when
it was made. It does not expire by itself: how long a page stays open depends on the request (30 days past its
visit, 90 past the request without one), so the page judges that against the record.
"""
import base64
import binascii
from datetime import timedelta

from ..core.signing import Signer

ID_BYTES = 15  # intake.service: an id is the base32 of 15 bytes
# Long enough for any request the page can still open; the record decides the rest.
TOKEN_MAX_AGE = timedelta(days=3650)


def _signer(key):
    return Signer(key, ID_BYTES)


def page_token(key, request_id, now):
    """The token of `request_id`'s page; ValueError for an id the service never makes."""
    try:
        raw = base64.b32decode(request_id.upper())
    except (binascii.Error, ValueError, AttributeError):
        raise ValueError("not a request id") from None
    if len(raw) != ID_BYTES or base64.b32encode(raw).decode().lower() != request_id:
        raise ValueError("not a request id")
    return _signer(key).sign(raw, now)


def read_page_token(key, token, now, max_age=TOKEN_MAX_AGE):
    """The request id a token names, or None for anything forged, truncated, malformed or older than `max_age`."""
    signed = _signer(key).read(token, now, max_age)
    return None if signed is None else base64.b32encode(signed.payload).decode().lower()


def page_url(settings, token):
    return f"{settings.public_base_url}/r/{token}"
