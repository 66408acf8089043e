"""Every test gets its own user cache folder, outside the folder it works in: no test
reads what another wrote, none writes into the cache of the person running the suite, and
a test that a command writes nothing in its folder still holds."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
