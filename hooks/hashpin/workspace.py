"""Reading requirements files from disk and following their includes, as pip does.

This is the only module that reads or writes requirements files. Reading never fetches:
an include by URL is recorded, not followed. Writing (``fix`` only) is atomic.
"""

from __future__ import annotations

import os
import re
import stat
import sys

from .reqfile import DecodeError, File, decode, parse_text

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

MAX_FILE_BYTES = 16 * 1024 * 1024
STDIN = "-"  # the path that means standard input, as for linters
STDIN_NAME = "<stdin>"  # and its name in reports
REQUIREMENTS = "requirements"
CONSTRAINTS = "constraints"
_INCLUDE_URL = r"^(http|https|file):"  # pip's SCHEME_RE, ignoring case


class Include:
    """One ``-r``/``-c`` line and what it leads to."""

    __slots__ = ("constraint", "key", "path", "problem", "target")

    def __init__(self, target: str, constraint: bool) -> None:
        self.target = target  # as written
        self.constraint = constraint
        self.path: str | None = None  # for display: joined onto the including file's folder
        self.key: str | None = None  # absolute path, pip's identity for cycle detection
        self.problem: str | None = None  # why pip could not follow it

    @property
    def remote(self) -> bool:
        return re.match(_INCLUDE_URL, self.target, re.IGNORECASE) is not None


class Source:
    """One requirements file (or PEP 751 lock file) as read from disk."""

    __slots__ = ("applies", "error", "file", "includes", "key", "lock", "path", "role")

    def __init__(self, path: str, key: str) -> None:
        self.path = path
        self.key = key
        self.file: File | None = None
        # A lock file given or found (pylock.toml): its bytes, for hashpin.pylock to read;
        # ``file`` stays None, so everything that works on requirements lines skips it.
        self.lock: bytes | None = None
        self.error: tuple[int, str] | None = None  # (line, message) when it cannot be read
        self.role = REQUIREMENTS
        # A constraints file's pins and hashes count for the requirements of the run only
        # when it is used as one: included with -c, or configured; not for its name alone.
        self.applies = True
        self.includes: dict[int, Include] = {}  # by the including line's number


class Workspace:
    """Every file reached from the given ones, in the order pip reaches them."""

    __slots__ = ("roots", "sources")

    def __init__(self) -> None:
        self.roots: list[str] = []
        self.sources: dict[str, Source] = {}

    def walk(self, root: str) -> list[Source]:
        """The sources reached from ``root``, depth first, in the order pip reads them.

        pip reads an included file at the include's line, so this is the order in which
        pip meets requirements, which decides which of two duplicates counts.
        """
        order: list[Source] = []
        seen: set[str] = set()
        stack = [root]
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            source = self.sources[key]
            order.append(source)
            children = [
                include.key
                for _, include in sorted(source.includes.items(), reverse=True)
                if include.key in self.sources and include.problem is None
            ]
            stack.extend(key for key in children if key is not None)
        return order


def load(
    paths: Iterable[str],
    *,
    constraint_paths: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    contents: Mapping[str, bytes] | None = None,
    stdin: bytes | None = None,
) -> Workspace:
    """Read the given files and everything they include.

    ``contents`` maps absolute paths to bytes to use instead of the file on disk (what a
    file would hold after a fix that was not written). A path ``-`` is ``stdin``, the bytes
    of standard input, named ``<stdin>``; its includes are taken from the current folder.
    """
    workspace = Workspace()
    declared_constraints = {os.path.abspath(path) for path in constraint_paths}
    included_as: dict[str, set[bool]] = {}
    contents = contents or {}
    for path in paths:
        if path == STDIN:
            # Not an absolute path, so no include can ever name it.
            path = key = STDIN_NAME
            contents = {**contents, key: stdin if stdin is not None else b""}
        else:
            key = os.path.abspath(path)
        if key not in workspace.sources:
            _read_tree(workspace, path, key, env, included_as, contents)
        if key not in workspace.roots:
            workspace.roots.append(key)
    for key, source in workspace.sources.items():
        kinds = included_as.get(key, set())
        if (True in kinds or key in declared_constraints) and False not in kinds:
            source.role = CONSTRAINTS
        elif not kinds and key in workspace.roots and _named_constraints(source.path):
            source.role = CONSTRAINTS  # constraints.txt given (or found) on its own
            source.applies = False
    return workspace


