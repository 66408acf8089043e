"""``hashpin fix`` on PEP 751 lock files: each artifact's hashes, filled and refreshed in place.

The same three steps as for requirements files:

1. plan (pure): which artifacts (wheels, sdist, archive) pip cannot check -- no
   ``hashes``, an empty table, a malformed digest, an algorithm hashlib may lack -- and,
   with ``--verify`` or ``--refresh-hashes``, every artifact;
2. resolve (through :class:`~hashpin.fix.Resolver`, the only I/O): the digest the index
   gives for the artifact's exact URL, else the file downloaded and hashed (an index that
   gives no digests, as PyTorch's once did); with ``--refresh-hashes`` also the wheels of
   each package's version that the index lists and the lock lacks, and which of the
   lock's files no longer exist;
3. edit (tomlkit, imported only here): only the fixed artifacts change; the result is read
   back with tomllib and must be the document meant, or nothing is written.

A package's index is its ``index`` key, else the sources ``fix`` uses for requirements
files (``--index-url``, pip's configuration). A lock is written whole or not at all.
"""

from __future__ import annotations

import os

from . import tomltext
from .digests import DIGEST_LENGTHS
from .fix import FileResult, NoSupplier, direct_url
from .index import IndexRequestError
from .locations import INDEX, Location
from .pylock import environments_exclude, last_part, normal_markers, usable_hashes
from .requirement import canonical_name
from .versions import parse_version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .fix import FixOptions, Resolver
    from .index import DistFile
    from .workspace import Source

WHEELS, SDIST, ARCHIVE = "wheels", "sdist", "archive"


class Artifact:
    """One wheel, sdist or archive table of a package, and what resolving it found."""

    __slots__ = ("filename", "gone", "hashes", "kind", "new_hashes", "path", "position", "url")

    def __init__(self, kind: str, position: int | None, table: Mapping[str, object]) -> None:
        self.kind = kind
        self.position = position  # in the package's wheels array
        url, path, name = table.get("url"), table.get("path"), table.get("name")
        self.url = url if isinstance(url, str) and url else None
        self.path = path if isinstance(path, str) and path else None
        self.filename = (
            name
            if isinstance(name, str) and name
            else last_part(self.path, "/\\") or last_part(self.url, "/", quoted=True)
        )
        self.hashes = table.get("hashes")
        self.new_hashes: dict[str, str] | None = None  # what to write, when it differs
        self.gone = False  # the file no longer exists: drop the entry

    def source_url(self, folder: str) -> str | None:
        """Where the bytes are: the URL, else the path (relative to the lock's folder)."""
        if self.url is not None:
            return direct_url(self.url)
        if self.path is not None:
            from pathlib import Path

            return Path(os.path.join(folder, self.path)).resolve().as_uri()
        return None


class Package:
    """One ``[[packages]]`` entry with files (wheels, an sdist or an archive): its
    artifacts, and the wheels to add."""

    __slots__ = ("added", "artifacts", "index", "key", "locations", "position", "version")

    def __init__(
        self, position: int, table: Mapping[str, object], defaults: list[Location]
    ) -> None:
        self.position = position
        name, version, index = table.get("name"), table.get("version"), table.get("index")
        self.key = canonical_name(name) if isinstance(name, str) else ""
        self.version = version if isinstance(version, str) else None
        self.index = index if isinstance(index, str) and index else None
        self.locations = [Location(INDEX, self.index)] if self.index else defaults
        self.artifacts: list[Artifact] = []
        wheels = table.get(WHEELS)
        for number, wheel in enumerate(wheels if isinstance(wheels, list) else []):
            if isinstance(wheel, dict):
                self.artifacts.append(Artifact(WHEELS, number, wheel))
        for kind in (SDIST, ARCHIVE):
            entry = table.get(kind)
            if isinstance(entry, dict):
                self.artifacts.append(Artifact(kind, None, entry))
        self.added: list[tuple[DistFile, dict[str, str]]] = []  # wheels the lock lacks

    def label(self) -> str:
        return f"{self.key} {self.version}" if self.version else self.key


# -- plan ---------------------------------------------------------------------------------


def plan(document: Mapping[str, object], defaults: list[Location]) -> list[Package]:
    """Every package with at least one artifact (vcs and directory sources have none)."""
    packages = document.get("packages")
    found = []
    for position, table in enumerate(packages if isinstance(packages, list) else []):
        if isinstance(table, dict):
            package = Package(position, table, defaults)
            if package.artifacts and package.key:
                found.append(package)
    return found


