"""LocalEC2's import-snapshot state: ImportSnapshot, DescribeImportSnapshotTasks and CancelImportTask, in memory.

Pure state: no threads, no I/O, no clock. Every operation takes ``now`` (epoch
seconds or an aware datetime) and a task's state is *computed* from the time
elapsed since it was created (or cancelled), scaled so that a whole import
takes ``time_scale`` seconds. Results are dicts in the parsed form
``ec2codec.parse`` returns, ready for the XML encoder; every refusal is a
:class:`LocalError` carrying the EC2 error code the server answers with.

What real EC2 does, and where it comes from (VM Import/Export, "Import a disk as
an EBS snapshot" and "Monitor an import snapshot task"; the EC2 API Reference):

- ``ImportSnapshot`` answers ``Status=active``, ``StatusMessage=pending``,
  ``Progress=3``, ``DiskImageSize=0.0`` and the format upper-cased (EC2 takes
  ``vmdk`` and reports ``VMDK``); ``SnapshotTaskDetail.Description`` is the
  request's top-level ``Description``.
- While converting: ``StatusMessage=downloading/converting`` with ``Progress``
  rising ("42", a string) and ``DiskImageSize`` known (bytes, despite the GiB
  in the API reference).
- Completed: ``Status=completed``, ``SnapshotId``; no ``Progress`` and no
  ``StatusMessage``.
- ``CancelImportTask`` answers ``PreviousState=active``, ``State=deleting``;
  the task then shows ``deleting`` and finally ``deleted``.
- Filters: ``task-state`` with ``active | completed | deleting | deleted``, as the
  sibling ``DescribeImportImageTasks`` and ``DescribeExportImageTasks`` document;
  ``MaxResults`` 1..500 as ``DescribeExportImageTasks`` documents (the snapshot
  variant documents no range).
- Unknown task ids: ``InvalidConversionTaskId.Malformed`` for an id that is not
  ``import-snap-`` + hex, ``InvalidConversionTaskId`` for a well-formed id that
  does not exist (both codes are in EC2's error list; SDK waiters retry on the
  latter while a new task becomes visible).

Local choices (not observable on real EC2 without an account, documented here):
cancelling a task that is no longer ``active`` is ``IncorrectState``; the
``deleted`` StatusMessage is the ``CancelReason`` or ``"Cancelled by user"``;
``ImportTaskIds`` together with ``MaxResults`` is ``InvalidParameterCombination``
(EC2's rule for its other describe calls); tasks are kept for the life of the
process (EC2 keeps them seven days), at most ``max_tasks`` of them: beyond that
``ImportSnapshot`` is ``ResourceLimitExceeded``, EC2's code for "you have
exceeded an Amazon EC2 resource limit" (a retried call with a known
``ClientToken`` still answers its task).
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..errors import Error, ValidationError

__all__ = ["DEFAULT_MAX_TASKS", "DRY_RUN_MESSAGE", "ImportTasks", "LocalError"]

DRY_RUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."
_TASK_ID = re.compile(r"import-snap-[0-9a-f]{8,17}")
_FORMATS = ("VHD", "VMDK", "RAW")
_MAX_RESULTS = (1, 500)
DEFAULT_MAX_TASKS = 10_000  # a bound on memory for a long-running `ec2codec serve`
# Fractions of ``time_scale``: how long a task stays "pending", and how long a
# cancelled task stays "deleting" before it is "deleted".
_PENDING = 0.1
_DELETING = 0.1
_PENDING_PROGRESS = 3
_TAG_RESOURCE = "import-snapshot-task"

Now = float | datetime


class LocalError(Error):
    """An EC2 error answer: ``code`` and ``message`` for the error document, ``status`` for HTTP."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _seconds(now: Now) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValidationError("LocalEC2", [("now", "must be an aware datetime (UTC) or epoch seconds")])
        return now.timestamp()
    return float(now)


def _dry_run(params: Mapping[str, Any]) -> None:
    # EC2 checks the request first and answers DryRunOperation (HTTP 412) only
    # for a request that would have succeeded; local keys are always authorised.
    if params.get("DryRun"):
        raise LocalError("DryRunOperation", DRY_RUN_MESSAGE, 412)


def _missing(name: str) -> LocalError:
    return LocalError("MissingParameter", f"The request must contain the parameter {name}")


