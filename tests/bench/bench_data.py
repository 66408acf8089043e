"""The real distribution files that ``bench_fix.py`` serves, downloaded once from PyPI.

``ensure_data(data_dir)`` makes ``data_dir/files/`` hold, for each project of ``PINS``,
at most ``MAX_FILES`` real files of the pinned version (the sdist, the wheel this
interpreter would install, and an even spread of the other wheels; nothing over
``MAX_SIZE``), and writes ``data_dir/manifest.json`` describing them. The first call
reads PyPI's simple API (PEP 691 JSON) with urllib, downloads the files and checks
each against PyPI's sha256; later calls read the manifest and only check the files
are still there, whole. Each wheel's ``METADATA`` is also stored next to it as
``<filename>.metadata`` so that the bench index can serve PEP 658 metadata, as PyPI
does.

Every project was chosen for having no unconditional ``Requires-Dist`` in the
pinned version, so that resolvers need nothing else from the index.

``ensure_history(data_dir)`` keeps, in ``data_dir/history.json``, what PyPI's page of each
project listed for its other versions when first asked (names, sha256, sizes: about 57,000
files, none downloaded), so that the bench index can serve pages as large as PyPI's.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import sys
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from packaging.tags import sys_tags
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)

PYPI_SIMPLE = "https://pypi.org/simple/"
PEP691_JSON = "application/vnd.pypi.simple.v1+json"
USER_AGENT = "hashpin-bench/1 (tests/bench/bench_fix.py)"
MAX_FILES = 12
MAX_SIZE = 10 * 1024 * 1024
MANIFEST_VERSION = 1
HISTORY_VERSION = 1

# name -> version. None of them has an unconditional runtime dependency in this version
# (checked in each wheel's METADATA; extras only). Mostly compiled projects with many
# platform wheels, plus a few pure-Python ones with one wheel and one sdist.
PINS: dict[str, str] = {
    "bcrypt": "5.0.0",
    "brotli": "1.2.1",
    "charset-normalizer": "3.5.2",
    "coverage": "7.17.4",
    "frozenlist": "1.8.0",
    "greenlet": "3.5.6",
    "idna": "3.20",
    "markupsafe": "3.0.4",
    "msgpack": "1.2.4",
    "mypy-extensions": "1.2.0",
    "packaging": "26.3",
    "psutil": "7.2.2",
    "pyyaml": "6.0.4",
    "regex": "2026.11.19",
    "rpds-py": "2026.9.1",
    "simplejson": "4.3.0",
    "six": "1.17.0",
    "tomli": "2.5.0",
    "typing-extensions": "4.16.0",
    "ujson": "6.1.0",
    "websockets": "17.4",
    "wrapt": "2.5.2",
    "xxhash": "4.1.0",
    "zipp": "4.1.2",
    "zstandard": "0.25.0",
}


@dataclass(frozen=True)
class DistFile:
    filename: str
    size: int
    sha256: str
    md5: str
    blake2b_256: str
    requires_python: str | None
    upload_time: str | None
    metadata_sha256: str | None  # of <filename>.metadata, wheels only


@dataclass(frozen=True)
class Project:
    name: str  # normalized
    version: str
    files: tuple[DistFile, ...]


@dataclass(frozen=True)
class Listed:
    """A file of another version than the pinned one: listed by the bench index, never
    served (its bytes are not here)."""

    filename: str
    version: str | None  # None when the filename does not say (old .exe, .egg, ...)
    sha256: str
    size: int
    requires_python: str | None
    upload_time: str | None
    yanked: bool | str
    metadata_sha256: str | None


class DataError(Exception):
    pass


def is_sdist(filename: str) -> bool:
    return filename.endswith((".tar.gz", ".zip"))


def python_tag(filename: str) -> str:
    """What PyPI's legacy JSON API calls ``python_version``: the wheel's tag or "source"."""
    if not filename.endswith(".whl"):
        return "source"
    return filename[:-4].split("-")[-3]


# -- choosing and downloading ------------------------------------------------------------


def _get(url: str, accept: str = "*/*", timeout: float = 120.0) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read()
        return body


def version_of(filename: str, name: str) -> str | None:
    """The version a wheel's or sdist's filename names, when it is one of ``name``."""
    if filename.endswith(".whl"):
        try:
            wheel_name, wheel_version, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        return str(wheel_version) if wheel_name == name else None
    if is_sdist(filename):
        stem = re.sub(r"\.(tar\.gz|zip)$", "", filename)
        sdist_name, _, sdist_version = stem.rpartition("-")
        return sdist_version if canonicalize_name(sdist_name) == name else None
    return None


def _files_of_version(page: dict[str, Any], name: str, version: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in page["files"]
        if not entry.get("yanked") and version_of(entry["filename"], name) == version
    ]


def choose(entries: list[dict[str, Any]], limit: int = MAX_FILES) -> list[dict[str, Any]]:
    """The sdist, the wheel this interpreter would pick, then an even spread of the rest."""
    small = sorted(
        (entry for entry in entries if int(entry.get("size") or 0) <= MAX_SIZE),
        key=lambda entry: str(entry["filename"]),
    )
    chosen: list[dict[str, Any]] = [e for e in small if is_sdist(e["filename"])][:1]
    wheels = [entry for entry in small if entry["filename"].endswith(".whl")]
    rank = {tag: index for index, tag in enumerate(sys_tags())}

    def best(entry: dict[str, Any]) -> int:
        _, _, _, tags = parse_wheel_filename(entry["filename"])
        return min((rank[tag] for tag in tags if tag in rank), default=len(rank))

    if wheels:
        host = min(wheels, key=best)
        if best(host) < len(rank):
            chosen.append(host)
    rest = [wheel for wheel in wheels if wheel not in chosen]
    room = limit - len(chosen)
    if room >= len(rest):
        chosen += rest
    elif room == 1:
        chosen.append(rest[len(rest) // 2])
    elif room > 1:
        chosen += [rest[round(i * (len(rest) - 1) / (room - 1))] for i in range(room)]
    return sorted(chosen, key=lambda entry: str(entry["filename"]))


def _wheel_metadata(path: Path) -> bytes | None:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        return archive.read(names[0]) if len(names) == 1 else None


def _unconditional_requirements(metadata: bytes) -> list[str]:
    found = []
    for line in metadata.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break  # the body starts
        if line.lower().startswith("requires-dist:"):
            value = line.partition(":")[2].strip()
            if "extra" not in value.partition(";")[2]:
                found.append(value)
    return found


def _write_atomically(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + f".part{os.getpid()}")
    part.write_bytes(data)
    os.replace(part, path)


def _download(entry: dict[str, Any], files_dir: Path) -> DistFile:
    filename: str = entry["filename"]
    expected = entry["hashes"]["sha256"]
    path = files_dir / filename
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == expected:
        data = path.read_bytes()
    else:
        data = _get(entry["url"])
        got = hashlib.sha256(data).hexdigest()
        if got != expected:
            raise DataError(f"{filename}: sha256 {got} but PyPI says {expected}")
        _write_atomically(path, data)
    metadata_sha256 = None
    if filename.endswith(".whl"):
        metadata = _wheel_metadata(path)
        if metadata is not None:
            _write_atomically(files_dir / (filename + ".metadata"), metadata)
            metadata_sha256 = hashlib.sha256(metadata).hexdigest()
    return DistFile(
        filename=filename,
        size=len(data),
        sha256=expected,
        md5=hashlib.md5(data).hexdigest(),
        blake2b_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
        requires_python=entry.get("requires-python") or None,
        upload_time=entry.get("upload-time"),
        metadata_sha256=metadata_sha256,
    )


def fetch_project(name: str, version: str, files_dir: Path, log: bool = True) -> Project:
    page = json.loads(_get(f"{PYPI_SIMPLE}{name}/", accept=PEP691_JSON))
    entries = choose(_files_of_version(page, name, version))
    if not entries:
        raise DataError(f"{name} {version}: PyPI lists no file of at most {MAX_SIZE} bytes")
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        files = tuple(pool.map(lambda entry: _download(entry, files_dir), entries))
    for dist in files:
        metadata_path = files_dir / (dist.filename + ".metadata")
        if dist.metadata_sha256 and _unconditional_requirements(metadata_path.read_bytes()):
            raise DataError(f"{dist.filename} has runtime dependencies: choose another project")
    if log:
        megabytes = sum(dist.size for dist in files) / 1e6
        print(f"bench: {name}=={version}: {len(files)} files, {megabytes:.1f} MB", file=sys.stderr)
    return Project(name, version, files)


# -- the manifest --------------------------------------------------------------------------


def _load_manifest(path: Path) -> dict[str, Project] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if raw.get("version") != MANIFEST_VERSION:
        return None
    projects = {}
    for name, data in raw["projects"].items():
        files = tuple(DistFile(**entry) for entry in data["files"])
        projects[name] = Project(name, data["version"], files)
    return projects


def _save_manifest(path: Path, projects: dict[str, Project]) -> None:
    raw = {
        "version": MANIFEST_VERSION,
        "projects": {
            name: {"version": p.version, "files": [asdict(dist) for dist in p.files]}
            for name, p in sorted(projects.items())
        },
    }
    _write_atomically(path, (json.dumps(raw, indent=1) + "\n").encode())


def _intact(project: Project, files_dir: Path) -> bool:
    for dist in project.files:
        path = files_dir / dist.filename
        if not path.is_file() or path.stat().st_size != dist.size:
            return False
        if dist.metadata_sha256 and not (files_dir / (dist.filename + ".metadata")).is_file():
            return False
    return True


def ensure_data(data_dir: Path, *, verify: bool = False) -> dict[str, Project]:
    """The projects of ``PINS``, downloading whatever ``data_dir`` lacks."""
    files_dir = data_dir / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    manifest = data_dir / "manifest.json"
    projects = _load_manifest(manifest) or {}
    wanted = {}
    for name, version in PINS.items():
        known = projects.get(name)
        if known is None or known.version != version or not _intact(known, files_dir):
            wanted[name] = version
    if wanted:
        print(
            f"bench: downloading {len(wanted)} projects from PyPI into {files_dir}", file=sys.stderr
        )
        for name, version in wanted.items():
            projects[name] = fetch_project(name, version, files_dir)
            _save_manifest(manifest, {n: p for n, p in projects.items() if n in PINS})
    if verify:
        for project in projects.values():
            for dist in project.files:
                got = hashlib.sha256((files_dir / dist.filename).read_bytes()).hexdigest()
                if got != dist.sha256:
                    raise DataError(f"{files_dir / dist.filename}: sha256 {got}, not {dist.sha256}")
    return {name: projects[name] for name in PINS}


def requirements_text(projects: dict[str, Project]) -> str:
    return "".join(f"{name}=={project.version}\n" for name, project in sorted(projects.items()))


# -- the other versions, listed only -------------------------------------------------------


def _history_of(name: str, version: str) -> tuple[Listed, ...]:
    page = json.loads(_get(f"{PYPI_SIMPLE}{name}/", accept=PEP691_JSON))
    listed = []
    for entry in page["files"]:
        of = version_of(entry["filename"], name)
        if of == version:
            continue  # the pinned version's files are the downloaded ones
        metadata = entry.get("core-metadata") or entry.get("data-dist-info-metadata")
        listed.append(
            Listed(
                filename=entry["filename"],
                version=of,
                sha256=entry["hashes"]["sha256"],
                size=int(entry.get("size") or 0),
                requires_python=entry.get("requires-python") or None,
                upload_time=entry.get("upload-time"),
                yanked=entry.get("yanked") or False,
                metadata_sha256=metadata.get("sha256") if isinstance(metadata, dict) else None,
            )
        )
    return tuple(listed)


def ensure_history(data_dir: Path) -> dict[str, tuple[Listed, ...]]:
    """The other versions' files of each project of ``PINS``, read from PyPI once."""
    path = data_dir / "history.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    if raw.get("version") != HISTORY_VERSION or raw.get("pins") != PINS:
        raw = {"version": HISTORY_VERSION, "pins": PINS, "projects": {}}
    known: dict[str, list[dict[str, Any]]] = raw["projects"]
    missing = [name for name in PINS if name not in known]
    if missing:
        print(f"bench: reading {len(missing)} project pages from PyPI", file=sys.stderr)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            pages = pool.map(lambda name: _history_of(name, PINS[name]), missing)
            for name, listed in zip(missing, pages):
                known[name] = [asdict(entry) for entry in listed]
        _write_atomically(path, json.dumps(raw).encode())
    return {name: tuple(Listed(**entry) for entry in known[name]) for name in PINS if name in known}