def to_resolve(package: Package, options: FixOptions) -> list[Artifact]:
    """The artifacts whose bytes (or index digest) must be looked at."""
    if options.refresh or options.verify:
        return package.artifacts
    return [artifact for artifact in package.artifacts if not usable_hashes(artifact.hashes)]


# -- resolve --------------------------------------------------------------------------------


def resolve(
    packages: list[Package],
    options: FixOptions,
    resolver: Resolver,
    folder: str,
    environments: list[str],  # normalized (pylock.normal_markers)
) -> list[str]:
    """Find each artifact's digest, and (refreshing) the wheels to add and the files gone.
    Returns the errors; an error leaves the file unchanged."""
    errors: list[str] = []
    work = {id(package): to_resolve(package, options) for package in packages}
    # An archive is a direct URL: its package has no index to ask, and takes no wheels.
    asked = [
        package
        for package in packages
        if (work[id(package)] or options.refresh)
        and all(artifact.kind != ARCHIVE for artifact in package.artifacts)
    ]
    listings = resolver.fetch_listings(
        {(location, p.key) for p in asked for location in p.locations},
        {p.key: ({p.version} if p.version else None) for p in asked},
    )
    on_index: dict[int, DistFile] = {}  # id of an artifact -> the index's file at its URL
    to_add: list[tuple[Package, DistFile]] = []
    for package in asked:
        supplier = resolver.supplier_of(package.key, package.locations, listings, options.strategy)
        if isinstance(supplier, NoSupplier):
            if options.refresh:
                errors.append(f"{package.label()}: cannot refresh: {supplier.reason}")
            continue  # the artifacts' own URLs are downloaded instead
        files = [
            dist for dist in supplier.files if _is_version(dist.filename, package)
        ]  # exactly the lock's version: a lock names one
        by_url = {dist.url: dist for dist in files}
        for artifact in work[id(package)]:
            dist = by_url.get(direct_url(artifact.url)) if artifact.url else None
            if dist is not None:
                on_index[id(artifact)] = dist
        if options.refresh:
            listed = {artifact.filename for artifact in package.artifacts}
            to_add.extend(
                (package, dist)
                for dist in files
                if dist.filename.lower().endswith(".whl")
                and dist.filename not in listed
                and not environments_exclude(environments, dist.filename)
            )
    index_digests = resolver.digests(
        [*on_index.values(), *(dist for _, dist in to_add)], options.verify
    )
    downloads: dict[str, tuple[str, ...]] = {}
    for package in packages:
        for artifact in work[id(package)]:
            url = artifact.source_url(folder)
            if id(artifact) not in on_index and url is not None:
                downloads[url] = _algorithms(artifact, options.verify)
    downloaded = resolver.hash_urls(downloads, reuse=not options.refresh)
    for package in packages:
        for artifact in work[id(package)]:
            errors.extend(
                _settle(package, artifact, on_index, index_digests, downloaded, folder, options)
            )
    for package, dist in to_add:
        outcome = index_digests[dist.url]
        if isinstance(outcome, IndexRequestError):
            errors.append(f"{package.label()}: {dist.filename}: {outcome}")
        else:
            package.added.append((dist, _as_table(outcome)))
    for package in packages:
        if not package.added and all(artifact.gone for artifact in package.artifacts):
            errors.append(f"{package.label()}: none of its files exists any more")
    return errors


def _settle(
    package: Package,
    artifact: Artifact,
    on_index: Mapping[int, DistFile],
    index_digests: Mapping[str, str | IndexRequestError],
    downloaded: Mapping[str, dict[str, str] | IndexRequestError],
    folder: str,
    options: FixOptions,
) -> list[str]:
    """Record the artifact's new hashes (or that it is gone); the errors found."""
    where = f"{package.label()}: {artifact.filename or artifact.kind}"
    dist = on_index.get(id(artifact))
    if dist is not None:
        outcome: str | dict[str, str] | IndexRequestError = index_digests[dist.url]
    else:
        url = artifact.source_url(folder)
        if url is None:
            return [f"{where}: has neither url nor path"]
        outcome = downloaded[url]
    if isinstance(outcome, IndexRequestError):
        if options.refresh and outcome.kind == "not-found":
            artifact.gone = True
            return []
        return [f"{where}: {outcome}"]
    found = _as_table(outcome) if isinstance(outcome, str) else outcome
    current = artifact.hashes if isinstance(artifact.hashes, dict) else {}
    if usable_hashes(current) and _agrees(current, found):
        return []  # right as it is: not touched
    if usable_hashes(current) and not options.refresh:
        algorithm, digest = next(iter(found.items()))
        return [
            f"{where}: the lock says {_shown(current)} but the file's bytes hash to "
            f"{algorithm}:{digest} (--refresh-hashes to write the new one)"
        ]
    first = next(iter(found.items()))
    artifact.new_hashes = dict([first])
    return []