class _Task:
    __slots__ = (
        "cancel_reason",
        "cancelled_at",
        "created_at",
        "description",
        "encrypted",
        "fingerprint",
        "format",
        "kms_key_id",
        "seq",
        "size",
        "snapshot_id",
        "source",
        "tags",
        "task_id",
    )

    def __init__(self, task_id: str, snapshot_id: str, seq: int, created_at: float, params: Mapping[str, Any]) -> None:
        disk = params["DiskContainer"]
        self.task_id = task_id
        self.snapshot_id = snapshot_id
        self.seq = seq
        self.created_at = created_at
        self.cancelled_at: float | None = None
        self.cancel_reason: str | None = None
        self.description: str | None = params.get("Description")
        self.format: str = disk["Format"].upper()
        self.source: dict[str, Any] = (
            {"Url": disk["Url"]} if "Url" in disk else {"UserBucket": dict(disk["UserBucket"])}
        )
        self.encrypted: bool | None = params.get("Encrypted")
        self.kms_key_id: str | None = params.get("KmsKeyId")
        self.tags: list[dict[str, str]] = [
            {"Key": tag["Key"], "Value": tag.get("Value", "")}
            for spec in params.get("TagSpecifications", [])
            for tag in spec.get("Tags", [])
        ]
        self.fingerprint = _fingerprint(params)
        # A deterministic, plausible image size (bytes, a multiple of 512) per source.
        digest = hashlib.sha256(repr(sorted(self.source.items())).encode()).digest()
        self.size = float((int.from_bytes(digest[:4], "big") % 16_000_000 + 200_000) * 512)

    def state(self, now: float, time_scale: float) -> tuple[str, str | None, int | None]:
        """``(Status, StatusMessage, Progress)`` at ``now``."""
        if self.cancelled_at is not None:
            if now - self.cancelled_at < _DELETING * time_scale:
                return "deleting", self.cancel_reason or "Cancelled by user", None
            return "deleted", self.cancel_reason or "Cancelled by user", None
        fraction = (now - self.created_at) / time_scale if time_scale > 0 else 1.0
        if fraction >= 1.0:
            return "completed", None, None
        if fraction < _PENDING:
            return "active", "pending", _PENDING_PROGRESS
        return "active", "downloading/converting", max(_PENDING_PROGRESS + 1, min(99, int(fraction * 100)))

    def view(self, now: float, time_scale: float) -> dict[str, Any]:
        status, message, progress = self.state(now, time_scale)
        detail: dict[str, Any] = {}
        if self.description is not None:
            detail["Description"] = self.description
        detail["DiskImageSize"] = 0.0 if message == "pending" else self.size
        if self.encrypted is not None:
            detail["Encrypted"] = self.encrypted
        detail["Format"] = self.format
        if self.kms_key_id is not None:
            detail["KmsKeyId"] = self.kms_key_id
        if progress is not None:
            detail["Progress"] = str(progress)
        if status == "completed":
            detail["SnapshotId"] = self.snapshot_id
        detail["Status"] = status
        if message is not None:
            detail["StatusMessage"] = message
        detail.update(self.source)
        out: dict[str, Any] = {}
        if self.description is not None:
            out["Description"] = self.description
        out["ImportTaskId"] = self.task_id
        out["SnapshotTaskDetail"] = detail
        out["Tags"] = [dict(tag) for tag in self.tags]
        return out


def _fingerprint(params: Mapping[str, Any]) -> str:
    # Idempotency compares everything the caller asked for except DryRun.
    meaningful = {k: v for k, v in params.items() if k != "DryRun"}
    return hashlib.sha256(repr(sorted(meaningful.items(), key=lambda kv: kv[0])).encode()).hexdigest()


def _validate_import(params: Mapping[str, Any]) -> None:
    disk = params.get("DiskContainer")
    if not disk:
        raise _missing("DiskContainer")
    has_url, has_bucket = "Url" in disk, "UserBucket" in disk
    if has_url and has_bucket:
        raise LocalError(
            "InvalidParameterCombination", "DiskContainer.Url and DiskContainer.UserBucket cannot be used together"
        )
    if not (has_url or has_bucket):
        raise _missing("DiskContainer.Url or DiskContainer.UserBucket")
    if has_url and not str(disk["Url"]).startswith(("s3://", "https://")):
        raise LocalError(
            "InvalidParameterValue", "DiskContainer.Url must be an Amazon S3 URL (s3://...) or an https:// URL"
        )
    if has_bucket:
        for member in ("S3Bucket", "S3Key"):
            if not disk["UserBucket"].get(member):
                raise _missing(f"DiskContainer.UserBucket.{member}")
    if "Format" not in disk:
        raise _missing("DiskContainer.Format")
    if str(disk["Format"]).upper() not in _FORMATS:
        raise LocalError(
            "InvalidParameterValue",
            f"Value ({disk['Format']}) for parameter DiskContainer.Format is invalid. "
            f"Valid values: {' | '.join(_FORMATS)}",
        )
    if params.get("KmsKeyId") and not params.get("Encrypted"):
        raise LocalError(
            "InvalidParameterCombination", "KmsKeyId requires Encrypted to be true (the Encrypted flag must be set)"
        )
    _validate_tags(params.get("TagSpecifications", []))


