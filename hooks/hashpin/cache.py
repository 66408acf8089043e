"""The on-disk cache of ``hashpin fix``: project pages and file digests.

Files on an index never change once uploaded, so a digest computed from a file's bytes is
kept for good, keyed by the file's URL and the algorithm. Project pages do change (new
uploads), so they are kept with their ETag / Last-Modified and revalidated, never trusted.

Several processes may share the folder (pre-commit runs hooks in parallel): every entry
is written to a temporary file and renamed into place, so a reader sees a whole entry or
none, and an unreadable entry is treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile

from .digests import is_digest
from .index import ProjectPage, normalize_project_name, redact_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

_LAYOUT = "v1"


def default_cache_dir() -> str:
    """The user's cache folder for hashpin, as platform conventions place it."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "hashpin", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/hashpin")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "hashpin")


class Cache:
    """A cache folder; ``Cache(None)`` is a cache that holds nothing (``--no-cache``)."""

    __slots__ = ("root",)

    def __init__(self, root: str | None) -> None:
        self.root = None if root is None else os.path.join(root, _LAYOUT)

    def load_page(self, index_url: str, project: str) -> ProjectPage | None:
        data = self._load(self._page_path(index_url, project))
        if data is None:
            return None
        try:
            return ProjectPage.from_dict(data)
        except (ValueError, TypeError, KeyError):
            return None

    def store_page(self, index_url: str, project: str, page: ProjectPage) -> None:
        self._store(self._page_path(index_url, project), page.to_dict())

    def project_names(self, limit: int = 20_000) -> set[str]:
        """The projects of the cached pages (at most ``limit`` of them read): for hints."""
        names: set[str] = set()
        if self.root is None:
            return names
        for folder, _, files in os.walk(os.path.join(self.root, "pages")):
            for name in files:
                if len(names) >= limit:
                    return names
                data = self._load(os.path.join(folder, name)) if name.endswith(".json") else None
                project = data.get("project") if data else None
                if isinstance(project, str):
                    names.add(project)
        return names

    def load_digest(self, url: str, algorithm: str) -> str | None:
        data = self._load(self._digest_path(url, algorithm))
        if data is None or data.get("url") != url or data.get("algorithm") != algorithm:
            return None
        digest = data.get("digest")
        # A damaged entry is only a miss, and nothing but a digest reaches a file.
        return digest if isinstance(digest, str) and is_digest(algorithm, digest) else None

    def store_digest(self, url: str, algorithm: str, digest: str) -> None:
        entry = {"url": url, "algorithm": algorithm, "digest": digest}
        self._store(self._digest_path(url, algorithm), entry)

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

    @staticmethod
    def _load(path: str | None) -> dict[str, object] | None:
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as stream:
                data = json.load(stream)
        except (OSError, ValueError, RecursionError):  # deeply nested JSON recurses
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def _store(path: str | None, data: Mapping[str, object]) -> None:
        """Write one entry atomically; a cache that cannot be written is only slower."""
        if path is None:
            return
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(data, stream, separators=(",", ":"))
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass
