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

``encode`` does not quote value by value: the closures append each field's
key already spelled ``&Key=`` and its raw value to one flat list; the values
are joined and percent-encoded in a few C-level passes (one ``bytes.replace``
per distinct unsafe byte, see :func:`_quote_joined`), put back in place by a
slice assignment, and the list is joined. That, and containers appending
plain strings themselves, is what makes it an order of magnitude faster than
botocore.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._scalars import Converter, Invalid, converter
from .errors import ModelError, ValidationError
from .model import ServiceModel

__all__ = ["EncodedRequest", "OperationEncoder", "encoder_for", "wire_name"]

Pairs = list[tuple[str, str]]
# An emitter appends key, value, key, value ... to a flat list (see _Compiler).
Flat = list[str]
Emit = Callable[[Any, str, Flat], None]
TokenFactory = Callable[[], str]

CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
# botocore's request_min_compression_size_bytes default (AWS SDKs "Request compression").
COMPRESS_MIN_BYTES = 10240
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_.~-]").search
_FIND_UNSAFE = re.compile(rb"[^A-Za-z0-9_.~\x01-]").search  # SOH: the separator in _quote_joined
_HOST_LABEL = re.compile(r"[A-Za-z0-9.-]+")

# application/x-www-form-urlencoded as urllib.parse.quote_plus spells it: the
# unreserved bytes stay, space becomes "+", every other byte "%XX" (uppercase).
_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_ALL_BYTES = bytes(range(256))
_UNSAFE = _ALL_BYTES.translate(None, _SAFE)
_BYTE = [bytes([b]) for b in range(256)]
_ESCAPE = [b"+" if b == 0x20 else b"%%%02X" % b for b in range(256)]
# (byte, escape) for the unsafe bytes but SOH, "%" and "+", which _quote_joined treats apart.
_OTHER_UNSAFE = _UNSAFE.translate(None, b"\x01%+")
_REPLACEMENT = {b: (_BYTE[b], _ESCAPE[b]) for b in _OTHER_UNSAFE}
# The same as a str.translate table over code points 0-255 (for single values).
_QUOTE_TABLE = [_ESCAPE[b].decode() if b in _UNSAFE else chr(b) for b in range(256)]
# encode() joins the values with SOH; a value that holds SOH itself sends the
# request down the value-by-value path instead.
_SOH = "\x01"
# Integers inside these bounds render with str() (no digit limit to worry about).
_PLAIN_INT = 10**18
_INF = math.inf


def _quote(text: str) -> str:
    """quote_plus(text): non-ASCII text is translated as its UTF-8 bytes spelled in latin-1."""
    if not _NEEDS_QUOTING(text):
        return text
    if not text.isascii():
        text = text.encode("utf-8").decode("latin-1")
    return text.translate(_QUOTE_TABLE)


def _quote_joined(data: bytes, count: int) -> list[str] | None:
    """quote_plus of each of ``count`` values, given UTF-8 and joined by SOH (None if a value holds SOH).

    Every unsafe byte value present is replaced in one ``bytes.replace`` pass:
    "%" first (the escapes add more) and "+" before space (which becomes "+");
    the SOH separators are left alone and split on at the end, which also shows
    whether a value held one.
    """
    if _FIND_UNSAFE(data):
        # The byte values that do not occur (a deletion, cheaper than a set of those that do).
        absent = _ALL_BYTES.translate(None, data)
        if 0x25 not in absent:
            data = data.replace(b"%", b"%25")
        if 0x2B not in absent:
            data = data.replace(b"+", b"%2B")
        for old, new in map(_REPLACEMENT.__getitem__, _OTHER_UNSAFE.translate(None, absent)):
            data = data.replace(old, new)
    quoted = data.decode("ascii").split(_SOH)
    return quoted if len(quoted) == count else None


