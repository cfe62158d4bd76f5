"""The local outbox (`make run`'s terminal, the end-to-end tests' sent_mail) reads raw messages as it reads
simple ones: the subject in words, the text, and each attachment's name with a calendar's times."""
import base64
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from chalicelib.core.mail import Attachment, Email, raw_message
from chalicelib.notify.calendar import Visit, calendar_file
from tools.mail_outbox import readable

START = datetime(2027, 1, 12, 15, 0, tzinfo=timezone.utc)
ICS = calendar_file(Visit("abc@clinic.example", 2, START, 45, ZoneInfo("America/New_York"), "Cita en Clínica Centro",
                          "Calle Mayor 1, Madrid", "https://clinic.example/r/t"), START)


def sent_request(email):
    """The SendEmail request as the emulator records it: JSON, the raw message base64 as the wire has it."""
    raw = raw_message(email, "appointments@clinic.example", email.to, email.reply_to)
    return json.loads(json.dumps({"FromEmailAddress": "appointments@clinic.example",
                                  "Destination": {"ToAddresses": [email.to]},
                                  "Content": {"Raw": {"Data": base64.b64encode(raw).decode("ascii")}}}))


RAW = sent_request(Email("dana@clinic.example", "Su cita: martes 12 de enero, 10:00", "Hola,\nsu cita es el martes.",
                         "<p>Hola</p>", ("front.desk@clinic.example",),
                         (Attachment("visit.ics", "text/calendar; charset=UTF-8; method=PUBLISH", ICS),)))


def test_a_raw_mail_reads_as_a_simple_one_with_its_attachments():
    """Catches an outbox that reads only Content.Simple: a visit's e-mail would show no subject and no text,
    and the end-to-end tests could not read it at all."""
    mail = readable(RAW)
    simple = mail["Content"]["Simple"]
    assert simple["Subject"]["Data"] == "Su cita: martes 12 de enero, 10:00"
    assert simple["Body"]["Text"]["Data"] == "Hola,\nsu cita es el martes.\n"
    assert simple["Body"]["Html"]["Data"].strip() == "<p>Hola</p>"
    assert mail["ReplyToAddresses"] == ["front.desk@clinic.example"]
    [attachment] = mail["Attachments"]
    assert attachment["FileName"] == "visit.ics" and attachment["Data"] == ICS.decode("utf-8")


def test_a_simple_mail_is_read_as_it_was_with_no_attachments():
    mail = {"Destination": {"ToAddresses": ["dana@clinic.example"]},
            "Content": {"Simple": {"Subject": {"Data": "Your code"}, "Body": {"Text": {"Data": "1234"}}}}}
    assert readable(mail) == {**mail, "Attachments": []}


def test_the_terminal_shows_the_subject_the_text_and_the_calendar_s_name_and_times():
    from tools.aws_emulator import render

    shown = render(RAW)
    assert "subject Su cita: martes 12 de enero, 10:00" in shown
    assert "Hola,\nsu cita es el martes." in shown
    assert "ATTACHED visit.ics (text/calendar" in shown
    assert "DTSTART;TZID=America/New_York:20270112T100000" in shown
    assert "SEQUENCE:2" in shown and "METHOD:PUBLISH" in shown


def test_the_terminal_shows_the_event_s_times_not_the_time_zone_s_rules():
    """Catches listing every DTSTART: a VTIMEZONE has one per rule, and the reader could not tell the visit's."""
    from tools.mail_outbox import attachment_lines

    data = ("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VTIMEZONE\r\nBEGIN:STANDARD\r\nDTSTART:20261101T020000\r\n"
            "END:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nSEQUENCE:2\r\nDTSTART;TZID=America/New_York:20261207T"
            "100000\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

    assert attachment_lines({"FileName": "visit.ics", "ContentType": "text/calendar", "Data": data}) == [
        "ATTACHED visit.ics (text/calendar)", "      METHOD:CANCEL", "      SEQUENCE:2",
        "      DTSTART;TZID=America/New_York:20261207T100000", "      STATUS:CANCELLED"]
