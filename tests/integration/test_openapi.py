"""The OpenAPI document: generated from the routes and models, valid, served, committed."""
import json

from openapi_spec_validator import validate

from chalicelib import openapi
from tools.openapi import DOCUMENT, render


def test_every_route_is_in_the_document_and_it_is_valid_openapi_3_1():
    from app import app

    document = openapi.build(app.routes)
    validate(document)
    assert document["openapi"] == "3.1.0"
    for path, methods in app.routes.items():
        for method in methods:
            assert method.lower() in document["paths"][path]


def test_the_request_body_is_the_form_model():
    from app import app

    schema = openapi.build(app.routes)["components"]["schemas"]["AppointmentForm"]
    assert {"first_name", "last_name", "email", "phone", "location", "contact_consent"} <= set(schema["required"])
    assert "suspected_spam" not in schema["properties"]
    assert schema["properties"]["message"]["maxLength"] == 2000


def test_the_served_document_is_the_committed_one(api):
    response = api.request("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == json.loads(DOCUMENT.read_text()), "run `make openapi`"
    assert DOCUMENT.read_text() == render(), "run `make openapi`"
