"""Package-index client: PEP 691 JSON and PEP 503 HTML simple pages, find-links, digests.

Mechanism only: this module fetches and parses what an index says; deciding which file
or hash to trust is the caller's job. Network and parsing modules are imported inside the
functions that need them, so importing this module costs almost nothing.

Credentials (from an URL's ``user:password@`` or a netrc file) are sent as HTTP Basic
only to the scheme+host+port they belong to, never across a redirect to another origin,
and never appear in messages: every URL shown is passed through :func:`redact_url`.
"""

from __future__ import annotations

import os
import re
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    import urllib.request
    from collections.abc import Callable, Iterable, Mapping
    from io import BufferedIOBase
    from typing import TypeVar
    from urllib.parse import SplitResult

    _T = TypeVar("_T")
    _Credentials = tuple[str, str]
    _Origin = tuple[str, str, int]

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
    "project_page_url",
    "redact_url",
    "revalidate_project_page",
]

DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_MAX_PAGE_BYTES = 128 * 1024 * 1024  # the largest PyPI pages are a few MiB
DEFAULT_MAX_DOWNLOAD_BYTES = 4 * 1024 * 1024 * 1024  # the largest wheels are ~2-3 GiB
DEFAULT_MAX_WORKERS = 8

PAGE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/json")
_HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_CHUNK_SIZE = 256 * 1024

# Archive suffixes pip can install from; find-links listings keep only these.
ARCHIVE_SUFFIXES = (
    ".whl",
    ".tar.gz",
    ".tgz",
    ".zip",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
    ".tar",
)
# Hash names accepted from a URL fragment (#sha256=...), as pip accepts them.
_FRAGMENT_HASHES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})

_NAME_SEPARATORS = re.compile(r"[-_.]+")


# -- public helpers ---------------------------------------------------------------------------


def normalize_project_name(name: str) -> str:
    """PEP 503 normalization: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def project_page_url(index_url: str, project_name: str) -> str:
    """``<index>/<normalized>/``, the trailing slash included as PEP 503 asks."""
    return index_url.rstrip("/") + "/" + normalize_project_name(project_name) + "/"


def redact_url(url: str) -> str:
    """The URL with its password (or a lone user, which may be a token) replaced by ``****``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        if "@" in url and _has_invalid_port(parts):
            # A password with an unencoded "/", "?" or "#" splits the authority early;
            # hide everything up to the last "@" rather than risk showing part of it.
            scheme, sep, rest = url.partition("://")
            return f"{scheme}{sep}****@{rest.rpartition('@')[2]}"
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    shown = f"{user}:****" if has_password else "****"
    return urlunsplit(parts._replace(netloc=f"{shown}@{hostport}"))


