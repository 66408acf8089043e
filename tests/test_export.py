"""``hashpin export``: requirements files to PEP 751 lock files and back, end to end.

Real components only: a local index on 127.0.0.1 (tests/indexserver.py) serving real
wheels and sdists (tests/distmaker.py), the real ``pip`` (and ``uv``) as writers and
consumers of both formats, and ``hashpin check`` as the judge of what export writes.
Every process runs sealed: no PIP_* variable, no pip configuration file, no proxy.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import locktools
import pytest
from distmaker import Dist, make_sdist, make_wheel
from hypothesis import given
from hypothesis import strategies as st
from indexserver import IndexServer, seal, sealed_environment

from hashpin.cli import main
from hashpin.requirement import interpret, normal_marker
from hashpin.tomltext import string as toml_string
from hashpin.workspace import load

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

if TYPE_CHECKING:
    from collections.abc import Iterator

TIMEOUT = 120
ALPHA_OLD = make_wheel("alpha", "0.9")  # another version: never in the lock
ALPHA_WHEEL = make_wheel("alpha", "1.0", requires_dist=["bravo-lib>=2"])
ALPHA_SDIST = make_sdist("alpha", "1.0")
BRAVO_PURE = make_wheel("bravo-lib", "2.0", provides_extra=["fast"])
BRAVO_WINDOWS = make_wheel("bravo-lib", "2.0", "cp311-cp311-win_amd64")
BRAVO_SDIST = make_sdist("bravo-lib", "2.0")
CHARLIE_SDIST = make_sdist("charlie", "0.3")  # an sdist only: pip builds it
DELTA_WINDOWS = make_wheel("delta", "1.0", "cp311-cp311-win_amd64")  # never installed here
ECHO_WHEEL = make_wheel("echo", "1.0")  # required by its URL
PROJECTS: dict[str, list[Dist]] = {
    "alpha": [ALPHA_OLD, ALPHA_WHEEL, ALPHA_SDIST],
    "bravo-lib": [BRAVO_PURE, BRAVO_WINDOWS, BRAVO_SDIST],
    "charlie": [CHARLIE_SDIST],
    "delta": [DELTA_WINDOWS],
    "echo": [ECHO_WHEEL],
}
Pins = dict[str, tuple[str | None, str | None, frozenset[str]]]


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Sealed, working in a folder of its own (the sealed user cache is beside it)."""
    seal(monkeypatch, tmp_path)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")


@pytest.fixture(scope="module")
def server() -> Iterator[IndexServer]:
    with IndexServer(PROJECTS) as running:
        yield running


