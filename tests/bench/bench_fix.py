"""Benchmark ``hashpin fix`` against uv, pip-compile and hashin on a slowed local index.

Run on demand, never collected by pytest::

    python tests/bench/bench_fix.py [--repeat N] [--delay SECONDS] [--data-dir DIR]
        [--tools-venv DIR] [--hashpin PATH] [--only TOOL ...] [--no-core-metadata]

It takes about three minutes, most of it pip-compile's (see below).

What it downloads, once: real distribution files of the 25 projects of
``bench_data.PINS`` (one pinned version each, none with a runtime dependency), at most
12 files per project (the sdist, the wheel this Python would install and a spread of the
other wheels, none over 10 MB): about 240 files, 120 MB, read from PyPI's simple API with
urllib and checked against PyPI's sha256, into ``~/.cache/hashpin-bench/files`` (or
``--data-dir``). Later runs need no network: the files are checked against the manifest
written next to them.

The tools, unless they are next to ``sys.executable`` already: ``uv``, ``pip-compile``
(pip-tools) and ``hashin`` are installed with pip into a virtualenv,
``<data-dir>/tools-venv`` by default (``--tools-venv``), the first time.

Every tool then works on the same requirements file (the 25 ``name==version`` lines,
no hashes) against the same index, ``bench_index.BenchIndex`` on 127.0.0.1, which adds
``--delay`` (default 50 ms) to every response and counts the requests per project:

- ``hashpin fix --index-url URL --cache-dir DIR requirements.txt``: cold (a new cache
  folder), then warm (the same folder, on a new copy of the unhashed file);
- ``uv pip compile --generate-hashes --no-deps``: cold with ``--no-cache``; warm with a
  ``--cache-dir`` that one untimed run filled;
- ``pip-compile --generate-hashes --cache-dir DIR``: cold, then warm as for hashpin
  (pip's own cache, under ``XDG_CACHE_HOME``, is kept with it). pip-tools 7.6 looks for
  digests at ``<index root>/<name>/json``, which neither PyPI nor this index serve
  (the legacy API is ``/pypi/<name>/json``), so it downloads and hashes every file;
- ``hashin -r requirements.txt name==version ...`` against the legacy JSON API
  (``/pypi/<name>/json``); it has no cache, so no warm run.

Each cell is the median wall time of ``--repeat`` runs (default 3) of the whole process,
after one untimed run of each tool. Every cold run gets new folders and caches. The
children run with no ``PIP_*``/``UV_*`` variables, ``PIP_CONFIG_FILE=/dev/null``, no
proxies and their own ``XDG_CACHE_HOME``, so no configuration of the machine takes part.

It prints markdown: the machine, the data, one row per tool, the requests each run made
per project, and whether each tool's hashes equal the index's (and hashpin's uv's).
``hashpin fix`` exits 1 when it changed a file (and says ``Fixing <path>``): that is what
it should do here. The run fails (exit 1) when hashpin crashes, exits 2 (or 1 without
fixing), writes hashes other than the index's, or misses the warm target: no file
downloads and at most one page request per project. A failing uv, pip-compile or hashin
is shown in its row and the run goes on; a hashpin without ``fix`` is shown as not run
(and the run fails).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench_data import Project, ensure_data, requirements_text
from bench_host import host_lines, package_version
from bench_index import KINDS, ROOT, BenchIndex

DEFAULT_REPEAT = 3
DEFAULT_DELAY = 0.05
TIMEOUT_S = 600.0
CRASH_MARK = "Traceback (most recent call last)"
TOOL_PACKAGES = ("pip", "uv", "pip-tools", "hashin")
SHORT = {"page": "p", "304": "n", "file": "f", "meta": "m", "json": "j", "other": "o"}

# (work folder, cache folder, index base URL, the pins) -> argv
ArgvMaker = Callable[[Path, Path, str, dict[str, Project]], list[str]]


@dataclass(frozen=True)
class Tool:
    name: str
    key: str
    input_name: str  # the unhashed file, written in the work folder
    output_name: str  # where the hashes end up
    cold: ArgvMaker
    warm: ArgvMaker | None = None
    fill_before_warm: bool = False  # one untimed warm-style run fills the cache first
    ok_exit_codes: tuple[int, ...] = (0,)
    changed_mark: str | None = None  # printed when it changed a file (exit 1 then is fine)
    missing: str | None = None  # why it cannot run, when it cannot


@dataclass(frozen=True)
class Run:
    seconds: float
    exit_code: int
    stdout: str
    stderr: str
    counts: dict[str, Counter[str]]
    other: Counter[str]  # "path status" of the requests counted as "other"
    output: str | None  # the file with the hashes, after the run


@dataclass
class Cell:
    runs: list[Run] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def span(self) -> str:
        return f"{min(r.seconds for r in self.runs):.2f}..{max(r.seconds for r in self.runs):.2f}"


@dataclass
class Result:
    tool: Tool
    cold: Cell = field(default_factory=Cell)
    warm: Cell = field(default_factory=Cell)
    failure: str | None = None

    @property
    def usable(self) -> bool:
        return self.failure is None and bool(self.cold.runs)


# -- the tools ------------------------------------------------------------------------------


def _find(name: str, tools_bin: Path) -> Path | None:
    for folder in (Path(sys.executable).parent, tools_bin):
        if (folder / name).exists():
            return folder / name
    return None


def ensure_tools_venv(venv: Path) -> Path:
    """The bin folder of a virtualenv with uv, pip-tools and hashin, made when missing."""
    bindir = venv / "bin"
    if all((bindir / name).exists() for name in ("uv", "pip-compile", "hashin")):
        return bindir
    print(f"bench: installing uv, pip-tools and hashin into {venv}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(bindir / "python"), "-m", "pip", "install", "-q", "-U", *TOOL_PACKAGES],
        check=True,
    )
    return bindir


def hashpin_missing(hashpin: Path) -> str | None:
    if not hashpin.exists():
        return f"no hashpin console script at {hashpin}"
    probe = subprocess.run(
        [str(hashpin), "fix", "--help"], capture_output=True, text=True, env=child_env(None)
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`hashpin fix --help` exits {probe.returncode}: {last}"
    for flag in ("--index-url", "--cache-dir"):
        if flag not in probe.stdout:
            return f"`hashpin fix` has no {flag}"
    return None


def make_tools(hashpin: Path, tools_bin: Path, python_version: str) -> list[Tool]:
    hashpin_missing_reason = hashpin_missing(hashpin)

    def hashpin_argv(work: Path, cache: Path, url: str, _: dict[str, Project]) -> list[str]:
        options = ["--index-url", f"{url}/simple/", "--cache-dir", str(cache)]
        return [str(hashpin), "fix", *options, "requirements.txt"]

    uv = _find("uv", tools_bin)

    def uv_argv(cache: Path | None) -> ArgvMaker:
        def argv(work: Path, _cache: Path, url: str, __: dict[str, Project]) -> list[str]:
            caching = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
            return [
                str(uv),
                "pip",
                "compile",
                "--generate-hashes",
                "--no-deps",
                "--no-config",
                "--python-version",
                python_version,
                "--index-url",
                f"{url}/simple/",
                *caching,
                "requirements.in",
                "-o",
                "out.txt",
            ]

        return argv

    def uv_warm(work: Path, cache: Path, url: str, pins: dict[str, Project]) -> list[str]:
        return uv_argv(cache)(work, cache, url, pins)

    pip_compile = _find("pip-compile", tools_bin)

    def pip_compile_argv(work: Path, cache: Path, url: str, _: dict[str, Project]) -> list[str]:
        return [
            str(pip_compile),
            "--quiet",
            "--generate-hashes",
            "--index-url",
            f"{url}/simple/",
            "--no-emit-index-url",
            "--cache-dir",
            str(cache),
            "requirements.in",
            "-o",
            "out.txt",
        ]

    hashin = _find("hashin", tools_bin)

    def hashin_argv(work: Path, cache: Path, url: str, pins: dict[str, Project]) -> list[str]:
        specs = [f"{name}=={project.version}" for name, project in sorted(pins.items())]
        return [str(hashin), "--index-url", f"{url}/", "-r", "requirements.txt", *specs]

    def why(path: Path | None, name: str) -> str | None:
        return None if path else f"{name} is neither next to {sys.executable} nor in {tools_bin}"

    return [
        Tool(
            "hashpin fix",
            "hashpin",
            "requirements.txt",
            "requirements.txt",
            hashpin_argv,
            warm=hashpin_argv,
            ok_exit_codes=(0, 1),
            changed_mark="Fixing ",
            missing=hashpin_missing_reason,
        ),
        Tool(
            "uv pip compile",
            "uv",
            "requirements.in",
            "out.txt",
            uv_argv(None),
            warm=uv_warm,
            fill_before_warm=True,
            missing=why(uv, "uv"),
        ),
        Tool(
            "pip-compile",
            "pip-compile",
            "requirements.in",
            "out.txt",
            pip_compile_argv,
            warm=pip_compile_argv,
            missing=why(pip_compile, "pip-compile"),
        ),
        Tool(
            "hashin",
            "hashin",
            "requirements.txt",
            "requirements.txt",
            hashin_argv,
            missing=why(hashin, "hashin"),
        ),
    ]


def tool_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_env(None))
    except OSError:
        return "not installed"
    text = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return text[0] if text else "?"


# -- running --------------------------------------------------------------------------------


def child_env(xdg_cache: Path | None) -> dict[str, str]:
    """This environment without the machine's pip/uv configuration and proxies.

    The bytecode cache is on, as after a regular install (the untimed first run fills it).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(("PIP_", "UV_"))
        and key.lower() not in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["UV_NO_CONFIG"] = "1"
    env["NO_COLOR"] = "1"
    if xdg_cache is not None:
        env["XDG_CACHE_HOME"] = str(xdg_cache)
    return env


