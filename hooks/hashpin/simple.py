"""The simple repository API: PEP 691 JSON and PEP 503 HTML project pages, find-links
listings, and ``file:`` indexes, parsed into :class:`DistFile` lists.

Every page is untrusted input. The parsers run in linear time whatever the page holds,
keep only the digests that are plain hex of their algorithm's length (anything else
refuses the page), and list ``file:`` URLs only from a local page, so that a remote
index can neither write into a requirements file nor make hashpin read local files.
"""

from __future__ import annotations

import os
import re

from .digests import DIGEST_LENGTHS, is_digest
from .transport import DEFAULT_MAX_PAGE_BYTES, IndexRequestError, strip_userinfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from io import BufferedReader

    from .pagejson import FileEntries

PAGE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/json")
_HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
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
_NAME_SEPARATORS = re.compile(r"[-_.]+")


# -- public helpers ---------------------------------------------------------------------------


def normalize_project_name(name: str) -> str:
    """PEP 503 normalization: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def project_page_url(index_url: str, project_name: str) -> str:
    """``<index>/<normalized>/``, the trailing slash included as PEP 503 asks."""
    return index_url.rstrip("/") + "/" + normalize_project_name(project_name) + "/"


# -- results ----------------------------------------------------------------------------------


class DistFile:
    """One file an index or find-links source lists.

    ``url`` is absolute, without fragment and without credentials. ``hashes`` maps a
    lowercase hashlib name to a lowercase hex digest; it is empty when the source gives
    none (a directory listing never does). ``core_metadata`` is None when no PEP 658
    metadata file is advertised, else its hashes (possibly empty). ``size`` (bytes) and
    ``upload_time`` (ISO 8601, as the index wrote it) come from PEP 691 pages only.
    """

    __slots__ = (
        "core_metadata",
        "filename",
        "hashes",
        "requires_python",
        "size",
        "upload_time",
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
        size: int | None = None,
        upload_time: str | None = None,
    ) -> None:
        self.filename = filename
        self.url = url
        self.hashes: dict[str, str] = dict(hashes or {})
        self.requires_python = requires_python
        self.yanked = yanked
        self.yanked_reason = yanked_reason
        self.core_metadata = core_metadata
        self.size = size
        self.upload_time = upload_time

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

    def to_list(self) -> list[object]:
        """:meth:`to_dict` without the keys: a page of 50,000 files is kept in a third of
        the bytes, and written and read back in a third of the time."""
        return [getattr(self, name) for name in self.__slots__]

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | list[object]) -> DistFile:
        """The file :meth:`to_dict` or :meth:`to_list` described (ValueError if damaged)."""
        if isinstance(data, list):
            if len(data) != len(cls.__slots__):
                raise ValueError("DistFile needs one value per field")
            data = dict(zip(cls.__slots__, data))
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
            size=_opt_size(data.get("size")),
            upload_time=_opt_str(data.get("upload_time")),
        )


class ProjectPage:
    """A parsed project page (or find-links listing, where ``project`` is None).

    ``url`` is the final URL after redirects (it never holds credentials).
    ``etag``/``last_modified`` are the validators to store for
    :func:`revalidate_project_page`. ``content_type`` is the type the page was parsed as.
    ``fetched_at`` (seconds since the epoch) and ``max_age`` (the server's
    ``Cache-Control: max-age``, None when it gave none) say how long it may be used as is.

    A PEP 691 page keeps its file entries as the server sent them and builds a
    :class:`DistFile` of one (checking its URL and digests) only when asked:
    :meth:`files_matching` and :meth:`sieve` build just the files of the names wanted,
    which on a page of 50,000 files of every version is most of the work saved.

    ``body``, ``content_encoding`` and ``charset`` are the response body it was parsed
    from, as it came (gzip-compressed when ``content_encoding`` is ``"gzip"``; None for a
    page built otherwise), so that a cache can keep those bytes as they are instead of
    encoding the entries again; ``identity`` is the cache's name for this one fetch of
    the page, set when it is stored (see ``cache.py``).
    """

    __slots__ = (
        "_entries",
        "_files",
        "body",
        "charset",
        "content_encoding",
        "content_type",
        "etag",
        "fetched_at",
        "identity",
        "last_modified",
        "max_age",
        "project",
        "url",
    )

    def __init__(
        self,
        url: str,
        files: list[DistFile] | None = None,
        *,
        entries: FileEntries | None = None,
        project: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str | None = None,
        fetched_at: float | None = None,
        max_age: float | None = None,
        body: bytes | None = None,
        content_encoding: str | None = None,
        charset: str | None = None,
        identity: str | None = None,
    ) -> None:
        self.url = url
        self._files = files
        self._entries = entries  # PEP 691 "files", each built when asked
        self.project = project
        self.etag = etag
        self.last_modified = last_modified
        self.content_type = content_type
        self.fetched_at = fetched_at
        self.max_age = max_age
        self.body = body
        self.content_encoding = content_encoding
        self.charset = charset
        self.identity = identity

    @property
    def files(self) -> list[DistFile]:
        """Every file of the page (built on first use); IndexRequestError for a malformed one."""
        if self._files is None:
            self._files = self.files_matching(lambda filename: True)
        return self._files

    def files_matching(self, keep: Callable[[str], bool]) -> list[DistFile]:
        """The files whose name ``keep`` accepts, the others never built."""
        entries = self._entries
        if self._files is not None or entries is None:
            return [dist for dist in self._files or [] if keep(dist.filename)]
        kept = [position for position, name in enumerate(entries.names) if keep(name)]
        built = (_json_file(entry, self.url) for entry in entries.entries(kept))
        return [dist for dist in built if dist is not None]

    def sieve(
        self, patterns: Mapping[str, re.Pattern[str]]
    ) -> dict[str, list[tuple[int, DistFile]]]:
        r"""Per pattern, the files whose name it finds (``search``), each with its position
        on the page (in its entries, for a PEP 691 page, whatever was built since); a file
        several patterns find is built once.

        The names are searched as one text, one name a line, so that the regex engine,
        not a Python loop, walks the 50,000 names of a large page. A pattern that never
        matches a line break, has no anchors or lookbehind, and whose lookaheads take a
        line break as they take the end of the text (``versions.spellings``'s: a
        negative lookahead for ``\.?\d``) finds in that text exactly the names it finds
        searched one by one; a name that holds a line break sends the page to that loop.
        """
        entries = self._entries
        names = (
            entries.names if entries is not None else [dist.filename for dist in self._files or []]
        )
        found = {key: _positions(pattern, names) for key, pattern in patterns.items()}
        wanted = sorted({position for positions in found.values() for position in positions})
        if entries is None:
            built = {position: (self._files or [])[position] for position in wanted}
        else:
            made = zip(wanted, (_json_file(e, self.url) for e in entries.entries(wanted)))
            built = {position: dist for position, dist in made if dist is not None}
        return {
            key: [(p, built[p]) for p in positions if p in built]
            for key, positions in found.items()
        }

    def fresh(self, now: float) -> bool:
        """Whether the server said this page may be used without asking again, as of now."""
        if self.fetched_at is None or self.max_age is None:
            return False
        return 0 <= now - self.fetched_at < self.max_age

    def __repr__(self) -> str:
        return (
            f"ProjectPage(url={self.url!r}, project={self.project!r}, "
            f"files=<{len(self._entries or self._files or [])}>, etag={self.etag!r}, "
            f"last_modified={self.last_modified!r}, content_type={self.content_type!r})"
        )


class NotModified:
    """The server answered 304: the caller's stored page is still current.

    The validators are the server's fresh ones when it sent any, else the ones sent;
    ``max_age`` is the 304's own ``Cache-Control: max-age``, if it gave one.
    """

    __slots__ = ("etag", "last_modified", "max_age", "url")

    def __init__(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        max_age: float | None = None,
    ) -> None:
        self.url = url
        self.etag = etag
        self.last_modified = last_modified
        self.max_age = max_age

    def __repr__(self) -> str:
        return (
            f"NotModified(url={self.url!r}, etag={self.etag!r}, "
            f"last_modified={self.last_modified!r})"
        )


# -- local files ------------------------------------------------------------------------------


def file_url_to_path(url: str) -> str:
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise IndexRequestError(url, "file: URL names a remote host", kind="unsupported")
    return url2pathname(parts.path)


def local_links_page(path: str) -> ProjectPage:
    from pathlib import Path

    location = Path(path)
    if location.is_dir():
        files = [
            DistFile(entry.name, entry.resolve().as_uri())
            for entry in sorted(location.iterdir(), key=lambda p: p.name)
            if is_archive(entry.name) and entry.is_file()
        ]
        return ProjectPage(location.resolve().as_uri(), files)
    if location.is_file():
        page_url = location.resolve().as_uri()
        if is_archive(location.name):
            return ProjectPage(page_url, [DistFile(location.name, page_url)])
        body = _read_local_page(str(location), page_url)
        files = parse_page(body, "text/html", "utf-8", page_url, for_project=False)
        return ProjectPage(page_url, files, content_type="text/html")
    raise IndexRequestError(path, "find-links location does not exist", kind="not-found")


def local_project_page(url: str, project: str) -> ProjectPage:
    """A project page of a ``file:`` index: its ``index.html``, as pip reads it."""
    import os.path

    path = os.path.join(file_url_to_path(url), "index.html")
    try:
        body = _read_local_page(path, url)
    except IndexRequestError as error:
        if error.kind == "not-found":
            raise IndexRequestError(
                url, "project not found on this index", kind="not-found"
            ) from None
        raise
    files = parse_page(body, "text/html", "utf-8", url, for_project=True)
    return ProjectPage(url, files, project=project, content_type="text/html")


def open_regular_file(path: str, url: str) -> BufferedReader:
    """``path`` opened for reading if it is a regular file (``workspace.open_regular``):
    a FIFO or a device, which could block for ever or never end, is an error."""
    from .workspace import NotAFile, open_regular

    try:
        descriptor = open_regular(path)
    except FileNotFoundError:
        raise IndexRequestError(url, "file not found", kind="not-found") from None
    except NotAFile as exc:
        raise IndexRequestError(url, f"not a regular file: {exc}", kind="io") from None
    except OSError as exc:
        raise IndexRequestError(url, f"cannot read: {exc.strerror or exc}", kind="io") from None
    if hasattr(os, "set_blocking"):
        os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def _read_local_page(path: str, url: str) -> bytes:
    with open_regular_file(path, url) as handle:
        try:
            body = handle.read(DEFAULT_MAX_PAGE_BYTES + 1)
        except OSError as exc:
            raise IndexRequestError(url, f"cannot read: {exc.strerror or exc}", kind="io") from None
    if len(body) > DEFAULT_MAX_PAGE_BYTES:
        raise IndexRequestError(url, "page is too large", kind="too-large")
    return body


def single_file_page(url: str) -> ProjectPage:
    clean, hashes = _resolve_file_url(url, url)
    filename = url_filename(clean)
    return ProjectPage(clean, [DistFile(filename, clean, _checked_digests(hashes, filename, url))])


# -- page parsing -----------------------------------------------------------------------------


def is_archive(filename: str) -> bool:
    return filename.lower().endswith(ARCHIVE_SUFFIXES)


def url_filename(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _fragment_hashes(fragment: str) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for part in fragment.split("&"):
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if sep and name in DIGEST_LENGTHS and value:
            hashes.setdefault(name, value)
    return hashes


def _clean_path(path: str) -> str:
    """Percent-encode what must be (spaces, ``+``) while keeping encoded slashes, like pip."""
    from urllib.parse import quote, unquote

    pieces = re.split(r"(%2F)", path, flags=re.IGNORECASE)
    return "".join(
        piece if index % 2 else quote(unquote(piece)) for index, piece in enumerate(pieces)
    )


_PLAIN_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d+)?/[A-Za-z0-9._~/-]*")


def _resolve_file_url(base_url: str, href: str) -> tuple[str, dict[str, str]]:
    """Absolute URL without fragment or credentials, and the hashes the fragment named."""
    from urllib.parse import urljoin, urlsplit, urlunsplit

    if _PLAIN_URL_RE.fullmatch(href):
        # Absolute, no userinfo, query, fragment or escapes, nothing to quote: as PyPI
        # lists its files. What the general path below would return, at a fraction of
        # its cost on a page of 50,000 files.
        return href, {}
    parts = urlsplit(urljoin(base_url, href.strip()))
    hashes = _fragment_hashes(parts.fragment)
    clean = urlunsplit(parts._replace(path=_clean_path(parts.path), fragment=""))
    # Credentials in a listed URL are the server's idea, not the user's: drop them.
    clean, _ = strip_userinfo(clean)
    return clean, hashes


def _positions(pattern: re.Pattern[str], names: list[str]) -> list[int]:
    """The positions of the names ``pattern`` finds, as :meth:`ProjectPage.sieve` says."""
    if not names:
        return []
    text = "\n".join(names)
    if text.count("\n") != len(names) - 1:  # a name with a line break in it
        return [position for position, name in enumerate(names) if pattern.search(name)]
    positions: list[int] = []
    line = last = 0
    for match in pattern.finditer(text):  # a match is on the line of its start
        line += text.count("\n", last, match.start())
        last = match.start()
        if not positions or positions[-1] != line:
            positions.append(line)
    return positions


def parse_page(
    body: bytes, content_type: str, charset: str, page_url: str, *, for_project: bool
) -> list[DistFile]:
    """Parse by the Content-Type the server actually sent: every file of the page."""
    entries, files = read_page(body, content_type, charset, page_url, for_project=for_project)
    return ProjectPage(page_url, files, entries=entries).files


def read_page(
    body: bytes | bytearray, content_type: str, charset: str, page_url: str, *, for_project: bool
) -> tuple[FileEntries | None, list[DistFile] | None]:
    """A page by the Content-Type the server sent: the entries of a PEP 691 page, built
    when asked (see :class:`ProjectPage`), or the files of an HTML one."""
    is_pypi = content_type.startswith("application/vnd.pypi.simple.")
    if content_type in _JSON_TYPES or (is_pypi and content_type.endswith("+json")):
        return _json_entries(body, page_url), None
    if content_type in _HTML_TYPES or (is_pypi and content_type.endswith("+html")):
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            text = body.decode("utf-8", errors="replace")
        return None, _parse_html_page(text, page_url, for_project=for_project)
    raise IndexRequestError(
        page_url, f"unexpected Content-Type {content_type!r} for an index page", kind="malformed"
    )


def parse_project_list(body: bytes, content_type: str, charset: str, page_url: str) -> list[str]:
    """The normalized project names of an index's root page (PEP 691 or PEP 503)."""
    import json

    if content_type.endswith("json"):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise IndexRequestError(
                page_url, "malformed JSON project list", kind="malformed"
            ) from None
        projects = data.get("projects") if isinstance(data, dict) else None
        names = [p.get("name") for p in projects or () if isinstance(p, dict)]
        return [normalize_project_name(name) for name in names if isinstance(name, str)]
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    hrefs = (attributes.get("href") or "" for tag, attributes in _start_tags(text) if tag == "a")
    return [normalize_project_name(href.rstrip("/").rsplit("/", 1)[-1]) for href in hrefs if href]


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


