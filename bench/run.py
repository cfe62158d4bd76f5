"""`make bench`: what the service costs the way a Lambda user pays for it.

    python -m bench.run [--cold-runs 11] [--warm-requests 1000]

1. cold start: a fresh process (with AWS_LAMBDA_FUNCTION_NAME set, as in Lambda) imports the app
   and serves one POST /appointments through Chalice's Lambda entry point against the local
   emulator; wall time and peak memory,
   side by side with the naive reference handler (bench/naive_app.py), as a ratio;
2. warm: median and 99th percentile per request over many requests through the entry point;
3. AWS calls made in the request path per accepted request, counted at the botocore level;
4. the deployment package size from `chalice package` (when build/package exists or
   --package is given);
5. the idle cost of `make run`: the whole local stack, started as `make run` starts it (with
   autoreload), left alone for --idle-seconds; CPU time of all its processes, as % of one core.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tests.e2e.conftest import free_port
from tools.resources import ROOT, stage_environment
from tools.stack import create_resources, local_aws_env, wait_until_listening

CHILD = r'''
import json, os, sys, time, uuid
started = time.perf_counter()
sys.path.insert(0, os.environ["BENCH_APP_DIR"])
module = __import__(os.environ["BENCH_APP_MODULE"])
from bench import events
imported = time.perf_counter()
response = module.app(getattr(events, os.environ.get("BENCH_EVENT", "api_event"))(uuid.uuid4().hex), None)
done = time.perf_counter()
assert response["statusCode"] in (200, 201), response
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec, so
# it would report the benchmark runner's own size for any child smaller than it.
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"import_ms": (imported - started) * 1000, "first_request_ms": (done - imported) * 1000,
                  "peak_kib": peak_kib}))
'''


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cold_start_once(env, module, app_dir, event="api_event"):
    import time

    started = time.perf_counter()
    # AWS_LAMBDA_FUNCTION_NAME, as Lambda sets it: the app pauses its collector for a cold start only there.
    result = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True,
                            env={**env, "BENCH_APP_MODULE": module, "BENCH_APP_DIR": str(app_dir),
                                 "BENCH_EVENT": event, "AWS_LAMBDA_FUNCTION_NAME": f"bench-{module}",
                                 # Lambda cannot write bytecode either: each run finds what the zip holds, no more.
                                 "PYTHONDONTWRITEBYTECODE": "1"}, timeout=120)
    wall = (time.perf_counter() - started) * 1000
    if result.returncode:
        raise SystemExit(f"cold start of {module} failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return {"wall_ms": wall, "import_and_first_request_ms": figures["import_ms"] + figures["first_request_ms"],
            "peak_mib": figures["peak_kib"] / 1024}


def lambda_copy(directory, source_only=False):
    """app.py and chalicelib as the deployment zip holds them (tools/package.py): with their bytecode, which
    Lambda cannot write for itself. `source_only`: as the zip held them before it carried bytecode."""
    import shutil

    for name in ("app.py", "chalicelib"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, Path(directory) / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, Path(directory) / name)
    if not source_only:
        from tools.package import compile_app

        compile_app(directory)
    return Path(directory)


def deployed_environment(env, settings, source_only=False):
    """The API function's environment as the stack deploys it: the id key resolved from its secret."""
    if source_only:
        return env
    import boto3

    secrets = boto3.session.Session(region_name=env["AWS_DEFAULT_REGION"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).client(
        "secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"])
    return {**env, "DEDUPE_KEY": secrets.get_secret_value(SecretId=settings.dedupe_key_secret)["SecretString"]}


def cold_starts(env, runs, app_dir=ROOT, ours_env=None):
    """Both apps, alternately, so that whatever else the machine does weighs on both alike; and the form page."""
    samples = {"ours": [], "naive": [], "page": []}
    for _ in range(runs):
        samples["ours"].append(cold_start_once(ours_env or env, "app", app_dir))
        samples["naive"].append(cold_start_once(env, "naive_app", ROOT / "bench"))
        samples["page"].append(cold_start_once(ours_env or env, "app", app_dir, "page_event"))
    return {name: {key: statistics.median(run[key] for run in runs_) for key in runs_[0]}
            for name, runs_ in samples.items()}


