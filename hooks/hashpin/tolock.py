"""requirements -> ``pylock.toml`` (``hashpin export --format pylock``): each ``--hash``
of a pinned requirement becomes the file it names, found among the files of the pinned
version on the index the requirements file would use (``fix``'s search order and
first-index policy); a direct URL becomes an ``archive``. Digests come from the index's
page, else from the file's bytes (through the Resolver's cache). A hash that names no file
is an error. The text is read back before it is returned.
"""

from __future__ import annotations

import os

from . import tomltext
from .digests import WRITABLE_ALGORITHMS, is_writable_hash
from .export import CREATED_BY, ExportError
from .transport import strip_userinfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    from .fix import Resolver
    from .index import DistFile, IndexRequestError
    from .locations import Location
    from .reqfile import Line
    from .requirement import Requirement
    from .workspace import Source, Workspace

    Listings = Mapping[tuple[Location, str], list[DistFile] | IndexRequestError]


class _Wanted:
    """One package of the lock to be: a requirement (or several pip merges) and its hashes."""

    __slots__ = ("hashes", "key", "locations", "marker", "requirement", "version", "where")

    def __init__(self, where: str, requirement: Requirement, hashes: set[str]) -> None:
        self.where = where  # path:line of its first line, for messages
        self.requirement = requirement
        self.key = requirement.key or ""
        self.version = requirement.pinned_version
        self.marker = requirement.marker
        self.hashes = hashes  # "algorithm:hexdigest"
        self.locations: list[Location] = []


def wanted_packages(workspace: Workspace, orders: Mapping[str, list[Location]]) -> list[_Wanted]:
    """The packages ``pip install -r`` of each root would install: one per named
    requirement (repeats under markers that can both hold merged, as pip merges them,
    their hashes intersected, as pip intersects them) and one per direct URL."""
    from .workspace import CONSTRAINTS

    problems: list[str] = []
    constraints = _constraints(workspace)
    found: list[_Wanted] = []
    for root in workspace.roots:
        for source in workspace.walk(root):
            if source.file is None or source.role == CONSTRAINTS:
                continue
            for line in source.file.lines:
                if not line.args:
                    continue
                wanted = _wanted_of(source, line, constraints, problems)
                if wanted is not None:
                    wanted.locations = orders[source.key]
                    _merge(found, wanted, problems)
    if problems:
        raise ExportError(problems)
    return found


def _constraints(workspace: Workspace) -> dict[str, tuple[str | None, set[str]]]:
    """Per project, the pin and hashes its ``-c`` lines give (pip applies both to the
    project's requirement, whatever the constraint's marker)."""
    from .requirement import NAMED, InvalidRequirement, interpret
    from .workspace import CONSTRAINTS

    found: dict[str, tuple[str | None, set[str]]] = {}
    for source in workspace.sources.values():
        if source.file is None or source.role != CONSTRAINTS or not source.applies:
            continue
        for line in source.file.lines:
            try:
                requirement = interpret(line.args) if line.args else None
            except InvalidRequirement:
                continue  # the check refused it already
            if requirement is None or requirement.kind != NAMED or requirement.key is None:
                continue
            version, hashes = found.get(requirement.key, (None, set()))
            found[requirement.key] = (version or requirement.pinned_version, hashes)
            hashes.update(line_hashes(line))
    return found


def line_hashes(line: Line) -> set[str]:
    """The line's ``--hash`` values, digests in lowercase (pip compares them so)."""
    found = set()
    for option in line.options_named("--hash"):
        algorithm, _, digest = (option.value or "").partition(":")
        found.add(f"{algorithm}:{digest.lower()}")
    return found


def _wanted_of(
    source: Source,
    line: Line,
    constraints: Mapping[str, tuple[str | None, set[str]]],
    problems: list[str],
) -> _Wanted | None:
    from .requirement import NAMED, URL, interpret

    where = f"{source.path}:{line.number}"
    requirement = interpret(line.args)  # the check passed: pip reads it
    hashes = line_hashes(line)
    if requirement.kind == URL:
        if requirement.url_hash is not None:  # pip checks a URL's own #sha256= too
            algorithm, digest = requirement.url_hash
            if is_writable_hash(f"{algorithm}:{digest.lower()}"):
                hashes.add(f"{algorithm}:{digest.lower()}")
        if requirement.name is None:
            problems.append(
                f"{where}: {line.args.strip()}: a lock file names each package; write it "
                "as name @ URL"
            )
            return None
        return _Wanted(where, requirement, hashes)
    if requirement.kind != NAMED or requirement.key is None:
        problems.append(f"{where}: {line.args.strip()}: cannot be locked")  # check refused it
        return None
    wanted = _Wanted(where, requirement, hashes)
    version, constrained = constraints.get(wanted.key, (None, set()))
    wanted.version = wanted.version or version
    if constrained:  # pip intersects a constraint's hashes with the requirement's
        wanted.hashes = (hashes & constrained) if hashes else set(constrained)
    if wanted.version is None:
        problems.append(f"{where}: {wanted.key}: not pinned to one version")
    elif not wanted.hashes:
        problems.append(f"{where}: {wanted.key}: no hash pip would check")
    else:
        return wanted
    return None


