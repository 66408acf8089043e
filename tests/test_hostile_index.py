"""Attacks by an index on ``hashpin fix``, each against a real hostile server on 127.0.0.1.

What an index says is untrusted: it may try to write lines into the requirements file,
make hashpin read local files, hang it, crash it, or print escape sequences to the
terminal. Each test reproduces one such attack and checks that the file is untouched
(or correctly fixed) and that hashpin reports a one-line error instead of a traceback.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import threading
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import make_wheel
from hostileserver import JSON_TYPE, HostileServer, Reply
from indexserver import IndexServer

from hashpin.cli import main
from hashpin.fix import Task, UnsafeRewrite, checked_rewrite, render_task
from hashpin.index import IndexClient, IndexRequestError, fetch_project_page
from hashpin.reqfile import parse_text
from hashpin.requirement import interpret
from hashpin.simple import parse_page
from hashpin.workspace import Source

if TYPE_CHECKING:
    from collections.abc import Iterator

DEMO = make_wheel("demo", "1.0")
GOOD = DEMO.sha256
EVIL_LINES = "\n--extra-index-url http://evil.invalid/\nevil-pkg==6.6.6 --hash=sha256:" + "e" * 64


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        server.routes["/files/demo-1.0-py3-none-any.whl"] = Reply(body=DEMO.data)
        yield server


def page(server: HostileServer, **entry: object) -> Reply:
    """A PEP 691 page for demo with one file entry, its keys overridden by ``entry``."""
    file = {
        "filename": DEMO.filename,
        "url": f"{server.url}/files/{DEMO.filename}",
        "hashes": {"sha256": GOOD},
        **entry,
    }
    return Reply.json({"meta": {"api-version": "1.0"}, "name": "demo", "files": [file]})


def fix(server: HostileServer | IndexServer, *args: str) -> int:
    return main(["fix", "--index-url", server.index_url, "--cache-dir", "cache", *args])


def _fix_into(outcome: list[int], server: HostileServer, *args: str) -> None:
    outcome.append(fix(server, *args))


def requirements(text: str = "demo==1.0\n") -> Path:
    path = Path("requirements.txt")
    path.write_text(text)
    return path


# -- 1. nothing but a validated digest is ever written ----------------------------------------


@pytest.mark.parametrize(
    "digest",
    [GOOD + EVIL_LINES, GOOD + "\u2028evil==1", "abcd", GOOD.upper() + "0", " " + GOOD[:-1] + "g"],
    ids=["newline and lines", "U+2028", "short", "long", "not hex"],
)
def test_a_json_digest_that_is_not_plain_hex_is_never_written(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str], digest: str
) -> None:
    hostile.routes["/simple/demo/"] = page(hostile, hashes={"sha256": digest})
    path = requirements()
    assert fix(hostile) == 1
    assert path.read_text() == "demo==1.0\n"
    err = capsys.readouterr().err
    assert "sha256 digest of demo-1.0-py3-none-any.whl is not 64 hex digits" in err
    assert f"{hostile.url}/simple/demo/" in err  # the source is named
    assert "Traceback" not in err


def test_an_html_fragment_with_a_line_separator_is_never_written(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip splits lines on U+2028, and html.unescape turns &#x2028; into it.
    href = f"/files/{DEMO.filename}#sha256={GOOD}&#x2028;evil-pkg==6.6.6"
    hostile.routes["/simple/demo/"] = Reply.html(f'<a href="{href}">{DEMO.filename}</a>')
    path = requirements()
    assert fix(hostile) == 1
    assert path.read_text() == "demo==1.0\n"
    assert "is not 64 hex digits" in capsys.readouterr().err


def test_a_poisoned_cache_entry_is_never_written(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    served = page(hostile)
    hostile.routes["/simple/demo/"] = dataclasses.replace(
        served, headers=[*served.headers, ("ETag", '"v1"')]
    )
    path = requirements()
    assert fix(hostile, "--dry-run") == 1  # fills the cache with the page
    entries = [p for p in Path("cache").rglob("*") if p.is_file() and GOOD in p.read_text()]
    assert entries
    for entry in entries:
        entry.write_text(entry.read_text().replace(GOOD, GOOD + EVIL_LINES.replace("\n", "\\n")))
    capsys.readouterr()
    assert fix(hostile, "--offline") == 1
    assert path.read_text() == "demo==1.0\n"
    assert (
        "sha256 digest of demo-1.0-py3-none-any.whl is not 64 hex digits" in capsys.readouterr().err
    )


def test_a_rewritten_line_must_read_back_as_intended() -> None:
    """The last guard before writing: re-parse the rendered line as pip would."""
    line = parse_text("demo==1.0  # keep\n")[0]
    task = Task(Source("requirements.txt", "/requirements.txt"), line, interpret(line.args), "hash")
    task.hashes = [f"sha256:{GOOD}"]
    assert checked_rewrite(task, render_task(task, "\n")).endswith("  # keep\n")
    for smuggled in (f"sha256:{GOOD}\nevil==1", f"sha256:{GOOD} --index-url=http://x", "md5:00"):
        task.hashes = [smuggled]
        with pytest.raises(UnsafeRewrite, match="would not read back"):
            checked_rewrite(task, render_task(task, "\n"))


# -- 4. a remote index cannot make hashpin read local files -----------------------------------


def test_a_remote_index_cannot_point_at_local_files(
    hostile: HostileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.whl"
    secret.write_bytes(b"private bytes")
    fifo = tmp_path / "fifo.whl"
    os.mkfifo(fifo)
    for target in (secret, fifo):
        hostile.routes["/simple/demo/"] = page(hostile, url=target.as_uri(), hashes={})
        path = requirements()
        outcome: list[int] = []
        worker = threading.Thread(target=_fix_into, args=(outcome, hostile, "--no-cache"))
        worker.start()
        worker.join(timeout=20)
        assert not worker.is_alive(), "fix blocked on a FIFO the index pointed at"
        assert outcome == [1]
        assert path.read_text() == "demo==1.0\n"
        err = capsys.readouterr().err
        assert "lists demo with no files" in err  # the file: entry is not a file of it
        assert hashlib.sha256(b"private bytes").hexdigest() not in err


# -- 5. a request is bounded as a whole, and pages parse in linear time -----------------------


def test_a_dripped_page_is_cut_after_the_timeout(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.routes["/simple/demo/"] = dataclasses.replace(page(hostile), drip_delay=0.2)
    path = requirements()
    started = time.monotonic()
    assert fix(hostile, "--timeout", "1", "--no-cache") == 1
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"a dripped page took {elapsed:.1f}s under --timeout 1"
    assert path.read_text() == "demo==1.0\n"
    assert "timed out" in capsys.readouterr().err


def test_a_hostile_html_page_parses_in_linear_time() -> None:
    for body in (b"<a" * 1_000_000, b"<a href='" + b"<a " * 700_000, b"<!--" + b"<a" * 999_998):
        started = time.process_time()
        assert parse_page(body, "text/html", "utf-8", "https://x.invalid/", for_project=True) == []
        assert time.process_time() - started < 1.0


# -- 6. malformed responses are a one-line error for that project -----------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply.typed(JSON_TYPE, b"{}", ("Content-Length", "\u00b2")),
        Reply.typed(JSON_TYPE, b"{}", ("Content-Length", "9" * 5000)),
        Reply.typed(JSON_TYPE, b"[" * 100_000 + b"]" * 100_000),
        Reply("HTTP/1.1 200 OK\x1b[2J"),
        Reply("garbage"),
    ],
    ids=["superscript length", "5000-digit length", "deep json", "escape in status", "no status"],
)
def test_a_malformed_response_is_one_line_for_its_project(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str], reply: Reply
) -> None:
    hostile.routes["/simple/broken/"] = reply
    hostile.routes["/simple/demo/"] = page(hostile)
    path = requirements("broken==1.0\ndemo==1.0\n")
    other = Path("other.txt")
    other.write_text("demo==1.0\n")
    assert fix(hostile, "--timeout", "2", "--no-cache", str(path), str(other)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "requirements.txt:1: broken: " in err
    assert path.read_text() == "broken==1.0\ndemo==1.0\n"  # all or nothing per file
    assert other.read_text() == f"demo==1.0 \\\n    --hash=sha256:{GOOD}\n"


# -- 8. https never falls back to http --------------------------------------------------------


def test_an_https_index_redirecting_to_http_is_refused(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.routes["/simple/demo/"] = page(hostile)
    with IndexServer({"demo": [DEMO]}, tls=True) as secure:
        secure.redirects["/simple/demo/"] = f"{hostile.url}/simple/demo/"
        path = requirements()
        assert fix(secure, "--cert", secure.ca_bundle, "--no-cache") == 1
    assert path.read_text() == "demo==1.0\n"
    assert "refused a redirect from https to http://127.0.0.1" in capsys.readouterr().err
    assert hostile.hits["/simple/demo/"] == 0


# -- 9. a first index that lists the project with no files keeps it --------------------------


def test_an_empty_listing_on_the_first_index_is_not_filled_from_the_next(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.routes["/simple/demo/"] = Reply.json({"meta": {"api-version": "1.0"}, "files": []})
    with IndexServer({"demo": [DEMO]}) as public:
        path = requirements()
        # Extra indexes come first (uv's order), so the hostile one is asked first.
        assert fix(public, "--extra-index-url", hostile.index_url, "--no-cache") == 1
        assert public.hits["/simple/demo/"] <= 1
    assert path.read_text() == "demo==1.0\n"
    err = capsys.readouterr().err
    assert f"{hostile.url}/simple/ lists demo with no files" in err


# -- 10. --verify checks every digest the index gives -----------------------------------------


def test_verify_compares_every_strong_digest_and_warns_on_md5(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sha512 = hashlib.sha512(DEMO.data).hexdigest()
    hostile.routes["/simple/demo/"] = page(hostile, hashes={"sha256": GOOD, "sha512": "0" * 128})
    path = requirements()
    assert fix(hostile, "--verify", "--no-cache") == 1
    assert path.read_text() == "demo==1.0\n"
    assert "the index says sha512:" + "0" * 128 in capsys.readouterr().err

    hostile.routes["/simple/demo/"] = page(
        hostile, hashes={"sha256": GOOD, "sha512": sha512, "md5": "0" * 32}
    )
    assert fix(hostile, "--verify", "--no-cache") == 1  # 1: the file was changed
    assert path.read_text() == f"demo==1.0 \\\n    --hash=sha256:{GOOD}\n"
    err = capsys.readouterr().err
    assert f"warning: {DEMO.filename}: the index says md5:" in err
    assert "tampering" in err


# -- 11. what an index says reaches the terminal without control characters -------------------


def test_index_text_is_printed_without_control_characters(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.routes["/simple/demo/"] = page(hostile, yanked="\x1b[31mred\rFixing evil.txt\u202e")
    hostile.routes["/simple/gone/"] = Reply("HTTP/1.1 418 \x1b]0;title\x07\r\nFixing evil.txt")
    path = requirements("demo==1.0\ngone==1.0\n")
    assert fix(hostile, "--no-cache") == 1
    captured = capsys.readouterr()
    output = captured.out + captured.err
    for control in ("\x1b", "\x07", "\r", "\u202e"):
        assert control not in output
    assert "\\x1b[31mred\\rFixing evil.txt" in output
    assert not any(line.startswith("Fixing evil") for line in output.splitlines())
    assert path.read_text() == "demo==1.0\ngone==1.0\n"


def test_only_the_files_of_the_pinned_version_are_read_from_a_page(
    hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page lists every version; a broken entry of another version is never built."""
    other = {"filename": "demo-0.9-py3-none-any.whl", "url": f"{hostile.url}/files/x.whl",
             "hashes": {"sha256": "abcd" + EVIL_LINES}}  # fmt: skip
    served = page(hostile)
    hostile.routes["/simple/demo/"] = Reply.json(
        {"meta": {"api-version": "1.0"}, "files": [other, *json.loads(served.body)["files"]]}
    )
    path = requirements()
    assert fix(hostile, "--no-cache") == 1
    assert path.read_text() == f"demo==1.0 \\\n    --hash=sha256:{GOOD}\n"
    path.write_text("demo==0.9\n")  # the broken one itself is still refused
    assert fix(hostile, "--no-cache") == 1
    assert path.read_text() == "demo==0.9\n"
    assert "is not 64 hex digits" in capsys.readouterr().err


