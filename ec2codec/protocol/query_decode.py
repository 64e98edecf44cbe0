"""The server side of the EC2 Query protocol: a form-encoded request body back into ``(operation, params)``.

The inverse of :mod:`ec2codec.protocol.query`: keys are split on ``.`` and walked down
the operation's input shape (structure members by wire name, list items by
1-based index), then scalars are converted to Python values. Decoding is
strict, because a server (or a test standing in for one) must refuse what EC2
refuses: malformed form encoding, duplicate keys, unknown Action or Version,
unknown keys, list indexes that are not 1..N without gaps, and values that do
not convert all raise :class:`~ec2codec.ValidationError` naming the key. The
one allowance: items of a list of structures (or of lists or maps) may skip
indexes, because an empty item is sent as nothing and leaves a hole.

Normalisation: timestamps come back as aware UTC datetimes, blobs as bytes,
floats as float, lists as lists. Empty lists and structures are absent (the
encoder sends nothing for them). Required members are not enforced here: that
is the server's call (EC2 answers ``MissingParameter``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from ..errors import ModelError, ValidationError
from ..model.service import ServiceModel
from ._querycompile import wire_name
from ._time import parse_timestamp

__all__ = ["decode_request", "decode_with"]

Tree = dict[str, Any]
_INT = re.compile(r"-?[0-9]+")
# What Python's float repr and botocore emit; Python's float() would also take
# "nan", "1_0" or padded text, which no client sends.
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FLOAT_WORDS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_FORM_KEY = re.compile(r"[A-Za-z0-9_.~%+-]+")


class _Bad(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(key, message)
        self.key = key
        self.message = message


def _pairs(body: bytes | str) -> list[tuple[str, str]]:
    """Split an ``application/x-www-form-urlencoded`` body (WHATWG URL, section 5.1)."""
    if isinstance(body, bytes):
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise _Bad("(body)", "a form-encoded body must be ASCII (percent-encode other bytes)") from None
    else:
        text = body
    out = []
    for part in text.split("&"):
        if not part:
            raise _Bad("(body)", "empty field (stray '&')")
        key, sep, value = part.partition("=")
        if not sep or not _FORM_KEY.fullmatch(key):
            raise _Bad(key or "(body)", "malformed field (expected key=value)")
        try:
            out.append((unquote_plus(key, errors="strict"), unquote_plus(value, errors="strict")))
        except UnicodeDecodeError:
            raise _Bad(unquote_plus(key), "value is not valid UTF-8 after percent-decoding") from None
    return out


def _tree(pairs: list[tuple[str, str]]) -> Tree:
    root: Tree = {}
    for key, value in pairs:
        *parents, leaf = key.split(".")
        node = root
        for depth, seg in enumerate(parents):
            child = node.setdefault(seg, {})
            if not isinstance(child, dict):
                raise _Bad(".".join(parents[: depth + 1]), "given both as a value and as a prefix")
            node = child
        if leaf in node:
            raise _Bad(
                key, "given more than once" if isinstance(node[leaf], str) else "given both as a value and as a prefix"
            )
        node[leaf] = value
    return root


class _Decoder:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model

    def key_of(self, name: str, ref: Mapping[str, Any]) -> str:
        """The key of structure member ``name`` (the ec2 rule; the awsQuery decoder overrides it)."""
        return wire_name(name, ref)

    def value(self, ref: Mapping[str, Any], node: Any, key: str) -> Any:
        shape = self.model.shape(ref["shape"])
        kind = shape.get("type")
        if kind == "structure":
            return self.structure(shape, node, key)
        if kind == "list":
            return self.list(shape, node, key)
        if kind == "map":
            return self.map(shape, node, key)
        if not isinstance(node, str):
            raise _Bad(key, f"expected a single {kind} value, got nested keys")
        return self.scalar(kind, ref.get("timestampFormat") or shape.get("timestampFormat"), node, key)

    def structure(self, shape: Mapping[str, Any], node: Any, key: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise _Bad(key, "expected nested keys for a structure, got a value")
        by_wire = {self.key_of(name, ref): (name, ref) for name, ref in shape.get("members", {}).items()}
        out: dict[str, Any] = {}
        for seg, child in node.items():
            sub = f"{key}.{seg}" if key else seg
            if seg not in by_wire:
                raise _Bad(sub, "unknown parameter")
            name, ref = by_wire[seg]
            out[name] = self.value(ref, child, sub)
        return out

    def list(self, shape: Mapping[str, Any], node: Any, key: str) -> list[Any]:
        if not isinstance(node, dict):
            raise _Bad(key, "expected indexed keys (Name.1, Name.2, ...), got a value")
        # botocore sends nothing for an empty structure (or empty nested list or
        # map), so such items leave a hole in the numbering: accept holes there,
        # and only there. A scalar always sends a key, so its holes are errors.
        member_kind = self.model.shape(shape["member"]["shape"]).get("type")
        holes = member_kind in ("structure", "list", "map")
        return [self.value(shape["member"], child, f"{key}.{i}") for i, child in _indexed(node, key, holes)]

    def map(self, shape: Mapping[str, Any], node: Any, key: str) -> dict[Any, Any]:
        entries = node.get("entry") if isinstance(node, dict) and not shape.get("flattened") else node
        if not isinstance(entries, dict):
            raise _Bad(key, "expected map entries")
        kname = wire_name("key", shape["key"]) if shape["key"].get("locationName") else "key"
        vname = wire_name("value", shape["value"]) if shape["value"].get("locationName") else "value"
        out: dict[Any, Any] = {}
        for i, entry in _indexed(entries, key):
            if not isinstance(entry, dict) or set(entry) != {kname, vname}:
                raise _Bad(f"{key}.{i}", f"a map entry needs exactly {kname} and {vname}")
            out[self.value(shape["key"], entry[kname], f"{key}.{i}.{kname}")] = self.value(
                shape["value"], entry[vname], f"{key}.{i}.{vname}"
            )
        return out

    @staticmethod
    def scalar(kind: str | None, fmt: str | None, text: str, key: str) -> Any:
        if kind == "string":
            return text
        if kind in ("integer", "long"):
            if not _INT.fullmatch(text):
                raise _Bad(key, f"not an integer: {text!r}")
            return _to_int(text, key)
        if kind in ("float", "double"):
            if text in _FLOAT_WORDS:
                return _FLOAT_WORDS[text]
            if not _FLOAT.fullmatch(text):
                raise _Bad(key, f"not a number: {text!r}")
            return float(text)
        if kind == "boolean":
            if text not in ("true", "false"):
                raise _Bad(key, f"not a boolean (true or false): {text!r}")
            return text == "true"
        if kind == "blob":
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise _Bad(key, "not valid base64") from None
        if kind == "timestamp":
            try:
                return parse_timestamp(text)
            except (ValueError, OverflowError):
                raise _Bad(key, f"not a timestamp ({(fmt or 'iso8601')} expected): {text!r}") from None
        raise _Bad(key, f"unsupported shape type {kind!r}")


def _to_int(digits: str, key: str) -> int:
    # Python refuses to convert more than sys.get_int_max_str_digits() digits
    # (4300 by default, CVE-2020-10735) with a ValueError of its own.
    try:
        return int(digits)
    except ValueError:
        raise _Bad(key, f"integer of {len(digits.lstrip('-'))} digits is out of range") from None


def _indexed(node: Tree, key: str, holes: bool = False) -> list[tuple[int, Any]]:
    items = []
    for seg, child in node.items():
        # isascii: str.isdigit() also takes digits int() refuses, such as "²".
        if not (seg.isascii() and seg.isdigit()) or seg.startswith("0"):
            raise _Bad(f"{key}.{seg}", "list index must be a positive integer (1, 2, ...)")
        items.append((_to_int(seg, f"{key}.{seg[:20]}..."), child))
    items.sort(key=lambda item: item[0])
    if holes:
        return items
    for expected, (index, _) in enumerate(items, 1):
        if index != expected:
            raise _Bad(f"{key}.{expected}", "list indexes must run 1..N without gaps")
    return items


def decode_request(body: bytes | str, model: ServiceModel) -> tuple[str, dict[str, Any]]:
    """``(operation, params)`` from an EC2 Query request body, or :class:`ValidationError`.

    For an awsQuery (``query``-protocol) model use ``Model.decode_request``,
    which applies that protocol's keys.
    """
    if model.protocol == "query":
        raise ModelError("an awsQuery model: decode with ec2codec.Model.decode_request")
    return decode_with(_Decoder, body, model)


def decode_with(decoder: type[_Decoder], body: bytes | str, model: ServiceModel) -> tuple[str, dict[str, Any]]:
    """:func:`decode_request` with the protocol's ``decoder`` (the ec2 one, or a subclass)."""
    operation = "(unknown)"
    try:
        pairs = _pairs(body)
        head = {k: [v for kk, v in pairs if kk == k] for k in ("Action", "Version")}
        for name, values in head.items():
            if len(values) > 1:
                raise _Bad(name, "given more than once")
        operation = (head["Action"] or [""])[0]
        version = head["Version"][0] if head["Version"] else None
        if not operation:
            raise _Bad("Action", "missing")
        if not model.has_operation(operation):
            raise _Bad("Action", f"unknown operation {operation!r}")
        if version != model.api_version:
            raise _Bad("Version", f"expected {model.api_version!r}, got {version!r}")
        op = model.operation(operation)
        rest = [(k, v) for k, v in pairs if k not in ("Action", "Version")]
        tree = _tree(rest)
        if op.input is None:
            if tree:
                raise _Bad(next(iter(tree)), f"{operation} takes no parameters")
            return operation, {}
        return operation, decoder(model).structure(model.shape(op.input), tree, "")
    except _Bad as bad:
        raise ValidationError(operation, [(bad.key, bad.message)]) from None
