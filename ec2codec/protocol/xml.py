"""The EC2 Query response decoder: response XML (whole or streamed) -> the dict botocore returns.

Wire rules (AWS "EC2 Query protocol", Smithy ``aws.protocols#ec2Query``, and
botocore's ``EC2QueryParser``): the root is ``<{Operation}Response>`` in any
namespace or none; a member is the element named by its ``locationName``,
else by the member name; a list is ``<x><item>..</item></x>`` where every
child counts as an item whatever its name; ``<requestId>`` becomes
``ResponseMetadata.RequestId``; an error is
``<Response><Errors><Error><Code/><Message/>..</Error></Errors><RequestID/></Response>``
and raises :class:`~ec2codec.ServiceError`. awsQuery (``query``-protocol
models) wraps the members in ``<{Operation}Result>`` beside
``<ResponseMetadata><RequestId>``, and its errors are
``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``
(:mod:`ec2codec.protocol._awsqueryxml`). Empty elements decode as botocore
decodes them (``""``, ``[]``, ``{}``, ``b""``), missing members stay absent
and unknown elements are skipped.

Each operation's output shape is compiled once (:mod:`ec2codec.protocol._xmlplan`,
cached in ``ServiceModel.cache``) into closures that walk the lxml tree a
single time, looking tags up in per-shape dicts. Bodies up to 1 MiB are
parsed whole; :class:`ResponseParser` instead feeds chunks to lxml's
``XMLPullParser``; every 64 KiB it walks the open path from the root (the last
child at each level; every earlier sibling is complete), decodes the finished
items of the lists on that path and drops them, and drops unknown or repeated
elements, so memory follows the result rather than the document. Hostile
input is gated in :mod:`ec2codec.protocol._xmlsafety`.

Deliberate differences from botocore, which would return or raise something else:

* Every malformed, truncated, non-UTF-8, over-limit or DTD-carrying document,
  wrong root element and unconvertible value raises :class:`~ec2codec.ParseError`
  naming the problem (for values, the element path:
  ``ImportSnapshotResponse.snapshotTaskDetail.diskImageSize: not a number: 'abc'``).
  botocore raises ``ResponseParserError``, bare ``ValueError``/``TypeError``, or
  parses whatever root it is given; its expat also expands internal entities.
* Booleans are ``true`` or ``false``; botocore turns any other text, even
  ``True`` or an empty element, into ``False``.
* Timestamps are timezone-aware UTC ``datetime`` values read by
  :func:`ec2codec.protocol._time.parse_timestamp` (ISO 8601 with fractions and offsets,
  epoch seconds, HTTP-date). botocore returns naive datetimes for ISO text
  without an offset, ``tzlocal()`` ones for epoch seconds, and lets dateutil
  guess at free-form dates. Equal instants compare equal either way.
* A repeated element for a member that is not a flattened list keeps the last
  occurrence; botocore returns a raw element list for scalars (or fails
  converting it) and the first occurrence for structures.
* A flattened list member is named by the member (Smithy ``xmlName``), not by
  its list's member ``locationName``; this is the behaviour the ``Ec2XmlLists``
  protocol test expects and botocore's parser fails.
* An error document is recognised by its root (``Response``/``ErrorResponse``),
  not by the HTTP status, which the decoder does not see; ``status=`` is only
  recorded on the :class:`~ec2codec.ServiceError`. All errors of a multi-error
  document are kept, and a map entry with a missing or unknown key/value
  element is a ParseError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, TypeAlias, cast

from ..errors import ModelError, ParseError, ServiceError
from ..model.service import HasService, ServiceModel, service_of
from ._awsqueryxml import root_plan
from ._xmlfast import Fallback, fast_decoder
from ._xmlplan import BadValue, Compiler, Plan, Reparse, local_name, prune
from ._xmlsafety import (
    DEFAULT_LIMITS,
    MAX_HEAD,
    ParseLimits,
    Root,
    TreeGuard,
    describe,
    oneshot_parser,
    parser_options,
    scan_prolog,
)

if TYPE_CHECKING:
    from lxml import etree

    Element = etree._Element
    Pending = dict[Element, list[Any]]

__all__ = ["Body", "OperationDecoder", "ParseLimits", "ResponseParser", "decoder_for", "parse_response"]

Body: TypeAlias = "bytes | bytearray | memoryview | str | Iterable[bytes | str] | IO[bytes]"

_ERROR_ROOTS = frozenset({"Response", "ErrorResponse"})
_REQUEST_ID_TAGS = frozenset({"RequestID", "RequestId", "requestId"})
# Bodies up to this size are parsed whole; larger ones and streams go through
# ResponseParser, which prunes the tree every _STEP bytes.
_ONESHOT_MAX = 1 << 20
_STEP = 64 * 1024


class OperationDecoder:
    """The compiled decoder of one operation's responses (see :func:`decoder_for`)."""

    def __init__(self, model: ServiceModel, name: str, compiler: Compiler) -> None:
        self.model = model
        self.operation = model.operation(name)
        self.root_name = f"{name}Response"
        output = self.operation.output
        if model.protocol == "query":
            self.root: Plan = root_plan(compiler, name)
            # Smithy's awsQuery tests send no body at all for an output without members.
            self._empty_ok = not output or not model.shape(output).get("members")
        else:
            self.root = compiler.root(output)
            self._empty_ok = False
        # The fast decoder for the default limits, looked up once rather than on every parse.
        self._fast_default = fast_decoder(model, name, DEFAULT_LIMITS)

    def empty(self, data: bytes, status: int | None) -> dict[str, Any]:
        """The result of a body holding no element: ``{}`` where awsQuery allows it, else ParseError."""
        if self._empty_ok and not data.strip() and (status is None or status < 300):
            return {"ResponseMetadata": {}}
        raise ParseError(_no_root(data))

    def check_root(self, local: str) -> None:
        if local != self.root_name and local not in _ERROR_ROOTS:
            raise ParseError(
                f"expected <{self.root_name}> (or an EC2 <Response> error document) as the root element, got <{local}>"
            )

    def finish(self, root: Element, pending: Pending, status: int | None) -> dict[str, Any]:
        """Decode a complete document (what the pruner left of it)."""
        if local_name(root.tag) in _ERROR_ROOTS:
            raise self._service_error(root, status)
        result: dict[str, Any] = self.root.decode(root, pending)
        result.setdefault("ResponseMetadata", {})
        return result

    def parse_bytes(self, data: bytes, limits: ParseLimits, status: int | None) -> dict[str, Any]:
        """Decode a whole body held in memory (no pruning: for bodies up to about a megabyte)."""
        default = limits is DEFAULT_LIMITS
        fast = self._fast_default if default else fast_decoder(self.model, self.operation.name, limits)
        if fast is not None:
            try:
                return fast.decode(data, limits)
            except Fallback:
                pass  # outside the subset EC2 writes: lxml decides, from the unchanged body
        return self.parse_tree(data, limits, status)

    def parse_tree(self, data: bytes, limits: ParseLimits, status: int | None) -> dict[str, Any]:
        """:meth:`parse_bytes` through lxml only: any document, every ParseError (the fast path's reference)."""
        etree = _etree or _import_lxml()

        try:
            guard = TreeGuard(limits)
            guard.take(data, len(data))
            found = scan_prolog(data)
            if not isinstance(found, Root):
                return self.empty(data, status)
            self.check_root(found.local)
            end = found.end
            if end != len(found.head):
                data = found.head + data[end:]
                end = len(found.head)
            # Dropping blank text (libxml2's areBlanks heuristic) cannot change a
            # value unless the body holds a comment, CDATA section, processing
            # instruction or carriage return (single-byte finds rule those out at
            # memory speed) or a scalar element with children, which the decoders
            # catch (Reparse). Error documents are small and stay exact.
            exact = found.local in _ERROR_ROOTS or data.find(b"\r", end) >= 0
            exact = exact or (data.find(b"!", end) >= 0 and data.find(b"<!", end) >= 0)
            exact = exact or (data.find(b"?", end) >= 0 and data.find(b"<?", end) >= 0)
            try:
                root = etree.fromstring(data, oneshot_parser(exact=exact))
                guard.check(root)
                return self.finish(root, {}, status)
            except Reparse:
                return self.finish(etree.fromstring(data, oneshot_parser(exact=True)), {}, status)
        except BaseException as exc:
            problem = _translate(exc, at_end=isinstance(exc, etree.XMLSyntaxError) and _runs_out(data))
            if problem is exc:
                raise
            raise problem from None

    def _service_error(self, root: Element, status: int | None) -> ServiceError:
        # EC2QueryParser._do_error_parse; awsQuery's <ErrorResponse><Error> is accepted too.
        errors: list[Element] = []
        request_id = None
        for child in root:
            tag = local_name(child.tag)
            if tag == "Errors":
                errors.extend(e for e in child if local_name(e.tag) == "Error")
            elif tag == "Error":
                errors.append(child)
            elif tag in _REQUEST_ID_TAGS:
                request_id = child.text
        pairs: list[tuple[str, str]] = []
        for error in errors:
            fields = {local_name(f.tag): f.text or "" for f in error}
            if "Code" not in fields:
                raise ParseError(f"<{local_name(root.tag)}> error document with an <Error> without <Code>")
            pairs.append((fields["Code"], fields.get("Message", "")))
        if not pairs:
            raise ParseError(f"<{local_name(root.tag)}> error document without <Errors><Error>")
        code, message = pairs[0]
        shape = self._error_shape(code)
        details = _error_plan(self.model, shape).decode(errors[0], {}) if shape else {}
        return ServiceError(code, message, request_id, errors=pairs, details=details, status=status)

    def _error_shape(self, code: str) -> str | None:
        """The modeled exception for ``code``: the operation's own first, then any in the model."""
        for name in self.operation.errors:
            shape = self.model.shape(name)
            if code in (name, (shape.get("error") or {}).get("code")):
                return name
        try:
            shape = self.model.shape(code) if code else {}
        except ModelError:
            return None
        return code if shape.get("exception") and shape.get("type") == "structure" else None


