"""No personal value that any test posted appears in any log line of the whole suite.

It runs last (see conftest.py) and reads both the in-process log lines and everything the
local stack printed during the end-to-end tests.
"""
import json
import re

from tests.conftest import captured_log_lines, personal_values
from tests.e2e.conftest import stack_log_lines


def _forms(value):
    forms = {value, json.dumps(value)[1:-1]}
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 7 and not re.search(r"[^\d\s()+.-]", value):
        forms.add(digits[-10:])
    return {form for form in forms if len(form) >= 4}


def test_no_personal_value_in_any_log_line():
    lines = captured_log_lines() + stack_log_lines()
    values = personal_values()
    assert lines, "the suite logged nothing: the audit would prove nothing"
    assert values, "no personal values were recorded: the audit would prove nothing"
    leaks = [
        (value, line[:200])
        for value in values
        for form in _forms(value)
        for line in lines
        if form in line
    ]
    assert not leaks, f"personal values found in log lines: {leaks[:5]}"


_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def test_no_ip_address_in_any_log_line():
    """Neither the service's JSON lines nor the local servers' access lines carry a client IP."""
    lines = captured_log_lines() + stack_log_lines()
    json_lines = [line for line in lines if line.startswith("{")]
    assert json_lines
    assert not [line for line in json_lines if _IPV4.search(line)]
    assert not [line for line in stack_log_lines() if _IPV4.match(line)]  # "127.0.0.1 - - [...] GET ..."

