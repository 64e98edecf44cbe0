"""The credential provider and its error: what every credential source returns or raises.

A :class:`CredentialProvider` holds one source's credentials and refreshes
them before they expire (botocore's ``RefreshableCredentials`` timing);
:class:`CredentialsError` names every place looked at. Both the chain
(:mod:`.chain`) and the shared-file reader (:mod:`.profiles`) use them, so
they live below both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

from ...errors import Error
from ..sigv4 import Credentials

__all__ = ["ADVISORY_REFRESH", "MANDATORY_REFRESH", "Clock", "CredentialProvider", "CredentialsError", "utcnow"]

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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CredentialProvider:
    """The credentials of one source, refreshed before they expire; safe to share between threads."""

    def __init__(
        self,
        credentials: Credentials,
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

    def __repr__(self) -> str:
        return f"CredentialProvider(source={self.source!r}, credentials={self._credentials!r})"

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

    def get(self) -> Credentials:
        """The current credentials, refreshed first when they expire within 15 minutes."""
        credentials = self._credentials
        remaining = self._remaining(credentials)
        if remaining is None or remaining > ADVISORY_REFRESH:
            return credentials
        # In the advisory window one thread refreshes and the others carry on
        # with the current credentials; in the mandatory window everyone waits.
        if not self._lock.acquire(blocking=remaining <= MANDATORY_REFRESH):
            return credentials
        try:
            credentials = self._credentials
            remaining = self._remaining(credentials)
            if remaining is None or remaining > ADVISORY_REFRESH:
                return credentials
            assert self._refresh is not None  # _remaining is None without it
            try:
                fresh = self._refresh()
            except CredentialsError:
                if remaining <= MANDATORY_REFRESH:
                    raise
                return credentials
            left = self._remaining(fresh)
            if left is not None and left <= timedelta(0):
                raise CredentialsError(f"credentials refreshed from {self.source} are already expired")
            self._credentials = fresh
            return fresh
        finally:
            self._lock.release()
