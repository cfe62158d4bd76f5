"""Every purpose's key, derived from the deployment's secret key in this one place.

The deployment has one secret (core.secret_key); nothing uses it directly. Each purpose gets its own key,
HMAC-SHA256 of the purpose's label under the secret, so a value made for one purpose (a form token, a
device cookie, a search hash) can never pass for another's, and one key's use reveals nothing of another's.
A new purpose adds a label here; tests/unit/test_keys.py checks that no two purposes share a key.

The labels of lookups, form tokens and device cookies are the ones those keys were derived with before this
module existed: the search hashes stored in requests keep matching, and tokens and cookies stay valid.
"""
import hashlib
import hmac

LABELS = {
    "request ids": b"request id",  # ids and dedupe keys of stored requests
    "form tokens": b"form token",  # intake.spam: when a form was served, and its nonce
    "lookups": b"lookup",  # core.lookup: the keyed hashes of a request's phone and e-mail
    "staff device cookies": b"staff device cookie",  # staff.devices: a browser that signed in before
    "staff sign-in words": b"staff sign-in words",  # staff.sign_in_words: which code in an e-mail is a browser's
    "confirmation cap": b"confirmation cap",  # notify.confirmations: an address's daily count, keyed
    "digest claims": b"digest claim",  # storage.digest_claims: an account's digest of the day, keyed
    "sign-in sources": b"staff sign-in source",  # staff.sign_in_sources: the network a code request came from
    "patient pages": b"patient page",  # core.patient_links: the link to a request's page, in every e-mail to the patient
    "patient answers": b"patient answer",  # the patient page's own signed field on its posts
    "thank-you references": b"thank-you reference",  # a plain post's 303: the thank-you page's short-lived ref
    "webhook secrets": b"webhook secret",  # webhooks.signing: each endpoint's signing secrets, from stored nonces
}


def purpose_key(secret, purpose):
    """The key for `purpose` (one of LABELS), from the deployment's secret key (bytes)."""
    return hmac.new(secret, LABELS[purpose], hashlib.sha256).digest()
