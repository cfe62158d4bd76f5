"""The staff inbox's routes through Chalice's test client, against moto (its SES included):
sign-in, where it leads, the audit lines, and the cookie on a deployed (https) stage."""
import json
import re
from urllib.parse import urlencode

import pytest

from chalicelib.staff.accounts import AccountAdmin
from chalicelib.storage.accounts import AccountRepository
from tests.conftest import STAGE_ENV, captured_log_lines, deliver_sign_in_codes, valid_fields
from tests.staffing import TABLE, Tokens
from tools.resources import ROOT, create_mail_identity

ORIGIN = STAGE_ENV["PUBLIC_BASE_URL"]
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN}


@pytest.fixture
def inbox(api, dynamodb, table):
    import boto3

    create_mail_identity(boto3.client("sesv2", region_name="us-east-1"), STAGE_ENV["MAIL_FROM"])
    AccountAdmin(AccountRepository(dynamodb, table)).add("ana@clinic.example", "Ana Admin", "admin")
    return api


def mailed_code(to):
    from moto.core import DEFAULT_ACCOUNT_ID

    deliver_sign_in_codes()
    from moto.ses.models import ses_backends

    sent = [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if to in m.destinations["ToAddresses"]]
    return re.search(r"\b(\d{4}) (\d{4})\b", sent[-1].body).group(0).replace(" ", "")


def sign_in(api, email="ana@clinic.example", next_id=None, code=None, cookies=""):
    """Ask for a code and type it in, as one browser: the code works only in the browser that asked."""
    extra = {"next": next_id} if next_id else {}
    asked = api.request("POST", "/staff/sign-in", {**FORM, "Cookie": cookies}, urlencode({"email": email, **extra}))
    assert asked.status_code == 200
    browser = cookie_of(asked, "staff_signin")
    return api.request("POST", "/staff/sign-in/code", {**FORM, "Cookie": "; ".join(filter(None, (cookies, browser)))},
                       urlencode({"email": email, "code": code or mailed_code(email), **extra}))


def cookie_of(response, name="staff_session"):
    """`name=value` of a cookie the response sets (one Set-Cookie header, or several)."""
    values = response.headers["Set-Cookie"]
    for value in values if isinstance(values, list) else [values]:
        if value.startswith(name + "="):
            return value.split(";")[0]
    raise AssertionError(f"no {name} cookie in {values!r}")


def new_request(api):
    return json.loads(api.post_json(valid_fields(message="inbox routes")).body)["id"]


def test_signing_in_from_an_alert_link_leads_back_to_that_request(inbox):
    request_id = new_request(inbox)
    signed_out = inbox.request("GET", f"/staff/requests/{request_id}", {"Accept": "text/html"})
    assert signed_out.status_code == 401
    assert f'name="next" value="{request_id}"' in signed_out.body.decode()
    answer = sign_in(inbox, next_id=request_id)
    assert (answer.status_code, answer.headers["Location"]) == (303, f"/staff/requests/{request_id}")
    page = inbox.request("GET", answer.headers["Location"], {"Cookie": cookie_of(answer)})
    assert page.status_code == 200


@pytest.mark.parametrize("next_value", ["https://evil.example/", "//evil.example", "../../appointments", "a b"])
def test_where_to_go_after_sign_in_is_an_id_never_a_url(inbox, next_value):
    answer = sign_in(inbox, next_id=next_value)
    assert answer.headers["Location"] == "/staff/"


def test_a_sign_in_from_another_origin_is_refused(inbox):
    for origin in ("http://127.0.0.1:8080", "null"):
        refused = inbox.request("POST", "/staff/sign-in", {**FORM, "Origin": origin},
                                urlencode({"email": "ana@clinic.example"}))
        assert refused.status_code == 403


def test_each_sign_in_attempt_is_one_log_line_without_the_address(inbox):
    before = len(captured_log_lines())
    asked = inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))
    browser = {**FORM, "Cookie": cookie_of(asked, "staff_signin")}
    for code in ("00000000", mailed_code("ana@clinic.example")):
        inbox.request("POST", "/staff/sign-in/code", browser, urlencode({"email": "ana@clinic.example", "code": code}))
    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    attempts = [line for line in lines if line.get("event") == "sign_in"]
    assert [(line["outcome"], line.get("actor")) for line in attempts] == [("failure", None), ("success", "Ana Admin")]
    assert not [line for line in lines if "ana@clinic.example" in json.dumps(line)]