def _json_entries(body: bytes | bytearray, page_url: str) -> FileEntries:
    """The file entries of a PEP 691 page (with PEP 700 and PEP 714 keys), the page's
    own shape checked; each entry is checked when it is built (:func:`_json_file`)."""
    from .pagejson import decode

    def malformed(detail: str) -> IndexRequestError:
        return IndexRequestError(page_url, f"malformed JSON page: {detail}", kind="malformed")

    try:
        meta, entries = decode(body)
    except ValueError as exc:  # also UnicodeDecodeError, and a page of the wrong shape
        raise malformed(str(exc)) from None
    except RecursionError:
        raise malformed("nested too deeply") from None
    if isinstance(meta, dict):
        _check_api_version(meta.get("api-version"), page_url)
    return entries


def _json_file(entry: dict[str, object], page_url: str) -> DistFile | None:
    """One PEP 691 file entry as a DistFile (None for a link that is not a file of it)."""
    filename, href = str(entry["filename"]), str(entry["url"])
    raw_hashes = entry.get("hashes", {})
    if not isinstance(raw_hashes, dict):
        raise IndexRequestError(
            page_url, f"malformed JSON page: 'hashes' of {filename} is not an object",
            kind="malformed",
        )  # fmt: skip
    if _PLAIN_URL_RE.fullmatch(href):  # PyPI's case, tens of thousands of times a page
        url, fragment_hashes = href, None
    else:
        url, fragment_hashes = _resolve_file_url(page_url, href)
        if not _may_link(page_url, url):
            return None
    sha256 = raw_hashes.get("sha256")
    if (
        fragment_hashes is None
        and len(raw_hashes) == 1
        and isinstance(sha256, str)
        and is_digest("sha256", sha256)
    ):
        hashes = {"sha256": sha256}  # one plain digest: nothing else to look at
    else:
        hashes = {
            name.lower(): value
            for name, value in raw_hashes.items()
            if isinstance(name, str) and isinstance(value, str) and value.strip()
        }
        for name, value in (fragment_hashes or {}).items():
            hashes.setdefault(name, value)
        hashes = _checked_digests(hashes, filename, page_url)
    requires_python = entry.get("requires-python")
    yanked = entry.get("yanked", False)
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
    if isinstance(metadata, dict):
        core_metadata: dict[str, str] | None = _checked_digests(
            {str(k).lower(): v for k, v in metadata.items() if isinstance(v, str)},
            f"the metadata of {filename}",
            page_url,
        )
    else:
        core_metadata = {} if metadata is True else None
    return DistFile(
        filename,
        url,
        hashes,
        requires_python=requires_python if isinstance(requires_python, str) else None,
        # PEP 691: true, or a string (the reason) means yanked.
        yanked=yanked is True or isinstance(yanked, str),
        yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
        core_metadata=core_metadata,
        size=_opt_size(entry.get("size")),
        upload_time=_opt_str(entry.get("upload-time")),
    )


