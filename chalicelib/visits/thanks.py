"""What the service's own thank-you page says after a plain form post: when the clinic will get in touch, and
the link to the patient's page. The post's 303 carries the page's signed token (core.patient_links), never
anything the patient typed; the page reads the request again to say when."""
from dataclasses import dataclass
from datetime import datetime

from ..core.clock import utcnow
from ..core.patient_links import page_url, read_page_token


@dataclass(frozen=True)
class Thanks:
    due_at: datetime
    page_url: str


class ThanksDetails:
    def __init__(self, repository, settings, page_key, *, now=utcnow):
        self._repository = repository
        self._settings = settings
        self._page_key = page_key
        self._now = now

    def read(self, token):
        """Thanks for the request `token` names, or None (no token, a bad one, a request no longer there)."""
        request_id = read_page_token(self._page_key(), token, self._now()) if token else None
        request = self._repository.get(request_id) if request_id else None
        if request is None:
            return None
        # A suspected request's due time reads like any other's (the post's answer did the same).
        due = request.due_at or self._settings.due_at(request.location, request.created_at)
        return Thanks(due, page_url(self._settings, token))