def measure(argv: list[str], work: Path, xdg_cache: Path, index: BenchIndex, output: Path) -> Run:
    index.take_counts()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=work,
        env=child_env(xdg_cache),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a timeout can stop the tool too
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += f"\nbench: timed out after {TIMEOUT_S:.0f} s"
    seconds = time.perf_counter() - start
    counts, other = index.take_counts()
    text = output.read_text(encoding="utf-8") if output.is_file() else None
    return Run(seconds, process.returncode, stdout, stderr, counts, other, text)


def failure_of(tool: Tool, run: Run) -> str | None:
    if run.exit_code < 0:
        return f"killed by signal {-run.exit_code}"
    lines = [line.strip() for line in (run.stderr + run.stdout).splitlines() if line.strip()]
    if CRASH_MARK in run.stderr:
        return f"crashed: {lines[-1] if lines else 'traceback'}"
    if run.exit_code not in tool.ok_exit_codes:
        return f"exit {run.exit_code}: {lines[-1] if lines else 'no output'}"
    if run.exit_code == 1 and tool.changed_mark and tool.changed_mark not in run.stdout:
        return f"exit 1 without {tool.changed_mark!r}: {lines[-1] if lines else 'no output'}"
    if run.output is None:
        return f"wrote no {tool.output_name}"
    return None


