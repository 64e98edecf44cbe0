"""LocalEC2's HTTP endpoint: a real EC2 Query server for the import-snapshot operations, on the standard library.

Owns the request pipeline -- read the form (POST body, or the query of a GET,
as EC2 accepts both), verify SigV4, decode, dispatch, encode -- and the
server's lifecycle (:class:`LocalEC2Server`, :func:`serve`). The HTTP/1.1
connections (keep-alive, deadlines, refusals before the pipeline) are
:mod:`ec2codec.server._connection`; the task state lives in
:mod:`ec2codec.server._importtasks`; wire formats come from the codec
(``decode_request``, :mod:`ec2codec.auth.verification`, :mod:`ec2codec.protocol.xml_encode`).

Answers, from the EC2 API Reference, "Error codes" (common client errors):

* Signature problems answer :attr:`SignatureError.code` with its status:
  ``AuthFailure`` (401) for a wrong signature, secret or unknown key,
  ``MissingAuthenticationToken`` (403) for an unsigned request,
  ``IncompleteSignature`` (400) for a garbled one or a request target that
  cannot be checked (a control character, a fragment, neither a path nor a
  URL), ``RequestExpired`` (400) for a skewed clock. The message never quotes
  the canonical request or the string to sign (EC2 only says it could not
  validate the credentials); those go to the ``ec2codec.server`` logger at
  DEBUG. Real EC2 says ``AuthFailure``, not
  ``UnauthorizedOperation``, for a bad signature: ``UnauthorizedOperation``
  is its IAM denial, and every local key is authorised, so LocalEC2 never
  sends it. Every answer carries ``Date`` (the server's clock), so a client
  can measure and correct its skew.
* Decoding problems: ``MissingAction`` / ``InvalidAction`` for the Action,
  ``MissingParameter`` / ``NoSuchVersion`` for the Version,
  ``UnknownParameter`` for keys the operation does not have,
  ``MalformedQueryString`` for a body that is not a form, and
  ``InvalidParameterValue`` for the rest (bad list index, unconvertible value,
  repeated key), each message naming the key.
* A valid EC2 operation other than the three: ``UnsupportedOperation`` (400),
  saying what LocalEC2 implements.
* Results are HTTP 200; ``DryRunOperation`` is 412 as on EC2; an unexpected
  failure is ``InternalError`` (500). Request ids are uuid4.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from ..auth.sigv4 import Credentials
from ..auth.verification import SignatureError, verify
from ..errors import Error, ValidationError
from ..protocol._xmlwrite import INVALID_XML_CHAR
from ..protocol.codec import decode_request
from ..protocol.xml_encode import encode_error, encode_response
from ._connection import CONTENT_TYPE as _CONTENT_TYPE
from ._connection import HTTPServer, Response
from ._importtasks import DEFAULT_MAX_TASKS, ImportTasks, LocalError

__all__ = ["DEFAULT_CREDENTIALS", "DEFAULT_REQUEST_TIMEOUT", "LocalEC2Server", "serve"]

# The documented test key pair of `ec2codec serve` (like AWS's own AKIDEXAMPLE): local only, never a real key.
DEFAULT_CREDENTIALS = Credentials("AKIDLOCALEC2EXAMPLE", "localec2/EXAMPLE/secret/key")
_PRESIGN_PREFIX = "X-Amz-"  # query parameters of a presigned URL, not of the operation
_POLL = 0.05  # seconds between shutdown checks of serve_forever: how long stop() waits at most
_IMPLEMENTED = "ImportSnapshot, DescribeImportSnapshotTasks and CancelImportTask"
DEFAULT_REQUEST_TIMEOUT = 30.0  # seconds for a request's line, headers and body to arrive
_MAX_TIMEOUT = 86_400.0  # a day; socket timeouts must stay finite
_LOG = logging.getLogger("ec2codec.server")


def _refuse_unprintable(value: Any, path: str) -> None:
    """EC2 refuses text its XML answers could not carry (XML 1.0 section 2.2, Char), rather than echo it broken."""
    if isinstance(value, str):
        if INVALID_XML_CHAR.search(value):
            raise _error("InvalidParameterValue", f"Value for parameter {path} contains an invalid character.", 400)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unprintable(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value, 1):
            _refuse_unprintable(item, f"{path}.{i}")


def _error(code: str, message: str, status: int) -> LocalError:
    return LocalError(code, message, status)


def _from_validation(exc: ValidationError, action: str) -> LocalError:
    """The EC2 error code for the first problem decode_request found (see the module docstring)."""
    key, message = exc.problems[0] if exc.problems else ("", str(exc))
    if key == "Action":
        if message == "missing":
            return _error("MissingAction", "The request must contain the parameter Action", 400)
        if message.startswith("unknown operation"):
            return _error("InvalidAction", f"The action {action} is not valid for this web service.", 400)
    if key == "Version" and message.startswith("expected"):
        if message.endswith("got None"):
            return _error("MissingParameter", "The request must contain the parameter Version", 400)
        return _error("NoSuchVersion", f"The requested version of service AmazonEC2 does not exist ({message})", 400)
    if message == "unknown parameter" or message.endswith("takes no parameters"):
        return _error("UnknownParameter", f"The parameter {key} is not recognized", 400)
    if key == "(body)" or message.startswith("malformed field"):
        return _error("MalformedQueryString", f"The request is not a valid form-encoded query: {message}", 400)
    return _error("InvalidParameterValue", f"Invalid value for parameter {key}: {message}", 400)


class _Lookup:
    """``lookup_secret`` for verify: access key id -> its Credentials (None when unknown)."""

    def __init__(self, credentials: Iterable[Credentials]) -> None:
        self._keys = {c.access_key: c for c in credentials}
        if not self._keys:
            raise ValidationError("LocalEC2", [("credentials", "at least one key pair is needed")])

    def __call__(self, access_key: str) -> Credentials | None:
        return self._keys.get(access_key)


class LocalEC2Server:
    """An in-memory EC2 import endpoint on ``http://host:port`` (``port=0`` picks a free port).

    ``credentials`` are the key pairs it accepts (each may carry a session
    token, which requests must then present); ``region``, when set, is the only
    signing region accepted. ``time_scale`` is how many seconds a whole import
    takes. ``clock`` (epoch seconds) drives signature checks, task lifecycles
    and the ``Date`` header, so tests can skew or advance it.

    ``request_timeout`` is how many seconds a request's line, headers and body
    may take to arrive (then ``408 RequestTimeout``; an idle keep-alive
    connection is closed after as long). ``max_tasks`` is how many import
    tasks are kept; ImportSnapshot is refused with ``ResourceLimitExceeded``
    beyond it. ``time_scale`` and ``max_tasks`` apply when ``tasks`` is not
    given (an :class:`~ec2codec.server._importtasks.ImportTasks` carries its own).
    HTTP behaviour (keep-alive, refusals) is described in
    :mod:`ec2codec.server._connection`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: Credentials | Iterable[Credentials] = DEFAULT_CREDENTIALS,
        time_scale: float = 60.0,
        region: str | None = None,
        clock: Callable[[], float] = time.time,
        tasks: ImportTasks | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_tasks: int = DEFAULT_MAX_TASKS,
    ) -> None:
        if not 0 < request_timeout <= _MAX_TIMEOUT:
            problem = f"must be more than 0 and at most {_MAX_TIMEOUT:g} seconds, got {request_timeout!r}"
            raise ValidationError("LocalEC2", [("request_timeout", problem)])
        self.host = host
        self.port = port
        self.region = region
        self.clock = clock
        self.request_timeout = float(request_timeout)
        self.tasks = tasks if tasks is not None else ImportTasks(time_scale=time_scale, max_tasks=max_tasks)
        self._lookup = _Lookup([credentials] if isinstance(credentials, Credentials) else credentials)
        self._lock = threading.Lock()  # ImportTasks is not thread-safe; requests are served in threads
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._serving = False  # serve_forever was (or is about to be) entered: stop() must shut it down

    # -- the pipeline (no sockets: the handler and tests call this) ----------

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        """``(status, headers, body)`` for one request; ``target`` is the request line's path and query."""
        request_id = str(uuid.uuid4())
        try:
            operation, result = self._process(method, target, headers, body)
            status, payload = 200, encode_response(operation, result, request_id)
        except LocalError as exc:
            # Messages quote the caller's input, which may hold characters XML
            # cannot carry; a refusal must still be a well-formed document.
            message = INVALID_XML_CHAR.sub("\ufffd", exc.message)
            status, payload = exc.status, encode_error(exc.code, message, request_id)
        except Exception:
            # An answer, not a dropped connection: EC2's own 500 (clients retry it).
            status = 500
            payload = encode_error("InternalError", "An internal error has occurred", request_id)
        return status, [("Content-Type", _CONTENT_TYPE), ("x-amzn-RequestId", request_id)], payload

    def _process(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> tuple[str, Any]:
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        _, _, query = target.partition("?")
        try:
            verify(method, target, headers, body, self._lookup, now, service="ec2", region=self.region)
        except SignatureError as exc:
            if exc.details:
                _LOG.debug("%s refused: %s\n%s", method, exc, exc.details)
            raise _error(exc.code, exc.message, exc.status) from None
        except ValidationError:
            # verify's argument check: a request target that is neither a path nor an absolute URL ("*").
            raise _error("IncompleteSignature", "The request target is not a path or an absolute URL", 400) from None
        form = _operation_query(query) if method == "GET" else body
        try:
            operation, params = decode_request(form)
        except ValidationError as exc:
            raise _from_validation(exc, _action_of(form)) from None
        _refuse_unprintable(params, "")
        handler = self.tasks.dispatch(operation)
        if handler is None:
            raise _error(
                "UnsupportedOperation", f"LocalEC2 implements {_IMPLEMENTED}; {operation} is not implemented.", 400
            )
        with self._lock:
            return operation, handler(params, now)

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        if self._httpd is None:
            raise Error("LocalEC2Server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def bind(self) -> None:
        """Open the listening socket (``start`` and :func:`serve` call this)."""
        if self._httpd is None:
            self._httpd = HTTPServer((self.host, self.port), self, self.request_timeout)

    def start(self) -> LocalEC2Server:
        """Serve in a background thread; returns self."""
        self.bind()
        if self._thread is None:
            assert self._httpd is not None
            self._serving = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(_POLL,), name="LocalEC2", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` (from another thread) or KeyboardInterrupt."""
        self.bind()
        assert self._httpd is not None
        self._serving = True
        self._httpd.serve_forever(_POLL)

    def stop(self) -> None:
        """Stop serving, wait for requests in flight, release the port. Idempotent."""
        httpd, thread, serving = self._httpd, self._thread, self._serving
        self._httpd, self._thread, self._serving = None, None, False
        if httpd is None:
            return
        if serving:
            httpd.shutdown()  # returns once serve_forever has left its loop
        if thread is not None:
            thread.join()
        httpd.close_connections()  # idle keep-alive connections end now, not after request_timeout
        httpd.server_close()  # joins the connection threads (block_on_close) and closes the socket

    def __enter__(self) -> LocalEC2Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _operation_query(query: str) -> str:
    # A presigned GET carries its signature in X-Amz-* parameters: they are not the operation's.
    return "&".join(part for part in query.split("&") if part and not part.startswith(_PRESIGN_PREFIX))


def _action_of(form: bytes | str) -> str:
    text = form.decode("ascii", "replace") if isinstance(form, bytes) else form
    for part in text.split("&"):
        name, _, value = part.partition("=")
        if name == "Action":
            return value[:100]
    return ""


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    credentials: Credentials | Iterable[Credentials] = DEFAULT_CREDENTIALS,
    time_scale: float = 60.0,
    region: str | None = None,
    ready: Callable[[str], None] | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_tasks: int = DEFAULT_MAX_TASKS,
) -> None:
    """Run LocalEC2 in this thread until interrupted (Ctrl-C); ``ready(url)`` is called once it listens."""
    server = LocalEC2Server(
        host,
        port,
        credentials=credentials,
        time_scale=time_scale,
        region=region,
        request_timeout=request_timeout,
        max_tasks=max_tasks,
    )
    server.bind()
    try:
        if ready is not None:
            ready(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
