"""The packages of chalicelib/ import downwards only: core, intake, staff, storage, notify, visits, webhooks, then the wiring.

A lower package that imports a higher one (core reaching into intake, say) ties the layers into a
knot; storage that imports HTTP mixes the item layouts with the answers to a browser.
"""
import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
LAYERS = ("core", "intake", "staff", "storage", "notify", "visits", "webhooks")
HTTP = ("chalice", "chalicelib.core.web", "chalicelib.core.pages", "chalicelib.intake.http",
        "chalicelib.intake.page", "chalicelib.staff.http", "chalicelib.staff.inbox")


def imports(module, source):
    """Every module `source` (the text of `module`, e.g. chalicelib.staff.auth) imports, anywhere in it."""
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return found


def layer(module):
    parts = module.split(".")
    if parts[0] != "chalicelib" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else "top"


def violations(modules):
    """(importer, imported) pairs that break the layering, from {module name: source}."""
    found = []
    for module, source in modules.items():
        own = layer(module)
        if own in (None, "top"):
            continue  # wiring.py and openapi.py put the packages together: they may import any of them
        for imported in imports(module, source):
            other = layer(imported)
            upward = other == "top" or (other in LAYERS and LAYERS.index(other) > LAYERS.index(own))
            http_in_storage = own == "storage" and any(
                imported == name or imported.startswith(name + ".") for name in HTTP)
            if upward or http_in_storage:
                found.append((module, imported))
    return sorted(set(found))


def chalicelib_modules():
    root = CHALICELIB.parent
    return {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path.read_text()
        for path in CHALICELIB.rglob("*.py")
    }


def test_every_package_imports_only_the_packages_below_it():
    assert violations(chalicelib_modules()) == []


def test_every_package_says_what_it_holds_and_what_it_may_import():
    for name in LAYERS:
        docstring = ast.get_docstring(ast.parse((CHALICELIB / name / "__init__.py").read_text()))
        assert docstring and "import" in docstring.lower(), name


@pytest.mark.parametrize("module, source", [
    ("chalicelib.core.config", "from ..intake.models import LABELS"),
    ("chalicelib.core.web", "def f():\n    from chalicelib.staff import auth"),
    ("chalicelib.intake.models", "from ..staff.triage import TRANSITIONS"),
    ("chalicelib.staff.signin", "from ..notify.confirmations import ConfirmationCap"),
    ("chalicelib.staff.triage", "from ..storage.staff_records import StaffRepository"),
    ("chalicelib.intake.service", "from .. import wiring"),
    ("chalicelib.storage.tokens", "from chalice import Response"),
    ("chalicelib.storage.sessions", "from ..core import web"),
    ("chalicelib.storage.accounts", "from ..staff.http import InboxPages"),
])
def test_an_upward_or_http_import_is_caught(module, source):
    assert violations({module: source}) != []


@pytest.mark.parametrize("module, source", [
    ("chalicelib.intake.service", "from ..core.clock import utcnow"),
    ("chalicelib.staff.inbox", "from ..intake.models import LABELS\nfrom . import triage"),
    ("chalicelib.storage.staff_records", "from ..staff.triage import Page"),
    ("chalicelib.notify.delivery", "from ..storage.appointments import id_from_stream_keys"),
    ("chalicelib.wiring", "from .notify.alerts import AlertPublisher"),
])
def test_a_downward_import_is_allowed(module, source):
    assert violations({module: source}) == []
