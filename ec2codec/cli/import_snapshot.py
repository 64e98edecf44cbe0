"""The ``import-snapshot`` command: ImportSnapshot from flags, then an optional wait with a progress bar.

``--local`` runs the whole flow on one machine: it starts the bundled local
EC2 import endpoint (:class:`ec2codec.server.testing.LocalEC2`) for the duration of
the command and points the client at it, so the README's main job needs
neither an AWS account nor a network. Without it the same code talks to real
EC2 (``--region``/``--profile``, or ``--endpoint-url``).

The progress bar is tqdm's, on stderr; stdout carries only JSON (the
ImportSnapshot result, or with ``--wait`` the final task), so the command
composes with ``jq``.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack, closing
from typing import TYPE_CHECKING, Any

from ..errors import ServiceError
from ._common import UsageError, make_client, positive, print_json

if TYPE_CHECKING:
    from tqdm import tqdm

    from ..client.import_waiter import ImportProgress
    from ..client.sync import Client

_FORMATS = ("VHD", "VMDK", "RAW")


def add_import_snapshot(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("disk image (give --url, or --bucket and --key)")
    source.add_argument("--url", help="the disk image as an s3:// or https:// URL")
    source.add_argument("--bucket", help="S3 bucket holding the disk image")
    source.add_argument("--key", help="S3 key of the disk image")
    source.add_argument(
        "--format", required=True, type=str.upper, choices=_FORMATS, help="disk image format: VHD, VMDK or RAW"
    )
    options = parser.add_argument_group("snapshot")
    options.add_argument("--description", help="description of the import task and the snapshot")
    options.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="tag the import task (repeatable)"
    )
    options.add_argument("--kms-key-id", help="encrypt the snapshot with this KMS key (sets Encrypted)")
    options.add_argument("--role-name", help="service role EC2 assumes to read the image (default: vmimport)")
    options.add_argument("--client-token", help="idempotency token (default: a fresh UUID, reused on retries)")
    options.add_argument("--dry-run", action="store_true", help="check permissions and parameters; import nothing")
    waiting = parser.add_argument_group("waiting")
    waiting.add_argument("--wait", action="store_true", help="wait until the snapshot is ready, showing progress")
    waiting.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait at most (default: 3600)")
    waiting.add_argument("--poll", type=float, default=None, help="seconds between status checks (default: 15)")
    waiting.add_argument("--no-progress", action="store_true", help="no progress bar, only the final result")
    parser.add_argument(
        "--local",
        action="store_true",
        help="start the built-in local EC2 endpoint and import against it (no AWS account needed)",
    )
    parser.add_argument(
        "--time-scale", type=positive, default=6.0, help="with --local: seconds the simulated import takes"
    )
    parser.set_defaults(run=run)


def _tags(pairs: list[str]) -> list[dict[str, str]]:
    tags = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag wants KEY=VALUE, got {pair!r}")
        tags.append({"Key": key, "Value": value})
    return tags


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
    if args.endpoint_url or args.profile:
        raise UsageError("--local replaces --endpoint-url and --profile")
    from ..client.sync import Client
    from ..server.testing import LocalEC2

    local = stack.enter_context(LocalEC2(time_scale=args.time_scale, region=args.region or "us-east-1"))
    print(f"started the local EC2 endpoint at {local.endpoint_url}", file=sys.stderr, flush=True)
    client = Client(local.region, local.endpoint_url, local.credentials, environ={})
    return stack.enter_context(client)


def run(args: argparse.Namespace) -> int:
    params = build_params(args)
    with ExitStack() as stack:
        client = _client(args, stack)
        try:
            started = client.import_snapshot(**params)
        except ServiceError as exc:
            if not exc.is_dry_run_success:
                raise
            print("dry run: the request would have succeeded (DryRunOperation)", file=sys.stderr)
            return 0
        task_id = started["ImportTaskId"]
        if not args.wait:
            print_json(started)
            return 0
        print(f"import task {task_id} started", file=sys.stderr, flush=True)
        report = _announce if args.no_progress else stack.enter_context(closing(_Bar()))
        options: dict[str, Any] = {"timeout": args.timeout, "on_progress": report}
        if args.poll is not None:
            options["poll"] = args.poll
        elif args.local:
            options["poll"] = max(0.1, args.time_scale / 50)
        task = client.wait_import_snapshot(task_id, **options)
        stack.close()  # finish the bar before printing the result under it
        print_json(task)
        snapshot = task.get("SnapshotTaskDetail", {}).get("SnapshotId")
        print(f"snapshot {snapshot} is ready (import task {task_id})", file=sys.stderr)
    return 0
