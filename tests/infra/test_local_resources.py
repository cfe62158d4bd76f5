"""The local stack and the tests create their table, topic and queue from the deployed template."""
import boto3

from tools.resources import create_dead_letter_queue, create_table, create_topic, template_resource


def key_schema(schema):
    return sorted((key["AttributeName"], key["KeyType"]) for key in schema)


def test_the_local_table_has_the_template_s_keys_indexes_stream_and_ttl(dynamodb):
    expected = template_resource("AppointmentsTable")["Properties"]
    create_table(dynamodb, "appointments-local")
    table = dynamodb.describe_table(TableName="appointments-local")["Table"]

    assert key_schema(table["KeySchema"]) == key_schema(expected["KeySchema"])
    assert sorted(map(tuple, (d.values() for d in table["AttributeDefinitions"]))) == sorted(
        map(tuple, (d.values() for d in expected["AttributeDefinitions"])))
    local = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(local) == {index["IndexName"] for index in expected["GlobalSecondaryIndexes"]}
    for index in expected["GlobalSecondaryIndexes"]:
        assert key_schema(local[index["IndexName"]]["KeySchema"]) == key_schema(index["KeySchema"])
        assert local[index["IndexName"]]["Projection"] == index["Projection"]
    assert table["BillingModeSummary"]["BillingMode"] == expected["BillingMode"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, **expected["StreamSpecification"]}
    ttl = dynamodb.describe_time_to_live(TableName="appointments-local")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", expected["TimeToLiveSpecification"]["AttributeName"])


def test_the_local_topic_and_dead_letter_queue_come_from_the_template(mocked_aws):
    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    topic_arn = create_topic(sns, "arn:aws:sns:us-east-1:123456789012:appointment-alerts-local")
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attributes["DisplayName"] == template_resource("AlertsTopic")["Properties"]["DisplayName"]

    queue_url = create_dead_letter_queue(sqs, "local")
    retention = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["MessageRetentionPeriod"])
    expected = template_resource("AlertsDeadLetterQueue")["Properties"]["MessageRetentionPeriod"]
    assert retention["Attributes"]["MessageRetentionPeriod"] == str(expected)
