"""`make package` builds a complete stack that cfn-lint and the SAM transform accept, offline."""
import zipfile

import pytest

from tests.infra.template import resources
from tools import package as packaging
from tools.resources import stage_environment

# Lambda's limits for a zip uploaded through S3: 50 MB zipped is the direct-upload limit we keep
# under anyway, 250 MB unzipped is the hard one.
MAX_ZIPPED, MAX_UNZIPPED = 50 * 2**20, 250 * 2**20


def test_the_stack_builds_into_a_template_and_a_zip(built):
    assert built.template.is_file() and built.zip.is_file()


def test_cfn_lint_reports_no_error_and_no_warning(built):
    result = packaging.lint(built.template)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_accepts_the_transformed_template_and_its_iam_action_names(stack):
    result = packaging.lint_expanded(stack)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sam_transform_accepts_the_template(template, stack):
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert not [r for r in stack["Resources"].values() if r["Type"].startswith("AWS::Serverless::")]
    assert set(resources(stack, "AWS::Lambda::Function")) == {"APIHandler", "SendStaffAlerts", "SendConfirmations",
                                                                  "SendSignInCodes", "EscalateOverdue", "SendDigest",
                                                                  "SendReminders", "DeliverWebhooks"}
    # the stream, twice, the sign-in code queue and the webhook queue
    assert len(resources(stack, "AWS::Lambda::EventSourceMapping")) == 4


def test_the_dev_stage_builds_and_lints_clean_too(tmp_path):
    dev = packaging.build("dev", tmp_path)
    result = packaging.lint(dev.template)
    assert result.returncode == 0, result.stdout + result.stderr
    packaging.sam_transform(dev.load())


def test_packaging_needs_none_of_the_stage_settings():
    """The app reads its settings when first needed, so `chalice package` runs without them."""
    stage = stage_environment("prod")
    env = packaging.packaging_environment("prod", environ={**stage, "PATH": "/usr/bin", "HOME": "/root"})
    assert not set(stage) & set(env)
    assert env["AWS_DEFAULT_REGION"]  # chalice wants one; nothing in the template depends on it


def test_every_function_runs_on_the_pinned_lambda_runtime(template):
    runtime = packaging.lambda_runtime()
    assert runtime == "python3.13"
    functions = resources(template, "AWS::Serverless::Function")
    assert {f["Properties"]["Runtime"] for f in functions.values()} == {runtime}


def test_the_zip_carries_linux_wheels_for_that_runtime(built):
    with zipfile.ZipFile(built.zip) as archive:
        names = archive.namelist()
        wheel = archive.read(next(n for n in names if n.startswith("pydantic_core-") and n.endswith("/WHEEL")))
    assert "pydantic_core/_pydantic_core.cpython-313-x86_64-linux-gnu.so" in names
    tags = [line.split(": ", 1)[1] for line in wheel.decode().splitlines() if line.startswith("Tag: ")]
    assert tags and all(tag.startswith("cp313-cp313-manylinux") and tag.endswith("_x86_64") for tag in tags)


def test_the_zip_holds_the_app_and_its_dependencies_only(built):
    with zipfile.ZipFile(built.zip) as archive:
        names = archive.namelist()
        unzipped = sum(info.file_size for info in archive.infolist())
    top = {name.split("/", 1)[0] for name in names}
    assert {"app.py", "chalicelib", "pydantic", "phonenumbers", "email_validator", "tzdata"} <= top
    assert "chalicelib/intake/static/form.js" in names
    assert "chalicelib/aws_data/endpoints.json" in names  # the cut endpoint data the clients read
    assert not top & {"tests", "tools", "bench", "infra", ".venv", "boto3", "botocore", "moto"}
    assert built.zip.stat().st_size < MAX_ZIPPED and unzipped < MAX_UNZIPPED


def test_a_builder_on_another_python_is_stopped_with_the_fix():
    with pytest.raises(SystemExit) as stopped:
        packaging.check_builder_python("python3.13", version_info=(3, 11, 7))
    assert "python3.13" in str(stopped.value) and "make venv PYTHON=python3.13" in str(stopped.value)


