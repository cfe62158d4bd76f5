"""Each function may do what its code does, to this stack's resources, and nothing else."""
import ast
import json
import re

import botocore.session
import pytest

from tests.infra.template import (
    allowed_actions, as_list, identity_policies, resource_policies, role_statements, statements, strings,
)
from tools.resources import ROOT

CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
ROLES = {"api_handler": "ApiHandlerRole", "send_staff_alerts": "SendStaffAlertsRole",
         "send_confirmations": "SendConfirmationsRole", "send_sign_in_codes": "SendSignInCodesRole",
         "escalate_overdue": "EscalateOverdueRole", "send_digest": "SendDigestRole",
         "send_reminders": "SendRemindersRole", "deliver_webhooks": "DeliverWebhooksRole"}
POLICY_FILE = {role: CONFIG["lambda_functions"][function]["iam_policy_file"] for function, role in ROLES.items()}
FUNCTION_OF_ROLE = {"ApiHandlerRole": "APIHandler", "SendStaffAlertsRole": "SendStaffAlerts",
                    "SendConfirmationsRole": "SendConfirmations", "SendSignInCodesRole": "SendSignInCodes",
                    "EscalateOverdueRole": "EscalateOverdue", "SendDigestRole": "SendDigest",
                    "SendRemindersRole": "SendReminders", "DeliverWebhooksRole": "DeliverWebhooks"}
