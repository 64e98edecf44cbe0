"""The server side of awsQuery: a form-encoded request body back into ``(operation, params)``.

The inverse of :mod:`ec2codec.protocol._awsquerycompile`, with the strictness
of :mod:`ec2codec.protocol.query_decode` (whose tree walk, errors and
scalar rules it reuses). What awsQuery changes: member keys are named by
:func:`~ec2codec.protocol._names.member_name`; a list is ``Name.member.N``
(``Name.N`` when flattened) and ``Name=`` with an empty value is an empty
list, so awsQuery decodes ``[]`` where ec2Query leaves the member absent; a
map is ``Name.entry.N.key``/``.value`` (``Name.N.key`` when flattened), and an
entry whose value is an empty structure or map, which sends nothing, decodes
as ``{}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model.service import ServiceModel
from ._names import is_flattened, member_name
from .query_decode import _Bad, _Decoder, _indexed, decode_with

__all__ = ["decode_request"]

# Items of these kinds send nothing when empty, so they may leave holes in a list's numbering.
_SILENT_WHEN_EMPTY = ("structure", "map")


class AwsQueryDecoder(_Decoder):
    """The ec2 request decoder with awsQuery keys, lists and maps."""

    def key_of(self, name: str, ref: Mapping[str, Any]) -> str:
        return member_name(name, ref, self.model.shape(ref["shape"]))

    def value(self, ref: Mapping[str, Any], node: Any, key: str) -> Any:
        shape = self.model.shape(ref["shape"])
        kind = shape.get("type")
        if kind == "list":
            return self.query_list(shape, is_flattened(ref, shape), node, key)
        if kind == "map":
            return self.query_map(shape, is_flattened(ref, shape), node, key)
        return super().value(ref, node, key)

    def query_list(self, shape: Mapping[str, Any], flattened: bool, node: Any, key: str) -> list[Any]:
        if node == "":
            return []  # "Name=": the encoder's spelling of an empty list
        item = "" if flattened else shape["member"].get("locationName") or "member"
        if item:
            if not isinstance(node, dict) or set(node) != {item}:
                raise _Bad(key, f"expected {key}.{item}.1, {key}.{item}.2, ... (or {key}= for an empty list)")
            node, key = node[item], f"{key}.{item}"
        if not isinstance(node, dict):
            raise _Bad(key, f"expected indexed keys ({key}.1, {key}.2, ...), got a value")
        holes = self.model.shape(shape["member"]["shape"]).get("type") in _SILENT_WHEN_EMPTY
        return [self.value(shape["member"], child, f"{key}.{i}") for i, child in _indexed(node, key, holes)]

    def query_map(self, shape: Mapping[str, Any], flattened: bool, node: Any, key: str) -> dict[Any, Any]:
        if not flattened:
            if not isinstance(node, dict) or set(node) != {"entry"}:
                raise _Bad(key, f"expected map entries ({key}.entry.1.key, ...)")
            node, key = node["entry"], f"{key}.entry"
        if not isinstance(node, dict):
            raise _Bad(key, "expected map entries")
        key_ref, value_ref = shape["key"], shape["value"]
        kname = key_ref.get("locationName") or "key"
        vname = value_ref.get("locationName") or "value"
        silent = self.model.shape(value_ref["shape"]).get("type") in _SILENT_WHEN_EMPTY
        out: dict[Any, Any] = {}
        for i, entry in _indexed(node, key):
            at = f"{key}.{i}"
            if not isinstance(entry, dict) or not set(entry) <= {kname, vname} or kname not in entry:
                raise _Bad(at, f"a map entry needs exactly {kname} and {vname}")
            if vname in entry:
                value = self.value(value_ref, entry[vname], f"{at}.{vname}")
            elif silent:
                value = {}
            else:
                raise _Bad(at, f"a map entry needs exactly {kname} and {vname}")
            out[self.value(key_ref, entry[kname], f"{at}.{kname}")] = value
        return out


def decode_request(body: bytes | str, model: ServiceModel) -> tuple[str, dict[str, Any]]:
    """``(operation, params)`` from an awsQuery request body, or :class:`~ec2codec.ValidationError`."""
    return decode_with(AwsQueryDecoder, body, model)
