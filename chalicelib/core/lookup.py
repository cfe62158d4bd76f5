"""What staff can find a request by, without the plain values in any key or index.

A request keeps keyed hashes of its normalised phone number and e-mail address (HMAC-SHA256 under a key
derived from the deployment's secret key, for this use only), and the first characters of its reference
(an id: not personal). The indexes by_phone, by_email and by_ref hold those; a search hashes what was
typed the same way and looks it up: exact matches only, never a scan. Erasure rewrites the item without
them, so an erased request can no longer be found.
"""
import hashlib
import hmac

from .keys import purpose_key

REF_PREFIX = 8  # the characters of the reference that alert subjects show


def lookup_key(id_key):
    return purpose_key(id_key, "lookups")


def phone_hash(key, phone):
    """`phone` in E.164, as stored (an extension, " ext. 12", is not part of what is looked up)."""
    number = phone.split(" ext.")[0].strip()
    return hmac.new(key, b"phone:" + number.encode(), hashlib.sha256).hexdigest()


def email_hash(key, email):
    return hmac.new(key, b"email:" + email.strip().lower().encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def lookups(key, fields):
    """The hashes a request is stored with, from its validated fields."""
    found = {}
    if isinstance(fields.get("phone"), str) and fields["phone"]:
        found["phone_hash"] = phone_hash(key, fields["phone"])
    if isinstance(fields.get("email"), str) and fields["email"]:
        found["email_hash"] = email_hash(key, fields["email"])
    return found