def warm(env, requests):
    """In this process: the real app, many POSTs, each timed; AWS calls counted at botocore level."""
    import time
    import uuid

    from botocore.client import BaseClient

    os.environ.update(env)
    from app import app
    from bench.events import api_event

    calls = []
    original = BaseClient._make_api_call

    def counting(self, operation, params):
        calls.append(f"{self.meta.service_model.service_name}:{operation}")
        return original(self, operation, params)

    app(api_event(uuid.uuid4().hex), None)  # warm up: clients built, caches filled
    BaseClient._make_api_call = counting
    try:
        times = []
        for _ in range(requests):
            event = api_event(uuid.uuid4().hex)
            started = time.perf_counter()
            response = app(event, None)
            times.append((time.perf_counter() - started) * 1000)
            assert response["statusCode"] == 201, response
    finally:
        BaseClient._make_api_call = original
    return {"median_ms": statistics.median(times), "p99_ms": percentile(times, 0.99),
            "aws_calls_per_request": len(calls) / requests, "calls": sorted(set(calls))}


def process_tree(root_pid):
    """root_pid and every process below it: pid -> (command, utime + stime in clock ticks)."""
    parents, stats = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        stats[pid] = (b" ".join(cmdline[1:4]).decode(errors="replace"), int(fields[11]) + int(fields[12]))
    tree, grew = {root_pid}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        grew = bool(below)
    return {pid: stats[pid] for pid in tree if pid in stats}


