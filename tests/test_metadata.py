"""Core metadata read from a real index on 127.0.0.1: PEP 658 files (digest checked),
range requests into a wheel's zip, whole wheels and sdists when nothing cheaper works."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from indexserver import IndexServer, ServedFile

from hashpin.index import IndexClient, fetch_project_page
from hashpin.metadata import MetadataError, fetch_metadata, parse_metadata

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hashpin.simple import DistFile

REQUIRES = [
    "urllib3<3,>=1.21.1",
    "charset-normalizer<4,>=2",
    'PySocks!=1.5.7,>=1.5.6; extra == "socks"',
]
WHEEL = make_wheel("requests", "2.32.3", requires_dist=REQUIRES, provides_extra=["socks"],
                   requires_python=">=3.8")  # fmt: skip
PLAIN = make_wheel("plain", "1.0", requires_dist=["idna>=2.5"])
MODERN_SDIST = make_sdist("modern", "1.0", metadata_version="2.2", requires_dist=["idna>=2.5"])
DYNAMIC_SDIST = make_sdist(
    "dynamic", "1.0", metadata_version="2.2", requires_dist=["x"], dynamic=["Requires-Dist"]
)
OLD_SDIST = make_sdist("old", "1.0", requires_dist=["idna"])


@pytest.fixture
def server() -> Iterator[IndexServer]:
    projects: dict[str, list[Dist | ServedFile]] = {
        "requests": [ServedFile(WHEEL, core_metadata=True)],
        "plain": [PLAIN],
        "modern": [MODERN_SDIST],
        "dynamic": [DYNAMIC_SDIST],
        "old": [OLD_SDIST],
    }
    with IndexServer(projects) as running:
        yield running


@pytest.fixture
def client() -> IndexClient:
    return IndexClient(timeout=3, retries=0, proxies={})


def the_file(server: IndexServer, client: IndexClient, project: str) -> DistFile:
    (dist,) = fetch_project_page(server.index_url, project, client=client).files
    return dist


def test_pep_658_metadata_is_read_from_its_own_file(
    server: IndexServer, client: IndexClient
) -> None:
    metadata = fetch_metadata(client, the_file(server, client, "requests"))
    assert (metadata.name, metadata.version) == ("requests", "2.32.3")
    assert metadata.requires_dist == REQUIRES
    assert metadata.provides_extra == ["socks"]
    assert metadata.requires_python == ">=3.8"
    assert server.hits[f"/files/{WHEEL.filename}.metadata"] == 1
    assert server.hits[f"/files/{WHEEL.filename}"] == 0  # the wheel itself is never fetched


def test_a_metadata_file_with_the_wrong_digest_is_refused(
    server: IndexServer, client: IndexClient
) -> None:
    server.metadata_lies = True
    with pytest.raises(MetadataError, match=r"hashes to sha256:.*; refused"):
        fetch_metadata(client, the_file(server, client, "requests"))


def test_a_wheel_without_pep_658_is_read_with_range_requests(
    server: IndexServer, client: IndexClient
) -> None:
    metadata = fetch_metadata(client, the_file(server, client, "plain"))
    assert metadata.requires_dist == ["idna>=2.5"]
    ranges = [r.headers.get("range") for r in server.requests if r.path.endswith(".whl")]
    assert ranges and all(ranges)  # only ranges, never the whole file
    assert len(ranges) == 1  # a small wheel comes whole with the first range: nothing more


def test_without_range_support_the_whole_wheel_is_read(
    server: IndexServer, client: IndexClient
) -> None:
    server.ranges = False
    assert fetch_metadata(client, the_file(server, client, "plain")).requires_dist == ["idna>=2.5"]


def test_a_modern_sdist_tells_its_dependencies_and_others_do_not(
    server: IndexServer, client: IndexClient
) -> None:
    assert fetch_metadata(client, the_file(server, client, "modern")).requires_dist == ["idna>=2.5"]
    for project, why in (("dynamic", "Requires-Dist is dynamic"), ("old", "Metadata-Version 2.1")):
        with pytest.raises(MetadataError, match=why) as caught:
            fetch_metadata(client, the_file(server, client, project))
        assert caught.value.unknown


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x05\x06" + b"\0" * 18, b"\xff" * 5000, b"PK\x03\x04" + b"x" * 100],
    ids=["empty", "empty zip", "junk", "truncated"],
)
def test_a_wheel_that_is_not_a_zip_is_one_error(
    server: IndexServer, client: IndexClient, data: bytes
) -> None:
    broken = Dist("broken-1.0-py3-none-any.whl", data, "broken", "1.0")
    server.add_project("broken", [broken])
    with pytest.raises(MetadataError):
        fetch_metadata(client, the_file(server, client, "broken"))


def test_malformed_metadata_is_one_error() -> None:
    with pytest.raises(MetadataError, match="no Name or Version"):
        parse_metadata(b"Metadata-Version: 2.1\n\n", "x.whl")
