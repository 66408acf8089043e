"""The lossless model of a pip requirements file.

``parse(data)`` turns bytes into a ``File``; ``File.render()`` gives the same bytes back.
Each ``Line`` is one *logical* line as pip sees it: its physical lines verbatim (for
rendering and editing), and the text pip would act on (for checking).

pip's pipeline, mirrored step by step (pip/_internal/req/req_file.py)::

    bytes -> text            BOM, else a PEP 263 coding line, else UTF-8
    text  -> physical lines  str.splitlines
    physical -> logical      a line ending in "\\" joins the next one, unless it is a comment
    logical -> content       drop "#..." at line start or after whitespace, then strip
    content -> expanded      ${NAME} from the environment (only that form)
    expanded -> args/opts    split before the first " -" token; options are shlex'd
                             and parsed like optparse (long-option prefixes included)

Nothing here touches the file system, the network or the environment: the caller
passes the environment used for ``${NAME}``.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_right

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# (bom, codec pip decodes with, codec that encodes back without adding a BOM).
# Order matters: the UTF-16-LE BOM is a prefix of the UTF-32-LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8", "utf-8"),
    (
        codecs.BOM_UTF32,
        "utf-32",
        "utf-32-le" if codecs.BOM_UTF32 == codecs.BOM_UTF32_LE else "utf-32-be",
    ),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (
        codecs.BOM_UTF16,
        "utf-16",
        "utf-16-le" if codecs.BOM_UTF16 == codecs.BOM_UTF16_LE else "utf-16-be",
    ),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
)
# Patterns that few lines need are plain strings, compiled on first use (re caches them):
# a run that never needs one does not pay for compiling it.
_PEP263 = rb"coding[:=]\s*([-\w.]+)"
_ENV_VAR = r"(?P<var>\$\{(?P<name>[A-Z0-9_]+)\})"
# shlex.split only treats quotes and backslashes specially; without them it is a plain split.
_SHLEX_SPECIAL = r"[\"'\\]"
_TOKEN = r"[^ \t\r\n]+"


def _logical_line_pattern(line_breaks: str) -> str:
    """One logical line, as pip's join_lines groups physical lines.

    Any number of physical lines that end in "\\" and are not comment lines ("#" after
    whitespace other than a line break), then one more. Three groups, exactly one of them
    non-empty (all empty at the end of the text):

    1. an entry as pip-compile writes it: "name==1.0 \\", then indented sha256 hashes, one
       a line, each but the last ending in " \\". Without "#", "$", quotes, tabs or other
       backslashes, pip's join of it is its text without the backslash-newlines, and its
       options are just the hashes;
    2. a comment line (it never continues);
    3. any other logical line.
    """
    return (
        r"([A-Za-z0-9][!%&()*+,./0-9:<=>?@A-Z\[\]^_`a-z{|}~-]* *\\\r?\n"
        r" +--hash=sha256:[0-9a-f]{64}(?: *\\\r?\n +--hash=sha256:[0-9a-f]{64})* *(?:\r?\n|\Z))"
        rf"|([^\S{line_breaks}]*#[^{line_breaks}]*(?:\r\n|[{line_breaks}]|\Z))"
        rf"|((?:(?![^\S{line_breaks}]*#)[^{line_breaks}]*\\(?:\r\n|[{line_breaks}]))*"
        rf"[^{line_breaks}]*(?:\r\n|[{line_breaks}]|\Z))"
    )


# What str.splitlines splits on ("\r\n" counts as one break). Character classes with
# characters beyond Latin-1 take a millisecond to compile, and ASCII text (nearly every
# file) can only break on the ASCII ones, so it gets a pattern of its own. Both are
# compiled on first use.
_LOGICAL_LINE = _logical_line_pattern(r"\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029")
_ASCII_LOGICAL_LINE = _logical_line_pattern(r"\n\r\x0b\x0c\x1c-\x1e")
# The options of a pip-compile lock line: sha256 hashes and nothing else.
_HASHES_ONLY_RE = re.compile(r"--hash=sha256:[0-9a-f]{64}(?:[ \t]+--hash=sha256:[0-9a-f]{64})*")
_HASH_OPTION = r"--hash=(sha256:[0-9a-f]{64})"


class DecodeError(Exception):
    """The bytes cannot be read as text the way pip reads them."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class OptionSpec:
    """One option pip accepts in a requirements file."""

    __slots__ = ("choices", "long", "per_requirement", "short", "takes_value")

    def __init__(
        self,
        long: str,
        short: str | None = None,
        *,
        takes_value: bool = True,
        per_requirement: bool = False,
        choices: tuple[str, ...] = (),
    ) -> None:
        self.long = long
        self.short = short
        self.takes_value = takes_value
        self.per_requirement = per_requirement
        self.choices = choices


