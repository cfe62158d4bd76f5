"""The notify package's templates (chalicelib/notify/templates): the patient's confirmation, the staff alert and
the morning digest. Jinja2 is imported when the first of them is composed, not when a handler starts."""
from pathlib import Path

from ..core.templates import Templates

TEMPLATES = Templates(Path(__file__).resolve().parent / "templates")
