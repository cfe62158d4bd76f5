"""Where a webhook may go: only to public addresses, resolved once, and the connection made to the one vetted."""
import socket

import pytest

from chalicelib.webhooks.addresses import REFUSALS, Refused, vet
from chalicelib.webhooks.sender import Answer, Sender


class Resolver:
    """DNS as the test tells it: each call answers the next list of addresses (the last one again after that)."""

    def __init__(self, *answers):
        self._answers = list(answers)
        self.calls = []

    def __call__(self, host, port, type=0):
        self.calls.append((host, port))
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if isinstance(answer, Exception):
            raise answer
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, port, 0, 0) if ":" in ip else (ip, port)) for ip in answer]


URL = "https://hooks.receiver.example/clinic?token=abc"


@pytest.mark.parametrize("address", [
    "10.1.2.3", "172.16.0.1", "192.168.1.1",  # private
    "127.0.0.1", "127.8.9.10", "::1",  # loopback
    "169.254.169.254", "169.254.0.1", "fe80::1",  # link-local, the instance metadata service among them
    "fd00:ec2::254", "fc00::1",  # unique local, the metadata service over IPv6 among them
    "224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1",  # multicast (Python calls some of it global)
    "0.0.0.0", "::",  # unspecified
    "240.0.0.1", "255.255.255.255",  # reserved, broadcast
    "100.64.0.1", "100.127.255.254",  # shared address space (carrier-grade NAT)
    "192.0.2.1", "198.18.0.1", "2001:db8::1",  # documentation, benchmarking
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",  # IPv4-mapped
    "2002:a9fe:a9fe::1", "2002:0a00:0001::1",  # 6to4 of the metadata service, of a private address
    "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",  # NAT64 of the metadata service, of loopback
])
def test_an_address_off_the_public_internet_is_refused(address):
    with pytest.raises(Refused) as refused:
        vet(URL, loopback=False, resolve=Resolver([address]))
    assert refused.value.reason == "private"


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808"])
def test_a_public_address_is_the_one_to_connect_to(address):
    target = vet(URL, loopback=False, resolve=Resolver([address]))
    assert [sockaddr[0] for _, sockaddr in target.addresses] == [address]
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.receiver.example", 443,
                                                                      "/clinic?token=abc")


def test_one_private_address_among_public_ones_refuses_the_name():
    with pytest.raises(Refused):
        vet(URL, loopback=False, resolve=Resolver(["93.184.215.14", "169.254.169.254"]))


def test_the_port_and_every_address_are_kept_in_the_resolvers_order():
    resolver = Resolver(["2606:4700::1111", "93.184.215.14", "93.184.215.14"])
    target = vet("https://hooks.receiver.example:8443", loopback=False, resolve=resolver)
    assert resolver.calls == [("hooks.receiver.example", 8443)]
    assert [sockaddr[0] for _, sockaddr in target.addresses] == ["2606:4700::1111", "93.184.215.14"]
    assert [family for family, _ in target.addresses] == [socket.AF_INET6, socket.AF_INET]
    assert target.path == "/"


@pytest.mark.parametrize("url", ["http://hooks.receiver.example/x", "ftp://hooks.receiver.example/x", "hooks",
                                 "https:///nohost"])
def test_anything_but_https_is_refused_outside_the_local_stack(url):
    resolver = Resolver(["93.184.215.14"])
    with pytest.raises(Refused) as refused:
        vet(url, loopback=False, resolve=resolver)
    assert refused.value.reason in REFUSALS and resolver.calls == []


def test_in_the_local_stack_plain_http_and_loopback_go():
    target = vet("http://127.0.0.1:9000/hook", loopback=True, resolve=Resolver(["127.0.0.1"]))
    assert [sockaddr for _, sockaddr in target.addresses] == [("127.0.0.1", 9000)]


def test_a_name_that_does_not_resolve_is_a_failure_not_a_refusal():
    with pytest.raises(Refused) as refused:
        vet(URL, loopback=False, resolve=Resolver(socket.gaierror(socket.EAI_NONAME, "unknown")))
    assert refused.value.reason == "dns" and "dns" not in REFUSALS


class Connections:
    """Records where the sender connects, and refuses every connection (no network in unit tests)."""

    def __init__(self):
        self.tried = []

    def __call__(self, addresses, deadline):
        self.tried.append([sockaddr for _, sockaddr in addresses])
        raise ConnectionRefusedError()


def test_the_sender_connects_to_the_vetted_address_and_never_asks_dns_again():
    """DNS rebinding: the name answers a public address to the check, loopback to any later question."""
    resolver, connections = Resolver(["93.184.215.14"], ["127.0.0.1"]), Connections()
    sender = Sender(loopback=False, resolve=resolver, connect=connections)
    assert sender.post(URL, b"{}", {}) == Answer(None, "connection")
    assert connections.tried == [[("93.184.215.14", 443)]]
    assert len(resolver.calls) == 1


def test_the_sender_refuses_a_rebound_name_without_connecting():
    resolver, connections = Resolver(["169.254.169.254"]), Connections()
    assert Sender(loopback=False, resolve=resolver, connect=connections).post(URL, b"{}", {}) == Answer(None, "private")
    assert connections.tried == []


@pytest.mark.parametrize("address", ["fec0::1", "feff:ffff::1"])
def test_a_site_local_address_is_refused(address):
    """fec0::/10, IPv6's old site-local range (RFC 3879 deprecated it, nothing routes it on the internet), which
    Python still calls global: a network that uses it is a private one."""
    with pytest.raises(Refused) as refused:
        vet(URL, loopback=False, resolve=Resolver([address]))
    assert refused.value.reason == "private"
