"""The sign-in code function queues follow-ups to itself (staff/code_mail.py), on its own queue and nowhere else."""
from tests.infra.template import allowed_actions, as_list, role_statements


def test_the_code_function_may_send_only_to_its_own_queue_and_encrypt_only_through_sqs(stack):
    statements = role_statements(stack, "SendSignInCodesRole")
    (sending,) = [s for s in statements if "sqs:SendMessage" in as_list(s["Action"])]
    assert (as_list(sending["Action"]), sending["Resource"]) == (["sqs:SendMessage"],
                                                                 {"Fn::GetAtt": ["SignInCodeQueue", "Arn"]})
    (through_sqs,) = [s for s in statements if any(a.startswith("kms:") for a in as_list(s["Action"]))
                      and s["Condition"]["StringEquals"]["kms:ViaService"] == {
                          "Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}]
    assert sorted(as_list(through_sqs["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]  # a message it sends
    assert not {a for a in allowed_actions(stack, "SendSignInCodesRole")
                if a.startswith("sqs:")} - {"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                                            "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
