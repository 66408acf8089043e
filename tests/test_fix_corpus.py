"""``fix`` over the real-world corpus and generated files, with pip as the judge.

Each file is fixed against a local index that serves a real wheel for every version the
file pins. Then pip's own parser, with ``--require-hashes`` (tests/pip_oracle.py), must
find every pinned requirement hashed and nothing else changed: the same verdicts otherwise,
and every line that is not a requirement byte for byte where it was.
"""

from __future__ import annotations

import difflib
import random
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_wheel
from indexserver import IndexServer, seal
from pip_oracle import pip_verdicts
from reqgen import GEN_ENV, populate_cwd, random_file
from test_pip_oracle import CORPUS, _copy_without_includes

from hashpin.cache import Cache
from hashpin.fix import FixOptions, Resolver, run
from hashpin.index import IndexClient
from hashpin.locations import IndexSettings
from hashpin.reqfile import DecodeError, parse
from hashpin.requirement import NAMED, InvalidRequirement, canonical_name, interpret
from hashpin.rules import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

CORPUS_FILES = sorted(
    path.name
    for path in (CORPUS.iterdir() if CORPUS.is_dir() else [])
    if path.suffix in (".txt", ".in")
)


def _pins(data: bytes, env: Mapping[str, str] | None = None) -> set[tuple[str, str]]:
    """(project, version) of every ``name==version`` line."""
    try:
        lines = parse(data, env).lines
    except DecodeError:
        return set()
    found = set()
    for line in lines:
        if not line.args or line.error:
            continue
        try:
            requirement = interpret(line.args)
        except InvalidRequirement:
            continue
        if requirement.kind == NAMED and requirement.name and requirement.pinned_version:
            found.add((canonical_name(requirement.name), requirement.pinned_version))
    return found


GENERATED = [random_file(random.Random(seed)).encode() for seed in range(60)]


def _wheels() -> dict[str, list[Dist]]:
    projects: dict[str, list[Dist]] = {}
    files = [(CORPUS / name).read_bytes() for name in CORPUS_FILES] + GENERATED
    pins = {pin for data in files for pin in _pins(data, GEN_ENV)}
    for project, version in sorted(pins):
        try:
            wheel = make_wheel(project, version)
        except ValueError:  # a version PEP 440 refuses: pip refuses the line too
            continue
        projects.setdefault(project, []).append(wheel)
    return projects


@pytest.fixture(scope="module")
def server() -> Iterator[IndexServer]:
    with IndexServer(_wheels()) as running:
        yield running


@pytest.fixture(autouse=True)
def sealed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A URL in a corpus file must not leave the machine: send it to a dead proxy."""
    seal(monkeypatch, tmp_path)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def _fix(path: Path, server: IndexServer, env: Mapping[str, str] | None = None) -> list[str]:
    client = IndexClient(timeout=5, retries=0)
    outcome = run(
        [str(path)],
        options=FixOptions(),
        settings=Settings(),
        base=IndexSettings(server.index_url),
        resolver=Resolver(client, Cache(None)),
        env=env or {},
    )
    return [error for result in outcome.files for error in result.errors]


def _unchanged_except_requirements(before: bytes, after: bytes) -> None:
    """Only requirement lines (and stray hash lines) may be rewritten or dropped."""
    old = [line.raw for line in parse(before).lines]
    new = [line.raw for line in parse(after).lines]
    by_raw = {line.raw: line for line in parse(before).lines}
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        assert tag in ("replace", "delete"), f"lines added: {new[j1:j2]!r}"
        for raw in old[i1:i2]:
            line = by_raw[raw]
            stray_hash = not line.args and {o.name for o in line.options} == {"--hash"}
            assert line.args or stray_hash, f"not a requirement, yet changed: {raw!r}"


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_fixed_corpus_file_passes_pip(name: str, server: IndexServer, tmp_path: Path) -> None:
    path = _copy_without_includes(name, tmp_path)
    _fix_and_judge(path, server, tmp_path, {})


@pytest.mark.parametrize("seed", range(0, len(GENERATED), 10))
def test_fixed_generated_files_pass_pip(
    seed: int, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate_cwd(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name, value in GEN_ENV.items():
        monkeypatch.setenv(name, value)
    for offset, data in enumerate(GENERATED[seed : seed + 10]):
        path = tmp_path / f"r{seed + offset}.txt"
        path.write_bytes(data)
        _fix_and_judge(path, server, tmp_path, GEN_ENV)


def _fix_and_judge(path: Path, server: IndexServer, cwd: Path, env: Mapping[str, str]) -> None:
    before = path.read_bytes()
    verdicts_before = pip_verdicts(path, cwd=cwd, env=env, strict_pins=True)
    errors = _fix(path, server, env)
    after = path.read_bytes()
    if errors:  # e.g. a URL the dead proxy refuses: all or nothing
        assert after == before
        return
    verdicts_after = pip_verdicts(path, cwd=cwd, env=env, strict_pins=True)
    assert verdicts_after.aborts == verdicts_before.aborts
    if verdicts_before.aborts:
        return
    # Every pinned requirement that pip found unhashed is hashed now; nothing else moved.
    count_before = Counter(v.verdict for v in verdicts_before.lines)
    count_after = Counter(v.verdict for v in verdicts_after.lines)
    pinned = {
        line.number
        for line in parse(after, env).lines
        if line.args and not line.error and _pins(line.raw.encode(), env)
    }
    still_unhashed = [v.line for v in verdicts_after.lines if v.verdict == "unhashed"]
    assert not [number for number in still_unhashed if number in pinned]
    for verdict in ("unpinned", "editable", "vcs", "directory", "invalid"):
        assert count_after[verdict] == count_before[verdict], verdict
    _unchanged_except_requirements(before, after)
    # A second run finds nothing more to do.
    assert _fix(path, server, env) == []
    assert path.read_bytes() == after
