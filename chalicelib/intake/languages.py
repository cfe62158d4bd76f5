"""Which language a patient is served in: `?lang=` first, then the browser's Accept-Language (q-values
honoured, a region falling back to its language: es-MX is es), else the first of LANGUAGES.

Nothing here is an error: a language that is not offered, or a malformed or enormous header, falls back.
"""
import re

from ..core.config import SUPPORTED_LANGUAGES as SUPPORTED
STAFF_NAMES = {"en": "English", "es": "Spanish"}  # for staff, who read the inbox in English
OWN_NAMES = {"en": "English", "es": "Español"}  # for the switch on the form: each language in its own words
MAX_HEADER = 1024  # browsers send a few dozen bytes; the rest of a longer header is not read
MAX_RANGES = 20
_RANGE = re.compile(r"^([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*$|^\*$")
_QUALITY = re.compile(r"^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$", re.IGNORECASE)


def accepted(header):
    """The language ranges of an Accept-Language header, best first: [(primary subtag or "*", q), ...]."""
    if not isinstance(header, str):
        return []
    ranges = []
    for position, entry in enumerate(header[:MAX_HEADER].split(",")[:MAX_RANGES]):
        tag, *parameters = entry.strip().split(";")
        tag = tag.strip()
        if not _RANGE.match(tag):
            continue
        quality = 1.0
        if parameters:
            found = _QUALITY.match(parameters[0])
            if not found:
                continue
            quality = float(found.group(1))
        if quality > 0:
            ranges.append((tag.split("-")[0].lower(), quality, position))
    ranges.sort(key=lambda item: (-item[1], item[2]))
    return [(tag, quality) for tag, quality, _ in ranges]


def choose(offered, query=None, accept_language=None):
    """The language to serve: one of `offered` (LANGUAGES, the default first)."""
    if isinstance(query, str) and query.strip().lower() in offered:
        return query.strip().lower()
    for tag, _ in accepted(accept_language):
        if tag == "*":
            return offered[0]
        if tag in offered:
            return tag
    return offered[0]
