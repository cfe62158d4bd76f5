"""A stored request as a FHIR R4 Appointment, for practice-management systems that speak FHIR.

Plain dicts, no FHIR library at run time (the tests validate against fhir.resources' R4B models).
The mapping, and why each status maps as it does, is in docs/integrations.md. Never the patient's
free-text message, insurance or referral; the reason only when the clinic chose NOTIFY_DETAIL=full.
"""
from datetime import date, datetime, time, timedelta

from ..core.errors import NotFound
from ..intake.models import REASON_LABELS

CONTENT_TYPE = "application/fhir+json"
# R4's AppointmentStatus (http://hl7.org/fhir/R4/valueset-appointmentstatus.html). A request that is not
# booked yet is `proposed`; suspected spam is one too (nothing says it is not a person); `closed` is a request
# the clinic ended without booking, which R4 calls `cancelled` (app-3 lets a cancelled one have no start).
STATUSES = {
    "new": "proposed",
    "contacted": "proposed",
    "suspected_spam": "proposed",
    "scheduled": "booked",
    "attended": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
    "closed": "cancelled",
}
# The preferred time of day as the clinic's local hours, [start, end).
PREFERRED_HOURS = {"morning": (8, 12), "afternoon": (12, 17), "evening": (17, 20)}
PATIENT_ID = "patient"
_TELECOM = {"phone": "phone", "text": "phone", "email": "email"}


def read(service, settings, request_id, viewer):
    """(200, Appointment) or (404, OperationOutcome) for one request, audited as the JSON view is."""
    try:
        view = service.get(request_id, viewer)
    except NotFound:
        return 404, not_found()
    if view["status"] not in STATUSES:  # erased: nothing of the patient's is left to describe
        return 404, not_found()
    return 200, appointment(view, settings)


def not_found():
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found",
                       "diagnostics": "There is no appointment request with this id."}]}


def appointment(view, settings):
    """The staff view of a request (StaffService.view) as an Appointment resource."""
    fields = view.get("fields") or {}
    zone = settings.timezone
    resource = {
        "resourceType": "Appointment",
        "id": view["id"],
        "contained": [_patient(fields, view.get("language"))],
        "identifier": [{"use": "official", "system": f"{settings.public_base_url.rstrip('/')}/appointments",
                        "value": view["id"]}],
        "status": STATUSES[view["status"]],
    }
    reason = fields.get("reason")
    if settings.notify_detail == "full" and reason:
        resource["reasonCode"] = [{"text": str(REASON_LABELS.get(reason, reason))}]
    if view.get("visit_start"):
        start = _instant(view["visit_start"]).astimezone(zone)
        resource["start"] = _datetime(start)
        resource["end"] = _datetime(start + timedelta(minutes=settings.visit_minutes))
        resource["minutesDuration"] = settings.visit_minutes
    resource["created"] = _datetime(_instant(view["created_at"]).astimezone(zone))
    resource["participant"] = [
        {"actor": {"reference": f"#{PATIENT_ID}", "type": "Patient"}, "required": "required", "status": "accepted"},
        {"actor": {"display": view.get("location_name") or view["location"]}, "required": "required",
         "status": "accepted"},
    ]
    period = requested_period(fields.get("preferred_date"), fields.get("preferred_time"), zone)
    if period:
        resource["requestedPeriod"] = [period]
    return resource


def requested_period(preferred_date, preferred_time, zone):
    """The patient's preferred date (and part of the day) as a Period in the clinic's time, with its offsets."""
    if not preferred_date:
        return None
    day = date.fromisoformat(preferred_date)
    first, last = PREFERRED_HOURS.get(preferred_time, (0, 24))
    start = datetime.combine(day, time(first), zone)
    end = datetime.combine(day + timedelta(days=last // 24), time(last % 24), zone)
    return {"start": _datetime(start), "end": _datetime(end)}


def _patient(fields, language):
    patient = {"resourceType": "Patient", "id": PATIENT_ID}
    name = {key: value for key, value in (("family", fields.get("last_name")),
                                          ("given", [fields["first_name"]] if fields.get("first_name") else None))
            if value}
    if name:
        patient["name"] = [name]
    preferred = _TELECOM.get(fields.get("preferred_contact"))
    telecom = [{"system": system, "value": fields[system], **({"rank": 1} if system == preferred else {})}
               for system in ("phone", "email") if fields.get(system)]
    if telecom:
        patient["telecom"] = telecom
    if language:
        patient["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language}]},
                                     "preferred": True}]
    return patient


def _instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _datetime(moment):
    return moment.isoformat(timespec="seconds")
