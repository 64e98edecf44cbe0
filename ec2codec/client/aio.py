"""The asyncio client over aiohttp: :class:`AsyncClient`, the sync client's behaviour, awaited; the only aiohttp user.

Owns the event-loop side of a call and nothing that decides: each
``await client.call(...)`` encodes once (idempotency tokens filled once, so
every retry carries the same token), then drives the same sans-I/O attempt
machine as :class:`ec2codec.client.sync.Client` (:mod:`.attempts`: retries by
botocore's ``standard`` mode, full-jitter backoff, the once-per-call clock-skew
re-sign), signs each attempt and reads each response through
:mod:`._shared`, and streams each body chunk by chunk (aiohttp's
``iter_chunked``, 64 KiB) into a :class:`~ec2codec.protocol.xml.ResponseParser`.
Pagination, waiters and ``wait_import_snapshot`` run the sans-I/O cores of
:mod:`.pagination`, :mod:`.waiters` and :mod:`.import_waiter` with awaitable
``call`` and ``sleep``. So for the same faults both clients make the same
attempts, sleep the same delays, send the same bytes and end the same way.
Like the sync client it applies boto3's EC2 customizations
(:mod:`.customizations`), checks its arguments when made and the options of
``paginate``/``wait`` when called (:mod:`._arguments`), and says what failed
in one sentence (:mod:`._failures`). boto3's helper objects
(``get_paginator``, ``get_waiter``, ``generate_presigned_url``, ...) are the
sync client's only.

Transport: one ``aiohttp.ClientSession`` per client, opened on the first
request (inside the running loop) and closed by ``async with`` or
``await client.close()``; a session passed in is used as is and left open.
``timeout=(connect, read)`` maps to aiohttp's ``sock_connect``/``sock_read``,
as requests applies them (no total deadline). The URL is sent exactly as
signed (``yarl.URL(..., encoded=True)``: no re-quoting). Anything aiohttp,
asyncio or the socket layer raises becomes a :class:`TransportError`:
connection failures, timeouts and bodies cut short are retryable, as in the
sync client; an invalid URL or another client error is not.

Credentials never block the loop. The default chain (``credentials=None``)
may read files and ask the container endpoint or IMDS, so it is resolved in a
worker thread (``asyncio.to_thread``) on ``async with`` or the first call,
not in the constructor; a refreshable provider is asked in a worker thread
only when its credentials are within 15 minutes of expiring (botocore's
advisory window), and concurrent tasks share that one refresh (an
``asyncio.Lock``). In the advisory window tasks that find a refresh under way
carry on with the current credentials; in the mandatory window (10 minutes)
they wait for it, as :class:`~ec2codec.auth.credentials.base.CredentialProvider`
does between threads.

A client belongs to one event loop: open, use and close it inside the same
``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from datetime import timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..auth.credentials.base import ADVISORY_REFRESH, MANDATORY_REFRESH
from ..auth.credentials.chain import CredentialProvider
from ..auth.credentials.config import load_settings
from ..auth.sigv4 import Credentials
from ..errors import ParseError, ServiceError, ValidationError
from ..model.service import model_from_environment
from ..protocol.query import EncodedRequest, TokenFactory
from ..protocol.xml import ResponseParser
from . import customizations
from ._arguments import check_client_arguments, check_options, option_names
from ._client_methods import ClientMethods
from ._failures import Kind, describe_failure
from ._shared import (
    CHUNK,
    Clock,
    MissingExtraError,
    Outcome,
    ResponseReader,
    build_request,
    checked_encoder,
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
)
from .attempts import Action, Attempts, Send, Sleep, TransportError

try:
    import aiohttp
    from yarl import URL
except ImportError as exc:  # the optional extra is missing
    raise MissingExtraError("ec2codec.AsyncClient", "async", "aiohttp") from exc

if TYPE_CHECKING:
    from ..protocol.codec import Model

__all__ = ["AsyncClient", "TransportError"]

Timeout = float | tuple[float, float]
AsyncSleep = Callable[[float], Awaitable[object]]

# Failures that mean no whole response arrived (botocore's ConnectionError/HTTPClientError):
# refused, reset, disconnected, timed out, a body cut short.
_BROKEN = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)
_TRANSPORT = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
_BLOCKING_SLEEP: object = time.sleep  # the sync client's default, the likeliest mistake


class AsyncClient(ClientMethods[Coroutine[Any, Any, dict[str, Any]]]):
    """An asyncio EC2 client: ``await client.call("DescribeRegions", {})`` or ``await client.describe_regions()``.

    The constructor is :class:`ec2codec.Client`'s, with ``session`` an
    ``aiohttp.ClientSession`` and ``sleep`` awaitable (``asyncio.sleep``).
    Region and endpoint are resolved here (shared files, no network); the
    default credential chain on ``async with`` or the first call, in a worker
    thread (see the module docstring). Use it as ``async with AsyncClient(...)
    as ec2:``, or ``await client.close()`` when done.
    """

    # The positional order is public API, the sync client's.
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
        session: aiohttp.ClientSession | None = None,
        environ: Mapping[str, str] | None = None,
        use_fips: bool | None = None,
        use_dualstack: bool | None = None,
        token_factory: TokenFactory | None = None,
        sleep: AsyncSleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        now: Clock | None = None,
        verify: bool | str = True,
        retry_mode: str | None = None,
        mfa_prompt: Callable[[str], str] | None = None,
    ) -> None:
        check_client_arguments(
            locals(), aiohttp.ClientSession, client="AsyncClient", session="an aiohttp.ClientSession"
        )
        if sleep is _BLOCKING_SLEEP:  # it would block the loop, and returns nothing to await
            raise ValidationError("AsyncClient", [("sleep", "expected a coroutine function such as asyncio.sleep")])
        self._client_timeout = _client_timeout(timeout)
        env = os.environ if environ is None else environ
        self._environ = env
        self._now = now or utcnow
        # The same configuration as the sync client (see ec2codec.client._shared).
        settings = load_settings(env, profile)
        self.region, self.endpoint = resolve_location(
            region, endpoint_url, profile, env, use_fips=use_fips, use_dualstack=use_dualstack, settings=settings
        )
        self.retry_mode, self.max_attempts = resolve_retries(settings, max_attempts, retry_mode)
        #: The configured CA bundle (AWS_CA_BUNDLE / ca_bundle), or None.
        self.ca_bundle = settings.ca_bundle
        self.verify = verify
        # verify=True (the default) means the configured CA bundle when there is one (botocore's verify=None).
        self._ssl = _ssl_option(self.ca_bundle if verify is True and self.ca_bundle else verify)
        self._credentials = _LoopCredentials(
            credentials, profile, env, self._now, region=self.region, mfa_prompt=mfa_prompt
        )
        self.timeout = timeout
        self.clock_offset = timedelta(0)
        # Without model=, the one EC2CODEC_MODEL names in this client's environment, else the bundled one.
        self._service = model.service if model is not None else model_from_environment(env)
        self._token_factory = token_factory or uuid4_token
        self._sleep = sleep
        self._rng = rng
        self._own_session = session is None
        self._session = session

    def __repr__(self) -> str:
        return f"<ec2codec.AsyncClient region={self.region!r} endpoint={self.endpoint.url!r}>"

    @property
    def credentials(self) -> CredentialProvider | None:
        """The credential provider; None until the default chain has been resolved (``async with``, first call)."""
        return self._credentials.provider

    async def close(self) -> None:
        """Close the aiohttp session's connections (a session passed in is left open)."""
        if self._own_session and self._session is not None:
            session, self._session = self._session, None  # a later call opens a new one
            await session.close()

    async def __aenter__(self) -> AsyncClient:
        # Resolve the credential chain now, so a missing configuration fails
        # here as the sync client's constructor fails, not at the first call.
        await self._credentials.resolve()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- calls ------------------------------------------------------------

    async def call(self, operation: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send ``operation`` and return botocore's result dict, retrying as botocore's standard mode does.

        As the sync client's, the call is what a boto3 EC2 client makes of the
        same params (see :mod:`ec2codec.client.customizations`).
        """
        encoder = checked_encoder(self._service, operation)
        prepared = prepared_params(self._service, encoder, params, self._token_factory)
        context = None
        if customizations.needs_context(operation):
            context = (self.region, await self._credentials.get(), self._now() + self.clock_offset)
        request = build_request(encoder, prepared, self.endpoint, self._environ, context)  # once for every attempt
        url = request.url(self.endpoint.url)
        # The same machine as the sync client's loop; this loop only carries out its decisions.
        attempts = Attempts(self.max_attempts, self.clock_offset, self._rng, mode=self.retry_mode)
        action: Action = attempts.start()
        while True:
            if isinstance(action, Send):
                outcome = await self._attempt(operation, request, url, action.clock_offset)
                if outcome.error is None:
                    assert outcome.result is not None
                    return customizations.after_call(operation, outcome.result)
                action = attempts.failed(outcome.error, outcome.date, self._now(), outcome.retry_after)
                if isinstance(action, Send):
                    log_resign(outcome, action.clock_offset)
                    self.clock_offset = action.clock_offset  # later calls keep it
            elif isinstance(action, Sleep):
                log_retry(operation, attempts, action)
                await self._sleep(action.seconds)
                action = attempts.slept()
            else:
                raise named(action.error, operation)

    def paginate(
        self, operation: str, params: Mapping[str, Any] | None = None, **options: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of ``operation``: ``async for page in client.paginate(...)`` (``page_size=``)."""
        from .pagination import paginate_async

        check_options(f"paginate {operation}", options, option_names(paginate_async))
        return paginate_async(self.call, operation, params, **options)

    async def wait(self, name: str, params: Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        """Poll until waiter ``name`` succeeds (see :func:`.waiters.wait`), sleeping with the client's sleep."""
        from .waiters import wait_async

        check_options(f"wait {name}", options, option_names(wait_async))
        options.setdefault("sleep", self._sleep)
        return await wait_async(self.call, name, params, **options)

    async def wait_import_snapshot(self, task_id: str, **options: Any) -> dict[str, Any]:
        """Poll an ImportSnapshot task until it ends (see :func:`.import_waiter.wait_import_snapshot`)."""
        from .import_waiter import wait_import_snapshot_async

        check_options("wait_import_snapshot", options, option_names(wait_import_snapshot_async))
        options.setdefault("sleep", self._sleep)
        return await wait_import_snapshot_async(self.call, task_id, **options)

    # -- one attempt ------------------------------------------------------

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._client_timeout)
        return self._session

    async def _attempt(self, operation: str, request: EncodedRequest, url: str, clock_offset: timedelta) -> Outcome:
        credentials = await self._credentials.get()
        headers = sign_attempt(request, url, credentials, self.endpoint, self._now() + clock_offset)
        session = self._open_session()
        try:
            async with session.request(
                request.method,
                URL(url, encoded=True),  # exactly the URL that was signed
                data=request.body,
                headers=headers,
                timeout=self._client_timeout,
                allow_redirects=False,  # a redirected POST would turn into a GET
                ssl=self._ssl,
            ) as response:
                date = response.headers.get("Date")
                retry_after = response.headers.get("x-amz-retry-after")
                try:
                    return Outcome(await self._read(operation, response, url), None, date, retry_after)
                except (ServiceError, ParseError, TransportError) as exc:
                    return Outcome(None, exc, date, retry_after)
        except _TRANSPORT as exc:
            return Outcome(None, _transport_error(exc, url, self.timeout, reading=False), None)

    async def _read(self, operation: str, response: aiohttp.ClientResponse, url: str) -> dict[str, Any]:
        status = response.status
        parser = ResponseParser(operation, model=self._service, status=status)
        reader = ResponseReader(parser, status, response.reason, response.headers)
        try:
            try:
                async for chunk in response.content.iter_chunked(CHUNK):
                    reader.feed(chunk)
                return reader.finish()
            finally:
                reader.log()
        except _TRANSPORT as exc:
            raise _transport_error(exc, url, self.timeout, reading=True) from exc


class _LoopCredentials:
    """A client's credentials for the event loop: resolution and refreshes in a worker thread, one at a time."""

    def __init__(
        self,
        given: Credentials | CredentialProvider | None,
        profile: str | None,
        environ: Mapping[str, str],
        clock: Clock,
        *,
        region: str | None = None,
        mfa_prompt: Callable[[str], str] | None = None,
    ) -> None:
        self._given = given
        self._profile = profile
        self._environ = environ
        self._clock = clock
        self._region = region
        self._mfa_prompt = mfa_prompt
        self.provider = None if given is None else resolve_credentials_provider(given, profile, environ, clock)
        self._current: Credentials | None = None
        self._lock = asyncio.Lock()

    async def resolve(self) -> CredentialProvider:
        """The provider, running the default chain in a worker thread the first time (once, for every task)."""
        if self.provider is None:
            async with self._lock:
                if self.provider is None:
                    self.provider = await asyncio.to_thread(
                        functools.partial(
                            resolve_credentials_provider,
                            self._given,
                            self._profile,
                            self._environ,
                            self._clock,
                            region=self._region,
                            mfa_prompt=self._mfa_prompt,
                        )
                    )
        return self.provider

    async def get(self) -> Credentials:
        """Credentials to sign with now; a refresh that may do I/O runs in a worker thread, shared by all tasks."""
        current = self._current
        if current is not None:
            remaining = self._remaining(current)
            if remaining is None or remaining > ADVISORY_REFRESH:
                return current
            if remaining > MANDATORY_REFRESH and self._lock.locked():
                return current  # another task is refreshing; these are still good for 10 minutes
        provider = await self.resolve()
        async with self._lock:
            current = self._current
            if current is not None:
                remaining = self._remaining(current)
                if remaining is None or remaining > ADVISORY_REFRESH:
                    return current  # refreshed by the task that held the lock
            # Only a refreshable provider can do I/O in get(); a fixed one is asked inline.
            fresh = await asyncio.to_thread(provider.get) if provider.refreshable else provider.get()
            self._current = fresh
            return fresh

    def _remaining(self, credentials: Credentials) -> timedelta | None:
        expiration = credentials.expiration
        if expiration is None or self.provider is None or not self.provider.refreshable:
            return None
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=timezone.utc)
        return expiration - self._clock()


