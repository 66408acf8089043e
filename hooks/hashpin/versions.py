"""Distribution files and their versions: which file is which project and version, which
version ``--pin`` chooses (and why none fits), and which files the ``--platform`` /
``--python-version`` narrowing keeps. Pure: file names, versions and tags only.

Pages list every file of every version (50,000 on PyPI for some projects), so the common
questions are answered from the file name's text, and each distinct name and version
string is parsed once per run.
"""

from __future__ import annotations

import functools
import re

from .requirement import canonical_name
from .simple import ARCHIVE_SUFFIXES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.specifiers import SpecifierSet
    from packaging.tags import Tag
    from packaging.version import Version

    from .requirement import Requirement
    from .simple import DistFile

_TAG_INTERPRETER_RE = re.compile(r"([a-z]+)(\d*)")
_MANYLINUX_ALIASES = {"manylinux1": "manylinux_2_5", "manylinux2010": "manylinux_2_12",
                      "manylinux2014": "manylinux_2_17"}  # fmt: skip
_GLIBC_STYLE_RE = re.compile(r"(manylinux|musllinux)_(\d+)_(\d+)_(.+)")
_MACOS_RE = re.compile(r"macosx_(\d+)_(\d+)_(.+)")


def specifier_of(requirement: Requirement) -> SpecifierSet:
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(",".join(op + version for op, version in requirement.specifiers))


def version_of(filename: str, key: str) -> Version | None:
    """The version of a distribution file of project ``key``, None when it is not one.

    Cheap, for pages that list every file of every version (50,000 on PyPI for some
    projects): the name and version are cut out of the file name as the two formats
    place them, and each distinct name and version string is parsed once per run.
    """
    lowered = filename.lower()
    if lowered.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):  # name-version(-build)-python-abi-platform
            return None
        name, version = parts[0], parts[1]
    else:
        suffix = next((s for s in ARCHIVE_SUFFIXES if lowered.endswith(s)), None)
        if suffix is None:
            return None
        name, _, version = filename[: -len(suffix)].rpartition("-")
    if not name or _canonical(name) != key:
        return None
    return _version(version)


_PLAIN_RELEASE = re.compile(r"\d+(?:\.\d+)*", re.ASCII)  # a valid version, all release


