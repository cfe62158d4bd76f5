"""The deployment's secret key for ids, kept in AWS Secrets Manager: read once per process, when first needed.

The stack creates the secret (infra/resources.json, `DedupeKeySecret`); the local stack makes
its own in the emulator. Nothing in the repository holds it.
"""
from botocore.exceptions import BotoCoreError, ClientError

from .errors import ConfigError, StorageUnavailable
from .logs import get_logger

SETTING = "DEDUPE_KEY_SECRET"
MIN_KEY_BYTES = 32
# Not a passing fault: the setting names a secret that is not there, or not ours to read.
_MISCONFIGURED = {"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure",
                  "InvalidRequestException", "ValidationException"}

log = get_logger(__name__)


class SecretKey:
    """A callable giving the key as bytes. One GetSecretValue per process, and only once it is called."""

    def __init__(self, client, secret_id):
        self._client = client
        self._secret_id = secret_id
        self._key = None

    def __call__(self):
        if self._key is None:
            self._key = self._read()
        return self._key

    def _read(self):
        try:
            response = self._client.get_secret_value(SecretId=self._secret_id)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in _MISCONFIGURED:
                raise ConfigError(SETTING, f"the secret cannot be read ({code})") from None
            log.warning("secret unavailable", extra={"event": "secret_error", "error_code": code})
            raise StorageUnavailable() from None
        except BotoCoreError as error:
            log.warning("secret unavailable", extra={"event": "secret_error", "error_code": type(error).__name__})
            raise StorageUnavailable() from None
        value = response.get("SecretString")
        key = value.encode() if value is not None else bytes(response.get("SecretBinary") or b"")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(SETTING, f"the secret holds {len(key)} bytes; it needs at least {MIN_KEY_BYTES} random ones")
        return key
