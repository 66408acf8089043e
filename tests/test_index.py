"""hashpin.index against a real HTTP index on 127.0.0.1 (no mocked urllib anywhere)."""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from indexserver import HTML_TYPE, JSON_TYPE, TEXT_HTML, IndexServer, ServedFile

from hashpin.index import (
    PAGE_ACCEPT,
    DistFile,
    IndexClient,
    IndexRequestError,
    NotModified,
    ProjectPage,
    download_digest,
    download_digests,
    fetch_find_links,
    fetch_project_page,
    fetch_project_pages,
    normalize_project_name,
    project_page_url,
    redact_url,
    revalidate_project_page,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

FOO_WHEEL = make_wheel("foo", "1.0")
FOO_SDIST = make_sdist("foo", "1.0")
FOO_LINUX = make_wheel("foo", "1.1", "cp311-cp311-manylinux_2_17_x86_64")
FOO_WINDOWS = make_wheel("foo", "0.9", "cp312-cp312-win_amd64")
FOO_OLD = make_wheel("foo", "0.8")
FOO_BAR = make_wheel("Foo_Bar", "2.0")

PASSWORD = "s3cr#t/pw"  # characters that need percent-encoding in a URL


def standard_projects() -> dict[str, list[Dist | ServedFile]]:
    return {
        "foo": [
            FOO_WHEEL,
            FOO_SDIST,
            ServedFile(FOO_LINUX, requires_python=">=3.8,<4", core_metadata=True),
            ServedFile(FOO_WINDOWS, yanked="broken build <b>"),
            ServedFile(FOO_OLD, yanked=True),
        ],
        "Foo_Bar": [FOO_BAR],
    }


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No proxy and no real ~/.netrc may leak into a test."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "absent-netrc"))


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer(standard_projects()) as running:
        yield running


@pytest.fixture
def other_server() -> Iterator[IndexServer]:
    """A second origin (same host, other port): "another host" for credential rules."""
    with IndexServer(standard_projects()) as running:
        yield running


@pytest.fixture
def client() -> IndexClient:
    return IndexClient(timeout=3, retries=2, backoff=0.01)


def by_name(page: ProjectPage) -> dict[str, DistFile]:
    return {f.filename: f for f in page.files}


def write_netrc(path: Path, login: str, password: str) -> Path:
    path.write_text(f"machine 127.0.0.1\n  login {login}\n  password {password}\n")
    path.chmod(0o600)
    return path


# -- names and URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalized"),
    [("Foo_Bar", "foo-bar"), ("foo.bar", "foo-bar"), ("FOO--_.bar", "foo-bar"), ("x", "x")],
)
def test_normalize_project_name(name: str, normalized: str) -> None:
    assert normalize_project_name(name) == normalized


def test_project_page_url_has_one_trailing_slash() -> None:
    assert project_page_url("https://h/simple", "Foo_Bar") == "https://h/simple/foo-bar/"
    assert project_page_url("https://h/simple/", "Foo_Bar") == "https://h/simple/foo-bar/"


def test_redact_url() -> None:
    assert redact_url("https://u:p@h:1/x") == "https://u:****@h:1/x"
    assert redact_url("https://token@h/x") == "https://****@h/x"
    assert redact_url("https://h/x") == "https://h/x"
    # An unencoded "/" in the password ends the authority early: still hide all of it.
    assert redact_url("https://u:pa/ss@h/x") == "https://****@h/x"


def test_unencoded_password_characters_are_not_leaked(client: IndexClient) -> None:
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page("http://alice:s3cr/et@127.0.0.1:1/simple/", "foo", client=client)
    assert caught.value.kind == "unsupported"
    assert "s3cr" not in str(caught.value) and "et@" not in str(caught.value)


