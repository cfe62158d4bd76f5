"""Fault injection at botocore's HTTP layer, for the local stack's API and stream processes only.

    APPOINTMENTS_FAULTS='{"seed": 7, "rate": 0.3, "limit": 150, "log": "faults.jsonl", "outages": {"SendEmail": 12}}'
    APPOINTMENTS_FAULTS='{"seed": 7, "rates": {"reset": 0.15, "server_error": 0.1, "lost": 0.1, "throttled": 0.25}}'

With that variable set, every botocore client made in the process gets a `before-send` hook
that, for the handlers' own calls (OPERATIONS), fails a seeded share of them (`rate`, split
evenly among the kinds, or a share per kind in `rates`), at most `limit` times in all (no limit
when it is null), in one of these ways:

- `throttled`: the service's own throttling answer (HTTP 400; 429 for SES), never sent;
- `server_error`: an HTTP 500 internal failure, never sent;
- `reset`: the connection closes before the request is sent;
- `lost`: the request is sent and AWS acts on it, then the answer is lost on its way back.

`outages` adds an outage before all that: the first N calls of an operation each get a 500
(`server_error`), beyond `limit`, long enough to outlast botocore's own retries. Each fault is
appended to `log` as one JSON line (process, operation, kind, time), so a test can tell which
duplicates a lost answer explains, and when the faults came. Without the variable nothing is installed.
"""
import json
import os
import random
import threading
import time

ENV = "APPOINTMENTS_FAULTS"
OPERATIONS = {"PutItem", "GetItem", "UpdateItem", "Query", "Publish", "SendEmail", "GetSecretValue", "TransactWriteItems",
              "CheckIfPhoneNumberIsOptedOut", "SendMessageBatch"}
# Not ChangeMessageVisibility: a webhook delivery whose next try could not be set comes back after the queue's
# visibility timeout (6 minutes), longer than a test waits; tests/unit/test_webhook_delivery.py covers it.
KINDS = ("throttled", "server_error", "reset", "lost")

# Keyed by the service's id in botocore's event names (`before-send.secrets-manager.GetSecretValue`).
_THROTTLED = {
    "dynamodb": (400, {"Content-Type": "application/x-amz-json-1.0"},
                 b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}'),
    "sns": (400, {"Content-Type": "text/xml"},
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            b"</Error><RequestId>fault</RequestId></ErrorResponse>"),
    "sesv2": (429, {"Content-Type": "application/json", "x-amzn-ErrorType": "TooManyRequestsException"},
              b'{"message":"Maximum sending rate exceeded."}'),
    "secrets-manager": (400, {"Content-Type": "application/x-amz-json-1.1"},
                        b'{"__type":"ThrottlingException","message":"Rate exceeded"}'),
    # SQS speaks JSON now; its throttling code is RequestThrottled (the webhook queue's calls).
    "sqs": (400, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-error": "RequestThrottled;Sender"},
            b'{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Rate exceeded"}'),
}
_SERVER_ERROR = {
    "dynamodb": (500, {"Content-Type": "application/x-amz-json-1.0"},
                 b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal error"}'),
    "sns": (500, {"Content-Type": "text/xml"},
            b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>Internal error"
            b"</Message></Error><RequestId>fault</RequestId></ErrorResponse>"),
    "sesv2": (500, {"Content-Type": "application/json", "x-amzn-ErrorType": "InternalFailure"},
              b'{"message":"Internal error"}'),
    "secrets-manager": (500, {"Content-Type": "application/x-amz-json-1.1"},
                        b'{"__type":"InternalServiceError","message":"Internal error"}'),
    "sqs": (500, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-error": "InternalError;Receiver"},
            b'{"__type":"com.amazonaws.sqs#InternalError","message":"Internal error"}'),
}


class FaultPlan:
    def __init__(self, process, seed=0, rate=0.2, limit=100, log=None, kinds=KINDS, outages=None, rates=None):
        self.process = process
        self.outages = dict(outages or {})  # operation -> calls still to fail
        self.rates = dict(rates) if rates else {kind: rate / len(kinds) for kind in kinds}
        if set(self.rates) - set(KINDS) or sum(self.rates.values()) > 1:
            raise ValueError(f"rates: kinds among {KINDS}, adding up to 1 at most")
        self.limit = limit
        self.log = log
        self.injected = 0
        self._random = random.Random(f"{seed}:{process}")
        self._lock = threading.Lock()

    def choose(self, operation):
        """The kind of fault for this call, or None to let it through."""
        if operation not in OPERATIONS:
            return None
        with self._lock:
            if self.outages.get(operation, 0) > 0:
                self.outages[operation] -= 1
                kind = "server_error"
            else:
                if self.limit is not None and self.injected >= self.limit:
                    return None
                kind = self._draw()
                if kind is None:
                    return None
                self.injected += 1
        if self.log:
            with open(self.log, "a") as out:
                out.write(json.dumps({"process": self.process, "operation": operation, "kind": kind,
                                      "time": time.time()}) + "\n")
        return kind

    def _draw(self):
        point = self._random.random()
        for kind, share in self.rates.items():
            if point < share:
                return kind
            point -= share
        return None

    def before_send(self, request, event_name, **_):
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import ConnectionClosedError

        _, service, operation = event_name.split(".", 2)
        kind = self.choose(operation)
        if kind is None:
            return None
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        if kind == "lost":
            _send(request)  # AWS acts on it...
            raise ConnectionClosedError(endpoint_url=request.url)  # ...and its answer never arrives
        status, headers, body = (_THROTTLED if kind == "throttled" else _SERVER_ERROR)[service]
        return AWSResponse(request.url, status, headers, _Raw(body))

    def attach(self, client):
        client.meta.events.register("before-send", self.before_send)
        return client


class _Raw:
    """The raw body botocore reads from an AWSResponse."""

    def __init__(self, body):
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_):
        body, self._body = self._body, b""
        return body


def _send(request):
    from botocore.httpsession import URLLib3Session

    URLLib3Session().send(request)


def install_from_env(process, environ=os.environ):
    """Attach a FaultPlan to every botocore client made from now on in this process, if ENV asks for one."""
    settings = environ.get(ENV)
    if not settings:
        return None
    options = json.loads(settings)
    if process not in options.pop("processes", [process]):  # "processes": only these are faulty
        return None
    plan = FaultPlan(process, **options)
    import botocore.session

    create_client = botocore.session.Session.create_client

    def create_faulty_client(self, *args, **kwargs):
        return plan.attach(create_client(self, *args, **kwargs))

    botocore.session.Session.create_client = create_faulty_client
    print(f"{process}: injecting AWS faults ({ENV}={settings})", flush=True)
    return plan