def _has_invalid_port(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018  # parsing the port is the check
    except ValueError:
        return True
    return False


# -- results ----------------------------------------------------------------------------------


class DistFile:
    """One file an index or find-links source lists.

    ``url`` is absolute, without fragment and without credentials. ``hashes`` maps a
    lowercase hashlib name to a lowercase hex digest; it is empty when the source gives
    none (a directory listing never does). ``core_metadata`` is None when no PEP 658
    metadata file is advertised, else its hashes (possibly empty).
    """

    __slots__ = (
        "core_metadata",
        "filename",
        "hashes",
        "requires_python",
        "url",
        "yanked",
        "yanked_reason",
    )

    def __init__(
        self,
        filename: str,
        url: str,
        hashes: dict[str, str] | None = None,
        *,
        requires_python: str | None = None,
        yanked: bool = False,
        yanked_reason: str | None = None,
        core_metadata: dict[str, str] | None = None,
    ) -> None:
        self.filename = filename
        self.url = url
        self.hashes: dict[str, str] = dict(hashes or {})
        self.requires_python = requires_python
        self.yanked = yanked
        self.yanked_reason = yanked_reason
        self.core_metadata = core_metadata

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DistFile) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable hashes dict

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"DistFile({fields})"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict, e.g. for a cache; :meth:`from_dict` reverses it."""
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DistFile:
        filename, url = data.get("filename"), data.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            raise ValueError("DistFile needs string 'filename' and 'url'")
        return cls(
            filename,
            url,
            _str_dict(data.get("hashes")),
            requires_python=_opt_str(data.get("requires_python")),
            yanked=data.get("yanked") is True,
            yanked_reason=_opt_str(data.get("yanked_reason")),
            core_metadata=(
                None if data.get("core_metadata") is None else _str_dict(data["core_metadata"])
            ),
        )


class ProjectPage:
    """A parsed project page (or find-links listing, where ``project`` is None).

    ``url`` is the final URL after redirects (it never holds credentials).
    ``etag``/``last_modified`` are the validators to store for
    :func:`revalidate_project_page`. ``content_type`` is the type the page was parsed as.
    """

    __slots__ = ("content_type", "etag", "files", "last_modified", "project", "url")

    def __init__(
        self,
        url: str,
        files: list[DistFile],
        *,
        project: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.url = url
        self.files = files
        self.project = project
        self.etag = etag
        self.last_modified = last_modified
        self.content_type = content_type

    def __repr__(self) -> str:
        return (
            f"ProjectPage(url={self.url!r}, project={self.project!r}, "
            f"files=<{len(self.files)}>, etag={self.etag!r}, "
            f"last_modified={self.last_modified!r}, content_type={self.content_type!r})"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "project": self.project,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "content_type": self.content_type,
            "files": [f.to_dict() for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ProjectPage:
        url, files = data.get("url"), data.get("files")
        if not isinstance(url, str) or not isinstance(files, list):
            raise ValueError("ProjectPage needs a string 'url' and a list 'files'")
        return cls(
            url,
            [DistFile.from_dict(f) for f in files if isinstance(f, dict)],
            project=_opt_str(data.get("project")),
            etag=_opt_str(data.get("etag")),
            last_modified=_opt_str(data.get("last_modified")),
            content_type=_opt_str(data.get("content_type")),
        )


class NotModified:
    """The server answered 304: the caller's stored page is still current.

    The validators are the server's fresh ones when it sent any, else the ones sent.
    """

    __slots__ = ("etag", "last_modified", "url")

    def __init__(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.url = url
        self.etag = etag
        self.last_modified = last_modified

    def __repr__(self) -> str:
        return (
            f"NotModified(url={self.url!r}, etag={self.etag!r}, "
            f"last_modified={self.last_modified!r})"
        )


class DownloadDigest:
    """The digest of a downloaded body and its size in bytes; ``url`` is the final URL."""

    __slots__ = ("algorithm", "hexdigest", "size", "url")

    def __init__(self, algorithm: str, hexdigest: str, size: int, url: str) -> None:
        self.algorithm = algorithm
        self.hexdigest = hexdigest
        self.size = size
        self.url = url

    def __repr__(self) -> str:
        return (
            f"DownloadDigest(algorithm={self.algorithm!r}, hexdigest={self.hexdigest!r}, "
            f"size={self.size!r}, url={self.url!r})"
        )


class IndexRequestError(Exception):
    """A request to an index, find-links source or file URL failed.

    ``str(error)`` is one line: the redacted URL, then the cause. ``kind`` is one of
    ``"auth"`` (401/403), ``"not-found"`` (404/410, missing local path), ``"http"`` (other
    statuses, 5xx after retries), ``"timeout"``, ``"tls"``, ``"connection"``,
    ``"redirect"`` (loop, too many, bad target), ``"too-large"`` (size cap),
    ``"malformed"`` (unparseable or unexpected response), ``"io"`` (a local file could not
    be read) and ``"unsupported"`` (a URL scheme or API version this client does not
    speak). ``status`` is the HTTP status when there was one.
    """

    def __init__(self, url: str, reason: str, *, kind: str, status: int | None = None) -> None:
        self.url = redact_url(url)
        self.reason = reason
        self.kind = kind
        self.status = status
        super().__init__(f"{self.url}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments: spell out how to rebuild, e.g. across a process pool.
        return (_rebuild_error, (self.url, self.reason, self.kind, self.status))


def _rebuild_error(url: str, reason: str, kind: str, status: int | None) -> IndexRequestError:
    return IndexRequestError(url, reason, kind=kind, status=status)


# -- the client -------------------------------------------------------------------------------


class _Retryable(Exception):
    """An attempt failed in a way worth repeating (5xx, connection trouble, timeout)."""

    def __init__(self, reason: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.status = status


class IndexClient:
    """Transport settings shared by every request, safe to share between threads.

    ``timeout`` applies to connecting and to each read. ``retries`` is how many times a
    request is repeated after a connection error, timeout or 5xx (never after 4xx), waiting
    ``backoff * 2**n`` seconds before repeat n. ``cert`` is a CA bundle file (or
    directory) used instead of the system store. ``netrc_path`` overrides ``$NETRC`` and
    ``~/.netrc``. ``proxies`` is None to take them from the environment (``*_proxy``,
    ``no_proxy``), or a scheme->URL dict ({} disables proxies). ``log`` receives
    one-line, redacted notes about retries and redirects.
    """

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
        user_agent: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.cert = cert
        self.netrc_path = netrc_path
        self.proxies = None if proxies is None else dict(proxies)
        self.max_redirects = max_redirects
        self.max_page_bytes = max_page_bytes
        self.user_agent = user_agent or _default_user_agent()
        self.log = log
        self._lock = threading.Lock()
        self._openers: dict[bool, urllib.request.OpenerDirector] = {}  # by "speaks TLS"
        self._url_credentials: dict[_Origin, _Credentials] = {}
        self._netrc: object = None  # a netrc.netrc, False once known absent/unreadable

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
        if url[:5].lower() == "file:":
            return _local_project_page(url, normalize_project_name(project_name))
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
        conditional = bool(etag or last_modified)
        project = normalize_project_name(project_name)

        def consume(
            response: http.client.HTTPResponse, final_url: str
        ) -> ProjectPage | NotModified:
            new_etag = response.headers.get("ETag")
            new_last_modified = response.headers.get("Last-Modified")
            if response.status == 304:
                return NotModified(final_url, new_etag or etag, new_last_modified or last_modified)
            body = self._read_page_body(response, final_url)
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            files = _parse_page(body, content_type, charset, final_url, for_project=True)
            return ProjectPage(
                final_url,
                files,
                project=project,
                etag=new_etag,
                last_modified=new_last_modified,
                content_type=content_type,
            )

        return self._request(
            url,
            headers,
            consume,
            accept_not_modified=conditional,
            not_found="project not found on this index",
        )

    # -- find-links -------------------------------------------------------------------------

    def find_links(self, location: str) -> ProjectPage:
        """List a find-links source: a directory, a local HTML or archive file, or a URL.

        Only archive files (see ``ARCHIVE_SUFFIXES``) are listed; directory entries come
        with empty ``hashes`` (use :meth:`download_digest` on their ``file:`` URL).
        """
        from urllib.parse import urlsplit

        scheme = urlsplit(location).scheme.lower()
        if scheme in ("http", "https"):
            if _is_archive(_url_filename(location)):
                return _single_file_page(location)
            return self._remote_links_page(location)
        if scheme == "file":
            path = _file_url_to_path(location)
        elif len(scheme) <= 1:  # no scheme, or a Windows drive letter
            path = location
        else:
            raise IndexRequestError(
                location, f"unsupported URL scheme {scheme!r}", kind="unsupported"
            )
        return _local_links_page(path)

    def _remote_links_page(self, url: str) -> ProjectPage:
        headers = {"Accept": "text/html, */*;q=0.1", "Accept-Encoding": "gzip"}

        def consume(response: http.client.HTTPResponse, final_url: str) -> ProjectPage:
            body = self._read_page_body(response, final_url)
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            files = _parse_page(body, content_type, charset, final_url, for_project=False)
            return ProjectPage(
                final_url,
                files,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_type=content_type,
            )

        return self._request(url, headers, consume, not_found="find-links page not found")

    # -- downloads --------------------------------------------------------------------------

    def download_digest(
        self,
        url: str,
        algorithm: str = "sha256",
        max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> DownloadDigest:
        """Stream ``url`` (http, https or file) into ``hashlib``; never more than max_bytes."""
        import hashlib
        from urllib.parse import urlsplit

        try:
            hashlib.new(algorithm)
        except (ValueError, TypeError):
            raise ValueError(f"unknown hash algorithm {algorithm!r}") from None
        if urlsplit(url).scheme.lower() == "file":
            return _local_digest(url, algorithm, max_bytes)
        # identity: hash the bytes as stored, never a transfer-decoded variant of them.
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}

        def consume(response: http.client.HTTPResponse, final_url: str) -> DownloadDigest:
            declared = _content_length(response)
            if declared is not None and declared > max_bytes:
                raise IndexRequestError(
                    final_url,
                    f"file is {declared} bytes, over the limit of {max_bytes} bytes",
                    kind="too-large",
                )
            hasher = hashlib.new(algorithm)
            size = _stream_into(response, hasher.update, max_bytes, final_url)
            if declared is not None and size != declared:
                raise _Retryable(
                    f"connection closed after {size} of {declared} bytes", kind="connection"
                )
            return DownloadDigest(algorithm, hasher.hexdigest(), size, final_url)

        return self._request(url, headers, consume, not_found="file not found")

    # -- transport --------------------------------------------------------------------------

    def _request(
        self,
        url: str,
        headers: dict[str, str],
        consume: Callable[[http.client.HTTPResponse, str], _T],
        *,
        not_found: str,
        accept_not_modified: bool = False,
    ) -> _T:
        """GET with retries around redirects and ``consume`` (which reads the body)."""
        import time

        url = self._adopt_credentials(url)
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                return self._attempt(url, headers, consume, not_found, accept_not_modified)
            except _Retryable as failure:
                if attempt + 1 >= attempts:
                    reason = failure.reason
                    if attempts > 1:
                        reason += f" (gave up after {attempts} attempts)"
                    raise IndexRequestError(
                        url, reason, kind=failure.kind, status=failure.status
                    ) from None
                delay = self.backoff * (2**attempt)
                self._note(f"{redact_url(url)}: {failure.reason}; retrying in {delay:.2g}s")
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _attempt(
        self,
        url: str,
        headers: dict[str, str],
        consume: Callable[[http.client.HTTPResponse, str], _T],
        not_found: str,
        accept_not_modified: bool,
    ) -> _T:
        """One try: follow redirects (bounded) and hand a 200 (or expected 304) to consume."""
        import http.client
        import urllib.request
        from urllib.parse import urljoin

        requested_origin = _origin(url)
        current = url
        for _hop in range(self.max_redirects + 1):
            _check_http_url(current)
            request = urllib.request.Request(current, method="GET")
            request.add_header("User-Agent", self.user_agent)
            for name, value in headers.items():
                request.add_header(name, value)
            credentials = self._credentials_for(current, requested_origin)
            if credentials is not None:
                request.add_header("Authorization", _basic_auth(credentials))
            response = self._open(request, current)
            with response:
                status = response.status
                if status in _REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise IndexRequestError(
                            current, f"HTTP {status} redirect without a Location", kind="redirect"
                        )
                    # Credentials a Location carries are not adopted: the server chose them.
                    target, _ = _strip_userinfo(urljoin(current, location.strip()))
                    self._note(f"{redact_url(current)}: redirected to {redact_url(target)}")
                    current = target
                    continue
                if status == 200 or (status == 304 and accept_not_modified):
                    try:
                        return consume(response, current)
                    except (OSError, http.client.HTTPException) as exc:  # failed mid-body
                        raise _transport_failure(exc, self.timeout, current) from None
                raise _status_failure(
                    current,
                    status,
                    response.reason,
                    not_found,
                    sent_auth=credentials is not None,
                    left_origin=_origin(current) != requested_origin,
                )
        raise IndexRequestError(
            url, f"too many redirects (more than {self.max_redirects})", kind="redirect"
        )

    def _open(self, request: urllib.request.Request, url: str) -> http.client.HTTPResponse:
        import http.client
        import urllib.error

        opener = self._get_opener(url)
        try:
            response = opener.open(request, timeout=self.timeout)
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, OSError):
                raise _transport_failure(exc.reason, self.timeout, url) from None
            raise IndexRequestError(
                url, f"request failed: {exc.reason}", kind="connection"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_failure(exc, self.timeout, url) from None
        except ValueError as exc:  # e.g. a malformed URL or header value
            raise IndexRequestError(url, f"invalid request: {exc}", kind="unsupported") from None
        return response  # type: ignore[no-any-return]

    def _get_opener(self, url: str) -> urllib.request.OpenerDirector:
        # Loading CA certificates takes tens of milliseconds: only https URLs pay for it.
        tls = url[:6].lower() == "https:"
        with self._lock:
            opener = self._openers.get(tls)
            if opener is None:
                try:
                    opener = self._openers[tls] = _build_opener(self.cert, self.proxies, tls)
                except OSError as exc:  # a missing or unreadable CA bundle (ssl.SSLError too)
                    raise IndexRequestError(
                        url, f"cannot load CA bundle {self.cert}: {exc}", kind="tls"
                    ) from None
            return opener

    def _read_page_body(self, response: http.client.HTTPResponse, url: str) -> bytes:
        declared = _content_length(response)
        cap = self.max_page_bytes
        if declared is not None and declared > cap:
            raise IndexRequestError(
                url, f"page is {declared} bytes, over the limit of {cap} bytes", kind="too-large"
            )
        received = bytearray()
        size = _stream_into(response, received.extend, cap, url)
        if declared is not None and size != declared:
            raise _Retryable(
                f"connection closed after {size} of {declared} bytes", kind="connection"
            )
        body = bytes(received)
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding == "gzip":
            return _gunzip_capped(body, cap, url)
        if encoding != "identity":
            raise IndexRequestError(
                url, f"unsupported Content-Encoding {encoding!r}", kind="malformed"
            )
        return body

    # -- credentials ------------------------------------------------------------------------

    def _adopt_credentials(self, url: str) -> str:
        """Remember ``user:pass@`` for the URL's origin and return the URL without them."""
        clean, credentials = _strip_userinfo(url)
        if credentials is not None:
            origin = _origin(clean)
            with self._lock:
                self._url_credentials[origin] = credentials
        return clean

    def _credentials_for(self, url: str, requested_origin: _Origin) -> _Credentials | None:
        origin = _origin(url)
        with self._lock:
            stored = self._url_credentials.get(origin)
        if stored is not None:
            return stored
        # netrc entries are keyed by host alone; bind them to the origin the caller asked
        # for, so a redirect to another port or scheme of the same host gets nothing.
        if origin != requested_origin:
            return None
        return self._netrc_credentials(origin[1])

    def _netrc_credentials(self, host: str) -> _Credentials | None:
        import netrc

        with self._lock:
            if self._netrc is None:
                self._netrc = self._load_netrc()
            parsed = self._netrc
        if not isinstance(parsed, netrc.netrc):
            return None
        entry = parsed.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return (login or "", password or "")

    def _load_netrc(self) -> object:
        import netrc

        if self.netrc_path is not None:
            candidates = [self.netrc_path]
        elif os.environ.get("NETRC"):
            candidates = [os.environ["NETRC"]]
        else:
            home = os.path.expanduser("~")
            candidates = [os.path.join(home, ".netrc"), os.path.join(home, "_netrc")]
        for path in candidates:
            if os.path.isfile(path):
                try:
                    return netrc.netrc(path)
                except (netrc.NetrcParseError, OSError) as exc:
                    self._note(f"ignoring unreadable netrc file {path}: {exc}")
                    return False
        return False

    def _note(self, message: str) -> None:
        if self.log is not None:
            self.log(message)


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


