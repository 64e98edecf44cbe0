"""What the sync and the asyncio client share, free of any HTTP library: set-up, request, signing, reading, logging.

Both transports (:mod:`.sync` over requests, :mod:`.aio` over aiohttp) carry
out the same steps around their own I/O, and take every step from here so
that they cannot drift apart:

* :func:`resolve_location`, :func:`resolve_credentials_provider` and
  :func:`resolve_retries`: region, endpoint (the profile's ``services``
  section and ``endpoint_url`` included), credential provider, retry mode and
  attempts from the constructor arguments and the configuration, as the AWS
  CLI resolves them;
* :func:`checked_encoder`, :func:`prepared_params` and :func:`build_request`:
  the request every attempt of one call sends, with botocore's EC2
  customizations applied (:mod:`.customizations`) and absent idempotency
  tokens filled once (:func:`with_tokens`); :func:`named` gives an error
  raised for a call its ``operation_name``;
* :func:`sign_attempt`: one attempt's headers (SigV4 Task 4, signed afresh
  with the corrected clock), logged with secrets redacted;
* :class:`ResponseReader`: a response's status, headers and body chunks into
  the result, a ServiceError or a ParseError, as botocore's ``EC2QueryParser``
  decides (anything from 301 up is an error);
* :func:`log_resign` and :func:`log_retry`: the wire log's lines for the
  decisions of :class:`.attempts.Attempts`.

The retry decisions themselves are :mod:`.attempts`'s; each client only
drives that machine with its own sockets and its own sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from ..auth.credentials.base import utcnow  # the one aware-UTC clock the credential providers use too
from ..auth.credentials.chain import CredentialProvider, resolve_provider, resolve_region
from ..auth.credentials.config import Settings, load_settings
from ..auth.sigv4 import Credentials, sign
from ..errors import Error, ParseError, ServiceError, ValidationError
from ..protocol.query import EncodedRequest, OperationEncoder, TokenFactory, encoder_for
from . import _retry, customizations
from ._wirelog import redact_body, redact_headers, redact_xml
from .endpoints import Endpoint, resolve_endpoint

if TYPE_CHECKING:
    from ..model.service import ServiceModel
    from ..protocol.xml import ResponseParser
    from .attempts import Attempts, Sleep

__all__ = [
    "CHUNK",
    "Clock",
    "MissingExtraError",
    "Outcome",
    "ResponseReader",
    "build_request",
    "checked_encoder",
    "generic_error",
    "input_members",
    "log_resign",
    "log_retry",
    "named",
    "prepared_params",
    "resolve_credentials_provider",
    "resolve_location",
    "resolve_retries",
    "sign_attempt",
    "utcnow",
    "uuid4_token",
    "with_tokens",
]

Clock = Callable[[], datetime]

WIRE = logging.getLogger("ec2codec.wire")
CHUNK = 65536  # bytes per body chunk fed to the parser
_SNIPPET = 2048  # bytes of each response body the wire log shows
# EC2 "ImportSnapshot"/"ImportImage": ClientToken makes the import idempotent,
# but the model does not carry @idempotencyToken for it.
_CLIENT_TOKEN_OPERATIONS = frozenset({"ImportSnapshot", "ImportImage"})


class MissingExtraError(Error, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(f"{feature} needs {module}, which is not installed: pip install 'ec2codec[{extra}]'")
        self.name = module


class Outcome(NamedTuple):
    """One attempt's end: the result, or the error to hand to :meth:`.attempts.Attempts.failed`."""

    result: dict[str, Any] | None
    error: Error | None
    date: str | None  # the response's Date header, for the skew check
    retry_after: str | None = None  # its x-amz-retry-after header, for the backoff


def uuid4_token() -> str:
    import uuid  # not at module top: uuid is only needed by calls with tokens

    return str(uuid.uuid4())


def resolve_location(
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
    environ: Mapping[str, str],
    *,
    use_fips: bool | None,
    use_dualstack: bool | None,
    settings: Settings | None = None,
) -> tuple[str, Endpoint]:
    """The region and endpoint a client of these arguments talks to (reads the shared files, no network)."""
    resolved = resolve_region(region, profile=profile, environ=environ)
    if settings is None:
        settings = load_settings(environ, profile)
    endpoint = resolve_endpoint(
        resolved,
        use_fips=use_fips,
        use_dualstack=use_dualstack,
        endpoint_url=endpoint_url,
        environ=environ,
        profile=settings.profile,
        services=settings.services if endpoint_url is None else None,
    )
    return resolved, endpoint


