"""The exception hierarchy: everything the public API raises derives from :class:`Error`.

Callers (and fuzzers) can rely on one rule: a bad parameter is a
:class:`ValidationError`, a bad document is a :class:`ParseError`, an EC2 error
document is a :class:`ServiceError`; no lxml, requests or interpreter
exception escapes the public API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["Error", "ModelError", "ParseError", "ServiceError", "ValidationError"]


class Error(Exception):
    """Root of every exception ec2codec raises on purpose."""


class ModelError(Error):
    """A service model (bundled or loaded) is unusable: unknown operation, unsupported shape."""


class ValidationError(Error, ValueError):
    """Request parameters do not match the operation's input shape.

    ``problems`` holds ``(path, message)`` pairs, one per problem, with the full
    parameter path (``TagSpecifications[0].Tags[2].Key``); ``str()`` lists them all.
    """

    def __init__(self, operation: str, problems: Sequence[tuple[str, str]]) -> None:
        self.operation = operation
        self.problems: list[tuple[str, str]] = list(problems)
        lines = [f"{path}: {message}" if path else message for path, message in self.problems]
        noun = "problem" if len(lines) == 1 else "problems"
        super().__init__(f"invalid parameters for {operation} ({len(lines)} {noun}):\n  " + "\n  ".join(lines))


class ParseError(Error, ValueError):
    """A response body is not a well-formed, safe document of the expected shape."""


class ServiceError(Error):
    """EC2 answered with an error document (``<Response><Errors>...``).

    ``code``, ``message`` and ``request_id`` describe the first error; ``errors``
    holds every ``(code, message)`` pair in document order; ``details`` the
    modeled members of the error shape, when the operation declares one;
    ``status`` the HTTP status and ``operation_name`` the operation, when known
    (the client sets both).

    For code written against boto3, :attr:`response` is the error in the shape
    of botocore's ``ClientError.response``, so ``exc.response["Error"]["Code"]``
    works unchanged. ``message`` is always a str: ``""`` for an empty or absent
    ``<Message>``. botocore gives None for an empty one (and omits the key for
    an absent one); :attr:`response` gives None for both, so that
    ``response["Error"]["Message"]`` reads as in botocore and never raises.
    """

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        *,
        errors: Sequence[tuple[str, str]] = (),
        details: dict[str, Any] | None = None,
        status: int | None = None,
        operation_name: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.errors: list[tuple[str, str]] = list(errors) or [(code, message)]
        self.details: dict[str, Any] = dict(details or {})
        self.status = status
        self.operation_name = operation_name
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{code}: {message}{suffix}")

    @property
    def response(self) -> dict[str, Any]:
        """The error as botocore's ``ClientError.response``: ``{"Error": {...}, "ResponseMetadata": {...}}``.

        ``ResponseMetadata`` holds ``RequestId`` and ``HTTPStatusCode`` (botocore
        adds ``HTTPHeaders`` and ``RetryAttempts``, which an error does not keep).
        An empty code or message is None, as botocore reads an empty element.
        """
        return {
            "Error": {"Code": self.code or None, "Message": self.message or None},
            "ResponseMetadata": {"RequestId": self.request_id, "HTTPStatusCode": self.status},
        }

    @property
    def is_dry_run_success(self) -> bool:
        """True for ``DryRunOperation``: the call would have succeeded without DryRun."""
        return self.code == "DryRunOperation"
