"""POST /appointments over real HTTP against the running local stack."""
import json
import urllib.request
import uuid

import pytest

from tests.conftest import remember_personal, valid_fields

pytestmark = pytest.mark.e2e


def http(stack, method, path, body=b"", headers=None):
    request = urllib.request.Request(stack.base_url + path, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post_json(stack, fields, headers=None):
    remember_personal(fields)
    return http(stack, "POST", "/appointments", json.dumps(fields).encode(),
                {"Content-Type": "application/json", **(headers or {})})


def stored(stack, request_id):
    item = stack.client("dynamodb").get_item(
        TableName=stack.settings_env["APPOINTMENTS_TABLE"],
        Key={"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"}},
        ConsistentRead=True,
    )
    return item.get("Item")


def test_json_post_is_stored(stack):
    status, _, body = post_json(stack, valid_fields(first_name="Amara", message=f"knee {uuid.uuid4()}"))
    assert status == 201
    answer = json.loads(body)
    assert answer["status"] == "received"
    assert stored(stack, answer["id"])["fields"]["M"]["first_name"] == {"S": "Amara"}
