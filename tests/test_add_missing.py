"""``fix --add-missing`` against a real index on 127.0.0.1: the closure made whole on
every target, each new line pinned, hashed and placed where a reader looks; and real pip
then installs the file with --require-hashes, dependencies and all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_wheel
from indexserver import IndexServer, ServedFile, sealed_environment

from hashpin.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

LINUX, WINDOWS = "3.12:linux-x86_64", "3.12:windows-amd64"
REQUESTS = make_wheel("requests", "2.32.3", requires_dist=[
    "charset-normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1", "certifi>=2017.4.17"])  # fmt: skip
CHARSET = make_wheel("charset-normalizer", "3.3.2")
CHARSET_OLD = make_wheel("charset-normalizer", "1.0")
IDNA = make_wheel("idna", "3.7")
IDNA_NEXT = make_wheel("idna", "4.0")  # requests excludes it
URLLIB3 = make_wheel("urllib3", "2.2.2")
URLLIB3_PRE = make_wheel("urllib3", "3.0.0rc1")
CERTIFI = make_wheel("certifi", "2024.7.4")
CLICK = make_wheel("click", "8.1.7", requires_dist=['colorama; platform_system == "Windows"'])
COLORAMA = make_wheel("colorama", "0.4.6")
PICKY = make_wheel("picky", "1.0", requires_dist=["idna<3"])


def projects() -> dict[str, list[Dist | ServedFile]]:
    return {
        "requests": [ServedFile(REQUESTS, core_metadata=True)],
        "charset-normalizer": [CHARSET, CHARSET_OLD],
        "idna": [IDNA, IDNA_NEXT],
        "urllib3": [URLLIB3, URLLIB3_PRE],
        "certifi": [CERTIFI],
        "click": [CLICK],
        "colorama": [COLORAMA],
        "picky": [PICKY],
    }


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer(projects()) as running:
        yield running


def hashed(dist: Dist, marker: str = "", via: str = "") -> str:
    head = f"{dist.project}=={dist.version}" + (f" ; {marker}" if marker else "")
    return head + f" \\\n    --hash=sha256:{dist.sha256}" + (f"  # via {via}" if via else "") + "\n"


def fix(server: IndexServer, *args: str) -> int:
    return main(["fix", "--index-url", server.index_url, "--cache-dir", "cache", "--add-missing",
                 *args, "requirements.txt"])  # fmt: skip


def test_the_closure_is_added_in_name_order_with_its_via(server: IndexServer) -> None:
    Path("requirements.txt").write_text(hashed(REQUESTS))
    assert fix(server, "--target", LINUX, "--target", WINDOWS) == 1
    assert Path("requirements.txt").read_text() == (
        hashed(CERTIFI, via="requests")
        + hashed(CHARSET, via="requests")
        + hashed(IDNA, via="requests")  # 4.0 is excluded by requests' <4
        + hashed(REQUESTS)
        + hashed(URLLIB3, via="requests")  # 3.0.0rc1 is a pre-release
    )
    assert fix(server, "--target", LINUX, "--target", WINDOWS) == 0  # nothing left to do
    status = main(["check", "--online", "--index-url", server.index_url, "--cache-dir", "cache",
                   "--target", LINUX, "--target", WINDOWS, "requirements.txt"])  # fmt: skip
    assert status == 0


def test_a_dependency_some_targets_need_carries_their_marker(server: IndexServer) -> None:
    Path("requirements.txt").write_text("# tools\n" + hashed(CLICK))
    assert fix(server, "--target", LINUX, "--target", WINDOWS) == 1
    assert Path("requirements.txt").read_text() == "# tools\n" + hashed(CLICK) + hashed(
        COLORAMA, marker='platform_system == "Windows"', via="click"
    )


def test_an_unsorted_file_gets_a_block_at_its_end(server: IndexServer) -> None:
    text = hashed(URLLIB3) + hashed(CLICK).rstrip("\n")  # unsorted, no final newline
    Path("requirements.txt").write_text(text)
    assert fix(server, "--target", WINDOWS) == 1
    assert Path("requirements.txt").read_text() == text + "\n" + hashed(
        COLORAMA, marker='platform_system == "Windows"', via="click"
    )


def test_a_conflict_leaves_the_file_untouched(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "picky==1.0\n" + hashed(IDNA)  # picky wants idna<3; the file pins 3.7
    Path("requirements.txt").write_text(text)
    assert fix(server, "--target", LINUX) == 1
    assert Path("requirements.txt").read_text() == text
    assert "idna==3.7 is excluded by picky==1.0, which requires idna<3" in capsys.readouterr().err


def test_pip_installs_the_closed_file_with_require_hashes(
    server: IndexServer, tmp_path: Path
) -> None:
    Path("requirements.txt").write_text(hashed(REQUESTS) + hashed(CLICK))
    machine = f"{sys.version_info[0]}.{sys.version_info[1]}:linux-x86_64"
    assert fix(server, "--target", machine, "--target", WINDOWS) == 1
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--require-hashes",
         "--index-url", server.index_url, "--target", str(tmp_path / "target"),
         "-r", "requirements.txt"],
        env={**sealed_environment(os.environ, tmp_path), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    for module in ("requests", "urllib3", "idna", "certifi", "charset_normalizer", "click"):
        assert (tmp_path / "target" / module / "__init__.py").exists()
    assert not (tmp_path / "target" / "colorama").exists()  # Windows only
