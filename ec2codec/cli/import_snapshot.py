"""The ``import-snapshot`` command: ImportSnapshot from flags, then an optional wait with progress; or resume a wait.

``--local`` runs the whole flow on one machine: it starts the bundled local
EC2 import endpoint (:class:`ec2codec.server.testing.LocalEC2`) for the duration of
the command and points the client at it, so the README's main job needs
neither an AWS account nor a network. Without it the same code talks to real
EC2 (``--region``/``--profile``, or ``--endpoint-url``). ``--task-id`` waits for
an import started earlier (after Ctrl-C, or by another tool).

An import is billable and cannot be taken back, so every flag is checked
before ImportSnapshot is sent, and the idempotency token is chosen here: when
the command is interrupted while the request is in flight, it prints the
token, and running the command again with it cannot start a second task.
Ctrl-C while waiting leaves the task running on EC2; the command says so and
prints the commands that resume the wait or cancel the task.

Progress goes to stderr: tqdm's bar on a terminal, one plain line per change
of status otherwise (and with ``--no-progress``), so logs hold no carriage
returns. stdout carries only the result (the ImportSnapshot answer, or with a
wait the final task) in the ``--output`` format, so the command composes with ``jq``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from contextlib import ExitStack, closing
from typing import TYPE_CHECKING, Any

from ..errors import ServiceError
from ._common import UsageError, make_client, positive
from .commands import output_of, report_dry_run

if TYPE_CHECKING:
    from tqdm import tqdm

    from ..client.import_waiter import ImportProgress
    from ..client.sync import Client

_FORMATS = ("VHD", "VMDK", "RAW")
# Flags that describe a new import: meaningless with --task-id.
_NEW_IMPORT = ("url", "bucket", "key", "format", "description", "kms_key_id", "role_name", "client_token", "dry_run")


def add_import_snapshot(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("disk image (give --url, or --bucket and --key)")
    source.add_argument("--url", help="the disk image as an s3:// or https:// URL")
    source.add_argument("--bucket", help="S3 bucket holding the disk image")
    source.add_argument("--key", help="S3 key of the disk image")
    source.add_argument("--format", type=str.upper, choices=_FORMATS, help="disk image format: VHD, VMDK or RAW")
    options = parser.add_argument_group("snapshot")
    options.add_argument("--description", help="description of the import task and the snapshot")
    options.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="tag the import task (repeatable)"
    )
    options.add_argument("--kms-key-id", help="encrypt the snapshot with this KMS key (sets Encrypted)")
    options.add_argument("--role-name", help="service role EC2 assumes to read the image (default: vmimport)")
    options.add_argument("--client-token", help="idempotency token (default: a fresh UUID, printed if interrupted)")
    options.add_argument("--dry-run", action="store_true", help="check permissions and parameters; import nothing")
    waiting = parser.add_argument_group("waiting")
    waiting.add_argument("--wait", action="store_true", help="wait until the snapshot is ready, showing progress")
    waiting.add_argument(
        "--task-id", metavar="ID", help="wait for this existing import task (import-snap-...) instead of starting one"
    )
    waiting.add_argument(
        "--timeout", type=positive, metavar="SECONDS", help="with --wait: seconds to wait at most (default: 3600)"
    )
    waiting.add_argument(
        "--poll", type=positive, metavar="SECONDS", help="with --wait: seconds between status checks (default: 15)"
    )
    waiting.add_argument(
        "--no-progress",
        action="store_true",
        help="with --wait: one plain line per status change instead of the progress bar "
        "(always so when stderr is not a terminal)",
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="start the built-in local EC2 endpoint and import against it (no AWS account needed)",
    )
    parser.add_argument(
        "--time-scale", type=positive, metavar="SECONDS", help="with --local: seconds the simulated import takes (6)"
    )


def _tags(pairs: list[str]) -> list[dict[str, str]]:
    tags = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag wants KEY=VALUE, got {pair!r}")
        tags.append({"Key": key, "Value": value})
    return tags


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_flags(args: argparse.Namespace) -> None:
    """Every combination that cannot work, refused before anything is sent."""
    if args.task_id is not None:
        given = [_flag(name) for name in (*_NEW_IMPORT, "tag", "local") if getattr(args, name)]
        if given:
            raise UsageError(f"--task-id waits for an existing import: {', '.join(given)} cannot apply")
        if not args.task_id.strip():
            raise UsageError("--task-id is empty")
    else:
        if not args.wait:
            given = [_flag(name) for name in ("timeout", "poll", "no_progress") if getattr(args, name)]
            if given:
                raise UsageError(f"{', '.join(given)} only apply with --wait or --task-id")
        if args.format is None:
            raise UsageError("--format is required to start an import (VHD, VMDK or RAW)")
        if args.dry_run and args.wait:
            raise UsageError("--dry-run starts no import: there is nothing to --wait for")
    if args.time_scale is not None and not args.local:
        raise UsageError("--time-scale only applies with --local")
    if args.local:
        given = [_flag(n) for n in ("endpoint_url", "profile", "ca_bundle", "no_verify_ssl") if getattr(args, n)]
        if given:
            raise UsageError(f"--local starts its own endpoint: {', '.join(given)} cannot apply")


def build_params(args: argparse.Namespace) -> dict[str, Any]:
    """The ImportSnapshot parameters the flags describe."""
    if bool(args.url) == bool(args.bucket or args.key):
        raise UsageError("give the disk image either as --url or as --bucket and --key")
    if not args.url and not (args.bucket and args.key):
        raise UsageError("--bucket and --key go together")
    container: dict[str, Any] = {"Format": args.format}
    if args.url:
        container["Url"] = args.url
    else:
        container["UserBucket"] = {"S3Bucket": args.bucket, "S3Key": args.key}
    params: dict[str, Any] = {"DiskContainer": container}
    if args.description:
        params["Description"] = args.description
        container["Description"] = args.description
    if args.tag:
        params["TagSpecifications"] = [{"ResourceType": "import-snapshot-task", "Tags": _tags(args.tag)}]
    if args.kms_key_id:
        params.update(Encrypted=True, KmsKeyId=args.kms_key_id)
    if args.role_name:
        params["RoleName"] = args.role_name
    if args.client_token:
        params["ClientToken"] = args.client_token
    if args.dry_run:
        params["DryRun"] = True
    return params


class _Bar:
    """Reports ImportProgress observations on a tqdm bar: percent, status and status message."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar: tqdm[Any] = tqdm(
            total=100,
            desc="starting",
            file=sys.stderr,
            bar_format="{percentage:3.0f}%|{bar:30}| {desc}",
            dynamic_ncols=True,
        )

    def __call__(self, progress: ImportProgress) -> None:
        done = 100 if progress.status == "completed" else (progress.progress or 0)
        message = f": {progress.status_message}" if progress.status_message else ""
        self._bar.set_description_str(f"{progress.status}{message}", refresh=False)
        self._bar.n = max(self._bar.n, done)  # EC2's Progress only rises; never draw it backwards
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def _announce(progress: ImportProgress) -> None:
    message = f" ({progress.status_message})" if progress.status_message else ""
    percent = "" if progress.progress is None else f" {progress.progress}%"
    print(f"{progress.task_id}: {progress.status}{percent}{message}", file=sys.stderr, flush=True)


