"""Regenerate the bundled service models (``ec2codec/model/_data/<service>.model``) from the installed botocore.

Usage: ``python tools/build_model.py [--check] [--service NAME]``. Every
bundled service (EC2, STS) is written unless ``--service`` names one. With
``--check`` nothing is written; the exit status says whether the committed
bundles are current. botocore is a development dependency only: the package
never imports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _bundle import write_or_check  # noqa: E402

from ec2codec.model.service import BUNDLE_NAME, BUNDLED_SERVICES, bundle_name, compact_model, dump_bundle  # noqa: E402

DATA = ROOT / "ec2codec" / "model" / "_data"
TARGET = DATA / BUNDLE_NAME  # the EC2 bundle


def build(service: str = "ec2") -> bytes:
    """The bundle bytes of ``service`` for the installed botocore (deterministic for a given version)."""
    import botocore
    from botocore.loaders import Loader

    raw = Loader().load_service_model(service, "service-2")
    return dump_bundle(compact_model(raw), botocore_version=botocore.__version__, generator="tools/build_model.py")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed bundle is stale")
    parser.add_argument("--service", choices=BUNDLED_SERVICES, help="only this service (default: all)")
    args = parser.parse_args(argv)
    status = 0
    for service in [args.service] if args.service else BUNDLED_SERVICES:
        target = DATA / bundle_name(service)
        description = f"the bundled {service} model"
        status |= write_or_check(target, lambda s=service: build(s), description, ["--check"] if args.check else [])
    return status


if __name__ == "__main__":
    raise SystemExit(main())