def resolve_credentials_provider(
    credentials: Credentials | CredentialProvider | None,
    profile: str | None,
    environ: Mapping[str, str],
    clock: Clock,
    *,
    region: str | None = None,
    mfa_prompt: Callable[[str], str] | None = None,
) -> CredentialProvider:
    """The provider for ``credentials``; None runs the default chain, which may do I/O (container, IMDS, a process).

    ``region`` is the client's, where STS calls go (botocore's rule);
    ``mfa_prompt`` answers the MFA code of a role with ``mfa_serial``.
    """
    if credentials is None:
        return resolve_provider(profile=profile, environ=environ, clock=clock, region=region, mfa_prompt=mfa_prompt)
    if isinstance(credentials, Credentials):
        return CredentialProvider(credentials, clock=clock)
    return credentials


def resolve_retries(settings: Settings, max_attempts: int | None, retry_mode: str | None) -> tuple[str, int]:
    """The retry mode and attempts: the arguments, else AWS_RETRY_MODE/retry_mode and AWS_MAX_ATTEMPTS/max_attempts.

    ``adaptive`` retries as ``standard``: its retry rules are standard's, and
    the client-side rate limiter it adds is not implemented.
    """
    mode = retry_mode or ("legacy" if settings.retry_mode == "legacy" else "standard")
    return mode, max_attempts or settings.max_attempts or _retry.default_max_attempts(mode)


def with_tokens(
    service: ServiceModel, encoder: OperationEncoder, params: Mapping[str, Any] | None, token_factory: TokenFactory
) -> Any:
    """``params`` with every absent idempotency token filled by ``token_factory`` (a new dict; input untouched)."""
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        return params  # the encoder names the problem
    names = list(encoder.token_members)
    op = encoder.operation
    if op.name in _CLIENT_TOKEN_OPERATIONS and "ClientToken" in input_members(service, op.input):
        names.append("ClientToken")
    filled = dict(params)
    for name in names:
        if name not in filled:
            filled[name] = token_factory()
    return filled


def input_members(service: ServiceModel, shape: str | None) -> Mapping[str, Any]:
    members: Mapping[str, Any] = service.shape(shape).get("members", {}) if shape else {}
    return members


def checked_encoder(service: ServiceModel, operation: str) -> OperationEncoder:
    """The encoder of ``operation``, or a ValidationError for an unknown one (nothing is sent)."""
    if not isinstance(operation, str) or not service.has_operation(operation):
        raise ValidationError(str(operation), [("", f"unknown operation {operation!r}")])
    return encoder_for(service, operation)


def prepared_params(
    service: ServiceModel, encoder: OperationEncoder, params: Mapping[str, Any] | None, token_factory: TokenFactory
) -> Any:
    """botocore's ``before-parameter-build``: the customizations, then the idempotency tokens."""
    op = encoder.operation
    prepared = customizations.prepare_params(op.name, input_members(service, op.input), params)
    return with_tokens(service, encoder, prepared, token_factory)


def build_request(
    encoder: OperationEncoder,
    prepared: Any,
    endpoint: Endpoint,
    environ: Mapping[str, str],
    context: tuple[str, Credentials, datetime] | None,
) -> EncodedRequest:
    """The request of one call, encoded once: every attempt sends these bytes (ValidationError sends nothing).

    ``context`` is (region, credentials, skew-corrected now) for the operations
    whose ``before-call`` customization needs them
    (:func:`.customizations.needs_context`), else None.
    """
    operation = encoder.operation.name
    if context is not None and customizations.needs_context(operation):
        region, credentials, now = context
        # botocore's before-call runs on validated params: encoding them first reports mistakes.
        call_context = customizations.CallContext(
            region, encoder.request(prepared).url(endpoint.url), credentials, now, encoder
        )
        prepared = customizations.before_call(operation, prepared, call_context)
    request = encoder.request(prepared)
    request.headers.update(customizations.trace_headers(environ))
    return request


