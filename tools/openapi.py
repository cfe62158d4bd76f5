"""Write the OpenAPI document the app serves at GET /openapi.json to docs/openapi.json.

    python -m tools.openapi [--check]
"""
import argparse
import json
import sys

from tools.resources import ROOT

DOCUMENT = ROOT / "docs" / "openapi.json"


def render():
    from app import app
    from chalicelib import openapi

    return json.dumps(openapi.build(app.routes), indent=2, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            sys.exit("docs/openapi.json is out of date: run `make openapi`")
        return
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
