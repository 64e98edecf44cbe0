"""awsQuery response documents as the parser reads them; :mod:`._awsquerywrite` writes the same form.

A response (Smithy ``aws.protocols#awsQuery``, "Response serialization";
botocore ``QueryParser``) is::

    <{Operation}Response xmlns="{metadata xmlNamespace}">
      <{Operation}Result> output members </{Operation}Result>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
    </{Operation}Response>

The result element is named by the output's ``resultWrapper`` (every botocore
query model gives one, on the output reference or, in older models, on the
output shape), else ``{Operation}Result`` as Smithy defines it; an operation
without output has only the ``ResponseMetadata``. ``ResponseMetadata`` decodes
to ``{"RequestId": ...}``, as the ec2 ``<requestId>`` does. An error is::

    <ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code/><Message/>
      (modeled members)</Error><RequestId/></ErrorResponse>

which :meth:`ec2codec.protocol.xml.OperationDecoder` reads for both protocols.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.service import ServiceModel
from ._xmlplan import IGNORED, SCALAR, STRUCT, Compiler, Member, Plan, _request_id, local_name

if TYPE_CHECKING:
    from ._xmlplan import Element, Pending

__all__ = ["METADATA", "result_wrapper", "root_plan"]

METADATA = "ResponseMetadata"


def result_wrapper(model: ServiceModel, operation: str) -> str:
    """The element holding ``operation``'s output members."""
    op = model.operation(operation)
    if op.result_wrapper:
        return op.result_wrapper
    if op.output:
        wrapper = model.shape(op.output).get("resultWrapper")
        if wrapper:
            return str(wrapper)
    return f"{operation}Result"


def _metadata(element: Element, pending: Pending) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element[:]:  # type: ignore[index]  # lxml-stubs lack slicing
        if local_name(child.tag) == "RequestId":
            out = _request_id(child, pending)  # the last one, as for any repeated member
    return out


def _metadata_plan() -> Plan:
    plan = Plan(STRUCT, _metadata)
    plan.members["RequestId"] = Member("RequestId", Plan(SCALAR, _request_id), 0)
    return plan


def root_plan(compiler: Compiler, operation: str) -> Plan:
    """The plan of ``<{Operation}Response>``: the output's members, lifted out of the result element."""
    model = compiler.model
    output = model.operation(operation).output
    wrapper = result_wrapper(model, operation)
    result = compiler.plan(output) if output else IGNORED
    decode_result = result.decode if output else None
    metadata = _metadata_plan()
    decode_metadata = metadata.decode

    def decode(element: Element, pending: Pending) -> dict[str, Any]:
        found = meta = None
        for child in element[:]:  # type: ignore[index]
            tag = local_name(child.tag)
            if tag == wrapper:
                found = child
            elif tag == METADATA:
                meta = child
        out: dict[str, Any] = decode_result(found, pending) if found is not None and decode_result else {}
        if meta is not None:
            out[METADATA] = decode_metadata(meta, pending)
        return out

    # The members are what the streaming pruner walks (see _xmlplan.prune).
    plan = Plan(STRUCT, decode)
    plan.members[wrapper] = Member(wrapper, result, 0)
    plan.members[METADATA] = Member(METADATA, metadata, 0)
    return plan
