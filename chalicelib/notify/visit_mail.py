"""The visit e-mails to the patient: booked, changed, cancelled and the reminder, each with the visit's .ics.

Like the confirmation, it repeats nothing the sender typed (no name, message or reason): where (the
location's name, address and phone), when (the day and time in words, in the clinic's zone), the
reference, and the link to the patient's page, where they answer. The calendar file says only where and
when; a cancellation's is METHOD:CANCEL, so the calendar that holds the visit removes it.
"""
from ..core.i18n import N_, day_and_time, translate
from ..core.mail import Attachment, Email
from .calendar import visit_calendar
from .mail_templates import TEMPLATES

KINDS = ("booked", "changed", "cancelled", "reminder")
SUBJECTS = {
    "booked": N_("Your appointment at {location}: {when}"),
    "changed": N_("New time for your appointment at {location}: {when}"),
    "cancelled": N_("Your appointment at {location} is cancelled"),
    "reminder": N_("Reminder: your appointment at {location}, {when}"),
}
CALENDAR_NAME = "visit.ics"


def compose_visit_email(request, kind, settings, page_url, now):
    """The e-mail about `request`'s booked visit (`kind` in KINDS), in the patient's language, .ics attached."""
    if kind not in KINDS:
        raise ValueError(f"unknown visit e-mail {kind!r}")
    language = request.language if request.language in settings.languages else settings.languages[0]
    location = settings.locations.get(request.location, request.location)
    when = day_and_time(request.visit_start.astimezone(settings.timezone), language)
    subject = translate(SUBJECTS[kind], language).format(location=location, when=when)
    values = {
        "subject": subject, "kind": kind, "location": location, "when": when, "reference": request.id,
        "address": settings.location_addresses.get(request.location),
        "phone": settings.location_phones.get(request.location), "page_url": page_url,
    }
    text = TEMPLATES.render("visit.txt", language, **values)
    page = TEMPLATES.render("visit.html", language, **values)
    reply_to = (settings.confirmation_reply_to,) if settings.confirmation_reply_to else ()
    calendar = visit_calendar(request, settings, page_url, now, language, cancelled=kind == "cancelled")
    method = "CANCEL" if kind == "cancelled" else "PUBLISH"
    attachment = Attachment(CALENDAR_NAME, f"text/calendar; charset=UTF-8; method={method}", calendar)
    return Email(to=request.fields.get("email", ""), subject=subject, text=text, html=page, reply_to=reply_to,
                 attachments=(attachment,))

