"""Regenerate the expected wire bodies of ``fixtures/requests`` from botocore.

Each ``<Operation>[-variant].params.json`` holds plain-JSON parameters (as the
CLI takes them); this writes ``<same stem>.body``: the exact bytes botocore's
EC2 serializer and ``AWSRequest`` send for them. botocore is the reference, so
the files are produced by botocore, never by ec2codec.

Usage: ``python tools/build_request_fixtures.py [--check]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "fixtures" / "requests"


def operation_of(params_file: Path) -> str:
    """``ImportSnapshot-url.params.json`` -> ``ImportSnapshot``."""
    return params_file.name.removesuffix(".params.json").split("-")[0]


def botocore_body(operation: str, params: dict[str, object]) -> bytes:
    import botocore.session
    from botocore.awsrequest import AWSRequest
    from botocore.serialize import create_serializer

    model = botocore.session.get_session().get_service_model("ec2").operation_model(operation)
    serialized = create_serializer("ec2", include_validation=True).serialize_to_request(params, model)
    prepared = AWSRequest(method="POST", url="https://ec2.us-east-1.amazonaws.com/", data=serialized["body"]).prepare()
    body = prepared.body
    return body.encode("ascii") if isinstance(body, str) else bytes(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if any .body file is stale")
    args = parser.parse_args(argv)
    stale = 0
    for params_file in sorted(FOLDER.glob("*.params.json")):
        expected = botocore_body(operation_of(params_file), json.loads(params_file.read_text("utf-8")))
        target = params_file.with_name(params_file.name.removesuffix(".params.json") + ".body")
        if args.check:
            if not target.exists() or target.read_bytes() != expected:
                print(f"stale: {target.relative_to(ROOT)}", file=sys.stderr)
                stale += 1
        else:
            target.write_bytes(expected)
            print(f"wrote {target.relative_to(ROOT)}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
