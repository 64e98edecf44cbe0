"""The two HTTP credential endpoints: the container endpoint (ECS, EKS Pod Identity) and EC2 IMDS.

Private to :mod:`ec2codec.auth.credentials.chain`, imported only when one of them is
consulted. Standard library only (``http.client``): the codec core never
imports ``requests``, and no proxy from the environment is applied to these
link-local addresses. Behaviour follows botocore's ``ContainerMetadataFetcher``
and ``InstanceMetadataFetcher``; every failure is a :class:`MetadataError`
whose message names the URL and the cause, never a response body (which may
carry a secret).
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from ...protocol._time import parse_timestamp
from ..sigv4 import Credentials

__all__ = [
    "CONTAINER_HOST",
    "IMDS_URL",
    "IMDS_URL_IPV6",
    "ContainerFetcher",
    "ImdsFetcher",
    "MetadataError",
    "check_container_url",
]

USER_AGENT = "ec2codec"
CONTAINER_HOST = "169.254.170.2"
# botocore's ContainerMetadataFetcher: 2 s per try, 3 tries, 1 s apart.
CONTAINER_TIMEOUT = 2.0
CONTAINER_ATTEMPTS = 3
CONTAINER_RETRY_DELAY = 1.0
# A FULL_URI over plain HTTP may only reach these (ECS, EKS Pod Identity) or a loopback address.
_CONTAINER_HOSTS = (CONTAINER_HOST, "169.254.170.23", "fd00:ec2::23", "localhost")
IMDS_URL = "http://169.254.169.254/"
IMDS_URL_IPV6 = "http://[fd00:ec2::254]/"
_TOKEN_TTL = "21600"  # seconds; botocore's IMDSv2 session length
_ROLE_PATH = "latest/meta-data/iam/security-credentials/"
_MAX_BODY = 64 * 1024  # credential documents are tiny; never buffer a rogue stream


class MetadataError(Exception):
    """An endpoint could not supply credentials; the message is safe to show."""


class _Unreachable(MetadataError):
    """No TCP connection at all: nothing is listening there (e.g. not on EC2)."""


def _request(method: str, url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    parts = urlsplit(url)
    factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = factory(parts.hostname or "", parts.port, timeout=timeout)
    try:
        try:
            conn.connect()
        except OSError as exc:
            raise _Unreachable(f"cannot connect to {url}: {exc.__class__.__name__}") from None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, headers=dict(headers))
        response = conn.getresponse()
        return response.status, response.read(_MAX_BODY)
    finally:
        conn.close()


def _credentials(document: Any, url: str) -> Credentials:
    if not isinstance(document, dict) or not {"AccessKeyId", "SecretAccessKey"} <= document.keys():
        code = document.get("Code") if isinstance(document, dict) else None
        detail = f" (error code {code})" if isinstance(code, str) else ""
        raise MetadataError(f"{url} returned no credentials{detail}")
    expiration = document.get("Expiration")
    try:
        expires = parse_timestamp(expiration) if isinstance(expiration, str) else None
    except ValueError:
        raise MetadataError(f"{url} returned an unreadable Expiration") from None
    token = document.get("Token")
    return Credentials(
        str(document["AccessKeyId"]), str(document["SecretAccessKey"]), None if token is None else str(token), expires
    )


def check_container_url(url: str) -> None:
    """botocore's rule for AWS_CONTAINER_CREDENTIALS_FULL_URI: HTTPS anywhere, HTTP only to known hosts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MetadataError(f"AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL: {url}")
    if parts.scheme == "https" or parts.hostname in _CONTAINER_HOSTS:
        return
    try:
        if ip_address(parts.hostname).is_loopback:
            return
    except ValueError:
        pass
    raise MetadataError(
        f"unsupported host {parts.hostname!r} in AWS_CONTAINER_CREDENTIALS_FULL_URI: plain HTTP may only reach "
        f"a loopback address or one of {', '.join(_CONTAINER_HOSTS)}"
    )


