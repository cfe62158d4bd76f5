"""The deployment's secret key for ids, kept in AWS Secrets Manager.

The stack creates the secret (infra/resources.json, `DedupeKeySecret`) and resolves it into the API function's
environment when it deploys (DEDUPE_KEY, a CloudFormation dynamic reference, encrypted at rest under the
stack's key): a cold start of the request path makes no Secrets Manager call (docs/performance.md weighs the
choice). Every other function, and the local stack, read the secret once per process, when first needed.
Nothing in the repository holds it.
"""
from botocore.exceptions import BotoCoreError, ClientError

from .errors import ConfigError, StorageUnavailable
from .logs import get_logger

SETTING = "DEDUPE_KEY_SECRET"
DEPLOYED = "DEDUPE_KEY"
MIN_KEY_BYTES = 32
# Not a passing fault: the setting names a secret that is not there, or not ours to read.
_MISCONFIGURED = {"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure",
                  "InvalidRequestException", "ValidationException"}

log = get_logger(__name__)


class DeployedKey:
    """The key as the stack put it in the function's environment: a callable giving it as bytes, like SecretKey."""

    def __init__(self, value):
        key = value.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(DEPLOYED, f"it holds {len(key)} bytes; it needs at least {MIN_KEY_BYTES} random ones")
        self._key = key

    def __call__(self):
        return self._key

    def __repr__(self):
        return "DeployedKey(...)"  # never the key itself, in a log line or a traceback


def deployed_key(environ):
    """The key resolved into the environment at deploy time, or None where there is none (read the secret)."""
    value = environ.get(DEPLOYED)
    return None if value is None else DeployedKey(value)


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