# -- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_format", ["json", "html", "text/html"])
def test_project_page_in_each_format(
    server: IndexServer, client: IndexClient, page_format: str
) -> None:
    server.page_format = page_format
    page = fetch_project_page(server.index_url, "foo", client=client)
    expected_type = {"json": JSON_TYPE, "html": HTML_TYPE, "text/html": TEXT_HTML}[page_format]
    assert page.content_type == expected_type
    assert page.project == "foo"
    assert page.url == server.index_url + "foo/"
    files = by_name(page)
    assert sorted(files) == sorted(
        d.filename for d in (FOO_WHEEL, FOO_SDIST, FOO_LINUX, FOO_WINDOWS, FOO_OLD)
    )
    wheel = files[FOO_WHEEL.filename]
    assert wheel.url == f"{server.url}/files/{FOO_WHEEL.filename}"
    assert wheel.hashes == {"sha256": FOO_WHEEL.sha256}
    assert (wheel.yanked, wheel.yanked_reason, wheel.requires_python) == (False, None, None)
    assert wheel.core_metadata is None
    linux = files[FOO_LINUX.filename]
    assert linux.requires_python == ">=3.8,<4"  # HTML-escaped on the wire
    assert linux.core_metadata == {"sha256": hashlib.sha256(FOO_LINUX.metadata).hexdigest()}
    windows = files[FOO_WINDOWS.filename]
    assert (windows.yanked, windows.yanked_reason) == (True, "broken build <b>")
    old = files[FOO_OLD.filename]
    assert (old.yanked, old.yanked_reason) == (True, None)
    digest = download_digest(wheel.url, client=client)
    assert (digest.hexdigest, digest.size) == (FOO_WHEEL.sha256, len(FOO_WHEEL.data))


def test_negotiation_sends_pep691_accept_and_parses_what_comes_back(
    server: IndexServer, client: IndexClient
) -> None:
    page = fetch_project_page(server.index_url, "foo", client=client)
    assert page.content_type == JSON_TYPE  # the server honoured our preference
    (request,) = server.requests
    assert request.headers["accept"] == PAGE_ACCEPT
    # A server that ignores Accept gets parsed by what it actually sent.
    server.page_format = "text/html"
    assert fetch_project_page(server.index_url, "foo", client=client).content_type == TEXT_HTML


@pytest.mark.parametrize("page_format", ["json", "html"])
@pytest.mark.parametrize("absolute", [False, True])
def test_relative_and_absolute_hrefs_resolve_to_the_same_urls(
    server: IndexServer, client: IndexClient, page_format: str, absolute: bool
) -> None:
    server.page_format = page_format
    server.absolute_hrefs = absolute
    page = fetch_project_page(server.index_url, "foo", client=client)
    assert {f.url for f in page.files} == {f"{server.url}/files/{name}" for name in by_name(page)}


def test_html_base_href(server: IndexServer, client: IndexClient) -> None:
    server.page_format = "html"
    server.base_href = "/files/"
    page = fetch_project_page(server.index_url, "foo", client=client)
    assert by_name(page)[FOO_WHEEL.filename].url == f"{server.url}/files/{FOO_WHEEL.filename}"


def test_file_urls_on_another_host_are_kept_absolute(
    server: IndexServer, other_server: IndexServer, client: IndexClient
) -> None:
    server.files_url = other_server.url
    page = fetch_project_page(server.index_url, "foo", client=client)
    wheel = by_name(page)[FOO_WHEEL.filename]
    assert wheel.url == f"{other_server.url}/files/{FOO_WHEEL.filename}"
    assert download_digest(wheel.url, client=client).hexdigest == FOO_WHEEL.sha256


@pytest.mark.parametrize("page_format", ["json", "html"])
def test_missing_digests(server: IndexServer, client: IndexClient, page_format: str) -> None:
    server.page_format = page_format
    server.digests = "none"
    page = fetch_project_page(server.index_url, "foo", client=client)
    assert all(f.hashes == {} for f in page.files)
    assert all("#" not in f.url for f in page.files)


@pytest.mark.parametrize("page_format", ["json", "html"])
def test_md5_only_digests(server: IndexServer, client: IndexClient, page_format: str) -> None:
    server.page_format = page_format
    server.digests = "md5"
    page = fetch_project_page(server.index_url, "foo", client=client)
    assert by_name(page)[FOO_SDIST.filename].hashes == {"md5": FOO_SDIST.md5}


def test_lying_digest_is_reported_as_served_and_the_download_tells_the_truth(
    server: IndexServer, client: IndexClient
) -> None:
    server.digests = "lie"
    wheel = by_name(fetch_project_page(server.index_url, "foo", client=client))[FOO_WHEEL.filename]
    actual = download_digest(wheel.url, client=client)
    assert wheel.hashes["sha256"] != actual.hexdigest == FOO_WHEEL.sha256


