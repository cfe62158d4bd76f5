"""Staff alerts as SNS will take them: subject rules, size, per-protocol text, what each detail level shows."""
import dataclasses
import json
import re
import string
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chalicelib.core.config import MAX_BASE_URL, Settings
from chalicelib.core.errors import ConfigError
from chalicelib.intake.models import REASON_LABELS, TIME_LABELS
from chalicelib.intake.models import REASONS
from chalicelib.notify.alerts import EVENT, MAX_SMS, MAX_SMS_LINK, compose_alert, to_ascii
from tests.alerting import EVERY_OPTIONAL_FIELD, REF, aws_subject_problems, stored_request
from tests.conftest import STAGE_ENV
from tools.resources import template_resource

SNS_MESSAGE_LIMIT = 256 * 1024


def sns_bytes(alert):
    """What SNS counts against its 256 KB limit: the message and every attribute's name, type and value."""
    size = len(alert.message.encode("utf-8"))
    for name, value in alert.attributes.items():
        size += len(name.encode()) + len(value["DataType"].encode()) + len(value["StringValue"].encode())
    return size


def variants(alert):
    message = json.loads(alert.message)
    assert isinstance(message, dict)
    return message


def everything_sent(alert):
    return "\n".join([alert.subject, *variants(alert).values(), json.dumps(alert.attributes, ensure_ascii=False)])


def personal_texts(fields):
    texts = [fields[name] for name in ("first_name", "last_name", "email", "phone", "insurance") if name in fields]
    texts += [line for line in fields.get("message", "").splitlines() if len(line.strip()) >= 4]
    if "phone" in fields:
        texts += ["212-555-0142", "2125550142", "555-0142"]
    if "reason" in fields:
        texts += [fields["reason"], REASON_LABELS[fields["reason"]]]
    return texts


def lines_starting(body, prefix):
    return [line for line in body.splitlines() if line.startswith(prefix)]


@pytest.fixture
def minimal_settings(settings):
    return dataclasses.replace(settings, notify_detail="minimal")


# -- the checker itself -------------------------------------------------------------------

@pytest.mark.parametrize("subject", [
    "José", "a\nb", "a\rb", "tab\there", " leading space", "\x7fdelete", "x" * 100, "", "🙂 hello",
])
def test_subject_checker_finds_what_sns_refuses(subject):
    assert aws_subject_problems(subject)


@pytest.mark.parametrize("subject", ["Appointment request: Jose", "x" * 99, "(ref) 1", "1 request"])
def test_subject_checker_passes_what_sns_takes(subject):
    assert aws_subject_problems(subject) == []


# -- subject ------------------------------------------------------------------------------

@pytest.mark.parametrize("detail", ["full", "minimal"])
@pytest.mark.parametrize("first, last", [
    ("José", "García"),
    ("Jonathan", "Whitfield"),
    ("李", "小龙"),
    ("Bob\r\nSubject: You won", "X\u2028Bcc: all\x00"),
    ("Maximiliana-Alexandrina Wilhelmina Josephine de la Cruz", "Bartholomew-Featherstonehaugh y Montgomery"),
])
def test_the_subject_and_attributes_carry_no_personal_data_at_either_level(settings, detail, first, last):
    """SNS encrypts a message's body with the topic's KMS key, not its Subject or attributes."""
    alert = compose_alert(stored_request(first_name=first, last_name=last), dataclasses.replace(settings, notify_detail=detail))
    assert alert.subject == f"Appointment request - Downtown Clinic (ref {REF[:8]})"
    assert aws_subject_problems(alert.subject) == []
    outside_the_body = alert.subject + json.dumps(alert.attributes, ensure_ascii=False)
    for text in personal_texts(stored_request(first_name=first, last_name=last).fields):
        assert text not in outside_the_body
    for word in ("Jose", "Garcia", "Jonathan", "Whitfield", "Maximiliana"):
        assert word not in outside_the_body