# -- transport helpers ------------------------------------------------------------------------


def _default_user_agent() -> str:
    import sys

    return f"hashpin (python {sys.version_info[0]}.{sys.version_info[1]})"


def _build_opener(
    cert: str | None, proxies: dict[str, str] | None, tls: bool
) -> urllib.request.OpenerDirector:
    """An opener that returns every response as is: redirects and errors are ours to handle.

    With ``tls`` it also speaks https, verifying against ``cert`` or the system store.
    """
    import urllib.request

    opener = urllib.request.OpenerDirector()
    # No HTTPRedirectHandler (it would forward Authorization to any host) and no
    # HTTPErrorProcessor (we read the status of every response ourselves).
    for handler in (
        urllib.request.ProxyHandler(proxies),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
    ):
        opener.add_handler(handler)
    if tls:
        import ssl

        if cert is None:
            context = ssl.create_default_context()
        elif os.path.isdir(cert):
            context = ssl.create_default_context(capath=cert)
        else:
            context = ssl.create_default_context(cafile=cert)
        opener.add_handler(urllib.request.HTTPSHandler(context=context))
    return opener


def _check_http_url(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise IndexRequestError(
            url,
            f"unsupported URL scheme {parts.scheme!r} (only http and https)",
            kind="unsupported",
        )
    if not parts.hostname:
        raise IndexRequestError(url, "URL has no host", kind="unsupported")


def _origin(url: str) -> _Origin:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise IndexRequestError(
            url,
            "URL has an invalid host or port (percent-encode special characters in a password)",
            kind="unsupported",
        ) from None
    if port is None:
        port = 443 if scheme == "https" else 80
    return (scheme, (parts.hostname or "").lower(), port)


def _strip_userinfo(url: str) -> tuple[str, _Credentials | None]:
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, password = userinfo.partition(":")
    credentials = (unquote(user), unquote(password) if has_password else "")
    return urlunsplit(parts._replace(netloc=hostport)), credentials


def _basic_auth(credentials: _Credentials) -> str:
    import base64

    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
    return f"Basic {token}"


def _transport_failure(exc: Exception, timeout: float, url: str) -> Exception:
    """Classify a socket or protocol failure; TLS verification failures are not retried."""
    import http.client
    import socket
    import ssl

    if isinstance(exc, (socket.timeout, TimeoutError)):
        return _Retryable(f"timed out (no answer within {timeout:g}s)", kind="timeout")
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or str(exc)
        return IndexRequestError(url, f"TLS certificate verification failed: {detail}", kind="tls")
    if isinstance(exc, ssl.SSLError):
        return _Retryable(f"TLS error: {exc.reason or exc}", kind="tls")
    if isinstance(exc, http.client.HTTPException):
        return _Retryable(f"broken response: {type(exc).__name__}", kind="connection")
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc) or type(exc).__name__
        return _Retryable(f"connection failed: {detail}", kind="connection")
    return exc


