"""Which files hashpin checks: discovery, the hooks' regexes, refusals, standard input.

The hooks' ``files``/``exclude`` (``.pre-commit-hooks.yaml``, read with pre-commit's own
manifest loader) and ``hashpin check`` without paths must select the same files; the
table ``PATHS`` is classified by both, and built as a tree that discovery searches.
tests/test_discovery_precommit.py runs the real pre-commit on the same table.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hashpin import discover
from hashpin.cli import main

ROOT = Path(__file__).resolve().parents[1]
GARBAGE = "<<<garbage>>> ::: not a requirement\n"
H1 = "a" * 64

# (path from the top of the project, whether the hook and discovery select it)
PATHS = [
    ("requirements.txt", True),
    ("requirements-dev.txt", True),
    ("requirements_test.txt", True),
    ("requirements.dev.txt", True),
    ("sub/requirements-dev.txt", True),
    ("a/b/c/requirements.txt", True),
    ("dev-requirements.txt", True),
    ("sub/test_requirements.txt", True),
    ("requirements/base.txt", True),
    ("requirements/extra/a.txt", True),
    ("sub/requirements/deep/er/x.txt", True),
    ("constraints.txt", True),
    ("constraints-py311.txt", True),
    ("ci/constraints.txt", True),
    ("builds/requirements.txt", True),
    ("mybuild/requirements.txt", True),
    ("venv2/requirements.txt", True),
    ("requirements.in", False),
    ("requirements.txt.bak", False),
    ("other/requirements", False),
    ("requirements/notes.md", False),
    ("devrequirements.txt", False),
    ("myrequirements.txt", False),
    ("xconstraints.txt", False),
    ("upper/Requirements.txt", False),
    ("docs/notes.txt", False),
    ("pyproject.toml", False),
    ("setup.cfg", False),
    ("pylock.toml", True),  # PEP 751 lock files
    ("pylock.dev.toml", True),
    ("sub/pylock.toml", True),
    ("pylock-dev.toml", False),
    ("Pylock.toml", False),
    (".git/requirements.txt", False),
    (".hg/requirements.txt", False),
    (".venv/requirements.txt", False),
    ("venv/lib/requirements.txt", False),
    ("node_modules/pkg/requirements.txt", False),
    ("lib/site-packages/pkg/requirements.txt", False),
    ("build/requirements.txt", False),
    ("sub/dist/requirements.txt", False),
    ("requirements/build/x.txt", False),
    ("pkg/__pycache__/requirements.txt", False),
    (".tox/py311/requirements.txt", False),
    (".nox/requirements.txt", False),
    (".mypy_cache/requirements.txt", False),
    (".pytest_cache/requirements.txt", False),
    (".ruff_cache/requirements.txt", False),
    (".eggs/requirements.txt", False),
    ("src/pkg.egg-info/requirements.txt", False),
]
WANTED = sorted(path for path, wanted in PATHS if wanted)


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No result cache or git configuration of this machine; not inside any work tree."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in list(os.environ):
        if name.startswith("GIT_") and name not in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
            monkeypatch.delenv(name)
    if any((parent / ".git").exists() for parent in tmp_path.parents):
        pytest.skip("the temporary folder is inside a git work tree")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "--isolated", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def reported(out: str) -> list[str]:
    """The files of a text report, in order."""
    paths: list[str] = []
    for line in out.splitlines():
        match = re.match(r"(.+?):\d+:\d+: HP\d{3} ", line)
        if match and match.group(1) not in paths:
            paths.append(match.group(1))
    return paths


def build(root: Path, paths: list[str], text: str = GARBAGE) -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def has_git() -> bool:
    try:
        return subprocess.run(["git", "--version"], capture_output=True).returncode == 0
    except OSError:
        return False


needs_git = pytest.mark.skipif(not has_git(), reason="git is not installed")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


# -- One table: the hooks' regexes and discovery ---------------------------------------


def _manifest() -> list[dict[str, object]]:
    clientlib = importlib.import_module("pre_commit.clientlib")
    hooks: list[dict[str, object]] = clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    return hooks


def test_the_hooks_regexes_are_the_discovery_table() -> None:
    hooks = _manifest()
    assert [hook["id"] for hook in hooks] == [
        "hashpin-check",
        "hashpin-fix",
        "hashpin-check-online",
    ]
    for hook in hooks:
        assert hook["files"] == discover.files_regex(), "run: python -m hashpin.discover"
        assert hook["exclude"] == discover.exclude_regex(), "run: python -m hashpin.discover"
        assert hook["types"] == ["text"]


@pytest.mark.parametrize(("path", "expected"), PATHS)
def test_the_hook_and_discovery_classify_every_path_alike(path: str, expected: bool) -> None:
    for hook in _manifest():
        # What pre-commit does with a file's path from the top of the repository.
        selected = bool(re.search(str(hook["files"]), path)) and not re.search(
            str(hook["exclude"]), path
        )
        assert selected is expected, hook["id"]
    assert discover.wanted(path) is expected


def test_the_names_are_the_documented_ones() -> None:
    assert discover.NAMES == (
        "requirements*.txt",
        "*-requirements.txt",
        "*_requirements.txt",
        "requirements/**/*.txt",
        "constraints*.txt",
        "pylock.toml",
        "pylock.*.toml",
    )
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Which files") : readme.index("## `hashpin check`")]
    for glob in (*discover.NAMES, *discover.SKIPPED_FOLDERS, discover.VENV_MARKER):
        assert f"`{glob}`" in section, glob
    assert "(#which-files)" in readme[readme.index("## `hashpin check`") :]


def test_a_glob_becomes_a_regex() -> None:
    assert discover.glob_regex("pylock.*.toml") == r"pylock\.[^/]*\.toml"
    assert discover.glob_regex("a/**/b+(c)") == r"a/(?:[^/]+/)*b\+\(c\)"
    assert re.fullmatch(discover.glob_regex("requirements/**/*.txt"), "requirements/x.txt")


def _tree_without_git(paths: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    return [(path, wanted) for path, wanted in paths if not path.startswith(".git/")]


def test_discovery_outside_git_finds_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    build(project, [path for path, _ in _tree_without_git(PATHS)])
    monkeypatch.chdir(project)
    assert discover.find(".") == WANTED
    code, out, err = run(capsys)
    assert code == 1 and err == ""
    assert reported(out) == WANTED


@needs_git
def test_discovery_in_a_work_tree_finds_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    build(project, [path for path, _ in _tree_without_git(PATHS)])
    monkeypatch.chdir(project)
    assert discover.find(".") == WANTED  # untracked, not ignored
    git(project, "add", "-A")
    assert discover.find(".") == WANTED  # tracked
    code, out, _ = run(capsys)
    assert code == 1 and reported(out) == WANTED


# -- The cases of the brief -------------------------------------------------------------


def test_a_file_in_a_subfolder_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["sub/requirements-dev.txt"], "a==1\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys)
    assert (code, err) == (1, "")
    assert out.startswith("sub/requirements-dev.txt:1:1: HP002 [*] a has no --hash\n")


def test_a_folder_is_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["sub/requirements.txt", "sub/x/dev-requirements.txt", "requirements.txt"])
    build(tmp_path, ["sub/requirements/extra/a.txt", "sub/notes.txt"])
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "sub")
    assert code == 1
    assert reported(out) == [
        os.path.join("sub", "requirements.txt"),
        os.path.join("sub", "requirements", "extra", "a.txt"),
        os.path.join("sub", "x", "dev-requirements.txt"),
    ]
    # Given with a trailing slash, or as an absolute path, or as '.': the same files.
    assert reported(run(capsys, "sub/")[1]) == reported(out)
    absolute = reported(run(capsys, str(tmp_path / "sub"))[1])
    assert absolute == [str(tmp_path / path) for path in reported(out)]
    monkeypatch.chdir(tmp_path / "sub")
    assert reported(run(capsys, ".")[1]) == [
        "requirements.txt",
        os.path.join("requirements", "extra", "a.txt"),
        os.path.join("x", "dev-requirements.txt"),
    ]


def test_a_requirements_folder_given_is_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["requirements/base.txt", "requirements/extra/a.txt"])
    monkeypatch.chdir(tmp_path / "requirements" / "extra")
    assert reported(run(capsys)[1]) == ["a.txt"]
    monkeypatch.chdir(tmp_path)
    assert reported(run(capsys, "requirements/extra")[1]) == [
        os.path.join("requirements/extra", "a.txt")
    ]


@needs_git
def test_in_a_work_tree_names_are_matched_from_its_top(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A folder named `requirements` above the work tree is not part of the project.
    project = tmp_path / "requirements" / "project"
    project.mkdir(parents=True)
    git(project, "init", "-q")
    build(project, ["notes.txt", "requirements/extra/a.txt", "requirements.txt"])
    monkeypatch.chdir(project / "requirements" / "extra")
    assert reported(run(capsys)[1]) == ["a.txt"]
    monkeypatch.chdir(project)
    assert reported(run(capsys)[1]) == [
        "requirements.txt",
        os.path.join("requirements", "extra", "a.txt"),
    ]


def test_skipped_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(
        tmp_path,
        [
            "requirements.txt",
            "env1/requirements.txt",  # a virtualenv by its pyvenv.cfg, whatever its name
            "env1/sub/requirements.txt",
            ".venv/requirements.txt",  # by name, even without pyvenv.cfg
            "venv/requirements.txt",
            "pkg/node_modules/x/requirements.txt",
            "lib/python3.11/site-packages/p/requirements.txt",
            "build/requirements.txt",
            "dist/requirements.txt",
            "__pycache__/requirements.txt",
            ".tox/requirements.txt",
            "x.egg-info/requirements.txt",
        ],
    )
    (tmp_path / "env1" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.chdir(tmp_path)
    assert discover.find(".") == ["requirements.txt"]
    # A skipped folder given explicitly is searched (what is below it is still skipped).
    assert discover.find("build") == [os.path.join("build", "requirements.txt")]
    assert discover.find("env1") == [
        os.path.join("env1", "requirements.txt"),
        os.path.join("env1", "sub", "requirements.txt"),
    ]


@needs_git
def test_git_ignored_files_are_skipped_in_a_work_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("ignored/\nsecret-requirements.txt\nforced*.txt\n")
    build(
        tmp_path,
        [
            "requirements.txt",  # untracked, not ignored
            "ignored/requirements.txt",
            "secret-requirements.txt",
            "sub/secret-requirements.txt",
            "forced-requirements.txt",  # ignored, but tracked: git lists it
        ],
    )
    git(tmp_path, "add", "-f", "forced-requirements.txt")
    nested = tmp_path / "nested"  # another repository: git does not enter it
    nested.mkdir()
    git(nested, "init", "-q")
    build(nested, ["requirements.txt"])
    monkeypatch.chdir(tmp_path)
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args: list[str], **kwargs: object) -> object:
        calls.append(list(args))
        return real_run(args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counting_run)
    code, out, err = run(capsys)
    assert (code, err) == (1, "")
    assert reported(out) == ["forced-requirements.txt", "requirements.txt"]
    assert calls == [["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]]
    calls.clear()
    assert reported(run(capsys, "nested")[1]) == [os.path.join("nested", "requirements.txt")]
    # An ignored folder given explicitly: git lists nothing in it.
    assert run(capsys, "ignored")[0] == 2


def test_outside_git_no_subprocess_and_nothing_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".gitignore").write_text("secret-requirements.txt\n")
    build(tmp_path, ["requirements.txt", "secret-requirements.txt"])
    monkeypatch.chdir(tmp_path)

    def no_run(*args: object, **kwargs: object) -> object:
        raise AssertionError("no subprocess outside a work tree")

    monkeypatch.setattr(subprocess, "run", no_run)
    assert reported(run(capsys)[1]) == ["requirements.txt", "secret-requirements.txt"]


@needs_git
def test_without_git_the_work_tree_is_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("secret-requirements.txt\n")
    build(
        tmp_path, ["requirements.txt", "secret-requirements.txt", "node_modules/requirements.txt"]
    )
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no git to be found
    code, out, err = run(capsys)
    assert (code, err) == (1, "")
    assert reported(out) == ["requirements.txt", "secret-requirements.txt"]


def test_a_broken_git_folder_is_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").write_text("gitdir: /nowhere/at/all\n")  # git refuses it
    build(tmp_path, ["requirements.txt", "sub/requirements.txt"])
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys)
    assert (code, err) == (1, "")
    assert reported(out) == ["requirements.txt", os.path.join("sub", "requirements.txt")]


def test_the_order_is_sorted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["z/requirements.txt", "requirements.txt", "a/requirements.txt", "requirements-b.txt"]
    names += [f"m{n}/requirements.txt" for n in (3, 1, 2)]
    build(tmp_path, names)
    monkeypatch.chdir(tmp_path)
    found = discover.find(".")
    assert found == sorted(found) == sorted(name.replace("/", os.sep) for name in names)


def test_a_deep_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "/".join(["d"] * 300)
    build(tmp_path, [f"{deep}/requirements.txt"])
    monkeypatch.chdir(tmp_path)
    assert discover.find(".") == [os.path.join(*deep.split("/"), "requirements.txt")]


def test_nothing_found_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["docs/notes.txt", "empty/pyproject.toml"])
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys)
    assert (code, out) == (2, "")
    assert err == (
        "hashpin: error: no files given, and no requirements files here (requirements*.txt, "
        "*-requirements.txt, *_requirements.txt, requirements/**/*.txt, constraints*.txt, "
        "pylock.toml, pylock.*.toml)\n"
    )
    code, out, err = run(capsys, "empty")
    assert (code, out) == (2, "")
    assert err.startswith("hashpin: error: no requirements files in empty (requirements*.txt")
    assert err.count("\n") == 1


def test_a_folder_named_like_a_file_is_reported_as_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").mkdir()
    build(tmp_path, ["requirements.txt/requirements.txt"])
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "requirements.txt")
    assert code == 1
    assert out.startswith("requirements.txt:1:1: HP000 is a directory, not a requirements file")
    # When searching, it is only a folder, searched like any other.
    assert discover.find(".") == [os.path.join("requirements.txt", "requirements.txt")]


def test_exclude_applies_to_found_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["requirements.txt", "vendor/requirements.txt"])
    monkeypatch.chdir(tmp_path)
    assert reported(run(capsys, "--exclude", "vendor/*")[1]) == ["requirements.txt"]


def test_a_folder_is_searched_for_fix_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["sub/requirements.txt"], f"a==1 --hash=sha256:{H1}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "--isolated", "--offline", "--no-cache", "--dry-run", "sub"]) == 0
    assert capsys.readouterr().err == ""
    build(tmp_path, ["empty/notes.txt"])
    assert main(["fix", "--isolated", "--offline", "--no-cache", "empty"]) == 2
    assert "no requirements files in empty" in capsys.readouterr().err


# -- Nothing may hang or print a traceback ----------------------------------------------


@needs_fifo
@pytest.mark.parametrize("in_git", [False, True], ids=["walk", "git"])
def test_a_fifo_in_the_tree_is_never_opened(tmp_path: Path, in_git: bool) -> None:
    if in_git:
        if not has_git():
            pytest.skip("git is not installed")
        git(tmp_path, "init", "-q")
    build(tmp_path, ["requirements.txt"], "a==1\n")
    os.mkfifo(tmp_path / "requirements-fifo.txt")
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / "requirements.txt")
    result = hashpin_process(tmp_path, "check", "--isolated")
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert reported(result.stdout) == ["requirements.txt"]


def test_broken_symlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["real.txt"], "a==1\n")
    try:
        os.symlink("nowhere.txt", tmp_path / "requirements.txt")
        os.symlink("real.txt", tmp_path / "requirements-link.txt")
        os.symlink("nowhere", tmp_path / "requirements", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    monkeypatch.chdir(tmp_path)
    # Found: nothing (links are not followed); given: the reader's finding.
    code, out, err = run(capsys)
    assert code == 2 and "no requirements files here" in err
    code, out, err = run(capsys, "requirements.txt")
    assert code == 1 and err == ""
    assert out.startswith("requirements.txt:1:1: HP000 cannot read file: No such file")
    code, out, _ = run(capsys, "requirements-link.txt")
    assert code == 1 and out.startswith("requirements-link.txt:1:1: HP002")


def test_an_unreadable_folder_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["requirements.txt", "locked/requirements.txt"], "a==1\n")
    monkeypatch.chdir(tmp_path)
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(os.path.normpath(path)) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = run(capsys)
    assert code == 1 and reported(out) == ["requirements.txt"]
    assert err == (
        "hashpin: warning: cannot search locked: Permission denied; "
        "the files in it are not checked\n"
    )
    code, out, err = run(capsys, "locked")
    assert (code, out) == (2, "")
    assert err == "hashpin: error: cannot search locked: Permission denied\n"


def hashpin_process(cwd: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """hashpin as its own process: a hang fails the test instead of stopping it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "hooks")}
    completed = subprocess.run(
        [sys.executable, "-m", "hashpin", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return subprocess.CompletedProcess(
        completed.args,
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )


def test_no_traceback_for_odd_paths(tmp_path: Path) -> None:
    build(tmp_path, ["requirements.txt"], "a==1\n")
    (tmp_path / "empty").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
    odd = [
        ["missing.txt"],
        ["missing/"],
        ["requirements.txt/x"],  # below a file
        ["empty"],
        ["."],
        [".."],
        [""],
        ["-", "-"],
        ["missing.toml"],
        ["\udcff.txt"],
    ]
    if hasattr(os, "mkfifo"):
        odd.append(["pipe"])
    for args in odd:
        for command in ("check", "fix"):
            extra = ["--offline", "--no-cache"] if command == "fix" else []
            result = hashpin_process(tmp_path, command, "--isolated", *extra, *args)
            assert "Traceback" not in result.stderr, (command, args, result.stderr)
            assert result.returncode in (0, 1, 2), (command, args, result)


def test_given_files_start_no_discovery_and_no_subprocess(tmp_path: Path) -> None:
    build(tmp_path, ["deps.in", "requirements.txt"], "a==1\n")
    script = (
        "import sys\n"
        "from hashpin.cli import main\n"
        "code = main(['check', '--isolated', 'deps.in', 'requirements.txt'])\n"
        "print(sorted(m for m in ('subprocess', 'hashpin.discover', 'glob') if m in sys.modules),"
        " code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "hooks")}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.stdout.splitlines()[-1] == "[] 1", result.stderr


# -- Files that are something else ------------------------------------------------------

NAMES = "(requirements*.txt, *-requirements.txt, *_requirements.txt, requirements/**/*.txt, constraints*.txt, pylock.toml, pylock.*.toml)"
REFUSED = [
    ("pyproject.toml", '[project]\nname = "x"\n', "is a TOML file, not a requirements file"),
    ("sub/ruff.toml", "line-length = 100\n", "is a TOML file, not a requirements file"),
    ("uv.lock", "version = 1\n", "is a TOML file, not a requirements file"),
    ("Pipfile", "[packages]\n", "is a TOML file, not a requirements file"),
    ("setup.cfg", "[metadata]\n", "is setuptools' configuration (an INI file), not"),
    ("tox.ini", "[tox]\n", "is an INI file, not a requirements file"),
    ("package.json", "{}\n", "is a JSON file, not a requirements file"),
    ("environment.yml", "name: x\n", "is a YAML file, not a requirements file"),
    ("setup.py", "import setuptools\n", "is a Python file, not a requirements file"),
    (
        "deps",
        "# settings\n\n[metadata]\nname = x\n",
        "is not a requirements file: it starts with a [section] header, as INI and TOML files do",
    ),
    ("deps.txt", "[[tool.x]]  # c\n", "is not a requirements file: it starts with a [section]"),
    ("deps.in", '{"a": 1}\n', "is not a requirements file: it starts with a JSON object or array"),
    ("deps2.in", '[\n  "a"\n]\n', "is not a requirements file: it starts with a JSON object"),
    ("index.txt", "<html><body>\n", "is not a requirements file: it starts with a markup tag"),
]


@pytest.mark.parametrize(("name", "text", "what"), REFUSED)
def test_something_else_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    what: str,
) -> None:
    build(tmp_path, [name], text)
    build(tmp_path, ["requirements.txt"], "a==1\n")
    monkeypatch.chdir(tmp_path)
    for command in ("check", "fix"):
        code = main([command, "--isolated", "requirements.txt", name])
        captured = capsys.readouterr()
        assert (code, captured.out) == (2, ""), command
        assert captured.err.startswith(f"hashpin: error: {name} {what}"), captured.err
        assert captured.err.endswith(
            f"; give hashpin requirements files {NAMES}, or a folder to search for them\n"
        )
        assert captured.err.count("\n") == 1


def test_pyproject_toml_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pyproject.toml").write_text('[project]\nname = "x"\n[tool.ruff]\nline-length = 1\n')
    code, out, err = run(capsys, "pyproject.toml")
    assert (code, out) == (2, "")
    assert err == (
        "hashpin: error: pyproject.toml is a TOML file, not a requirements file; give hashpin "
        f"requirements files {NAMES}, or a folder to search for them\n"
    )


@pytest.mark.parametrize(
    "text", ["[metadata]\nname = x\n", '{"a": 1}\n', "<html>\n"], ids=["ini", "json", "html"]
)
def test_a_file_named_as_requirements_is_always_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    # Its name says what it is meant to be: what is wrong with it is a finding.
    path = tmp_path / "requirements-dev.txt"
    path.write_text(text)
    code, out, _ = run(capsys, str(path))
    assert code == 1 and out.startswith(f"{path}:1:1: HP000 ")


@needs_fifo
def test_a_fifo_named_like_toml_is_refused_unopened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(tmp_path / "pyproject.toml")
    os.mkfifo(tmp_path / "deps.in")
    code, _, err = run(capsys, str(tmp_path / "pyproject.toml"))
    assert code == 2 and "is a TOML file" in err
    code, out, _ = run(capsys, str(tmp_path / "deps.in"))
    assert code == 1 and "HP000 is a named pipe (FIFO)" in out


def test_the_toml_refusal_is_one_function() -> None:
    from hashpin.workspace import refusal, toml_refusal

    assert toml_refusal("pyproject.toml") == "is a TOML file"
    assert toml_refusal("pylock.toml") is None  # lock files are inputs
    assert toml_refusal("pylock.dev.toml") is None
    assert toml_refusal("pylock-dev.toml") == "is a TOML file"
    assert refusal("pylock.toml", b"[[packages]]\n") is None  # not refused for its header
    assert toml_refusal("requirements.txt") is None
    assert refusal("requirements.in") is None  # missing: the reader says so


# -- Standard input ---------------------------------------------------------------------


def feed(monkeypatch: pytest.MonkeyPatch, data: bytes) -> io.BytesIO:
    raw = io.BytesIO(data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw))
    return raw


def test_stdin_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    feed(monkeypatch, b"a==1\n")
    code, out, err = run(capsys, "-")
    assert (code, err) == (1, "")
    assert (
        out == "<stdin>:1:1: HP002 [*] a has no --hash\nFound 1 error and 0 warnings (1 fixable).\n"
    )
    feed(monkeypatch, b"a==1\n")
    document = json.loads(run(capsys, "--format", "json", "-")[1])
    assert [entry["path"] for entry in document["files"]] == ["<stdin>"]
    feed(monkeypatch, b"a==1\n")
    assert run(capsys, "--format", "github", "-")[1].startswith("::error file=<stdin>,line=1,")
    feed(monkeypatch, b"a==1\n")
    sarif = json.loads(run(capsys, "--format", "sarif", "-")[1])
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "<stdin>"}


