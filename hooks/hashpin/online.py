"""``check --online``: will ``pip install --require-hashes`` really succeed, on every target?

The offline check proves that each line is pinned and hashed; this proves the file
installs. For every pinned requirement it reads the index (through fix's Resolver, so the
cache, the sources and their order are fix's) and, for every target where the line's
marker holds, asks what pip would ask: does the project and the version exist, is it
yanked, which of its files can this target install, does a hash cover one of them, does
its Requires-Python admit this Python. Then it follows the dependencies as the metadata
declares them (read, not resolved: every version is the file's own pin) and reports each
one the file lacks, with the chain that needs it, and each pin a requirer excludes.

Every gap is reported in the same run, once per project, with the targets it affects.
"""

from __future__ import annotations

from .fix import NoSupplier
from .metadata import CoreMetadata, MetadataError, fetch_metadata
from .requirement import NAMED, InvalidRequirement, canonical_name, interpret
from .rules import Finding
from .versions import choose_version, files_of_version, parse_version
from .workspace import CONSTRAINTS, REQUIREMENTS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable, Mapping

    from packaging.requirements import Requirement

    from .fix import Resolver
    from .locations import IndexSettings, Location
    from .reqfile import Line
    from .rules import Report, Settings
    from .simple import DistFile
    from .targets import Target
    from .workspace import Source, Workspace

MAX_PROJECTS = 5000  # a closure larger than this is not followed further


class OnlineFinding(Finding):
    """A finding of the online rules: also the targets it holds on, and who needs it."""

    __slots__ = ("required_by", "targets")

    def __init__(
        self,
        path: str,
        code: str,
        message: str,
        *,
        line: Line,
        requirement: str | None,
        targets: list[str],
        required_by: list[str] | None = None,
    ) -> None:
        super().__init__(
            path, code, message, line=line.number, end_line=line.end, requirement=requirement
        )
        self.targets = targets
        self.required_by = required_by


class Pin:
    """A requirement the file pins to one version, and where it is written.

    A lock file's package has its own ``locations`` (its ``index``) and is selected by its
    ``marker`` as a lock file's is: with the ``extras`` and ``dependency_groups`` that
    ``lock_selection`` gives (PEP 751).
    """

    __slots__ = (
        "extras",
        "hashes",
        "key",
        "label",
        "line",
        "locations",
        "lock_selection",
        "marker",
        "source",
        "version",
    )

    def __init__(
        self,
        source: Source,
        line: Line,
        key: str,
        version: str,
        extras: frozenset[str],
        marker: str | None,
        hashes: frozenset[str],
    ) -> None:
        self.source = source
        self.line = line
        self.key = key
        self.version = version
        self.extras = extras
        self.marker = marker
        self.hashes = hashes
        self.label = f"{key}=={version}"
        self.locations: list[Location] | None = None  # None: its file's sources
        self.lock_selection: Mapping[str, frozenset[str]] | None = None

    def holds(self, target: Target) -> bool:
        """Whether pip installs this pin on ``target`` (its marker is true there)."""
        if self.lock_selection is None:
            return target.marker_holds(self.marker)
        if self.marker is None:
            return True
        from packaging.markers import Marker

        from .pylock import marker_holds

        environment = {**target.environment, **self.lock_selection}
        return marker_holds(Marker(self.marker), environment, "lock_file")


class Missing:
    """A dependency the file lacks, as ``fix --add-missing`` needs to know it: every
    specifier placed on it, who needs it, where (targets) and under which markers."""

    __slots__ = ("edges", "key", "requirers", "root", "specifiers", "targets")

    def __init__(self, key: str, root: Pin) -> None:
        self.key = key
        self.root = root  # the file line the first chain starts from: the file it goes in
        self.specifiers: list[str] = []
        self.requirers: set[str] = set()
        self.targets: set[str] = set()
        self.edges: set[str | None] = set()  # requirer's marker and the dependency's own