@pytest.mark.parametrize("first, last", [("李", "小龙"), ("Иван", "Петров"), ("Zoë 🌸", "O’Brien")])
def test_the_name_is_in_the_body_of_a_full_alert(settings, first, last):
    alert = compose_alert(stored_request(first_name=first, last_name=last), settings)
    assert f"Name: {first} {last}\n" in variants(alert)["email"]


def test_a_name_cannot_forge_a_line_of_the_body(settings):
    request = stored_request(first_name="Bob\r\nSubject: You won", last_name="X\u2028Bcc: all\x00")
    alert = compose_alert(request, settings)
    assert lines_starting(variants(alert)["email"], "Name: ") == ["Name: Bob Subject: You won X Bcc: all"]
    assert lines_starting(variants(alert)["email"], "Subject") == []


def test_each_location_is_named_in_its_subject(settings):
    for location, name in settings.locations.items():
        alert = compose_alert(stored_request(location=location), settings)
        assert name in alert.subject
        assert aws_subject_problems(alert.subject) == []


def test_a_location_name_outside_ascii_still_gives_a_valid_subject(settings):
    settings = dataclasses.replace(settings, locations={"downtown": "Clínica Centro 東京 " + "x" * 80})
    for detail in ("full", "minimal"):
        alert = compose_alert(stored_request(), dataclasses.replace(settings, notify_detail=detail))
        assert "Clinica Centro" in alert.subject
        assert aws_subject_problems(alert.subject) == []


# -- full detail --------------------------------------------------------------------------

def test_full_alert_shows_every_field_the_patient_gave(settings):
    alert = compose_alert(stored_request(**EVERY_OPTIONAL_FIELD), settings)
    body = variants(alert)["email"]
    assert body.splitlines() == [
        "New appointment request for Downtown Clinic.",
        "",
        f"Open it in the staff inbox: http://127.0.0.1:8000/staff/requests/{REF}",
        "",
        f"Reference: {REF}",
        "Received: Wed 25 Nov 2026, 10:00 AM EST",
        "Clinic location: Downtown Clinic",
        "Language: English",
        "",
        "Name: José García-Núñez",
        "Phone: +1 212-555-0142",
        "Email: jose.garcia@example.com",
        "Preferred contact: Email",
        "Reason for visit: Sports injury",
        "Preferred date: Tue 1 Dec 2026",
        "Preferred time: Afternoon",
        "New patient: Yes",
        "Referral: Yes",
        "Insurance: Blue Cross PPO 4471",
        "",
        "Message from the patient (quoted; web addresses disabled):",
        "> My knee hurts when I run.",
        "> Mornings are best.",
    ]


def test_received_time_is_shown_in_the_clinic_time_zone(settings):
    summer = compose_alert(stored_request(created_at=datetime(2026, 7, 1, 14, 30, tzinfo=timezone.utc)), settings)
    late = compose_alert(stored_request(created_at=datetime(2026, 11, 26, 4, 5, tzinfo=timezone.utc)), settings)
    assert "Received: Wed 1 Jul 2026, 10:30 AM EDT" in variants(summer)["email"]
    assert "Received: Wed 25 Nov 2026, 11:05 PM EST" in variants(late)["email"]


@pytest.mark.parametrize("field", sorted(EVERY_OPTIONAL_FIELD))
def test_an_absent_optional_field_leaves_no_line_behind(settings, field):
    given = {**EVERY_OPTIONAL_FIELD, field: ...}
    body = variants(compose_alert(stored_request(**given), settings))["email"]
    label = {"message": "Message from the patient", "has_referral": "Referral", "new_patient": "New patient",
             "preferred_contact": "Preferred contact", "reason": "Reason for visit", "preferred_date": "Preferred date",
             "preferred_time": "Preferred time", "insurance": "Insurance"}[field]
    assert lines_starting(body, label) == []
    assert "None" not in body


def test_a_request_with_only_the_required_fields_is_short_and_complete(settings):
    body = variants(compose_alert(stored_request(preferred_contact=...), settings))["email"]
    assert [line.split(":")[0] for line in body.splitlines() if ": " in line] == [
        "Open it in the staff inbox", "Reference", "Received", "Clinic location", "Language", "Name", "Phone", "Email",
    ]
    assert not body.endswith("\n\n")


