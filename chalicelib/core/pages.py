"""A package's static files (its CSS and script), and the headers every page sends. Pages are templates
(core.templates)."""
import hashlib
from functools import lru_cache
from pathlib import Path

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
VERSIONED = "public, max-age=31536000, immutable"
UNVERSIONED = "public, max-age=300"
ASSET_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class StaticFiles:
    """One package's `static/` folder: the CSS and script its pages link."""

    def __init__(self, directory):
        self._directory = Path(directory)
        self.text = lru_cache(maxsize=None)(self._read)

    def _read(self, name):
        return (self._directory / name).read_text(encoding="utf-8")

    def version(self, name):
        return hashlib.sha256(self.text(name).encode()).hexdigest()[:12]

    def asset(self, name, version=None):
        """(body, headers) of a CSS or JS file.

        A page asks for `name?v=VERSION`: that URL changes whenever the file does, so it is kept for
        a year and never revalidated. A copy of the form on another site links the plain name and is
        kept only briefly, so it gets updates soon.
        """
        caching = VERSIONED if version == self.version(name) else UNVERSIONED
        headers = {**COMMON_HEADERS, "Content-Type": ASSET_TYPES[Path(name).suffix], "Cache-Control": caching}
        return self.text(name), headers