TABLE_ARN = {"Fn::Sub": "${AppointmentsTable.Arn}"}
DEAD_LETTERS = {"Fn::GetAtt": ["AlertsDeadLetterQueue", "Arn"]}
WEBHOOK_QUEUE = {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
CLIENT = re.compile(r"(client|dynamodb|sns)$", re.IGNORECASE)  # how chalicelib names the clients it is given


def leading_keys(statement):
    """The partition keys a statement's condition limits it to (exact ones, or StringLike patterns); None if none."""
    condition = statement.get("Condition", {})
    for operator in ("ForAllValues:StringLike", "ForAllValues:StringEquals"):
        if "dynamodb:LeadingKeys" in condition.get(operator, {}):
            return condition[operator]["dynamodb:LeadingKeys"]
    return None


def allow_statements(documents):
    return [(name, s) for name, document in documents for s in statements(document) if s["Effect"] == "Allow"]


def test_policies_are_written_by_hand_one_per_function():
    assert CONFIG["autogen_policy"] is False
    for function in ROLES:
        policy_file = CONFIG["lambda_functions"][function]["iam_policy_file"]
        assert (ROOT / ".chalice" / policy_file).is_file()


def test_each_role_carries_its_policy_file_unchanged(stack):
    for function, role in ROLES.items():
        policy_file = ROOT / ".chalice" / CONFIG["lambda_functions"][function]["iam_policy_file"]
        (document,) = [d for name, d in identity_policies(stack) if name == role]
        assert document == json.loads(policy_file.read_text())


def test_the_stack_has_no_other_role_and_no_managed_policy(stack):
    roles = {name: r for name, r in stack["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert set(roles) == set(ROLES.values()) | {"ApiGatewayLoggingRoleForAccount"}
    logging_role = roles.pop("ApiGatewayLoggingRoleForAccount")
    assert logging_role["Condition"] == "CreateApiGatewayLoggingRole"  # only where the account has none yet
    (trust,) = logging_role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"} and "ManagedPolicyArns" not in logging_role[
        "Properties"]
    for role in roles.values():
        assert "ManagedPolicyArns" not in role["Properties"]
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"


def test_no_statement_grants_a_wildcard_action(stack):
    granted = allow_statements(list(identity_policies(stack)) + list(resource_policies(stack)))
    assert granted
    for name, statement in granted:
        assert "NotAction" not in statement, name
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name} allows {action}"


# What IAM authorizes on "*" only: a text to a phone number (a number has no ARN; the Deny beside it keeps the
# role off every topic and endpoint) and the opt-out check (no resource type at all).
SMS_ACTIONS = {"sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"}


def test_no_role_statement_grants_a_wildcard_resource(stack):
    for name, statement in allow_statements(identity_policies(stack)):
        assert "NotResource" not in statement, name
        for resource in strings(statement["Resource"]):
            if (name, resource) == ("SendRemindersRole", "*") and set(as_list(statement["Action"])) <= SMS_ACTIONS:
                continue
            assert resource != "*", f"{name}: {statement.get('Sid')}"
            # Only the log streams of the function's own group, and the table's streams for
            # ListStreams (whose stream ids are not known in advance), end in a wildcard.
            if name == "ApiGatewayLoggingRoleForAccount":
                # API Gateway's one role per account writes the access logs of every API in the account.
                assert resource == "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
                continue
            if resource.endswith("*"):
                assert resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-api:*") \
                    or resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-staff-alerts:*") \
                    or resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-confirmations:*") \
                    or resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-sign-in-codes:*") \
                    or resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-escalations:*") \
                    or resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-digest:*") \
                    or resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-reminders:*") \
                    or resource.endswith(":log-group:/aws/lambda/${AWS::StackName}-webhooks:*") \
                    or resource == "${AppointmentsTable.Arn}/stream/*", resource


def test_no_resource_policy_allows_anyone(stack):
    for name, statement in allow_statements(resource_policies(stack)):
        assert statement["Principal"] not in ("*", {"AWS": "*"}), name


def test_key_policies_are_the_only_place_for_a_star_resource(stack):
    """In a key policy "Resource": "*" means this key and nothing else (AWS requires it)."""
    for name, document in resource_policies(stack):
        if stack["Resources"][name]["Type"] != "AWS::KMS::Key":
            assert "*" not in list(strings([s["Resource"] for s in statements(document)])), name


def test_each_function_writes_only_its_own_log_group(stack):
    for role, function in FUNCTION_OF_ROLE.items():
        (logs,) = [s for s in role_statements(stack, role) if any(a.startswith("logs:") for a in as_list(s["Action"]))]
        assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
        name = stack["Resources"][function]["Properties"]["FunctionName"]["Fn::Sub"]
        assert logs["Resource"]["Fn::Sub"].endswith(f":log-group:/aws/lambda/{name}:*")


def test_the_api_reads_and_writes_items_and_queries_only_this_table_and_its_indexes(stack):
    actions = allowed_actions(stack, "ApiHandlerRole")
    assert {a for a in actions if a.startswith("dynamodb:")} <= {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
        "dynamodb:ConditionCheckItem", "dynamodb:TransactWriteItems", "dynamodb:BatchGetItem"}
    assert not {a for a in actions if a.startswith("sns:")}  # alerts go through the stream only
    # Sign-in code requests go through their queue, and nothing else through SQS.
    (queueing,) = [s for s in role_statements(stack, "ApiHandlerRole") if any(
        a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert (as_list(queueing["Action"]), queueing["Resource"]) == (["sqs:SendMessage"],
                                                                  {"Fn::GetAtt": ["SignInCodeQueue", "Arn"]})
    assert "dynamodb:Scan" not in actions  # SPEC: the request path and listings never scan
    (query,) = [s for s in role_statements(stack, "ApiHandlerRole") if "dynamodb:Query" in as_list(s["Action"])]
    indexes = {i["IndexName"] for i in stack["Resources"]["AppointmentsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    indexes -= {"by_reminder"}  # the reminders' own: the API never reads it
    assert sorted(r["Fn::Sub"] for r in query["Resource"]) == sorted(
        ["${AppointmentsTable.Arn}"] + [f"${{AppointmentsTable.Arn}}/index/{index}" for index in indexes])
    (items,) = [s for s in role_statements(stack, "ApiHandlerRole") if "dynamodb:PutItem" in as_list(s["Action"])]
    assert items["Resource"] == TABLE_ARN


def stream_consumer_resources(stack, role, sends_to=(DEAD_LETTERS,), queries=()):
    statements_ = role_statements(stack, role)

    def resources_for(action):
        return [s["Resource"] for s in statements_ if action in as_list(s["Action"])]

    stream_arn = {"Fn::GetAtt": ["AppointmentsTable", "StreamArn"]}
    for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"):
        assert resources_for(action) == [stream_arn]
    assert resources_for("dynamodb:ListStreams") == [{"Fn::Sub": "${AppointmentsTable.Arn}/stream/*"}]
    assert resources_for("dynamodb:UpdateItem") == [TABLE_ARN]
    assert {str(resource) for resource in resources_for("dynamodb:GetItem")} == {str(TABLE_ARN)}
    assert resources_for("sqs:SendMessage") == list(sends_to)
    assert resources_for("dynamodb:Query") == list(queries)
    assert not {"dynamodb:DeleteItem", "dynamodb:Scan"} & allowed_actions(stack, role)
    return statements_, resources_for


def test_the_alert_function_reads_the_stream_publishes_queues_webhooks_and_dead_letters_and_nothing_more(stack):
    """It also runs the webhook feed: it lists the endpoints (a Query of the WEBHOOKS partition) and queues their
    deliveries."""
    _, resources_for = stream_consumer_resources(stack, "SendStaffAlertsRole", sends_to=(DEAD_LETTERS, WEBHOOK_QUEUE),
                                                 queries=(TABLE_ARN,))
    assert resources_for("sns:Publish") == [{"Ref": "AlertsTopic"}]
    actions = allowed_actions(stack, "SendStaffAlertsRole")
    assert not {a for a in actions if a.startswith(("ses:", "secretsmanager:"))}  # no mail, no key
    assert "dynamodb:PutItem" not in actions


def test_the_confirmation_function_reads_the_stream_counts_mails_and_dead_letters_but_alerts_nobody(stack):
    statements_, _ = stream_consumer_resources(stack, "SendConfirmationsRole")
    (put,) = [s for s in statements_ if "dynamodb:PutItem" in as_list(s["Action"])]
    assert put["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CONFIRM#*"]}}
    assert set(as_list(put["Action"])) == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert not {a for a in allowed_actions(stack, "SendConfirmationsRole") if a.startswith("sns:")}


@pytest.mark.parametrize("role", ["ApiHandlerRole", "SendConfirmationsRole", "SendDigestRole", "DeliverWebhooksRole"])
def test_each_function_reads_only_the_id_key_secret(stack, role):
    """The API keys request ids with it; the confirmation function keys the cap's address hash, the digest its
    claims' (core.keys: "digest claims"), and the webhook function derives the endpoints' signing secrets."""
    (statement,) = [s for s in role_statements(stack, role)
                    if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
    assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == {"Ref": "DedupeKeySecret"}


def test_the_data_key_is_usable_only_through_the_services_that_hold_our_data(stack):
    for role in ROLES.values():
        for statement in role_statements(stack, role):
            if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                assert statement["Resource"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
                services = as_list(statement["Condition"]["StringEquals"]["kms:ViaService"])
                assert {s["Fn::Sub"].split(".", 1)[0] for s in services} <= {"dynamodb", "sns", "sqs", "secretsmanager", "lambda"}
                if "secretsmanager.${AWS::Region}.amazonaws.com" in str(services):
                    assert as_list(statement["Action"]) == ["kms:Decrypt"]  # reading the id key, nothing more
                if "lambda.${AWS::Region}.amazonaws.com" in str(services):
                    assert as_list(statement["Action"]) == ["kms:Decrypt"]  # the API function's environment
                    assert role == "ApiHandlerRole"


def aws_calls_in(path, operations):
    """The client operations a module uses, called or passed on: `self._client.put_item`, `self._sns.publish`."""
    tree = ast.parse(path.read_text())
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in operations
            and CLIENT.search(ast.unparse(node.value))}


# Modules whose calls only some roles make: texts to phone numbers are the reminders' (the alert roles publish to
# their topic, never check a number's opt-out); sign-in code requests are queued by the API, and follow-ups by the
# code function itself.
ONLY_FOR = {ROOT / "chalicelib" / "notify" / "sms.py": {"SendRemindersRole"},
            ROOT / "chalicelib" / "storage" / "signin_queue.py": {"ApiHandlerRole", "SendSignInCodesRole"}}
# Modules two functions share, each making calls of its own: the webhook feed, which the alert function runs,
# queues deliveries (WebhookQueue.put); the delivery function sets a failed one's next try (WebhookQueue.retry_in).
# A call not named here counts for every role that may use the module.
CALLS_FOR = {ROOT / "chalicelib" / "storage" / "webhook_queue.py": {"send_message_batch": "SendStaffAlertsRole",
                                                                    "change_message_visibility": "DeliverWebhooksRole"}}


def calls_of(role, path, operations):
    """The client operations `path` makes on behalf of `role`."""
    if role not in ONLY_FOR.get(path, {role}):
        return set()
    owners = CALLS_FOR.get(path, {})
    return {name for name in aws_calls_in(path, operations) if owners.get(name, role) == role}


# IAM has no action for a transaction: each item in it needs its own (the rescue: an Update and a Put). Nor for an
# SQS batch: SendMessageBatch is authorised as sqs:SendMessage.
AUTHORISED_BY = {"dynamodb:TransactWriteItems": {"dynamodb:UpdateItem", "dynamodb:PutItem"},
                 "sqs:SendMessageBatch": {"sqs:SendMessage"}}
# SESv2 SendEmail with raw content (an e-mail with an attachment: the visit's .ics) is authorised as
# ses:SendRawEmail too (AWS answers AccessDenied naming it); the roles that send visit e-mails have both.
RAW_MAIL_ROLES = ("SendConfirmationsRole", "SendRemindersRole")


@pytest.mark.parametrize("service, role", [
    ("dynamodb", "ApiHandlerRole"), ("sns", "SendStaffAlertsRole"), ("secretsmanager", "ApiHandlerRole"),
    ("secretsmanager", "SendConfirmationsRole"), ("sesv2", "SendConfirmationsRole"),
    ("sesv2", "SendSignInCodesRole"), ("sqs", "ApiHandlerRole"), ("sns", "EscalateOverdueRole"),
    ("sesv2", "SendDigestRole"), ("secretsmanager", "SendDigestRole"), ("sns", "SendRemindersRole"),
    ("sesv2", "SendRemindersRole"), ("secretsmanager", "SendRemindersRole"), ("sqs", "SendSignInCodesRole"),
    ("sqs", "SendStaffAlertsRole"), ("sqs", "DeliverWebhooksRole"), ("secretsmanager", "DeliverWebhooksRole"),
])
def test_every_aws_call_in_the_code_is_allowed(stack, service, role):
    """A new call (a Scan, a DeleteItem, a transaction) fails here until its policy allows it, knowingly."""
    model = botocore.session.get_session().get_service_model(service)
    operations = {botocore.xform_name(name): name for name in model.operation_names}
    called = set().union(*(calls_of(role, path, operations) for path in (ROOT / "chalicelib").rglob("*.py")))
    assert called, f"found no {service} call in chalicelib: has the client moved?"
    prefix = {"sesv2": "ses"}.get(service, service)
    needed = set().union(*(AUTHORISED_BY.get(f"{prefix}:{operations[name]}", {f"{prefix}:{operations[name]}"})
                           for name in called))
    missing = needed - allowed_actions(stack, role)
    assert not missing, f"chalicelib calls {sorted(missing)}: allow them, narrowly, in .chalice/{POLICY_FILE[role]}"


@pytest.mark.parametrize("role", ["SendConfirmationsRole", "SendSignInCodesRole", "SendDigestRole",
                                  "SendRemindersRole"])
def test_mail_goes_out_only_from_the_clinics_sender_with_its_configuration_set(stack, role):
    (statement,) = [s for s in role_statements(stack, role) if "ses:SendEmail" in as_list(s["Action"])]
    assert as_list(statement["Action"]) == (["ses:SendEmail", "ses:SendRawEmail"] if role in RAW_MAIL_ROLES
                                            else ["ses:SendEmail"])
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}}
    resources = [json.dumps(resource) for resource in statement["Resource"]]
    assert sum(":identity/" in r for r in resources) == 2
    assert [r for r in resources if ":identity/" not in r] == [json.dumps(
        {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${MailConfigurationSet}"})]


def test_every_message_requires_tls(template):
    configuration_set = template["Resources"]["MailConfigurationSet"]["Properties"]
    assert configuration_set["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    for function in ("SendConfirmations", "SendSignInCodes", "SendDigest"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["MAIL_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}


def test_the_api_may_delete_only_staff_sessions_and_webhook_endpoints(stack):
    """Endpoints are items of the one partition WEBHOOKS. Their delivery attempts (WEBHOOK#id) are left to the
    table's TTL when an endpoint is deleted: the API never deletes one."""
    deleting = [s for s in role_statements(stack, "ApiHandlerRole") if "dynamodb:DeleteItem" in as_list(s["Action"])]
    assert [as_list(s["Action"]) for s in deleting] == [["dynamodb:DeleteItem"]] * 2
    assert sorted((s["Condition"] for s in deleting), key=json.dumps) == [
        {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["WEBHOOKS"]}},
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SESSION#*"]}}]


@pytest.mark.parametrize("role, keys", [("SendStaffAlertsRole", {"APPT#*"}),
                                        ("SendConfirmationsRole", {"APPT#*", "CONFIRM#*"}),
                                        ("SendSignInCodesRole", {"STAFF#*", "SIGNIN#*"}),
                                        ("EscalateOverdueRole", {"APPT#*"}),
                                        ("SendDigestRole", {"DIGEST#*"}),
                                        ("SendRemindersRole", {"APPT#*"}),
                                        ("DeliverWebhooksRole", {"WEBHOOKS", "WEBHOOK#*"})])
def test_a_stream_function_reaches_only_request_items_and_its_own(stack, role, keys):
    """Never a STAFF#, TOKEN# or SESSION# item: a stream function cannot make an admin or revive a session."""
    item_actions = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    reached = set()
    for statement in role_statements(stack, role):
        if item_actions & set(as_list(statement["Action"])):
            leading = leading_keys(statement)
            assert leading, statement["Sid"]
            reached |= set(leading)
    assert reached == keys


def test_the_api_no_longer_sends_mail_and_the_code_function_only_reads_accounts(stack):
    """Codes are mailed by the queue's consumer: the API role cannot send mail, and the consumer cannot change
    an account (it reads STAFF# items; it writes only SIGNIN# code items)."""
    assert not {a for a in allowed_actions(stack, "ApiHandlerRole") if a.startswith("ses:")}
    for statement in role_statements(stack, "SendSignInCodesRole"):
        leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        if leading == ["STAFF#*"]:
            assert as_list(statement["Action"]) == ["dynamodb:GetItem"]


def test_the_escalation_queries_only_the_due_index_marks_requests_and_publishes(stack):
    statements_ = role_statements(stack, "EscalateOverdueRole")
    (query,) = [s for s in statements_ if "dynamodb:Query" in as_list(s["Action"])]
    assert query["Resource"] == {"Fn::Sub": "${AppointmentsTable.Arn}/index/by_due"}
    actions = allowed_actions(stack, "EscalateOverdueRole")
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:Query", "dynamodb:UpdateItem"}
    (publish,) = [s for s in statements_ if "sns:Publish" in as_list(s["Action"])]
    assert publish["Resource"] == {"Ref": "AlertsTopic"}
    assert not {a for a in actions if a.startswith(("ses:", "secretsmanager:", "sqs:"))}


def test_the_reminders_query_only_their_index_reach_only_requests_and_text_no_topic(stack):
    """The reminder index, keys only; GetItem and UpdateItem on APPT# items; sns:Publish on "*" (a phone number has
    no ARN) with a Deny of every SNS ARN, so that the role can text a number but publish to no topic or endpoint."""
    statements_ = role_statements(stack, "SendRemindersRole")
    (query,) = [s for s in statements_ if "dynamodb:Query" in as_list(s["Action"])]
    assert query["Resource"] == {"Fn::Sub": "${AppointmentsTable.Arn}/index/by_reminder"}
    actions = allowed_actions(stack, "SendRemindersRole")
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:Query", "dynamodb:GetItem",
                                                                  "dynamodb:UpdateItem"}
    assert {a for a in actions if a.startswith("sns:")} == SMS_ACTIONS
    assert not {a for a in actions if a.startswith("sqs:")}
    (deny,) = [s for s in statements(dict(identity_policies(stack))["SendRemindersRole"]) if s["Effect"] == "Deny"]
    assert as_list(deny["Action"]) == ["sns:Publish"]
    assert deny["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}


# What the digest may read of a request, by name, in by_created: its keys, status, location and first contact; never
# `fields` (the patient's name, phone, e-mail and message), consent, history or the search hashes.
DIGEST_READS_OF_REQUESTS = {"pk", "sk", "entity", "created_at", "status", "location", "first_contact"}


def test_the_digest_counts_requests_by_status_and_reads_only_named_attributes_by_creation(stack):
    """Both indexes project every attribute: a Query of either without conditions reads every patient's name and
    message. Catches a digest Query statement without its condition: by_status only with Select COUNT (no item
    comes back); by_created only with Select SPECIFIC_ATTRIBUTES and attributes it names, those of a request's
    first contact or of a staff account (storage.accounts.LISTED). It writes nothing but its own DIGEST# claims,
    and publishes nothing."""
    from chalicelib.storage.accounts import LISTED

    statements_ = role_statements(stack, "SendDigestRole")
    conditions = {}
    for query in [s for s in statements_ if "dynamodb:Query" in as_list(s["Action"])]:
        assert as_list(query["Action"]) == ["dynamodb:Query"], query["Sid"]
        (resource,) = as_list(query["Resource"])
        conditions.setdefault(resource["Fn::Sub"], []).append(query.get("Condition"))
    index = "${AppointmentsTable.Arn}/index/"
    assert sorted(conditions) == [index + "by_created", index + "by_status"]
    assert conditions[index + "by_status"] == [{"StringEquals": {"dynamodb:Select": "COUNT"}}]
    readable = []
    for condition in conditions[index + "by_created"]:
        # StringEquals, not StringEqualsIfExists: a Query that names no attributes (and reads all) has no
        # dynamodb:Attributes, and ForAllValues holds of nothing.
        assert set(condition or {}) == {"StringEquals", "ForAllValues:StringEquals"}
        assert condition["StringEquals"] == {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
        (names,) = condition["ForAllValues:StringEquals"].values()
        assert list(condition["ForAllValues:StringEquals"]) == ["dynamodb:Attributes"]
        readable.append(set(names))
    assert sorted(readable, key=len) == [DIGEST_READS_OF_REQUESTS, set(LISTED) | {"pk", "sk"}]
    assert not {"fields", "consent", "history", "phone_hash", "email_hash"} & set().union(*readable)
    actions = allowed_actions(stack, "SendDigestRole")
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:Query", "dynamodb:PutItem",
                                                                   "dynamodb:DeleteItem"}
    (claims,) = [s for s in statements_ if "dynamodb:PutItem" in as_list(s["Action"])]
    assert claims["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DIGEST#*"]}}
    assert not {a for a in actions if a.startswith(("sns:", "sqs:"))}


# --- webhooks -------------------------------------------------------------------------------

def test_the_feed_queues_webhook_deliveries_only_to_the_webhook_queue(stack):
    """The alert function sends to its dead-letter queue (the stream's OnFailure) and to the webhook queue, nowhere
    else; it may encrypt for them (and publish) through SQS and SNS only."""
    statements_ = role_statements(stack, "SendStaffAlertsRole")
    sending = [s for s in statements_ if any(a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert sorted((json.dumps(s["Resource"]), as_list(s["Action"])) for s in sending) == sorted(
        (json.dumps(queue), ["sqs:SendMessage"]) for queue in (DEAD_LETTERS, WEBHOOK_QUEUE))
    (through_queues,) = [s for s in statements_ if any(a.startswith("kms:") for a in as_list(s["Action"]))
                         and "sqs.${AWS::Region}.amazonaws.com" in json.dumps(s["Condition"])]
    assert sorted(as_list(through_queues["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_the_feed_lists_endpoints_and_may_query_nothing_else(stack):
    """Every endpoint is an item of the partition WEBHOOKS (storage.webhooks): the alert function may Query the
    table on that leading key alone, exactly (StringEquals, not a pattern), so it reads no staff account (STAFF#)
    or request (APPT#) through a Query, and no index at all."""
    from chalicelib.storage.webhooks import ENDPOINTS_PARTITION

    (query,) = [s for s in role_statements(stack, "SendStaffAlertsRole") if "dynamodb:Query" in as_list(s["Action"])]
    assert as_list(query["Action"]) == ["dynamodb:Query"] and query["Resource"] == TABLE_ARN
    assert query["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [ENDPOINTS_PARTITION]}}


def test_listing_endpoints_is_a_query_of_the_webhooks_partition_alone(stack):
    """WebhookRepository.all() (the feed's listing, cached 30 s) as DynamoDB sees it: a Query of the table (no
    index) whose partition is WEBHOOKS, the one the alert function may read, page after page."""
    from chalicelib.storage.webhooks import WebhookRepository

    class Recorder:
        def __init__(self):
            self.requests = []

        def query(self, **request):
            self.requests.append(request)
            return {"Items": [], "LastEvaluatedKey": {"pk": {"S": "WEBHOOKS"}}} if len(self.requests) == 1 else {
                "Items": []}

    client = Recorder()
    assert WebhookRepository(client, "appointments").all() == []
    assert len(client.requests) == 2 and client.requests[1]["ExclusiveStartKey"] == {"pk": {"S": "WEBHOOKS"}}
    for request in client.requests:
        assert "IndexName" not in request
        assert request["KeyConditionExpression"] == "pk = :pk AND begins_with(sk, :prefix)"
        assert request["ExpressionAttributeValues"][":pk"] == {"S": "WEBHOOKS"}
    (query,) = [s for s in role_statements(stack, "SendStaffAlertsRole") if "dynamodb:Query" in as_list(s["Action"])]
    assert leading_keys(query) == ["WEBHOOKS"]


def test_the_delivery_function_takes_and_puts_back_only_webhook_deliveries(stack):
    """It receives and deletes (the event source), and sets a failed delivery's next try, on the webhook queue alone,
    and sends nothing to any queue: a delivery cannot queue another. Reading needs kms:Decrypt through SQS only."""
    statements_ = role_statements(stack, "DeliverWebhooksRole")
    queueing = [s for s in statements_ if any(a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert [(sorted(as_list(s["Action"])), s["Resource"]) for s in queueing] == [(
        ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        WEBHOOK_QUEUE)]
    (through_sqs,) = [s for s in statements_ if any(a.startswith("kms:") for a in as_list(s["Action"]))
                      and "sqs.${AWS::Region}.amazonaws.com" in json.dumps(s["Condition"])]
    assert as_list(through_sqs["Action"]) == ["kms:Decrypt"]


def test_the_delivery_function_reads_endpoints_and_records_attempts_and_nothing_more(stack):
    """GetItem (the endpoint, now) and UpdateItem (a 410 disables it) in the endpoints' partition WEBHOOKS alone,
    PutItem (each attempt's record) on WEBHOOK# items alone: it cannot write an endpoint whole (a URL of its own
    choosing) nor read anything else; no Query, no Scan, no DeleteItem."""
    actions = allowed_actions(stack, "DeliverWebhooksRole")
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:GetItem", "dynamodb:PutItem",
                                                                  "dynamodb:UpdateItem"}
    reaching = sorted((sorted(as_list(s["Action"])), s["Resource"], s["Condition"])
                      for s in role_statements(stack, "DeliverWebhooksRole")
                      if any(a.startswith("dynamodb:") for a in as_list(s["Action"])))
    assert reaching == [
        (["dynamodb:GetItem", "dynamodb:UpdateItem"], TABLE_ARN,
         {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["WEBHOOKS"]}}),
        (["dynamodb:PutItem"], TABLE_ARN, {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["WEBHOOK#*"]}})]


def test_the_delivery_function_can_neither_alert_nor_mail_nor_text_anyone(stack):
    """It holds a URL anyone with admin rights chose and POSTs to it: it may reach that receiver, nobody else."""
    actions = allowed_actions(stack, "DeliverWebhooksRole")
    assert not {a for a in actions if a.startswith(("sns:", "ses:"))}
    assert {a.split(":")[0] for a in actions} == {"logs", "sqs", "kms", "dynamodb", "secretsmanager"}