_etree: Any = None


def _import_lxml() -> Any:
    """``lxml.etree``, imported by the first parse, not by ``import ec2codec.protocol.xml``.

    Kept in a global because a function-level ``from lxml import etree`` costs
    about half a microsecond per call, a few percent of a small response.
    """
    global _etree
    from lxml import etree

    _etree = etree
    return etree


def decoder_for(model: ServiceModel, operation: str) -> OperationDecoder:
    """The cached compiled decoder for ``operation`` of ``model`` (ModelError if unknown; thread-safe)."""
    key = ("xml", operation)
    dec: OperationDecoder | None = model.cache.get(key)  # no lock: only complete decoders are published
    if dec is None:
        dec = model.compile_once(key, _COMPILER, _new_decoder, model, operation)  # no lambda: see encoder_for
    return dec


def _new_decoder(model: ServiceModel, operation: str) -> OperationDecoder:
    return OperationDecoder(model, operation, _compiler(model))


def _error_plan(model: ServiceModel, shape: str) -> Plan:
    """The plan of a modeled exception's ``<Error>``, compiled on first use and published like a decoder."""
    key = ("xml-error", shape)
    plan: Plan | None = model.cache.get(key)
    if plan is None:
        plan = model.compile_once(key, _COMPILER, _new_plan, model, shape)
    return plan