def _parse_html_page(text: str, page_url: str, *, for_project: bool) -> list[DistFile]:
    """PEP 503 anchors with PEP 592 (yanked), PEP 658/714 (metadata) and <base href>."""
    from urllib.parse import urljoin

    anchors: list[dict[str, str | None]] = []
    base_href: str | None = None
    repository_version: str | None = None
    for tag, attributes in _start_tags(text):
        if tag == "a":
            anchors.append(attributes)
        elif tag == "base" and base_href is None and attributes.get("href"):
            base_href = attributes["href"]
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            repository_version = attributes.get("content")
    _check_api_version(repository_version, page_url)
    # The first <base href> applies to every link, wherever it appears in the document.
    base = urljoin(page_url, base_href) if base_href else page_url
    files: list[DistFile] = []
    for attributes in anchors:
        href = attributes.get("href")
        if not href or href.lstrip().startswith("#"):
            continue
        url, hashes = _resolve_file_url(base, href)
        if not _may_link(page_url, url):
            continue  # mailto:, javascript:, and file: from a remote page are not files
        filename = url_filename(url)
        if not filename or (not for_project and not is_archive(filename)):
            continue
        hashes = _checked_digests(hashes, filename, page_url)
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
                core_metadata=_html_metadata_hashes(metadata, filename, page_url),
            )
        )
    return files