def test_opening_a_request_is_audited_from_the_page_and_from_the_api(inbox, dynamodb):
    request_id = new_request(inbox)
    cookie = cookie_of(sign_in(inbox))
    token = Tokens(dynamodb).header("staff")
    before = len(captured_log_lines())
    assert inbox.request("GET", f"/staff/requests/{request_id}", {"Cookie": cookie}).status_code == 200
    assert inbox.request("GET", f"/staff/appointments/{request_id}", token).status_code == 200
    viewed = [json.loads(line) for line in captured_log_lines()[before:] if '"record_viewed"' in line]
    assert [(line["actor"], line["appointment_id"]) for line in viewed] == [
        ("Ana Admin", request_id), ("Sam Staff", request_id)]


def test_opening_the_list_in_the_inbox_is_logged_with_who_did(inbox):
    cookie = cookie_of(sign_in(inbox))
    before = len(captured_log_lines())
    assert inbox.request("GET", "/staff/", {"Cookie": cookie}).status_code == 200
    listed = [json.loads(line) for line in captured_log_lines()[before:] if '"inbox_listed"' in line]
    assert [line["actor"] for line in listed] == ["Ana Admin"]


def test_reading_needs_only_the_session_but_a_change_needs_the_inbox_s_own_origin(inbox):
    """A GET is safe (it changes nothing); an unsafe method needs the Origin too."""
    cookie = cookie_of(sign_in(inbox))
    assert inbox.request("GET", "/staff/", {"Cookie": cookie}).status_code == 200
    refused = inbox.request("POST", "/staff/accounts", {"Cookie": cookie, **FORM, "Origin": "http://127.0.0.1:8081"},
                            urlencode({"email": "x@clinic.example", "name": "X", "role": "admin"}))
    assert refused.status_code == 403


def test_on_a_deployed_stage_the_cookie_is_secure_and_scoped_under_the_stage(tmp_path, table, topic, dynamodb, dedupe_key_secret,
                                                                           sign_in_queue):
    import boto3
    from chalice.test import Client

    from app import app
    from chalicelib import wiring

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    base = "https://abc123.execute-api.us-east-1.amazonaws.com/api"
    config["stages"]["dev"]["environment_variables"]["PUBLIC_BASE_URL"] = base
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    create_mail_identity(boto3.client("sesv2", region_name="us-east-1"), STAGE_ENV["MAIL_FROM"])
    AccountAdmin(AccountRepository(dynamodb, TABLE)).add("ana@clinic.example", "Ana Admin", "admin")
    wiring.reset()
    try:
        with Client(app, stage_name="dev", project_dir=str(tmp_path)) as client:
            headers = {**FORM, "Origin": "https://abc123.execute-api.us-east-1.amazonaws.com"}
            asked = client.http.post("/staff/sign-in", headers=headers, body=urlencode({"email": "ana@clinic.example"}))
            browser = cookie_of(asked, "staff_signin")
            answer = client.http.post("/staff/sign-in/code", headers={**headers, "Cookie": browser}, body=urlencode(
                {"email": "ana@clinic.example", "code": mailed_code("ana@clinic.example")}))
    finally:
        wiring.reset()
    assert answer.headers["Location"] == "/api/staff/"
    for set_cookie in [asked.headers["Set-Cookie"]] + answer.headers["Set-Cookie"]:
        attributes = set(set_cookie.split("; ")[1:])
        assert attributes - {"Max-Age=34560000"} == {"Path=/api/staff", "HttpOnly", "SameSite=Lax", "Secure"}, set_cookie


@pytest.mark.parametrize("zero", ["\u0660", "\u06f0", "\uff10"])
def test_a_code_typed_in_arabic_persian_or_full_width_digits_signs_in(inbox, zero):
    asked = inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))
    assert asked.status_code == 200
    typed = "".join(chr(ord(zero) + int(digit)) for digit in mailed_code("ana@clinic.example"))
    answer = inbox.request("POST", "/staff/sign-in/code", {**FORM, "Cookie": cookie_of(asked, "staff_signin")},
                           urlencode({"email": "ana@clinic.example", "code": typed}))
    assert answer.status_code == 303


def test_a_code_in_other_characters_is_not_right_and_is_audited(inbox):
    before = len(captured_log_lines())
    answer = sign_in(inbox, code="\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078")
    assert answer.status_code == 401
    assert "not right" in answer.body.decode()
    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    assert [(line["outcome"], line["reason"]) for line in lines if line.get("event") == "sign_in"] \
        == [("failure", "malformed_code")]


