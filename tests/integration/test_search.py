"""Finding a request through the staff API and the inbox, under moto: by reference, phone or e-mail,
exactly, through keyed hashes on lookup indexes; an erased request is found no more."""
import json
from urllib.parse import quote, urlencode

import pytest

from tests.conftest import response_json
from tests.integration.test_inbox_routes import FORM, cookie_of, inbox, sign_in  # noqa: F401 (fixture)
from tests.integration.test_staff_api import assert_error, post, staff_call, stored, tokens  # noqa: F401


def found(api, tokens, q, extra=""):
    answer = staff_call(api, tokens, "GET", f"/staff/appointments?q={quote(q)}{extra}")
    assert answer.status_code == 200, answer.body
    return [item["id"] for item in response_json(answer)["items"]]


@pytest.fixture
def requests_(api):
    return {
        "zoe": post(api, phone="(212) 555-0142 ext. 12", email="Zoe.Okonkwo@Example.com", first_name="Zoë"),
        "raj": post(api, phone="+44 20 7946 0958", email="raj.patel@example.org", first_name="Rajendra",
                    location="lakeview"),
    }


@pytest.mark.parametrize("q", ["+1 212-555-0142", "2125550142", "(212) 555 0142", "212.555.0142", "+12125550142"])
def test_a_phone_number_in_any_format_finds_it(api, tokens, requests_, q):
    assert found(api, tokens, q) == [requests_["zoe"]]


@pytest.mark.parametrize("q", ["zoe.okonkwo@example.com", "ZOE.OKONKWO@EXAMPLE.COM", "  Zoe.Okonkwo@Example.com "])
def test_an_e_mail_address_in_any_case_finds_it(api, tokens, requests_, q):
    assert found(api, tokens, q) == [requests_["zoe"]]


def test_a_reference_whole_or_its_first_8_characters_finds_it(api, tokens, requests_):
    reference = requests_["raj"]
    assert found(api, tokens, reference) == [reference]
    assert found(api, tokens, reference[:8]) == [reference]
    assert found(api, tokens, reference[:8].upper()) == [reference]
    assert found(api, tokens, reference[:7]) == []


def test_only_exact_matches(api, tokens, requests_):
    assert found(api, tokens, "212-555-0143") == []
    assert found(api, tokens, "zoe.okonkwo@example.co") == []
    assert found(api, tokens, "Zoë") == []  # names are not searchable: no index holds them
    assert found(api, tokens, "hello") == []


def test_the_other_filters_still_apply(api, tokens, requests_):
    assert found(api, tokens, "+44 20 7946 0958", "&location=downtown") == []
    assert found(api, tokens, "+44 20 7946 0958", "&location=lakeview") == [requests_["raj"]]
    assert found(api, tokens, "+44 20 7946 0958", "&status=contacted") == []


@pytest.mark.parametrize("query", ["q=", "q=%20%20", "q=" + "a" * 255, "q=abc%0Adef", "q=a&q=b"])
def test_an_empty_or_unreasonable_search_is_a_422(api, tokens, query):
    body = assert_error(staff_call(api, tokens, "GET", f"/staff/appointments?{query}"), 422, "validation_failed")
    assert set(body["fields"]) == {"q"}


def test_the_plain_values_are_in_no_key_and_no_index(api, dynamodb, requests_):
    item = stored(dynamodb, requests_["zoe"])
    assert item["phone_hash"]["S"] != "+12125550142" and len(item["phone_hash"]["S"]) == 64
    assert "example" not in item["email_hash"]["S"].lower()
    assert item["ref_prefix"]["S"] == requests_["zoe"][:8]


def test_a_search_only_queries_the_lookup_indexes(api, tokens, requests_):
    from chalicelib import wiring

    calls = []
    wiring.aws_client("dynamodb").meta.events.register(
        "before-parameter-build.dynamodb", lambda model, params, **_: calls.append((model.name, params.get("IndexName"))))
    found(api, tokens, "2125550142")
    found(api, tokens, "zoe.okonkwo@example.com")
    assert not [call for call in calls if call[0] == "Scan"]
    assert [call for call in calls if call[1]] == [("Query", "by_phone"), ("Query", "by_email")]


def test_an_erased_request_is_found_no_more(api, tokens, dynamodb, requests_):
    staff_call(api, tokens, "DELETE", f"/staff/appointments/{requests_['zoe']}", "admin")

    assert found(api, tokens, "2125550142") == []
    assert found(api, tokens, "zoe.okonkwo@example.com") == []
    assert found(api, tokens, requests_["zoe"]) == []
    item = stored(dynamodb, requests_["zoe"])
    assert not {"phone_hash", "email_hash", "ref_prefix"} & set(item)


def test_the_inbox_searches_by_post_and_keeps_what_was_searched_out_of_urls(inbox, requests_):
    cookie = {"Cookie": cookie_of(sign_in(inbox))}

    answer = inbox.request("POST", "/staff/search", {**FORM, **cookie}, urlencode({"q": "212 555 0142"}))

    page = answer.body.decode()
    assert answer.status_code == 200
    assert f"/staff/requests/{requests_['zoe']}" in page and requests_["raj"] not in page
    assert "Export CSV" not in page and "q=" not in page
    empty = inbox.request("POST", "/staff/search", {**FORM, **cookie}, urlencode({"q": " "}))
    assert (empty.status_code, empty.headers["Location"]) == (303, "/staff/")
    refused = inbox.request("POST", "/staff/search", {**FORM, **cookie, "Origin": "http://127.0.0.1:8081"},
                            urlencode({"q": "212 555 0142"}))
    assert refused.status_code == 403


def test_the_search_line_in_the_log_holds_no_search(inbox, requests_):
    from tests.conftest import captured_log_lines

    cookie = {"Cookie": cookie_of(sign_in(inbox))}
    before = len(captured_log_lines())
    inbox.request("POST", "/staff/search", {**FORM, **cookie}, urlencode({"q": "zoe.okonkwo@example.com"}))
    lines = captured_log_lines()[before:]
    assert any('"inbox_searched"' in line for line in lines)
    assert not [line for line in lines if "okonkwo" in line.lower() or "0142" in line]
    assert json.loads([line for line in lines if '"inbox_searched"' in line][0])["rows"] == 1


def test_a_search_signed_out_finds_nothing_and_asks_to_sign_in(inbox, requests_):
    answer = inbox.request("POST", "/staff/search", FORM, urlencode({"q": "212 555 0142"}))

    assert answer.status_code == 401
    assert requests_["zoe"] not in answer.body.decode()
