"""core.templates: values escaped by the engine, typed text isolated, words from the catalogues."""
import json
from pathlib import Path

import pytest

from chalicelib.core.templates import Templates, typed
from tools import i18n

HOSTILE = '<script>alert("x")</script>\u202eevil\u2066'


@pytest.fixture
def templates(tmp_path):
    (tmp_path / "page.html").write_text(
        '<p title="{{ value }}">{{ value }} {{ name|typed }} {% trans %}Thank you{% endtrans %} {{ _("Language") }}</p>\n')
    (tmp_path / "mail.txt").write_text("{{ value }} {{ _(\"Thank you\") }}\n")
    (tmp_path / "missing.html").write_text("{{ nothing }}\n")
    return Templates(tmp_path)


def test_every_html_value_is_escaped_and_loses_its_bidirectional_controls(templates):
    page = templates.render("page.html", value=HOSTILE, name="x")
    assert "<script>" not in page and "\u202e" not in page and "\u2066" not in page
    assert 'title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;evil"' in page


def test_typed_text_is_isolated_in_bdi_escaped_and_without_controls():
    assert typed(HOSTILE) == "<bdi>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;evil</bdi>"
    assert typed("Zoë O'Brien") == "<bdi>Zoë O&#x27;Brien</bdi>"
    assert typed(None) == "<bdi></bdi>"


def test_a_text_template_escapes_nothing(templates):
    assert templates.render("mail.txt", value="<b>&</b>") == "<b>&</b> Thank you\n"


def test_words_come_from_the_language_catalogue(templates):
    assert "Gracias Idioma" in templates.render("page.html", "es", value="", name="")
    assert "Thank you Language" in templates.render("page.html", "en", value="", name="")


def test_a_value_the_template_was_not_given_is_an_error(templates):
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        templates.render("missing.html")


def test_a_template_is_compiled_once_per_process(templates, tmp_path):
    templates.render("mail.txt", value="a")
    (tmp_path / "mail.txt").write_text("changed\n")
    assert templates.render("mail.txt", value="a") == "a Thank you\n"


def test_the_catalogues_keep_every_msgid_they_had_before_the_templates():
    before = json.loads((Path(__file__).parent / "snapshots" / "msgids.json").read_text(encoding="utf-8"))
    assert set(before) - {m.id for m in i18n.messages() if m.id} == set()
