"""The inbox's "Possible spam" view through Chalice's test client, against moto: reasons in words,
"Not spam" and "Spam" from the view, and the week's count on every list page (a COUNT query)."""
import json
from urllib.parse import urlencode

import pytest

from tests.conftest import valid_fields
from tests.integration.test_api import stored
from tests.integration.test_inbox_routes import FORM, cookie_of, inbox, sign_in  # noqa: F401 (fixture)


@pytest.fixture
def signed_in(inbox):
    return {"Cookie": cookie_of(sign_in(inbox))}


def possible_spam(api, **fields):
    """A request kept as possible spam: two web addresses, no form token."""
    body = api.post_json(valid_fields(message="see http://a.example and www.b.example", **fields)).body
    return json.loads(body)["id"]


def decide(api, cookie, request_id, status, back="spam"):
    return api.request("POST", f"/staff/requests/{request_id}/status", {**FORM, **cookie},
                       urlencode({"status": status, "back": back}))


def test_the_view_lists_possible_spam_with_its_reasons_in_words(inbox, signed_in):
    request_id = possible_spam(inbox, first_name="Ludmila")

    page = inbox.request("GET", "/staff/?status=suspected_spam", signed_in).body.decode()

    assert "<h1>Possible spam</h1>" in page
    assert "Ludmila" in page and f"/staff/requests/{request_id}" in page
    assert "2 web addresses in the text" in page
    assert "1 possible-spam request arrived in the last 7 days." in page


def test_not_spam_from_the_view_moves_it_to_new_and_comes_back_to_the_view(inbox, signed_in, dynamodb, table):
    request_id = possible_spam(inbox)

    answer = decide(inbox, signed_in, request_id, "new")

    assert answer.status_code == 303
    assert answer.headers["Location"] == "/staff/?status=suspected_spam&decided=new"
    assert stored(dynamodb, table, request_id)["status"]["S"] == "new"
    page = inbox.request("GET", answer.headers["Location"], signed_in)
    assert page.status_code == 200
    assert "Moved to New as not spam" in page.body.decode()
    assert request_id not in page.body.decode()


def test_spam_from_the_view_records_staff_s_decision_once(inbox, signed_in, dynamodb, table):
    request_id = possible_spam(inbox)

    answer = decide(inbox, signed_in, request_id, "suspected_spam")

    assert answer.headers["Location"] == "/staff/?status=suspected_spam&decided=suspected_spam"
    item = stored(dynamodb, table, request_id)
    assert item["status"]["S"] == "suspected_spam"
    assert [r["S"] for r in item["spam_reasons"]["L"]] == ["links", "staff"]
    assert [h["M"]["by"]["S"] for h in item["history"]["L"]] == ["Ana Admin"]
    again = decide(inbox, signed_in, request_id, "suspected_spam")
    assert again.status_code == 422
    assert "already marked as spam" in again.body.decode()


def test_a_decision_from_another_origin_is_refused(inbox, signed_in, dynamodb, table):
    request_id = possible_spam(inbox)

    refused = inbox.request("POST", f"/staff/requests/{request_id}/status",
                            {**FORM, **signed_in, "Origin": "http://127.0.0.1:8081"}, urlencode({"status": "new"}))

    assert refused.status_code == 403
    assert stored(dynamodb, table, request_id)["status"]["S"] == "suspected_spam"


def test_an_unknown_decision_is_no_filter(inbox, signed_in):
    page = inbox.request("GET", "/staff/?status=suspected_spam&decided=whatever", signed_in)

    assert page.status_code == 200
    assert "Moved to New" not in page.body.decode()


def test_every_list_page_counts_the_weeks_possible_spam(inbox, signed_in, dynamodb, table):
    from datetime import datetime, timedelta, timezone

    for name in ("Ysolde", "Yvaine", "Yrsabel"):
        possible_spam(inbox, first_name=name)
    old = possible_spam(inbox, first_name="Ottoline")
    eight_days_ago = (datetime.now(timezone.utc) - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    dynamodb.update_item(TableName=table, Key={"pk": {"S": f"APPT#{old}"}, "sk": {"S": "APPT"}},
                         UpdateExpression="SET created_at = :at", ExpressionAttributeValues={":at": {"S": eight_days_ago}})
    inbox.post_json(valid_fields(first_name="Perpetua"))

    page = inbox.request("GET", "/staff/", signed_in).body.decode()

    assert "3 possible-spam requests arrived in the last 7 days." in page
    assert 'href="/staff/?status=suspected_spam">Review possible spam</a>' in page
