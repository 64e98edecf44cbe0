"""The fuzz targets in ``fuzz/`` stay runnable: each one-input function over its seeds and a few generated inputs.

The seeds are what ``fuzz/make_corpus.py`` writes (built in memory here); the
generated inputs are random bytes and mutated seeds from hypothesis. The
command line runs without atheris as a corpus replay, and a failing input
makes it exit non-zero. (``tests/test_parse_hostile.py`` drives the
response target with hypothesis at more length.)
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ec2codec.protocol._xmlsafety import MAX_HEAD

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("parse", "stream", "decode_request", "verify")


@functools.cache
def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "fuzz" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _target(name: str) -> ModuleType:
    return _load(f"fuzz_{name}")


@functools.cache
def _seeds(name: str) -> dict[str, bytes]:
    seeds: dict[str, bytes] = _load("make_corpus").seeds(name)
    return seeds


@pytest.mark.parametrize("name", TARGETS)
def test_each_target_accepts_its_seeds(name: str) -> None:
    target = _target(name)
    seeds = _seeds(name)
    assert len(seeds) >= 20
    for key, data in seeds.items():
        try:
            target.test_one_input(data)
        except AssertionError as exc:
            raise AssertionError(f"{name} seed {key}: {str(exc)[:2000]}") from None


def test_response_seeds_reach_the_large_paths() -> None:
    seeds = _seeds("parse")
    sizes = sorted(len(d) for d in seeds.values())
    assert sizes[-1] > 200_000 and sum(s > 64 * 1024 for s in sizes) >= 10
    parse = _target("parse")
    assert sizes[-1] <= parse.MAX_LEN
    outcomes = {key: parse.outcome(parse.operation_of(d), d, None) for key, d in seeds.items()}
    # The root start tag is put on both sides of the prescan's window.
    assert isinstance(outcomes["DescribeImportSnapshotTasks-head-in.xml"], dict)
    assert outcomes["DescribeImportSnapshotTasks-head-out.xml"] == ("ParseError",)
    assert seeds["DescribeImportSnapshotTasks-head-in.xml"].index(b"><requestId>") < MAX_HEAD
    for key, outcome in outcomes.items():  # every other seed is a document the decoder takes
        expected = "ParseError" if "head-out" in key else "ServiceError"
        assert isinstance(outcome, dict) or outcome[0] == expected, (key, outcome)


def test_signed_seeds_verify() -> None:
    # A corpus of refusals would leave every check after the first unexplored.
    verify = _target("verify")
    assert all(verify.verdict(data) is not None for data in _seeds("verify").values())


def test_stream_inputs_round_trip() -> None:
    stream = _target("stream")
    body = b"<ImportSnapshotResponse/>" * 3
    data = stream.encode_input(body, [1, 5, 25, 74], limits=True, form=2)
    got, cuts, limits, form = stream.decode_input(data)
    assert (got, cuts, limits, form) == (body, [1, 5, 25, 74], stream.fuzz_parse.TIGHT, 2)
    assert stream.decode_input(stream.encode_input(body, [30], bytewise=True))[1] == [*range(1, 31)]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("parse", b'<ImportSnapshotResponse xmlns="a<b"><requestId>r</requestId></ImportSnapshotResponse>'),
        ("parse", b'<ImportSnapshotResponse a="' + b"x" * MAX_HEAD + b'"></ImportSnapshotResponse>'),
        ("stream", b"\x01\x00\x00\x01" + b'<ImportSnapshotResponse a="' + b"x" * MAX_HEAD + b'"/>'),
        ("stream", b"\x20" + b'<ImportSnapshotResponse xmlns="&nope;"/>'),
        ("decode_request", b"Action=CancelImportTask&Version=2016-11-15&ImportTaskId=x"),
        ("decode_request", b"Action=CancelImportTask&Version=2016-11-15&ImportTaskId=x&ImportTaskId=y"),
        ("decode_request", b"Action=DescribeSpotPriceHistory&Version=2016-11-15&EndTime=0027-11-27T22%3A00%3A00Z"),
        ("verify", b"GET /?X-Amz-Signature=0 HTTP/1.1\nHost: [::1\n\n"),
        ("verify", b"POST / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 x\r\n\r\nbody"),
    ],
)
def test_each_target_on_chosen_inputs(name: str, data: bytes) -> None:
    _target(name).test_one_input(data)


@pytest.mark.parametrize("name", TARGETS)
@given(data=st.data())
def test_each_target_on_generated_inputs(name: str, data: st.DataObject) -> None:
    seeds = _seeds(name)
    small = sorted((d for d in seeds.values() if len(d) < 20_000), key=len)
    doc = bytearray(data.draw(st.sampled_from(small)))
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(doc)))
        doc[at : at + data.draw(st.integers(0, 3))] = data.draw(st.binary(max_size=4))
    _target(name).test_one_input(bytes(doc) if data.draw(st.booleans()) else data.draw(st.binary(max_size=200)))


def test_targets_catch_what_they_are_for() -> None:
    # Each property must be able to fail: a parser that lets an ill-formed document through, or
    # disagrees with itself, is reported.
    parse = _target("parse")
    with pytest.raises(AssertionError, match="ill-formed"):
        parse.check("ImportSnapshot", b"<ImportSnapshotResponse><a></ImportSnapshotResponse>", {})
    parse.check("ImportSnapshot", b"<ImportSnapshotResponse><a></ImportSnapshotResponse>", ("ParseError",))
    assert not parse.same({"a": 1}, ("ParseError",))
    assert parse.same({"a": float("nan")}, {"a": float("nan")})
    same = _target("decode_request").same
    assert not same({"A": [1.0]}, {"A": [1]}) and same({"F": float("nan")}, {"F": float("nan")})


def test_the_command_line_replays_a_corpus(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    (good / "a").write_bytes(b"Action=CancelImportTask&Version=2016-11-15&ImportTaskId=x")
    (good / "b").write_bytes(b"\xff")
    script = str(ROOT / "fuzz" / "fuzz_decode_request.py")
    ok = subprocess.run(
        [sys.executable, script, "--no-atheris", str(good)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0 and "2 inputs, 0 failed" in ok.stderr, ok.stderr
    # A target whose property fails on an input: the replay names it and exits 1.
    (bad / "crash-1").write_bytes(b"\x00" + b"<" * 3)
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'fuzz')!r})\n"
        "import _harness\n"
        "def one(data):\n    assert not data.startswith(b'\\x00'), 'finding'\n"
        "_harness.main(one, max_len=10)\n"
    )
    failed = subprocess.run(
        [sys.executable, str(probe), "--no-atheris", str(bad)], capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1 and "FAILED" in failed.stderr and "crash-1" in failed.stderr, failed.stderr
