"""Made-up projects with dependencies, for the ``hashpin check --online`` benchmark.

``dependency_graph()`` describes, deterministically, 28 top-level projects
(``hpo-app-NN``), the 36 libraries they need (``hpo-lib-NN``, three layers deep under the
apps, with version specifiers) and a few projects needed only somewhere, as real projects
need colorama or tomli:

- ``hpo-wincolor`` where ``platform_system == "Windows"`` (from a library) or
  ``sys_platform == "win32"`` (from an app), and the Windows-only ``hpo-winapi`` it needs;
- ``hpo-backport`` where ``python_version < "3.11"`` (none of the targets: 3.10), and
  ``hpo-exceptions`` where ``python_version < "3.12"`` (3.11 only);
- ``hpo-fsevents`` (macOS wheels only) where ``sys_platform == "darwin"``;
- ``hpo-simd`` where ``platform_machine`` is ``x86_64`` or ``AMD64``;
- ``hpo-speedups`` through the ``speedups`` extra, which one app asks for;
- dependencies that must never be followed: under an extra nobody asks for, or
  ``implementation_name == "pypy"``, on projects the index does not have.

``write_projects(graph, folder)`` writes each project's files (``bench_synth``'s makers,
with the dependencies in every wheel's METADATA and in its PEP 658 file): per layout, an
sdist plus a pure wheel; or CPython 3.11 to 3.13 wheels for manylinux x86_64 and aarch64,
musllinux, Windows and both macOS architectures; or such wheels for Linux and macOS only
with a pure fallback wheel (Windows installs that); or ``abi3`` wheels; or one
platform's wheels only. ``history(projects)`` lists older versions, never served, as
PyPI's pages do.

``closure(graph)`` gives each project the file needs and the marker under which it is
needed (None: everywhere), following every path from the apps; ``needed_on`` evaluates
that closure in one marker environment, as a resolver for that target would find it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench_data import Listed, Project
from bench_synth import core_metadata, dist_file, sdist_bytes, wheel_bytes

PYTHONS = ("cp311", "cp312", "cp313")
LINUX_X86 = "manylinux_2_17_x86_64.manylinux2014_x86_64"
LINUX_ARM = "manylinux_2_17_aarch64.manylinux2014_aarch64"
MUSL = "musllinux_1_2_x86_64"
WINDOWS = "win_amd64"
MAC_ARM = "macosx_11_0_arm64"
MAC_X86 = "macosx_10_12_x86_64"
LAYOUTS: dict[str, tuple[str, ...]] = {
    # layout -> wheel tags (an sdist comes with every layout)
    "pure": ("py3-none-any",),
    "compiled": tuple(
        f"{py}-{py}-{platform}"
        for py in PYTHONS
        for platform in (LINUX_X86, LINUX_ARM, MUSL, WINDOWS, MAC_ARM, MAC_X86)
    ),
    "compiled+pure": (
        *(f"{py}-{py}-{platform}" for py in PYTHONS for platform in (LINUX_X86, MAC_ARM)),
        "py3-none-any",
    ),
    "abi3": tuple(f"cp39-abi3-{platform}" for platform in (LINUX_X86, LINUX_ARM, WINDOWS, MAC_ARM)),
    "windows": tuple(f"{py}-{py}-{platform}" for py in PYTHONS for platform in (WINDOWS, "win32")),
    "macos": tuple(f"{py}-{py}-{platform}" for py in PYTHONS for platform in (MAC_ARM, MAC_X86)),
}
UPLOAD_TIME = "2025-09-01T00:00:00.000000Z"
APPS = 28
LIBS = 36  # 1-12 first layer, 13-24 second, 25-36 third (leaves)


@dataclass(frozen=True)
class Spec:
    """One made-up project: what its METADATA says and which files it has."""

    name: str
    version: str
    layout: str
    requires_dist: tuple[str, ...] = ()
    provides_extra: tuple[str, ...] = ()
    requires_python: str = ">=3.10"
    top: bool = False  # a top-level requirement


@dataclass
class Graph:
    specs: dict[str, Spec] = field(default_factory=dict)

    @property
    def top(self) -> list[str]:
        return sorted(name for name, spec in self.specs.items() if spec.top)


def _app(n: int) -> str:
    return f"hpo-app-{n:02d}"


def _lib(n: int) -> str:
    return f"hpo-lib-{n:02d}"


def _version(n: int) -> str:
    return f"{1 + n % 4}.{(n * 7) % 10}.{n % 3}"


def _specifier(name: str, n: int, salt: int) -> str:
    """A specifier that the pinned version ``_version(n)`` satisfies, of several kinds."""
    major, minor, _ = _version(n).split(".")
    kind = (n + salt) % 4
    if kind == 0:
        return name
    if kind == 1:
        return f"{name}>={major}.0"
    if kind == 2:
        return f"{name}>={major}.{minor},<{int(major) + 1}"
    return f"{name}~={major}.{minor}"


def _layout(n: int) -> str:
    return ("pure", "compiled", "pure", "compiled+pure", "pure", "abi3")[n % 6]


def dependency_graph() -> Graph:
    """The projects, deterministically: see the module's docstring."""
    layer1, layer2, layer3 = range(1, 13), range(13, 25), range(25, 37)
    requires: dict[str, list[str]] = {}
    for n in layer1:  # each needs one or two of the second layer and one of the third
        picks = [13 + (n * 5) % 12, 13 + (n * 7 + 3) % 12][: 1 + n % 2]
        picks.append(25 + (n * 11) % 12)
        requires[_lib(n)] = [_specifier(_lib(m), m, n) for m in dict.fromkeys(picks)]
    for n in layer2:  # one or two of the third layer
        picks = [25 + (n * 5) % 12, 25 + (n * 3 + 1) % 12][: 1 + n % 2]
        requires[_lib(n)] = [_specifier(_lib(m), m, n) for m in dict.fromkeys(picks)]
    for n in layer3:
        requires[_lib(n)] = []
    # Every library is reached: the apps take the first layer round-robin, and some of the
    # second and third directly.
    apps: dict[str, list[str]] = {}
    for a in range(1, APPS + 1):
        picks = [1 + (a - 1) % 12, 1 + (a * 5 + a // 12) % 12]
        if a % 3 == 0:
            picks.append(13 + (a * 7) % 12)
        if a % 4 == 0:
            picks.append(25 + (a * 5) % 12)
        apps[_app(a)] = [_specifier(_lib(m), m, a) for m in dict.fromkeys(picks)]

    # Conditional and extra dependencies, as real projects declare them.
    requires[_lib(3)].append('hpo-wincolor>=0.4; platform_system == "Windows"')
    apps[_app(5)].append('hpo-wincolor; sys_platform == "win32"')
    requires[_lib(7)].append('hpo-backport>=1.1; python_version < "3.11"')
    requires[_lib(20)].append('hpo-exceptions>=1.2; python_version < "3.12"')
    apps[_app(9)].append('hpo-fsevents>=0.9; sys_platform == "darwin"')
    requires[_lib(28)].append(
        'hpo-simd; platform_machine == "x86_64" or platform_machine == "AMD64"'
    )
    wanted = [r for r in apps[_app(2)] if not r.startswith("hpo-lib-11")]
    apps[_app(2)] = [*wanted, "hpo-lib-11[speedups]>=1.0"]
    extras: dict[str, tuple[str, ...]] = {_lib(11): ("speedups", "docs")}
    requires[_lib(11)] += [
        'hpo-speedups>=2.0; extra == "speedups"',
        'hpo-sphinx-theme>=1; extra == "docs"',  # not on the index: never followed
    ]
    requires[_lib(30)].append('hpo-pypy-compat; implementation_name == "pypy"')  # nor this
    requires[_lib(14)].append('hpo-lib-31; python_version >= "3.9"')  # true everywhere

    graph = Graph()
    for n in range(1, LIBS + 1):
        name = _lib(n)
        graph.specs[name] = Spec(
            name,
            _version(n),
            _layout(n),
            tuple(requires[name]),
            extras.get(name, ()),
            ">=3.11" if n % 9 == 0 else ">=3.10",
        )
    for a in range(1, APPS + 1):
        name = _app(a)
        graph.specs[name] = Spec(name, _version(100 + a), "pure", tuple(apps[name]), top=True)
    special = [
        Spec("hpo-wincolor", "0.4.6", "pure", ("hpo-winapi>=300",)),
        Spec("hpo-winapi", "311.0.0", "windows"),
        Spec("hpo-backport", "2.2.1", "pure"),
        Spec("hpo-exceptions", "1.3.0", "pure", ('hpo-lib-36; python_version < "3.12"',)),
        Spec("hpo-fsevents", "0.9.2", "macos"),
        Spec("hpo-simd", "1.2.0", "compiled"),
        Spec("hpo-speedups", "2.1.0", "abi3", ("hpo-lib-33",)),
    ]
    graph.specs.update((spec.name, spec) for spec in special)
    return graph


# -- files ----------------------------------------------------------------------------------


def _size(name: str) -> int:
    return 6 * 1024 + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % (26 * 1024)


def write_projects(graph: Graph, folder: Path) -> dict[str, Project]:
    """Write every project's files (and each wheel's ``.metadata``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    projects: dict[str, Project] = {}
    for name, spec in sorted(graph.specs.items()):
        module = name.replace("-", "_")
        metadata = core_metadata(
            name,
            spec.version,
            requires_python=spec.requires_python,
            requires_dist=spec.requires_dist,
            provides_extra=spec.provides_extra,
            summary="A made-up project of the hashpin check --online benchmark",
        )
        size = _size(name)
        built: list[tuple[str, bytes, bytes | None]] = [
            (
                f"{module}-{spec.version}.tar.gz",
                sdist_bytes(name, size, metadata, spec.version),
                None,
            )
        ]
        for tag in LAYOUTS[spec.layout]:
            filename = f"{module}-{spec.version}-{tag}.whl"
            built.append((filename, wheel_bytes(name, tag, size, metadata, spec.version), metadata))
        files = []
        for filename, data, meta in built:
            (folder / filename).write_bytes(data)
            if meta is not None:
                (folder / f"{filename}.metadata").write_bytes(meta)
            files.append(dist_file(filename, data, meta, spec.requires_python))
        projects[name] = Project(name, spec.version, tuple(sorted(files, key=lambda f: f.filename)))
    return projects


def history(projects: Mapping[str, Project]) -> dict[str, tuple[Listed, ...]]:
    """3 to 17 older versions of each project (0.1.0, 0.2.0, ...; 0.0.1, 0.0.2, ... below
    a 0.x pin), listed with made-up digests and never served."""
    listed_by: dict[str, tuple[Listed, ...]] = {}
    for number, (name, project) in enumerate(sorted(projects.items())):
        listed = []
        below_one = project.version.startswith("0.")
        for minor in range(1, 4 + (number * 7) % 15):
            old = f"0.0.{minor}" if below_one else f"0.{minor}.0"
            for dist in project.files:
                filename = dist.filename.replace(f"-{project.version}", f"-{old}", 1)
                made_up = hashlib.sha256(filename.encode()).hexdigest()
                listed.append(
                    Listed(
                        filename=filename,
                        version=old,
                        sha256=made_up,
                        size=dist.size,
                        requires_python=dist.requires_python,
                        upload_time=f"2024-{1 + minor % 12:02d}-01T00:00:00.000000Z",
                        yanked=False,
                        metadata_sha256=hashlib.sha256(made_up.encode()).hexdigest()
                        if filename.endswith(".whl")
                        else None,
                    )
                )
        listed_by[name] = tuple(listed)
    return listed_by


# -- the closure ----------------------------------------------------------------------------

Conjunction = frozenset[str]  # marker clauses that all hold


def _parsed(text: str) -> tuple[str, frozenset[str], str | None]:
    """(name, extras, marker) of a Requires-Dist value."""
    from packaging.requirements import Requirement

    requirement = Requirement(text)
    marker = str(requirement.marker) if requirement.marker is not None else None
    return requirement.name, frozenset(requirement.extras), marker


def _extra_of(marker: str) -> str | None:
    import re

    match = re.fullmatch(r"""extra\s*==\s*["']([^"']+)["']""", marker.strip())
    return match[1] if match else None


def environment(python: str, system: str, machine: str) -> dict[str, str]:
    """PEP 508's marker environment of CPython ``python`` (X.Y) on such a machine."""
    sys_platform = {"Linux": "linux", "Windows": "win32", "Darwin": "darwin"}[system]
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "nt" if system == "Windows" else "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": sys_platform,
    }


# Where the file is meant to install: CPython 3.10 to 3.13 on Linux, Windows and macOS.
UNIVERSE = [
    environment(python, system, machine)
    for python in ("3.10", "3.11", "3.12", "3.13")
    for system, machine in (
        ("Linux", "x86_64"),
        ("Linux", "aarch64"),
        ("Windows", "AMD64"),
        ("Darwin", "arm64"),
        ("Darwin", "x86_64"),
    )
]


def _holds(clauses: Conjunction, env: Mapping[str, str]) -> bool:
    from packaging.markers import Marker

    return all(Marker(clause).evaluate({**env, "extra": ""}) for clause in clauses)


def closure(graph: Graph) -> dict[str, str | None]:
    """Every project the file needs, and the marker where it is needed (None: everywhere).

    Conditions are followed along every path as sets of conjunctions of the markers met on
    the way (the requirer's and the edge's); a dependency under an extra is followed only
    when the requirer was asked for that extra. Markers the graph uses are never ``extra``
    mixed with others, so the two need no algebra. A path whose markers hold on no machine
    of ``UNIVERSE`` is not followed."""
    conditions: dict[str, set[Conjunction]] = {}
    seen: set[tuple[str, frozenset[str], Conjunction]] = set()
    queue = [(name, frozenset[str](), Conjunction()) for name in graph.top]
    while queue:
        visit = queue.pop()
        if visit in seen:
            continue
        seen.add(visit)
        name, extras, condition = visit
        conditions.setdefault(name, set()).add(condition)
        spec = graph.specs.get(name)
        if spec is None:
            raise ValueError(f"{name} is needed but not made")
        for text in spec.requires_dist:
            dependency, dependency_extras, marker = _parsed(text)
            if marker is not None and (extra := _extra_of(marker)) is not None:
                if extra not in extras:
                    continue
                marker = None
            clauses = frozenset(condition | {marker} if marker else condition)
            if clauses and not any(_holds(clauses, env) for env in UNIVERSE):
                continue  # on no machine the file is for (a PyPy-only dependency)
            queue.append((dependency, dependency_extras, clauses))
    return {name: _render(found) for name, found in sorted(conditions.items())}


def _render(found: set[Conjunction]) -> str | None:
    if frozenset() in found:
        return None
    minimal = [c for c in found if not any(other < c for other in found)]

    def conjunction(clauses: Conjunction) -> str:
        parts = sorted(f"({c})" if " or " in c else c for c in clauses)
        return " and ".join(parts)

    if len(minimal) == 1:
        return conjunction(minimal[0])
    return " or ".join(sorted(f"({conjunction(c)})" for c in minimal))


def needed_on(needs: Mapping[str, str | None], environment: Mapping[str, str]) -> set[str]:
    """The projects of ``needs`` whose marker holds in ``environment``."""
    from packaging.markers import Marker

    env = {**environment, "extra": ""}
    return {
        name for name, marker in needs.items() if marker is None or Marker(marker).evaluate(env)
    }


def requirements_lines(
    projects: Mapping[str, Project],
    needs: Mapping[str, str | None],
    graph: Graph,
    *,
    leave_out: Sequence[str] = (),
) -> str:
    """The fully hashed requirements file of ``needs``, in pip-compile's layout (sorted, a
    marker where one is needed, the sha256 of every file, ``# via`` comments)."""
    via: dict[str, set[str]] = {name: set() for name in needs}
    for requirer, spec in graph.specs.items():
        if requirer not in needs:
            continue
        for text in spec.requires_dist:
            dependency = _parsed(text)[0]
            if dependency in via:
                via[dependency].add(requirer)
    out = ["# made by tests/bench/bench_online.py: every pin of the closure, every file hashed\n"]
    for name in sorted(needs):
        if name in leave_out:
            continue
        project = projects[name]
        marker = needs[name]
        head = f"{name}=={project.version}" + (f" ; {marker}" if marker else "")
        hashes = sorted(f"    --hash=sha256:{dist.sha256}" for dist in project.files)
        out.append(" \\\n".join([head, *hashes]) + "\n")
        requirers = sorted(via[name])
        if graph.specs[name].top:
            requirers = ["-r requirements.in", *requirers]
        if len(requirers) == 1:
            out.append(f"    # via {requirers[0]}\n")
        else:
            out.append("    # via\n" + "".join(f"    #   {r}\n" for r in requirers))
    return "".join(out)
