"""Random requirements-file text for differential tests against the pip oracle.

One grammar, two drivers: ``requirement_files()`` (a hypothesis strategy, which
shrinks towards the first alternative of every choice, so simple forms come first)
and ``random_file(rng)`` (plain ``random.Random``, for large seeded batches).

The text mixes valid and invalid forms on purpose.  It never contains ``-r``/``-c``
includes, and every local path is relative, so the result only depends on the
working directory pip runs in: build that with ``populate_cwd`` and pass ``GEN_ENV``
as the environment.  Write the text as UTF-8 bytes, unchanged (no newline
translation): the line breaks and BOM are part of what is being tested.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, Protocol, TypeVar

from hypothesis import strategies as st

__all__ = ["GEN_ENV", "populate_cwd", "random_file", "requirement_files"]

_T = TypeVar("_T")

#: Environment the generated files expect (``${VAR}`` references).  HASHPIN_UNSET
#: is deliberately absent; HASHPIN_EMPTY is empty (pip leaves it unexpanded) and
#: hashpin_lower is set but pip only expands upper-case names.
GEN_ENV: Final[dict[str, str]] = {
    "HASHPIN_VERSION": "1.0",
    "HASHPIN_HOST": "example.org",
    "HASHPIN_TOKEN": "s3cret",
    "HASHPIN_NAME": "Foo_Bar",
    "HASHPIN_HASH": "sha256:" + "ab" * 32,
    "HASHPIN_HASHOPT": "--hash=sha256:" + "cd" * 32,
    "HASHPIN_COMMENTY": "1.0 # not a comment after expansion",
    "HASHPIN_EMPTY": "",
    "hashpin_lower": "2.0",
}


def populate_cwd(root: Path) -> None:
    """Create the directory layout the generated relative paths refer to."""
    (root / "pyproject.toml").write_text('[project]\nname = "root"\nversion = "1"\n')
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "pyproject.toml").write_text('[project]\nname = "pkg"\nversion = "1"\n')
    (root / "legacy").mkdir(exist_ok=True)
    (root / "legacy" / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    (root / "emptydir").mkdir(exist_ok=True)  # exists but is not installable
    (root / "dist").mkdir(exist_ok=True)
    (root / "dist" / "x-1.0.tar.gz").write_bytes(b"not really a tarball")
    (root / "dist" / "x-1.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    # ./missing, dist/missing-2.0.zip: intentionally absent.


class _Chooser(Protocol):
    def pick(self, options: Sequence[_T]) -> _T: ...
    def chance(self, p: float) -> bool: ...
    def between(self, lo: int, hi: int) -> int: ...
    def hexdigits(self, n: int) -> str: ...


class _RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def pick(self, options: Sequence[_T]) -> _T:
        return self._rng.choice(options)

    def chance(self, p: float) -> bool:
        return self._rng.random() < p

    def between(self, lo: int, hi: int) -> int:
        return self._rng.randint(lo, hi)

    def hexdigits(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n))


class _DrawChooser:
    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def pick(self, options: Sequence[_T]) -> _T:
        return self._draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        # Shrinks to 0, i.e. towards "feature absent".
        return self._draw(st.integers(0, 99)) >= round((1 - p) * 100)

    def between(self, lo: int, hi: int) -> int:
        return self._draw(st.integers(lo, hi))

    def hexdigits(self, n: int) -> str:
        return self._draw(st.binary(min_size=(n + 1) // 2, max_size=(n + 1) // 2)).hex()[:n]


_Gen = Callable[[_Chooser], str]


def _weighted(c: _Chooser, table: Sequence[tuple[int, Callable[[_Chooser], _T]]]) -> _T:
    total = sum(weight for weight, _ in table)
    roll = c.between(0, total - 1)
    for weight, gen in table:
        if roll < weight:
            return gen(c)
        roll -= weight
    raise AssertionError("unreachable")


def _const_pick(*options: str) -> _Gen:
    return lambda c: c.pick(options)


# ---------------------------------------------------------------- names, versions

_NAME_PARTS = ("foo", "Bar", "x1", "lib", "Py", "z", "requests", "zope", "A")
_NAME_SEPS = (".", "-", "_")
_BAD_NAMES = (
    "-foo",
    "foo-",
    "foo!",
    "_x",
    "foo bar",
    "fo$o",
    "${HASHPIN_NAME}",
    "${hashpin_lower}",
)


def _name(c: _Chooser) -> str:
    if c.chance(0.04):
        return c.pick(_BAD_NAMES)
    parts = [c.pick(_NAME_PARTS) for _ in range(c.between(1, 3))]
    out = parts[0]
    for part in parts[1:]:
        out += c.pick(_NAME_SEPS) + part
    return out


def _extras(c: _Chooser) -> str:
    if not c.chance(0.2):
        return ""
    if c.chance(0.1):
        return c.pick(("[]", "[a b]", "[,]", "[dev"))
    names = [c.pick(("dev", "test", "Socks", "ci", "a_b", "x.y")) for _ in range(c.between(1, 2))]
    sep = c.pick((",", ", ", " , "))
    inner = sep.join(names)
    return "[" + (f" {inner} " if c.chance(0.2) else inner) + "]"


_SUFFIXES = ("", "", "", "rc1", "a2", "b1", ".post1", ".dev0", "+cpu", "+cu118", "+local.1")
_BAD_VERSIONS = ("dev", "latest", "1.0-foo", "", "1.0.*.1", "$HASHPIN_VERSION", "${HASHPIN_UNSET}")


def _version(c: _Chooser) -> str:
    if c.chance(0.05):
        return c.pick(_BAD_VERSIONS)
    if c.chance(0.05):
        return c.pick(("${HASHPIN_VERSION}", "${HASHPIN_EMPTY}", "${HASHPIN_COMMENTY}"))
    release = ".".join(str(c.between(0, 20)) for _ in range(c.between(1, 3)))
    epoch = "1!" if c.chance(0.03) else ""
    return epoch + release + c.pick(_SUFFIXES)


_OPERATORS = ("==", "==", "==", ">=", "<=", "!=", "~=", ">", "<", "===")
_BAD_OPERATORS = ("=", "=>", "~", "=<")


def _specifier(c: _Chooser) -> str:
    op = c.pick(_BAD_OPERATORS) if c.chance(0.04) else c.pick(_OPERATORS)
    exact = op in ("==", "!=", "===")
    if c.chance(0.08 if exact else 0.01):
        version = c.pick(("1.*", "1.0.*", "2.*"))  # valid with == and != only
    else:
        version = _version(c)
        if not exact and "+" in version and not c.chance(0.1):
            version = version.partition("+")[0]  # local labels: == and != only
        if op == "~=" and not c.chance(0.1):
            version = f"{c.between(0, 9)}.{c.between(0, 20)}"  # ~= needs two components
    return c.pick(("", "", " ")) + op + c.pick(("", "", " ")) + version


def _specifiers(c: _Chooser) -> str:
    n = c.pick((1, 1, 1, 0, 2))
    specs = [_specifier(c) for _ in range(n)]
    text = c.pick((",", ", ", " ,")).join(specs)
    if text and c.chance(0.05):
        text = f" ({text.strip()})"  # legacy parenthesised form
    return text


_MARKER_VARS = (
    "python_version",
    "sys_platform",
    "platform_machine",
    "os_name",
    "implementation_name",
    "python_full_version",
    "extra",
)
_MARKER_VALUES = ("3.8", "3.11", "win32", "linux", "x86_64", "nt", "cpython", "test")


def _marker_atom(c: _Chooser) -> str:
    if c.chance(0.05):
        return c.pick(("foo == 'bar'", "python_version ~ 3", "python_version <", "os_name == nt"))
    q = c.pick(('"', "'"))
    op = c.pick(("<", ">=", "==", "!=", "in", "not in"))
    sp = c.pick((" ", ""))
    if op in ("in", "not in"):
        sp = " "
    return f"{c.pick(_MARKER_VARS)}{sp}{op}{sp}{q}{c.pick(_MARKER_VALUES)}{q}"


def _marker(c: _Chooser) -> str:
    text = _marker_atom(c)
    if c.chance(0.2):
        text = f"{text} {c.pick(('and', 'or'))} {_marker_atom(c)}"
        if c.chance(0.3):
            text = f"({text})"
    return text


def _marker_suffix(c: _Chooser) -> str:
    if not c.chance(0.2):
        return ""
    sep = c.pick((";", " ;", "; ", " ; ", ";  "))
    return sep + _marker(c)


# ---------------------------------------------------------------- URLs and paths

_HOSTS = (
    "example.com",
    "files.example.org:8080",
    "${HASHPIN_HOST}",
    "user:${HASHPIN_TOKEN}@h.test",
)
_GOOD_WHEELS = (
    "x-1.0-py3-none-any.whl",
    "Foo_Bar-2.0.1-cp311-cp311-manylinux_2_17_x86_64.whl",
    "torch-2.0.1%2Bcpu-cp311-cp311-linux_x86_64.whl",
    "pkg-1.0-1-py2.py3-none-any.whl",
)
_BAD_WHEELS = ("x.whl", "x-1.0.whl", "x-dev-py3-none-any.whl", "-1.0-py3-none-any.whl")
_SDISTS = ("x-1.0.tar.gz", "Foo-2.0.zip", "x-1.0.tgz", "archive/main", "x-1.0.tar.bz2", "")


def _hex_for(c: _Chooser, algo: str) -> str:
    size = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
    return c.hexdigits(size.get(algo, 64))


def _fragment(c: _Chooser, *, allow_egg: bool = True) -> str:
    parts: list[str] = []
    if allow_egg and c.chance(0.3):
        egg = c.pick(("x", "Foo_Bar", "foo.bar"))
        if c.chance(0.1):
            egg = c.pick(("x[extra]", "-bad", "", "foo==1.0"))  # InvalidEggFragment
        parts.append(f"egg={egg}")
    if c.chance(0.3):
        algo = c.pick(("sha256", "sha256", "md5", "sha512", "sha1", "SHA256"))
        parts.append(f"{algo}={_hex_for(c, algo)}")
    if c.chance(0.08):
        parts.append("subdirectory=" + c.pick(("sub", "a/b")))
    return "#" + "&".join(parts) if parts else ""


def _archive_url(c: _Chooser) -> str:
    scheme = c.pick(("https", "http", "https", "ftp", "file", "HTTPS"))
    if c.chance(0.6):
        filename = c.pick(_BAD_WHEELS) if c.chance(0.2) else c.pick(_GOOD_WHEELS)
    else:
        filename = c.pick(_SDISTS)
    if scheme == "file":
        base = c.pick(("file:///hashpin-nonexistent/", "file:dist/", "file:./"))
        return base + filename + _fragment(c)
    host = c.pick(_HOSTS)
    if c.chance(0.02):
        host = "[::1"  # urlsplit raises ValueError: pip crashes on this line
    return f"{scheme}://{host}/packages/{filename}{_fragment(c)}"


def _vcs_url(c: _Chooser, *, egg: bool | None = None) -> str:
    scheme = c.pick(
        ("git+https", "git+ssh", "git", "hg+https", "svn+http", "bzr+https", "git+file")
    )
    host = "git@github.com" if scheme == "git+ssh" else "github.com"
    url = f"{scheme}://{host}/owner/repo" + c.pick((".git", "", "/"))
    if c.chance(0.5):
        url += "@" + c.pick(("v1.0", "main", "b573a69c06907cff74d3623f61a551ceb264cf08"))
    if egg is None:
        egg = c.chance(0.75)
    if egg:
        url += "#egg=" + c.pick(("repo", "django_braces", "Foo-Bar", "repo", "bad name"))
        if c.chance(0.1):
            url += "&subdirectory=sub"
    return url


_LOCAL_PATHS = (
    "./pkg",
    "pkg/",
    ".",
    ".[ci]",
    "./pkg[dev]",
    "./legacy",
    "./emptydir",
    "./missing",
    "pkg",  # no separator or leading dot: a project name, not a path
    "dist/x-1.0.tar.gz",
    "./dist/x-1.0-py3-none-any.whl",
    "dist/missing-2.0.zip",
    "./dist/bad.whl",
    "name@dist/x-1.0.tar.gz",
)


# ---------------------------------------------------------------- requirement forms


def _named_requirement(c: _Chooser) -> str:
    name = _name(c)
    if c.chance(0.04):
        return name + _specifiers(c) + c.pick(("[dev]", "[a,b]"))  # extras after version
    return name + _extras(c) + _specifiers(c) + _marker_suffix(c)


def _url_requirement(c: _Chooser) -> str:
    at = c.pick((" @ ", "@", " @", "@ ", " @  "))
    url = _vcs_url(c, egg=False) if c.chance(0.3) else _archive_url(c)
    return _name(c) + _extras(c) + at + url + _marker_suffix(c)


def _bare_url(c: _Chooser) -> str:
    url = _vcs_url(c) if c.chance(0.35) else _archive_url(c)
    return url + _marker_suffix(c)


def _local_path(c: _Chooser) -> str:
    return c.pick(_LOCAL_PATHS) + _marker_suffix(c)


def _editable(c: _Chooser) -> str:
    prefix = c.pick(("-e ", "-e ", "-e", "--editable ", "--editable=", "-e  ", "--edit="))
    target = _weighted(
        c,
        (
            (3, lambda c: c.pick((".", "./pkg", ".[dev]", "./pkg[dev]", "./legacy", "pkg"))),
            (4, lambda c: _vcs_url(c)),
            (1, lambda c: _name(c) + " @ " + _vcs_url(c, egg=False)),
            (1, lambda c: c.pick(("./missing", "https://example.com/x-1.0.tar.gz", "file:./pkg"))),
            (1, lambda c: '"./pkg"' if c.chance(0.5) else "'./pkg"),
        ),
    )
    return prefix + target


# ---------------------------------------------------------------- options

_GOOD_ALGOS = ("sha256", "sha256", "sha256", "sha256", "sha384", "sha512")
_BAD_ALGOS = ("md5", "SHA256", "sha1", "")  # pip only allows sha256/384/512 in --hash


def _hash_option(c: _Chooser) -> str:
    spelling = c.pick(("--hash=", "--hash=", "--hash ", "--has=", "--hash  "))
    if c.chance(0.025):
        # Each of these makes pip refuse the whole file.
        return c.pick(
            (
                spelling.rstrip(),  # missing value
                spelling + "sha256" + c.hexdigits(64),  # no colon
                spelling + c.pick(_BAD_ALGOS) + ":" + c.hexdigits(32),
                spelling + "'sha256:" + c.hexdigits(64),  # unbalanced quote
            )
        )
    if c.chance(0.04):
        return spelling + "${HASHPIN_HASH}"
    algo = c.pick(_GOOD_ALGOS)
    digest = _hex_for(c, algo)
    if c.chance(0.05):
        digest = c.pick(("xyz", digest[:10], digest.upper(), ""))  # accepted when parsing
    value = f"{algo}:{digest}"
    if c.chance(0.05):
        value = f'"{value}"'
    return spelling + value


def _config_option(c: _Chooser) -> str:
    spelling = c.pick(("--config-settings=", "--config-settings ", "-C ", "-C", "-C="))
    value = c.pick(("k=v", "key=value", "editable_mode=compat", "k=", "=v", '"a b=c d"', "k=v=w"))
    if c.chance(0.05):
        value = "k"  # no "=": an option error
    return spelling + value


def _req_options(c: _Chooser) -> list[str]:
    """Options after a requirement (scoped to it, or ignored, or fatal)."""
    out: list[str] = []
    if c.chance(0.55):
        out += [_hash_option(c) for _ in range(c.pick((1, 1, 2, 3)))]
    if c.chance(0.06):
        out.append(_config_option(c))
    if c.chance(0.04):
        out.append(c.pick(("--no-binary pkg", "--pre", "--no-binary :all:", "--only-binary=x")))
    if c.chance(0.04):
        out.append(c.pick(("; python_version<'3'", "--hash=sha256:" + "0" * 64 + " trailing")))
    if c.chance(0.02):
        out.append("${HASHPIN_HASHOPT}")
    return out


_URL_VALUES = (
    "https://pypi.org/simple",
    "https://${HASHPIN_TOKEN}@${HASHPIN_HOST}/simple",
    "http://example.com/simple/",
    "./wheels",
    "'https://example.com/simple'",
    '"https://example.com/simple"',
)


def _index_option(c: _Chooser) -> str:
    spelling = c.pick(
        (
            "-i ",
            "--index-url ",
            "--index-url=",
            "-i",  # attached short value
            "--ind ",  # unique abbreviation of --index-url
            "--extra-index-url ",
            "--extra-index-url=",
            "--extra ",
            "-f ",
            "--find-links ",
            "--find-links=",
            "-f",
        )
    )
    return spelling + c.pick(_URL_VALUES)


def _format_option(c: _Chooser) -> str:
    spelling = c.pick(
        ("--no-binary ", "--only-binary=", "--no-binary=", "--all-releases ", "--only-final=")
    )
    value = c.pick((":all:", ":none:", "foo,bar", "x"))
    if c.chance(0.1):
        value = "-x"  # CommandError from the option callback
    return spelling + value


def _option_line(c: _Chooser) -> str:
    table: tuple[tuple[int, _Gen], ...] = (
        (8, _index_option),
        (6, _const_pick("--no-index", "--pre", "--prefer-binary", "--no-index --pre")),
        (5, _format_option),
        (4, lambda c: "--trusted-host " + c.pick(("example.com", "${HASHPIN_HOST}", "h:8080"))),
        (3, _const_pick("--require-hashes", "--require-hashes --no-index", "--no-require-hashes")),
        (1, lambda c: "--use-feature=" + c.pick(("fast-deps", "truststore", "bogus-feature"))),
        (1, _const_pick("--user", "--upgrade", "-U", "--foo", "-x", "--no-", "--pr", "-q")),
        (1, _const_pick("-i", "--index-url", "--find-links", "--no-binary", "--hash", "-e", "-C")),
        (1, lambda c: "--index-url " + c.pick(('"https://unbalanced', "'https://x'y'", "a\\ b"))),
        # A requirement after an option is silently dropped by pip.
        (2, lambda c: c.pick(("--pre ", "--index-url https://x.test ")) + _named_requirement(c)),
        (1, _hash_option),  # --hash without a requirement: warned about, ignored
    )
    return _weighted(c, table)


# ---------------------------------------------------------------- layout


_COMMENTS = ("# comment", "#", "# via -r requirements.in", "#café →", "#-r other.txt", "# \\")


def _logical_line(c: _Chooser) -> list[str]:
    """One logical line as pieces; each piece after the first carries its separator."""
    table: tuple[tuple[int, Callable[[_Chooser], list[str]]], ...] = (
        (30, lambda c: [_named_requirement(c), *_req_options(c)]),
        (8, lambda c: [_url_requirement(c), *_req_options(c)]),
        (8, lambda c: [_bare_url(c), *_req_options(c)]),
        (6, lambda c: [_local_path(c), *_req_options(c)]),
        (6, lambda c: [_editable(c), *([_config_option(c)] if c.chance(0.1) else [])]),
        (12, lambda c: [_option_line(c)]),
        (5, lambda c: [c.pick(_COMMENTS)]),
        (4, lambda c: [""]),
        (2, lambda c: [c.pick(("foo==1.0#frag", "=1.0", "foo ==", "@ https://x", "[x]"))]),
    )
    pieces = _weighted(c, table)
    # Separators: pip splits args from options on single spaces only, so a tab
    # before an option glues it onto the requirement.
    return [pieces[0], *(_separator(c) + p for p in pieces[1:])]


def _separator(c: _Chooser) -> str:
    if c.chance(0.04):
        return c.pick(("\t", " \t"))
    return c.pick((" ", " ", "  "))


_BREAKS = ("\n",) * 12 + ("\r\n",) * 3 + ("\r", "\f", "\x1c", "\u2028", "\x85", "\v")


def _render(c: _Chooser, pieces: list[str], br: Callable[[], str]) -> str:
    out = c.pick(("", "", "", "", "  ", "\t"))  # indentation
    out += pieces[0]
    for piece in pieces[1:]:
        if c.chance(0.15):
            style = c.between(0, 5)
            if style == 0:  # comment line inside the continuation ends it
                out += " \\" + br() + c.pick(_COMMENTS) + br() + "    "
            elif style == 1:  # inline comment before the backslash swallows the rest
                out += " # note \\" + br() + "    "
            elif style == 2:  # several trailing backslashes are all stripped
                out += " \\\\\\" + br()
            elif style == 3:  # no space either side: the pieces are glued
                out += "\\" + br()
                piece = piece.lstrip(" \t")
            else:
                out += " \\" + br() + c.pick(("    ", "  ", "\t", ""))
        out += piece
    if c.chance(0.08):
        out += c.pick((" # inline", "\t# tab comment", "#glued", "  #"))
    return out


def _file(c: _Chooser) -> str:
    def br() -> str:
        return c.pick(_BREAKS) if c.chance(0.15) else "\n"

    text = ""
    if c.chance(0.04):
        text += "\ufeff"
    elif c.chance(0.03):
        coding = c.pick(("latin-1", "utf-8", "ascii", "bogus-codec"))
        text += f"# -*- coding: {coding} -*-" + br()
    lines = [_render(c, _logical_line(c), br) for _ in range(c.between(1, 12))]
    for i, line in enumerate(lines):
        text += line
        if i < len(lines) - 1 or c.chance(0.8):
            text += br()
    if c.chance(0.03):
        text += c.pick(("\\", "foo==1.0 \\", "\\\n"))  # backslash at end of file
    return text


@st.composite
def requirement_files(draw: st.DrawFn) -> str:
    """Hypothesis strategy for requirements-file contents (see module docstring)."""
    return _file(_DrawChooser(draw))


def random_file(rng: random.Random) -> str:
    """One requirements file's contents drawn with ``rng`` (see module docstring)."""
    return _file(_RandomChooser(rng))