def test_false_answers_are_shown_as_no(settings):
    body = variants(compose_alert(stored_request(new_patient=False, has_referral=False), settings))["email"]
    assert "New patient: No" in body and "Referral: No" in body


def test_staff_read_the_same_words_the_patient_chose_from(settings):
    from chalicelib.intake import page

    form = page.form_page(settings)
    assert set(REASON_LABELS) == set(REASONS)
    assert all(f">{label}<" in form for label in [*REASON_LABELS.values(), *TIME_LABELS.values()])
    for reason in REASONS:
        body = variants(compose_alert(stored_request(reason=reason), settings))["email"]
        assert f"Reason for visit: {REASON_LABELS[reason]}\n" in body


# -- form text stays text -------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"])
def test_a_message_cannot_forge_lines_that_look_like_fields(settings, newline):
    message = newline.join(["Please call me.", "Phone: +1 900 555 0199", "Reference: aaaaaaaa", "Subject: URGENT"])
    body = variants(compose_alert(stored_request(message=message), settings))["email"]
    assert lines_starting(body, "Phone: ") == ["Phone: +1 212-555-0142"]
    assert lines_starting(body, "Reference: ") == [f"Reference: {REF}"]
    assert lines_starting(body, "Subject") == []
    assert "> Phone: +1 900 555 0199" in body.splitlines()


def test_every_line_of_a_long_message_is_quoted_even_when_wrapped(settings):
    message = ("word " * 60 + "Phone: 555-0100 ") * 3 + "\n\n\tindented\n" + "李" * 300
    body = variants(compose_alert(stored_request(message=message), settings))["email"]
    quoted = body.split("Message from the patient (quoted; web addresses disabled):\n", 1)[1]
    assert all(line.startswith(">") and len(line) <= 76 for line in quoted.splitlines())
    assert lines_starting(body, "Phone: ") == ["Phone: +1 212-555-0142"]


@pytest.mark.parametrize("field", ["insurance", "first_name", "last_name", "email"])
def test_one_line_fields_stay_on_one_line(settings, field):
    request = stored_request(**{field: "Aetna\nPhone: 555\r\nEmail: x@evil.example\x1b[31m"})
    body = variants(compose_alert(request, settings))["email"]
    assert lines_starting(body, "Phone: ") == ["Phone: +1 212-555-0142"]
    assert len(lines_starting(body, "Email: ")) == 1
    assert "\x1b" not in body


def test_links_in_form_text_are_disabled_but_the_patients_address_is_not(settings):
    request = stored_request(
        first_name="www.example.org",
        insurance="see https://insure.example/claim",
        message="Reset your password at https://clinic-login.example.com/reset or evil。com, also ftp://x.example",
    )
    alert = compose_alert(request, settings)
    sent = everything_sent(alert)
    for link in ("https://", "ftp://", "clinic-login.example.com", "www.example.org", "insure.example", "evil。com"):
        assert link not in sent
    assert "https[:]//clinic-login[.]example[.]com/reset" in variants(alert)["email"]
    assert "Email: jose.garcia@example.com" in variants(alert)["email"]


def test_ordinary_text_with_dots_reads_as_typed(settings):
    body = variants(compose_alert(stored_request(message="Dr. Lee said 2.5 mg, e.g. twice a day."), settings))["email"]
    assert "> Dr. Lee said 2.5 mg, e.g. twice a day." in body


def test_bidi_controls_cannot_reorder_what_staff_read(settings):
    request = stored_request(last_name="Smith\u202egnp.exe", message="ok \u2066x\u2069")
    body = variants(compose_alert(request, settings))["email"]
    assert not set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") & set(body)


def test_stored_text_longer_than_the_form_allows_is_clipped(settings):
    body = variants(compose_alert(stored_request(message="a" * 10_000, insurance="b" * 500), settings))["email"]
    assert body.count("a") < 2100
    assert "[cut here: the whole message is in the staff API]" in body
    assert len(lines_starting(body, "Insurance: ")[0]) <= len("Insurance: ") + 100