def fresh(work: Path, tool: Tool, requirements: str) -> None:
    """The unhashed input file and no output, as before a first run."""
    work.mkdir(parents=True, exist_ok=True)
    for name in {tool.input_name, tool.output_name}:
        (work / name).unlink(missing_ok=True)
    (work / tool.input_name).write_text(requirements, encoding="utf-8")


def bench(
    tool: Tool,
    index: BenchIndex,
    pins: dict[str, Project],
    requirements: str,
    repeat: int,
    scratch: Path,
) -> Result:
    result = Result(tool)
    if tool.missing:
        result.failure = f"not run: {tool.missing}"
        return result
    base = scratch / tool.key
    output = Path(tool.output_name)

    def once(argv_maker: ArgvMaker, work: Path, cell: Cell | None) -> Run:
        argv = argv_maker(work, work / "cache", index.url, pins)
        run = measure(argv, work, work / "xdg-cache", index, work / output)
        if cell is not None:
            cell.runs.append(run)
        return run

    warm_up = base / "warm-up"
    fresh(warm_up, tool, requirements)
    run = once(tool.cold, warm_up, None)
    result.failure = failure_of(tool, run)
    if result.failure:
        result.cold.runs.append(run)
        return result
    shared_warm = base / "filled"
    if tool.warm and tool.fill_before_warm:
        fresh(shared_warm, tool, requirements)
        run = once(tool.warm, shared_warm, None)
        result.failure = failure_of(tool, run)
        if result.failure:
            result.failure = f"filling the cache: {result.failure}"
            return result
    for number in range(repeat):
        work = base / f"run-{number}"
        fresh(work, tool, requirements)
        run = once(tool.cold, work, result.cold)
        result.failure = failure_of(tool, run)
        if result.failure:
            return result
        if tool.warm:
            warm_work = shared_warm if tool.fill_before_warm else work
            fresh(warm_work, tool, requirements)
            run = once(tool.warm, warm_work, result.warm)
            result.failure = failure_of(tool, run)
            if result.failure:
                result.failure = f"warm: {result.failure}"
                return result
    return result