def idle_stack(seconds, settle=5.0):
    """Start the stack as `make run` does, let it settle, then measure its CPU over `seconds` of idling."""
    import time
    import urllib.error
    import urllib.request

    aws_port, api_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as scratch:
        stack = subprocess.Popen(
            [sys.executable, "-m", "tools.stack", "--autoreload", "--aws-port", str(aws_port),
             "--api-port", str(api_port), "--inbox-file", str(Path(scratch) / "inbox.txt")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{api_port}/thanks", timeout=1).read()
                    break
                except (OSError, urllib.error.HTTPError):
                    if stack.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the local stack did not come up for the idle measurement")
                    time.sleep(0.2)
            time.sleep(settle)
            before, started = process_tree(stack.pid), time.monotonic()
            time.sleep(seconds)
            after, elapsed = process_tree(stack.pid), time.monotonic() - started
        finally:
            os.killpg(stack.pid, 15)
            stack.wait(timeout=20)
    ticks = os.sysconf("SC_CLK_TCK")
    per_process = sorted(((after[pid][0], (after[pid][1] - before.get(pid, (None, after[pid][1]))[1]) / ticks
                           / elapsed * 100) for pid in after), key=lambda item: -item[1])
    return {"seconds": elapsed, "cpu_percent": sum(share for _, share in per_process), "processes": per_process}


def package_size(path):
    path = Path(path)
    zips = [path] if path.suffix == ".zip" else sorted(path.glob("*.zip"))
    if not zips:
        return None
    deployment = max(zips, key=lambda p: p.stat().st_size)
    with zipfile.ZipFile(deployment) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    return {"zip": str(deployment.relative_to(ROOT) if deployment.is_relative_to(ROOT) else deployment),
            "zip_bytes": deployment.stat().st_size, "unzipped_bytes": unpacked}


def sign_in_requests(env, requests):
    """POST /staff/sign-in for a staff address and for an unknown one, alternately, in this process: median
    latency and AWS calls of each. Neither may tell who has an account."""
    import time
    import uuid

    from botocore.client import BaseClient

    os.environ.update(env)
    from app import app
    from bench.events import sign_in_event
    from tools import staff_accounts

    staff_accounts.main(["add", "--email", "bench.staff@clinic.example", "--name", "Bench Staff", "--role", "staff"],
                        out=open(os.devnull, "w"))
    calls = {"staff": [], "unknown": []}
    times = {"staff": [], "unknown": []}
    addresses = {"staff": "bench.staff@clinic.example", "unknown": "nobody.here@clinic.example"}
    app(sign_in_event("warm", addresses["unknown"]), None)
    original = BaseClient._make_api_call
    who = {"now": None}

    def counting(self, operation, params):
        calls[who["now"]].append(f"{self.meta.service_model.service_name}:{operation}")
        return original(self, operation, params)

    BaseClient._make_api_call = counting
    try:
        for _ in range(requests):
            for kind in ("staff", "unknown"):
                who["now"] = kind
                started = time.perf_counter()
                response = app(sign_in_event(uuid.uuid4().hex, addresses[kind]), None)
                times[kind].append((time.perf_counter() - started) * 1000)
                assert response["statusCode"] == 200, response
    finally:
        BaseClient._make_api_call = original
    return {kind: {"median_ms": statistics.median(times[kind]), "calls_per_request": len(calls[kind]) / requests,
                   "calls": sorted(set(calls[kind]))} for kind in times}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=11)
    parser.add_argument("--warm-requests", type=int, default=1000)
    parser.add_argument("--sign-in-requests", type=int, default=200, help="per address kind")
    parser.add_argument("--idle-seconds", type=float, default=30.0,
                        help="how long to leave the local stack idle (0: skip that measurement)")
    parser.add_argument("--package", default=str(ROOT / "build" / "package"),
                        help="a `chalice package` output folder or zip")
    parser.add_argument("--source-only", action="store_true",
                        help="cold starts as deployed before bytecode and the deploy-time key: sources only, the key "
                             "read from Secrets Manager")
    args = parser.parse_args(argv)

    from chalicelib.core.config import Settings

    aws_port = free_port()
    aws_env = local_aws_env(aws_port)
    stage_env = stage_environment("dev")
    env = {**os.environ, **aws_env, **stage_env}
    moto = subprocess.Popen([sys.executable, "-m", "tools.aws_emulator", "-H", "127.0.0.1", "-p", str(aws_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(aws_port, moto, "moto")
        settings = Settings.from_env(stage_env)
        create_resources(settings, env, "dev")
        with tempfile.TemporaryDirectory() as lambda_dir:
            cold = cold_starts(env, args.cold_runs, lambda_copy(lambda_dir, args.source_only),
                               deployed_environment(env, settings, args.source_only))
        ours, naive, page = cold["ours"], cold["naive"], cold["page"]
        hot = warm(env, args.warm_requests)
        sign_in = sign_in_requests(env, args.sign_in_requests)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    package = package_size(args.package)
    idle = idle_stack(args.idle_seconds) if args.idle_seconds > 0 else None

    print(f"\nCold start (median of {args.cold_runs} fresh processes: import + one POST /appointments "
          "through Chalice's Lambda entry point, local emulator):")
    print(f"  {'':24}{'this service':>14}{'naive':>10}{'ratio':>8}")
    for key, label in (("wall_ms", "process wall time (ms)"), ("import_and_first_request_ms", "import + request (ms)"),
                       ("peak_mib", "peak memory (MiB)")):
        print(f"  {label:24}{ours[key]:>14.1f}{naive[key]:>10.1f}{ours[key] / naive[key]:>8.2f}")
    print(f"\nCold start of GET / (the form page, median of {args.cold_runs}): process wall time "
          f"{page['wall_ms']:.1f} ms, import + request {page['import_and_first_request_ms']:.1f} ms, "
          f"peak memory {page['peak_mib']:.1f} MiB")
    print(f"\nWarm ({args.warm_requests} requests through the Lambda entry point, local emulator):")
    print(f"  median {hot['median_ms']:.2f} ms, p99 {hot['p99_ms']:.2f} ms")
    print(f"\nAWS calls in the request path per accepted request: {hot['aws_calls_per_request']:.2f} "
          f"({', '.join(hot['calls'])})")
    print(f"\nPOST /staff/sign-in ({args.sign_in_requests} each, alternately; the code is mailed off the request "
          "path):")
    for kind, label in (("staff", "a staff address"), ("unknown", "an unknown address")):
        figures = sign_in[kind]
        print(f"  {label:20} median {figures['median_ms']:.2f} ms, {figures['calls_per_request']:.2f} AWS calls "
              f"({', '.join(figures['calls'])})")
    if package:
        print(f"\nDeployment package ({package['zip']}): {package['zip_bytes'] / 1e6:.2f} MB zipped, "
              f"{package['unzipped_bytes'] / 1e6:.2f} MB unzipped")
    else:
        print(f"\nDeployment package: none at {args.package} (run `make package` first)")
    if idle:
        print(f"\nIdle local stack (`make run`, autoreload on, {idle['seconds']:.0f} s untouched): "
              f"{idle['cpu_percent']:.1f} % of one core (target < 5 %)")
        for command, share in idle["processes"]:
            print(f"  {share:5.1f} %  {command}")


if __name__ == "__main__":
    main()