# -- minimal detail -----------------------------------------------------------------------

def test_minimal_alert_has_no_personal_or_health_details(minimal_settings):
    request = stored_request(**EVERY_OPTIONAL_FIELD)
    alert = compose_alert(request, minimal_settings)
    sent = everything_sent(alert)
    for text in personal_texts(request.fields) + ["Jose", "Garcia", "Blue Cross", "knee", "Sports"]:
        assert text.lower() not in sent.lower()
    for label in ("Name", "Phone", "Email", "Reason", "Insurance", "Message", "Preferred", "New patient", "Referral"):
        assert lines_starting(variants(alert)["email"], label) == []


def test_minimal_alert_says_where_when_and_which(minimal_settings):
    body = variants(compose_alert(stored_request(), minimal_settings))["email"]
    assert "Clinic location: Downtown Clinic" in body
    assert f"Reference: {REF}" in body
    assert "Received: Wed 25 Nov 2026, 10:00 AM EST" in body
    assert f"Open it in the staff inbox: http://127.0.0.1:8000/staff/requests/{REF}" in body


@pytest.mark.parametrize("detail", ["full", "minimal"])
def test_a_correction_s_alert_names_the_request_it_corrects(settings, detail):
    """Staff see "corrects ref ..." with its link, at both levels: catches the alert forgetting `corrects`."""
    first = "q8w2e4r6t8y1u3i5o7p9a2s4"
    request = stored_request().model_copy(update={"corrects": first})
    body = variants(compose_alert(request, dataclasses.replace(settings, notify_detail=detail)))["email"]
    assert (f"It corrects an earlier request sent from the same page: ref {first[:8]}, "
            f"http://127.0.0.1:8000/staff/requests/{first}") in body
    assert "corrects" not in variants(compose_alert(stored_request(), settings))["email"]


# -- SNS message shape ----------------------------------------------------------------------

@pytest.mark.parametrize("detail", ["full", "minimal"])
def test_message_is_json_with_the_keys_sns_needs(settings, detail):
    alert = compose_alert(stored_request(**EVERY_OPTIONAL_FIELD), dataclasses.replace(settings, notify_detail=detail))
    message = variants(alert)
    assert set(message) == {"default", "email", "sms"}
    assert all(isinstance(value, str) and value for value in message.values())
    assert message["default"] == message["email"]


@pytest.mark.parametrize("detail", ["full", "minimal"])
def test_sms_says_what_where_and_when_then_links_to_the_request_with_no_personal_details(settings, detail):
    request = stored_request(**EVERY_OPTIONAL_FIELD)
    settings = dataclasses.replace(settings, notify_detail=detail, public_base_url="https://api.clinic.example/api")
    sms = variants(compose_alert(request, settings))["sms"]
    assert sms == ("New appointment request, Downtown Clinic. Received Wed 25 Nov 2026, 10:00 AM EST.\n"
                   f"https://api.clinic.example/api/staff/requests/{REF}")
    for text in personal_texts(request.fields):
        assert text not in sms


def test_sms_is_two_segments_at_most_with_the_topic_display_name_in_front(settings):
    # SNS sends "DISPLAY NAME> " before each SMS from a topic, and splits a longer SMS between
    # words into segments of 153 GSM-7 characters.
    prefix = template_resource("AlertsTopic")["Properties"]["DisplayName"].upper() + "> "
    long_name = "Ærø Physiotherapy & [Sports] Rehabilitation Centre of the Northern Lakes"
    longest_base = "https://" + "a" * (MAX_BASE_URL - len("https://.example")) + ".example"
    assert len(longest_base) == MAX_BASE_URL
    settings = dataclasses.replace(settings, locations={"downtown": long_name}, public_base_url=longest_base)
    first, link = variants(compose_alert(stored_request(id="z" * 24), settings))["sms"].split("\n")
    # SNS splits between words: the prefix, the first line and its line break fill segment one.
    assert len(prefix + first + "\n") <= 153 and len(first) <= MAX_SMS
    assert set(first) <= set(string.ascii_letters + string.digits + " .,'&()-/:")
    assert link == f"{longest_base}/staff/requests/{'z' * 24}"
    assert gsm_septets(link) <= MAX_SMS_LINK == 153


