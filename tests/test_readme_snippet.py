"""The README's pre-commit snippet works as written, through the real pre-commit.

Only ``repo`` (a local snapshot of this checkout) and the tag ``rev`` names (made in that
snapshot) differ from what a user copies; the hooks and their settings are the README's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # pre-commit's own dependency
from test_precommit import (
    ROOT,
    _environment,
    _git,
    _new_git_repo,
    _pre_commit,
    _write,
    snapshot_checkout,
)

UNHASHED = "requests==2.31.0\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return _environment(tmp_path / "pre-commit-home")


def readme_config() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", readme, re.DOTALL)
    assert block, "the README has no .pre-commit-config.yaml snippet"
    config = yaml.safe_load(block.group(1))
    assert isinstance(config, dict)
    return config


def test_the_snippet_names_a_release_the_changelog_and_pyproject_know() -> None:
    (entry,) = readme_config()["repos"]
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version is not None
    assert entry["rev"] == f"v{version.group(1)}"
    assert f"## {version.group(1)}\n" in (ROOT / "CHANGELOG.md").read_text()


def test_each_readme_section_appears_once() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    outside_code = re.sub(r"```.*?```", "", readme, flags=re.DOTALL)
    headings: list[str] = []
    for line in outside_code.splitlines():
        if line.startswith("## "):
            headings = [h for h in headings if h.startswith("## ")]  # a new section
        if line.startswith("#"):
            assert line not in headings, f"the README repeats {line!r}"
            headings.append(line)


def test_the_snippet_runs_through_pre_commit(tmp_path: Path, env: dict[str, str]) -> None:
    config = readme_config()
    (entry,) = config["repos"]
    hook_repo, _ = snapshot_checkout(tmp_path / "hashpin", env)
    _git(hook_repo, env, "tag", entry["rev"])  # the release the snippet names
    entry["repo"] = str(hook_repo)
    project = _new_git_repo(tmp_path / "project", env)
    _write(project / ".pre-commit-config.yaml", json.dumps(config, indent=2) + "\n")
    _write(project / "requirements.txt", UNHASHED)
    _git(project, env, "add", "-A")

    result = _pre_commit(project, env, "run", "hashpin-check", "--all-files")

    assert result.returncode == 1, result.stdout
    assert "requirements.txt:1:1: HP002" in result.stdout, result.stdout
