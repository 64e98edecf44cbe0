"""The EC2 Query response encoder (the server side): a result dict -> the XML document EC2 sends.

Owns the entry points :func:`encode_response` and :func:`encode_error`, the
per-operation :class:`ResponseWriter` (compiled once, cached in
``ServiceModel.cache`` like the request encoder and the decoder) and the
reporting pass that names every bad value with its full path. The wire rules
and the compiled fast path live in :mod:`ec2codec.protocol._xmlwrite`.

A response is ``<{Operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">``
holding ``<requestId>`` and then the output shape's members (AWS "EC2 Query
protocol", "Response syntax"); an operation without an output shape gets only
the ``<requestId>``. An error is EC2's
``<Response><Errors><Error><Code/><Message/></Error>..</Errors><RequestID/></Response>``.
Whatever :func:`ec2codec.parse` returns encodes back to a document that
``parse`` (and botocore's ``EC2QueryParser``) turns into the same dict.
awsQuery models (STS) get their own frame and error document
(:mod:`ec2codec.protocol._awsquerywrite`), read back the same way by
botocore's ``QueryParser``.

Deliberate choices, where a value could be written more than one way or not at all:

* Values are typed strictly: ``str`` for strings, ``int`` (not ``bool``) within
  the Smithy type's signed range for ``integer``/``long``/``short``/``byte``
  (EC2 never sends more, and SDKs in other languages would overflow), ``int``
  or ``float`` for ``float``/``double``, ``bool``, ``bytes``-like for blobs and
  ``datetime`` for timestamps (naive ones are UTC, as botocore takes them).
  ``None`` is not "absent": leave the key out.
* Text that XML 1.0 cannot carry (most C0 controls, lone surrogates, U+FFFE,
  U+FFFF) is a :class:`~ec2codec.ValidationError`, never a broken document;
  CR is written as ``&#13;`` so it survives end-of-line normalisation.
* A flattened list or map (loaded models only; EC2's own model has none) with
  no items writes nothing, so it parses back absent rather than empty.
* ``request_id`` must be a non-empty string: EC2 always sends one, and parsers
  read an empty ``<requestId/>`` as ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ValidationError
from ..model.service import HasService, ServiceModel, service_of
from ._awsquerywrite import FAULTS, error_document, response_frame
from ._xmlwrite import INVALID_XML_CHAR, Compiler, Emit, Reject, carries_xml, escape, scalar_converter, type_name

__all__ = ["ResponseWriter", "encode_error", "encode_response", "writer_for"]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_ERROR_SUBJECT = "error document"  # the "operation" named by ValidationErrors of encode_error


class ResponseWriter:
    """The compiled response encoder of one operation (see :func:`writer_for`)."""

    def __init__(self, model: ServiceModel, operation: str, compiler: Compiler) -> None:
        self.model = model
        self.operation = operation
        self.output = model.operation(operation).output
        self._members: Mapping[str, Any] = model.shape(self.output).get("members", {}) if self.output else {}
        self._emit: Emit = compiler.structure(self._members)
        # ec2: <requestId> first, then the members; awsQuery: the members in the
        # result element, then <ResponseMetadata><RequestId> (see _awsquerywrite).
        self._id_first = model.protocol != "query"
        if self._id_first:
            root = f"{operation}Response"
            self._head = f'{XML_DECLARATION}<{root} xmlns="{_attribute(_namespace(model))}"><requestId>'
            self._id_part, self._tail = "</requestId>", f"</{root}>"
        else:
            self._head, self._id_part, self._tail = response_frame(model, operation, XML_DECLARATION)

    def encode(self, result: Mapping[str, Any], request_id: str) -> bytes:
        """The response document for ``result``; ValidationError naming every bad value."""
        if not isinstance(request_id, str) or not request_id or not isinstance(result, Mapping):
            raise self._invalid(result, request_id)
        if "ResponseMetadata" in result:  # botocore's own addition, not part of the output shape
            result = {k: v for k, v in result.items() if k != "ResponseMetadata"}
        out = [self._head, escape(request_id), self._id_part] if self._id_first else [self._head]
        try:
            self._emit(result, out)
        except Reject:
            raise self._invalid(result, request_id) from None
        except RecursionError:  # a recursive shape nested past the interpreter's limit, or a cycle
            problem = ("(result)", "nested too deeply to encode (or contains itself)")
            raise ValidationError(self.operation, [problem]) from None
        if not self._id_first:
            out += (self._id_part, escape(request_id))
        out.append(self._tail)
        document = "".join(out)
        if not carries_xml(document, len(XML_DECLARATION)):
            raise self._invalid(result, request_id)  # the reporting pass finds which value it was
        return document.encode("utf-8")

    def _invalid(self, result: Any, request_id: Any) -> ValidationError:
        problems: list[tuple[str, str]] = []
        _check_text(request_id, "request_id", problems, required=True)
        if not isinstance(result, Mapping):
            problems.append(("(result)", f"expected a dict, got {type_name(result)}"))
        else:
            body = {k: v for k, v in result.items() if k != "ResponseMetadata"}
            _explain_members(self.model, self._members, body, "", problems)
        if not problems:  # pragma: no cover - the fast path and this pass share their rules
            problems.append(("", "the result cannot be encoded"))
        return ValidationError(self.operation, problems)


def writer_for(model: ServiceModel, operation: str) -> ResponseWriter:
    """The cached compiled response writer for ``operation`` of ``model`` (ModelError if unknown)."""
    key = ("xml-write", operation)
    writer: ResponseWriter | None = model.cache.get(key)  # no lock: only complete writers are published
    if writer is None:
        # The compiler memoises forwarders of shapes still being compiled, so it
        # runs only under the model's compile lock (see ServiceModel.compile_once).
        writer = model.compile_once(key, _COMPILER, _new_writer, model, operation)  # no lambda: see encoder_for
    return writer


def _new_writer(model: ServiceModel, operation: str) -> ResponseWriter:
    return ResponseWriter(model, operation, _compiler(model))


_COMPILER = "xml-write-compiler"


def _compiler(model: ServiceModel) -> Compiler:
    compiler: Compiler = model.cache.setdefault(_COMPILER, Compiler(model))
    return compiler


def encode_response(
    operation: str,
    result: Mapping[str, Any],
    request_id: str,
    *,
    model: HasService | ServiceModel | None = None,
) -> bytes:
    """The XML document EC2 sends for ``operation`` returning ``result`` (the dict :func:`ec2codec.parse` gives).

    ``result["ResponseMetadata"]``, if present, is ignored: ``request_id`` is
    written instead. ``model`` is an :class:`ec2codec.Model` or ``ServiceModel``
    (the bundled EC2 model by default). Unknown operations, unknown members and
    values of the wrong type or range raise :class:`~ec2codec.ValidationError`
    listing every problem with its path (``ImportSnapshotTasks[0].SnapshotTaskDetail.DiskImageSize``).
    """
    service = service_of(model)
    if not service.has_operation(operation):
        raise ValidationError(str(operation), [("", f"unknown operation {operation!r}")])
    return writer_for(service, operation).encode(result, request_id)


def encode_error(
    code: str,
    message: str,
    request_id: str,
    *,
    errors: Sequence[tuple[str, str]] = (),
    model: HasService | ServiceModel | None = None,
    fault: str = "Sender",
) -> bytes:
    """EC2's error document: ``(code, message)`` first, then each ``(code, message)`` of ``errors``.

    EC2 sends one ``<Error>`` almost always, but the format holds several and
    :class:`~ec2codec.ServiceError` keeps them all, so ``ServiceError.errors[1:]``
    is what to pass as ``errors`` to rebuild a parsed error. Codes and the
    request id must be non-empty; a message may be empty.

    For an awsQuery ``model`` (STS) the document is ``<ErrorResponse>``
    instead, with one error only and ``fault`` (``Sender`` or ``Receiver``)
    as its ``<Type>``; the EC2 form has no type and ignores ``fault``.
    """
    service = None if model is None else service_of(model)
    query = service is not None and service.protocol == "query"
    problems: list[tuple[str, str]] = []
    if query and errors:
        problems.append(("errors", "an awsQuery error document carries one error"))
    if query and fault not in FAULTS:
        problems.append(("fault", f"expected one of {', '.join(FAULTS)}, got {fault!r}"))
    pairs: list[tuple[Any, Any]] = [(code, message)]
    if isinstance(errors, (str, bytes)) or not isinstance(errors, Sequence):
        problems.append(("errors", f"expected a sequence of (code, message) pairs, got {type_name(errors)}"))
    else:
        for i, pair in enumerate(errors):
            if isinstance(pair, (tuple, list)) and len(pair) == 2:
                pairs.append((pair[0], pair[1]))
            else:
                problems.append((f"errors[{i}]", f"expected a (code, message) pair, got {type_name(pair)}"))
    for i, (one_code, one_message) in enumerate(pairs):
        at = "" if i == 0 else f"errors[{i - 1}]."
        _check_text(one_code, f"{at}code", problems, required=True)
        _check_text(one_message, f"{at}message", problems, required=False)
    _check_text(request_id, "request_id", problems, required=True)
    if problems:
        raise ValidationError(_ERROR_SUBJECT, problems)
    if service is not None and query:
        return error_document(service, code, message, request_id, fault=fault, declaration=XML_DECLARATION).encode(
            "utf-8"
        )
    items = "".join(f"<Error><Code>{escape(c)}</Code><Message>{escape(m)}</Message></Error>" for c, m in pairs)
    document = (
        f"{XML_DECLARATION}<Response><Errors>{items}</Errors><RequestID>{escape(request_id)}</RequestID></Response>"
    )
    return document.encode("utf-8")


# --- the reporting pass ------------------------------------------------------------------


def _check_text(value: Any, path: str, problems: list[tuple[str, str]], *, required: bool) -> None:
    if not isinstance(value, str):
        problems.append((path, f"expected a string, got {type_name(value)}"))
    elif required and not value:
        problems.append((path, "must not be empty"))
    else:
        _check_characters(value, path, problems)


def _check_characters(text: str, path: str, problems: list[tuple[str, str]]) -> None:
    bad = INVALID_XML_CHAR.search(text)
    if bad is not None:
        char = bad.group()
        problems.append((path, f"character U+{ord(char):04X} at index {bad.start()} cannot appear in XML 1.0"))


def _explain_members(
    model: ServiceModel,
    members: Mapping[str, Any],
    value: Mapping[Any, Any],
    path: str,
    problems: list[tuple[str, str]],
) -> None:
    for name, item in value.items():
        sub = f"{path}.{name}" if path else str(name)
        ref = members.get(name) if isinstance(name, str) else None
        if ref is None:
            problems.append((sub, f"unknown member (valid: {', '.join(members) or 'none'})"))
        else:
            _explain(model, ref, item, sub, problems)


def _explain(
    model: ServiceModel, ref: Mapping[str, Any], value: Any, path: str, problems: list[tuple[str, str]]
) -> None:
    """Append every problem of ``value``, of the shape ``ref`` points at, to ``problems``."""
    shape = model.shape(ref["shape"])
    kind = shape.get("type")
    if kind == "structure":
        if not isinstance(value, Mapping):
            problems.append((path, f"expected a dict, got {type_name(value)}"))
        else:
            _explain_members(model, shape.get("members", {}), value, path, problems)
    elif kind == "list":
        if not isinstance(value, (list, tuple)):
            problems.append((path, f"expected a list, got {type_name(value)}"))
            return
        for i, item in enumerate(value):
            _explain(model, shape["member"], item, f"{path}[{i}]", problems)
    elif kind == "map":
        if not isinstance(value, Mapping):
            problems.append((path, f"expected a dict, got {type_name(value)}"))
            return
        for key, item in value.items():
            _explain(model, shape["key"], key, f"{path} (key {key!r})", problems)
            _explain(model, shape["value"], item, f"{path}[{key!r}]", problems)
    else:
        try:
            scalar_converter(shape, ref.get("timestampFormat"))(value)
        except Reject as exc:
            problems.append((path, str(exc)))
            return
        if isinstance(value, str):
            _check_characters(value, path, problems)


# --- helpers ---------------------------------------------------------------------------


def _namespace(model: ServiceModel) -> str:
    # botocore's metadata spells EC2's namespace without the trailing slash the
    # service itself writes (xmlns="http://ec2.amazonaws.com/doc/2016-11-15/").
    namespace = str(model.metadata.get("xmlNamespace") or f"http://ec2.amazonaws.com/doc/{model.api_version}")
    return namespace if namespace.endswith("/") else namespace + "/"


def _attribute(text: str) -> str:
    return escape(text).replace('"', "&quot;")
