"""Model sources on disk: a botocore model file (``service-2.json`` or ``.json.gz``), a botocore folder, a bundle.

Owns finding and reading the files a model is made from; turning them into a
:class:`~ec2codec.model.service.ServiceModel` is :func:`~ec2codec.model.service.model_from`.
The layouts are botocore's data folder (``botocore/loaders.py``):

- ``data/ec2/<api-version>/service-2.json[.gz]``: a service folder holds one
  folder per API version; like botocore's ``Loader.determine_latest_version``
  the newest version (the greatest name) holding a ``service-2`` file wins.
- Beside the model, ``paginators-1.json[.gz]`` and ``waiters-2.json[.gz]``
  are the operation's paging and waiting configs; ``<name>.sdk-extras.json``
  is deep-merged into ``<name>`` (``Loader._find_extras``, ``ExtrasProcessor``),
  which is how EC2's paginators gain their ``non_aggregate_keys``.
- A file is JSON or gzip-compressed JSON whatever its name says (botocore
  ships ``service-2.json.gz``), or an ec2codec bundle (its magic line).

Companions follow a folder, and a model file named ``service-2.json[.gz]``
(it lives in such a folder); a model file of any other name stands alone.
Every failure is a :class:`~ec2codec.errors.ModelError` naming the path.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import ModelError

__all__ = ["Source", "read_source"]

_SERVICE = "service-2"
_PAGINATORS = "paginators-1"
_WAITERS = "waiters-2"
_EXTENSIONS = (".json", ".json.gz")  # botocore's order: plain JSON first
_GZIP_MAGIC = b"\x1f\x8b"


class Source(NamedTuple):
    """What was read: the model file's bytes (JSON text or a bundle) and the companions found beside it."""

    path: str
    data: bytes
    paginators: dict[str, Any] | None
    waiters: dict[str, Any] | None


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ModelError(f"cannot read model {path}: {exc.strerror}") from None
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ModelError(f"model {path} is not a readable gzip file: {exc}") from None
    return data


def _find(folder: str, name: str) -> str | None:
    for extension in _EXTENSIONS:
        path = os.path.join(folder, name + extension)
        if os.path.isfile(path):
            return path
    return None


def _json_object(path: str) -> dict[str, Any]:
    data = _read(path)
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise ModelError(f"model file {path} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ModelError(f"model file {path} is not a JSON object")
    return value


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """botocore ``utils.deep_merge``: dicts merge key by key, anything else in ``extra`` replaces."""
    for key, value in extra.items():
        if isinstance(base.get(key), dict) and isinstance(value, Mapping):
            _deep_merge(base[key], value)
        else:
            base[key] = value


def _companion(folder: str, name: str, key: str) -> dict[str, Any] | None:
    """The document ``<folder>/<name>.json[.gz]`` with its sdk-extras merged, or None when absent."""
    path = _find(folder, name)
    if path is None:
        return None
    document = _json_object(path)
    extras = _find(folder, f"{name}.sdk-extras")
    if extras is not None:
        merge = _json_object(extras).get("merge")
        if isinstance(merge, Mapping):
            _deep_merge(document, merge)
    table = document.get(key)
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ModelError(f"{path} has no {key!r} object of named configs")
    return document


def _paginators(folder: str) -> dict[str, Any] | None:
    document = _companion(folder, _PAGINATORS, "pagination")
    return None if document is None else document["pagination"]


def _waiters(folder: str) -> dict[str, Any] | None:
    return _companion(folder, _WAITERS, "waiters")


def _model_in(folder: str) -> str:
    """The model file of ``folder``, or of its newest API-version subfolder when it holds none itself."""
    found = _find(folder, _SERVICE)
    if found is not None:
        return found
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise ModelError(f"cannot read model folder {folder}: {exc.strerror}") from None
    versions = {}
    for name in names:
        found = _find(os.path.join(folder, name), _SERVICE)
        if found is not None:
            versions[name] = found
    if not versions:
        raise ModelError(
            f"model folder {folder} holds no {_SERVICE}.json or {_SERVICE}.json.gz, "
            "neither directly nor in an API-version folder (as botocore's data/ec2/2016-11-15)"
        )
    return versions[max(versions)]


def read_source(source: str | os.PathLike[str]) -> Source:
    """The model file that ``source`` names (a file, or a folder as described above) and its companions."""
    path = os.fspath(source)
    if os.path.isdir(path):
        path = _model_in(path)
    elif os.path.basename(path) not in {_SERVICE + extension for extension in _EXTENSIONS}:
        return Source(path, _read(path), None, None)
    folder = os.path.dirname(path)
    return Source(path, _read(path), _paginators(folder), _waiters(folder))
