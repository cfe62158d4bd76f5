"""Every tag is in a template: no Python string under chalicelib/ holds HTML (docstrings aside).

A page built from strings escapes a value only where someone remembered to; a template escapes every value.
"""
import ast
import re
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
TAG = re.compile(r"<(!doctype|/?[a-zA-Z][a-zA-Z0-9]*(?=[\s>/]))", re.I)
# The one filter that makes markup: it isolates typed text in <bdi> (core/templates.py, tested in test_templates.py).
ALLOWED = {("core/templates.py", "<bdi>"), ("core/templates.py", "</bdi>")}


def docstrings(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def markup_in(source, name="module.py"):
    """(line, text) of each string constant in `source` that holds an HTML tag, docstrings left out."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            and TAG.search(node.value) and (name, node.value) not in ALLOWED]


def test_no_python_string_under_chalicelib_holds_a_tag():
    found = {}
    for path in CHALICELIB.rglob("*.py"):
        name = path.relative_to(CHALICELIB).as_posix()
        if markup_in(path.read_text(encoding="utf-8"), name):
            found[name] = markup_in(path.read_text(encoding="utf-8"), name)
    assert found == {}


@pytest.mark.parametrize("source", [
    'x = "<p>hello</p>"',
    "x = f'<a href=\"{url}\">'",
    'x = "<!doctype html>"',
    'def f():\n    """Doc."""\n    return "<br>"',
    'x = ("ok " "<span class=\'a\'>")',
])
def test_the_check_finds_markup(source):
    assert markup_in(source)


@pytest.mark.parametrize("source", [
    '"""A <bdi> docstring."""',
    'def f():\n    """Wraps it in <bdi>."""',
    'x = "a < b and c > d"',
    'x = "<= 3"',
])
def test_the_check_leaves_docstrings_and_comparisons_alone(source):
    assert not markup_in(source)
