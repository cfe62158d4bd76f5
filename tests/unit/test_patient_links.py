"""The patient's page link: a signed token of the request's id, nothing else."""
import base64
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.intake.service import random_id
from chalicelib.core.patient_links import page_token, page_url, read_page_token

KEY = b"k" * 32
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)


def test_a_token_names_its_request_and_nothing_else():
    request_id = random_id()
    token = page_token(KEY, request_id, NOW)

    assert read_page_token(KEY, token, NOW + timedelta(days=400)) == request_id
    assert len(token) == 52 and "=" not in token


def test_a_forged_truncated_or_other_key_s_token_names_nothing():
    token = page_token(KEY, random_id(), NOW)
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]

    for bad in (flipped, token[:-1], token + "A", "", "x" * 52, page_token(b"o" * 32, random_id(), NOW), None):
        assert read_page_token(KEY, bad, NOW) is None


def test_the_id_inside_is_the_id_not_text_a_person_typed():
    with pytest.raises(ValueError):
        page_token(KEY, "jane.doe@example.com", NOW)
    with pytest.raises(ValueError):
        page_token(KEY, base64.b32encode(b"x" * 15).decode(), NOW)  # upper case: never an id of ours


def test_the_url_is_the_public_base_and_the_token(settings):
    assert page_url(settings, "abc") == f"{settings.public_base_url}/r/abc"
