"""What the built stack promises a clinic: encrypted, recoverable, wired by reference, watched, shielded."""
import json

from tests.infra.template import properties, resources, strings
from tools.resources import template_resource

OPERATIONS = [{"Ref": "OperationsTopic"}]
INDEXES = {"by_created", "by_status", "by_location"}


def test_the_table_is_the_one_the_local_stack_and_tests_use(template):
    assert template["Resources"]["AppointmentsTable"] == template_resource("AppointmentsTable")


def test_the_table_is_on_demand_encrypted_with_our_key_and_recoverable(stack):
    table = stack["Resources"]["AppointmentsTable"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "DataKey"}}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_the_table_expires_requests_and_streams_them_with_the_staff_indexes(stack):
    props = properties(stack, "AppointmentsTable")
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": "KEYS_ONLY"}  # no copy of personal data
    assert {index["IndexName"] for index in props["GlobalSecondaryIndexes"]} == INDEXES


def test_the_data_key_rotates_itself_and_outlives_the_stack(stack):
    key = stack["Resources"]["DataKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"  # backups need it
    assert properties(stack, "OperationsKey")["EnableKeyRotation"] is True


def test_topics_and_the_dead_letter_queue_are_encrypted_with_kms(stack):
    assert properties(stack, "AlertsTopic")["KmsMasterKeyId"] == {"Ref": "DataKey"}
    assert properties(stack, "AlertsDeadLetterQueue")["KmsMasterKeyId"] == {"Ref": "DataKey"}
    assert properties(stack, "OperationsTopic")["KmsMasterKeyId"] == {"Ref": "OperationsKey"}


def test_only_the_alert_function_may_publish_to_the_alerts_topic(stack):
    policy = properties(stack, "AlertsTopicPolicy")
    assert policy["Topics"] == [{"Ref": "AlertsTopic"}]
    alert_role = {"Fn::GetAtt": ["SendStaffAlertsRole", "Arn"]}
    deny_others = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
                   and s["Action"] == "sns:Publish" and "ArnNotEquals" in s.get("Condition", {})]
    assert deny_others and deny_others[0]["Principal"] == {"AWS": "*"}
    assert deny_others[0]["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": alert_role}


def test_the_functions_find_the_table_and_topic_by_reference(stack):
    for name in ("APIHandler", "SendStaffAlerts"):
        variables = properties(stack, name)["Environment"]["Variables"]
        assert variables["APPOINTMENTS_TABLE"] == {"Ref": "AppointmentsTable"}
        assert variables["NOTIFY_TOPIC_ARN"] == {"Ref": "AlertsTopic"}


def test_nothing_names_an_account_or_a_placeholder(template):
    text = json.dumps(template)
    for placeholder in ("123456789012", "000000000000", "set-by-"):
        assert placeholder not in text
    assert not [s for s in strings(template) if s.startswith("arn:aws:")]  # ${AWS::Partition}, not "aws"


def test_the_stream_feeds_the_alert_function_by_reference_with_bounded_retries(stack):
    (mapping,) = resources(stack, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["AppointmentsTable", "StreamArn"]}
    assert props["FunctionName"] == {"Ref": "SendStaffAlerts"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # the handler's batchItemFailures
    assert props["BisectBatchOnFunctionError"] is True
    assert 1 <= props["MaximumRetryAttempts"] <= 100
    assert 60 <= props["MaximumRecordAgeInSeconds"] <= 24 * 3600  # the stream keeps records 24 h
    assert props["StartingPosition"] == "TRIM_HORIZON"


def test_alerts_that_use_up_their_retries_go_to_the_dead_letter_queue(stack):
    (mapping,) = resources(stack, "AWS::Lambda::EventSourceMapping").values()
    destination = mapping["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["AlertsDeadLetterQueue", "Arn"]}
    assert properties(stack, "AlertsDeadLetterQueue")["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_only_new_requests_invoke_the_alert_function(stack):
    """Staff updates, the alerted mark and TTL deletions alert nobody: Lambda filters them out."""
    (mapping,) = resources(stack, "AWS::Lambda::EventSourceMapping").values()
    (pattern,) = mapping["Properties"]["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"]) == {
        "eventName": ["INSERT", "MODIFY"],  # MODIFY: a request moved out of suspected spam is alerted then
        "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "APPT#"}]}}},
    }


def alarm_metrics(alarm):
    props = alarm["Properties"]
    if "MetricName" in props:
        yield props["Namespace"], props["MetricName"], {d["Name"]: d["Value"] for d in props["Dimensions"]}
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            yield metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]}


