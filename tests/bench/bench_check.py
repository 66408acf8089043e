"""Benchmark ``hashpin check`` against pinlint, pip's own parser and a bare interpreter.

Run on demand, never collected by pytest::

    python tests/bench/bench_check.py [--repeat N]

It prints markdown: the machine, one row per (tool, files) with the median wall time
of N runs (after one warm-up) and the peak RSS, then the ratios. Every tool is run as
a subprocess with the interpreter running this script, on the same files in the same run:

- ``hashpin check FILE...``: the console script next to ``sys.executable``, as a user
  runs it: the warm-up stores the result in the cache, and the timed runs find it (the
  files do not change between runs, as in a pre-commit hook run on every commit);
- ``hashpin check --no-cache FILE...``: the same, checking the files on every run;
- ``pinlint FILE...``: pinlint 0.6.1 from the ``bench`` extra (skipped, with a note,
  when it is not installed);
- pip's parser: ``parse_requirements`` with a ``PipSession``, and an
  ``InstallRequirement`` built from every parsed line, which is what
  ``pip install -r`` does before it resolves;
- ``python -c pass``: what starting the interpreter costs.

Every tool runs with Python's bytecode cache on, kept in the run's scratch folder
(``PYTHONPYCACHEPREFIX``): the warm-up run writes it and the timed runs read it, as they
would after a regular ``pip install .``, which byte-compiles the package. Without this an
editable install under ``PYTHONDONTWRITEBYTECODE=1`` would compile hashpin's source on
every run, which costs more than checking a small file.

Peak RSS comes from the child's rusage (``os.wait4``). On Linux a process's
``ru_maxrss`` also counts the memory of the process that started it, as it was when it
called exec, so each tool is started by a tiny launcher (``python -I -S``) instead of
by this script; the launcher's own size is printed as the floor of the measurement.

Tools exit 1 when they find problems; that is expected. The run fails (exit 1) when
hashpin, pip's parser or the interpreter crash (a traceback or a signal), or hashpin
exits with a usage error. A pinlint crash is a finding about pinlint: it is shown in
the table, its time is left out of the ratios, and the run goes on.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench_host import host_lines, package_version

DEFAULT_REPEAT = 7
TIMEOUT_S = 600.0
CRASH_MARK = "Traceback (most recent call last)"

# Starts one command with posix_spawn and reports its wall time, rusage peak RSS and
# exit code. Kept tiny (no site, no imports beyond builtins) so that its own size, which
# the kernel adds into the child's ru_maxrss at exec, stays small.
LAUNCHER = """\
import os, sys, time
out, err, *cmd = sys.argv[1:]
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [
    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
    (os.POSIX_SPAWN_OPEN, 1, out, flags, 0o644),
    (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o644),
]
start = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
print(elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""

# What pip does with `-r FILE` before resolving (RequirementCommand.get_requirements).
# A file pip refuses stops at its first bad line, as in pip; the next file goes on.
# Offline like the other two tools: an include by URL (`-c https://...`) fails at once
# instead of being fetched, whatever adapters `--trusted-host` lines would mount.
PIP_PARSER = """\
import sys
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements
from pip._vendor.requests.adapters import BaseAdapter
from pip._vendor.requests.exceptions import ConnectionError


class Offline(BaseAdapter):
    def send(self, request, *args, **kwargs):
        raise ConnectionError(f"benchmark is offline, not fetching {request.url}")

    def close(self):
        pass


session = PipSession()
offline = Offline()
session.get_adapter = lambda url: offline
built = refused = 0
for filename in sys.argv[1:]:
    try:
        for parsed in parse_requirements(filename, session=session):
            install_req_from_parsed_requirement(
                parsed,
                isolated=False,
                user_supplied=True,
                config_settings=parsed.options.get("config_settings") if parsed.options else None,
            )
            built += 1
    except Exception as exc:
        refused += 1
        print(f"{filename}: pip refuses the file: {type(exc).__name__}: {exc}", file=sys.stderr)
print(f"{built} requirements built, {refused} files refused")
sys.exit(1 if refused else 0)
"""


@dataclass(frozen=True)
class Tool:
    name: str
    argv: tuple[str, ...]  # the files are appended
    takes_files: bool = True
    fatal_crash: bool = True
    lock_files: bool | None = False  # True: only the lock file; None: every file set

    def runs_on(self, fileset: FileSet) -> bool:
        return self.lock_files is None or self.lock_files == (fileset.key == "lock")


@dataclass(frozen=True)
class FileSet:
    label: str
    cwd: Path
    files: tuple[str, ...]  # relative to cwd
    key: str


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_kib: int
    exit_code: int
    stderr: str


@dataclass
class Result:
    tool: Tool
    fileset: FileSet | None
    runs: list[Run] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(run.seconds for run in self.runs) * 1000

    @property
    def min_ms(self) -> float:
        return min(run.seconds for run in self.runs) * 1000

    @property
    def max_ms(self) -> float:
        return max(run.seconds for run in self.runs) * 1000

    @property
    def peak_mib(self) -> float:
        return max(run.max_rss_kib for run in self.runs) / 1024

    @property
    def crash(self) -> str | None:
        """The first crash seen, as one line, or None."""
        for run in self.runs:
            if run.exit_code < 0:
                return f"killed by signal {-run.exit_code}"
            if CRASH_MARK in run.stderr:
                lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
                return lines[-1].strip() if lines else "traceback"
        return None

    @property
    def exit_codes(self) -> str:
        return ",".join(str(code) for code in sorted({run.exit_code for run in self.runs}))


# -- input files ---------------------------------------------------------------------------


def pip_compile_layout(count: int) -> str:
    """``count`` pinned requirements, three sha256 hashes each, as pip-compile writes them."""
    lines = [
        "#",
        "# This file is autogenerated by pip-compile with Python 3.11",
        "# by the following command:",
        "#",
        "#    pip-compile --generate-hashes --output-file=requirements.txt requirements.in",
        "#",
    ]
    for index in range(count):
        version = f"{index % 7}.{index % 13}.{index % 5}"
        lines.append(f"package-{index:05d}=={version} \\")
        for hash_number in range(3):
            digest = hashlib.sha256(f"{index}:{hash_number}".encode()).hexdigest()
            tail = " \\" if hash_number < 2 else ""
            lines.append(f"    --hash=sha256:{digest}{tail}")
        if index % 5 == 0:  # one requirement in five is pulled in by another
            lines.append(f"    # via package-{(index + 1) % count:05d}")
    return "\n".join(lines) + "\n"


def marker_layout(count: int) -> str:
    """``count`` requirements with extras and markers, as uv and pip-compile write a file
    for several Pythons and platforms (``--universal``), three hashes each."""
    markers = (
        'python_version >= "3.9"',
        'python_version < "3.11"',
        'sys_platform == "win32"',
        'platform_machine == "x86_64" and sys_platform == "linux"',
        'python_full_version >= "3.9.2" and implementation_name == "cpython"',
    )
    lines = ["# This file was autogenerated by uv via the following command:",
             "#    uv pip compile --universal --generate-hashes requirements.in"]  # fmt: skip
    for index in range(count):
        extras = "[socks,security]" if index % 4 == 0 else ""
        marker = f" ; {markers[index % len(markers)]}" if index % 3 else ""
        lines.append(f"package-{index:05d}{extras}=={index % 9}.{index % 11}.0{marker} \\")
        for hash_number in range(3):
            digest = hashlib.sha256(f"m{index}:{hash_number}".encode()).hexdigest()
            tail = " \\" if hash_number < 2 else ""
            lines.append(f"    --hash=sha256:{digest}{tail}")
        lines.append(f"    # via package-{(index + 1) % count:05d}")
    return "\n".join(lines) + "\n"


# The floor for a lock file: reading it with the standard library's TOML parser alone.
TOMLLIB_FLOOR = "import sys, tomllib\nfor path in sys.argv[1:]:\n    tomllib.load(open(path, 'rb'))"


def pylock_layout(count: int) -> str:
    """A PEP 751 lock of ``count`` packages, three hashed wheels each, as pip lock writes it."""
    lines = ['lock-version = "1.0"', 'created-by = "bench"', 'requires-python = ">=3.9"', ""]
    for index in range(count):
        name, version = f"package-{index:03d}", f"1.{index}.0"
        lines += ["[[packages]]", f'name = "{name}"', f'version = "{version}"',
                  'index = "https://pypi.org/simple"', "wheels = ["]  # fmt: skip
        for tag in ("py3-none-any", "cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-win_amd64"):
            filename = f"package_{index:03d}-{version}-{tag}.whl"
            digest = hashlib.sha256(filename.encode()).hexdigest()
            lines.append(
                f'  {{ name = "{filename}", url = "https://files.example/{filename}", size = 1234,'
                f' upload-time = 2025-01-01T00:00:00Z, hashes = {{ sha256 = "{digest}" }} }},'
            )
        lines += ["]", ""]
    return "\n".join(lines)


def corpus_dir() -> Path:
    override = os.environ.get("HASHPIN_CORPUS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "data" / "realworld"


def corpus_filesets(directory: Path) -> list[FileSet]:
    # Every file but the corpus's own notes (SOURCES.md, BASELINE.md).
    names = sorted(
        path.name
        for path in directory.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix != ".md"
    )
    if not names:
        return []
    utf8 = [name for name in names if _is_utf8(directory / name)]
    sets = [FileSet(f"real-world corpus, all {len(names)} files", directory, tuple(names), "all")]
    if len(utf8) != len(names):
        sets.append(
            FileSet(
                f"real-world corpus, the {len(utf8)} UTF-8 files",
                directory,
                tuple(utf8),
                "utf8",
            )
        )
    return sets


def _is_utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# -- measuring -------------------------------------------------------------------------------


def tool_environment(scratch: Path) -> dict[str, str]:
    """This process's environment, with the bytecode cache on and kept in ``scratch``."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    env["XDG_CACHE_HOME"] = str(scratch / "user-cache")  # hashpin's result cache
    return env


def measure(argv: list[str], cwd: Path, scratch: Path) -> Run:
    out, err = scratch / "stdout", scratch / "stderr"
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(out), str(err), *argv]
    process = subprocess.Popen(
        launcher,
        cwd=cwd,
        env=tool_environment(scratch),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a timeout can stop the tool too
    )
    try:
        report, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise SystemExit(f"bench: timed out after {TIMEOUT_S:.0f} s: {' '.join(argv)}") from None
    if process.returncode != 0:
        raise SystemExit(f"bench: the launcher failed ({process.returncode}) for {argv}")
    seconds, max_rss, exit_code = report.split()
    kib = int(max_rss) // 1024 if sys.platform == "darwin" else int(max_rss)  # bytes on macOS
    stderr = err.read_text(encoding="utf-8", errors="replace")
    return Run(float(seconds), kib, int(exit_code), stderr)


def bench(tool: Tool, fileset: FileSet | None, repeat: int, scratch: Path) -> Result:
    argv = [*tool.argv, *(fileset.files if fileset and tool.takes_files else ())]
    cwd = fileset.cwd if fileset else scratch
    result = Result(tool, fileset)
    warm_up = measure(argv, cwd, scratch)
    if CRASH_MARK in warm_up.stderr or warm_up.exit_code < 0:
        result.runs.append(warm_up)  # no use timing a crash N times
        return result
    result.runs.extend(measure(argv, cwd, scratch) for _ in range(repeat))
    return result


# -- report ----------------------------------------------------------------------------------


def machine() -> list[str]:
    versions = ", ".join(
        f"{name} {package_version(name)}" for name in ("hashpin", "pinlint", "pip", "packaging")
    )
    return [
        *host_lines(),
        f"- packages: {versions}",
        "- bytecode: cached (PYTHONPYCACHEPREFIX in the scratch folder), written by the warm-up",
    ]


def _ratio(numerator: Result | None, denominator: Result | None, *, memory: bool = False) -> str:
    if numerator is None or denominator is None:
        return "n/a"
    for result in (numerator, denominator):
        if result.crash:
            return f"n/a ({result.tool.name} crashed)"
    if memory:
        return f"{numerator.peak_mib / denominator.peak_mib:.2f}x"
    return f"{numerator.median_ms / denominator.median_ms:.2f}x"


def render(results: list[Result], filesets: list[FileSet], repeat: int, floor: Run) -> str:
    def find(tool: str, key: str | None) -> Result | None:
        for result in results:
            if result.tool.name == tool and (result.fileset.key if result.fileset else None) == key:
                return result
        return None

    lines = [
        "| tool | files | median ms | min..max ms | peak RSS MiB | exit | note |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for result in results:
        crash = result.crash
        note = f"CRASH: {crash}" if crash else ""
        label = result.fileset.label if result.fileset else "(none)"
        lines.append(
            f"| {result.tool.name} | {label} | {result.median_ms:.1f} "
            f"| {result.min_ms:.1f}..{result.max_ms:.1f} | {result.peak_mib:.1f} "
            f"| {result.exit_codes} | {note} |"
        )
    lines += [
        "",
        f"Median of {repeat} runs after one warm-up (a crash is run once). Peak RSS is the"
        f" largest ru_maxrss over the runs; the launcher puts a floor of"
        f" {floor.max_rss_kib / 1024:.1f} MiB under it.",
        "",
        "| files | hashpin | pinlint / hashpin time | pip parser / hashpin time |",
        "| --- | --- | ---: | ---: |",
    ]
    for fileset in filesets:
        for name in ("hashpin check", "hashpin check --no-cache"):
            hashpin = find(name, fileset.key)
            lines.append(
                f"| {fileset.label} | {name} | {_ratio(find('pinlint', fileset.key), hashpin)} "
                f"| {_ratio(find('pip parser', fileset.key), hashpin)} |"
            )
    bare = find("python -c pass", None)
    for name in ("hashpin check", "hashpin check --no-cache"):
        lines += [
            "",
            f"- {name} / bare python time, 50-requirement file: "
            + _ratio(find(name, "small"), bare),
            f"- {name} / bare python time, 50 requirements with markers: "
            + _ratio(find(name, "markers"), bare),
            f"- {name} / pinlint time, 10,000-requirement file: "
            + _ratio(find(name, "large"), find("pinlint", "large")),
            f"- {name} / pinlint peak RSS, 10,000-requirement file: "
            + _ratio(find(name, "large"), find("pinlint", "large"), memory=True),
            f"- {name} / pylock-lint time, 500-package lock: "
            + _ratio(find(name, "lock"), find("pylock-lint", "lock")),
            f"- {name} / tomllib parse time, 500-package lock: "
            + _ratio(find(name, "lock"), find("tomllib (parse only)", "lock")),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs per cell (default 7)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    bindir = Path(sys.executable).parent
    hashpin = bindir / "hashpin"
    if not hashpin.exists():
        print(
            f"bench: no hashpin console script at {hashpin}; install the package", file=sys.stderr
        )
        return 2
    notes: list[str] = []
    tools = [
        Tool("hashpin check", (str(hashpin), "check"), lock_files=None),
        Tool("hashpin check --no-cache", (str(hashpin), "check", "--no-cache"), lock_files=None),
        Tool("tomllib (parse only)", (sys.executable, "-c", TOMLLIB_FLOOR), lock_files=True),
    ]
    pylock_lint = bindir / "pylock-lint"
    if pylock_lint.exists():
        tools.append(Tool("pylock-lint", (str(pylock_lint),), fatal_crash=False, lock_files=True))
    else:
        notes.append("pylock-lint is not installed: its row is skipped (the bench extra has it).")
    pinlint = bindir / "pinlint"
    if pinlint.exists():
        tools.append(Tool("pinlint", (str(pinlint),), fatal_crash=False))
    else:
        notes.append(
            f"pinlint is not installed next to {sys.executable}: its column is skipped"
            " (pip install -e '.[bench]' brings pinlint 0.6.1)."
        )
    if importlib.util.find_spec("pip") is not None:
        tools.append(Tool("pip parser", (sys.executable, "-c", PIP_PARSER)))
    else:
        notes.append(f"pip is not importable by {sys.executable}: its column is skipped.")
    baseline = Tool("python -c pass", (sys.executable, "-c", "pass"), takes_files=False)

    with tempfile.TemporaryDirectory(prefix="hashpin-bench-") as tmp:
        scratch = Path(tmp)
        generated = scratch / "files"
        generated.mkdir()
        large, small = generated / "requirements-large.txt", generated / "requirements-small.txt"
        large.write_text(pip_compile_layout(10_000), encoding="utf-8")
        small.write_text(pip_compile_layout(50), encoding="utf-8")
        lock_dir = generated / "lock"  # its own folder: a lock file is named pylock.toml
        lock_dir.mkdir()
        (lock_dir / "pylock.toml").write_text(pylock_layout(500), encoding="utf-8")
        markers = generated / "requirements-markers.txt"
        markers.write_text(marker_layout(50), encoding="utf-8")
        large_lines = large.read_text(encoding="utf-8").count("\n")
        small_lines = small.read_text(encoding="utf-8").count("\n")
        marker_lines = markers.read_text(encoding="utf-8").count("\n")
        filesets = [
            FileSet(
                f"generated, 10,000 reqs ({large_lines:,} lines)", generated, (large.name,), "large"
            ),
            FileSet(f"generated, 50 reqs ({small_lines} lines)", generated, (small.name,), "small"),
            FileSet(
                f"generated, 50 reqs with extras and markers ({marker_lines} lines)",
                generated,
                (markers.name,),
                "markers",
            ),
            FileSet(
                "generated pylock.toml, 500 packages, 3 wheels each",
                lock_dir,
                ("pylock.toml",),
                "lock",
            ),
        ]
        corpus = corpus_dir()
        found = corpus_filesets(corpus) if corpus.is_dir() else []
        if not found:
            notes.append(f"no real-world corpus at {corpus} (set HASHPIN_CORPUS): skipped.")
        filesets += found

        true = shutil.which("true")
        floor = measure([true] if true else [sys.executable, "-c", "pass"], scratch, scratch)
        results = [
            bench(tool, fs, args.repeat, scratch)
            for fs in filesets
            for tool in tools
            if tool.runs_on(fs)
        ]
        results.append(bench(baseline, None, args.repeat, scratch))

    print("# hashpin check benchmark\n")
    print("\n".join(machine()))
    if found:
        print(f"- corpus: {corpus}")
    print()
    for note in notes:
        print(f"> Note: {note}\n")
    print(render(results, filesets, args.repeat, floor))

    failed = [
        result
        for result in results
        if (result.crash and result.tool.fatal_crash)
        or (
            result.tool.name.startswith("hashpin check")
            and any(run.exit_code > 1 for run in result.runs)
        )
    ]
    for result in failed:
        label = result.fileset.label if result.fileset else "(none)"
        stderr = next((run.stderr for run in result.runs if run.stderr), "")
        print(f"\nbench: {result.tool.name} failed on {label}:\n{stderr}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
