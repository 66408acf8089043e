"""Where hashpin's caches live, and how an entry is read and written. Cheap to import.

Several processes may share the folder (pre-commit runs hooks in parallel): an entry is
written to a temporary file and renamed into place, so a reader sees a whole entry or
none, and an unreadable or damaged entry is only a miss.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def default_cache_dir() -> str:
    """The user's cache folder for hashpin, as platform conventions place it."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "hashpin", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/hashpin")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "hashpin")


def read_entry(path: str | None) -> dict[str, object] | None:
    """The JSON object stored at ``path``, or None for anything else."""
    import json

    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError, RecursionError):  # deeply nested JSON recurses
        return None
    return data if isinstance(data, dict) else None


def read_bytes(path: str | None, first_line: bytes, limit: int) -> bytes | None:
    """What :func:`write_bytes` stored at ``path`` after ``first_line``, or None when the
    entry is missing, unreadable, larger than ``limit`` or begins with another line."""
    if path is None:
        return None
    try:
        with open(path, "rb") as stream:
            if stream.readline(len(first_line) + 1) != first_line:
                return None
            data = stream.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def write_entry(path: str | None, data: Mapping[str, object]) -> None:
    """Write one entry atomically; a cache that cannot be written is only slower."""
    import json

    # dumps, not dump: dump feeds the file from a Python-level generator, several times
    # slower on a large entry.
    _write_atomically(path, (json.dumps(data, separators=(",", ":")).encode("utf-8"),))


def write_bytes(path: str | None, first_line: bytes, data: bytes) -> None:
    """Write ``first_line`` (which names what follows) and ``data`` as one entry,
    atomically, for :func:`read_bytes`: bytes kept as they came, never encoded again."""
    _write_atomically(path, (first_line, data))


def _write_atomically(path: str | None, chunks: tuple[bytes, ...]) -> None:
    """A temporary file in the entry's folder, renamed over it: readers see all or none."""
    import tempfile

    if path is None:
        return
    folder = os.path.dirname(path)
    try:
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        except FileNotFoundError:  # the folder's first entry: make it (only then)
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                for chunk in chunks:
                    stream.write(chunk)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass
