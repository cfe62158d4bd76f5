"""checkov, a checker others wrote, finds nothing on the packaged template.

A check that does not apply here is skipped in the template itself (the resource's
Metadata.checkov.skip, with its reason), so anyone who runs checkov on `make package`'s
sam.json sees the same answer. checkov runs from .venv-checkov (`make checkov`; `make test`
makes it), offline: --skip-download keeps it from asking Prisma Cloud for guidelines.
"""
import json
import subprocess

import pytest

from tools.resources import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def report(built):
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make checkov` (`make test` does it first).")
    run = subprocess.run([str(CHECKOV), "-f", str(built.template), "--framework", "cloudformation",
                          "--skip-download", "--output", "json"], capture_output=True, text=True, timeout=300)
    return json.loads(run.stdout)


def test_checkov_finds_nothing_on_the_packaged_template(report):
    failed = [(check["check_id"], check["resource"], check["check_name"]) for check in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] >= 60 and report["summary"]["parsing_errors"] == 0


def test_every_check_skipped_says_why(report):
    skipped = report["results"]["skipped_checks"]
    assert skipped  # the skips are read from the template: none at all would mean they no longer are
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) > 40, (check["check_id"], check["resource"])