class Audit:
    """One online check of a workspace on some targets; see :func:`audit`."""

    def __init__(
        self,
        resolver: Resolver,
        targets: list[Target],
        locations_for: Callable[[Source], list[Location]],
        strategy: str,
    ) -> None:
        self.resolver = resolver
        self.targets = targets
        self.locations_for = locations_for
        self.strategy = strategy
        self.problems: list[str] = []  # what could not be asked (a source failed)
        # (code, line, subject) -> finding, whose targets grow as more targets show it
        self._found: dict[tuple[str, int, str], OnlineFinding] = {}
        self._files: dict[str, list[DistFile] | None] = {}  # key -> the project's files
        self.failed: set[str] = set()  # projects whose source failed (not unknown)
        self._metadata: dict[str, CoreMetadata | MetadataError] = {}  # file URL -> metadata
        self.missing: dict[str, Missing] = {}  # what the closure lacks, by project

    def where(self, pin: Pin) -> list[Location]:
        """The sources to ask for ``pin`` (and for what it needs)."""
        return pin.locations or self.locations_for(pin.source)

    # -- findings -----------------------------------------------------------------------------

    def find(
        self,
        pin: Pin,
        code: str,
        subject: str,
        message: str,
        target: Target | None = None,
        required_by: list[str] | None = None,
    ) -> None:
        """Report once per (code, line, subject), adding ``target`` to those it holds on. A
        missing dependency is reported once in all, at the first line that needs it."""
        key = (code, 0 if code == "HP210" else id(pin.line), subject)
        finding = self._found.get(key)
        if finding is None:
            finding = self._found[key] = OnlineFinding(
                pin.source.path,
                code,
                message,
                line=pin.line,
                requirement=pin.key,
                targets=[],
                required_by=required_by,
            )
        if target is not None and target.label not in finding.targets:
            finding.targets.append(target.label)

    def findings(self) -> list[OnlineFinding]:
        everywhere = [target.label for target in self.targets]
        for finding in self._found.values():
            if finding.targets:
                where = (
                    "every target"
                    if finding.targets == everywhere
                    else (", ".join(finding.targets))
                )
                finding.message += f" (on {where})"
        return sorted(self._found.values(), key=lambda f: (f.path, f.line, f.code))

    # -- the index ----------------------------------------------------------------------------

    def fetch(self, pins: Iterable[tuple[str, list[Location]]]) -> None:
        """The files of every project not yet fetched, all in one concurrent round."""
        wanted = {(key, tuple(locations)) for key, locations in pins if key not in self._files}
        if not wanted:
            return
        listings = self.resolver.fetch_listings(
            {(location, key) for key, locations in wanted for location in locations}
        )
        for key, locations in wanted:
            supplier = self.resolver.supplier_of(key, list(locations), listings, self.strategy)
            if isinstance(supplier, NoSupplier):
                self._files[key] = None
                if not supplier.known:
                    self.failed.add(key)
                    self.problems.append(f"{key}: {supplier.reason}")
            else:
                self._files[key] = supplier.files

    def files(self, key: str) -> list[DistFile] | None:
        return self._files.get(key)

    def read_metadata(self, dists: Iterable[DistFile]) -> None:
        """Fetch the metadata of every file not yet read, concurrently, through the cache."""
        wanted = {dist.url: dist for dist in dists if dist.url not in self._metadata}
        if not wanted:
            return
        cache = self.resolver.cache

        def read(dist: DistFile) -> CoreMetadata | MetadataError:
            digest = next((f"{a}:{d}" for a, d in sorted(dist.hashes.items())), "")
            cached = cache.load_metadata(dist.url, digest) if digest else None
            if cached is not None:
                return cached
            if self.resolver.offline and "://" in dist.url and dist.url[:5].lower() != "file:":
                return MetadataError(dist.filename, "not in the cache (--offline)")
            try:
                metadata = fetch_metadata(self.resolver.client, dist)
            except MetadataError as error:
                return error
            if digest:  # files never change: their metadata is kept for good
                cache.store_metadata(dist.url, digest, metadata)
            return metadata

        workers = max(1, min(self.resolver.max_workers, len(wanted)))
        with self.resolver._threads(workers) as pool:
            jobs = {url: pool.submit(read, dist) for url, dist in wanted.items()}
            for url, job in jobs.items():
                self._metadata[url] = job.result()

    def metadata(self, dist: DistFile) -> CoreMetadata | MetadataError:
        return self._metadata[dist.url]


