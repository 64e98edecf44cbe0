"""LocalEC2's HTTP/1.1 connection layer: listening, keep-alive, request deadlines, and refusals in EC2's format.

:class:`HTTPServer` and :class:`Handler` own everything between the socket and
the request pipeline (``LocalEC2Server.handle``, which never sees a socket):

* Listening: a backlog of :data:`BACKLOG` connections. The standard library's
  5 overflows when a few dozen clients connect at once, and the kernel then
  drops or resets connections (clients see resets and 1-3 s SYN retransmits).
  Linux caps the value at ``net.core.somaxconn``.
* Persistent connections (RFC 9112 section 9.3): an HTTP/1.1 connection stays
  open unless the client sends ``Connection: close``; HTTP/1.0 only with
  ``Connection: keep-alive``. Every answer carries ``Content-Length`` (section
  6.3) and leaves in one write (no Nagle/delayed-ACK stall between headers and
  body), with ``Connection: close`` whenever the server closes after it.
* Deadlines: the request line, headers and body of a request must all arrive
  within ``request_timeout`` seconds of its first byte, or the client is
  answered ``408 RequestTimeout`` and the connection closed, so a client that
  trickles bytes cannot hold a thread (slowloris). A connection with no
  request under way is closed, without an answer, after the same time.
* Refusals that never reach the pipeline. EC2 documents no codes for these
  HTTP-level failures, so the codes are local choices, named as AWS names
  them elsewhere; each is an EC2 error document (``<Response><Errors>``), never
  the standard library's HTML page (:meth:`Handler.send_error` is replaced),
  and the connection is closed after it, since the rest of the stream cannot
  be framed:

  ======================================================  ======  ================================
  request                                                 status  code
  ======================================================  ======  ================================
  method other than GET and POST (EC2 accepts these two)  405     ``UnsupportedHttpVerb``, ``Allow``
  malformed request line or header, HTTP/0.9              400     ``InvalidHttpRequest``
  request line over 64 KiB                                414     ``RequestUriTooLong``
  header line too long, or more than 100 headers          431     ``RequestHeaderSectionTooLarge``
  HTTP/2 or later on this HTTP/1 port                     505     ``HttpVersionNotSupported``
  ``Transfer-Encoding`` (EC2 Query bodies have a length)  411     ``MissingContentLength``
  ``Content-Length`` not 0..1 MiB, or two that differ     400     ``InvalidParameterValue``
  body shorter than its ``Content-Length``                400     ``IncompleteBody``
  deadline passed                                         408     ``RequestTimeout``
  ======================================================  ======  ================================

  A request-target other than ``/`` (EC2 Query requests always go to the root)
  is answered ``400 InvalidAction`` once its body is read, and the connection
  stays open.
* Stopping: :meth:`HTTPServer.close_connections` shuts the read side of every
  open connection, so idle keep-alive threads end at once while answers in
  flight still go out; the server then joins them.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol

from ..protocol._xmlwrite import INVALID_XML_CHAR
from ..protocol.xml_encode import encode_error

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["BACKLOG", "CONTENT_TYPE", "MAX_BODY", "HTTPServer", "Handler", "Response"]

Response = tuple[int, list[tuple[str, str]], bytes]

BACKLOG = 1024
MAX_BODY = 1 << 20  # EC2 Query bodies are small; an ImportSnapshot request is well under 4 KiB
CONTENT_TYPE = "text/xml;charset=UTF-8"
_MAX_LINE = 65536  # the standard library's own request-line limit
# Lingering close after a refusal (as Apache and nginx do): closing with unread bytes makes the kernel
# reset the connection, and a client still sending its body then fails with a broken pipe and never reads
# the refusal. So the server sends FIN, then reads and drops what still comes, for this long at most.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 4 * MAX_BODY
_METHODS = ("GET", "POST")
# EC2 codes for the HTTP statuses the standard library's parser refuses with (see the module docstring).
_CODES = {
    400: "InvalidHttpRequest",
    405: "UnsupportedHttpVerb",
    408: "RequestTimeout",
    411: "MissingContentLength",
    414: "RequestUriTooLong",
    431: "RequestHeaderSectionTooLarge",
    505: "HttpVersionNotSupported",
}


class App(Protocol):
    """What the connection layer serves: the pipeline and the clock for ``Date``."""

    clock: Callable[[], float]

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response: ...


class _DeadlineReader(io.RawIOBase):
    """The connection's read side, with one deadline for a whole request instead of one per ``recv``.

    A per-``recv`` socket timeout never fires for a client sending a byte
    every few seconds; here every ``recv`` may only wait until the deadline.
    Until the first byte of a request arrives the deadline is the idle limit;
    the first byte restarts it for the request itself.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self._limit = 0.0
        self._deadline = 0.0
        self.started = False  # a byte of the current request has arrived

    def arm(self, seconds: float) -> None:
        self._limit = seconds
        self._deadline = time.monotonic() + seconds
        self.started = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request deadline passed")
        self._sock.settimeout(remaining)
        received = self._sock.recv_into(buffer)
        if received and not self.started:
            self.started = True
            self._deadline = time.monotonic() + self._limit
        return received