def test_stdin_includes_are_taken_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["sub/more.txt"], "b==1\n")
    build(tmp_path, ["sub/c.txt"], f"c==1 --hash=sha256:{H1}\n")
    monkeypatch.chdir(tmp_path)
    feed(monkeypatch, b"-r sub/more.txt\n-c sub/c.txt\nc==1\n-r missing.txt\n")
    code, out, _ = run(capsys, "-", "sub/more.txt")
    assert code == 1
    assert out.splitlines()[:-1] == [
        "<stdin>:4:1: HP000 cannot open requirements file missing.txt: no such file",
        "sub/more.txt:1:1: HP002 [*] b has no --hash",
    ]


def test_stdin_with_files_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["requirements.txt"], "a==1\n")
    monkeypatch.chdir(tmp_path)
    feed(monkeypatch, b"b==1\n")
    code, out, _ = run(capsys, "requirements.txt", "-", "-")
    assert code == 1
    assert reported(out) == ["requirements.txt", "<stdin>"]


def test_stdin_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    feed(monkeypatch, b"a==1\n")
    assert main(["check", "-"]) == 1
    capsys.readouterr()
    feed(monkeypatch, f"a==1 --hash=sha256:{H1}\n".encode())
    assert main(["check", "-"]) == 0
    assert capsys.readouterr().out == ""