def wire_name(member: str, ref: Mapping[str, Any]) -> str:
    """The query key of a structure member under the ec2 protocol."""
    name = ref.get("queryName")
    if name:
        return str(name)
    name = ref.get("locationName") or member
    return name[:1].upper() + name[1:]


class _Compiler:
    """Turns shapes into emit functions ``emit(value, key, out)``, memoised per shape.

    An emitter appends ``key, text`` for every scalar under ``value`` to the flat
    list ``out``. ``key`` arrives with the separator its emitter needs already
    appended by the parent, which knows the child's type when compiling:
    ``Name.`` for a structure, list or map, ``Name=`` for a scalar. The input
    structure itself is emitted under ``"&"`` for a body (so keys come out as
    ``&Name=``, ready to join) or ``""`` for pairs. That saves concatenations.

    The scalar emitters inline the common, obviously valid cases and hand
    everything else to the converter, which is the single judge of validity,
    with one exception: a plain ``str`` is emitted without the converter's UTF-8
    check, which callers make on all values at once (see OperationEncoder).
    """

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.memo: dict[tuple[str, str | None], Emit] = {}
        # Per structure shape: its member table, required members and union flag,
        # registered before the members compile so recursive lists can share it.
        self.tables: dict[str, tuple[dict[str, tuple[str, Emit, type[str] | None]], frozenset[str], bool]] = {}
        # True once any key of this model needs percent-encoding (never in EC2).
        self.unsafe_keys = False

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
            emit = self._structure(shape_name, shape)
        elif kind == "list":
            emit = self._list(shape)
        elif kind == "map":
            emit = self._map(shape)
        else:
            emit = self._scalar(shape, converter(shape, timestamp_format))
        cell.append(emit)
        self.memo[key] = emit
        return emit

    def _member(self, ref: Mapping[str, Any]) -> tuple[str, Emit, type[str] | None]:
        """The separator to append to the member's key, its emitter, and its verbatim type.

        The verbatim type is ``str`` for a string shape without a ``min``: a value
        of exactly that type is what the emitter would append unchanged, so
        containers append it themselves and save a call per value; for every
        other member it is None, which no value has.
        """
        shape = self.model.shape(ref["shape"])
        kind = shape.get("type")
        sep = "." if kind in ("structure", "list", "map") else "="
        verbatim = str if kind == "string" and not shape.get("min") else None
        return sep, self.emitter(ref["shape"], ref.get("timestampFormat")), verbatim

    def _wire(self, name: str) -> str:
        if _NEEDS_QUOTING(name):
            self.unsafe_keys = True
        return name

    def _structure(self, shape_name: str, shape: Mapping[str, Any]) -> Emit:
        if shape.get("document"):
            raise ModelError("document shapes cannot be sent with the ec2 protocol")
        members: dict[str, tuple[str, Emit, type[str] | None]] = {}
        required = frozenset(shape.get("required", ()))
        union = bool(shape.get("union"))
        self.tables[shape_name] = (members, required, union)
        for name, ref in shape.get("members", {}).items():
            sep, child, verbatim = self._member(ref)
            members[name] = (self._wire(wire_name(name, ref)) + sep, child, verbatim)

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, dict) or (required and not required.issubset(value)):
                raise Invalid
            if union and len(value) != 1:
                raise Invalid
            for name, item in value.items():
                wire, child, verbatim = members[name]  # KeyError: unknown member
                if type(item) is verbatim:
                    out.append(key + wire)
                    out.append(item)
                else:
                    child(item, key + wire, out)

        def emit_plain(value: Any, key: str, out: Flat) -> None:
            # The same without the required/union checks (most shapes have neither).
            if not isinstance(value, dict):
                raise Invalid
            for name, item in value.items():
                wire, child, verbatim = members[name]  # KeyError: unknown member
                if type(item) is verbatim:
                    out.append(key + wire)
                    out.append(item)
                else:
                    child(item, key + wire, out)

        return emit if required or union else emit_plain

    def _list(self, shape: Mapping[str, Any]) -> Emit:
        sep, child, verbatim = self._member(shape["member"])
        minimum = shape.get("min")
        table = self.tables.get(shape["member"]["shape"])
        if table is not None:
            return self._list_of_structures(table, minimum)

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, (list, tuple)) or (minimum is not None and len(value) < minimum):
                raise Invalid
            for i, item in enumerate(value, 1):
                if type(item) is verbatim:
                    out.append(f"{key}{i}{sep}")
                    out.append(item)
                else:
                    child(item, f"{key}{i}{sep}", out)

        return emit

    @staticmethod
    def _list_of_structures(
        table: tuple[dict[str, tuple[str, Emit, type[str] | None]], frozenset[str], bool], minimum: int | None
    ) -> Emit:
        # Tags, Filters, BlockDeviceMappings ...: the structure emitter's loop runs
        # inline for each item, which saves a call per item.
        members, required, union = table

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, (list, tuple)) or (minimum is not None and len(value) < minimum):
                raise Invalid
            for i, item in enumerate(value, 1):
                if not isinstance(item, dict) or (required and not required.issubset(item)):
                    raise Invalid
                if union and len(item) != 1:
                    raise Invalid
                prefix = f"{key}{i}."
                for name, member in item.items():
                    wire, child, verbatim = members[name]  # KeyError: unknown member
                    if type(member) is verbatim:
                        out.append(prefix + wire)
                        out.append(member)
                    else:
                        child(member, prefix + wire, out)

        def emit_plain(value: Any, key: str, out: Flat) -> None:
            # The same without the required/union checks (Tag, Filter ... have neither).
            if not isinstance(value, (list, tuple)) or (minimum is not None and len(value) < minimum):
                raise Invalid
            for i, item in enumerate(value, 1):
                if not isinstance(item, dict):
                    raise Invalid
                prefix = f"{key}{i}."
                for name, member in item.items():
                    wire, child, verbatim = members[name]  # KeyError: unknown member
                    if type(member) is verbatim:
                        out.append(prefix + wire)
                        out.append(member)
                    else:
                        child(member, prefix + wire, out)

        return emit if required or union else emit_plain

    def _map(self, shape: Mapping[str, Any]) -> Emit:
        # Only loaded (non-EC2) models have maps; the layout is botocore's
        # QuerySerializer._serialize_type_map: Key.entry.N.key / .value.
        key_ref, value_ref = shape["key"], shape["value"]
        key_sep, key_emit, _ = self._member(key_ref)
        value_sep, value_emit, _ = self._member(value_ref)
        key_name = self._wire(wire_name("key", key_ref) if _named(key_ref) else "key") + key_sep
        value_name = self._wire(wire_name("value", value_ref) if _named(value_ref) else "value") + value_sep
        entry = "" if shape.get("flattened") else "entry."

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, dict):
                raise Invalid
            for i, k in enumerate(value, 1):
                stem = f"{key}{entry}{i}."
                key_emit(k, stem + key_name, out)
                value_emit(value[k], stem + value_name, out)

        return emit

    @staticmethod
    def _scalar(shape: Mapping[str, Any], convert: Converter) -> Emit:
        kind = shape.get("type")
        emit: Emit
        if kind == "string":
            minimum = shape.get("min") or 0

            # What _scalars._string returns unchanged, but for the UTF-8 check (see
            # the class docstring); subclasses, short or non-str values go through it.
            def emit(value: Any, key: str, out: Flat) -> None:
                if type(value) is str and len(value) >= minimum:
                    out.append(key)
                    out.append(value)
                else:
                    out.append(key)
                    out.append(convert(value))

        elif kind in ("integer", "long"):
            low = max(shape.get("min", -_PLAIN_INT), -_PLAIN_INT)

            def emit(value: Any, key: str, out: Flat) -> None:
                if type(value) is int and low <= value <= _PLAIN_INT:
                    out.append(key)
                    out.append(f"{value}")
                else:
                    out.append(key)
                    out.append(convert(value))

        elif kind in ("float", "double"):
            # A finite float at or above the minimum, for which convert returns str(value);
            # the floor is finite so that -inf, like inf and NaN, goes through convert.
            floor = max(shape.get("min", -math.inf), -sys.float_info.max)

            def emit(value: Any, key: str, out: Flat) -> None:
                if type(value) is float and floor <= value < _INF:
                    out.append(key)
                    out.append(f"{value!r}")
                else:
                    out.append(key)
                    out.append(convert(value))

        elif kind == "boolean":

            def emit(value: Any, key: str, out: Flat) -> None:
                if value is True:
                    out.append(key)
                    out.append("true")
                elif value is False:
                    out.append(key)
                    out.append("false")
                else:
                    out.append(key)
                    out.append(convert(value))  # convert raises Invalid

        else:

            def emit(value: Any, key: str, out: Flat) -> None:
                out.append(key)
                out.append(convert(value))

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

    def __init__(self, model: ServiceModel, name: str) -> None:
        op = model.operation(name)
        self.model = model
        self.operation = op
        self.head: Pairs = [("Action", name), ("Version", model.api_version)]
        self._prefix = f"Action={_quote(name)}&Version={_quote(model.api_version)}".encode("ascii")
        self._input: dict[str, Any] | None = {"shape": op.input} if op.input else None
        compiler = _compiler(model)
        self._emit = compiler.emitter(op.input) if op.input else None
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

    def _emit_flat(self, params: Any, root: str) -> Flat:
        # key, value, ... with every value checked but for the UTF-8 check of strings.
        out: Flat = []
        if self._emit is None:
            if params:
                raise self._fail(params)
            return out
        try:
            self._emit(params, root, out)
        except (Invalid, KeyError, TypeError, AttributeError):
            raise self._fail(params) from None
        return out

    def pairs(self, params: Any) -> Pairs:
        """The parameter pairs (without Action/Version), or ValidationError."""
        flat = self._emit_flat(params, "")
        values = flat[1::2]
        try:
            _SOH.join(values).encode("utf-8")
        except UnicodeEncodeError:  # a string with a lone surrogate
            raise self._fail(params) from None
        return [(key[:-1], value) for key, value in zip(flat[0::2], values, strict=True)]  # drop the "="

    def serialize(self, params: Mapping[str, Any] | None = None, token_factory: TokenFactory | None = None) -> Pairs:
        return self.head + self.pairs(self._params(params, token_factory))

    def encode(self, params: Mapping[str, Any] | None = None, token_factory: TokenFactory | None = None) -> bytes:
        if params is None or (token_factory is not None and self.token_members):
            params = self._params(params, token_factory)
        emit = self._emit
        if emit is None:
            self._emit_flat(params, "&")  # ValidationError unless empty
            return self._prefix
        flat: Flat = []
        try:
            emit(params, "&", flat)
            values = flat[1::2]
            joined = _SOH.join(values).encode("utf-8")  # UnicodeEncodeError: a lone surrogate
        except (Invalid, KeyError, TypeError, AttributeError, UnicodeEncodeError):
            raise self._fail(params) from None
        if not flat:
            return self._prefix
        quoted = _quote_joined(joined, len(values))
        flat[1::2] = [_quote(value) for value in values] if quoted is None else quoted
        if self._unsafe_keys:
            flat[0::2] = [f"&{_quote(key[1:-1])}=" for key in flat[0::2]]
        return self._prefix + "".join(flat).encode("ascii")

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
        enc = OperationEncoder(model, operation)
        model.cache[key] = enc
    return enc


def _compiler(model: ServiceModel) -> _Compiler:
    # One per model, so operations share the emitters of common shapes.
    compiler: _Compiler = model.cache.setdefault("query-compiler", _Compiler(model))
    return compiler
