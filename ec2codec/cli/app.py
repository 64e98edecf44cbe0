"""The ``ec2codec`` command line: the parser, the global options, dispatch, and one-line errors with exit codes.

Commands: ``encode`` and ``decode`` (pure codec, no credentials), ``sign``
(prints the signed HTTP request), ``call`` (sends any operation, pages like
the AWS CLI), ``wait`` (the bundled waiters), ``ops`` (lists names), ``serve``
(the local EC2 import endpoint) and ``import-snapshot`` (the flagship
workflow). The command modules are :mod:`.commands` and :mod:`.import_snapshot`;
output formats are :mod:`.output`, error messages :mod:`._messages`.

Global options (``--debug``, ``--region``, ``--output``, ...) go before or after
the command, as with ``aws``; one that does nothing for the command is refused
rather than ignored.

Exit codes: 0 success (a DryRun that would have succeeded included); 1 the
request was made or understood but rejected or failed (``ValidationError``,
``ParseError``, ``ServiceError``, a transport failure, a failed wait or
import); 2 the command itself or its configuration is wrong (unknown option,
operation or waiter, unreadable file, malformed JSON, bad endpoint, no
credentials or region); 130 interrupted. Errors are one line on stderr, never
a traceback (``--debug`` adds the traceback of an unexpected one, and logs the
wire traffic with secrets redacted).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from ..errors import Error, ValidationError
from ..server._importtasks import DEFAULT_MAX_TASKS
from ._common import UsageError, not_negative, port, positive, positive_int
from ._messages import describe, is_configuration

# The global options, by group: (flags, dest, argparse keywords).
_GROUPS: dict[str, list[tuple[str, dict[str, object]]]] = {
    "connection": [
        ("--region", {"help": "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile)"}),
        ("--profile", {"help": "shared config/credentials profile (default: AWS_PROFILE or 'default')"}),
        ("--endpoint-url", {"help": "send requests here instead of the region's EC2 endpoint"}),
    ],
    "transport": [
        ("--no-verify-ssl", {"action": "store_true", "help": "do not check the endpoint's TLS certificate"}),
        ("--ca-bundle", {"help": "check TLS certificates against this CA bundle (default: AWS_CA_BUNDLE)"}),
        (
            "--cli-connect-timeout",
            {
                "type": not_negative,
                "metavar": "SECONDS",
                "help": "connection timeout, 0 for none, i.e. a day (default: 60)",
            },
        ),
        (
            "--cli-read-timeout",
            {
                "type": not_negative,
                "metavar": "SECONDS",
                "help": "socket read timeout, 0 for none, i.e. a day (default: 60)",
            },
        ),
    ],
    "output": [
        (
            "--output",
            {
                "choices": ("json", "text", "table"),
                "help": "json, text or table, as the AWS CLI (default: AWS_DEFAULT_OUTPUT, the profile's, json)",
            },
        ),
        ("--query", {"metavar": "JMESPATH", "help": "print only what this JMESPath expression selects"}),
    ],
}
_DEFAULTS = {"no_verify_ssl": False, "debug": False}
_PARAMS_HELP = "parameters as JSON text, @file or - for stdin (default: none)"


class _Parser(argparse.ArgumentParser):
    """argparse, with errors raised as one-line UsageErrors instead of usage text and exit.

    A command's parser takes options and positionals in any order
    (``call describe-instances --region r '{...}'``): plain argparse binds all
    positionals at their first run and refuses PARAMS after an option.
    """

    intermixed = False
    _mixing = False

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if not self.intermixed or self._mixing:
            return super().parse_known_args(args, namespace)
        self._mixing = True  # parse_known_intermixed_args calls back here twice
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._mixing = False


def _add_globals(parser: argparse.ArgumentParser, groups: Sequence[str]) -> None:
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="log the wire traffic (secrets redacted)"
    )
    for group, options in _GROUPS.items():
        # Every command parses every global option, so that one that does not apply is
        # refused by name (see _parse) wherever it stands; help lists only those that apply.
        section = parser.add_argument_group(group) if group in groups else parser
        for flag, keywords in options:
            shown = keywords if group in groups else {**keywords, "help": argparse.SUPPRESS}
            section.add_argument(flag, default=argparse.SUPPRESS, **shown)  # type: ignore[arg-type]


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
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    except ValidationError as exc:  # an option out of range, e.g. --request-timeout beyond a day
        raise UsageError("; ".join(f"--{key.replace('_', '-')}: {problem}" for key, problem in exc.problems)) from None
    return 0


def _at_least_one(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text}")
    return int(text)


def _build_parser() -> argparse.ArgumentParser:
    from . import commands
    from .import_snapshot import add_import_snapshot
    from .import_snapshot import run as run_import_snapshot

    parser = _Parser(
        prog="ec2codec", description="Encode, sign, send and decode Amazon EC2 API calls.", allow_abbrev=False
    )
    parser.add_argument("--version", action="version", version=_version())
    _add_globals(parser, list(_GROUPS))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, groups: Sequence[str], run: object) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        cmd.intermixed = True
        _add_globals(cmd, groups)
        cmd.set_defaults(run=run, groups=tuple(groups))
        return cmd

    enc = command("encode", "print the form-encoded request body of an operation", (), commands.run_encode)
    enc.add_argument("operation", help="operation, e.g. import-snapshot or ImportSnapshot")
    enc.add_argument("params", nargs="?", help=_PARAMS_HELP)

    dec = command("decode", "decode an EC2 XML response and print it", ("output",), commands.run_decode)
    dec.add_argument("operation", help="the operation the response answers")
    dec.add_argument("file", help="the response document, or - for stdin")

    sig = command(
        "sign",
        "print the SigV4-signed HTTP request of an operation (sends nothing)",
        ("connection",),
        commands.run_sign,
    )
    sig.add_argument("operation", help="operation, e.g. describe-regions")
    sig.add_argument("params", nargs="?", help=_PARAMS_HELP)
    sig.add_argument("--date", help="sign as of this UTC time, e.g. 20260101T000000Z (default: now)")

    cal = command(
        "call",
        "send an operation to EC2 and print the result, every page of it",
        ("connection", "transport", "output"),
        commands.run_call,
    )
    cal.add_argument("operation", help="operation, e.g. describe-instances or DescribeInstances")
    cal.add_argument("params", nargs="?", help=_PARAMS_HELP)
    cal.add_argument("--skeleton", "--generate-cli-skeleton", action="store_true", help="print the PARAMS skeleton")
    paging = cal.add_argument_group("pagination (operations with a paginator)")
    paging.add_argument("--max-items", type=positive_int, metavar="N", help="print at most N items, then a NextToken")
    paging.add_argument("--page-size", type=positive_int, metavar="N", help="ask for N items per request")
    paging.add_argument("--starting-token", metavar="TOKEN", help="resume from the NextToken a --max-items run printed")
    paging.add_argument("--no-paginate", action="store_true", help="send one request and print its page as is")

    wai = command(
        "wait",
        "poll until a bundled waiter's state is reached (e.g. instance-running); prints nothing",
        ("connection", "transport"),
        commands.run_wait,
    )
    wai.add_argument("waiter", help="waiter, e.g. instance-running or InstanceRunning (ec2codec ops --waiters)")
    wai.add_argument("params", nargs="?", help=_PARAMS_HELP)
    wai.add_argument("--delay", type=positive, metavar="SECONDS", help="seconds between polls (default: the waiter's)")
    wai.add_argument("--max-attempts", type=positive_int, metavar="N", help="polls at most (default: the waiter's)")

    ops = command("ops", "list the operations (or waiters) by their command-line names", (), commands.run_ops)
    ops.add_argument("contains", nargs="?", help="only names containing this text")
    ops.add_argument("--waiters", action="store_true", help="list the waiters instead")
    ops.add_argument("--api-names", action="store_true", help="CamelCase API names instead of kebab-case")

    srv = command(
        "serve", "run the local EC2 import endpoint (ImportSnapshot and its family) until Ctrl-C", (), _cmd_serve
    )
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    srv.add_argument("--port", type=port, default=0, help="port (default: any free port, printed at start)")
    srv.add_argument(
        "--time-scale", type=positive, default=30.0, help="seconds an import takes from pending to completed"
    )
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

    imp = command(
        "import-snapshot",
        "import a VHD, VMDK or RAW disk image from S3 as an EBS snapshot, or wait for an import",
        ("connection", "transport", "output"),
        run_import_snapshot,
    )
    add_import_snapshot(imp)
    return parser


def _version() -> str:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        mine = version("ec2codec")
    except PackageNotFoundError:
        mine = "unknown"
    return f"ec2codec/{mine} Python/{platform.python_version()} {platform.system()}/{platform.release()}"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    args = _build_parser().parse_args(argv)
    allowed = {dest.lstrip("-").replace("-", "_") for group in args.groups for dest, _ in _GROUPS[group]}
    for options in _GROUPS.values():
        for flag, _ in options:
            dest = flag.lstrip("-").replace("-", "_")
            if dest in vars(args) and dest not in allowed:
                raise UsageError(f"{flag} does not apply to {args.command}")
            if dest not in vars(args):
                setattr(args, dest, _DEFAULTS.get(dest))
    args.debug = getattr(args, "debug", False)
    return args


def _run(args: argparse.Namespace) -> int:
    if args.no_verify_ssl:
        # As the AWS CLI, which warns once in its docs rather than on every request.
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    code: int = args.run(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parse(argv)
    except UsageError as exc:
        _usage(exc)
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    logger = logging.getLogger("ec2codec")
    handler = logging.StreamHandler(sys.stderr)
    saved = logger.level, logger.propagate
    if args.debug:
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # one copy on stderr, whatever the root logger does
    try:
        with warnings.catch_warnings():
            return _run(args)
    except UsageError as exc:
        _usage(exc)
        return 2
    except Error as exc:
        print(f"ec2codec: {describe(exc)}", file=sys.stderr)
        return 2 if is_configuration(exc) else 1
    except KeyboardInterrupt:
        print("ec2codec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`| head`): nothing left to say, as the AWS CLI
        return 0
    except RecursionError:
        print("ec2codec: error: the input nests too deeply", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line, and the traceback with --debug
        if args.debug:
            logging.getLogger("ec2codec").exception("unexpected error")
        print(f"ec2codec: unexpected error {type(exc).__name__}: {exc} (--debug shows where)", file=sys.stderr)
        return 1
    finally:
        # main() may run many times in one process (tests, embedding): leave logging as found.
        logger.removeHandler(handler)
        logger.level, logger.propagate = saved


def _usage(exc: UsageError) -> None:
    # One line, whatever the message held (a JMESPath error draws a caret under the expression).
    print(f"ec2codec: error: {' '.join(str(exc).split())}", file=sys.stderr)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
