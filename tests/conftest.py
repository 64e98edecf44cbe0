"""Shared test configuration: hypothesis profiles and the location of the conformance data.

Profiles: ``ci`` (the default, a few examples per property, fast on 2 cores) and
``thorough`` (``HYPOTHESIS_PROFILE=thorough pytest``) for long local runs.
The botocore protocol and SigV4 suites are read from ``../shared/conformance``
next to the repository, or from ``$EC2CODEC_CONFORMANCE``; tests that need them
skip with the path they looked at when they are absent.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = Path(os.environ.get("EC2CODEC_CONFORMANCE", ROOT.parent / "shared" / "conformance"))

settings.register_profile(
    "ci",
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def conformance_file(*parts: str) -> Path:
    """A path inside the botocore conformance copy, or a skip naming where it was looked for."""
    path = CONFORMANCE.joinpath("botocore", *parts)
    if not path.exists():
        pytest.skip(f"conformance data not found at {path} (set EC2CODEC_CONFORMANCE)")
    return path


def protocol_cases(kind: str, parts: tuple[str, ...]) -> list[Any]:
    """``pytest.param(suite, case)`` for every case of a botocore protocol suite file.

    When the file is absent there is one ``(None, None)`` param, so the test
    body can call :func:`conformance_file` and skip naming the missing path.
    """
    path = CONFORMANCE.joinpath("botocore", *parts)
    if not path.exists():
        return [pytest.param(None, None, id=f"{kind}-suite-missing")]
    out = []
    for suite in json.loads(path.read_text()):
        for i, case in enumerate(suite["cases"]):
            name = case.get("id") or f"{suite['description']}[{i}]"
            out.append(pytest.param(suite, case, id=f"{kind}-{name}"))
    return out


def suite_model(suite: dict[str, Any], case: dict[str, Any]) -> Any:
    """An ``ec2codec.Model`` holding the suite's shapes and the case's operation."""
    import ec2codec

    given = case["given"]
    return ec2codec.load_model(
        {"metadata": suite["metadata"], "shapes": suite["shapes"], "operations": {given["name"]: given}}
    )


@functools.cache
def tool(name: str) -> ModuleType:
    """A script of ``tools/`` loaded as a module (the generators are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
