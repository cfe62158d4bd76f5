"""One JSON object per log line, with the request id on every line.

Only what callers put in `extra` is written, never exception text or arguments that could
carry what a patient typed.
"""
import contextvars
import json
import logging
import sys
from datetime import datetime, timezone

request_id = contextvars.ContextVar("request_id", default=None)

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.msg if isinstance(record.msg, str) else type(record.msg).__name__,
            "request_id": request_id.get(),
        }
        for name, value in vars(record).items():
            if name not in _RESERVED:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, default=str, ensure_ascii=False)


_handler = logging.StreamHandler(sys.stdout)
_handler.setFormatter(JsonFormatter())


def get_logger(name):
    logger = logging.getLogger(name)
    root = logging.getLogger("chalicelib")
    if _handler not in root.handlers:
        root.addHandler(_handler)
        root.setLevel(logging.INFO)
        # Lambda's own root handler would write a second, non-JSON copy of every line.
        root.propagate = False
    return logger