def _new_plan(model: ServiceModel, shape: str) -> Plan:
    return _compiler(model).plan(shape)


_COMPILER = "xml-compiler"


def _compiler(model: ServiceModel) -> Compiler:
    # One per model, shared by its operations; it memoises plans still being
    # filled in, so it is used only under the model's compile lock.
    compiler: Compiler = model.cache.setdefault(_COMPILER, Compiler(model))
    return compiler


def _no_root(data: bytes) -> str:
    if not data.strip():
        return "empty response body"
    return "truncated document: it ends before the root element start tag is complete"


def _runs_out(data: bytes) -> bool:
    """Whether ``data`` is a good prefix: a push parser only complains when told it has ended."""
    from lxml import etree

    probe = etree.XMLPullParser(events=(), **parser_options())
    try:
        probe.feed(data)
    except etree.XMLSyntaxError:
        return False
    try:
        probe.close()
    except etree.XMLSyntaxError as exc:
        # lxml's summary when libxml2 logged an error without stopping (an
        # undefined entity, for one): not a truncation.
        return not str(exc.msg).startswith("no element found")
    return False


def _translate(exc: BaseException, *, at_end: bool, own_log: bool = False) -> BaseException:
    """The ParseError standing for ``exc``, or ``exc`` itself when it is ours or not about the input."""
    from lxml import etree

    if isinstance(exc, (ParseError, ServiceError)):
        return exc
    if isinstance(exc, BadValue):
        return ParseError(f"{_path(exc.element)}: {exc.problem}")
    if isinstance(exc, etree.LxmlError):
        return ParseError(describe(exc, at_end=at_end, own_log=own_log))
    if isinstance(exc, UnicodeError):
        return ParseError(f"response body is not valid UTF-8: {exc}")
    if isinstance(exc, RecursionError):
        return ParseError("document nested too deeply to decode")
    return exc


