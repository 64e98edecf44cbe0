"""Service models: the compact form ec2codec ships, and botocore-format models loaded at run time.

Owns the shape data only (no encoding or decoding). Each bundled model (EC2,
and STS for the credential chain) is a file ``<service>.model`` in
``ec2codec/model/_data`` written by ``tools/build_model.py``: a small JSON
header (metadata, provenance), one index line for operations and one for
shapes (name and record offset), then one JSON record per line. Nothing is
read at import. The first use memory-maps the file and reads the three header
lines; each record is found by one substring search of its index line and
decoded the first time an encoder or decoder needs it, so a program that
calls one operation never pays, in time or resident memory, for the other 764.
"""

from __future__ import annotations

import json
import mmap
import os
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, NamedTuple, ParamSpec, Protocol, TypeVar

from ..errors import ModelError

__all__ = [
    "BUNDLED_SERVICES",
    "MODEL_ENV",
    "Operation",
    "ServiceModel",
    "bundle_name",
    "bundled_model",
    "compact_model",
    "default_model",
    "dump_bundle",
    "model_from",
    "model_from_environment",
    "read_bundle",
]

Shape = dict[str, Any]
Buffer = bytes | mmap.mmap
T = TypeVar("T")
P = ParamSpec("P")

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
        "resultWrapper",
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
        "resultWrapper",
    }
)
_OPERATION_KEYS = frozenset({"name", "http", "input", "output", "errors", "endpoint", "requestcompression"})
_MAGIC = b"EC2CODEC-MODEL 3\n"
_OFFSET_WIDTH = 8  # hex digits per record offset: bundles up to 4 GiB


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
    """Serialise a compact model into the indexed bundle format described in the module docstring.

    Layout: the magic line; a small JSON header (metadata, provenance); an
    index line of operations and one of shapes, each entry ``\\t<name>
    <hex offset>`` and closed by a tab; then one JSON record per line. Opening
    the bundle reads three lines and decodes only the small header: a lookup
    is one substring search of an index line, so no table of thousands of
    names is ever built (that cost ~4 ms and ~1 MB at start-up).
    """
    body = bytearray()
    index_lines = []
    for table in ("operations", "shapes"):
        entries = []
        for name in sorted(compact[table]):
            if not name or any(c in name for c in " \t\n"):
                raise ModelError(f"cannot bundle a name with blanks: {name!r}")
            entries.append(f"\t{name} {len(body):0{_OFFSET_WIDTH}x}")
            body += json.dumps(compact[table][name], separators=(",", ":"), sort_keys=True).encode() + b"\n"
        index_lines.append(("".join(entries) + "\t").encode())
    header = {**provenance, "metadata": compact["metadata"]}
    head = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    return _MAGIC + b"\n".join([head, *index_lines]) + b"\n" + bytes(body)


class _Records(Mapping[str, Any]):
    """A read-only name -> JSON record table over a bundle, decoding each record on first access.

    ``index`` is one index line of the bundle; ``base`` is where the records
    start in ``data`` (the offsets in the index are relative to it).
    """

    def __init__(self, index: bytes, data: Buffer, base: int) -> None:
        self._index = index
        self._data = data
        self._base = base
        self._decoded: dict[str, Any] = {}

    def _start(self, name: object) -> int:
        if not isinstance(name, str) or not name.isascii():
            return -1
        key = f"\t{name} ".encode()
        at = self._index.find(key)
        if at < 0:
            return -1
        at += len(key)
        return self._base + int(self._index[at : at + _OFFSET_WIDTH], 16)

    def __getitem__(self, name: str) -> Any:
        record = self._decoded.get(name)
        if record is not None:
            return record
        start = self._start(name)
        if start < 0:
            raise KeyError(name)
        # A race decodes the same bytes twice, harmlessly (so no lock); setdefault
        # (atomic) makes every thread go on with the same object.
        record = json.loads(self._data[start : self._data.find(b"\n", start)])
        return self._decoded.setdefault(name, record)

    def __contains__(self, name: object) -> bool:
        # Decoded records answer from the dict: every encode asks, and a search
        # of the index line costs microseconds.
        return name in self._decoded or self._start(name) >= 0

    def __iter__(self) -> Iterator[str]:
        return (entry.split(b" ", 1)[0].decode() for entry in self._index.split(b"\t") if entry)

    def __len__(self) -> int:
        return self._index.count(b"\t") - 1


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
    # awsQuery: the element wrapping the output members, when the output reference names it.
    result_wrapper: str | None = None


