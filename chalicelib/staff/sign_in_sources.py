"""The network a sign-in request came from, as the queue and the store keep it: a keyed hash of its /24 (IPv4) or
/64 (IPv6), never the address itself. An address's waiting list holds one request per network (code_mail.py), so
a stranger asking from one network takes one place however often they ask."""
import hashlib
import hmac
import ipaddress

UNKNOWN = "unknown"  # a request whose address is missing or unreadable: all of them are one source
_SOURCE_CHARS = 16


def source_of(key, ip):
    """The source of a request from `ip` (as API Gateway gives it), keyed with `key` (core.keys, "sign-in sources")."""
    try:
        address = ipaddress.ip_address(ip.strip()) if isinstance(ip, str) else None
    except ValueError:
        address = None
    if address is None:
        return UNKNOWN
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    network = ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 64}", strict=False)
    return hmac.new(key, str(network).encode("ascii"), hashlib.sha256).hexdigest()[:_SOURCE_CHARS]