def _agrees(current: Mapping[str, object], found: Mapping[str, str]) -> bool:
    """Whether every digest computed is the one the lock gives in that algorithm, and at
    least one was compared."""
    compared = [a for a in found if isinstance(current.get(a), str)]
    return bool(compared) and all(
        str(current[algorithm]).lower() == found[algorithm] for algorithm in compared
    )


def _algorithms(artifact: Artifact, verify: bool) -> tuple[str, ...]:
    """sha256, then (verifying) every other algorithm of the lock's table we can check."""
    given = artifact.hashes if isinstance(artifact.hashes, dict) else {}
    others = sorted(a for a in given if a in DIGEST_LENGTHS and a != "sha256") if verify else []
    return ("sha256", *others)


def _as_table(written: str) -> dict[str, str]:
    algorithm, _, digest = written.partition(":")
    return {algorithm: digest}


def _shown(hashes: Mapping[str, object]) -> str:
    return ", ".join(f"{algorithm}:{digest}" for algorithm, digest in hashes.items())


def _is_version(filename: str, package: Package) -> bool:
    if package.version is None:
        return True
    parsed = parse_version(filename, package.key)
    return parsed is not None and str(parsed[0]) == _normal_version(package.version)


def _normal_version(text: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(text))
    except InvalidVersion:
        return text


# -- edit -------------------------------------------------------------------------------------


class UnsafeEdit(Exception):
    """The edited text would not read back as the document meant: nothing is written."""


def edit(
    text: str, parsed: dict[str, object], packages: list[Package], path: str
) -> tuple[str, list[str]]:
    """The lock's text with the packages' changes made, and one note per change of the
    wheel list; ``parsed`` (the text as tomllib reads it) is changed alike, into what the
    result must read back as. Raises UnsafeEdit if tomlkit cannot keep the file's bytes."""
    import tomlkit

    document = tomlkit.parse(text)
    if tomlkit.dumps(document) != text:
        raise UnsafeEdit(f"{path}: tomlkit cannot rewrite this file without changing it")
    expected: Any = parsed  # indexed as the document is
    newline = "\r\n" if "\r\n" in text else "\n"  # of the lines added
    notes: list[str] = []
    for package in packages:
        _apply(document["packages"][package.position], package, newline=newline)
        _apply(expected["packages"][package.position], package, newline=None)
        for artifact in package.artifacts:
            if artifact.gone:
                notes.append(
                    f"{path}: {package.label()}: dropped {artifact.filename or artifact.kind}, "
                    "which no longer exists"
                )
        for dist, _ in package.added:
            notes.append(f"{path}: {package.label()}: added {dist.filename}")
    rendered = tomlkit.dumps(document)
    if tomltext.loads(rendered) != expected:
        raise UnsafeEdit(f"{path}: the edited lock would not read back as meant; not written")
    return rendered, notes


def _apply(table: Any, package: Package, *, newline: str | None) -> None:
    """Make the package's changes in ``table``: the tomlkit one (given the file's
    ``newline``, keeping its layout) or the plain dict the result must read back as."""
    styled = newline is not None
    wheels = table.get(WHEELS)
    for artifact in package.artifacts:
        if artifact.new_hashes is not None and not artifact.gone:
            parent, slot = (
                (table, artifact.kind) if artifact.position is None else (wheels, artifact.position)
            )
            _set_hashes(parent, slot, artifact.new_hashes, styled=styled)
    for artifact in sorted(
        (a for a in package.artifacts if a.gone), key=lambda a: -(a.position or 0)
    ):
        if artifact.position is None:
            del table[artifact.kind]
        else:
            del wheels[artifact.position]
    if package.added:
        _add_wheels(table, package.added, newline=newline)


def _set_hashes(parent: Any, slot: str | int, hashes: dict[str, str], *, styled: bool) -> None:
    """Give ``parent[slot]`` (a wheel, sdist or archive table) these hashes."""
    entry = parent[slot]
    if not styled:
        entry["hashes"] = dict(hashes)
        return
    from tomlkit.items import InlineTable, Table

    current = entry.get("hashes")
    if isinstance(current, Table):  # a [packages.wheels.hashes] header: keep it
        current.clear()
        for algorithm, digest in hashes.items():
            current[algorithm] = digest
    elif isinstance(entry, InlineTable) and "hashes" not in entry:
        # tomlkit would append the key without the space before "}": write the table anew,
        # each value as the file spells it.
        kept = ", ".join(f"{tomltext.key(key)} = {item.as_string()}" for key, item in entry.items())
        parent[slot] = _parsed(f"v = {{ {kept}, hashes = {tomltext.value(hashes)} }}")["v"]
    else:
        entry["hashes"] = _parsed(f"hashes = {tomltext.value(hashes)}")["hashes"]


