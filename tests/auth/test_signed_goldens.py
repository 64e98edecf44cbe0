"""The signed-request golden files in ``fixtures/signed``: ec2codec produces each byte for byte, verify() accepts each.

The files are botocore's (``tools/build_signed_fixtures.py`` serializes and
signs every ``fixtures/requests`` params file with botocore at a fixed time);
here ``ec2codec.request`` + ``ec2codec.sign`` with the same time, region and
credentials must give the same request line, headers and body.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.auth.verification import SignatureError, verify
from tests.conftest import tool
from tests.goldens import walk

GEN = tool("build_signed_fixtures")
FILES = list(walk("signed", ".http"))


class _Request:
    def __init__(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.method, self.target, self.headers, self.body = method, target, headers, body


def _parse(data: bytes) -> _Request:
    """A ``.http`` file back into its parts (the format is described in the tool's docstring)."""
    head, sep, body = data.partition(b"\n\n")
    assert sep, "no blank line between the headers and the body"
    first, *lines = head.decode("utf-8").split("\n")
    method, target, version = first.split(" ")
    assert version == "HTTP/1.1"
    headers = []
    for line in lines:
        name, colon, value = line.partition(": ")
        assert colon and name and name == name.strip(), line
        headers.append((name, value))
    return _Request(method, target, headers, body)


def _credentials(path: Path) -> Credentials:
    token = GEN.TOKEN if path.name.endswith(".token.http") else None
    return Credentials(GEN.ACCESS_KEY, GEN.SECRET_KEY, token)


def _ours(path: Path) -> tuple[ec2codec.EncodedRequest, str, dict[str, str]]:
    params_file = GEN.params_of(path)
    request = ec2codec.request(GEN.operation_of(params_file), json.loads(params_file.read_text("utf-8")))
    url = request.url(GEN.ENDPOINT)
    headers = ec2codec.sign(
        request.method, url, request.headers, request.body, _credentials(path), GEN.REGION, now=GEN.NOW
    )
    return request, url, headers


def test_every_params_file_has_both_signed_variants() -> None:
    stems = {p.name.removesuffix(".params.json") for p in walk("requests", ".params.json")}
    assert {p.name for p in FILES} == {f"{s}{suffix}" for s in stems for suffix in GEN.VARIANTS}
    # The operations the golden set promises to cover.
    covered = {GEN.operation_of(GEN.params_of(p)) for p in FILES}
    assert covered >= {"ImportSnapshot", "DescribeImportSnapshotTasks", "CancelImportTask", "CreateVolume"}
    assert covered >= {"CreateSnapshot", "DescribeRegions", "DescribeSnapshots", "RunInstances", "DescribeInstances"}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_ec2codec_signs_each_golden_byte_for_byte(path: Path) -> None:
    golden = path.read_bytes()
    request, url, headers = _ours(path)
    assert url == GEN.ENDPOINT
    assert GEN.render(request.method, request.path, list(headers.items()), request.body) == golden
    # The same comparison on the parsed parts, for a readable failure.
    parsed = _parse(golden)
    assert (parsed.method, parsed.target) == (request.method, request.path)
    assert sorted(parsed.headers) == sorted(headers.items())
    assert parsed.body == request.body


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_golden_body_is_the_request_fixture_body(path: Path) -> None:
    body_file = GEN.params_of(path).with_name(GEN.params_of(path).name.removesuffix(".params.json") + ".body")
    assert _parse(path.read_bytes()).body == body_file.read_bytes()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_verify_accepts_each_golden(path: Path) -> None:
    parsed = _parse(path.read_bytes())
    creds = _credentials(path)
    verified = verify(
        parsed.method,
        parsed.target,  # as a server sees it: the path, with the Host header
        parsed.headers,
        parsed.body,
        {creds.access_key: creds}.get,
        GEN.NOW,
        service="ec2",
        region=GEN.REGION,
    )
    assert verified.access_key == "AKIDEXAMPLE"
    assert verified.date == GEN.NOW
    assert verified.token == creds.token
    assert not verified.presigned
    assert "host" in verified.signed_headers


@pytest.mark.parametrize("path", FILES[:2], ids=[p.name for p in FILES[:2]])
def test_verify_refuses_a_golden_with_one_byte_of_body_changed(path: Path) -> None:
    parsed = _parse(path.read_bytes())
    creds = _credentials(path)
    with pytest.raises(SignatureError) as caught:
        verify(parsed.method, parsed.target, parsed.headers, parsed.body + b"&", {creds.access_key: creds}.get, GEN.NOW)
    assert caught.value.reason == "mismatch"


def test_render_sorts_headers_by_lowercase_name() -> None:
    text = GEN.render("POST", "/", [("b", "2"), ("Authorization", "x"), ("A", "1")], b"body")
    assert text == b"POST / HTTP/1.1\nA: 1\nAuthorization: x\nb: 2\n\nbody"


def test_signed_fixtures_are_current() -> None:
    assert GEN.main(["--check"]) == 0, "run python tools/build_signed_fixtures.py"
