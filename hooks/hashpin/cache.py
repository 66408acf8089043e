"""The on-disk cache of ``hashpin fix``: project pages and file digests.

Files on an index never change once uploaded, so a digest computed from a file's bytes is
kept for good, keyed by the file's URL and the algorithm; so is a file's core metadata.
Project pages do change (new uploads), so they are kept with their ETag / Last-Modified
and ``Cache-Control: max-age``: used as they are while the index says they are fresh,
revalidated after that.

Entries are read and written as ``cachedir`` does it: whole or not at all, and a
damaged one is a miss.
"""

from __future__ import annotations

import hashlib
import os

from .cachedir import default_cache_dir, read_entry, write_entry
from .digests import is_digest
from .index import IndexRequestError, ProjectPage, normalize_project_name, redact_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .metadata import CoreMetadata

__all__ = ["Cache", "default_cache_dir"]

_LAYOUT = "v1"


class Cache:
    """A cache folder; ``Cache(None)`` is a cache that holds nothing (``--no-cache``)."""

    __slots__ = ("root",)

    def __init__(self, root: str | None) -> None:
        self.root = None if root is None else os.path.join(root, _LAYOUT)

    def load_page(self, index_url: str, project: str) -> ProjectPage | None:
        data = read_entry(self._page_path(index_url, project))
        if data is None:
            return None
        try:
            return ProjectPage.from_dict(data)
        except (ValueError, TypeError, KeyError, IndexRequestError):
            return None

    def store_page(self, index_url: str, project: str, page: ProjectPage) -> None:
        write_entry(self._page_path(index_url, project), page.to_dict())

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

    def _page_path(self, index_url: str, project: str) -> str | None:
        # Keyed without the password, so that a rotated token keeps its cache.
        try:
            index = redact_url(index_url).rstrip("/")
        except ValueError:  # unparsable: not cached, so the client reports it
            return None
        return self._path("pages", f"{index}/{normalize_project_name(project)}")

    def _digest_path(self, url: str, algorithm: str) -> str | None:
        if url[:5].lower() == "file:":  # a local file may change under the same URL: never kept
            return None
        return self._path("digests", f"{algorithm} {url}")

    def _path(self, kind: str, key: str) -> str | None:
        if self.root is None:
            return None
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return os.path.join(self.root, kind, name[:2], name + ".json")
