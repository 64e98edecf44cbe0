"""The credential provider and the errors of the chain: what every credential source returns or raises.

A :class:`CredentialProvider` holds one source's credentials and refreshes
them before they expire (botocore's ``RefreshableCredentials`` timing); a
deferred provider (botocore's ``DeferredRefreshableCredentials``) fetches its
first credentials on the first :meth:`~CredentialProvider.get`, so resolving
an assume-role or SSO profile costs no network call until a request is signed.
:class:`CredentialsError` names every place looked at; :class:`ConfigError`
is a setting that cannot be used, :class:`RegionError` a missing or invalid
region. Every source module and the chain (:mod:`.chain`) use them, so they
live below all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

from ...errors import Error
from ..sigv4 import Credentials

__all__ = [
    "ADVISORY_REFRESH",
    "MANDATORY_REFRESH",
    "Clock",
    "ConfigError",
    "CredentialProvider",
    "CredentialsError",
    "RegionError",
    "utcnow",
]

Clock = Callable[[], datetime]

# botocore's _DEFAULT_ADVISORY_REFRESH_TIMEOUT and _DEFAULT_MANDATORY_REFRESH_TIMEOUT.
ADVISORY_REFRESH = timedelta(minutes=15)
MANDATORY_REFRESH = timedelta(minutes=10)


class CredentialsError(Error):
    """No usable credentials or region. ``searched`` lists each place looked at and what it held."""

    def __init__(self, message: str, searched: Sequence[str] = ()) -> None:
        self.searched = list(searched)
        lines = "".join(f"\n  - {place}" for place in self.searched)
        super().__init__(f"{message}; looked at:{lines}" if lines else message)


class ConfigError(Error):
    """A setting in the environment or the shared files is malformed or contradicts another one."""


class RegionError(ConfigError):
    """No region is configured, or the configured one cannot be part of a host name."""

    def __init__(self, message: str, searched: Sequence[str] = ()) -> None:
        self.searched = list(searched)
        lines = "".join(f"\n  - {place}" for place in self.searched)
        super().__init__(f"{message}; looked at:{lines}" if lines else message)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CredentialProvider:
    """The credentials of one source, refreshed before they expire; safe to share between threads.

    ``credentials`` None makes the provider deferred: the first :meth:`get`
    calls ``refresh`` (every thread waits for that one call). ``refresh`` must
    raise nothing but :class:`CredentialsError`.
    """

    def __init__(
        self,
        credentials: Credentials | None,
        source: str = "explicit arguments",
        refresh: Callable[[], Credentials] | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.source = source
        self._credentials = credentials
        self._refresh = refresh
        self._clock = clock or utcnow
        self._lock = threading.Lock()
        if credentials is None and refresh is None:
            raise CredentialsError("a deferred CredentialProvider needs a refresh function")

    def __repr__(self) -> str:
        shown = "<not fetched yet>" if self._credentials is None else repr(self._credentials)
        return f"CredentialProvider(source={self.source!r}, credentials={shown})"

    @property
    def refreshable(self) -> bool:
        return self._refresh is not None

    def _remaining(self, credentials: Credentials) -> timedelta | None:
        expiration = credentials.expiration
        if expiration is None or self._refresh is None:
            return None
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=timezone.utc)
        return expiration - self._clock()

    def _fresh_enough(self, credentials: Credentials | None) -> Credentials | None:
        """``credentials`` when they need no refresh yet, else None."""
        if credentials is None:
            return None
        remaining = self._remaining(credentials)
        return credentials if remaining is None or remaining > ADVISORY_REFRESH else None

    def get(self) -> Credentials:
        """The current credentials, refreshed first when they expire within 15 minutes (fetched if deferred)."""
        current = self._credentials
        usable = self._fresh_enough(current)
        if usable is not None:
            return usable
        # In the advisory window one thread refreshes and the others carry on
        # with the current credentials; in the mandatory window (or before the
        # first fetch of a deferred provider) everyone waits.
        mandatory = current is None or (self._remaining(current) or timedelta(0)) <= MANDATORY_REFRESH
        if not self._lock.acquire(blocking=mandatory) and current is not None:
            return current
        try:
            current = self._credentials
            usable = self._fresh_enough(current)
            if usable is not None:
                return usable
            if self._refresh is None:  # only static credentials lack it, and they are always fresh enough
                raise CredentialsError(f"credentials from {self.source} cannot be refreshed")
            try:
                fresh = self._refresh()
            except CredentialsError:
                if current is None or (self._remaining(current) or timedelta(0)) <= MANDATORY_REFRESH:
                    raise
                return current
            left = self._remaining(fresh)
            if left is not None and left <= timedelta(0):
                raise CredentialsError(f"credentials refreshed from {self.source} are already expired")
            self._credentials = fresh
            return fresh
        finally:
            self._lock.release()
