"""The ``hashpin-fix`` hook through the real pre-commit framework, against an index on 127.0.0.1.

``pre-commit try-repo`` cannot pass ``args`` to a hook, and the hook needs
``--index-url``, so the tests use what a user writes: a ``.pre-commit-config.yaml`` with
``repo:`` the path of a git repository and ``rev:`` one of its commits. As in
test_precommit.py, that repository is a throwaway copy of this checkout's working tree,
committed, so the hook runs the code as it is now (uncommitted changes included), through
the real ``.pre-commit-hooks.yaml`` entry (``hashpin fix``, ``language: python``).

pre-commit builds the hook's virtualenv (``pip install .`` of that copy) once, in a
module fixture, with this machine's usual pip settings, exactly like test_precommit.py;
that build is the only step that may use a package index other than the tests' own. The
hooks themselves then run with a hermetic environment: no PIP_* variable, no pip
configuration file, no proxy, XDG_CACHE_HOME in a temporary folder, so ``hashpin fix``
only ever talks to the IndexServer on 127.0.0.1 that the hook's ``args`` name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from indexserver import IndexServer, sealed_environment
from test_precommit import (
    TIMEOUT,
    _environment,
    _git,
    _new_git_repo,
    _pre_commit,
    _run,
    _write,
    snapshot_checkout,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

FOO_WHEEL = make_wheel("foo", "1.0")
FOO_SDIST = make_sdist("foo", "1.0")
FOO_NEXT = make_wheel("foo", "1.1")
BAR_LINUX = make_wheel("bar", "2.0", "cp311-cp311-manylinux_2_17_x86_64")
BAR_WINDOWS = make_wheel("bar", "2.0", "cp312-cp312-win_amd64")
BAR_SDIST = make_sdist("bar", "2.0")

UNHASHED = "foo==1.0\nbar==2.0  # native\n"
DEV_UNHASHED = "foo==1.0\n"


def hash_block(*dists: Dist) -> str:
    lines = sorted(f"    --hash=sha256:{dist.sha256}" for dist in dists)
    return " \\\n" + " \\\n".join(lines)


FIXED = f"foo==1.0{hash_block(FOO_WHEEL, FOO_SDIST)}\nbar==2.0{hash_block(BAR_LINUX, BAR_WINDOWS, BAR_SDIST)}  # native\n"
DEV_FIXED = f"foo==1.0{hash_block(FOO_WHEEL, FOO_SDIST)}\n"


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def build_env(pre_commit_home: Path) -> dict[str, str]:
    """For building the hook environment: this machine's pip settings, as pre-commit users have."""
    return _environment(pre_commit_home)


@pytest.fixture
def env(pre_commit_home: Path, tmp_path: Path) -> dict[str, str]:
    """For running the hooks: nothing of this machine's pip configuration can reach hashpin."""
    return sealed_environment(_environment(pre_commit_home), tmp_path)


@pytest.fixture(scope="module")
def hook_repo(
    tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]
) -> tuple[Path, str]:
    """A git repository holding the checkout's working tree, with its hook environment built."""
    repo, sha = snapshot_checkout(tmp_path_factory.mktemp("hook-repo"), build_env)
    # Build the hook's virtualenv now, with the usual pip settings; the tests then only run it.
    scratch = _new_git_repo(tmp_path_factory.mktemp("install-hooks"), build_env)
    _write_config(scratch, repo, sha, [])
    installed = _pre_commit(scratch, build_env, "install-hooks")
    assert installed.returncode == 0, installed.stdout
    return repo, sha


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer(
        {"foo": [FOO_WHEEL, FOO_SDIST, FOO_NEXT], "bar": [BAR_LINUX, BAR_WINDOWS, BAR_SDIST]}
    ) as running:
        yield running


def _write_config(project: Path, hook_path: Path, sha: str, args: list[str]) -> None:
    hook: dict[str, object] = {"id": "hashpin-fix"}
    if args:
        hook["args"] = args
    config = {"repos": [{"repo": str(hook_path), "rev": sha, "hooks": [hook]}]}
    # JSON is YAML: no quoting trouble whatever the temporary path looks like.
    _write(project / ".pre-commit-config.yaml", json.dumps(config, indent=4) + "\n")


@pytest.fixture
def project(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str], server: IndexServer
) -> Path:
    """A git repository that uses hashpin-fix with ``args: [--index-url, <the server>]``."""
    hook_path, sha = hook_repo
    repo = _new_git_repo(tmp_path / "project", env)
    _write_config(repo, hook_path, sha, ["--index-url", server.index_url])
    _git(repo, env, "add", ".pre-commit-config.yaml")
    _git(repo, env, "commit", "-q", "--no-verify", "-m", "use hashpin-fix")
    return repo


