"""A cold start of the API function loads what POST /appointments needs, and nothing else."""
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
    import app
    from bench.events import api_event
    response = app.app(api_event(uuid.uuid4().hex), None)
    print(json.dumps({"status": response["statusCode"], "modules": sorted(sys.modules),
                      "plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}))
"""

NOT_FOR_THE_FORM = ("chalicelib.page", "chalicelib.openapi", "chalicelib.staff", "chalicelib.auth",
                    "chalicelib.csv_export", "chalicelib.storage.staff_records", "chalicelib.storage.tokens",
                    "chalicelib.alerts", "chalicelib.delivery")


def test_a_cold_post_loads_no_staff_page_openapi_or_alert_module():
    env = {**os.environ, **stage_environment("dev"), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "PYDANTIC_DISABLE_PLUGINS"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-c", COLD_POST], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    cold = json.loads(result.stdout.strip().splitlines()[-1])
    assert cold["status"] == 201
    assert not set(NOT_FOR_THE_FORM) & set(cold["modules"])
    assert cold["plugins"] == "__all__"  # pydantic skips its entry-point scan
