"""The catalogues: extract every word a patient reads into chalicelib/locale/messages.pot, bring each
language's .po up to date, and compile the .mo files the service reads (`make i18n`). Babel is a
development tool only; tests/unit/test_catalogues.py fails when a catalogue is stale or lacks a string.

Words are marked with N_() in Python, and with {% trans %} or _() in the templates.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "chalicelib" / "locale"
POT = LOCALE / "messages.pot"
SOURCES = ("chalicelib/intake", "chalicelib/notify/confirmations.py", "chalicelib/notify/templates",
           "chalicelib/core/i18n.py", "chalicelib/core/errors.py")
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
        with open(po_path, "wb") as out:
            write_po(out, catalog, omit_header=True, sort_output=True, no_location=True, width=100,
                     ignore_obsolete=True)
        with open(po_path.with_suffix(".mo"), "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{po_path.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} untranslated", file=sys.stderr)


if __name__ == "__main__":
    main()
