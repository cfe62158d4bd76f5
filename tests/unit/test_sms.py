"""Reminder texts: segments in both encodings at their boundaries, the wording in each language within 2 segments,
and the SNS sender's opt-out check and errors, with a hand-written SNS client."""
from datetime import datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib.core.errors import SmsNotSent
from chalicelib.notify.sms import MAX_SEGMENTS, SmsSender, compose_reminder_text, gsm_letters, segments
from tests.conftest import captured_log_lines

LINK = "https://appointments.example-clinic.com/r/" + "Tk_-9" * 9
VISIT = datetime(2026, 12, 8, 16, 0)  # a Tuesday, the clinic's wall time
SATURDAY = datetime(2026, 12, 12, 13, 30)


# --- segments -------------------------------------------------------------------------------

@pytest.mark.parametrize("length, count", [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm_7_holds_160_in_one_segment_and_153_in_each_of_more(length, count):
    assert segments("a" * length) == segments("a" * length).__class__("GSM-7", length, count)


@pytest.mark.parametrize("length, count", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs_2_holds_70_in_one_segment_and_67_in_each_of_more(length, count):
    text = "á" * length  # á is not in the GSM 03.38 basic set (é is)
    assert (segments(text).encoding, segments(text).count) == ("UCS-2", count)


def test_spanish_letters_of_the_gsm_set_keep_gsm_7():
    assert segments("¿Qué tal, señor? ¡Mañana a las 16:00!").encoding == "GSM-7"
    assert segments("¿Qué tal? Mañana, miércoles o sábado").encoding == "UCS-2"  # á is not in the set


def test_an_emoji_counts_two_utf_16_units():
    assert segments("😀").units == 2
    assert segments("á" * 68 + "😀").count == 1
    assert segments("á" * 69 + "😀").count == 2


def test_an_extension_character_counts_two_septets_and_stays_gsm_7():
    assert segments("a" * 158 + "{").count == 1
    assert segments("a" * 159 + "€") == segments("a" * 159 + "€").__class__("GSM-7", 161, 2)
    assert segments("a" * 305 + "~").count == 3


def test_a_character_is_never_split_across_two_segments():
    # 306 septets, but the escape pair cannot straddle the first segment's end: 152 | 2 + 151 | 1
    assert segments("a" * 152 + "[" + "a" * 152).count == 3
    assert segments("á" * 66 + "😀" + "á" * 66).count == 3  # 134 units, the surrogate pair moved on


# --- the wording ------------------------------------------------------------------------------

def test_the_english_text_names_the_clinic_the_time_the_link_and_how_to_stop():
    text = compose_reminder_text("Downtown Physical Therapy", VISIT, LINK, "en")

    assert text.startswith("Downtown Physical Therapy: ")
    assert "Tuesday 8 December, 4:00 PM" in text
    assert f" {LINK} " in text  # never followed by a dot a phone would take into the link
    assert text.endswith("Reply STOP to opt out")
    assert segments(text).count <= MAX_SEGMENTS


def test_the_spanish_text_is_spanish_and_stays_gsm_7():
    text = compose_reminder_text("Downtown Physical Therapy", VISIT, LINK, "es")

    assert "el martes 8 de diciembre a las 16:00" in text
    assert text.endswith("Responda STOP para darse de baja")
    assert segments(text).encoding == "GSM-7"


def test_a_day_name_outside_gsm_7_falls_back_to_the_short_wording():
    text = compose_reminder_text("Downtown Physical Therapy", SATURDAY, LINK, "es")  # sábado: UCS-2

    assert "12/12 13:30" in text and "sábado" not in text
    assert text.startswith("Downtown Physical Therapy: ") and LINK in text
    assert segments(text).count <= MAX_SEGMENTS


def test_a_long_clinic_name_gets_the_short_wording_then_is_cut_never_a_third_segment():
    for language in ("en", "es"):
        for clinic in ("Lakeview Sports & Spine Rehabilitation Center of Greater Springfield",
                       "Łódź Physiotherapy " * 3, "Clinic " * 60):
            text = compose_reminder_text(clinic, VISIT, LINK, language)
            assert segments(text).count <= MAX_SEGMENTS, (language, clinic)
            assert LINK in text and "STOP" in text
            name = text.split(": ")[0]
            assert " ".join(clinic.split()).startswith(name) or gsm_letters(clinic).startswith(name), name


def test_every_clinic_name_length_stays_within_two_segments_in_both_encodings():
    for language in ("en", "es"):
        for letter in ("a", "ą"):
            for length in range(1, 200):
                assert segments(compose_reminder_text(letter * length, VISIT, LINK, language)).count <= MAX_SEGMENTS


def test_a_name_outside_gsm_7_is_written_in_its_letters_when_ucs_2_has_no_room():
    text = compose_reminder_text("Łódź Physiotherapy & Rehabilitation", VISIT, LINK, "en")

    assert text.startswith("Lodz Physiotherapy") and segments(text).encoding == "GSM-7"
    assert gsm_letters("Ærø Straße Œuvre") == "Ærø Straße OEuvre"


def test_a_link_too_long_for_two_segments_is_refused_not_cut():
    with pytest.raises(SmsNotSent) as refused:
        compose_reminder_text("Downtown", VISIT, "https://example.com/r/" + "x" * 300, "en")
    assert refused.value.retryable is False


# --- the sender -------------------------------------------------------------------------------

class FakeSns:
    """SNS's two SMS calls, as botocore's client answers them: opted out numbers, and what was published."""

    def __init__(self, opted_out=(), error=None):
        self.opted_out = set(opted_out)
        self.error = error
        self.published = []

    def check_if_phone_number_is_opted_out(self, phoneNumber):
        if self.error:
            raise self.error
        return {"isOptedOut": phoneNumber in self.opted_out}

    def publish(self, **request):
        self.published.append(request)
        return {"MessageId": f"sms-{len(self.published)}"}


def client_error(code):
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "Publish")


def test_a_text_is_published_to_the_e164_number_as_transactional():
    sns = FakeSns()

    assert SmsSender(sns).send("+12125550142", "Downtown: hello") == "sms-1"
    [request] = sns.published
    assert request["PhoneNumber"] == "+12125550142" and request["Message"] == "Downtown: hello"
    assert request["MessageAttributes"]["AWS.SNS.SMS.SMSType"] == {"DataType": "String",
                                                                   "StringValue": "Transactional"}


def test_an_opted_out_number_gets_nothing_and_the_log_does_not_name_it():
    sns = FakeSns(opted_out={"+12125550199"})

    assert SmsSender(sns).send("+12125550199", "Downtown: hello") is None
    assert sns.published == []
    assert any('"sms_opted_out"' in line for line in captured_log_lines())
    assert not any("5550199" in line for line in captured_log_lines())


@pytest.mark.parametrize("phone", ["2125550142", "+0212555014", "+1 212 555 0142", None])
def test_a_number_not_in_e164_is_refused_for_good(phone):
    sns = FakeSns()
    with pytest.raises(SmsNotSent) as refused:
        SmsSender(sns).send(phone, "Downtown: hello")
    assert refused.value.retryable is False and sns.published == []


def test_three_segments_are_never_sent():
    sns = FakeSns()
    with pytest.raises(SmsNotSent):
        SmsSender(sns).send("+12125550142", "a" * 307)
    assert sns.published == []


@pytest.mark.parametrize("error, retryable", [
    (client_error("Throttling"), True), (client_error("InternalError"), True),
    (client_error("AuthorizationError"), True), (EndpointConnectionError(endpoint_url="https://sns"), True),
    (client_error("InvalidParameter"), False),
])
def test_sns_errors_come_out_as_the_domain_error_never_botocore(error, retryable):
    with pytest.raises(SmsNotSent) as refused:
        SmsSender(FakeSns(error=error)).send("+12125550142", "Downtown: hello")
    assert refused.value.retryable is retryable
    assert refused.value.__suppress_context__


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_accented_clinic_name_is_kept_whole_in_gsm_letters_not_cut(language):
    """Catches cutting the name as written before trying it in GSM letters: "Clínica San José" became "Cl"."""
    from datetime import datetime

    text = compose_reminder_text("Clínica San José", datetime(2026, 12, 8, 10, 0),
                                 "https://appointments.clinic.example/r/" + "A" * 52, language)

    assert text.startswith("Clinica San Jose: ")
    assert segments(text).count <= 2
