"""Core metadata of a distribution file (Requires-Dist, Requires-Python, Provides-Extra),
read without installing it, as cheaply as the index allows:

1. the PEP 658/714 metadata file next to it, when the index offers one, checked against
   the digest the index gives for it;
2. else, for a wheel, ``*.dist-info/METADATA`` read with HTTP range requests: the end of
   the zip (its central directory) first, then that one member (as pip's lazy wheel does);
3. else the whole file: a wheel's METADATA, or an sdist's PKG-INFO when its
   Metadata-Version is 2.2 or later and Requires-Dist is not Dynamic (PEP 643); an older
   or dynamic sdist has unknown dependencies.

Mechanism only, on top of the transport; the online rules decide what the metadata means.
Everything here is untrusted input: sizes are capped, a zip is read only within what was
fetched, and a malformed file is a :class:`MetadataError`, never an exception of zlib,
zipfile or tarfile.
"""

from __future__ import annotations

import struct

from .transport import IndexRequestError, read_capped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .index import IndexClient
    from .simple import DistFile
    from .transport import Response

MAX_METADATA_BYTES = 16 * 1024 * 1024  # real METADATA files are a few KiB, rarely 1 MiB
MAX_SDIST_BYTES = 256 * 1024 * 1024
TAIL_BYTES = 64 * 1024  # one range request usually holds the whole central directory

_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"


class MetadataError(Exception):
    """The metadata of a file cannot be had: ``reason`` says why in one line."""

    def __init__(self, filename: str, reason: str, *, unknown: bool = False) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason
        self.unknown = unknown  # readable, but it does not say (dynamic or old sdist)


class CoreMetadata:
    """What the online check needs of a distribution's metadata."""

    __slots__ = ("name", "provides_extra", "requires_dist", "requires_python", "version")

    def __init__(
        self,
        name: str,
        version: str,
        requires_dist: list[str],
        requires_python: str | None,
        provides_extra: list[str],
    ) -> None:
        self.name = name
        self.version = version
        self.requires_dist = requires_dist
        self.requires_python = requires_python
        self.provides_extra = provides_extra

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CoreMetadata | None:
        """The metadata a cache entry holds, or None for a damaged entry."""
        name, version, python = data.get("name"), data.get("version"), data.get("requires_python")
        requires, extras = _strings(data.get("requires_dist")), _strings(data.get("provides_extra"))
        if not (isinstance(name, str) and isinstance(version, str)):
            return None
        if requires is None or extras is None or not (python is None or isinstance(python, str)):
            return None
        return cls(name, version, requires, python, extras)


def _strings(value: object) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return [str(item) for item in value]


def parse_metadata(data: bytes, filename: str, *, sdist: bool = False) -> CoreMetadata:
    """The fields of a METADATA or PKG-INFO file (RFC 822 headers; the body is ignored).

    For an sdist (``sdist``), dependencies are known only from Metadata-Version 2.2 on,
    and only when Requires-Dist is not Dynamic (PEP 643).
    """
    from email.parser import BytesHeaderParser

    try:
        headers = BytesHeaderParser().parsebytes(data)
    except Exception as exc:  # the email package raises many kinds on junk
        raise MetadataError(filename, f"malformed metadata: {exc}") from None
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        raise MetadataError(filename, "malformed metadata: no Name or Version")
    if sdist:
        declared = (headers.get("Metadata-Version") or "0").strip()
        dynamic = {value.strip().lower() for value in headers.get_all("Dynamic") or []}
        if _version_tuple(declared) < (2, 2) or "requires-dist" in dynamic:
            why = (
                "Requires-Dist is dynamic"
                if "requires-dist" in dynamic
                else (f"Metadata-Version {declared} does not promise its dependencies")
            )
            raise MetadataError(
                filename, f"an sdist's dependencies are unknown: {why}", unknown=True
            )
    return CoreMetadata(
        str(name).strip(),
        str(version).strip(),
        [str(value).strip() for value in headers.get_all("Requires-Dist") or []],
        (str(headers["Requires-Python"]).strip() or None)
        if headers.get("Requires-Python")
        else None,
        [str(value).strip() for value in headers.get_all("Provides-Extra") or []],
    )


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (0,)


