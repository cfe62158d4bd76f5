"""Requests as CSV for a spreadsheet: RFC 4180 quoting, UTF-8, and no cell that runs as a formula.

A spreadsheet runs a cell that starts with =, +, - or @ (and, in some, a tab or carriage
return) as a formula, which can fetch URLs or start programs (OWASP: "CSV injection"). Such a
cell gets a leading apostrophe, which spreadsheets show as text; strip one leading
apostrophe to get the stored value back. The BOM makes Excel read the file as UTF-8
(Python: open it with encoding="utf-8-sig").
"""
import csv
import io
from datetime import datetime

COLUMNS = (
    "id", "received", "created_at", "status", "location",
    "first_name", "last_name", "email", "phone", "preferred_contact", "reason",
    "preferred_date", "preferred_time", "new_patient", "has_referral", "insurance", "message",
    "sms_consent", "erased_at", "erased_by",
    # Issue 28, after the older columns so a spreadsheet reading them by position goes on working: the booked
    # visit's local time in the clinic's zone ("2026-12-08 10:00", as staff booked it), its instant (UTC ISO), and
    # what the patient answered on their page (confirmed, cancelled, change_requested, withdrawn, not_me) and when.
    "visit_local", "visit_start", "patient_answer", "patient_answered_at",
)
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FIELDS = (
    "first_name", "last_name", "email", "phone", "preferred_contact", "reason", "preferred_date",
    "preferred_time", "new_patient", "has_referral", "insurance", "message", "sms_consent",
)


def row(record, zone):
    """One request's cells, in COLUMNS order, as text (booleans as yes/no, blank when not given)."""
    created = datetime.fromisoformat(record.created_at.replace("Z", "+00:00"))
    cells = {
        "id": record.id,
        "received": f"{created.astimezone(zone):%Y-%m-%d %H:%M}",
        "created_at": record.created_at,
        "status": record.status,
        "location": record.location,
        "erased_at": record.erased_at,
        "erased_by": record.erased_by,
        "visit_local": record.visit_at.replace("T", " ") if record.visit_at else None,
        "visit_start": record.visit_start,
        "patient_answer": (record.patient_answer or {}).get("answer"),
        "patient_answered_at": (record.patient_answer or {}).get("at"),
    }
    fields = record.fields or {}
    for name in _FIELDS:
        cells[name] = fields.get(name)
    return tuple(_text(cells[name]) for name in COLUMNS)


def neutralise(cell):
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def to_csv(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(tuple(neutralise(cell) for cell in cells) for cells in rows)
    return BOM + out.getvalue()


def size(cells):
    """Roughly the bytes a row takes in the file (quotes and separators included)."""
    return sum(len(cell.encode("utf-8")) + cell.count('"') + 3 for cell in cells)


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
