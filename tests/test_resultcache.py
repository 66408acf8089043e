"""``hashpin check`` keeps its results: an unchanged input is answered from the cache, and
any change to what the check read (a file, an include, a ``${NAME}``, a folder, the
configuration, hashpin's code) makes it check again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hashpin import resultcache, rules
from hashpin.cli import main

HASH = "--hash=sha256:" + "a" * 64


@pytest.fixture(autouse=True)
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["check", "--cache-dir", "cache", *args])
    return status, capsys.readouterr().out


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the checks really run (a hit runs none)."""
    calls: list[int] = []
    real = rules.check

    def counted(*args: Any, **kwargs: Any) -> rules.Report:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(rules, "check", counted)
    return calls


def test_an_unchanged_file_is_answered_from_the_cache(
    capsys: pytest.CaptureFixture[str], checks: list[int]
) -> None:
    Path("requirements.txt").write_text('a==1 ; python_version >= "3.8"\n')
    first = check(capsys, "requirements.txt")
    assert first[0] == 1 and "HP002" in first[1]
    assert len(checks) == 1
    assert check(capsys, "requirements.txt") == first
    assert len(checks) == 1
    assert check(capsys, "--format", "json", "requirements.txt")[1].startswith("{")
    assert len(checks) == 2  # another command line, another entry


@pytest.mark.parametrize(
    "change",
    ["file", "include", "new include", "variable", "folder", "config", "code"],
)
def test_any_change_to_an_input_is_checked_again(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    checks: list[int],
    change: str,
) -> None:
    Path("base.txt").write_text("b==1\n")
    Path("requirements.txt").write_text(
        f"-r base.txt\n-r extra.txt\na==${{A_VERSION}} {HASH}\nc @ file://{os.getcwd()}/c.whl\n"
    )
    Path("pyproject.toml").write_text("[tool.hashpin]\n")
    monkeypatch.setenv("A_VERSION", "1")
    before = check(capsys, "requirements.txt")
    assert check(capsys, "requirements.txt") == before
    assert len(checks) == 1
    if change == "file":
        Path("requirements.txt").write_text(f"a==1 {HASH}\n")
    elif change == "include":
        Path("base.txt").write_text(f"b==1 {HASH}\n")
    elif change == "new include":
        Path("extra.txt").write_text("d\n")
    elif change == "variable":
        monkeypatch.setenv("A_VERSION", "1.*")
    elif change == "folder":
        Path("c.whl").mkdir()
    elif change == "config":
        Path("pyproject.toml").write_text('[tool.hashpin]\nignore = ["HP002"]\n')
    elif change == "code":
        monkeypatch.setattr(resultcache, "code_version", lambda: "another hashpin")
    after = check(capsys, "requirements.txt")
    assert len(checks) == 2
    assert after != before or change == "code"


def test_no_cache_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("a==1\n")
    main(["check", "--no-cache", "--cache-dir", "cache", "requirements.txt"])
    assert not Path("cache").exists()
    check(capsys, "requirements.txt")
    assert list(Path("cache").rglob("*.json"))


@pytest.mark.parametrize("damage", ["", "{", "[1]", '{"output": 1}', "[" * 100_000 + "]" * 100_000])
def test_a_damaged_entry_is_a_miss(capsys: pytest.CaptureFixture[str], damage: str) -> None:
    Path("requirements.txt").write_text("a==1\n")
    first = check(capsys, "requirements.txt")
    (entry,) = Path("cache").rglob("*.json")
    entry.write_text(damage)
    assert check(capsys, "requirements.txt") == first
