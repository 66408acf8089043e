"""``hashpin fix`` on PEP 751 lock files, against a real index on 127.0.0.1.

Lock files come from the real ``pip lock`` and ``uv pip compile --format pylock.toml``
(both run against the local index) and from hand-made ones. Each test empties or breaks
what it wants fixed, runs ``hashpin fix``, and holds the result to three promises: the
file is byte for byte what the tool wrote (or the hand-made file) outside the fixed
entries, a second run changes nothing, and real ``pip install -r pylock.toml`` installs it.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from indexserver import IndexServer
from locktools import pip_install, pip_lock, uv_lock

from hashpin.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

if TYPE_CHECKING:
    from collections.abc import Iterator

TIMEOUT = 120
ALPHA = make_wheel("alpha", "1.0", requires_dist=["bravo-lib>=2"])
ALPHA_SDIST = make_sdist("alpha", "1.0")
BRAVO = make_wheel("bravo-lib", "2.0")
BRAVO_WINDOWS = make_wheel("bravo-lib", "2.0", "cp311-cp311-win_amd64")
BRAVO_LINUX = make_wheel("bravo-lib", "2.0", "cp311-cp311-manylinux_2_17_x86_64")
BRAVO_SDIST = make_sdist("bravo-lib", "2.0")
PROJECTS: dict[str, list[Dist]] = {
    "alpha": [ALPHA, ALPHA_SDIST],
    "bravo-lib": [BRAVO, BRAVO_WINDOWS, BRAVO_SDIST],
}
SHA256 = re.compile(r'sha256 = "[0-9a-f]{64}"\n')


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer(PROJECTS) as running:
        yield running


def fix(
    capsys: pytest.CaptureFixture[str], server: IndexServer | None, *argv: str
) -> tuple[int, str, str]:
    index = ["--index-url", server.index_url] if server is not None else []
    code = main(["fix", "--isolated", *index, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def changed_lines(before: str, after: str) -> list[str]:
    """The lines ``after`` adds or removes, without the diff's own headers."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


# -- Filling hashes -------------------------------------------------------------------------


def test_fix_refills_the_hashes_pip_lock_wrote_byte_for_byte(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = pip_lock(server.index_url, tmp_path, "alpha==1.0")
    assert "[packages.wheels.hashes]" in written  # pip's layout: hashes under a header
    emptied = SHA256.sub("", written)  # every [packages.wheels.hashes] table left empty
    assert emptied != written
    Path("pylock.toml").write_text(emptied, encoding="utf-8")
    assert main(["check", "--isolated", "--no-cache", "pylock.toml"]) == 1
    capsys.readouterr()

    code, out, err = fix(capsys, server, "pylock.toml")
    assert (code, out, err) == (1, "Fixing pylock.toml\n", "")
    assert Path("pylock.toml").read_text(encoding="utf-8") == written
    assert fix(capsys, server, "pylock.toml") == (0, "", "")  # idempotent
    result = pip_install(tmp_path / "pylock.toml", server.index_url, tmp_path / "target")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "target" / "alpha" / "__init__.py").exists()
    assert (tmp_path / "target" / "bravo_lib" / "__init__.py").exists()


