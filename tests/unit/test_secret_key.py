"""The deployment's id key from Secrets Manager: read once, lazily; failures are named or retryable."""
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib.core.errors import ConfigError, StorageUnavailable
from chalicelib.core.secret_key import SecretKey


class FakeSecrets:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def get_secret_value(self, SecretId):
        self.calls.append(SecretId)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_error(code):
    return ClientError({"Error": {"Code": code, "Message": "arn:aws:secretsmanager:... not found"}}, "GetSecretValue")


def test_the_key_is_read_once_and_only_when_first_asked_for():
    client = FakeSecrets({"SecretString": "s" * 64})
    key = SecretKey(client, "appointments-dedupe-key")
    assert client.calls == []
    assert key() == key() == b"s" * 64
    assert client.calls == ["appointments-dedupe-key"]


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "AccessDeniedException"])
def test_a_secret_that_is_not_there_or_not_ours_names_the_setting(code):
    with pytest.raises(ConfigError) as error:
        SecretKey(FakeSecrets(client_error(code)), "missing")()
    assert error.value.setting == "DEDUPE_KEY_SECRET" and code in error.value.reason


def test_a_short_secret_is_a_configuration_error():
    with pytest.raises(ConfigError) as error:
        SecretKey(FakeSecrets({"SecretString": "short"}), "weak")()
    assert error.value.setting == "DEDUPE_KEY_SECRET"


def test_a_passing_failure_is_a_retryable_503_and_the_next_request_reads_again():
    client = FakeSecrets(client_error("ThrottlingException"), EndpointConnectionError(endpoint_url="https://x"),
                         {"SecretBinary": b"b" * 32})
    key = SecretKey(client, "appointments-dedupe-key")
    for _ in range(2):
        with pytest.raises(StorageUnavailable):
            key()
    assert key() == b"b" * 32 and len(client.calls) == 3
