"""Finding a request over the running stack, as staff do: the staff API's q= and the inbox's search box."""
import json
import uuid

import pytest
import requests

from tests.conftest import valid_fields
from tests.e2e.test_docs_examples import staff_token
from tests.e2e.test_intake_http import post_json

pytestmark = pytest.mark.e2e


def test_a_request_is_found_by_phone_e_mail_and_reference(stack):
    tag = uuid.uuid4().hex[:8]
    status, _, body = post_json(stack, valid_fields(phone="(646) 555-0199", email=f"Find.Me.{tag}@Example.com",
                                                    message=f"search e2e {tag}"))
    assert status == 201
    request_id = json.loads(body)["id"]
    token = staff_token(stack, "staff")

    def found(q):
        answer = requests.get(f"{stack.base_url}/staff/appointments", params={"q": q},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    for q in ("+1 646 555 0199", "646.555.0199", f"find.me.{tag}@example.com", request_id, request_id[:8].upper()):
        assert request_id in found(q), q
    assert found("nothing-like-anything") == []