# pip 26's SUPPORTED_OPTIONS + SUPPORTED_OPTIONS_REQ (cli/cmdoptions.py).
OPTION_SPECS: tuple[OptionSpec, ...] = (
    OptionSpec("--index-url", "-i"),
    OptionSpec("--extra-index-url"),
    OptionSpec("--no-index", takes_value=False),
    OptionSpec("--constraint", "-c"),
    OptionSpec("--requirement", "-r"),
    OptionSpec("--editable", "-e"),
    OptionSpec("--find-links", "-f"),
    OptionSpec("--no-binary"),
    OptionSpec("--only-binary"),
    OptionSpec("--prefer-binary", takes_value=False),
    OptionSpec("--require-hashes", takes_value=False),
    OptionSpec("--no-require-hashes", takes_value=False),
    OptionSpec("--pre", takes_value=False),
    OptionSpec("--all-releases"),
    OptionSpec("--only-final"),
    OptionSpec("--trusted-host"),
    OptionSpec(
        "--use-feature",
        choices=(
            "fast-deps",
            "inprocess-build-deps",
            "venv-isolation",
            "truststore",
            "no-binary-enable-wheel-cache",
            "build-constraint",
        ),
    ),
    OptionSpec("--hash", per_requirement=True),
    OptionSpec("--config-settings", "-C", per_requirement=True),
)
_LONG: dict[str, OptionSpec] = {spec.long: spec for spec in OPTION_SPECS}
_LONG["--pypi-url"] = _LONG["--index-url"]  # an old alias pip still accepts
_SHORT: dict[str, OptionSpec] = {spec.short: spec for spec in OPTION_SPECS if spec.short}
_STRONG_HASHES = ("sha256", "sha384", "sha512")
# Options whose callbacks mutate pip's shared settings object: they take effect even on a
# requirement line, and refuse a value that starts with "-".
_SHARED_SETTINGS = frozenset({"--no-binary", "--only-binary", "--all-releases", "--only-final"})
# What pip acts on when a line has a requirement; every other option there is ignored.
REQUIREMENT_LINE_OPTIONS = _SHARED_SETTINGS | {s.long for s in OPTION_SPECS if s.per_requirement}


class Option:
    """One option as written on a line: its canonical long name and its value."""

    __slots__ = ("name", "offset", "value")

    def __init__(self, name: str, value: str | None, offset: int) -> None:
        self.name = name
        self.value = value
        self.offset = offset  # into Line.content

    def __repr__(self) -> str:
        return f"Option({self.name!r}, {self.value!r})"


