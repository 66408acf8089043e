"""Package-index client: project pages, find-links listings and file digests.

Mechanism only: this module fetches what an index says; deciding which file or hash to
trust is the caller's job. Three rooms: ``transport`` speaks HTTP (pooled connections,
TLS, credentials, retries, deadlines, caps), ``simple`` reads the simple repository API
(PEP 691/503 pages, find-links, ``file:`` indexes), and this module puts them together.
Network and parsing modules are imported inside the functions that need them, so
importing this module costs almost nothing.
"""

from __future__ import annotations

import threading

from .redact import printable, redact_url
from .simple import (
    ARCHIVE_SUFFIXES,
    PAGE_ACCEPT,
    DistFile,
    NotModified,
    ProjectPage,
    file_url_to_path,
    is_archive,
    local_links_page,
    local_project_page,
    normalize_project_name,
    open_regular_file,
    parse_project_list,
    project_page_url,
    read_page,
    single_file_page,
    url_filename,
)
from .transport import (
    DEFAULT_BACKOFF,
    DEFAULT_CONNECTIONS_PER_ORIGIN,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_MAX_PAGE_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    IndexRequestError,
    Response,
    Retryable,
    Transport,
    content_length,
    max_age,
    read_body,
    read_capped,
    stream_into,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any, TypeVar

    _T = TypeVar("_T")

__all__ = [
    "ARCHIVE_SUFFIXES",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_MAX_PAGE_BYTES",
    "DEFAULT_TIMEOUT",
    "PAGE_ACCEPT",
    "DistFile",
    "DownloadDigest",
    "IndexClient",
    "IndexRequestError",
    "NotModified",
    "ProjectPage",
    "download_digest",
    "download_digests",
    "fetch_find_links",
    "fetch_project_page",
    "fetch_project_pages",
    "normalize_project_name",
    "printable",
    "project_page_url",
    "redact_url",
    "revalidate_project_page",
]

DEFAULT_MAX_WORKERS = 8


class DownloadDigest:
    """The digest of a downloaded body and its size in bytes; ``url`` is the final URL.

    ``hexdigests`` holds the digest in every algorithm asked for, ``algorithm`` first.
    """

    __slots__ = ("algorithm", "hexdigest", "hexdigests", "size", "url")

    def __init__(
        self, algorithm: str, hexdigest: str, size: int, url: str, hexdigests: dict[str, str]
    ) -> None:
        self.algorithm = algorithm
        self.hexdigest = hexdigest
        self.hexdigests = hexdigests
        self.size = size
        self.url = url

    def __repr__(self) -> str:
        return (
            f"DownloadDigest(algorithm={self.algorithm!r}, hexdigest={self.hexdigest!r}, "
            f"size={self.size!r}, url={self.url!r})"
        )


class IndexClient:
    """Pages, listings and digests over one :class:`~hashpin.transport.Transport`, safe
    to share between threads; see Transport for the settings."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        cert: str | None = None,
        netrc_path: str | None = None,
        proxies: Mapping[str, str] | None = None,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
        connections_per_origin: int = DEFAULT_CONNECTIONS_PER_ORIGIN,
        user_agent: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.transport = Transport(
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            cert=cert,
            netrc_path=netrc_path,
            proxies=proxies,
            max_redirects=max_redirects,
            connections_per_origin=connections_per_origin,
            user_agent=user_agent,
            log=log,
        )
        self.max_page_bytes = max_page_bytes

    @property
    def timeout(self) -> float:
        return self.transport.timeout

    def close(self) -> None:
        self.transport.close()

    def abort(self) -> None:
        self.transport.abort()

    def preconnect(self, pages: Iterable[tuple[str, str]]) -> None:
        """Start the connections that requests for these (index URL, project) pages are
        about to need (see Transport.preconnect)."""
        self.transport.preconnect(project_page_url(index, name) for index, name in pages)

    # -- project pages ----------------------------------------------------------------------

    def project_page(self, index_url: str, project_name: str) -> ProjectPage:
        result = self._project_page(index_url, project_name, None, None)
        if isinstance(result, NotModified):  # only possible when validators were sent
            raise AssertionError("unconditional request answered 304")
        return result

    def revalidate_project_page(
        self,
        index_url: str,
        project_name: str,
        *,
        etag: str | None,
        last_modified: str | None,
    ) -> ProjectPage | NotModified:
        return self._project_page(index_url, project_name, etag, last_modified)

    def _project_page(
        self,
        index_url: str,
        project_name: str,
        etag: str | None,
        last_modified: str | None,
    ) -> ProjectPage | NotModified:
        url = project_page_url(index_url, project_name)
        project = normalize_project_name(project_name)
        if url[:5].lower() == "file:":
            return local_project_page(url, project)
        headers = {
            "Accept": PAGE_ACCEPT,
            "Accept-Encoding": "gzip",
            # Ask intermediate caches for a fresh answer, as pip does for index pages.
            "Cache-Control": "max-age=0",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        def consume(response: Response) -> _Received | NotModified:
            if response.status == 304:
                return NotModified(
                    response.url,
                    response.headers.get("ETag") or etag,
                    response.headers.get("Last-Modified") or last_modified,
                    max_age(response),
                )
            return _Received(response, self.max_page_bytes)

        _load_page_reader()
        received = self.transport.get(
            url,
            headers,
            consume,
            accept_not_modified=bool(etag or last_modified),
            not_found="project not found on this index",
        )
        if isinstance(received, NotModified):
            return received
        page = received.page(for_project=True)
        page.project = project
        return page

    def project_names(self, index_url: str) -> list[str]:
        """Every project the index lists on its root page (normalized names)."""
        if index_url[:5].lower() == "file:":
            import os

            root = file_url_to_path(index_url)
            try:
                return [normalize_project_name(name) for name in os.listdir(root)]
            except OSError as exc:
                raise IndexRequestError(index_url, f"cannot list: {exc}", kind="io") from None

        def consume(response: Response) -> list[str]:
            body = read_capped(response, self.max_page_bytes)
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            return parse_project_list(body, content_type, charset, response.url)

        headers = {"Accept": PAGE_ACCEPT, "Accept-Encoding": "gzip"}
        return self.transport.get(index_url, headers, consume, not_found="no project list")

    # -- find-links -------------------------------------------------------------------------

    def find_links(self, location: str) -> ProjectPage:
        """List a find-links source: a directory, a local HTML or archive file, or a URL.

        Only archive files (see ``ARCHIVE_SUFFIXES``) are listed; directory entries come
        with empty ``hashes`` (use :meth:`download_digest` on their ``file:`` URL).
        """
        from urllib.parse import urlsplit

        try:
            scheme = urlsplit(location).scheme.lower()
        except ValueError as exc:
            raise IndexRequestError(location, f"invalid URL: {exc}", kind="unsupported") from None
        if scheme in ("http", "https"):
            if is_archive(url_filename(location)):
                return single_file_page(location)
            return self.transport.get(
                location,
                {"Accept": "text/html, */*;q=0.1", "Accept-Encoding": "gzip"},
                lambda response: _Received(response, self.max_page_bytes),
                not_found="find-links page not found",
            ).page(for_project=False)
        if scheme == "file":
            path = file_url_to_path(location)
        elif len(scheme) <= 1:  # no scheme, or a Windows drive letter
            path = location
        else:
            raise IndexRequestError(
                location, f"unsupported URL scheme {scheme!r}", kind="unsupported"
            )
        return local_links_page(path)

    # -- downloads --------------------------------------------------------------------------

    def download_digest(
        self,
        url: str,
        algorithm: str = "sha256",
        max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        *,
        also: Iterable[str] = (),
    ) -> DownloadDigest:
        """Stream ``url`` (http, https or file) into ``hashlib``, in ``algorithm`` and in
        each of ``also`` at once; never more than max_bytes."""
        algorithms = (algorithm, *also)
        _hashers(algorithms)  # an unknown name fails before any request
        if url[:5].lower() == "file:":
            return _local_digest(url, _hashers(algorithms), max_bytes)

        def consume(response: Response) -> DownloadDigest:
            declared = content_length(response)
            if declared is not None and declared > max_bytes:
                raise IndexRequestError(
                    response.url,
                    f"file is {declared} bytes, over the limit of {max_bytes} bytes",
                    kind="too-large",
                )
            hashers = _hashers(algorithms)  # fresh ones for each attempt
            size = stream_into(response, _update_all(hashers), max_bytes, response.url)
            if declared is not None and size != declared:
                raise Retryable(
                    f"connection closed after {size} of {declared} bytes", kind="connection"
                )
            return _digest_result(hashers, size, response.url)

        # identity: hash the bytes as stored, never a transfer-decoded variant of them.
        return self.transport.get(
            url,
            {"Accept": "*/*", "Accept-Encoding": "identity"},
            consume,
            not_found="file not found",
        )


class _Received:
    """A page's response as read during its exchange, to be parsed after it: the
    connection then goes back to the pool as soon as the body is in (parsing a large
    page takes longer than the next page takes to arrive)."""

    __slots__ = (
        "body",
        "charset",
        "content_encoding",
        "content_type",
        "etag",
        "fetched_at",
        "last_modified",
        "max_age",
        "sent",
        "url",
    )

    def __init__(self, response: Response, cap: int) -> None:
        import time

        self.fetched_at = time.time()
        self.body, self.content_encoding, self.sent = read_body(response, cap)
        self.url = response.url
        self.content_type = response.headers.get_content_type()
        self.charset = response.headers.get_content_charset() or "utf-8"
        self.etag: str | None = response.headers.get("ETag")
        self.last_modified: str | None = response.headers.get("Last-Modified")
        self.max_age = max_age(response)

    def page(self, *, for_project: bool) -> ProjectPage:
        """The page, parsed by the Content-Type the server sent."""
        entries, files = read_page(
            self.body, self.content_type, self.charset, self.url, for_project=for_project
        )
        return ProjectPage(
            self.url,
            files,
            entries=entries,
            etag=self.etag,
            last_modified=self.last_modified,
            content_type=self.content_type,
            fetched_at=self.fetched_at,
            max_age=self.max_age,
            body=self.sent,
            content_encoding=self.content_encoding,
            charset=self.charset,
        )


_page_reader_started = threading.Event()


def _load_page_reader() -> None:
    """Import the JSON page reader (msgspec's import costs as much as a round trip) in a
    thread of its own while the first pages are on their way; a thread that needs it
    sooner waits for that import. (Two threads racing here import it once all the same.)"""
    if not _page_reader_started.is_set():
        from importlib import import_module

        _page_reader_started.set()
        reader = threading.Thread(
            target=import_module, args=(".pagejson", __package__), name="hashpin-import"
        )
        reader.daemon = True
        reader.start()


def _hashers(algorithms: Iterable[str]) -> dict[str, Any]:
    import hashlib

    hashers: dict[str, Any] = {}
    for algorithm in algorithms:
        try:
            hashers.setdefault(algorithm, hashlib.new(algorithm))
        except (ValueError, TypeError):
            raise ValueError(f"unknown hash algorithm {algorithm!r}") from None
    return hashers


def _update_all(hashers: Mapping[str, Any]) -> Callable[[memoryview], object]:
    if len(hashers) == 1:
        return next(iter(hashers.values())).update  # type: ignore[no-any-return]
    updates = [hasher.update for hasher in hashers.values()]

    def update(chunk: memoryview) -> None:
        for each in updates:
            each(chunk)

    return update


def _digest_result(hashers: Mapping[str, Any], size: int, url: str) -> DownloadDigest:
    hexdigests = {algorithm: hasher.hexdigest() for algorithm, hasher in hashers.items()}
    algorithm, hexdigest = next(iter(hexdigests.items()))
    return DownloadDigest(algorithm, hexdigest, size, url, hexdigests)


def _local_digest(url: str, hashers: Mapping[str, Any], max_bytes: int) -> DownloadDigest:
    import os

    with open_regular_file(file_url_to_path(url), url) as handle:
        declared = os.fstat(handle.fileno()).st_size
        if declared > max_bytes:
            raise IndexRequestError(
                url,
                f"file is {declared} bytes, over the limit of {max_bytes} bytes",
                kind="too-large",
            )
        try:
            size = stream_into(handle, _update_all(hashers), max_bytes, url)
        except OSError as exc:
            raise IndexRequestError(url, f"cannot read: {exc.strerror or exc}", kind="io") from None
    return _digest_result(hashers, size, url)


# -- module-level API -------------------------------------------------------------------------


_default_client: IndexClient | None = None
_default_client_lock = threading.Lock()


def _client(client: IndexClient | None) -> IndexClient:
    global _default_client
    if client is not None:
        return client
    with _default_client_lock:
        if _default_client is None:
            _default_client = IndexClient()
        return _default_client


def fetch_project_page(
    index_url: str, project_name: str, *, client: IndexClient | None = None
) -> ProjectPage:
    """GET ``<index_url>/<normalized name>/`` and parse it by the returned Content-Type."""
    return _client(client).project_page(index_url, project_name)


def revalidate_project_page(
    index_url: str,
    project_name: str,
    *,
    etag: str | None,
    last_modified: str | None,
    client: IndexClient | None = None,
) -> ProjectPage | NotModified:
    """Like :func:`fetch_project_page`, but conditional on stored validators.

    Returns :class:`NotModified` on 304 (reuse the stored page), else the fresh page.
    """
    return _client(client).revalidate_project_page(
        index_url, project_name, etag=etag, last_modified=last_modified
    )


def fetch_find_links(location: str, *, client: IndexClient | None = None) -> ProjectPage:
    """List a find-links source (directory, local file, or HTML page URL)."""
    return _client(client).find_links(location)


def download_digest(
    url: str,
    algorithm: str = "sha256",
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    *,
    client: IndexClient | None = None,
) -> DownloadDigest:
    """Stream a file into hashlib and return its hex digest and size."""
    return _client(client).download_digest(url, algorithm, max_bytes)


def fetch_project_pages(
    index_url: str,
    project_names: Iterable[str],
    *,
    validators: Mapping[str, tuple[str | None, str | None]] | None = None,
    client: IndexClient | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
) -> dict[str, ProjectPage | NotModified | IndexRequestError]:
    """Fetch many project pages concurrently; one entry per given name, errors included.

    ``validators`` maps a project name to its stored ``(etag, last_modified)``; those
    projects are revalidated and may come back as :class:`NotModified`.
    """
    active = _client(client)
    stored = {normalize_project_name(k): v for k, v in (validators or {}).items()}

    def fetch(name: str) -> ProjectPage | NotModified:
        etag, last_modified = stored.get(normalize_project_name(name), (None, None))
        return active.revalidate_project_page(
            index_url, name, etag=etag, last_modified=last_modified
        )

    return _map_concurrently(fetch, project_names, normalize_project_name, max_workers)


def download_digests(
    urls: Iterable[str],
    algorithm: str = "sha256",
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    *,
    client: IndexClient | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
) -> dict[str, DownloadDigest | IndexRequestError]:
    """:func:`download_digest` for many URLs at once; one entry per URL, errors included."""
    active = _client(client)

    def fetch(url: str) -> DownloadDigest:
        return active.download_digest(url, algorithm, max_bytes)

    return _map_concurrently(fetch, urls, lambda url: url, max_workers)


def _map_concurrently(
    work: Callable[[str], _T],
    keys: Iterable[str],
    identity: Callable[[str], str],
    max_workers: int,
) -> dict[str, _T | IndexRequestError]:
    from concurrent.futures import ThreadPoolExecutor

    keys = list(keys)
    unique: dict[str, str] = {}  # identity -> first key seen, so duplicates cost one request
    for key in keys:
        unique.setdefault(identity(key), key)
    outcomes: dict[str, _T | IndexRequestError] = {}
    if not unique:
        return {}
    workers = max(1, min(max_workers, len(unique)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hashpin-index") as pool:
        futures = {ident: pool.submit(work, key) for ident, key in unique.items()}
        for ident, future in futures.items():
            try:
                outcomes[ident] = future.result()
            except IndexRequestError as error:
                outcomes[ident] = error
    return {key: outcomes[identity(key)] for key in keys}
