"""The HTTP client: encode, sign, send, stream-decode, retry. The only module that imports ``requests``.

Owns the I/O loop around the sans-I/O codec: one :class:`Client` holds a
``requests.Session`` (connections are reused), the resolved region, endpoint
and credential provider, and the clock offset learnt from the service. Each
:meth:`Client.call`:

1. validates and encodes the parameters once (a ValidationError is raised
   before anything is sent), after filling absent idempotency tokens
   (Smithy ``@idempotencyToken``, plus ``ClientToken`` of ``ImportSnapshot``
   and ``ImportImage``, which EC2 documents as idempotent but the model does
   not mark), so every retry of one call carries the same token and a
   timed-out import that is retried can never start a second task;
2. signs every attempt afresh (SigV4 Task 4: a new ``X-Amz-Date`` and
   signature, current credentials from the provider, the clock offset);
3. POSTs with ``stream=True`` and feeds the body in 64 KiB chunks to a
   :class:`~ec2codec.protocol.xml.ResponseParser`, so memory follows the result;
4. retries by botocore's ``standard`` policy, as the sans-I/O state machine
   of :mod:`.attempts` decides (with injectable ``sleep`` and ``rng``); this
   module only carries out its decisions.

Clock skew: after a skew error (``RequestTimeTooSkewed``, ``AuthFailure``, ...)
whose ``Date`` header is more than 4 minutes off the corrected local clock, the
client stores ``server - local`` in :attr:`Client.clock_offset` and re-signs at
once. That retry is free (not counted in ``max_attempts``, no backoff: nothing
transient happened) and happens at most once per call; later calls keep
signing with the offset.

boto3 compatibility: the EC2 customizations of a boto3 client are applied
around the codec (:mod:`.customizations`), so the same call sends the same
body as boto3; boto3's helpers come from :mod:`._boto3_methods`.

Errors: an EC2 error document is a ServiceError carrying the HTTP status and
the operation name; an error status whose body is not an EC2 error document
is a ServiceError whose code is the status (``"503"``), as botocore's generic
error; a 2xx body that is not a whole document is a ParseError; anything
``requests``, ``urllib3`` or the socket layer raises becomes a
:class:`TransportError` whose message says in one sentence what failed with
which host and port (:mod:`._failures`), the original chained as its cause.
Constructor arguments and method options are checked up front
(:mod:`._arguments`): a wrong one is a ValidationError, never a TypeError.

Debugging: logger ``ec2codec.wire`` at DEBUG logs each request (method, URL,
headers, body) and response (status, headers, the first 2 KiB of the body),
plus each retry, with secrets redacted (:mod:`ec2codec.client._wirelog`).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from http.client import HTTPException
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from ..auth.credentials.chain import CredentialProvider, resolve_provider, resolve_region
from ..auth.sigv4 import Credentials, sign
from ..errors import Error, ParseError, ServiceError, ValidationError
from ..model.service import model_from_environment
from ..protocol.query import EncodedRequest, OperationEncoder, TokenFactory, encoder_for
from ..protocol.xml import ResponseParser
from . import customizations
from ._arguments import check_client_arguments, check_options, option_names
from ._boto3_methods import Boto3Methods
from ._client_methods import ClientMethods
from ._failures import Kind, describe_failure
from ._wirelog import SECRET_WORDS, redact_body, redact_headers, redact_xml
from .attempts import Action, Attempts, Send, Sleep, TransportError
from .endpoints import Endpoint, resolve_endpoint

if TYPE_CHECKING:
    from ..protocol.codec import Model

__all__ = ["SECRET_WORDS", "Client", "TransportError"]

Clock = Callable[[], datetime]
Timeout = float | tuple[float, float]

_WIRE = logging.getLogger("ec2codec.wire")
_CHUNK = 65536
_SNIPPET = 2048
# EC2 "ImportSnapshot"/"ImportImage": ClientToken makes the import idempotent,
# but the model does not carry @idempotencyToken for it.
_CLIENT_TOKEN_OPERATIONS = frozenset({"ImportSnapshot", "ImportImage"})
# Failures that mean no whole response arrived (botocore's ConnectionError/HTTPClientError).
# Every requests exception is an OSError, so its own classes are told apart first.
_BROKEN_REQUESTS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_TRANSPORT = (requests.RequestException, Urllib3Error, HTTPException, OSError)


class _Outcome(NamedTuple):
    result: dict[str, Any] | None
    error: Error | None
    date: str | None  # the response's Date header, for the skew check
    retry_after: str | None = None  # its x-amz-retry-after header, for the backoff


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _uuid4() -> str:
    import uuid  # not at module top: uuid is only needed by calls with tokens

    return str(uuid.uuid4())


class Client(ClientMethods, Boto3Methods):
    """An EC2 client: ``client.call("DescribeRegions", {})`` or ``client.describe_regions()``.

    Region, credentials and endpoint are resolved as the AWS CLI resolves them
    when not given (``environ`` replaces ``os.environ``; ``profile`` selects the
    shared-file profile). ``credentials`` is fixed :class:`Credentials` or a
    :class:`CredentialProvider`, asked before every attempt. ``timeout`` is
    ``(connect, read)`` seconds or one number for both. ``now`` returns the
    aware UTC time (the real clock by default). ``model`` (``ec2codec.load_model``)
    defaults to the one ``EC2CODEC_MODEL`` names in the environment, else the
    bundled model; its paginators and waiters serve :meth:`paginate` and
    :meth:`wait`. Every argument is checked here: a wrong one is a
    ValidationError naming each problem. One client may be shared between
    threads as far as ``requests.Session`` may.
    """

    # The positional order is public API: region first, as boto3's region_name.
    def __init__(  # noqa: PLR0917
        self,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Credentials | CredentialProvider | None = None,
        profile: str | None = None,
        max_attempts: int = 3,
        timeout: Timeout = (10.0, 60.0),
        *,
        model: Model | None = None,
        session: requests.Session | None = None,
        environ: Mapping[str, str] | None = None,
        use_fips: bool | None = None,
        use_dualstack: bool | None = None,
        token_factory: TokenFactory | None = None,
        sleep: Callable[[float], object] = time.sleep,
        rng: Callable[[], float] = random.random,
        now: Clock | None = None,
    ) -> None:
        check_client_arguments(locals(), requests.Session)
        env = os.environ if environ is None else environ
        self._environ = env
        self._now = now or _utcnow
        self.region = resolve_region(region, profile=profile, environ=env)
        settings = _profile_settings(env, profile) if endpoint_url is None else None
        self.endpoint: Endpoint = resolve_endpoint(
            self.region,
            use_fips=use_fips,
            use_dualstack=use_dualstack,
            endpoint_url=endpoint_url,
            environ=env,
            profile=settings,
        )
        if credentials is None:
            credentials = resolve_provider(profile=profile, environ=env, clock=self._now)
        elif isinstance(credentials, Credentials):
            credentials = CredentialProvider(credentials, clock=self._now)
        self.credentials: CredentialProvider = credentials
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.clock_offset = timedelta(0)
        # Without model=, the one EC2CODEC_MODEL names in this client's environment, else the bundled one.
        self._service = model.service if model is not None else model_from_environment(env)
        self._token_factory = token_factory or _uuid4
        self._sleep = sleep
        self._rng = rng
        self._own_session = session is None
        self._session = requests.Session() if session is None else session

    def __repr__(self) -> str:
        return f"<ec2codec.Client region={self.region!r} endpoint={self.endpoint.url!r}>"

    def close(self) -> None:
        """Close the HTTP session's connections (a session passed in is left open)."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- calls ------------------------------------------------------------

    def call(self, operation: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send ``operation`` and return botocore's result dict, retrying as botocore's standard mode does.

        The call is what a boto3 EC2 client makes of the same params: its EC2
        customizations are applied (see :mod:`ec2codec.client.customizations`).
        """
        if not isinstance(operation, str) or not self._service.has_operation(operation):
            raise ValidationError(str(operation), [("", f"unknown operation {operation!r}")])
        encoder = encoder_for(self._service, operation)
        request = self._request(encoder, params)  # once: every attempt sends these bytes
        url = request.url(self.endpoint.url)
        attempts = Attempts(self.max_attempts, self.clock_offset, self._rng)
        action: Action = attempts.start()
        while True:
            if isinstance(action, Send):
                outcome = self._attempt(operation, request, url, action.clock_offset)
                if outcome.error is None:
                    assert outcome.result is not None
                    return customizations.after_call(operation, outcome.result)
                action = attempts.failed(outcome.error, outcome.date, self._now(), outcome.retry_after)
                if isinstance(action, Send):
                    _WIRE.debug(
                        "clock skew: %s, server Date %s; signing with offset %s",
                        getattr(outcome.error, "code", outcome.error),
                        outcome.date,
                        action.clock_offset,
                    )
                    self.clock_offset = action.clock_offset  # later calls keep it
            elif isinstance(action, Sleep):
                _WIRE.debug(
                    "retrying %s after attempt %d of %d failed (%s); sleeping %.3f s",
                    operation,
                    attempts.attempt,
                    self.max_attempts,
                    action.error,
                    action.seconds,
                )
                self._sleep(action.seconds)
                action = attempts.slept()
            else:
                if isinstance(action.error, ServiceError) and action.error.operation_name is None:
                    action.error.operation_name = operation  # botocore's ClientError.operation_name
                raise action.error

    def paginate(
        self, operation: str, params: Mapping[str, Any] | None = None, **options: Any
    ) -> Iterator[dict[str, Any]]:
        """Every page of ``operation`` (see :func:`ec2codec.client.pagination.paginate`; ``page_size=``)."""
        from .pagination import paginate

        check_options(f"paginate {operation}", options, option_names(paginate, exclude=("model",)))
        options["model"] = self._service  # its paginators-1.json, when it came with one
        return paginate(self.call, operation, params, **options)

    def wait(self, name: str, params: Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        """Poll until waiter ``name`` succeeds (see :func:`.waiters.wait`), sleeping with the client's sleep."""
        from .waiters import wait

        check_options(f"wait {name}", options, option_names(wait, exclude=("model",)))
        options.setdefault("sleep", self._sleep)
        options["model"] = self._service  # its waiters-2.json, when it came with one
        return wait(self.call, name, params, **options)

    def wait_import_snapshot(self, task_id: str, **options: Any) -> dict[str, Any]:
        """Poll an ImportSnapshot task until it ends (see :func:`.import_waiter.wait_import_snapshot`)."""
        from .import_waiter import wait_import_snapshot

        check_options("wait_import_snapshot", options, option_names(wait_import_snapshot))
        options.setdefault("sleep", self._sleep)
        return wait_import_snapshot(self.call, task_id, **options)

    def _presigned_url(self, operation: str, params: Any, expires: int, method: str | None) -> str:
        # The core of generate_presigned_url (._boto3_methods): the params prepared as for sending.
        encoder = encoder_for(self._service, operation)
        prepared = self._with_tokens(encoder, self._prepare(encoder, params))
        now = self._now() + self.clock_offset
        return customizations.presigned_url(
            encoder, prepared, self.endpoint, self.credentials.get(), now=now, expires=expires, method=method
        )

    # -- one attempt ------------------------------------------------------

    def _prepare(self, encoder: OperationEncoder, params: Mapping[str, Any] | None) -> Any:
        # botocore's before-parameter-build: customizations, then idempotency tokens.
        op = encoder.operation
        return customizations.prepare_params(op.name, self._input_members(op.input), params)

    def _request(self, encoder: OperationEncoder, params: Mapping[str, Any] | None) -> EncodedRequest:
        """The request every attempt of one call sends, with botocore's EC2 customizations applied."""
        operation = encoder.operation.name
        prepared = self._with_tokens(encoder, self._prepare(encoder, params))
        if customizations.needs_context(operation):
            # botocore's before-call runs on validated params: encoding them first reports mistakes.
            context = customizations.CallContext(
                self.region,
                encoder.request(prepared).url(self.endpoint.url),
                self.credentials.get(),
                self._now() + self.clock_offset,
                encoder,
            )
            prepared = customizations.before_call(operation, prepared, context)
        request = encoder.request(prepared)
        request.headers.update(customizations.trace_headers(self._environ))
        return request

    def _with_tokens(self, encoder: OperationEncoder, params: Mapping[str, Any] | None) -> Any:
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            return params  # the encoder names the problem
        names = list(encoder.token_members)
        op = encoder.operation
        if op.name in _CLIENT_TOKEN_OPERATIONS and "ClientToken" in self._input_members(op.input):
            names.append("ClientToken")
        filled = dict(params)
        for name in names:
            if name not in filled:
                filled[name] = self._token_factory()
        return filled

    def _input_members(self, shape: str | None) -> Mapping[str, Any]:
        members: Mapping[str, Any] = self._service.shape(shape).get("members", {}) if shape else {}
        return members

    def _attempt(self, operation: str, request: EncodedRequest, url: str, clock_offset: timedelta) -> _Outcome:
        credentials = self.credentials.get()
        endpoint = self.endpoint
        headers = sign(
            request.method,
            url,
            request.headers,
            request.body,
            credentials,
            endpoint.signing_region,
            endpoint.signing_name,
            self._now() + clock_offset,
        )
        if _WIRE.isEnabledFor(logging.DEBUG):
            _WIRE.debug(
                "request %s %s headers=%s body=%s",
                request.method,
                url,
                redact_headers(headers),
                redact_body(request.body, headers),
            )
        try:
            response = self._session.request(
                request.method,
                url,
                data=request.body,
                headers=headers,
                stream=True,
                timeout=self.timeout,
                allow_redirects=False,  # a redirected POST would turn into a GET
            )
        except _TRANSPORT as exc:
            return _Outcome(None, _transport_error(exc, url, self.timeout, reading=False), None)
        with response:
            date = response.headers.get("Date")
            retry_after = response.headers.get("x-amz-retry-after")
            try:
                return _Outcome(self._read(operation, response, url), None, date, retry_after)
            except (ServiceError, ParseError, TransportError) as exc:
                return _Outcome(None, exc, date, retry_after)

    def _read(self, operation: str, response: requests.Response, url: str) -> dict[str, Any]:
        status = response.status_code
        parser = ResponseParser(operation, model=self._service, status=status)
        snippet: bytearray | None = bytearray() if _WIRE.isEnabledFor(logging.DEBUG) else None
        try:
            try:
                for chunk in response.iter_content(_CHUNK):
                    if snippet is not None and len(snippet) < _SNIPPET:
                        snippet += chunk[: _SNIPPET - len(snippet)]
                    parser.feed(chunk)
                result = parser.close()
            finally:
                if snippet is not None:
                    _WIRE.debug("response %d headers=%s body=%s", status, dict(response.headers), redact_xml(snippet))
        except ParseError as exc:
            if status < 301:
                raise
            raise _generic_error(response, f"the body is not an EC2 error document ({exc})") from exc
        except _TRANSPORT as exc:
            raise _transport_error(exc, url, self.timeout, reading=True) from exc
        if status >= 301:
            # botocore parses anything from 301 up as an error (EC2QueryParser).
            raise _generic_error(response, "the body is a success document")
        return result


def _transport_error(exc: BaseException, url: str, timeout: Timeout, *, reading: bool) -> TransportError:
    retryable = isinstance(exc, _BROKEN_REQUESTS) if isinstance(exc, requests.RequestException) else True
    kind: Kind = None
    if isinstance(exc, requests.ConnectTimeout):
        kind = "connect-timeout"
    elif isinstance(exc, requests.Timeout):
        kind = "read-timeout"
    elif isinstance(exc, requests.exceptions.SSLError):
        kind = "tls"
    elif isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        kind = "url"
    error = TransportError(describe_failure(kind, exc, url, timeout, reading=reading), retryable=retryable)
    error.__cause__ = exc
    return error


def _generic_error(response: requests.Response, why: str) -> ServiceError:
    status = response.status_code
    request_id = response.headers.get("x-amzn-RequestId") or response.headers.get("x-amz-request-id")
    return ServiceError(str(status), f"{response.reason or 'HTTP error'}: {why}", request_id, status=status)


def _profile_settings(env: Mapping[str, str], profile: str | None) -> dict[str, str]:
    # The active profile's use_fips_endpoint / endpoint_url / ... for resolve_endpoint.
    from ..auth.credentials.profiles import SharedFiles

    return SharedFiles(env, profile).settings()
