"""The on-disk cache of ``hashpin fix``: project pages, what was read from them, and file
digests.

Files on an index never change once uploaded, so a digest computed from a file's bytes is
kept for good, keyed by the file's URL and the algorithm; so is a file's core metadata.

Project pages do change (new uploads). Each is kept as one entry (``pages/``): a head,
one line of JSON (the URL, ETag / Last-Modified, ``Cache-Control: max-age``, when it was
fetched, an identity (a random name for that one fetch of the page) and what runs read
from the page), then the body as it came, gzip-compressed when the index sent it so,
never encoded again: one file per page, since creating a file costs more than writing
one, and gzip makes a JSON page about a fifth of its size. A page is used as it is while
its head says it is fresh, and revalidated after that; a 304 rewrites the head, before
the same body.

What a run read from a page, the files of each version it needed with their digests, is
kept in the head, so it is only ever read together with the identity of the page it was
read from: a warm run with fresh pages reads the head, a few KB per project, not the
page, and a page that changed on the index (a 200: a new body, a new identity) can never
answer through what was read from the old one.

Entries are read and written as ``cachedir`` does it: whole or not at all. A damaged
entry is only a miss, and so is an entry that holds another identity than the head read
before it (another process stored the page meanwhile), or a version whose files carry
what a page's parser would never let through.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import suppress

from .cachedir import default_cache_dir, read_entry, read_record, write_entry, write_record
from .digests import DIGEST_LENGTHS, is_digest
from .index import (
    DEFAULT_MAX_PAGE_BYTES,
    DistFile,
    IndexRequestError,
    ProjectPage,
    normalize_project_name,
    redact_url,
)
from .simple import read_page
from .transport import gunzip

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Mapping

    from .metadata import CoreMetadata
    from .pagejson import FileEntries

__all__ = ["Cache", "StoredPage", "default_cache_dir"]

# v3: a page is one entry, its head and then its body as it came (v2 kept them as two;
# v1 kept one entry of re-encoded file entries per page, which cost more to write and to
# read than the page).
_LAYOUT = "v3"
_HEAD_FIELDS = (
    "url",
    "project",
    "etag",
    "last_modified",
    "content_type",
    "charset",
    "content_encoding",
)
_MAX_VERSIONS = 64  # read from one page and kept in its head; the oldest go first
_LIMIT = DEFAULT_MAX_PAGE_BYTES  # of a page entry, head and body (as sent) together


class StoredPage:
    """A cached page's head: all of it but its files, read without reading its body.

    ``identity`` names the fetch it describes. ``files`` holds the files of a page that
    has no body to keep (one built rather than fetched); None for a fetched one.
    ``versions`` is what was read from the page: per version, the sieve that chose its
    files and those files with their positions, as stored (checked when used).
    """

    __slots__ = (
        "charset",
        "content_encoding",
        "content_type",
        "etag",
        "fetched_at",
        "files",
        "identity",
        "last_modified",
        "max_age",
        "project",
        "url",
        "versions",
    )

    def __init__(
        self,
        url: str,
        identity: str,
        *,
        project: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str | None = None,
        charset: str | None = None,
        content_encoding: str | None = None,
        fetched_at: float | None = None,
        max_age: float | None = None,
        files: list[DistFile] | None = None,
        versions: dict[str, object] | None = None,
    ) -> None:
        self.url = url
        self.identity = identity
        self.project = project
        self.etag = etag
        self.last_modified = last_modified
        self.content_type = content_type
        self.charset = charset
        self.content_encoding = content_encoding
        self.fetched_at = fetched_at
        self.max_age = max_age
        self.files = files
        self.versions = versions or {}

    @classmethod
    def of(cls, page: ProjectPage, identity: str, files: list[DistFile] | None) -> StoredPage:
        return cls(
            page.url,
            identity,
            project=page.project,
            etag=page.etag,
            last_modified=page.last_modified,
            content_type=page.content_type,
            charset=page.charset,
            content_encoding=page.content_encoding,
            fetched_at=page.fetched_at,
            max_age=page.max_age,
            files=files,
        )

    def fresh(self, now: float) -> bool:
        """Whether the server said the page may be used without asking again, as of now."""
        if self.fetched_at is None or self.max_age is None:
            return False
        return 0 <= now - self.fetched_at < self.max_age

    def kept(
        self, sieves: Mapping[str, re.Pattern[str]]
    ) -> dict[str, list[tuple[int, DistFile]]] | None:
        """Per version, the files (with their positions) its sieve chose from this page,
        as :meth:`keep` kept them; None unless every version was kept, by that sieve."""
        found: dict[str, list[tuple[int, DistFile]]] = {}
        for version, sieve in sieves.items():
            files = _kept_files(self.versions.get(version), sieve.pattern)
            if files is None:
                return None
            found[version] = files
        return found

    def keep(
        self,
        sieves: Mapping[str, re.Pattern[str]],
        found: Mapping[str, list[tuple[int, DistFile]]],
    ) -> bool:
        """Keep what the sieves found on this page, for :meth:`kept`; whether that added
        anything (the head is then worth storing again). The latest versions stay."""
        added = False
        for version, files in found.items():
            record = {
                "sieve": sieves[version].pattern,
                "files": [[position, *dist.to_list()] for position, dist in files],
            }
            if self.versions.get(version) != record:
                self.versions.pop(version, None)
                self.versions[version] = record
                added = True
        while len(self.versions) > _MAX_VERSIONS:
            del self.versions[next(iter(self.versions))]
        return added

    def page(
        self,
        files: list[DistFile] | None,
        entries: FileEntries | None = None,
        body: bytes | None = None,
    ) -> ProjectPage:
        """The page this head describes, with its files (or PEP 691 entries)."""
        return ProjectPage(
            self.url,
            files,
            entries=entries,
            project=self.project,
            etag=self.etag,
            last_modified=self.last_modified,
            content_type=self.content_type,
            fetched_at=self.fetched_at,
            max_age=self.max_age,
            body=body,
            content_encoding=self.content_encoding,
            charset=self.charset,
            identity=self.identity,
        )

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {name: getattr(self, name) for name in _HEAD_FIELDS}
        data.update(identity=self.identity, fetched_at=self.fetched_at, max_age=self.max_age)
        if self.files is not None:
            data["files"] = [dist.to_list() for dist in self.files]
        if self.versions:
            data["versions"] = self.versions
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> StoredPage:
        """The head :meth:`to_dict` wrote; ValueError if damaged."""
        from .simple import _opt_number

        fields = {name: data.get(name) for name in _HEAD_FIELDS}
        url, identity, files = fields.pop("url"), data.get("identity"), data.get("files")
        versions = data.get("versions", {})
        if not isinstance(url, str) or not isinstance(identity, str) or not identity:
            raise ValueError("a page head needs a string 'url' and 'identity'")
        if any(value is not None and not isinstance(value, str) for value in fields.values()):
            raise ValueError("a page head's validators and types are strings")
        if files is not None and not isinstance(files, list):
            raise ValueError("a page head's files are a list")
        if not isinstance(versions, dict):
            raise ValueError("a page head's versions are an object")
        return cls(
            url,
            identity,
            fetched_at=_opt_number(data.get("fetched_at")),
            max_age=_opt_number(data.get("max_age")),
            files=None if files is None else [DistFile.from_dict(item) for item in files],
            versions=versions,
            **fields,  # type: ignore[arg-type]  # each a str or None, checked above
        )


class Cache:
    """A cache folder; ``Cache(None)`` is a cache that holds nothing (``--no-cache``)."""

    __slots__ = ("root",)

    def __init__(self, root: str | None) -> None:
        self.root = None if root is None else os.path.join(root, _LAYOUT)

    # -- project pages ----------------------------------------------------------------------

    def load_head(self, index_url: str, project: str) -> StoredPage | None:
        """The head of the cached page, or None: a few KB, whatever the page."""
        return _head_of(read_record(self._page_path(index_url, project), _LIMIT, head_only=True))

    def load_page(
        self, index_url: str, project: str, head: StoredPage | None = None
    ) -> ProjectPage | None:
        """The cached page, or None on a miss; given the ``head`` read before, None too
        when the entry holds another fetch now."""
        if head is not None and head.files is not None:
            return head.page(head.files)
        record = read_record(self._page_path(index_url, project), _LIMIT)
        stored = _head_of(record)
        if record is None or stored is None:
            return None
        if head is not None and stored.identity != head.identity:
            return None
        if stored.files is not None:
            return stored.page(stored.files)
        sent = record[1]
        if stored.content_type is None or stored.content_encoding not in (None, "gzip"):
            return None
        try:
            body = sent if stored.content_encoding is None else gunzip(sent, _LIMIT, stored.url)
            entries, files = read_page(
                body, stored.content_type, stored.charset or "utf-8", stored.url, for_project=True
            )
        except IndexRequestError:
            return None
        return stored.page(files, entries, sent)

    def store_page(
        self,
        index_url: str,
        project: str,
        page: ProjectPage,
        sieves: Mapping[str, re.Pattern[str]] | None = None,
        found: Mapping[str, list[tuple[int, DistFile]]] | None = None,
    ) -> None:
        """Keep a page just fetched under a new identity (set on ``page`` too): its head,
        with what ``sieves`` ``found`` on it (see :meth:`StoredPage.keep`), and its body
        as it came."""
        page.identity = os.urandom(16).hex()
        if page.body is not None and page.content_type is not None:
            head = StoredPage.of(page, page.identity, None)
        else:  # built, not fetched: no body to keep, so its files go in the head
            try:
                head = StoredPage.of(page, page.identity, page.files)
            except IndexRequestError:  # a malformed file: nothing worth keeping
                return
        if sieves is not None and found is not None:
            head.keep(sieves, found)
        write_record(self._page_path(index_url, project), head.to_dict(), page.body or b"")

    def forget_page(self, index_url: str, project: str) -> None:
        """Drop a page (and with it what was read from it): the index serves another
        page now, one that cannot be kept."""
        path = self._page_path(index_url, project)
        if path is not None:
            with suppress(OSError):
                os.unlink(path)

    def store_head(self, index_url: str, project: str, head: StoredPage) -> None:
        """Rewrite a page's head (after a 304, or with more versions read from it) before
        its body, unless the entry there now holds another fetch: one that another
        process stored (or dropped) meanwhile is not replaced by an older page."""
        path = self._page_path(index_url, project)
        record = read_record(path, _LIMIT)
        if record is not None and record[0].get("identity") == head.identity:
            write_record(path, head.to_dict(), record[1])

    def project_names(self, limit: int = 20_000) -> set[str]:
        """The projects of the cached pages (at most ``limit`` of them read): for hints."""
        names: set[str] = set()
        if self.root is None:
            return names
        for folder, _, files in os.walk(os.path.join(self.root, "pages")):
            for name in files:
                if len(names) >= limit:
                    return names
                path = os.path.join(folder, name) if name.endswith(".page") else None
                head = _head_of(read_record(path, _LIMIT, head_only=True))
                if head is not None and head.project is not None:
                    names.add(head.project)
        return names

    # -- digests and metadata ---------------------------------------------------------------

    def load_digest(self, url: str, algorithm: str) -> str | None:
        data = read_entry(self._digest_path(url, algorithm))
        if data is None or data.get("url") != url or data.get("algorithm") != algorithm:
            return None
        digest = data.get("digest")
        # A damaged entry is only a miss, and nothing but a digest reaches a file.
        return digest if isinstance(digest, str) and is_digest(algorithm, digest) else None

    def store_digest(self, url: str, algorithm: str, digest: str) -> None:
        entry = {"url": url, "algorithm": algorithm, "digest": digest}
        write_entry(self._digest_path(url, algorithm), entry)

    def load_metadata(self, url: str, digest: str) -> CoreMetadata | None:
        """The core metadata of the file with this URL and digest, if kept."""
        from .metadata import CoreMetadata

        data = read_entry(self._path("metadata", f"{digest} {url}"))
        if data is None or data.get("url") != url or data.get("digest") != digest:
            return None
        fields = data.get("metadata")
        return CoreMetadata.from_dict(fields) if isinstance(fields, dict) else None

    def store_metadata(self, url: str, digest: str, metadata: CoreMetadata) -> None:
        """Keep it for good: a file with this digest always has this metadata."""
        if url[:5].lower() == "file:":
            return
        entry = {"url": url, "digest": digest, "metadata": metadata.to_dict()}
        write_entry(self._path("metadata", f"{digest} {url}"), entry)

    # -- where entries live -----------------------------------------------------------------

    def _page_key(self, index_url: str, project: str) -> str | None:
        # Keyed without the password, so that a rotated token keeps its cache.
        try:
            index = redact_url(index_url).rstrip("/")
        except ValueError:  # unparsable: not cached, so the client reports it
            return None
        return f"{index}/{normalize_project_name(project)}"

    def _page_path(self, index_url: str, project: str) -> str | None:
        # One folder of pages, not 256: a run that starts a cache creates one folder, not
        # hundreds (each a few tenths of a millisecond), and the pages of the projects
        # of one machine's requirements stay well within what a folder holds.
        key = self._page_key(index_url, project)
        return None if key is None else self._path("pages", key, ".page", fan_out=False)

    def _digest_path(self, url: str, algorithm: str) -> str | None:
        if url[:5].lower() == "file:":  # a local file may change under the same URL: never kept
            return None
        return self._path("digests", f"{algorithm} {url}")

    def _path(
        self, kind: str, key: str, suffix: str = ".json", *, fan_out: bool = True
    ) -> str | None:
        if self.root is None:
            return None
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()
        if not fan_out:
            return os.path.join(self.root, kind, name + suffix)
        return os.path.join(self.root, kind, name[:2], name + suffix)


def _head_of(record: tuple[dict[str, object], bytes] | None) -> StoredPage | None:
    """The head of a page entry, or None for a missing or damaged one."""
    if record is None:
        return None
    try:
        return StoredPage.from_dict(record[0])
    except (ValueError, TypeError, KeyError):
        return None


def _kept_files(record: object, sieve: str) -> list[tuple[int, DistFile]] | None:
    """The files a head kept for a version, if that sieve chose them and they hold only
    what a page's parser lets through; else None."""
    if not isinstance(record, dict) or record.get("sieve") != sieve:
        return None
    items = record.get("files")
    if not isinstance(items, list):
        return None
    files: list[tuple[int, DistFile]] = []
    for item in items:
        if not isinstance(item, list) or not item:
            return None
        position = item[0]
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            return None
        try:
            dist = DistFile.from_dict(item[1:])
        except ValueError:
            return None
        if not _as_parsed(dist):
            return None
        files.append((position, dist))
    return files


def _as_parsed(dist: DistFile) -> bool:
    """Whether a file could have come from a fetched page's parser: an http(s) URL, and
    only digests of known algorithms, each lowercase hex of its length."""
    if dist.url[:7].lower() != "http://" and dist.url[:8].lower() != "https://":
        return False
    for hashes in (dist.hashes, dist.core_metadata or {}):
        for algorithm, digest in hashes.items():
            if algorithm not in DIGEST_LENGTHS or not is_digest(algorithm, digest):
                return False
    return True
