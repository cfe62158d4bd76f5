"""Standard Webhooks signatures (https://www.standardwebhooks.com): `v1,` HMAC-SHA256 of "id.timestamp.body".

An endpoint's secret is never stored: it is HMAC-SHA256 of the endpoint's id and a random nonce under the
"webhook secrets" key (core.keys), so the table alone signs nothing, and it is shown once, when made. It reads
`whsec_` + base64, as the spec's libraries expect.
"""
import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_nonce():
    return secrets.token_urlsafe(18)


def endpoint_secret(key, endpoint_id, nonce):
    """The secret (whsec_...) of one of an endpoint's nonces, under the "webhook secrets" key (bytes)."""
    raw = hmac.new(key, f"{endpoint_id}:{nonce}".encode(), hashlib.sha256).digest()
    return PREFIX + base64.b64encode(raw).decode("ascii")


def signature(secret, message_id, timestamp, body):
    """One `v1,...` signature of `body` (bytes) sent as `message_id` at `timestamp` (epoch seconds)."""
    raw = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{int(timestamp)}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(raw, signed, hashlib.sha256).digest()).decode("ascii")


def headers(secrets_, message_id, timestamp, body):
    """The three Standard Webhooks headers, signed by every current secret (two during a rotation)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_),
    }
