"""``hashpin export``: move a project between the two hash-locked formats, without
re-resolving anything.

* requirements -> ``pylock.toml`` (PEP 751): see :mod:`hashpin.tolock`;
* ``pylock.toml`` -> requirements: one ``name==version ; marker`` line per package with the
  strongest hash pip accepts of each file, in pip-compile's layout, sorted by name.

The input must be one ``hashpin check`` reports no error for (offline); the output is
checked the same way before it is written, so a file export writes always passes the
check. Nothing here writes outside :func:`write_output`, which is atomic.
"""

from __future__ import annotations

import os

from . import tomltext
from .digests import WRITABLE_ALGORITHMS, is_digest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .fix import Resolver
    from .locations import IndexSettings
    from .rules import Finding
    from .workspace import Workspace

PYLOCK = "pylock"
REQUIREMENTS = "requirements"
CREATED_BY = "hashpin"
_STRONGEST_FIRST = tuple(reversed(WRITABLE_ALGORITHMS))  # sha512, sha384, sha256
# PEP 751's marker variables, which a requirements file cannot select (outside quotes)
_LOCK_ONLY_MARKERS = r"\b(?:extras|dependency_groups)\b"
_QUOTED = r"\"[^\"]*\"|'[^']*'"


class ExportError(Exception):
    """The export cannot be made; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# -- the command ---------------------------------------------------------------------------


class InputRefused(Exception):
    """``hashpin check`` reports errors for the input: ``findings`` are they."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} errors")
        self.findings = findings


def usage_problem(path: str, output: str, target: str) -> str | None:
    """Why ``hashpin export --format TARGET PATH -o OUTPUT`` cannot run; None if it can."""
    from .workspace import STDIN, is_lock_name, refusal

    if path == STDIN:
        return "export reads a file: give its path, not - (standard input)"
    if os.path.isdir(path):
        return f"{path} is a directory: give export one file"
    if target == PYLOCK and is_lock_name(path):
        return (
            f"{path} is a lock file already (--format requirements makes a requirements file of it)"
        )
    if target == REQUIREMENTS and not is_lock_name(path):
        return (
            f"{path} is not a lock file (pylock.toml or pylock.<name>.toml); --format pylock "
            "makes one of a requirements file"
        )
    problem = refusal(path) if target == PYLOCK else None
    if problem is not None:
        return problem
    if output != STDIN:
        if os.path.isdir(output):
            return f"-o {output} is a directory: give the file to write"
        if os.path.abspath(output) == os.path.abspath(path) or _same_file(output, path):
            return f"-o {output} would overwrite the file exported"
    return None


