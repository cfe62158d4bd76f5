"""Where a webhook may go: its URL's host resolved once, at delivery time, and refused unless every address it
resolves to is on the public internet.

An admin's URL is checked when it is added (webhooks.endpoints), but a DNS name can be pointed anywhere later: at
the instance metadata service (169.254.169.254, fd00:ec2::254), at the VPC, at the machine itself. So the name is
resolved here, each address judged, and the POST connects to a vetted address itself (webhooks.sender), never
resolving the name again: a name that answers a public address to the check and a private one to the connection
(DNS rebinding) gets nowhere. Under `make run` (WEBHOOK_LOOPBACK) receivers on this computer are the point, and
nothing is refused.
"""
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits: that address is what it reaches.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Refusals of the URL or its addresses (a name that does not resolve, "dns", is a failure like any other).
REFUSALS = ("url", "scheme", "address", "private")


class Refused(Exception):
    """A URL the delivery will not connect to. `reason` is one word for the logs, never the URL or an address."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as the URL gives it: the Host header, the TLS server name and the certificate's name
    port: int
    path: str  # the path and query, as the request line sends them
    addresses: tuple  # (family, sockaddr) pairs, vetted, in the resolver's order: what the POST connects to


def is_public(address):
    """Whether `address` (an ipaddress object) is on the public internet, and so no business of this network's.

    `is_global` alone is not enough: Python counts multicast (224.0.0.0/4, ff00::/8) as global. An IPv6 address
    that carries an IPv4 one (IPv4-mapped, 6to4, NAT64) is judged by the IPv4 address it reaches too."""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
    if address.version == 6 and address.is_site_local:  # fec0::/10: deprecated, yet `is_global` to Python
        return False
    return address.is_global and not (
        address.is_multicast or address.is_private or address.is_reserved or address.is_loopback
        or address.is_link_local or address.is_unspecified)


def vet(url, loopback, resolve=socket.getaddrinfo):
    """The Target of `url`, resolved now; Refused when it may not be sent to.

    `loopback` (WEBHOOK_LOOPBACK, the local stack only) allows plain http:// and every address. Otherwise only
    https:// goes, and only to a name whose every address is public: one private address among public ones is
    a name pointed into this network, and refused whole."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme, parts.hostname, parts.port
    except (ValueError, TypeError, AttributeError):
        raise Refused("url") from None
    if not host or scheme not in DEFAULT_PORTS or (scheme == "http" and not loopback):
        raise Refused("scheme")
    port = port or DEFAULT_PORTS[scheme]
    try:
        found = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused("dns") from None
    addresses = tuple(dict.fromkeys((family, sockaddr) for family, _, _, _, sockaddr in found
                                    if family in (socket.AF_INET, socket.AF_INET6)))
    if not addresses:
        raise Refused("dns")
    if not loopback:
        for _, sockaddr in addresses:
            try:
                address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
            except ValueError:
                raise Refused("address") from None
            if not is_public(address):
                raise Refused("private")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, addresses)