def _validate_tags(specs: list[Mapping[str, Any]]) -> None:
    keys: set[str] = set()
    for i, spec in enumerate(specs, 1):
        kind = spec.get("ResourceType")
        if kind is None:
            raise _missing(f"TagSpecification.{i}.ResourceType")
        if kind != _TAG_RESOURCE:
            raise LocalError(
                "InvalidParameterValue",
                f"'{kind}' is not a valid taggable resource type for this operation (expected '{_TAG_RESOURCE}')",
            )
        for j, tag in enumerate(spec.get("Tags", []), 1):
            key = tag.get("Key")
            if not key:
                raise _missing(f"TagSpecification.{i}.Tag.{j}.Key")
            if key.lower().startswith("aws:"):
                raise LocalError("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
            if key in keys:
                raise LocalError("InvalidParameterValue", f"Duplicate tag key '{key}' specified")
            keys.add(key)


class ImportTasks:
    """Every ImportSnapshot task of one LocalEC2, and the three operations on them.

    ``time_scale`` is how many seconds a whole import takes (``0`` completes
    at once). ``rng`` makes task and snapshot ids reproducible in tests.
    ``max_tasks`` is how many tasks are kept (see the module docstring).
    Not thread-safe: the server serialises calls.
    """

    def __init__(
        self, *, time_scale: float = 60.0, rng: random.Random | None = None, max_tasks: int = DEFAULT_MAX_TASKS
    ) -> None:
        if time_scale < 0:
            raise ValidationError("LocalEC2", [("time_scale", f"must be >= 0, got {time_scale!r}")])
        if isinstance(max_tasks, bool) or not isinstance(max_tasks, int) or max_tasks < 1:
            raise ValidationError("LocalEC2", [("max_tasks", f"must be an integer of at least 1, got {max_tasks!r}")])
        self.time_scale = float(time_scale)
        self.max_tasks = max_tasks
        self._rng = rng or random.SystemRandom()
        self._tasks: dict[str, _Task] = {}
        self._tokens: dict[str, str] = {}  # ClientToken -> ImportTaskId

    def _hex17(self) -> str:
        return f"{self._rng.getrandbits(68):017x}"

    def _new_id(self) -> str:
        while True:
            task_id = f"import-snap-{self._hex17()}"
            if task_id not in self._tasks:
                return task_id

    def dispatch(self, operation: str) -> Callable[[Mapping[str, Any], Now], dict[str, Any]] | None:
        """The handler for ``operation``, or None when LocalEC2 does not implement it."""
        return {
            "ImportSnapshot": self.import_snapshot,
            "DescribeImportSnapshotTasks": self.describe_import_snapshot_tasks,
            "CancelImportTask": self.cancel_import_task,
        }.get(operation)

    def import_snapshot(self, params: Mapping[str, Any], now: Now) -> dict[str, Any]:
        """Start a task (or return the task an earlier call with the same ClientToken started)."""
        at = _seconds(now)
        _validate_import(params)
        token = params.get("ClientToken")
        if token is not None and token in self._tokens:
            task = self._tasks[self._tokens[token]]
            # EC2 "Ensuring idempotency": the same token with other parameters is refused.
            if task.fingerprint != _fingerprint(params):
                raise LocalError(
                    "IdempotentParameterMismatch",
                    f"The client token '{token}' was already used with different parameters",
                )
            _dry_run(params)
            return task.view(at, self.time_scale)
        if len(self._tasks) >= self.max_tasks:
            raise LocalError(
                "ResourceLimitExceeded",
                f"You have reached the limit of {self.max_tasks} import snapshot tasks that this LocalEC2 keeps",
            )
        _dry_run(params)
        task = _Task(self._new_id(), f"snap-{self._hex17()}", len(self._tasks), at, params)
        self._tasks[task.task_id] = task
        if token is not None:
            self._tokens[token] = task.task_id
        return task.view(at, self.time_scale)

    def describe_import_snapshot_tasks(self, params: Mapping[str, Any], now: Now) -> dict[str, Any]:
        """The tasks asked for (ids, filters), one page at a time."""
        at = _seconds(now)
        ids: list[str] = list(params.get("ImportTaskIds", []))
        limit = params.get("MaxResults")
        if ids and limit is not None:
            raise LocalError("InvalidParameterCombination", "The parameter ImportTaskId cannot be used with MaxResults")
        if limit is not None and not _MAX_RESULTS[0] <= limit <= _MAX_RESULTS[1]:
            raise LocalError(
                "InvalidParameterValue",
                f"Value ({limit}) for parameter MaxResults is invalid. "
                f"Expected a value between {_MAX_RESULTS[0]} and {_MAX_RESULTS[1]}.",
            )
        matchers = [_filter(f) for f in params.get("Filters", [])]
        for task_id in ids:
            if not _TASK_ID.fullmatch(task_id):
                raise LocalError("InvalidConversionTaskId.Malformed", f'Invalid id: "{task_id}"')
            if task_id not in self._tasks:
                raise LocalError("InvalidConversionTaskId", f"The import task ID '{task_id}' does not exist")
        _dry_run(params)
        query = _fingerprint({"ids": ids, "filters": params.get("Filters", [])})
        after = _read_token(params["NextToken"], query) if "NextToken" in params else -1
        chosen = [self._tasks[i] for i in dict.fromkeys(ids)] if ids else list(self._tasks.values())
        views = [
            (task.seq, view)
            for task in chosen
            if task.seq > after
            for view in (task.view(at, self.time_scale),)
            if all(match(view) for match in matchers)
        ]
        result: dict[str, Any] = {"ImportSnapshotTasks": [view for _, view in views[:limit]]}
        if limit is not None and len(views) > limit:
            result["NextToken"] = _make_token(views[limit - 1][0], query)
        return result

    def cancel_import_task(self, params: Mapping[str, Any], now: Now) -> dict[str, Any]:
        """Cancel an active task: it shows ``deleting``, then ``deleted``."""
        at = _seconds(now)
        task_id = params.get("ImportTaskId")
        if not task_id:
            raise _missing("ImportTaskId")
        if not _TASK_ID.fullmatch(task_id):
            raise LocalError("InvalidConversionTaskId.Malformed", f'Invalid id: "{task_id}"')
        task = self._tasks.get(task_id)
        if task is None:
            raise LocalError("InvalidConversionTaskId", f"The import task ID '{task_id}' does not exist")
        status = task.state(at, self.time_scale)[0]
        if status != "active":
            raise LocalError(
                "IncorrectState", f"The import task '{task_id}' cannot be cancelled because it is {status}"
            )
        _dry_run(params)
        task.cancelled_at = at
        task.cancel_reason = params.get("CancelReason")
        return {"ImportTaskId": task_id, "PreviousState": status, "State": "deleting"}


def _filter(spec: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    name = spec.get("Name")
    values: list[str] = list(spec.get("Values", []))
    if not name:
        raise _missing("Filter.Name")
    if not values:
        raise LocalError("InvalidParameterValue", f"The filter '{name}' requires at least one value")
    if name == "task-state":
        return lambda view: view["SnapshotTaskDetail"]["Status"] in values
    if name == "tag-key":
        return lambda view: any(tag["Key"] in values for tag in view["Tags"])
    if name.startswith("tag:"):
        key = name[4:]
        return lambda view: any(tag["Key"] == key and tag["Value"] in values for tag in view["Tags"])
    raise LocalError(
        "InvalidParameterValue", f"The filter '{name}' is invalid (supported: task-state, tag-key, tag:<key>)"
    )


# NextToken: the sequence number of the last task returned, bound to the query
# it came from, so a token cannot silently page through a different query.
def _make_token(seq: int, query: str) -> str:
    return base64.urlsafe_b64encode(f"{seq}:{query[:16]}".encode()).decode()


def _read_token(token: str, query: str) -> int:
    try:
        seq, _, bound = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii").partition(":")
        if bound == query[:16] and seq.isdigit():
            return int(seq)
    except (ValueError, UnicodeError):
        pass
    raise LocalError("InvalidPaginationToken", f"The pagination token '{token}' is invalid")