def test_name_is_normalized_before_asking(server: IndexServer, client: IndexClient) -> None:
    for spelling in ("Foo_Bar", "FOO.bar", "foo-bar"):
        page = fetch_project_page(server.index_url, spelling, client=client)
        assert [f.filename for f in page.files] == [FOO_BAR.filename]
    assert server.hits == {"/simple/foo-bar/": 3}  # no 301 detour was needed


def test_gzip_page(server: IndexServer, client: IndexClient) -> None:
    server.gzip_pages = True
    page = fetch_project_page(server.index_url, "foo", client=client)
    assert len(page.files) == 5
    assert "gzip" in server.requests[0].headers["accept-encoding"]


def test_downloads_ask_for_identity_encoding(server: IndexServer, client: IndexClient) -> None:
    download_digest(f"{server.url}/files/{FOO_WHEEL.filename}", client=client)
    assert server.requests[0].headers["accept-encoding"] == "identity"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"{not json", JSON_TYPE, "malformed JSON page"),
        (b'{"meta": {"api-version": "1.0"}}', JSON_TYPE, "no 'files' list"),
        (b'{"files": [{"url": "x.whl"}]}', JSON_TYPE, "lacks a string 'filename'"),
        (b"PK\x03\x04", "application/octet-stream", "unexpected Content-Type"),
    ],
)
def test_malformed_pages(
    server: IndexServer, client: IndexClient, body: bytes, content_type: str, expected: str
) -> None:
    server.page_body = body
    server.content_type = content_type
    with pytest.raises(IndexRequestError, match=expected) as caught:
        fetch_project_page(server.index_url, "foo", client=client)
    assert caught.value.kind == "malformed"
    assert server.hits["/simple/foo/"] == 1  # not retried


@pytest.mark.parametrize("page_format", ["json", "html"])
def test_unknown_major_api_version_is_refused(
    server: IndexServer, client: IndexClient, page_format: str
) -> None:
    server.page_format = page_format
    server.page_body = (
        b'{"meta": {"api-version": "2.0"}, "files": []}'
        if page_format == "json"
        else b'<meta name="pypi:repository-version" content="2.0"><a href="x.whl">x</a>'
    )
    with pytest.raises(IndexRequestError, match=r"unsupported repository API version 2\.0"):
        fetch_project_page(server.index_url, "foo", client=client)


def test_html_parsing_edge_cases(server: IndexServer, client: IndexClient) -> None:
    server.page_format = "html"
    digest = "AB" * 32
    server.page_body = b"""<html><body>
    <a href="#top">top</a>
    <a href="mailto:x@example.invalid">mail</a>
    <!-- <a href="commented-1.0.whl">a comment is not a link</a> -->
    <a href="../../files/My%20Pkg-1.0.tar.gz#SHA256=DIGEST&amp;egg=x">My Pkg</a>
    <a HREF="https://u:p@elsewhere.invalid/a+b-1.0.zip" data-yanked="">a</a>
    <a href="plain-1.0.whl" data-dist-info-metadata="true" data-requires-python="&gt;=3.9">p</a>
    </body></html>""".replace(b"DIGEST", digest.encode())
    files = fetch_project_page(server.index_url, "foo", client=client).files
    assert [(f.filename, f.url, f.hashes) for f in files] == [
        ("My Pkg-1.0.tar.gz", f"{server.url}/files/My%20Pkg-1.0.tar.gz", {"sha256": "ab" * 32}),
        ("a+b-1.0.zip", "https://elsewhere.invalid/a%2Bb-1.0.zip", {}),
        ("plain-1.0.whl", f"{server.index_url}foo/plain-1.0.whl", {}),
    ]
    assert (files[1].yanked, files[1].yanked_reason) == (True, None)
    assert files[2].core_metadata == {}
    assert files[2].requires_python == ">=3.9"


# -- redirects and credentials ----------------------------------------------------------------


