"""Build the deployable stack for a stage, and check it offline.

    python -m tools.package [--stage prod] [--out build/package]

Runs `chalice package --merge-template infra/resources.json`, which writes `sam.json` (a
CloudFormation template with the SAM transform: the functions, the API and every resource the
app needs, in one stack) and `deployment.zip`. Then checks them with the tools AWS users
already trust, offline: cfn-lint, and the SAM transform (aws-sam-translator) run locally.

Only PyPI is reached: chalice downloads the Linux wheels (pydantic-core's, say) for Lambda.
No AWS account or credentials are needed, and none of the stage's settings: they are baked
into the template from .chalice/config.json, and the app reads them only when first needed.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.resources import ROOT, TEMPLATE, stage_environment

DEFAULT_OUT = ROOT / "build" / "package"
CONFIG = ROOT / ".chalice" / "config.json"
FUNCTIONS = ("APIHandler", "SendStaffAlerts", "SendConfirmations", "SendSignInCodes", "EscalateOverdue",
             "SendReminders", "SendDigest", "DeliverWebhooks")  # the logical ids `chalice package` gives them
# Each queue's consumer, and the queue the merge template must wire it to (app.py names only a placeholder).
QUEUE_OF = {"SendSignInCodes": "SignInCodeQueue", "DeliverWebhooks": "WebhookQueue"}
# What `aws cloudformation package` puts in place of the local zip before AWS runs the transform.
UPLOADED_CODE = "s3://artifact-bucket/deployment.zip"


@dataclass(frozen=True)
class Package:
    template: Path
    zip: Path

    def load(self):
        return json.loads(self.template.read_text())


def lambda_runtime(template=TEMPLATE):
    """The Lambda runtime the merge template pins for every function."""
    resources = json.loads(Path(template).read_text())["Resources"]
    runtimes = {resources[name]["Properties"]["Runtime"] for name in FUNCTIONS}
    if len(runtimes) != 1:
        raise SystemExit(f"{template}: the functions pin different runtimes {sorted(runtimes)}")
    return runtimes.pop()


def check_builder_python(runtime, version_info=sys.version_info):
    """`chalice package` picks wheels for the Python that runs it: it must be the pinned runtime."""
    running = f"python{version_info[0]}.{version_info[1]}"
    if running != runtime:
        raise SystemExit(
            f"The template pins the Lambda runtime {runtime}, but this is {running}: the packaged "
            f"wheels (pydantic-core's) would not load on Lambda. Build with {runtime}: "
            f"`make venv PYTHON={runtime}` (it rebuilds .venv with that Python), then `make package`."
        )


def packaging_environment(stage, environ=None, config=CONFIG):
    """The environment for `chalice package`: without the stage's settings, to prove none is needed."""
    environ = dict(os.environ if environ is None else environ)
    settings = stage_environment(stage, config)
    env = {name: value for name, value in environ.items() if name not in settings and name != "AWS_ENDPOINT_URL"}
    if not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        # Chalice insists on a region; the template itself uses ${AWS::Region} throughout.
        env["AWS_DEFAULT_REGION"] = "us-east-1"
    return env


def build(stage, out=DEFAULT_OUT, project=ROOT):
    merge_template = Path(project) / "infra" / "resources.json"
    check_builder_python(lambda_runtime(merge_template))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("sam.json", "deployment.zip"):
        (out / name).unlink(missing_ok=True)
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "package", "--stage", stage, "--merge-template", str(merge_template), str(out.resolve())]
    env = packaging_environment(stage, config=Path(project) / ".chalice" / "config.json")
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`chalice package` failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    package = Package(out / "sam.json", out / "deployment.zip")
    template = package.load()
    for function in ("SendStaffAlerts", "SendConfirmations"):
        stream = template["Resources"][function]["Properties"]["Events"][
            f"{function}DynamodbEventSource"]["Properties"]["Stream"]
        if isinstance(stream, str):
            raise SystemExit(f"{function}'s stream event source still names {stream!r}: infra/resources.json must "
                             "wire it to the table with Fn::GetAtt.")
    check_queue_wiring(template)
    changed = drop_fifo_batching_windows(template)
    if order_custom_domain_mapping(template) or changed:
        package.template.write_text(json.dumps(template, indent=2) + "\n")
    add_bytecode(package.zip)
    return package


# The app's own code, compiled: Lambda cannot write __pycache__ in /var/task, so without bytecode in the zip
# every cold start compiles app.py and chalicelib again (about 30 ms, docs/performance.md). The libraries'
# bytecode would save more but take the package past its 5 MB: they stay source.
BYTECODE_OF = ("app.py", "chalicelib/")