def test_fix_refills_the_inline_hashes_uv_wrote_byte_for_byte(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = uv_lock(server.index_url, tmp_path / "uv", "alpha==1.0")
    assert "hashes = { sha256 = " in written  # uv's layout: inline tables
    # One artifact with an empty table, one with none at all.
    emptied = re.sub(r"hashes = \{ sha256 = \"[0-9a-f]{64}\" \}", "hashes = {}", written, count=1)
    emptied = re.sub(r", hashes = \{ sha256 = \"[0-9a-f]{64}\" \}", "", emptied, count=1)
    assert emptied.count("hashes") == written.count("hashes") - 1
    Path("pylock.toml").write_text(emptied, encoding="utf-8")

    assert fix(capsys, server, "pylock.toml")[0] == 1
    assert Path("pylock.toml").read_text(encoding="utf-8") == written
    assert fix(capsys, server, "pylock.toml") == (0, "", "")
    result = pip_install(tmp_path / "pylock.toml", server.index_url, tmp_path / "target")
    assert result.returncode == 0, result.stderr


HAND_MADE = """\
# Locked by hand; keep this comment.
lock-version = "1.0"
created-by = "hand"   # and this one

[[packages]]
name = "alpha"
version = "1.0"
wheels = [
    # the pure wheel
    {{ name = "{alpha}", url = "{url}/files/{alpha}", hashes = {{}} }},
]

[[packages]]
name = "bravo-lib"
version = "2.0"

[packages.sdist]
name = "{bravo_sdist}"
url = "{url}/files/{bravo_sdist}"
hashes = {{ sha256 = "{bravo_sdist_hash}" }}  # the sdist: keep this comment
"""


def hand_made(server: IndexServer, **replace: str) -> str:
    values = {
        "alpha": ALPHA.filename,
        "url": server.url,
        "bravo_sdist": BRAVO_SDIST.filename,
        "bravo_sdist_hash": BRAVO_SDIST.sha256,
    }
    return HAND_MADE.format(**{**values, **replace})


def test_only_the_fixed_entry_changes_in_a_hand_made_file(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hand_made(server)
    Path("pylock.toml").write_text(before, encoding="utf-8")
    assert fix(capsys, server, "pylock.toml")[0] == 1
    after = Path("pylock.toml").read_text(encoding="utf-8")
    assert changed_lines(before, after) == [
        f'-    {{ name = "{ALPHA.filename}", url = "{server.url}/files/{ALPHA.filename}", '
        "hashes = {} },",
        f'+    {{ name = "{ALPHA.filename}", url = "{server.url}/files/{ALPHA.filename}", '
        f'hashes = {{ sha256 = "{ALPHA.sha256}" }} }},',
    ]
    assert fix(capsys, server, "pylock.toml") == (0, "", "")


def test_an_index_without_digests_means_the_file_is_downloaded_and_hashed(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.digests = "none"  # PyTorch's index once gave no digests for some files
    Path("pylock.toml").write_text(hand_made(server), encoding="utf-8")
    assert fix(capsys, server, "pylock.toml")[0] == 1
    document = tomllib.loads(Path("pylock.toml").read_text(encoding="utf-8"))
    assert document["packages"][0]["wheels"][0]["hashes"] == {"sha256": ALPHA.sha256}
    assert server.hits[f"/files/{ALPHA.filename}"] == 1


def test_a_url_no_index_lists_is_downloaded(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = IndexServer({"alpha": [ALPHA]})  # the file lives on another server
    with other:
        text = hand_made(server).replace(f"{server.url}/files/{ALPHA.filename}", "{other}")
        Path("pylock.toml").write_text(
            text.replace("{other}", f"{other.url}/files/{ALPHA.filename}"), encoding="utf-8"
        )
        assert fix(capsys, server, "pylock.toml")[0] == 1
        assert other.hits[f"/files/{ALPHA.filename}"] == 1
    document = tomllib.loads(Path("pylock.toml").read_text(encoding="utf-8"))
    assert document["packages"][0]["wheels"][0]["hashes"] == {"sha256": ALPHA.sha256}


def test_a_local_path_is_hashed_from_the_lock_files_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "dist").mkdir()
    ALPHA.write_to(tmp_path / "dist")
    Path("pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n[[packages]]\nname = "alpha"\n'
        f'version = "1.0"\nwheels = [{{ name = "{ALPHA.filename}", '
        f'path = "dist/{ALPHA.filename}" }}]\n',
        encoding="utf-8",
    )
    assert fix(capsys, None, "--no-index", "pylock.toml")[0] == 1
    document = tomllib.loads(Path("pylock.toml").read_text(encoding="utf-8"))
    assert document["packages"][0]["wheels"][0]["hashes"] == {"sha256": ALPHA.sha256}


# -- Verifying and refreshing ------------------------------------------------------------------


def test_verify_refuses_an_index_whose_digest_is_not_the_bytes(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.digests = "lie"
    before = hand_made(server)
    Path("pylock.toml").write_text(before, encoding="utf-8")
    code, _, err = fix(capsys, server, "--verify", "pylock.toml")
    assert code == 1
    assert "the index says sha256:" in err and "pylock.toml left unchanged" in err
    assert Path("pylock.toml").read_text(encoding="utf-8") == before


def test_verify_reports_a_stale_hash_and_refresh_replaces_it(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = "0" * 64
    before = hand_made(server, bravo_sdist_hash=stale)
    Path("pylock.toml").write_text(before, encoding="utf-8")
    code, _, err = fix(capsys, server, "--verify", "pylock.toml")
    assert code == 1
    assert f"the lock says sha256:{stale} but the file's bytes hash to sha256:" in err
    assert "(--refresh-hashes to write the new one)" in err
    assert Path("pylock.toml").read_text(encoding="utf-8") == before

    assert fix(capsys, server, "--refresh-hashes", "pylock.toml")[0] == 1
    document = tomllib.loads(Path("pylock.toml").read_text(encoding="utf-8"))
    assert document["packages"][1]["sdist"]["hashes"] == {"sha256": BRAVO_SDIST.sha256}


def test_refresh_adds_wheels_uploaded_later_and_drops_files_gone(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = pip_lock(server.index_url, tmp_path, "alpha==1.0")
    # Since the lock was written: a Linux wheel uploaded, and a file deleted from the index
    # (the lock keeps a URL that now answers 404).
    server.add_project("bravo-lib", [*PROJECTS["bravo-lib"], BRAVO_LINUX])
    gone = make_wheel("alpha", "1.0", "cp311-cp311-win_amd64")
    entry = (
        f'[[packages.wheels]]\nname = "{gone.filename}"\nurl = "{server.url}/files/'
        f'{gone.filename}"\n\n[packages.wheels.hashes]\nsha256 = "{gone.sha256}"\n\n'
    )
    with_gone = written.replace(
        '[[packages]]\nname = "bravo-lib"', entry + '[[packages]]\nname = "bravo-lib"'
    )
    assert with_gone != written
    Path("pylock.toml").write_text(with_gone, encoding="utf-8")

    code, out, err = fix(capsys, server, "--refresh-hashes", "pylock.toml")
    assert (code, out) == (1, "Fixing pylock.toml\n")
    assert f"alpha 1.0: dropped {gone.filename}, which no longer exists" in err
    assert f"bravo-lib 2.0: added {BRAVO_LINUX.filename}" in err
    assert f"bravo-lib 2.0: added {BRAVO_WINDOWS.filename}" in err
    after = Path("pylock.toml").read_text(encoding="utf-8")
    bravo = tomllib.loads(after)["packages"][1]
    added = {wheel["name"]: wheel for wheel in bravo["wheels"]}
    assert added[BRAVO_LINUX.filename] == {
        "name": BRAVO_LINUX.filename,
        "url": f"{server.url}/files/{BRAVO_LINUX.filename}",
        "size": len(BRAVO_LINUX.data),
        "upload-time": tomllib.loads("t = 2025-01-01T00:00:00Z")["t"],
        "hashes": {"sha256": BRAVO_LINUX.sha256},
    }
    assert after.startswith(written)  # what was there stays, byte for byte; added at the end
    assert "\n\n[[packages.wheels]]\nname = " in after[len(written) - 1 :]
    assert fix(capsys, server, "--refresh-hashes", "pylock.toml")[0] == 0
    result = pip_install(tmp_path / "pylock.toml", server.index_url, tmp_path / "target")
    assert result.returncode == 0, result.stderr


def test_refresh_adds_no_wheel_the_environments_exclude(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = hand_made(server).replace(
        'created-by = "hand"', 'created-by = "hand"\nenvironments = ["sys_platform == \'linux\'"]'
    )
    Path("pylock.toml").write_text(text, encoding="utf-8")
    assert fix(capsys, server, "--refresh-hashes", "pylock.toml")[0] == 1
    bravo = tomllib.loads(Path("pylock.toml").read_text(encoding="utf-8"))["packages"][1]
    assert [wheel["name"] for wheel in bravo["wheels"]] == [BRAVO.filename]  # no win_amd64


# -- Refusals --------------------------------------------------------------------------------


def test_an_invalid_lock_file_is_left_alone(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = 'created-by = "hand"\n[[packages]]\nname = "alpha"\n'  # no lock-version
    Path("pylock.toml").write_text(before, encoding="utf-8")
    code, _, err = fix(capsys, server, "pylock.toml")
    assert code == 1
    assert "pylock.toml:1: there is no lock-version" in err and "(fix it by hand first)" in err
    assert "pylock.toml left unchanged" in err
    assert Path("pylock.toml").read_text(encoding="utf-8") == before


def test_a_failed_download_leaves_the_whole_file_unchanged(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two artifacts to fill; one of them cannot be fetched: neither is written.
    text = hand_made(server, bravo_sdist_hash="").replace('hashes = { sha256 = "" }', "hashes = {}")
    text = text.replace(f"/files/{BRAVO_SDIST.filename}", "/files/missing.tar.gz").replace(
        f'name = "{BRAVO_SDIST.filename}"', 'name = "missing.tar.gz"'
    )
    Path("pylock.toml").write_text(text, encoding="utf-8")
    code, _, err = fix(capsys, server, "pylock.toml")
    assert code == 1
    assert "missing.tar.gz" in err and "pylock.toml left unchanged" in err
    assert Path("pylock.toml").read_text(encoding="utf-8") == text
    assert not [p for p in Path(".").iterdir() if p.name.endswith(".hashpin-tmp")]


def test_dry_run_shows_the_diff_and_writes_nothing(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hand_made(server)
    Path("pylock.toml").write_text(before, encoding="utf-8")
    code, out, _ = fix(capsys, server, "--dry-run", "pylock.toml")
    assert code == 1
    assert f'+    {{ name = "{ALPHA.filename}"' in out
    assert Path("pylock.toml").read_text(encoding="utf-8") == before


def test_a_found_lock_file_is_fixed_beside_requirements(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("sub").mkdir()
    Path("sub/pylock.toml").write_text(hand_made(server), encoding="utf-8")
    Path("sub/requirements.txt").write_text("alpha==1.0\n", encoding="utf-8")
    code, out, _ = fix(capsys, server, "sub")
    assert code == 1
    assert sorted(out.splitlines()) == [
        f"Fixing {os.path.join('sub', 'pylock.toml')}",
        f"Fixing {os.path.join('sub', 'requirements.txt')}",
    ]
    assert main(["check", "--isolated", "--no-cache", "sub"]) == 0


def test_an_archive_is_downloaded_and_takes_no_wheels(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # A direct URL: never looked up on the index, even where the index has the project.
    text = (
        'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\nname = "bravo-lib"\n'
        f'[packages.archive]\nurl = "{server.url}/files/{BRAVO_SDIST.filename}"\nhashes = {{}}\n'
    )
    Path("pylock.toml").write_text(text, encoding="utf-8")
    assert fix(capsys, server, "--refresh-hashes", "pylock.toml")[0] == 1
    package = tomllib.loads(Path("pylock.toml").read_text(encoding="utf-8"))["packages"][0]
    assert package["archive"]["hashes"] == {"sha256": BRAVO_SDIST.sha256}
    assert "wheels" not in package
    assert server.hits["/simple/bravo-lib/"] == 0


def test_lines_added_to_a_crlf_file_end_in_crlf(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = pip_lock(server.index_url, tmp_path, "alpha==1.0").replace("\n", "\r\n")
    Path("pylock.toml").write_bytes(written.encode())
    server.add_project("bravo-lib", [*PROJECTS["bravo-lib"], BRAVO_LINUX])
    assert fix(capsys, server, "--refresh-hashes", "pylock.toml")[0] == 1
    after = Path("pylock.toml").read_bytes()
    assert after.startswith(written.encode())
    assert f'name = "{BRAVO_LINUX.filename}"\r\n'.encode() in after
    assert after.count(b"\n") == after.count(b"\r\n")  # no bare LF anywhere
    assert fix(capsys, server, "--refresh-hashes", "pylock.toml")[0] == 0