def _merge(found: list[_Wanted], wanted: _Wanted, problems: list[str]) -> None:
    """Add ``wanted``, or merge it into an earlier requirement pip merges it with: the
    same project by name under markers that can both hold, or the identical direct URL."""
    from .requirement import markers_overlap

    for earlier in found:
        if earlier.key != wanted.key:
            continue
        direct = earlier.requirement.url, wanted.requirement.url
        if direct != (None, None):
            if direct[0] == direct[1]:
                earlier.hashes &= wanted.hashes
                return
            continue  # another candidate: the check said whether pip can take both
        if not markers_overlap(earlier.marker, wanted.marker):
            continue
        if earlier.version != wanted.version:
            problems.append(
                f"{wanted.where}: {wanted.key}=={wanted.version} conflicts with "
                f"{earlier.where} ({earlier.version})"
            )
        elif not earlier.hashes & wanted.hashes:
            problems.append(
                f"{wanted.where}: {wanted.key}: no hash in common with {earlier.where}: pip "
                "accepts only files both allow, and none is left"
            )
        earlier.hashes &= wanted.hashes
        return
    found.append(wanted)


class _Artifact:
    """A file of the lock: a wheel, an sdist or an archive, and the hashes naming it."""

    __slots__ = ("filename", "hashes", "path", "size", "subdirectory", "upload_time", "url")

    def __init__(self, hashes: dict[str, str]) -> None:
        self.hashes = hashes  # algorithm -> hex digest, each a hash the requirement gave
        self.filename: str | None = None
        self.url: str | None = None
        self.path: str | None = None
        self.size: int | None = None
        self.upload_time: datetime.datetime | None = None
        self.subdirectory: str | None = None


class LockedPackage:
    """One ``[[packages]]`` entry of the lock written."""

    __slots__ = (
        "archive", "index", "marker", "name", "requires_python", "sdist", "version", "wheels",
    )  # fmt: skip

    def __init__(self, name: str, version: str | None, marker: str | None) -> None:
        self.name = name
        self.version = version
        self.marker = marker
        self.index: str | None = None
        self.requires_python: str | None = None
        self.sdist: _Artifact | None = None
        self.wheels: list[_Artifact] = []
        self.archive: _Artifact | None = None


def lock_packages(
    wanted: list[_Wanted],
    resolver: Resolver,
    strategy: str,
    *,
    output_folder: str,
    notes: list[str],
) -> list[LockedPackage]:
    """The lock's packages: each named requirement's hashed files, found on the source
    that supplies the project; each direct URL as an archive. ExportError for a hash
    that matches no file of the version, or a project no source supplies."""
    named = [item for item in wanted if item.requirement.url is None]
    listings = resolver.fetch_listings(
        {(loc, item.key) for item in named for loc in item.locations}
    )
    problems: list[str] = []
    candidates = {
        id(item): _candidates(item, resolver, listings, strategy, problems) for item in named
    }
    _fill_digests(named, candidates, resolver, problems)
    packages = []
    for item in wanted:
        if item.requirement.url is not None:
            packages.append(_direct_package(item, output_folder, notes, problems))
            continue
        files = candidates.get(id(item))
        if files is not None:
            package = _indexed_package(item, files, notes, problems)
            if package is not None:
                packages.append(package)
    if problems:
        raise ExportError(problems)
    return sorted(packages, key=lambda package: (package.name, package.marker or ""))


class _Candidate:
    """A file of the pinned version, where it came from, and its digests once known."""

    __slots__ = ("digests", "dist", "location")

    def __init__(self, dist: DistFile, location: Location) -> None:
        self.dist = dist
        self.location = location
        self.digests = {a: v for a, v in dist.hashes.items() if a in WRITABLE_ALGORITHMS}


