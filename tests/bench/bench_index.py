"""A package index on 127.0.0.1 over the files of ``bench_data``, with an internet's delays.

It speaks HTTPS (HTTP/1.1, keep-alive) with a certificate from ``bench_tls`` when given a
TLS context. Every new connection waits ``connect_delay`` seconds after it is accepted and
before its TLS handshake (default 0.1: TCP's and TLS's handshakes are two round trips at
50 ms), and every response, whatever it is (a 304 and a 404 too), ``delay`` seconds (one
round trip), so a tool's time grows with its connections and round trips as it does
against a remote index. The listen backlog (128) holds a burst of connections without
dropping SYNs. Served, as PyPI serves them:

- ``/simple/`` and ``/simple/<project>/``: PEP 691 JSON (api-version 1.1, sha256 hashes,
  ``requires-python``, ``size``, ``upload-time``, ``core-metadata``) when the ``Accept``
  header prefers it, PEP 503 HTML otherwise; a strong ``ETag`` and ``304 Not Modified``
  for a matching ``If-None-Match``; ``Cache-Control: max-age=600, public``; gzip when
  asked for; a non-normalized project name is redirected (301) to the normalized one;
- ``/files/<filename>``: the distribution files (single byte ranges are honoured), and
  ``/files/<filename>.metadata``: a wheel's ``METADATA`` (PEP 658);
- with ``history``, the pages and the legacy JSON also list each project's other versions
  and their files, as PyPI's do (a few thousand files for a long-lived compiled project);
  those files answer 404, counted as "other";
- ``/pypi/<project>/json`` and ``/pypi/<project>/<version>/json``: the legacy JSON API
  (``info``, ``releases``, ``urls`` with ``digests``, ``url``, ``filename``,
  ``packagetype``, ``python_version``), which ``hashin`` reads.

Requests are counted per project and kind (see ``KINDS``), and in all the new connections
(and those whose TLS handshake did not finish) and the distribution-file requests that had a
``Range`` header; ``take_counts`` hands them over. Run it alone to try a client against it
by hand (it prints where the CA bundle to trust is)::

    python tests/bench/bench_index.py [--port 8000] [--delay 0.05] [--connect-delay 0.1]
        [--no-tls] [--synthetic N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import re
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from bench_data import (
    PEP691_JSON,
    DistFile,
    Listed,
    Project,
    ensure_data,
    ensure_history,
    is_sdist,
    python_tag,
)
from bench_synth import synthetic_history, synthetic_projects
from bench_tls import make_certificates, server_context

if TYPE_CHECKING:
    from types import TracebackType

PEP691_HTML = "application/vnd.pypi.simple.v1+html"
# What is counted, per project: a project page sent with its body (200), one answered
# 304, a distribution file, a PEP 658 metadata file, a legacy JSON document, anything
# else (404, redirects, the root list) under "other".
KINDS = ("page", "304", "file", "meta", "json", "other")
ROOT = "(root)"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Body:
    content_type: str
    data: bytes
    gzipped: bytes
    etag: str


def _body(content_type: str, data: bytes) -> Body:
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    return Body(content_type, data, gzip.compress(data, mtime=0), etag)


def _preference(accept: str) -> str:
    """``json`` or ``html``: what the Accept header prefers among what we can send."""
    best, best_q = "html", -1.0
    for part in accept.split(",") if accept.strip() else ["*/*"]:
        media, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = {
            PEP691_JSON: "json",
            PEP691_HTML: "html",
            "text/html": "html",
            "*/*": "html",
        }.get(media.lower())
        # The higher q wins; among equals, the one listed first.
        if kind and q > 0 and q > best_q:
            best, best_q = kind, q
    return best


@dataclass
class Tally:
    """What the index saw between two ``take_counts`` calls."""

    projects: dict[str, Counter[str]] = field(default_factory=dict)  # project -> kind -> n
    other: Counter[str] = field(default_factory=Counter)  # "path status" of "other" requests
    connections: int = 0  # new connections accepted
    unfinished: int = 0  # of which the TLS handshake did not end (the client left or refused)
    ranges: int = 0  # of the "file" requests, those with a Range header (206 or 416)

    @property
    def requests(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.projects.values())


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) overflows when a client opens a dozen connections at
    # once: the kernel drops the SYNs and the client retries a second later, which would
    # be timed as the tool's slowness.
    request_queue_size = 128
    daemon_threads = True

    def __init__(self, port: int, index: BenchIndex) -> None:
        self.index = index
        super().__init__(("127.0.0.1", port), _make_handler(index))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client went away mid-answer (uv drops connections it no longer
        needs); print anything else, as the standard server does."""
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """In the connection's own thread: the set-up delay, the handshake, the requests."""
        index = self.index
        index.count_connection()
        time.sleep(index.connect_delay)
        if index.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(30)
            wrapped = index.tls.wrap_socket(request, server_side=True)
            wrapped.settimeout(None)
        except (OSError, ssl.SSLError):
            index.count_connection(failed=True)
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with suppress(OSError):
                wrapped.shutdown(socket.SHUT_WR)
            wrapped.close()


