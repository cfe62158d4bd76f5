"""A local staff inbox: an SQS queue subscribed to the alert topic, printed as a person reads it.

    python -m tools.staff_inbox [--stage dev]
"""
import argparse
import json
import os
import time

from tools.resources import stage_environment

QUEUE = "staff-inbox-{stage}"
# Long polling: the emulator answers as soon as an alert arrives, and an idle inbox costs one
# call per WAIT_SECONDS (plus a subscription check per RECHECK_SECONDS) instead of a busy loop.
WAIT_SECONDS = 5
RECHECK_SECONDS = 10


def create_queue(sqs, queue_name):
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return queue_url, queue_arn


def subscribe(sns, topic_arn, queue_arn):
    """Make sure the queue is subscribed (again, if the topic was re-created)."""
    try:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    except sns.exceptions.NotFoundException:
        return
    if not any(s["Endpoint"] == queue_arn for s in subscriptions):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)


def render(envelope):
    """An SNS notification as the staff member would see it on their phone."""
    attributes = {name: value.get("Value") for name, value in envelope.get("MessageAttributes", {}).items()}
    tags = ", ".join(f"{name}={value}" for name, value in sorted(attributes.items()))
    bar = "─" * 60
    return f"\n{bar}\nSTAFF ALERT  {envelope.get('Subject', '')}\n[{tags}]\n{bar}\n{envelope.get('Message', '')}\n{bar}\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--output", help="append alerts to this file instead of printing them")
    args = parser.parse_args(argv)
    out = open(args.output, "a", encoding="utf-8") if args.output else None
    os.environ.update(stage_environment(args.stage))
    import boto3

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_arn = os.environ["NOTIFY_TOPIC_ARN"]
    queue_name = QUEUE.format(stage=args.stage)
    queue_url, checked = None, 0.0
    try:
        while True:
            try:
                if queue_url is None:
                    queue_url, queue_arn = create_queue(sqs, queue_name)
                if time.monotonic() - checked > RECHECK_SECONDS:
                    subscribe(sns, topic_arn, queue_arn)
                    checked = time.monotonic()
                messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=WAIT_SECONDS,
                                               MaxNumberOfMessages=10).get("Messages", [])
                for message in messages:
                    print(render(json.loads(message["Body"])), file=out, flush=True)
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            except Exception as error:  # the emulator restarting, say: keep going
                print(f"staff inbox: {type(error).__name__}; retrying", flush=True)
                queue_url, checked = None, 0.0
                time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
