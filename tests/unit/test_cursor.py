"""Listing cursors: opaque to callers, strictly checked when they come back."""
import base64
import json

import pytest

from chalicelib.staff.triage import InvalidCursor, ListQuery
from chalicelib.storage.staff_records import decode_cursor, encode_cursor


def b64(value):
    return base64.urlsafe_b64encode(value if isinstance(value, bytes) else json.dumps(value).encode()).decode()


@pytest.mark.parametrize("cursor", [
    "garbage!",
    "a",
    "=" * 8,
    "x" * 600,
    b64(b"\xff\xfe not utf-8"),
    b64(b"not json"),
    b64([1, 2]),
    b64({"c": "2026-11-25T10:00:00.000Z"}),
    b64({"c": "2026-11-25T10:00:00.000Z", "i": "abc", "x": 1}),
    b64({"c": 5, "i": "abc"}),
    b64({"c": "2026-11-25T10:00:00.000Z", "i": "APPT#abc"}),
    b64({"c": "2026-11-25T10:00:00.000Z", "i": ""}),
    b64({"c": "2026-13-45T10:00:00.000Z", "i": "abc"}),
    b64({"c": "2026-11-25", "i": "abc"}),
    b64({"c": "2026-11-25T10:00:00.000Z", "i": "a" * 200}),
    b64({"c": "2026-11-25T10:00:00.000Z", "i": {"S": "abc"}}),
])
def test_a_cursor_the_listing_did_not_hand_out_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, ListQuery())


def test_a_cursor_comes_back_as_the_time_and_id_it_was_made_of():
    cursor = encode_cursor("2026-11-25T15:00:00.000Z", "k5qg2n4xw7ybz3hd6tjm8rfc")

    assert decode_cursor(cursor, ListQuery()) == ("2026-11-25T15:00:00.000Z", "k5qg2n4xw7ybz3hd6tjm8rfc")
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_changed_character_is_refused_or_still_a_plain_position():
    cursor = encode_cursor("2026-11-25T15:00:00.000Z", "k5qg2n4xw7ybz3hd6tjm8rfc")
    for position in range(len(cursor)):
        for char in "A_-z0":
            tampered = cursor[:position] + char + cursor[position + 1:]
            try:
                created_at, request_id = decode_cursor(tampered, ListQuery())
            except InvalidCursor:
                continue
            assert len(created_at) == 24 and request_id.replace("-", "").replace("_", "").isalnum()