def test_a_phone_number_sent_with_an_extension_is_called_with_it(inbox):
    request_id = json.loads(inbox.post_json(valid_fields(phone="(212) 555-0142 ext. 123")).body)["id"]
    cookie = cookie_of(sign_in(inbox))
    page = inbox.request("GET", f"/staff/requests/{request_id}", {"Cookie": cookie}).body.decode()
    assert 'href="tel:+1-212-555-0142;ext=123"' in page


def test_the_inbox_css_and_script_are_cached_by_their_versioned_urls(inbox):
    from chalicelib.staff import inbox as pages

    for name in ("inbox.css", "inbox.js"):
        versioned = inbox.request("GET", f"/staff/{name}?v={pages.STATIC.version(name)}")
        assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable", name
        assert inbox.request("GET", f"/staff/{name}").headers["Cache-Control"] == "public, max-age=300", name


def test_staff_pages_and_answers_are_never_indexed_nor_cached(inbox):
    request_id = new_request(inbox)
    cookie = cookie_of(sign_in(inbox))
    for path in ("/staff/", f"/staff/requests/{request_id}", "/staff/appointments", "/staff/accounts"):
        answer = inbox.request("GET", path, {"Cookie": cookie})
        assert answer.headers["X-Robots-Tag"] == "noindex, nofollow", path
        assert answer.headers["Cache-Control"] == "no-store", path
    signed_out = inbox.request("GET", f"/staff/requests/{request_id}", {"Accept": "text/html"})
    assert signed_out.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_robots_txt_keeps_crawlers_out_of_the_staff_side(inbox):
    answer = inbox.request("GET", "/robots.txt")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    assert answer.body.decode().splitlines() == ["User-agent: *", "Disallow: /staff/"]


def test_the_inbox_export_offers_every_row_in_parts_each_a_download(inbox, dynamodb, settings, monkeypatch):
    import csv
    import io
    from html.parser import HTMLParser

    from chalicelib.staff import triage
    from tests.staffing import seed

    monkeypatch.setattr(triage, "EXPORT_PAGES", 1)  # a part of 100 rows: the same logic, a third of the seeding
    total = triage.MAX_LIMIT + 5  # one more part than a single answer holds
    seeded = {seed(dynamodb, settings, f"2026-11-{1 + n // 60:02}T10:{n % 60:02}:00.000Z") for n in range(total)}
    cookie = {"Cookie": cookie_of(sign_in(inbox))}
    listing = inbox.request("GET", "/staff/", cookie).body.decode()
    export = re.search(r'href="(/staff/export[^"]*)"', listing).group(1)
    page = inbox.request("GET", export.replace("&amp;", "&"), cookie)
    assert page.status_code == 200

    class Links(HTMLParser):
        found = []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "a" and "appointments.csv" in attrs.get("href", ""):
                self.found.append((attrs["href"], attrs.get("download")))

    parser = Links()
    parser.feed(page.body.decode())
    assert [download for _, download in parser.found] == ["appointments-part-1.csv", "appointments-part-2.csv"]
    assert "Part 1 of 2" in page.body.decode()
    exported = []
    for href, _ in parser.found:
        part = inbox.request("GET", href.replace("&amp;", "&"), cookie)
        assert part.status_code == 200 and part.headers["Content-Type"].startswith("text/csv")
        exported += [row["id"] for row in csv.DictReader(io.StringIO(part.body.decode("utf-8-sig")))]
    assert len(exported) == total and set(exported) == seeded


def codes_mailed_to(to):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    deliver_sign_in_codes()
    return sum(to in m.destinations["ToAddresses"] for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_a_stranger_s_flood_and_wrong_guesses_do_not_lock_a_staff_member_out(inbox):
    device = cookie_of(sign_in(inbox), "staff_device")  # Ana signed in on this browser before
    for _ in range(6):  # a stranger asks from fresh browsers, and guesses in each
        asked = inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))
        assert asked.status_code == 200
        for _ in range(5):
            guessed = inbox.request("POST", "/staff/sign-in/code", {**FORM, "Cookie": cookie_of(asked, "staff_signin")},
                                    urlencode({"email": "ana@clinic.example", "code": "00000000"}))
            assert guessed.status_code == 401
    mailed = codes_mailed_to("ana@clinic.example")
    assert mailed == 1  # Ana's first code; the stranger's wait for the address's next e-mail, two minutes on
    answer = sign_in(inbox, cookies=device)  # her known browser's code comes at once, in an e-mail of its own
    assert answer.status_code == 303 and codes_mailed_to("ana@clinic.example") == mailed + 1