def add_online_findings(
    report: Report,
    workspace: Workspace,
    settings: Settings,
    args: argparse.Namespace,
    targets: list[Target],
    base: IndexSettings,
    resolver: Resolver,
    *,
    targets_given: bool = True,
) -> list[str]:
    """Run the online rules and put what they find into ``report``, with the settings and
    the suppression comments applied as for every rule; the problems that kept a question
    from being asked (a failing source), one line each. A lock file is audited on its own,
    on its ``environments`` unless ``targets_given``."""
    from .fix import search_orders
    from .onlinelock import environment_targets, read_lock
    from .rules import apply_settings, suppress

    order = search_orders(workspace, base)

    def locations_for(source: Source) -> list[Location]:
        return order[source.key]

    run = run_audit(workspace, targets, resolver, locations_for, args.index_strategy)
    findings, problems = run.findings(), run.problems
    lines: dict[tuple[str, int], Line] = {}
    for source in workspace.sources.values():
        for line in source.file.lines if source.file is not None else ():
            lines[(source.path, line.number)] = line
    for key in workspace.roots:
        lock = read_lock(workspace.sources[key]) if workspace.sources[key].lock else None
        if lock is None:
            continue
        lock_targets = targets if targets_given else environment_targets(lock.document) or targets
        lock_run = Audit(resolver, lock_targets, locations_for, args.index_strategy)
        audit_pins(lock_run, lock.pins, {})
        findings.extend(lock_run.findings())
        problems.extend(lock_run.problems)
        lines.update(((workspace.sources[key].path, line.number), line) for line in lock.lines)
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    for path, found in by_path.items():
        kept: list[Finding] = []
        for online in found:
            line = lines[(path, online.line)]
            kept.extend(suppress(path, line, [online]) if "hashpin" in line.comment else [online])
        report.files.setdefault(path, []).extend(
            f for f in apply_settings(kept, settings) if f.code != "HP108"
        )
        report.files[path].sort(key=lambda f: (f.line, f.column, f.code))
    return problems


def collect_pins(
    workspace: Workspace, versions: Mapping[int, str] | None = None
) -> tuple[list[Pin], dict[str, Pin]]:
    """The pins of the requirements files (first one of a project wins, as pip checks it),
    and those of the constraints files, which pin and hash a dependency without adding it.

    ``versions`` gives the version of lines not pinned yet (by ``id`` of the line): what
    ``fix --pin`` chose for them in this run.
    """
    pins: dict[str, Pin] = {}
    constraints: dict[str, Pin] = {}
    for source in workspace.sources.values():
        if source.file is None or source.role not in (REQUIREMENTS, CONSTRAINTS):
            continue
        if not source.applies:
            continue  # a constraints file by name only: it adds and pins nothing
        chosen = pins if source.role == REQUIREMENTS else constraints
        for line in source.file.lines:
            if not line.args or line.error:
                continue
            try:
                requirement = interpret(line.args)
            except InvalidRequirement:
                continue
            version = requirement.pinned_version or (versions or {}).get(id(line))
            if requirement.kind != NAMED or version is None or requirement.key is None:
                continue  # the offline rules say what is wrong with it
            hashes = frozenset(
                value.lower() for value in (o.value for o in line.options_named("--hash")) if value
            )
            chosen.setdefault(
                requirement.key,
                Pin(
                    source,
                    line,
                    requirement.key,
                    version,
                    frozenset(canonical_name(e) for e in requirement.extras),
                    requirement.marker,
                    hashes,
                ),
            )
    return list(pins.values()), constraints


