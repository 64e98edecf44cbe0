"""The awsQuery rules of the request encoder: the compiler ``query``-protocol models (STS, IAM, ...) use.

awsQuery (Smithy ``aws.protocols#awsQuery``, botocore's ``QuerySerializer``)
shares the form encoding, the scalars and the compiled emitters of
:mod:`ec2codec.protocol._querycompile`; it differs from ec2Query only in keys:

* a member's key is its ``locationName`` (Smithy ``xmlName``), else the member
  name, never capitalised; ``queryName`` is an ec2Query trait and is ignored
  (see :func:`ec2codec.protocol._names.member_name`);
* a list is ``Name.member.1``, ``Name.member.2`` (the item's ``locationName``
  instead of ``member`` when it has one); a flattened list (``flattened`` on
  the list shape or on the member reference) is ``Name.1``, ``Name.2``; an
  empty list is sent as ``Name=`` so the service sees it was given;
* a map is ``Name.entry.N.key`` / ``Name.entry.N.value`` (``Name.N.key`` when
  flattened), the two renamed by their ``locationName``; an empty map sends nothing.

The choice between the two compilers is made once per model (see
``query._compiler``): nothing on the ec2 path tests the protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model.service import ServiceModel
from ._names import member_name
from ._querycompile import Compiler, Emit, Flat
from ._scalars import Invalid

__all__ = ["AwsQueryCompiler"]


class AwsQueryCompiler(Compiler):
    """:class:`~ec2codec.protocol._querycompile.Compiler` with awsQuery keys, lists and maps."""

    def __init__(self, model: ServiceModel) -> None:
        super().__init__(model)
        # Emitters of lists and maps flattened by a member reference rather than
        # by their shape: the same shape is sent both ways, so they are kept apart.
        self._flat: dict[str, Emit] = {}

    def member_key(self, name: str, ref: Mapping[str, Any]) -> str:
        return member_name(name, ref, self.model.shape(ref["shape"]))

    def _member(self, ref: Mapping[str, Any]) -> tuple[str, Emit, type[str] | None]:
        if ref.get("flattened") and self.model.shape(ref["shape"]).get("type") in ("list", "map"):
            return ".", self._flattened(ref["shape"]), None
        return super()._member(ref)

    def _flattened(self, shape_name: str) -> Emit:
        found = self._flat.get(shape_name)
        if found is not None:
            return found
        cell: list[Emit] = []
        # The same placeholder as Compiler.emitter: a recursive shape finds itself while compiling.
        self._flat[shape_name] = lambda value, k, out: cell[0](value, k, out)  # noqa: PLW0108
        shape = self.model.shape(shape_name)
        emit = self._query_list(shape, True) if shape.get("type") == "list" else self._query_map(shape, True)
        cell.append(emit)
        self._flat[shape_name] = emit
        return emit

    def _list(self, shape: Mapping[str, Any]) -> Emit:
        return self._query_list(shape, bool(shape.get("flattened")))

    def _map(self, shape: Mapping[str, Any]) -> Emit:
        return self._query_map(shape, bool(shape.get("flattened")))

    def _query_list(self, shape: Mapping[str, Any], flattened: bool) -> Emit:
        # The ec2 list emitter writes "<key>1.", "<key>2." ...; it is handed the
        # key with the item's name appended, once per list, not per item.
        items = super()._list(shape)
        stem = "" if flattened else self._wire(shape["member"].get("locationName") or "member") + "."
        minimum = shape.get("min")

        def emit(value: Any, key: str, out: Flat) -> None:
            if not value and isinstance(value, (list, tuple)):
                if minimum:
                    raise Invalid
                # botocore QuerySerializer._serialize_type_list: "Name=" for [].
                out.append(key[:-1] + "=")
                out.append("")
            else:
                items(value, key + stem, out)

        return emit

    def _query_map(self, shape: Mapping[str, Any], flattened: bool) -> Emit:
        key_ref, value_ref = shape["key"], shape["value"]
        key_sep, key_emit, _ = self._member(key_ref)
        value_sep, value_emit, _ = self._member(value_ref)
        key_name = self._wire(key_ref.get("locationName") or "key") + key_sep
        value_name = self._wire(value_ref.get("locationName") or "value") + value_sep
        entry = "" if flattened else "entry."

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, dict):
                raise Invalid
            for i, k in enumerate(value, 1):
                stem = f"{key}{entry}{i}."
                key_emit(k, stem + key_name, out)
                value_emit(value[k], stem + value_name, out)

        return emit
