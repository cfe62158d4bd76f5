"""What the service's own thank-you page says after a plain form post: when the clinic will get in touch, and
the link to the patient's page.

The post's 303 carries `ref`, a signed id of the request under a key of its own (core.keys), good for an hour:
THANK_YOU_URL may be the clinic's own site, whose logs or analytics see its query string, and a `ref` seen there
later opens nothing. Never anything the patient typed. The page reads the request again to say when.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..core.clock import utcnow
from ..core.patient_links import read_page_token

REFERENCE_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class Thanks:
    due_at: datetime
    page_url: str


class ThanksDetails:
    def __init__(self, repository, settings, reference_key, page_url, *, now=utcnow):
        self._repository = repository
        self._settings = settings
        self._reference_key = reference_key  # () -> the key of thank-you references
        self._page_url = page_url  # request id -> the patient's page
        self._now = now

    def read(self, ref):
        """Thanks for the request `ref` names, or None (no ref, a bad or old one, a request no longer there)."""
        request_id = read_page_token(self._reference_key(), ref, self._now(), REFERENCE_MAX_AGE) if ref else None
        request = self._repository.get(request_id) if request_id else None
        if request is None:
            return None
        # A suspected request's due time reads like any other's (the post's answer did the same).
        due = request.due_at or self._settings.due_at(request.location, request.created_at)
        return Thanks(due, self._page_url(request.id))
