"""Pages and e-mails from Jinja2 templates: each feature package keeps its own in a `templates/` folder.

HTML templates escape every value by themselves (`select_autoescape`); text templates (`.txt`, e-mails)
do not. A value a template never received is an error (`StrictUndefined`), not an empty string. Every value
shown in HTML also loses its bidirectional controls, which could make text read differently from what it is;
text a person typed goes through the `typed` filter as well, which isolates it in <bdi> so it cannot reorder
what is around it.

Words come from the gettext catalogues of core.i18n through `jinja2.ext.i18n`: `{% trans %}...{% endtrans %}`
for the template's own words (the catalogue's text is trusted as HTML, like the template), `_("...")` for a
msgid given as a value (escaped like any value). Jinja2 is imported when the first page is drawn: a POST
/appointments that succeeds draws none (tests/e2e/test_cold_path.py); only a browser's failed post draws its page.
"""
import html
from functools import lru_cache
from pathlib import Path

from .i18n import catalogue

# Embedding, override and isolate controls, and the marks: the inbox has always removed these from values.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def without_bidi_controls(text):
    return str(text).translate(BIDI_CONTROLS)


class Templates:
    """One package's `templates/` folder: `render(template, language, **values)`, compiled once per process."""

    def __init__(self, directory):
        self._directory = Path(directory)
        self._environment = lru_cache(maxsize=None)(self._build)

    def render(self, template, language="en", /, **values):
        return self._environment(language).get_template(template).render(**values)

    def _build(self, language):
        import jinja2

        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self._directory),
            autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=False),
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            finalize=jinja2.pass_eval_context(_finalize_html),
            auto_reload=False,  # templates change with a deployment, never under a running process
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.policies["ext.i18n.trimmed"] = True  # a msgid is its words with whitespace collapsed
        environment.install_gettext_translations(catalogue(language), newstyle=False)
        environment.filters["typed"] = typed
        environment.globals["language"] = language
        return environment


def _finalize_html(eval_context, value):
    """In HTML, every value escaped as html.escape does it (the pages' entities stay what they were), without
    bidirectional controls; markup a filter or the catalogue made is left as it is."""
    if not eval_context.autoescape or hasattr(value, "__html__"):
        return value
    from markupsafe import Markup

    # bandit B704 (Markup on untrusted data): the value is escaped on this very line.
    return Markup(html.escape(without_bidi_controls(value)))  # nosec B704


def typed(value):
    """Text a person typed, in HTML: escaped, without bidirectional controls, isolated in <bdi>."""
    from markupsafe import Markup

    escaped = html.escape(without_bidi_controls("" if value is None else value))
    # bandit B704 (Markup on untrusted data): the value is escaped above.
    return Markup("<bdi>" + escaped + "</bdi>")  # nosec B704
