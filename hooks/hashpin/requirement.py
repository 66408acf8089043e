"""What a requirement string means to pip (pip/_internal/req/constructors.py).

pip first splits off the marker (on "; " for a URL, on ";" otherwise), then decides
whether the rest is a URL, a local path or archive, or a PEP 508 requirement. The PEP
508 grammar itself is ``packaging``'s; a strict fast path covers the plain
``name[extras]==version`` lines that make up lock files, because importing
``packaging.requirements`` costs more than checking a whole small file.

Unlike pip, nothing here looks at the file system: a path that does not name an archive
is taken to be a directory, which pip refuses under --require-hashes either way.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from packaging.requirements import Requirement as PackagingRequirement

NAMED = "named"  # resolved from an index: needs a pin and hashes
URL = "url"  # a direct archive, remote or local: needs a hash, not a pin
VCS = "vcs"
DIRECTORY = "directory"

VCS_SCHEMES = frozenset(
    {
        "bzr+http", "bzr+https", "bzr+ssh", "bzr+sftp", "bzr+ftp", "bzr+lp", "bzr+file",
        "git+http", "git+https", "git+ssh", "git+git", "git+file",
        "hg+file", "hg+http", "hg+https", "hg+ssh", "hg+static-http",
        "svn+ssh", "svn+http", "svn+https", "svn+svn", "svn+file",
    }
)  # fmt: skip
_URL_SCHEMES = frozenset({"http", "https", "file", "ftp"}) | VCS_SCHEMES
_ARCHIVE_EXTENSIONS = (
    ".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar",
    ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
)  # fmt: skip
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"[0-9]+(?:\.[0-9]+)*"
_PUBLIC = _RELEASE + r"(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
# A strict subset of PEP 508: one clause, canonical version spellings, no spaces. Every
# string it accepts, packaging accepts with the same meaning (a property test checks
# it); anything else goes to packaging.
_FAST_RE = re.compile(
    rf"(?P<name>{_NAME})(?:\[(?P<extras>{_NAME}(?:,{_NAME})*)\])?"
    # ~= needs two release segments (packaging refuses "~=1").
    rf"(?:(?P<op>==|!=|>=|<=|~=(?=[0-9]+\.[0-9])|<|>)(?P<version>{_PUBLIC}))?"
    rf"(?:(?<===)(?P<local>\+[a-z0-9]+(?:\.[a-z0-9]+)*)|(?<===)(?P<wildcard>\.\*))?"
)
# name==1.2.3, the commonest requirement of a lock file, recognised without building a
# Requirement: whatever it accepts, interpret() takes as a named requirement pinned to
# one version, without extras, marker or URL (a test checks it).
_PLAIN_PIN_RE = re.compile(rf"({_NAME})==[0-9]+(?:\.[0-9]+)*\s*")
# Patterns lock files never need are plain strings, compiled on first use (re caches them).
_HASH_FRAGMENT = r"[#&](sha512|sha384|sha256|sha224|sha1|md5)=([^&]*)"
_EGG_FRAGMENT = r"[#&]egg=([^&]*)"
_PROJECT_NAME = rf"^{_NAME}$"
_EXTRAS_SUFFIX = r"^(.+)(\[[^\]]+\])$"
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_NORMALIZE_RE = re.compile(r"[-_.]+")


class InvalidRequirement(Exception):
    """pip refuses this requirement (and with it the whole install)."""


class Requirement:
    """The facts the rules need about one requirement."""

    __slots__ = ("extras", "kind", "marker", "name", "specifiers", "url", "url_hash")

    def __init__(
        self,
        kind: str,
        name: str | None = None,
        extras: tuple[str, ...] = (),
        specifiers: tuple[tuple[str, str], ...] = (),
        marker: str | None = None,
        url: str | None = None,
    ) -> None:
        self.kind = kind
        self.name = name  # as written (None for an unnamed URL or path)
        self.extras = extras
        self.specifiers = specifiers  # (operator, version) pairs, as packaging keeps them
        self.marker = marker
        self.url = url
        self.url_hash = find_hash_fragment(url) if url else None

    @property
    def key(self) -> str | None:
        return canonical_name(self.name) if self.name else None

    @property
    def is_pinned(self) -> bool:
        """pip's InstallRequirement.is_pinned: exactly one ``==`` or ``===`` clause."""
        return len(self.specifiers) == 1 and self.specifiers[0][0] in ("==", "===")

    @property
    def is_wildcard_pin(self) -> bool:
        return self.is_pinned and self.specifiers[0][1].endswith(".*")

    @property
    def pinned_version(self) -> str | None:
        return self.specifiers[0][1] if self.is_pinned and not self.is_wildcard_pin else None

    def __repr__(self) -> str:
        return f"Requirement({self.kind!r}, name={self.name!r}, specifiers={self.specifiers!r})"