def _candidates(
    item: _Wanted, resolver: Resolver, listings: Listings, strategy: str, problems: list[str]
) -> list[_Candidate] | None:
    """The files of the item's version on the source(s) ``fix`` would take them from."""
    from .fix import NoSupplier
    from .versions import files_of_version

    supplier = resolver.supplier_of(item.key, item.locations, listings, strategy)
    if isinstance(supplier, NoSupplier):
        problems.append(f"{item.where}: {item.key}: {supplier.reason}")
        return None
    assert item.version is not None
    files = files_of_version(supplier.files, item.key, item.version, item.requirement)
    if not files:
        problems.append(
            f"{item.where}: {item.key}: {supplier.where} has no file of version {item.version}"
        )
        return None
    origin = {
        id(dist): location
        for location in reversed(item.locations)  # the first source listing it wins
        for dist in _listed(listings.get((location, item.key)))
    }
    return [_Candidate(dist, origin[id(dist)]) for dist in files]


def _listed(outcome: list[DistFile] | IndexRequestError | None) -> list[DistFile]:
    return outcome if isinstance(outcome, list) else []


def _fill_digests(
    named: list[_Wanted],
    candidates: Mapping[int, list[_Candidate] | None],
    resolver: Resolver,
    problems: list[str],
) -> None:
    """Complete the candidates' digests from their bytes where a hash is matched by no
    digest the page gives: only those files are downloaded (once, through the cache)."""
    needed: dict[str, set[str]] = {}
    by_url: dict[str, list[_Candidate]] = {}
    where: dict[str, str] = {}  # URL -> the first requirement that needs it, for messages
    for item in named:
        files = candidates.get(id(item)) or []
        unmatched = item.hashes - {f"{a}:{v}" for c in files for a, v in c.digests.items()}
        for candidate in files:
            missing = {h.partition(":")[0] for h in unmatched} - candidate.digests.keys()
            if missing:
                needed.setdefault(candidate.dist.url, set()).update(missing)
                by_url.setdefault(candidate.dist.url, []).append(candidate)
                where.setdefault(candidate.dist.url, item.where)
    computed = resolver.hash_urls({url: tuple(sorted(algs)) for url, algs in needed.items()})
    for url, outcome in computed.items():
        if isinstance(outcome, dict):
            for candidate in by_url[url]:
                candidate.digests.update(outcome)
        else:
            problems.append(f"{where[url]}: {by_url[url][0].dist.filename}: {outcome}")


def _indexed_package(
    item: _Wanted, files: list[_Candidate], notes: list[str], problems: list[str]
) -> LockedPackage | None:
    """The package of a named requirement: one artifact per file a hash names."""
    chosen: list[tuple[_Candidate, dict[str, str]]] = []
    matched: set[str] = set()
    for candidate in sorted(files, key=lambda c: c.dist.filename):
        own = {a: v for a, v in candidate.digests.items() if f"{a}:{v}" in item.hashes}
        if own:
            chosen.append((candidate, own))
            matched.update(f"{a}:{v}" for a, v in own.items())
    for value in sorted(item.hashes - matched):
        problems.append(
            f"{item.where}: {item.key}: --hash={value} matches no file of {item.version}"
        )
    if not chosen:
        return None
    assert item.version is not None
    package = LockedPackage(item.key, item.version, item.marker)
    for candidate, hashes in chosen:
        artifact = _Artifact(hashes)
        artifact.filename = candidate.dist.filename
        artifact.url = candidate.dist.url
        artifact.size = candidate.dist.size
        artifact.upload_time = tomltext.datetime_of(candidate.dist.upload_time)
        if candidate.dist.filename.lower().endswith(".whl"):
            package.wheels.append(artifact)
        elif package.sdist is None:
            package.sdist = artifact
        else:
            notes.append(
                f"{item.where}: {item.key}: {candidate.dist.filename} left out: a lock file "
                f"holds one sdist per package, and {package.sdist.filename} is in it"
            )
    first = chosen[0][0].location
    if first.kind != "find-links":
        package.index, _ = strip_userinfo(first.url)
    pythons = {candidate.dist.requires_python for candidate, _ in chosen}
    if len(pythons) == 1:
        package.requires_python = pythons.pop()
    return package