def test_run_fixes_then_passes(project: Path, env: dict[str, str], server: IndexServer) -> None:
    _write(project / "requirements.txt", UNHASHED)
    _write(project / "requirements" / "dev.txt", DEV_UNHASHED)
    _write(project / "docs" / "notes.txt", "foo==1.0\n")  # not a requirements file
    _git(project, env, "add", "-A")
    files = ("requirements.txt", "requirements/dev.txt", "docs/notes.txt")

    first = _pre_commit(project, env, "run", "hashpin-fix", "--files", *files)

    assert first.returncode != 0, first.stdout
    # The hook environment was built by the fixture, not with this hermetic environment.
    assert "Installing environment" not in first.stdout, first.stdout
    assert "Fixing requirements.txt" in first.stdout.splitlines(), first.stdout
    assert "Fixing requirements/dev.txt" in first.stdout.splitlines(), first.stdout
    assert "files were modified by this hook" in first.stdout, first.stdout
    assert (project / "requirements.txt").read_bytes() == FIXED.encode()
    assert (project / "requirements" / "dev.txt").read_bytes() == DEV_FIXED.encode()
    assert (project / "docs" / "notes.txt").read_text() == "foo==1.0\n"
    assert server.hits["/simple/foo/"] >= 1 and server.hits["/simple/bar/"] >= 1
    # The default cache folder, under XDG_CACHE_HOME: never the user's own.
    assert (Path(env["XDG_CACHE_HOME"]) / "hashpin").is_dir()

    second = _pre_commit(project, env, "run", "hashpin-fix", "--files", *files)

    assert second.returncode == 0, second.stdout
    assert "Passed" in second.stdout and "Fixing" not in second.stdout, second.stdout
    assert (project / "requirements.txt").read_bytes() == FIXED.encode()
    assert (project / "requirements" / "dev.txt").read_bytes() == DEV_FIXED.encode()


LOCK = """\
lock-version = "1.0"
created-by = "hand"  # a comment that stays

[[packages]]
name = "foo"
version = "1.0"
wheels = [{{ name = "{name}", url = "{url}/files/{name}", hashes = {hashes} }}]
"""


def test_run_fixes_a_lock_file_then_passes(
    project: Path, env: dict[str, str], server: IndexServer
) -> None:
    name = FOO_WHEEL.filename
    _write(project / "pylock.toml", LOCK.format(name=name, url=server.url, hashes="{}"))
    _git(project, env, "add", "-A")

    first = _pre_commit(project, env, "run", "hashpin-fix", "--files", "pylock.toml")

    assert first.returncode != 0, first.stdout
    assert "Fixing pylock.toml" in first.stdout.splitlines(), first.stdout
    fixed = LOCK.format(name=name, url=server.url, hashes=f'{{ sha256 = "{FOO_WHEEL.sha256}" }}')
    assert (project / "pylock.toml").read_text() == fixed
    second = _pre_commit(project, env, "run", "hashpin-fix", "--files", "pylock.toml")
    assert second.returncode == 0, second.stdout
    assert (project / "pylock.toml").read_text() == fixed


def test_git_commit_blocked_fixed_then_allowed(project: Path, env: dict[str, str]) -> None:
    installed = _pre_commit(project, env, "install")
    assert installed.returncode == 0, installed.stdout
    before = _git(project, env, "rev-parse", "HEAD")
    _write(project / "requirements.txt", UNHASHED)
    _git(project, env, "add", "requirements.txt")

    blocked = _run(["git", "commit", "-m", "deps"], project, env, timeout=TIMEOUT)

    assert blocked.returncode != 0, blocked.stdout
    assert "Installing environment" not in blocked.stdout, blocked.stdout
    assert "Fixing requirements.txt" in blocked.stdout.splitlines(), blocked.stdout
    assert _git(project, env, "rev-parse", "HEAD") == before
    assert (project / "requirements.txt").read_bytes() == FIXED.encode()

    _git(project, env, "add", "requirements.txt")

    allowed = _run(["git", "commit", "-m", "deps"], project, env, timeout=TIMEOUT)

    assert allowed.returncode == 0, allowed.stdout
    assert "hashpin fix" in allowed.stdout and "Passed" in allowed.stdout, allowed.stdout
    after = _git(project, env, "rev-parse", "HEAD")
    assert after != before
    committed = _run(["git", "show", f"{after}:requirements.txt"], project, env)
    assert committed.stdout == FIXED


def test_a_failed_fetch_fails_the_hook_and_leaves_the_file(
    project: Path, env: dict[str, str]
) -> None:
    text = "foo==1.0\nnowhere==1.0\n"
    _write(project / "requirements.txt", text)
    _git(project, env, "add", "requirements.txt")

    result = _pre_commit(project, env, "run", "hashpin-fix", "--files", "requirements.txt")

    assert result.returncode != 0, result.stdout
    assert "Fixing" not in result.stdout, result.stdout
    assert "requirements.txt:2: nowhere:" in result.stdout, result.stdout
    assert (project / "requirements.txt").read_bytes() == text.encode()
