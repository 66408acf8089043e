"""Install targets: a Python version on a platform, as pip would see that machine.

A target is written ``PY:PLATFORM``: ``3.12:linux-x86_64``, ``3.11:windows-amd64``,
``3.13:macos-arm64``, or a raw wheel platform tag (``3.12:manylinux_2_28_x86_64``,
``3.12:musllinux_1_2_x86_64``). Each gives the marker environment a requirement's
``; marker`` is evaluated in, and the wheel tags pip would accept there, in pip's order of
preference (packaging.tags, with the manylinux, musllinux and macOS version ladders pip
builds). Pure: nothing here looks at the network or the files.

The friendly platform names stand for what a build machine of that kind offers, as uv's
``--python-platform`` does: ``linux-*`` is glibc 2.17 (manylinux2014), ``macos-*`` is
macOS 12.0. A raw tag states the version itself.
"""

from __future__ import annotations

import re

from .requirement import marker_environment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = ["Target", "TargetError", "machine_target", "parse_target"]

DEFAULT_GLIBC = (2, 17)
DEFAULT_MACOS = (12, 0)
FORMS = (
    "3.12:linux-x86_64, 3.12:linux-aarch64, 3.11:windows-amd64, 3.11:windows-arm64, "
    "3.11:windows-x86, 3.13:macos-arm64, 3.12:macos-x86_64, or a wheel platform tag such as "
    "3.12:manylinux_2_28_x86_64 or 3.12:musllinux_1_2_x86_64"
)

# friendly name -> (sys_platform, platform_system, os_name, platform_machine, platform tags)
_LINUX_ARCHES = ("x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l")
_WINDOWS = {"amd64": ("AMD64", "win_amd64"), "arm64": ("ARM64", "win_arm64"),
            "x86": ("x86", "win32")}  # fmt: skip
_MACOS_ARCHES = ("arm64", "x86_64")
_PYTHON_RE = re.compile(r"(3)\.(\d{1,2})")
_GLIBC_RE = re.compile(r"manylinux_(\d+)_(\d+)_(\w+)")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MUSL_RE = re.compile(r"musllinux_(\d+)_(\d+)_(\w+)")
_MAC_RE = re.compile(r"macosx_(\d+)_(\d+)_(\w+)")
_LINUX_TAG_RE = re.compile(r"linux_(\w+)")


class TargetError(ValueError):
    """A target that cannot be read; the message says the forms accepted."""


class Target:
    """One Python on one platform: its marker environment and its wheel tags."""

    __slots__ = ("_tag_set", "_tags", "environment", "label", "platforms", "python")

    def __init__(
        self,
        label: str,
        python: tuple[int, int],
        platforms: list[str],
        environment: dict[str, str],
    ) -> None:
        self.label = label  # as the user wrote it, for reports
        self.python = python
        self.platforms = platforms  # platform tags, most preferred first
        self.environment = environment  # for packaging.markers.Marker.evaluate
        self._tags: list[Tag] | None = None
        self._tag_set: frozenset[Tag] | None = None

    def __repr__(self) -> str:
        return f"Target({self.label!r})"

    @property
    def tags(self) -> list[Tag]:
        """Every wheel tag pip accepts on this target, most preferred first (CPython)."""
        if self._tags is None:
            from packaging import tags

            interpreter = f"cp{self.python[0]}{self.python[1]}"
            self._tags = [
                *tags.cpython_tags(self.python, [interpreter, "abi3", "none"], self.platforms),
                *tags.compatible_tags(self.python, interpreter, self.platforms),
            ]
        return self._tags

    def accepts(self, wheel_tags: frozenset[Tag]) -> bool:
        """Whether a wheel with these tags installs here."""
        if self._tag_set is None:
            self._tag_set = frozenset(self.tags)  # a few hundred: look up, not scan
        return not wheel_tags.isdisjoint(self._tag_set)

    def marker_holds(self, marker: str | None, extras: frozenset[str] = frozenset()) -> bool:
        """Whether a requirement's marker is true here (for one of ``extras``, if given)."""
        if not marker:
            return True
        from packaging.markers import Marker

        parsed = Marker(marker)
        if not extras:
            return parsed.evaluate({**self.environment, "extra": ""})
        return any(parsed.evaluate({**self.environment, "extra": extra}) for extra in extras)


