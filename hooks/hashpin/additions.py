"""``fix --add-missing``: the lines a file needs so that its dependency closure is whole.

The online check's closure (``online.run_audit``, on fix's resolver) says which projects
the file lacks, who needs them, on which targets and under which markers. For each, this
chooses the newest version every requirer's specifier allows (not yanked, not a
pre-release unless asked, its Requires-Python admitting every target that needs it), and
writes ``name==version ; marker  # via requirer`` in the file of the line that needs it:
in name order when the file is sorted, else at its end. fix then hashes the new lines as
it hashes any other. Policy only; the network goes through the resolver.
"""

from __future__ import annotations

from .fix import HASH, PIN, Task
from .online import run_audit
from .reqfile import Line, parse_text
from .requirement import canonical_name, interpret
from .versions import admits_python, target_python, versions_newest_first

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.specifiers import SpecifierSet

    from .fix import FixOptions, Resolver
    from .locations import Location
    from .online import Audit, Missing
    from .simple import DistFile
    from .targets import Target
    from .workspace import Workspace


def plan_additions(
    workspace: Workspace,
    tasks_by_path: Mapping[str, list[Task]],
    options: FixOptions,
    resolver: Resolver,
    order: Mapping[str, list[Location]],
) -> tuple[dict[str, list[Task]], list[str]]:
    """The new lines (as tasks, by the key of their file) and the errors that keep the
    closure from being made whole (a conflict, no version that fits): then nothing is
    added at all, since a half-closed file would install no better."""
    versions = {
        id(task.line): task.version
        for tasks in tasks_by_path.values()
        for task in tasks
        if task.action == PIN and task.version is not None
    }
    run = run_audit(
        workspace,
        options.closure_targets,
        resolver,
        lambda source: order[source.key],
        options.strategy,
        versions,
    )
    errors = [
        f"{f.path}:{f.line}: {f.message}" for f in run.findings() if f.code in ("HP211", "HP213")
    ]
    errors += run.problems
    additions: dict[str, list[Task]] = {}
    for missing in sorted(run.missing.values(), key=lambda m: m.key):
        task = _task_for(run, missing, options)
        if isinstance(task, str):
            errors.append(task)
        else:
            task.locations = order[missing.root.source.key]
            additions.setdefault(missing.root.source.key, []).append(task)
    return ({}, errors) if errors else (additions, [])


def _task_for(run: Audit, missing: Missing, options: FixOptions) -> Task | str:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifier = SpecifierSet(",".join(s for s in missing.specifiers if s))
    except InvalidSpecifier as exc:
        return f"{missing.key}: {exc}"
    needed = [t for t in options.closure_targets if t.label in missing.targets]
    version = _choose(run.files(missing.key) or [], missing.key, specifier, needed, options.pre)
    if version is None:
        wanted = str(specifier) or "any version"
        return (
            f"{missing.key}: no version satisfies {wanted} (required by "
            f"{', '.join(sorted(missing.requirers))}) on {', '.join(sorted(missing.targets))}"
        )
    marker = _marker(missing, needed)
    text = f"{missing.key}=={version}" + (f" ; {marker}" if marker else "")
    text += f"  # via {', '.join(sorted(missing.requirers))}\n"
    line = parse_text(text)[0]
    task = Task(missing.root.source, line, interpret(line.args), HASH)
    task.version = version
    task.pre = options.pre
    return task


def _choose(
    files: list[DistFile], key: str, specifier: SpecifierSet, targets: list[Target], pre: bool
) -> str | None:
    """The newest version the specifier allows that every target's Python can install."""
    pythons = [target_python(f"{t.python[0]}.{t.python[1]}") for t in targets]
    allow_pre = pre or bool(specifier.prereleases)
    for version, dists in versions_newest_first(files, key):
        if (version.is_prerelease and not allow_pre) or not specifier.contains(
            version, prereleases=True
        ):
            continue
        usable = [dist for dist in dists if not dist.yanked]
        if usable and all(any(admits_python(d, p) for d in usable) for p in pythons):
            return str(version)
    return None


def _marker(missing: Missing, needed: list[Target]) -> str | None:
    """The added line's marker: where its edges need it, if that holds on every target
    that needs it (else none: installing it everywhere is the safe side)."""
    if None in missing.edges or not missing.edges:
        return None
    edges = sorted(edge for edge in missing.edges if edge)
    marker = edges[0] if len(edges) == 1 else " or ".join(f"({edge})" for edge in edges)
    from packaging.markers import InvalidMarker, Marker

    try:
        Marker(marker)
    except InvalidMarker:
        return None
    return marker if all(target.marker_holds(marker) for target in needed) else None


def insert_lines(lines: list[Line], added: list[str], newline: str) -> list[Line]:
    """``lines`` with each added line (its rendered text, ``name==...``) where a reader
    looks for it: in name order when the file's requirements are sorted, else at the end."""
    result = list(lines)
    keys = [_key(line) for line in result]
    named = [key for key in keys if key]
    ordered = named == sorted(named)
    for text in sorted(added, key=_text_key):
        key = _text_key(text)
        at = len(result)
        if ordered:
            at = next((i for i, k in enumerate(keys) if k and k > key), len(result))
        if at == len(result) and result and not result[-1].raw.endswith(("\n", "\r")):
            last = result[-1]
            result[-1] = Line(last.number, last.end, last.raw + newline)
        text = text if newline == "\n" else text.replace("\n", newline)
        result.insert(at, Line(0, 0, text))
        keys.insert(at, key)
    return result


def _key(line: Line) -> str:
    if not line.args:
        return ""
    return _text_key(line.args)


def _text_key(text: str) -> str:
    import re

    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return canonical_name(match.group(1)) if match else ""
