"""The `make run` terminal shows what happens, not botocore's chatter."""
import json
import uuid

import pytest

from tests.conftest import valid_fields
from tests.e2e.conftest import stack_log_lines
from tests.e2e.test_intake_http import post_json

pytestmark = pytest.mark.e2e


def test_the_terminal_shows_no_credential_or_endpoint_lines(stack):
    status, _, body = post_json(stack, valid_fields(message=f"quiet {uuid.uuid4()}"))
    assert status == 201 and json.loads(body)["id"]  # the API has built its DynamoDB client by now
    lines = stack_log_lines()
    assert any('"route": "POST /appointments"' in line for line in lines)
    assert not [line for line in lines if "Found credentials" in line or "Found endpoint" in line]