class BenchIndex:
    """The index: start with ``with BenchIndex(projects, dirs) as index``; ``index.url`` is
    the base. A project's files are looked up in ``files_dirs``, in order."""

    def __init__(
        self,
        projects: dict[str, Project],
        files_dirs: Sequence[Path],
        *,
        history: Mapping[str, Sequence[Listed]] | None = None,
        delay: float = 0.05,
        connect_delay: float = 0.1,
        tls: ssl.SSLContext | None = None,
        core_metadata: bool = True,
        max_age: int = 600,
        port: int = 0,
    ) -> None:
        self.projects = projects
        self.history = {name: tuple((history or {}).get(name, ())) for name in projects}
        self.delay = delay
        self.connect_delay = connect_delay
        self.tls = tls
        self.core_metadata = core_metadata
        self.max_age = max_age
        self._lock = threading.Lock()
        self._tally = Tally()
        self._server = _Server(port, self)
        self.port: int = self._server.server_address[1]
        self.backlog = self._server.request_queue_size
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None
        self.pages: dict[tuple[str, str], Body] = {}
        self.legacy: dict[tuple[str, str | None], Body] = {}
        self.project_of_file = {
            dist.filename: name for name, project in projects.items() for dist in project.files
        }
        self.path_of: dict[str, Path] = {}  # a file or its .metadata -> where it is
        for filename in list(self.project_of_file):
            for name in (filename, filename + ".metadata"):
                found = next((d / name for d in files_dirs if (d / name).is_file()), None)
                if found is not None:
                    self.path_of[name] = found
        for name, listed in self.history.items():  # listed, never served: a 404, counted
            self.project_of_file.update((entry.filename, name) for entry in listed)
        self._build()

    # -- lifecycle

    def __enter__(self) -> BenchIndex:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    # -- counting

    def count(self, project: str, kind: str) -> None:
        with self._lock:
            self._tally.projects.setdefault(project, Counter())[kind] += 1

    def count_connection(self, *, failed: bool = False) -> None:
        with self._lock:
            if failed:
                self._tally.unfinished += 1
            else:
                self._tally.connections += 1

    def count_range(self) -> None:
        with self._lock:
            self._tally.ranges += 1

    def count_other(self, project: str, path: str, status: int) -> None:
        """Count an "other" request, and remember its path with names generalized."""
        segments = []
        for segment in path.split("/"):
            if _normalize(segment) in self.projects:
                if project == ROOT:
                    project = _normalize(segment)
                segment = "<project>"
            elif segment.removesuffix(".metadata") in self.project_of_file:
                segment = "<file>"
            segments.append(segment)
        with self._lock:
            self._tally.projects.setdefault(project, Counter())["other"] += 1
            self._tally.other[f"{'/'.join(segments)} {status}"] += 1

    def take_counts(self) -> Tally:
        """What was counted since the last call; counting starts again from zero."""
        with self._lock:
            tally, self._tally = self._tally, Tally()
        return tally

    # -- documents

    def file_url(self, filename: str) -> str:
        return f"{self.url}/files/{quote(filename)}"

    def _build(self) -> None:
        names = sorted(self.projects)
        root_json = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
        self.pages[ROOT, "json"] = _body(PEP691_JSON, json.dumps(root_json).encode())
        links = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in names)
        self.pages[ROOT, "html"] = _body(
            "text/html; charset=utf-8",
            f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n".encode(),
        )
        for name, project in self.projects.items():
            self.pages[name, "json"] = _body(PEP691_JSON, self._project_json(project))
            self.pages[name, "html"] = _body(
                "text/html; charset=utf-8", self._project_html(project)
            )
            whole = self._legacy_json(project, with_releases=True)
            one = self._legacy_json(project, with_releases=False)
            self.legacy[name, None] = _body("application/json", whole)
            self.legacy[name, project.version] = _body("application/json", one)

    def _listing(self, project: Project) -> list[DistFile | Listed]:
        """Every file the project's page lists, sorted by name as PyPI sorts them."""
        listed: list[DistFile | Listed] = [*project.files, *self.history[project.name]]
        return sorted(listed, key=lambda dist: dist.filename)

    def _versions(self, project: Project) -> list[str]:
        from packaging.version import InvalidVersion, Version

        def key(version: str) -> tuple[int, Version | str]:
            try:
                return (0, Version(version))
            except InvalidVersion:
                return (1, version)

        listed = {entry.version for entry in self.history[project.name] if entry.version}
        return sorted(listed | {project.version}, key=key)

    def _project_json(self, project: Project) -> bytes:
        files: list[dict[str, Any]] = []
        for dist in self._listing(project):
            entry: dict[str, Any] = {
                "filename": dist.filename,
                "url": self.file_url(dist.filename),
                "hashes": {"sha256": dist.sha256},
                "requires-python": dist.requires_python,
                "size": dist.size,
                "upload-time": dist.upload_time,
                "yanked": dist.yanked if isinstance(dist, Listed) else False,
            }
            if self.core_metadata and dist.metadata_sha256:
                entry["core-metadata"] = {"sha256": dist.metadata_sha256}
                entry["data-dist-info-metadata"] = {"sha256": dist.metadata_sha256}
            files.append(entry)
        page = {
            "meta": {"api-version": "1.1"},
            "name": project.name,
            "versions": self._versions(project),
            "files": files,
        }
        return json.dumps(page).encode()

    def _project_html(self, project: Project) -> bytes:
        lines = [
            "<!DOCTYPE html>",
            "<html><head>",
            '<meta name="pypi:repository-version" content="1.1">',
            f"<title>Links for {project.name}</title></head><body>",
            f"<h1>Links for {project.name}</h1>",
        ]
        for dist in self._listing(project):
            attributes = f'href="{html.escape(self.file_url(dist.filename))}#sha256={dist.sha256}"'
            if dist.requires_python:
                attributes += f' data-requires-python="{html.escape(dist.requires_python)}"'
            yanked = dist.yanked if isinstance(dist, Listed) else False
            if yanked:
                reason = yanked if isinstance(yanked, str) else ""
                attributes += f' data-yanked="{html.escape(reason)}"'
            if self.core_metadata and dist.metadata_sha256:
                meta = f"sha256={dist.metadata_sha256}"
                attributes += f' data-core-metadata="{meta}" data-dist-info-metadata="{meta}"'
            lines.append(f"<a {attributes}>{html.escape(dist.filename)}</a><br>")
        lines.append("</body></html>")
        return ("\n".join(lines) + "\n").encode()

    def _legacy_entry(self, dist: DistFile) -> dict[str, Any]:
        return {
            "filename": dist.filename,
            "url": self.file_url(dist.filename),
            "digests": {
                "md5": dist.md5,
                "sha256": dist.sha256,
                "blake2b_256": dist.blake2b_256,
            },
            "md5_digest": dist.md5,
            "packagetype": "sdist" if is_sdist(dist.filename) else "bdist_wheel",
            "python_version": python_tag(dist.filename),
            "requires_python": dist.requires_python,
            "size": dist.size,
            "upload_time_iso_8601": dist.upload_time,
            "yanked": False,
            "yanked_reason": None,
            "has_sig": False,
        }

    def _legacy_listed(self, entry: Listed) -> dict[str, Any]:
        return {
            "filename": entry.filename,
            "url": self.file_url(entry.filename),
            "digests": {"sha256": entry.sha256},
            "packagetype": "sdist" if is_sdist(entry.filename) else "bdist_wheel",
            "python_version": python_tag(entry.filename),
            "requires_python": entry.requires_python,
            "size": entry.size,
            "upload_time_iso_8601": entry.upload_time,
            "yanked": bool(entry.yanked),
            "yanked_reason": entry.yanked if isinstance(entry.yanked, str) else None,
            "has_sig": False,
        }

    def _legacy_json(self, project: Project, *, with_releases: bool) -> bytes:
        requires_python = next(
            (dist.requires_python for dist in project.files if dist.requires_python), None
        )
        urls = [self._legacy_entry(dist) for dist in project.files]
        document: dict[str, Any] = {
            "info": {
                "name": project.name,
                "version": project.version,
                "requires_python": requires_python,
                "yanked": False,
            },
            "last_serial": 1,
            "urls": urls,
            "vulnerabilities": [],
        }
        if with_releases:
            releases: dict[str, list[dict[str, Any]]] = {v: [] for v in self._versions(project)}
            releases[project.version] = urls
            for entry in self.history[project.name]:
                if entry.version:
                    releases[entry.version].append(self._legacy_listed(entry))
            document["releases"] = releases
        return json.dumps(document).encode()