def _client(args: argparse.Namespace, stack: ExitStack) -> Client:
    if not args.local:
        return stack.enter_context(make_client(args))
    from ..client.sync import Client
    from ..server.testing import LocalEC2

    scale = 6.0 if args.time_scale is None else args.time_scale
    local = stack.enter_context(LocalEC2(time_scale=scale, region=args.region or "us-east-1"))
    print(f"started the local EC2 endpoint at {local.endpoint_url}", file=sys.stderr, flush=True)
    return stack.enter_context(Client(local.region, local.endpoint_url, local.credentials, environ={}))


def _connection_flags(args: argparse.Namespace) -> str:
    flags = [
        f"{_flag(n)} {shlex.quote(getattr(args, n))}" for n in ("region", "profile", "endpoint_url") if getattr(args, n)
    ]
    return "".join(" " + flag for flag in flags)


def _interrupted_wait(args: argparse.Namespace, task_id: str) -> int:
    if args.local:
        print(f"\nec2codec: interrupted; import task {task_id} ends with the local endpoint", file=sys.stderr)
        return 130
    where = _connection_flags(args)
    cancel = shlex.quote(f'{{"ImportTaskId": "{task_id}"}}')
    print(
        f"\nec2codec: interrupted; import task {task_id} keeps running on EC2\n"
        f"  resume waiting: ec2codec import-snapshot --task-id {task_id}{where}\n"
        f"  cancel it:      ec2codec call cancel-import-task {cancel}{where}",
        file=sys.stderr,
    )
    return 130


def _interrupted_start(args: argparse.Namespace) -> int:
    if args.local:
        print("\nec2codec: interrupted", file=sys.stderr)
        return 130
    print(
        "\nec2codec: interrupted while starting the import; it may or may not have started. Run the same command "
        f"with --client-token {shlex.quote(args.client_token)}: EC2 answers with the task if there is one, "
        "and starts no second one",
        file=sys.stderr,
    )
    return 130


def run(args: argparse.Namespace) -> int:
    check_flags(args)
    output = output_of(args)
    params: dict[str, Any] | None = None
    if args.task_id is None:
        if args.client_token is None and not args.dry_run:
            import uuid

            args.client_token = str(uuid.uuid4())  # known here, so an interrupted start can be retried safely
        params = build_params(args)
    with ExitStack() as stack:
        client = _client(args, stack)
        if params is None:
            task_id: str = args.task_id
        else:
            try:
                started = client.import_snapshot(**params)
            except ServiceError as exc:
                return report_dry_run(exc)
            except KeyboardInterrupt:
                return _interrupted_start(args)
            task_id = started["ImportTaskId"]
            if not args.wait:
                output.emit("ImportSnapshot", started)
                return 0
        try:
            if params is not None:
                print(f"import task {task_id} started", file=sys.stderr, flush=True)
            bar = sys.stderr.isatty() and not args.no_progress
            report = stack.enter_context(closing(_Bar())) if bar else _announce
            options: dict[str, Any] = {"on_progress": report}
            if args.timeout is not None:
                options["timeout"] = args.timeout
            if args.poll is not None:
                options["poll"] = args.poll
            elif args.local:
                options["poll"] = max(0.1, (6.0 if args.time_scale is None else args.time_scale) / 50)
            task = client.wait_import_snapshot(task_id, **options)
        except KeyboardInterrupt:
            stack.close()  # finish the bar (and a local endpoint) before the message under it
            return _interrupted_wait(args, task_id)
        stack.close()  # finish the bar before printing the result under it
        output.emit("ImportSnapshotTask", task)
        snapshot = task.get("SnapshotTaskDetail", {}).get("SnapshotId")
        print(f"snapshot {snapshot} is ready (import task {task_id})", file=sys.stderr)
    return 0
