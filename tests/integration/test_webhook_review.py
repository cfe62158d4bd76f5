"""Review findings on the webhook POST, against real receivers on 127.0.0.1."""
import time

from chalicelib.webhooks.sender import Answer, Sender
from tests.webhook_receiver import RawServer

BODY = b'{"type":"appointment.requested","timestamp":"2026-11-25T15:00:00.000Z","data":{"id":"r1"}}'
HEADERS = {"webhook-id": "msg_r1_0", "webhook-timestamp": "1795618800", "webhook-signature": "v1,abc",
           "content-type": "application/json"}


def test_a_status_that_came_in_time_counts_though_the_body_never_does():
    """The receiver said 200 at once and then kept its connection open with the body still to come: it has the
    event. Counting this as a timeout retries it, and the receiver gets the same event up to 8 times."""
    def stalls_after_the_headers(connection, stop):
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
        stop.wait(5)

    with RawServer(stalls_after_the_headers) as server:
        started = time.monotonic()
        answer = Sender(loopback=True, timeout=0.5).post(f"http://127.0.0.1:{server.port}/", BODY, HEADERS)
    assert answer == Answer(200)
    assert time.monotonic() - started < 2


def test_a_non_ascii_path_is_sent_percent_encoded():
    """An admin may add https://host/café (the add form takes it); http.client refuses non-ASCII in a request
    line, which read as a connection failure every time: 8 attempts and the dead-letter queue, never delivered."""
    seen = []

    def answer(connection, stop):
        seen.append(connection.recv(65536).split(b"\r\n", 1)[0])
        connection.sendall(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")

    with RawServer(answer) as server:
        got = Sender(loopback=True, timeout=2).post(f"http://127.0.0.1:{server.port}/caf\u00e9?q=\u00e9", BODY,
                                                    HEADERS)
    assert got == Answer(204)
    assert seen == [b"POST /caf%C3%A9?q=%C3%A9 HTTP/1.1"]
