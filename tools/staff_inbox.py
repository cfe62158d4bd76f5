"""A local staff inbox: an SQS queue subscribed to the alert topic, printed as a person reads it.

    python -m tools.staff_inbox [--stage dev]
"""
import argparse
import json
import os
import time

from tools.resources import stage_environment

QUEUE = "staff-inbox-{stage}"


def subscribe(sns, sqs, topic_arn, queue_name):
    """Make sure the queue exists and is subscribed (again, if the topic was re-created)."""
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    except sns.exceptions.NotFoundException:
        return queue_url
    if not any(s["Endpoint"] == queue_arn for s in subscriptions):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


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
    checked = 0.0
    try:
        while True:
            try:
                if time.monotonic() - checked > 5:
                    queue_url, checked = subscribe(sns, sqs, topic_arn, queue_name), time.monotonic()
                messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1,
                                               MaxNumberOfMessages=10).get("Messages", [])
                for message in messages:
                    print(render(json.loads(message["Body"])), file=out, flush=True)
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            except Exception as error:  # the emulator restarting, say: keep going
                print(f"staff inbox: {type(error).__name__}; retrying", flush=True)
                time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