def test_the_app_s_own_modules_are_in_the_zip_as_bytecode_the_runtime_loads(built, tmp_path):
    """Lambda cannot write __pycache__: without it in the zip, each cold start compiles the app again."""
    import importlib.util
    import subprocess
    import sys

    with zipfile.ZipFile(built.zip) as archive:
        names = set(archive.namelist())
        modules = [name for name in names if name.endswith(".py") and name.startswith(("app.py", "chalicelib/"))]
        assert "app.py" in modules and "chalicelib/wiring.py" in modules
        for module in modules:
            cached = importlib.util.cache_from_source(module)
            assert cached in names, module
            header = archive.read(cached)[:16]
            assert header[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, not checked against the source
            assert header[8:16] == importlib.util.source_hash(archive.read(module))
        archive.extractall(tmp_path, [name for name in names if name.startswith(("app.py", "chalicelib/"))])
    for module in modules:  # sources gone: only the bytecode is left to import from
        if module.endswith(".py") and not module.endswith("__init__.py"):
            (tmp_path / module).write_text("raise SystemExit('compiled from source')\n")
    probe = "import chalicelib.wiring, chalicelib.intake.models; print('loaded')"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip() == "loaded", result.stderr[-2000:]


def test_bytecode_a_developer_s_tree_holds_is_left_out_for_ours(tmp_path):
    """chalice copies chalicelib/ as it is, __pycache__ included after a local run: the zip must still hold one
    .pyc a module, ours (a second, timestamp-checked one could be the one unzipped, and recompiled each cold start)."""
    import importlib.util

    from tools.package import add_bytecode

    zip_path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("app.py", "x = 1\n")
        archive.writestr("chalicelib/__init__.py", "")
        archive.writestr(importlib.util.cache_from_source("chalicelib/__init__.py"), b"stale timestamp bytecode")
        archive.writestr("chalicelib/stray.pyc", b"stale")
        archive.writestr("pydantic/__init__.py", "")
    add_bytecode(zip_path)

    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert len(names) == len(set(names))
        assert sorted(names) == sorted(["app.py", "chalicelib/__init__.py", "pydantic/__init__.py",
                                        importlib.util.cache_from_source("app.py"),
                                        importlib.util.cache_from_source("chalicelib/__init__.py")])
        assert archive.read(importlib.util.cache_from_source("chalicelib/__init__.py"))[4:8] == b"\x01\x00\x00\x00"


def test_only_a_fifo_queue_s_consumer_goes_without_a_batching_window(template):
    """Chalice writes MaximumBatchingWindowInSeconds for every SQS event source; Lambda refuses one on a FIFO queue."""
    def source(function):
        return template["Resources"][function]["Properties"]["Events"][f"{function}SqsEventSource"]["Properties"]

    assert "MaximumBatchingWindowInSeconds" not in source("DeliverWebhooks")
    assert source("SendSignInCodes")["MaximumBatchingWindowInSeconds"] == 0
    assert set(packaging.QUEUE_OF.values()) == {"SignInCodeQueue", "WebhookQueue"}


def test_a_queue_consumer_wired_to_a_placeholder_stops_the_build(template):
    """What `build` refuses: a consumer left on app.py's placeholder ARN (the merge template did not wire it)."""
    import copy

    packaging.check_queue_wiring(template)
    for function, placeholder in (("SendSignInCodes", "arn:aws:sqs:us-east-1:123456789012:set-by-template"),
                                  ("DeliverWebhooks", "arn:aws:sqs:us-east-1:123456789012:set-by-template.fifo")):
        unwired = copy.deepcopy(template)
        unwired["Resources"][function]["Properties"]["Events"][f"{function}SqsEventSource"]["Properties"][
            "Queue"] = placeholder
        with pytest.raises(SystemExit) as stopped:
            packaging.check_queue_wiring(unwired)
        assert f"{function}'s queue" in str(stopped.value) and packaging.QUEUE_OF[function] in str(stopped.value)
