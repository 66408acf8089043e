"""The lossless model: round trips, and pip's own preprocessing as the reference."""

from __future__ import annotations

import codecs
import optparse
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pip._internal.req import req_file as pip_req_file

from hashpin.reqfile import DecodeError, comment_start, decode, parse, parse_text

# Text built from the characters that matter to pip's line handling.
_SPECIAL = [
    " ", "\t", "\\", "#", "-", "=", ":", ";", "'", '"', "$", "{", "}", "\n", "\r", "\r\n",
    "\f", "\x0b", "\x1c", "\x85", "\u2028", "\xa0", "--hash", "--hash=sha256:ab", "-r", "-e",
    "--index-url", "-i", "--no-index", "--pre", "${VAR}", "${UNSET}", "--", "--ha", "--no-",
    "foo", "Foo_Bar", "==1.0", ">=2", "[x]", " @ https://h/x-1.0-py3-none-any.whl",
    "git+https://h/r", "./pkg", "-C", "k=v", "--config-settings", "--use-feature", "fast-deps",
    " # c", "#egg=x", "-ifoo",
]  # fmt: skip
requirement_text = st.lists(st.sampled_from(_SPECIAL), max_size=40).map("".join)


@st.composite
def _lock_entry(draw: st.DrawFn) -> str:
    """A pip-compile entry (a requirement, then one --hash per line), or a near miss."""
    near_miss = draw(st.booleans())

    def part(good: list[str], bad: list[str]) -> str:
        return draw(st.sampled_from(good + bad if near_miss else good))

    text = part(
        ["a", "Foo_Bar", "x-y.z[ex]", "https://h/x-1.0-py3-none-any.whl"],
        ["-e .", "#c", "a${VAR}", "a'b", "a\\b", " a", "--hash", "a==1 -e"],
    )
    text += part(["==1.0", ">=2", "==1.*", ""], [" ; python_version<'3'", "#x", "\t"])
    for _ in range(draw(st.integers(1 if not near_miss else 0, 3))):
        text += part([" \\", "\\", "  \\"], [" \\\\", "\t\\", " \\ ", ""])
        text += part(["\n", "\r\n"], ["\r", "\x0c", "\u2028"])
        text += part(["    ", " "], ["", "\t", "  # c "])
        text += part(["--hash=sha256:"], ["--hash=sha384:", "--hash sha256:", "-x"])
        text += part(["ab" * 32, "0123456789abcdef" * 4], ["AB" * 32, "a" * 63, "a" * 65])
    text += part(["", " ", "  "], ["\t", " \\"])
    return text + part(["\n", "\r\n", ""], ["\r"])


# Lock-file shaped text: mostly well-formed entries, which the parser takes in one match.
lock_text = st.lists(
    _lock_entry() | st.sampled_from(["# via x\n", "\n", "--pre\n"]), max_size=8
).map("".join)
ENV = {"VAR": "value with space", "EMPTY": ""}


@given(st.text())
@example("a\\\n#c\\\nb")
@example("\ufeffx\r\ny")
def test_round_trip_arbitrary_text(text: str) -> None:
    data = text.encode("utf-8")
    assert parse(data).render() == data


@given(requirement_text | lock_text)
def test_round_trip_requirement_shaped_text(text: str) -> None:
    data = text.encode("utf-8")
    assert parse(data, ENV).render() == data


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_round_trip_with_byte_order_marks(bom: bytes, codec: str) -> None:
    data = bom + "requests==2.31.0\r\nflask  # web\r\n".encode(codec)
    parsed = parse(data)
    assert parsed.render() == data
    assert [line.args for line in parsed.lines] == ["requests==2.31.0", "flask"]


def test_round_trip_pep263_coding_line() -> None:
    data = "# -*- coding: latin-1 -*-\ncaf\xe9==1.0\n".encode("latin-1")
    parsed = parse(data)
    assert parsed.render() == data
    assert parsed.lines[1].args == "caf\xe9==1.0"


@given(st.binary(max_size=200))
def test_decode_matches_pip_or_refuses(data: bytes) -> None:
    try:
        expected: str | None = pip_req_file._decode_req_file(data, "r.txt")
    except (UnicodeDecodeError, LookupError):
        expected = None
    try:
        text = decode(data)[0]
    except DecodeError:
        # pip falls back to the locale's encoding for non-UTF-8 bytes; hashpin refuses them.
        return
    assert text == expected


def test_undecodable_bytes_name_line_and_column() -> None:
    with pytest.raises(DecodeError) as caught:
        parse(b"ok==1\nbad\xff==2\n")
    assert caught.value.line == 2
    assert "column 4" in caught.value.message


