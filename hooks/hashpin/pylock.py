"""PEP 751 lock files (``pylock.toml``, ``pylock.<name>.toml``): the offline check.

Imported only when a lock file is checked, so that checking requirements files loads
neither this module nor tomllib. tomllib reads the document; it gives no positions, so
``scan`` finds them in the text, in one linear pass that may trust the text to be TOML
(tomllib accepted it first): the ``[[packages]]`` header of each package (or the ``{`` of
an inline one), the line of each key, and each wheel, sdist or archive by the line of its
``name``, else its ``url`` or ``path``.

What pip 26 refuses (packaging's ``Pylock.from_dict``, then ``Pylock.select``) is an error,
under the code that means the same for requirements files: HP000 invalid, HP002 unhashed,
HP003 editable, HP004 vcs, HP005 local-directory, HP006 malformed-hash. What only a lock
file can get wrong has the HP3xx rules of rules.RULES.
"""

from __future__ import annotations

import contextlib
import os
import re

from .digests import DIGEST_LENGTHS
from .requirement import _split_top, _unwrap, target_environments
from .rules import Finding, _insecure, suppress_comment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.markers import Marker

    _Path = tuple[str | int, ...]  # where in the document: keys and array indices

# pip takes a file for a lock file only by this name (packaging.pylock.is_valid_pylock_path)
_PIP_LOCK_NAME = re.compile(r"pylock\.toml|pylock\.[^.]+\.toml")
# packaging.utils.is_normalized_name: pip refuses a package name that is not normalized
_NORMALIZED_NAME = re.compile(r"[a-z0-9]|[a-z0-9](?:[a-z0-9-](?!--))*[a-z0-9]")
_TOML_ERROR_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")
_WEAK = frozenset({"md5", "sha1", "sha224"})
_HEX = re.compile(r"[0-9a-fA-F]+")
# name-version[-build]-python-abi-platform.whl, each part free of "-"; the build tag starts
# with a digit, as packaging.utils.parse_wheel_filename requires
_PLAIN_WHEEL = re.compile(
    r"([A-Za-z0-9_.]+)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl"
)  # as for a URL's own #md5= (HP106)
_SOURCES = ("vcs", "directory", "archive")


def check_lock(path: str, data: bytes) -> list[Finding]:
    """Every finding of the lock file ``path`` holding ``data``, suppressions applied."""
    checker = _Checker(path)
    checker.check(data)
    return checker.result()


# -- Positions -------------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\r\n]*")
_BLANK = re.compile(r"[ \t]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_STRING = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""(?:""?)?'  # multi-line basic, up to 2 more quotes
    r"|'''[\s\S]*?'''(?:''?)?"  # multi-line literal
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
)
_SCALAR = re.compile(  # numbers, booleans, dates and times (a date-time may hold a space)
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?"
    r"|[^\s,\]\}#]+"
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "e": "\x1b",
}
_ARRAY, _TABLE = 0, 1


