"""Which files are requirements files (or lock files), and finding them under a folder.

The one definition of the names hashpin looks for (``NAMES``) and of the folders it never
searches (``SKIPPED_FOLDERS``). The pre-commit hooks' ``files`` and ``exclude`` regexes
in ``.pre-commit-hooks.yaml`` are ``files_regex()`` and ``exclude_regex()`` written out,
and the tests hold them equal, so that ``hashpin check`` without paths (or given a folder)
checks exactly the files the hook would be given.

Only imported when a folder is searched (or a name has to be judged): checking the files
given on the command line never runs any of this, nor starts a subprocess.
"""

from __future__ import annotations

import os
import re
import stat

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Callable

# Globs over the path from the top of the project (the git work tree; outside git, the
# whole path): ``*`` is any run of characters but ``/``, ``**/`` any number of folders.
# A name matches at any depth. To teach hashpin a new kind of file, add its glob here
# (and regenerate the hooks' regexes, which a test compares).
NAMES = (
    "requirements*.txt",
    "*-requirements.txt",
    "*_requirements.txt",
    "requirements/**/*.txt",
    "constraints*.txt",
    "pylock.toml",  # PEP 751 lock files (hashpin/pylock.py)
    "pylock.*.toml",
)

# Folders never searched, by name (globs as above), at any depth below the folder searched:
# version control, virtualenvs, installed packages, build output and tool caches. Any
# folder holding a ``pyvenv.cfg`` (a virtualenv, whatever its name) is skipped as well.
SKIPPED_FOLDERS = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".direnv",
    "__pypackages__",
    "site-packages",
    "node_modules",
    "build",
    "dist",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".pytype",
    ".ipynb_checkpoints",
)
VENV_MARKER = "pyvenv.cfg"

# What `git rev-parse --local-env-vars` lists: settings that point git at a repository.
# They are dropped so that git finds the same work tree as the search (the nearest
# ``.git`` above the folder), even when hashpin runs inside some git hook.
_GIT_LOCAL_ENV = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_DIR",
    "GIT_GRAFT_FILE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
    "GIT_REPLACE_REF_BASE",
    "GIT_SHALLOW_FILE",
    "GIT_WORK_TREE",
)
_GIT_TIMEOUT = 120.0


def describe() -> str:
    """The names, for messages: ``requirements*.txt, *-requirements.txt, ...``."""
    return ", ".join(NAMES)


def glob_regex(glob: str) -> str:
    """A glob of ``NAMES`` or ``SKIPPED_FOLDERS`` as a regex (no anchors)."""
    parts = []
    for piece in re.split(r"(\*\*/|\*)", glob):
        if piece == "**/":
            parts.append("(?:[^/]+/)*")
        elif piece == "*":
            parts.append("[^/]*")
        else:
            parts.append(re.sub(r"([.^$+?{}()\[\]\\|])", r"\\\1", piece))
    return "".join(parts)


def files_regex() -> str:
    """pre-commit's ``files``: a requirements file, at any depth."""
    return "(^|/)(" + "|".join(glob_regex(glob) for glob in NAMES) + ")$"


def exclude_regex() -> str:
    """pre-commit's ``exclude``: anything inside a skipped folder, at any depth."""
    return "(^|/)(" + "|".join(glob_regex(glob) for glob in SKIPPED_FOLDERS) + ")/"


_compiled: dict[str, re.Pattern[str]] = {}


def _regex(which: str) -> re.Pattern[str]:
    pattern = _compiled.get(which)
    if pattern is None:
        if which == "files":
            source = files_regex()
        elif which == "exclude":
            source = exclude_regex()
        else:
            source = "(" + "|".join(glob_regex(glob) for glob in SKIPPED_FOLDERS) + ")"
        pattern = _compiled[which] = re.compile(source)
    return pattern


def is_requirements_name(path: str) -> bool:
    """Whether the path (``/``-separated, from the top of the project) names a requirements
    file by ``NAMES``, wherever it is."""
    return _regex("files").search(path) is not None


def is_skipped_folder(name: str) -> bool:
    """Whether a folder of this name is never searched (``SKIPPED_FOLDERS``)."""
    return _regex("folder").fullmatch(name) is not None


def wanted(path: str) -> bool:
    """What the hook selects: a requirements file's name, and no skipped folder on the way
    (a virtualenv known only by its ``pyvenv.cfg`` aside). ``path`` is ``/``-separated,
    from the top of the project."""
    return is_requirements_name(path) and _regex("exclude").search(path) is None


