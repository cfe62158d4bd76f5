"""The catalogues: up to date with the code, every word a patient reads translated, placeholders kept."""
import re

import pytest
from babel.messages.pofile import read_po

from tools import i18n

LANGUAGES = sorted(path.parent.parent.name for path in i18n.LOCALE.glob("*/LC_MESSAGES/messages.po"))


def test_the_template_holds_exactly_the_strings_the_code_marks():
    """Fails when a string was marked (or unmarked) without `make i18n`."""
    with open(i18n.POT, "rb") as handle:
        written = {m.id for m in read_po(handle) if m.id}
    assert written == {m.id for m in i18n.messages() if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_keeps_its_placeholders(language):
    """Catches a translation that drops a placeholder ("Revise su dirección de correo electrónico." for
    "Please check your email address: {detail}"): the test only refused placeholders the msgid lacks."""
    path = i18n.LOCALE / language / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    marked = {m.id for m in i18n.messages() if m.id}
    assert {m.id for m in catalog if m.id} == marked
    for message in catalog:
        if not message.id:
            continue
        assert message.string, f"{language}: no translation for {message.id!r}"
        # Exactly the msgid's placeholders: one more is a KeyError on the page, one lost drops what it said.
        assert set(re.findall(r"\{(\w+)\}", message.string)) == set(re.findall(r"\{(\w+)\}", message.id)), message.id
        assert re.findall(r"</?\w+", message.string) == re.findall(r"</?\w+", message.id), message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_current_one(language):
    import gettext

    path = i18n.LOCALE / language / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    with open(path.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in catalog:
        if message.id:
            assert compiled.gettext(message.id) == message.string, message.id


def test_es_is_offered():
    assert "es" in LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_gnu_msgfmt_checks_the_catalogue_clean(language):
    """What translators' tools read: GNU gettext's own checks (header, formats), no warning either."""
    import shutil
    import subprocess

    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU msgfmt is missing: `make test` installs it (Debian's gettext package)"
    path = i18n.LOCALE / language / "LC_MESSAGES" / "messages.po"
    result = subprocess.run([msgfmt, "--check", "--output-file=/dev/null", str(path)], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
