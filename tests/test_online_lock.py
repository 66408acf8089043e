"""``check --online`` on PEP 751 lock files, against a real index on 127.0.0.1.

The lock's packages are the pins: each finding stands at the line of its ``[[packages]]``
table; the dependency closure must be in the lock; the lock's ``environments`` are the
targets when none are given; a package's ``index`` is where it is asked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from indexserver import IndexServer, ServedFile
from locktools import pip_lock

from hashpin.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

ALPHA = make_wheel("alpha", "1.0", requires_dist=["bravo-lib>=2"])
BRAVO = make_wheel("bravo-lib", "2.0")
OLD = make_wheel("old", "1.0")
WINDOWS_ONLY = make_wheel("delta", "1.0", "cp311-cp311-win_amd64")
HEAD = 'lock-version = "1.0"\ncreated-by = "test"\n'


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    projects: dict[str, list[Dist | ServedFile]] = {
        "alpha": [ALPHA, make_sdist("alpha", "1.0")],
        "bravo-lib": [BRAVO],
        "old": [ServedFile(OLD, yanked="broken build")],
        "delta": [WINDOWS_ONLY],
    }
    with IndexServer(projects) as running:
        yield running


def package(name: str, version: str, *wheels: tuple[str, str], extra: str = "") -> str:
    listed = ", ".join(
        f'{{ name = "{filename}", url = "https://files.example/{filename}", '
        f'hashes = {{ sha256 = "{digest}" }} }}'
        for filename, digest in wheels
    )
    return f'\n[[packages]]{extra}\nname = "{name}"\nversion = "{version}"\nwheels = [{listed}]\n'


def online(
    capsys: pytest.CaptureFixture[str], server: IndexServer, *argv: str
) -> tuple[int, list[dict[str, object]], str]:
    code = main(
        [
            "check",
            "--isolated",
            "--no-cache",
            "--online",
            "--index-url",
            server.index_url,
            "--format",
            "json",
            *argv,
            "pylock.toml",
        ]
    )
    captured = capsys.readouterr()
    files = json.loads(captured.out)["files"]
    return code, [f for entry in files for f in entry["findings"]], captured.err


def codes(findings: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(finding["line"], finding["code"]) for finding in findings]


def test_a_lock_pip_wrote_is_clean_online(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pip_lock(server.index_url, tmp_path, "alpha==1.0")
    code, findings, err = online(capsys, server, "--target", "3.12:linux-x86_64")
    assert (code, findings, err) == (0, [], "")


def test_a_dependency_the_lock_lacks_stale_hash_yanked_unknown(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        HEAD
        + package("alpha", "1.0", (ALPHA.filename, ALPHA.sha256))  # needs bravo-lib: absent
        + package("old", "1.0", (OLD.filename, "0" * 64))  # yanked, and a stale hash
        + package("nosuch", "1.0", ("nosuch-1.0-py3-none-any.whl", "1" * 64))
        + package("delta", "9.9", ("delta-9.9-py3-none-any.whl", "2" * 64))
    )
    Path("pylock.toml").write_text(text, encoding="utf-8")
    code, findings, _ = online(capsys, server, "--target", "3.12:linux-x86_64")
    assert code == 1
    lines = text.splitlines()
    at = {name: lines.index(f'name = "{name}"') for name in ("alpha", "old", "nosuch", "delta")}
    assert codes(findings) == [
        (at["alpha"], "HP210"),
        (at["old"], "HP203"),
        (at["old"], "HP204"),
        (at["old"], "HP205"),
        (at["nosuch"], "HP201"),
        (at["delta"], "HP202"),
    ]
    missing = findings[0]
    assert missing["message"] == (
        "bravo-lib>=2 is not in the file: required by alpha==1.0 (on every target)"
    )
    assert missing["required_by"] == ["alpha==1.0"]
    assert findings[1]["message"] == "old==1.0 is yanked: broken build"


def test_the_environments_are_the_default_targets(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        HEAD
        + "environments = [\"sys_platform == 'linux'\"]\n"
        + 'requires-python = ">=3.10"\n'
        + package("delta", "1.0", (WINDOWS_ONLY.filename, WINDOWS_ONLY.sha256))
    )
    Path("pylock.toml").write_text(text, encoding="utf-8")
    _, findings, _ = online(capsys, server)
    online_findings = [f for f in findings if f["code"] == "HP207"]
    assert len(online_findings) == 1
    assert online_findings[0]["targets"] == [
        "3.10:linux-x86_64",
        "3.14:linux-x86_64",
        "3.10:linux-aarch64",
        "3.14:linux-aarch64",
    ]
    # Given targets win over the environments.
    _, findings, _ = online(capsys, server, "--target", "3.11:windows-amd64")
    assert [f["code"] for f in findings if str(f["code"]).startswith("HP2")] == []


def test_a_package_is_asked_of_its_own_index(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with IndexServer({"bravo-lib": [BRAVO]}) as own:
        text = (
            HEAD
            + package("alpha", "1.0", (ALPHA.filename, ALPHA.sha256))
            + package("bravo-lib", "2.0", (BRAVO.filename, BRAVO.sha256)).replace(
                'version = "2.0"', f'version = "2.0"\nindex = "{own.index_url}"'
            )
        )
        server.projects.pop("bravo-lib")  # the default index no longer has it
        Path("pylock.toml").write_text(text, encoding="utf-8")
        code, findings, _ = online(capsys, server, "--target", "3.12:linux-x86_64")
        assert (code, findings) == (0, [])
        assert own.hits["/simple/bravo-lib/"] == 1


def test_a_suppression_on_the_package_line(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD + package(
        "old", "1.0", (OLD.filename, OLD.sha256), extra="  # hashpin: ignore[HP203]"
    )
    Path("pylock.toml").write_text(text, encoding="utf-8")
    code, findings, _ = online(capsys, server, "--target", "3.12:linux-x86_64")
    assert (code, findings) == (0, [])
