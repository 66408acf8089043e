"""The real tools that write and install lock files, run against an index on 127.0.0.1.

``pip lock`` and ``uv pip compile --format pylock.toml`` write lock files; ``pip install``
is the consumer of lock and requirements files alike. Every process gets the sealed
environment of indexserver (no PIP_* variable, pip configuration, proxy or netrc of this
machine), and uv never downloads a Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from indexserver import sealed_environment

if TYPE_CHECKING:
    from collections.abc import Sequence

TIMEOUT = 120  # for one process; each normally takes a second or two


def run_tool(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = sealed_environment(os.environ, cwd)
    env.update(
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
        UV_CACHE_DIR=str(cwd / ".uv-cache"),
    )
    env.pop("PRE_COMMIT", None)
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def pip(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tool([sys.executable, "-m", "pip", *args], cwd)


def uv_command() -> str:
    """The uv of the test extra (beside this Python), else one on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    assert found is not None, "uv is in the test extra: pip install -e '.[test]'"
    return found


def pip_lock(index_url: str, folder: Path, *requirements: str) -> str:
    """The ``pylock.toml`` that ``pip lock`` writes in ``folder`` for ``requirements``."""
    folder.mkdir(parents=True, exist_ok=True)
    result = pip(["lock", "--index-url", index_url, "-o", "pylock.toml", *requirements], folder)
    assert result.returncode == 0, result.stderr
    return (folder / "pylock.toml").read_text(encoding="utf-8")


def uv_lock(index_url: str, folder: Path, *requirements: str) -> str:
    """The ``pylock.toml`` that ``uv pip compile --format pylock.toml`` writes in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.in").write_text("".join(f"{r}\n" for r in requirements))
    result = run_tool(
        [
            uv_command(), "pip", "compile", "--format", "pylock.toml", "--no-cache",
            "--quiet", "--python", sys.executable, "--index-url", index_url,
            "requirements.in", "-o", "pylock.toml",
        ],
        folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return (folder / "pylock.toml").read_text(encoding="utf-8")


def pip_install(file: Path, index_url: str, target: Path) -> subprocess.CompletedProcess[str]:
    """``pip install --require-hashes --no-deps -r FILE`` into ``target`` (a lock file or
    a requirements file), from the index at ``index_url`` only."""
    return pip(
        [
            "install", "--require-hashes", "--no-deps", "--no-cache-dir",
            "--index-url", index_url, "--target", str(target), "-r", file.name,
        ],
        file.parent,
    )  # fmt: skip
