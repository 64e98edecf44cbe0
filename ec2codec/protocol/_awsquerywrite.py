"""The awsQuery frame of a response document and its error document, for the response writer.

The form is the one :mod:`ec2codec.protocol._awsqueryxml` describes and reads:
``<{Operation}Response xmlns="...">``, the output members inside the result
element, then ``<ResponseMetadata><RequestId>``; errors are
``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``.
The namespace is the model's ``xmlNamespace`` exactly as botocore's metadata
spells it (STS: ``https://sts.amazonaws.com/doc/2011-06-15/``, as the service
sends it); a model without one gets no ``xmlns``.
"""

from __future__ import annotations

from ..model.service import ServiceModel
from ._awsqueryxml import METADATA, result_wrapper
from ._xmlwrite import escape

__all__ = ["FAULTS", "error_document", "response_frame"]

# Smithy awsQuery error ``Type``: "Sender" when the caller is at fault, "Receiver" when the service is.
FAULTS = ("Sender", "Receiver")


def namespace_attribute(model: ServiceModel) -> str:
    """`` xmlns="..."`` for the model's ``xmlNamespace`` (as botocore's metadata spells it), or nothing."""
    namespace = model.metadata.get("xmlNamespace")
    if not isinstance(namespace, str) or not namespace:
        return ""
    return ' xmlns="' + escape(namespace).replace('"', "&quot;") + '"'


def response_frame(model: ServiceModel, operation: str, declaration: str) -> tuple[str, str, str]:
    """``(head, before_id, tail)``: the document is head + members + before_id + request id + tail."""
    root = f"{operation}Response"
    head = f"{declaration}<{root}{namespace_attribute(model)}>"
    metadata = f"<{METADATA}><RequestId>"
    tail = f"</RequestId></{METADATA}></{root}>"
    if model.operation(operation).output is None:
        return head, metadata, tail
    wrapper = result_wrapper(model, operation)
    return f"{head}<{wrapper}>", f"</{wrapper}>{metadata}", tail


def error_document(
    model: ServiceModel, code: str, message: str, request_id: str, *, fault: str, declaration: str
) -> str:
    """The ``<ErrorResponse>`` document (texts already checked by the caller)."""
    return (
        f"{declaration}<ErrorResponse{namespace_attribute(model)}><Error><Type>{escape(fault)}</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    )