class Positions:
    """Where each table, key and array element of a TOML text starts, by its path (keys
    and array indices, as the parsed document is indexed), and the comment of each line.

    Lines are counted as tomllib counts them (``\\n`` ends a line), columns from 1 in
    characters, so a finding and a TOMLDecodeError point alike.
    """

    __slots__ = ("_line_starts", "comments", "offsets")

    def __init__(self, text: str) -> None:
        self.offsets: dict[_Path, int] = {}
        self.comments: dict[int, str] = {}  # line -> its comment, after the '#'
        self._line_starts = [0]
        self._line_starts.extend(match.end() for match in re.finditer("\n", text))
        comments: dict[int, str] = {}
        # Not TOML after all (cannot happen after tomllib): keep what was found.
        with contextlib.suppress(IndexError, AttributeError, TypeError):
            _scan(text, self.offsets, comments)
        for offset, comment in comments.items():
            self.comments[self.locate(offset)[0]] = comment

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) of a character offset."""
        starts = self._line_starts
        low, high = 0, len(starts)
        while low + 1 < high:  # bisect (its key= is Python 3.10+ only; not needed here)
            middle = (low + high) // 2
            if starts[middle] <= offset:
                low = middle
            else:
                high = middle
        return low + 1, offset - starts[low] + 1

    def find(self, path: _Path) -> tuple[int, int]:
        """(line, column) of ``path``, else of the nearest enclosing thing found; (1, 1)."""
        while path:
            offset = self.offsets.get(path)
            if offset is not None:
                return self.locate(offset)
            path = path[:-1]
        return 1, 1

    def has(self, path: _Path) -> bool:
        return path in self.offsets


def _scan(text: str, offsets: dict[_Path, int], comments: dict[int, str]) -> None:
    """Fill ``offsets`` and ``comments`` (by offset) from ``text``, which must be TOML.

    One pass, no recursion: nested arrays and inline tables are frames on a stack. A header
    ``[[a.b]]`` appends an element to the array of tables ``a.b``; any other path through
    an array of tables goes into its last element, as TOML says.
    """
    end = len(text)
    lengths: dict[_Path, int] = {}  # array of tables -> its elements so far
    table: _Path = ()
    stack: list[list[object]] = []  # [kind, path, next index]

    def gap(pos: int) -> int:
        while True:
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if pos < end and text[pos] == "#":
                stop = text.find("\n", pos)
                stop = end if stop < 0 else stop
                comments[pos] = text[pos + 1 : stop].rstrip("\r")
                pos = stop
                continue
            return pos

    def keys(pos: int) -> tuple[list[tuple[str, int]], int]:
        """The parts of a dotted key, each with its offset, and the offset after it."""
        found = []
        while True:
            pos = _BLANK.match(text, pos).end()  # type: ignore[union-attr]
            pattern = _STRING if text[pos] in "\"'" else _BARE_KEY
            token = pattern.match(text, pos).group()  # type: ignore[union-attr]
            found.append((_unquote(token) if pattern is _STRING else token, pos))
            pos = _BLANK.match(text, pos + len(token)).end()  # type: ignore[union-attr]
            if text[pos] != ".":
                return found, pos
            pos += 1

    def key_value(pos: int, base: _Path) -> int:
        parts, pos = keys(pos)
        path = base
        for name, start in parts:
            path = (*path, name)
            offsets.setdefault(path, start)
        pos = gap(pos + 1)  # past '='
        return value(pos, path)

    def value(pos: int, path: _Path) -> int:
        char = text[pos]
        if char == "[":
            stack.append([_ARRAY, path, 0])
            return pos + 1
        if char == "{":
            stack.append([_TABLE, path, 0])
            return pos + 1
        pattern = _STRING if char in "\"'" else _SCALAR
        return pattern.match(text, pos).end()  # type: ignore[union-attr]

    pos = gap(0)
    while pos < end:
        char = text[pos]
        if stack:
            frame = stack[-1]
            if char in "]}":
                stack.pop()
                pos += 1
            elif char == ",":
                pos += 1
            elif frame[0] == _ARRAY:
                index = frame[2]
                assert isinstance(index, int)
                frame[2] = index + 1
                element: _Path = (*frame[1], index)  # type: ignore[misc]
                offsets[element] = pos
                pos = value(pos, element)
            else:
                pos = key_value(pos, frame[1])  # type: ignore[arg-type]
        elif char == "[":
            double = text.startswith("[[", pos)
            parts, after = keys(pos + (2 if double else 1))
            path: _Path = ()
            for depth, (name, _) in enumerate(parts):
                path = (*path, name)
                offsets.setdefault(path, pos)  # a table (or array of tables) at its header
                if double and depth == len(parts) - 1:
                    count = lengths.get(path, 0)
                    lengths[path] = count + 1
                    path = (*path, count)
                elif path in lengths:
                    path = (*path, lengths[path] - 1)
            table = path
            offsets.setdefault(table, pos)
            pos = after + (2 if double else 1)
        else:
            pos = key_value(pos, table)
        pos = gap(pos)


def _unquote(token: str) -> str:
    if token.startswith("'"):
        return token[1:-1]

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape[0] in "uU":
            return chr(int(escape[1:], 16))
        return _ESCAPES.get(escape, escape)

    return _ESCAPE.sub(replace, token[1:-1])


# -- The check -------------------------------------------------------------------------------


def _type_name(value: object, *, expected: bool = False) -> str:
    """What TOML calls the type of ``value`` (of the type ``value``, if ``expected``)."""
    import datetime

    kind = value if expected else type(value)
    for known, name in (
        (bool, "true or false" if expected else "a boolean"),
        (str, "a string"),
        (int, "an integer"),
        (float, "a float"),
        (list, "an array"),
        (dict, "a table"),
        (datetime.datetime, "a date-time"),
        (datetime.date, "a date"),
        (datetime.time, "a time"),
    ):
        if isinstance(kind, type) and issubclass(kind, known):
            return name
    return str(getattr(kind, "__name__", kind))


class _Package:
    """What the checks of one ``[[packages]]`` entry found out, for those across packages."""

    __slots__ = (
        "all_wheels_known",
        "index",
        "marker",
        "name",
        "requires_python",
        "sdist",
        "table",
        "wheels",
    )

    def __init__(self, index: int, table: dict[str, object]) -> None:
        self.index = index
        self.table = table
        self.name: str | None = None
        self.marker: Marker | None = None  # parsed, when it parses
        self.requires_python: object = None  # a SpecifierSet, when it parses
        self.wheels: list[str] = []  # file names of the wheels that parse as ones
        self.all_wheels_known = True  # every wheel's file name parses
        self.sdist = False  # a source the wheels' platforms do not limit (sdist or direct)


class _First:
    """Where an entry is: the first of ``paths`` the text has, else ``fallback``."""

    __slots__ = ("fallback", "paths")

    def __init__(self, paths: tuple[_Path, ...], fallback: _Path) -> None:
        self.paths = paths
        self.fallback = fallback


class _Checker:
    """The checks of one file. The text is scanned for positions only when a finding
    needs one, or a comment may suppress one: a clean lock file costs the parse alone."""

    __slots__ = ("_positions", "findings", "path", "text")

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.text: str | None = None  # once it parsed as TOML
        self._positions: Positions | None = None

    def positions(self) -> Positions | None:
        if self._positions is None and self.text is not None:
            self._positions = Positions(self.text)
        return self._positions

    def place(self, where: _Path | _First) -> tuple[int, int]:
        positions = self.positions()
        if positions is None:
            return 1, 1
        if isinstance(where, _First):
            where = next((path for path in where.paths if positions.has(path)), where.fallback)
        return positions.find(where)

    def at(
        self, code: str, message: str, where: _Path | _First = (), requirement: str | None = None
    ) -> None:
        line, column = self.place(where)
        self.findings.append(
            Finding(self.path, code, message, line=line, column=column, requirement=requirement)
        )

    def result(self) -> list[Finding]:
        """The findings in the order of the file, each line's suppression comment applied."""
        by_line: dict[int, list[Finding]] = {}
        for finding in self.findings:
            by_line.setdefault(finding.line, []).append(finding)
        positions = self.positions() if self.text and "hashpin" in self.text else None
        comments = positions.comments if positions is not None else {}
        for number, comment in comments.items():
            if "hashpin" in comment:  # only a suppression comment can suppress
                found = by_line.get(number, [])
                by_line[number] = suppress_comment(self.path, comment, number, number, found)
        return sorted(
            (finding for findings in by_line.values() for finding in findings),
            key=lambda finding: (finding.line, finding.column),
        )

    # -- the document ----------------------------------------------------------------

    def check(self, data: bytes) -> None:
        name = os.path.basename(self.path)
        if not _PIP_LOCK_NAME.fullmatch(name):
            self.at(
                "HP000",
                f"pip reads {name} as a requirements file, not a lock file: a lock file is "
                "named pylock.toml or pylock.<name>.toml, with no dot in <name>",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            before = data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start]
            column = len(before.decode("utf-8", "replace")) + 1  # in characters, as elsewhere
            message = f"is not UTF-8 (byte 0x{data[exc.start]:02x}), as a TOML file must be"
            self.findings.append(Finding(self.path, "HP000", message, line=line, column=column))
            return
        document = self.parse(text)
        if document is None:
            return
        self.text = text
        self.check_document(document)

    def parse(self, text: str) -> dict[str, object] | None:
        from .tomltext import tomllib

        try:
            document: dict[str, object] = tomllib.loads(text)
            return document
        except tomllib.TOMLDecodeError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
            match = _TOML_ERROR_AT.search(message)
            if match is not None:
                message = message[: match.start()]
                if line is None and match.group(1):
                    line, column = int(match.group(1)), int(match.group(2))
            if line is None:  # at the end of the document
                line = text.count("\n") + 1
                column = len(text) - (text.rfind("\n") + 1) + 1
            if text.startswith("\ufeff") and (line, column) == (1, 1):
                message = "starts with a byte order mark, which pip's TOML parser refuses"
            else:
                message = f"invalid TOML: {message[:1].lower()}{message[1:]}"
            self.findings.append(
                Finding(self.path, "HP000", message, line=line, column=column or 1)
            )
        except RecursionError:  # tomllib parses nested arrays and tables recursively
            self.findings.append(Finding(self.path, "HP000", "invalid TOML: nested too deeply"))
        return None

    def typed(
        self, table: Mapping[str, object], key: str, kind: type, where: _Path, label: str = ""
    ) -> object:
        """``table[key]`` if it is of ``kind``; None if absent, or (HP000) of another type."""
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        self.at(
            "HP000",
            f"{label}{key} must be {_type_name(kind, expected=True)}, not "
            f"{_type_name(value)}: pip refuses the file",
            (*where, key),
        )
        return None

    def check_document(self, document: dict[str, object]) -> None:
        version = self.typed(document, "lock-version", str, ())
        if "lock-version" not in document:
            self.at("HP000", "there is no lock-version: pip refuses a lock file without it")
        elif isinstance(version, str) and not self.supported(version):
            return  # another format: its packages cannot be judged by version 1's rules
        if "created-by" not in document:
            self.at("HP000", "there is no created-by: pip refuses a lock file without it")
        self.typed(document, "created-by", str, ())
        for key in ("dependency-groups", "default-groups"):
            self.strings(document, key, ())
        for index, name in enumerate(self.strings(document, "extras", ())):
            if not _NORMALIZED_NAME.fullmatch(name):
                self.at(
                    "HP000", f"extra {name!r} is not normalized: pip refuses it", ("extras", index)
                )
        environments = self.environments(document)
        requires_python = self.specifier(document, "requires-python", (), "")
        raw = document.get("packages")
        if raw is None:
            self.at("HP000", "there is no packages array: pip refuses a lock file without it")
            return
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            self.at(
                "HP000", "packages must be an array of tables: pip refuses the file", ("packages",)
            )
            return
        packages = [self.package(index, table) for index, table in enumerate(raw)]
        self.duplicates(packages, document)
        if environments and (requires_python is not None or "requires-python" not in document):
            self.unserved(packages, environments, requires_python, document)

    def supported(self, version: str) -> bool:
        from packaging.version import InvalidVersion, Version

        try:
            parsed = Version(version)
        except InvalidVersion:
            self.at(
                "HP000",
                f"lock-version {version!r} is not a version: pip refuses the file",
                ("lock-version",),
            )
            return False
        if not Version("1") <= parsed < Version("2"):
            self.at(
                "HP000",
                f"lock-version {version} is not supported: pip reads lock-version 1.x only",
                ("lock-version",),
            )
            return False
        return True

    def strings(self, table: Mapping[str, object], key: str, where: _Path) -> list[str]:
        value = self.typed(table, key, list, where)
        if not isinstance(value, list):
            return []
        if not all(isinstance(item, str) for item in value):
            self.at(
                "HP000", f"{key} must be an array of strings: pip refuses the file", (*where, key)
            )
            return []
        return value

    def environments(self, document: Mapping[str, object]) -> list[Marker] | None:
        """The parsed ``environments`` markers; None unless every one parses."""
        markers = [
            self.marker(text, ("environments", index), "environment marker", None)
            for index, text in enumerate(self.strings(document, "environments", ()))
        ]
        parsed = [marker for marker in markers if marker is not None]
        return parsed if len(parsed) == len(markers) else None

    def marker(self, text: str, where: _Path, what: str, requirement: str | None) -> Marker | None:
        from packaging.markers import InvalidMarker, Marker

        try:
            return Marker(text)
        except InvalidMarker as exc:
            if _LOCK_MARKERS.search(text) and not _lock_markers_known():
                return None  # packaging before 25 does not know extras/dependency_groups
            first = str(exc).splitlines()[0] if str(exc) else "invalid"
            self.at("HP304", f"{what} {text!r} does not parse: {first}", where, requirement)
        except RecursionError:
            self.at("HP304", f"{what} is nested too deeply to parse", where, requirement)
        return None

    def specifier(
        self,
        table: Mapping[str, object],
        key: str,
        where: _Path,
        label: str,
        requirement: str | None = None,
    ) -> object:
        """The SpecifierSet of ``table[key]``; None if absent or (HP304) invalid."""
        text = self.typed(table, key, str, where, label)
        if not isinstance(text, str):
            return None
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            return SpecifierSet(text)
        except InvalidSpecifier as exc:
            self.at(
                "HP304", f"{label}{key} {text!r} does not parse: {exc}", (*where, key), requirement
            )
        return None

    # -- one package -----------------------------------------------------------------

    def package(self, index: int, table: dict[str, object]) -> _Package:
        where: _Path = ("packages", index)
        package = _Package(index, table)
        name = self.typed(table, "name", str, where)
        if "name" not in table:
            self.at("HP000", f"packages[{index}] has no name: pip refuses the file", where)
        elif isinstance(name, str):
            if _NORMALIZED_NAME.fullmatch(name):
                package.name = name
            else:
                from packaging.utils import canonicalize_name

                self.at(
                    "HP000",
                    f"package name {name!r} is not normalized: pip refuses it "
                    f"(write {canonicalize_name(name)!r})",
                    (*where, "name"),
                )
                package.name = canonicalize_name(name)
        label = package.name or f"packages[{index}]"
        version = self.typed(table, "version", str, where)
        if isinstance(version, str):
            from packaging.version import InvalidVersion, Version

            try:
                Version(version)
            except InvalidVersion:
                self.at(
                    "HP000",
                    f"version {version!r} of {label} is not a version: pip refuses it",
                    (*where, "version"),
                    package.name,
                )
                version = None
        marker = self.typed(table, "marker", str, where)
        if isinstance(marker, str):
            package.marker = self.marker(marker, (*where, "marker"), "marker", package.name)
        package.requires_python = self.specifier(table, "requires-python", where, "", package.name)
        index_url = self.typed(table, "index", str, where)
        if isinstance(index_url, str) and _insecure(index_url):
            self.at(
                "HP105",
                f"index {index_url} is not served over https",
                (*where, "index"),
                package.name,
            )
        self.typed(table, "dependencies", list, where)
        self.typed(table, "tool", dict, where)
        identities = self.typed(table, "attestation-identities", list, where)
        for number, identity in enumerate(identities if isinstance(identities, list) else ()):
            if not isinstance(identity, dict) or not isinstance(identity.get("kind"), str):
                self.at(
                    "HP000",
                    f"attestation-identities[{number}] of {label} has no kind: pip "
                    "refuses the file",
                    (*where, "attestation-identities", number),
                    package.name,
                )
        self.sources(package, where, label, version if isinstance(version, str) else None)
        return package

    def sources(self, package: _Package, where: _Path, label: str, version: str | None) -> None:
        table = package.table
        wheels = self.typed(table, "wheels", list, where)
        if isinstance(wheels, list) and not all(isinstance(item, dict) for item in wheels):
            self.at(
                "HP000",
                "wheels must be an array of tables: pip refuses the file",
                (*where, "wheels"),
                package.name,
            )
            wheels = None
        # packaging's rule: no vcs, directory or archive beside an sdist or wheels, and
        # exactly one of them without (an empty wheels array counts as none).
        direct = [kind for kind in _SOURCES if table.get(kind) is not None]
        built = [kind for kind in ("sdist", "wheels") if table.get(kind)]
        if len(direct) + bool(built) > 1:
            self.at(
                "HP000",
                f"{label} has more than one kind of source ({', '.join(direct + built)}): pip "
                "refuses a package with more than one of vcs, directory, archive, sdist/wheels",
                where,
                package.name,
            )
        elif not direct and not built:
            self.at(
                "HP000",
                f"{label} has no source (vcs, directory, archive, sdist or wheels): "
                "pip refuses the file",
                where,
                package.name,
            )
        vcs = self.typed(table, "vcs", dict, where)
        if isinstance(vcs, dict):
            self.vcs(vcs, (*where, "vcs"), label, package.name)
        directory = self.typed(table, "directory", dict, where)
        if isinstance(directory, dict):
            self.directory(directory, (*where, "directory"), label, package.name)
        archive = self.typed(table, "archive", dict, where)
        if isinstance(archive, dict):
            self.artifact(archive, (*where, "archive"), "archive", package.name)
        sdist = self.typed(table, "sdist", dict, where)
        if isinstance(sdist, dict):
            filename = self.artifact(sdist, (*where, "sdist"), "sdist", package.name)
            self.filename(filename, (*where, "sdist"), "sdist", package, version)
        package.sdist = any(table.get(kind) is not None for kind in (*_SOURCES, "sdist"))
        for number, wheel in enumerate(wheels if isinstance(wheels, list) else []):
            wheel_where = (*where, "wheels", number)
            filename = self.artifact(wheel, wheel_where, "wheel", package.name)
            if filename is not None and self.filename(
                filename, wheel_where, "wheel", package, version
            ):
                package.wheels.append(filename)
            else:
                package.all_wheels_known = False

    def vcs(self, vcs: dict[str, object], where: _Path, label: str, name: str | None) -> None:
        kind = self.typed(vcs, "type", str, where, "vcs ")
        url = self.typed(vcs, "url", str, where, "vcs ")
        path = self.typed(vcs, "path", str, where, "vcs ")
        commit = self.typed(vcs, "commit-id", str, where, "vcs ")
        if "type" not in vcs:
            self.at("HP000", f"the vcs of {label} has no type: pip refuses the file", where, name)
        if url is None and path is None:
            self.at(
                "HP000",
                f"the vcs of {label} has neither url nor path: pip refuses the file",
                where,
                name,
            )
        source = f" ({url or path})" if url or path else ""
        repository = f"a {kind} repository" if kind else "a version-control repository"
        message = f"{label} comes from {repository}{source}, which cannot be hashed"
        if "commit-id" not in vcs:
            message += "; and it has no commit-id, without which pip refuses the file"
        elif not isinstance(commit, str):
            message += "; and its commit-id is not a string"
        self.at("HP004", message, where, name)

    def directory(
        self, directory: dict[str, object], where: _Path, label: str, name: str | None
    ) -> None:
        path = self.typed(directory, "path", str, where, "directory ")
        editable = self.typed(directory, "editable", bool, where, "directory ")
        if "path" not in directory:
            self.at(
                "HP000", f"the directory of {label} has no path: pip refuses the file", where, name
            )
        shown = f" {path}" if path else ""
        if editable:
            self.at(
                "HP003",
                f"{label} is an editable directory{shown}, which cannot be hashed",
                where,
                name,
            )
        else:
            self.at(
                "HP005", f"{label} is a local directory{shown}, which cannot be hashed", where, name
            )

    def artifact(
        self, entry: dict[str, object], where: _Path, kind: str, name: str | None
    ) -> str | None:
        """Check a wheel, sdist or archive table; its file name (for a wheel or sdist), if
        it says one: ``name``, else the last part of ``path``, else of ``url``."""
        entry_where = _First(
            tuple((*where, key) for key in ("name", "url", "path") if key in entry), where
        )
        label = f"{kind} " if kind != "archive" else ""
        file_name = self.typed(entry, "name", str, where, label) if kind != "archive" else None
        url = self.typed(entry, "url", str, where, label)
        path = self.typed(entry, "path", str, where, label)
        self.typed(entry, "size", int, where, label)
        if entry.get("upload-time") is not None:
            import datetime

            self.typed(entry, "upload-time", datetime.datetime, where, label)
        if kind == "archive":
            self.typed(entry, "subdirectory", str, where, label)
        shown_name = (file_name if isinstance(file_name, str) and file_name else None) or (
            last_part(path, "/\\") or last_part(url, "/", quoted=True)
        )
        shown = f"{kind} {shown_name}" if shown_name and kind != "archive" else f"the {kind}"
        of = f" of {name}" if name else ""
        if url is None and path is None:
            self.at(
                "HP000",
                f"{shown}{of} has neither url nor path: pip refuses the file",
                entry_where,
                name,
            )
        if isinstance(url, str) and _insecure(url):
            self.at("HP105", f"{url} is not served over https", (*where, "url"), name)
        for key, value, separators, quoted in (
            ("url", url, "/", True),
            ("path", path, "/\\", False),
        ):
            last = last_part(value, separators, quoted=quoted)
            if file_name and last is not None and last != file_name:
                self.at(
                    "HP302",
                    f"the {key} of {kind} {file_name}{of} ends in {last!r}: pip picks the "
                    "file by its name, and installs another",
                    (*where, key),
                    name,
                )
        self.hashes(entry, where, entry_where, f"{shown}{of}", name)
        return shown_name if kind != "archive" else None

    def hashes(
        self,
        entry: dict[str, object],
        where: _Path,
        entry_where: _Path | _First,
        shown: str,
        name: str | None,
    ) -> None:
        import hashlib

        hashes = self.typed(entry, "hashes", dict, where)
        if "hashes" not in entry:
            self.at("HP002", f"{shown} has no hashes", entry_where, name)
            return
        if not isinstance(hashes, dict):
            return
        if not hashes:
            self.at("HP002", f"{shown} has an empty hashes table", entry_where, name)
            return
        where = (*where, "hashes")
        for algorithm, digest in hashes.items():
            key = (*where, algorithm)
            if not isinstance(digest, str):
                self.at(
                    "HP000",
                    f"the {algorithm} hash of {shown} is not a string: pip refuses the file",
                    key,
                    name,
                )
                continue
            if algorithm not in hashlib.algorithms_guaranteed:
                known = algorithm.lower() in hashlib.algorithms_guaranteed
                hint = f" (write {algorithm.lower()!r})" if known else ""
                self.at(
                    "HP303",
                    f"hash algorithm {algorithm!r} of {shown} is not in "
                    f"hashlib.algorithms_guaranteed{hint}: pip fails the install where "
                    "hashlib lacks it",
                    key,
                    name,
                )
            elif algorithm.startswith("shake_"):
                self.at(
                    "HP303",
                    f"{algorithm} of {shown} has no fixed digest length: pip cannot "
                    "compute it, and fails once it gets to it (no hash before it matched)",
                    key,
                    name,
                )
            problem = digest_problem(algorithm, digest)
            if problem:
                self.at("HP006", problem, key, name)
        if all(algorithm in _WEAK for algorithm in hashes):
            weak = " and ".join(sorted(hashes))
            self.at("HP106", f"{shown} is verified only by {weak}", entry_where, name)

    def filename(
        self,
        filename: str | None,
        where: _Path,
        kind: str,
        package: _Package,
        version: str | None,
    ) -> bool:
        """HP301 unless the file name is a wheel's (sdist's) of the package's name and
        version; whether it parses as one."""
        if filename is None:
            return False
        if _plainly_of(filename, kind, package.name, version):
            return True
        from packaging.utils import (
            InvalidSdistFilename,
            InvalidWheelFilename,
            canonicalize_name,
            parse_sdist_filename,
            parse_wheel_filename,
        )
        from packaging.version import Version

        entry_where = _First(tuple((*where, key) for key in ("name", "path", "url")), where)
        try:
            if kind == "wheel":
                project, found, _, _ = parse_wheel_filename(filename)
            else:
                project, found = parse_sdist_filename(filename)
        except (InvalidWheelFilename, InvalidSdistFilename) as exc:
            self.at(
                "HP301",
                f"{filename!r} is not a valid {kind} file name: {exc}",
                entry_where,
                package.name,
            )
            return False
        if package.name is not None and canonicalize_name(project) != package.name:
            self.at(
                "HP301",
                f"{kind} {filename} is of project {canonicalize_name(project)!r}, not "
                f"of {package.name!r}",
                entry_where,
                package.name,
            )
        elif version is not None and found != Version(version):
            self.at(
                "HP301",
                f"{kind} {filename} is of version {found}, not of {package.name}'s "
                f"version {version}",
                entry_where,
                package.name,
            )
        return True

    # -- across packages -------------------------------------------------------------

    def duplicates(self, packages: list[_Package], document: Mapping[str, object]) -> None:
        """pip refuses a lock file that selects two packages of one name (PEP 751): HP000
        where their markers can both hold, decided on Python 3.7-3.14, CPython and PyPy,
        Linux, Windows and macOS (as for requirements files), with no extras and the
        default groups, or every extra and group the file declares."""
        first: dict[str, list[_Package]] = {}
        for package in packages:
            if package.name is None:
                continue
            earlier = first.setdefault(package.name, [])
            for other in earlier:
                if self.both_hold(other, package, document):
                    line = self.place(("packages", other.index))[0]
                    self.at(
                        "HP000",
                        f"{package.name} is listed again (also packages[{other.index}] on line "
                        f"{line}), where both can be selected: pip refuses to install a lock "
                        "file that selects two packages of one name",
                        ("packages", package.index),
                        package.name,
                    )
                    break
            earlier.append(package)

    def both_hold(self, one: _Package, other: _Package, document: Mapping[str, object]) -> bool:
        for label in (one, other):
            if isinstance(label.table.get("marker"), str) and label.marker is None:
                return False  # a marker that does not parse: HP304 says so
        if one.marker is None and other.marker is None:
            return True
        return any(
            marker_holds(one.marker, environment, "lock_file")
            and marker_holds(other.marker, environment, "lock_file")
            for environment in _witnesses(document)
        )

    def unserved(
        self,
        packages: list[_Package],
        environments: list[Marker],
        requires_python: object,
        document: Mapping[str, object],
    ) -> None:
        """HP305: a package with wheels only, each for a platform (Windows, Linux, macOS)
        that every marker of ``environments`` provably excludes, while some environment the
        markers admit selects the package. Exact, so incomplete: only sys_platform, os_name
        and platform_system are fixed by a wheel's platform tag, and a marker is false for a
        platform only if it is false whatever the other variables are (three-valued logic);
        a witness machine (Python 3.7-3.14 on Linux, Windows or macOS) must exist where an
        environment holds, the lock's and the package's requires-python admit its Python,
        and the package's marker holds."""
        from packaging.utils import parse_wheel_filename

        normal = [str(marker) for marker in environments]
        for package in packages:
            if package.sdist or not package.wheels or not package.all_wheels_known:
                continue
            if package.name is None:
                continue
            if isinstance(package.table.get("marker"), str) and package.marker is None:
                continue
            if (
                isinstance(package.table.get("requires-python"), str)
                and package.requires_python is None
            ):
                continue
            tags = [tag for name in package.wheels for tag in parse_wheel_filename(name)[3]]
            found = {_family(tag.platform) for tag in tags}
            families = {family for family in found if family is not None}
            if len(families) < len(found):
                continue  # pure (any), or a platform not mapped: cannot be excluded
            if any(
                _three_valued(marker, _FAMILIES[family]) is not False
                for family in families
                for marker in normal
            ):
                continue
            witness = next(
                (
                    environment
                    for environment in _witnesses(document)
                    if any(
                        marker_holds(marker, environment, "requirement") for marker in environments
                    )
                    and _admits(requires_python, environment)
                    and _admits(package.requires_python, environment)
                    and (
                        package.marker is None
                        or marker_holds(package.marker, environment, "lock_file")
                    )
                ),
                None,
            )
            if witness is None:
                continue
            platforms = " and ".join(sorted(_FAMILY_NAMES[family] for family in families))
            machine = (
                f"{witness['platform_system']} {witness['platform_machine']} with "
                f"{witness['platform_python_implementation']} {witness['python_version']}"
            )
            self.at(
                "HP305",
                f"{package.name} has wheels only, for {platforms}, which every marker of "
                f"environments excludes: pip finds no file of it to install on {machine}, "
                "which environments admits",
                ("packages", package.index),
                package.name,
            )


