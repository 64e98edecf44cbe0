"""The ``ec2codec`` command line: thin argument handling over the public API.

Commands: ``encode`` and ``decode`` (pure codec, no credentials), ``sign``
(prints the signed HTTP request), ``call`` (sends any operation), ``serve``
(the local EC2 import endpoint) and ``import-snapshot`` (the flagship
workflow, in :mod:`.import_snapshot`). Results are JSON on stdout, timestamps in
ISO 8601 and blobs in base64, as the AWS CLI prints them.

Exit codes: 0 success; 1 the request was understood but rejected or failed
(``ValidationError``, ``ParseError``, ``ServiceError``, a transport failure, a
failed import); 2 the command itself or its configuration is wrong (unknown
option or operation, unreadable file, malformed JSON, no credentials or
region). Errors are one line on stderr; ``--debug`` logs the wire traffic,
secrets redacted, to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..errors import Error, ModelError, ServiceError, ValidationError
from ..server._importtasks import DEFAULT_MAX_TASKS
from ._common import UsageError, make_client, positive, print_json, read_file, read_params

if TYPE_CHECKING:
    pass


def _checked_operation(name: str) -> str:
    from ..model.service import default_model  # the bundled model, or the one EC2CODEC_MODEL names

    if not default_model().has_operation(name):
        raise UsageError(f"unknown operation {name!r} (operation names are CamelCase, e.g. ImportSnapshot)")
    return name


def _cmd_encode(args: argparse.Namespace) -> int:
    from ..protocol.codec import encode

    body = encode(_checked_operation(args.operation), read_params(args.params))
    sys.stdout.write(body.decode("ascii") + "\n")
    return 0


def _cmd_decode(args: argparse.Namespace) -> int:
    from ..protocol.codec import parse

    operation = _checked_operation(args.operation)
    print_json(parse(operation, read_file(args.file, "FILE")))
    return 0


def _amz_time(text: str) -> datetime:
    for layout in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise UsageError(f"--date must look like 20260101T000000Z or 2026-01-01T00:00:00Z, got {text!r}")


def _cmd_sign(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from ..auth.sigv4 import sign
    from ..protocol.codec import request

    operation = _checked_operation(args.operation)
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


def _cmd_call(args: argparse.Namespace) -> int:
    operation = _checked_operation(args.operation)
    params = read_params(args.params)
    with make_client(args) as client:
        print_json(client.call(operation, params))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from ..server.httpd import DEFAULT_CREDENTIALS, DEFAULT_REQUEST_TIMEOUT, serve

    def ready(url: str) -> None:
        print(
            f"local EC2 endpoint listening on {url} (Ctrl-C stops it)\n"
            f"  AWS_ACCESS_KEY_ID={DEFAULT_CREDENTIALS.access_key}\n"
            f"  AWS_SECRET_ACCESS_KEY={DEFAULT_CREDENTIALS.secret_key}\n"
            f"  any region; e.g. ec2codec call DescribeImportSnapshotTasks --endpoint-url {url} --region us-east-1",
            file=sys.stderr,
            flush=True,
        )

    try:
        timeout = DEFAULT_REQUEST_TIMEOUT if args.request_timeout is None else args.request_timeout
        serve(
            args.host,
            args.port,
            time_scale=args.time_scale,
            ready=ready,
            request_timeout=timeout,
            max_tasks=args.max_tasks,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    except ValidationError as exc:  # an option out of range, e.g. --request-timeout beyond a day
        raise UsageError("; ".join(f"--{key.replace('_', '-')}: {problem}" for key, problem in exc.problems)) from None
    return 0


def _at_least_one(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text}")
    return int(text)


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile)")
    group.add_argument("--profile", help="shared config/credentials profile (default: AWS_PROFILE or 'default')")
    group.add_argument("--endpoint-url", help="send requests here instead of the region's EC2 endpoint")


def _build_parser() -> argparse.ArgumentParser:
    from .import_snapshot import add_import_snapshot

    parser = argparse.ArgumentParser(prog="ec2codec", description="Encode, sign, send and decode Amazon EC2 API calls.")
    parser.add_argument("--debug", action="store_true", help="log the wire request and response (secrets redacted)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return sub

    params_help = "parameters as JSON text, @file or - for stdin (default: none)"
    enc = command("encode", "print the form-encoded request body of an operation")
    enc.add_argument("operation", help="EC2 operation name, e.g. ImportSnapshot")
    enc.add_argument("params", nargs="?", help=params_help)
    enc.set_defaults(run=_cmd_encode)

    dec = command("decode", "decode an EC2 XML response into JSON")
    dec.add_argument("operation", help="the operation the response answers")
    dec.add_argument("file", help="the response document, or - for stdin")
    dec.set_defaults(run=_cmd_decode)

    sig = command("sign", "print the SigV4-signed HTTP request of an operation (sends nothing)")
    sig.add_argument("operation", help="EC2 operation name")
    sig.add_argument("params", nargs="?", help=params_help)
    sig.add_argument("--date", help="sign as of this UTC time, e.g. 20260101T000000Z (default: now)")
    _add_connection_options(sig)
    sig.set_defaults(run=_cmd_sign)

    cal = command("call", "send an operation to EC2 and print the decoded result")
    cal.add_argument("operation", help="EC2 operation name")
    cal.add_argument("params", nargs="?", help=params_help)
    _add_connection_options(cal)
    cal.set_defaults(run=_cmd_call)

    srv = command("serve", "run the local EC2 import endpoint (ImportSnapshot and its family) until Ctrl-C")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    srv.add_argument("--port", type=int, default=0, help="port (default: any free port, printed at start)")
    srv.add_argument("--time-scale", type=float, default=30.0, help="seconds an import takes from pending to completed")
    # The timeout's default lives in ec2codec.server, which this module does not import until `serve` runs.
    srv.add_argument(
        "--request-timeout",
        type=positive,
        help="seconds for a request's line, headers and body to arrive, else 408 RequestTimeout (default: 30)",
    )
    srv.add_argument(
        "--max-tasks",
        type=_at_least_one,
        default=DEFAULT_MAX_TASKS,
        help=f"import tasks kept; ImportSnapshot beyond is ResourceLimitExceeded (default: {DEFAULT_MAX_TASKS})",
    )
    srv.set_defaults(run=_cmd_serve)

    imp = command("import-snapshot", "import a VHD, VMDK or RAW disk image from S3 as an EBS snapshot")
    add_import_snapshot(imp)
    _add_connection_options(imp)
    return parser


def _describe(exc: Error) -> str:
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{path}: {msg}" if path else msg for path, msg in exc.problems)
        return f"invalid parameters for {exc.operation}: {problems}"
    if isinstance(exc, ServiceError):
        request_id = f" (request id {exc.request_id})" if exc.request_id else ""
        return f"EC2 error {exc.code}: {' '.join(exc.message.split())}{request_id}"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _is_configuration(exc: Error) -> bool:
    from ..auth.credentials.chain import CredentialsError
    from ..client.endpoints import EndpointError

    return isinstance(exc, (ModelError, CredentialsError, EndpointError))


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    logger = logging.getLogger("ec2codec")
    handler = logging.StreamHandler(sys.stderr)
    saved = logger.level, logger.propagate
    if getattr(args, "debug", False):
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # one copy on stderr, whatever the root logger does
    try:
        code: int = args.run(args)
    except UsageError as exc:
        print(f"ec2codec: error: {exc}", file=sys.stderr)
        return 2
    except Error as exc:
        print(f"ec2codec: {_describe(exc)}", file=sys.stderr)
        return 2 if _is_configuration(exc) else 1
    except KeyboardInterrupt:
        print("ec2codec: interrupted", file=sys.stderr)
        return 130
    finally:
        # main() may run many times in one process (tests, embedding): leave logging as found.
        logger.removeHandler(handler)
        logger.level, logger.propagate = saved
    return code