def is_lock_name(path: str) -> bool:
    """Whether the file is named as a PEP 751 lock file: ``pylock.toml`` or
    ``pylock.<name>.toml`` (any case; hashpin.pylock says when pip would not take the name)."""
    name = os.path.basename(path).lower()
    # (what the glob pylock.*.toml of discover.NAMES matches, pylock..toml included)
    return name == "pylock.toml" or (
        name.startswith("pylock.") and name.endswith(".toml") and len(name) >= len("pylock..toml")
    )


def _named_constraints(path: str) -> bool:
    """Whether the file is named as discovery names a constraints file."""
    name = os.path.basename(path)
    return name.startswith("constraints") and name.endswith(".txt")


def _read_tree(
    workspace: Workspace,
    path: str,
    key: str,
    env: Mapping[str, str] | None,
    included_as: dict[str, set[bool]],
    contents: Mapping[str, bytes],
) -> None:
    # Iterative depth-first walk, so that include chains thousands deep cannot hit the
    # recursion limit. Each entry carries its chain of ancestors, as pip's does, to tell
    # a cycle (refused) from a file reached twice (read once), and the include that led
    # to it (None for a root), which takes the blame when pip could not open the file.
    stack: list[tuple[str, str, tuple[str, ...], Include | None]] = [(path, key, (), None)]
    while stack:
        path, key, ancestors, via = stack.pop()
        if key in workspace.sources:
            continue
        source = _read(path, key, env, contents.get(key), via)
        if source is None:
            continue
        workspace.sources[key] = source
        chain = (*ancestors, key)
        children = []
        for include in _resolve_includes(source):
            if include.key is None or include.path is None:
                continue  # a URL: left to pip
            included_as.setdefault(include.key, set()).add(include.constraint)
            if include.key in chain:
                loop = (*chain[chain.index(include.key) :], include.key)
                include.problem = "include cycle: " + " -> ".join(
                    os.path.basename(step) for step in loop
                )
            elif include.key not in workspace.sources:
                children.append((include.path, include.key, chain, include))
        stack.extend(reversed(children))


def _resolve_includes(source: Source) -> list[Include]:
    """The include of each line, resolved the way pip resolves it."""
    if source.file is None:
        return []
    found = []
    for line in source.file.lines:
        if line.args or line.error or not line.options:
            continue
        # pip follows only the first -r of a line, else its first -c.
        requirement = line.options_named("--requirement")
        constraint = line.options_named("--constraint")
        chosen = requirement[0] if requirement else (constraint[0] if constraint else None)
        if chosen is None or chosen.value is None:
            continue
        include = Include(chosen.value, constraint=not requirement)
        if not include.remote:
            include.path = os.path.join(os.path.dirname(source.path), chosen.value)
            include.key = os.path.abspath(include.path)
        source.includes[line.number] = include
        found.append(include)
    return found


def _read(
    path: str,
    key: str,
    env: Mapping[str, str] | None,
    data: bytes | None,
    via: Include | None,
) -> Source | None:
    """The file parsed, or with ``error`` saying why it could not be read; None when pip
    could not even open it, and ``via``, the include that names it, says why instead."""
    source = Source(path, key)
    lock = via is None and is_lock_name(path)
    if data is None:
        try:
            data = read_limited(path)
        except (NotAFile, FileNotFoundError, NotADirectoryError) as exc:
            if via is None:
                source.error = (1, _unreadable(exc, lock))
                return source
            kind = "constraints" if via.constraint else "requirements"
            reason = str(exc) if isinstance(exc, NotAFile) else "no such file"
            via.problem = f"cannot open {kind} file {path}: {reason}"
            return None
        except (TooLarge, OSError) as exc:
            source.error = (1, _unreadable(exc, lock))
            return source
    if lock:  # given or found as one; through -r/-c, pip reads it as a requirements file
        source.lock = data
        return source
    try:
        text, bom, encoding = decode(data)
    except DecodeError as exc:
        source.error = (exc.line, exc.message)
        return source
    del data  # so that a large file is in memory once while it is parsed, not twice
    source.file = File(parse_text(text, env), bom, encoding)
    return source


