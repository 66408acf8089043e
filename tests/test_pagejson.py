"""A PEP 691 page decoded with msgspec reads exactly as ``json.loads`` reads it (pip's
reading), the page accepted or refused alike, whatever its text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpin import pagejson
from hashpin.pagejson import decode

# The keys simple.py reads from an entry.
READ_KEYS = [
    "filename",
    "url",
    "hashes",
    "requires-python",
    "yanked",
    "core-metadata",
    "dist-info-metadata",
    "size",
    "upload-time",
]


def as_json_reads_it(body: bytes) -> tuple[str, str]:
    """What pip's json.loads makes of the page, in the keys hashpin reads: ("ok", text of
    meta and entries) or ("refused", "")."""
    try:
        meta, entries = pagejson._decoded_by_json(json.loads(body))
    except (ValueError, RecursionError):
        return "refused", ""
    return "ok", _text(meta, entries.entries(list(range(len(entries)))), READ_KEYS)


def as_decode_reads_it(body: bytes) -> tuple[str, str]:
    try:
        meta, entries = decode(body)
    except (ValueError, RecursionError):
        return "refused", ""
    built = entries.entries(list(range(len(entries))))
    assert entries.names == [entry["filename"] for entry in built]
    return "ok", _text(meta, built, READ_KEYS)


def _text(meta: object, entries: list[dict[str, object]], keys: list[str]) -> str:
    # json.dumps, not ==: NaN is not equal to itself, and a key's order does not matter.
    kept = [{key: value for key, value in entry.items() if key in keys} for entry in entries]
    return json.dumps([meta, kept], sort_keys=True)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)  # lone surrogates included
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
ANY_ENTRY = st.dictionaries(
    st.sampled_from([*READ_KEYS, "provenance"]) | st.text(max_size=6), VALUES, max_size=6
)
ENTRY = st.fixed_dictionaries(
    {"filename": st.text(min_size=1, max_size=12), "url": st.text(max_size=12)},
    optional={key: VALUES for key in [*READ_KEYS[2:], "provenance", "data-dist-info-metadata"]},
)
PAGE = st.fixed_dictionaries(
    {
        "files": st.one_of(
            *[st.lists(ENTRY, max_size=5)] * 6, st.lists(ANY_ENTRY, max_size=3), VALUES
        )
    },
    optional={"meta": VALUES | st.fixed_dictionaries({"api-version": VALUES}), "name": VALUES},
)


@st.composite
def page_texts(draw: st.DrawFn) -> bytes:
    """Pages as servers might write them: any separators, escaped or raw non-ASCII text,
    in UTF-8, UTF-8 with a byte-order mark or UTF-16, sometimes with one byte changed or
    the text cut short."""
    page = draw(st.one_of(PAGE, PAGE, PAGE, VALUES))
    text = json.dumps(
        page,
        ensure_ascii=draw(st.booleans()),
        separators=draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t")])),
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16"]))
    body = text.encode(encoding, errors="surrogatepass")
    damage = draw(st.sampled_from(["none"] * 6 + ["byte", "cut"]))
    if damage != "none" and body:
        at = draw(st.integers(min_value=0, max_value=len(body) - 1))
        if damage == "byte":
            body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :]
        else:
            body = body[:at]
    return body


@settings(max_examples=1500, deadline=None)
@given(body=page_texts())
def test_a_page_reads_as_json_loads_reads_it(body: bytes) -> None:
    assert as_decode_reads_it(body) == as_json_reads_it(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # msgspec refuses these texts, json.loads takes them: read the way json.loads does.
        (b'{"files":[{"filename":"a-1.tar.gz","url":"u","size":NaN}]}', "ok"),
        (b'{"files":[{"filename":"a-1.tar.gz","url":"u","yanked":"\\ud800"}]}', "ok"),
        (b'\xef\xbb\xbf{"files":[{"filename":"a-1.tar.gz","url":"u"}]}', "ok"),
        ('{"files":[{"filename":"a-1.tar.gz","url":"u"}]}'.encode("utf-16"), "ok"),
        # The last of a repeated key counts, as in json.loads.
        (b'{"files":[{"filename":1,"url":"u","filename":"a-1.tar.gz"}]}', "ok"),
        (b'{"files":[],"files":[{"filename":"a-1.tar.gz","url":"u"}]}', "ok"),
        (b'{"files":[{"file\\u006eame":"a-1.tar.gz","url":"u"}]}', "ok"),
        # json.loads reads bytes as UTF-8 with surrogates let through, where msgspec checks
        # only the strings it decodes.
        (b'{"files":[{"filename":"a-1.tar.gz","url":"u","x":"\xed\xa0\x80"}]}', "ok"),
        (b'{"files":[{"filename":"\xed\xa0\x80","url":"u"}]}', "ok"),
        (b'{"files":[{"filename":"a-1.tar.gz","url":"u","x":"\x80"}]}', "refused"),
        (b'{"files":[{"filename":"a-1.tar.gz","url":"u"}],"\xff":1}', "refused"),
        # Not a page.
        (b'{"files":[{"filename":"a-1.tar.gz","url":"u","x":[1,}]}', "refused"),
        (b'{"files":[{"filename":"a-1.tar.gz","url":"u"}]} trailing', "refused"),
        (b'{"files":[{"filename":"","url":"u"}]}', "refused"),
        (b'{"files":[{"filename":"a-1.tar.gz"}]}', "refused"),
        (b'{"files":["a-1.tar.gz"]}', "refused"),
        (b'{"files":{}}', "refused"),
        (b"[]", "refused"),
        (
            b'{"files":[{"filename":"a-1.tar.gz","url":"u","x":'
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}]}",
            "refused",
        ),
    ],
)
def test_texts_msgspec_and_json_loads_read_apart(body: bytes, expected: str) -> None:
    read = as_decode_reads_it(body)
    assert read == as_json_reads_it(body)
    assert read[0] == expected


def test_the_fast_reading_is_the_one_used() -> None:
    """msgspec is a dependency on CPython: a page it can read is not handed to json.loads
    (whose objects would all be built), only the entries asked for are."""
    assert pagejson._DECODER is not None
    body = json.dumps(
        {"files": [{"filename": f"a-{n}.tar.gz", "url": f"u{n}", "size": n} for n in range(5)]}
    ).encode()
    _, entries = decode(body)
    assert entries._built is None
    assert entries.entries([3, 1]) == [
        {"filename": "a-3.tar.gz", "url": "u3", "size": 3},
        {"filename": "a-1.tar.gz", "url": "u1", "size": 1},
    ]


def test_without_msgspec_pages_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "files": [
                {"filename": "a-1.tar.gz", "url": "u", "hashes": {"sha256": "0" * 64}, "size": 1.5},
                {"filename": "a-2.tar.gz", "url": "v", "yanked": "bad", "upload-time": "t"},
            ],
        }
    ).encode()
    fast = as_decode_reads_it(body)
    monkeypatch.setattr(pagejson, "_DECODER", None)
    assert as_decode_reads_it(body) == fast
    assert decode(body)[1]._built is not None
    assert json.loads(fast[1])[1][0]["size"] == 1.5
