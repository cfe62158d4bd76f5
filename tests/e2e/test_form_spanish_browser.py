"""The form in Spanish, in Chromium against the running stack: the page, its answers and the confirmation,
with JavaScript on and off, axe-clean at 360 px; staff are told the language."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_confirmations_http import fresh_address, mail_to
from tests.e2e.test_form_browser import (  # noqa: F401 (fixtures)
    PHONE, axe_violations, browser, fill, open_page, plain, playwright, stored_with_message, thank_you_browser,
)

pytestmark = pytest.mark.e2e


def send(page, status):
    with page.expect_response(lambda r: r.url.endswith("/appointments") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Enviar solicitud").click()
    assert answer.value.status == status
    return answer.value


def paciente(**overrides):
    fields = {"first_name": "Lucía", "last_name": "Fernández Ortega", "email": fresh_address(),
              "phone": "(212) 555-0142", "location": "downtown", "contact_consent": True,
              "message": f"Me duele la rodilla al subir escaleras ({uuid.uuid4().hex[:10]})"}
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not ...}


def test_the_spanish_page_with_javascript_sends_and_is_stored_and_confirmed_in_spanish(stack, open_page):
    page = open_page(stack.base_url + "/?lang=es", viewport=PHONE)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Solicitar una cita")
    fields = paciente()
    fill(page, fields)

    answer = send(page, 201)

    expect(page.locator(".form-success")).to_contain_text("Gracias – su solicitud se ha enviado")
    expect(page.locator(".form-success")).to_contain_text("Su número de referencia: " + answer.json()["id"])
    [item] = stored_with_message(stack, fields["message"])
    stored = plain(item)
    assert stored["language"] == "es"
    assert stored["consent"]["contact"]["language"] == "es"
    [mail] = mail_to(stack, fields["email"])
    assert mail["Content"]["Simple"]["Subject"]["Data"] == "Hemos recibido su solicitud de cita"
    assert re.search(r"a más tardar el (lunes|martes|miércoles|jueves|viernes|sábado|domingo) \d+ de \w+",
                     mail["Content"]["Simple"]["Body"]["Text"]["Data"])
    assert page.problems == []


def test_the_spanish_page_shows_what_to_fix_in_spanish(stack, open_page):
    page = open_page(stack.base_url + "/?lang=es")
    fill(page, {"email": "no-es-un-correo", "contact_consent": True})

    send(page, 422)

    expect(page.locator(".error-summary")).to_contain_text(re.compile(r"Hay \d+ problemas en su solicitud"))
    expect(page.locator('[data-field="first_name"]')).to_contain_text("Escriba su nombre.")
    expect(page.locator("#form-status")).to_contain_text("Corrija los campos señalados")


def test_without_javascript_a_spanish_post_is_answered_in_spanish(stack, open_page, thank_you_browser):
    page = open_page(stack.base_url + "/?lang=es", browser=thank_you_browser, java_script_enabled=False,
                     locale="es-MX")
    fill(page, paciente(phone="12"))
    page.get_by_role("button", name="Enviar solicitud").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revise su solicitud de cita")
    expect(page.locator("body")).to_contain_text("Teléfono")

    page.go_back()
    fields = paciente()
    page.goto(stack.base_url + "/?lang=es")
    fill(page, fields)
    with page.expect_navigation(url=re.compile(re.escape(stack.settings_env["THANK_YOU_URL"] + "?lang=es&ref="))):
        page.get_by_role("button", name="Enviar solicitud").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias")
    [item] = stored_with_message(stack, fields["message"])
    assert plain(item)["language"] == "es"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_axe_finds_nothing_on_the_spanish_page_at_360px(stack, open_page, browser, javascript):
    # axe itself is a script: "without JavaScript" is the page with form.js kept from loading.
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    if not javascript:
        context.route("**/form.js*", lambda route: route.abort())
    page = context.new_page()
    page.goto(stack.base_url + "/?lang=es")
    expect(page.locator(".error-summary")).to_have_count(1 if javascript else 0)
    assert axe_violations(page) == [], "\n".join(axe_violations(page))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_the_switch_leads_to_the_other_language_and_the_screenshot_is_saved(stack, open_page):
    page = open_page(stack.base_url + "/", viewport=PHONE)
    page.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "form-spanish-phone.png"), full_page=False)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request an Appointment")