def _plainly_of(filename: str, kind: str, name: str | None, version: str | None) -> bool:
    """Whether the file name is, as written, the usual one of a wheel (sdist) of ``name``
    and ``version`` (a normalized name and a valid version): the common case, decided
    without packaging's file name parsers (and the imports they cost)."""
    if name is None or version is None:
        return False
    escaped = name.replace("-", "_")
    if kind == "wheel":
        match = _PLAIN_WHEEL.fullmatch(filename)
        return match is not None and match[1].lower() == escaped and match[2] == version
    stem = filename[: -len(".tar.gz")] if filename.endswith(".tar.gz") else None
    return stem is not None and stem.lower() in (f"{escaped}-{version}", f"{name}-{version}")


def last_part(value: object, separators: str, *, quoted: bool = False) -> str | None:
    """The last part of a path or URL (a URL's path only, percent-decoded, as pip takes
    the file name from it), or None."""
    if not isinstance(value, str) or not value:
        return None
    if quoted and "%" not in value and "?" not in value and "#" not in value and "[" not in value:
        quoted = False  # nothing to decode or cut off: the path's last part is the URL's
    if quoted:
        from urllib.parse import unquote, urlsplit

        try:
            value = unquote(urlsplit(value).path)
        except ValueError:  # a malformed URL (an unclosed [ in the host)
            return None
    for separator in separators:
        value = value.rsplit(separator, 1)[-1]
    return value or None


