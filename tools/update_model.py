"""Refresh everything generated from botocore in one command: bundles, client methods, golden files, pins.

Usage: ``python tools/update_model.py [VERSION] [--check]``

Works from the botocore installed in this environment and downloads nothing:
install the release first (``pip install botocore==V boto3==V``, or the
boto3 that requires it). With VERSION, the installed botocore must be that
version. Then, in order, it runs the generators (each also works alone):

- ``build_model`` (``ec2codec/model/_data/ec2.model``), ``build_endpoints``
  (endpoint rules), ``build_extras`` (paginators, waiters);
- ``build_client_methods`` (reads the bundle just written);
- ``build_fixtures`` (every golden folder under ``fixtures/``);

rewrites the ``==`` pins of botocore, boto3, awscli and moto in
``pyproject.toml`` (those that are pinned) to the installed versions, after
checking that the installed ones require each other's versions, and prints
what changed: operations and shapes added, removed or changed (in the compact
form the codec reads), paginators and waiters added, removed or changed, the
endpoint rules, the pins and the files rewritten.

With ``--check`` nothing is written: it prints the same report (``no change``
when the committed data matches the installed botocore) and exits 1 when
anything is stale. Exit 2: the installed packages do not fit (wrong VERSION,
a pinned package missing, pins that contradict each other).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import textwrap
from collections.abc import Iterable, Mapping
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bundle import ROOT

sys.path.insert(0, str(ROOT))

from ec2codec.model.service import read_bundle

STEPS = ("build_model", "build_endpoints", "build_extras", "build_client_methods", "build_fixtures")
PINNED = ("botocore", "boto3", "awscli", "moto")
PYPROJECT = ROOT / "pyproject.toml"
DATA = ROOT / "ec2codec" / "model" / "_data"
# Everything the steps and the pins may rewrite, for the list of files changed.
GENERATED = (DATA, ROOT / "ec2codec" / "client" / "_client_methods.py", ROOT / "fixtures", PYPROJECT)
_PIN = re.compile(r'"(?P<name>[A-Za-z0-9_.-]+)(?P<extras>\[[^\]]*\])?==(?P<version>[^";\s]+)"')


class Unfit(Exception):
    """The installed packages cannot produce a consistent update (exit 2)."""


# -- pins ------------------------------------------------------------------------------------------------------


def pins(text: str) -> dict[str, str]:
    """The ``"name==version"`` pins of :data:`PINNED` found in pyproject text."""
    return {m["name"].lower(): m["version"] for m in _PIN.finditer(text) if m["name"].lower() in PINNED}


def installed_versions(names: Iterable[str]) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise Unfit(f"{name} is pinned in pyproject.toml but not installed: install it first") from None
    return found


def check_consistent(versions: Mapping[str, str]) -> None:
    """Every installed pinned package accepts the installed versions of the others (its Requires-Dist)."""
    from packaging.requirements import Requirement

    for name in versions:
        for spec in metadata.requires(name) or ():
            requirement = Requirement(spec)
            other = requirement.name.lower()
            if other not in versions or other == name:
                continue
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            if not requirement.specifier.contains(versions[other], prereleases=True):
                raise Unfit(
                    f"{name} {versions[name]} requires {requirement}, but {other} {versions[other]} is installed"
                )


def rewrite_pins(text: str, versions: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["name"].lower()
        if name not in versions:
            return match[0]
        return f'"{match["name"]}{match["extras"] or ""}=={versions[name]}"'

    return _PIN.sub(replace, text)


# -- what changed ----------------------------------------------------------------------------------------------


def _names(label: str, names: Iterable[str]) -> list[str]:
    listed = sorted(names)
    if not listed:
        return []
    wrapped = textwrap.wrap(", ".join(listed), width=110, break_on_hyphens=False)
    return [f"  {label} ({len(listed)}): {wrapped[0]}", *(f"    {line}" for line in wrapped[1:])]


def diff_tables(what: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """A count line and the names added, removed and changed between two name -> record tables."""
    added, removed = set(new) - set(old), set(old) - set(new)
    changed = {name for name in set(old) & set(new) if old[name] != new[name]}
    if not (added or removed or changed):
        return [f"{what}: {len(new)}, no change"]
    counts = f"{len(added)} added, {len(removed)} removed, {len(changed)} changed"
    lines = [f"{what}: {len(old)} -> {len(new)} ({counts})"]
    return lines + _names("added", added) + _names("removed", removed) + _names("changed", changed)


def _table(data: bytes | None, key: str) -> dict[str, Any]:
    return dict(json.loads(data)[key]) if data else {}


def _model_tables(data: bytes | None) -> tuple[dict[str, Any], dict[str, Any], str]:
    if not data:
        return {}, {}, "none"
    model = read_bundle(data)
    operations = {name: model.operation(name) for name in model.operation_names()}
    shapes = {name: model.shape(name) for name in model.shape_names()}
    return operations, shapes, str(model.provenance.get("botocore_version", "unknown"))


def report(old: Mapping[str, bytes | None], new: Mapping[str, bytes]) -> list[str]:
    """What differs between the committed bundles (``old``) and the ones the installed botocore gives."""
    old_ops, old_shapes, old_version = _model_tables(old["model"])
    new_ops, new_shapes, new_version = _model_tables(new["model"])
    lines = [f"EC2 model: botocore {old_version} -> {new_version}" if old_version != new_version else ""]
    lines += diff_tables("operations", old_ops, new_ops)
    lines += diff_tables("shapes", old_shapes, new_shapes)
    lines += diff_tables("paginators", _table(old["paginators"], "pagination"), _table(new["paginators"], "pagination"))
    lines += diff_tables("waiters", _table(old["waiters"], "waiters"), _table(new["waiters"], "waiters"))
    return [line for line in lines if line] + diff_endpoints(old["endpoints"], new["endpoints"])


def diff_endpoints(old_data: bytes | None, new_data: bytes) -> list[str]:
    """Whether the rule set changed, and the regions each partition gained or lost."""
    old, new = json.loads(old_data or b"{}"), json.loads(new_data)
    lines = [f"endpoint rule set: {'no change' if old.get('ruleset') == new['ruleset'] else 'changed'}"]
    before = {p["id"]: p for p in old.get("partitions", {}).get("partitions", [])}
    after = {p["id"]: p for p in new["partitions"]["partitions"]}
    lines += diff_tables("partitions", before, after)[:1]
    for name in sorted(set(before) & set(after)):
        gained = sorted(set(after[name]["regions"]) - set(before[name]["regions"]))
        lost = sorted(set(before[name]["regions"]) - set(after[name]["regions"]))
        if gained or lost:
            lines.append(f"  {name}: regions added {', '.join(gained) or 'none'}; removed {', '.join(lost) or 'none'}")
    return lines


def _bundles() -> dict[str, bytes]:
    """The bundle bytes the installed botocore gives, from the generators themselves."""
    build_model, build_endpoints, build_extras = (import_module(n) for n in STEPS[:3])
    return {
        "model": build_model.build(),
        "endpoints": build_endpoints.build(),
        "paginators": build_extras.build_paginators(),
        "waiters": build_extras.build_waiters(),
    }


def _committed() -> dict[str, bytes | None]:
    build_model, build_endpoints, build_extras = (import_module(n) for n in STEPS[:3])
    paths = {
        "model": build_model.TARGET,
        "endpoints": build_endpoints.TARGET,
        "paginators": build_extras.PAGINATORS,
        "waiters": build_extras.WAITERS,
    }
    return {key: path.read_bytes() if path.exists() else None for key, path in paths.items()}


def _snapshot() -> dict[Path, bytes]:
    files: dict[Path, bytes] = {}
    for path in GENERATED:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            files[file] = file.read_bytes()
    return files


def _files_changed(before: Mapping[Path, bytes], after: Mapping[Path, bytes]) -> list[str]:
    changed = [p for p in after if before.get(p) != after[p]] + [p for p in before if p not in after]
    return [str(p.relative_to(ROOT)) for p in sorted(changed)]


# -- the command -----------------------------------------------------------------------------------------------


def _run_steps(check: bool) -> int:
    status = 0
    for name in STEPS:
        argv = ["--check"] if check else []
        captured = io.StringIO()
        # Each generator prints a line per file it writes; the summary below lists what really changed.
        with contextlib.redirect_stdout(captured):
            result = import_module(name).main(argv)
        if result:
            print(f"{name}: {'stale' if check else 'failed'}", file=sys.stderr)
        status |= result
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", nargs="?", help="the botocore version expected to be installed")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when anything is stale")
    args = parser.parse_args(argv)
    import botocore

    try:
        if args.version and args.version != botocore.__version__:
            raise Unfit(
                f"botocore {botocore.__version__} is installed, not {args.version}: "
                f"pip install botocore=={args.version} and the boto3 that requires it, then run this again"
            )
        text = PYPROJECT.read_text("utf-8")
        current = pins(text)
        if "botocore" not in current:
            raise Unfit("pyproject.toml has no botocore== pin to update")
        versions = installed_versions(current)
        check_consistent(versions)
    except Unfit as exc:
        print(f"update_model: {exc}", file=sys.stderr)
        return 2

    lines = report(_committed(), _bundles())
    moved = [f"{name} {current[name]} -> {versions[name]}" for name in current if current[name] != versions[name]]
    lines.append(f"pins: {', '.join(moved)}" if moved else f"pins: no change ({', '.join(sorted(current))})")
    if args.check:
        status = _run_steps(check=True) | (1 if moved else 0)
        print("\n".join(lines))
        print("stale: run python tools/update_model.py" if status else "committed data is current")
        return status
    before = _snapshot()
    status = _run_steps(check=False)
    if moved:
        PYPROJECT.write_text(rewrite_pins(text, versions), "utf-8")
    changed = _files_changed(before, _snapshot())
    print("\n".join(lines))
    print(f"files rewritten: {len(changed)}" + "".join(f"\n  {name}" for name in changed))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
