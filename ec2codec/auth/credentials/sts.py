"""The STS calls of the credential sources: AssumeRole (signed) and AssumeRoleWithWebIdentity (unsigned).

An :class:`StsClient` is what botocore's credential providers get from
``create_nested_client(session, "sts", region_name=...)``: the endpoint comes
from the active profile's settings and the client's region
(:mod:`._endpoints`: regional by default as in the pinned botocore,
``sts_regional_endpoints = legacy``, FIPS, dual-stack, ``AWS_ENDPOINT_URL_STS``
and the ``[services]`` section); requests are encoded and answers parsed by
the codec with the bundled STS model (awsQuery, the bytes botocore sends),
signed with SigV4 (:func:`ec2codec.auth.sigv4.sign`, service ``sts``) and
sent over ``http.client`` with the configured CA bundle (:mod:`._http`).
The parameters are passed in the order botocore's providers build them,
which is the order of the request body.

Retries follow botocore's standard policy in small: a failure to get an
answer, HTTP 429/500/502/503/504 and STS's throttling codes are retried up to
``max_attempts`` (the profile's, else 3) after ``rng() * min(2 ** (n - 1), 20)``
seconds. Failures are :class:`StsError` with a message safe to show: the STS
error code and message (``AccessDenied: User ... is not authorized ...``) or
the transport failure; never a request, a signature or a credential.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import ParseError, ServiceError, ValidationError
from ..sigv4 import Credentials, sign
from ._endpoints import ServiceEndpoint, service_endpoint
from .base import Clock, ConfigError, utcnow
from .config import Settings

__all__ = ["StsClient", "StsError"]

USER_AGENT = "ec2codec (credential provider)"
TIMEOUT = 60.0  # botocore's default connect and read timeouts
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "IDPCommunicationError"}
)


class StsError(Exception):
    """An STS call failed; ``code`` is the STS error code (None when no answer came). The message is safe."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class StsClient:
    """AssumeRole and AssumeRoleWithWebIdentity against the STS endpoint the settings and region select."""

    def __init__(
        self,
        settings: Settings,
        region: str | None,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], object] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self.region = region
        self._clock = clock or utcnow
        self._sleep = sleep
        self._rng = rng
        self._endpoint: ServiceEndpoint | None = None

    @property
    def endpoint(self) -> ServiceEndpoint:
        if self._endpoint is None:
            settings = self._settings
            self._endpoint = service_endpoint(
                "sts",
                self.region,
                use_fips=settings.use_fips,
                use_dualstack=settings.use_dualstack,
                configured=settings.configured_endpoint("sts"),
                sts_legacy=settings.sts_regional_endpoints == "legacy",
            )
        return self._endpoint

    def assume_role(self, params: Mapping[str, Any], credentials: Credentials) -> dict[str, Any]:
        return self._call("AssumeRole", params, credentials)

    def assume_role_with_web_identity(self, params: Mapping[str, Any]) -> dict[str, Any]:
        # The web identity token is the authentication: botocore sends it unsigned.
        return self._call("AssumeRoleWithWebIdentity", params, None)

    def _call(self, operation: str, params: Mapping[str, Any], credentials: Credentials | None) -> dict[str, Any]:
        from ...protocol.codec import bundled
        from ._http import HttpError, send

        try:
            endpoint = self.endpoint
            attempts = self._settings.max_attempts or 3
        except ConfigError as exc:
            raise StsError(str(exc)) from None
        codec = bundled("sts")
        try:
            request = codec.request(operation, params)
        except ValidationError as exc:
            # botocore refuses the same parameters before sending (e.g. duration_seconds under 900).
            problems = "; ".join(f"{path}: {message}" for path, message in exc.problems)
            raise StsError(f"{operation} was not sent: {problems}") from None
        url = request.url(endpoint.url)
        for attempt in range(1, attempts + 1):
            headers = dict(request.headers)
            if credentials is not None:
                headers = sign(
                    request.method,
                    url,
                    headers,
                    request.body,
                    credentials,
                    endpoint.signing_region,
                    "sts",
                    self._clock(),
                )
            headers["User-Agent"] = USER_AGENT
            failure: StsError
            try:
                response = send(
                    request.method,
                    url,
                    headers,
                    request.body,
                    timeout=TIMEOUT,
                    ca_bundle=self._settings.ca_bundle,
                    environ=self._settings.environ,
                )
            except HttpError as exc:
                failure = StsError(f"{operation} failed: {exc}")
                retry = exc.retryable
            else:
                try:
                    return codec.parse(operation, response.body, status=response.status)
                except ServiceError as exc:
                    failure = StsError(f"{operation} failed: {exc.code}: {' '.join(exc.message.split())}", exc.code)
                    retry = exc.code in _RETRY_CODES or response.status in _RETRY_STATUSES
                except ParseError as exc:
                    failure = StsError(f"{operation} failed: {exc}")
                    retry = response.status in _RETRY_STATUSES
            if not retry or attempt == attempts:
                raise failure
            self._sleep(self._rng() * min(2.0 ** (attempt - 1), 20.0))
        raise StsError(f"{operation} failed")  # not reached: the loop raises or returns
