"""One place derives every purpose's key from the deployment's secret; no two purposes share one."""
import ast
import hashlib
import hmac
from pathlib import Path

import pytest

from chalicelib.core.keys import LABELS, purpose_key

SECRET = b"s" * 64
CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"


def test_no_two_purposes_share_a_key_and_none_is_the_secret_itself():
    keys = [purpose_key(SECRET, purpose) for purpose in LABELS]
    assert len(set(keys)) == len(keys) == len(set(LABELS.values()))
    assert SECRET not in keys


def test_keys_stored_data_depends_on_keep_their_derivation():
    """The search hashes stored in requests were made with this key: a new label would lose every search."""
    assert purpose_key(SECRET, "lookups") == hmac.new(SECRET, b"lookup", hashlib.sha256).digest()
    assert purpose_key(SECRET, "form tokens") == hmac.new(SECRET, b"form token", hashlib.sha256).digest()


def test_an_unknown_purpose_has_no_key():
    with pytest.raises(KeyError):
        purpose_key(SECRET, "something else")


def test_no_module_but_core_keys_keys_an_hmac_with_a_label_of_its_own():
    """A derivation written somewhere else (hmac.new(secret, b"my purpose", ...)) fails here."""
    found = []
    for path in CHALICELIB.rglob("*.py"):
        if path.name == "keys.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and ast.unparse(node.func) == "hmac.new" and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, bytes)):
                found.append(f"{path.relative_to(CHALICELIB)}:{node.lineno}")
    assert found == []
