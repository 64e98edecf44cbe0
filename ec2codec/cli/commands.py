"""The commands over the codec and the client: ``encode``, ``decode``, ``sign``, ``call``, ``wait`` and ``ops``.

Each ``run_*`` takes the parsed arguments and returns the exit code; every
check (names, PARAMS, paging options, ``--query``, the endpoint) happens before
the first request. ``serve`` lives in :mod:`.app` and ``import-snapshot`` in
:mod:`.import_snapshot`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

from ..errors import ServiceError
from ._common import UsageError, configured_output, make_client, read_file, read_params
from .names import listing, operation_names, resolve_operation, resolve_waiter, waiter_names
from .output import Output, resolve_output

__all__ = [
    "report_dry_run",
    "run_call",
    "run_decode",
    "run_encode",
    "run_ops",
    "run_sign",
    "run_wait",
    "skeleton",
]

PAGING_OPTIONS = ("max_items", "page_size", "starting_token", "no_paginate")


def output_of(args: argparse.Namespace) -> Output:
    """The ``--output``/``--query`` printer, checked before anything is sent."""
    return resolve_output(args.output, args.query, lambda: configured_output(args))


def report_dry_run(exc: ServiceError) -> int:
    """A DryRunOperation answer is success (exit 0) for ``call`` and ``import-snapshot`` alike; others re-raise."""
    if not exc.is_dry_run_success:
        raise exc
    print("dry run: the request would have succeeded (DryRunOperation)", file=sys.stderr)
    return 0


def run_encode(args: argparse.Namespace) -> int:
    from ..protocol.codec import encode

    body = encode(resolve_operation(args.operation), read_params(args.params))
    # Exactly the bytes sent, as fixtures/requests/*.body holds them: no newline after.
    sys.stdout.write(body.decode("ascii"))
    return 0


def run_decode(args: argparse.Namespace) -> int:
    from ..protocol.codec import parse

    operation = resolve_operation(args.operation)
    output = output_of(args)
    output.emit(operation, parse(operation, read_file(args.file, "FILE")))
    return 0


def _amz_time(text: str) -> datetime:
    for layout in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise UsageError(f"--date must look like 20260101T000000Z or 2026-01-01T00:00:00Z, got {text!r}")


def run_sign(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from ..auth.sigv4 import sign
    from ..protocol.codec import request

    operation = resolve_operation(args.operation)
    encoded = request(operation, read_params(args.params))
    now = _amz_time(args.date) if args.date else None
    # Region, endpoint (profile settings included) and credentials exactly as
    # `call` resolves them: the client does it in one place; nothing is sent.
    with make_client(args) as client:
        endpoint, credentials = client.endpoint, client.credentials.get()
    url = encoded.url(endpoint.url)
    headers = sign(encoded.method, url, encoded.headers, encoded.body, credentials, endpoint.signing_region, now=now)
    # The layout of fixtures/signed (see tools/build_signed_fixtures.py): LF line
    # ends, headers sorted by lowercase name, the body exactly, no newline after
    # it; so `ec2codec sign ... > x.http` is directly comparable with a golden file.
    lines = [f"{encoded.method} {urlsplit(url).path or '/'} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in sorted(headers.items(), key=lambda h: (h[0].lower(), h[1]))]
    sys.stdout.write("\n".join(lines) + "\n\n" + encoded.body.decode("ascii"))
    return 0


def skeleton(operation: str) -> Any:
    """The input skeleton of ``operation``, as botocore's ``ArgumentGenerator`` builds it for the AWS CLI.

    Strings are "" (the AWS CLI picks a random enum value; the bundled model
    keeps no enums), numbers 0, booleans true, timestamps the epoch, lists one
    element, maps one ``KeyName``; a structure met again inside itself is {}.
    """
    from ..model.service import default_model

    service = default_model()
    stack: list[str] = []

    def generate(name: str) -> Any:
        shape = service.shape(name)
        stack.append(name)
        try:
            kind = shape.get("type")
            if kind == "structure":
                if stack.count(name) > 1:
                    return {}
                return {member: generate(ref["shape"]) for member, ref in shape.get("members", {}).items()}
            if kind == "list":
                return [generate(shape["member"]["shape"])]
            if kind == "map":
                return {"KeyName": generate(shape["value"]["shape"])}
            return _SCALARS.get(kind)
        finally:
            stack.pop()

    source = service.operation(operation).input
    return {} if source is None else generate(source)


_SCALARS: dict[Any, Any] = {
    "string": "",
    "integer": 0,
    "long": 0,
    "float": 0.0,
    "double": 0.0,
    "boolean": True,
    "timestamp": "1970-01-01T00:00:00",
}


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name, None) not in (None, False)}


def run_call(args: argparse.Namespace) -> int:
    from .paging import pages, paging_conflicts

    operation = resolve_operation(args.operation)
    paging = _given(args, PAGING_OPTIONS)
    if args.skeleton:
        extra = [f"--{n.replace('_', '-')}" for n in (*paging, "output", "query") if getattr(args, n, None)]
        if args.params is not None or extra:
            raise UsageError(f"--skeleton prints the input of {operation} and sends nothing: drop PARAMS and options")
        sys.stdout.write(json.dumps(skeleton(operation), indent=4) + "\n")
        return 0
    params = read_params(args.params)
    paged = paging_conflicts(operation, params, paging)
    output = output_of(args)
    with make_client(args) as client:
        try:
            if paged:
                walk = pages(
                    client.call,
                    operation,
                    params,
                    max_items=args.max_items,
                    page_size=args.page_size,
                    starting_token=args.starting_token,
                )
                output.emit_pages(operation, walk)
            else:
                output.emit(operation, client.call(operation, params))
        except ServiceError as exc:
            return report_dry_run(exc)
    return 0


def run_wait(args: argparse.Namespace) -> int:
    name = resolve_waiter(args.waiter)
    params = read_params(args.params)
    options: dict[str, Any] = {}
    if args.delay is not None:
        options["delay"] = args.delay
    if args.max_attempts is not None:
        options["max_attempts"] = args.max_attempts
    with make_client(args) as client:
        # As `aws ec2 wait`: nothing on stdout; the exit code says whether the state was reached.
        client.wait(name, params, **options)
    return 0


def run_ops(args: argparse.Namespace) -> int:
    names = waiter_names() if args.waiters else operation_names()
    for name in listing(names, args.api_names, args.contains):
        sys.stdout.write(name + "\n")
    return 0