def test_a_shared_browser_keeps_each_person_s_device_entry(inbox, dynamodb):
    """Issue 27, item 3: Ana, then Dana, sign in on the front desk's browser; Ana's entry survives Dana's sign-in, so
    her next code still comes at once. Bug it catches: the cookie re-signed for whoever signed in last."""
    AccountAdmin(AccountRepository(dynamodb, TABLE)).add("dana@clinic.example", "Dana Desk", "staff")
    ana = sign_in(inbox)
    dana = sign_in(inbox, "dana@clinic.example", cookies=cookie_of(ana, "staff_device"))
    device = cookie_of(dana, "staff_device")
    assert len(device) < 4000
    inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))  # a stranger
    mailed = codes_mailed_to("ana@clinic.example")
    assert sign_in(inbox, cookies=device).status_code == 303
    assert codes_mailed_to("ana@clinic.example") == mailed + 1


def test_the_code_page_shows_the_words_the_e_mail_puts_beside_its_code(inbox):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    asked = inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))
    words = re.search(r"This browser's words: <strong>([a-z]+ [a-z]+)</strong>", asked.body.decode()).group(1)
    deliver_sign_in_codes()
    (mail,) = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert f'the words "{words}"' in mail.body


def test_one_bad_message_in_a_batch_neither_fails_the_batch_nor_stops_the_others_codes(inbox):
    """The queue's consumer (app.send_sign_in_codes): a message it cannot read is logged and dropped, and the others
    in its batch are handled. Bug it catches: no per-message try in signin_queue.handle_messages, so one bad message
    raises out of the handler, Lambda hands SQS back the whole batch, and each good one comes again."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=STAGE_ENV["SIGN_IN_QUEUE_URL"].rsplit("/", 1)[1])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"email": "ana@clinic.example"}')  # not a request this consumer reads
    inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    before = len(captured_log_lines())
    deliver_sign_in_codes()  # one batch of three: it raises if the handler does
    assert codes_mailed_to("ana@clinic.example") == 1
    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    assert sorted(line.get("outcome") for line in lines if line.get("event") == "sign_in_code") == [
        "dropped", "dropped", "sent"]
    assert not [line for line in lines if "ana@clinic.example" in json.dumps(line)]


def test_a_code_signs_in_only_in_the_browser_that_asked_for_it(inbox):
    asked = inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))
    code = mailed_code("ana@clinic.example")
    other = inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "nobody@clinic.example"}))
    for cookies in ("", cookie_of(other, "staff_signin")):
        refused = inbox.request("POST", "/staff/sign-in/code", {**FORM, "Cookie": cookies},
                                urlencode({"email": "ana@clinic.example", "code": code}))
        assert refused.status_code == 401
    answer = inbox.request("POST", "/staff/sign-in/code", {**FORM, "Cookie": cookie_of(asked, "staff_signin")},
                           urlencode({"email": "ana@clinic.example", "code": code}))
    assert answer.status_code == 303


def test_asking_for_a_code_while_its_queue_is_unreachable_is_a_page_to_try_again(inbox):
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=STAGE_ENV["SIGN_IN_QUEUE_URL"].rsplit("/", 1)[1])["QueueUrl"])
    asked = inbox.request("POST", "/staff/sign-in", FORM, urlencode({"email": "ana@clinic.example"}))
    assert asked.status_code == 503 and asked.headers["Retry-After"] == "5"
    assert "Please try again" in asked.body.decode()


def test_a_sign_in_id_the_browser_shows_is_never_taken_as_its_own(inbox):
    """Catches keeping a well-formed staff_signin cookie: one planted by another site on the same domain would let
    its planter ask again as her browser (replacing her code) or spend her code's tries."""
    planted = "staff_signin=" + "P" * 43
    asked = inbox.request("POST", "/staff/sign-in", {**FORM, "Cookie": planted},
                          urlencode({"email": "ana@clinic.example"}))
    assert asked.status_code == 200
    issued = cookie_of(asked, "staff_signin")
    assert issued != planted and len(issued) == len(planted)
    code = mailed_code("ana@clinic.example")
    with_planted = inbox.request("POST", "/staff/sign-in/code", {**FORM, "Cookie": planted},
                                 urlencode({"email": "ana@clinic.example", "code": code}))
    assert with_planted.status_code == 401
    signed_in = inbox.request("POST", "/staff/sign-in/code", {**FORM, "Cookie": issued},
                              urlencode({"email": "ana@clinic.example", "code": code}))
    assert signed_in.status_code == 303