def test_unknown_coding_is_refused() -> None:
    with pytest.raises(DecodeError, match="unknown encoding 'nope'"):
        parse(b"# coding: nope\nx\n")


def _pip_lines(text: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    for name in ("VAR", "EMPTY", "UNSET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return list(pip_req_file.preprocess(text))


@settings(max_examples=400)
@given(requirement_text | lock_text)
@example("foo\\\n#comment\nbar")
@example("foo # c \\\n--hash=sha256:ab")
@example("\\\\foo\\\\\nbar")
@example("a\\")
def test_logical_lines_match_pip_preprocess(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = _pip_lines(text, ENV, monkeypatch)
    got = [(line.number, line.content) for line in parse_text(text, ENV) if line.content]
    assert got == expected


def _pip_parse_line(content: str) -> tuple[str, optparse.Values] | str:
    try:
        return pip_req_file.get_line_parser(None)(content)
    except pip_req_file.OptionParsingError as exc:
        return f"error: {exc.msg}"
    except Exception as exc:  # CommandError from --no-binary and friends
        return f"error: {exc}"


@settings(max_examples=400)
@given(requirement_text | lock_text)
@example("foo --hash sha256:ab --hash=sha384:cd")
@example("-e . --hash=sha256:ab")
@example("--ind http://x")
@example("--no- x")
@example("-ifoo bar")
@example("x -- -r y")
@example("--no-binary --pre")
@example("--hash='sha256:a b'")
@example('x --hash="unbalanced')
def test_options_match_pip_line_parser(text: str) -> None:
    for line in parse_text(text, ENV):
        if not line.content:
            continue
        expected = _pip_parse_line(line.content)
        if isinstance(expected, str):
            assert line.error is not None, (line.content, expected)
            continue
        args, opts = expected
        assert line.error is None, (line.content, line.error)
        assert line.args == args
        hashes = [option.value or "" for option in line.options_named("--hash")]
        pip_hashes = [f"{algo}:{d}" for algo, ds in (opts.hashes or {}).items() for d in ds]
        assert sorted(hashes) == sorted(pip_hashes)
        assert [o.value for o in line.options_named("--editable")] == opts.editables
        assert [o.value for o in line.options_named("--requirement")] == opts.requirements
        assert [o.value for o in line.options_named("--constraint")] == opts.constraints
        index = line.options_named("--index-url")
        assert (index[-1].value if index else None) == opts.index_url
        assert bool(line.options_named("--no-index")) == opts.no_index
        assert all(line.content[option.offset] == "-" for option in line.options)


@given(st.text(alphabet=" \t\u3000\xa0#ab", max_size=30))
def test_comment_start_matches_pips_regex(text: str) -> None:
    match = pip_req_file.COMMENT_RE.search(text)
    assert comment_start(text) == (match.start() if match else -1)


def test_long_whitespace_line_is_linear() -> None:
    # pip's comment regex is quadratic here; hashpin must stay fast on a 1 MB line.
    line = "x" + " " * 1_000_000 + "y\n"
    parsed = parse(line.encode())
    assert parsed.lines[0].args == "x" + " " * 1_000_000 + "y"


def test_locate_points_into_continuation_lines() -> None:
    text = "foo==1.0 \\\n    --hash=sha256:aa \\\n  --hash=sha256:bb\n"
    (line,) = parse_text(text)
    hashes = line.options_named("--hash")
    assert [line.locate(option.offset) for option in hashes] == [(2, 5), (3, 3)]
    assert line.end == 3


def test_comment_swallows_joined_lines() -> None:
    (line,) = parse_text("foo==1.0 # note \\\n    --hash=sha256:aa\n")
    assert line.args == "foo==1.0"
    assert line.options == ()
    assert "--hash" in line.comment


def test_lock_entry_lines_and_positions() -> None:
    digest = "0123456789abcdef" * 4
    text = f"# header\r\nfoo==1.0 \\\r\n    --hash=sha256:{digest} \\\r\n  --hash=sha256:{digest}  \r\nbar\n"
    _, entry, bar = parse_text(text)
    assert (entry.number, entry.end, bar.number) == (2, 4, 5)
    assert entry.raw == text[len("# header\r\n") : text.index("bar")]
    assert entry.args == "foo==1.0    "
    assert entry.content.endswith(digest)
    assert [entry.locate(option.offset) for option in entry.options] == [(3, 5), (4, 3)]
    assert [option.value for option in entry.options] == [f"sha256:{digest}"] * 2