def test_an_sms_link_with_gsm_extension_characters_still_fits_its_segment(settings):
    # "~" is allowed in the path, and takes two GSM-7 septets: the longest such URL config takes.
    base = "https://a.example/" + "~" * ((MAX_BASE_URL - len("https://a.example/")) // 2)
    settings = Settings.from_env({**STAGE_ENV, "PUBLIC_BASE_URL": base})
    link = variants(compose_alert(stored_request(id="z" * 24), settings))["sms"].split("\n")[1]
    assert gsm_septets(link) <= MAX_SMS_LINK
    with pytest.raises(ConfigError):
        Settings.from_env({**STAGE_ENV, "PUBLIC_BASE_URL": base + "~"})


def gsm_septets(text):
    """GSM 03.38: the basic set takes one septet, its extension table (^{}\\[~]|) two."""
    return sum(2 if char in "^{}\\[~]|€" else 1 for char in text)


def test_attributes_let_staff_filter_by_location(settings):
    alert = compose_alert(stored_request(location="northside"), settings)
    assert alert.attributes == {
        "location": {"DataType": "String", "StringValue": "northside"},
        "event": {"DataType": "String", "StringValue": EVENT},
        "appointment_id": {"DataType": "String", "StringValue": REF},
    }
    assert EVENT == "appointment.requested"


@pytest.mark.parametrize("message", [
    "x" * 2000,
    "🙂" * 2000,
    "李" * 2000,
    "\n" * 2000,
    "ab." * 666,
    ("https://a.example/" * 200)[:2000],
    "\u2028>" * 1000,
], ids=["ascii", "emoji", "cjk", "newlines", "dots", "links", "separators"])
def test_the_longest_message_stays_well_under_the_sns_limit(settings, message):
    request = stored_request(
        first_name="Ŵ" * 60, last_name="🙂" * 60, insurance="€" * 100, message=message, **{
            name: value for name, value in EVERY_OPTIONAL_FIELD.items() if name not in ("insurance", "message")
        })
    alert = compose_alert(request, settings)
    assert sns_bytes(alert) < SNS_MESSAGE_LIMIT // 4
    assert aws_subject_problems(alert.subject) == []


def test_a_2000_character_message_arrives_whole(settings):
    message = " ".join(f"w{i}" for i in range(1000))[:2000].strip() + "!"
    assert len(message) == 2000
    body = variants(compose_alert(stored_request(message=message), settings))["email"]
    quoted = " ".join(line[2:] for line in body.splitlines() if line.startswith("> "))
    assert quoted == message


def test_to_ascii_keeps_plain_ascii_as_it_is():
    text = "O'Brien-Smith Jr. (2nd) & Co, 42"
    assert to_ascii(text) == text


# -- whatever the patient typed ---------------------------------------------------------------

def _typed(max_size):
    # "Pt " marks generated values, so the log audit (remember_personal) cannot match a timestamp by chance.
    return st.text(max_size=max_size).map(lambda text: "Pt " + text)


@hypothesis_settings(max_examples=150, deadline=None)
@given(first=_typed(60), last=_typed(60), insurance=_typed(100), message=_typed(2000),
       detail=st.sampled_from(["full", "minimal"]))
def test_any_text_gives_an_alert_sns_accepts(first, last, insurance, message, detail):
    settings = dataclasses.replace(Settings.from_env(STAGE_ENV), notify_detail=detail)
    request = stored_request(first_name=first, last_name=last, insurance=insurance, message=message, reason="hip")
    alert = compose_alert(request, settings)
    message_variants = variants(alert)

    assert aws_subject_problems(alert.subject) == []
    assert len(message_variants["sms"].split("\n")[0]) <= MAX_SMS
    assert sns_bytes(alert) < SNS_MESSAGE_LIMIT // 4
    body = message_variants["email"]
    for label in ("Name", "Phone", "Email", "Insurance", "Reference", "Received", "Clinic location"):
        assert len(lines_starting(body, label + ":")) <= 1
    if detail == "full":
        quoted = body.split("(quoted; web addresses disabled):\n", 1)[1]
        assert all(line.startswith(">") for line in quoted.splitlines())
    else:
        assert "Pt " not in alert.subject + body and "Hip" not in body


@pytest.mark.parametrize("detail", ["full", "minimal"])
def test_every_alert_links_to_its_request_in_the_staff_inbox_by_id_only(settings, detail):
    settings = dataclasses.replace(settings, notify_detail=detail, public_base_url="https://api.clinic.example/api")
    alert = compose_alert(stored_request(**EVERY_OPTIONAL_FIELD), settings)
    for variant in ("default", "email", "sms"):
        links = re.findall(r"https?://\S+", variants(alert)[variant])
        assert links == [f"https://api.clinic.example/api/staff/requests/{REF}"]


def test_a_phone_extension_is_shown_in_the_alert(settings):
    body = variants(compose_alert(stored_request(phone="+12125550142 ext. 4417"), settings))["email"]
    assert lines_starting(body, "Phone") == ["Phone: +1 212-555-0142 ext. 4417"]


@pytest.mark.parametrize("utc_hour, shown", [(5, "12:00 AM EST"), (17, "12:00 PM EST"), (4, "11:00 PM EST"),
                                             (18, "1:00 PM EST")])
def test_midnight_and_noon_are_12_am_and_12_pm(settings, utc_hour, shown):
    alert = compose_alert(stored_request(created_at=datetime(2026, 11, 25, utc_hour, 0, tzinfo=timezone.utc)), settings)
    assert f", {shown}" in lines_starting(variants(alert)["email"], "Received: ")[0]
    assert variants(alert)["sms"].split("\n")[0].endswith(f", {shown}.")


def test_a_long_location_name_still_leaves_the_sms_its_time_and_link(settings):
    name = "Lakeview Sports Rehabilitation and Physical Therapy Center, North Campus"
    assert len(name) == 72
    settings = dataclasses.replace(settings, locations={"downtown": name})
    first, link = variants(compose_alert(stored_request(), settings))["sms"].split("\n")
    assert len(first) <= MAX_SMS
    assert first.endswith("Received Wed 25 Nov 2026, 10:00 AM EST.") and link.endswith(f"/staff/requests/{REF}")
    assert first.startswith("New appointment request, Lakeview Sports Rehabilitat")


@pytest.mark.parametrize("name", ["東京クリニック", "Клиника", "🏥"])
def test_an_sms_for_a_location_name_without_latin_letters_names_the_location_id(settings, name):
    settings = dataclasses.replace(settings, locations={"downtown": name})
    sms = variants(compose_alert(stored_request(), settings))["sms"]
    assert sms.startswith("New appointment request, downtown. Received ")


def test_a_message_of_exactly_the_limit_is_quoted_whole_and_one_more_character_is_cut(settings):
    whole = variants(compose_alert(stored_request(message="m" * 1999 + "z"), settings))["email"]
    cut = variants(compose_alert(stored_request(message="m" * 2000 + "z"), settings))["email"]
    assert "cut here" not in whole and "z" in whole.split("(quoted; web addresses disabled):")[1]
    assert "cut here" in cut and "z" not in cut.split("(quoted; web addresses disabled):")[1]



@pytest.mark.parametrize("detail", ["full", "minimal"])
def test_every_alert_says_which_language_to_call_back_in(settings, detail):
    import dataclasses

    request = stored_request().model_copy(update={"language": "es"})
    alert = compose_alert(request, dataclasses.replace(settings, notify_detail=detail))
    assert "Language: Spanish" in variants(alert)["email"]
    assert "Spanish" not in alert.subject and "es" not in {a["StringValue"] for a in alert.attributes.values()}