def fetch_metadata(client: IndexClient, dist: DistFile) -> CoreMetadata:
    """The core metadata of one file, by the cheapest way the index offers."""
    name = dist.filename
    try:
        if dist.core_metadata is not None:
            return parse_metadata(_metadata_file(client, dist), name)
        lower = name.lower()
        if lower.endswith(".whl"):
            return parse_metadata(_wheel_metadata(client, dist), name)
        if lower.endswith((".tar.gz", ".zip")):
            return parse_metadata(_sdist_pkg_info(client, dist), name, sdist=True)
    except IndexRequestError as exc:
        raise MetadataError(name, str(exc)) from None
    raise MetadataError(name, "not a wheel or an sdist hashpin can read", unknown=True)


def _metadata_file(client: IndexClient, dist: DistFile) -> bytes:
    """The PEP 658 file, checked against the digest the index gives for it."""
    import hashlib

    url = dist.url + ".metadata"
    body = client.transport.get(
        url,
        {"Accept": "*/*", "Accept-Encoding": "identity"},
        lambda response: read_capped(response, MAX_METADATA_BYTES),
        not_found="metadata file not found",
    )
    for algorithm, expected in (dist.core_metadata or {}).items():
        if algorithm in ("sha256", "sha384", "sha512"):
            actual = hashlib.new(algorithm, body).hexdigest()
            if actual != expected:
                raise MetadataError(
                    dist.filename,
                    f"the index says its metadata file has {algorithm}:{expected}, "
                    f"but it hashes to {algorithm}:{actual}; refused",
                )
    return body


def _wheel_metadata(client: IndexClient, dist: DistFile) -> bytes:
    """``*.dist-info/METADATA`` of a wheel: by range requests when the server allows
    (the zip's end, then the member), else from the whole file."""
    name, url = dist.filename, dist.url
    tail, size = _get_range(client, url, None, TAIL_BYTES)
    if size is None:  # the server sent the whole file
        directory_at, directory_size = _central_directory(tail, len(tail), name)
        entry = _find_metadata(tail, directory_at, directory_size, name)
        return _read_local(tail, entry[0], entry, name)
    tail_at = size - len(tail)
    directory_at, directory_size = _central_directory(tail, size, name)
    if directory_at < tail_at:  # a central directory larger than the first guess
        tail, _ = _get_range(client, url, directory_at, size - directory_at)
        tail_at = directory_at
    entry = _find_metadata(tail, directory_at - tail_at, directory_size, name)
    header_at, compressed = entry[0], entry[1]
    needed = 30 + 1024 + compressed  # the local header repeats the name, with an extra field
    at = header_at - tail_at
    if at >= 0 and at + 30 <= len(tail) and tail[at : at + 4] == _LOCAL:
        name_length, extra_length = struct.unpack_from("<HH", tail, at + 26)
        needed = 30 + name_length + extra_length + compressed  # exact: often in hand already
    for _ in range(2):
        if tail_at <= header_at and header_at + needed <= tail_at + len(tail):
            return _read_local(tail, header_at - tail_at, entry, name)
        tail, _ = _get_range(client, url, header_at, min(needed, size - header_at))
        tail_at = header_at
        if len(tail) >= 30 and tail[:4] == _LOCAL:
            name_length, extra_length = struct.unpack_from("<HH", tail, 26)
            needed = 30 + name_length + extra_length + compressed
    return _read_local(tail, header_at - tail_at, entry, name)


def _get_range(
    client: IndexClient, url: str, start: int | None, length: int
) -> tuple[bytes, int | None]:
    """Bytes ``start``..``start+length`` (``start`` None: the last ``length`` bytes) and
    the file's size; when the server ignores ranges, the whole file (capped) and None."""
    wanted = f"bytes=-{length}" if start is None else f"bytes={start}-{start + length - 1}"

    def consume(response: Response) -> tuple[bytes, int | None]:
        if response.status == 206:
            total = (response.headers.get("Content-Range") or "").rpartition("/")[2]
            body = read_capped(response, length)
            if not total.isdigit():
                raise IndexRequestError(
                    url, "a range answer without the file's size", kind="malformed"
                )
            return body, int(total)
        return read_capped(response, MAX_SDIST_BYTES), None

    return client.transport.get(
        url,
        {"Accept": "*/*", "Accept-Encoding": "identity", "Range": wanted},
        consume,
        not_found="file not found",
        accept_partial=True,
    )


