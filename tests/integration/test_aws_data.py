"""The app's clients read botocore's endpoint data cut to its services, and reach the same endpoints."""
import os

import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config

from chalicelib import wiring
from tools import aws_data

BOTOCORE_DATA = botocore.loaders.Loader.BUILTIN_DATA_PATH
REGIONS = ("us-east-1", "eu-central-1", "ap-southeast-2", "ca-west-1", "us-gov-west-1", "cn-north-1")
CALLS = {"dynamodb": ("put_item", {"TableName": "t", "Item": {"pk": {"S": "x"}}}),
         "sns": ("publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m"}),
         "secretsmanager": ("get_secret_value", {"SecretId": "appointments-dedupe-key"}),
         "sesv2": ("send_email", {"FromEmailAddress": "a@clinic.example", "Destination": {"ToAddresses": ["b@x.example"]},
                                  "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}}}),
         "sqs": ("send_message", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody": "m"})}


class Sent(Exception):
    pass


def where_it_goes(client):
    """The URL and the credential scope (date/region/service) the client would sign and send to."""
    def stop(request, **_):
        scope = request.headers["Authorization"].decode().split("Credential=", 1)[1].split(",", 1)[0]
        raise Sent(request.url, scope.split("/", 2)[2])

    client.meta.events.register("before-send", stop)
    operation, params = CALLS[client.meta.service_model.service_name]
    with pytest.raises(Sent) as sent:
        getattr(client, operation)(**params)
    return sent.value.args


@pytest.fixture
def credentials(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCOUNT_ID", "AWS_ACCOUNT_ID_ENDPOINT_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    wiring.reset()
    yield monkeypatch
    wiring.reset()


@pytest.mark.parametrize("service", wiring.AWS_SERVICES)
@pytest.mark.parametrize("region", REGIONS)
def test_each_client_goes_where_botocores_own_data_sends_it(credentials, service, region):
    credentials.setenv("AWS_DEFAULT_REGION", region)
    ours = wiring.aws_client(service)
    reference = botocore.session.get_session().create_client(service, config=Config(**wiring.CLIENT_CONFIG))
    assert where_it_goes(ours) == where_it_goes(reference)


def test_the_clients_read_the_cut_endpoint_data(credentials):
    credentials.setenv("AWS_DEFAULT_REGION", "us-east-1")
    loaded = []
    original = botocore.loaders.Loader.load_data_with_path

    def spy(self, name):
        data, path = original(self, name)
        loaded.append((name, path))
        return data, path

    credentials.setattr(botocore.loaders.Loader, "load_data_with_path", spy)
    wiring.aws_client("dynamodb")
    assert ("endpoints", str(wiring.AWS_DATA / "endpoints")) in loaded


def test_a_second_client_reuses_what_the_first_loaded(credentials):
    credentials.setenv("AWS_DEFAULT_REGION", "us-east-1")
    loaded = []
    original = botocore.loaders.Loader.load_data_with_path

    def spy(self, name):
        loaded.append(name)
        return original(self, name)

    credentials.setattr(botocore.loaders.Loader, "load_data_with_path", spy)
    wiring.aws_client("dynamodb")
    wiring.aws_client("secretsmanager")
    assert loaded.count("endpoints") == 1
    assert loaded.count("sdk-default-configuration") <= 1


def test_building_a_client_does_not_list_every_service_botocore_has(credentials):
    credentials.setenv("AWS_DEFAULT_REGION", "us-east-1")
    listed = []
    original = os.listdir

    def spy(path="."):
        listed.append(os.fspath(path))
        return original(path)

    credentials.setattr(botocore.loaders.os, "listdir", spy)
    wiring.aws_client("dynamodb")
    wiring.aws_client("secretsmanager")
    assert BOTOCORE_DATA not in listed
    assert any(path.startswith(BOTOCORE_DATA) for path in listed)  # the spy saw botocore's loader at work


def test_an_assumed_role_profile_still_works_through_sts(credentials, tmp_path):
    """botocore's credential provider builds an STS client from the app's session: its loader must know STS."""
    config = tmp_path / "config"
    config.write_text("[profile clinic]\nrole_arn = arn:aws:iam::123456789012:role/clinic-ops\n"
                      "source_profile = keys\nregion = us-east-1\n[profile keys]\n")
    credentials_file = tmp_path / "credentials"
    credentials_file.write_text("[keys]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        credentials.delenv(name, raising=False)
    credentials.setenv("AWS_CONFIG_FILE", str(config))
    credentials.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials_file))
    credentials.setenv("AWS_PROFILE", "clinic")
    def stop(request, **_):
        raise Sent(request.url)

    wiring._aws_session().register("before-send.sts.AssumeRole", stop)
    with pytest.raises(Sent) as sent:
        wiring.aws_client("dynamodb").list_tables()  # signing it first assumes the role, through STS
    assert "sts" in sent.value.args[0]


def test_a_failing_call_is_tried_three_times_in_all_then_reaches_the_app(credentials):
    from botocore.exceptions import ClientError

    from tools.faults import FaultPlan

    credentials.setenv("AWS_DEFAULT_REGION", "us-east-1")
    plan = FaultPlan("test", rate=1.0, limit=99, kinds=("server_error",))
    client = plan.attach(wiring.aws_client("dynamodb"))
    with pytest.raises(ClientError):
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    assert plan.injected == 3
    assert wiring.CLIENT_CONFIG["retries"] == {"total_max_attempts": 3, "mode": "standard"}  # left as it was


def test_a_service_the_app_does_not_call_is_refused_by_name(credentials):
    with pytest.raises(ValueError, match="s3 is not in wiring.AWS_SERVICES"):
        wiring.aws_client("s3")


def test_the_cut_endpoint_data_is_current():
    """Fails after a botocore bump or a new service until `python -m tools.aws_data` is run."""
    assert aws_data.ENDPOINTS.read_text() == aws_data.render()