def _unreadable(error: Exception, lock: bool = False) -> str:
    if isinstance(error, NotAFile):
        return f"{error}, not a {'lock' if lock else 'requirements'} file"
    if isinstance(error, OSError):
        return f"cannot read file: {error.strerror or error}"
    return str(error)


class NotAFile(Exception):
    """The path is a directory, FIFO, device or socket: reading it could block or never end."""


class TooLarge(Exception):
    """The file holds more bytes than the limit."""


# Non-blocking, so that opening a FIFO swapped in after the stat cannot hang; no
# controlling terminal taken from a tty; binary on Windows, where the default is text.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def read_limited(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, if it holds at most ``limit`` of them.

    Raises NotAFile for anything but a regular file, TooLarge past ``limit`` and OSError
    when it cannot be read. The type is checked before opening (opening some devices has
    effects) and again on the opened descriptor (the path may have been swapped since);
    the limit is enforced while reading, since a file's reported size can be wrong.
    """
    status = os.stat(path)
    if stat.S_ISCHR(status.st_mode) and _is_devnull(status):
        return b""  # pip reads it as the empty file it is
    descriptor = open_regular(path)
    try:
        return _read_at_most(descriptor, os.fstat(descriptor).st_size, limit)
    finally:
        os.close(descriptor)


def open_regular(path: str) -> int:
    """A descriptor of the regular file at ``path``, opened without blocking on a FIFO.

    NotAFile for anything else, checked before opening (opening some devices has
    effects) and again on the opened descriptor (the path may have been swapped since);
    OSError when it cannot be opened.
    """
    _require_regular(os.stat(path).st_mode)
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        _require_regular(os.fstat(descriptor).st_mode)
    except NotAFile:
        os.close(descriptor)
        raise
    return descriptor


def read_stdin(limit: int = MAX_FILE_BYTES) -> bytes:
    """All of standard input, if it holds at most ``limit`` bytes (else TooLarge; OSError
    when there is none to read)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise OSError("standard input is closed")
    data: bytes = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(_too_large(len(data), limit, more=True))
    return data


# -- Files that are clearly something else ------------------------------------------------

HEAD_BYTES = 1024  # what `refusal` reads of a file: its first lines, never the whole file
_NAMED_FORMATS = {
    "setup.cfg": "is setuptools' configuration (an INI file)",
    "pipfile.lock": "is a Pipfile lock (a JSON file)",
}
_SUFFIX_FORMATS = (
    ((".cfg", ".ini"), "is an INI file"),
    ((".json",), "is a JSON file"),
    ((".yaml", ".yml"), "is a YAML file"),
    ((".py",), "is a Python file"),
)
_TOML_NAMES = ("pipfile", "poetry.lock", "uv.lock", "pdm.lock")
_SECTION_HEADER = r"\[\[?[^\[\]]+\]\]?\s*(#.*)?"


def refusal(path: str, head: bytes | None = None) -> str | None:
    """Why ``path``, given as a requirements file, clearly is not one; None to read it.

    Cheap: the name decides first; then the first bytes (``head``, or read here from a
    regular file only: a FIFO or device is left to the reader, which refuses it) are looked
    at, unless the name is one of a requirements file. The message says what to give.
    """
    name = os.path.basename(path).lower()
    if is_lock_name(name):
        return None  # a lock file (pylock.toml), which hashpin.pylock reads
    kind = toml_refusal(name) or _NAMED_FORMATS.get(name)
    if kind is None:
        kind = next((label for ends, label in _SUFFIX_FORMATS if name.endswith(ends)), None)
    if kind is not None:
        what = f"{kind}, not a requirements file"
    else:
        if head is None:
            head = _head(path)
        start = _sniff(head) if head else None
        if start is None:
            return None
        if path != STDIN_NAME and _named_like_requirements(path):
            return None  # a broken requirements file: its findings say what is wrong
        what = f"is not a requirements file: it {start}"
    from .discover import describe

    return (
        f"{path} {what}; give hashpin requirements files ({describe()}), "
        "or a folder to search for them"
    )


