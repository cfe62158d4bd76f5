"""The request path stays cold: a cold POST /appointments through Lambda's entry point never imports Jinja2.

Each case is a fresh process, as Lambda starts one, against the running stack's local AWS: the app is imported and
given one event through Chalice's Lambda entry point, then the modules it loaded are listed.
"""
import json
import subprocess
import sys

import pytest

from tools.resources import ROOT

CHILD = r'''
import json, sys, uuid
import app
from bench import events
kind, accept = sys.argv[1], sys.argv[2]
event = getattr(events, kind)(uuid.uuid4().hex)
event["headers"]["accept"] = event["multiValueHeaders"]["accept"][0] = accept
if kind == "api_event" and sys.argv[3:]:
    event["body"] = sys.argv[3]
response = app.app(event, None)
print(json.dumps({"status": response["statusCode"], "jinja2": "jinja2" in sys.modules,
                  "markupsafe": "markupsafe" in sys.modules}))
'''


def cold(stack, kind, accept, body=None):
    env = {**stack.aws_env, **stack.settings_env, "AWS_LAMBDA_FUNCTION_NAME": "appointments-api",
           "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", CHILD, kind, accept, *([body] if body else [])], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_a_cold_post_imports_no_template_engine(stack, accept):
    answer = cold(stack, "api_event", accept)
    assert answer["status"] in (201, 303)
    assert (answer["jinja2"], answer["markupsafe"]) == (False, False)


def test_the_form_page_does_draw_with_it(stack):
    """The check above can fail: the same probe sees Jinja2 once a page is drawn."""
    answer = cold(stack, "page_event", "text/html")
    assert (answer["status"], answer["jinja2"]) == (200, True)


def test_a_post_a_browser_must_correct_draws_its_page_with_it(stack):
    body = json.dumps({"first_name": "", "language": "es"})
    answer = cold(stack, "api_event", "text/html", body)
    assert (answer["status"], answer["jinja2"]) == (422, True)
