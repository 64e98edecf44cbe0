"""atheris fuzz target for ``ec2codec.verify``: the input is an HTTP request in the ``fixtures/signed`` format.

Layout: a request line (``METHOD TARGET HTTP/1.1``), ``Name: value`` header
lines, an empty line, then the body; ``\\n`` or ``\\r\\n`` line ends; the head
is read as UTF-8, or as Latin-1 (what Python's HTTP servers do) when it is
not valid UTF-8. The target is the path and query (with the Host header) or
an absolute URL. The request is checked against one fixed key pair, the
SigV4 example key of ``tools/build_signed_fixtures.py`` (with its session
token when the request carries one), at that tool's fixed time.

Every input must give a :class:`ec2codec.Verified` for that key or raise
``SignatureError`` (``ValidationError`` for a request that is not one, such as
a garbled request line); nothing else. The golden signed requests verify, so
they make a seed corpus that reaches every check (``fuzz/make_corpus.py``
copies them to ``fuzz/corpus/verify``); then::

    python3 fuzz/fuzz_verify.py fuzz/corpus/verify -timeout=10

The default ``-max_len`` is :data:`MAX_LEN`.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import _harness  # noqa: E402

import ec2codec  # noqa: E402

MAX_LEN = 16 * 1024
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# The session token of the ``.token.http`` golden files (AWS SigV4 test suite, post-sts-token).
TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8"
    "YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE"
    "8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2"
    "ICCR/oLxBA=="
)


def split_request(data: bytes) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """Method, target, header pairs and body of one input (never fails: odd inputs give odd parts)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    first, *lines = text.replace("\r\n", "\n").split("\n")
    method, _, rest = first.partition(" ")
    target = rest.rpartition(" ")[0] if rest.endswith(" HTTP/1.1") else rest
    headers = []
    for line in lines:
        name, _, value = line.partition(":")
        headers.append((name, value.strip(" \t")))
    return method, target, headers, body


def verdict(data: bytes) -> ec2codec.Verified | None:
    """What ``verify`` proves about one input, or None when it refuses it."""
    method, target, headers, body = split_request(data)
    token = any(n.lower() == "x-amz-security-token" for n, _ in headers) or "X-Amz-Security-Token=" in target
    secret = ec2codec.Credentials(ACCESS_KEY, SECRET_KEY, TOKEN) if token else SECRET_KEY
    try:
        return ec2codec.verify(method, target, headers, body, {ACCESS_KEY: secret}.get, NOW)
    except (ec2codec.SignatureError, ec2codec.ValidationError):
        return None


def test_one_input(data: bytes) -> None:
    """The fuzz property; anything raised here other than AssertionError is a finding too."""
    verified = verdict(data)
    assert verified is None or (verified.access_key == ACCESS_KEY and verified.date == NOW), verified


def warm_up() -> list[bytes]:
    """Inputs that load every module the target reaches (see _harness)."""
    return [b"", b"GET / HTTP/1.1\nHost: h\n\n", *(p.read_bytes() for p in sorted(seeds()))]


def seeds() -> list[Path]:
    """The golden signed requests."""
    return sorted((HERE.parent / "fixtures" / "signed").glob("*.http"))


if __name__ == "__main__":
    _harness.main(test_one_input, max_len=MAX_LEN, warm_up=warm_up())
