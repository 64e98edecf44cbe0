"""Regenerate ``ec2codec/model/_data/ec2.paginators.json`` and ``ec2.waiters.json`` from the installed botocore.

Usage: ``python tools/build_extras.py [--check]``. With ``--check`` nothing is
written; the exit status says whether both committed bundles are current.

The bundles are EC2's ``paginators-1.json`` (merged with its
``paginators-1.sdk-extras.json``, as botocore's loader does) and
``waiters-2.json``, compact, minus waiter descriptions, with the botocore
version they came from. botocore is a development dependency only: the
package never imports it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _bundle import write_or_check  # noqa: E402

from ec2codec.client.pagination import BUNDLE_NAME as PAGINATORS_NAME  # noqa: E402
from ec2codec.client.waiters import BUNDLE_NAME as WAITERS_NAME  # noqa: E402

PAGINATORS = ROOT / "ec2codec" / "model" / "_data" / PAGINATORS_NAME
WAITERS = ROOT / "ec2codec" / "model" / "_data" / WAITERS_NAME
GENERATOR = "tools/build_extras.py"


def _dump(bundle: Mapping[str, Any]) -> bytes:
    return json.dumps(bundle, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def compact_waiters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Waiter configs without their descriptions (documentation only); acceptor order is kept, it decides."""
    return {name: {k: v for k, v in config.items() if k != "description"} for name, config in raw["waiters"].items()}


def build_paginators() -> bytes:
    """The paginator bundle for the installed botocore (deterministic for a given version)."""
    import botocore
    from botocore.loaders import Loader

    raw = Loader().load_service_model("ec2", "paginators-1")
    bundle = {"botocore_version": botocore.__version__, "generator": GENERATOR, "pagination": raw["pagination"]}
    return _dump(bundle)


def build_waiters() -> bytes:
    """The waiter bundle for the installed botocore (deterministic for a given version)."""
    import botocore
    from botocore.loaders import Loader

    raw = Loader().load_service_model("ec2", "waiters-2")
    if raw.get("version") != 2:
        raise SystemExit(
            f"EC2's waiters use version {raw.get('version')!r}; ec2codec.client.waiters implements version 2"
        )
    bundle = {
        "botocore_version": botocore.__version__,
        "generator": GENERATOR,
        "version": raw["version"],
        "waiters": compact_waiters(raw),
    }
    return _dump(bundle)


def main(argv: list[str] | None = None) -> int:
    description = __doc__.splitlines()[0]
    # Both files are always handled, so one --check run reports every stale bundle.
    statuses = [
        write_or_check(PAGINATORS, build_paginators, description, argv),
        write_or_check(WAITERS, build_waiters, description, argv),
    ]
    return max(statuses)


if __name__ == "__main__":
    raise SystemExit(main())