class ServiceModel:
    """Shapes and operations of one service, decoded on demand and cached.

    ``cache`` is a scratch dictionary where the encoder and decoder modules keep
    what they compile for this model (per-operation functions), so compiled code
    lives exactly as long as the model it came from. What other threads may
    see there is complete: see :meth:`compile_once`. ``paginators`` and
    ``waiters`` are the model's own configs (botocore's ``paginators-1.json``
    table and ``waiters-2.json`` document) or None, where the client layer uses
    the bundled EC2 ones.
    """

    def __init__(
        self,
        metadata: Mapping[str, Any],
        operations: Mapping[str, Any],
        shapes: Mapping[str, Any],
        *,
        provenance: Mapping[str, Any] | None = None,
        paginators: Mapping[str, Any] | None = None,
        waiters: Mapping[str, Any] | None = None,
    ) -> None:
        self.metadata: dict[str, Any] = dict(metadata)
        self.provenance: dict[str, Any] = dict(provenance or {})
        # botocore's paginators-1.json "pagination" table and waiters-2.json
        # document, when the model came with them; None: the bundled EC2 ones apply.
        self.paginators = paginators
        self.waiters = waiters
        self._raw_operations = operations
        self._shapes = shapes
        self._operations: dict[str, Operation] = {}
        self.cache: dict[Any, Any] = {}
        # Reentrant, so that a build may itself ask for another compiled thing without deadlocking.
        self._compile_lock = threading.RLock()

    def compile_once(self, key: Hashable, compiler: str, build: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``cache[key]``, made by ``build(*args, **kwargs)`` under this model's compile lock if it is not there yet.

        The callers' fast path is a plain ``cache.get(key)`` without the lock, so
        a value is stored only once ``build`` has returned it complete. The
        shape compilers memoise a placeholder for each shape before compiling
        its members (recursive shapes refer to themselves through it), so they
        run only under the lock, one thread at a time per model, and no other
        thread ever finds a placeholder. If ``build`` raises (a broken model),
        the compiler kept at ``cache[compiler]`` may hold placeholders that will
        never be filled in: it is dropped, and the next compile starts afresh.
        """
        with self._compile_lock:
            found: T | None = self.cache.get(key)
            if found is None:
                try:
                    found = build(*args, **kwargs)
                except BaseException:
                    self.cache.pop(compiler, None)
                    raise
                self.cache[key] = found
            return found

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
            result_wrapper=(raw.get("output") or {}).get("resultWrapper"),
        )
        return self._operations.setdefault(name, op)  # a race built an equal one: keep the first

    def shape(self, name: str) -> Shape:
        try:
            shape: Shape = self._shapes[name]
        except KeyError:
            raise ModelError(f"model refers to undefined shape {name!r}") from None
        return shape

    def shape_names(self) -> Iterator[str]:
        yield from sorted(self._shapes)


def read_bundle(data: Buffer) -> ServiceModel:
    """Open a bundle written by :func:`dump_bundle`: ``bytes``, or an ``mmap`` of the file.

    Only the header lines are read; records are sliced out of ``data`` when
    first needed, so a memory-mapped bundle costs resident memory only for the
    pages actually used.
    """
    if data[: len(_MAGIC)] != _MAGIC:
        raise ModelError("not an ec2codec model bundle")
    lines = []
    pos = len(_MAGIC)
    for _ in range(3):
        end = data.find(b"\n", pos)
        if end < 0:
            raise ModelError("corrupt ec2codec model bundle: header lines are missing")
        lines.append(data[pos:end])
        pos = end + 1
    head, operations, shapes = lines
    try:
        header = json.loads(head)
        metadata = header.pop("metadata")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"corrupt ec2codec model bundle: {exc}") from None
    return ServiceModel(metadata, _Records(operations, data, pos), _Records(shapes, data, pos), provenance=header)


_BUNDLED: dict[str, ServiceModel] = {}
_BUNDLED_LOCK = threading.Lock()
# The services whose models ship in ``_data`` as ``<service>.model`` (tools/build_model.py writes them).
BUNDLED_SERVICES = ("ec2", "sts")
BUNDLE_NAME = "ec2.model"


def bundle_name(service: str) -> str:
    """The file name of ``service``'s bundle in ``ec2codec/model/_data``."""
    return f"{service}.model"


def bundled_model(service: str = "ec2") -> ServiceModel:
    """The model of ``service`` shipped in the package (EC2 by default), opened on first use."""
    found = _BUNDLED.get(service) if isinstance(service, str) else None
    if found is not None:
        return found
    if service not in BUNDLED_SERVICES:
        raise ModelError(f"no bundled model for {service!r} (bundled: {', '.join(BUNDLED_SERVICES)})")
    with _BUNDLED_LOCK:
        found = _BUNDLED.get(service)
        if found is None:
            path = os.path.join(os.path.dirname(__file__), "_data", bundle_name(service))
            with open(path, "rb") as f:
                # Mapped, not read: a process that uses a few operations
                # never has the other records (about 1 MB for EC2) in memory.
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            found = _BUNDLED[service] = read_bundle(data)
    return found


def model_from(source: str | os.PathLike[str] | Mapping[str, Any]) -> ServiceModel:
    """A :class:`ServiceModel` from a botocore-format dict, or a path (see :mod:`.sources`).

    A path is a botocore ``service-2.json`` or ``.json.gz``, a botocore service
    folder (``data/ec2``: the newest API version inside) or API-version folder,
    or an ec2codec bundle. The paginators and waiters of a folder (and of a
    file named ``service-2.json[.gz]``) come with the model.
    """
    if isinstance(source, Mapping):
        compact = compact_model(source)
        return ServiceModel(compact["metadata"], compact["operations"], compact["shapes"])
    if not isinstance(source, (str, os.PathLike)):
        raise ModelError(f"a model is a path or a botocore-format dict, got {type(source).__name__}")
    from .sources import read_source  # only models from disk need it

    found = read_source(source)
    if found.data.startswith(_MAGIC):
        return read_bundle(found.data)
    try:
        raw = json.loads(found.data)
    except ValueError as exc:
        raise ModelError(f"model {found.path} is not JSON: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ModelError(f"model {found.path} is not a JSON object")
    try:
        compact = compact_model(raw)
    except ModelError as exc:
        raise ModelError(f"model {found.path}: {exc}") from None
    return ServiceModel(
        compact["metadata"],
        compact["operations"],
        compact["shapes"],
        provenance={"source": found.path},
        paginators=found.paginators,
        waiters=found.waiters,
    )


MODEL_ENV = "EC2CODEC_MODEL"
_LOADED: dict[str, ServiceModel] = {}
_DEFAULT: ServiceModel | None = None


def model_from_environment(environ: Mapping[str, str] | None = None) -> ServiceModel:
    """The model ``$EC2CODEC_MODEL`` names (any path :func:`model_from` takes), else the bundled one.

    ``environ`` replaces ``os.environ``. Each path is loaded once per process
    and kept. A path that cannot be loaded is a ``ModelError`` naming the
    variable and the path, never a silent fall-back to the bundle.
    """
    path = (os.environ if environ is None else environ).get(MODEL_ENV)
    if not path:
        return bundled_model()
    model = _LOADED.get(path)
    if model is None:
        try:
            model = model_from(path)
        except ModelError as exc:
            raise ModelError(f"{MODEL_ENV}={path}: {exc}") from None
        # A race loads the same file twice; both callers get the one kept.
        model = _LOADED.setdefault(path, model)
    return model


def default_model() -> ServiceModel:
    """The model used when none is given: :func:`model_from_environment`, read at first use and kept.

    The environment is read once (a lookup costs microseconds, and every
    module-level ``encode``/``parse`` asks), as SDKs read their configuration once.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = model_from_environment()
    return _DEFAULT


class HasService(Protocol):
    """Anything that carries a :class:`ServiceModel` (``ec2codec.Model`` does).

    The protocol modules accept a ``Model`` without importing the facade that
    sits above them, so the import graph has no cycle, type-only ones included.
    """

    @property
    def service(self) -> ServiceModel: ...


def service_of(model: HasService | ServiceModel | None) -> ServiceModel:
    """The :class:`ServiceModel` of ``model``: the default model (see :func:`default_model`) for None."""
    if model is None:
        return default_model()
    if isinstance(model, ServiceModel):
        return model
    service = getattr(model, "service", None)
    if not isinstance(service, ServiceModel):
        raise ModelError(f"model must be an ec2codec.Model or ServiceModel, got {type(model).__name__}")
    return service