def audit(
    workspace: Workspace,
    targets: list[Target],
    resolver: Resolver,
    locations_for: Callable[[Source], list[Location]],
    strategy: str,
) -> tuple[list[OnlineFinding], list[str]]:
    """The online findings of the workspace's requirements files on ``targets``, and the
    one-line problems that kept a question from being asked (a failing source)."""
    run = run_audit(workspace, targets, resolver, locations_for, strategy)
    return run.findings(), run.problems


def run_audit(
    workspace: Workspace,
    targets: list[Target],
    resolver: Resolver,
    locations_for: Callable[[Source], list[Location]],
    strategy: str,
    versions: Mapping[int, str] | None = None,
) -> Audit:
    """:func:`audit`, with what it found kept in the returned :class:`Audit`."""
    pins, constraints = collect_pins(workspace, versions)
    run = Audit(resolver, targets, locations_for, strategy)
    audit_pins(run, pins, constraints)
    return run


def audit_pins(run: Audit, pins: list[Pin], constraints: dict[str, Pin]) -> None:
    """Check the pins of one install input (a requirements file's walk, or a lock file),
    and the closure of their dependencies, into ``run``."""
    run.fetch((pin.key, run.where(pin)) for pin in [*pins, *constraints.values()])
    digests = _digests(run, [*pins, *constraints.values()])
    for pin in pins:
        _check_pin(run, pin, digests)
    _follow_dependencies(run, pins, constraints)


# -- one pin ----------------------------------------------------------------------------------


def _version_files(run: Audit, pin: Pin) -> list[DistFile] | None:
    files = run.files(pin.key)
    if files is None:
        return None
    from .requirement import Requirement

    return files_of_version(files, pin.key, pin.version, Requirement(NAMED, pin.key))


def _digests(run: Audit, pins: list[Pin]) -> dict[str, set[str]]:
    """Every digest known of each file of the pinned versions (``algorithm:hex``): the
    index's, and for a file it gives none for, the one fix would compute (cached)."""
    files = [dist for pin in pins for dist in _version_files(run, pin) or []]
    computed = run.resolver.digests(files, verify=False)
    known: dict[str, set[str]] = {}
    for dist in files:
        digests = known.setdefault(dist.url, {f"{a}:{d}" for a, d in dist.hashes.items()})
        outcome = computed.get(dist.url)
        if isinstance(outcome, str):
            digests.add(outcome)
    return known


def _check_pin(run: Audit, pin: Pin, digests: dict[str, set[str]]) -> None:
    files = run.files(pin.key)
    if files is None:
        if pin.key not in run.failed:
            run.find(pin, "HP201", "", f"no index or find-links source has {pin.key}")
        return
    version_files = _version_files(run, pin) or []
    if not version_files:
        run.find(pin, "HP202", "", f"{pin.key} has no file of version {pin.version} on the index")
        return
    if all(dist.yanked for dist in version_files):
        reason = next((d.yanked_reason for d in version_files if d.yanked_reason), None)
        run.find(pin, "HP203", "", f"{pin.label} is yanked" + (f": {reason}" if reason else ""))
    known = set().union(*(digests.get(dist.url, set()) for dist in version_files))
    for value in sorted(pin.hashes - known):
        if all(digests.get(d.url) for d in version_files):  # every file's digest is known
            run.find(pin, "HP204", value, f"--hash={value} matches no file of {pin.label}")
    for target in run.targets:
        if pin.holds(target):
            _check_target(run, pin, version_files, digests, target)


