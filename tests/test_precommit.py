"""End to end through the real pre-commit framework: try-repo, and a real ``git commit``.

pre-commit builds the hook's virtualenv with ``pip install .`` of the hook repository,
which may download build dependencies (setuptools, packaging) from the package index.
Everything else stays on this machine. PRE_COMMIT_HOME is one temporary directory for
the whole module, so the hook environment of the hook repository is built only once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a consumer's pre-commit clones: the package, its metadata and the hook manifest.
HOOK_REPO_FILES = ("hooks", "pyproject.toml", ".pre-commit-hooks.yaml", "README.md")
REQUIRED_HOOK_REPO_FILES = ("hooks", "pyproject.toml", ".pre-commit-hooks.yaml")

UNHASHED = "requests==2.31.0\nflask>=2\n"
CLEAN = (
    "requests==2.31.0 \\\n"
    "    --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f\n"
)
GARBAGE = "<<<garbage>>> ::: this is not a requirement at all\n"
# Build and install of the hook environment (downloads setuptools): generous.
TIMEOUT = 300


def _environment(pre_commit_home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # GIT_DIR, GIT_INDEX_FILE, ... leak in when the suite itself runs from a git
        # hook; SKIP=hashpin-check would silently turn the hook off.
        if not key.startswith(("GIT_", "PRE_COMMIT")) and key != "SKIP"
    }
    env.update(
        PRE_COMMIT_HOME=str(pre_commit_home),
        PRE_COMMIT_COLOR="never",
        GIT_AUTHOR_NAME="hashpin tests",
        GIT_AUTHOR_EMAIL="tests@hashpin.invalid",
        GIT_COMMITTER_NAME="hashpin tests",
        GIT_COMMITTER_EMAIL="tests@hashpin.invalid",
        # Neither the user's nor the machine's git config (core.hooksPath, commit.gpgsign,
        # init.templateDir, ...) may change what these tests see.
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _run(
    args: list[str], cwd: Path, env: Mapping[str, str], *, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def _git(cwd: Path, env: Mapping[str, str], *args: str) -> str:
    result = _run(["git", *args], cwd, env, timeout=60)
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stdout}"
    return result.stdout.strip()


def _pre_commit(cwd: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "pre_commit", *args], cwd, env)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _new_git_repo(path: Path, env: Mapping[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, env, "init", "-q")
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _environment(tmp_path_factory.mktemp("pre-commit-home"))


def snapshot_checkout(folder: Path, env: dict[str, str]) -> tuple[Path, str]:
    """A git repository holding the checkout's working tree: (path, commit sha).

    pre-commit installs hooks from commits, so this is how it sees uncommitted code.
    """
    for name in REQUIRED_HOOK_REPO_FILES:
        assert (ROOT / name).exists(), f"{ROOT / name} is missing"
    repo = _new_git_repo(folder, env)
    for name in HOOK_REPO_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                repo / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build"),
            )
        elif source.exists():  # README.md may not be written yet
            shutil.copy2(source, repo / name)
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "--no-verify", "-m", "hashpin working tree")
    return repo, _git(repo, env, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    return snapshot_checkout(tmp_path_factory.mktemp("hook-repo"), env)


@pytest.fixture
def user_repo(tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]) -> Path:
    """A project that uses hashpin-check from ``hook_repo``, with the git hook installed."""
    hook_path, sha = hook_repo
    repo = _new_git_repo(tmp_path / "project", env)
    config = {"repos": [{"repo": str(hook_path), "rev": sha, "hooks": [{"id": "hashpin-check"}]}]}
    # JSON is YAML: no quoting trouble whatever the temporary path looks like.
    _write(repo / ".pre-commit-config.yaml", json.dumps(config, indent=4) + "\n")
    _git(repo, env, "add", ".pre-commit-config.yaml")
    _git(repo, env, "commit", "-q", "-m", "use hashpin")
    installed = _pre_commit(repo, env, "install")
    assert installed.returncode == 0, installed.stdout
    return repo


def test_try_repo_reports_unpinned_and_unhashed(tmp_path: Path, env: dict[str, str]) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("try-repo needs the checkout to be a git repository")
    project = _new_git_repo(tmp_path / "project", env)
    _write(project / "requirements.txt", UNHASHED)
    _git(project, env, "add", "requirements.txt")

    result = _pre_commit(
        project, env, "try-repo", str(ROOT), "hashpin-check", "--files", "requirements.txt"
    )

    assert result.returncode != 0, result.stdout
    assert "requirements.txt:1:1: HP002" in result.stdout, result.stdout
    assert "requirements.txt:2:1: HP001" in result.stdout, result.stdout


def test_git_commit_blocked_then_allowed(user_repo: Path, env: dict[str, str]) -> None:
    before = _git(user_repo, env, "rev-parse", "HEAD")
    _write(user_repo / "requirements.txt", UNHASHED)
    _git(user_repo, env, "add", "requirements.txt")

    blocked = _run(["git", "commit", "-m", "x"], user_repo, env)

    assert blocked.returncode != 0, blocked.stdout
    assert "requirements.txt:1:1: HP002" in blocked.stdout, blocked.stdout
    assert "requirements.txt:2:1: HP001" in blocked.stdout, blocked.stdout
    assert _git(user_repo, env, "rev-parse", "HEAD") == before

    _write(user_repo / "requirements.txt", CLEAN)
    _git(user_repo, env, "add", "requirements.txt")

    allowed = _run(["git", "commit", "-m", "x"], user_repo, env)

    assert allowed.returncode == 0, allowed.stdout
    assert "hashpin check" in allowed.stdout and "Passed" in allowed.stdout, allowed.stdout
    after = _git(user_repo, env, "rev-parse", "HEAD")
    assert after != before
    assert _git(user_repo, env, "show", "--format=", "--name-only", after) == "requirements.txt"


def test_default_files_pattern(user_repo: Path, env: dict[str, str]) -> None:
    # Not a requirements file: the hook must not even look at it.
    _write(user_repo / "docs" / "notes.txt", GARBAGE)
    _git(user_repo, env, "add", "docs/notes.txt")

    not_checked = _run(["git", "commit", "-q", "-m", "notes"], user_repo, env)

    assert not_checked.returncode == 0, not_checked.stdout
    assert "docs/notes.txt:" not in not_checked.stdout, not_checked.stdout
    assert "Skipped" in not_checked.stdout, not_checked.stdout

    before = _git(user_repo, env, "rev-parse", "HEAD")
    _write(user_repo / "requirements" / "dev.txt", GARBAGE)
    _git(user_repo, env, "add", "requirements/dev.txt")

    checked = _run(["git", "commit", "-m", "dev"], user_repo, env)

    assert checked.returncode != 0, checked.stdout
    assert "requirements/dev.txt:1:1: HP000" in checked.stdout, checked.stdout
    assert _git(user_repo, env, "rev-parse", "HEAD") == before
