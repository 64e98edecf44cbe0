"""First use of awsQuery models from many threads at once, as ``test_threads.py`` does for ec2.

The awsQuery compilers add memo tables of their own (emitters of lists and
maps flattened by a member reference, the ``<{Op}Result>`` root plans, the
response frames); they too must be built under the model's compile lock and
published only when complete. The workload is the bundled STS model (every
operation), ``test_threads``' recursive model switched to the ``query``
protocol (with a member-flattened list in a request as well) and its deep EC2
operations under awsQuery rules, from a fresh interpreter with threads
switching every few bytecodes.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import ec2codec
from ec2codec.model import service
from tests.protocol.test_threads import DEEP, ROUNDS, THREADS, TREE_ERRORS, TREE_MODEL, run, threaded, workload

QUERY_TREE: dict[str, Any] = copy.deepcopy(TREE_MODEL)
QUERY_TREE["metadata"]["protocol"] = "query"
QUERY_TREE["shapes"]["ListNodesRequest"]["members"]["Flat"] = {"shape": "Nodes", "flattened": True}


def _load(source: Any) -> ec2codec.Model:
    model = ec2codec.load_model(source)
    if source == EC2:
        # EC2's deep shapes under awsQuery rules, for long first compiles (the
        # protocol is read at compile time, so switching before any use is enough).
        model.service.metadata["protocol"] = "query"
    return model


DATA = os.path.join(os.path.dirname(service.__file__), "_data")
STS, EC2 = os.path.join(DATA, service.bundle_name("sts")), os.path.join(DATA, service.BUNDLE_NAME)


def child() -> None:
    """Runs in the fresh interpreter: prints a JSON report of the calls made, errors and wrong results."""
    sys.setswitchinterval(1e-6)
    workloads = []
    for source, documents, operations in ((STS, [], None), (QUERY_TREE, TREE_ERRORS, None), (EC2, [], sorted(DEEP))):
        single = _load(source)
        phases = workload(single.service, operations or single.operations(), documents)
        workloads.append((phases, [[run(single, call) for call in calls] for calls in phases], source))
    errors: list[tuple[str, str]] = []
    wrong: list[str] = []
    calls = 0
    for _ in range(ROUNDS):
        for phases, expected, source in workloads:
            target = _load(source)
            assert target.service.protocol == "query"
            for outcome in threaded(target, phases, errors):
                for made, got, want in zip(phases, outcome, expected, strict=True):
                    calls += len(got)
                    wrong += [f"{c[0]} {c[1]}" for c, a, b in zip(made, got, want, strict=True) if a != b]
    report = {"calls": calls, "errors": Counter(k for k, _ in errors), "wrong": len(wrong)}
    print(json.dumps({**report, "first": [t for _, t in errors[:2]] + wrong[:3]}))


def test_first_use_of_awsquery_models_from_many_threads() -> None:
    package_root = str(Path(ec2codec.__file__).resolve().parents[1])
    path = [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
    done = subprocess.run(
        [sys.executable, __file__],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["calls"] > ROUNDS * THREADS * 100, report
    assert (report["errors"], report["wrong"]) == ({}, 0), "\n".join([str(report["errors"]), *report["first"]])


if __name__ == "__main__":
    child()