def canonical_name(name: str) -> str:
    """PEP 503 normalization."""
    if "_" not in name and "." not in name and "--" not in name:
        return name.lower()
    return _NORMALIZE_RE.sub("-", name).lower()


def find_hash_fragment(url: str) -> tuple[str, str] | None:
    """The hash pip reads from a URL (pip's LinkHash: searched anywhere after # or &)."""
    match = re.search(_HASH_FRAGMENT, url)
    return (match.group(1), match.group(2)) if match else None


def url_scheme(text: str) -> str | None:
    """The scheme pip's is_url would see, lower-cased, if the text is a URL to pip."""
    match = _SCHEME_RE.match(text)
    if match is None:
        return None
    scheme = match.group(1).lower()
    return scheme if scheme in _URL_SCHEMES else None


def file_url_path(url: str) -> str | None:
    """The local path of a ``file:`` URL (relative ones stay relative), else None."""
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    return unquote(parts.path)


def looks_like_path(text: str) -> bool:
    """pip's _looks_like_path."""
    return os.sep in text or (os.altsep is not None and os.altsep in text) or text.startswith(".")


def is_archive(path: str) -> bool:
    return path.lower().endswith(_ARCHIVE_EXTENSIONS)


def plain_pin_name(text: str) -> str | None:
    """The name of a ``name==1.2.3`` requirement (trailing whitespace allowed), else None."""
    match = _PLAIN_PIN_RE.fullmatch(text)
    return match.group(1) if match is not None else None


def interpret(text: str) -> Requirement:
    """Interpret the requirement part of a non-editable line, as parse_req_from_line does."""
    text = text.strip()
    # Most lines of a lock file. The pattern refuses ";", ":" and "/": no marker, no URL,
    # no path, so pip goes straight to PEP 508 unless it names an archive.
    match = _FAST_RE.fullmatch(text)
    if match is not None and not is_archive(text):
        return _named(match, None)
    is_url = url_scheme(text) is not None
    separator = "; " if is_url else ";"
    marker = None
    if separator in text:
        text, marker_text = text.split(separator, 1)
        marker = marker_text.strip() or None
        if marker is not None:
            check_marker(marker)
    text = text.strip()
    if is_url:
        return _from_url(text, marker, strict=True)
    path, _ = _strip_path_extras(text)
    if is_archive(path):
        before_at, at, _ = text.partition("@")
        if not (at and not looks_like_path(before_at)):
            name = _wheel_name(path) if path.lower().endswith(".whl") else None
            return Requirement(URL, name=name, marker=marker, url=text)
    elif looks_like_path(text):
        # pip installs an existing directory; anything else path-like it refuses as an
        # invalid requirement, unless it happens to be valid PEP 508 ("name @ url").
        try:
            return _from_pep508(text, marker)
        except InvalidRequirement:
            return Requirement(DIRECTORY, marker=marker, url=text)
    return _from_pep508(text, marker)


def _strip_path_extras(text: str) -> tuple[str, str | None]:
    match = re.match(_EXTRAS_SUFFIX, text)
    if match is None:
        return text, None
    return match.group(1).rstrip(), match.group(2)


def _from_url(url: str, marker: str | None, *, strict: bool) -> Requirement:
    """A bare URL (strict: pip derives the name from the wheel file name or #egg=, and
    refuses a bad one) or the URL of a ``name @ url`` requirement (named already)."""
    egg = _egg_name(url)  # pip validates it for every URL, wheel or not
    if url_scheme(url) in VCS_SCHEMES:
        return Requirement(VCS, name=egg if strict else None, marker=marker, url=url)
    path = _url_path(url)
    if strict and path.lower().endswith(".whl"):
        return Requirement(URL, name=_wheel_name(path), marker=marker, url=url)
    # A file: URL is a directory to pip only if it exists where pip runs; otherwise it
    # is an archive that must carry a hash, which is what hashpin asks for either way.
    return Requirement(URL, name=egg if strict else None, marker=marker, url=url)


