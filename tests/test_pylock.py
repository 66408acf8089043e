"""PEP 751 lock files (pylock.toml) in the offline ``hashpin check``.

A lock file written by the real ``pip lock`` against an index on 127.0.0.1 checks clean,
and the real ``pip install -r pylock.toml`` installs it; hand-made files exercise every
rule, each finding at the line and column of its TOML table or key, in every format; and
what is reported as an error is what real pip refuses. Every pip process runs with no
PIP_* variable, no pip configuration file and no proxy, against the local index only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from hypothesis import given, settings
from hypothesis import strategies as st
from indexserver import IndexServer
from locktools import pip_install, pip_lock

from hashpin.cli import main
from hashpin.pylock import Positions
from hashpin.resultcache import Inputs
from hashpin.rules import BY_CODE
from hashpin.workspace import load

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
HEAD = 'lock-version = "1.0"\ncreated-by = "test"\n'
H = "a" * 64  # a well-formed sha256 digest

ALPHA_WHEEL = make_wheel("alpha", "1.0", requires_dist=["bravo-lib>=2"])
ALPHA_SDIST = make_sdist("alpha", "1.0")
BRAVO_PURE = make_wheel("bravo-lib", "2.0")
BRAVO_WINDOWS = make_wheel("bravo-lib", "2.0", "cp311-cp311-win_amd64")
BRAVO_SDIST = make_sdist("bravo-lib", "2.0")
CHARLIE_SDIST = make_sdist("charlie", "0.3")  # an sdist only: pip builds it
WINDOWS_ONLY = make_wheel("delta", "1.0", "cp311-cp311-win_amd64")
PROJECTS: dict[str, list[Dist]] = {
    "alpha": [ALPHA_WHEEL, ALPHA_SDIST],
    "bravo-lib": [BRAVO_PURE, BRAVO_WINDOWS, BRAVO_SDIST],
    "charlie": [CHARLIE_SDIST],
    "delta": [WINDOWS_ONLY],
}


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No result cache of this machine, no pre-commit around, in a folder of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    monkeypatch.chdir(tmp_path)


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "--isolated", "--no-cache", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(text: str, name: str = "pylock.toml") -> str:
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(name).write_text(text, encoding="utf-8")
    return name


def found(out: str) -> list[str]:
    """``line:col: CODE`` of each finding of a text report (one file)."""
    return [
        f"{match.group(1)}:{match.group(2)}: {match.group(3)}"
        for match in re.finditer(r"^[^\n]*?:(\d+):(\d+): (HP\d{3}) ", out, re.M)
    ]


def wheel_entry(dist: Dist, url: str | None = None, *, hashes: str | None = None) -> str:
    hashes = f'{{sha256 = "{dist.sha256}"}}' if hashes is None else hashes
    url = url or f"https://files.example.com/{dist.filename}"
    return f'{{name = "{dist.filename}", url = "{url}", hashes = {hashes}}}'


# -- A lock file written by real pip ------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[IndexServer]:
    with IndexServer(PROJECTS) as running:
        yield running


@pytest.fixture(scope="module")
def pip_lock_file(server: IndexServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip lock alpha==1.0 charlie==0.3`` (alpha needs bravo-lib), as pip 26 writes it."""
    folder = tmp_path_factory.mktemp("pip-lock")
    pip_lock(server.index_url, folder, "alpha==1.0", "charlie==0.3")
    return folder / "pylock.toml"


def test_pip_lock_writes_what_the_tests_expect(pip_lock_file: Path) -> None:
    document = tomllib.loads(pip_lock_file.read_text())
    assert document["created-by"] == "pip"
    names = [package["name"] for package in document["packages"]]
    assert names == ["alpha", "bravo-lib", "charlie"]
    assert "[[packages.wheels]]" in pip_lock_file.read_text()  # the header style, not inline


