"""botocore's EC2 protocol input suites, every case, including the three botocore skips.

botocore skips ``Ec2Lists``, ``Ec2TimestampsInput`` and
``Ec2QueryEndpointTraitWithHostLabel`` (it sends member names un-capitalised)
and the idempotency-token and request-compression suites; the Smithy
``ec2Query`` protocol says otherwise and ec2codec follows the protocol.
"""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import conformance_file, protocol_cases, suite_model

FIXED_TOKEN = "00000000-0000-4000-8000-000000000000"
SUITES = {
    "smithy": ("tests", "unit", "protocols", "input", "ec2.json"),
    "legacy": ("tests", "unit", "protocols", "legacy", "input", "ec2.json"),
}


def _special_floats(params: dict[str, Any]) -> dict[str, Any]:
    # JSON cannot spell NaN/Infinity, so the suite writes them as strings; a
    # caller passes real floats (a string for a float member is a ValidationError).
    special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    return {k: special.get(v, v) if isinstance(v, str) and k in ("FloatValue", "Boo") else v for k, v in params.items()}


@pytest.mark.parametrize(
    ("suite", "case"), protocol_cases("smithy", SUITES["smithy"]) + protocol_cases("legacy", SUITES["legacy"])
)
def test_input_case(suite: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    if suite is None or case is None:
        conformance_file(*SUITES["smithy"])  # skips, naming the path
        return
    model = suite_model(suite, case)
    op = case["given"]["name"]
    expected = case["serialized"]
    params = _special_floats(case["params"])
    req = model.request(op, params, token_factory=lambda: FIXED_TOKEN)

    assert req.method == expected.get("method", "POST")
    if "body" in expected:
        assert req.body.decode() == expected["body"]
        assert req.body == model.encode(op, params, token_factory=lambda: FIXED_TOKEN)
    for name, value in expected.get("headers", {}).items():
        if name == "Content-Type":
            # botocore and ec2codec add "; charset=utf-8"; the suite checks the media type.
            assert req.headers[name].split(";")[0] == value.split(";")[0]
        else:
            assert req.headers[name] == value
    if req.headers.get("Content-Encoding") == "gzip":
        assert gzip.decompress(req.body) == model.encode(op, params)

    if "host" in expected:
        host, _, path = expected["host"].partition("/")
        endpoint_host = host.removeprefix(req.host_prefix or "")
        endpoint = f"https://{endpoint_host}/{path}"
        url = urlsplit(req.url(endpoint))
        assert url.netloc == host
        assert url.path == expected.get("uri", "/") if not path else url.path == f"/{path}{req.path}"
    else:
        assert req.path == expected.get("uri", "/")


def test_every_smithy_case_is_present() -> None:
    path = conformance_file(*SUITES["smithy"])
    ids = [c["id"] for s in json.loads(path.read_text()) for c in s["cases"]]
    assert len(ids) == 29
    assert {"Ec2Lists", "Ec2TimestampsInput", "Ec2QueryEndpointTraitWithHostLabel"} <= set(ids)
