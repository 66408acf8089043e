"""Every test gets its own user cache folder, outside the folder it works in: no test
reads what another wrote, none writes into the cache of the person running the suite, and
a test that a command writes nothing in its folder still holds.

A module that talks to an index asks for ``sealed`` as well."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from indexserver import seal

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def private_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))


@pytest.fixture
def sealed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pip configuration, proxy, netrc or pre-commit run of this machine reaches the
    test, which works in its own folder."""
    seal(monkeypatch, tmp_path)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    monkeypatch.chdir(tmp_path)
