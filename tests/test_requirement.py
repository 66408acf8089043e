"""The requirement fast paths against packaging and against the general path."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement as PackagingInvalid
from packaging.requirements import Requirement as PackagingRequirement

from hashpin.requirement import (
    _FAST_RE,
    NAMED,
    InvalidRequirement,
    interpret,
    is_archive,
    plain_pin_name,
)

_NAMES = ["a", "Foo_Bar", "x.y-z", "A1", "-a", "a-", "a..b", "zope.interface", "p.zip"]
_EXTRAS = ["", "[x]", "[x,y]", "[]", "[x y]", "[X_1]"]
_OPERATORS = ["", "==", "===", ">=", "~=", "!=", "<", ">", "=", "<>"]
_VERSIONS = ["1", "1.0", "10.2.3", "1.*", "1.0+local.2", "1.0a1", "1.0.post1", "1.0.dev2",
             "01", "1..0", "v1", "1.0rc1", "1.0-1", "*", "1.0+a.zip", ""]  # fmt: skip
_TAILS = ["", " ", "   ", "\t", " ; python_version<'3'", ",<2", "#x", ".zip", ".tar.bz2"]

requirement_text = st.builds(
    lambda *parts: "".join(parts),
    *(st.sampled_from(choices) for choices in (_NAMES, _EXTRAS, _OPERATORS, _VERSIONS, _TAILS)),
)


def _interpret(text: str) -> object:
    try:
        requirement = interpret(text)
    except InvalidRequirement:
        return "invalid"
    return (
        requirement.kind,
        requirement.name,
        requirement.extras,
        requirement.specifiers,
        requirement.marker,
        requirement.url,
    )


@settings(max_examples=500)
@given(requirement_text)
@example("a==1.0+local.2")
def test_fast_pattern_means_what_packaging_means(text: str) -> None:
    stripped = text.strip()
    match = _FAST_RE.fullmatch(stripped)
    if match is None or is_archive(stripped):
        return
    try:
        parsed = PackagingRequirement(stripped)
    except PackagingInvalid as exc:
        raise AssertionError(f"packaging refuses what the fast path accepts: {text!r}") from exc
    requirement = interpret(text)
    assert requirement.name == parsed.name
    assert set(requirement.extras) == parsed.extras
    assert requirement.specifiers == tuple((s.operator, s.version) for s in parsed.specifier)
    assert parsed.marker is None and parsed.url is None


def test_compatible_release_needs_two_segments() -> None:
    assert _interpret("a~=1") == "invalid"
    assert _interpret("a~=1.0")[3] == (("~=", "1.0"),)  # type: ignore[index]


@settings(max_examples=500)
@given(requirement_text)
@example("numpy==2.2.0   ")
def test_plain_pin_is_what_interpret_says(text: str) -> None:
    name = plain_pin_name(text)
    if name is None:
        return
    requirement = interpret(text)
    assert (requirement.kind, requirement.name) == (NAMED, name)
    assert requirement.is_pinned and not requirement.is_wildcard_pin
    assert (requirement.extras, requirement.marker, requirement.url) == ((), None, None)
    assert _interpret(text) == _interpret(text.strip())