class Line:
    """One logical line: what pip sees as one line, spanning one or more physical lines."""

    __slots__ = (
        "_expansions",
        "_options",
        "_segments",
        "args",
        "comment",
        "content",
        "dropped",
        "end",
        "error",
        "hashes_only",
        "number",
        "raw",
    )

    def __init__(self, number: int, end: int, raw: str) -> None:
        self.number = number  # pip's line number: the first physical line
        self.end = end  # the last physical line
        self.raw = raw  # the physical lines verbatim, line endings included
        self.content = ""  # what pip acts on: joined, comment removed, stripped, expanded
        self.comment = ""  # the text pip dropped as a comment ("" if none)
        self.args = ""  # the requirement part of content ("" for an option-only line)
        # The options are one or more --hash=sha256:<64 lower-case hex digits> and nothing
        # else: none of them can be wrong, so the check need not look at them one by one.
        self.hashes_only = False
        self._options: tuple[Option, ...] | None = ()  # None: hashes only, not built yet
        self.dropped: tuple[tuple[str, int], ...] = ()  # words among the options pip drops
        self.error: str | None = None  # why pip refuses this line's options
        self._segments: list[tuple[int, int, int]] | None = None
        # _expansions is left unset (read through ``expansions``): only the rare line with
        # a ${NAME} that was expanded pays for it.

    # (text substituted, "${NAME}") for each expansion pip made on this line.
    _expansions: tuple[tuple[str, str], ...]

    @property
    def expansions(self) -> tuple[tuple[str, str], ...]:
        """What ``${NAME}`` expansion put into ``content``: (text, "${NAME}") pairs.

        The text is as it ends up in ``content`` (a later expansion may have changed it),
        so that whoever shows line text can turn it back into the ``${NAME}`` written.
        """
        return getattr(self, "_expansions", ())

    @property
    def options(self) -> tuple[Option, ...]:
        if self._options is None:
            # Lock files have tens of thousands of hashes, and checking them needs no
            # Option objects: build them only for whoever asks.
            options_at = len(self.args) + 1 if self.args else 0
            self._options = tuple(
                Option("--hash", match.group(1), match.start())
                for match in re.compile(_HASH_OPTION).finditer(self.content, options_at)
            )
        return self._options

    @options.setter
    def options(self, options: tuple[Option, ...]) -> None:
        self._options = options
        self.hashes_only = False  # the check looks at each of these

    def set_hashes_only(self) -> None:
        """Mark the options (after ``args``) as well-formed sha256 hashes only."""
        self.hashes_only = True
        self._options = None

    @property
    def physical(self) -> list[str]:
        return self.raw.splitlines(keepends=True)

    @property
    def is_blank(self) -> bool:
        return not self.content

    def options_named(self, name: str) -> list[Option]:
        return [option for option in self.options if option.name == name]

    def locate(self, offset: int) -> tuple[int, int]:
        """Physical line number and 1-based column of an offset into ``content``."""
        if self._segments is None:
            self._segments = _segments(self.raw.splitlines())
        index = bisect_right(self._segments, (offset, self.end, 0)) - 1
        start, physical_index, column = self._segments[max(index, 0)]
        return self.number + physical_index, column + max(offset - start, 0) + 1

    def __repr__(self) -> str:
        return f"Line({self.number}, {self.content!r})"


class File:
    """A parsed requirements file that renders back to its exact bytes."""

    __slots__ = ("bom", "encoding", "lines")

    def __init__(self, lines: list[Line], bom: bytes, encoding: str) -> None:
        self.lines = lines
        self.bom = bom
        self.encoding = encoding  # the codec that encodes the text back, without a BOM

    @property
    def text(self) -> str:
        return "".join(line.raw for line in self.lines)

    def render(self) -> bytes:
        return self.bom + self.text.encode(self.encoding)


def decode(data: bytes) -> tuple[str, bytes, str]:
    """Text, BOM and encoding of a requirements file, decided as pip decides them."""
    for bom, pip_codec, writer_codec in _BOMS:
        if data.startswith(bom):
            return _decode_as(data[len(bom) :], pip_codec, 1), bom, writer_codec
    # The coding line can only be one of the first two lines: split only those off.
    second_break = data.find(b"\n", data.find(b"\n") + 1)
    head = data[:second_break] if second_break >= 0 else data
    for line_number, line in enumerate(head.split(b"\n")[:2], start=1):
        if line[0:1] == b"#":
            match = re.search(_PEP263, line)
            if match is not None:
                name = match.group(1).decode("ascii")
                try:
                    codecs.lookup(name)
                except LookupError:
                    raise DecodeError(
                        line_number, f"unknown encoding {name!r} in the coding line"
                    ) from None
                return _decode_as(data, name, 1), b"", name
    return _decode_as(data, "utf-8", 1), b"", "utf-8"


def _decode_as(data: bytes, codec: str, first_line: int) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise DecodeError(
            line, f"cannot decode byte 0x{bad} at column {column} as {codec}"
        ) from None


def parse(data: bytes, env: Mapping[str, str] | None = None) -> File:
    """Parse bytes into the lossless model. Raises DecodeError if pip could not read them."""
    text, bom, encoding = decode(data)
    return File(parse_text(text, env), bom, encoding)


