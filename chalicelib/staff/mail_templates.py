"""The staff package's templates (chalicelib/staff/templates) for what it mails: the sign-in code e-mail.
The sign-in code consumer imports this, not the inbox's pages; Jinja2 is imported when the first e-mail is drawn."""
from pathlib import Path

from ..core.templates import Templates

TEMPLATES = Templates(Path(__file__).resolve().parent / "templates")
