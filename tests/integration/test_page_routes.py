"""GET /, /thanks and the page's assets through Chalice's test client."""
import json
import re

import pytest

from tests.conftest import captured_log_lines

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_form_page_is_served_with_its_policy(api):
    response = api.request("GET", "/", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "form-action 'self' http://127.0.0.1:8000" in response.headers["Content-Security-Policy"]
    assert b'<form class="appointment-form" action="appointments" method="post"' in response.body


def test_the_thank_you_page_is_served(api):
    response = api.request("GET", "/thanks", headers=BROWSER)

    assert response.status_code == 200
    assert b"<h1>Thank you</h1>" in response.body


def test_the_assets_the_page_names_are_served(api):
    page = api.request("GET", "/", headers=BROWSER).body.decode()

    for url, media_type in (("form.css", "text/css"), ("form.js", "text/javascript")):
        versioned = re.search(rf'"({re.escape(url)}\?v=[0-9a-f]+)"', page).group(1)
        response = api.request("GET", "/" + versioned)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(media_type)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert len(response.body) > 500


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 200), ("GET", "/thanks", 200), ("GET", "/form.css", 200), ("GET", "/form.js", 200),
    ("GET", "/openapi.json", 200), ("OPTIONS", "/appointments", 204),
])
@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "application/json"])
def test_a_content_type_on_a_request_without_a_body_changes_nothing(api, method, path, status, content_type):
    origin = "http://localhost:8080"
    before = len(captured_log_lines())
    response = api.request(method, path, headers={"Content-Type": content_type, "Origin": origin,
                                                  "Access-Control-Request-Method": "POST"})

    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == origin
    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    assert [line["status"] for line in lines if line.get("event") == "request"] == [status]
