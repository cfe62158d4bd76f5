"""One webhook POST, with the standard library's http.client: nothing followed, nothing kept, nothing raised.

The connection goes to the address webhooks.addresses vetted, while the Host header, TLS's server name (SNI) and
the certificate check use the URL's host name, so a certificate is checked as for any https:// URL. http.client
never follows a redirect: a 3xx is the receiver's answer, like any other. At most READ_LIMIT bytes of the
answer are read, and dropped unlooked at (a receiver's body is not ours to keep).

TIMEOUT_SECONDS bounds the whole exchange once the name is resolved, not each read: socket timeouts restart with
every byte, so a receiver trickling its headers a byte at a time would hold the function for as long as it liked.
A timer shuts the socket at the deadline instead.
"""
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

from .addresses import Refused, vet

TIMEOUT_SECONDS = 10
READ_LIMIT = 4096
USER_AGENT = "appointments-webhooks/1"


@dataclass(frozen=True)
class Answer:
    status: Optional[int]  # the receiver's HTTP status; None when none came
    error: Optional[str] = None  # why none came: a Refused reason, "dns", "timeout", "connection", "tls", "protocol"


def open_socket(addresses, deadline, clock=time.monotonic):
    """A TCP connection to the first of the vetted `addresses` that answers before the deadline."""
    error = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(max(deadline - clock(), 0.001))
            sock.connect(sockaddr)
            return sock
        except OSError as failure:
            sock.close()
            error = failure
    raise error


class _Connection(http.client.HTTPConnection):
    def __init__(self, target, deadline, connect):
        super().__init__(target.host, target.port, timeout=None)
        self._target, self._deadline, self._connect = target, deadline, connect

    def connect(self):
        self.sock = self._connect(self._target.addresses, self._deadline)


class _TlsConnection(http.client.HTTPSConnection):
    def __init__(self, target, deadline, connect, context):
        super().__init__(target.host, target.port, timeout=None, context=context)
        self._target, self._deadline, self._connect = target, deadline, connect

    def connect(self):
        sock = self._connect(self._target.addresses, self._deadline)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self._target.host,
                                                  do_handshake_on_connect=False)
        except BaseException:
            sock.close()
            raise
        self.sock.do_handshake()  # with self.sock set, the deadline's timer can cut a handshake that drags on


class Sender:
    def __init__(self, loopback, *, resolve=socket.getaddrinfo, connect=None, context=None,
                 timeout=TIMEOUT_SECONDS, clock=time.monotonic):
        self._loopback = loopback  # settings.webhook_loopback: the local stack's receivers on this computer
        self._resolve = resolve
        self._connect = connect or (lambda addresses, deadline: open_socket(addresses, deadline, clock))
        self._context = context  # the default verifies certificates and host names against the system's CAs
        self._timeout = timeout
        self._clock = clock

    def post(self, url, body, headers):
        """POST `body` (bytes) to `url`: the receiver's status, or why there was none."""
        try:
            target = vet(url, self._loopback, self._resolve)
        except Refused as refused:
            return Answer(None, refused.reason)
        deadline = self._clock() + self._timeout
        if target.scheme == "https":
            if self._context is None:  # once: it reads the system's CA certificates
                self._context = ssl.create_default_context()
            connection = _TlsConnection(target, deadline, self._connect, self._context)
        else:
            connection = _Connection(target, deadline, self._connect)
        expired = threading.Event()
        timer = threading.Timer(self._timeout, _cut, (connection, expired))
        timer.daemon = True
        timer.start()
        try:
            connection.request("POST", request_target(target.path), body=body,
                               headers={"user-agent": USER_AGENT, **headers})
            response = connection.getresponse()
            # A cut socket reads as the end of the answer, which http.client may take for a whole one: a status
            # counts only when its headers came before the deadline.
            if expired.is_set():
                return Answer(None, "timeout")
            status = response.status
            try:
                response.read(READ_LIMIT)  # the receiver has answered: a body that never comes changes nothing
            except Exception:  # noqa: BLE001
                pass
        except Exception as error:  # noqa: BLE001 - any failure is an outcome of the attempt, never an exception
            return Answer(None, "timeout" if expired.is_set() else _kind(error))
        finally:
            timer.cancel()
            connection.close()
        return Answer(status)


def request_target(path):
    """The path and query as a request line may carry them: ASCII, what is not percent-encoded as UTF-8 (as a
    browser sends https://host/café), so that a URL the add form took can be sent at all."""
    return quote(path, safe="".join(chr(c) for c in range(33, 127)))


def _cut(connection, expired):
    """At the deadline: shut the socket, so that a read under way ends at once."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            # socket.socket's own shutdown, also for a TLS socket: SSLSocket.shutdown would drop its state under the
            # read still using it. A shut socket makes that read end, in error or at end of file.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def _kind(error):
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, (ssl.SSLError, ssl.CertificateError)):
        return "tls"
    if isinstance(error, http.client.HTTPException):
        return "protocol"
    return "connection"
