"""Service models: the compact form ec2codec ships, and botocore-format models loaded at run time.

Owns the shape data only (no encoding or decoding). The bundled EC2 model is a
file in ``ec2codec/_data`` written by ``tools/build_model.py``: one header line
(metadata, operations, and a byte-offset index of shapes) followed by one JSON
document per shape. Nothing is read at import; the first use reads the header,
and each shape is decoded the first time an encoder or decoder needs it, so a
program that calls one operation never pays for the other 764.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from .errors import ModelError

__all__ = ["Operation", "ServiceModel", "bundled_model", "compact_model", "dump_bundle", "read_bundle"]

Shape = dict[str, Any]

# Shape and member keys that encoding, decoding or validation read. Everything
# else in a botocore model (documentation, deprecation notes, examples) is dropped.
_SHAPE_KEYS = frozenset(
    {
        "type",
        "required",
        "min",
        "locationName",
        "queryName",
        "flattened",
        "timestampFormat",
        "error",
        "exception",
        "union",
        "document",
        "sensitive",
        "xmlNamespace",
        "xmlAttribute",
        "fault",
    }
)
_REF_KEYS = frozenset(
    {
        "shape",
        "locationName",
        "queryName",
        "idempotencyToken",
        "hostLabel",
        "timestampFormat",
        "flattened",
        "xmlNamespace",
        "xmlAttribute",
    }
)
_OPERATION_KEYS = frozenset({"name", "http", "input", "output", "errors", "endpoint", "requestcompression"})
_MAGIC = b"EC2CODEC-MODEL 1\n"


def _ref(ref: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ref.items() if k in _REF_KEYS}


def _compact_shape(shape: Mapping[str, Any]) -> Shape:
    out: Shape = {k: v for k, v in shape.items() if k in _SHAPE_KEYS}
    if "members" in shape:
        out["members"] = {name: _ref(ref) for name, ref in shape["members"].items()}
    for key in ("member", "key", "value"):
        if key in shape:
            out[key] = _ref(shape[key])
    return out


def compact_model(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Reduce a botocore ``service-2.json`` document to what the codec needs."""
    try:
        operations = {
            name: {k: v for k, v in op.items() if k in _OPERATION_KEYS} for name, op in raw["operations"].items()
        }
        for name, op in operations.items():
            op.setdefault("name", name)
            for key in ("input", "output"):
                if key in op:
                    op[key] = _ref(op[key])
            if "errors" in op:
                op["errors"] = [_ref(e) for e in op["errors"]]
        return {
            "metadata": dict(raw.get("metadata", {})),
            "operations": operations,
            "shapes": {name: _compact_shape(s) for name, s in raw["shapes"].items()},
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"not a botocore service model: missing or malformed {exc}") from None


def dump_bundle(compact: Mapping[str, Any], **provenance: str) -> bytes:
    """Serialise a compact model into the indexed bundle format described above."""
    body = bytearray()
    index: dict[str, list[int]] = {}
    for name in sorted(compact["shapes"]):
        blob = json.dumps(compact["shapes"][name], separators=(",", ":"), sort_keys=True).encode()
        index[name] = [len(body), len(body) + len(blob)]
        body += blob + b"\n"
    header = {
        **provenance,
        "metadata": compact["metadata"],
        "operations": compact["operations"],
        "shapes": index,
    }
    head = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    return _MAGIC + head + b"\n" + bytes(body)


class Operation(NamedTuple):
    """One operation of a model, as the codec sees it."""

    name: str
    input: str | None
    output: str | None
    errors: tuple[str, ...]
    method: str
    request_uri: str
    host_prefix: str | None
    request_compression: tuple[str, ...]