def _path(element: Element) -> str:
    names: list[str] = []
    node: Element | None = element
    while node is not None:
        names.append(local_name(node.tag))
        node = node.getparent()
    return ".".join(reversed(names))


def _as_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    if isinstance(chunk, str):
        try:
            return chunk.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError(f"response text cannot be encoded as UTF-8: {exc.reason} at index {exc.start}") from None
    raise TypeError(f"response chunks must be bytes or str, got {type(chunk).__name__}")


class ResponseParser:
    """Incremental decoder of one response: :meth:`feed` bytes as they arrive, then :meth:`close`.

    ``operation`` names the call the response answers; ``model`` is an
    :class:`ec2codec.Model` (the bundled EC2 model by default); ``limits`` bound
    the document; ``status``, the HTTP status if known, is recorded on a raised
    :class:`~ec2codec.ServiceError`. After any error the parser is spent.
    Not thread-safe; use one parser per response.
    """

    def __init__(
        self,
        operation: str,
        *,
        model: HasService | ServiceModel | None = None,
        limits: ParseLimits | None = None,
        status: int | None = None,
    ) -> None:
        self._decoder = decoder_for(service_of(model), operation)
        self._limits = limits or DEFAULT_LIMITS
        self._guard = TreeGuard(self._limits)
        self._status = status
        # A body that begins as EC2 success documents do and ends within
        # _ONESHOT_MAX is held whole and decoded at close() as parse() decodes
        # it (the fast path first). Anything else, or more, goes to the
        # streaming path at once (held chunks replayed), so a bad prolog is
        # still refused at the feed() that brings it and memory stays bounded
        # by the result plus one megabyte.
        self._fast = fast_decoder(self._decoder.model, operation, self._limits)
        self._whole: list[bytes] | None = [] if self._fast is not None else None
        self._whole_size = 0
        self._head: list[bytes] = []  # chunks received before the root start tag is complete
        self._held = 0  # their total size
        self._scanned = -1  # the size at the last scan of the head
        self._scan_at = 0  # where scan_prolog resumes in the head
        self._parser: etree.XMLPullParser | None = None
        self._root: Element | None = None
        self._pending: Pending = {}
        self._fed = 0
        self._unpruned = 0
        self._prunable = False
        self._state = "open"

    def feed(self, chunk: bytes | bytearray | memoryview | str) -> None:
        """Parse the next piece of the body (bytes, or str to be encoded as UTF-8)."""
        if self._state != "open":
            raise ParseError(f"ResponseParser.feed() called after the parser was {self._state}")
        try:
            data = _as_bytes(chunk)
            whole = self._whole
            if whole is not None:
                whole.append(data)
                self._whole_size += len(data)
                fast = self._fast
                # The first chunk decides whether the body begins as EC2's do; later ones only add size.
                starts = len(whole) > 1 or (fast is not None and fast.starts(data))
                if starts and self._whole_size <= _ONESHOT_MAX:
                    return
                self._whole = None
                for held in whole:
                    self._feed(held)
                return
            self._feed(data)
        except BaseException as exc:
            self._state = "failed"
            self._release()
            problem = _translate(exc, at_end=False, own_log=True)
            if problem is exc:
                raise
            raise problem from None

    def close(self) -> dict[str, Any]:
        """Finish the document and return the decoded result (or raise ServiceError/ParseError)."""
        if self._state != "open":
            raise ParseError(f"ResponseParser.close() called after the parser was {self._state}")
        if self._whole is not None:
            whole, self._whole = self._whole, None
            data = whole[0] if len(whole) == 1 else b"".join(whole)
            fast = self._fast
            if fast is not None:
                try:
                    result = fast.decode(data, self._limits)
                except Fallback:
                    pass
                else:
                    self._state = "closed"
                    return result
            self.feed(data)  # the streaming path decides, exactly as before (and raises if it refuses)
        if self._parser is None:
            # The head _feed held back is parsed as feed() would have: a syntax error in it is not a truncation.
            self._scanned = -1
            self.feed(b"")
        self._state = "closed"
        try:
            return self._close()
        except BaseException as exc:
            problem = _translate(exc, at_end=True, own_log=True)
            if problem is exc:
                raise
            raise problem from None
        finally:
            self._release()

    def _feed(self, data: bytes) -> None:
        self._fed += len(data)
        self._guard.take(data, self._fed)
        if self._parser is not None:
            self._push(data)
            return
        self._head.append(data)
        self._held += len(data)
        # Scan again only once the head has doubled or reached MAX_HEAD (and at
        # close): scan_prolog's answer depends on the first MAX_HEAD bytes alone
        # and never changes once given, so scanning later finds the same root or
        # error, and a head arriving byte by byte costs linear time, not quadratic.
        if self._held >= 2 * self._scanned or self._held >= MAX_HEAD:
            self._begin()

    def _begin(self) -> None:
        """Scan the head; once the root start tag is complete, start lxml on the document so far."""
        head = self._head[0] if len(self._head) == 1 else b"".join(self._head)
        self._head = [head]
        found = scan_prolog(head, self._scan_at)  # resumes at the unfinished construct
        self._scanned = len(head)
        if not isinstance(found, Root):
            self._scan_at = found
            return
        self._start(found)
        self._head, self._held = [], 0
        self._push(found.head + head[found.end :])

    def _start(self, found: Root) -> None:
        from lxml import etree

        self._decoder.check_root(found.local)
        self._prunable = found.local not in _ERROR_ROOTS
        # Syntax errors are described from the thread's lxml error log, which
        # must hold only this document's entries (see _xmlsafety.describe).
        etree.clear_error_log()
        # Only the root's start event is wanted: it hands over the tree being built.
        self._parser = etree.XMLPullParser(events=("start",), tag="{*}" + found.local, **parser_options())

    def _push(self, data: bytes) -> None:
        parser = self._parser
        assert parser is not None
        for start in range(0, len(data), _STEP):
            piece = data[start : start + _STEP] if len(data) > _STEP else data
            parser.feed(piece)
            for _event, element in parser.read_events():  # drained, or same-named elements pile up
                if self._root is None:
                    self._root = cast("Element", element)
            self._unpruned += len(piece)
            if self._unpruned >= _STEP and self._prunable and self._root is not None:
                self._guard.check(self._root, pruning=True)
                prune(self._root, self._decoder.root, self._pending)
                self._guard.pruned(self._root)
                self._unpruned = 0

    def _close(self) -> dict[str, Any]:
        if self._parser is None:
            return self._decoder.empty(b"".join(self._head), self._status)
        root = self._parser.close()
        self._guard.check(root)
        return self._decoder.finish(root, self._pending, self._status)

    def _release(self) -> None:
        self._parser = None
        self._root = None
        self._pending = {}
        self._head, self._held = [], 0


def parse_response(
    model: ServiceModel,
    operation: str,
    body: Body,
    *,
    limits: ParseLimits | None = None,
    status: int | None = None,
) -> dict[str, Any]:
    """Decode ``body`` (bytes, str, iterable of chunks, or binary file) answering ``operation``."""
    if type(body) is not bytes and isinstance(body, (str, bytearray, memoryview)):
        body = _as_bytes(body)
    if isinstance(body, bytes) and len(body) <= _ONESHOT_MAX:
        return decoder_for(model, operation).parse_bytes(body, limits or DEFAULT_LIMITS, status)
    parser = ResponseParser(operation, model=model, limits=limits, status=status)
    read = getattr(body, "read", None)
    if isinstance(body, bytes):
        parser.feed(body)
    elif callable(read):
        while chunk := read(_STEP):
            parser.feed(chunk)
    elif isinstance(body, Iterable):
        for chunk in body:
            parser.feed(chunk)
    else:
        raise TypeError(f"body must be bytes, str, an iterable of bytes or a binary file, got {type(body).__name__}")
    return parser.close()
