"""Rewriting one logical requirement line in pip-compile's layout: its requirement as
written (re-pinned when asked), its other options, one ``--hash`` per line, its comment and
its line ending. Pure text in, text out.
"""

from __future__ import annotations

import re

from .reqfile import comment_start, parse_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .reqfile import Line
    from .requirement import Requirement

DEFAULT_INDENT = "    "
_HASH_IN_COMMENT_RE = re.compile(r"\s*--hash(?:=|\s+)\S*")
_FRAGMENT_HASH_PARAMETER_RE = re.compile(
    r"(?<=[#&])(?:sha512|sha384|sha256|sha224|sha1|md5)=[^&\s]*&?"
)
_EMPTY_FRAGMENT_RE = re.compile(r"[#&](?=\s|$)")
_NAME_EXTRAS_RE = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?")
_NEWLINE_RE = re.compile(r"\r\n|\n|\r")


def render_line(
    raw: str,
    *,
    hashes: list[str],
    version: str | None = None,
    strip_url_hash: bool = False,
    indent: str = DEFAULT_INDENT,
    default_newline: str = "\n",
) -> str:
    """Rewrite one logical requirement line: its requirement as written (re-pinned to
    ``version`` when given), its other options, ``hashes`` one per line, then its inline
    comment (without any ``--hash`` pip would ignore there) and its own line ending.

    The text is re-read without ``${VAR}`` expansion, so variables stay as written.
    """
    physical = raw.splitlines(keepends=True)
    first, last = physical[0], physical[-1]
    ending = last[len(last.splitlines()[0]) :] if last.splitlines() else last
    first_ending = first[len(first.splitlines()[0]) :] if first.splitlines() else ""
    newline = first_ending if first_ending in ("\n", "\r\n", "\r") else default_newline
    parsed = next(line for line in parse_text(raw) if line.args)
    requirement = intended_requirement(parsed, version, strip_url_hash)
    kept = [_render_option(o.name, o.value) for o in parsed.options if o.name != "--hash"]
    head = first[: len(first) - len(first.lstrip())] + " ".join([requirement, *kept])
    comment = _comment_of(parsed, raw)
    body = (" \\" + newline).join([head, *(indent + "--hash=" + h for h in hashes)])
    return body + comment + ending


def intended_requirement(parsed: Line, version: str | None, strip_url_hash: bool) -> str:
    """The requirement a rewritten line must hold: as written, re-pinned or de-hashed."""
    requirement = parsed.args.strip()
    if version is not None:
        requirement = _repin(requirement, version)
    if strip_url_hash:
        requirement = _strip_hash_fragment(requirement)
    return requirement


def has_bad_url_hash(requirement: Requirement) -> bool:
    from .rules import digest_problem

    fragment = requirement.url_hash
    return fragment is not None and bool(digest_problem(":".join(fragment)))


def _strip_hash_fragment(requirement: str) -> str:
    """Drop ``#sha256=...``-style parameters (a malformed one can never match)."""
    requirement = _FRAGMENT_HASH_PARAMETER_RE.sub("", requirement)
    return _EMPTY_FRAGMENT_RE.sub("", requirement)


def _repin(requirement: str, version: str) -> str:
    """``name[extras] <specifiers> ; marker`` with the specifiers replaced by ``==version``."""
    match = _NAME_EXTRAS_RE.match(requirement)
    assert match is not None  # a named requirement starts with its name
    semicolon = requirement.find(";")
    if semicolon < 0:
        return match.group().rstrip() + "==" + version
    marker_at = len(requirement[:semicolon].rstrip())
    return match.group().rstrip() + "==" + version + requirement[marker_at:]


def _render_option(name: str, value: str | None) -> str:
    import shlex

    return name if value is None else f"{name}={shlex.quote(value)}"


def _comment_of(parsed: Line, raw: str) -> str:
    """The inline comment with the whitespace before it as written on a one-line
    requirement (two spaces when it came from a continuation), without any ``--hash``."""
    if not parsed.comment:
        return ""
    physical = raw.splitlines()
    cut = comment_start(physical[0]) if len(physical) == 1 else -1
    comment = physical[0][cut:].rstrip() if cut >= 0 else "  " + parsed.comment
    if "--hash" in comment:
        comment = _HASH_IN_COMMENT_RE.sub("", comment).rstrip()
        if comment.strip() == "#":
            return ""
    return comment


def hash_indent(lines: list[Line]) -> str:
    """The indentation of the existing hash lines, so a refreshed block keeps its look."""
    for line in lines:
        for physical in line.raw.splitlines()[1:] if line.args else line.raw.splitlines():
            stripped = physical.lstrip()
            if stripped.startswith("--hash"):
                return physical[: len(physical) - len(stripped)]
    return DEFAULT_INDENT


def newline_of(text: str) -> str:
    """The file's line ending: that of its first line, else LF."""
    match = _NEWLINE_RE.search(text)
    return match.group() if match else "\n"