def _add_wheels(
    table: Any, added: list[tuple[DistFile, dict[str, str]]], *, newline: str | None
) -> None:
    entries = [_wheel_entry(dist, hashes) for dist, hashes in added]
    if newline is None:
        wheels = table.setdefault(WHEELS, [])
        assert isinstance(wheels, list)
        wheels.extend(entries)
        return
    from tomlkit.items import AoT, InlineTable

    current = table.get(WHEELS)
    if isinstance(current, AoT) or (
        current is None and not isinstance(table.get(SDIST), InlineTable)
    ):
        # The layout pip lock writes: [[packages.wheels]], then [packages.wheels.hashes];
        # a blank line between tables, as around them.
        last = current[-1].as_string() if current else ""
        spaced = last.endswith(("\n\n", "\r\n\r\n"))
        snippet = "\n".join(
            f"[[packages.wheels]]\n{_lines(entry, without='hashes')}\n"
            f"[packages.wheels.hashes]\n{_lines(entry['hashes'])}"  # type: ignore[arg-type]
            for entry in entries
        )
        snippet = (snippet + ("\n" if spaced else "")).replace("\n", newline)
        new = _parsed(snippet)["packages"][WHEELS]
        if current is None:
            table[WHEELS] = new
            return
        for wheel in new:
            if not spaced:
                wheel.trivia.indent = newline
            current.append(wheel)
        return
    listed = ", ".join(tomltext.value(entry) for entry in entries)
    items = _parsed(f"wheels = [{listed}]")[WHEELS]
    if current is None:
        table[WHEELS] = items
    else:
        assert isinstance(current, list)
        for item in items:
            current.append(item)


def _wheel_entry(dist: DistFile, hashes: dict[str, str]) -> dict[str, object]:
    """``name``, ``url``, ``size``, ``upload-time`` (when the index gave them), ``hashes``."""
    entry: dict[str, object] = {"name": dist.filename, "url": dist.url}
    if dist.size is not None:
        entry["size"] = dist.size
    uploaded = tomltext.datetime_of(dist.upload_time)
    if uploaded is not None:
        entry["upload-time"] = uploaded
    entry["hashes"] = hashes
    return entry


def _lines(entry: Mapping[str, object], without: str = "") -> str:
    return "".join(
        f"{tomltext.key(key)} = {tomltext.value(value)}\n"
        for key, value in entry.items()
        if key != without
    )


def _parsed(snippet: str) -> Any:  # a tomlkit document: its items keep their layout
    import tomlkit

    return tomlkit.parse(snippet)


# -- the whole file ---------------------------------------------------------------------------


def fix_lock(
    source: Source, options: FixOptions, resolver: Resolver, defaults: list[Location]
) -> tuple[FileResult, list[str]]:
    """The lock file's result (errors, or the new bytes when they differ) and the notes."""
    from .pylock import check_lock

    before = source.lock or b""
    result = FileResult(source.path, before, "utf-8")
    invalid = [f for f in check_lock(source.path, before) if f.code == "HP000"]
    if invalid:
        first = invalid[0]
        result.errors.append(f"{source.path}:{first.line}: {first.message} (fix it by hand first)")
        return result, []
    text = before.decode("utf-8")
    document = tomltext.loads(text)
    raw = document.get("environments")
    environments = normal_markers(
        [m for m in raw if isinstance(m, str)] if isinstance(raw, list) else []
    )
    packages = plan(document, defaults)
    folder = os.path.dirname(os.path.abspath(source.path))
    result.errors.extend(resolve(packages, options, resolver, folder, environments))
    changed = [
        package
        for package in packages
        if package.added
        or any(artifact.gone or artifact.new_hashes for artifact in package.artifacts)
    ]
    if result.errors or not changed:
        return result, []
    try:
        rendered, notes = edit(text, document, changed, source.path)
    except UnsafeEdit as exc:
        result.errors.append(str(exc))
        return result, []
    result.rendered = rendered.encode("utf-8")
    # The file had no HP000: one now would be the edit's, and pip would refuse the file.
    if any(f.code == "HP000" for f in check_lock(source.path, result.rendered)):
        result.rendered = None
        result.errors.append(f"{source.path}: the fixed lock would be invalid; not written")
        return result, []
    return result, notes
