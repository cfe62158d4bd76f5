"""The sign-in code queue's messages, and how its consumer takes a batch of them (storage/signin_queue.py)."""
import json

import pytest

from chalicelib.core.errors import StorageUnavailable
from chalicelib.staff.devices import DeviceClaim
from chalicelib.staff.signin import CodeRequest, MailDue
from chalicelib.storage.signin_queue import handle_messages, message_body, read_message
from tests.conftest import captured_log_lines


def request(address="dana@clinic.example", device=None):
    return CodeRequest(address=address, browser="b" * 32, words="otter lantern", device=device,
                       request_id="0123456789abcdef", requested_at="2026-11-30T14:00:00.000Z")


@pytest.mark.parametrize("message", [request(), request(device=DeviceClaim("d" * 32, "e" * 16)),
                                     MailDue("dana@clinic.example")])
def test_each_kind_of_message_reads_back_as_it_was_queued(message):
    body = message_body(message)
    assert body.isascii() and read_message(body) == message


def test_a_request_queued_before_sources_existed_is_from_the_unknown_source():
    """Messages already in the queue when this version deploys carry no source: they are handled, as one network."""
    old = {key: value for key, value in json.loads(message_body(request())).items() if key != "source"}
    assert read_message(json.dumps(old)) == request() and request().source == "unknown"


def test_a_source_that_is_not_text_is_refused():
    with pytest.raises(ValueError):
        read_message(json.dumps({**json.loads(message_body(request())), "source": 7}))


@pytest.mark.parametrize("body", [
    "not json", "[]", "{}", '{"mail_due": 7}',
    # a request queued before words and device claims: the person asks again
    '{"email": "dana@clinic.example", "browser": "b", "known_device": false, "requested_at": "2026-11-30"}',
    json.dumps({**json.loads(message_body(request())), "words": None}),
    json.dumps({**json.loads(message_body(request())), "device": {"id": 1, "generation": "e"}}),
])
def test_anything_else_is_refused(body):
    with pytest.raises((ValueError, KeyError, TypeError)):
        read_message(body)


def test_one_bad_message_in_a_batch_is_dropped_and_the_others_are_handled():
    """Bug it catches: no per-message try in handle_messages. One bad message would raise out of the consumer, Lambda
    would hand SQS back the whole batch, and the good ones would come again (each answered twice)."""
    handled = []

    def send_code(message):
        if message.address == "fails@clinic.example":
            raise StorageUnavailable()
        handled.append(message.address)

    bodies = [message_body(request("a@clinic.example")), "not json", message_body(request("fails@clinic.example")),
              message_body(MailDue("b@clinic.example"))]
    before = len(captured_log_lines())
    handle_messages(bodies, send_code)  # raises nothing
    assert handled == ["a@clinic.example", "b@clinic.example"]
    lines = [json.loads(line) for line in captured_log_lines()[before:]]
    assert [line["error_type"] for line in lines if line.get("outcome") == "dropped"] == [
        "JSONDecodeError", "StorageUnavailable"]
    assert not [line for line in lines if "clinic.example" in json.dumps(line)]