def _central_directory(tail: bytes, size: int, filename: str) -> tuple[int, int]:
    """(offset, size) of the zip's central directory, from its end record in ``tail``."""
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        raise MetadataError(filename, "not a zip file (no end of central directory)")
    directory_size, directory_at = struct.unpack_from("<II", tail, at + 12)
    if directory_at == 0xFFFFFFFF or directory_size == 0xFFFFFFFF:
        raise MetadataError(filename, "a zip64 wheel: read whole", unknown=False)
    if directory_at + directory_size > size:
        raise MetadataError(filename, "malformed zip: central directory past the end")
    return directory_at, directory_size


def _find_metadata(data: bytes, at: int, length: int, filename: str) -> tuple[int, int, int, int]:
    """(local header offset, compressed size, uncompressed size, method) of the one
    ``<name>.dist-info/METADATA`` member, from the central directory at ``data[at:]``."""
    end = at + length
    found: list[tuple[int, int, int, int]] = []
    while at + 46 <= end:
        if data[at : at + 4] != _CENTRAL:
            raise MetadataError(filename, "malformed zip: bad central directory entry")
        (method,) = struct.unpack_from("<H", data, at + 10)
        compressed, uncompressed, name_length, extra_length, comment_length = struct.unpack_from(
            "<IIHHH", data, at + 20
        )
        (header_at,) = struct.unpack_from("<I", data, at + 42)
        name = data[at + 46 : at + 46 + name_length].decode("utf-8", "replace")
        parts = name.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
            found.append((header_at, compressed, uncompressed, method))
        at += 46 + name_length + extra_length + comment_length
    if len(found) != 1:
        raise MetadataError(filename, f"a wheel with {len(found)} METADATA files, not one")
    if found[0][2] > MAX_METADATA_BYTES:
        raise MetadataError(filename, "METADATA is larger than the limit")
    return found[0]


def _read_local(window: bytes, at: int, entry: tuple[int, int, int, int], filename: str) -> bytes:
    """The member's bytes, from its local header at ``window[at:]``, inflated."""
    import zlib

    _, compressed, uncompressed, method = entry
    if at < 0 or window[at : at + 4] != _LOCAL:
        raise MetadataError(filename, "malformed zip: bad local header")
    name_length, extra_length = struct.unpack_from("<HH", window, at + 26)
    start = at + 30 + name_length + extra_length
    raw = window[start : start + compressed]
    if len(raw) != compressed:
        raise MetadataError(filename, "malformed zip: member past what was read")
    if method == 0:
        data = raw
    elif method == 8:
        try:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            data = inflater.decompress(raw, MAX_METADATA_BYTES + 1)
        except zlib.error as exc:
            raise MetadataError(filename, f"malformed zip member: {exc}") from None
    else:
        raise MetadataError(filename, f"METADATA compressed with method {method}, not read")
    if len(data) != uncompressed:
        raise MetadataError(filename, "malformed zip member: wrong size")
    return data


def _sdist_pkg_info(client: IndexClient, dist: DistFile) -> bytes:
    """The top-level PKG-INFO of an sdist, from the whole file (capped)."""
    import io

    body = client.transport.get(
        dist.url,
        {"Accept": "*/*", "Accept-Encoding": "identity"},
        lambda response: read_capped(response, MAX_SDIST_BYTES),
        not_found="file not found",
    )
    name = dist.filename
    try:
        if name.lower().endswith(".zip"):
            import zipfile

            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                member = _top_pkg_info(archive.namelist(), name)
                return archive.read(member)[: MAX_METADATA_BYTES + 1]
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            member = _top_pkg_info(archive.getnames(), name)
            handle = archive.extractfile(member)
            if handle is None:
                raise MetadataError(name, "PKG-INFO is not a file")
            return handle.read(MAX_METADATA_BYTES + 1)
    except MetadataError:
        raise
    except Exception as exc:  # zipfile, tarfile and gzip raise many kinds on junk
        raise MetadataError(name, f"malformed sdist: {exc}") from None


def _top_pkg_info(names: list[str], filename: str) -> str:
    found = [name for name in names if name.count("/") == 1 and name.endswith("/PKG-INFO")]
    if len(found) != 1:
        raise MetadataError(filename, "an sdist without one top-level PKG-INFO", unknown=True)
    return found[0]