class ServiceModel:
    """Shapes and operations of one service, decoded on demand and cached.

    ``cache`` is a scratch dictionary where the encoder and decoder modules keep
    what they compile for this model (per-operation functions), so compiled code
    lives exactly as long as the model it came from.
    """

    def __init__(
        self,
        metadata: Mapping[str, Any],
        operations: Mapping[str, Any],
        shapes: Mapping[str, Any],
        *,
        shape_index: Mapping[str, list[int]] | None = None,
        shape_bytes: bytes = b"",
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        self.metadata: dict[str, Any] = dict(metadata)
        self.provenance: dict[str, Any] = dict(provenance or {})
        self._raw_operations = operations
        self._shapes: dict[str, Shape] = dict(shapes)
        self._index = shape_index or {}
        self._bytes = shape_bytes
        self._operations: dict[str, Operation] = {}
        self._lock = threading.Lock()
        self.cache: dict[Any, Any] = {}

    @property
    def api_version(self) -> str:
        return str(self.metadata.get("apiVersion", ""))

    @property
    def protocol(self) -> str:
        return str(self.metadata.get("protocol", ""))

    def has_operation(self, name: object) -> bool:
        return isinstance(name, str) and name in self._raw_operations

    def operation_names(self) -> list[str]:
        return sorted(self._raw_operations)

    def operation(self, name: str) -> Operation:
        op = self._operations.get(name)
        if op is not None:
            return op
        raw = self._raw_operations.get(name) if isinstance(name, str) else None
        if raw is None:
            raise ModelError(f"unknown operation {name!r} for {self.metadata.get('serviceId', 'this model')}")
        http = raw.get("http", {})
        endpoint = raw.get("endpoint") or {}
        op = Operation(
            name=name,
            input=(raw.get("input") or {}).get("shape"),
            output=(raw.get("output") or {}).get("shape"),
            errors=tuple(e["shape"] for e in raw.get("errors", ())),
            method=http.get("method", "POST"),
            request_uri=http.get("requestUri", "/"),
            host_prefix=endpoint.get("hostPrefix"),
            request_compression=tuple((raw.get("requestcompression") or {}).get("encodings", ())),
        )
        self._operations[name] = op
        return op

    def shape(self, name: str) -> Shape:
        shape = self._shapes.get(name)
        if shape is not None:
            return shape
        span = self._index.get(name)
        if span is None:
            raise ModelError(f"model refers to undefined shape {name!r}")
        with self._lock:
            decoded: Shape = json.loads(self._bytes[span[0] : span[1]])
            self._shapes[name] = decoded
        return decoded

    def shape_names(self) -> Iterator[str]:
        yield from sorted(set(self._shapes) | set(self._index))


def read_bundle(data: bytes) -> ServiceModel:
    """Open a bundle written by :func:`dump_bundle` (reads only its header)."""
    if not data.startswith(_MAGIC):
        raise ModelError("not an ec2codec model bundle")
    end = data.index(b"\n", len(_MAGIC))
    header = json.loads(data[len(_MAGIC) : end])
    provenance = {k: v for k, v in header.items() if k not in ("metadata", "operations", "shapes")}
    return ServiceModel(
        header["metadata"],
        header["operations"],
        {},
        shape_index=header["shapes"],
        shape_bytes=data[end + 1 :],
        provenance=provenance,
    )


_BUNDLED: ServiceModel | None = None
_BUNDLED_LOCK = threading.Lock()
BUNDLE_NAME = "ec2.model"


def bundled_model() -> ServiceModel:
    """The EC2 model shipped in the package, opened on first use."""
    global _BUNDLED
    if _BUNDLED is None:
        with _BUNDLED_LOCK:
            if _BUNDLED is None:
                path = os.path.join(os.path.dirname(__file__), "_data", BUNDLE_NAME)
                with open(path, "rb") as f:
                    data = f.read()
                _BUNDLED = read_bundle(data)
    return _BUNDLED


def model_from(source: str | os.PathLike[str] | Mapping[str, Any]) -> ServiceModel:
    """A :class:`ServiceModel` from a botocore-format dict, a ``service-2.json`` path, or a bundle path."""
    if isinstance(source, Mapping):
        raw: Mapping[str, Any] = source
    else:
        try:
            with open(source, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise ModelError(f"cannot read model {source}: {exc.strerror}") from None
        if data.startswith(_MAGIC):
            return read_bundle(data)
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise ModelError(f"model {source} is not JSON: {exc}") from None
        if not isinstance(raw, Mapping):
            raise ModelError(f"model {source} is not a JSON object")
    compact = compact_model(raw)
    return ServiceModel(compact["metadata"], compact["operations"], compact["shapes"])