def _status_failure(
    url: str, status: int, reason: str, not_found: str, *, sent_auth: bool, left_origin: bool
) -> Exception:
    label = f"HTTP {status} {reason}".rstrip()
    if status == 401:
        if sent_auth:
            hint = "credentials were rejected"
        elif left_origin:
            hint = "credentials are not forwarded to another host after a redirect"
        else:
            hint = "no credentials for this host in the URL or netrc"
        return IndexRequestError(
            url, f"{label}: authentication required ({hint})", kind="auth", status=status
        )
    if status == 403:
        return IndexRequestError(url, f"{label}: access denied", kind="auth", status=status)
    if status in (404, 410):
        return IndexRequestError(url, f"{label}: {not_found}", kind="not-found", status=status)
    if status >= 500:
        return _Retryable(label, kind="http", status=status)
    if status == 304:
        return IndexRequestError(url, f"{label} to an unconditional request", kind="malformed")
    return IndexRequestError(url, label, kind="http", status=status)


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _stream_into(
    response: http.client.HTTPResponse | BufferedIOBase,
    sink: Callable[[memoryview], object],
    max_bytes: int,
    url: str,
) -> int:
    """Feed the body to ``sink`` chunk by chunk; fail as soon as it passes ``max_bytes``.

    One reused buffer, so memory stays at one chunk whatever the body size.
    """
    buffer = bytearray(_CHUNK_SIZE)
    view = memoryview(buffer)
    size = 0
    while True:
        count = response.readinto(buffer)
        if not count:
            return size
        size += count
        if size > max_bytes:
            raise IndexRequestError(
                url, f"response is larger than the limit of {max_bytes} bytes", kind="too-large"
            )
        sink(view[:count])


