"""Regenerate ``ec2codec/model/_data/ec2.endpoints.json`` from the installed botocore.

Usage: ``python tools/build_endpoints.py [--check]``. With ``--check`` nothing is
written; the exit status says whether the committed bundle is current.

The bundle is EC2's endpoint rule set (``ec2/<api>/endpoint-rule-set-1.json``)
and ``partitions.json``, exactly as botocore evaluates them, minus
documentation strings and region descriptions. botocore is a development
dependency only: the package never imports it.
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

from ec2codec.client._rules import FUNCTIONS  # noqa: E402
from ec2codec.client.endpoints import BUNDLE_NAME  # noqa: E402

TARGET = ROOT / "ec2codec" / "model" / "_data" / BUNDLE_NAME


def _strip_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rule.items() if k != "documentation"}
    out["conditions"] = [{k: v for k, v in c.items() if k != "documentation"} for c in rule.get("conditions", ())]
    if "rules" in rule:
        out["rules"] = [_strip_rule(r) for r in rule["rules"]]
    return out


def compact_ruleset(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The rule set without documentation (parameter specs and rules keep everything else)."""
    return {
        "version": raw["version"],
        "parameters": {
            name: {k: v for k, v in spec.items() if k != "documentation"} for name, spec in raw["parameters"].items()
        },
        "rules": [_strip_rule(r) for r in raw["rules"]],
    }


def compact_partitions(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Partitions in file order (it decides ties); regions by name only."""
    return {
        "version": raw.get("version"),
        "partitions": [
            {"id": p["id"], "regionRegex": p["regionRegex"], "regions": sorted(p["regions"]), "outputs": p["outputs"]}
            for p in raw["partitions"]
        ],
    }


def functions_used(node: Any) -> set[str]:
    """Every ``fn`` a rule set calls, anywhere."""
    if isinstance(node, Mapping):
        found = {node["fn"]} if "fn" in node else set()
        for value in node.values():
            found |= functions_used(value)
        return found
    if isinstance(node, list):
        return set().union(*(functions_used(v) for v in node)) if node else set()
    return set()


def build() -> bytes:
    """The bundle bytes for the installed botocore (deterministic for a given version)."""
    import botocore
    from botocore.loaders import Loader

    loader = Loader()
    ruleset = loader.load_service_model("ec2", "endpoint-rule-set-1")
    unsupported = functions_used(ruleset["rules"]) - set(FUNCTIONS) - {"aws.partition"}
    if unsupported:
        raise SystemExit(
            f"EC2's rule set calls functions ec2codec.client._rules lacks: {', '.join(sorted(unsupported))}"
        )
    bundle = {
        "botocore_version": botocore.__version__,
        "generator": "tools/build_endpoints.py",
        "ruleset": compact_ruleset(ruleset),
        "partitions": compact_partitions(loader.load_data("partitions")),
    }
    return json.dumps(bundle, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(TARGET, build, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
