"""Reading a CloudFormation template: resources by type, policy statements, the strings in a value."""

IDENTITY_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
RESOURCE_POLICY_TYPES = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
}


def resources(template, resource_type):
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == resource_type}


def properties(template, logical_id):
    return template["Resources"][logical_id]["Properties"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def identity_policies(template):
    """(logical id, policy document) for every role and policy: what a principal of this stack may do."""
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                yield name, policy["PolicyDocument"]
        elif resource["Type"] in IDENTITY_POLICY_TYPES:
            yield name, props["PolicyDocument"]


def resource_policies(template):
    for name, resource in template["Resources"].items():
        key = RESOURCE_POLICY_TYPES.get(resource["Type"])
        if key:
            yield name, resource["Properties"][key]


def statements(document):
    return as_list(document["Statement"])


def role_statements(template, role):
    return [s for name, document in identity_policies(template) if name == role for s in statements(document)]


def allowed_actions(template, role):
    return {action for s in role_statements(template, role) if s["Effect"] == "Allow" for action in as_list(s["Action"])}


def strings(value):
    """Every literal string in a value, Fn::Sub templates included: where a wildcard could hide."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