def usable_hashes(hashes: object) -> bool:
    """Whether pip can check a file against this ``hashes`` value: a non-empty table of
    well-formed digests in algorithms hashlib always has (what HP002, HP006 and HP303 ask)."""
    import hashlib

    return (
        isinstance(hashes, dict)
        and bool(hashes)
        and all(
            algorithm in hashlib.algorithms_guaranteed
            and not algorithm.startswith("shake_")
            and isinstance(digest, str)
            and not digest_problem(algorithm, digest)
            for algorithm, digest in hashes.items()
        )
    )


def environments_exclude(normal: list[str], wheel_filename: str) -> bool:
    """Whether every marker of a lock's ``environments`` (``normal``: as normal_markers
    gives them) provably excludes the platforms of the wheel (False for a pure wheel, or
    one of a platform not mapped to a family)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        tags = parse_wheel_filename(wheel_filename)[3]
    except (InvalidWheelFilename, ValueError):
        return False
    families = {_family(tag.platform) for tag in tags}
    if not normal or None in families:
        return False
    return all(
        _three_valued(marker, _FAMILIES[family]) is False
        for family in families
        if family is not None
        for marker in normal
    )


def normal_markers(texts: list[str]) -> list[str]:
    """Each marker as packaging normalizes it (one that does not parse, as written)."""
    from packaging.markers import InvalidMarker, Marker

    normal = []
    for text in texts:
        try:
            normal.append(str(Marker(text)))
        except InvalidMarker:
            normal.append(text)
    return normal


def digest_problem(algorithm: str, digest: str) -> str:
    """Why a digest can never match: not hex, or not its algorithm's length. pip compares
    digests in lowercase, so an uppercase one matches."""
    if _HEX.fullmatch(digest) is None:
        return f"{algorithm} digest {digest!r} is not hexadecimal"
    expected = DIGEST_LENGTHS.get(algorithm)
    if expected is not None and len(digest) != expected:
        return f"{algorithm} digest has {len(digest)} hex digits, not {expected}"
    return ""


# -- Markers -----------------------------------------------------------------------------

_LOCK_MARKERS = re.compile(r"\b(?:extras|dependency_groups)\b")
_FAMILIES = {
    "windows": {"sys_platform": "win32", "os_name": "nt", "platform_system": "Windows"},
    "linux": {"sys_platform": "linux", "os_name": "posix", "platform_system": "Linux"},
    "macos": {"sys_platform": "darwin", "os_name": "posix", "platform_system": "Darwin"},
}
_FAMILY_NAMES = {"windows": "Windows", "linux": "Linux", "macos": "macOS"}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_OPERATOR_WORDS = frozenset({"in", "not", "and", "or"})


def _lock_markers_known() -> bool:
    """Whether packaging knows PEP 751's extras and dependency_groups markers (25.0+)."""
    import packaging

    try:
        return int(packaging.__version__.split(".")[0]) >= 25
    except ValueError:
        return True


