"""Hand-written fakes of the adapters, so that the service's tests need no AWS at all."""
from datetime import timedelta

from chalicelib.errors import StorageUnavailable
from chalicelib.repository import Existing


def _existing(request):
    return Existing(request.id, request.dedupe_key, request.content_hash, request.created_at)


class FakeRepository:
    """Requests in a dict. `add` behaves like the conditional PutItem: it never overwrites."""

    def __init__(self):
        self.requests = {}
        self.calls = []

    def add(self, request):
        self.calls.append(("add", request.id))
        if request.id in self.requests:
            return _existing(self.requests[request.id])
        self.requests[request.id] = request
        return None

    def find(self, request_id):
        self.calls.append(("find", request_id))
        request = self.requests.get(request_id)
        return _existing(request) if request is not None else None


class UnavailableRepository:
    """Storage that is down or throttled: every call fails, nothing is kept."""

    def __init__(self):
        self.requests = {}

    def add(self, request):
        raise StorageUnavailable()

    def find(self, request_id):
        raise StorageUnavailable()


class Clock:
    """A clock the test moves by hand: `service(now=clock)`, then `clock.advance(minutes=11)`."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


class Ids:
    """Predictable ids for the service's `new_id=`: id-1, id-2, ..."""

    def __init__(self):
        self.issued = []

    def __call__(self):
        self.issued.append(f"id-{len(self.issued) + 1}")
        return self.issued[-1]
