"""Made-up projects that pad the benchmark's requirements file to 100+ projects.

``synthetic_projects(count, folder)`` writes, for each of ``count`` projects named
``hashpin-synth-NNN`` (version 1.0.0, no dependency), real but small distribution files
into ``folder``: an sdist and a ``py3-none-any`` wheel, and for every third project 8
platform wheels too (cp310..cp313 for manylinux x86_64 and macOS arm64), as a compiled
project has. The wheels are valid (``METADATA``, ``WHEEL``, ``RECORD``) so that resolvers
can read them, and each has its ``<filename>.metadata`` next to it (PEP 658). The bytes
depend only on the name, so every run serves the same digests. Each file holds 8 to 64
KiB of incompressible filler.

``synthetic_history(projects)`` gives each of them 10 to 49 older versions (0.1.0, 0.2.0,
...) with the same layout of files, listed by the index with made-up digests and never
served, as a project's page on PyPI lists its past releases.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from bench_data import DistFile, Listed, Project

VERSION = "1.0.0"
REQUIRES_PYTHON = ">=3.9"
UPLOAD_TIME = "2025-06-01T00:00:00.000000Z"
PLATFORMS = ("manylinux_2_17_x86_64.manylinux2014_x86_64", "macosx_11_0_arm64")
PYTHONS = ("cp310", "cp311", "cp312", "cp313")
_DATE = (2025, 6, 1, 0, 0, 0)


def synthetic_name(number: int) -> str:
    return f"hashpin-synth-{number:03d}"


def _filler(seed: str, size: int) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


def _metadata(
    name: str,
    version: str = VERSION,
    *,
    requires_python: str = REQUIRES_PYTHON,
    requires_dist: Sequence[str] = (),
    provides_extra: Sequence[str] = (),
    summary: str = "A made-up project of the hashpin fix benchmark",
) -> bytes:
    extras = "".join(f"Provides-Extra: {extra}\n" for extra in provides_extra)
    requires = "".join(f"Requires-Dist: {requirement}\n" for requirement in requires_dist)
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {version}\n"
        f"Summary: {summary}\n"
        f"Requires-Python: {requires_python}\n{extras}{requires}\n"
    ).encode()


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def _wheel(
    name: str, tag: str, size: int, metadata: bytes | None = None, version: str = VERSION
) -> bytes:
    """A valid wheel of ``name`` for ``tag``; ``metadata`` is its METADATA (default: the
    made-up project's, without dependencies)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    python, abi, platforms = tag.split("-")
    tags = "".join(f"Tag: {python}-{abi}-{platform}\n" for platform in platforms.split("."))
    members = {
        f"{module}/__init__.py": b"",
        f"{module}/filler.bin": _filler(name + tag, size),
        f"{dist_info}/METADATA": _metadata(name) if metadata is None else metadata,
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hashpin-bench\n"
            f"Root-Is-Purelib: {'true' if abi == 'none' else 'false'}\n{tags}"
        ).encode(),
    }
    record = "".join(_record_line(path, data) for path, data in members.items())
    members[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, _DATE), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _sdist(name: str, size: int, pkg_info: bytes | None = None, version: str = VERSION) -> bytes:
    """An sdist of ``name``; ``pkg_info`` is its PKG-INFO (default: as ``_wheel``)."""
    module = name.replace("-", "_")
    root = f"{module}-{version}"
    members = {
        f"{root}/PKG-INFO": _metadata(name) if pkg_info is None else pkg_info,
        f"{root}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode(),
        f"{root}/{module}/__init__.py": b"",
        f"{root}/{module}/filler.bin": _filler(name, size),
    }
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _dist_file(
    filename: str, data: bytes, metadata: bytes | None, requires_python: str = REQUIRES_PYTHON
) -> DistFile:
    return DistFile(
        filename=filename,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data).hexdigest(),
        blake2b_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
        requires_python=requires_python,
        upload_time=UPLOAD_TIME,
        metadata_sha256=hashlib.sha256(metadata).hexdigest() if metadata else None,
    )


def synthetic_projects(count: int, folder: Path) -> dict[str, Project]:
    folder.mkdir(parents=True, exist_ok=True)
    projects: dict[str, Project] = {}
    for number in range(count):
        name = synthetic_name(number)
        module = name.replace("-", "_")
        size = 8 * 1024 + (number * 7919) % (56 * 1024)
        tags = ["py3-none-any"]
        if number % 3 == 0:
            tags += [f"{py}-{py}-{platform}" for py in PYTHONS for platform in PLATFORMS]
        built: list[tuple[str, bytes, bytes | None]] = [
            (f"{module}-{VERSION}.tar.gz", _sdist(name, size), None)
        ]
        built += [(f"{module}-{VERSION}-{tag}.whl", _wheel(name, tag, size), _metadata(name))
                  for tag in tags]  # fmt: skip
        files = []
        for filename, data, metadata in built:
            (folder / filename).write_bytes(data)
            if metadata is not None:
                (folder / f"{filename}.metadata").write_bytes(metadata)
            files.append(_dist_file(filename, data, metadata))
        projects[name] = Project(name, VERSION, tuple(sorted(files, key=lambda f: f.filename)))
    return projects


def synthetic_history(projects: dict[str, Project]) -> dict[str, tuple[Listed, ...]]:
    history: dict[str, tuple[Listed, ...]] = {}
    for number, (name, project) in enumerate(sorted(projects.items())):
        listed = []
        for minor in range(1, 10 + (number * 13) % 40 + 1):
            old = f"0.{minor}.0"
            for dist in project.files:
                filename = dist.filename.replace(f"-{VERSION}", f"-{old}", 1)
                made_up = hashlib.sha256(filename.encode()).hexdigest()
                wheel = filename.endswith(".whl")
                listed.append(
                    Listed(
                        filename=filename,
                        version=old,
                        sha256=made_up,
                        size=dist.size,
                        requires_python=REQUIRES_PYTHON,
                        upload_time=f"2024-{1 + minor % 12:02d}-01T00:00:00.000000Z",
                        yanked=False,
                        metadata_sha256=hashlib.sha256(made_up.encode()).hexdigest()
                        if wheel
                        else None,
                    )
                )
        history[name] = tuple(listed)
    return history


# For benchmarks that make projects of their own (bench_deps): the same makers, by name.
core_metadata = _metadata
wheel_bytes = _wheel
sdist_bytes = _sdist
dist_file = _dist_file
