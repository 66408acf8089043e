"""A real PEP 691 / PEP 503 package index on 127.0.0.1 for tests, with fault injection.

Usage::

    with IndexServer({"foo": [make_wheel("foo", "1.0")]}) as server:
        server.page_format = "html"       # knobs may change at any time during a test
        ... client talks to server.index_url ...
        assert server.hits["/simple/foo/"] == 1

Layout: ``/simple/`` (root list), ``/simple/<normalized>/`` (project pages; a
non-normalized name is 301-redirected like PyPI does), ``/files/<filename>`` (the
distribution bytes), ``/links/`` (a find-links style HTML page listing every file).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import html
import json
import os
import re
import socket
import ssl
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from distmaker import Dist

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType

    import pytest

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"

# A test-only CA and a leaf certificate for 127.0.0.1/localhost, valid 2000-2100, so TLS
# tests need neither the network nor an openssl binary. Never trust these anywhere else.
TEST_CA_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBZzCCAQ2gAwIBAgIBATAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9oYXNocGlu
IHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBoxGDAW
BgNVBAMMD2hhc2hwaW4gdGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BHv6ggr2i1hhe/DVuect/fvGg7g17JS/Y/TryZ19xLduSt6GoNWK3kHv/FmEoima
LqzqTjucaUV1v32czPo+A+yjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/
BAQDAgEGMB0GA1UdDgQWBBTvkQUwVLE/y5sOVR+uV1tlzbk42jAKBggqhkjOPQQD
AgNIADBFAiEA6uYVCK9vzXD03EUjvg+I/+FsPW/jycDSTJJ1wAX3jcMCIBRL1zLD
KKaw0ZM06FPqMcWe3SK+6WsA5J5A3OGCoqFL
-----END CERTIFICATE-----
"""
_TEST_LEAF_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBsjCCAVigAwIBAgIBAjAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9oYXNocGlu
IHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQ
BgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFqWo7O+
eOCX8FfjoTIa2gR7s1Oux9MCIMwUiXhY2znPX2hEnccCclqEpzOdVimmiORMRwDM
kYZGUkAnm8wZ8HqjgZIwgY8wDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4Aw
EwYDVR0lBAwwCgYIKwYBBQUHAwEwGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0
MB8GA1UdIwQYMBaAFO+RBTBUsT/Lmw5VH65XW2XNuTjaMB0GA1UdDgQWBBR6YBEy
hnsvF56Cq38HInTD06mLVjAKBggqhkjOPQQDAgNIADBFAiEA+8Sv2eHLH8eNmNbb
0qiw9i6gIhsoNJPQzr6jv37b75ECIBwmnHK2LFidaBRsQRNjsrEoJKJntPzn6zed
Xz0zvbGc
-----END CERTIFICATE-----
"""
_TEST_LEAF_KEY = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgf2a48DnlvV8E7x8w
qLqc/QWLyukSw2Q3xcXgqU/3vD2hRANCAARalqOzvnjgl/BX46EyGtoEe7NTrsfT
AiDMFIl4WNs5z19oRJ3HAnJahKcznVYppojkTEcAzJGGRlJAJ5vMGfB6
-----END PRIVATE KEY-----
"""

_LIE_DIGEST = hashlib.sha256(b"these are not the bytes you are looking for").hexdigest()
_STREAM_CHUNK = b"\0" * 65536