def _same_file(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist (yet)
        return False


def from_requirements(
    path: str,
    base: IndexSettings,
    resolver: Resolver,
    strategy: str,
    *,
    output: str,
    notes: list[str],
) -> bytes:
    """The ``pylock.toml`` of the requirements file ``path`` (and what it includes).

    InputRefused when the check reports errors for it, ExportError when it cannot be
    locked, LocationError for an index option of the files that cannot be used.
    """
    from .fix import search_orders
    from .workspace import STDIN, is_lock_name, load

    workspace = load([path], env=os.environ)
    errors = input_errors(workspace)
    if errors:
        raise InputRefused(errors)
    if output != STDIN and not is_lock_name(output):
        notes.append(
            f"pip installs {output} as a lock file only under the name pylock.toml or "
            "pylock.<name>.toml"
        )
    folder = os.path.dirname(os.path.abspath(output)) if output != STDIN else os.getcwd()
    from .tolock import requirements_to_lock

    return requirements_to_lock(
        workspace,
        search_orders(workspace, base),
        resolver,
        strategy,
        output_folder=folder,
        notes=notes,
    )


def from_lock(path: str, notes: list[str]) -> bytes:
    """The requirements file of the lock file ``path``; InputRefused when the check
    reports errors for it, ExportError when pip -r cannot say what it holds."""
    from .workspace import load

    workspace = load([path], env=os.environ)
    errors = input_errors(workspace)
    if errors:
        raise InputRefused(errors)
    data = workspace.sources[os.path.abspath(path)].lock
    assert data is not None  # a lock file that was read: else the check said why
    return lock_to_requirements(path, data, notes)


def input_errors(workspace: Workspace) -> list[Finding]:
    """What ``hashpin check`` (default rules, no configuration) reports as an error for
    the files of ``workspace``: a file pip would refuse cannot be exported."""
    from .rules import ERROR, check

    report = check(workspace, is_dir=os.path.isdir)
    return [finding for finding in report.findings if finding.severity == ERROR]


# -- pylock.toml -> requirements ----------------------------------------------------------


class _Line:
    """One requirement line to write: its requirement text and its hashes."""

    __slots__ = ("hashes", "name", "text")

    def __init__(self, name: str, text: str, hashes: list[str]) -> None:
        self.name = name
        self.text = text
        self.hashes = hashes


def lock_to_requirements(path: str, data: bytes, notes: list[str]) -> bytes:
    """The requirements file of the lock file ``path`` holding ``data`` (checked clean by
    the caller), in pip-compile's layout; read back before it is returned."""
    document = tomltext.loads(data.decode("utf-8"))
    packages = document.get("packages")
    assert isinstance(packages, list)  # the check passed
    problems: list[str] = []
    lines: list[_Line] = []
    indexes: list[str] = []
    folder = os.path.dirname(os.path.abspath(path))
    for number, package in enumerate(packages):
        line = _requirement_line(package, number, folder, problems)
        if line is not None:
            lines.append(line)
        index = package.get("index")
        if isinstance(index, str) and index not in indexes:
            indexes.append(index)
    for key in ("environments", "requires-python"):
        if key in document:
            notes.append(f"{path}: {key} is not carried over: a requirements file cannot say it")
    if len(indexes) > 1:
        notes.append(
            f"{path}: its packages name {len(indexes)} indexes; pip searches every one of them "
            f"for every package (--index-url {indexes[0]}, the others --extra-index-url)"
        )
    if problems:
        raise ExportError(problems)
    text = render_requirements(os.path.basename(path), indexes, lines)
    _read_back(text, indexes, lines)
    return text.encode("utf-8")


def _requirement_line(
    package: Mapping[str, object], number: int, folder: str, problems: list[str]
) -> _Line | None:
    """The requirement of one package, or None (a problem said) if pip -r cannot say it."""
    name = str(package.get("name"))
    where = f"packages[{number}] ({name})"
    marker = package.get("marker")
    if isinstance(marker, str) and _names_lock_variables(marker):
        problems.append(
            f"{where}: marker {marker!r} names extras or dependency groups, which a "
            "requirements file cannot select"
        )
        return None
    artifacts = _artifacts(package)
    hashes = []
    for artifact in artifacts:
        strongest = _strongest(artifact)
        if strongest is None:
            problems.append(
                f"{where}: a file has no sha256, sha384 or sha512 hash, the ones pip's "
                "--hash accepts"
            )
            return None
        hashes.append(strongest)
    archive = package.get("archive")
    if isinstance(archive, dict):
        url = _archive_url(archive, folder)
        if url is None or any(char.isspace() for char in url):
            problems.append(f"{where}: its archive has no URL a requirements file can hold")
            return None
        text = f"{name} @ {url}" + (f" ; {marker}" if isinstance(marker, str) else "")
    else:
        version = package.get("version") or _version_of(artifacts, name)
        if not isinstance(version, str):
            problems.append(f"{where}: no version: a requirements file pins one")
            return None
        text = f"{name}=={version}" + (f" ; {marker}" if isinstance(marker, str) else "")
    return _Line(name, text, sorted(set(hashes)))


def _names_lock_variables(marker: str) -> bool:
    import re

    return re.search(_LOCK_ONLY_MARKERS, re.sub(_QUOTED, "", marker)) is not None


def _artifacts(package: Mapping[str, object]) -> list[Mapping[str, object]]:
    found: list[Mapping[str, object]] = []
    for kind in ("archive", "sdist"):
        entry = package.get(kind)
        if isinstance(entry, dict):
            found.append(entry)
    wheels = package.get("wheels")
    found += (
        [wheel for wheel in wheels if isinstance(wheel, dict)] if isinstance(wheels, list) else []
    )
    return found


def _strongest(artifact: Mapping[str, object]) -> str | None:
    """``algorithm:digest`` of the strongest hash pip's --hash accepts, in lowercase."""
    hashes = artifact.get("hashes")
    if not isinstance(hashes, dict):
        return None
    for algorithm in _STRONGEST_FIRST:
        digest = hashes.get(algorithm)
        if isinstance(digest, str) and is_digest(algorithm, digest.lower()):
            return f"{algorithm}:{digest.lower()}"
    return None


def _archive_url(archive: Mapping[str, object], folder: str) -> str | None:
    from pathlib import Path
    from urllib.parse import quote

    url = archive.get("url")
    path = archive.get("path")
    if isinstance(path, str):  # relative to the lock file's folder, as PEP 751 says
        url = Path(folder, path).resolve().as_uri()
    if not isinstance(url, str):
        return None
    subdirectory = archive.get("subdirectory")
    if isinstance(subdirectory, str):
        url += "#subdirectory=" + quote(subdirectory)
    return url


def _version_of(artifacts: list[Mapping[str, object]], name: str) -> str | None:
    """The version the files' names say, when the package does not."""
    for artifact in artifacts:
        filename = artifact.get("name")
        if isinstance(filename, str):
            from .tolock import archive_version

            version = archive_version(filename, name)
            if version is not None:
                return version
    return None


def render_requirements(source_name: str, indexes: list[str], lines: list[_Line]) -> str:
    """pip-compile's layout: a header, the index options, then each requirement with its
    hashes one per line, sorted by name."""
    from .render import render_line

    shown = source_name if source_name.isprintable() and "\\" not in source_name else "a lock file"
    out = ["#", f"# This file was generated by hashpin export from {shown}", "#"]
    if indexes:
        out.append(f"--index-url {indexes[0]}")
        out += [f"--extra-index-url {url}" for url in indexes[1:]]
        out.append("")
    text = "\n".join(out) + "\n"
    for line in sorted(lines, key=lambda line: line.name):  # stable: file order within a name
        text += render_line(line.text + "\n", hashes=line.hashes)
    return text


def _read_back(text: str, indexes: list[str], lines: list[_Line]) -> None:
    """ExportError unless pip reads ``text`` as exactly these indexes and requirements,
    every one of them hashed, with nothing ``hashpin check`` calls an error."""
    from .reqfile import parse_text
    from .rules import ERROR, check
    from .tolock import line_hashes
    from .workspace import load

    parsed = parse_text(text)
    got = [(line.args.strip(), sorted(line_hashes(line))) for line in parsed if line.args]
    meant = sorted((line.text, line.hashes) for line in lines)
    options = [(o.name, o.value) for line in parsed if not line.args for o in line.options]
    wanted_options = [("--index-url", indexes[0])] if indexes else []
    wanted_options += [("--extra-index-url", url) for url in indexes[1:]]
    workspace = load(
        ["requirements.txt"], contents={os.path.abspath("requirements.txt"): text.encode()}
    )
    errors = [f for f in check(workspace).findings if f.severity == ERROR]
    if sorted(got) != meant or options != wanted_options or errors:
        raise ExportError(
            ["the requirements file written would not read back as intended; not written"]
        )


# -- writing ------------------------------------------------------------------------------


def write_output(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing, as ``fix`` writes (workspace.write_atomic):
    the file is replaced by a rename, or created the same way.

    OSError when it cannot be written, NotAFile when ``path`` is not a regular file (a
    FIFO or a device is never replaced by a rename).
    """
    import stat

    from .signals import critical
    from .workspace import NotAFile, write_atomic

    with critical():  # Ctrl-C waits until the file is whole
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # /dev/null, a FIFO: never renamed over
                raise NotAFile("is not a regular file")
        except FileNotFoundError:
            pass
        write_atomic(path, data, None)
