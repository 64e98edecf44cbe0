"""The query request encoder (ec2Query and awsQuery): params dict -> ``Action=...&Version=...&...`` form body.

Owns the per-operation entry points (:class:`OperationEncoder`, cached by
:func:`encoder_for`), the request object handed to the signer
(:class:`EncodedRequest`: body, method, path, headers, expanded ``hostPrefix``),
and the reporting pass: the compiled fast path (:mod:`ec2codec.protocol._querycompile`;
:mod:`ec2codec.protocol._awsquerycompile` for ``query``-protocol models) stops
at the first invalid value, and only then does :func:`_explain` walk the
parameters again to name every problem with its full path, using the same
scalar converters, so reporting costs nothing on the happy path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ValidationError
from ..model.service import ServiceModel
from ._awsquerycompile import AwsQueryCompiler
from ._formencode import SOH, quote, quote_joined
from ._querycompile import Compiler, Flat, wire_name
from ._scalars import Invalid, converter

__all__ = ["EncodedRequest", "OperationEncoder", "encoder_for", "wire_name"]

Pairs = list[tuple[str, str]]
TokenFactory = Callable[[], str]

CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
# botocore's request_min_compression_size_bytes default (AWS SDKs "Request compression").
COMPRESS_MIN_BYTES = 10240
_HOST_LABEL = re.compile(r"[A-Za-z0-9.-]+")


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
    """Everything a query protocol puts on the wire for one call, before signing."""

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

    def __init__(self, model: ServiceModel, name: str) -> None:
        op = model.operation(name)
        self.model = model
        self.operation = op
        self.head: Pairs = [("Action", name), ("Version", model.api_version)]
        self._prefix = f"Action={quote(name)}&Version={quote(model.api_version)}"
        self._input: dict[str, Any] | None = {"shape": op.input} if op.input else None
        compiler = _compiler(model)
        # Keys come out as "&Name=": ready to join for a body, stripped for pairs.
        self._emit = compiler.body(op.input) if op.input else None
        # Model-wide, so possibly set by another operation: then keys are quoted needlessly.
        self._unsafe_keys = compiler.unsafe_keys
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

    def _emit_flat(self, params: Any) -> Flat:
        # key, value, ... with every value checked but for the UTF-8 check of strings.
        out: Flat = []
        if self._emit is None:
            if params:
                raise self._fail(params)
            return out
        try:
            self._emit(params, "", out)
        except (Invalid, KeyError, TypeError, AttributeError):
            raise self._fail(params) from None
        return out

    def pairs(self, params: Any) -> Pairs:
        """The parameter pairs (without Action/Version), or ValidationError."""
        flat = self._emit_flat(params)
        values = flat[1::2]
        try:
            SOH.join(values).encode("utf-8")
        except UnicodeEncodeError:  # a string with a lone surrogate
            raise self._fail(params) from None
        return [(key[1:-1], value) for key, value in zip(flat[0::2], values, strict=True)]  # drop "&" and "="

    def serialize(self, params: Mapping[str, Any] | None = None, token_factory: TokenFactory | None = None) -> Pairs:
        return self.head + self.pairs(self._params(params, token_factory))

    def encode(self, params: Mapping[str, Any] | None = None, token_factory: TokenFactory | None = None) -> bytes:
        if params is None or (token_factory is not None and self.token_members):
            params = self._params(params, token_factory)
        emit = self._emit
        if emit is None:
            self._emit_flat(params)  # ValidationError unless empty
            return self._prefix.encode("ascii")
        # The body's head, then key, value, key, value ...
        flat: Flat = [self._prefix]
        try:
            emit(params, "", flat)
            values = flat[2::2]
            joined = SOH.join(values).encode("utf-8")  # UnicodeEncodeError: a lone surrogate
        except (Invalid, KeyError, TypeError, AttributeError, UnicodeEncodeError):
            raise self._fail(params) from None
        if values:
            quoted = quote_joined(joined, len(values))
            flat[2::2] = [quote(value) for value in values] if quoted is None else quoted
            if self._unsafe_keys:
                flat[1::2] = [f"&{quote(key[1:-1])}=" for key in flat[1::2]]
        return "".join(flat).encode("ascii")

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
    """The cached compiled encoder for ``operation`` of ``model`` (thread-safe: compiled once, under a lock)."""
    key = ("query", operation)
    enc: OperationEncoder | None = model.cache.get(key)  # the hot path: no lock, only complete encoders are here
    if enc is None:
        # Arguments, not a lambda: a closure would make model and operation cell
        # variables, which costs every call of this function a little.
        enc = model.compile_once(key, _COMPILER, OperationEncoder, model, operation)
    return enc


_COMPILER = "query-compiler"


def _compiler(model: ServiceModel) -> Compiler:
    # One per model, so operations share the emitters of common shapes; used
    # only under the model's compile lock (see ServiceModel.compile_once). The
    # protocol picks the compiler class here, once, never in an emitter.
    compiler: Compiler | None = model.cache.get(_COMPILER)
    if compiler is None:
        kind = AwsQueryCompiler if model.protocol == "query" else Compiler
        compiler = model.cache.setdefault(_COMPILER, kind(model))
    return compiler
