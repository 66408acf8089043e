"""The page cache's layout and its promises (``hashpin/cache.py``): one entry per page, a
head that says whether the page is fresh without reading the rest, then the body as the
index sent it (gzip-compressed when it came so), and the files of each version read from
that body kept in the head, never used once the page they came from is no longer the
current one. Against a real index on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import make_sdist, make_wheel
from hypothesis import given
from hypothesis import strategies as st
from indexserver import IndexServer

from hashpin.cache import Cache, StoredPage
from hashpin.cli import main
from hashpin.index import DistFile, ProjectPage, fetch_project_page
from hashpin.pagejson import FileEntries, decode
from hashpin.versions import spellings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from distmaker import Dist

FOO_10 = make_wheel("foo", "1.0")
FOO_10_SDIST = make_sdist("foo", "1.0")
FOO_20 = make_wheel("foo", "2.0")
FOO_10_WINDOWS = make_wheel("foo", "1.0", "cp311-cp311-win_amd64")  # uploaded later
PAGES = Path("cache/v3/pages")
PAGE = "/simple/foo/"


def hashed(requirement: str, *dists: Dist) -> str:
    lines = sorted(f"--hash=sha256:{dist.sha256}" for dist in dists)
    return requirement + "".join(f" \\\n    {line}" for line in lines) + "\n"


FOO = hashed("foo==1.0", FOO_10, FOO_10_SDIST)


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer({"foo": [FOO_10, FOO_10_SDIST, FOO_20]}) as running:
        running.cache_control = "max-age=600"
        yield running


def fix(server: IndexServer, text: str, *args: str) -> str:
    """Run ``hashpin fix`` on a requirements file holding ``text``; its text after."""
    path = Path("requirements.txt")
    path.write_text(text)
    main(["fix", "--index-url", server.index_url, "--cache-dir", "cache", *args, str(path)])
    return path.read_text()


def page_requests(server: IndexServer) -> int:
    return server.hits[PAGE]


def entry() -> tuple[Path, bytes, bytes]:
    """The page's entry: its path, its head line and the body after it."""
    (path,) = PAGES.glob("*.page")
    line, _, body = path.read_bytes().partition(b"\n")
    return path, line, body


def head() -> dict[str, object]:
    data = json.loads(entry()[1])
    assert isinstance(data, dict)
    return data


def write_head(line: bytes) -> None:
    """Put ``line`` in place of the entry's head, before the same body."""
    path, _, body = entry()
    path.write_bytes(line + b"\n" + body)


def drop_bodies() -> None:
    """Leave each page's head alone in its entry: a run that reads a body finds none."""
    for path in PAGES.glob("*.page"):
        path.write_bytes(path.read_bytes().partition(b"\n")[0] + b"\n")


# -- a warm run reads the head, not the page ------------------------------------------------


def test_a_warm_run_with_a_fresh_page_needs_neither_the_index_nor_the_page(
    server: IndexServer,
) -> None:
    assert fix(server, "foo==1.0\n") == FOO
    assert page_requests(server) == 1
    drop_bodies()  # what a warm run needs is in the head
    assert fix(server, "foo==1.0\n") == FOO
    assert sum(server.hits.values()) == 1  # no page request, and no download


def test_the_head_keeps_the_files_of_each_version_read(server: IndexServer) -> None:
    fix(server, "foo==1.0\n")
    kept = head()["versions"]
    assert isinstance(kept, dict) and list(kept) == ["1.0"]
    assert fix(server, "foo==2.0\n") == hashed("foo==2.0", FOO_20)  # read from the body
    kept = head()["versions"]
    assert isinstance(kept, dict) and list(kept) == ["1.0", "2.0"]
    drop_bodies()
    assert fix(server, "foo==1.0\n") == FOO
    assert fix(server, "foo==2.0\n") == hashed("foo==2.0", FOO_20)
    assert page_requests(server) == 1


def test_a_304_keeps_the_page_and_what_was_read_from_it(server: IndexServer) -> None:
    server.cache_control = "max-age=0"
    fix(server, "foo==1.0\n")
    identity = head()["identity"]
    drop_bodies()  # a 304 answers for the page kept: what was read from it still holds
    assert fix(server, "foo==1.0\n") == FOO
    assert page_requests(server) == 2
    assert "if-none-match" in server.requests[-1].headers
    assert head()["identity"] == identity


# -- what was read from a page is never used once the page changed ---------------------------


@pytest.mark.parametrize("how", ["stale", "--refresh"])
def test_what_was_read_from_an_old_page_is_not_used_for_a_new_one(
    server: IndexServer, how: str
) -> None:
    if how == "stale":
        server.cache_control = "max-age=0"
    assert fix(server, "foo==1.0\n") == FOO
    identity = head()["identity"]
    server.add_project("foo", [FOO_10_WINDOWS])  # a new upload: a new page, a new ETag
    after = hashed("foo==1.0", FOO_10, FOO_10_SDIST, FOO_10_WINDOWS)
    assert fix(server, "foo==1.0\n", *(["--refresh"] if how == "--refresh" else [])) == after
    assert page_requests(server) == 2
    assert head()["identity"] != identity
    server.cache_control = "max-age=600"
    assert fix(server, "foo==1.0\n", "--offline") == after  # what the new page said


