"""The AWS CLI's credential cache (``~/.aws/cli/cache``) and the cached-fetch rule its providers share.

The files are botocore's ``JSONFileCache``: ``<key>.json`` holding the whole
STS (or SSO) answer as JSON, datetimes written ``%Y-%m-%dT%H:%M:%S%Z``
(``2026-01-01T12:00:00UTC``), each write a temporary file renamed over the
old one. The keys are botocore's (``CachedCredentialFetcher``):

* assume role and web identity: the SHA-1 of ``json.dumps(args, sort_keys=True)``
  of the call's arguments (``RoleArn``, ``RoleSessionName`` when configured,
  ``ExternalId``, ``SerialNumber``, ``DurationSeconds``; never ``TokenCode``
  or the web identity token);
* SSO: the SHA-1 of the compact JSON of ``accountId``, ``roleName`` and
  ``sessionName`` (an ``sso_session`` profile) or ``startUrl`` (legacy).

So credentials the AWS CLI cached are used here without a new STS call (and
without a second MFA prompt), and the CLI uses the ones cached here. Cached
credentials are used while they have more than 15 minutes left
(``DEFAULT_EXPIRY_WINDOW_SECONDS``). A file that exists but cannot be read
or holds no credentials is a :class:`CacheError`: botocore fails there too
(with a bare ``KeyError``), and silently calling STS again could mean an
unexpected MFA prompt.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from hashlib import sha1
from typing import Any

from ..sigv4 import Credentials
from .base import Clock

__all__ = ["EXPIRY_WINDOW", "CacheError", "JsonFileCache", "MemoryCache", "cached_fetch", "credentials_from", "key_for"]

EXPIRY_WINDOW = timedelta(minutes=15)
_LOG = logging.getLogger("ec2codec.credentials")


class CacheError(Exception):
    """A cache file exists but cannot be used; the message names the file, never its contents."""


def key_for(args: Mapping[str, Any], *, compact: bool = False) -> str:
    """botocore's cache key: SHA-1 of the sorted JSON of ``args`` (``compact`` for SSO's minified form)."""
    separators = (",", ":") if compact else None
    text = json.dumps(args, sort_keys=True, separators=separators)
    # _make_file_safe: a hex digest has no ":" or "/", but keep botocore's rule.
    return sha1(text.encode("utf-8")).hexdigest().replace(":", "_").replace(os.sep, "_").replace("/", "_")


def _dump(value: Any) -> str:
    def default(item: object) -> str:
        if isinstance(item, datetime):
            return item.strftime("%Y-%m-%dT%H:%M:%S%Z")  # botocore's JSONFileCache._serialize_if_needed
        raise TypeError(type(item).__name__)

    return json.dumps(value, default=default)


class MemoryCache:
    """A cache that lives as long as the provider (botocore's default ``{}``)."""

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        text = self._items.get(key)
        return None if text is None else dict(json.loads(text))

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        self._items[key] = _dump(value)


class JsonFileCache:
    """``<directory>/<key>.json`` files, compatible with botocore's ``JSONFileCache``."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def path(self, key: str) -> str:
        return os.path.join(self.directory, key + ".json")

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.path(key)
        problem = None
        try:
            with open(path, encoding="utf-8") as file:
                value = json.load(file)
        except FileNotFoundError:
            return None
        except OSError as exc:
            problem = str(exc.strerror)
        except (ValueError, UnicodeDecodeError):
            problem = "not JSON"
        if problem is None and not isinstance(value, dict):
            problem = "not a JSON object"
        if problem is not None:
            raise CacheError(f"cannot read the cache file {path} ({problem}); delete it to fetch new credentials")
        return dict(value)

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        import tempfile

        text = _dump(value)
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")  # mode 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    file.write(text)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, self.path(key))
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as exc:
            # The credentials are good; only the next process will have to fetch its own.
            _LOG.warning("cannot write the credential cache %s: %s", self.path(key), exc.strerror)


Cache = JsonFileCache | MemoryCache


def _expiration(value: Any) -> datetime | None:
    from ...protocol._time import parse_timestamp

    if not isinstance(value, str):
        return None
    text = value.strip()
    for zone in ("UTC", "GMT"):  # strftime's %Z of an aware UTC datetime
        if text.endswith(zone):
            text = text[: -len(zone)] + "Z"
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


def credentials_from(document: Mapping[str, Any], where: str) -> Credentials:
    """The ``Credentials`` member of an STS answer or cache file; CacheError naming ``where`` if unusable."""
    found = document.get("Credentials")
    keys = ("AccessKeyId", "SecretAccessKey", "SessionToken")
    if not isinstance(found, dict) or not all(isinstance(found.get(k), str) for k in keys):
        raise CacheError(f"{where} holds no credentials")
    expiration = found.get("Expiration")
    expires = expiration if isinstance(expiration, datetime) else _expiration(expiration)
    if expires is None:
        raise CacheError(f"{where} holds no readable Expiration")
    return Credentials(found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"], expires)


def cached_fetch(
    cache: Cache, key: str, fetch: Callable[[], Mapping[str, Any]], clock: Clock, where: str
) -> Credentials:
    """botocore's ``CachedCredentialFetcher.fetch_credentials``: the cached answer while it has 15 minutes left."""
    cached = cache.get(key)
    if cached is not None:
        place = f"the cache file {cache.path(key)}" if isinstance(cache, JsonFileCache) else "the cache"
        credentials = credentials_from(cached, place)
        if credentials.expiration is not None and credentials.expiration - clock() >= EXPIRY_WINDOW:
            _LOG.debug("credentials for %s from %s", where, place)
            return credentials
    answer = fetch()
    credentials = credentials_from(answer, f"the answer for {where}")
    cache.put(key, answer)
    return credentials