def compile_app(directory, of=BYTECODE_OF):
    """Writes __pycache__/*.pyc beside each of the app's modules under `directory`: the running Python's (3.13, the
    runtime's: check_builder_python sees to it), checked against nothing but the source hash recorded in them
    (unchecked-hash: a zip's timestamps are not the source's, and a built zip never changes). Returns the .pyc paths,
    relative to `directory`."""
    import importlib.util
    import py_compile

    directory = Path(directory)
    sources = [path for name in of for path in
               ((directory / name).rglob("*.py") if name.endswith("/") else [directory / name])]
    compiled = []
    for source in sorted(sources):
        relative = source.relative_to(directory).as_posix()
        cached = importlib.util.cache_from_source(relative)
        py_compile.compile(str(source), cfile=str(directory / cached), dfile=relative, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        compiled.append(cached)
    return compiled


def add_bytecode(zip_path, of=BYTECODE_OF):
    """The zip rewritten with its own app modules compiled (compile_app) beside them. Any bytecode chalice copied
    from the working tree (a developer's __pycache__, checked against timestamps the zip does not keep) is left
    out: one .pyc a module, ours."""
    import shutil
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as scratch:
        rebuilt = Path(scratch) / "deployment.zip"
        with zipfile.ZipFile(zip_path) as archive, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as out:
            sources = {}
            for info in archive.infolist():
                ours = info.filename.startswith(of)
                if ours and (info.filename.endswith(".pyc") or "__pycache__/" in info.filename):
                    continue
                out.writestr(info, archive.read(info))
                if ours and info.filename.endswith(".py"):
                    archive.extract(info, scratch)
                    sources[info.filename] = info
            for cached in compile_app(scratch, of):
                source = sources[cached.replace("__pycache__/", "").rsplit(".cpython", 1)[0] + ".py"]
                entry = zipfile.ZipInfo(cached, date_time=source.date_time)
                entry.external_attr, entry.compress_type = source.external_attr, zipfile.ZIP_DEFLATED
                out.writestr(entry, (Path(scratch) / cached).read_bytes())
        shutil.move(rebuilt, zip_path)


def _sqs_event(template, function):
    return template["Resources"][function]["Properties"]["Events"][f"{function}SqsEventSource"]["Properties"]


def check_queue_wiring(template):
    """Each queue consumer reads the stack's own queue, by reference, not app.py's placeholder ARN."""
    for function, name in QUEUE_OF.items():
        queue = _sqs_event(template, function)["Queue"]
        if queue != {"Fn::GetAtt": [name, "Arn"]}:
            raise SystemExit(f"{function}'s queue is {queue!r}: infra/resources.json must wire it to {name} "
                             "with Fn::GetAtt.")


def drop_fifo_batching_windows(template):
    """Chalice gives every SQS event source a MaximumBatchingWindowInSeconds (0 unless set); Lambda supports no
    batching window on a FIFO queue ("Batching window is not supported for FIFO queues"), so a FIFO queue's consumer
    goes without one. True if one was dropped."""
    resources = template["Resources"]
    dropped = False
    for function, queue in QUEUE_OF.items():
        if resources[queue]["Properties"].get("FifoQueue"):
            dropped |= _sqs_event(template, function).pop("MaximumBatchingWindowInSeconds", None) is not None
    return dropped


def order_custom_domain_mapping(template):
    """Make a custom domain (`api_gateway_custom_domain` in the stage) deploy reliably; True if there is one.

    Chalice names the mapping's stage literally, so CloudFormation may create the mapping before
    the stage and fail with "Invalid stage identifier specified" (aws/chalice#1735). A reference
    to RestAPI.Stage, which the SAM transform resolves to the stage, puts them in order. The
    outputs then say where the domain's DNS record must point.
    """
    mapping = template["Resources"].get("ApiGatewayCustomDomainMapping")
    if mapping is None:
        return False
    mapping["Properties"]["Stage"] = {"Ref": "RestAPI.Stage"}
    domain = template["Resources"]["ApiGatewayCustomDomain"]["Properties"]
    regional = domain.get("EndpointConfiguration", {}).get("Types") == ["REGIONAL"]
    name, zone = ("RegionalDomainName", "RegionalHostedZoneId") if regional \
        else ("DistributionDomainName", "DistributionHostedZoneId")
    template.setdefault("Outputs", {}).update({
        "CustomDomainTarget": {"Value": {"Fn::GetAtt": ["ApiGatewayCustomDomain", name]},
                               "Description": "Point the custom domain here (a CNAME, or a Route 53 alias)."},
        "CustomDomainHostedZoneId": {"Value": {"Fn::GetAtt": ["ApiGatewayCustomDomain", zone]}},
    })
    return True


def lint(template_path):
    """cfn-lint, as a person runs it. Exit code 0: no error and no warning."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run([str(cfn_lint), "--", str(template_path)], capture_output=True, text=True)


def lint_expanded(stack):
    """cfn-lint on the template after the SAM transform: only there does it check IAM action names."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "expanded.json"
        path.write_text(json.dumps(stack, indent=2))
        return lint(path)


def sam_transform(template, region="us-east-1"):
    """The template as CloudFormation expands it (AWS::Serverless-2016-10-31), computed locally."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = UPLOADED_CODE
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    # No managed policy is referenced (every role is this stack's own), so no map is needed.
    return translator.translate(template, parameter_values={}, get_managed_policy_map=dict)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)

    package = build(args.stage, args.out)
    stack = sam_transform(package.load())
    for what, linted in (("the template", lint(package.template)), ("the transformed template", lint_expanded(stack))):
        if linted.returncode != 0:
            raise SystemExit(f"cfn-lint found problems in {what}:\n{linted.stdout}{linted.stderr}")
    resources = stack["Resources"]
    print(
        f"Stage {args.stage!r} packaged and checked (cfn-lint clean before and after the SAM transform, "
        f"{len(resources)} resources):\n"
        f"  template  {package.template}\n"
        f"  code      {package.zip} ({package.zip.stat().st_size:,} bytes)\n"
        "Deploy it: docs/deploy.md (make deploy STAGE=... ARTIFACT_BUCKET=...)."
    )


if __name__ == "__main__":
    main()