def _make_handler(index: BenchIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as clients expect of a real index
        # Headers and body go out as two writes: with Nagle's algorithm the body would wait
        # for the client's delayed ACK of the headers (40 ms on Linux) on every reused
        # connection, a stall no real index has.
        disable_nagle_algorithm = True
        server_version = "hashpin-bench-index/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, *, head: bool) -> None:
            time.sleep(index.delay)
            path = unquote(urlsplit(self.path).path)
            parts = [part for part in path.split("/") if part]
            if parts[:1] == ["simple"] and len(parts) <= 2:
                self._simple(parts[1] if len(parts) == 2 else None, path, head)
            elif parts[:1] == ["files"] and len(parts) == 2:
                self._file(parts[1], head)
            elif parts[:1] == ["pypi"] and len(parts) in (3, 4) and parts[-1] == "json":
                self._legacy(parts[1], parts[2] if len(parts) == 4 else None, head)
            else:
                index.count_other(ROOT, path, 404)
                self._status(404)

        def _simple(self, name: str | None, path: str, head: bool) -> None:
            if name is not None and name != _normalize(name):
                index.count_other(_normalize(name), path, 301)
                self._redirect(f"/simple/{_normalize(name)}/")
                return
            if not path.endswith("/"):
                index.count_other(name or ROOT, path, 301)
                self._redirect(path + "/")
                return
            key = name or ROOT
            fmt = _preference(self.headers.get("Accept", "*/*"))
            body = index.pages.get((key, fmt))
            if body is None:
                index.count_other(key, path, 404)
                self._status(404)
                return
            if self._not_modified(body.etag):
                index.count(key, "304")
                self.send_response(304)
                self._cache_headers(body.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if name:
                index.count(key, "page")
            else:
                index.count_other(key, path, 200)
            self._send_body(body, head)

        def _legacy(self, name: str, version: str | None, head: bool) -> None:
            key = _normalize(name)
            body = index.legacy.get((key, version))
            if body is None:
                index.count_other(key, self.path, 404)
                self._status(404)
                return
            index.count(key, "json")
            self._send_body(body, head)

        def _file(self, filename: str, head: bool) -> None:
            metadata = filename.endswith(".metadata")
            real = filename.removesuffix(".metadata") if metadata else filename
            project = index.project_of_file.get(real)
            path = index.path_of.get(filename)
            if project is None or path is None or (metadata and not index.core_metadata):
                index.count_other(project or ROOT, self.path, 404)
                self._status(404)
                return
            index.count(project, "meta" if metadata else "file")
            data = path.read_bytes()
            status, start, end = 200, 0, len(data)
            if self.headers.get("Range") and not metadata:
                index.count_range()
            byte_range = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
            if byte_range and (byte_range[1] or byte_range[2]):
                if byte_range[1]:
                    start = int(byte_range[1])
                    end = min(len(data), int(byte_range[2]) + 1) if byte_range[2] else len(data)
                else:
                    start = max(0, len(data) - int(byte_range[2]))
                if start >= end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Cache-Control", "max-age=365000000, immutable, public")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
            self.send_header("Content-Length", str(end - start))
            self.end_headers()
            if not head:
                self.wfile.write(data[start:end])

        def _not_modified(self, etag: str) -> bool:
            header = self.headers.get("If-None-Match")
            if not header:
                return False
            tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
            return "*" in tags or etag in tags

        def _cache_headers(self, etag: str) -> None:
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", f"max-age={index.max_age}, public")
            self.send_header("Vary", "Accept, Accept-Encoding")

        def _send_body(self, body: Body, head: bool) -> None:
            gzipped = "gzip" in self.headers.get("Accept-Encoding", "").lower()
            data = body.gzipped if gzipped else body.data
            self.send_response(200)
            self.send_header("Content-Type", body.content_type)
            self._cache_headers(body.etag)
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _redirect(self, location: str) -> None:
            self.send_response(301)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _status(self, code: int) -> None:
            body = f"{code}\n".encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--delay", type=float, default=0.05, help="per response (default 0.05)")
    parser.add_argument(
        "--connect-delay", type=float, default=0.1, help="per new connection (default 0.1)"
    )
    parser.add_argument("--no-tls", action="store_true", help="plain HTTP")
    parser.add_argument("--synthetic", type=int, default=0, help="made-up projects to add")
    parser.add_argument("--no-history", action="store_true", help="list the pinned versions only")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path.home() / ".cache" / "hashpin-bench",
        help="where the files are (downloaded when missing)",
    )
    parser.add_argument("--no-core-metadata", action="store_true", help="serve no PEP 658 files")
    args = parser.parse_args(argv)
    projects = ensure_data(args.data_dir)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C
    with tempfile.TemporaryDirectory(prefix="hashpin-bench-index-") as tmp:
        made_up = synthetic_projects(args.synthetic, Path(tmp) / "synthetic")
        history = (
            {} if args.no_history else ensure_history(args.data_dir) | synthetic_history(made_up)
        )
        certificates = None if args.no_tls else make_certificates(Path(tmp) / "tls")
        with BenchIndex(
            projects | made_up,
            [args.data_dir / "files", Path(tmp) / "synthetic"],
            history=history,
            delay=args.delay,
            connect_delay=args.connect_delay,
            tls=server_context(certificates) if certificates else None,
            core_metadata=not args.no_core_metadata,
            port=args.port,
        ) as index:
            print(f"serving {len(projects | made_up)} projects at {index.url}/simple/")
            if certificates:
                print(f"trust {certificates.bundle} (the system bundle and the throwaway CA)")
            print("Ctrl-C or SIGTERM stops", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
            tally = index.take_counts()
    for project, by_kind in sorted(tally.projects.items()):
        print(project, dict(by_kind), file=sys.stderr)
    for path, times in tally.other.most_common():
        print(f"{times} x {path}", file=sys.stderr)
    print(
        f"{tally.requests} requests, {tally.connections} connections"
        f" ({tally.unfinished} without a finished TLS handshake)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