def _gunzip_capped(body: bytes, cap: int, url: str) -> bytes:
    """Decompress a gzip page without letting a small bomb grow past ``cap``."""
    import zlib

    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, cap + 1)
    except zlib.error as exc:
        raise IndexRequestError(url, f"malformed gzip body: {exc}", kind="malformed") from None
    if len(data) > cap or decompressor.unconsumed_tail:
        raise IndexRequestError(
            url, f"page is larger than the limit of {cap} bytes uncompressed", kind="too-large"
        )
    if not decompressor.eof:
        raise IndexRequestError(url, "truncated gzip body", kind="malformed")
    return data


# -- local files ------------------------------------------------------------------------------


def _file_url_to_path(url: str) -> str:
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise IndexRequestError(url, "file: URL names a remote host", kind="unsupported")
    return url2pathname(parts.path)


def _local_links_page(path: str) -> ProjectPage:
    from pathlib import Path

    location = Path(path)
    if location.is_dir():
        files = [
            DistFile(entry.name, entry.resolve().as_uri())
            for entry in sorted(location.iterdir(), key=lambda p: p.name)
            if _is_archive(entry.name) and entry.is_file()
        ]
        return ProjectPage(location.resolve().as_uri(), files)
    if location.is_file():
        page_url = location.resolve().as_uri()
        if _is_archive(location.name):
            return ProjectPage(page_url, [DistFile(location.name, page_url)])
        try:
            with location.open("rb") as handle:
                body = handle.read(DEFAULT_MAX_PAGE_BYTES + 1)
        except OSError as exc:
            raise IndexRequestError(page_url, f"cannot read: {exc.strerror}", kind="io") from None
        if len(body) > DEFAULT_MAX_PAGE_BYTES:
            raise IndexRequestError(page_url, "find-links file is too large", kind="too-large")
        files = _parse_page(body, "text/html", "utf-8", page_url, for_project=False)
        return ProjectPage(page_url, files, content_type="text/html")
    raise IndexRequestError(path, "find-links location does not exist", kind="not-found")


