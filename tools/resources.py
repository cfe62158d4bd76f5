"""Create the table, topic and id key from the CloudFormation template, for the local stack and tests.

The template (infra/resources.json) is what deployment uses (the merge template of `make
package`), so local and deployed resources cannot drift apart. Only what shapes the data goes
to the emulator (keys, indexes, stream, TTL, retention); KMS keys, point-in-time recovery,
deletion protection and policies exist only in AWS.
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "resources.json"
_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode", "StreamSpecification")


def template_resource(logical_id, template=TEMPLATE):
    return json.loads(Path(template).read_text())["Resources"][logical_id]


def create_table(dynamodb, table_name):
    props = template_resource("AppointmentsTable")["Properties"]
    kwargs = {key: props[key] for key in _TABLE_KEYS if key in props}
    if "StreamSpecification" in kwargs:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **kwargs["StreamSpecification"]}
    table = dynamodb.create_table(TableName=table_name, **kwargs)["TableDescription"]
    dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.1})
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
    return table


def create_topic(sns, topic_arn):
    name = topic_arn.rsplit(":", 1)[1]
    props = template_resource("AlertsTopic")["Properties"]
    attributes = {"DisplayName": props["DisplayName"]} if "DisplayName" in props else {}
    return sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]


def stage_environment(stage="dev", config=ROOT / ".chalice" / "config.json"):
    """The environment variables a Chalice stage sets, merged as Chalice merges them."""
    data = json.loads(Path(config).read_text())
    env = dict(data.get("environment_variables", {}))
    env.update(data["stages"][stage].get("environment_variables", {}))
    return env


# The local stack's processes get the API's real address here when it is not the stage's
# (the end-to-end tests run the stack on free ports): links in alerts and the staff inbox's
# same-origin rule must name the address the browser really uses.
LOCAL_API_URL = "LOCAL_API_URL"


# A JSON object of settings that win over the stage's in the local stack: for a test that needs another
# setting (the clinic's time zone, say) without another stage.
LOCAL_SETTINGS = "LOCAL_SETTINGS"


def local_environment(stage, environ):
    """The stage's variables as the local stack's processes see them."""
    # Receivers on 127.0.0.1 over plain http:// are the local stack's alone: no stage sets this.
    env = {**stage_environment(stage), "WEBHOOK_LOOPBACK": "on", **local_overrides(environ)}
    if environ.get(LOCAL_API_URL):
        env["PUBLIC_BASE_URL"] = environ[LOCAL_API_URL]
    return env


def local_overrides(environ):
    """The settings LOCAL_SETTINGS gives (none when unset)."""
    overrides = json.loads(environ.get(LOCAL_SETTINGS) or "{}")
    if not isinstance(overrides, dict) or not all(isinstance(v, str) for v in overrides.values()):
        raise SystemExit(f"{LOCAL_SETTINGS} is a JSON object of setting names to text values")
    return overrides


def create_mail_identity(sesv2, sender):
    """The sender, verified: real SES sends only from verified identities, and moto checks it too."""
    sesv2.create_email_identity(EmailIdentity=sender)


def create_mail_configuration_set(sesv2, name):
    """The configuration set every message is sent with, as the template makes it (TLS required)."""
    props = template_resource("MailConfigurationSet")["Properties"]
    try:
        sesv2.create_configuration_set(ConfigurationSetName=name, DeliveryOptions=props["DeliveryOptions"],
                                       SuppressionOptions=props["SuppressionOptions"])
    except sesv2.exceptions.AlreadyExistsException:
        pass


def dead_letter_queue_name(stage):
    return f"appointment-alerts-dlq-{stage}"


def create_dead_letter_queue(sqs, stage):
    props = template_resource("AlertsDeadLetterQueue")["Properties"]
    attributes = {name: str(value) for name, value in props.items() if name == "MessageRetentionPeriod"}
    return sqs.create_queue(QueueName=dead_letter_queue_name(stage), Attributes=attributes)["QueueUrl"]


def create_sign_in_queue(sqs, queue_url):
    """The queue of sign-in code requests, named as the stage's SIGN_IN_QUEUE_URL names it, as the template makes it."""
    props = template_resource("SignInCodeQueue")["Properties"]
    attributes = {name: str(props[name]) for name in ("MessageRetentionPeriod", "VisibilityTimeout")}
    return sqs.create_queue(QueueName=queue_url.rsplit("/", 1)[1], Attributes=attributes)["QueueUrl"]


def create_webhook_queues(sqs, queue_url):
    """The FIFO queue of webhook deliveries, named as the stage's WEBHOOK_QUEUE_URL names it, and its dead-letter
    queue, as the template makes them (redrive and all): moto moves a message there after maxReceiveCount too."""
    props = template_resource("WebhookQueue")["Properties"]
    name = queue_url.rsplit("/", 1)[1]
    dead_letter_props = template_resource("WebhookDeadLetterQueue")["Properties"]
    dead_letter_url = sqs.create_queue(QueueName=name.removesuffix(".fifo") + "-dlq.fifo", Attributes={
        "FifoQueue": "true", "MessageRetentionPeriod": str(dead_letter_props["MessageRetentionPeriod"])})["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(props["RedrivePolicy"]["maxReceiveCount"])}
    attributes = {name: str(props[name]) for name in ("MessageRetentionPeriod", "VisibilityTimeout")}
    return sqs.create_queue(QueueName=name, Attributes={
        **attributes, "FifoQueue": "true", "ContentBasedDeduplication": "false",
        "RedrivePolicy": json.dumps(redrive)})["QueueUrl"]


def webhook_dead_letter_url(queue_url):
    return queue_url.removesuffix(".fifo") + "-dlq.fifo"


def create_dedupe_key_secret(secretsmanager, name):
    """The local stack's own key for request ids (deployed stacks get theirs from the template)."""
    import secrets

    try:
        return secretsmanager.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))["ARN"]
    except secretsmanager.exceptions.ResourceExistsException:
        return secretsmanager.describe_secret(SecretId=name)["ARN"]