def test_a_page_that_cannot_be_kept_drops_the_one_kept_before(server: IndexServer) -> None:
    fix(server, "foo==1.0\n")
    assert list(PAGES.glob("*.page"))
    server.validators = False
    server.cache_control = None
    server.add_project("foo", [FOO_10_WINDOWS])
    after = hashed("foo==1.0", FOO_10, FOO_10_SDIST, FOO_10_WINDOWS)
    assert fix(server, "foo==1.0\n", "--refresh") == after
    assert not list(PAGES.glob("*.page"))  # the old head would still look fresh
    assert fix(server, "foo==1.0\n") == after
    assert page_requests(server) == 3


# -- a damaged entry is only a miss -----------------------------------------------------------


# A kept file is [position, *DistFile.to_list()]: core_metadata, filename, hashes, ...,
# url (8th), yanked, yanked_reason.
DAMAGE: dict[str, tuple[str, int, object]] = {
    "not hex": ("file", 3, {"sha256": "zz" * 32}),
    "a line rides along": ("file", 3, {"sha256": "a" * 64 + "\n--index-url http://evil/"}),
    "unknown algorithm": ("file", 3, {"sha257": "a" * 64}),
    "bad metadata digest": ("file", 1, {"sha256": "A" * 64}),
    "local URL": ("file", 7, "file:///etc/passwd"),
    "bad position": ("file", 0, -1),
    "a short file": ("files", 0, [0, "foo-1.0.tar.gz"]),
    "files not a list": ("record", 0, "none"),
    "another sieve": ("record", 1, "x"),
}


def damage(record: dict[str, object], how: str) -> None:
    where, index, value = DAMAGE[how]
    files = record["files"]
    assert isinstance(files, list) and isinstance(files[0], list)
    if where == "file":
        files[0][index] = value
    elif where == "files":
        files[index] = value
    else:
        record[("files", "sieve")[index]] = value


@pytest.mark.parametrize("how", list(DAMAGE))
def test_a_damaged_version_in_the_head_is_a_miss(server: IndexServer, how: str) -> None:
    fix(server, "foo==1.0\n")
    data = head()
    versions = data["versions"]
    assert isinstance(versions, dict)
    damage(versions["1.0"], how)
    write_head(json.dumps(data).encode())
    assert fix(server, "foo==1.0\n") == FOO  # read again from the body, which is fine
    assert page_requests(server) == 1
    assert head()["versions"] != versions  # and kept again, as read


@pytest.mark.parametrize("line", ["{", "[]", '{"url": "u"}', '{"url": "u", "identity": 7}', ""])
def test_a_damaged_head_is_a_miss(server: IndexServer, line: str) -> None:
    fix(server, "foo==1.0\n")
    write_head(line.encode())
    assert fix(server, "foo==1.0\n") == FOO
    assert page_requests(server) == 2
    assert "if-none-match" not in server.requests[-1].headers  # nothing left to revalidate


def test_a_page_another_fetch_stored_meanwhile_is_a_miss(
    server: IndexServer, tmp_path: Path
) -> None:
    cache = Cache(str(tmp_path / "cache"))
    first = fetch_project_page(server.index_url, "foo")
    cache.store_page(server.index_url, "foo", first)
    read_before = cache.load_head(server.index_url, "foo")
    assert read_before is not None and read_before.identity == first.identity
    loaded = cache.load_page(server.index_url, "foo", read_before)
    assert loaded is not None and loaded.files == first.files
    cache.store_page(server.index_url, "foo", fetch_project_page(server.index_url, "foo"))
    # A process storing the page between this one's reading its head and its body, say.
    assert cache.load_page(server.index_url, "foo", read_before) is None
    assert cache.load_page(server.index_url, "foo") is not None


def test_an_older_head_never_replaces_a_page_stored_meanwhile(
    server: IndexServer, tmp_path: Path
) -> None:
    cache = Cache(str(tmp_path / "cache"))
    cache.store_page(server.index_url, "foo", fetch_project_page(server.index_url, "foo"))
    older = cache.load_head(server.index_url, "foo")
    assert older is not None
    newer = fetch_project_page(server.index_url, "foo")
    cache.store_page(server.index_url, "foo", newer)  # another process, say
    older.fetched_at = 0.0  # as after a 304 to the first process
    cache.store_head(server.index_url, "foo", older)
    stored = cache.load_head(server.index_url, "foo")
    assert stored is not None and stored.identity == newer.identity
    cache.forget_page(server.index_url, "foo")
    cache.store_head(server.index_url, "foo", stored)  # nor brings a dropped page back
    assert cache.load_head(server.index_url, "foo") is None


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_damaged_body_is_a_miss(server: IndexServer, gzipped: bool) -> None:
    server.gzip_pages = gzipped
    fix(server, "foo==1.0\n")
    path, _, _ = entry()
    path.write_bytes(path.read_bytes()[:-10])  # cut short
    assert fix(server, "foo==2.0\n") == hashed("foo==2.0", FOO_20)
    assert page_requests(server) == 2
    assert "if-none-match" not in server.requests[-1].headers