def parse_target(text: str) -> Target:
    """``PY:PLATFORM`` as a :class:`Target`, or TargetError saying the forms accepted."""
    python_text, colon, platform = text.strip().partition(":")
    match = _PYTHON_RE.fullmatch(python_text)
    if not colon or match is None or not platform:
        raise TargetError(f"target {text!r} is not PY:PLATFORM; give one like {FORMS}")
    python = (int(match.group(1)), int(match.group(2)))
    platform = platform.lower()
    described = _describe(platform)
    if described is None:
        raise TargetError(f"target {text!r} names an unknown platform; give one like {FORMS}")
    system, machine, tags = described
    return Target(text.strip(), python, tags, _environment(python, system, machine))


def machine_target() -> Target:
    """This machine, as pip sees it: its Python, its marker environment, its tags."""
    import sys

    from packaging import tags
    from packaging.markers import default_environment

    python = (sys.version_info[0], sys.version_info[1])
    target = Target(
        f"{python[0]}.{python[1]}:this machine",
        python,
        list(dict.fromkeys(tag.platform for tag in tags.sys_tags())),
        {key: str(value) for key, value in default_environment().items()},
    )
    target._tags = list(tags.sys_tags())  # the interpreter's own, PyPy or free-threaded too
    return target


def _describe(platform: str) -> tuple[str, str, list[str]] | None:
    """(system, machine, platform tags) of a friendly name or a raw tag."""
    kind, _, arch = platform.partition("-")
    if kind == "linux" and arch in _LINUX_ARCHES:
        return "Linux", arch, _manylinux(DEFAULT_GLIBC, arch)
    if kind == "windows" and arch in _WINDOWS:
        machine, tag = _WINDOWS[arch]
        return "Windows", machine, [tag]
    if kind == "macos" and arch in _MACOS_ARCHES:
        return "Darwin", arch, _macos(DEFAULT_MACOS, arch)
    if kind in ("linux", "windows", "macos"):
        return None  # a friendly name with an architecture it does not have
    platform = platform.replace("-", "_").replace(".", "_")
    for legacy, glibc in _LEGACY_MANYLINUX.items():
        if platform.startswith(legacy + "_"):
            return (
                "Linux",
                platform[len(legacy) + 1 :],
                _manylinux(glibc, platform[len(legacy) + 1 :]),
            )
    if match := _GLIBC_RE.fullmatch(platform):
        major, minor, arch = match.groups()
        return "Linux", arch, _manylinux((int(major), int(minor)), arch)
    if match := _MUSL_RE.fullmatch(platform):
        major, minor, arch = match.groups()
        ladder = [f"musllinux_{major}_{m}_{arch}" for m in range(int(minor), -1, -1)]
        return "Linux", arch, [*ladder, f"linux_{arch}"]
    if match := _MAC_RE.fullmatch(platform):
        major, minor, arch = match.groups()
        return "Darwin", arch, _macos((int(major), int(minor)), arch)
    if match := _LINUX_TAG_RE.fullmatch(platform):
        return "Linux", match.group(1), [platform]
    windows = {tag: (machine, tag) for machine, tag in _WINDOWS.values()}
    if platform in windows:
        return "Windows", windows[platform][0], [platform]
    return None


def _manylinux(glibc: tuple[int, int], arch: str) -> list[str]:
    """pip's ladder for a glibc: manylinux_2_N from the newest down (with the legacy names
    at 2.17, 2.12 and 2.5), then linux_ARCH."""
    lowest = 5 if arch in ("x86_64", "i686") else 17
    ladder = []
    for minor in range(glibc[1], lowest - 1, -1):
        ladder.append(f"manylinux_{glibc[0]}_{minor}_{arch}")
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}.get(minor)
        if legacy and glibc[0] == 2:
            ladder.append(f"{legacy}_{arch}")
    return [*ladder, f"linux_{arch}"]


def _macos(version: tuple[int, int], arch: str) -> list[str]:
    from packaging.tags import mac_platforms

    return list(mac_platforms(version, arch))


def _environment(python: tuple[int, int], system: str, machine: str) -> dict[str, str]:
    """PEP 508's environment markers on such a machine. The patch release is unknown:
    ``python_full_version`` is X.Y.0, as uv takes ``--python-version X.Y``."""
    sys_platform = {"Linux": "linux", "Windows": "win32", "Darwin": "darwin"}[system]
    os_name = "nt" if system == "Windows" else "posix"
    full = f"{python[0]}.{python[1]}.0"
    return marker_environment(full, sys_platform, os_name, system, machine)
