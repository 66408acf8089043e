"""The transport's promises, against real servers on 127.0.0.1: pooled connections,
a transparent retry on a connection the server closed, HTTP caching as the index asks
for it, and a clean, quick exit on Ctrl-C and SIGTERM."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import make_wheel
from hostileserver import HostileServer, Reply
from indexserver import IndexServer, sealed_environment

from hashpin.cli import main
from hashpin.index import IndexClient, fetch_project_page
from hashpin.transport import DEFAULT_CONNECTIONS_PER_ORIGIN, IndexRequestError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DEMO = make_wheel("demo", "1.0")
# More projects than connections a pool keeps, so that some must share one.
NAMES = [f"project-{number:03d}" for number in range(2 * DEFAULT_CONNECTIONS_PER_ORIGIN + 20)]


def page_for(server: HostileServer, name: str) -> Reply:
    return Reply.json(
        {
            "meta": {"api-version": "1.0"},
            "files": [
                {
                    "filename": f"{name.replace('-', '_')}-1.0-py3-none-any.whl",
                    "url": f"{server.url}/files/{name}.whl",
                    "hashes": {"sha256": f"{NAMES.index(name):064x}"},
                }
            ],
        }
    )


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        for name in NAMES:
            server.routes[f"/simple/{name}/"] = page_for(server, name)
        yield server


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "absent-netrc"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.chdir(tmp_path)


# -- connections --------------------------------------------------------------------------------


def test_many_projects_share_a_few_kept_alive_connections(
    hostile: HostileServer, tmp_path: Path
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("".join(f"{name}==1.0\n" for name in NAMES))
    assert main(["fix", "--index-url", hostile.index_url, "--no-cache", str(path)]) == 1
    assert sum(hostile.hits.values()) == len(NAMES)  # one request per project, no downloads
    assert hostile.connections <= DEFAULT_CONNECTIONS_PER_ORIGIN
    assert path.read_text().count("--hash=sha256:") == len(NAMES)


def test_a_host_is_resolved_once_for_a_burst_of_new_connections(
    hostile: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[tuple[str, int]] = []
    resolve = socket.getaddrinfo

    def slow_resolver(host: str, port: int, *args: object, **kwargs: object) -> object:
        lookups.append((host, port))
        time.sleep(0.3)  # every connection of the burst is waiting for an address meanwhile
        return resolve(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", slow_resolver)
    path = tmp_path / "requirements.txt"
    path.write_text("".join(f"{name}==1.0\n" for name in NAMES))
    assert main(["fix", "--index-url", hostile.index_url, "--no-cache", str(path)]) == 1
    assert hostile.connections > 1
    assert lookups == [("127.0.0.1", int(hostile.url.rsplit(":", 1)[1]))]
    assert path.read_text().count("--hash=sha256:") == len(NAMES)


def test_one_client_reuses_one_connection_for_sequential_requests(
    hostile: HostileServer,
) -> None:
    client = IndexClient(timeout=3, retries=0)
    for name in NAMES[:5]:
        fetch_project_page(hostile.index_url, name, client=client)
    assert hostile.connections == 1
    assert client.transport.connections_opened == 1


def test_a_connection_the_server_closed_is_replaced_without_a_retry(
    hostile: HostileServer,
) -> None:
    first, second = NAMES[:2]
    route = f"/simple/{first}/"
    hostile.routes[route] = dataclasses.replace(hostile.routes[route], close_after=True)
    notes: list[str] = []
    client = IndexClient(timeout=3, retries=0, log=notes.append)  # no retry to spend
    fetch_project_page(hostile.index_url, first, client=client)
    time.sleep(0.2)  # the server has hung up the kept-alive connection by now
    page = fetch_project_page(hostile.index_url, second, client=client)
    assert len(page.files) == 1
    assert hostile.connections == 2
    assert not [note for note in notes if "retrying" in note]


def wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_connections_started_at_once_are_the_ones_the_requests_use(
    hostile: HostileServer,
) -> None:
    client = IndexClient(timeout=3, retries=0)
    names = NAMES[:3]
    client.preconnect((hostile.index_url, name) for name in names)
    # Up before any request: they were started together, not by the requests.
    assert wait_for(lambda: hostile.connections == 3)
    threads = [
        threading.Thread(target=client.project_page, args=(hostile.index_url, name))
        for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(hostile.hits.values()) == 3
    assert hostile.connections == 3  # no connection beyond those
    assert 1 <= client.transport.connections_opened <= 3


def test_connections_started_at_once_stay_within_the_pool_and_beside_the_idle_ones(
    hostile: HostileServer,
) -> None:
    client = IndexClient(timeout=3, retries=0, connections_per_origin=2)
    fetch_project_page(hostile.index_url, NAMES[0], client=client)  # one idle connection now
    client.preconnect((hostile.index_url, name) for name in NAMES[1:6])
    time.sleep(0.3)
    assert hostile.connections == 2  # the idle one and one more: the pool's bound
    client.close()


def test_a_run_that_needs_no_request_opens_no_connection(
    hostile: HostileServer, tmp_path: Path
) -> None:
    for name in NAMES:
        reply = hostile.routes[f"/simple/{name}/"]
        hostile.routes[f"/simple/{name}/"] = dataclasses.replace(
            reply, headers=[*reply.headers, ("Cache-Control", "max-age=600")]
        )
    path = tmp_path / "requirements.txt"
    unpinned = "".join(f"{name}\n" for name in NAMES)  # --pin reads each whole page
    fix = ["fix", "--pin", "--index-url", hostile.index_url, "--cache-dir", str(tmp_path / "c")]
    for pinned_before in (False, True):
        path.write_text(unpinned)
        connections = hostile.connections
        assert main([*fix, str(path)]) == 1
        assert path.read_text().count("==1.0 \\\n    --hash=sha256:") == len(NAMES)
        if pinned_before:  # every page fresh in the cache: not even a connect
            assert hostile.connections == connections
        else:
            assert 0 < hostile.connections <= DEFAULT_CONNECTIONS_PER_ORIGIN


def test_a_refused_connection_started_at_once_fails_as_any_refused_connection() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/simple/"
    failures = []
    for started_at_once in (False, True):
        client = IndexClient(timeout=3, retries=0)
        if started_at_once:
            client.preconnect([(url, "demo")])
        with pytest.raises(IndexRequestError) as caught:
            fetch_project_page(url, "demo", client=client)
        failures.append(str(caught.value))
    assert failures[0] == failures[1]
    assert "refused" in failures[0].lower()


# -- HTTP caching ---------------------------------------------------------------------------------


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer({"demo": [DEMO]}) as server:
        yield server


def fix_demo(index: IndexServer, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "requirements.txt"
    path.write_text("demo==1.0\n")
    main(["fix", "--index-url", index.index_url, "--cache-dir", str(tmp_path / "c"), *args])
    return path.read_text()


def test_a_page_younger_than_its_max_age_is_used_without_a_request(
    index: IndexServer, tmp_path: Path
) -> None:
    index.cache_control = "max-age=600, public"
    fixed = fix_demo(index, tmp_path)
    assert index.hits["/simple/demo/"] == 1
    assert fix_demo(index, tmp_path) == fixed
    assert index.hits["/simple/demo/"] == 1  # fresh: not asked again


def test_refresh_revalidates_a_fresh_page_with_one_304(index: IndexServer, tmp_path: Path) -> None:
    index.cache_control = "max-age=600"
    fixed = fix_demo(index, tmp_path)
    assert fix_demo(index, tmp_path, "--refresh") == fixed
    asked = [r for r in index.requests if r.path == "/simple/demo/"]
    assert len(asked) == 2
    assert asked[1].headers.get("if-none-match")  # a conditional request: the 304 path


def test_a_stale_page_is_revalidated_and_no_cache_always(
    index: IndexServer, tmp_path: Path
) -> None:
    index.cache_control = "max-age=0"
    fix_demo(index, tmp_path)
    fix_demo(index, tmp_path)
    index.cache_control = "no-cache"
    fix_demo(index, tmp_path)
    assert index.hits["/simple/demo/"] == 3
    index.validators = False  # no ETag, no Last-Modified: fetched again in full
    index.cache_control = None
    fix_demo(index, tmp_path)
    assert index.hits["/simple/demo/"] == 4


# -- Ctrl-C and SIGTERM -------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_slow_fetches_exits_at_once_and_changes_nothing(
    hostile: HostileServer, tmp_path: Path, signum: int, status: int
) -> None:
    for name in NAMES:  # every page takes minutes to arrive
        route = f"/simple/{name}/"
        hostile.routes[route] = dataclasses.replace(hostile.routes[route], drip_delay=1.0)
    folder = tmp_path / "project"
    folder.mkdir()
    text = "# keep me\r\n" + "".join(f"{name}==1.0\r\n" for name in NAMES)
    (folder / "requirements.txt").write_bytes(text.encode())
    process = subprocess.Popen(
        [sys.executable, "-m", "hashpin", "fix", "--index-url", hostile.index_url,
         "--cache-dir", str(tmp_path / "cache"), "--timeout", "60", "requirements.txt"],
        cwd=folder,
        env=sealed_environment(os.environ, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while sum(hostile.hits.values()) < DEFAULT_CONNECTIONS_PER_ORIGIN:
        assert time.monotonic() < deadline, "hashpin never reached the index"
        time.sleep(0.05)
    process.send_signal(signum)
    sent = time.monotonic()
    _, err = process.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    assert process.returncode == status
    assert elapsed < 2, f"took {elapsed:.1f}s to stop"
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "hashpin: interrupted; no file was changed"
    assert (folder / "requirements.txt").read_bytes() == text.encode()
    assert sorted(p.name for p in folder.iterdir()) == ["requirements.txt"]  # no temp files
    leftovers = [p for p in (tmp_path / "cache").rglob("*.tmp")]
    assert not leftovers
