"""Regenerate ``fixtures/signed``: every request of ``fixtures/requests`` as botocore signs it.

For each ``fixtures/requests/<name>.params.json`` this writes two files:
``fixtures/signed/<name>.http`` signed with the long-term example key pair and
``<name>.token.http`` signed with the same pair plus a session token. botocore
is the reference: the body comes from botocore's EC2 serializer and the
headers from ``botocore.auth.SigV4Auth.add_auth`` at a frozen clock, never
from ec2codec.

Fixed inputs: 2026-01-01T00:00:00Z, region us-east-1, service ec2, endpoint
https://ec2.us-east-1.amazonaws.com/, access key AKIDEXAMPLE, secret
wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY (the AWS documentation's example
pair) and, for ``.token`` files, :data:`TOKEN`.

File format (UTF-8, ``\\n`` line ends, easy to diff):

- the request line ``POST / HTTP/1.1``;
- one ``Name: value`` line per header, sorted by lowercase name: the headers
  the serializer sets (Content-Type), ``Host``, and those the signer adds
  (X-Amz-Date, X-Amz-Security-Token, Authorization). Headers the HTTP layer
  adds after signing (Content-Length, User-Agent, ...) are not part of it;
- an empty line, then the body bytes exactly as sent (no trailing newline).

Usage: ``python tools/build_signed_fixtures.py [--check]``; with ``--check``
nothing is written and the exit status says whether every file is current
(a ``.http`` whose params file is gone counts as stale).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import cache, partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bundle import ROOT, write_or_check

REQUESTS = ROOT / "fixtures" / "requests"
FOLDER = ROOT / "fixtures" / "signed"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
ENDPOINT = "https://ec2.us-east-1.amazonaws.com/"
REGION = "us-east-1"
SERVICE = "ec2"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# The session token of the AWS SigV4 test suite's post-sts-token cases: '/', '+' and '=' included.
TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8"
    "YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE"
    "8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2"
    "ICCR/oLxBA=="
)
# File suffix -> the session token signed with (None: long-term credentials).
VARIANTS: dict[str, str | None] = {".http": None, ".token.http": TOKEN}


def operation_of(params_file: Path) -> str:
    """``ImportSnapshot-url.params.json`` -> ``ImportSnapshot`` (the rule of build_request_fixtures)."""
    return params_file.name.removesuffix(".params.json").split("-")[0]


def params_of(signed_file: Path) -> Path:
    """``fixtures/signed/ImportSnapshot-url.token.http`` -> its ``fixtures/requests`` params file."""
    stem = signed_file.name.removesuffix(".http").removesuffix(".token")
    return REQUESTS / f"{stem}.params.json"


def render(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """The documented ``.http`` text of one request (headers sorted by lowercase name, then value)."""
    lines = [f"{method} {target} HTTP/1.1", *(f"{n}: {v}" for n, v in sorted(headers, key=_header_order))]
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body


def _header_order(header: tuple[str, str]) -> tuple[str, str]:
    return header[0].lower(), header[1]


def botocore_signed(operation: str, params: dict[str, object], token: str | None) -> bytes:
    """The ``.http`` file of one request: serialized and signed by botocore at :data:`NOW`."""
    from unittest import mock
    from urllib.parse import urlsplit

    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.serialize import create_serializer

    model = _service_model().operation_model(operation)
    serialized = create_serializer(SERVICE, include_validation=True).serialize_to_request(params, model)
    url = ENDPOINT.rstrip("/") + serialized["url_path"]
    request = AWSRequest(method=serialized["method"], url=url, data=serialized["body"], headers=serialized["headers"])
    # botocore reads the clock through get_current_datetime (naive UTC).
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), SERVICE, REGION).add_auth(request)
    body = request.body
    sent = body.encode("ascii") if isinstance(body, str) else bytes(body or b"")
    headers = [*request.headers.items(), ("Host", botocore.auth._host_from_url(url))]
    return render(request.method, urlsplit(url).path or "/", headers, sent)


@cache
def _service_model() -> Any:
    # One botocore session for all files: loading the EC2 model dominates the run time.
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


def _targets() -> Iterator[tuple[Path, Path, str | None]]:
    for params_file in sorted(REQUESTS.glob("*.params.json")):
        stem = params_file.name.removesuffix(".params.json")
        for suffix, token in VARIANTS.items():
            yield FOLDER / f"{stem}{suffix}", params_file, token


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" not in argv:
        FOLDER.mkdir(exist_ok=True)
    failed = 0
    expected = set()
    for target, params_file, token in _targets():
        expected.add(target)
        params = json.loads(params_file.read_text("utf-8"))
        build = partial(botocore_signed, operation_of(params_file), params, token)
        failed |= write_or_check(target, build, __doc__.splitlines()[0], argv)
    for orphan in sorted(set(FOLDER.glob("*.http")) - expected):
        if "--check" in argv:
            print(f"{orphan.relative_to(ROOT)} has no params file in fixtures/requests", file=sys.stderr)
            failed = 1
        else:
            orphan.unlink()
            print(f"removed {orphan.relative_to(ROOT)}")
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
