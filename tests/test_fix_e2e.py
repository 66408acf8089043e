"""``hashpin fix`` end to end, in real processes, against real indexes on 127.0.0.1.

* a real ``pypiserver`` over a folder of wheels and sdists, then the real consumer:
  ``pip install --require-hashes`` must accept the fixed file and refuse a tampered one;
* several ``hashpin fix`` processes at once sharing one cache folder;
* a process SIGKILLed in the middle of writing a file;
* a failed fetch, which must leave the file byte-for-byte as it was.

Every process gets a hermetic environment: no PIP_* variable, no pip configuration file,
no proxy, no netrc, and a temporary cache, and every index is passed explicitly, so
nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from indexserver import IndexServer, ServedFile, sealed_environment

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

TIMEOUT = 120  # for one subprocess; every one here normally takes a second or two


# -- helpers ---------------------------------------------------------------------------------


def hermetic_env(tmp_path: Path) -> dict[str, str]:
    """The environment of every process these tests start: nothing of this machine's pip."""
    env = sealed_environment(os.environ, tmp_path)
    env.update(PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def hash_block(dists: Sequence[Dist], newline: str = "\n") -> str:
    """What hashpin writes after ``name==version``: pip-compile's layout, hashes sorted."""
    lines = sorted(f"    --hash=sha256:{dist.sha256}" for dist in dists)
    return f" \\{newline}" + f" \\{newline}".join(lines)


def run(
    args: Sequence[str], env: Mapping[str, str], cwd: Path, *, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def hashpin_fix(
    env: Mapping[str, str], cwd: Path, *args: str, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "hashpin", "fix", *args], env, cwd, timeout=timeout)


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- a: a real pypiserver, then the real consumer (pip --require-hashes) ---------------------

ALPHA_OLD = make_wheel("alpha", "0.9")  # another version: never hashed for alpha==1.0
ALPHA_WHEEL = make_wheel("alpha", "1.0")
ALPHA_SDIST = make_sdist("alpha", "1.0")
BRAVO_LINUX = make_wheel("bravo-lib", "2.0", "cp311-cp311-manylinux_2_17_x86_64")
BRAVO_WINDOWS = make_wheel("bravo-lib", "2.0", "cp312-cp312-win_amd64")
BRAVO_MAC = make_wheel("bravo-lib", "2.0", "cp38-abi3-macosx_11_0_arm64")
BRAVO_PURE = make_wheel("bravo-lib", "2.0", "py3-none-any")
BRAVO_SDIST = make_sdist("bravo-lib", "2.0")
BRAVO_NEXT = make_wheel("bravo-lib", "2.1")
CHARLIE_SDIST = make_sdist("charlie", "0.3")  # an sdist only: pip builds it

PYPISERVER_FILES = [
    ALPHA_OLD,
    ALPHA_WHEEL,
    ALPHA_SDIST,
    BRAVO_LINUX,
    BRAVO_WINDOWS,
    BRAVO_MAC,
    BRAVO_PURE,
    BRAVO_SDIST,
    BRAVO_NEXT,
    CHARLIE_SDIST,
]

UNHASHED = "# what we run on\nalpha==1.0\nbravo-lib==2.0  # every platform\n\ncharlie==0.3\n"


def expected_fixed(newline: str = "\n") -> str:
    return (
        f"# what we run on{newline}"
        f"alpha==1.0{hash_block([ALPHA_WHEEL, ALPHA_SDIST], newline)}{newline}"
        "bravo-lib==2.0"
        + hash_block([BRAVO_LINUX, BRAVO_WINDOWS, BRAVO_MAC, BRAVO_PURE, BRAVO_SDIST], newline)
        + f"  # every platform{newline}"
        f"{newline}"
        f"charlie==0.3{hash_block([CHARLIE_SDIST], newline)}{newline}"
    )


def _serves(url: str, data: bytes) -> bool:
    """Whether ``url`` answers with exactly ``data`` (so it is our server, not another)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return int(response.status) == 200 and bytes(response.read()) == data
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def pypiserver(packages: Path, log: Path, env: Mapping[str, str]) -> Iterator[str]:
    """Run ``pypiserver run`` on a free 127.0.0.1 port over ``packages``; yield the index URL.

    Authentication is off (``-a . -P .``) and so is the fallback redirect to PyPI for
    unknown projects (``--disable-fallback``).
    """
    if importlib.util.find_spec("pypiserver") is None:
        pytest.fail("pypiserver is a test dependency: pip install pypiserver")
    probe = min(packages.iterdir())  # ready once it serves this file's bytes
    for _attempt in range(3):  # another process may take the port between probe and bind
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--authenticate",
            ".",
            "--passwords",
            ".",
            "--disable-fallback",
            "--backend",
            "simple-dir",
            "--hash-algo",
            "sha256",
            "--server",
            "wsgiref",
            str(packages),
        ]
        with log.open("ab") as log_stream:
            process = subprocess.Popen(
                command,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log_stream,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 30
            while process.poll() is None and time.monotonic() < deadline:
                if _serves(f"http://127.0.0.1:{port}/packages/{probe.name}", probe.read_bytes()):
                    yield f"http://127.0.0.1:{port}/simple/"
                    return
                time.sleep(0.1)
        finally:
            stop_process(process)
    pytest.fail(f"pypiserver did not start:\n{log.read_text(errors='replace')}")


def pip_install(
    env: Mapping[str, str], cwd: Path, index_url: str, requirements: Path, target: Path
) -> subprocess.CompletedProcess[str]:
    return run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--require-hashes",
            "--no-deps",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            index_url,
            "--target",
            str(target),
            "-r",
            str(requirements),
        ],
        env,
        cwd,
    )


def test_pypiserver_fix_then_pip_require_hashes(tmp_path: Path) -> None:
    env = hermetic_env(tmp_path)
    packages = tmp_path / "packages"
    packages.mkdir()
    for dist in PYPISERVER_FILES:
        dist.write_to(packages)
    work = tmp_path / "work"
    work.mkdir()
    requirements = work / "requirements.txt"
    requirements.write_bytes(UNHASHED.encode())
    windows = work / "requirements-windows.txt"  # CRLF stays CRLF
    windows.write_bytes(UNHASHED.replace("\n", "\r\n").encode())
    cache = tmp_path / "cache"

    with pypiserver(packages, tmp_path / "pypiserver.log", env) as index_url:
        arguments = ("--index-url", index_url, "--cache-dir", str(cache))
        files = ("requirements.txt", "requirements-windows.txt")
        fixed = hashpin_fix(env, work, *arguments, *files)

        assert fixed.returncode == 1, describe(fixed)
        assert "Fixing requirements.txt" in fixed.stdout.splitlines(), describe(fixed)
        assert "Fixing requirements-windows.txt" in fixed.stdout.splitlines(), describe(fixed)
        text = requirements.read_bytes().decode()
        for dist in PYPISERVER_FILES:
            if dist not in (ALPHA_OLD, BRAVO_NEXT):
                assert f"--hash=sha256:{dist.sha256}" in text, dist.filename
        assert ALPHA_OLD.sha256 not in text and BRAVO_NEXT.sha256 not in text
        assert text == expected_fixed()
        assert windows.read_bytes() == expected_fixed("\r\n").encode()

        # The real consumer accepts the file...
        installed = pip_install(env, work, index_url, requirements, tmp_path / "site")
        assert installed.returncode == 0, describe(installed)
        for module, version in (("alpha", "1.0"), ("bravo_lib", "2.0"), ("charlie", "0.3")):
            init = tmp_path / "site" / module / "__init__.py"
            assert init.read_text() == f'__version__ = "{version}"\n'

        # ... and refuses it once alpha's hashes are wrong. All of them: pip drops a file
        # whose index-listed digest is not allowed and would quietly take the sdist instead.
        tampered = work / "requirements-tampered.txt"
        tampered_text = text
        for number, dist in enumerate((ALPHA_WHEEL, ALPHA_SDIST)):
            assert tampered_text.count(dist.sha256) == 1
            wrong = hashlib.sha256(b"not alpha %d" % number).hexdigest()
            tampered_text = tampered_text.replace(dist.sha256, wrong)
        tampered.write_text(tampered_text)
        refused = pip_install(env, work, index_url, tampered, tmp_path / "site-tampered")
        assert refused.returncode != 0, describe(refused)
        assert "DO NOT MATCH THE HASHES" in refused.stderr, describe(refused)
        assert f"Got        {ALPHA_WHEEL.sha256}" in refused.stderr, describe(refused)
        assert not (tmp_path / "site-tampered" / "alpha").exists()

        # A second run has nothing to do.
        again = hashpin_fix(env, work, *arguments, *files)

    assert again.returncode == 0, describe(again)
    assert "Fixing" not in again.stdout, describe(again)
    assert requirements.read_bytes().decode() == expected_fixed()
    assert windows.read_bytes() == expected_fixed("\r\n").encode()


# -- b: several processes at once, one shared cache ------------------------------------------

CONCURRENT_PROJECTS: dict[str, list[Dist]] = {
    "red": [make_wheel("red", "1.0"), make_sdist("red", "1.0"), make_wheel("red", "1.1")],
    "green": [
        make_wheel("green", "2.0", "cp311-cp311-manylinux_2_17_x86_64"),
        make_wheel("green", "2.0", "cp312-cp312-win_amd64"),
        make_sdist("green", "2.0"),
    ],
    "blue": [make_wheel("blue", "3.0"), make_wheel("blue", "2.9")],
    "cyan": [make_sdist("cyan", "0.1")],
    "magenta": [make_wheel("magenta", "5.0", "py2.py3-none-any"), make_sdist("magenta", "5.0")],
}
CONCURRENT_PINS = {"red": "1.0", "green": "2.0", "blue": "3.0", "cyan": "0.1", "magenta": "5.0"}
PROCESSES = 5


def concurrent_texts() -> tuple[str, str]:
    """(the unhashed file, what it must become)."""
    before = after = ""
    for name, version in CONCURRENT_PINS.items():
        dists = [d for d in CONCURRENT_PROJECTS[name] if d.version == version]
        before += f"{name}=={version}\n"
        after += f"{name}=={version}{hash_block(dists)}\n"
    return before, after


@pytest.mark.parametrize("digests", ["sha256", "none"], ids=["index-digests", "downloads"])
def test_concurrent_processes_share_one_cache(tmp_path: Path, digests: str) -> None:
    env = hermetic_env(tmp_path)
    cache = tmp_path / "shared-cache"
    before, after = concurrent_texts()
    paths = []
    for number in range(PROCESSES):
        folder = tmp_path / f"project-{number}"
        folder.mkdir()
        (folder / "requirements.txt").write_text(before)
        paths.append(folder / "requirements.txt")

    with IndexServer(dict(CONCURRENT_PROJECTS)) as server:
        server.digests = digests  # "none": every file is downloaded and its digest cached
        server.delay = 0.2  # every request takes a while, so the processes overlap
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hashpin",
                    "fix",
                    "--index-url",
                    server.index_url,
                    "--cache-dir",
                    str(cache),
                    "requirements.txt",
                ],
                cwd=path.parent,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for path in paths
        ]
        try:
            outputs = [process.communicate(timeout=TIMEOUT) for process in processes]
        finally:
            for process in processes:
                stop_process(process)
        for process, (out, err), path in zip(processes, outputs, paths):
            report = f"{path}: exit {process.returncode}\n{out}\n{err}"
            assert process.returncode == 1, report
            assert "Fixing requirements.txt" in out.splitlines(), report
            assert path.read_text() == after, report
            # Nothing but the file itself is left beside it (no temporary files).
            assert sorted(p.name for p in path.parent.iterdir()) == ["requirements.txt"]
        if digests == "none":
            for dist in (d for ds in CONCURRENT_PROJECTS.values() for d in ds):
                if dist.version == CONCURRENT_PINS[dist.project]:
                    assert server.hits[f"/files/{dist.filename}"] >= 1, dist.filename
        hits = server.hits
        server.stop()  # from here on, only the cache can answer

    fresh = tmp_path / "offline"
    fresh.mkdir()
    (fresh / "requirements.txt").write_text(before)
    offline = hashpin_fix(
        env,
        fresh,
        "--index-url",
        server.index_url,
        "--cache-dir",
        str(cache),
        "--offline",
        "requirements.txt",
    )
    assert offline.returncode == 1, describe(offline)
    assert "Fixing requirements.txt" in offline.stdout.splitlines(), describe(offline)
    assert (fresh / "requirements.txt").read_text() == after
    assert server.hits == hits


# -- c: SIGKILL in the middle of writing ------------------------------------------------------

# Replaces os.<name> by a function that notes its arguments in a marker file and then
# SIGKILLs its own process, then runs ``hashpin fix`` in-process. The lock is never
# released: the first caller is the one noted and killed, other threads just wait.
KILLER = """\
import json, os, signal, sys, threading

import hashpin.cli

name, marker = sys.argv[1], sys.argv[2]
first = threading.Lock()


def die(*args):
    first.acquire()
    described = []
    for arg in args:
        if name == "fsync":
            fd = arg if isinstance(arg, int) else arg.fileno()
            try:
                described.append(os.readlink("/proc/self/fd/%d" % fd))
            except OSError:
                described.append("fd %d" % fd)
        else:
            described.append(os.fsdecode(arg))
    with open(marker, "w") as stream:
        stream.write(json.dumps(described))
        stream.flush()
    os.kill(os.getpid(), signal.SIGKILL)


setattr(os, name, die)
sys.exit(hashpin.cli.main(sys.argv[3:]))
"""

KILL_PROJECTS: dict[str, list[Dist]] = {
    "red": CONCURRENT_PROJECTS["red"],
    "blue": CONCURRENT_PROJECTS["blue"],
}
CRLF = "\r\n"
KILL_BEFORE = "# keep me\r\nred==1.0  # why\r\nblue==3.0\r\n"
KILL_AFTER = (
    "# keep me\r\n"
    + "red==1.0"
    + hash_block([d for d in KILL_PROJECTS["red"] if d.version == "1.0"], CRLF)
    + "  # why\r\n"
    + "blue==3.0"
    + hash_block([d for d in KILL_PROJECTS["blue"] if d.version == "3.0"], CRLF)
    + CRLF
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize(
    ("function", "use_cache"),
    [("replace", False), ("fsync", False), ("replace", True)],
    ids=["os.replace", "os.fsync", "os.replace-in-cache"],
)
def test_sigkill_while_writing_leaves_the_file_intact(
    tmp_path: Path, function: str, use_cache: bool
) -> None:
    env = hermetic_env(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    requirements = work / "requirements.txt"
    requirements.write_bytes(KILL_BEFORE.encode())
    os.chmod(requirements, 0o640)
    marker = tmp_path / "killed.json"
    cache = tmp_path / "cache"
    cache_args = ["--cache-dir", str(cache)] if use_cache else ["--no-cache"]

    with IndexServer(dict(KILL_PROJECTS)) as server:
        killed = run(
            [
                sys.executable,
                "-c",
                KILLER,
                function,
                str(marker),
                "fix",
                "--index-url",
                server.index_url,
                *cache_args,
                "requirements.txt",
            ],
            env,
            work,
        )

        assert killed.returncode == -signal.SIGKILL, describe(killed)
        assert marker.exists(), "the patched function was never called"
        if function == "replace":
            destination = Path(os.path.realpath(json.loads(marker.read_text())[1]))
            if use_cache:  # the kill came while storing a cache entry
                assert destination.is_relative_to(cache.resolve()), destination
            else:  # the kill came at the very rename that would have put the new bytes in place
                assert destination == requirements.resolve()
        assert requirements.read_bytes() == KILL_BEFORE.encode()
        assert "Fixing" not in killed.stdout, describe(killed)

        # A normal run afterwards (over whatever the killed one left) fixes the file.
        again = hashpin_fix(
            env, work, "--index-url", server.index_url, *cache_args, "requirements.txt"
        )

    assert again.returncode == 1, describe(again)
    assert "Fixing requirements.txt" in again.stdout.splitlines(), describe(again)
    assert requirements.read_bytes() == KILL_AFTER.encode()
    assert requirements.stat().st_mode & 0o777 == 0o640


# -- d: a failed fetch leaves the file untouched ----------------------------------------------

FAIL_PROJECTS: dict[str, list[Dist | ServedFile]] = {
    "red": list(CONCURRENT_PROJECTS["red"]),
    "blue": list(CONCURRENT_PROJECTS["blue"]),
}
FAIL_TEXT = "red==1.0\nblue==3.0  # pinned\n"


@pytest.mark.parametrize("failure", ["http-500", "missing-project"])
def test_a_failed_fetch_leaves_the_file_byte_for_byte_untouched(
    tmp_path: Path, failure: str
) -> None:
    env = hermetic_env(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    requirements = work / "requirements.txt"
    requirements.write_bytes(FAIL_TEXT.encode())
    projects = dict(FAIL_PROJECTS)
    if failure == "missing-project":
        del projects["blue"]

    with IndexServer(projects) as server:
        if failure == "http-500":
            server.failures["/simple/blue/"] = 1000  # every try, every retry
        result = hashpin_fix(
            env,
            work,
            "--index-url",
            server.index_url,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--timeout",
            "5",
            "requirements.txt",
        )
        if failure == "http-500":
            assert server.hits["/simple/blue/"] >= 2, "a 5xx is retried"

    assert result.returncode == 1, describe(result)
    assert requirements.read_bytes() == FAIL_TEXT.encode()
    assert "Fixing" not in result.stdout, describe(result)
    # One line names the file, the line, the project and the URL that failed.
    errors = [
        line
        for line in result.stderr.splitlines()
        if "requirements.txt:2" in line and "blue" in line
    ]
    assert errors, describe(result)
    if failure == "http-500":
        assert any(f"{server.index_url}blue/" in line for line in errors), describe(result)
        assert any("500" in line for line in errors), describe(result)
    else:
        assert any(server.index_url in line for line in errors), describe(result)
    assert not [line for line in result.stderr.splitlines() if "requirements.txt:1" in line], (
        describe(result)
    )
    assert sorted(p.name for p in work.iterdir()) == ["requirements.txt"]


def test_untouched_file_is_fixed_once_the_index_recovers(tmp_path: Path) -> None:
    """The same file, same cache, after the failure: fixed completely, nothing stale kept."""
    env = hermetic_env(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    requirements = work / "requirements.txt"
    requirements.write_bytes(FAIL_TEXT.encode())
    cache = ["--cache-dir", str(tmp_path / "cache"), "--timeout", "5"]
    with IndexServer(dict(FAIL_PROJECTS)) as server:
        server.failures["/simple/blue/"] = 1000
        failed = hashpin_fix(env, work, "--index-url", server.index_url, *cache, "requirements.txt")
        assert failed.returncode == 1, describe(failed)
        assert requirements.read_bytes() == FAIL_TEXT.encode()
        server.failures.clear()
        fixed = hashpin_fix(env, work, "--index-url", server.index_url, *cache, "requirements.txt")
    assert fixed.returncode == 1, describe(fixed)
    red = [d for d in CONCURRENT_PROJECTS["red"] if d.version == "1.0"]
    blue = [d for d in CONCURRENT_PROJECTS["blue"] if d.version == "3.0"]
    assert requirements.read_text() == (
        f"red==1.0{hash_block(red)}\nblue==3.0{hash_block(blue)}  # pinned\n"
    )