def _family(platform: str) -> str | None:
    """The platform family a wheel's platform tag installs on; None for any or unknown."""
    if platform.startswith("win"):
        return "windows"
    if platform.startswith(("linux", "manylinux", "musllinux")):
        return "linux"
    if platform.startswith("macosx"):
        return "macos"
    return None


def _three_valued(normal: str, fixed: Mapping[str, str]) -> bool | None:
    """A normalized marker where only the ``fixed`` variables are known: True or False if
    that decides it whatever the others are, None if it does not (Kleene's logic)."""
    text = _unwrap(normal.strip())
    for separator, absorbing in ((" or ", True), (" and ", False)):
        parts = _split_top(text, separator)
        if len(parts) > 1:
            values = [_three_valued(part, fixed) for part in parts]
            if absorbing in values:
                return absorbing
            return (not absorbing) if all(value is not None for value in values) else None
    names = set(_VARIABLE.findall(_QUOTED.sub("", text))) - _OPERATOR_WORDS
    if not names or not names <= fixed.keys():
        return None
    from packaging.markers import Marker

    try:
        return bool(Marker(text).evaluate(dict(fixed)))
    except Exception:  # a comparison packaging refuses: undecided
        return None


_witness_cache: dict[tuple[tuple[str, ...], ...], list[dict[str, object]]] = {}