_TAG_NAME_RE = re.compile(r"[A-Za-z][^\s/>]*")
_TAG_STOP_RE = re.compile(r"[>\"']")
_ATTRIBUTE_RE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _start_tags(text: str) -> Iterator[tuple[str, dict[str, str | None]]]:
    """Each start tag's lowercased name and attributes (first wins, values unescaped).

    A scanner in linear time, whatever the input: every character is looked at a bounded
    number of times, and an unclosed tag, quote or comment ends the document, as HTML's
    tokenizer ends it. (html.parser rescans an unclosed tag at every later "<", so a
    hostile page of "<a" costs quadratic time.)
    """
    from html import unescape

    position = 0
    while True:
        start = text.find("<", position)
        if start < 0:
            return
        if text.startswith("!--", start + 1):
            close = text.find("-->", start + 4)
            if close < 0:
                return
            position = close + 3
            continue
        name = _TAG_NAME_RE.match(text, start + 1)
        if name is None:
            position = start + 1
            continue
        cursor = name.end()
        while True:  # to the ">" that is not inside a quoted value
            stop = _TAG_STOP_RE.search(text, cursor)
            if stop is None:
                return
            if stop.group() == ">":
                break
            close = text.find(stop.group(), stop.end())
            if close < 0:
                return
            cursor = close + 1
        attributes: dict[str, str | None] = {}
        for match in _ATTRIBUTE_RE.finditer(text, name.end(), stop.start()):
            key, double, single, bare = match.groups()
            value = next((v for v in (double, single, bare) if v is not None), None)
            attributes.setdefault(key.lower(), None if value is None else unescape(value))
        yield name.group().lower(), attributes
        position = stop.end()