@functools.lru_cache(maxsize=256)
def spellings(version: str) -> re.Pattern[str] | None:
    """A pattern every file name of ``version`` matches, in any spelling PEP 440 allows
    (``v``, an epoch, leading zeros, trailing ``.0``s): a cheap first sieve."""
    if _PLAIN_RELEASE.fullmatch(version):  # most pins: no need to import packaging yet
        release = [int(part) for part in version.split(".")]
    else:
        parsed = _version(version)
        if parsed is None:
            return None
        release = list(parsed.release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    digits = r"\.".join(f"0*{number}" for number in release)
    # The lookahead changes no match (one goes on with v, V or a digit): it only lets the
    # regex engine pass over the other hyphens of a file name at once.
    return re.compile(rf"-(?=[vV\d])[vV]?(?:\d+!)?{digits}(?:\.0+)*(?!\.?\d)")


@functools.lru_cache(maxsize=8192)
def _canonical(name: str) -> str:
    return canonical_name(name)


@functools.lru_cache(maxsize=8192)
def _version(text: str) -> Version | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def parse_version(filename: str, key: str) -> tuple[Version, frozenset[Tag] | None] | None:
    """The version (and, for a wheel, the tags) of a distribution file of project ``key``.

    None when the file is not one of that project's, or its name is invalid.
    """
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename
    from packaging.version import InvalidVersion, Version

    lowered = filename.lower()
    if lowered.endswith(".whl"):
        try:
            name, version, _, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return None
        return (version, tags) if canonical_name(name) == key else None
    suffix = next((s for s in ARCHIVE_SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        return None
    stem = filename[: -len(suffix)]
    dash = stem.find("-")
    while dash > 0:
        if canonical_name(stem[:dash]) == key:
            try:
                return Version(stem[dash + 1 :]), None
            except InvalidVersion:
                return None
        dash = stem.find("-", dash + 1)
    return None


def is_file_of(filename: str, key: str) -> bool:
    return parse_version(filename, key) is not None


def files_of_version(
    files: Iterable[DistFile], key: str, version: str, requirement: Requirement
) -> list[DistFile]:
    """Every file pip could pick for ``==version``: local versions (``1.0+cpu``) and
    other spellings of it (``1.0.0``) included, as PEP 440 matching has it. (Compared as
    versions, not through a SpecifierSet: packaging.specifiers alone costs a warm run
    tens of milliseconds of imports.)"""
    if requirement.specifiers[:1] and requirement.specifiers[0][0] == "===":
        wanted = version.lower()  # === compares text, ignoring case, as packaging does
        return [
            dist
            for dist in files
            if (_arbitrary_version_of(dist.filename, key) or "").lower() == wanted
        ]
    pinned = _version(version)
    if pinned is None:
        return []
    chosen = []
    spelled = spellings(version)
    for dist in files:
        if spelled is not None and spelled.search(dist.filename) is None:
            continue  # cannot be this version however it is written: skip the parsing
        found = version_of(dist.filename, key)
        if found is not None and _is_pinned_version(found, pinned):
            chosen.append(dist)
    return chosen


def _is_pinned_version(found: Version, pinned: Version) -> bool:
    """PEP 440's ``==``: equal, or equal but for a local label the pin does not name."""
    if found == pinned:
        return True
    return pinned.local is None and found.local is not None and _version(found.public) == pinned


def _arbitrary_version_of(filename: str, key: str) -> str | None:
    """The version text of a file, as written, for ``===`` (string equality)."""
    lowered = filename.lower()
    if lowered.endswith(".whl"):
        parts = filename[:-4].split("-")
        return parts[1] if len(parts) in (5, 6) and _canonical(parts[0]) == key else None
    suffix = next((s for s in ARCHIVE_SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        return None
    name, _, version = filename[: -len(suffix)].rpartition("-")
    return version if name and _canonical(name) == key else None


def choose_version(
    files: Iterable[DistFile],
    key: str,
    specifier: SpecifierSet,
    *,
    allow_pre: bool,
    python_version: str | None,
) -> Version | None:
    """The newest version the specifier allows that is not yanked, not a pre-release
    (unless allowed or the specifier names one) and whose requires-python admits the
    target Python."""
    python = target_python(python_version)
    allow_pre = allow_pre or bool(specifier.prereleases)
    for version, dists in versions_newest_first(files, key):
        if version.is_prerelease and not allow_pre:
            continue
        if not specifier.contains(version, prereleases=True):
            continue
        if any(not dist.yanked and admits_python(dist, python) for dist in dists):
            return version
    return None


def why_no_version(
    files: Iterable[DistFile],
    key: str,
    specifier: SpecifierSet,
    *,
    allow_pre: bool,
    python_version: str | None,
) -> str:
    """Why :func:`choose_version` found nothing, as a template for ``str.format`` with
    the project (where) and the requirement: the versions the specifier allows, and what
    ruled each out, so that the user need not go and look."""
    python = target_python(python_version)
    allow_pre = allow_pre or bool(specifier.prereleases)
    allowed = [
        (version, dists)
        for version, dists in versions_newest_first(files, key)
        if specifier.contains(version, prereleases=True)
    ]
    if not allowed:
        return "no version of {} satisfies {}"
    final = [(v, d) for v, d in allowed if allow_pre or not v.is_prerelease]
    if not final:
        pre = _listed([v for v, _ in allowed])
        return "only pre-releases of {} satisfy {}: " + pre + " (--pre allows them)"
    unyanked = [(v, d) for v, d in final if not all(dist.yanked for dist in d)]
    if not unyanked:
        return "every version of {} that satisfies {} is yanked: " + _listed([v for v, _ in final])
    return (
        "no version of {} that satisfies {} supports Python "
        f"{python} (requires-python): " + _listed([v for v, _ in unyanked])
    )


def _listed(versions: list[Version]) -> str:
    return ", ".join(str(v) for v in versions[:5]) + (", ..." if len(versions) > 5 else "")


def target_python(python_version: str | None) -> Version:
    import platform

    from packaging.version import Version

    if python_version:  # "3.12" or "312", as pip's --python-version takes it
        return Version("{}.{}".format(*_major_minor(python_version)))
    return Version(platform.python_version())


def versions_newest_first(
    files: Iterable[DistFile], key: str
) -> list[tuple[Version, list[DistFile]]]:
    by_version: dict[Version, list[DistFile]] = {}
    for dist in files:
        version = version_of(dist.filename, key)
        if version is not None:
            by_version.setdefault(version, []).append(dist)
    return sorted(by_version.items(), reverse=True, key=lambda item: item[0])


def admits_python(dist: DistFile, python: Version) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if dist.requires_python is None:
        return True
    try:
        return SpecifierSet(dist.requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores a requires-python it cannot parse


class Target:
    """The platforms, Python version, implementation and ABIs to keep wheels for.

    A dimension left as None admits everything. sdists are always kept (pip may build
    them anywhere). Platform tags match as pip's installers match them: ``manylinux`` and
    ``musllinux`` of an older or equal glibc/musl, macOS of an older or equal release.
    """

    __slots__ = ("abis", "implementation", "platforms", "python")

    def __init__(
        self,
        *,
        platforms: Iterable[str] = (),
        python_version: str | None = None,
        implementation: str | None = None,
        abis: Iterable[str] = (),
    ) -> None:
        self.platforms = [_platform_alias(_checked_platform(p)) for p in platforms]
        self.python = _major_minor(python_version) if python_version else None
        self.implementation = implementation
        self.abis = list(abis)

    def admits(self, filename: str, key: str) -> bool:
        parsed = parse_version(filename, key)
        if parsed is None or parsed[1] is None:
            return True  # an sdist
        return any(self._admits_tag(tag) for tag in parsed[1])

    def _admits_tag(self, tag: Tag) -> bool:
        if (
            self.platforms
            and tag.platform != "any"
            and not any(_platform_admits(p, tag.platform) for p in self.platforms)
        ):
            return False
        stable_abi = tag.abi == "abi3" and any(abi.startswith("cp") for abi in self.abis)
        if self.abis and tag.abi != "none" and tag.abi not in self.abis and not stable_abi:
            return False
        match = _TAG_INTERPRETER_RE.fullmatch(tag.interpreter)
        if match is None:
            return False
        implementation, digits = match.groups()
        if self.implementation and implementation not in ("py", self.implementation):
            return False
        if self.python is None or not digits:
            return True
        major, minor = int(digits[0]), int(digits[1:] or -1)
        if implementation == "py":
            return major == self.python[0] and minor <= self.python[1]
        if tag.abi == "abi3":
            return major == self.python[0] and minor <= self.python[1]
        return (major, minor) == self.python


def _major_minor(version: str) -> tuple[int, int]:
    parts = version.split(".")
    if len(parts) == 1 and len(parts[0]) > 1:  # "311", as pip's --python-version allows
        parts = [parts[0][0], parts[0][1:]]
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ValueError(f"invalid Python version {version!r}") from None


_PLATFORM_TAG_RE = re.compile(
    r"(?:manylinux(?:1|2010|2014|_\d+_\d+)|musllinux_\d+_\d+|macosx_\d+_\d+|linux"
    r"|ios_\d+_\d+|android_\d+)_[a-z0-9_]+|win32|win_(?:amd64|arm64|ia64)|any"
)
PLATFORM_EXAMPLES = (
    "manylinux_2_17_x86_64, manylinux2014_aarch64, musllinux_1_2_x86_64, macosx_11_0_arm64, "
    "win_amd64, win32, linux_x86_64"
)


def _checked_platform(platform: str) -> str:
    """A wheel platform tag as pip's ``--platform`` takes it, or ValueError saying the forms."""
    if not _PLATFORM_TAG_RE.fullmatch(platform.lower().replace("-", "_").replace(".", "_")):
        raise ValueError(
            f"--platform {platform!r} is not a wheel platform tag; give one like "
            f"{PLATFORM_EXAMPLES}"
        )
    return platform


def _platform_alias(platform: str) -> str:
    platform = platform.lower().replace("-", "_").replace(".", "_")
    for legacy, modern in _MANYLINUX_ALIASES.items():
        if platform.startswith(legacy + "_"):
            return modern + platform[len(legacy) :]
    return platform


def _platform_admits(target: str, wheel: str) -> bool:
    wheel = _platform_alias(wheel)
    if wheel == target:
        return True
    target_glibc, wheel_glibc = _GLIBC_STYLE_RE.fullmatch(target), _GLIBC_STYLE_RE.fullmatch(wheel)
    if target_glibc and wheel_glibc:
        t_kind, t_major, t_minor, t_arch = target_glibc.groups()
        w_kind, w_major, w_minor, w_arch = wheel_glibc.groups()
        return (t_kind, t_arch) == (w_kind, w_arch) and (int(w_major), int(w_minor)) <= (
            int(t_major),
            int(t_minor),
        )
    target_mac, wheel_mac = _MACOS_RE.fullmatch(target), _MACOS_RE.fullmatch(wheel)
    if target_mac and wheel_mac:
        t_major, t_minor, t_arch = target_mac.groups()
        w_major, w_minor, w_arch = wheel_mac.groups()
        arch_ok = w_arch == t_arch or (
            w_arch == "universal2" and t_arch in ("x86_64", "arm64", "universal2")
        )
        return arch_ok and (int(w_major), int(w_minor)) <= (int(t_major), int(t_minor))
    return False