def test_redirect_on_the_same_host_keeps_credentials(
    server: IndexServer, client: IndexClient
) -> None:
    server.auth = ("alice", PASSWORD)
    server.redirects["/old/simple/foo/"] = "/simple/foo/"
    index_url = server.index_url_with_auth("alice", PASSWORD).replace("/simple/", "/old/simple/")
    page = fetch_project_page(index_url, "foo", client=client)
    assert page.url == server.index_url + "foo/"
    assert [r.path for r in server.requests] == ["/old/simple/foo/", "/simple/foo/"]
    assert all(r.headers.get("authorization") for r in server.requests)
    # The credentials stay bound to the origin, so its file URLs download too.
    wheel = by_name(page)[FOO_WHEEL.filename]
    assert download_digest(wheel.url, client=client).hexdigest == FOO_WHEEL.sha256


def test_redirect_to_another_host_drops_url_credentials(
    server: IndexServer, other_server: IndexServer, client: IndexClient
) -> None:
    server.auth = ("alice", PASSWORD)
    server.redirects["/simple/foo/"] = other_server.index_url + "foo/"
    page = fetch_project_page(server.index_url_with_auth("alice", PASSWORD), "foo", client=client)
    assert page.url == other_server.index_url + "foo/"
    assert server.requests[0].headers.get("authorization")
    assert [r.headers.get("authorization") for r in other_server.requests] == [None]


def test_redirect_to_another_port_drops_netrc_credentials(
    server: IndexServer, other_server: IndexServer, tmp_path: Path
) -> None:
    # netrc entries name a host, not a port: they stay with the origin that was asked for.
    netrc = write_netrc(tmp_path / "netrc", "alice", PASSWORD)
    client = IndexClient(timeout=3, retries=0, netrc_path=str(netrc))
    server.auth = ("alice", PASSWORD)
    server.redirects["/simple/foo/"] = other_server.index_url + "foo/"
    fetch_project_page(server.index_url, "foo", client=client)
    assert server.requests[0].headers.get("authorization")
    assert [r.headers.get("authorization") for r in other_server.requests] == [None]


def test_credentials_in_a_redirect_location_are_not_used(
    server: IndexServer, other_server: IndexServer, client: IndexClient
) -> None:
    other_server.auth = ("mallory", "pw")
    server.redirects["/simple/foo/"] = (
        f"http://mallory:pw@127.0.0.1:{other_server.port}/simple/foo/"
    )
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page(server.index_url, "foo", client=client)
    assert caught.value.kind == "auth"
    assert "not forwarded to another host" in str(caught.value)
    assert [r.headers.get("authorization") for r in other_server.requests] == [None]


def test_401_without_credentials_is_clear_and_not_retried(
    server: IndexServer, client: IndexClient
) -> None:
    server.auth = ("alice", PASSWORD)
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page(server.index_url, "foo", client=client)
    error = caught.value
    assert (error.kind, error.status) == ("auth", 401)
    assert str(error) == (
        f"{server.index_url}foo/: HTTP 401 Unauthorized: authentication required "
        "(no credentials for this host in the URL or netrc)"
    )
    assert server.hits["/simple/foo/"] == 1


def test_401_with_url_credentials_succeeds(server: IndexServer, client: IndexClient) -> None:
    server.auth = ("alice", PASSWORD)
    page = fetch_project_page(server.index_url_with_auth("alice", PASSWORD), "foo", client=client)
    assert len(page.files) == 5
    assert server.hits["/simple/foo/"] == 1  # sent up front, no 401 round trip
    assert "@" not in page.url


def test_rejected_url_credentials_are_reported_without_the_password(
    server: IndexServer, client: IndexClient
) -> None:
    server.auth = ("alice", "right")
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page(server.index_url_with_auth("alice", PASSWORD), "foo", client=client)
    assert "credentials were rejected" in str(caught.value)
    assert "s3cr" not in str(caught.value) and "s3cr" not in repr(caught.value)


def test_401_with_netrc_file_succeeds(server: IndexServer, tmp_path: Path) -> None:
    server.auth = ("alice", "pw")
    netrc = write_netrc(tmp_path / "netrc", "alice", "pw")
    client = IndexClient(timeout=3, retries=0, netrc_path=str(netrc))
    assert len(fetch_project_page(server.index_url, "foo", client=client).files) == 5


