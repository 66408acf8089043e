"""Hostile local input: devices, FIFOs, absurd numbers, deep nesting and unparsable URLs.

Each must end in one clear line (a finding, or an error with exit code 2), never a hang,
a traceback or all of memory. Whatever could hang or eat memory on a broken build runs in
a subprocess with a timeout and a memory limit, so that the test itself cannot.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import make_wheel
from indexserver import IndexServer

from hashpin.cache import Cache
from hashpin.cli import main
from hashpin.index import ProjectPage
from hashpin.workspace import NotAFile, TooLarge, read_limited

if TYPE_CHECKING:
    from collections.abc import Iterator

FOO = make_wheel("foo", "1.0")
DEEP = "[" * 100_000 + "]" * 100_000
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer({"foo": [FOO]}) as running:
        yield running


def hashed(requirement: str, digest: str) -> str:
    return f"{requirement} \\\n    --hash=sha256:{digest}\n"


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    limit = 2 << 30  # a build that reads /dev/zero dies here instead of taking the machine
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def hashpin(*args: str, timeout: float = 10) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run hashpin in a child that cannot outlive ``timeout`` or take much memory."""
    start = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hashpin", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_limit_memory if sys.platform == "linux" else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hashpin {' '.join(args)} still running after {timeout}s")
    return result, time.monotonic() - start


# -- A: devices, FIFOs and sockets are not read --------------------------------------------


@needs_dev_zero
def test_an_include_of_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    Path("requirements.txt").write_text("-r /dev/zero\nfoo==1.0\n")
    result, seconds = hashpin("check", "requirements.txt")
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == (
        "requirements.txt:1:1: HP000 cannot open requirements file /dev/zero: is a character device"
    )
    assert seconds < 5


@needs_fifo
def test_an_include_of_a_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo("pipe")
    Path("requirements.txt").write_text("foo==1.0\n-c pipe\n")
    result, seconds = hashpin("check", "requirements.txt")
    assert result.returncode == 1, result.stderr
    assert (
        "requirements.txt:2:1: HP000 cannot open constraints file pipe: is a named pipe (FIFO)"
        in result.stdout.splitlines()
    )
    assert seconds < 5


@needs_fifo
@needs_dev_zero
def test_a_fifo_or_device_on_the_command_line_is_one_finding(tmp_path: Path) -> None:
    os.mkfifo("pipe")
    result, seconds = hashpin("check", "pipe", "/dev/zero")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "pipe:1:1: HP000 is a named pipe (FIFO), not a requirements file",
        "/dev/zero:1:1: HP000 is a character device, not a requirements file",
    ]
    assert seconds < 5


@needs_fifo
def test_a_fifo_as_config_is_a_config_error(tmp_path: Path) -> None:
    os.mkfifo("pyproject.toml")
    Path("requirements.txt").write_text("foo==1.0\n")
    result, _ = hashpin("check", "--config", "pyproject.toml", "requirements.txt")
    assert result.returncode == 2
    assert result.stderr == "hashpin: error: pyproject.toml: cannot read: is a named pipe (FIFO)\n"