def test_stdin_that_is_something_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    feed(monkeypatch, b'[project]\nname = "x"\n')
    code, out, err = run(capsys, "-")
    assert (code, out) == (2, "")
    assert err.startswith(
        "hashpin: error: <stdin> is not a requirements file: it starts with a [section] header"
    )
    assert err.count("\n") == 1


def test_stdin_too_large_or_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    feed(monkeypatch, b"a" * (17 * 1024 * 1024))
    code, out, err = run(capsys, "-")
    assert (code, out) == (2, "")
    assert err.startswith("hashpin: error: cannot read standard input: file is over 16.0 MiB")
    monkeypatch.setattr(sys, "stdin", None)
    code, out, err = run(capsys, "-")
    assert (code, out) == (2, "")
    assert err == "hashpin: error: cannot read standard input: standard input is closed\n"


def test_fix_refuses_stdin_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path, ["requirements.txt"], "a==1\n")
    monkeypatch.chdir(tmp_path)
    raw = feed(monkeypatch, b"a==1\n")
    code = main(["fix", "--isolated", "--offline", "requirements.txt", "-"])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err == (
        "hashpin: error: fix cannot write back to standard input ('-'); give it the files "
        "(hashpin check - reads standard input)\n"
    )
    assert raw.tell() == 0
    assert (tmp_path / "requirements.txt").read_text() == "a==1\n"


def test_stdin_through_a_pipe(tmp_path: Path) -> None:
    result = hashpin_process(tmp_path, "check", "--isolated", "-", stdin=b"a>=1\r\n")
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == [
        "<stdin>:1:1: HP001 a>=1 is not pinned to one version (use ==)",
        "<stdin>:1:1: HP002 a has no --hash",
    ]


def test_a_constraints_file_found_by_name_is_checked_as_one_but_pins_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "constraints.txt").write_text("a==1\nb>=2\n")  # pip-tools' constraints: no hashes
    assert main(["check", "--isolated", "--no-cache", "constraints.txt"]) == 0
    capsys.readouterr()
    (tmp_path / "constraints.txt").write_text("a==1 --hash=sha256:" + "a" * 64 + "\n")
    (tmp_path / "requirements.txt").write_text("a\n")
    # Found side by side, it is not a -c of requirements.txt: pip would refuse 'a' unpinned.
    assert main(["check", "--isolated", "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert "requirements.txt:1:1: HP001" in out and "constraints.txt" not in out
    (tmp_path / "requirements.txt").write_text("-c constraints.txt\na\n")
    assert main(["check", "--isolated", "--no-cache"]) == 0  # used as one, it pins and hashes
