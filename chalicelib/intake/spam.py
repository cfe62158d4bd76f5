"""Telling people from bots, without a third party and without JavaScript: form tokens and the rules.

Every form the service serves carries a form token: when it was issued (milliseconds) and a random
nonce, signed with a key derived from the deployment's secret key. Each rule below yields a reason
code, never a score, and staff see the reasons in words. A suspected request is stored all the
same (status `suspected_spam`): nothing a person sends is lost, and the answer is a success's.

- `honeypot`: the hidden field people never see is filled in.
- `token_invalid`: a token that is empty, malformed, signed with another key, from the future, or
  older than FORM_TOKEN_MAX_AGE_HOURS.
- `too_fast`: sent less than MIN_FILL_SECONDS after its token was issued.
- `token_reused`: a token already spent on a request with other content (the service finds that
  out from the one conditional write it makes anyway; the same content again is a replay).
- `links`: two or more web addresses (http:// or https:// and a host, or www. and a domain) in the fields a
  person types, or one in a request without a token.
- `no_token`: no token at all, only when FORM_TOKENS=required.
- `staff`: a staff member marked the request as spam (the inbox, not these rules).
"""
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from ..core.keys import purpose_key
from ..core.signing import Signer

REASONS = ("honeypot", "token_invalid", "too_fast", "token_reused", "links", "no_token", "staff", "not_me")
_NONCE_BYTES = 16
TOKEN_LENGTH = Signer(b"", _NONCE_BYTES).length  # 54: base64url of the time, the nonce and the signature
# A web address: a scheme and a host, or "www." at the start of a word followed by a domain (labels, dots, a
# top-level name of letters). "Owww… Owww." or "www." alone is a word, not an address.
_LINK = re.compile(r"\bhttps?://[^\W_][^\s/?#]*|(?<![\w.])www\.(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])",
                   re.IGNORECASE)
# The fields a person types freely (choices, dates, the phone and the address cannot hold a link).
TYPED_FIELDS = ("first_name", "last_name", "insurance", "message")


def token_key(id_key):
    """The key that signs form tokens (core.keys)."""
    return purpose_key(id_key, "form tokens")


def issue_token(key, now, nonce=None):
    """A fresh form token issued at `now` (an aware datetime): a random nonce, signed with its time (core.signing)."""
    return Signer(key, _NONCE_BYTES).sign(nonce if nonce is not None else secrets.token_bytes(_NONCE_BYTES), now)


@dataclass(frozen=True)
class TokenRead:
    valid: bool
    issued_at: Optional[datetime] = None
    nonce: Optional[str] = None  # hex: what a request's dedupe key is made of when its token is valid


def read_token(key, token, now, max_age):
    """What a form token says, checked: TokenRead(valid=False) for anything forged, malformed or out of date."""
    signed = Signer(key, _NONCE_BYTES).read(token, now, max_age)
    return TokenRead(False) if signed is None else TokenRead(True, signed.made_at, signed.payload.hex())


def count_links(fields):
    return sum(len(_LINK.findall(value)) for name in TYPED_FIELDS
               if isinstance(value := fields.get(name), str))


@dataclass(frozen=True)
class Verdict:
    reasons: tuple  # in the order of REASONS; empty: nothing suspicious
    fill_ms: Optional[int] = None  # from the token's issue to the request, when the token was valid
    links: int = 0

    @property
    def suspected(self):
        return bool(self.reasons)

    def signals(self):
        """What staff are shown beside the reasons (numbers only, nothing the sender typed)."""
        found = {"links": self.links} if self.links else {}
        if self.fill_ms is not None:
            found["fill_ms"] = self.fill_ms
        return found

    def with_reason(self, reason):
        return Verdict(tuple(r for r in REASONS if r in self.reasons or r == reason), self.fill_ms, self.links)


def judge(*, honeypot, token, read, now, fields, min_fill, tokens_required):
    """The reasons to suspect a request. `token` is what was sent (None: no token at all); `read` its TokenRead."""
    reasons = set()
    if honeypot:
        reasons.add("honeypot")
    fill_ms = None
    if token is not None and not read.valid:
        reasons.add("token_invalid")
    elif token is not None:
        fill_ms = int((now - read.issued_at) / timedelta(milliseconds=1))
        if fill_ms < min_fill * 1000:
            reasons.add("too_fast")
    if token is None and tokens_required:
        reasons.add("no_token")
    links = count_links(fields)
    if links >= 2 or (links == 1 and token is None):
        reasons.add("links")
    return Verdict(tuple(r for r in REASONS if r in reasons), fill_ms, links)


REASON_WORDS = {
    "honeypot": "a field that people cannot see was filled in",
    "token_invalid": "its form token was forged, malformed or out of date",
    "too_fast": "sent too soon after the page was served",
    "token_reused": "its form token had already been used for another request",
    "links": "web addresses in the text",
    "no_token": "sent without a form token",
    "staff": "marked as spam by staff",
    "not_me": "the patient said on their page that they did not send it",
}


def reason_words(reason, signals):
    """One reason in words for staff, with its figures: "sent 1.2 seconds after the page was served"."""
    if reason == "too_fast" and "fill_ms" in signals:
        return f"sent {int(signals['fill_ms']) / 1000:.1f} seconds after the page was served"
    if reason == "links" and signals.get("links"):
        count = int(signals["links"])
        return "1 web address, and no form token" if count == 1 else f"{count} web addresses in the text"
    return REASON_WORDS.get(reason, reason)