def _local_project_page(url: str, project: str) -> ProjectPage:
    """A project page of a ``file:`` index: its ``index.html``, as pip reads it."""
    import os.path

    path = os.path.join(_file_url_to_path(url), "index.html")
    try:
        with open(path, "rb") as handle:
            body = handle.read(DEFAULT_MAX_PAGE_BYTES + 1)
    except FileNotFoundError:
        raise IndexRequestError(url, "project not found on this index", kind="not-found") from None
    except OSError as exc:
        raise IndexRequestError(url, f"cannot read: {exc.strerror or exc}", kind="io") from None
    if len(body) > DEFAULT_MAX_PAGE_BYTES:
        raise IndexRequestError(url, "index page is too large", kind="too-large")
    files = _parse_page(body, "text/html", "utf-8", url, for_project=True)
    return ProjectPage(url, files, project=project, content_type="text/html")


def _single_file_page(url: str) -> ProjectPage:
    clean, hashes = _resolve_file_url(url, url)
    return ProjectPage(clean, [DistFile(_url_filename(clean), clean, hashes)])


def _local_digest(url: str, algorithm: str, max_bytes: int) -> DownloadDigest:
    import hashlib

    path = _file_url_to_path(url)
    hasher = hashlib.new(algorithm)
    try:
        with open(path, "rb") as handle:
            declared = os.fstat(handle.fileno()).st_size
            if declared > max_bytes:
                raise IndexRequestError(
                    url,
                    f"file is {declared} bytes, over the limit of {max_bytes} bytes",
                    kind="too-large",
                )
            size = _stream_into(handle, hasher.update, max_bytes, url)
    except FileNotFoundError:
        raise IndexRequestError(url, "file not found", kind="not-found") from None
    except OSError as exc:
        raise IndexRequestError(url, f"cannot read: {exc.strerror or exc}", kind="io") from None
    return DownloadDigest(algorithm, hasher.hexdigest(), size, url)