def test_a_gzipped_page_is_kept_as_it_came(server: IndexServer) -> None:
    server.gzip_pages = True
    fix(server, "foo==1.0\n")
    assert head()["content_encoding"] == "gzip"
    page = json.loads(gzip.decompress(entry()[2]))  # the bytes on the wire, unopened
    assert sorted(item["filename"] for item in page["files"]) == sorted(
        dist.filename for dist in (FOO_10, FOO_10_SDIST, FOO_20)
    )
    assert fix(server, "foo==2.0\n") == hashed("foo==2.0", FOO_20)  # read from it
    assert page_requests(server) == 1


# -- --offline --------------------------------------------------------------------------------


def test_offline_answers_from_the_head_or_from_the_body(server: IndexServer) -> None:
    fix(server, "foo==1.0\n")
    server.stop()
    assert fix(server, "foo==2.0\n", "--offline") == hashed("foo==2.0", FOO_20)  # the body
    drop_bodies()
    assert fix(server, "foo==1.0\n", "--offline") == FOO
    assert fix(server, "foo==2.0\n", "--offline") == hashed("foo==2.0", FOO_20)
    assert fix(server, "foo==0.9\n", "--offline") == "foo==0.9\n"  # nothing to read it from


# -- the cache's own API ----------------------------------------------------------------------


def test_a_built_page_is_kept_whole_in_its_head(tmp_path: Path) -> None:
    cache = Cache(str(tmp_path / "cache"))
    dist = DistFile("foo-1.0.tar.gz", "https://h/foo-1.0.tar.gz", {"sha256": "a" * 64})
    cache.store_page("https://h/simple/", "foo", ProjectPage("https://h/simple/foo/", [dist]))
    (path,) = (tmp_path / PAGES).glob("*.page")
    assert path.read_bytes().endswith(b"}\n")  # a head, and no body after it
    loaded = cache.load_page("https://h/simple/", "foo")
    assert loaded is not None and loaded.files == [dist]


def test_a_head_keeps_the_latest_versions_only() -> None:
    stored = StoredPage("https://h/simple/foo/", "x")
    dist = DistFile("foo-1.0.tar.gz", "https://h/foo-1.0.tar.gz", {"sha256": "a" * 64})
    for number in range(100):
        version = f"1.{number}"
        sieve = spellings(version)
        assert sieve is not None
        assert stored.keep({version: sieve}, {version: [(number, dist)]})
    assert len(stored.versions) == 64 and "1.99" in stored.versions and "1.0" not in stored.versions
    sieve = spellings("1.99")
    assert sieve is not None
    assert not stored.keep({"1.99": sieve}, {"1.99": [(99, dist)]})  # nothing new
    assert stored.kept({"1.99": sieve}) == {"1.99": [(99, dist)]}


# -- the sieve ----------------------------------------------------------------------------------

NAME = st.text(alphabet="fo-_.01234v!\n\r\u2028", max_size=20).map(lambda text: "foo-" + text)


def _entries(files: list[dict[str, object]]) -> FileEntries:
    """The entries of a page whose "files" are ``files``, as a fetched page has them."""
    return decode(json.dumps({"files": files}).encode())[1]


@given(names=st.lists(NAME, max_size=20), version=st.sampled_from(["1", "1.0", "0.1", "10.0.1"]))
def test_the_sieve_finds_what_searching_each_name_finds(names: list[str], version: str) -> None:
    pattern = spellings(version)
    assert pattern is not None
    entries: list[dict[str, object]] = [
        {"filename": name, "url": f"https://h/{index}.whl"} for index, name in enumerate(names)
    ]
    page = ProjectPage("https://h/simple/foo/", None, entries=_entries(entries))
    found = page.sieve({version: pattern})[version]
    assert [position for position, _ in found] == [
        position for position, name in enumerate(names) if pattern.search(name)
    ]
    assert all(dist.filename == names[position] for position, dist in found)


def test_the_sieve_builds_only_the_files_it_chose() -> None:
    entries: list[dict[str, object]] = [
        {"filename": "foo-1.0.tar.gz", "url": "https://h/a", "hashes": {"sha256": "a" * 64}},
        {"filename": "foo-2.0.tar.gz", "url": "https://h/b", "hashes": {"sha256": "not hex"}},
    ]
    page = ProjectPage("https://h/simple/foo/", None, entries=_entries(entries))
    pattern = spellings("1.0")
    assert pattern is not None and re.search(pattern, "foo-1.0.tar.gz")
    assert [dist.url for _, dist in page.sieve({"1.0": pattern})["1.0"]] == ["https://h/a"]


@given(release=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=5))
def test_a_plain_release_gets_the_sieve_packaging_would_make(release: list[int]) -> None:
    plain = ".".join(map(str, release))  # read without packaging
    spelled_otherwise = "v" + plain + ".0"  # the same version, read by packaging
    assert spellings(plain) is not None
    assert spellings(plain) == spellings(spelled_otherwise)