def _url_path(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    try:
        path = urlsplit(url).path
    except ValueError as exc:
        raise InvalidRequirement(f"invalid URL {url!r}: {exc}") from None
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


def _egg_name(url: str) -> str | None:
    match = re.search(_EGG_FRAGMENT, url)
    if match is None:
        return None
    name = match.group(1)
    if not re.match(_PROJECT_NAME, name):
        raise InvalidRequirement(f"invalid #egg= fragment {name!r}: not a project name")
    return name


def _wheel_name(filename: str) -> str:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    basename = filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        name, _, _, _ = parse_wheel_filename(basename)
    except InvalidWheelFilename as exc:
        raise InvalidRequirement(f"invalid wheel filename: {exc}") from None
    return str(name)


def _from_pep508(text: str, marker: str | None) -> Requirement:
    match = _FAST_RE.fullmatch(text)
    if match is not None:
        return _named(match, marker)
    parsed = _packaging_requirement(text)
    # pip counts clauses after its SpecifierSet has collapsed equal ones (str() of the
    # set, which the candidate's requirement is rebuilt from, drops them): "==1.0,==1.00"
    # is one clause, so pinned. Specifier equality is packaging's (versions compared).
    specs = tuple((spec.operator, spec.version) for spec in dict.fromkeys(parsed.specifier))
    if parsed.url:
        kind = _from_url(parsed.url, marker, strict=False).kind
        return Requirement(
            kind,
            name=parsed.name,
            extras=tuple(sorted(parsed.extras)),
            marker=marker,
            url=parsed.url,
        )
    return Requirement(
        NAMED,
        name=parsed.name,
        extras=tuple(sorted(parsed.extras)),
        specifiers=specs,
        marker=marker,
    )


def _named(match: re.Match[str], marker: str | None) -> Requirement:
    name, extras, operator, version, local, wildcard = match.groups()
    return Requirement(  # positional: keyword arguments cost a dict per call
        NAMED,
        name,
        tuple(extras.split(",")) if extras else (),
        ((operator, version + (local or wildcard or "")),) if operator else (),
        marker,
    )


def _packaging_requirement(text: str) -> PackagingRequirement:
    from packaging.requirements import InvalidRequirement as PackagingInvalid
    from packaging.requirements import Requirement as Parsed

    try:
        return Parsed(text)
    except PackagingInvalid as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise InvalidRequirement(f"invalid requirement {text!r}: {first_line}") from None


_valid_markers: set[str] = set()


def check_marker(marker: str) -> None:
    """Raise InvalidRequirement unless packaging accepts the marker (memoized: lock files
    repeat the same few markers thousands of times)."""
    if marker in _valid_markers:
        return
    from packaging.markers import InvalidMarker, Marker

    try:
        Marker(marker)
    except InvalidMarker as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise InvalidRequirement(f"invalid marker {marker!r}: {first_line}") from None
    _valid_markers.add(marker)


# -- what the check needs to compare two lines of one project (only for repeats) ------------


def link_key(requirement: Requirement) -> str:
    """What pip's Link of a direct requirement compares equal by (its URL string).

    pip turns a local path into ``file://`` + ``normpath(abspath(path))``: two spellings
    of one path (``./dist/x.whl``, ``dist/x.whl``) are one link, relative to one folder.
    """
    url = requirement.url or ""
    if url_scheme(url) is not None:
        return url
    path, _ = _strip_path_extras(url)
    return "path:" + os.path.normpath(path)


def candidate_key(requirement: Requirement) -> tuple[object, ...]:
    """What makes two direct requirements one candidate to pip's resolver
    (pip's ``links_equivalent``: no user info, no query order, no ``egg=``, but the
    hash fragments and ``subdirectory=`` count)."""
    url = requirement.url or ""
    if url_scheme(url) is None:
        return (link_key(requirement),)
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.scheme == "file" and not netloc:
        netloc = "localhost"
    fragment = parse_qs(parts.fragment)
    kept = tuple(
        sorted(
            (key, values[0])
            for key, values in fragment.items()
            if key in ("subdirectory", "sha1", "sha224", "sha384", "sha256", "sha512", "md5")
        )
    )
    query = tuple(sorted((key, tuple(values)) for key, values in parse_qs(parts.query).items()))
    return (parts.scheme, netloc, parts.path, query, kept)


def url_version(requirement: Requirement) -> str | None:
    """The version a direct wheel requirement installs (from its file name), else None."""
    url = requirement.url or ""
    if url_scheme(url) is not None:
        try:
            filename = _url_path(url)
        except InvalidRequirement:
            return None
    else:
        filename = _strip_path_extras(url)[0].replace("\\", "/").rsplit("/", 1)[-1]
    if not filename.lower().endswith(".whl"):
        return None
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        return str(parse_wheel_filename(filename)[1])
    except InvalidWheelFilename:
        return None


def admits(specifiers: tuple[tuple[str, str], ...], version: str) -> bool:
    """Whether pip's resolver lets a candidate of this version satisfy these clauses
    (``SpecifierSet.contains(version, prereleases=True)``); True when it cannot tell."""
    if not specifiers or specifiers == (("==", version),):
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion

    try:
        spec = SpecifierSet(",".join(operator + value for operator, value in specifiers))
        return spec.contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion, TypeError, ValueError):
        return True


def same_version(one: str, other: str) -> bool:
    """Whether two version strings are one version to pip (True when it cannot tell)."""
    if one == other:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        return Version(one) == Version(other)
    except InvalidVersion:
        return True


