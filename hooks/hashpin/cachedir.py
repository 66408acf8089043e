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


def read_record(
    path: str | None, limit: int, *, head_only: bool = False
) -> tuple[dict[str, object], bytes] | None:
    """What :func:`write_record` stored at ``path``: its head (a JSON object) and its
    payload (``b""`` when ``head_only``), or None when the entry is missing, unreadable,
    damaged, or holds more than ``limit`` bytes."""
    import json

    if path is None:
        return None
    try:
        with open(path, "rb") as stream:
            line = stream.readline(limit + 1)
            payload = b"" if head_only else stream.read(limit + 1 - len(line))
    except OSError:
        return None
    if not line.endswith(b"\n") or len(line) + len(payload) > limit:
        return None
    try:
        head = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return (head, payload) if isinstance(head, dict) else None


def write_entry(path: str | None, data: Mapping[str, object]) -> None:
    """Write one entry atomically; a cache that cannot be written is only slower."""
    _write_atomically(path, (_compact_json(data),))


def write_record(path: str | None, head: Mapping[str, object], payload: bytes) -> None:
    """Write ``head`` (a JSON object, one line: JSON text holds no raw line break) and then
    ``payload``, the bytes it describes, as one entry, atomically, for :func:`read_record`."""
    _write_atomically(path, (_compact_json(head) + b"\n", payload))


def _compact_json(data: Mapping[str, object]) -> bytes:
    import json

    # dumps, not dump: dump feeds the file from a Python-level generator, several times
    # slower on a large entry.
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


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
