"""hashpin's verdict per requirement line against pip's own (tests/pip_oracle.py).

For every line pip judges, pip refuses it under --require-hashes exactly when hashpin
reports an error on it, and for a refused file hashpin reports HP000 at the line pip
stops at. Run over the real-world corpus and over generated files.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from pathlib import Path

import pytest
from pip_oracle import OracleResult, pip_verdicts
from reqgen import GEN_ENV, populate_cwd, random_file
from test_pip_oracle import CORPUS

from hashpin.cli import main
from hashpin.rules import BY_CODE, ERROR

# The error a verdict must come with; "invalid" and "directory" depend on the file
# system where pip runs, which hashpin does not look at, so any error will do there.
_EXPECTED_CODE = {"unpinned": "HP001", "unhashed": "HP002", "editable": "HP003", "vcs": "HP004"}
# Deliberately stricter than pip: a digest that can never match fails only at download.
_STRICTER = {"HP006"}
_INCLUDE_RE = re.compile(r"^\s*(-r|-c|--requirement|--constraint)\b", re.MULTILINE)

_BINARY = "binary"  # marks the one HP000 a file with NUL bytes gets, instead of one per line
Findings = dict[tuple[str, int], set[str]]


def _hashpin(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Findings:
    main(["check", "--isolated", "--format", "json", str(path)])
    found: Findings = defaultdict(set)
    for entry in json.loads(capsys.readouterr().out)["files"]:
        for finding in entry["findings"]:
            key = (str(Path(entry["path"]).resolve()), finding["line"])
            found[key].add(finding["code"])
            if "NUL bytes" in finding["message"]:
                found[key].add(_BINARY)
    return found


def _errors(codes: set[str]) -> set[str]:
    return {code for code in codes if code in BY_CODE and BY_CODE[code].severity == ERROR}


def _disagreements(oracle: OracleResult, found: Findings) -> list[str]:
    problems = []
    # A file with NUL bytes gets one HP000 at line 1 instead of one per line.
    binary = {path: {"HP000"} for (path, number), codes in found.items() if _BINARY in codes}
    for verdict in oracle.lines:
        codes = found.get((str(Path(verdict.path).resolve()), verdict.line), set())
        if "HP104" in codes:
            continue  # a later duplicate: pip checks the first one's hashes only
        where = f"{Path(verdict.path).name}:{verdict.line}"
        errors = _errors(codes) | binary.get(str(Path(verdict.path).resolve()), set())
        if verdict.verdict == "ok" and errors - _STRICTER:
            problems.append(f"{where}: pip accepts, hashpin reports {sorted(errors)}")
        elif (verdict.verdict != "ok" and not errors) or (
            verdict.verdict in _EXPECTED_CODE and _EXPECTED_CODE[verdict.verdict] not in codes
        ):
            problems.append(f"{where}: pip says {verdict.verdict}, hashpin reports {sorted(codes)}")
    if oracle.refused is not None and oracle.refused_path is not None:
        key = str(Path(oracle.refused_path).resolve())
        if oracle.refused_line is not None:
            if "HP000" not in found.get((key, oracle.refused_line), set()):
                problems.append(f"pip refuses line {oracle.refused_line}: {oracle.refused}")
        elif not any("HP000" in codes for (path, _), codes in found.items() if path == key):
            problems.append(f"pip refuses the file: {oracle.refused}")
    return problems


def _corpus_files() -> list[Path]:
    return sorted(
        path for path in CORPUS.iterdir() if path.suffix in (".txt", ".in") or "@" in path.name
    )


@pytest.mark.parametrize("source", _corpus_files(), ids=lambda path: path.name)
def test_corpus_agrees_with_pip(
    source: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Each file alone: its includes are blanked, as the corpus baseline does.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    data = source.read_bytes()
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" not in data:
        data = _INCLUDE_RE.sub(lambda m: " " * len(m.group(0)) + " #", data.decode()).encode()
    target = tmp_path / "requirements.txt"
    target.write_bytes(data)
    monkeypatch.chdir(tmp_path)
    oracle = pip_verdicts(target, cwd=tmp_path, strict_pins=True)
    assert _disagreements(oracle, _hashpin(target, monkeypatch, capsys)) == []


@pytest.mark.parametrize("seed", range(0, 400, 20))
def test_generated_files_agree_with_pip(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    populate_cwd(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name, value in GEN_ENV.items():
        monkeypatch.setenv(name, value)
    problems = []
    for offset in range(20):
        target = tmp_path / f"r{offset}.txt"
        target.write_bytes(random_file(random.Random(seed + offset)).encode("utf-8"))
        oracle = pip_verdicts(target, cwd=tmp_path, env=GEN_ENV, strict_pins=True)
        problems += [
            f"seed {seed + offset}: {p}"
            for p in _disagreements(oracle, _hashpin(target, monkeypatch, capsys))
        ]
    assert problems == []