class SearchError(Exception):
    """The folder given cannot be searched at all."""


def find(folder: str, warn: Callable[[str], None] | None = None) -> list[str]:
    """The requirements files under ``folder``, sorted, as paths starting with ``folder``
    (or relative, for ``.``).

    Only regular files count: symbolic links are not followed (pre-commit never passes
    one to a hook), and FIFOs, sockets and devices are never opened. Inside a git work
    tree, the files git lists (tracked, or untracked and not ignored) are the candidates;
    outside one, or without a working git, the folder is walked. ``warn`` hears about
    folders that cannot be read; SearchError means ``folder`` itself cannot be.
    """
    root = os.path.abspath(folder)
    prefix = "" if os.path.normpath(folder) == os.curdir else folder
    top = work_tree(root)
    if top is None:  # outside git, every folder of the path counts (`requirements/**`)
        base = root.replace(os.sep, "/").rstrip("/") + "/"
    else:  # inside, the path from the top, as pre-commit matches it
        base = os.path.relpath(root, top).replace(os.sep, "/")
        base = "" if base == "." else base + "/"
    listed = _git_files(root, warn) if top is not None else None
    found = _walk(root, base, prefix, warn) if listed is None else _filter(root, base, listed)
    found.sort()
    return [os.path.join(prefix, *relative.split("/")) for relative in found]


def work_tree(folder: str) -> str | None:
    """The nearest folder at or above ``folder`` that holds a ``.git`` (folder or file)."""
    current = folder
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _git_files(root: str, warn: Callable[[str], None] | None) -> list[str] | None:
    """``git ls-files`` of the work tree below ``root``, relative to it; None when git is
    not installed or fails (then the folder is walked instead)."""
    import subprocess

    env = {key: value for key, value in os.environ.items() if key not in _GIT_LOCAL_ENV}
    try:
        result = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    if warn is not None:
        for line in os.fsdecode(result.stderr).splitlines():
            if line.strip():
                warn(f"git: {line.strip()}")
    return [os.fsdecode(name) for name in result.stdout.split(b"\0") if name]


def _filter(root: str, base: str, listed: list[str]) -> list[str]:
    """The files git listed that the search keeps, relative to ``root``."""
    found = []
    venv: dict[str, bool] = {}
    for relative in listed:
        if relative.endswith("/") or not is_requirements_name(base + relative):
            continue  # "nested/": a repository of its own, which git does not enter
        folders = relative.split("/")[:-1]
        if any(is_skipped_folder(name) for name in folders):
            continue
        if any(
            _is_venv(os.path.join(root, *folders[: depth + 1]), venv)
            for depth in range(len(folders))
        ):
            continue
        try:
            mode = os.lstat(os.path.join(root, *relative.split("/"))).st_mode
        except OSError:  # listed in the index, deleted from the work tree
            continue
        if stat.S_ISREG(mode):
            found.append(relative)
    return found


def _is_venv(folder: str, cache: dict[str, bool]) -> bool:
    known = cache.get(folder)
    if known is None:
        known = cache[folder] = os.path.lexists(os.path.join(folder, VENV_MARKER))
    return known


def _walk(root: str, base: str, prefix: str, warn: Callable[[str], None] | None) -> list[str]:
    """Walk ``root`` (iteratively: no depth limit), relative paths of what it keeps."""
    found = []
    stack = [""]
    while stack:
        relative = stack.pop()
        folder = os.path.join(root, *relative.split("/")) if relative else root
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            parts = relative.rstrip("/").split("/") if relative else []
            shown = os.path.join(prefix, *parts) if parts else (prefix or os.curdir)
            message = f"cannot search {shown}: {exc.strerror or exc}"
            if not relative:
                raise SearchError(message) from None
            if warn is not None:
                warn(f"{message}; the files in it are not checked")
            continue
        if relative and any(entry.name == VENV_MARKER for entry in entries):
            continue
        for entry in entries:
            path = f"{relative}{entry.name}"
            try:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if not is_skipped_folder(entry.name):
                        stack.append(path + "/")
                elif entry.is_file(follow_symlinks=False) and is_requirements_name(base + path):
                    found.append(path)
            except OSError:  # gone meanwhile, or cannot be looked at
                continue
    return found


def _main() -> None:
    """``python -m hashpin.discover``: the hooks' ``files`` and ``exclude`` lines."""
    print(f"  files: '{files_regex()}'")
    print(f"  exclude: '{exclude_regex()}'")


if __name__ == "__main__":
    _main()
