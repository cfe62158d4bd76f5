"""The network a sign-in request came from, kept only as a keyed hash (staff/sign_in_sources.py)."""
import hashlib

import pytest

from chalicelib.staff.http import source_ip
from chalicelib.staff.sign_in_sources import UNKNOWN, source_of

KEY = b"n" * 32


def test_one_network_is_one_source_and_another_network_another():
    assert source_of(KEY, "203.0.113.7") == source_of(KEY, "203.0.113.200") != source_of(KEY, "203.0.114.7")
    assert (source_of(KEY, "2001:db8:1:2::1") == source_of(KEY, "2001:db8:1:2:ffff::9")
            != source_of(KEY, "2001:db8:1:3::1"))
    assert source_of(KEY, "::ffff:203.0.113.9") == source_of(KEY, "203.0.113.7")


def test_the_source_is_keyed_not_a_plain_hash_of_the_network():
    """Bug it catches: hashlib.sha256(network) — 2^24 IPv4 networks, reversed in seconds."""
    source = source_of(KEY, "203.0.113.7")
    assert len(source) == 16 and source != source_of(b"m" * 32, "203.0.113.7")
    assert source not in {hashlib.sha256(text.encode()).hexdigest()[:16]
                          for text in ("203.0.113.0/24", "203.0.113.0", "203.0.113.7", "203.0.113")}


@pytest.mark.parametrize("ip", [None, "", "not an address", "203.0.113", 7])
def test_a_missing_or_unreadable_address_is_the_one_unknown_source(ip):
    assert source_of(KEY, ip) == UNKNOWN


class _Request:
    def __init__(self, context):
        self.context = context


@pytest.mark.parametrize("context, ip", [
    ({"identity": {"sourceIp": "203.0.113.7"}}, "203.0.113.7"), ({"identity": {}}, None), ({}, None), (None, None),
])
def test_the_route_takes_the_address_api_gateway_saw(context, ip):
    assert source_ip(_Request(context)) == ip