_normal_markers: dict[str, str] = {}


def normal_marker(marker: str) -> str:
    """The marker as packaging writes it back: quotes, spaces and case settled, so that
    ``python_version>='3.8'`` and ``python_version >= "3.8"`` are one text."""
    normal = _normal_markers.get(marker)
    if normal is None:
        from packaging.markers import Marker

        normal = _normal_markers[marker] = str(Marker(marker))
    return normal


def marker_implies(marker: str | None, other: str | None) -> bool:
    """True if wherever ``marker`` holds, ``other`` holds too, as far as can be proved
    from the text: ``other`` is absent, means the same, or is some of the clauses that
    ``marker`` joins with ``and``. Sound, not complete: False when it cannot tell."""
    if other is None or marker == other:
        return True
    if marker is None:
        return False
    have = _conjuncts(normal_marker(marker))
    return _conjuncts(normal_marker(other)) <= have


def _conjuncts(normal: str) -> frozenset[str]:
    """The clauses a normalized marker joins with ``and`` at its top level."""
    normal = _unwrap(normal)
    if len(_split_top(normal, " or ")) > 1:  # "or" binds looser than "and"
        return frozenset((normal,))
    parts = _split_top(normal, " and ")
    if len(parts) == 1:
        return frozenset((normal,))
    return frozenset().union(*(_conjuncts(part) for part in parts))


def _unwrap(text: str) -> str:
    """``(a and b)`` without the parentheses that enclose all of it."""
    while text.startswith("(") and _split_top(text[1:], ")")[1:] == [""]:
        text = text[1:-1].strip()
    return text


def _split_top(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside quotes and parentheses (for ")" : at depth 0 only)."""
    parts, depth, quote, start, index = [], 0, "", 0, 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif separator == ")" and char == ")" and depth == 0:
            parts.append(text[start:index])
            start = index + 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    parts.append(text[start:])
    return parts


# The environments a requirements file is assumed to serve, to decide whether two markers
# can both hold: a marker pair is proved to overlap only by one of them where both hold.
# (Python 3.7 to 3.14; CPython and PyPy; Linux x86_64/aarch64, Windows AMD64, macOS
# arm64/x86_64.) tests/pip_oracle.py holds the same list.
TARGET_PYTHONS = ("3.7.17", "3.8.20", "3.9.21", "3.10.16", "3.11.11", "3.12.9", "3.13.2", "3.14.0")
TARGET_PLATFORMS = (
    ("linux", "posix", "Linux", "x86_64"),
    ("linux", "posix", "Linux", "aarch64"),
    ("win32", "nt", "Windows", "AMD64"),
    ("darwin", "posix", "Darwin", "arm64"),
    ("darwin", "posix", "Darwin", "x86_64"),
)
TARGET_IMPLEMENTATIONS = (("cpython", "CPython"), ("pypy", "PyPy"))


def marker_environment(
    full_version: str,
    sys_platform: str,
    os_name: str,
    system: str,
    machine: str,
    implementation: str = "cpython",
    python_implementation: str = "CPython",
) -> dict[str, str]:
    """PEP 508's marker variables on such a machine (release and version unknown: "")."""
    return {
        "implementation_name": implementation,
        "implementation_version": full_version,
        "os_name": os_name,
        "platform_machine": machine,
        "platform_python_implementation": python_implementation,
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": full_version,
        "python_version": ".".join(full_version.split(".")[:2]),
        "sys_platform": sys_platform,
    }


def target_environments() -> list[dict[str, str]]:
    return [
        {
            **marker_environment(
                full_version, sys_platform, os_name, system, machine, *implementation
            ),
            "extra": "",
        }
        for full_version in TARGET_PYTHONS
        for sys_platform, os_name, system, machine in TARGET_PLATFORMS
        for implementation in TARGET_IMPLEMENTATIONS
    ]


_target_masks: dict[str, int] = {}
_environments: list[dict[str, str]] = []


def _targets_of(marker: str) -> int:
    """A bit per target environment where the marker holds."""
    mask = _target_masks.get(marker)
    if mask is None:
        from packaging.markers import Marker

        if not _environments:
            _environments.extend(target_environments())
        parsed = Marker(marker)
        mask = 0
        for bit, environment in enumerate(_environments):
            try:
                holds = parsed.evaluate(environment)
            except Exception:  # packaging refuses a comparison: it never holds there
                holds = False
            if holds:
                mask |= 1 << bit
        _target_masks[marker] = mask
    return mask


def markers_overlap(marker: str | None, other: str | None) -> bool:
    """True if some target environment satisfies both markers (None: always holds)."""
    if marker is None and other is None:
        return True
    if marker is None or other is None:
        return _targets_of(marker or other or "") != 0
    return (_targets_of(marker) & _targets_of(other)) != 0