class HTTPServer(ThreadingHTTPServer):
    """A thread per connection, a real backlog, and a registry of open connections for :meth:`close_connections`."""

    # Connection threads are joined by server_close, so stopping leaves no thread behind.
    daemon_threads = False
    block_on_close = True
    request_queue_size = BACKLOG

    def __init__(self, address: tuple[str, int], app: App, request_timeout: float) -> None:
        self.app = app
        self.request_timeout = request_timeout
        self.closing = False
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, Handler)

    def track(self, conn: socket.socket) -> bool:
        """Register an accepted connection; False once the server is closing (the handler then ends)."""
        with self._open_lock:
            if self.closing:
                return False
            self._open.add(conn)
            return True

    def untrack(self, conn: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(conn)

    def close_connections(self) -> None:
        """End every connection after its answer in flight; new ones are closed at once."""
        # Under the lock: a connection is untracked before it is closed, so none is shut down after its close.
        with self._open_lock:
            self.closing = True
            for conn in self._open:
                with contextlib.suppress(OSError):  # already reset by the client
                    conn.shutdown(socket.SHUT_RD)


class Handler(BaseHTTPRequestHandler):
    """One connection: requests in turn until the client closes, asks to close, errs, or times out."""

    server: HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "LocalEC2"
    timeout = None  # reads are bounded by _DeadlineReader, writes by request_timeout in _send
    wbufsize = -1  # buffered: status line, headers and body leave in one write, flushed per answer
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the standard buffered reader, replaced by one that keeps the deadline
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)
        self._tracked = self.server.track(self.connection)
        self._linger = False  # a refusal was sent: drain before closing

    def finish(self) -> None:
        self.server.untrack(self.connection)
        with contextlib.suppress(OSError):  # the client has gone; what was left to flush cannot be delivered
            super().finish()

    def handle(self) -> None:
        self.close_connection = True
        if not self._tracked:
            return
        try:
            self.handle_one_request()
            while not self.close_connection and not self.server.closing:
                self.handle_one_request()
            if self._linger:
                self._drain()
        except OSError:
            pass  # reset, broken pipe or a write that timed out: nobody is left to answer

    def _drain(self) -> None:
        """Send FIN after the refusal, then read and drop what the client still sends, bounded in time and size."""
        self.connection.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + min(_LINGER_SECONDS, self.server.request_timeout)
        drained = 0
        while drained < _LINGER_BYTES and (remaining := deadline - time.monotonic()) > 0:
            self.connection.settimeout(remaining)
            chunk = self.connection.recv(65536)
            if not chunk:
                return
            drained += len(chunk)

    def handle_one_request(self) -> None:
        self.command, self.path, self.requestline = "", "", ""
        self.request_version = self.default_request_version
        self.close_connection = True
        self._reader.arm(self.server.request_timeout)
        try:
            line = self.rfile.readline(_MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):  # RFC 9112 section 2.2: ignore an empty line before a request
                line = self.rfile.readline(_MAX_LINE + 1)
            if not line:
                return
            if len(line) > _MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG, "The request line is longer than 64 KiB")
                return
            self.raw_requestline = line
            if not self.parse_request():
                return
            if self.request_version == "HTTP/0.9":
                self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 requests are not supported")
                return
            self._serve()
        except TimeoutError:
            if self._reader.started:
                timeout = f"{self.server.request_timeout:g}"
                self._refuse(408, "RequestTimeout", f"The request did not arrive within {timeout} seconds")
            self.close_connection = True

    def handle_expect_100(self) -> bool:
        accepted = super().handle_expect_100()
        self.wfile.flush()  # the interim answer must leave now; the client waits for it before the body
        return accepted

    def _serve(self) -> None:
        if self.command not in _METHODS:
            message = f"The HTTP method {self.command} is not supported; EC2 Query requests are GET or POST"
            self._refuse(405, "UnsupportedHttpVerb", message, [("Allow", ", ".join(_METHODS))])
            return
        body = self._read_body()
        if body is None:
            return
        path = self.path.partition("?")[0]
        if path != "/":
            message = f"The request path {path} is not valid for this web service; EC2 Query requests go to /"
            self._send(*_error_answer(400, "InvalidAction", message))
            return
        self._send(*self.server.app.handle(self.command, self.path, list(self.headers.items()), body))

    def _read_body(self) -> bytes | None:
        """The request's body, or None once refused (RFC 9112 section 6.3: a length, never chunked, here)."""
        if "Transfer-Encoding" in self.headers:
            self._refuse(411, "MissingContentLength", "EC2 Query requests must carry Content-Length, not chunks")
            return None
        lengths = {value.strip() for value in self.headers.get_all("Content-Length", [])}
        if not lengths:
            return b""
        text = lengths.pop() if len(lengths) == 1 else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 9 and int(text) <= MAX_BODY):
            self._refuse(400, "InvalidParameterValue", f"Content-Length must be 0..{MAX_BODY} bytes")
            return None
        length = int(text)
        body = self.rfile.read(length)
        if len(body) < length:
            self._refuse(400, "IncompleteBody", f"The body ended after {len(body)} of its {length} bytes")
            return None
        return body

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Refusals from the standard library's parser, as EC2 error documents (never its HTML page)."""
        reason = message or self.responses.get(code, ("Bad request", ""))[0]
        self._refuse(code, _CODES.get(code, "InvalidHttpRequest" if code < 500 else "InternalError"), reason)

    def _refuse(self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        """Answer an error and close: what follows on the connection cannot be trusted to start a request."""
        answer_status, answer_headers, body = _error_answer(status, code, message)
        self._send(answer_status, answer_headers + (headers or []), body, close=True)
        self._linger = True

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, *, close: bool = False) -> None:
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # a status line and headers even then: EC2 has no bare-body answers
        self.connection.settimeout(self.server.request_timeout)  # a client that never reads cannot hold the thread
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if close or self.close_connection or self.server.closing:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            self.send_header("Connection", "keep-alive")  # HTTP/1.0 persistence must be confirmed
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header is the server's clock (possibly a test's), which is what skew correction reads.
        return formatdate(self.server.app.clock() if timestamp is None else timestamp, usegmt=True)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # quiet, and nothing formatted per answer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the CLI report through `ready`, not stderr


def _error_answer(status: int, code: str, message: str) -> Response:
    request_id = str(uuid.uuid4())
    # The message may quote the request line, which may hold characters XML cannot carry.
    body = encode_error(code, INVALID_XML_CHAR.sub("\ufffd", message), request_id)
    return status, [("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", request_id)], body
