"""Schemathesis, driven by the served OpenAPI document, against the running stack.

Every operation, with its checks for server errors, status codes, content types and response
schemas. Staff routes get a real staff token.
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

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="session")
def served_schema(stack):
    return schemathesis.openapi.from_url(stack.base_url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("served_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_documented_contract(case, stack):
    case.call_and_validate(base_url=stack.base_url, checks=CHECKS, timeout=30)
