"""What a search for a request means: a reference, a phone number or an e-mail address, each looked up
exactly through an index (core.lookup), never by reading the table."""
import re
from dataclasses import dataclass
from typing import Optional

from ..core.lookup import REF_PREFIX, email_hash, phone_hash

MAX_QUERY = 254  # the longest e-mail address
_REFERENCE = re.compile(r"^[a-z2-7]{%d}([a-z2-7]{%d})?$" % (REF_PREFIX, 24 - REF_PREFIX))


@dataclass(frozen=True)
class Lookup:
    index: str
    key_name: str
    value: str
    exact_id: Optional[str] = None  # a whole reference: only the request with this id


def lookups(q, key, phone_region):
    """The index look-ups a search stands for (none for text that is none of the three)."""
    import phonenumbers

    text = q.strip()
    if "@" in text:
        return [Lookup("by_email", "email_hash", email_hash(key, text))]
    found = []
    reference = text.lower()
    if _REFERENCE.match(reference):
        found.append(Lookup("by_ref", "ref_prefix", reference[:REF_PREFIX],
                            reference if len(reference) > REF_PREFIX else None))
    if sum(char.isdigit() for char in text) >= 7:
        try:
            number = phonenumbers.parse(text, phone_region)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_possible_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            found.append(Lookup("by_phone", "phone_hash", phone_hash(key, e164)))
    return found
