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
4. retries by botocore's ``standard`` policy (``legacy`` when the
   configuration says so), as the sans-I/O state machine of :mod:`.attempts`
   decides (with injectable ``sleep`` and ``rng``); this module only carries
   out its decisions.

Configuration is read as the AWS CLI reads it
(:mod:`ec2codec.auth.credentials.config`): ``AWS_CA_BUNDLE``/``ca_bundle``
becomes requests' ``verify=``, ``AWS_MAX_ATTEMPTS``/``max_attempts`` and
``AWS_RETRY_MODE``/``retry_mode`` apply when the arguments do not say
otherwise, and the profile's ``services`` section and ``endpoint_url`` select
the endpoint.

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

import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from http.client import HTTPException
from types import TracebackType
from typing import TYPE_CHECKING, Any

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from ..auth.credentials.chain import CredentialProvider
from ..auth.credentials.config import load_settings
from ..auth.sigv4 import Credentials
from ..errors import ParseError, ServiceError
from ..model.service import model_from_environment
from ..protocol.query import EncodedRequest, OperationEncoder, TokenFactory, encoder_for
from ..protocol.xml import ResponseParser
from . import customizations
from ._arguments import check_client_arguments, check_options, option_names
from ._boto3_methods import Boto3Methods
from ._client_methods import ClientMethods
from ._failures import Kind, describe_failure
from ._shared import (
    CHUNK,
    Outcome,
    ResponseReader,
    build_request,
    checked_encoder,
    input_members,
    log_resign,
    log_retry,
    named,
    prepared_params,
    resolve_credentials_provider,
    resolve_location,
    resolve_retries,
    sign_attempt,
    utcnow,
    uuid4_token,
    with_tokens,
)
from ._wirelog import SECRET_WORDS
from .attempts import Action, Attempts, Send, Sleep, TransportError

if TYPE_CHECKING:
    from ..protocol.codec import Model

__all__ = ["SECRET_WORDS", "Client", "TransportError"]

Clock = Callable[[], datetime]
Timeout = float | tuple[float, float]

# Failures that mean no whole response arrived (botocore's ConnectionError/HTTPClientError).
# Every requests exception is an OSError, so its own classes are told apart first.
_BROKEN_REQUESTS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_TRANSPORT = (requests.RequestException, Urllib3Error, HTTPException, OSError)


