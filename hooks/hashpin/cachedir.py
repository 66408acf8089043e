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


def write_entry(path: str | None, data: Mapping[str, object]) -> None:
    """Write one entry atomically; a cache that cannot be written is only slower."""
    import json
    import tempfile

    if path is None:
        return
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                # dumps, not dump: dump feeds the file from a Python-level generator, several
                # times slower on a page of 50,000 entries.
                stream.write(json.dumps(data, separators=(",", ":")))
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass
