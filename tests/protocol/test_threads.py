"""First use from many threads at once: lazily compiled encoders and decoders are published only when complete.

The way users hit it: a fresh interpreter (a subprocess, so nothing is compiled
yet), many threads released together by a barrier, each making the first call
of many operations (deeply nested EC2 shapes, and a loaded model with
recursive structures, lists and maps). Each round uses fresh models: the
bundled one through the module-level functions first, then models from
``ec2codec.load_model``. Every call must succeed and give exactly what the same
call gives single-threaded. ``sys.setswitchinterval`` in the child makes the
threads switch every few bytecodes, so a half-compiled shape that is visible
to other threads is found on practically every run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import ec2codec
from ec2codec.model import service
from ec2codec.model.service import ServiceModel

THREADS = 32
ROUNDS = 3
# The deepest EC2 inputs and outputs (up to 14 levels), the import workflow, and a spread of the rest.
DEEP = (
    "CreateFleet",
    "DescribeFleets",
    "DescribeImportSnapshotTasks",
    "DescribeInstances",
    "DescribeLaunchTemplateVersions",
    "DescribeNetworkInsightsAnalyses",
    "DescribeSpotFleetRequests",
    "GetNetworkInsightsAccessScopeAnalysisFindings",
    "ImportSnapshot",
    "ModifySpotFleetRequest",
    "RequestSpotFleet",
    "RunInstances",
)
SPREAD = 25  # every 25th operation of the bundled model

# A loaded model whose shapes refer to themselves: directly (Node.Next), through
# a list (Node.Children), through a map (Node.Index) and mutually (Left <-> Right),
# with a flattened list and operations sharing the shapes. Its modeled errors
# are added by _add_faults.
TREE_MODEL: dict[str, Any] = {
    "metadata": {"apiVersion": "2020-01-01", "protocol": "ec2", "serviceId": "Tree"},
    "operations": {
        "GetTree": {"name": "GetTree", "input": {"shape": "GetTreeRequest"}, "output": {"shape": "TreeResult"}},
        "ListNodes": {"name": "ListNodes", "input": {"shape": "ListNodesRequest"}, "output": {"shape": "NodeList"}},
        "PutPair": {"name": "PutPair", "input": {"shape": "Left"}, "output": {"shape": "Right"}},
        "PutTree": {"name": "PutTree", "input": {"shape": "PutTreeRequest"}, "output": {"shape": "TreeResult"}},
    },
    "shapes": {
        "GetTreeRequest": {"type": "structure", "required": ["Depth"], "members": {"Depth": {"shape": "Count"}}},
        "ListNodesRequest": {
            "type": "structure",
            "members": {"Nodes": {"shape": "Nodes"}, "Index": {"shape": "NodeMap"}},
        },
        "PutTreeRequest": {"type": "structure", "members": {"Root": {"shape": "Node"}, "Label": {"shape": "Text"}}},
        "TreeResult": {
            "type": "structure",
            "members": {
                "Root": {"shape": "Node", "locationName": "root"},
                "Flat": {"shape": "Nodes", "locationName": "flat", "flattened": True},
            },
        },
        "NodeList": {"type": "structure", "members": {"Nodes": {"shape": "Nodes", "locationName": "nodes"}}},
        "Node": {
            "type": "structure",
            "members": {
                "Name": {"shape": "Text", "locationName": "name"},
                "Size": {"shape": "Count", "locationName": "size"},
                "Created": {"shape": "Stamp", "locationName": "created"},
                "Next": {"shape": "Node", "locationName": "next"},
                "Children": {"shape": "Nodes", "locationName": "children"},
                "Index": {"shape": "NodeMap", "locationName": "index"},
                "Pair": {"shape": "Left", "locationName": "pair"},
            },
        },
        "Nodes": {"type": "list", "member": {"shape": "Node", "locationName": "item"}},
        "NodeMap": {"type": "map", "key": {"shape": "Text"}, "value": {"shape": "Node"}},
        "Left": {
            "type": "structure",
            "members": {"Weight": {"shape": "Ratio"}, "Right": {"shape": "Right"}, "Ok": {"shape": "Flag"}},
        },
        "Right": {"type": "structure", "members": {"Data": {"shape": "Bytes"}, "Left": {"shape": "Left"}}},
        "Text": {"type": "string", "min": 1},
        "Count": {"type": "integer", "min": 0},
        "Ratio": {"type": "double"},
        "Flag": {"type": "boolean"},
        "Bytes": {"type": "blob"},
        "Stamp": {"type": "timestamp"},
    },
}
FAULTS = 6
PARTS = 20


def _add_faults(shapes: dict[str, Any]) -> list[bytes]:
    """Exception shapes ``Fault<k>`` (decoded from the first error document with that code), and such documents.

    Each has a recursive ``Frame<k>`` and PARTS shapes of its own, so compiling
    one takes long enough for other threads to ask for it meanwhile.
    """
    documents = []
    for k in range(FAULTS):
        frame = f"Frame{k}"
        shapes[f"Fault{k}"] = {
            "type": "structure",
            "members": {"Depth": {"shape": "Count"}, "Where": {"shape": frame}},
            "exception": True,
        }
        shapes[frame] = {
            "type": "structure",
            "members": {
                "Name": {"shape": "Text"},
                "Caller": {"shape": frame},
                "Locals": {"shape": f"{frame}List"},
                "Vars": {"shape": f"{frame}Map"},
                **{f"Part{j}": {"shape": f"{frame}Part{j}"} for j in range(PARTS)},
            },
        }
        shapes[f"{frame}List"] = {"type": "list", "member": {"shape": frame}}
        shapes[f"{frame}Map"] = {"type": "map", "key": {"shape": "Text"}, "value": {"shape": frame}}
        for j in range(PARTS):
            members = {f"M{i}": {"shape": f"{frame}Part{j + i}" if j + i < PARTS else "Stamp"} for i in (1, 2, 3)}
            shapes[f"{frame}Part{j}"] = {"type": "structure", "members": members}
        documents.append(
            f"<Response><Errors><Error><Code>Fault{k}</Code><Message>too deep</Message><Depth>7</Depth>"
            "<Where><Name>a</Name><Caller><Name>b</Name></Caller><Locals><member><Name>c</Name></member></Locals>"
            f"<Vars><entry><key>v</key><value><Name>d</Name></value></entry></Vars><Part{PARTS - 2}><M1><M1>"
            f"2024-05-01T12:00:00Z</M1></M1></Part{PARTS - 2}></Where></Error></Errors><RequestID>r</RequestID>"
            "</Response>".encode()
        )
    return documents


TREE_ERRORS = _add_faults(TREE_MODEL["shapes"])


def sample(model: ServiceModel, shape_name: str, path: tuple[str, ...] = ()) -> Any:
    """A valid value of ``shape_name``, always the same: every member, one list item, a shape twice per path at most."""
    shape = model.shape(shape_name)
    kind = shape.get("type")
    path += (shape_name,)
    if kind == "structure":
        out = {}
        for name, ref in shape.get("members", {}).items():
            if path.count(ref["shape"]) < 2 or name in shape.get("required", ()):
                out[name] = sample(model, ref["shape"], path)
            if shape.get("union"):
                break
        return out
    if kind == "list":
        item = shape["member"]["shape"]
        return [sample(model, item, path) for _ in range(max(1, shape.get("min", 0)))] if item not in path else []
    if kind == "map":
        return {} if shape["value"]["shape"] in path else {"k": sample(model, shape["value"]["shape"], path)}
    scalars: dict[str, Any] = {
        "string": f"{shape_name}-&é",
        "integer": 7,
        "long": 7,
        "float": 1.5,
        "double": 1.5,
        "boolean": True,
        "blob": b"\x00blob",
        "timestamp": datetime(2024, 5, 1, 12, 0, 30, tzinfo=timezone.utc),
    }
    value = scalars[str(kind)]
    if kind == "string":
        value = value.ljust(shape.get("min", 0), "x")
    elif kind in ("integer", "long"):
        value = max(value, shape.get("min", 0))
    return value


Call = tuple[str, str, Any]  # (what, operation, argument)


def workload(model: ServiceModel, operations: list[str], errors: list[bytes]) -> list[list[Call]]:
    """Phases of first calls, one per compiled thing, with the single-threaded arguments they need.

    The last phase parses each error document of ``errors`` as the answer to each operation.
    """
    codec = ec2codec.Model(model)
    encode, decode, respond, parse, error = [], [], [], [], []
    for op in operations:
        operation = model.operation(op)
        params = sample(model, operation.input) if operation.input else {}
        result = sample(model, operation.output) if operation.output else {}
        encode.append(("encode", op, params))
        decode.append(("decode_request", op, codec.encode(op, params)))
        respond.append(("encode_response", op, result))
        parse.append(("parse", op, codec.encode_response(op, result, "req-1")))
        error += [("parse", op, document) for document in errors]
    return [encode, decode, respond, parse, error]


def run(target: Any, call: Call) -> Any:
    """One call of ``target`` (an ``ec2codec.Model`` or the module); a ServiceError counts as an outcome."""
    what, op, argument = call
    try:
        if what == "decode_request":
            return target.decode_request(argument)
        if what == "encode_response":
            return target.encode_response(op, argument, "req-1")
        return getattr(target, what)(op, argument)
    except ec2codec.ServiceError as exc:
        return ("ServiceError", exc.code, exc.details)


def threaded(target: Any, phases: list[list[Call]], errors: list[tuple[str, str]]) -> list[list[list[Any]]]:
    """Every phase's calls from THREADS threads released together: per thread and phase, the outcomes."""
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes: list[list[list[Any]]] = [[[None] * len(calls) for calls in phases] for _ in range(THREADS)]

    def work(index: int) -> None:
        for calls, out in zip(phases, outcomes[index], strict=True):
            barrier.wait()
            # Half the threads go through the calls backwards, so first uses also meet mid-way.
            for i in range(len(calls)) if index % 2 == 0 else reversed(range(len(calls))):
                try:
                    out[i] = run(target, calls[i])
                except Exception as exc:
                    errors.append((f"{calls[i][0]}: {type(exc).__name__}", traceback.format_exc(limit=-4)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def child() -> None:
    """Runs in the fresh interpreter: prints a JSON report of the calls made, errors and wrong results."""
    sys.setswitchinterval(1e-6)  # switch threads every few bytecodes, so that races show on every run
    bundle = os.path.join(os.path.dirname(service.__file__), "_data", service.BUNDLE_NAME)
    reference = ec2codec.load_model(bundle)  # single-threaded, with caches of its own
    tree = ec2codec.load_model(TREE_MODEL)
    workloads = []
    for single, source, operations, documents in (
        (reference, bundle, sorted({*DEEP, *reference.operations()[::SPREAD]}), []),
        (tree, TREE_MODEL, sorted(TREE_MODEL["operations"]), TREE_ERRORS),
    ):
        phases = workload(single.service, operations, documents)
        workloads.append((phases, [[run(single, call) for call in calls] for calls in phases], source))

    errors: list[tuple[str, str]] = []
    wrong: list[str] = []
    calls = 0
    for round_ in range(ROUNDS):
        for phases, expected, source in workloads:
            # The first EC2 round goes through the module-level functions: the fresh process's bundled model.
            target = ec2codec if round_ == 0 and source is bundle else ec2codec.load_model(source)
            for outcome in threaded(target, phases, errors):
                for made, got, want in zip(phases, outcome, expected, strict=True):
                    calls += len(got)  # a call that raised left None: wrong as well
                    wrong += [f"{c[0]} {c[1]}" for c, a, b in zip(made, got, want, strict=True) if a != b]
    kinds = Counter(kind for kind, _ in errors)
    report = {"calls": calls, "errors": kinds, "wrong": len(wrong), "first": [t for _, t in errors[:2]] + wrong[:3]}
    print(json.dumps(report))


def test_first_use_from_many_threads_at_once() -> None:
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
    assert report["calls"] > ROUNDS * THREADS * 200, report
    assert (report["errors"], report["wrong"]) == ({}, 0), "\n".join([str(report["errors"]), *report["first"]])


# Inner refers to a shape the model lacks: compiling Op fails half-way through Inner, a recursive shape.
BROKEN_MODEL: dict[str, Any] = {
    "metadata": {"apiVersion": "2020-01-01", "protocol": "ec2"},
    "operations": {"Op": {"name": "Op", "input": {"shape": "Outer"}, "output": {"shape": "Outer"}}},
    "shapes": {
        "Outer": {"type": "structure", "members": {"Inner": {"shape": "Inner"}}},
        "Inner": {"type": "structure", "members": {"Again": {"shape": "Inner"}, "Gone": {"shape": "Missing"}}},
    },
}


@pytest.mark.parametrize(
    "call",
    [
        lambda model: model.encode("Op", {"Inner": {"Again": {}}}),
        lambda model: model.parse("Op", b"<OpResponse><Inner><Again/></Inner></OpResponse>"),
        lambda model: model.encode_response("Op", {"Inner": {"Again": {}}}, "req-1"),
    ],
    ids=["encode", "parse", "encode_response"],
)
def test_a_failed_compile_leaves_no_half_compiled_shape(call: Callable[[ec2codec.Model], Any]) -> None:
    # The shapes memoised before the failure are dropped with it: the next
    # attempt fails the same way instead of using a placeholder.
    model = ec2codec.load_model(BROKEN_MODEL)
    for _ in range(2):
        with pytest.raises(ec2codec.ModelError, match="undefined shape 'Missing'"):
            call(model)


if __name__ == "__main__":
    child()