def _html_metadata_hashes(value: str | None, filename: str, page_url: str) -> dict[str, str] | None:
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true":
        return {}
    name, sep, digest = value.partition("=")
    if not sep or not name or not digest:
        return None
    return _checked_digests({name.strip().lower(): digest}, f"the metadata of {filename}", page_url)


def _checked_digests(hashes: Mapping[str, str], what: str, page_url: str) -> dict[str, str]:
    """The digests of known algorithms, each lowercase hex of its length, or a page error.

    A digest is the only text of an index that is ever written into a file, so one that
    is not plain hex (a newline, U+2028, an option riding along) refuses the whole page.
    """
    checked: dict[str, str] = {}
    for name, value in hashes.items():
        algorithm = name.strip().lower()
        if algorithm not in DIGEST_LENGTHS:
            continue  # blake2b and the like: never written, never compared
        digest = value.strip().lower()
        if not is_digest(algorithm, digest):
            raise IndexRequestError(
                page_url,
                f"the {algorithm} digest of {what} is not {DIGEST_LENGTHS[algorithm]} hex digits",
                kind="malformed",
            )
        checked.setdefault(algorithm, digest)
    return checked


def _may_link(page_url: str, url: str) -> bool:
    """Whether a page may list this URL as a file: http(s) always; ``file:`` only from a
    local page, so a remote index cannot make hashpin read (or block on) a local path."""
    scheme = url[: url.find(":")].lower() if ":" in url else ""
    if scheme in ("http", "https"):
        return True
    return scheme == "file" and page_url[:5].lower() == "file:"


# -- small helpers ----------------------------------------------------------------------------


def _opt_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value else None  # NaN is no number of seconds


def _opt_size(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _str_dict(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
