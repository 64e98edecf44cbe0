"""The EC2 Query request encoder: params dict -> ``Action=...&Version=...&...`` form body.

Wire rules (AWS "EC2 Query protocol", Smithy ``aws.protocols#ec2Query``): a
member's key is its ``ec2QueryName`` (model ``queryName``), else its
``xmlName`` (model ``locationName``) with the first letter upper-cased, else the
member name with the first letter upper-cased; lists flatten to ``Name.1``,
``Name.2`` and an empty list sends nothing; keys and values are
``application/x-www-form-urlencoded`` exactly as botocore's ``urlencode`` does.

Each operation's input shape is compiled once into nested closures (the fast
path), which stop at the first invalid value. Only then does :func:`_explain`
walk the parameters again to name every problem with its full path, using the
same scalar converters, so reporting costs nothing on the happy path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

from ._scalars import Converter, Invalid, converter
from .errors import ModelError, ValidationError
from .model import ServiceModel

__all__ = ["EncodedRequest", "OperationEncoder", "encoder_for", "wire_name"]

Pairs = list[tuple[str, str]]
Emit = Callable[[Any, str, Pairs], None]
TokenFactory = Callable[[], str]

CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
# botocore's request_min_compression_size_bytes default (AWS SDKs "Request compression").
COMPRESS_MIN_BYTES = 10240
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_.~-]").search
_HOST_LABEL = re.compile(r"[A-Za-z0-9.-]+")


def _quote(text: str) -> str:
    return quote_plus(text) if _NEEDS_QUOTING(text) else text


def wire_name(member: str, ref: Mapping[str, Any]) -> str:
    """The query key of a structure member under the ec2 protocol."""
    name = ref.get("queryName")
    if name:
        return str(name)
    name = ref.get("locationName") or member
    return name[:1].upper() + name[1:]


class _Compiler:
    """Turns shapes into emit functions ``emit(value, key, out)``, memoised per shape."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.memo: dict[tuple[str, str | None], Emit] = {}

    def emitter(self, shape_name: str, timestamp_format: str | None = None) -> Emit:
        key = (shape_name, timestamp_format)
        found = self.memo.get(key)
        if found is not None:
            return found
        cell: list[Emit] = []
        # A placeholder lets recursive shapes refer to themselves while compiling.
        self.memo[key] = lambda value, k, out: cell[0](value, k, out)  # noqa: PLW0108
        shape = self.model.shape(shape_name)
        kind = shape.get("type")
        if kind == "structure":
            emit = self._structure(shape)
        elif kind == "list":
            emit = self._list(shape)
        elif kind == "map":
            emit = self._map(shape)
        else:
            emit = self._scalar(converter(shape, timestamp_format))
        cell.append(emit)
        self.memo[key] = emit
        return emit

    def _member(self, ref: Mapping[str, Any]) -> Emit:
        return self.emitter(ref["shape"], ref.get("timestampFormat"))

    def _structure(self, shape: Mapping[str, Any]) -> Emit:
        if shape.get("document"):
            raise ModelError("document shapes cannot be sent with the ec2 protocol")
        members = {
            name: (_quote(wire_name(name, ref)), self._member(ref)) for name, ref in shape.get("members", {}).items()
        }
        required = frozenset(shape.get("required", ()))
        union = bool(shape.get("union"))

        def emit(value: Any, key: str, out: Pairs) -> None:
            if not isinstance(value, dict) or (required and not required.issubset(value)):
                raise Invalid
            if union and len(value) != 1:
                raise Invalid
            base = key + "." if key else ""
            for name, item in value.items():
                wire, child = members[name]  # KeyError: unknown member
                child(item, base + wire, out)

        return emit

    def _list(self, shape: Mapping[str, Any]) -> Emit:
        child = self._member(shape["member"])
        minimum = shape.get("min")

        def emit(value: Any, key: str, out: Pairs) -> None:
            if not isinstance(value, (list, tuple)) or (minimum is not None and len(value) < minimum):
                raise Invalid
            for i, item in enumerate(value, 1):
                child(item, f"{key}.{i}", out)

        return emit

    def _map(self, shape: Mapping[str, Any]) -> Emit:
        # Only loaded (non-EC2) models have maps; the layout is botocore's
        # QuerySerializer._serialize_type_map: Key.entry.N.key / .value.
        key_ref, value_ref = shape["key"], shape["value"]
        key_emit, value_emit = self._member(key_ref), self._member(value_ref)
        key_name = _quote(wire_name("key", key_ref) if _named(key_ref) else "key")
        value_name = _quote(wire_name("value", value_ref) if _named(value_ref) else "value")
        entry = "" if shape.get("flattened") else ".entry"

        def emit(value: Any, key: str, out: Pairs) -> None:
            if not isinstance(value, dict):
                raise Invalid
            for i, k in enumerate(value, 1):
                stem = f"{key}{entry}.{i}."
                key_emit(k, stem + key_name, out)
                value_emit(value[k], stem + value_name, out)

        return emit

    @staticmethod
    def _scalar(convert: Converter) -> Emit:
        def emit(value: Any, key: str, out: Pairs) -> None:
            out.append((key, convert(value)))

        return emit


