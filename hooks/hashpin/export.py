"""``hashpin export``: move a project between the two hash-locked formats, without
re-resolving anything.

* requirements -> ``pylock.toml`` (PEP 751): each ``--hash`` of a pinned requirement
  becomes the file it names, found among the files of the pinned version on the index the
  requirements file would use (``fix``'s search order and first-index policy); a direct
  URL becomes an ``archive``. Digests come from the index's page, else from the file's
  bytes (through the Resolver's cache). A hash that names no file is an error.
* ``pylock.toml`` -> requirements: one ``name==version ; marker`` line per package with the
  strongest hash pip accepts of each file, in pip-compile's layout, sorted by name.

The input must be one ``hashpin check`` reports no error for (offline); the output is
checked the same way before it is written, so a file export writes always passes the
check. Nothing here writes outside :func:`write_output`, which is atomic.
"""

from __future__ import annotations

import os

from .digests import WRITABLE_ALGORITHMS, is_digest, is_writable_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    from .fix import Resolver
    from .index import DistFile, IndexRequestError
    from .locations import IndexSettings, Location
    from .reqfile import Line
    from .requirement import Requirement
    from .rules import Finding
    from .workspace import Source, Workspace

    Listings = Mapping[tuple[Location, str], list[DistFile] | IndexRequestError]

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


# -- requirements -> pylock.toml ---------------------------------------------------------


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
            hashes.update(_line_hashes(line))
    return found


def _line_hashes(line: Line) -> set[str]:
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
    hashes = _line_hashes(line)
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
        artifact.upload_time = _datetime(candidate.dist.upload_time)
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
        package.index = _without_userinfo(first.url)
    pythons = {candidate.dist.requires_python for candidate, _ in chosen}
    if len(pythons) == 1:
        package.requires_python = pythons.pop()
    return package


def _without_userinfo(url: str) -> str:
    """The URL without ``user:password@``: a lock file is shared, and a ``${TOKEN}`` of
    the requirements file was expanded already. pip finds credentials as it does for any
    index (keyring, netrc)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _datetime(text: str | None) -> datetime.datetime | None:
    """PEP 700's upload time as an aware datetime; None when absent or unreadable."""
    import datetime

    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.timezone.utc)


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
        artifact.url = _without_userinfo(url)
        if artifact.url != url:
            notes.append(
                f"{item.where}: {item.key}: the URL's credentials are left out of the lock"
            )
    package = LockedPackage(
        item.key, _archive_version(url.rsplit("/", 1)[-1], item.key), item.marker
    )
    package.archive = artifact
    return package


def _archive_version(filename: str, key: str) -> str | None:
    from urllib.parse import unquote

    from .versions import parse_version

    parsed = parse_version(unquote(filename), key)
    return str(parsed[0]) if parsed is not None else None


# -- TOML ---------------------------------------------------------------------------------

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                 "\f": "\\f", "\r": "\\r"}  # fmt: skip


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and every control character
    (which a basic string may not hold raw, DEL included) escaped."""
    out = []
    for char in text:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif char < " " or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key)


def _toml_value(value: object) -> str:
    import datetime

    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime):
        text = value.astimezone(datetime.timezone.utc).isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _table(header: str, fields: Mapping[str, object]) -> list[str]:
    lines = [header] if header else []
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in fields.items() if v is not None]
    return lines


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


def _parse_toml(text: str) -> dict[str, object]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on old Pythons only
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    document: dict[str, object] = tomllib.loads(text)
    return document


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
    if _parse_toml(text) != document:
        raise ExportError(["the lock written would not read back as intended; not written"])
    errors = [f for f in check_lock("pylock.toml", text.encode()) if f.severity == ERROR]
    if errors:
        raise ExportError(
            [f"the lock written would not pass the check: {f.message}" for f in errors]
        )
    return text.encode("utf-8")


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
    document = _parse_toml(data.decode("utf-8"))
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
            version = _archive_version(filename, name)
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
    from .workspace import load

    parsed = parse_text(text)
    got = [(line.args.strip(), sorted(_line_hashes(line))) for line in parsed if line.args]
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
