"""Reminder texts through moto's SNS: published as SMS to the E.164 number, and skipped for a number SNS reports
opted out (moto reports every number ending in 99 so: moto/sns/models.py, check_if_phone_number_is_opted_out)."""
import boto3
import pytest

from chalicelib.core.errors import SmsNotSent
from chalicelib.notify.sms import SmsSender


def sms_sent(account="123456789012", region="us-east-1"):
    from moto.sns.models import sns_backends

    return list(sns_backends[account][region].sms_messages.values())


@pytest.fixture
def sns(mocked_aws):
    return boto3.client("sns", region_name="us-east-1")


def test_a_text_goes_to_the_number_as_sms(sns):
    message_id = SmsSender(sns).send("+12125550142", "Downtown: your visit is on 12/8 4:00 PM.")

    assert message_id
    assert sms_sent() == [("+12125550142", "Downtown: your visit is on 12/8 4:00 PM.")]


def test_moto_reports_a_number_ending_in_99_opted_out_and_nothing_is_sent(sns):
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+12125550199")["isOptedOut"] is True

    assert SmsSender(sns).send("+12125550199", "Downtown: hello") is None
    assert sms_sent() == []


def test_an_sns_refusal_is_the_domain_error(sns):
    class Refusing:
        check_if_phone_number_is_opted_out = sns.check_if_phone_number_is_opted_out

        @staticmethod
        def publish(**request):
            return sns.publish(**{**request, "MessageAttributes": {"bad": {"DataType": "Nope", "StringValue": "x"}}})

    with pytest.raises(SmsNotSent):
        SmsSender(Refusing()).send("+12125550142", "Downtown: hello")
    assert sms_sent() == []
