"""Build real, valid wheel and sdist files for tests, byte-for-byte deterministic.

Wheels follow the binary distribution format (Wheel-Version 1.0, a RECORD with correct
sha256 entries). Sdists carry PKG-INFO, a pyproject.toml and a tiny stdlib-only in-tree
PEP 517 backend, so real pip can build and install them offline
(``pip install --no-deps --no-index --target DIR file.tar.gz``).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.tags import parse_tag
from packaging.version import Version

if TYPE_CHECKING:
    from collections.abc import Iterable

# 1980-01-01 is the earliest timestamp a zip can hold; a fixed one keeps digests stable.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_TAR_MTIME = 315532800  # the same instant, for tar members and the gzip header


@dataclass(frozen=True)
class Dist:
    """One distribution file: its name on an index and its exact bytes."""

    filename: str
    data: bytes
    project: str
    version: str
    metadata: bytes = b""  # its METADATA (PKG-INFO for an sdist), as a PEP 658 file serves it

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()

    def write_to(self, directory: Path) -> Path:
        path = directory / self.filename
        path.write_bytes(self.data)
        return path


def escape_name(name: str) -> str:
    """The project name as it appears in wheel and sdist filenames (PEP 427/625)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _metadata(
    name: str,
    version: str,
    requires_python: str | None,
    requires_dist: Iterable[str] = (),
    provides_extra: Iterable[str] = (),
    *,
    metadata_version: str = "2.1",
    dynamic: Iterable[str] = (),
) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    lines.append(f"Summary: test distribution {name}")
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Dynamic: {field}" for field in dynamic]
    lines += [f"Provides-Extra: {extra}" for extra in provides_extra]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires_dist]
    return "\n".join(lines) + "\n\n"


def _zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, data in members:
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_DATE_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix everywhere, so the bytes do not depend on the host OS
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def make_wheel(
    name: str,
    version: str,
    tag: str = "py3-none-any",
    *,
    requires_python: str | None = None,
    requires_dist: Iterable[str] = (),
    provides_extra: Iterable[str] = (),
) -> Dist:
    """A wheel with one module ``<escaped name>/__init__.py`` holding ``__version__``.

    ``tag`` may be a compressed tag set such as ``py2.py3-none-any``; each expanded tag
    gets its own ``Tag:`` line in WHEEL. Root-Is-Purelib is true only for ``*-none-any``.
    ``requires_dist`` and ``provides_extra`` go into METADATA as written.
    """
    version = str(Version(version))
    dist_name = escape_name(name)
    tags = sorted(str(t) for t in parse_tag(tag))
    purelib = all(t.endswith("-none-any") for t in tags)
    dist_info = f"{dist_name}-{version}.dist-info"
    wheel_text = "Wheel-Version: 1.0\nGenerator: distmaker\n"
    wheel_text += f"Root-Is-Purelib: {'true' if purelib else 'false'}\n"
    wheel_text += "".join(f"Tag: {t}\n" for t in tags)
    metadata = _metadata(name, version, requires_python, requires_dist, provides_extra).encode()
    members = [
        (f"{dist_name}/__init__.py", f'__version__ = "{version}"\n'.encode()),
        (f"{dist_info}/METADATA", metadata),
        (f"{dist_info}/WHEEL", wheel_text.encode()),
    ]
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in members)
    record += f"{dist_info}/RECORD,,\n"
    members.append((f"{dist_info}/RECORD", record.encode()))
    filename = f"{dist_name}-{version}-{tag}.whl"
    return Dist(filename, _zip_bytes(members), name, version, metadata)


# The in-tree build backend shipped inside every sdist. It only needs the stdlib, so pip can
# build the sdist with build isolation and no network (build requires are empty).
_BACKEND_SOURCE = '''\
"""Minimal PEP 517 backend for distmaker test sdists (stdlib only)."""
import base64
import hashlib
import os
import tarfile
import zipfile

_NAME = {dist_name!r}
_VERSION = {version!r}


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist_info = _NAME + "-" + _VERSION + ".dist-info"
    with open("PKG-INFO", "rb") as f:
        metadata = f.read()
    with open(os.path.join(_NAME, "__init__.py"), "rb") as f:
        module = f.read()
    wheel = b"Wheel-Version: 1.0\\nGenerator: distmaker\\nRoot-Is-Purelib: true\\n"
    wheel += b"Tag: py3-none-any\\n"
    members = [
        (_NAME + "/__init__.py", module),
        (dist_info + "/METADATA", metadata),
        (dist_info + "/WHEEL", wheel),
    ]
    record = "".join(
        "%s,%s,%d\\n" % (path, _record_hash(data), len(data)) for path, data in members
    )
    members.append((dist_info + "/RECORD", (record + dist_info + "/RECORD,,\\n").encode()))
    filename = _NAME + "-" + _VERSION + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in members:
            archive.writestr(path, data)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    base = _NAME + "-" + _VERSION
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as archive:
        for entry in sorted(os.listdir(".")):
            archive.add(entry, arcname=base + "/" + entry)
    return filename
'''


def make_sdist(
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    requires_dist: Iterable[str] = (),
    metadata_version: str = "2.1",
    dynamic: Iterable[str] = (),
) -> Dist:
    """A ``.tar.gz`` sdist (PEP 625 name) with PKG-INFO, pyproject.toml and one module.

    PKG-INFO says ``metadata_version``; from 2.2 on, its Requires-Dist can be relied on
    unless ``dynamic`` names it (PEP 643).
    """
    version = str(Version(version))
    dist_name = escape_name(name)
    base = f"{dist_name}-{version}"
    pyproject = (
        "[build-system]\n"
        "requires = []\n"
        'build-backend = "distmaker_backend"\n'
        'backend-path = ["."]\n'
        "\n"
        "[project]\n"
        f'name = "{name}"\n'
        f'version = "{version}"\n'
    )
    pkg_info = _metadata(
        name,
        version,
        requires_python,
        requires_dist,
        metadata_version=metadata_version,
        dynamic=dynamic,
    ).encode()
    members = [
        ("PKG-INFO", pkg_info),
        ("pyproject.toml", pyproject.encode()),
        (
            "distmaker_backend.py",
            _BACKEND_SOURCE.format(dist_name=dist_name, version=version).encode(),
        ),
        (f"{dist_name}/__init__.py", f'__version__ = "{version}"\n'.encode()),
    ]
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory in (base, f"{base}/{dist_name}"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = _TAR_MTIME
            archive.addfile(info)
        for path, data in members:
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = _TAR_MTIME
            archive.addfile(info, io.BytesIO(data))
    gz_buffer = io.BytesIO()
    # filename="" and a fixed mtime keep the gzip header identical on every run.
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buffer, mtime=_TAR_MTIME) as gz:
        gz.write(tar_buffer.getvalue())
    return Dist(f"{base}.tar.gz", gz_buffer.getvalue(), name, version, pkg_info)