def _named(ref: Mapping[str, Any]) -> bool:
    return bool(ref.get("queryName") or ref.get("locationName"))


def _explain(
    model: ServiceModel, ref: Mapping[str, Any], value: Any, path: str, problems: list[tuple[str, str]]
) -> None:
    """Append every problem under ``value`` (validated against ``ref``) to ``problems``."""
    shape = model.shape(ref["shape"])
    kind = shape.get("type")
    at = path or "(parameters)"
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append((at, f"expected dict, got {type(value).__name__}"))
            return
        members = shape.get("members", {})
        for name in shape.get("required", ()):
            if name not in value:
                problems.append((f"{path}.{name}" if path else name, "missing required member"))
        if shape.get("union") and len(value) != 1:
            problems.append((at, f"exactly one member must be set, got {len(value)}"))
        for name, item in value.items():
            sub = f"{path}.{name}" if path else str(name)
            if name not in members:
                problems.append((sub, f"unknown member (valid: {', '.join(members) or 'none'})"))
            else:
                _explain(model, members[name], item, sub, problems)
    elif kind == "list":
        if not isinstance(value, (list, tuple)):
            problems.append((at, f"expected list or tuple, got {type(value).__name__}"))
            return
        if shape.get("min") is not None and len(value) < shape["min"]:
            problems.append((at, f"length {len(value)} is below the minimum {shape['min']}"))
        for i, item in enumerate(value):
            _explain(model, shape["member"], item, f"{path}[{i}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append((at, f"expected dict, got {type(value).__name__}"))
            return
        for k, item in value.items():
            _explain(model, shape["key"], k, f"{path} (key {k!r})", problems)
            _explain(model, shape["value"], item, f"{path}[{k!r}]", problems)
    else:
        try:
            converter(shape, ref.get("timestampFormat"))(value)
        except Invalid as exc:
            problems.append((at, str(exc)))


class EncodedRequest:
    """Everything the ec2 protocol puts on the wire for one call, before signing."""

    __slots__ = ("body", "headers", "host_prefix", "method", "operation", "path")

    def __init__(
        self,
        operation: str,
        body: bytes,
        *,
        method: str = "POST",
        path: str = "/",
        headers: dict[str, str] | None = None,
        host_prefix: str | None = None,
    ) -> None:
        self.operation = operation
        self.body = body
        self.method = method
        self.path = path
        self.headers: dict[str, str] = headers if headers is not None else {"Content-Type": CONTENT_TYPE}
        self.host_prefix = host_prefix

    def __repr__(self) -> str:
        return (
            f"EncodedRequest(operation={self.operation!r}, method={self.method!r}, path={self.path!r}, "
            f"host_prefix={self.host_prefix!r}, headers={self.headers!r}, body=<{len(self.body)} bytes>)"
        )

    def url(self, endpoint: str) -> str:
        """The request URL against ``endpoint``: host prefix prepended, paths joined."""
        parts = urlsplit(endpoint)
        netloc = (self.host_prefix or "") + parts.netloc
        path = parts.path.rstrip("/") + self.path
        return urlunsplit((parts.scheme, netloc, path, "", ""))


class OperationEncoder:
    """The compiled encoder of one operation (see :func:`encoder_for`)."""

    def __init__(self, model: ServiceModel, name: str, compiler: _Compiler) -> None:
        op = model.operation(name)
        self.model = model
        self.operation = op
        self.head: Pairs = [("Action", name), ("Version", model.api_version)]
        self._prefix = f"Action={_quote(name)}&Version={_quote(model.api_version)}"
        self._input: dict[str, Any] | None = {"shape": op.input} if op.input else None
        self._emit = compiler.emitter(op.input) if op.input else None
        members = model.shape(op.input).get("members", {}) if op.input else {}
        self.token_members = tuple(n for n, r in members.items() if r.get("idempotencyToken"))
        self.host_labels = tuple(n for n, r in members.items() if r.get("hostLabel"))

    def _params(self, params: Mapping[str, Any] | None, token_factory: TokenFactory | None) -> Any:
        if params is None:
            params = {}
        if token_factory is not None and self.token_members and isinstance(params, dict):
            missing = [n for n in self.token_members if n not in params]
            if missing:
                params = {**params, **{n: token_factory() for n in missing}}
        return params

    def _fail(self, params: Any) -> ValidationError:
        problems: list[tuple[str, str]] = []
        if self._input is None:
            problems.append(("(parameters)", f"{self.operation.name} takes no parameters"))
        else:
            _explain(self.model, self._input, params, "", problems)
        if not problems:  # pragma: no cover - the fast path and _explain disagree
            problems.append(("(parameters)", "rejected by the encoder"))
        return ValidationError(self.operation.name, problems)

    def pairs(self, params: Any) -> Pairs:
        """The parameter pairs (without Action/Version), or ValidationError."""
        out: Pairs = []
        if self._emit is None:
            if params:
                raise self._fail(params)
            return out
        try:
            self._emit(params, "", out)
        except (Invalid, KeyError, TypeError, AttributeError):
            raise self._fail(params) from None
        return out

    def serialize(self, params: Mapping[str, Any] | None = None, token_factory: TokenFactory | None = None) -> Pairs:
        return self.head + self.pairs(self._params(params, token_factory))

    def encode(self, params: Mapping[str, Any] | None = None, token_factory: TokenFactory | None = None) -> bytes:
        parts = [self._prefix]
        parts.extend(f"{k}={_quote(v)}" for k, v in self.pairs(self._params(params, token_factory)))
        return "&".join(parts).encode("ascii")

    def request(
        self,
        params: Mapping[str, Any] | None = None,
        token_factory: TokenFactory | None = None,
        compress_min_bytes: int | None = COMPRESS_MIN_BYTES,
    ) -> EncodedRequest:
        params = self._params(params, token_factory)
        body = self.encode(params)
        headers = {"Content-Type": CONTENT_TYPE}
        op = self.operation
        if "gzip" in op.request_compression and compress_min_bytes is not None and len(body) >= compress_min_bytes:
            # Smithy requestCompression: the SDK gzips and appends its coding.
            import gzip

            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        return EncodedRequest(
            op.name, body, method=op.method, path=op.request_uri, headers=headers, host_prefix=self._host_prefix(params)
        )

    def _host_prefix(self, params: Mapping[str, Any]) -> str | None:
        template = self.operation.host_prefix
        if template is None:
            return None
        labels = {name: params[name] for name in self.host_labels}
        bad = [name for name, value in labels.items() if not _HOST_LABEL.fullmatch(value)]
        if bad:
            raise ValidationError(
                self.operation.name,
                [(name, "host label must contain only letters, digits, hyphens and periods") for name in bad],
            )
        return template.format(**labels)


def encoder_for(model: ServiceModel, operation: str) -> OperationEncoder:
    """The cached compiled encoder for ``operation`` of ``model``."""
    key = ("query", operation)
    enc: OperationEncoder | None = model.cache.get(key)
    if enc is None:
        compiler = model.cache.setdefault("query-compiler", _Compiler(model))
        enc = OperationEncoder(model, operation, compiler)
        model.cache[key] = enc
    return enc