class ContainerFetcher:
    """Fetches credentials from the container endpoint; call it for each (re)load."""

    def __init__(self, url: str, environ: Mapping[str, str], sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self._environ = environ
        self._sleep = sleep

    def _authorization(self) -> str | None:
        # The token file wins over the variable and is re-read on every fetch:
        # EKS Pod Identity rotates it.
        path = self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        token: str | None
        if path:
            try:
                with open(path, encoding="utf-8") as file:
                    token = file.read()
            except OSError as exc:
                raise MetadataError(
                    f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}: {exc.strerror}"
                ) from None
        else:
            token = self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        if token is not None and ("\r" in token or "\n" in token):
            raise MetadataError("the container authorization token is not a legal header value (contains CR or LF)")
        return token

    def __call__(self) -> Credentials:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        token = self._authorization()
        if token is not None:
            headers["Authorization"] = token
        problem = ""
        for attempt in range(CONTAINER_ATTEMPTS):
            if attempt:
                self._sleep(CONTAINER_RETRY_DELAY)
            try:
                status, body = _request("GET", self.url, headers, CONTAINER_TIMEOUT)
            except (OSError, http.client.HTTPException, MetadataError) as exc:
                problem = str(exc) if isinstance(exc, MetadataError) else f"{exc.__class__.__name__} from {self.url}"
                continue
            if status != 200:
                problem = f"{self.url} answered HTTP {status}"
                continue
            try:
                document = json.loads(body)
            except ValueError:
                problem = f"{self.url} returned a body that is not JSON"
                continue
            return _credentials(document, self.url)
        raise MetadataError(f"{problem} (after {CONTAINER_ATTEMPTS} attempts)")


class ImdsFetcher:
    """Fetches the instance role's credentials from IMDS (IMDSv2 session token, IMDSv1 fallback).

    As botocore: the token PUT falls back to IMDSv1 on 403/404/405 or a read
    timeout (a container behind a hop limit of 1 never sees the answer), unless
    IMDSv1 is disabled. Unlike botocore, a failure to *connect* ends the
    attempt at once instead of trying IMDSv1 too: nothing is listening, and a
    second timeout would only double the stall on a machine that is not EC2.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        attempts: int,
        v1_disabled: bool,
        clock: Callable[[], datetime],
        refresh_window: timedelta,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._attempts = max(attempts, 1)
        self._v1_disabled = v1_disabled
        self._clock = clock
        self._window = refresh_window

    def _token(self) -> str | None:
        url = self.base_url + "latest/api/token"
        headers = {"x-aws-ec2-metadata-token-ttl-seconds": _TOKEN_TTL, "User-Agent": USER_AGENT}
        unreachable: _Unreachable | None = None
        for _ in range(self._attempts):
            try:
                status, body = _request("PUT", url, headers, self._timeout)
            except _Unreachable as exc:
                unreachable = exc
                continue
            except TimeoutError:
                return None
            except (OSError, http.client.HTTPException):
                unreachable = None
                continue
            if status == 200:
                return body.decode("utf-8", "replace")
            if status in (403, 404, 405):
                return None
            if status == 400:
                raise MetadataError(f"{url} rejected the token request (HTTP 400)")
        if unreachable is not None:
            raise unreachable
        return None

    def _get(self, path: str, token: str | None, valid: Callable[[bytes], bool]) -> bytes:
        url = self.base_url + path
        headers = {"User-Agent": USER_AGENT}
        if token is not None:
            headers["x-aws-ec2-metadata-token"] = token
        problem = "no answer"
        for _ in range(self._attempts):
            try:
                status, body = _request("GET", url, headers, self._timeout)
            except (OSError, http.client.HTTPException, MetadataError) as exc:
                problem = str(exc) if isinstance(exc, MetadataError) else exc.__class__.__name__
                continue
            if status == 200 and body and valid(body):
                return body
            problem = f"HTTP {status}" if status != 200 else "an empty or unreadable body"
        raise MetadataError(f"{url}: {problem} after {self._attempts} attempt(s)")

    def __call__(self) -> Credentials:
        token = self._token()
        if token is None and self._v1_disabled:
            raise MetadataError("no IMDSv2 token and IMDSv1 is disabled (AWS_EC2_METADATA_V1_DISABLED)")
        role = self._get(_ROLE_PATH, token, lambda body: True).decode("utf-8", "replace").strip()
        body = self._get(_ROLE_PATH + role, token, _is_json)
        credentials = _credentials(json.loads(body), self.base_url + _ROLE_PATH + role)
        if credentials.token is None or credentials.expiration is None:
            raise MetadataError(f"{self.base_url + _ROLE_PATH + role} returned credentials without Token/Expiration")
        return self._extend(credentials)

    def _extend(self, credentials: Credentials) -> Credentials:
        # botocore's static stability: during an IMDS outage, credentials that
        # are (nearly) expired are used a little longer, and retried 2-10 min
        # (jittered, so a fleet does not retry in step) past the refresh window.
        if credentials.expiration is None:
            return credentials
        now = self._clock()
        offset = self._window + timedelta(seconds=random.randint(120, 600))
        if now >= credentials.expiration - offset:
            return Credentials(credentials.access_key, credentials.secret_key, credentials.token, now + offset)
        return credentials


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
