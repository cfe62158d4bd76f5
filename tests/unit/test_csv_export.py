"""The CSV export: what Python's csv module reads back, and cells a spreadsheet would run."""
import csv
import io
from zoneinfo import ZoneInfo

import pytest

from chalicelib.staff.csv_export import COLUMNS, neutralise, row, to_csv
from chalicelib.staff.triage import StaffRecord
from tests.conftest import remember_personal

NEW_YORK = ZoneInfo("America/New_York")


def a_record(**fields):
    remember_personal(fields)
    return StaffRecord(id="req1", status="new", created_at="2026-11-25T15:00:00.000Z", location="downtown",
                       fields={"location": "downtown", **fields})


def read_back(text):
    assert text.startswith("\ufeff"), "a BOM, so that Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def restored(cell):
    """What the neutralised cell stood for: one leading apostrophe comes off."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)",
                                   "\tleading tab", "\rleading return", "=cmd|' /C calc'!A0"])
def test_a_cell_a_spreadsheet_would_run_starts_with_an_apostrophe(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Zoë", "O'Brien", "1+1", "a=b", "", "'quoted", " =spaced"])
def test_other_cells_are_left_alone(value):
    assert neutralise(value) == value


def test_every_field_survives_the_round_trip():
    record = a_record(
        first_name="Zoë, \"Zo\"", last_name="=HYPERLINK(\"http://x.example\")", email="zoe+clinic@example.com",
        phone="+12125550142", insurance="@Risk, Inc.", message="Line one,\nline \"two\"\r\n-three\n=four",
        new_patient=True, has_referral=False, reason="knee", preferred_date="2026-12-01",
    )

    [line] = read_back(to_csv([row(record, NEW_YORK)]))

    assert list(line) == list(COLUMNS)
    assert {name: restored(value) for name, value in line.items()} == {
        "id": "req1", "received": "2026-11-25 10:00", "created_at": "2026-11-25T15:00:00.000Z", "status": "new",
        "location": "downtown", "first_name": "Zoë, \"Zo\"", "last_name": "=HYPERLINK(\"http://x.example\")",
        "email": "zoe+clinic@example.com", "phone": "+12125550142", "preferred_contact": "", "reason": "knee",
        "preferred_date": "2026-12-01", "preferred_time": "", "new_patient": "yes", "has_referral": "no",
        "insurance": "@Risk, Inc.", "message": "Line one,\nline \"two\"\r\n-three\n=four", "sms_consent": "",
        "erased_at": "", "erased_by": "", "visit_local": "", "visit_start": "", "patient_answer": "",
        "patient_answered_at": "",
    }
    assert line["last_name"].startswith("'=") and line["phone"].startswith("'+") and line["insurance"][0] == "'"


def test_no_cell_starts_with_a_formula_character():
    record = a_record(first_name="=1+1", last_name="-1", email="@x", insurance="+1", message="=2")

    for line in read_back(to_csv([row(record, NEW_YORK)])):
        assert not any(value[:1] in ("=", "+", "-", "@") for value in line.values())


def test_an_erased_request_has_only_its_tombstone_cells():
    tombstone = StaffRecord(id="req1", status="erased", created_at="2026-11-25T15:00:00.000Z", location="downtown",
                            erased_at="2026-11-26T09:00:00.000Z", erased_by="Ana Admin")

    [line] = read_back(to_csv([row(tombstone, NEW_YORK)]))

    kept = {name: value for name, value in line.items() if value}
    assert kept == {"id": "req1", "received": "2026-11-25 10:00", "created_at": "2026-11-25T15:00:00.000Z",
                    "status": "erased", "location": "downtown", "erased_at": "2026-11-26T09:00:00.000Z",
                    "erased_by": "Ana Admin"}


def test_an_empty_export_is_the_header_row():
    assert to_csv([]) == "\ufeff" + ",".join(COLUMNS) + "\r\n"


def test_a_phone_extension_is_kept_in_its_cell():
    (cells,) = read_back(to_csv([row(a_record(phone="+12125550142 ext. 4417"), NEW_YORK)]))
    assert restored(cells["phone"]) == "+12125550142 ext. 4417"


def test_a_booked_visit_has_its_local_time_status_and_the_patient_s_answer():
    record = StaffRecord(id="req2", status="no_show", created_at="2026-11-25T15:00:00.000Z", location="downtown",
                         fields={"location": "downtown"}, visit_at="2026-12-08T10:00",
                         visit_start="2026-12-08T15:00:00.000Z", visit_sequence=0,
                         patient_answer={"answer": "confirmed", "at": "2026-12-07T14:00:00.000Z", "sequence": 0})

    [line] = read_back(to_csv([row(record, NEW_YORK)]))

    assert (line["status"], line["visit_local"], line["visit_start"], line["patient_answer"],
            line["patient_answered_at"]) == ("no_show", "2026-12-08 10:00", "2026-12-08T15:00:00.000Z", "confirmed",
                                             "2026-12-07T14:00:00.000Z")
    assert list(line)[:len(COLUMNS) - 4] == list(COLUMNS[:-4]), "the older columns keep their places"