def _direct_package(
    item: _Wanted, output_folder: str, notes: list[str], problems: list[str]
) -> LockedPackage:
    """A direct URL (or local archive) requirement as a package with an ``archive``."""
    from urllib.parse import unquote, urlsplit

    from .fix import direct_url
    from .requirement import file_url_path, url_scheme

    written = item.requirement.url or ""
    hashes: dict[str, str] = {}
    for value in sorted(item.hashes):
        algorithm, _, digest = value.partition(":")
        if hashes.setdefault(algorithm, digest) != digest:
            problems.append(
                f"{item.where}: {item.key}: two {algorithm} hashes for one URL: a lock file "
                "holds one per algorithm"
            )
    artifact = _Artifact(hashes)
    fragment = urlsplit(written).fragment if "#" in written else ""
    for parameter in fragment.split("&"):
        name, _, value = parameter.partition("=")
        if name == "subdirectory" and value:
            artifact.subdirectory = unquote(value)
    url = direct_url(written)  # without its fragment; a path made absolute
    local = file_url_path(url) if url_scheme(url) == "file" else None
    if local is not None:
        artifact.path = os.path.relpath(local, output_folder).replace(os.sep, "/")
    else:
        # A lock file is shared, and a ${TOKEN} of the requirements file was expanded
        # already: pip finds credentials as it does for any index (keyring, netrc).
        artifact.url, credentials = strip_userinfo(url)
        if credentials is not None:
            notes.append(
                f"{item.where}: {item.key}: the URL's credentials are left out of the lock"
            )
    package = LockedPackage(
        item.key, archive_version(url.rsplit("/", 1)[-1], item.key), item.marker
    )
    package.archive = artifact
    return package


def archive_version(filename: str, key: str) -> str | None:
    from urllib.parse import unquote

    from .versions import parse_version

    parsed = parse_version(unquote(filename), key)
    return str(parsed[0]) if parsed is not None else None


def lock_document(packages: list[LockedPackage]) -> dict[str, object]:
    """The lock as the dict ``tomllib`` must read back from :func:`render_lock`'s text."""
    return {
        "lock-version": "1.0",
        "created-by": CREATED_BY,
        "packages": [_package_fields(package) for package in packages],
    }


def _package_fields(package: LockedPackage) -> dict[str, object]:
    fields: dict[str, object] = {"name": package.name}
    for key, value in (
        ("version", package.version),
        ("marker", package.marker),
        ("requires-python", package.requires_python),
        ("index", package.index),
    ):
        if value is not None:
            fields[key] = value
    if package.archive is not None:
        fields["archive"] = _artifact_fields(package.archive)
    if package.sdist is not None:
        fields["sdist"] = _artifact_fields(package.sdist)
    if package.wheels:
        fields["wheels"] = [_artifact_fields(wheel) for wheel in package.wheels]
    return fields


def _artifact_fields(artifact: _Artifact) -> dict[str, object]:
    fields: dict[str, object] = {}
    for key, value in (
        ("name", artifact.filename),
        ("url", artifact.url),
        ("path", artifact.path),
        ("subdirectory", artifact.subdirectory),
        ("upload-time", artifact.upload_time),
        ("size", artifact.size),
    ):
        if value is not None:
            fields[key] = value
    fields["hashes"] = dict(sorted(artifact.hashes.items()))
    return fields


def _table(header: str, fields: Mapping[str, object]) -> list[str]:
    lines = [header] if header else []
    lines += [
        f"{tomltext.key(k)} = {tomltext.value(v)}" for k, v in fields.items() if v is not None
    ]
    return lines


def render_lock(document: Mapping[str, object]) -> str:
    """The lock's text: each package a ``[[packages]]`` table, its sdist or archive a
    table, each wheel a ``[[packages.wheels]]`` table, hashes inline."""
    scalars = {k: v for k, v in document.items() if k != "packages"}
    lines = _table("", scalars)
    packages = document["packages"]
    assert isinstance(packages, list)
    for package in packages:
        own = {k: v for k, v in package.items() if k not in ("archive", "sdist", "wheels")}
        lines += ["", *_table("[[packages]]", own)]
        for kind in ("archive", "sdist"):
            if kind in package:
                lines += ["", *_table(f"[packages.{kind}]", package[kind])]
        for wheel in package.get("wheels", []):
            lines += ["", *_table("[[packages.wheels]]", wheel)]
    return "\n".join(lines) + "\n"


def requirements_to_lock(
    workspace: Workspace,
    orders: Mapping[str, list[Location]],
    resolver: Resolver,
    strategy: str,
    *,
    output_folder: str,
    notes: list[str],
) -> bytes:
    """The ``pylock.toml`` of the workspace's requirements (checked clean by the caller).

    The text is read back before it is returned: tomllib must give exactly the document
    meant, and the offline lock check must find no error in it.
    """
    from .pylock import check_lock
    from .rules import ERROR

    packages = lock_packages(
        wanted_packages(workspace, orders),
        resolver,
        strategy,
        output_folder=output_folder,
        notes=notes,
    )
    document = lock_document(packages)
    text = render_lock(document)
    if tomltext.loads(text) != document:
        raise ExportError(["the lock written would not read back as intended; not written"])
    errors = [f for f in check_lock("pylock.toml", text.encode()) if f.severity == ERROR]
    if errors:
        raise ExportError(
            [f"the lock written would not pass the check: {f.message}" for f in errors]
        )
    return text.encode("utf-8")