# -- checking the output --------------------------------------------------------------------


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_hashes(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """``name -> (version, sha256 digests)`` from a pip-compile style requirements file."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for line in logical:
        body = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not body or body.startswith("-"):
            continue
        first, *rest = body.split()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^;\s]+)", first)
        if not match:
            continue
        digests = frozenset(
            token.partition(":")[2] for token in rest if token.startswith("--hash=sha256:")
        )
        found[_normalize(match[1])] = (match[2], digests)
    return found


def expected_hashes(pins: dict[str, Project]) -> dict[str, tuple[str, frozenset[str]]]:
    return {
        name: (project.version, frozenset(dist.sha256 for dist in project.files))
        for name, project in pins.items()
    }


def mismatches(
    got: dict[str, tuple[str, frozenset[str]]], want: dict[str, tuple[str, frozenset[str]]]
) -> list[str]:
    return sorted(name for name in want if got.get(name) != want[name])


# -- report ---------------------------------------------------------------------------------


def machine(tools_bin: Path) -> list[str]:
    versions = [f"hashpin {package_version('hashpin')}"]
    for name, flag in (("uv", "--version"), ("pip-compile", "--version"), ("hashin", "--version")):
        path = _find(name, tools_bin)
        versions.append(f"{name} {tool_version([str(path), flag]) if path else 'not installed'}")
    return [
        *host_lines(),
        f"- tools: {'; '.join(versions)}",
    ]


def totals(run: Run) -> Counter[str]:
    total: Counter[str] = Counter()
    for counts in run.counts.values():
        total.update(counts)
    return total


def per_project(runs: list[Run], projects: int) -> str:
    """The first run's requests, per project on average, as ``p1.00 m0.88``; with a note
    when the runs did not all make the same requests."""
    if not runs:
        return ""
    total = totals(runs[0])
    text = " ".join(f"{SHORT[kind]}{total[kind] / projects:.2f}" for kind in KINDS if total[kind])
    if any(run.counts != runs[0].counts for run in runs[1:]):
        text += " (runs differ)"
    return text or "none"


def cell_counts(counts: Counter[str] | None) -> str:
    if not counts:
        return "-"
    return " ".join(f"{SHORT[kind]}{counts[kind]}" for kind in KINDS if counts[kind])


def render(
    results: list[Result], pins: dict[str, Project], repeat: int, delay: float
) -> tuple[str, list[str]]:
    """The markdown, and the reasons the run fails (empty when it does not)."""
    problems: list[str] = []
    want = expected_hashes(pins)
    by_key = {result.tool.key: result for result in results}
    hashpin = by_key.get("hashpin")
    reference_cold = hashpin.cold.median_s if hashpin and hashpin.usable else None
    reference_warm = hashpin.warm.median_s if hashpin and hashpin.usable else None
    n = len(pins)

    lines = [
        "| tool | cold s (median) | cold min..max | warm s (median) | warm min..max "
        "| cold / hashpin cold | warm / hashpin warm | requests per project, cold "
        "| requests per project, warm | hashes = index's | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for result in results:
        tool = result.tool
        cold, warm = result.cold, result.warm
        cold_s = f"{cold.median_s:.2f}" if cold.runs and not result.failure else "n/a"
        warm_s = f"{warm.median_s:.2f}" if warm.runs and not result.failure else "n/a"
        cold_ratio = (
            f"{cold.median_s / reference_cold:.2f}x"
            if reference_cold and cold.runs and not result.failure
            else "n/a"
        )
        warm_ratio = (
            f"{warm.median_s / reference_warm:.2f}x"
            if reference_warm and warm.runs and not result.failure
            else "n/a"
        )
        correct = "n/a"
        last = cold.runs[-1] if cold.runs else None
        if last is not None and last.output is not None and not result.failure:
            wrong = mismatches(parse_hashes(last.output), want)
            correct = "yes" if not wrong else f"{len(wrong)} of {n} differ"
            if wrong and tool.key == "hashpin":
                problems.append(f"hashpin's hashes differ from the index's for {', '.join(wrong)}")
        if warm.runs and last is not None and not result.failure:
            warm_out = warm.runs[-1].output
            if warm_out is not None and parse_hashes(warm_out) != parse_hashes(last.output or ""):
                correct += "; warm output differs from cold"
                if tool.key == "hashpin":
                    problems.append("hashpin's warm output differs from its cold output")
        note = result.failure or ""
        lines.append(
            f"| {tool.name} | {cold_s} | {cold.span if cold.runs and not result.failure else ''} "
            f"| {warm_s if tool.warm else '(no cache)'} "
            f"| {warm.span if warm.runs and not result.failure else ''} "
            f"| {cold_ratio} | {warm_ratio if tool.warm else ''} "
            f"| {per_project(cold.runs, n)} | {per_project(warm.runs, n)} | {correct} | {note} |"
        )
    lines += [
        "",
        f"Median of {repeat} runs of the whole process after one untimed run; every response"
        f" of the index waits {delay * 1000:.0f} ms. Requests per project: the first timed run's,"
        f" divided by the {n} projects; p = project page sent (200), n = page answered 304,"
        " f = distribution file, m = PEP 658 metadata file, j = legacy JSON document,"
        " o = anything else (redirects, 404s, the root list).",
    ]

    # hashpin against uv, as the brief of this benchmark asks
    uv = by_key.get("uv")
    if hashpin and uv and hashpin.usable and uv.usable:
        hp_out, uv_out = hashpin.cold.runs[-1].output, uv.cold.runs[-1].output
        if hp_out is not None and uv_out is not None:
            hp, other = parse_hashes(hp_out), parse_hashes(uv_out)
            differ = sorted(name for name in pins if hp.get(name) != other.get(name))
            lines.append(
                f"\nhashpin fix vs uv pip compile: {len(differ)} of {n} packages have a"
                " different hash set" + (f" ({', '.join(differ)})" if differ else "") + "."
            )

    # the warm target
    if hashpin and hashpin.usable and hashpin.warm.runs:
        worst_pages = 0
        files = 0
        for run in hashpin.warm.runs:
            for project, counts in run.counts.items():
                if project != ROOT:
                    worst_pages = max(worst_pages, counts["page"] + counts["304"])
                files += counts["file"]
        met = files == 0 and worst_pages <= 1
        lines.append(
            f"\nhashpin warm target (no file downloads, at most one page request per project):"
            f" {'MET' if met else 'MISSED'}: {files} file downloads, at most {worst_pages}"
            " page requests for one project, over all warm runs."
        )
        if not met:
            problems.append("hashpin fix missed the warm target")

    # per project
    columns: list[tuple[str, Counter[str] | None, dict[str, Counter[str]]]] = []
    for result in results:
        if result.usable:
            columns.append((f"{result.tool.name} cold", None, result.cold.runs[0].counts))
            if result.warm.runs:
                columns.append((f"{result.tool.name} warm", None, result.warm.runs[0].counts))
    if columns:
        projects = sorted({p for _, _, counts in columns for p in counts} | set(pins))
        lines += [
            "",
            "Requests per project (first timed run of each):",
            "",
            "| project | " + " | ".join(title for title, _, _ in columns) + " |",
            "| --- |" + " --- |" * len(columns),
        ]
        for project in projects:
            cells = [cell_counts(counts.get(project)) for _, _, counts in columns]
            lines.append(f"| {project} | " + " | ".join(cells) + " |")
        lines.append(
            "| **total** | "
            + " | ".join(
                cell_counts(sum((c for c in counts.values()), Counter()))
                for _, _, counts in columns
            )
            + " |"
        )
    others = [
        (title, run.other)
        for result in results
        if result.usable
        for title, run in (
            (f"{result.tool.name} cold", result.cold.runs[0]),
            (f"{result.tool.name} warm", result.warm.runs[0] if result.warm.runs else None),
        )
        if run is not None and run.other
    ]
    if others:
        lines += ["", "Requests counted as other (path, status, times):", ""]
        for title, paths in others:
            listed = ", ".join(f"`{path}` x{times}" for path, times in paths.most_common())
            lines.append(f"- {title}: {listed}")
    if hashpin and not hashpin.usable:
        problems.append(f"hashpin fix: {hashpin.failure}")
    return "\n".join(lines), problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs per cell (default 3)"
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=DEFAULT_DELAY,
        help="seconds the index waits before every response (default 0.05)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path.home() / ".cache" / "hashpin-bench",
        help="where the downloaded files live (default ~/.cache/hashpin-bench)",
    )
    parser.add_argument(
        "--tools-venv",
        type=Path,
        default=None,
        help="a virtualenv with uv, pip-tools and hashin (default <data-dir>/tools-venv,"
        " made when a tool is not next to this Python)",
    )
    parser.add_argument(
        "--hashpin",
        type=Path,
        default=Path(sys.executable).parent / "hashpin",
        help="the hashpin console script (default: next to this Python)",
    )
    parser.add_argument(
        "--no-core-metadata",
        action="store_true",
        help="the index serves no PEP 658 metadata files (PyPI does)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["hashpin", "uv", "pip-compile", "hashin"],
        help="run only this tool (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.delay < 0:
        parser.error("--delay must not be negative")

    data_dir: Path = args.data_dir.expanduser().resolve()
    pins = ensure_data(data_dir, verify=True)
    tools_venv: Path = (args.tools_venv or data_dir / "tools-venv").expanduser().resolve()
    here = Path(sys.executable).parent
    wanted = args.only or ["hashpin", "uv", "pip-compile", "hashin"]
    needs_venv = any(
        not (here / exe).exists()
        for key, exe in (("uv", "uv"), ("pip-compile", "pip-compile"), ("hashin", "hashin"))
        if key in wanted
    )
    tools_bin = ensure_tools_venv(tools_venv) if needs_venv else tools_venv / "bin"
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    tools = [
        tool for tool in make_tools(args.hashpin, tools_bin, python_version) if tool.key in wanted
    ]
    requirements = requirements_text(pins)

    with (
        tempfile.TemporaryDirectory(prefix="hashpin-bench-fix-") as tmp,
        BenchIndex(
            pins,
            data_dir / "files",
            delay=args.delay,
            core_metadata=not args.no_core_metadata,
        ) as index,
    ):
        results = [bench(tool, index, pins, requirements, args.repeat, Path(tmp)) for tool in tools]

    files = sum(len(project.files) for project in pins.values())
    megabytes = sum(dist.size for project in pins.values() for dist in project.files) / 1e6
    print("# hashpin fix benchmark\n")
    print("\n".join(machine(tools_bin)))
    print(
        f"- data: {len(pins)} projects, {files} files, {megabytes:.0f} MB in {data_dir / 'files'};"
        f" index on 127.0.0.1, {args.delay * 1000:.0f} ms per response,"
        f" PEP 658 metadata {'off' if args.no_core_metadata else 'on'}"
    )
    print()
    table, problems = render(results, pins, args.repeat, args.delay)
    print(table)
    for result in results:
        stderr = next((run.stderr for run in result.cold.runs if run.stderr.strip()), "")
        if result.failure and result.tool.key == "hashpin" and stderr:
            print(f"bench: hashpin fix's stderr:\n{stderr.rstrip()}", file=sys.stderr)
    for problem in problems:
        print(f"bench: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