def named(error: Error, operation: str) -> Error:
    """``error``, a ServiceError knowing its ``operation_name`` (botocore's ``ClientError.operation_name``)."""
    if isinstance(error, ServiceError) and error.operation_name is None:
        error.operation_name = operation
    return error


def sign_attempt(
    request: EncodedRequest, url: str, credentials: Credentials, endpoint: Endpoint, when: datetime
) -> dict[str, str]:
    """The headers of one attempt, signed at ``when`` (the local clock plus the learnt offset), and logged."""
    headers = sign(
        request.method,
        url,
        request.headers,
        request.body,
        credentials,
        endpoint.signing_region,
        endpoint.signing_name,
        when,
    )
    if WIRE.isEnabledFor(logging.DEBUG):
        WIRE.debug(
            "request %s %s headers=%s body=%s",
            request.method,
            url,
            redact_headers(headers),
            redact_body(request.body, headers),
        )
    return headers


def generic_error(status: int, reason: str | None, headers: Mapping[str, str], why: str) -> ServiceError:
    """botocore's generic error for an error status without an EC2 error document: the code is the status."""
    request_id = headers.get("x-amzn-RequestId") or headers.get("x-amz-request-id")
    return ServiceError(str(status), f"{reason or 'HTTP error'}: {why}", request_id, status=status)


class ResponseReader:
    """One response, fed chunk by chunk as it arrives, into the result or the error it stands for.

    ``parser`` is a :class:`~ec2codec.protocol.xml.ResponseParser` of the
    operation, made with the same ``status``. ``feed`` and ``finish`` raise
    ServiceError (an EC2 error document, or botocore's generic error for any
    other body with a status from 301 up) or ParseError (a 2xx body that is
    not a whole document). ``log`` writes the response line of the wire log,
    with the start of the body redacted. ``headers`` must look names up
    case-insensitively, as both HTTP libraries' header mappings do.
    """

    def __init__(self, parser: ResponseParser, status: int, reason: str | None, headers: Mapping[str, str]) -> None:
        self.status = status
        self._reason = reason
        self._headers = headers
        self._parser = parser
        self._snippet: bytearray | None = bytearray() if WIRE.isEnabledFor(logging.DEBUG) else None

    def feed(self, chunk: bytes) -> None:
        snippet = self._snippet
        if snippet is not None and len(snippet) < _SNIPPET:
            snippet += chunk[: _SNIPPET - len(snippet)]
        try:
            self._parser.feed(chunk)
        except ParseError as exc:
            if self.status < 301:
                raise
            raise self._not_a_document(exc) from exc

    def finish(self) -> dict[str, Any]:
        """The result of the whole body, once every chunk is fed."""
        try:
            result = self._parser.close()
        except ParseError as exc:
            if self.status < 301:
                raise
            raise self._not_a_document(exc) from exc
        if self.status >= 301:
            # botocore parses anything from 301 up as an error (EC2QueryParser).
            raise generic_error(self.status, self._reason, self._headers, "the body is a success document")
        return result

    def log(self) -> None:
        if self._snippet is not None:
            WIRE.debug("response %d headers=%s body=%s", self.status, dict(self._headers), redact_xml(self._snippet))

    def _not_a_document(self, exc: ParseError) -> ServiceError:
        return generic_error(self.status, self._reason, self._headers, f"the body is not an EC2 error document ({exc})")


def log_resign(outcome: Outcome, clock_offset: timedelta) -> None:
    """The wire log's line for a re-sign after clock skew (:class:`.attempts.Send` with ``resigned``)."""
    WIRE.debug(
        "clock skew: %s, server Date %s; signing with offset %s",
        getattr(outcome.error, "code", outcome.error),
        outcome.date,
        clock_offset,
    )


def log_retry(operation: str, attempts: Attempts, action: Sleep) -> None:
    """The wire log's line for a backoff before the next attempt."""
    WIRE.debug(
        "retrying %s after attempt %d of %d failed (%s); sleeping %.3f s",
        operation,
        attempts.attempt,
        attempts.max_attempts,
        action.error,
        action.seconds,
    )