class Client(ClientMethods[dict[str, Any]], Boto3Methods):
    """An EC2 client: ``client.call("DescribeRegions", {})`` or ``client.describe_regions()``.

    Region, credentials and endpoint are resolved as the AWS CLI resolves them
    when not given (``environ`` replaces ``os.environ``; ``profile`` selects the
    shared-file profile). ``credentials`` is fixed :class:`Credentials` or a
    :class:`CredentialProvider`, asked before every attempt; ``mfa_prompt``
    answers the MFA code of a role profile with ``mfa_serial``.
    ``max_attempts`` and ``retry_mode`` (``standard`` or ``legacy``) default to
    the configured ones, else standard with 3 attempts. ``timeout`` is
    ``(connect, read)`` seconds or one number for both. ``now`` returns the
    aware UTC time (the real clock by default). ``verify`` checks the server's
    TLS certificate (False: not at all; a path: against that CA bundle; True:
    against the configured ``AWS_CA_BUNDLE``/``ca_bundle``, else the system's),
    as botocore's ``verify=``. ``model`` (``ec2codec.load_model``)
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
        max_attempts: int | None = None,
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
        verify: bool | str = True,
        retry_mode: str | None = None,
        mfa_prompt: Callable[[str], str] | None = None,
    ) -> None:
        check_client_arguments(locals(), requests.Session)
        env = os.environ if environ is None else environ
        self._environ = env
        self._now = now or utcnow
        settings = load_settings(env, profile)
        self.region, self.endpoint = resolve_location(
            region, endpoint_url, profile, env, use_fips=use_fips, use_dualstack=use_dualstack, settings=settings
        )
        self.credentials: CredentialProvider = resolve_credentials_provider(
            credentials, profile, env, self._now, region=self.region, mfa_prompt=mfa_prompt
        )
        self.retry_mode, self.max_attempts = resolve_retries(settings, max_attempts, retry_mode)
        #: The configured CA bundle (AWS_CA_BUNDLE / ca_bundle), or None.
        self.ca_bundle = settings.ca_bundle
        self.timeout = timeout
        self.verify = verify
        # verify=True (the default) means the configured CA bundle when there is one (botocore's verify=None).
        self._verify = self.ca_bundle if verify is True and self.ca_bundle else verify
        self.clock_offset = timedelta(0)
        # Without model=, the one EC2CODEC_MODEL names in this client's environment, else the bundled one.
        self._service = model.service if model is not None else model_from_environment(env)
        self._token_factory = token_factory or uuid4_token
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
        encoder = checked_encoder(self._service, operation)
        request = self._request(encoder, params)  # once: every attempt sends these bytes
        url = request.url(self.endpoint.url)
        attempts = Attempts(self.max_attempts, self.clock_offset, self._rng, mode=self.retry_mode)
        action: Action = attempts.start()
        while True:
            if isinstance(action, Send):
                outcome = self._attempt(operation, request, url, action.clock_offset)
                if outcome.error is None:
                    assert outcome.result is not None
                    return customizations.after_call(operation, outcome.result)
                action = attempts.failed(outcome.error, outcome.date, self._now(), outcome.retry_after)
                if isinstance(action, Send):
                    log_resign(outcome, action.clock_offset)
                    self.clock_offset = action.clock_offset  # later calls keep it
            elif isinstance(action, Sleep):
                log_retry(operation, attempts, action)
                self._sleep(action.seconds)
                action = attempts.slept()
            else:
                raise named(action.error, operation)

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
        # botocore's before-parameter-build: customizations (tokens are _with_tokens').
        op = encoder.operation
        return customizations.prepare_params(op.name, self._input_members(op.input), params)

    def _request(self, encoder: OperationEncoder, params: Mapping[str, Any] | None) -> EncodedRequest:
        """The request every attempt of one call sends, with botocore's EC2 customizations applied."""
        prepared = prepared_params(self._service, encoder, params, self._token_factory)
        context = None
        if customizations.needs_context(encoder.operation.name):
            context = (self.region, self.credentials.get(), self._now() + self.clock_offset)
        return build_request(encoder, prepared, self.endpoint, self._environ, context)

    def _with_tokens(self, encoder: OperationEncoder, params: Mapping[str, Any] | None) -> Any:
        return with_tokens(self._service, encoder, params, self._token_factory)

    def _input_members(self, shape: str | None) -> Mapping[str, Any]:
        return input_members(self._service, shape)

    def _attempt(self, operation: str, request: EncodedRequest, url: str, clock_offset: timedelta) -> Outcome:
        credentials = self.credentials.get()
        headers = sign_attempt(request, url, credentials, self.endpoint, self._now() + clock_offset)
        try:
            response = self._session.request(
                request.method,
                url,
                data=request.body,
                headers=headers,
                stream=True,
                timeout=self.timeout,
                verify=self._verify,
                allow_redirects=False,  # a redirected POST would turn into a GET
            )
        except _TRANSPORT as exc:
            return Outcome(None, _transport_error(exc, url, self.timeout, reading=False), None)
        with response:
            date = response.headers.get("Date")
            retry_after = response.headers.get("x-amz-retry-after")
            try:
                return Outcome(self._read(operation, response, url), None, date, retry_after)
            except (ServiceError, ParseError, TransportError) as exc:
                return Outcome(None, exc, date, retry_after)

    def _read(self, operation: str, response: requests.Response, url: str) -> dict[str, Any]:
        status = response.status_code
        parser = ResponseParser(operation, model=self._service, status=status)
        reader = ResponseReader(parser, status, response.reason, response.headers)
        try:
            try:
                for chunk in response.iter_content(CHUNK):
                    reader.feed(chunk)
                return reader.finish()
            finally:
                reader.log()
        except _TRANSPORT as exc:
            raise _transport_error(exc, url, self.timeout, reading=True) from exc


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
    cut_short = isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError))
    error = TransportError(
        describe_failure(kind, exc, url, timeout, reading=reading), retryable=retryable, incomplete_body=cut_short
    )
    error.__cause__ = exc
    return error