def test_a_lock_file_of_pip_lock_checks_clean(
    pip_lock_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(capsys, str(pip_lock_file)) == (0, "", "")
    code, out, _ = check(capsys, "--format", "json", str(pip_lock_file))
    assert code == 0
    assert json.loads(out)["files"] == [{"path": str(pip_lock_file), "findings": []}]


def test_pip_installs_the_lock_file_from_the_local_index(
    pip_lock_file: Path, server: IndexServer, tmp_path: Path
) -> None:
    result = pip_install(pip_lock_file, server.index_url, tmp_path / "target")
    assert result.returncode == 0, result.stderr
    for module in ("alpha", "bravo_lib", "charlie"):
        assert (tmp_path / "target" / module / "__init__.py").exists()


def test_a_found_lock_file_is_checked(
    pip_lock_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(pip_lock_file.read_text(), "sub/pylock.toml")
    write(HEAD + '[[packages]]\nname = "x"\nversion = "1"\n', "pylock.dev.toml")
    write("a==1\n", "requirements.txt")
    code, out, _ = check(capsys)
    assert code == 1
    assert out.splitlines()[:2] == [
        "pylock.dev.toml:3:1: HP000 x has no source (vcs, directory, archive, sdist or wheels): "
        "pip refuses the file",
        "requirements.txt:1:1: HP002 [*] a has no --hash",
    ]


# -- Each rule, at its place ---------------------------------------------------------------

CASES = {
    "no-lock-version": (
        'created-by = "test"\npackages = []\n',
        ["1:1: HP000"],
        "there is no lock-version",
    ),
    "unsupported-lock-version": (
        'created-by = "test"\nlock-version = "2.0"\npackages = []\n',
        ["2:1: HP000"],
        "lock-version 2.0 is not supported: pip reads lock-version 1.x only",
    ),
    "lock-version-1.1": (HEAD.replace("1.0", "1.1") + "packages = []\n", [], ""),
    "no-created-by": ('lock-version = "1.0"\npackages = []\n', ["1:1: HP000"], "no created-by"),
    "no-packages": (HEAD, ["1:1: HP000"], "there is no packages array"),
    "wrong-type": (
        HEAD + '[[packages]]\nname = "a"\nversion = 1\nsdist = {path = "a-1.tar.gz", '
        f'hashes = {{sha256 = "{H}"}}}}\n',
        ["5:1: HP000"],
        "version must be a string, not an integer: pip refuses the file",
    ),
    "package-without-name": (
        HEAD + '\n[[packages]]\nversion = "1.0"\n'
        f'archive = {{url = "https://x.example/a.zip", hashes = {{sha256 = "{H}"}}}}\n',
        ["4:1: HP000"],
        "packages[0] has no name",
    ),
    "not-normalized": (
        HEAD + '[[packages]]\nname = "Foo_Bar"\n'
        f'archive = {{url = "https://x.example/a.zip", hashes = {{sha256 = "{H}"}}}}\n',
        ["4:1: HP000"],
        "package name 'Foo_Bar' is not normalized: pip refuses it (write 'foo-bar')",
    ),
    "two-sources": (
        HEAD + '[[packages]]\nname = "a"\ndirectory = {path = "."}\n'
        f'archive = {{url = "https://x.example/a.zip", hashes = {{sha256 = "{H}"}}}}\n',
        ["3:1: HP000", "5:1: HP005"],
        "a has more than one kind of source (directory, archive)",
    ),
    "no-source": (
        HEAD + '[[packages]]\nname = "a"\nwheels = []\n',
        ["3:1: HP000"],
        "a has no source",
    ),
    "unhashed-header-style": (
        HEAD + '[[packages]]\nname = "alpha"\nversion = "1.0"\n\n[[packages.wheels]]\n'
        f'url = "https://x.example/a/{ALPHA_WHEEL.filename}"\n',
        ["8:1: HP002"],
        f"wheel {ALPHA_WHEEL.filename} of alpha has no hashes",
    ),
    "unhashed-inline": (
        HEAD + '[[packages]]\nname = "alpha"\nwheels = [\n'
        f"    {wheel_entry(ALPHA_WHEEL)},\n"
        f"    {wheel_entry(ALPHA_WHEEL, hashes='{}')},\n]\n",
        ["7:6: HP002"],
        "has an empty hashes table",
    ),
    "unhashed-sdist": (
        HEAD + '[[packages]]\nname = "alpha"\n[packages.sdist]\n'
        f'url = "https://x.example/{ALPHA_SDIST.filename}"\n',
        ["6:1: HP002"],
        f"sdist {ALPHA_SDIST.filename} of alpha has no hashes",
    ),
    "editable": (
        HEAD + '[[packages]]\nname = "mine"\ndirectory = { path = "src", editable = true }\n',
        ["5:1: HP003"],
        "mine is an editable directory src, which cannot be hashed",
    ),
    "directory": (
        HEAD + '[[packages]]\nname = "mine"\n\n  [packages.directory]\n  path = "../mine"\n',
        ["6:3: HP005"],
        "mine is a local directory ../mine, which cannot be hashed",
    ),
    "vcs-without-commit": (
        HEAD + '[[packages]]\nname = "tool"\n'
        'vcs = {type = "git", url = "https://git.example/tool.git"}\n',
        ["5:1: HP004"],
        "tool comes from a git repository (https://git.example/tool.git), which cannot be "
        "hashed; and it has no commit-id, without which pip refuses the file",
    ),
    "vcs": (
        HEAD + '[[packages]]\nname = "tool"\n[packages.vcs]\ntype = "git"\n'
        'url = "https://git.example/tool.git"\ncommit-id = "0123abc"\n',
        ["5:1: HP004"],
        "tool comes from a git repository (https://git.example/tool.git), which cannot be hashed",
    ),
    "malformed-digest": (
        HEAD + '[[packages]]\nname = "alpha"\n[[packages.wheels]]\n'
        f'name = "{ALPHA_WHEEL.filename}"\nurl = "https://x.example/{ALPHA_WHEEL.filename}"\n'
        '[packages.wheels.hashes]\nsha512 = "00ff"\nsha256 = "zz"\n',
        ["9:1: HP006", "10:1: HP006"],
        "sha512 digest has 4 hex digits, not 128",
    ),
    "uppercase-digest-matches": (
        HEAD + '[[packages]]\nname = "alpha"\n'
        f'wheels = [{wheel_entry(ALPHA_WHEEL, hashes=f"""{{sha256 = "{H.upper()}"}}""")}]\n',
        [],
        "",
    ),
    "duplicate": (
        HEAD + f'[[packages]]\nname = "alpha"\nwheels = [{wheel_entry(ALPHA_WHEEL)}]\n'
        f'\n[[packages]]  # again\nname = "alpha"\nsdist = {{path = "{ALPHA_SDIST.filename}", '
        f'hashes = {{sha256 = "{ALPHA_SDIST.sha256}"}}}}\n',
        ["7:1: HP000"],
        "alpha is listed again (also packages[0] on line 3), where both can be selected: pip "
        "refuses to install a lock file that selects two packages of one name",
    ),
    "duplicate-overlapping-markers": (
        HEAD + f'[[packages]]\nname = "alpha"\nmarker = "python_version >= \'3.8\'"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n"
        f'[[packages]]\nname = "alpha"\nmarker = "sys_platform == \'linux\'"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n",
        ["7:1: HP000"],
        "alpha is listed again",
    ),
    "duplicate-disjoint-markers": (
        HEAD + f'[[packages]]\nname = "alpha"\nmarker = "sys_platform == \'win32\'"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n"
        f'[[packages]]\nname = "alpha"\nmarker = "sys_platform != \'win32\'"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n",
        [],
        "",
    ),
    "duplicate-by-extras": (
        'lock-version = "1.0"\ncreated-by = "test"\nextras = ["fast", "slow"]\n'
        f'[[packages]]\nname = "alpha"\nmarker = "\'fast\' in extras"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n"
        f'[[packages]]\nname = "alpha"\nmarker = "\'slow\' in extras"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n",
        ["8:1: HP000"],  # both, when both extras are asked for
        "alpha is listed again",
    ),
    "wheel-of-another-project": (
        HEAD + f'[[packages]]\nname = "bravo-lib"\nwheels = [{wheel_entry(ALPHA_WHEEL)}]\n',
        ["5:12: HP301"],
        f"wheel {ALPHA_WHEEL.filename} is of project 'alpha', not of 'bravo-lib'",
    ),
    "sdist-of-another-version": (
        HEAD + '[[packages]]\nname = "alpha"\nversion = "1.0.1"\n'
        f'sdist = {{name = "{ALPHA_SDIST.filename}", path = "dist/{ALPHA_SDIST.filename}", '
        f'hashes = {{sha256 = "{ALPHA_SDIST.sha256}"}}}}\n',
        ["6:10: HP301"],
        f"sdist {ALPHA_SDIST.filename} is of version 1.0, not of alpha's version 1.0.1",
    ),
    "same-version-spelled-otherwise": (
        HEAD + '[[packages]]\nname = "alpha"\nversion = "1.0.0"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n",
        [],
        "",
    ),
    "not-a-wheel-name": (
        HEAD + '[[packages]]\nname = "alpha"\nwheels = [\n'
        f'  {{url = "https://x.example/alpha.whl", hashes = {{sha256 = "{H}"}}}},\n]\n',
        ["6:4: HP301"],
        "'alpha.whl' is not a valid wheel file name",
    ),
    "url-of-another-file": (
        HEAD + '[[packages]]\nname = "alpha"\n[[packages.wheels]]\n'
        f'name = "{ALPHA_WHEEL.filename}"\n'
        'url = "https://x.example/alpha-1.0-cp311-cp311-win_amd64.whl"\n'
        f'hashes = {{sha256 = "{H}"}}\n',
        ["7:1: HP302"],
        f"the url of wheel {ALPHA_WHEEL.filename} of alpha ends in "
        "'alpha-1.0-cp311-cp311-win_amd64.whl': pip picks the file by its name, and installs "
        "another",
    ),
    "percent-encoded-url": (
        HEAD + '[[packages]]\nname = "alpha"\nversion = "1.0+local"\nwheels = [{name = '
        '"alpha-1.0+local-py3-none-any.whl", url = "https://x.example/alpha-1.0%2Blocal-py3-'
        f'none-any.whl", hashes = {{sha256 = "{H}"}}}}]\n',
        [],
        "",
    ),
    "unknown-hash-algorithm": (
        HEAD + '[[packages]]\nname = "alpha"\n'
        f'[packages.archive]\nurl = "https://x.example/a.zip"\nhashes.sha256 = "{H}"\n'
        'hashes.sha257 = "00"\n',
        ["8:8: HP303"],
        "hash algorithm 'sha257' of the archive of alpha is not in "
        "hashlib.algorithms_guaranteed: pip fails the install where hashlib lacks it",
    ),
    "uppercase-hash-algorithm": (
        HEAD + '[[packages]]\nname = "alpha"\n'
        f'archive = {{url = "https://x.example/a.zip", hashes = {{SHA256 = "{H}"}}}}\n',
        ["5:55: HP303"],
        "(write 'sha256')",
    ),
    "shake": (
        HEAD + '[[packages]]\nname = "alpha"\n'
        f'archive = {{url = "https://x.example/a.zip", hashes = {{shake_128 = "{H}"}}}}\n',
        ["5:55: HP303"],
        "shake_128 of the archive of alpha has no fixed digest length",
    ),
    "invalid-marker": (
        HEAD + '[[packages]]\nname = "alpha"\nmarker = "python_version >>= \'3\'"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n",
        ["5:1: HP304"],
        "marker \"python_version >>= '3'\" does not parse",
    ),
    "invalid-requires-python": (
        'requires-python = ">=three"\n'
        + HEAD
        + '[[packages]]\nname = "alpha"\nrequires-python = "~=3"\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]\n",
        ["1:1: HP304", "6:1: HP304"],
        "requires-python '>=three' does not parse",
    ),
    "invalid-environment": (
        HEAD + 'environments = [\n  "sys_platform == \'linux\'",\n  "os_name ==",\n]\n'
        "packages = []\n",
        ["5:3: HP304"],
        "environment marker 'os_name ==' does not parse",
    ),
    "windows-only-for-linux": (
        "environments = [\"sys_platform == 'linux'\", \"platform_system == 'Darwin'\"]\n"
        + HEAD
        + f'\n[[packages]]\nname = "delta"\nwheels = [{wheel_entry(WINDOWS_ONLY)}]\n',
        ["5:1: HP305"],
        "delta has wheels only, for Windows, which every marker of environments excludes: pip "
        "finds no file of it to install on Linux x86_64 with CPython 3.7, which environments "
        "admits",
    ),
    "windows-only-excluded-by-os-name": (
        "environments = [\"os_name == 'posix' and python_version >= '3.12'\"]\n"
        + HEAD
        + f'[[packages]]\nname = "delta"\nwheels = [{wheel_entry(WINDOWS_ONLY)}]\n',
        ["4:1: HP305"],
        "on Linux x86_64 with CPython 3.12",
    ),
    "windows-only-but-its-marker-says-so": (
        "environments = [\"sys_platform == 'linux'\"]\n"
        + HEAD
        + f'[[packages]]\nname = "delta"\nmarker = "sys_platform == \'win32\'"\n'
        f"wheels = [{wheel_entry(WINDOWS_ONLY)}]\n",
        [],
        "",
    ),
    "windows-only-undecided": (  # a Windows machine may report AMD64 or x86_64: cannot tell
        "environments = [\"platform_machine == 'x86_64'\"]\n"
        + HEAD
        + f'[[packages]]\nname = "delta"\nwheels = [{wheel_entry(WINDOWS_ONLY)}]\n',
        [],
        "",
    ),
    "windows-only-but-requires-python-does-not-parse": (  # no witness can be trusted
        'environments = ["sys_platform == \'linux\'"]\nrequires-python = ">=3.x"\n'
        + HEAD
        + f'[[packages]]\nname = "delta"\nwheels = [{wheel_entry(WINDOWS_ONLY)}]\n',
        ["2:1: HP304"],
        "requires-python '>=3.x' does not parse",
    ),
    "windows-only-with-an-sdist": (
        "environments = [\"sys_platform == 'linux'\"]\n"
        + HEAD
        + f'[[packages]]\nname = "bravo-lib"\nwheels = [{wheel_entry(BRAVO_WINDOWS)}]\n'
        f'sdist = {{path = "{BRAVO_SDIST.filename}", hashes = {{sha256 = "{H}"}}}}\n',
        [],
        "",
    ),
    "http-url-and-weak-hash": (
        HEAD + '[[packages]]\nname = "alpha"\nindex = "http://pypi.example/simple"\n'
        f'[packages.archive]\nurl = "http://x.example/a.zip"\nhashes = {{md5 = "{"0" * 32}"}}\n',
        ["5:1: HP105", "7:1: HP105", "7:1: HP106"],
        "the archive of alpha is verified only by md5",
    ),
    "not-toml": (HEAD + "[[packages]\nname = 1\n", ["3:11: HP000"], "invalid TOML: "),
    "bom": ("\ufeff" + HEAD, ["1:1: HP000"], "starts with a byte order mark"),
    "nested-arrays-and-strings": (
        HEAD + 'tool.x = """\n[[packages]]\nname = "ghost"  # not a comment\n"""\n'
        "tool.y = [[1, [2]], {a = '# nor this'}]\n"
        '[[packages]]\nname = "alpha"\nwheels = [\n  # a comment line\n  [\n]]\n',
        ["10:1: HP000"],
        "wheels must be an array of tables: pip refuses the file",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_rule_at_its_line_and_column(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    text, expected, message = CASES[case]
    write(text)
    code, out, err = check(capsys, "pylock.toml")
    assert err == ""
    assert found(out) == expected, out
    assert message in out
    errors = [line for line in expected if BY_CODE[line.split()[-1]].severity == "error"]
    assert code == (1 if errors else 0)


def test_a_toml_error_is_where_tomllib_says(capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + '[[packages]]\nname = "a"\nwheels = [\n  {name = "x"},\n  {name = },\n]\n'
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    where = re.search(r"at line (\d+), column (\d+)", str(caught.value))
    assert where is not None
    write(text)
    code, out, _ = check(capsys, "pylock.toml")
    assert code == 1
    assert out.startswith(f"pylock.toml:{where.group(1)}:{where.group(2)}: HP000 invalid TOML: ")


def test_bytes_that_are_not_utf8(capsys: pytest.CaptureFixture[str]) -> None:
    # Columns count characters, here too: the two-byte ç is one.
    Path("pylock.toml").write_bytes(HEAD.encode() + 'tool.x = "çaf'.encode() + b'\xe9"\n')
    code, out, _ = check(capsys, "pylock.toml")
    assert code == 1
    assert out.startswith(
        "pylock.toml:3:14: HP000 is not UTF-8 (byte 0xe9), as a TOML file must be"
    )


def test_a_name_pip_does_not_take_for_a_lock_file(capsys: pytest.CaptureFixture[str]) -> None:
    write(HEAD + "packages = []\n", "pylock.a.b.toml")
    code, out, _ = check(capsys, "pylock.a.b.toml")
    assert code == 1
    assert found(out) == ["1:1: HP000"]
    assert "pip reads pylock.a.b.toml as a requirements file, not a lock file" in out
    write(HEAD + "packages = []\n", "pylock.ci.toml")
    assert check(capsys, "pylock.ci.toml") == (0, "", "")


def test_through_an_include_it_is_a_requirements_file(capsys: pytest.CaptureFixture[str]) -> None:
    # pip reads -r pylock.toml inside a requirements file as a requirements file, and fails.
    write(HEAD + "packages = []\n")
    write("-r pylock.toml\n", "requirements.txt")
    code, out, _ = check(capsys, "requirements.txt")
    assert code == 1
    assert "pylock.toml:1:1: HP000 invalid requirement 'lock-version = \"1.0\"'" in out


def test_crlf_and_wide_characters_count_as_tomllib_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = HEAD + '[[packages]]\nname = "mine"  # é\n\t"directory" = {path = "ü/src"}\n'
    Path("pylock.toml").write_bytes(text.replace("\n", "\r\n").encode())
    code, out, _ = check(capsys, "pylock.toml")
    assert code == 1
    assert found(out) == ["5:2: HP005"]


# -- Every format ---------------------------------------------------------------------------

FORMATS_LOCK = (
    HEAD
    + '[[packages]]\nname = "alpha"\nversion = "1.0"\n[[packages.wheels]]\n'
    + f'name = "{ALPHA_WHEEL.filename}"\n'
    + f'url = "https://x.example/{ALPHA_WHEEL.filename}"\n'
    + '  [[packages]]\n  name = "tool"\n  vcs = {type = "git", url = "https://g.example/t"}\n'
)


def test_every_format_carries_the_position(capsys: pytest.CaptureFixture[str]) -> None:
    write(FORMATS_LOCK)
    expected = [(7, 1, "HP002", "error"), (11, 3, "HP004", "error")]
    code, out, _ = check(capsys, "pylock.toml")
    assert code == 1
    assert out.splitlines() == [
        f"pylock.toml:7:1: HP002 wheel {ALPHA_WHEEL.filename} of alpha has no hashes",
        "pylock.toml:11:3: HP004 tool comes from a git repository (https://g.example/t), which "
        "cannot be hashed; and it has no commit-id, without which pip refuses the file",
        "Found 2 errors and 0 warnings.",
    ]

    document = json.loads(check(capsys, "--format", "json", "pylock.toml")[1])
    (entry,) = document["files"]
    assert entry["path"] == "pylock.toml"
    assert [
        (f["line"], f["column"], f["code"], f["severity"]) for f in entry["findings"]
    ] == expected
    first = entry["findings"][0]
    assert first == {
        "line": 7,
        "column": 1,
        "end_line": 7,
        "column_line": 7,
        "code": "HP002",
        "rule": "unhashed",
        "severity": "error",
        "requirement": "alpha",
        "message": f"wheel {ALPHA_WHEEL.filename} of alpha has no hashes",
        "fixable": False,
    }
    assert document["summary"] == {"files": 1, "errors": 2, "warnings": 0}

    github = check(capsys, "--format", "github", "pylock.toml")[1].splitlines()
    assert [line.split("::")[1] for line in github] == [
        "error file=pylock.toml,line=7,col=1,endLine=7,title=HP002 unhashed",
        "error file=pylock.toml,line=11,col=3,endLine=11,title=HP004 vcs",
    ]

    sarif = json.loads(check(capsys, "--format", "sarif", "pylock.toml")[1])
    results = sarif["runs"][0]["results"]
    assert [
        (
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
            r["ruleId"],
            r["level"],
        )
        for r in results
    ] == expected
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "pylock.toml"
    }
    rules = {rule["id"]: rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["HP305"]["name"] == "no-file-for-environment"


def test_the_json_report_names_the_lock_file_like_any_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(FORMATS_LOCK, "deps/pylock.toml")
    write(f"a==1 --hash=sha256:{H}\nb==2\n", "requirements.txt")
    code, out, _ = check(capsys, "--format", "json", "requirements.txt", "deps/pylock.toml")
    assert code == 1
    document = json.loads(out)
    assert [entry["path"] for entry in document["files"]] == [
        "requirements.txt",
        "deps/pylock.toml",
    ]
    assert [f["code"] for f in document["files"][0]["findings"]] == ["HP002"]
    assert [(f["code"], f["requirement"]) for f in document["files"][1]["findings"]] == [
        ("HP002", "alpha"),
        ("HP004", "tool"),
    ]
    assert document["summary"] == {"files": 2, "errors": 3, "warnings": 0}


def test_settings_apply_to_lock_findings(capsys: pytest.CaptureFixture[str]) -> None:
    write(FORMATS_LOCK)
    code, out, _ = check(capsys, "--ignore", "vcs", "--severity", "HP002=warning", "pylock.toml")
    assert code == 0
    assert found(out) == ["7:1: HP002"]
    assert "Found 0 errors and 1 warning." in out
    assert check(capsys, "--select", "HP301", "pylock.toml") == (0, "", "")


# -- Suppressions ----------------------------------------------------------------------------


def test_a_suppression_comment_on_the_line_of_the_entry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = (
        HEAD + '[[packages]]\nname = "alpha"\n[[packages.wheels]]\n'
        f'name = "{ALPHA_WHEEL.filename}"  # hashpin: ignore[HP002]\n'
        f'url = "https://x.example/{ALPHA_WHEEL.filename}"\n'
        '[[packages]]  # hashpin: ignore[vcs]\nname = "tool"\n'
        'vcs = {type = "git", url = "https://g.example/t", commit-id = "abc"}\n'
        '[[packages]]\nname = "mine"\n'
        'directory = {path = "src"}  # reviewed; hashpin: ignore\n'
        f"wheels = [{wheel_entry(ALPHA_WHEEL)}]  # hashpin: ignore[HP003]\n"
    )
    write(text)
    code, out, _ = check(capsys, "pylock.toml")
    # The vcs finding is on the vcs line, not the header's: that comment suppresses nothing.
    assert found(out) == [
        "8:1: HP108",
        "10:1: HP004",
        "11:1: HP000",  # mine: directory and wheels
        "14:1: HP108",
        "14:12: HP301",
    ]
    assert "'hashpin: ignore[vcs]' suppresses nothing on this line" in out
    assert "'hashpin: ignore[HP003]' suppresses nothing on this line" in out
    assert code == 1


def test_a_comment_inside_a_string_suppresses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    write(HEAD + '[[packages]]\nname = "mine"\ndirectory = {path = "src # hashpin: ignore"}\n')
    code, out, _ = check(capsys, "pylock.toml")
    assert (code, found(out)) == (1, ["5:1: HP005"])


# -- fix, --online, and the result cache ------------------------------------------------------


def fix(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["fix", "--isolated", "--no-cache", "--offline", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_online_asks_about_lock_files_too(capsys: pytest.CaptureFixture[str]) -> None:
    write(FORMATS_LOCK)
    code = main(["check", "--isolated", "--no-cache", "--online", "--offline", "pylock.toml"])
    captured = capsys.readouterr()
    assert code == 1
    assert found(captured.out) == ["7:1: HP002", "11:3: HP004"]  # the offline rules still
    assert "is not in the cache (--offline)" in captured.err  # and it tried to ask


def test_the_result_cache_records_the_lock_file(capsys: pytest.CaptureFixture[str]) -> None:
    write(HEAD + "packages = []\n")
    workspace = load(["pylock.toml"])
    inputs = Inputs()
    inputs.record(workspace, {})
    assert list(inputs.files) == [os.path.abspath("pylock.toml")]

    def cached() -> tuple[int, str]:
        code = main(["check", "--isolated", "--cache-dir", "cache", "pylock.toml"])
        return code, capsys.readouterr().out

    assert cached() == (0, "")
    assert cached() == (0, "")
    assert list(Path("cache").rglob("*.json"))  # stored
    write(FORMATS_LOCK)  # the same command line, another lock file: not the stored answer
    code, out = cached()
    assert code == 1 and found(out) == ["7:1: HP002", "11:3: HP004"]


def test_checking_requirements_imports_no_toml_reader_or_writer(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(f"a==1 --hash=sha256:{H}\nb==2\n")
    probe = (
        "import sys\nfrom hashpin.cli import main\n"
        "code = main(['check', 'requirements.txt'])\n"
        "modules = ('tomllib', 'tomli', 'tomlkit', 'hashpin.pylock', 'hashpin.lockfix',"
        " 'hashpin.export', 'hashpin.onlinelock')\n"
        "print(sorted(m for m in modules if m in sys.modules),"
        " code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "hooks"), "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.stdout.splitlines()[-1] == "[] 1", result.stderr
    # ... and checking a lock file does load them (the probe would see them).
    (tmp_path / "pylock.toml").write_text(HEAD + "packages = []\n")
    result = subprocess.run(
        [sys.executable, "-c", probe.replace("requirements.txt", "pylock.toml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.splitlines()[-1] == "['hashpin.pylock', 'tomllib'] 0", result.stderr


# -- What is an error is what pip refuses ----------------------------------------------------


def refused_cases(url: str) -> dict[str, tuple[str, str, str]]:
    """(lock file, code hashpin reports, what pip says) for the local index at ``url``."""

    def wheel(dist: Dist, **overrides: str) -> str:
        fields = {
            "name": f'"{dist.filename}"',
            "url": f'"{url}/files/{dist.filename}"',
            "hashes": f'{{sha256 = "{dist.sha256}"}}',
            **overrides,
        }
        return "{" + ", ".join(f"{key} = {value}" for key, value in fields.items()) + "}"

    def package(name: str, *lines: str) -> str:
        return f'[[packages]]\nname = "{name}"\nversion = "2.0"\n' + "".join(
            line + "\n" for line in lines
        )

    bravo = f"wheels = [{wheel(BRAVO_PURE)}]"
    cases = {
        "duplicate": (HEAD + package("bravo-lib", bravo) * 2, "HP000", "Multiple packages"),
        "not-normalized": (
            HEAD + package("Bravo_Lib", bravo),
            "HP000",
            "is not normalized",
        ),
        "no-created-by": (
            'lock-version = "1.0"\n' + package("bravo-lib", bravo),
            "HP000",
            "created-by",
        ),
        "unhashed": (
            HEAD + package("bravo-lib", f"wheels = [{wheel(BRAVO_PURE, hashes='{}')}]"),
            "HP002",
            "At least one hash",
        ),
        "unknown-hash-algorithm": (
            HEAD
            + package(
                "bravo-lib",
                f'wheels = [{wheel(BRAVO_PURE, hashes=f"""{{sha256 = "{BRAVO_PURE.sha256}", sha257 = "00"}}""")}]',
            ),
            "HP303",
            "Unknown hash name: sha257",
        ),
        "mismatched-artifact": (
            HEAD + package("bravo-lib", f"wheels = [{wheel(ALPHA_WHEEL)}]"),
            "HP301",
            "is not consistent with package name",
        ),
        "invalid-marker": (
            HEAD + package("bravo-lib", 'marker = "os_name ="', bravo),
            "HP304",
            "Invalid pylock file",
        ),
        "two-sources": (
            HEAD + package("bravo-lib", bravo, 'directory = {path = "."}'),
            "HP000",
            "None of vcs, directory, archive must be set",
        ),
    }
    if sys.platform == "linux":
        cases["no-file-for-environment"] = (
            "environments = [\"sys_platform == 'linux'\"]\n"
            + HEAD
            + f'[[packages]]\nname = "delta"\nversion = "1.0"\nwheels = [{wheel(WINDOWS_ONLY)}]\n',
            "HP305",
            "No wheel found matching the provided tags",
        )
    return cases


REFUSED = [
    "duplicate",
    "not-normalized",
    "no-created-by",
    "unhashed",
    "unknown-hash-algorithm",
    "mismatched-artifact",
    "invalid-marker",
    "two-sources",
    "no-file-for-environment",
]


@pytest.mark.parametrize("case", REFUSED)
def test_pip_refuses_what_hashpin_calls_an_error(
    case: str, server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = refused_cases(server.url)
    if case not in cases:
        pytest.skip("pip installs these wheels on Linux only")
    text, code, says = cases[case]
    write(text)
    status, out, _ = check(capsys, "pylock.toml")
    assert status == 1 and code in [line.split()[-1] for line in found(out)], out
    result = pip_install(tmp_path / "pylock.toml", server.index_url, tmp_path / "target")
    assert result.returncode != 0, result.stdout
    assert says in result.stderr


def test_pip_installs_a_hand_made_lock_that_checks_clean(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = f'{{name = "{BRAVO_PURE.filename}", url = "{server.url}/files/{BRAVO_PURE.filename}", hashes = {{sha256 = "{BRAVO_PURE.sha256.upper()}"}}}}'
    write(
        HEAD + "environments = [\"os_name == 'posix'\", \"os_name == 'nt'\"]\n"
        f'[[packages]]\nname = "bravo-lib"\nversion = "2.0"\nwheels = [{wheel}]\n'
        f'[[packages]]\nname = "bravo-lib"\nmarker = "python_version < \'3\'"\n'
        f"wheels = [{wheel}]\n"
    )
    assert check(capsys, "pylock.toml") == (0, "", "")
    result = pip_install(tmp_path / "pylock.toml", server.index_url, tmp_path / "target")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "target" / "bravo_lib" / "__init__.py").exists()


# -- Positions, for any layout of the document --------------------------------------------------

_BARE = st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True)
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("#[]{}=,\"' \t"),
    max_size=12,
)
_LITERAL = _TEXT.filter(lambda text: "'" not in text)


def _basic(text: str) -> str:
    """``text`` as a TOML basic string."""
    return json.dumps(text, ensure_ascii=False)


def _key(name: str, quoted: bool) -> str:
    return json.dumps(name) if quoted else name


@st.composite
def lock_documents(draw: st.DrawFn) -> str:
    """A lock file in a random TOML layout: headers or inline tables, dotted or quoted keys,
    comments, blank lines, multi-line strings and arrays."""
    pad = draw(st.sampled_from(["", " ", "  ", "\t"]))
    comment = draw(st.sampled_from(["", "  # c", " #[[packages]] = {"]))
    lines = [HEAD.rstrip("\n")]
    if draw(st.booleans()):
        lines.append(f"tool.note = '''\n[[packages]]\n# {draw(_LITERAL)}'''")
    for number in range(draw(st.integers(1, 3))):
        lines.append(draw(st.sampled_from(["", "# between"])))
        lines.append(f"{pad}[[packages]]{comment}")
        lines.append(f'{pad}{_key("name", draw(st.booleans()))} = "p{number}"{comment}')
        if draw(st.booleans()):
            lines.append(f"{pad}tool.{draw(_BARE)} = {_basic(draw(_TEXT))}")
        style = draw(st.sampled_from(["inline", "multiline", "headers"]))
        count = draw(st.integers(0, 2))
        digest = json.dumps(H)
        if style == "headers":
            for wheel in range(count):
                lines.append(f"{pad}[[packages.wheels]]{comment}")
                lines.append(f'{pad}url = "https://x/p{number}-{wheel}.whl"')
                if draw(st.booleans()):
                    lines.append(f"[packages.wheels.hashes]\n{pad}sha256 = {digest}{comment}")
                else:
                    lines.append(f"{pad}hashes.{_key('sha256', draw(st.booleans()))} = {digest}")
        else:
            entries = [
                f'{{ name = "p{number}-{wheel}.whl", hashes = {{ sha256 = {digest} }} }}'
                for wheel in range(count)
            ]
            joiner = ", " if style == "inline" else f",{comment}\n{pad}  "
            lines.append(f"{pad}wheels = [{joiner.join(entries)}]{comment}")
    return "\n".join(lines) + "\n"


def _leaves(value: object, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


@settings(max_examples=150, deadline=None)
@given(lock_documents())
def test_every_key_and_table_is_found_where_it_is_written(text: str) -> None:
    document = tomllib.loads(text)
    positions = Positions(text)
    lines = text.split("\n")
    for path in _leaves(document, ()):
        assert positions.has(path), path
        line, column = positions.find(path)
        at = lines[line - 1][column - 1 :]
        last = path[-1]
        if isinstance(last, int):  # an element: every array here holds tables
            assert at.startswith(("[[packages", "{")), (path, at)
        else:  # a key, or a table at its header
            assert at.startswith((last, json.dumps(last), "[")), (path, at)
    assert set(positions.comments.values()) <= {" c", "[[packages]] = {", " between"}
