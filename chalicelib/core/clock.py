"""Time as the service records it: UTC, and ISO-8601 strings that sort."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)


def utc_iso(moment: datetime) -> str:
    # Converted, not just formatted: created_at sorts as a string in the indexes.
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(value: str) -> datetime:
    """The moment a `utc_iso` string names."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
