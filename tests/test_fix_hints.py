"""Hints that save a round trip: what ``fix`` says when it cannot do what was asked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_wheel
from indexserver import IndexServer, ServedFile

from hashpin.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    requests: list[Dist | ServedFile] = [
        make_wheel("requests", "2.31.0"),
        ServedFile(make_wheel("requests", "2.32.0"), yanked="broken"),
        ServedFile(make_wheel("requests", "2.32.1"), yanked=True),
        make_wheel("requests", "2.33.0rc1"),
    ]
    with IndexServer({"requests": requests, "flask": [make_wheel("flask", "3.0")]}) as running:
        yield running


def fix(server: IndexServer, text: str, *args: str) -> tuple[int, str]:
    """Fix ``text`` as requirements.txt: the exit status and the file afterwards."""
    Path("requirements.txt").write_text(text)
    status = main(["fix", "--index-url", server.index_url, "--cache-dir", "cache", *args])
    return status, Path("requirements.txt").read_text()


def test_unpinned_lines_get_one_hint_about_pin(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = fix(server, "requests>=2\nflask==3.*\n")
    assert status == 1
    err = capsys.readouterr().err
    assert err.count("--pin") == 1
    assert "2 requirements are not pinned to one version (HP001/HP101)" in err


def test_a_typo_gets_a_did_you_mean(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, text = fix(server, "reqeusts==2.31.0\n")
    assert (status, text) == (1, "reqeusts==2.31.0\n")
    err = capsys.readouterr().err
    assert "no index or find-links source has reqeusts" in err
    assert "did you mean requests?" in err
    assert server.hits["/simple/"] == 1  # the index's project list, asked once


def test_no_hint_when_nothing_is_close(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fix(server, "zzzzzz==1.0\n")
    assert "did you mean" not in capsys.readouterr().err


def test_a_file_left_unchanged_after_a_failed_fetch_has_nothing_fixable(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, text = fix(server, "requests==2.31.0\nnowhere==1.0\n")
    assert (status, text) == (1, "requests==2.31.0\nnowhere==1.0\n")
    out = capsys.readouterr().out
    assert "Found 2 errors and 0 warnings." in out
    assert "fixable" not in out
    assert "[*]" not in out


def test_pin_says_when_every_satisfying_version_is_yanked(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, text = fix(server, "requests>=2.32.0,<2.32.2\n", "--pin")
    assert (status, text) == (1, "requests>=2.32.0,<2.32.2\n")
    err = capsys.readouterr().err
    assert "every version of requests on" in err
    assert "is yanked: 2.32.1, 2.32.0" in err


def test_pin_says_when_only_pre_releases_satisfy(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fix(server, "requests>2.32.1\n", "--pin")
    assert "only pre-releases of requests on" in capsys.readouterr().err


@pytest.mark.parametrize("platform", ["linux", "windows", "x86_64", "macos-arm64"])
def test_an_unknown_platform_tag_is_refused_with_the_forms_accepted(
    server: IndexServer, capsys: pytest.CaptureFixture[str], platform: str
) -> None:
    status, _ = fix(server, "flask==3.0\n", "--platform", platform)
    assert status == 2
    err = capsys.readouterr().err
    assert f"--platform {platform!r} is not a wheel platform tag" in err
    assert "manylinux_2_17_x86_64" in err


@pytest.mark.parametrize(
    "platform", ["manylinux2014_x86_64", "musllinux_1_2_aarch64", "macosx_11_0_arm64", "win32"]
)
def test_real_platform_tags_are_taken(server: IndexServer, platform: str) -> None:
    status, text = fix(server, "flask==3.0\n", "--platform", platform)
    assert status == 1
    assert "--hash=sha256:" in text  # flask's wheel is pure: every platform takes it
