"""The curl examples in the README and docs/ run as written against the running stack.

Each shell block that calls the API is run by bash with `set -e` and `curl --fail-with-body`, so
an example whose route, header or body no longer works fails here. Placeholders (a token, a
reference, a cursor) are filled in the way a reader would fill them.
"""
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tools.resources import ROOT

pytestmark = pytest.mark.e2e

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LOCAL_API = "http://127.0.0.1:8000"
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def api_examples():
    found = []
    for page in PAGES:
        for number, block in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            if re.search(r"^curl ", block, re.M) and (LOCAL_API in block or "$API" in block):
                found.append(pytest.param(block, id=f"{page.relative_to(ROOT)}#{number}"))
    return found


def test_the_docs_have_api_examples():
    names = {example.id.split("#")[0] for example in api_examples()}
    assert {"README.md", "docs/staff.md"} <= names


def staff_token(stack, role):
    lines = subprocess.run(
        [sys.executable, "-m", "tools.staff_tokens", "create", "--name", f"Docs {role} {uuid.uuid4().hex[:6]}",
         "--role", role],
        cwd=ROOT, env={**os.environ, **stack.aws_env}, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    return lines[-1].strip()


def post_request(stack):
    import requests

    response = requests.post(f"{stack.base_url}/appointments", json={
        "first_name": "Docs", "last_name": "Example", "email": f"docs.{uuid.uuid4().hex[:8]}@example.com",
        "phone": "212-555-0142", "location": "downtown", "contact_consent": True,
    }, timeout=10)
    assert response.status_code == 201
    return response.json()["id"]


def next_cursor(stack, token):
    import requests

    post_request(stack)
    post_request(stack)  # two at least, so that a page of one has a next page
    response = requests.get(f"{stack.base_url}/staff/appointments?limit=1",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return response.json()["next_cursor"]


@pytest.mark.parametrize("block", api_examples())
def test_an_api_example_runs_as_written(stack, block, tmp_path):
    token, admin_token = staff_token(stack, "staff"), staff_token(stack, "admin")
    script = (block.replace(LOCAL_API, stack.base_url)
              .replace("REF", post_request(stack))
              .replace("NEXT_CURSOR_FROM_THE_LAST_PAGE", next_cursor(stack, token) if "NEXT_CURSOR" in block else ""))
    script = re.sub(r"^(TOKEN|API)=.*$", "", script, flags=re.M)  # the reader's own values, below
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body --silent --show-error "$@"; echo; }\n'
    result = subprocess.run(
        ["bash", "-c", prelude + script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "API": stack.base_url, "TOKEN": token, "ADMIN_TOKEN": admin_token},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "HTTP/1.1 5" not in result.stdout