def test_netrc_from_the_environment(
    server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.auth = ("alice", "pw")
    monkeypatch.setenv("NETRC", str(write_netrc(tmp_path / "netrc", "alice", "pw")))
    client = IndexClient(timeout=3, retries=0)
    assert len(fetch_project_page(server.index_url, "foo", client=client).files) == 5


def test_url_credentials_win_over_netrc(server: IndexServer, tmp_path: Path) -> None:
    server.auth = ("alice", "from-url")
    netrc = write_netrc(tmp_path / "netrc", "alice", "from-netrc")
    client = IndexClient(timeout=3, retries=0, netrc_path=str(netrc))
    index_url = server.index_url_with_auth("alice", "from-url")
    assert fetch_project_page(index_url, "foo", client=client).files


def test_redirect_loop_is_bounded(server: IndexServer, client: IndexClient) -> None:
    server.redirects["/simple/foo/"] = "/loop/"
    server.redirects["/loop/"] = "/simple/foo/"
    with pytest.raises(IndexRequestError, match="too many redirects") as caught:
        fetch_project_page(server.index_url, "foo", client=client)
    assert caught.value.kind == "redirect"
    assert sum(server.hits.values()) == client.transport.max_redirects + 1


# -- statuses, retries, timeouts --------------------------------------------------------------


def test_404_names_the_project_page(server: IndexServer, client: IndexClient) -> None:
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page(server.index_url, "no_such", client=client)
    assert (caught.value.kind, caught.value.status) == ("not-found", 404)
    assert str(caught.value) == (
        f"{server.index_url}no-such/: HTTP 404 Not Found: project not found on this index"
    )
    assert server.hits["/simple/no-such/"] == 1


def test_500_then_success_is_retried(server: IndexServer) -> None:
    notes: list[str] = []
    client = IndexClient(timeout=3, retries=3, backoff=0.01, log=notes.append)
    server.failures["/simple/foo/"] = 2
    page = fetch_project_page(server.index_url, "foo", client=client)
    assert len(page.files) == 5
    assert server.hits["/simple/foo/"] == 3
    assert len(notes) == 2 and "HTTP 500" in notes[0]


def test_500_forever_gives_up_after_bounded_retries(server: IndexServer) -> None:
    client = IndexClient(timeout=3, retries=2, backoff=0.01)
    server.failures["/simple/foo/"] = 10**9
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page(server.index_url, "foo", client=client)
    assert (caught.value.kind, caught.value.status) == ("http", 500)
    assert "gave up after 3 attempts" in str(caught.value)
    assert server.hits["/simple/foo/"] == 3


def test_timeout_gives_up_quickly(server: IndexServer) -> None:
    server.delay = 60  # never answers within the client's patience
    client = IndexClient(timeout=0.5, retries=1, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page(server.index_url, "foo", client=client)
    elapsed = time.monotonic() - started
    assert caught.value.kind == "timeout"
    assert "timed out" in str(caught.value)
    assert elapsed < 4
    assert server.hits["/simple/foo/"] == 2


def test_connection_refused_is_retried_then_reported(client: IndexClient) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page(f"http://alice:pw@127.0.0.1:{port}/simple/", "foo", client=client)
    assert caught.value.kind == "connection"
    assert "gave up after 3 attempts" in str(caught.value)
    assert str(caught.value).startswith(f"http://127.0.0.1:{port}/simple/foo/: connection failed")


def test_credentials_never_appear_in_errors_or_log_notes(server: IndexServer) -> None:
    notes: list[str] = []
    client = IndexClient(timeout=0.3, retries=1, backoff=0.01, log=notes.append)
    index_url = server.index_url_with_auth("alice", PASSWORD)
    errors: list[IndexRequestError] = []
    server.failures["/simple/foo/"] = 10**9
    server.redirects["/simple/foo-bar/"] = "/simple/nope/"
    for project in ("foo", "foo-bar"):
        with pytest.raises(IndexRequestError) as caught:
            fetch_project_page(index_url, project, client=client)
        errors.append(caught.value)
    server.delay = 5
    with pytest.raises(IndexRequestError) as caught:
        download_digest(index_url + "x.whl", client=client)
    errors.append(caught.value)
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [e.url for e in errors] + notes
    assert len(notes) >= 2
    for text in texts:
        assert "s3cr" not in text and "s3cr%23" not in text


# -- conditional revalidation -----------------------------------------------------------------


def test_304_revalidation(server: IndexServer, client: IndexClient) -> None:
    first = fetch_project_page(server.index_url, "foo", client=client)
    assert first.etag and first.last_modified == server.last_modified
    by_etag = revalidate_project_page(
        server.index_url, "foo", etag=first.etag, last_modified=None, client=client
    )
    assert isinstance(by_etag, NotModified)
    assert (by_etag.etag, by_etag.url) == (first.etag, first.url)
    assert server.requests[1].headers["if-none-match"] == first.etag
    by_date = revalidate_project_page(
        server.index_url, "foo", etag=None, last_modified=first.last_modified, client=client
    )
    assert isinstance(by_date, NotModified)
    assert server.requests[2].headers["if-modified-since"] == first.last_modified
    # The page changes: the stored ETag no longer matches and a full page comes back.
    server.add_project("foo", [make_wheel("foo", "2.0")])
    changed = revalidate_project_page(
        server.index_url, "foo", etag=first.etag, last_modified=None, client=client
    )
    assert isinstance(changed, ProjectPage)
    assert len(changed.files) == 6 and changed.etag != first.etag


# -- downloads --------------------------------------------------------------------------------


def test_download_digest_algorithms(server: IndexServer, client: IndexClient) -> None:
    url = f"{server.url}/files/{FOO_SDIST.filename}"
    assert download_digest(url, "sha512", client=client).hexdigest == (
        hashlib.sha512(FOO_SDIST.data).hexdigest()
    )
    with pytest.raises(ValueError, match="unknown hash algorithm"):
        download_digest(url, "sha257", client=client)
    with pytest.raises(IndexRequestError, match="file not found"):
        download_digest(f"{server.url}/files/missing.whl", client=client)


def test_download_over_the_cap_is_refused_from_content_length(
    server: IndexServer, client: IndexClient
) -> None:
    server.streams["huge.whl"] = 1 << 40  # a terabyte: only refusing up front can be this fast
    with pytest.raises(IndexRequestError, match="over the limit of 1048576 bytes") as caught:
        download_digest(f"{server.url}/files/huge.whl", max_bytes=1 << 20, client=client)
    assert caught.value.kind == "too-large"


def test_download_over_the_cap_without_length_stops_reading(
    server: IndexServer, client: IndexClient
) -> None:
    server.streams["big.whl"] = 64 << 20
    server.stream_content_length = False
    tracemalloc.start()
    try:
        with pytest.raises(IndexRequestError, match="larger than the limit of 4194304 bytes"):
            download_digest(f"{server.url}/files/big.whl", max_bytes=4 << 20, client=client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20


def test_download_streams_in_bounded_memory(server: IndexServer, client: IndexClient) -> None:
    size = 24 << 20
    server.streams["zeros.whl"] = size
    server.stream_content_length = False
    expected = hashlib.sha256()
    for _ in range(size >> 20):
        expected.update(bytes(1 << 20))
    tracemalloc.start()
    try:
        digest = download_digest(f"{server.url}/files/zeros.whl", client=client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (digest.hexdigest, digest.size) == (expected.hexdigest(), size)
    assert peak < 2 << 20


def test_truncated_download_is_retried_then_reported(server: IndexServer) -> None:
    # A body that ends before its Content-Length looks like a dropped connection.
    client = IndexClient(timeout=3, retries=1, backoff=0.01)
    server.streams["short.whl"] = 10
    server.stream_declared_length = 20
    with pytest.raises(IndexRequestError, match="connection closed after 10 of 20 bytes"):
        download_digest(f"{server.url}/files/short.whl", client=client)
    assert server.hits["/files/short.whl"] == 2


# -- find-links -------------------------------------------------------------------------------


def test_find_links_directory(tmp_path: Path, client: IndexClient) -> None:
    for dist in (FOO_WHEEL, FOO_SDIST, FOO_BAR):
        dist.write_to(tmp_path)
    (tmp_path / "README.txt").write_text("not a distribution")
    (tmp_path / "subdir.whl").mkdir()
    page = fetch_find_links(str(tmp_path), client=client)
    assert page.project is None
    files = by_name(page)
    assert sorted(files) == sorted(d.filename for d in (FOO_WHEEL, FOO_SDIST, FOO_BAR))
    assert all(f.hashes == {} for f in page.files)
    wheel = files[FOO_WHEEL.filename]
    assert wheel.url == (tmp_path / FOO_WHEEL.filename).resolve().as_uri()
    digest = download_digest(wheel.url, client=client)
    assert (digest.hexdigest, digest.size) == (FOO_WHEEL.sha256, len(FOO_WHEEL.data))
    # A file: URL of the directory and a single archive work too.
    assert by_name(fetch_find_links(tmp_path.as_uri(), client=client)) == files
    single = fetch_find_links(str(tmp_path / FOO_SDIST.filename), client=client)
    assert [f.filename for f in single.files] == [FOO_SDIST.filename]
    with pytest.raises(IndexRequestError) as caught:
        fetch_find_links(str(tmp_path / "missing"), client=client)
    assert caught.value.kind == "not-found"
    with pytest.raises(IndexRequestError, match="over the limit"):
        download_digest(wheel.url, max_bytes=10, client=client)


def test_find_links_page(server: IndexServer, client: IndexClient) -> None:
    page = fetch_find_links(server.url + "/links/", client=client)
    files = by_name(page)
    assert len(files) == 6  # the "home" and "help" links are not distributions
    assert files[FOO_BAR.filename].hashes == {"sha256": FOO_BAR.sha256}
    assert files[FOO_BAR.filename].url == f"{server.url}/files/{FOO_BAR.filename}"
    assert server.requests[0].headers["accept"].startswith("text/html")


def test_find_links_local_html_file(tmp_path: Path, client: IndexClient) -> None:
    FOO_WHEEL.write_to(tmp_path)
    html_file = tmp_path / "index.html"
    html_file.write_text(f'<a href="{FOO_WHEEL.filename}#sha256={FOO_WHEEL.sha256}">w</a>')
    page = fetch_find_links(str(html_file), client=client)
    (wheel,) = page.files
    assert wheel.hashes == {"sha256": FOO_WHEEL.sha256}
    assert download_digest(wheel.url, client=client).hexdigest == FOO_WHEEL.sha256


# -- concurrency ------------------------------------------------------------------------------


def test_many_pages_at_once_with_failures(server: IndexServer, client: IndexClient) -> None:
    names = [f"proj-{n:02d}" for n in range(24)]
    for name in names:
        server.add_project(name, [make_wheel(name, "1.0")])
    server.failures["/simple/proj-07/"] = 10**9
    server.delay = 0.1
    started = time.monotonic()
    results = fetch_project_pages(
        server.index_url, [*names, "missing", "PROJ_03"], client=client, max_workers=12
    )
    elapsed = time.monotonic() - started
    assert list(results) == [*names, "missing", "PROJ_03"]
    broken, missing = results["proj-07"], results["missing"]
    assert isinstance(broken, IndexRequestError) and broken.status == 500
    assert pickle.loads(pickle.dumps(broken)).args == broken.args
    assert isinstance(missing, IndexRequestError) and missing.kind == "not-found"
    for name in names:
        if name != "proj-07":
            page = results[name]
            assert isinstance(page, ProjectPage) and len(page.files) == 1
    assert results["PROJ_03"] is results["proj-03"]  # one request for both spellings
    assert server.hits["/simple/proj-03/"] == 1
    assert elapsed < 1.5  # 24 pages x 0.1 s each, sequentially, would take 2.4 s plus retries


def test_many_pages_revalidate_with_stored_validators(
    server: IndexServer, client: IndexClient
) -> None:
    stored = fetch_project_page(server.index_url, "foo", client=client)
    results = fetch_project_pages(
        server.index_url,
        ["foo", "foo-bar"],
        validators={"Foo": (stored.etag, stored.last_modified)},
        client=client,
    )
    assert isinstance(results["foo"], NotModified)
    assert isinstance(results["foo-bar"], ProjectPage)


def test_many_downloads_at_once(server: IndexServer, client: IndexClient) -> None:
    good = f"{server.url}/files/{FOO_WHEEL.filename}"
    bad = f"{server.url}/files/nope.whl"
    results = download_digests([good, bad], client=client)
    digest = results[good]
    assert not isinstance(digest, IndexRequestError) and digest.hexdigest == FOO_WHEEL.sha256
    assert isinstance(results[bad], IndexRequestError)


# -- transport settings -----------------------------------------------------------------------


def test_proxy_from_the_environment(
    other_server: IndexServer, client: IndexClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "index" host does not exist: only a proxy can answer for it.
    monkeypatch.setenv("http_proxy", other_server.url)
    page = fetch_project_page("http://index.invalid/simple/", "foo", client=client)
    assert len(page.files) == 5
    assert other_server.requests[0].target == "http://index.invalid/simple/foo/"


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "all_proxy"])
def test_proxy_from_the_environment_in_any_spelling(
    other_server: IndexServer,
    client: IndexClient,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    # Without a *_proxy variable the proxy settings are not read at all: with one, they are.
    monkeypatch.setenv(variable, other_server.url)
    page = fetch_project_page("http://index.invalid/simple/", "foo", client=client)
    assert len(page.files) == 5


def test_no_proxy_bypasses_the_proxy_from_the_environment(
    server: IndexServer, client: IndexClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:1")  # nothing listens there
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert len(fetch_project_page(server.index_url, "foo", client=client).files) == 5


def test_tls_with_a_custom_ca_bundle() -> None:
    with IndexServer(standard_projects(), tls=True) as tls_server:
        trusting = IndexClient(timeout=3, retries=2, backoff=0.01, cert=tls_server.ca_bundle)
        page = fetch_project_page(tls_server.index_url, "foo", client=trusting)
        assert page.url.startswith("https://127.0.0.1:")
        wheel = by_name(page)[FOO_WHEEL.filename]
        assert download_digest(wheel.url, client=trusting).hexdigest == FOO_WHEEL.sha256
        hits_before = tls_server.hits
        with pytest.raises(IndexRequestError) as caught:
            fetch_project_page(tls_server.index_url, "foo", client=IndexClient(retries=2))
        assert caught.value.kind == "tls"
        assert "TLS certificate verification failed" in str(caught.value)
        assert tls_server.hits == hits_before  # no request got through the handshake


def test_default_timeout_and_invalid_settings(tmp_path: Path) -> None:
    assert IndexClient().timeout == 15.0
    with pytest.raises(ValueError):
        IndexClient(timeout=0)
    with pytest.raises(IndexRequestError, match="cannot load CA bundle") as caught:
        fetch_project_page(
            "https://127.0.0.1:1/simple/", "foo", client=IndexClient(cert=str(tmp_path / "no.pem"))
        )
    assert caught.value.kind == "tls"
    with pytest.raises(IndexRequestError) as caught:
        fetch_project_page("ftp://example.invalid/simple/", "foo", client=IndexClient())
    assert caught.value.kind == "unsupported"


def test_importing_the_module_stays_cheap() -> None:
    code = (
        "import sys, hashpin.index; "
        "heavy = {'urllib.request', 'http.client', 'ssl', 'json', 'html.parser', "
        "'concurrent.futures', 'netrc', 'typing', 'dataclasses', 'packaging'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert output.strip() == "[]"


def test_real_pip_installs_from_the_test_index_with_hashes(
    server: IndexServer, client: IndexClient, tmp_path: Path
) -> None:
    """The server and the dists are real enough for pip --require-hashes."""
    lines = []
    for project, dist in (("foo", FOO_WHEEL), ("foo-bar", FOO_BAR)):
        page = fetch_project_page(server.index_url, project, client=client)
        file = by_name(page)[dist.filename]
        lines.append(f"{project}=={dist.version} --hash=sha256:{file.hashes['sha256']}")
    server.add_project("baz", [make_sdist("baz", "0.1")])
    baz = by_name(fetch_project_page(server.index_url, "baz", client=client)).popitem()[1]
    lines.append(f"baz==0.1 --hash=sha256:{baz.hashes['sha256']}")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PIP_") and "proxy" not in key.lower()
    }
    environment.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-input",
            "--index-url", server.index_url, "--target", str(tmp_path / "target"),
            "--require-hashes", "-r", str(requirements),
        ],
        check=True,
        env=environment,
        cwd=tmp_path,
    )  # fmt: skip
    assert (tmp_path / "target" / "foo" / "__init__.py").exists()
    assert (tmp_path / "target" / "foo_bar" / "__init__.py").exists()
    assert (tmp_path / "target" / "baz" / "__init__.py").exists()