def sealed_environment(environ: Mapping[str, str], tmp_path: Path) -> dict[str, str]:
    """``environ`` without this machine's pip settings, proxies, netrc or user cache.

    What every hashpin run against a test index gets, so that it talks to 127.0.0.1 only.
    """
    sealed = {
        key: value
        for key, value in environ.items()
        if not key.startswith("PIP_") and not key.lower().endswith("_proxy")
    }
    sealed.update(
        PIP_CONFIG_FILE=os.devnull,
        NETRC=str(tmp_path / "absent-netrc"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
    )
    return sealed


def seal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make this process's environment :func:`sealed_environment` for one test."""
    sealed = sealed_environment(os.environ, tmp_path)
    for name in [name for name in os.environ if name not in sealed]:
        monkeypatch.delenv(name)
    for name, value in sealed.items():
        monkeypatch.setenv(name, value)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class ServedFile:
    """A distribution file on the index, with its per-file metadata."""

    dist: Dist
    yanked: bool | str = False  # a string is the yank reason
    requires_python: str | None = None
    core_metadata: bool = False  # advertise and serve its PEP 658 .metadata file
    upload_time: str | None = "2025-01-01T00:00:00.000000Z"  # PEP 700, as PyPI writes it


@dataclass
class RecordedRequest:
    path: str  # the path part only, also when a proxy request carried an absolute URI
    target: str  # the request target exactly as sent
    headers: dict[str, str]  # names lowercased


@dataclass
class _State:
    """What handler threads change; guarded by IndexServer.lock."""

    hits: Counter[str] = field(default_factory=Counter)
    requests: list[RecordedRequest] = field(default_factory=list)


class IndexServer:
    """A threaded HTTP(S) simple index. Every public attribute below is a test knob."""

    def __init__(
        self,
        projects: Mapping[str, Iterable[Dist | ServedFile]] | None = None,
        *,
        tls: bool = False,
    ) -> None:
        self.projects: dict[str, list[ServedFile]] = {}
        for name, files in (projects or {}).items():
            self.add_project(name, files)
        self.tls = tls
        # "json", "html" (PEP 503 with the v1+html type), "text/html", or "negotiate" by Accept.
        self.page_format = "negotiate"
        # "sha256", "md5" (md5 only), "none", or "lie" (a sha256 of other bytes).
        self.digests = "sha256"
        self.absolute_hrefs = False
        self.base_href: str | None = None  # HTML <base href>; hrefs are then bare filenames
        self.files_url: str | None = None  # origin that file URLs point at (default: this one)
        self.auth: tuple[str, str] | None = None  # 401 unless this Basic auth is sent
        self.redirects: dict[str, str] = {}  # path -> Location (absolute or relative)
        self.redirect_status = 302
        self.failures: dict[str, int] = {}  # path -> how many more times to answer 500
        self.failure_status = 500
        self.delay = 0.0  # seconds to sit on every request before answering
        self.validators = True  # send ETag/Last-Modified and honour conditional requests
        self.cache_control: str | None = None  # a Cache-Control header for pages (and 304s)
        self.ranges = True  # answer Range requests for files with 206
        self.metadata_lies = False  # advertise a wrong digest for every PEP 658 file
        self.last_modified = "Wed, 01 Jan 2025 00:00:00 GMT"
        self.gzip_pages = False  # gzip pages when the client accepts gzip
        self.streams: dict[str, int] = {}  # filename -> size of a zero-filled streamed body
        self.page_body: bytes | None = None  # serve these bytes instead of any project page
        self.content_type: str | None = None  # send this Content-Type for project pages
        self.stream_content_length = True
        self.stream_declared_length: int | None = None  # a Content-Length to claim instead
        self.lock = threading.Lock()
        self._state = _State()
        self._release = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> IndexServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.index = self
        if self.tls:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="indexserver-")
            tmp = Path(self._tmpdir.name)
            (tmp / "leaf.pem").write_text(_TEST_LEAF_PEM + _TEST_LEAF_KEY)
            (tmp / "ca.pem").write_text(TEST_CA_PEM)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tmp / "leaf.pem"))
            httpd.tls_context = context
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._release.set()  # wake handlers sitting on a delay so they end quietly
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    # -- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        return self.url + "/simple/"

    def index_url_with_auth(self, user: str, password: str) -> str:
        userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return self.index_url.replace("://", f"://{userinfo}@", 1)

    @property
    def ca_bundle(self) -> str:
        """Path of a PEM file with the test CA (TLS servers only)."""
        assert self._tmpdir is not None, "not a started TLS server"
        return str(Path(self._tmpdir.name) / "ca.pem")

    # -- content ---------------------------------------------------------------------------

    def add_project(self, name: str, files: Iterable[Dist | ServedFile]) -> None:
        served = [f if isinstance(f, ServedFile) else ServedFile(f) for f in files]
        self.projects.setdefault(normalize(name), []).extend(served)

    def find_file(self, filename: str) -> ServedFile | None:
        for files in self.projects.values():
            for served in files:
                if served.dist.filename == filename:
                    return served
        return None

    # -- observations ----------------------------------------------------------------------

    @property
    def hits(self) -> Counter[str]:
        """Requests per path so far (a copy)."""
        with self.lock:
            return Counter(self._state.hits)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._state.requests)

    def _record(self, request: RecordedRequest) -> None:
        with self.lock:
            self._state.hits[request.path] += 1
            self._state.requests.append(request)

    def _take_failure(self, path: str) -> bool:
        with self.lock:
            remaining = self.failures.get(path, 0)
            if remaining <= 0:
                return False
            self.failures[path] = remaining - 1
            return True

    def _wait_delay(self) -> bool:
        """Sit on the request for ``delay`` seconds; False if the server is stopping."""
        if self.delay <= 0:
            return True
        return not self._release.wait(self.delay)

    # -- rendering -------------------------------------------------------------------------

    def _file_hashes(self, served: ServedFile) -> dict[str, str]:
        if self.digests == "sha256":
            return {"sha256": served.dist.sha256}
        if self.digests == "md5":
            return {"md5": served.dist.md5}
        if self.digests == "lie":
            return {"sha256": _LIE_DIGEST}
        return {}

    def _metadata_digest(self, served: ServedFile) -> str:
        if self.metadata_lies:
            return _LIE_DIGEST
        return hashlib.sha256(served.dist.metadata or b"meta").hexdigest()

    def _file_href(self, filename: str, *, depth: int) -> str:
        if self.base_href is not None:
            return quote(filename)
        if self.absolute_hrefs or self.files_url is not None:
            return f"{self.files_url or self.url}/files/{quote(filename)}"
        return "../" * depth + f"files/{quote(filename)}"

    def render_json(self, project: str) -> bytes:
        files = []
        for served in self.projects[project]:
            entry: dict[str, object] = {
                "filename": served.dist.filename,
                "url": self._file_href(served.dist.filename, depth=2),
                "hashes": self._file_hashes(served),
                "size": len(served.dist.data),
            }
            if served.upload_time is not None:
                entry["upload-time"] = served.upload_time
            if served.requires_python is not None:
                entry["requires-python"] = served.requires_python
            if served.yanked:
                entry["yanked"] = served.yanked
            if served.core_metadata:
                entry["core-metadata"] = {"sha256": self._metadata_digest(served)}
            files.append(entry)
        versions = sorted({s.dist.version for s in self.projects[project]})
        page = {
            "meta": {"api-version": "1.1"},
            "name": project,
            "versions": versions,
            "files": files,
        }
        return json.dumps(page).encode()

    def render_html(self, project: str) -> bytes:
        head = '<meta name="pypi:repository-version" content="1.1">'
        if self.base_href is not None:
            head += f'<base href="{html.escape(self.base_href)}">'
        lines = [
            f"<!DOCTYPE html><html><head>{head}<title>Links for {project}</title></head>",
            f"<body><h1>Links for {project}</h1>",
        ]
        for served in self.projects[project]:
            href = self._file_href(served.dist.filename, depth=2)
            hashes = self._file_hashes(served)
            if hashes:
                algorithm, digest = next(iter(hashes.items()))
                href += f"#{algorithm}={digest}"
            attrs = f'href="{html.escape(href)}"'
            if served.requires_python is not None:
                attrs += f' data-requires-python="{html.escape(served.requires_python)}"'
            if served.yanked is True:
                attrs += " data-yanked"
            elif served.yanked:
                attrs += f' data-yanked="{html.escape(served.yanked)}"'
            if served.core_metadata:
                attrs += f' data-core-metadata="sha256={self._metadata_digest(served)}"'
            lines.append(f"<a {attrs}>{html.escape(served.dist.filename)}</a><br/>")
        lines.append("</body></html>")
        return "\n".join(lines).encode()

    def render_root(self, as_json: bool) -> bytes:
        names = sorted(self.projects)
        if as_json:
            root = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
            return json.dumps(root).encode()
        anchors = "".join(f'<a href="{n}/">{n}</a>\n' for n in names)
        return f"<!DOCTYPE html><html><body>{anchors}</body></html>".encode()

    def render_links(self) -> bytes:
        """A find-links page: every file, plus links that are not distributions."""
        lines = [
            "<!DOCTYPE html><html><body>",
            '<a href="/">home</a>',
            '<a href="https://docs.invalid/help">help</a>',
        ]
        for files in self.projects.values():
            for served in files:
                href = self._file_href(served.dist.filename, depth=1)
                hashes = self._file_hashes(served)
                if hashes:
                    algorithm, digest = next(iter(hashes.items()))
                    href += f"#{algorithm}={digest}"
                lines.append(f'<a href="{html.escape(href)}">{served.dist.filename}</a>')
        lines.append("</body></html>")
        return "\n".join(lines).encode()

    def etag_for(self, body: bytes) -> str:
        return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def choose_media_type(accept: str | None) -> str | None:
    """Content negotiation over what the index can serve, by the Accept q-values."""
    offered = [JSON_TYPE, HTML_TYPE, TEXT_HTML]
    if not accept:
        return TEXT_HTML
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        for rank, candidate in enumerate(offered):
            if media in (candidate, "*/*") or (
                media.endswith("/*") and candidate.startswith(media[:-1])
            ):
                score = (quality, -rank)
                if quality > 0 and (best is None or score > best):
                    best, chosen = score, candidate
    return chosen


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 makes concurrent clients wait on SYN retries
    index: IndexServer
    tls_context: ssl.SSLContext | None = None

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        # The TLS handshake runs here, in the request's own thread, so a client that fails
        # or stalls it never blocks the accept loop.
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up mid-response are expected in these tests


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"  # one request per connection; bodies may end at close
    head_only = False  # a HEAD request: the headers of the GET, no body (uv asks for them)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.head_only = True
        self.do_GET()

    def do_GET(self) -> None:
        index = self.server.index
        target = self.path
        path = urlsplit(target).path if "://" in target else target.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        index._record(RecordedRequest(path, target, headers))
        if not index._wait_delay():
            return
        # The client may hang up mid-response (a size cap or a timeout under test).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._dispatch(index, path, headers)

    def _dispatch(self, index: IndexServer, path: str, headers: dict[str, str]) -> None:
        if index.auth is not None and not self._authorized(index.auth, headers):
            self._send(
                401,
                b"authentication required\n",
                "text/plain",
                {"WWW-Authenticate": 'Basic realm="test index"'},
            )
            return
        if path in index.redirects:
            self._send(
                index.redirect_status, b"", "text/plain", {"Location": index.redirects[path]}
            )
            return
        if index._take_failure(path):
            self._send(index.failure_status, b"injected failure\n", "text/plain")
            return
        if path == "/simple/":
            media = self._page_media(index, headers)
            if media is not None:
                self._send_page(index, index.render_root(media == JSON_TYPE), media, headers)
            return
        match = re.fullmatch(r"/simple/([^/]+)/?", path)
        if match:
            name = match.group(1)
            project = normalize(name)
            if project not in index.projects:
                self._send(404, b"no such project\n", "text/plain")
            elif name != project or not path.endswith("/"):
                self._send(301, b"", "text/plain", {"Location": f"/simple/{project}/"})
            else:
                media = self._page_media(index, headers)
                if media is not None:
                    if index.page_body is not None:
                        body = index.page_body
                    elif media == JSON_TYPE:
                        body = index.render_json(project)
                    else:
                        body = index.render_html(project)
                    self._send_page(index, body, index.content_type or media, headers)
            return
        if path == "/links/":
            self._send_page(index, index.render_links(), TEXT_HTML, headers)
            return
        if path.startswith("/files/"):
            self._send_file(index, path[len("/files/") :])
            return
        self._send(404, b"not found\n", "text/plain")

    @staticmethod
    def _authorized(auth: tuple[str, str], headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        return headers.get("authorization") == f"Basic {expected}"

    def _page_media(self, index: IndexServer, headers: dict[str, str]) -> str | None:
        fixed = {"json": JSON_TYPE, "html": HTML_TYPE, "text/html": TEXT_HTML}
        media = fixed.get(index.page_format) or choose_media_type(headers.get("accept"))
        if media is None:
            self._send(406, b"not acceptable\n", "text/plain")
        return media

    def _send_page(
        self, index: IndexServer, body: bytes, media: str, headers: dict[str, str]
    ) -> None:
        extra = {"Vary": "Accept, Accept-Encoding"}
        if index.cache_control is not None:
            extra["Cache-Control"] = index.cache_control
        if index.validators:
            etag = index.etag_for(body)
            extra["ETag"] = etag
            extra["Last-Modified"] = index.last_modified
            if _not_modified(headers, etag, index.last_modified):
                self._send(304, b"", None, extra)
                return
        if index.gzip_pages and "gzip" in headers.get("accept-encoding", ""):
            body = gzip.compress(body, mtime=0)
            extra["Content-Encoding"] = "gzip"
        self._send(200, body, media, extra)

    def _send_file(self, index: IndexServer, quoted_name: str) -> None:
        filename = unquote(quoted_name)
        if filename in index.streams:
            size = index.streams[filename]
            declared = index.stream_declared_length
            if not index.stream_content_length:
                declared = None
            elif declared is None:
                declared = size
            self._stream_zeros(size, declared)
            return
        if filename.endswith(".metadata"):
            served = index.find_file(filename[: -len(".metadata")])
            if served is None or not served.core_metadata:
                self._send(404, b"no such file\n", "text/plain")
                return
            self._send(200, served.dist.metadata, "text/plain")
            return
        served = index.find_file(filename)
        if served is None:
            self._send(404, b"no such file\n", "text/plain")
            return
        data = served.dist.data
        wanted = _byte_range(self.headers.get("Range"), len(data)) if index.ranges else None
        if wanted is None:
            self._send(200, data, "application/octet-stream")
            return
        start, end = wanted
        content_range = {"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"}
        self._send(206, data[start:end], "application/octet-stream", content_range)

    def _stream_zeros(self, size: int, declared_length: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if declared_length is not None:
            self.send_header("Content-Length", str(declared_length))
        self.end_headers()
        remaining = 0 if self.head_only else size
        while remaining > 0:
            chunk = _STREAM_CHUNK[: min(remaining, len(_STREAM_CHUNK))]
            self.wfile.write(chunk)
            remaining -= len(chunk)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not self.head_only:
            self.wfile.write(body)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` or ``bytes=-n`` as (start, end) within ``size``; None for no range."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:
        return max(size - int(last), 0), size
    return int(first), min(int(last) + 1 if last else size, size)


def _not_modified(headers: dict[str, str], etag: str, last_modified: str) -> bool:
    if "if-none-match" in headers:  # takes precedence over If-Modified-Since (RFC 9110)
        tags = [t.strip() for t in headers["if-none-match"].split(",")]
        return etag in tags or "*" in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False