@pytest.mark.skipif(not hasattr(__import__("socket"), "AF_UNIX"), reason="no Unix sockets")
def test_an_include_of_a_socket_is_refused_at_the_include(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as server:
        server.bind("sock")
        Path("requirements.txt").write_text("-r sock\n")
        assert main(["check", "requirements.txt"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "requirements.txt:1:1: HP000 cannot open requirements file sock: is a socket"
    )


def test_the_limit_is_kept_while_reading(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"a" * 10)
    assert read_limited(str(path), limit=10) == b"a" * 10
    with pytest.raises(TooLarge):
        read_limited(str(path), limit=9)
    with pytest.raises(NotAFile, match="is a directory"):
        read_limited(str(tmp_path))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="no procfs")
def test_the_limit_holds_for_a_file_whose_size_is_wrong() -> None:
    # procfs files are regular files that report a size of 0: only reading tells.
    assert os.stat("/proc/self/status").st_size == 0
    assert b"Name:" in read_limited("/proc/self/status")
    with pytest.raises(TooLarge):
        read_limited("/proc/self/status", limit=10)


# -- B: clear errors instead of tracebacks -------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "1e300", "nan", "-1", "0", "-inf", "86401"])
def test_absurd_timeouts_are_usage_errors(
    server: IndexServer, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    Path("requirements.txt").write_text("foo==1.0\n")
    assert main(["fix", "-i", server.index_url, f"--timeout={value}", "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hashpin: error: invalid timeout ") and err.count("\n") == 1, err
    assert Path("requirements.txt").read_text() == "foo==1.0\n"


@pytest.mark.parametrize("variable", ["PIP_TIMEOUT", "PIP_DEFAULT_TIMEOUT"])
def test_an_absurd_pip_timeout_is_a_usage_error(
    server: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
) -> None:
    monkeypatch.setenv(variable, "1e300")
    Path("requirements.txt").write_text("foo==1.0\n")
    assert main(["fix", "-i", server.index_url, "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hashpin: error: invalid timeout '1e300'") and err.count("\n") == 1


def test_a_day_is_still_a_timeout(server: IndexServer) -> None:
    Path("requirements.txt").write_text("foo==1.0\n")
    assert main(["fix", "-i", server.index_url, "--timeout", "86400", "requirements.txt"]) == 1
    assert Path("requirements.txt").read_text() == hashed("foo==1.0", FOO.sha256)


def test_deeply_nested_config_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("pyproject.toml").write_text(f"[tool.hashpin]\nselect = {DEEP}\n")
    Path("requirements.txt").write_text("foo==1.0\n")
    assert main(["check", "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"hashpin: error: {tmp_path / 'pyproject.toml'}: invalid TOML: nested too deeply\n"
    )


@pytest.mark.parametrize(
    "entry",
    [DEEP, "[1, 2]", '"text"', "null", '{"url": 1}', '{"url": "x", "files": "none"}', "{"],
    ids=["deep", "list", "string", "null", "url not text", "files not a list", "truncated"],
)
def test_a_malformed_page_entry_is_a_miss(tmp_path: Path, entry: str) -> None:
    cache = Cache(str(tmp_path / "cache"))
    cache.store_page("https://example.invalid/simple/", "foo", ProjectPage("u", []))
    (stored,) = (tmp_path / "cache").rglob("*.page")
    stored.write_text(entry + "\n")  # as the head line
    assert cache.load_page("https://example.invalid/simple/", "foo") is None


@pytest.mark.parametrize(
    "entry",
    [
        DEEP,
        "[]",
        '{"url": "https://h/f.whl", "algorithm": "sha256", "digest": 5}',
        '{"url": "https://h/f.whl", "algorithm": "sha256", "digest": "zz"}',
        '{"url": "https://h/f.whl", "algorithm": "sha256", "digest": "%s\\n--pre"}' % ("a" * 64),
        '{"url": "https://h/other.whl", "algorithm": "sha256", "digest": "%s"}' % ("a" * 64),
    ],
    ids=["deep", "list", "digest not text", "not hex", "trailing text", "another URL"],
)
def test_a_malformed_digest_entry_is_a_miss(tmp_path: Path, entry: str) -> None:
    cache = Cache(str(tmp_path / "cache"))
    cache.store_digest("https://h/f.whl", "sha256", "a" * 64)
    assert cache.load_digest("https://h/f.whl", "sha256") == "a" * 64
    (stored,) = (tmp_path / "cache").rglob("*.json")
    stored.write_text(entry)
    assert cache.load_digest("https://h/f.whl", "sha256") is None


def test_a_deeply_nested_cache_is_only_a_miss_for_fix(server: IndexServer) -> None:
    server.digests = "none"  # so that digests are computed, and cached, too
    path = Path("requirements.txt")
    path.write_text("foo==1.0\n")
    assert main(["fix", "-i", server.index_url, "--cache-dir", "cache", str(path)]) == 1
    entries = [entry for entry in Path("cache").rglob("*") if entry.is_file()]
    assert len(entries) >= 2  # the page and the digest
    for entry in entries:
        entry.write_text(DEEP + "\n")
    path.write_text("foo==1.0\n")
    assert main(["fix", "-i", server.index_url, "--cache-dir", "cache", str(path)]) == 1
    assert path.read_text() == hashed("foo==1.0", FOO.sha256)


@pytest.mark.parametrize(
    ("lines", "where", "message"),
    [
        (
            "--index-url http://[::1\nfoo==1.0\n",
            "requirements.txt:1",
            "--index-url URL 'http://[::1'",
        ),
        (
            "foo==1.0\n--extra-index-url=http://[::1/simple\n",
            "requirements.txt:2",
            "--extra-index-url",
        ),
        ("-f http://[::1\nfoo==1.0\n", "requirements.txt:1", "--find-links URL 'http://[::1'"),
        ("foo==1.0\n-r more/extra.txt\n", "more/extra.txt:3", "--index-url"),
        (
            "-i http://token:s3cret@[::1\nfoo==1.0\n",
            "requirements.txt:1",
            "--index-url URL 'http://token:****@[::1'",
        ),
    ],
    ids=["index-url", "extra-index-url", "find-links", "in an include", "credentials hidden"],
)
def test_an_unparsable_url_in_a_file_is_a_one_line_error(
    server: IndexServer,
    capsys: pytest.CaptureFixture[str],
    lines: str,
    where: str,
    message: str,
) -> None:
    Path("more").mkdir()
    Path("more/extra.txt").write_text("# more\n\n-i http://[::1\n")
    Path("requirements.txt").write_text(lines)
    args = ["--extra-index-url", server.index_url, "--cache-dir", "cache"]
    code = main(["fix", *args, "requirements.txt"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"hashpin: error: {where}: invalid {message}"), err
    assert err.count("\n") == 1
    assert "Invalid IPv6 URL" in err and "s3cret" not in err
    assert Path("requirements.txt").read_text() == lines


@pytest.mark.parametrize(
    ("args", "env", "origin"),
    [
        (("-i", "http://[::1"), {}, "command line"),
        (("-f", "http://[::1"), {}, "command line"),
        ((), {"PIP_INDEX_URL": "http://[::1"}, "pip settings"),
        ((), {"PIP_EXTRA_INDEX_URL": "https://ok.invalid/ http://[::1"}, "pip settings"),
    ],
)
def test_an_unparsable_url_in_flags_or_settings_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    env: dict[str, str],
    origin: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    Path("requirements.txt").write_text("foo==1.0\n")
    assert main(["fix", "--offline", "--no-cache", *args, "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hashpin: error: {origin}") and err.count("\n") == 1, err
    assert "Invalid IPv6 URL" in err


# -- C: a local file's digest is never cached, whatever the scheme's case ------------------


@pytest.mark.parametrize("scheme", ["FILE", "File", "file"])
def test_a_local_file_is_hashed_again_after_it_changed(tmp_path: Path, scheme: str) -> None:
    before = make_wheel("demo", "1.0")
    after = make_wheel("demo", "1.0", requires_python=">=3")  # same name, other bytes
    assert before.sha256 != after.sha256
    wheel = before.write_to(tmp_path)
    url = scheme + wheel.as_uri()[len("file") :]
    first, second = Path("requirements.txt"), Path("requirements-new.txt")
    first.write_text(f"{url}\n")
    assert main(["fix", "--cache-dir", "cache", str(first)]) == 1
    assert first.read_text() == hashed(url, before.sha256)

    after.write_to(tmp_path)
    second.write_text(f"{url}\n")  # a fresh line for the same URL
    assert main(["fix", "--cache-dir", "cache", str(second)]) == 1
    assert second.read_text() == hashed(url, after.sha256)
    assert main(["fix", "--cache-dir", "cache", "--refresh-hashes", str(first)]) == 1
    assert first.read_text() == hashed(url, after.sha256)
    assert not [p for p in Path("cache").rglob("*") if p.is_file()]  # nothing about local files


def test_an_include_of_dev_null_is_the_empty_file_pip_reads(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r /dev/null\n")
    assert main(["check", "--isolated", "requirements.txt"]) == 0


# -- fix writes inside the work tree of the files it is given ---------------------------------


def test_fix_leaves_includes_outside_the_work_tree_alone(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repository = tmp_path / "repository"
    (repository / "requirements").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    other = tmp_path / "other-project" / "requirements.txt"  # someone else's lock file
    other.parent.mkdir()
    other.write_text("foo==1.0\n")
    linked = repository / "requirements" / "linked.txt"
    linked.symlink_to(other)  # a symlink inside the tree that points out of it
    given = repository / "requirements.txt"
    arguments = ["fix", "--index-url", server.index_url, "--cache-dir", "cache", str(given)]
    for road in ("../other-project/requirements.txt", str(other), "requirements/linked.txt"):
        given.write_text(f"-r {road}\n")
        assert main(arguments) == 1
        assert other.read_text() == "foo==1.0\n", road
        err = capsys.readouterr().err
        assert "left unchanged: it is outside the work tree of the files given" in err
        assert "--fix-includes-anywhere" in err

    inside = repository / "requirements" / "base.txt"
    inside.write_text("foo==1.0\n")
    given.write_text("-r requirements/base.txt\n")
    assert main(arguments) == 1
    assert inside.read_text() == hashed("foo==1.0", FOO.sha256)

    given.write_text("-r ../other-project/requirements.txt\n")
    assert main([*arguments, "--fix-includes-anywhere"]) == 1
    assert other.read_text() == hashed("foo==1.0", FOO.sha256)
