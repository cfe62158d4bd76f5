"""The one signer of time-stamped values: what it makes reads back, and nothing else does."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.signing import Signer

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)
SIGNER = Signer(b"k" * 32, 16)
PAYLOAD = bytes(range(16))


def test_a_signed_value_reads_back_with_its_time_to_the_millisecond():
    value = SIGNER.sign(PAYLOAD, NOW - timedelta(milliseconds=2999))
    read = SIGNER.read(value, NOW, DAY)
    assert (read.payload, NOW - read.made_at) == (PAYLOAD, timedelta(milliseconds=2999))
    assert len(value) == SIGNER.length == 54 and set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("change", [
    lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),  # another signature
    lambda v: ("A" if v[0] != "A" else "B") + v[1:],  # another time
    lambda v: v[:20] + ("A" if v[20] != "A" else "B") + v[21:],  # another payload
    lambda v: v[:-1],  # cut short
    lambda v: v + "A",  # too long
    lambda v: v.replace(v[5], "+", 1),  # outside the alphabet
    lambda v: "\u202e" + v[1:],
    lambda v: None,
    lambda v: 12345,
])
def test_anything_changed_does_not_read(change):
    assert SIGNER.read(change(SIGNER.sign(PAYLOAD, NOW)), NOW, DAY) is None


def test_another_key_or_purpose_does_not_read_it():
    value = SIGNER.sign(PAYLOAD, NOW)
    assert Signer(b"x" * 32, 16).read(value, NOW, DAY) is None


def test_its_age_counts_up_to_the_limit_and_never_from_the_future():
    value = SIGNER.sign(PAYLOAD, NOW)
    assert SIGNER.read(value, NOW + DAY, DAY) is not None
    assert SIGNER.read(value, NOW + DAY + timedelta(milliseconds=1), DAY) is None
    assert SIGNER.read(value, NOW - timedelta(milliseconds=1), DAY) is None


def test_a_payload_of_another_length_is_refused_when_signing():
    with pytest.raises(ValueError):
        SIGNER.sign(b"short", NOW)