def export(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["export", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def hashed(*dists: Dist) -> str:
    return "".join(f" \\\n    --hash=sha256:{dist.sha256}" for dist in dists)


def write_requirements(server: IndexServer) -> Path:
    """A project's requirements: an include, extras, a marker that never holds here and
    a direct URL, every one hashed."""
    Path("base.txt").write_text(
        f"bravo-lib[fast]==2.0{hashed(BRAVO_PURE, BRAVO_WINDOWS, BRAVO_SDIST)}\n"
        f"charlie==0.3{hashed(CHARLIE_SDIST)}\n"
    )
    path = Path("requirements.txt")
    path.write_text(
        f"--index-url {server.index_url}\n"
        "-r base.txt\n"
        f"alpha==1.0{hashed(ALPHA_WHEEL, ALPHA_SDIST)}\n"
        f'delta==1.0 ; sys_platform == "win32"{hashed(DELTA_WINDOWS)}\n'
        f"echo @ {server.url}/files/{ECHO_WHEEL.filename}{hashed(ECHO_WHEEL)}\n"
    )
    return path


def pins(path: Path) -> Pins:
    """Each project's pin (or URL), marker and hashes, as hashpin reads the file."""
    workspace = load([str(path)])
    found: Pins = {}
    for source in workspace.walk(workspace.roots[0]):
        assert source.file is not None
        for line in source.file.lines:
            if not line.args:
                continue
            requirement = interpret(line.args)
            assert requirement.key is not None
            marker = normal_marker(requirement.marker) if requirement.marker else None
            hashes = frozenset(o.value or "" for o in line.options_named("--hash"))
            found[requirement.key] = (requirement.pinned_version or requirement.url, marker, hashes)
    return found


def pip_install(file: Path, server: IndexServer, target: Path) -> None:
    result = locktools.pip_install(file, server.index_url, target)
    assert result.returncode == 0, result.stderr


def installed(target: Path) -> set[str]:
    return {path.parent.name for path in target.glob("*/__init__.py")}


def lock_of(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    return document


# -- requirements -> pylock.toml -> requirements -------------------------------------------


def test_round_trip_keeps_pins_and_hashes_and_pip_installs_both(
    server: IndexServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    requirements = write_requirements(server)
    assert export(capsys, "--format", "pylock", str(requirements), "-o", "pylock.toml") == (
        0,
        "",
        "",
    )
    document = lock_of(Path("pylock.toml"))
    assert (document["lock-version"], document["created-by"]) == ("1.0", "hashpin")
    packages = {package["name"]: package for package in document["packages"]}
    assert list(packages) == ["alpha", "bravo-lib", "charlie", "delta", "echo"]  # sorted
    alpha = packages["alpha"]
    assert (alpha["version"], alpha["index"]) == ("1.0", server.index_url)
    assert alpha["sdist"]["name"] == ALPHA_SDIST.filename
    assert [wheel["name"] for wheel in alpha["wheels"]] == [ALPHA_WHEEL.filename]  # not 0.9's
    wheel = alpha["wheels"][0]
    assert wheel["url"] == f"{server.url}/files/{ALPHA_WHEEL.filename}"
    assert wheel["size"] == len(ALPHA_WHEEL.data)
    assert wheel["upload-time"].isoformat() == "2025-01-01T00:00:00+00:00"
    assert wheel["hashes"] == {"sha256": ALPHA_WHEEL.sha256}
    assert len(packages["bravo-lib"]["wheels"]) == 2  # extras dropped: the package is locked
    assert packages["delta"]["marker"] == 'sys_platform == "win32"'  # kept, never holds here
    assert packages["echo"]["archive"] == {
        "url": f"{server.url}/files/{ECHO_WHEEL.filename}",
        "hashes": {"sha256": ECHO_WHEEL.sha256},
    }
    # what export writes, the offline check passes
    assert main(["check", "--isolated", "--no-cache", "pylock.toml"]) == 0
    assert capsys.readouterr().out == ""

    assert export(capsys, "--format", "requirements", "pylock.toml", "-o", "back.txt")[0] == 0
    assert pins(Path("back.txt")) == pins(requirements)  # bravo-lib[fast]: keyed by name

    pip_install(requirements, server, tmp_path / "from-requirements")
    pip_install(Path("pylock.toml"), server, tmp_path / "from-lock")
    pip_install(Path("back.txt"), server, tmp_path / "from-back")
    expected = {"alpha", "bravo_lib", "charlie", "echo"}  # delta is for Windows only
    assert installed(tmp_path / "from-requirements") == expected
    assert installed(tmp_path / "from-lock") == expected
    assert installed(tmp_path / "from-back") == expected


def test_the_same_input_exports_the_same_bytes(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = write_requirements(server)
    code, first, _ = export(capsys, "--format", "pylock", str(requirements))
    assert code == 0
    assert export(capsys, "--format", "pylock", str(requirements))[1] == first
    assert first.startswith('lock-version = "1.0"\ncreated-by = "hashpin"\n\n[[packages]]\n')
    assert "hashes = { sha256 = " in first and "[[packages.wheels]]" in first


@pytest.mark.parametrize(("page_format", "has_size"), [("json", True), ("html", False)])
def test_an_index_without_digests_has_the_files_downloaded_once(
    server: IndexServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    page_format: str,
    has_size: bool,
) -> None:
    Path("requirements.txt").write_text(f"alpha==1.0{hashed(ALPHA_WHEEL, ALPHA_SDIST)}\n")
    args = ["--format", "pylock", "requirements.txt", "-i", server.index_url]
    args += ["--cache-dir", str(tmp_path / "cache")]
    server.digests, server.page_format = "none", page_format
    try:
        before = server.hits
        code, out, err = export(capsys, *args)
        assert (code, err) == (0, "")
        middle = server.hits
        assert export(capsys, *args)[1] == out  # the digests come from the cache now
        after = server.hits
    finally:
        server.digests, server.page_format = "sha256", "negotiate"
    for dist in (ALPHA_WHEEL, ALPHA_SDIST):
        assert middle[f"/files/{dist.filename}"] - before[f"/files/{dist.filename}"] == 1
        assert after[f"/files/{dist.filename}"] == middle[f"/files/{dist.filename}"]
    assert middle[f"/files/{ALPHA_OLD.filename}"] == before[f"/files/{ALPHA_OLD.filename}"]
    package = tomllib.loads(out)["packages"][0]
    assert package["sdist"]["hashes"] == {"sha256": ALPHA_SDIST.sha256}
    assert package["wheels"][0]["hashes"] == {"sha256": ALPHA_WHEEL.sha256}
    # the size only as the index gives it: never dependent on what the cache holds
    assert ("size" in package["sdist"]) is has_size


def test_credentials_stay_out_of_the_lock(
    server: IndexServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEX_TOKEN", "s3cret")
    Path("requirements.txt").write_text(
        f"--index-url {server.index_url.replace('://', '://user:${INDEX_TOKEN}@')}\n"
        f"alpha==1.0{hashed(ALPHA_WHEEL)}\n"
        f"echo @ {server.url.replace('://', '://user:${INDEX_TOKEN}@')}/files/"
        f"{ECHO_WHEEL.filename}{hashed(ECHO_WHEEL)}\n"
    )
    server.auth = ("user", "s3cret")
    try:
        code, out, err = export(capsys, "--format", "pylock", "requirements.txt")
    finally:
        server.auth = None
    assert code == 0, err
    assert "s3cret" not in out and "user" not in out
    packages = tomllib.loads(out)["packages"]
    assert packages[0]["index"] == server.index_url
    assert packages[1]["archive"]["url"] == f"{server.url}/files/{ECHO_WHEEL.filename}"
    assert err == (
        "hashpin: requirements.txt:4: echo: the URL's credentials are left out of the lock\n"
    )


def test_check_never_imports_export(tmp_path: Path) -> None:
    Path("requirements.txt").write_text(f"alpha==1.0{hashed(ALPHA_WHEEL)}\n")
    probe = (
        "import sys; from hashpin.cli import main; "
        "code = main(['check', '--isolated', '--no-cache', 'requirements.txt']); "
        "print(code, 'hashpin.export' in sys.modules, 'tomllib' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=sealed_environment(os.environ, tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.stdout == "0 False False\n", result.stderr


def test_a_hash_of_another_file_is_an_error_at_its_line(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("requirements.txt").write_text(
        f"# pinned\nalpha==1.0{hashed(ALPHA_WHEEL, ALPHA_OLD)}\n"  # 0.9's file, for 1.0
    )
    Path("pylock.toml").write_bytes(b"# an older export\n")
    to_lock = ["--format", "pylock", "requirements.txt", "-o", "pylock.toml"]
    code, out, err = export(capsys, *to_lock, "-i", server.index_url)
    assert (code, out) == (1, "")
    assert err == (
        f"hashpin: error: requirements.txt:2: alpha: --hash=sha256:{ALPHA_OLD.sha256} matches "
        "no file of 1.0\nhashpin: requirements.txt: nothing exported\n"
    )
    assert Path("pylock.toml").read_bytes() == b"# an older export\n"
    assert sorted(os.listdir()) == ["pylock.toml", "requirements.txt"]


def test_an_unknown_project_is_an_error(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("requirements.txt").write_text(f"zulu==1.0 --hash=sha256:{'a' * 64}\n")
    code, _, err = export(capsys, "--format", "pylock", "requirements.txt", "-i", server.index_url)
    assert code == 1
    assert err.startswith("hashpin: error: requirements.txt:1: zulu: no index or find-links")


# -- refusals ---------------------------------------------------------------------------------


def test_an_unhashed_requirement_is_refused_and_nothing_written(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("requirements.txt").write_text(f"alpha==1.0{hashed(ALPHA_WHEEL)}\ncharlie==0.3\n")
    before = server.hits
    to_lock = ["--format", "pylock", "requirements.txt", "-o", "pylock.toml"]
    code, out, err = export(capsys, *to_lock, "-i", server.index_url)
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == (
        "hashpin: error: requirements.txt: hashpin check reports 1 error; nothing exported"
    )
    assert lines[1].startswith("requirements.txt:3:1: HP002 ")
    assert len(lines) == 2
    assert not Path("pylock.toml").exists()
    assert server.hits == before  # refused before asking any index


def test_a_lock_with_an_empty_hashes_table_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    Path("pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "alpha"\n'
        'version = "1.0"\nwheels = [{ name = "alpha-1.0-py3-none-any.whl", '
        'url = "https://files.example.com/alpha-1.0-py3-none-any.whl", hashes = {} }]\n'
    )
    code, out, err = export(capsys, "--format", "requirements", "pylock.toml", "-o", "req.txt")
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert (
        lines[0] == "hashpin: error: pylock.toml: hashpin check reports 1 error; nothing exported"
    )
    assert lines[1].startswith("pylock.toml:7:")
    assert " HP002 wheel alpha-1.0-py3-none-any.whl of alpha has an empty hashes table" in lines[1]
    assert not Path("req.txt").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "pylock", "pylock.toml"], "pylock.toml is a lock file already"),
        (["--format", "requirements", "requirements.txt"], "requirements.txt is not a lock file"),
        (["--format", "pylock", "requirements.txt", "-o", "requirements.txt"], "would overwrite"),
        (["--format", "pylock", "-"], "export reads a file"),
        (["--format", "pylock", "."], ". is a directory"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    Path("requirements.txt").write_text("")
    Path("pylock.toml").write_text("")
    code, out, err = export(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("hashpin: error: ") and message in err
    assert err.count("\n") == 1


def test_format_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["export", "requirements.txt"])
    assert exited.value.code == 2
    assert "--format" in capsys.readouterr().err


# -- writing -----------------------------------------------------------------------------------


def test_output_is_created_whole_with_the_usual_mode(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = write_requirements(server)
    Path("out").mkdir()
    assert export(capsys, "--format", "pylock", str(requirements), "-o", "out/pylock.toml")[0] == 0
    assert os.listdir("out") == ["pylock.toml"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat("out/pylock.toml").st_mode) == 0o666 & ~umask
    assert lock_of(Path("out/pylock.toml"))["created-by"] == "hashpin"


def test_an_existing_output_is_replaced_keeping_its_mode(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = write_requirements(server)
    Path("pylock.toml").write_text("old\n")
    os.chmod("pylock.toml", 0o640)
    assert export(capsys, "--format", "pylock", str(requirements), "-o", "pylock.toml")[0] == 0
    assert stat.S_IMODE(os.stat("pylock.toml").st_mode) == 0o640
    assert sorted(os.listdir()) == ["base.txt", "pylock.toml", "requirements.txt"]
    assert lock_of(Path("pylock.toml"))["created-by"] == "hashpin"


def test_ctrl_c_while_writing_leaves_the_old_file(
    server: IndexServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    requirements = write_requirements(server)
    Path("pylock.toml").write_text("old\n")

    def interrupted(source: str, target: str) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", interrupted)
        code, out, err = export(
            capsys, "--format", "pylock", str(requirements), "-o", "pylock.toml"
        )
    assert (code, out) == (130, "")
    assert err == "hashpin: interrupted; no file was changed\n"
    assert Path("pylock.toml").read_text() == "old\n"
    assert sorted(os.listdir()) == ["base.txt", "pylock.toml", "requirements.txt"]


# -- pylock.toml -> requirements ------------------------------------------------------------


def test_a_lock_written_by_pip_lock_exports_and_installs(
    server: IndexServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    Path("req.in").write_text("alpha==1.0\ncharlie==0.3\n")
    locked = locktools.pip(
        ["lock", "-r", "req.in", "-o", "pylock.toml", "--index-url", server.index_url], Path.cwd()
    )
    assert locked.returncode == 0, locked.stderr
    assert lock_of(Path("pylock.toml"))["created-by"] == "pip"
    assert export(capsys, "--format", "requirements", "pylock.toml", "-o", "req.txt")[0] == 0
    exported = pins(Path("req.txt"))
    assert {name: pin[0] for name, pin in exported.items()} == {
        "alpha": "1.0",
        "bravo-lib": "2.0",
        "charlie": "0.3",
    }
    assert exported["charlie"][2] == {f"sha256:{CHARLIE_SDIST.sha256}"}
    pip_install(Path("req.txt"), server, tmp_path / "site")
    assert installed(tmp_path / "site") == {"alpha", "bravo_lib", "charlie"}


def test_a_lock_written_by_uv_exports_and_installs(
    server: IndexServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    locktools.uv_lock(server.index_url, Path.cwd(), "alpha==1.0")
    document = lock_of(Path("pylock.toml"))
    assert document["created-by"] == "uv"
    code, _, err = export(capsys, "--format", "requirements", "pylock.toml", "-o", "req.txt")
    assert code == 0
    assert "requires-python is not carried over" in err  # uv writes one; pip -r cannot
    exported = pins(Path("req.txt"))
    assert exported["alpha"] == (
        "1.0",
        None,
        frozenset({f"sha256:{ALPHA_WHEEL.sha256}", f"sha256:{ALPHA_SDIST.sha256}"}),
    )
    pip_install(Path("req.txt"), server, tmp_path / "site")
    assert installed(tmp_path / "site") == {"alpha", "bravo_lib"}


def test_several_indexes_and_the_strongest_hash(capsys: pytest.CaptureFixture[str]) -> None:
    sha256, sha512 = "a" * 64, "B" * 128
    Path("pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n'
        '[[packages]]\nname = "zeta"\nversion = "2.0"\nindex = "https://two.example/simple/"\n'
        '[[packages.wheels]]\nname = "zeta-2.0-py3-none-any.whl"\n'
        'url = "https://two.example/zeta-2.0-py3-none-any.whl"\n'
        f'hashes = {{ sha256 = "{sha256}", sha512 = "{sha512}" }}\n\n'
        '[[packages]]\nname = "alpha"\nversion = "1.0"\nmarker = "python_version >= \'3.8\'"\n'
        'index = "https://one.example/simple/"\n'
        '[packages.sdist]\nname = "alpha-1.0.tar.gz"\nurl = "https://one.example/alpha-1.0.tar.gz"\n'
        f'hashes = {{ sha256 = "{sha256}" }}\n'
    )
    code, out, err = export(capsys, "--format", "requirements", "pylock.toml")
    assert code == 0
    assert out == (
        "#\n# This file was generated by hashpin export from pylock.toml\n#\n"
        "--index-url https://two.example/simple/\n"
        "--extra-index-url https://one.example/simple/\n\n"
        "alpha==1.0 ; python_version >= '3.8' \\\n"
        f"    --hash=sha256:{sha256}\n"
        "zeta==2.0 \\\n"
        f"    --hash=sha512:{sha512.lower()}\n"
    )
    assert err == (
        "hashpin: pylock.toml: its packages name 2 indexes; pip searches every one of them for "
        "every package (--index-url https://two.example/simple/, the others --extra-index-url)\n"
    )


# -- TOML ----------------------------------------------------------------------------------


@given(st.text())
def test_toml_strings_read_back_exactly(text: str) -> None:
    assert tomllib.loads(f"key = {toml_string(text)}") == {"key": text}


def test_toml_strings_escape_what_a_basic_string_cannot_hold() -> None:
    assert toml_string('a"b\\c\nd\x7f\x00é') == '"a\\"b\\\\c\\nd\\u007f\\u0000é"'


# -- pins through constraints, local archives ----------------------------------------------


def test_a_pin_and_hashes_given_by_a_constraints_file_count(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("constraints.txt").write_text(f"alpha==1.0{hashed(ALPHA_WHEEL)}\n")
    Path("requirements.txt").write_text("-c constraints.txt\nalpha\n")
    code, out, err = export(
        capsys, "--format", "pylock", "requirements.txt", "-i", server.index_url
    )
    assert (code, err) == (0, "")
    [package] = tomllib.loads(out)["packages"]
    assert (package["name"], package["version"]) == ("alpha", "1.0")
    assert [wheel["name"] for wheel in package["wheels"]] == [ALPHA_WHEEL.filename]
    assert "sdist" not in package  # only what the hashes name


def test_a_local_archive_is_locked_by_its_path_and_exported_back_as_a_file_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("dist").mkdir()
    wheel = ECHO_WHEEL.write_to(Path("dist"))
    Path("requirements.txt").write_text(f"./dist/{wheel.name}{hashed(ECHO_WHEEL)}\n")
    assert export(capsys, "--format", "pylock", "requirements.txt", "-o", "pylock.toml")[0] == 0
    [package] = lock_of(Path("pylock.toml"))["packages"]
    assert package == {
        "name": "echo",
        "version": "1.0",
        "archive": {"path": f"dist/{wheel.name}", "hashes": {"sha256": ECHO_WHEEL.sha256}},
    }
    code, out, _ = export(capsys, "--format", "requirements", "pylock.toml")
    assert code == 0
    assert out.endswith(f"echo @ {wheel.resolve().as_uri()}{hashed(ECHO_WHEEL)}\n")
