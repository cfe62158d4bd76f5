"""The visit e-mails (booked, changed, cancelled, reminder): what they say in each language, what they never say,
and the .ics they carry, read back by icalendar."""
import dataclasses
import re
from datetime import datetime, timezone
from email import message_from_bytes, policy

import icalendar
import pytest

from chalicelib.core.mail import raw_message
from chalicelib.notify.visit_mail import compose_visit_email
from tests.alerting import REF, stored_request
from tests.unit.test_confirmations import HOSTILE

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=timezone.utc)
PAGE = "https://appointments.clinic.example/r/page-token"
ADDRESS = "Calle de la Constitución 12, 3º; Edificio Núñez, Málaga 29001, España"
VISIT = datetime(2027, 3, 16, 14, 0, tzinfo=timezone.utc)  # Tuesday 16 March, 10:00 in New York (EDT)


@pytest.fixture
def visit_settings(settings):
    return dataclasses.replace(settings, locations={**settings.locations, "downtown": "Downtown Clinic"},
                               location_phones={"downtown": "+1 212-555-0100"}, languages=("en", "es"),
                               confirmation_reply_to="front.desk@clinic.example",
                               public_base_url="https://appointments.clinic.example",
                               location_addresses={"downtown": ADDRESS}, visit_minutes=45)


def booked(language="en", sequence=0, start=VISIT, **fields):
    return stored_request(**fields).model_copy(update={
        "status": "scheduled", "language": language, "visit_start": start, "visit_sequence": sequence,
        "visit_at": f"{start.astimezone(__import__('zoneinfo').ZoneInfo('America/New_York')):%Y-%m-%dT%H:%M}"})


def event_of(mail):
    [attachment] = mail.attachments
    calendar = icalendar.Calendar.from_ical(attachment.data)
    [event] = calendar.walk("VEVENT")
    return attachment, calendar, event


@pytest.mark.parametrize("kind, subject, news", [
    ("booked", "Your appointment at Downtown Clinic: Tuesday 16 March, 10:00 AM",
     "Your appointment at Downtown Clinic is booked for Tuesday 16 March, 10:00 AM."),
    ("changed", "New time for your appointment at Downtown Clinic: Tuesday 16 March, 10:00 AM",
     "has a new time: Tuesday 16 March, 10:00 AM. The time we sent you before no longer holds."),
    ("cancelled", "Your appointment at Downtown Clinic is cancelled",
     "Your appointment at Downtown Clinic for Tuesday 16 March, 10:00 AM is cancelled."),
    ("reminder", "Reminder: your appointment at Downtown Clinic, Tuesday 16 March, 10:00 AM",
     "A reminder: your appointment at Downtown Clinic is Tuesday 16 March, 10:00 AM."),
])
def test_each_kind_says_where_when_and_links_the_patient_s_page(visit_settings, kind, subject, news):
    mail = compose_visit_email(booked(), kind, visit_settings, PAGE, NOW)
    assert (mail.to, mail.subject, mail.reply_to) == ("jose.garcia@example.com", subject, ("front.desk@clinic.example",))
    for text in (mail.text, mail.html.replace("&#x27;", "'")):
        assert news in text
        assert f"Your reference: {REF}" in text
        assert "call Downtown Clinic at +1 212-555-0100" in text
    assert f"Address: {ADDRESS}" in mail.text
    assert f":\n{PAGE}\n" in mail.text and f'<a href="{PAGE}">{PAGE}</a>' in mail.html


def test_spanish_patients_get_it_in_spanish_calendar_included(visit_settings):
    mail = compose_visit_email(booked("es"), "booked", visit_settings, PAGE, NOW)
    assert mail.subject == "Su cita en Downtown Clinic: el martes 16 de marzo a las 10:00"
    assert "Su cita en Downtown Clinic está reservada para el martes 16 de marzo a las 10:00." in mail.text
    assert f"Dirección: {ADDRESS}" in mail.text
    assert "Para decirnos que vendrá, cancelar o pedir otra hora, use su página:" in mail.text
    _, _, event = event_of(mail)
    assert str(event["SUMMARY"]) == "Cita en Downtown Clinic"
    assert str(event["DESCRIPTION"]) == f"Su página: {PAGE}"


def test_a_language_the_stage_no_longer_offers_falls_back_to_the_default(visit_settings):
    settings = dataclasses.replace(visit_settings, languages=("en",))
    assert compose_visit_email(booked("es"), "booked", settings, PAGE, NOW).subject.startswith("Your appointment")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("start", [datetime(2027, 3, 14, 14, 0, tzinfo=timezone.utc),  # the day clocks go forward
                                   datetime(2027, 11, 7, 6, 30, tzinfo=timezone.utc),  # the second 1:30 AM
                                   datetime(2027, 11, 8, 15, 0, tzinfo=timezone.utc)])
