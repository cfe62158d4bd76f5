"""Every rule of the POST /appointments table, valid and invalid, on the form model alone."""
from datetime import date, timedelta

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.intake.models import LABELS, REASONS, validate_form
from tests.conftest import valid_fields

TODAY = date(2026, 11, 25)
REQUIRED = ("first_name", "last_name", "email", "phone", "location", "contact_consent")


def validate(settings, today=TODAY, **overrides):
    return validate_form(
        valid_fields(**overrides), locations=settings.locations, phone_region=settings.phone_region, today=today
    )


def problems(settings, today=TODAY, **overrides):
    with pytest.raises(ValidationFailed) as failed:
        validate(settings, today, **overrides)
    return failed.value.fields


def assert_readable(message):
    assert message[0].isupper() and message.endswith(".")
    for jargon in ("Input should", "pydantic", "type=", "validation error", "Value error"):
        assert jargon not in message


def test_the_minimal_form_is_valid(settings):
    form = validate(settings)

    assert form.fields() == {
        "first_name": "Zoë",
        "last_name": "Okonkwo-Lindqvist",
        "email": "zoe.okonkwo@example.com",
        "phone": "+12125550142",
        "location": "downtown",
        "contact_consent": True,
        "preferred_contact": "phone",
    }
    assert not form.suspected_spam


def test_a_complete_form_is_valid(settings):
    form = validate(
        settings,
        preferred_contact="text",
        new_patient=True,
        reason="sports_injury",
        preferred_date="2026-12-01",
        preferred_time="morning",
        has_referral=False,
        insurance="Blue Cross PPO",
        message="Knee pain after running.\nWorse on stairs.",
        sms_consent=True,
    )

    assert form.fields()["preferred_date"] == "2026-12-01"
    assert form.fields()["has_referral"] is False
    assert form.fields()["sms_consent"] is True


# --- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "José", "Zoë", "O'Brien", "李", "Nguyễn", "Владимир", "محمد", "Mary-Jane", "D'Angelo Smith", "Ngũgĩ", "अनुष्का",
])
def test_names_in_any_script_are_accepted(settings, name):
    form = validate(settings, first_name=name, last_name=name)

    assert form.first_name == form.last_name == name


@pytest.mark.parametrize("name", ["\u200b", "\ufeff\u200b", "👩‍⚕️", "---", "42"])
def test_a_name_without_any_letter_is_refused(settings, name):
    message = problems(settings, first_name=name)["first_name"]
    assert "letter" in message or "enter your first name" in message or "invisible" in message


def test_names_are_trimmed_and_normalised_to_composed_form(settings):
    form = validate(settings, first_name="  Zoe\u0308 ", last_name="\tO'Brien\u3000")

    assert form.first_name == "Zoë"
    assert form.last_name == "O'Brien"


def test_a_name_may_have_60_characters_after_trimming(settings):
    assert validate(settings, first_name="   " + "a" * 60 + "   ").first_name == "a" * 60
    assert validate(settings, last_name="李" * 60).last_name == "李" * 60


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_name_of_61_characters_is_too_long(settings, field):
    message = problems(settings, **{field: "a" * 61})[field]

    assert message == f"{LABELS[field]} can be at most 60 characters (it has 61)."


@pytest.mark.parametrize("control", [
    "\n", "\r", "\r\n", "\t", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u2029",
])
def test_names_cannot_contain_control_characters_or_line_breaks(settings, control):
    fields = problems(settings, first_name=f"Zo{control}ë", last_name=f"Okon{control}kwo")

    assert fields == {
        "first_name": "First name cannot contain control characters or line breaks.",
        "last_name": "Last name cannot contain control characters or line breaks.",
    }


@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "\ud83d"])
@pytest.mark.parametrize("field", ["first_name", "last_name", "phone", "insurance", "message", "email"])
def test_lone_surrogates_are_refused_in_every_text_field(settings, field, surrogate):
    value = {"email": f"zoe{surrogate}@example.com", "phone": f"212555{surrogate}0142"}.get(field, f"ab{surrogate}c")

    fields = problems(settings, **{field: value})

    assert set(fields) == {field}
    assert_readable(fields[field])


