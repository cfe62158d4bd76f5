"""A custom domain from the stage config (docs/deploy.md) builds into a stack that deploys in order."""
import json
import shutil

import pytest

from tests.infra.template import properties
from tools import package as packaging
from tools.resources import ROOT

DOMAIN = {
    "domain_name": "appointments.clinic.example",
    "certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000",
    "tls_version": "TLS_1_2",
}


@pytest.fixture(scope="module")
def with_domain(tmp_path_factory, built):
    """The project as it is, plus `api_gateway_custom_domain` in the prod stage, built (after `built`,
    so that chalice's cache of Lambda wheels in .chalice/deployments is there to copy)."""
    project = tmp_path_factory.mktemp("project")
    for name in ("app.py", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    for name in ("chalicelib", "infra", ".chalice"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    config = json.loads((project / ".chalice" / "config.json").read_text())
    config["stages"]["prod"]["api_gateway_custom_domain"] = DOMAIN
    (project / ".chalice" / "config.json").write_text(json.dumps(config))
    return packaging.build("prod", project / "out", project=project)


def test_the_domain_maps_to_the_stage_only_once_the_stage_exists(with_domain):
    template = with_domain.load()
    assert properties(template, "ApiGatewayCustomDomain")["DomainName"] == DOMAIN["domain_name"]
    stack = packaging.sam_transform(template)
    assert properties(stack, "ApiGatewayCustomDomainMapping")["Stage"] == {"Ref": "RestAPIapiStage"}
    assert properties(stack, "ApiGatewayCustomDomain")["SecurityPolicy"] == "TLS_1_2"
    assert template["Outputs"]["CustomDomainTarget"]["Value"] == {
        "Fn::GetAtt": ["ApiGatewayCustomDomain", "RegionalDomainName"]}


def test_the_stack_with_a_domain_lints_clean(with_domain):
    result = packaging.lint(with_domain.template)
    assert result.returncode == 0, result.stdout + result.stderr
