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
    specs = tuple((spec.operator, spec.version) for spec in parsed.specifier)
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
