"""The webhook POST against real receivers on 127.0.0.1: statuses as given, nothing followed, a deadline for the
whole exchange, TLS checked against the URL's name while connecting to the vetted address."""
import socket
import time

import pytest

from chalicelib.webhooks.sender import READ_LIMIT, Answer, Sender
from tests.webhook_receiver import RawServer, Receiver, self_signed

BODY = b'{"type":"appointment.requested","timestamp":"2026-11-25T15:00:00.000Z","data":{"id":"r1"}}'
HEADERS = {"webhook-id": "msg_r1_0", "webhook-timestamp": "1795618800", "webhook-signature": "v1,abc",
           "content-type": "application/json"}


def only_loopback(host, port, type=0):
    """A resolver that knows one name, the way DNS would answer for a receiver on this computer."""
    assert host == "receiver.test"
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


@pytest.mark.parametrize("status", [200, 204, 400, 410, 500, 503])
def test_the_receivers_status_is_the_answer(status):
    with Receiver(lambda got: (status, {}, b"whatever")) as receiver:
        assert Sender(loopback=True).post(receiver.url, BODY, HEADERS) == Answer(status)


def test_the_body_and_headers_arrive_as_given():
    with Receiver() as receiver:
        Sender(loopback=True).post(receiver.url + "?clinic=7", BODY, HEADERS)
    [got] = receiver.received
    assert got.body == BODY and got.path == "/hooks/clinic?clinic=7"
    assert {name: got.headers[name] for name in HEADERS} == HEADERS
    assert got.headers["host"] == f"127.0.0.1:{receiver.port}"


def test_a_redirect_is_not_followed():
    def answer(got):
        return (302, {"location": "/elsewhere"}, b"") if got.path == "/hooks/clinic" else (200, {}, b"")

    with Receiver(answer) as receiver:
        assert Sender(loopback=True).post(receiver.url, BODY, HEADERS) == Answer(302)
    assert [got.path for got in receiver.received] == ["/hooks/clinic"]


def test_a_receiver_that_does_not_answer_times_out():
    def silent(connection, stop):
        stop.wait(5)

    with RawServer(silent) as server:
        started = time.monotonic()
        answer = Sender(loopback=True, timeout=0.5).post(f"http://127.0.0.1:{server.port}/", BODY, HEADERS)
    assert answer == Answer(None, "timeout")
    assert time.monotonic() - started < 2


def test_the_timeout_bounds_the_whole_exchange_not_each_read():
    """A receiver trickling its headers a byte at a time never lets a single read time out."""
    def trickle(connection, stop):
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.05):
            connection.sendall(b"x")

    with RawServer(trickle) as server:
        started = time.monotonic()
        answer = Sender(loopback=True, timeout=0.5).post(f"http://127.0.0.1:{server.port}/", BODY, HEADERS)
    assert answer == Answer(None, "timeout")
    assert time.monotonic() - started < 2


def test_only_the_start_of_a_long_answer_is_read():
    """The status comes as soon as the headers do: the receiver's body is never waited for."""
    def endless(connection, stop):
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100000000\r\n\r\n" + b"x" * (READ_LIMIT * 2))
        stop.wait(5)

    with RawServer(endless) as server:
        answer = Sender(loopback=True, timeout=1).post(f"http://127.0.0.1:{server.port}/", BODY, HEADERS)
    assert answer == Answer(200)


def test_a_closed_port_is_a_connection_failure():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    assert Sender(loopback=True).post(f"http://127.0.0.1:{port}/", BODY, HEADERS) == Answer(None, "connection")


def test_outside_the_local_stack_plain_http_and_loopback_are_refused_before_connecting():
    with Receiver() as receiver:
        assert Sender(loopback=False).post(receiver.url, BODY, HEADERS) == Answer(None, "scheme")
        https = f"https://127.0.0.1:{receiver.port}/"
        assert Sender(loopback=False).post(https, BODY, HEADERS) == Answer(None, "private")
    assert receiver.received == []


def test_tls_names_and_checks_the_urls_host_while_connecting_to_the_vetted_address(tmp_path):
    server_context, client_context = self_signed("receiver.test", tmp_path)
    with Receiver(tls=server_context) as receiver:
        url = f"https://receiver.test:{receiver.port}/hooks/clinic"
        sender = Sender(loopback=True, resolve=only_loopback, context=client_context)
        assert sender.post(url, BODY, HEADERS) == Answer(204)
    [got] = receiver.received
    assert got.server_name == "receiver.test"
    assert got.headers["host"] == f"receiver.test:{receiver.port}"


def test_a_certificate_for_another_name_is_refused(tmp_path):
    server_context, _ = self_signed("other.test", tmp_path)
    _, trusting_both = self_signed("receiver.test", tmp_path)
    trusting_both.load_verify_locations(cafile=str(tmp_path / "other.test.pem"))
    with Receiver(tls=server_context) as receiver:
        url = f"https://receiver.test:{receiver.port}/hooks/clinic"
        answer = Sender(loopback=True, resolve=only_loopback, context=trusting_both).post(url, BODY, HEADERS)
    assert answer == Answer(None, "tls")
    assert receiver.received == []


def test_an_untrusted_certificate_is_refused(tmp_path):
    server_context, _ = self_signed("receiver.test", tmp_path)
    with Receiver(tls=server_context) as receiver:
        url = f"https://receiver.test:{receiver.port}/hooks/clinic"
        answer = Sender(loopback=True, resolve=only_loopback).post(url, BODY, HEADERS)
    assert answer == Answer(None, "tls")


def test_the_deadline_cuts_a_tls_answer_trickling_in_too(tmp_path):
    server_context, client_context = self_signed("receiver.test", tmp_path)

    def trickle(connection, stop):
        with server_context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.05):
                tls.sendall(b"x")

    with RawServer(trickle) as server:
        started = time.monotonic()
        sender = Sender(loopback=True, resolve=only_loopback, context=client_context, timeout=0.5)
        answer = sender.post(f"https://receiver.test:{server.port}/", BODY, HEADERS)
    assert answer == Answer(None, "timeout")
    assert time.monotonic() - started < 2
