"""The real pre-commit and ``hashpin check`` without paths pick the same files.

pre-commit runs the hooks of a throwaway copy of this checkout's working tree (committed,
as in test_precommit.py, since pre-commit installs hooks from commits), so the
``files``/``exclude`` it applies are the ones in ``.pre-commit-hooks.yaml`` now.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_discovery import GARBAGE, PATHS
from test_precommit import _environment, _git, _new_git_repo, _pre_commit, _write, snapshot_checkout

ROOT = Path(__file__).resolve().parents[1]
TABLE = [(path, wanted) for path, wanted in PATHS if not path.startswith(".git/")]
WANTED = sorted(path for path, wanted in TABLE if wanted)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _environment(tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    return snapshot_checkout(tmp_path_factory.mktemp("hook-repo"), env)[0]


@pytest.fixture
def project(tmp_path: Path, env: dict[str, str]) -> Path:
    """A repository holding every path of the table, staged, plus what pre-commit cannot see
    and discovery must skip: an ignored file and an untracked virtualenv."""
    project = _new_git_repo(tmp_path / "project", env)
    for path, _ in TABLE:
        _write(project / path, GARBAGE)
    _write(project / ".gitignore", "ignored-requirements.txt\n")
    _git(project, env, "add", "-A")
    _write(project / "ignored-requirements.txt", GARBAGE)
    _write(project / "env1" / "pyvenv.cfg", "home = /usr/bin\n")
    _write(project / "env1" / "requirements.txt", GARBAGE)
    return project


def reported(output: str) -> list[str]:
    return sorted({m.group(1) for m in re.finditer(r"^(\S+):1:1: HP000 ", output, re.M)})


def test_the_hook_and_the_cli_check_the_same_files(
    project: Path, hook_repo: Path, env: dict[str, str]
) -> None:
    hooked = _pre_commit(project, env, "try-repo", str(hook_repo), "hashpin-check", "--all-files")
    assert hooked.returncode == 1, hooked.stdout
    assert reported(hooked.stdout) == WANTED, hooked.stdout

    cli = subprocess.run(
        [sys.executable, "-m", "hashpin", "check", "--isolated"],
        cwd=project,
        env={**env, "PYTHONPATH": str(ROOT / "hooks")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 1, cli.stderr
    assert cli.stderr == ""
    assert reported(cli.stdout) == [path.replace("/", os.sep) for path in WANTED]


def test_the_hook_skips_what_discovery_skips(
    project: Path, hook_repo: Path, env: dict[str, str]
) -> None:
    skipped = [path for path, wanted in TABLE if not wanted]
    result = _pre_commit(
        project, env, "try-repo", str(hook_repo), "hashpin-check", "--files", *skipped
    )
    assert result.returncode == 0, result.stdout
    assert "(no files to check)Skipped" in result.stdout, result.stdout


def test_the_fix_hook_is_given_the_lock_files_too(
    project: Path, hook_repo: Path, env: dict[str, str]
) -> None:
    # The hooks share discovery's files, lock files included. These are not TOML: fix
    # cannot mend them, so it fails the commit, names each one, and leaves it as it was.
    locks = [path for path in WANTED if path.endswith(".toml")]
    assert locks == ["pylock.dev.toml", "pylock.toml", "sub/pylock.toml"]
    before = {path: (project / path).read_bytes() for path in locks}
    result = _pre_commit(
        project, env, "try-repo", str(hook_repo), "hashpin-fix", "--verbose", "--files", *locks
    )
    assert result.returncode == 1, result.stdout
    for path in locks:
        assert f"hashpin: {path} left unchanged" in result.stdout, result.stdout
    assert "(fix it by hand first)" in result.stdout, result.stdout
    assert {path: (project / path).read_bytes() for path in locks} == before
