"""Regenerate ``ec2codec/model/_data/ec2.model`` from the installed botocore's EC2 model.

Usage: ``python tools/build_model.py [--check]``. With ``--check`` nothing is
written; the exit status says whether the committed bundle is current.
botocore is a development dependency only: the package never imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _bundle import write_or_check  # noqa: E402

from ec2codec.model.service import BUNDLE_NAME, compact_model, dump_bundle  # noqa: E402

TARGET = ROOT / "ec2codec" / "model" / "_data" / BUNDLE_NAME


def build() -> bytes:
    """The bundle bytes for the installed botocore (deterministic for a given version)."""
    import botocore
    from botocore.loaders import Loader

    raw = Loader().load_service_model("ec2", "service-2")
    return dump_bundle(compact_model(raw), botocore_version=botocore.__version__, generator="tools/build_model.py")


def main(argv: list[str] | None = None) -> int:
    return write_or_check(TARGET, build, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
