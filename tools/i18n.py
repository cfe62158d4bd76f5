"""The catalogues: extract every word a patient reads into chalicelib/locale/messages.pot, bring each
language's .po up to date, and compile the .mo files the service reads (`make i18n`). Babel is a
development tool only; tests/unit/test_catalogues.py fails when a catalogue is stale or lacks a string.

Words are marked with N_() in Python, and with {% trans %} or _() in the templates.
"""
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "chalicelib" / "locale"
POT = LOCALE / "messages.pot"
SOURCES = ("chalicelib/intake", "chalicelib/notify/confirmations.py", "chalicelib/notify/visit_mail.py",
           "chalicelib/notify/calendar.py", "chalicelib/notify/sms.py",
           "chalicelib/notify/templates", "chalicelib/visits/templates",
           "chalicelib/core/i18n.py", "chalicelib/core/errors.py", "chalicelib/core/web.py")
# Templates: Jinja2's own extractor, which reads {% trans %} blocks and _() calls as the pages' i18n extension
# does (whitespace trimmed, the policy core.templates sets).
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**/templates/**.txt", "jinja2.ext:babel_extract"),
           ("**.html", "ignore"), ("**.txt", "ignore"), ("**.py", "python")]
TEMPLATE_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true", "trim_blocks": "true",
                    "lstrip_blocks": "true"}


def messages():
    """(msgid, where) of every marked string in the sources, in a stable order."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="appointments", domain="messages")
    for source in SOURCES:
        path = ROOT / source
        directory, only = (path, None) if path.is_dir() else (path.parent, path.name)
        methods = METHODS if path.is_dir() and path.name != "templates" else [
            (pattern.removeprefix("**/templates/"), method) for pattern, method in METHODS]
        for filename, lineno, message, comments, context in extract_from_dir(
                directory, method_map=methods, options_map={"**": TEMPLATE_OPTIONS},
                keywords={"N_": None, "_": None, "gettext": None}, strip_comment_tags=True):
            if only and Path(filename).name != only:
                continue
            catalog.add(message, None, [(str(Path(source if only else Path(source) / filename)), lineno)])
    return catalog


# The header GNU msgfmt --check needs (charset, plural forms), with no date that changes on every run.
HEADER_DATE = datetime(2026, 12, 3, tzinfo=timezone.utc)


def _header(catalog, language):
    from babel import Locale

    catalog.locale = Locale.parse(language)
    catalog.project, catalog.version = "appointments", "1"
    catalog.creation_date = catalog.revision_date = HEADER_DATE
    catalog.fuzzy = False  # the header is written by this tool, not a guess awaiting review
    catalog.msgid_bugs_address = ""
    catalog.last_translator = catalog.language_team = "the appointments team (see README.md, Languages)"
    catalog.header_comment = f"# The words patients read, in {catalog.locale.english_name} (`make i18n` updates this file)."


def main(argv=None):
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    template = messages()
    with open(POT, "wb") as out:
        write_po(out, template, omit_header=True, sort_output=True, no_location=True, width=100)
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/messages.po")):
        with open(po_path, "rb") as handle:
            catalog = read_po(handle)
        catalog.update(template, no_fuzzy_matching=True)
        _header(catalog, po_path.parent.parent.name)
        with open(po_path, "wb") as out:
            write_po(out, catalog, sort_output=True, no_location=True, width=100, ignore_obsolete=True)
        with open(po_path.with_suffix(".mo"), "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{po_path.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} untranslated", file=sys.stderr)


if __name__ == "__main__":
    main()
