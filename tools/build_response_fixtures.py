"""Regenerate the expected ``.json`` of every response golden in ``fixtures/responses`` from botocore.

Usage: ``python tools/build_response_fixtures.py [--check]``. Each ``<Operation>[.<variant>].xml``
is parsed by botocore's ``EC2QueryParser`` (HTTP status 400 for an EC2 error
document, whose root is ``<Response>``, else 200) and the result, with
``ResponseMetadata`` reduced to ``RequestId``, is written next to it as
``.json`` in the ``tests/goldens.py`` convention. botocore is the reference,
so the expected values never come from ec2codec itself. With ``--check``
nothing is written; the exit status says whether every ``.json`` is current.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.goldens import FIXTURES, dumps  # noqa: E402

FOLDER = FIXTURES / "responses"
_ERROR_ROOT = re.compile(rb"<(?:\w+:)?Response[\s>]")


def operation_of(path: Path) -> str:
    """``DescribeImportSnapshotTasks.xml`` and ``ImportSnapshot.error.xml`` name their operation first."""
    return path.name.split(".")[0]


def expected(path: Path) -> dict[str, Any]:
    """botocore's parse of one golden body, as stored in its ``.json``."""
    import botocore.session
    from botocore.parsers import create_parser

    body = path.read_bytes()
    status = 400 if _ERROR_ROOT.search(body) else 200
    operation = botocore.session.get_session().get_service_model("ec2").operation_model(operation_of(path))
    result: dict[str, Any] = create_parser("ec2").parse(
        {"body": body, "headers": {}, "status_code": status}, operation.output_shape
    )
    meta = result.get("ResponseMetadata", {})
    result["ResponseMetadata"] = {k: v for k, v in meta.items() if k == "RequestId"}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if any .json is stale")
    args = parser.parse_args(argv)
    stale = 0
    for xml in sorted(FOLDER.glob("*.xml")):
        target = xml.with_suffix(".json")
        text = dumps(expected(xml))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale += 1
        if args.check:
            print(f"{target.relative_to(ROOT)} is stale: run python tools/build_response_fixtures.py", file=sys.stderr)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
