"""A hostile HTTP server on 127.0.0.1: every response is raw bytes a test writes itself.

Where :mod:`indexserver` is a well-behaved index with knobs, this one says whatever a test
wants, byte for byte: malformed status lines and headers, lying lengths, escape
sequences in reason phrases, bodies dripped one byte at a time. It counts connections
and requests, so tests can also check how a client uses its connections.

Usage::

    with HostileServer() as server:
        server.routes["/simple/demo/"] = Reply.json({"files": [...]})
        ... hashpin talks to server.url + "/simple/" ...
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Reply:
    """One raw response: the head as written (status line and headers) and the body."""

    status_line: str = "HTTP/1.1 200 OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    drip_delay: float = 0.0  # seconds between single bytes of the whole response
    content_length: bool = True  # add a true Content-Length unless a header gives one
    close_after: bool = False  # hang up after it, without saying so (a keep-alive timeout)

    @classmethod
    def json(cls, data: object) -> Reply:
        return cls.typed(JSON_TYPE, json.dumps(data).encode())

    @classmethod
    def html(cls, text: str) -> Reply:
        return cls.typed("text/html", text.encode())

    @classmethod
    def typed(cls, content_type: str, body: bytes, *headers: tuple[str, str]) -> Reply:
        return cls(headers=[("Content-Type", content_type), *headers], body=body)

    def encode(self) -> bytes:
        headers = list(self.headers)
        names = {name.lower() for name, _ in headers}
        if self.content_length and "content-length" not in names:
            headers.append(("Content-Length", str(len(self.body))))
        head = self.status_line + "\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        return head.encode("latin-1") + self.body


class HostileServer:
    """Serves ``routes`` (path -> Reply); any other path is a 404. Keeps connections alive."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.hits: Counter[str] = Counter()
        self.connections = 0
        self.lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HostileServer:
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with owner.lock:
                    owner.connections += 1
                while not owner._stopping.is_set():
                    request_line = self.rfile.readline(65537)
                    if not request_line:
                        return
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    parts = request_line.decode("latin-1").split()
                    path = parts[1] if len(parts) > 1 else "/"
                    with owner.lock:
                        owner.hits[path] += 1
                    reply = owner.routes.get(path) or Reply(
                        "HTTP/1.1 404 Not Found", body=b"not here"
                    )
                    if not owner._send(self.connection, reply) or reply.close_after:
                        return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _send(self, connection: socket.socket, reply: Reply) -> bool:
        data = reply.encode()
        try:
            if reply.drip_delay <= 0:
                connection.sendall(data)
                return True
            for index in range(len(data)):
                if self._stopping.is_set():
                    return False
                connection.sendall(data[index : index + 1])
                time.sleep(reply.drip_delay)
        except OSError:
            return False
        return True

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def index_url(self) -> str:
        return self.url + "/simple/"
