"""The on-disk cache of ``hashpin fix``: project pages, what was read from them, and file
digests.

Files on an index never change once uploaded, so a digest computed from a file's bytes is
kept for good, keyed by the file's URL and the algorithm; so is a file's core metadata.

Project pages do change (new uploads). Each is kept as two entries: its body
(``bodies/``: the response body as it came, never encoded again, behind a first line that
names an identity, a random name for that one fetch of the page) and its head
(``pages/``: the URL, ETag / Last-Modified, ``Cache-Control: max-age``, when it was
fetched, that identity, and what runs read from that body). A page is used as it is while
its head says it is fresh, and revalidated after that; a 304 rewrites only the head.

What a run read from a page, the files of each version it needed with their digests, is
kept in the head, so it is only ever read together with the identity of the page it was
read from: a warm run with fresh pages reads a few KB per project instead of the page,
and a page that changed on the index (a 200: a new body, a new identity, a new head) can
never answer through what was read from the old one.

Entries are read and written as ``cachedir`` does it: whole or not at all. A damaged
entry is only a miss, and so is a body that names another identity than its head (two
processes storing the same page at once), or a version whose files carry what a page's
parser would never let through.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import suppress

from .cachedir import default_cache_dir, read_bytes, read_entry, write_bytes, write_entry
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

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Mapping

    from .metadata import CoreMetadata
    from .pagejson import FileEntries

__all__ = ["Cache", "StoredPage", "default_cache_dir"]

# v2: a page is a head, with what was read from it, and a body (v1 kept one entry of
# re-encoded file entries per page, which cost more to write and to read than the page).
_LAYOUT = "v2"
_HEAD_FIELDS = ("url", "project", "etag", "last_modified", "content_type", "charset")
_MAX_VERSIONS = 64  # read from one page and kept in its head; the oldest go first


class StoredPage:
    """A cached page's head: all of it but its files, read without reading its body.

    ``identity`` names the fetch it describes. ``files`` holds the files of a page that
    has no body to keep (one built rather than fetched); None for a fetched one.
    ``versions`` is what was read from the page: per version, the sieve that chose its
    files and those files with their positions, as stored (checked when used).
    """

    __slots__ = (
        "charset",
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
        """The head of the cached page, or None: a few hundred bytes, whatever the page."""
        data = read_entry(self._page_path("pages", index_url, project))
        if data is None:
            return None
        try:
            return StoredPage.from_dict(data)
        except (ValueError, TypeError, KeyError):
            return None

    def load_page(
        self, index_url: str, project: str, head: StoredPage | None = None
    ) -> ProjectPage | None:
        """The cached page (its head read first unless given), or None on a miss."""
        if head is None:
            head = self.load_head(index_url, project)
            if head is None:
                return None
        if head.files is not None:
            return head.page(head.files)
        if head.content_type is None:
            return None
        body = read_bytes(
            self._page_path("bodies", index_url, project),
            _first_line(head.identity),
            DEFAULT_MAX_PAGE_BYTES,
        )
        if body is None:
            return None
        try:
            entries, files = read_page(
                body, head.content_type, head.charset or "utf-8", head.url, for_project=True
            )
        except IndexRequestError:
            return None
        return head.page(files, entries, body)

    def store_page(
        self,
        index_url: str,
        project: str,
        page: ProjectPage,
        sieves: Mapping[str, re.Pattern[str]] | None = None,
        found: Mapping[str, list[tuple[int, DistFile]]] | None = None,
    ) -> None:
        """Keep a page just fetched under a new identity (set on ``page`` too): its body as
        it came, then its head, with what ``sieves`` ``found`` on it (see
        :meth:`StoredPage.keep`)."""
        page.identity = os.urandom(16).hex()
        if page.body is not None and page.content_type is not None:
            head = StoredPage.of(page, page.identity, None)
            path = self._page_path("bodies", index_url, project)
            write_bytes(path, _first_line(page.identity), page.body)
        else:  # built, not fetched: no body to keep, so its files go in the head
            try:
                head = StoredPage.of(page, page.identity, page.files)
            except IndexRequestError:  # a malformed file: nothing worth keeping
                return
        if sieves is not None and found is not None:
            head.keep(sieves, found)
        write_entry(self._page_path("pages", index_url, project), head.to_dict())

    def forget_page(self, index_url: str, project: str) -> None:
        """Drop a page's head (and with it what was read from it): the index serves
        another page now, one that cannot be kept."""
        path = self._page_path("pages", index_url, project)
        if path is not None:
            with suppress(OSError):
                os.unlink(path)

    def store_head(self, index_url: str, project: str, head: StoredPage) -> None:
        """Rewrite a page's head (after a 304, or with more versions read from it), unless
        the head there now describes another fetch: one that another process stored (or
        dropped) meanwhile is not replaced by an older page."""
        path = self._page_path("pages", index_url, project)
        there = read_entry(path)
        if there is not None and there.get("identity") == head.identity:
            write_entry(path, head.to_dict())

    def project_names(self, limit: int = 20_000) -> set[str]:
        """The projects of the cached pages (at most ``limit`` of them read): for hints."""
        names: set[str] = set()
        if self.root is None:
            return names
        for folder, _, files in os.walk(os.path.join(self.root, "pages")):
            for name in files:
                if len(names) >= limit:
                    return names
                data = read_entry(os.path.join(folder, name)) if name.endswith(".json") else None
                project = data.get("project") if data else None
                if isinstance(project, str):
                    names.add(project)
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

    def _page_path(self, kind: str, index_url: str, project: str) -> str | None:
        # One folder of pages, not 256: a run that starts a cache creates two folders,
        # not hundreds (each a few tenths of a millisecond), and the pages of the
        # projects of one machine's requirements stay well within what a folder holds.
        key = self._page_key(index_url, project)
        suffix = ".json" if kind == "pages" else ".page"
        return None if key is None else self._path(kind, key, suffix, fan_out=False)

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


def _first_line(identity: str) -> bytes:
    """What a body entry begins with: the identity of the fetch it came from."""
    return f"hashpin page {identity}\n".encode("ascii", "replace")


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
