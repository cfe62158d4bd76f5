"""A cold start of the API function loads what POST /appointments needs, and nothing else, with the
garbage collector paused until the first event is served."""
import json
import os
import subprocess
import sys

from tools.resources import ROOT, stage_environment

# In a fresh process, as Lambda starts one: the app imported, then one POST through the Lambda
# entry point against moto, then the list of modules that got loaded.
COLD_POST = """
import json, os, sys, uuid
from moto import mock_aws
with mock_aws():
    import botocore.session
    from tools.resources import create_dedupe_key_secret, create_table
    session = botocore.session.get_session()
    create_table(session.create_client("dynamodb"), os.environ["APPOINTMENTS_TABLE"])
    create_dedupe_key_secret(session.create_client("secretsmanager"), os.environ["DEDUPE_KEY_SECRET"])
    import gc
    import app
    from bench.events import api_event
    collecting_after_import = gc.isenabled()
    if os.environ.get("COLD_EVENT") == "stream":
        status = 200 if app.send_staff_alerts({"Records": []}, None) == {"batchItemFailures": []} else 500
    else:
        status = app.app(api_event(uuid.uuid4().hex), None)["statusCode"]
    print(json.dumps({"status": status, "modules": sorted(sys.modules),
                      "plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS"),
                      "collecting_after_import": collecting_after_import,
                      "collecting_after_first_event": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""

NOT_FOR_THE_FORM = ("chalicelib.intake.page", "chalicelib.openapi", "chalicelib.staff.triage", "chalicelib.staff.auth",
                    "chalicelib.staff.csv_export", "chalicelib.storage.staff_records", "chalicelib.storage.tokens",
                    "chalicelib.notify.alerts", "chalicelib.notify.delivery", "chalicelib.staff.inbox",
                    "chalicelib.staff.http", "chalicelib.webhooks.delivery", "chalicelib.webhooks.sender",
                    "chalicelib.webhooks.addresses")


def cold_start(event="post", in_lambda=True):
    env = {**os.environ, **stage_environment("dev"), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "COLD_EVENT": event}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "PYDANTIC_DISABLE_PLUGINS", "AWS_LAMBDA_FUNCTION_NAME"):
        env.pop(name, None)
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "appointments-api"  # as Lambda sets it
    result = subprocess.run([sys.executable, "-c", COLD_POST], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_cold_post_loads_no_staff_page_openapi_or_alert_module():
    cold = cold_start()
    assert cold["status"] == 201
    assert not set(NOT_FOR_THE_FORM) & set(cold["modules"])
    assert cold["plugins"] == "__all__"  # pydantic skips its entry-point scan


def test_the_collector_is_paused_from_import_and_back_after_the_first_post():
    cold = cold_start()
    assert cold["status"] == 201
    assert cold["collecting_after_import"] is False
    assert cold["collecting_after_first_event"] is True
    assert cold["frozen"] > 10_000  # what the cold start made is out of later collections' way


def test_the_stream_function_gets_its_collector_back_after_its_first_batch():
    cold = cold_start("stream")
    assert cold["status"] == 200
    assert cold["collecting_after_import"] is False
    assert cold["collecting_after_first_event"] is True


def test_outside_lambda_importing_the_app_leaves_the_collector_alone():
    """chalice local, the stream driver and pytest import the app and may serve nothing for hours."""
    cold = cold_start(in_lambda=False)
    assert cold["collecting_after_import"] is True
    assert cold["frozen"] == 0
