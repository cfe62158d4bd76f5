"""Schemathesis, driven by the served OpenAPI document, against the running stack.

Every operation, with its checks for server errors, status codes, content types and response
schemas. Staff routes are called with a real admin token made by the token CLI (and their
401 answers are fuzzed too, by the coverage phase's missing-header cases).
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.test_staff_http import staff_tokens

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="session")
def served_schema(stack):
    return schemathesis.openapi.from_url(stack.base_url + "/openapi.json")


@pytest.fixture(scope="session")
def admin_token(stack):
    return staff_tokens(stack, "create", "--name", "Schemathesis", "--role", "admin")[-1]


schema = schemathesis.pytest.from_fixture("served_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_documented_contract(case, stack, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"} if case.path.startswith("/staff/") else {}
    if case.headers and "Authorization" in case.headers:
        headers = {}  # a case about the header itself: send what Schemathesis made
    case.call_and_validate(base_url=stack.base_url, headers=headers, checks=CHECKS, timeout=30)
