"""``check --online`` for PEP 751 lock files: the online rules, on the lock's packages.

A lock file is an install input of its own: its packages are audited apart from any
requirements file, each pinned to its ``version`` and hashed by every digest of its
artifacts, asked of its own ``index`` (else the sources ``fix`` would use), and selected
by its ``marker`` as pip selects it (no extras, the default dependency groups). Its
dependency closure must be in the lock: what a package needs and the lock lacks is HP210.

Without ``--target`` or configured targets, the lock's ``environments`` say where it must
install: each platform family they admit, at the oldest and the newest Python (3.9 to 3.14)
that they and the lock's ``requires-python`` admit.
"""

from __future__ import annotations

from . import tomltext
from .locations import INDEX, Location
from .online import Pin
from .reqfile import Line
from .requirement import canonical_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .targets import Target
    from .workspace import Source

_PLATFORMS = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-amd64")
_PYTHONS = tuple(f"3.{minor}" for minor in range(9, 15))
_ARTIFACTS = ("wheels", "sdist")  # what an index serves; an archive's URL is its own


class LockInput:
    """A lock file read for the online rules: its pins, and the lines they stand on."""

    __slots__ = ("document", "lines", "pins")

    def __init__(self, document: Mapping[str, object], pins: list[Pin], lines: list[Line]):
        self.document = document
        self.pins = pins
        self.lines = lines


def read_lock(source: Source) -> LockInput | None:
    """The pins of a lock file that parses (None if not: the offline check says why)."""
    from .pylock import Positions

    try:
        text = (source.lock or b"").decode("utf-8")
        document = tomltext.loads(text)
    except (UnicodeDecodeError, tomltext.tomllib.TOMLDecodeError, RecursionError):
        return None
    positions = Positions(text)
    raw = document.get("default-groups")
    groups = (
        frozenset(g for g in raw if isinstance(g, str)) if isinstance(raw, list) else frozenset()
    )
    selection = {"extras": frozenset[str](), "dependency_groups": groups}
    packages = document.get("packages")
    pins: list[Pin] = []
    lines: list[Line] = []
    for position, table in enumerate(packages if isinstance(packages, list) else []):
        if not isinstance(table, dict):
            continue
        name, version, marker = table.get("name"), table.get("version"), table.get("marker")
        hashes = _hashes(table)
        if not isinstance(name, str) or not isinstance(version, str) or hashes is None:
            continue  # not from an index (vcs, directory, archive), or broken: offline rules
        number = positions.find(("packages", position))[0]
        line = Line(number, number, "")
        line.comment = positions.comments.get(number, "")
        pin = Pin(
            source,
            line,
            canonical_name(name),
            version,
            frozenset(),
            marker if isinstance(marker, str) else None,
            hashes,
        )
        index = table.get("index")
        if isinstance(index, str) and index:
            pin.locations = [Location(INDEX, index)]
        pin.lock_selection = selection
        pins.append(pin)
        lines.append(line)
    return LockInput(document, pins, lines)


def _hashes(table: Mapping[str, object]) -> frozenset[str] | None:
    """``algorithm:digest`` of every wheel and sdist; None for a package with neither."""
    entries: list[object] = []
    wheels = table.get("wheels")
    entries.extend(wheels if isinstance(wheels, list) else [])
    entries.append(table.get("sdist"))
    found = [entry for entry in entries if isinstance(entry, dict)]
    if not found:
        return None
    return frozenset(
        f"{algorithm.lower()}:{digest.lower()}"
        for entry in found
        if isinstance(entry.get("hashes"), dict)
        for algorithm, digest in entry["hashes"].items()
        if isinstance(digest, str)
    )


def environment_targets(document: Mapping[str, object]) -> list[Target]:
    """The targets the lock's ``environments`` admit (empty when it has none)."""
    from packaging.markers import InvalidMarker, Marker
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from .pylock import marker_holds
    from .targets import parse_target

    raw = document.get("environments")
    try:
        markers = [Marker(m) for m in raw if isinstance(m, str)] if isinstance(raw, list) else []
        requires = document.get("requires-python")
        python = SpecifierSet(requires) if isinstance(requires, str) else None
    except (InvalidMarker, InvalidSpecifier):
        return []  # the offline check reports it
    targets: list[Target] = []
    for platform in _PLATFORMS:
        admitted = [
            target
            for target in (parse_target(f"{version}:{platform}") for version in _PYTHONS)
            if (python is None or python.contains(f"{target.python[0]}.{target.python[1]}.0"))
            and any(marker_holds(m, target.environment, "requirement") for m in markers)
        ]
        targets.extend(dict.fromkeys(admitted[:1] + admitted[-1:]))
    return targets
