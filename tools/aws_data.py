"""Write chalicelib/aws_data/endpoints.json: botocore's endpoint data, cut to the services the app calls.

    python -m tools.aws_data [--check]

botocore reads its whole endpoints.json (1.2 MB, every AWS service) when a session makes its
first client: about 7 MiB and 40 ms of every cold start, for a few entries. The loader of
chalicelib.wiring's session searches this folder before botocore's own (an extra search path, as
botocore's documented `data_path` setting adds), so it reads this copy; service models and
endpoint rule sets still come from botocore itself. Run this after bumping botocore
or adding a service to wiring.AWS_SERVICES; `tests/infra` fails while the copy is out of date.
"""
import argparse
import json
import sys

from tools.resources import ROOT

ENDPOINTS = ROOT / "chalicelib" / "aws_data" / "endpoints.json"


def trimmed_endpoints(services):
    """botocore's endpoints.json with every partition kept whole, but only `services` in each."""
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    prefixes = {loader.load_service_model(name, "service-2")["metadata"]["endpointPrefix"] for name in services}
    data = loader.load_data("endpoints")
    partitions = [{**partition, "services": {name: service for name, service in partition["services"].items()
                                             if name in prefixes}}
                  for partition in data["partitions"]]
    return {**data, "partitions": partitions}


def render():
    from chalicelib.wiring import AWS_SERVICES

    return json.dumps(trimmed_endpoints(AWS_SERVICES), indent=1, sort_keys=True) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help=f"fail if {ENDPOINTS.relative_to(ROOT)} is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not ENDPOINTS.exists() or ENDPOINTS.read_text() != text:
            sys.exit(f"{ENDPOINTS.relative_to(ROOT)} is out of date: run `.venv/bin/python -m tools.aws_data`")
        return
    ENDPOINTS.parent.mkdir(exist_ok=True)
    ENDPOINTS.write_text(text)
    print(f"wrote {ENDPOINTS.relative_to(ROOT)} ({len(text):,} bytes)")


if __name__ == "__main__":
    main()