def _check_target(
    run: Audit, pin: Pin, files: list[DistFile], digests: dict[str, set[str]], target: Target
) -> None:
    installable = [dist for dist in files if _installs(dist, pin.key, target)]
    if not installable:
        run.find(pin, "HP207", "", f"{pin.label} has no file this target can install", target)
        return
    python = f"{target.python[0]}.{target.python[1]}"
    admitted = [dist for dist in installable if _admits(dist.requires_python, python)]
    if not admitted:
        run.find(
            pin,
            "HP212",
            "",
            f"{pin.label} requires Python {installable[0].requires_python}, not {python}",
            target,
        )
        return
    covered = [dist for dist in admitted if digests.get(dist.url, set()) & pin.hashes]
    if not covered:
        names = ", ".join(sorted(dist.filename for dist in admitted)[:3])
        run.find(
            pin,
            "HP205",
            "",
            f"no --hash of {pin.label} covers a file this target installs ({names})",
            target,
        )
    if pin.lock_selection is not None:  # pip installs a lock's own files, never others
        admitted = covered
    for dist in admitted:
        if not digests.get(dist.url, set()) & pin.hashes:
            run.find(
                pin,
                "HP206",
                dist.filename,
                f"{dist.filename} is not hashed (`hashpin fix --refresh-hashes` adds it)",
                target,
            )
    if admitted and not any(dist.filename.lower().endswith(".whl") for dist in admitted):
        run.find(
            pin,
            "HP214",
            "",
            f"{pin.label} has only an sdist for this target: pip builds it, and its build "
            "dependencies are not hash-checked",
            target,
        )


def _installs(dist: DistFile, key: str, target: Target) -> bool:
    parsed = parse_version(dist.filename, key)
    if parsed is None:
        return False
    return parsed[1] is None or target.accepts(parsed[1])  # an sdist builds anywhere


