"""A large fix fetches half its pages in a forked child (``hashpin/forked.py``): the same
file as one process writes, every page asked once, a child that dies costs only time, and
a signal stops both processes at once. Real ``hashpin`` processes against an index on
127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import make_wheel
from indexserver import IndexServer, sealed_environment

from hashpin import forked
from hashpin.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

    from distmaker import Dist

pytestmark = [
    pytest.mark.usefixtures("sealed"),  # conftest: nothing of this machine's pip
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only"),
]

WHEELS: dict[str, Dist] = {
    f"proj{number:02d}": make_wheel(f"proj{number:02d}", "1.0") for number in range(24)
}
TEXT = "".join(f"{name}==1.0\n" for name in WHEELS)
FIXED = "".join(
    f"{name}==1.0 \\\n    --hash=sha256:{wheel.sha256}\n" for name, wheel in WHEELS.items()
)


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer({name: [wheel] for name, wheel in WHEELS.items()}) as running:
        yield running


def start_fix(server: IndexServer, folder: Path, *args: str) -> subprocess.Popen[str]:
    """``hashpin fix`` as a process of its own (the only kind that forks)."""
    folder.mkdir(exist_ok=True)
    (folder / "requirements.txt").write_text(TEXT)
    return subprocess.Popen(
        [sys.executable, "-m", "hashpin", "fix", "--index-url", server.index_url,
         "--cache-dir", str(folder / "cache"), *args, "requirements.txt"],
        cwd=folder,
        env=sealed_environment(os.environ, folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(item) for item in path.read_text().split()] if path.exists() else []


def wait_for_child(process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 20
    while not (found := children(process.pid)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "hashpin never forked"
        time.sleep(0.01)
    return found[0]


def wait_for_requests(server: IndexServer, count: int) -> None:
    deadline = time.monotonic() + 20
    while sum(page_hits(server)) < count:
        assert time.monotonic() < deadline, "the requests never all went out"
        time.sleep(0.01)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def page_hits(server: IndexServer) -> list[int]:
    return [server.hits[f"/simple/{name}/"] for name in WHEELS]


def test_a_large_fix_forks_and_writes_what_one_process_writes(
    server: IndexServer, tmp_path: Path
) -> None:
    process = start_fix(server, tmp_path / "forked", "-v")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert out == "Fixing requirements.txt\n"
    fetched = re.search(r"a second process fetched (\d+) of the pages", err)
    assert fetched and 0 < int(fetched[1]) < len(WHEELS), err
    assert (tmp_path / "forked" / "requirements.txt").read_text() == FIXED
    assert page_hits(server) == [1] * len(WHEELS)  # each asked once, by one process or the other

    one = tmp_path / "one" / "requirements.txt"  # in this process: never forks
    one.parent.mkdir()
    one.write_text(TEXT)
    assert main(["fix", "-v", "--index-url", server.index_url, "--no-cache", str(one)]) == 1
    assert one.read_text() == FIXED
    assert page_hits(server) == [2] * len(WHEELS)


def test_the_pages_of_a_child_that_died_are_fetched_by_the_parent(
    server: IndexServer, tmp_path: Path
) -> None:
    server.delay = 1.0  # time enough to kill the child before it is done
    process = start_fix(server, tmp_path / "work")
    child = wait_for_child(process)
    wait_for_requests(server, len(WHEELS))  # the child has taken its share
    os.kill(child, signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "the second process stopped early; its pages are fetched here" in err
    assert "Traceback" not in err
    assert (tmp_path / "work" / "requirements.txt").read_text() == FIXED


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_parent_stops_the_child_too(
    server: IndexServer, tmp_path: Path, signum: int, status: int
) -> None:
    server.delay = 30.0  # no page arrives before the signal
    process = start_fix(server, tmp_path / "work", "--timeout", "60")
    child = wait_for_child(process)
    wait_for_requests(server, len(WHEELS))  # both processes are waiting on the index
    process.send_signal(signum)  # to the parent alone, as `kill` sends it
    sent = time.monotonic()
    _, err = process.communicate(timeout=30)
    assert process.returncode == status
    assert time.monotonic() - sent < 2
    assert gone(child)
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["hashpin: interrupted; no file was changed"]
    assert (tmp_path / "work" / "requirements.txt").read_text() == TEXT
    assert not list((tmp_path / "work").rglob("*.tmp"))


def test_a_queue_hands_out_each_position_once_to_concurrent_takers() -> None:
    count = 20_000  # more than a pipe holds unless it is grown
    queue = forked.Queue.of(count)
    assert queue is not None
    taken: list[list[int]] = [[], []]

    def take_all(into: list[int]) -> None:
        while (position := queue.take()) is not None:
            into.append(position)

    takers = [threading.Thread(target=take_all, args=(into,)) for into in taken]
    for taker in takers:
        taker.start()
    for taker in takers:
        taker.join()
    assert sorted(taken[0] + taken[1]) == list(range(count))
    assert queue.take() is None
    queue.close()


def test_the_progress_line_counts_the_childs_projects_too(
    server: IndexServer, tmp_path: Path
) -> None:
    import pty

    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "requirements.txt").write_text(TEXT)
    primary, secondary = pty.openpty()
    process = subprocess.run(
        [sys.executable, "-m", "hashpin", "fix", "-v", "-i", server.index_url, "--no-cache",
         "requirements.txt"],
        cwd=folder,
        env=sealed_environment(os.environ, folder),
        stdout=subprocess.PIPE,
        stderr=secondary,
        check=False,
    )  # fmt: skip
    os.close(secondary)
    shown = b""
    with suppress(OSError):  # the terminal is closed once everything is read
        while chunk := os.read(primary, 4096):
            shown += chunk
    os.close(primary)
    assert process.returncode == 1
    assert b"a second process fetched" in shown
    assert f"hashpin: fetched {len(WHEELS)}/{len(WHEELS)} projects".encode() in shown
