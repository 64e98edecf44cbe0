"""A fault-injecting HTTP/1.1 server on 127.0.0.1, for driving both clients through the same failures.

Each request gets the next :data:`Fault` of a script (or of a ``decide``
function): a whole answer, a connection reset after the request was read, a
body cut short, an answer that never comes, or (as a proxy) the upstream's
answer, optionally thrown away after the upstream acted on the request. Every
request is recorded as it arrived (method, path, headers, body), so a test can
compare what two clients sent byte for byte. One request per connection, and
every answer says ``Connection: close``, so no client reuses a connection the
server is about to drop.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple


class Received(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class Reply(NamedTuple):
    """Answer ``status`` with ``body`` (and ``headers``)."""

    status: int
    body: bytes | str = b""
    headers: tuple[tuple[str, str], ...] = ()


class Reset(NamedTuple):
    """Read the request, then reset the connection: no answer at all."""


class Truncate(NamedTuple):
    """Announce ``len(body)`` bytes, send the first ``cut``, then close."""

    status: int
    body: bytes | str
    cut: int


class Stall(NamedTuple):
    """Read the request and answer nothing for ``seconds`` (the client's read timeout fires first)."""

    seconds: float


class Forward(NamedTuple):
    """Pass the request to the upstream as received; with ``lose``, reset instead of relaying its answer."""

    lose: bool = False


Fault = Reply | Reset | Truncate | Stall | Forward
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}
_REASONS |= {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 412: "Precondition Failed"}


class FaultServer:
    """``with FaultServer() as server: server.load([...]); ... server.received``.

    ``decide(received, index)`` replaces the script when given; ``upstream``
    (``host, port``) is where :class:`Forward` sends. A request beyond the
    script is answered ``400 ScriptExhausted`` and counted in ``unexpected``.
    """

    def __init__(
        self,
        *,
        decide: Callable[[Received, int], Fault] | None = None,
        upstream: tuple[str, int] | None = None,
    ) -> None:
        self._decide = decide
        self._upstream = upstream
        self._script: list[Fault] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.received: list[Received] = []
        self.unexpected = 0
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []

    def load(self, script: Iterable[Fault]) -> None:
        """Start over: forget what was received and answer the next requests with ``script``."""
        with self._lock:
            self._script = list(script)
            self.received = []
            self.unexpected = 0

    def __enter__(self) -> FaultServer:
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()

    # -- serving ---------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            try:
                raw = _read_request(conn)
            except OSError:
                return
            if raw is None:
                return
            received = _parse_request(raw)
            with self._lock:
                index = len(self.received)
                self.received.append(received)
                if self._decide is not None:
                    fault = self._decide(received, index)
                elif index < len(self._script):
                    fault = self._script[index]
                else:
                    self.unexpected += 1
                    fault = Reply(400, _error("ScriptExhausted"))
            try:
                self._answer(conn, raw, fault)
            except OSError:
                return

    def _answer(self, conn: socket.socket, raw: bytes, fault: Fault) -> None:
        """Carry out ``fault``; the connection is closed afterwards in every case."""
        if isinstance(fault, Reset):
            _reset(conn)
        elif isinstance(fault, Stall):
            self._stop.wait(fault.seconds)
        elif isinstance(fault, Truncate):
            body = _bytes(fault.body)
            conn.sendall(_head(fault.status, len(body), ()) + body[: fault.cut])
        elif isinstance(fault, Forward):
            answer = self._forward(raw)
            if fault.lose or answer is None:
                _reset(conn)
            else:
                conn.sendall(answer)
        else:
            body = _bytes(fault.body)
            conn.sendall(_head(fault.status, len(body), fault.headers) + body)

    def _forward(self, raw: bytes) -> bytes | None:
        assert self._upstream is not None, "Forward needs an upstream"
        with socket.create_connection(self._upstream, timeout=30) as up:
            up.sendall(raw)
            head, rest = b"", b""
            while b"\r\n\r\n" not in head:
                chunk = up.recv(65536)
                if not chunk:
                    return None
                head += chunk
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = _content_length(lines[1:])
            # Relayed with "Connection: close", as every answer of this server.
            kept = [line for line in lines if line.partition(b":")[0].strip().lower() != b"connection"]
            while len(rest) < length:
                chunk = up.recv(65536)
                if not chunk:
                    return None
                rest += chunk
        kept.append(b"Connection: close")
        return b"\r\n".join(kept) + b"\r\n\r\n" + rest[:length]


def _read_request(conn: socket.socket) -> bytes | None:
    """One whole request (head and Content-Length body) from ``conn``; None when it closes first."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = _content_length(head.split(b"\r\n")[1:])
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length]


def _content_length(lines: list[bytes]) -> int:
    for line in lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _parse_request(raw: bytes) -> Received:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Received(method, path, headers, body)


def _head(status: int, length: int, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Content-Length: {length}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(conn: socket.socket) -> None:
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _error(code: str) -> str:
    return f"<Response><Errors><Error><Code>{code}</Code><Message>m</Message></Error></Errors></Response>"