def _admits(requires_python: str | None, python: str) -> bool:
    if not requires_python:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(requires_python).contains(python + ".0", prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores a requires-python it cannot parse


# -- the dependency closure -------------------------------------------------------------------


class _Node:
    """A version reached on one target: the pin it is (or stands in for), its extras."""

    __slots__ = ("chain", "dist", "extras", "pin", "root")

    def __init__(self, pin: Pin, extras: frozenset[str], chain: list[str], root: Pin) -> None:
        self.pin = pin  # the file's pin, or a stand-in for a missing dependency
        self.extras = extras
        self.chain = chain  # who requires it, nearest first
        self.root = root  # the file's line the chain starts from
        self.dist: DistFile | None = None  # the file its metadata is read from


def _follow_dependencies(run: Audit, pins: list[Pin], constraints: dict[str, Pin]) -> None:
    """Walk Requires-Dist from every pin on every target; report what the file lacks."""
    from packaging.requirements import InvalidRequirement as BadRequirement
    from packaging.requirements import Requirement as Parsed

    for target in run.targets:
        # A lock file may list a project more than once, each under a marker of its own.
        installed = [pin for pin in pins if pin.holds(target)]
        present = {pin.key: pin for pin in reversed(installed)}  # the first one wins
        walked: dict[str, frozenset[str]] = {}  # key -> extras already followed
        queue = [_Node(pin, pin.extras, [], pin) for pin in installed]
        while queue and len(walked) < MAX_PROJECTS:
            nodes, queue = queue, []
            _read_round(run, nodes, target)
            for node in nodes:
                seen = walked.get(node.pin.key)
                if seen is not None and node.extras <= seen:
                    continue
                walked[node.pin.key] = (seen or frozenset()) | node.extras
                metadata = _node_metadata(run, node, target)
                if metadata is None:
                    continue
                for text in metadata.requires_dist:
                    try:
                        requirement = Parsed(text)
                    except BadRequirement:
                        invalid = f"{node.pin.label} declares an invalid dependency {text!r}"
                        run.find(node.root, "HP213", node.pin.key, invalid, target)
                        continue
                    if requirement.marker is not None and not target.marker_holds(
                        str(requirement.marker), node.extras
                    ):
                        continue
                    queue.extend(_dependency(run, node, requirement, present, constraints, target))


def _read_round(run: Audit, nodes: list[_Node], target: Target) -> None:
    """Files and metadata of a round's nodes, fetched together."""
    run.fetch((node.pin.key, run.where(node.pin)) for node in nodes)
    for node in nodes:
        node.dist = _metadata_file(run, node, target)
    run.read_metadata(node.dist for node in nodes if node.dist is not None)


def _metadata_file(run: Audit, node: _Node, target: Target) -> DistFile | None:
    """The file to read a version's metadata from: one with a PEP 658 file, else a wheel
    this target installs, else any wheel, else the sdist."""
    files = _version_files(run, node.pin)
    if not files:
        return None

    def preference(dist: DistFile) -> tuple[bool, bool, bool]:
        wheel = dist.filename.lower().endswith(".whl")
        return (
            dist.core_metadata is None,
            not (wheel and _installs(dist, node.pin.key, target)),
            not wheel,
        )

    return min(files, key=preference)


def _node_metadata(run: Audit, node: _Node, target: Target) -> CoreMetadata | None:
    if node.dist is None:
        return None  # HP202/HP210 already say it
    metadata = run.metadata(node.dist)
    if isinstance(metadata, MetadataError):
        unread = f"the dependencies of {node.pin.label} cannot be read: {metadata.reason}"
        run.find(node.root, "HP213", node.pin.key, unread, target)
        return None
    return metadata


def _dependency(
    run: Audit,
    node: _Node,
    requirement: Requirement,
    present: dict[str, Pin],
    constraints: dict[str, Pin],
    target: Target,
) -> list[_Node]:
    """Check one needed dependency; the nodes to walk next."""
    key = canonical_name(requirement.name)
    extras = frozenset(canonical_name(extra) for extra in requirement.extras)
    chain = [f"{node.pin.label}", *node.chain]
    needed = (
        f"{requirement.name}{requirement.specifier}" if requirement.specifier else requirement.name
    )
    pin = present.get(key) or constraints.get(key)  # present: what is installed here
    if pin is not None:
        if not requirement.specifier.contains(pin.version, prereleases=True):
            run.find(
                pin,
                "HP211",
                node.pin.key,
                f"{pin.label} is excluded by {node.pin.label}, which requires {needed}",
                target,
                required_by=chain,
            )
        return [_Node(pin, extras, chain, node.root)]
    missing = run.missing.setdefault(key, Missing(key, node.root))
    missing.specifiers.append(str(requirement.specifier))
    missing.requirers.add(node.pin.key)
    missing.targets.add(target.label)
    missing.edges.add(_edge_marker(node.pin.marker, requirement))
    shown_chain = ", required by ".join(chain)
    run.find(
        node.root,
        "HP210",
        key,
        f"{needed} is not in the file: required by {shown_chain}",
        target,
        required_by=chain,
    )
    stand_in = _stand_in(run, key, requirement, node, target)
    return [] if stand_in is None else [_Node(stand_in, extras, chain, node.root)]


def _edge_marker(requirer: str | None, requirement: Requirement) -> str | None:
    """Where this edge needs the dependency: the requirer's line marker and the
    dependency's own, less its ``extra`` clauses (the extra was asked for, or the edge
    would not be followed). None for everywhere."""
    import re

    own = str(requirement.marker) if requirement.marker is not None else ""
    extra = r"""extra\s*==\s*(?:"[^"]*"|'[^']*')"""
    extras = rf"(?:{extra}|\(\s*{extra}(?:\s+or\s+{extra})*\s*\))"
    own = re.sub(rf"^\s*{extra}(?:\s+or\s+{extra})*\s*$", "", own)
    own = re.sub(rf"\s+and\s+{extras}|{extras}\s+and\s+", "", own).strip()
    parts = [part for part in (requirer, own) if part]
    if len(parts) < 2:
        return parts[0] if parts else None
    return " and ".join(f"({part})" for part in parts)


def _stand_in(
    run: Audit, key: str, requirement: Requirement, node: _Node, target: Target
) -> Pin | None:
    """The version ``fix --add-missing`` would add, to follow its own dependencies."""
    run.fetch([(key, run.where(node.root))])
    files = run.files(key)
    if not files:
        return None
    python = f"{target.python[0]}.{target.python[1]}"
    version = choose_version(
        files, key, requirement.specifier, allow_pre=False, python_version=python
    )
    if version is None:
        return None
    stand_in = Pin(
        node.root.source, node.root.line, key, str(version), frozenset(), None, frozenset()
    )
    stand_in.locations = node.root.locations
    return stand_in