def test_every_alarm_tells_the_operations_topic(stack):
    alarms = resources(stack, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 5
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == OPERATIONS
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_alarms_watch_the_dead_letters_errors_5xx_and_throttles(stack):
    watched = [metric for alarm in resources(stack, "AWS::CloudWatch::Alarm").values() for metric in alarm_metrics(alarm)]

    def watches(namespace, name, **dimensions):
        return any(n == namespace and m == name and d == dimensions for n, m, d in watched)

    queue = {"Fn::GetAtt": ["AlertsDeadLetterQueue", "QueueName"]}
    assert watches("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=queue)
    for function in ({"Ref": "APIHandler"}, {"Ref": "SendStaffAlerts"}):
        assert watches("AWS/Lambda", "Errors", FunctionName=function)
        assert watches("AWS/Lambda", "Throttles", FunctionName=function)
    assert watches("AWS/Lambda", "IteratorAge", FunctionName={"Ref": "SendStaffAlerts"})
    assert watches("AWS/ApiGateway", "5XXError", ApiName={"Ref": "AWS::StackName"}, Stage={"Ref": "RestAPIapiStage"})
    assert watches("AWS/DynamoDB", "WriteThrottleEvents", TableName={"Ref": "AppointmentsTable"})


def test_the_dead_letter_alarm_fires_on_the_first_message(stack):
    props = properties(stack, "AlertsDeadLetterAlarm")
    assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == ("Maximum", "GreaterThanThreshold", 0)


def test_the_api_name_the_5xx_alarm_watches_is_the_api_s_name(stack):
    api = properties(stack, "RestAPI")
    assert api["Name"] == api["Body"]["info"]["title"] == {"Ref": "AWS::StackName"}


def test_the_api_has_one_stage_and_it_is_throttled(stack):
    (stage_id, stage), = resources(stack, "AWS::ApiGateway::Stage").items()
    assert stage_id == "RestAPIapiStage" and stage["Properties"]["StageName"] == "api"
    # SAM's extra stage named "Stage" would be a second, unshielded way in.
    assert all("StageName" not in d["Properties"] for d in resources(stack, "AWS::ApiGateway::Deployment").values())
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    assert stack["Parameters"]["ApiRateLimit"]["Default"] > 0
    # API Gateway's own request logging would write bodies (names, phones) to CloudWatch.
    assert settings["DataTraceEnabled"] is False and settings["LoggingLevel"] == "OFF"


def test_a_waf_rate_limit_per_client_ip_guards_the_api_stage(stack):
    acl = properties(stack, "ApiWebAcl")
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    per_ip = [rule for rule in acl["Rules"] if rule["Statement"].get("RateBasedStatement", {}).get("AggregateKeyType") == "IP"]
    assert {rule["Name"] for rule in per_ip} == {"form-posts-per-ip", "requests-per-ip"}
    for rule in per_ip:
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    body = json.loads(acl["CustomResponseBodies"]["rate_limited"]["Content"])
    assert body["error"] == "rate_limited" and body["message"]  # the API's own error shape

    association = properties(stack, "ApiWebAclAssociation")
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert association["ResourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/${RestAPIapiStage}"}


def test_the_form_post_limit_is_tighter_than_the_general_one(stack):
    parameters = stack["Parameters"]
    assert 10 <= parameters["FormPostsPerIpPer5Min"]["Default"] < parameters["RequestsPerIpPer5Min"]["Default"]


def test_each_function_logs_to_its_own_group_with_a_retention(stack):
    groups = {json.dumps(g["Properties"]["LogGroupName"]): g for g in resources(stack, "AWS::Logs::LogGroup").values()}
    for name, function in resources(stack, "AWS::Lambda::Function").items():
        function_name = function["Properties"]["FunctionName"]["Fn::Sub"]
        group = groups[json.dumps({"Fn::Sub": f"/aws/lambda/{function_name}"})]
        assert group["Properties"]["RetentionInDays"] == 365  # the prod stage's
        assert function["DependsOn"] == [next(k for k, v in stack["Resources"].items() if v is group)]