def parse_text(text: str, env: Mapping[str, str] | None = None) -> list[Line]:
    """Group physical lines into logical ones exactly like pip's join_lines, and parse each.

    pip joins a line ending in "\\" to the next, unless it is a comment line; it strips
    backslashes from *both* ends of a continued line, and prefixes a comment line that
    ends a continuation with a space so that it is always taken as a comment.
    """
    lines = []
    number = 1  # of the first physical line of the next logical line
    pattern = _ASCII_LOGICAL_LINE if text.isascii() else _LOGICAL_LINE
    # findall, not finditer: a tuple of strings costs less than a match object.
    for lock_entry, comment, other in re.findall(pattern, text):
        if lock_entry:
            # Every physical line of the entry but the last ends in the one backslash.
            line = Line(number, number + lock_entry.count("\\"), lock_entry)
            if "\r" in lock_entry:
                lock_entry = lock_entry.replace("\\\r\n", "")
            content = lock_entry.replace("\\\n", "").strip()
            line.content = content
            line.args = content[: content.find(" -")]
            line.set_hashes_only()
        elif comment:
            line = Line(number, number, comment)
            line.comment = comment.strip()
        elif other:
            bare = other.splitlines()
            line = Line(number, number + len(bare) - 1, other)
            joined = _join(bare)
            if joined:
                _fill(line, joined, env)
        else:  # the empty match at the end of the text
            continue
        lines.append(line)
        number = line.end + 1
    return lines


def _join(bare: list[str]) -> str:
    """pip's join_lines, over the physical lines of one logical line."""
    last = bare[-1]
    if last[-1:] == "\\" and not _is_comment_line(last):  # the file ends in a continuation
        last = last.strip("\\")
    elif len(bare) > 1 and _is_comment_line(last):
        last = " " + last
    if len(bare) == 1:
        return last
    return "".join([physical.strip("\\") for physical in bare[:-1]]) + last


def _segments(bare: list[str]) -> list[tuple[int, int, int]]:
    """(offset in content, physical line index, its column) for each joined piece.

    Recomputed on demand from the physical lines: only lines with findings need it.
    """
    segments = []
    length = 0
    last = len(bare) - 1
    for index, physical in enumerate(bare):
        if index < last:
            body = physical.strip("\\")
            column = len(physical) - len(physical.lstrip("\\"))
        else:
            body = " " + physical if index and _is_comment_line(physical) else physical
            column = -1 if body is not physical else 0
        segments.append((length, index, column))
        length += len(body)
    joined = "".join(
        physical.strip("\\") if index < last else physical for index, physical in enumerate(bare)
    )
    cut = comment_start(joined)
    kept = joined[:cut] if cut >= 0 else joined
    lead = len(kept) - len(kept.lstrip())
    return [(start - lead, index, column) for start, index, column in segments]


def _is_comment_line(line: str) -> bool:
    """pip's COMMENT_RE.match: "#" first, or after leading whitespace."""
    return line.lstrip()[:1] == "#"


def comment_start(text: str) -> int:
    """Where pip's COMMENT_RE ``(^|\\s+)#.*$`` starts matching, or -1.

    Written without the regex because ``\\s+#`` backtracks quadratically on long runs
    of whitespace, and a 1 MB line must not hang the check.
    """
    hash_at = text.find("#")
    while hash_at >= 0:
        if hash_at == 0:
            return 0
        if text[hash_at - 1].isspace():
            start = hash_at - 1
            while start > 0 and text[start - 1].isspace():
                start -= 1
            return start
        hash_at = text.find("#", hash_at + 1)
    return -1


def _fill(line: Line, joined: str, env: Mapping[str, str] | None) -> None:
    if "#" in joined:
        cut = comment_start(joined)
        if cut >= 0:
            line.comment = joined[cut:].strip()
            joined = joined[:cut]
    content = joined.strip()
    if not content:
        return
    if "${" in content and env:
        content = _expand(content, env, line)
    line.content = content
    _split_options(line, content)


def _expand(text: str, env: Mapping[str, str], line: Line) -> str:
    """pip's expand_env_variables, replacement order included.

    Records on ``line`` what each ``${NAME}`` became, since the value may be a secret
    that a message quoting the line must not show.
    """
    made: dict[str, str] = {}  # final text -> "${NAME}"
    for whole, name in re.findall(_ENV_VAR, text):
        value = env.get(name)
        if value:
            text = text.replace(whole, value)
            # A value inserted earlier that contains this ${NAME} has just changed too.
            made = {before.replace(whole, value): was for before, was in made.items()}
            made.setdefault(value, whole)
    if made:
        line._expansions = tuple(made.items())
    return text


