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


def test_a_key_the_stack_resolved_into_the_environment_is_used_without_asking_secrets_manager(monkeypatch):
    from chalicelib import wiring

    def no_client(service):
        raise AssertionError(f"a {service} client was built")

    monkeypatch.setenv("DEDUPE_KEY", "d" * 64)
    monkeypatch.setattr(wiring, "aws_client", no_client)
    wiring.id_key.cache_clear()
    try:
        assert wiring.id_key()() == b"d" * 64
    finally:
        wiring.id_key.cache_clear()


def test_without_it_the_secret_is_read(monkeypatch):
    from chalicelib import wiring

    monkeypatch.delenv("DEDUPE_KEY", raising=False)
    monkeypatch.setattr(wiring, "aws_client", lambda service: FakeSecrets({"SecretString": "s" * 64}))
    monkeypatch.setattr(wiring, "get_settings", lambda: type("S", (), {"dedupe_key_secret": "k"})())
    wiring.id_key.cache_clear()
    try:
        assert wiring.id_key()() == b"s" * 64
    finally:
        wiring.id_key.cache_clear()


def test_a_short_deployed_key_is_refused_by_name_and_never_shown():
    from chalicelib.core.secret_key import DeployedKey, deployed_key

    with pytest.raises(ConfigError) as refused:
        deployed_key({"DEDUPE_KEY": "short-secret"})
    assert refused.value.setting == "DEDUPE_KEY" and "short-secret" not in str(refused.value.reason)
    assert deployed_key({}) is None
    assert "x" * 40 not in repr(DeployedKey("x" * 40))