# -- 12. a gzip body is decompressed as it arrives, never past the page limit ----------------


def _gzip_reply(body: bytes) -> Reply:
    return Reply.typed(JSON_TYPE, body, ("Content-Encoding", "gzip"))


def _zeros_gzipped(size: int) -> bytes:
    """``size`` zero bytes, gzipped a MiB at a time (a bomb: a thousand times smaller)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(size >> 20)) + packer.flush()


@pytest.mark.parametrize(
    ("body", "kind", "message"),
    [
        (
            _zeros_gzipped(64 << 20),
            "too-large",
            "larger than the limit of 1048576 bytes uncompressed",
        ),
        (gzip.compress(b'{"files": []}', mtime=0)[:-12], "malformed", "truncated gzip body"),
        (b"this is not gzip at all", "malformed", "malformed gzip body"),
    ],
    ids=["bomb", "truncated", "not gzip"],
)
def test_a_gzip_body_that_is_not_a_whole_page_within_the_limit_is_refused(
    hostile: HostileServer, body: bytes, kind: str, message: str
) -> None:
    hostile.routes["/simple/demo/"] = _gzip_reply(body)
    with pytest.raises(IndexRequestError, match=message) as caught:
        fetch_project_page(hostile.index_url, "demo", client=IndexClient(max_page_bytes=1 << 20))
    assert caught.value.kind == kind


def test_a_gzip_body_of_many_chunks_reads_as_the_page_it_holds(hostile: HostileServer) -> None:
    files = [
        {
            "filename": f"demo-1.{n}-py3-none-any.whl",
            "url": f"{hostile.url}/files/demo-1.{n}-py3-none-any.whl",
            "hashes": {"sha256": hashlib.sha256(str(n).encode()).hexdigest()},
        }
        for n in range(12000)
    ]
    text = json.dumps({"meta": {"api-version": "1.0"}, "files": files}).encode()
    packed = gzip.compress(text, mtime=0)
    assert len(packed) > 2 * 256 * 1024  # read (and decompressed) a chunk at a time
    hostile.routes["/simple/demo/"] = _gzip_reply(packed + b"not part of the gzip stream")
    hostile.routes["/simple/plain/"] = Reply.typed(JSON_TYPE, text)
    client = IndexClient()
    zipped = fetch_project_page(hostile.index_url, "demo", client=client).files
    assert zipped == fetch_project_page(hostile.index_url, "plain", client=client).files
    assert [dist.hashes for dist in zipped] == [file["hashes"] for file in files]