def test_the_calendar_lands_at_the_visit_s_instant_in_either_language(visit_settings, language, start):
    """Catches a calendar built from the wrong time (the stored wall time read as UTC, the reminder's time) or
    the wrong length: what a calendar shows is what the words say."""
    mail = compose_visit_email(booked(language, sequence=2, start=start), "changed", visit_settings, PAGE, NOW)
    attachment, calendar, event = event_of(mail)
    assert (attachment.filename, attachment.content_type) == ("visit.ics", "text/calendar; charset=UTF-8; method=PUBLISH")
    assert event["DTSTART"].dt.astimezone(timezone.utc) == start
    assert (event["DTEND"].dt - event["DTSTART"].dt).total_seconds() == 45 * 60
    assert (str(event["UID"]), event["SEQUENCE"]) == (f"{REF}@appointments.clinic.example", 2)
    assert (calendar["METHOD"], event["STATUS"]) == ("PUBLISH", "CONFIRMED")
    assert str(event["LOCATION"]) == ADDRESS and str(event["URL"]) == PAGE
    assert str(event["ORGANIZER"]) == f"mailto:{visit_settings.mail_from}"


def test_a_cancellation_cancels_the_same_event_in_the_calendar(visit_settings):
    """Catches a cancellation published (the calendar keeps the visit) or under another UID (it adds a second)."""
    first = event_of(compose_visit_email(booked(sequence=0), "booked", visit_settings, PAGE, NOW))[2]
    mail = compose_visit_email(booked(sequence=1), "cancelled", visit_settings, PAGE, NOW)
    attachment, calendar, event = event_of(mail)
    assert attachment.content_type == "text/calendar; charset=UTF-8; method=CANCEL"
    assert (calendar["METHOD"], event["STATUS"], event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)
    assert str(event["UID"]) == str(first["UID"])
    assert "removes it from your calendar" in mail.text


def test_it_repeats_nothing_the_sender_typed_nor_anything_of_their_health(visit_settings):
    mail = compose_visit_email(booked(**HOSTILE), "booked", visit_settings, PAGE, NOW)
    ics = mail.attachments[0].data.decode("utf-8")
    typed = [HOSTILE["first_name"], HOSTILE["last_name"], "evil", "<script", "Bcc", "Acme", "insure", "back",
             "Back pain", "+12125550142", "212-555-0142", "jose.garcia"]
    for text in (mail.subject, mail.text, mail.html, ics):
        assert not [word for word in typed if word.lower() in text.lower()]
        assert "http" not in text.replace(PAGE, "")
    assert re.findall(r"<a\b[^>]*>", mail.html) == [f'<a href="{PAGE}">']


def test_without_an_address_or_phone_it_says_what_it_has(visit_settings):
    mail = compose_visit_email(booked(location="northside"), "booked", visit_settings, PAGE, NOW)
    assert "Address:" not in mail.text and "If you have a question, call Northside Clinic." in mail.text
    assert str(event_of(mail)[2]["LOCATION"]) == "Northside Clinic"


def test_the_html_escapes_what_comes_from_config(visit_settings):
    settings = dataclasses.replace(visit_settings, locations={"downtown": "Smith & Sons <Physio>"},
                                   location_addresses={"downtown": "1 <b>Main</b> St"})
    mail = compose_visit_email(booked(), "booked", settings, PAGE, NOW)
    assert "Smith &amp; Sons &lt;Physio&gt;" in mail.html and "<Physio>" not in mail.html and "<b>" not in mail.html


def test_the_whole_message_goes_out_as_ses_takes_it(visit_settings):
    """The composed e-mail through the raw builder: the Spanish subject encoded, the .ics attachment whole."""
    mail = compose_visit_email(booked("es"), "reminder", visit_settings, PAGE, NOW)
    raw = raw_message(mail, visit_settings.mail_from, mail.to)
    message = message_from_bytes(raw, policy=policy.default)
    # The header folds before its first word (a line over 78): unfolded, the whitespace before it is not the subject.
    assert raw.isascii() and message["Subject"].strip() == mail.subject
    [part] = list(message.iter_attachments())
    assert part.get_payload(decode=True) == mail.attachments[0].data


def test_an_unknown_kind_is_a_mistake_not_an_e_mail(visit_settings):
    with pytest.raises(ValueError):
        compose_visit_email(booked(), "rescheduled", visit_settings, PAGE, NOW)
