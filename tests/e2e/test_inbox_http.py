"""The staff inbox over real HTTP against the running stack: sign-in by e-mailed code, the session
cookie, the same-origin rule, the staff API through the session. (The pages in a browser:
test_inbox_browser.py.)"""
import re
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


def new_address():
    return f"staff-{uuid.uuid4().hex[:10]}@clinic.example"


def sign_in(stack, email, next_id=None, wait=15.0):
    """A signed-in requests.Session, as a browser on the inbox's own origin would be. `wait`: how long its code may
    take (an address's e-mails of codes to browsers that never signed in go two minutes apart)."""
    browser = requests.Session()
    browser.headers["Origin"] = stack.base_url
    before = len(stack.sent_mail(email))
    form = {"email": email, **({"next": next_id} if next_id else {})}
    asked = browser.post(stack.base_url + "/staff/sign-in", data=form, timeout=10)
    assert asked.status_code == 200
    code = stack.sign_in_code(email, after=before, timeout=wait)
    answer = browser.post(stack.base_url + "/staff/sign-in/code", data={**form, "code": code},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text
    return browser, answer


def test_an_active_account_signs_in_with_the_mailed_code(stack):
    email = new_address()
    stack.add_staff(email, "Dana Desk")
    browser, answer = sign_in(stack, email)
    assert answer.headers["Location"] == "/staff/"
    listing = browser.get(stack.base_url + "/staff/", timeout=10)
    assert listing.status_code == 200 and "Dana Desk" in listing.text


def test_the_session_cookie_is_httponly_same_site_and_scoped_to_staff(stack):
    email = new_address()
    stack.add_staff(email, "Cookie Checker")
    _, answer = sign_in(stack, email)
    cookies = {}
    for cookie in answer.raw.headers.getlist("Set-Cookie"):
        attributes = [part.strip() for part in cookie.split(";")]
        name, value = attributes[0].split("=", 1)
        cookies[name] = (value, set(attributes[1:]))
    value, attributes = cookies["staff_session"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    assert attributes == {"Path=/staff", "HttpOnly", "SameSite=Lax"}  # no Secure over http://
    value, attributes = cookies["staff_device"]  # this browser signed in before: it keeps getting codes
    assert re.fullmatch(r"[A-Za-z0-9_-]{86}", value)  # one signed entry, for this address (staff/devices.py)
    assert attributes == {"Path=/staff", "HttpOnly", "SameSite=Lax", "Max-Age=34560000"}


def test_an_unknown_address_gets_the_same_page_and_no_mail(stack):
    browser = requests.Session()
    browser.headers["Origin"] = stack.base_url
    known, unknown = new_address(), new_address()
    stack.add_staff(known, "Known Person")
    pages = []
    for email in (known, unknown):
        page = browser.post(stack.base_url + "/staff/sign-in", data={"email": email}, timeout=10)
        # Every request is a new browser id with words of its own (chance, not the address): set them aside.
        words = re.search(r"This browser's words: <strong>([^<]+)</strong>", page.text).group(1)
        pages.append((page.status_code, page.text.replace(email, "ADDRESS").replace(words, "WORDS")))
    assert pages[0] == pages[1]
    stack.sign_in_code(known)  # the known address's mail has arrived: the unknown one's would have too
    assert stack.sent_mail(unknown) == []


def test_another_origin_cannot_act_through_a_signed_in_browser(stack):
    email = new_address()
    stack.add_staff(email, "Origin Checker")
    browser, _ = sign_in(stack, email)
    created = requests.post(stack.base_url + "/appointments", timeout=10, json={
        "first_name": "Origin", "last_name": "Test", "email": "origin.test@example.com", "phone": "212-555-0142",
        "location": "downtown", "contact_consent": True})
    request_id = created.json()["id"]
    for origin in ("http://127.0.0.1:8080", "null", None):
        headers = {"Origin": origin} if origin else {}
        browser.headers.pop("Origin", None)
        refused = browser.post(f"{stack.base_url}/staff/requests/{request_id}/status", headers=headers,
                               data={"status": "contacted"}, allow_redirects=False, timeout=10)
        assert refused.status_code == 403
        refused = browser.patch(f"{stack.base_url}/staff/appointments/{request_id}", headers=headers,
                                json={"status": "contacted"}, timeout=10)
        assert refused.status_code == 403
    assert browser.get(f"{stack.base_url}/staff/appointments/{request_id}", timeout=10).json()["status"] == "new"
    moved = browser.post(f"{stack.base_url}/staff/requests/{request_id}/status", headers={"Origin": stack.base_url},
                         data={"status": "contacted", "note": "Left a voicemail."}, allow_redirects=False, timeout=10)
    assert moved.status_code == 303
    assert browser.get(f"{stack.base_url}/staff/appointments/{request_id}", timeout=10).json()["status"] == "contacted"


def test_signing_out_ends_the_session_on_the_server(stack):
    email = new_address()
    stack.add_staff(email, "Sign Out")
    browser, answer = sign_in(stack, email)
    stolen = answer.cookies["staff_session"]
    out = browser.post(stack.base_url + "/staff/sign-out", timeout=10)
    assert out.status_code == 200 and "Max-Age=0" in out.headers["Set-Cookie"]
    replayed = requests.get(stack.base_url + "/staff/appointments", cookies={"staff_session": stolen}, timeout=10)
    assert replayed.status_code == 401


def test_disabling_an_account_ends_its_session_at_once(stack):
    email = new_address()
    stack.add_staff(email, "Soon Gone")
    browser, _ = sign_in(stack, email)
    assert browser.get(stack.base_url + "/staff/appointments", timeout=10).status_code == 200
    import io

    from tools import staff_accounts

    staff_accounts.main(["disable", "--email", email], client=stack.client("dynamodb"), out=io.StringIO())
    assert browser.get(stack.base_url + "/staff/appointments", timeout=10).status_code == 401


def staff_accounts(stack, *argv):
    """`make staff-add` / `make staff-disable` against the running stack."""
    import io

    from tools import staff_accounts as command

    command.main(list(argv), client=stack.client("dynamodb"), out=io.StringIO())


def test_disabling_ends_sessions_and_tokens_for_good_and_enabling_again_brings_none_back(stack):
    import os
    import subprocess
    import sys

    from tools.resources import ROOT

    email = new_address()
    stack.add_staff(email, "Lost Phone")
    browser, _ = sign_in(stack, email)
    made = subprocess.run([sys.executable, "-m", "tools.staff_tokens", "create", "--email", email], cwd=ROOT,
                          env={**os.environ, **stack.aws_env}, capture_output=True, text=True, check=True)
    bearer = {"Authorization": f"Bearer {made.stdout.splitlines()[-1]}"}
    assert browser.get(stack.base_url + "/staff/appointments", timeout=10).status_code == 200
    assert requests.get(stack.base_url + "/staff/appointments", headers=bearer, timeout=10).status_code == 200

    staff_accounts(stack, "disable", "--email", email)
    staff_accounts(stack, "add", "--email", email, "--name", "Lost Phone", "--role", "staff")  # enabled again

    assert browser.get(stack.base_url + "/staff/appointments", timeout=10).status_code == 401
    assert requests.get(stack.base_url + "/staff/appointments", headers=bearer, timeout=10).status_code == 401
    # The account works again, with what is made after it came back: a new token here. (A new sign-in works too,
    # but this address had a code mailed a moment ago, so a browser that never signed in would wait up to two
    # minutes for the next e-mail of codes: tests/integration/test_signin_follow_up.py shows that wait.)
    again = subprocess.run([sys.executable, "-m", "tools.staff_tokens", "create", "--email", email], cwd=ROOT,
                           env={**os.environ, **stack.aws_env}, capture_output=True, text=True, check=True)
    fresh = {"Authorization": f"Bearer {again.stdout.splitlines()[-1]}"}
    assert requests.get(stack.base_url + "/staff/appointments", headers=fresh, timeout=10).status_code == 200