def _witnesses(document: Mapping[str, object]) -> list[dict[str, object]]:
    """The marker environments a lock file's markers are judged on: every target
    environment of requirement.target_environments, with no extras and the default groups,
    then with every extra and group the file declares."""

    def declared(key: str) -> tuple[str, ...]:
        value = document.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    extras, groups = declared("extras"), declared("dependency-groups")
    defaults = declared("default-groups")
    found = _witness_cache.get((extras, groups, defaults))
    if found is None:
        selections: list[tuple[frozenset[str], frozenset[str]]] = [
            (frozenset(), frozenset(defaults))
        ]
        if extras or groups:
            selections.append((frozenset(extras), frozenset(groups) | frozenset(defaults)))
        found = _witness_cache[(extras, groups, defaults)] = [
            {**environment, "extras": chosen, "dependency_groups": grouped}
            for chosen, grouped in selections
            for environment in target_environments()
        ]
    return found


def marker_holds(marker: Marker | None, environment: Mapping[str, object], context: str) -> bool:
    if marker is None:
        return True
    try:
        return bool(marker.evaluate(environment, context=context))  # type: ignore[arg-type]
    except TypeError:  # packaging before 25: no context, no set-valued markers
        try:
            return bool(marker.evaluate(environment))  # type: ignore[arg-type]
        except Exception:
            return False
    except Exception:  # packaging refuses a comparison: it never holds there
        return False


def _admits(specifier: object, environment: Mapping[str, object]) -> bool:
    if specifier is None:
        return True
    from packaging.specifiers import SpecifierSet

    assert isinstance(specifier, SpecifierSet)
    return specifier.contains(str(environment["python_full_version"]), prereleases=True)