# -- page parsing -----------------------------------------------------------------------------


def _is_archive(filename: str) -> bool:
    return filename.lower().endswith(ARCHIVE_SUFFIXES)


def _url_filename(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _fragment_hashes(fragment: str) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for part in fragment.split("&"):
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if sep and name in _FRAGMENT_HASHES and value:
            hashes.setdefault(name, value.strip().lower())
    return hashes


def _clean_path(path: str) -> str:
    """Percent-encode what must be (spaces, ``+``) while keeping encoded slashes, like pip."""
    from urllib.parse import quote, unquote

    pieces = re.split(r"(%2F)", path, flags=re.IGNORECASE)
    return "".join(
        piece if index % 2 else quote(unquote(piece)) for index, piece in enumerate(pieces)
    )


def _resolve_file_url(base_url: str, href: str) -> tuple[str, dict[str, str]]:
    """Absolute URL without fragment or credentials, and the hashes the fragment named."""
    from urllib.parse import urljoin, urlsplit, urlunsplit

    parts = urlsplit(urljoin(base_url, href.strip()))
    hashes = _fragment_hashes(parts.fragment)
    clean = urlunsplit(parts._replace(path=_clean_path(parts.path), fragment=""))
    # Credentials in a listed URL are the server's idea, not the user's: drop them.
    clean, _ = _strip_userinfo(clean)
    return clean, hashes


def _parse_page(
    body: bytes, content_type: str, charset: str, page_url: str, *, for_project: bool
) -> list[DistFile]:
    """Parse by the Content-Type the server actually sent."""
    is_pypi = content_type.startswith("application/vnd.pypi.simple.")
    if content_type in _JSON_TYPES or (is_pypi and content_type.endswith("+json")):
        return _parse_json_page(body, page_url)
    if content_type in _HTML_TYPES or (is_pypi and content_type.endswith("+html")):
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            text = body.decode("utf-8", errors="replace")
        return _parse_html_page(text, page_url, for_project=for_project)
    raise IndexRequestError(
        page_url, f"unexpected Content-Type {content_type!r} for an index page", kind="malformed"
    )


def _check_api_version(version: object, page_url: str) -> None:
    """PEP 629: a major version this client does not know must not be guessed at."""
    if version is None:
        return
    if not isinstance(version, str):
        raise IndexRequestError(page_url, "malformed repository API version", kind="malformed")
    major = version.strip().split(".", 1)[0]
    if major != "1":
        raise IndexRequestError(
            page_url, f"unsupported repository API version {version}", kind="unsupported"
        )


def _parse_json_page(body: bytes, page_url: str) -> list[DistFile]:
    """PEP 691 (with PEP 700 and PEP 714 keys)."""
    import json

    def malformed(detail: str) -> IndexRequestError:
        return IndexRequestError(page_url, f"malformed JSON page: {detail}", kind="malformed")

    try:
        data = json.loads(body)
    except ValueError as exc:  # also UnicodeDecodeError
        raise malformed(str(exc)) from None
    if not isinstance(data, dict):
        raise malformed("not a JSON object")
    meta = data.get("meta")
    if isinstance(meta, dict):
        _check_api_version(meta.get("api-version"), page_url)
    entries = data.get("files")
    if not isinstance(entries, list):
        raise malformed("no 'files' list")
    files: list[DistFile] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise malformed(f"file entry {position} is not an object")
        filename, href = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(href, str) or not filename:
            raise malformed(f"file entry {position} lacks a string 'filename' or 'url'")
        raw_hashes = entry.get("hashes", {})
        if not isinstance(raw_hashes, dict):
            raise malformed(f"'hashes' of {filename} is not an object")
        url, fragment_hashes = _resolve_file_url(page_url, href)
        hashes = {
            name.lower(): value.strip().lower()
            for name, value in raw_hashes.items()
            if isinstance(name, str) and isinstance(value, str) and value.strip()
        }
        for name, value in fragment_hashes.items():
            hashes.setdefault(name, value)
        requires_python = entry.get("requires-python")
        yanked = entry.get("yanked", False)
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
        if isinstance(metadata, dict):
            core_metadata: dict[str, str] | None = {
                str(k).lower(): str(v).lower() for k, v in metadata.items() if isinstance(v, str)
            }
        else:
            core_metadata = {} if metadata is True else None
        files.append(
            DistFile(
                filename,
                url,
                hashes,
                requires_python=requires_python if isinstance(requires_python, str) else None,
                # PEP 691: true, or a string (the reason) means yanked.
                yanked=yanked is True or isinstance(yanked, str),
                yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
                core_metadata=core_metadata,
            )
        )
    return files


def _parse_html_page(text: str, page_url: str, *, for_project: bool) -> list[DistFile]:
    """PEP 503 anchors with PEP 592 (yanked), PEP 658/714 (metadata) and <base href>."""
    from html.parser import HTMLParser
    from urllib.parse import urljoin

    class AnchorCollector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.anchors: list[dict[str, str | None]] = []
            self.base_href: str | None = None
            self.repository_version: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            # HTMLParser has already lowercased names and unescaped attribute values.
            attributes = dict(attrs)
            if tag == "a":
                self.anchors.append(attributes)
            elif tag == "base" and self.base_href is None and attributes.get("href"):
                self.base_href = attributes["href"]
            elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
                self.repository_version = attributes.get("content")

    collector = AnchorCollector()
    try:
        collector.feed(text)
        collector.close()
    except (AssertionError, ValueError) as exc:  # old HTMLParser versions assert on junk
        raise IndexRequestError(page_url, f"malformed HTML page: {exc}", kind="malformed") from None
    _check_api_version(collector.repository_version, page_url)
    # The first <base href> applies to every link, wherever it appears in the document.
    base = urljoin(page_url, collector.base_href) if collector.base_href else page_url
    files: list[DistFile] = []
    for attributes in collector.anchors:
        href = attributes.get("href")
        if not href or href.lstrip().startswith("#"):
            continue
        url, hashes = _resolve_file_url(base, href)
        if not url.lower().startswith(("http://", "https://", "file:")):
            continue  # mailto:, javascript: and the like are not files
        filename = _url_filename(url)
        if not filename or (not for_project and not _is_archive(filename)):
            continue
        # PEP 592: the attribute's presence means yanked; its value, if any, is the reason.
        yanked = "data-yanked" in attributes
        metadata = attributes.get("data-core-metadata")
        if metadata is None:
            metadata = attributes.get("data-dist-info-metadata")
        files.append(
            DistFile(
                filename,
                url,
                hashes,
                requires_python=attributes.get("data-requires-python") or None,
                yanked=yanked,
                yanked_reason=attributes.get("data-yanked") or None,
                core_metadata=_html_metadata_hashes(metadata),
            )
        )
    return files


def _html_metadata_hashes(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true":
        return {}
    name, sep, digest = value.partition("=")
    if not sep or not name or not digest:
        return None
    return {name.strip().lower(): digest.strip().lower()}


# -- small helpers ----------------------------------------------------------------------------


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _str_dict(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