def _split_options(line: Line, content: str) -> None:
    """pip's break_args_options, then shlex and optparse over the options part."""
    if content.startswith("-"):
        options_at = 0
    else:
        dash = content.find(" -")
        if dash < 0:
            line.args = content
            return
        line.args = content[:dash]
        options_at = dash + 1
    options_text = content[options_at:]
    if _HASHES_ONLY_RE.fullmatch(options_text):  # the common case, without the general loop
        line.set_hashes_only()
        return
    if re.search(_SHLEX_SPECIAL, options_text) is None:
        words = [(m.group(), options_at + m.start()) for m in re.finditer(_TOKEN, options_text)]
    else:
        shlexed = _shlex_words(options_text, options_at)
        if shlexed is None:
            line.error = f"cannot split options: unbalanced quote or escape in {options_text!r}"
            return
        words = shlexed
    try:
        options, dropped = parse_options(words)
    except OptionError as exc:
        line.error = str(exc)
        return
    line.options = tuple(options)
    line.dropped = tuple(dropped)


def _shlex_words(text: str, base: int) -> list[tuple[str, int]] | None:
    import shlex  # only lines with quotes or backslashes pay for it

    try:
        words = shlex.split(text)
    except ValueError:
        return None
    # shlex loses positions; find each word's first raw character, approximately.
    located = []
    cursor = 0
    for word in words:
        found = text.find(word[:1], cursor) if word else -1
        position = found if found >= 0 else cursor
        located.append((word, base + position))
        cursor = position + 1
    return located


class OptionError(Exception):
    """pip's option parser would refuse this line (and so the whole file)."""


def parse_options(
    words: Sequence[tuple[str, int]],
) -> tuple[list[Option], list[tuple[str, int]]]:
    """optparse's loop over pip's requirement-file options.

    Returns the options and the positional words optparse collects, which pip drops.
    """
    options: list[Option] = []
    dropped: list[tuple[str, int]] = []
    index = 0
    while index < len(words):
        word, offset = words[index]
        index += 1
        if word == "--":
            dropped.extend(words[index:])
            break
        if word.startswith("--"):
            name, has_value, value = word.partition("=")
            spec = _match_long(name)
            if spec.takes_value:
                if not has_value:
                    value, index = _next_word(words, index, name)
                options.append(_checked(spec, name, value, offset))
            elif has_value:
                raise OptionError(f"{spec.long} option does not take a value")
            else:
                options.append(Option(spec.long, None, offset))
        elif word.startswith("-") and len(word) > 1:
            # A cluster of short options; every short option pip accepts takes a value,
            # so the first one ends the cluster (as optparse does).
            flag = word[:2]
            spec_or_none = _SHORT.get(flag)
            if spec_or_none is None:
                raise OptionError(f"no such option: {flag}")
            value = word[2:]
            if not value:
                value, index = _next_word(words, index, flag)
            options.append(_checked(spec_or_none, flag, value, offset))
        else:
            dropped.append((word, offset))
    return options, dropped


def _next_word(words: Sequence[tuple[str, int]], index: int, option: str) -> tuple[str, int]:
    """An option's value given as the next word (``--index-url URL``), and where to go on."""
    if index >= len(words):
        raise OptionError(f"{option} option requires 1 argument")
    return words[index][0], index + 1


def _match_long(name: str) -> OptionSpec:
    spec = _LONG.get(name)
    if spec is not None:
        return spec
    candidates = sorted({s.long for long, s in _LONG.items() if long.startswith(name)})
    if len(candidates) == 1:
        return _LONG[candidates[0]]
    if not candidates:
        raise OptionError(f"no such option: {name}")
    raise OptionError(f"ambiguous option: {name} ({', '.join(candidates)}?)")


def _checked(spec: OptionSpec, spelled: str, value: str, offset: int) -> Option:
    """The checks pip's option callbacks make, each of which refuses the whole file."""
    name = spec.long
    if name == "--hash":
        algorithm, colon, _ = value.partition(":")
        if not colon:
            raise OptionError(
                f"arguments to {spelled} must be a hash name followed by a value, "
                "like --hash=sha256:abcde..."
            )
        if algorithm not in _STRONG_HASHES:
            raise OptionError(
                f"allowed hash algorithms for {spelled} are {', '.join(_STRONG_HASHES)}"
            )
    elif name == "--config-settings" and "=" not in value:
        raise OptionError(f"arguments to {spelled} must be of the form KEY=VAL")
    elif name in _SHARED_SETTINGS and value.startswith("-"):
        raise OptionError(f"{name} option requires 1 argument")
    elif spec.choices and value not in spec.choices:
        raise OptionError(
            f"option {spelled}: invalid choice: {value!r} (choose from {', '.join(spec.choices)})"
        )
    return Option(name, value, offset)
