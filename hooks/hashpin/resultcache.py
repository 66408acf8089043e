"""A cache of ``hashpin check`` results, as ruff caches lint results.

A check is a pure function of the command line, the working folder, the configuration,
hashpin's own code, the bytes of every file it read, the ``${NAME}`` values those files
expand and which ``file:`` paths are folders. The entry of an invocation (the first four)
records the rest as it was, with the output and the exit status; a later run with the same
invocation checks every recorded input again and prints the stored output only if all of
them are unchanged. A stale answer is impossible by construction: anything not recorded
is part of the key, and anything recorded is compared.

Cheap to import: a hit never imports the parser, packaging or the rules.
"""

from __future__ import annotations

import os

from .cachedir import read_entry, write_entry

try:  # hashlib's import loads OpenSSL, a tenth of a cached run; blake2 is built in
    from _blake2 import blake2b as _hash
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import sha256 as _hash  # type: ignore[assignment]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .workspace import Workspace

_LAYOUT = "check-v1"
_UNREADABLE = "!"  # the fingerprint of a path that cannot be read as a file


def invocation_key(argv: Iterable[str], cwd: str, config_path: str | None, *, code: str) -> str:
    """The key of one invocation: the command line, folder, configuration and code."""
    digest = _hash()
    config = fingerprint(config_path) if config_path else ""
    for part in (_LAYOUT, code, cwd, config_path or "", config, *argv):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def code_version() -> str:
    """hashpin's version and the size and time of each of its modules, with the Python and
    packaging versions: an upgrade or an edit of the code makes every entry a miss."""
    import sys

    from . import __version__

    folder = os.path.dirname(os.path.abspath(__file__))
    parts = [__version__, sys.version]
    try:
        import packaging

        parts.append(packaging.__version__)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py"):
                status = os.stat(os.path.join(folder, name))
                parts.append(f"{name}:{status.st_size}:{status.st_mtime_ns}")
    except (ImportError, OSError):
        parts.append(os.urandom(8).hex())  # unknown: never hit
    return "\n".join(parts)


def fingerprint(path: str) -> str:
    """A strong hash of a regular file's bytes, or a marker saying it cannot be read."""
    from .workspace import read_limited

    try:
        return _hash(read_limited(path)).hexdigest()
    except Exception:  # missing, a folder, a FIFO, too large: the check says which
        return _UNREADABLE + ("dir" if os.path.isdir(path) else "")


class Inputs:
    """What a check read, recorded while it runs, to be compared on a later hit."""

    __slots__ = ("dirs", "env", "files")

    def __init__(self) -> None:
        self.files: dict[str, str] = {}  # absolute path -> fingerprint
        self.env: dict[str, str | None] = {}  # ${NAME} -> its value, None if unset
        self.dirs: dict[str, bool] = {}  # file: path -> whether it is a folder

    def is_dir(self, path: str) -> bool:
        """``os.path.isdir``, remembered."""
        answer = self.dirs[path] = os.path.isdir(path)
        return answer

    def record(self, workspace: Workspace, env: Mapping[str, str]) -> None:
        """Every file the check read or tried to, and every ``${NAME}`` they name."""
        import re

        for source in workspace.sources.values():
            self.files.setdefault(source.key, fingerprint(source.key))
            for include in source.includes.values():
                if include.key is not None:
                    self.files.setdefault(include.key, fingerprint(include.key))
            if source.file is not None and "${" in source.file.text:
                for name in re.findall(r"\$\{([A-Z0-9_]+)\}", source.file.text):
                    self.env[name] = env.get(name)

    def unchanged(self, env: Mapping[str, str]) -> bool:
        return (
            all(env.get(name) == value for name, value in self.env.items())
            and all(os.path.isdir(path) == was for path, was in self.dirs.items())
            and all(fingerprint(path) == was for path, was in self.files.items())
        )


class ResultCache:
    """Entries under ``root``; ``ResultCache(None)`` holds nothing (``--no-cache``)."""

    __slots__ = ("root",)

    def __init__(self, root: str | None) -> None:
        self.root = None if root is None else os.path.join(root, _LAYOUT)

    def _path(self, key: str) -> str | None:
        return None if self.root is None else os.path.join(self.root, key[:2], key + ".json")

    def load(self, key: str, env: Mapping[str, str]) -> tuple[str, int] | None:
        """The stored output and exit status, if every recorded input is unchanged."""
        entry = read_entry(self._path(key))
        if entry is None:
            return None
        output, status = entry.get("output"), entry.get("status")
        files, names, dirs = entry.get("files"), entry.get("env"), entry.get("dirs")
        if not (
            isinstance(output, str)
            and isinstance(status, int)
            and isinstance(files, dict)
            and isinstance(names, dict)
            and isinstance(dirs, dict)
        ):
            return None
        inputs = Inputs()
        inputs.files = {str(k): str(v) for k, v in files.items()}
        inputs.env = {str(k): v if isinstance(v, str) else None for k, v in names.items()}
        inputs.dirs = {str(k): v is True for k, v in dirs.items()}
        return (output, status) if inputs.unchanged(env) else None

    def store(self, key: str, inputs: Inputs, output: str, status: int) -> None:
        entry = {
            "files": inputs.files,
            "env": inputs.env,
            "dirs": inputs.dirs,
            "output": output,
            "status": status,
        }
        write_entry(self._path(key), entry)