def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    """requests' ``(connect, read)`` timeout as aiohttp's: per socket operation, no total deadline."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


def _transport_error(exc: BaseException, url: str, timeout: Timeout, *, reading: bool) -> TransportError:
    retryable = isinstance(exc, _BROKEN) if isinstance(exc, aiohttp.ClientError) else True
    # What aiohttp itself says failed; the rest :func:`._failures.describe_failure` reads from the chain.
    kind: Kind = None
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = "connect-timeout"
    elif isinstance(exc, asyncio.TimeoutError):  # SocketTimeoutError (sock_read) and bare timeouts
        kind = "read-timeout"
    elif isinstance(exc, aiohttp.ClientSSLError):
        kind = "tls"
    elif isinstance(exc, aiohttp.InvalidURL):
        kind = "url"
    error = TransportError(
        describe_failure(kind, exc, url, timeout, reading=reading),
        retryable=retryable,
        incomplete_body=isinstance(exc, aiohttp.ClientPayloadError),
    )
    error.__cause__ = exc
    return error


def _ssl_option(verify: bool | str) -> Any:
    """aiohttp's ``ssl=`` for botocore's ``verify=``: True as usual, False no check, a path: that CA bundle."""
    if verify is True:
        return True
    if verify is False:
        return False
    import ssl

    try:
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise ValidationError("AsyncClient", [("verify", f"cannot read the CA bundle {verify}: {exc}")]) from None