BIDI_CONTROLS = list("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.mark.parametrize("invisible", BIDI_CONTROLS + ["\u200b", "\ufeff", "\U000e0041", "\u2060"])
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_invisible_format_characters_are_refused_in_names(settings, field, invisible):
    fields = problems(settings, **{field: f"Zoë{invisible}gnp.exe"})

    assert fields == {field: f"{LABELS[field]} cannot contain invisible formatting characters."}


# Persian and Kurdish (ZWNJ inside a compound name), Malayalam (ZWJ after a virama) and Sinhala (ZWJ: a yansaya).
JOINED_NAMES = ["\u0645\u0647\u200c\u0631\u0648\u0632", "\u0634\u06cc\u0631\u06cc\u0646\u200c\u0628\u0627\u0646\u0648",
                "\u0d2e\u0d4d\u200d\u0d2e", "\u0d9a\u0dca\u200d\u0dba"]


@pytest.mark.parametrize("name", JOINED_NAMES)
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_joiner_between_letters_is_part_of_a_name(settings, field, name):
    assert getattr(validate(settings, **{field: name}), field) == name


@pytest.mark.parametrize("placed", ["\u200dZoë", "Zoë\u200c", "Zo\u200c\u200cë", "Zoë \u200d Li", "Zoë1\u200d2",
                                    "Zo\u200d\U0001f600"])
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_joiner_anywhere_but_between_letters_is_refused(settings, field, placed):
    assert problems(settings, **{field: placed}) == {
        field: f"{LABELS[field]} cannot contain invisible formatting characters."}


@pytest.mark.parametrize("bidi", BIDI_CONTROLS)
@pytest.mark.parametrize("field", ["insurance", "message"])
def test_bidirectional_controls_are_dropped_from_free_text(settings, field, bidi):
    assert getattr(validate(settings, **{field: f"Blue{bidi} Cross{bidi}"}), field) == "Blue Cross"


@pytest.mark.parametrize("typed, stored", [
    ("212-555-0142 ext. 4417", "+12125550142 ext. 4417"),
    ("(212) 555-0142 x12", "+12125550142 ext. 12"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_a_phone_extension_is_kept(settings, typed, stored):
    assert validate(settings, phone=typed).phone == stored


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n", None])
def test_a_blank_or_null_name_is_missing(settings, field, blank):
    assert problems(settings, **{field: blank}) == {field: f"Please enter your {LABELS[field].lower()}."}


# --- email ---------------------------------------------------------------------------------

def test_email_is_checked_for_syntax_only_and_normalised(settings):
    # No DNS look-up: a domain that does not exist is fine.
    assert validate(settings, email=" Zoe@No-Such-Clinic-Domain.Example ").email == "Zoe@no-such-clinic-domain.example"
    assert validate(settings, email="zoë@bücher.example").email == "zoë@bücher.example"


def local_and_domain(length):
    domain = "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
    return "a" * (length - len(domain) - 1) + "@" + domain


def test_an_email_of_254_characters_is_accepted(settings):
    email = local_and_domain(254)

    assert len(email) == 254
    assert validate(settings, email=email).email == email


def test_an_email_of_255_characters_is_refused(settings):
    assert problems(settings, email=local_and_domain(255)) == {
        "email": "An email address can be at most 254 characters."
    }


@pytest.mark.parametrize("email", [
    "not-an-email", "zoe@", "@example.com", "zoe example@example.com", "zoe@@example.com",
    "zoe@example", "zoe@example..com", "zoe@example.com\nBcc: x@example.com", "zoe@localhost", "zoe@example.test",
])
def test_an_invalid_email_gets_a_readable_message(settings, email):
    message = problems(settings, email=email)["email"]

    assert message.startswith("Please check your email address: ")
    assert_readable(message)


@pytest.mark.parametrize("email, english, spanish", [
    ("not-an-email", "it needs an @ sign, as in name@example.com.", "le falta el signo @"),
    ("zoe example@example.com", "it cannot contain spaces or line breaks.", "no puede contener espacios"),
    ("zoe@example.com\nBcc: x@example.com", "it cannot contain spaces or line breaks.", "saltos de línea"),
    ("zoe@@example.com", "it has more than one @ sign.", "tiene más de un signo @"),
    ("@example.com", "there is nothing before the @ sign.", "falta la parte antes del signo @"),
    ("zoe@", "there is nothing after the @ sign.", "falta la parte después del signo @"),
    ("zoe@localhost", "the part after the @ sign is not a domain", "no es un dominio que pueda recibir correo"),
    ("zoe@example..com", "the part after the @ sign is not a domain", "no es un dominio que pueda recibir correo"),
    ("zoe@example.test", "the part after the @ sign is not a domain", "no es un dominio que pueda recibir correo"),
    ("zoe..x@example.com", "the part before the @ sign has characters or dots", "la parte antes del signo @"),
    (".zoe@example.com", "the part before the @ sign has characters or dots", "la parte antes del signo @"),
])
def test_an_invalid_email_says_what_is_wrong_in_the_patients_language(settings, email, english, spanish):
    """Catches email-validator's English reason passed on as {detail}: the Spanish translation had to drop it
    ("Revise su dirección de correo electrónico.") and the patient was not told what to fix."""
    from chalicelib.core.i18n import translate

    message = problems(settings, email=email)["email"]

    assert message.startswith("Please check your email address: " + english)
    translated = translate(message, "es")
    assert translated.startswith("Revise su dirección de correo electrónico: ") and spanish in translated
    assert_readable(translated)


# --- phone ---------------------------------------------------------------------------------

@pytest.mark.parametrize("phone, stored", [
    ("(212) 555-0142", "+12125550142"),
    ("212.555.0142", "+12125550142"),
    ("2125550142", "+12125550142"),
    ("+1 212 555 0142", "+12125550142"),
    ("+44 20 7946 0958", "+442079460958"),
    ("٢١٢٥٥٥٠١٤٢", "+12125550142"),
])
def test_phone_is_stored_in_e164_with_the_default_region(settings, phone, stored):
    assert validate(settings, phone=phone).phone == stored


@pytest.mark.parametrize("phone", ["555", "12", "call me", "212-555-014", "+999 1234 5678", "1" * 41])
def test_an_implausible_phone_number_is_refused(settings, phone):
    message = problems(settings, phone=phone)["phone"]

    assert_readable(message)


def test_a_phone_of_40_characters_is_read_and_one_of_41_is_refused(settings):
    padded = "+1 (212) 555-0142" + " " * 10 + "ext. 12345678"  # 40 characters: spaces count
    assert len(padded) == 40 and validate(settings, phone=padded).phone == "+12125550142 ext. 12345678"
    assert problems(settings, phone=padded + "9")["phone"] == "Phone can be at most 40 characters (it has 41)."


# --- location and choices --------------------------------------------------------------------

def test_a_padded_location_is_trimmed(settings):
    assert validate(settings, location="  northside\t").location == "northside"


@pytest.mark.parametrize("location", ["downtown", "northside", "lakeview"])
def test_every_configured_location_is_accepted(settings, location):
    assert validate(settings, location=location).location == location


@pytest.mark.parametrize("location", ["Downtown Clinic", "DOWNTOWN", "uptown", "moon", "downtown;northside"])
def test_a_location_that_is_not_configured_is_refused(settings, location):
    assert problems(settings, location=location) == {"location": (
        "Please choose one of our clinic locations: Downtown Clinic, Northside Clinic, Lakeview Sports Rehab."
    )}


def test_preferred_contact_defaults_to_phone(settings):
    assert validate(settings).preferred_contact == "phone"
    assert validate(settings, preferred_contact=None).preferred_contact == "phone"
    assert validate(settings, preferred_contact="").preferred_contact == "phone"


@pytest.mark.parametrize("method", ["phone", "email"])
def test_phone_and_email_contact_need_no_sms_consent(settings, method):
    assert validate(settings, preferred_contact=method).preferred_contact == method


@pytest.mark.parametrize("method", ["fax", "Phone", "sms", 1, True])
def test_an_unknown_contact_method_is_refused(settings, method):
    assert problems(settings, preferred_contact=method) == {"preferred_contact": "Choose phone, email or text."}


@pytest.mark.parametrize("reason", REASONS)
def test_every_listed_reason_is_accepted(settings, reason):
    assert validate(settings, reason=reason).reason == reason


@pytest.mark.parametrize("reason", ["headache", "Back pain", 3])
def test_an_unlisted_reason_is_refused(settings, reason):
    assert problems(settings, reason=reason) == {"reason": "Choose one of the listed reasons, or other."}


@pytest.mark.parametrize("time", ["morning", "afternoon", "evening", "any"])
def test_every_preferred_time_is_accepted(settings, time):
    assert validate(settings, preferred_time=time).preferred_time == time


@pytest.mark.parametrize("time", ["night", "9am", ["morning"]])
def test_an_unknown_preferred_time_is_refused(settings, time):
    assert problems(settings, preferred_time=time) == {"preferred_time": "Choose morning, afternoon, evening or any."}


# --- preferred date, in the clinic's time zone -------------------------------------------------

@pytest.mark.parametrize("day", [TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=180)])
def test_a_preferred_date_from_today_to_180_days_ahead_is_accepted(settings, day):
    assert validate(settings, preferred_date=day.isoformat()).preferred_date == day.isoformat()


def test_yesterday_is_in_the_past(settings):
    assert problems(settings, preferred_date="2026-11-24") == {
        "preferred_date": "The preferred date cannot be in the past."
    }


def test_181_days_ahead_is_too_far(settings):
    assert problems(settings, preferred_date=(TODAY + timedelta(days=181)).isoformat()) == {
        "preferred_date": "The preferred date can be at most 180 days ahead."
    }


def test_today_comes_from_the_caller_not_the_machines_clock(settings):
    later = date(2027, 5, 1)

    assert validate(settings, today=later, preferred_date="2027-05-01").preferred_date == "2027-05-01"
    assert "preferred_date" in problems(settings, today=later, preferred_date="2026-12-01")


@pytest.mark.parametrize("value", [
    "12/01/2026", "2026-12-1", "2026-13-01", "2026-02-30", "20261201", "2026-12-01T10:00", "tomorrow",
    "٢٠٢٦-١٢-٠١", "２０２６-１２-０１",
])
def test_a_preferred_date_that_is_not_yyyy_mm_dd_is_refused(settings, value):
    assert problems(settings, preferred_date=value) == {
        "preferred_date": "Enter the date as YYYY-MM-DD, e.g. 2026-12-01."
    }


def test_a_preferred_date_is_trimmed(settings):
    assert validate(settings, preferred_date=" 2026-12-01 ").preferred_date == "2026-12-01"


# --- lengths of free text --------------------------------------------------------------------

def test_insurance_may_have_100_characters(settings):
    assert validate(settings, insurance="i" * 100).insurance == "i" * 100


def test_insurance_of_101_characters_is_refused(settings):
    assert problems(settings, insurance="i" * 101) == {
        "insurance": "Insurance can be at most 100 characters (it has 101)."
    }


def test_insurance_cannot_contain_line_breaks(settings):
    assert problems(settings, insurance="Aetna\nInjected: yes") == {
        "insurance": "Insurance cannot contain control characters or line breaks."
    }


def test_message_may_have_2000_characters(settings):
    assert len(validate(settings, message="m" * 2000).message) == 2000


def test_message_of_2001_characters_is_refused(settings):
    assert problems(settings, message="m" * 2001) == {
        "message": "Message can be at most 2000 characters (it has 2001)."
    }


def test_message_keeps_line_breaks_tabs_and_emoji(settings):
    message = validate(settings, message="Left knee 🦵 hurts.\r\nSince May.\rWorse on stairs.\tThanks! 🙏").message

    assert message == "Left knee 🦵 hurts.\nSince May.\nWorse on stairs.\tThanks! 🙏"


def test_message_line_endings_count_once(settings):
    assert len(validate(settings, message="a\r\n" * 999 + "a").message) == 1999


@pytest.mark.parametrize("control", ["\x00", "\x1b[31m", "\x08", "\u2028", "\x85"])
def test_message_cannot_contain_other_control_characters(settings, control):
    assert problems(settings, message=f"Hello{control}there") == {
        "message": "Message cannot contain control characters."
    }


# --- booleans and consent --------------------------------------------------------------------

@pytest.mark.parametrize("field", ["new_patient", "has_referral", "sms_consent"])
@pytest.mark.parametrize("value", [True, False])
def test_json_booleans_are_accepted(settings, field, value):
    assert validate(settings, **{field: value}).fields()[field] is value


@pytest.mark.parametrize("field", ["new_patient", "has_referral", "sms_consent", "contact_consent"])
@pytest.mark.parametrize("value", ["true", "false", "yes", "on", 1, 0, 1.0, [True], {"value": True}])
def test_anything_but_a_json_boolean_is_refused(settings, field, value):
    assert problems(settings, **{field: value}) == {field: f"{LABELS[field]} must be true or false."}


@pytest.mark.parametrize("field", ["new_patient", "has_referral"])
def test_a_null_optional_boolean_is_not_given(settings, field):
    assert field not in validate(settings, **{field: None}).fields()


@pytest.mark.parametrize("value", [False, None, ...])
def test_contact_consent_must_be_given(settings, value):
    assert problems(settings, contact_consent=value) == {
        "contact_consent": "Please confirm that the clinic may contact you about this request."
    }


@pytest.mark.parametrize("sms_consent", [..., None, False])
def test_text_contact_needs_sms_consent(settings, sms_consent):
    assert problems(settings, preferred_contact="text", sms_consent=sms_consent) == {
        "sms_consent": "To be contacted by text, please agree to receive text messages."
    }


def test_text_contact_with_sms_consent_is_accepted(settings):
    form = validate(settings, preferred_contact="text", sms_consent=True)

    assert (form.preferred_contact, form.sms_consent) == ("text", True)


# --- required, unknown and blank fields --------------------------------------------------------

@pytest.mark.parametrize("field", REQUIRED)
def test_a_missing_required_field_is_named(settings, field):
    message = problems(settings, **{field: ...})[field]

    assert_readable(message)
    assert message.startswith("Please ")


@pytest.mark.parametrize("field", REQUIRED)
def test_a_null_required_field_is_missing(settings, field):
    assert problems(settings, **{field: None}) == problems(settings, **{field: ...})


def test_every_failing_field_is_reported_at_once(settings):
    fields = problems(
        settings, first_name=None, last_name="", email=42, phone=["212"], location={}, contact_consent="yes"
    )

    assert fields == {
        "first_name": "Please enter your first name.",
        "last_name": "Please enter your last name.",
        "email": "Email must be text.",
        "phone": "Phone must be text.",
        "location": "Clinic location must be text.",
        "contact_consent": "Consent to be contacted must be true or false.",
    }


def test_an_empty_submission_names_every_required_field(settings):
    with pytest.raises(ValidationFailed) as failed:
        validate_form({}, locations=settings.locations, phone_region="US", today=TODAY)

    assert set(failed.value.fields) == set(REQUIRED)
    for message in failed.value.fields.values():
        assert_readable(message)


@pytest.mark.parametrize("field, value", [
    ("first_name", 7), ("last_name", True), ("email", ["zoe@example.com"]), ("phone", 2125550142),
    ("location", 1), ("insurance", 123), ("message", {"text": "hi"}), ("preferred_date", 20261201),
])
def test_a_value_of_the_wrong_type_is_refused_readably(settings, field, value):
    message = problems(settings, **{field: value})[field]

    assert message == f"{LABELS[field]} must be text."


def test_unknown_fields_are_ignored_and_not_kept(settings):
    form = validate(settings, favourite_colour="blue", ip="203.0.113.9", status="closed", id="chosen-by-me")

    assert "favourite_colour" not in form.fields()
    assert "ip" not in form.fields() and "status" not in form.fields() and "id" not in form.fields()


@pytest.mark.parametrize("field", ["reason", "preferred_time", "preferred_date", "insurance", "message"])
@pytest.mark.parametrize("blank", ["", "  ", None])
def test_a_blank_optional_field_is_not_given(settings, field, blank):
    assert field not in validate(settings, **{field: blank}).fields()


# --- honeypot ------------------------------------------------------------------------------

@pytest.mark.parametrize("website", ["http://cheap-pills.example", "x", "0", True, 1, 0, ["a"], [], {}])
def test_a_filled_honeypot_marks_suspected_spam_and_is_not_kept(settings, website):
    form = validate(settings, website=website)

    assert form.suspected_spam
    assert "website" not in form.fields()
    assert "suspected_spam" not in form.fields()


@pytest.mark.parametrize("website", [..., "", "   ", None, False])
def test_an_empty_honeypot_is_a_real_person(settings, website):
    assert not validate(settings, website=website).suspected_spam