def toml_refusal(name: str) -> str | None:
    """What a TOML file given as a requirements file is called; None if ``name`` (lowercase)
    is not one, or is a lock file (PEP 751 ``pylock.toml``, ``pylock.<name>.toml``), which
    hashpin reads. The one place that turns TOML away."""
    if is_lock_name(name):
        return None
    if name.endswith(".toml") or name in _TOML_NAMES:
        return "is a TOML file"
    return None


def _sniff(head: bytes) -> str | None:
    """What the first meaningful line (after blank and ``#`` lines) says the file is."""
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    for line in text.decode("utf-8", "replace").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if re.fullmatch(_SECTION_HEADER, stripped):
            return "starts with a [section] header, as INI and TOML files do"
        if stripped[0] in "{[":
            return "starts with a JSON object or array"
        if stripped[0] == "<":
            return "starts with a markup tag, as XML and HTML do"
        return None
    return None


def _head(path: str) -> bytes | None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return os.read(descriptor, HEAD_BYTES)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def _named_like_requirements(path: str) -> bool:
    from .discover import is_requirements_name

    return is_requirements_name(os.path.abspath(path).replace(os.sep, "/"))


def _is_devnull(status: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return (status.st_dev, status.st_ino, status.st_rdev) == (
        null.st_dev,
        null.st_ino,
        null.st_rdev,
    )


def _require_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kinds = (
        (stat.S_ISDIR, "is a directory"),
        (stat.S_ISFIFO, "is a named pipe (FIFO)"),
        (stat.S_ISCHR, "is a character device"),
        (stat.S_ISBLK, "is a block device"),
        (stat.S_ISSOCK, "is a socket"),
    )
    raise NotAFile(next((name for test, name in kinds if test(mode)), "is not a regular file"))


def _read_at_most(descriptor: int, size: int, limit: int) -> bytes:
    """Read to the end, refusing the file once it has given more than ``limit`` bytes."""
    if size > limit:
        raise TooLarge(_too_large(size, limit))
    chunks: list[bytes] = []
    total = 0
    want = size + 1  # one more than announced: a normal file then reads as one chunk
    while True:
        chunk = os.read(descriptor, want)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:  # grew, or announced no size (as /proc files do)
            raise TooLarge(_too_large(total, limit, more=True))
        want = min(limit + 1 - total, 64 * 1024)  # small: usually only to see the end


def _too_large(size: int, limit: int, *, more: bool = False) -> str:
    over = "over " if more else ""
    return (
        f"file is {over}{size / 1024 / 1024:.1f} MiB; requirements files over "
        f"{limit // 1024 // 1024} MiB are refused"
    )


class ChangedOnDisk(Exception):
    """The file changed between reading and writing it: it is left as the other writer left it."""


def write_atomic(path: str, data: bytes, expected: bytes | None) -> None:
    """Replace the file's bytes with ``data``, all or nothing.

    The bytes go to a temporary file in the same folder, are flushed to disk, take the
    file's mode, and are renamed over it, so a crash at any point leaves either the old
    file or the new one. A symbolic link is kept: its target is replaced. Raises
    ChangedOnDisk (writing nothing) if the file no longer holds ``expected``; with
    ``expected`` None, a file that is not there is created (with a new file's mode).
    """
    import contextlib
    import tempfile

    target = os.path.realpath(path)
    if expected is not None:
        try:  # capped and type-checked: the file may have been swapped for a FIFO since
            current = read_limited(target, max(MAX_FILE_BYTES, len(expected)))
        except (NotAFile, TooLarge):
            raise ChangedOnDisk(path) from None
        if current != expected:
            raise ChangedOnDisk(path)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        if expected is not None:
            raise ChangedOnDisk(path) from None
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    folder = os.path.dirname(target)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix="." + os.path.basename(target) + ".", suffix=".hashpin-tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    try:  # make the rename itself durable where the platform allows it
        directory = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)
    except OSError:
        pass
    finally:
        os.close(directory)
