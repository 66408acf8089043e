"""Benchmark ``hashpin check --online`` against ``uv pip compile`` and pip's dry run, on an
index that costs what the internet costs, with projects that have dependencies.

Run on demand, never collected by pytest::

    python tests/bench/bench_online.py [--repeat N] [--delay S] [--connect-delay S]
        [--no-history] [--no-core-metadata] [--hashpin PATH] [--uv PATH]

With the defaults (``--repeat 3``) it takes about a minute and a half on 2 cores, most of it
pip's, and needs no network: the projects are made up.

The projects (``bench_deps``): 28 top-level ones, the 36 libraries they need, three
layers deep, with version specifiers, and 7 that are needed only somewhere
(``platform_system == "Windows"``, ``sys_platform == "win32"``, ``sys_platform ==
"darwin"``, ``python_version < "3.11"`` and ``< "3.12"``, a ``platform_machine``, an
extra), some of them platform-only; dependencies under an extra nobody asks for or for
PyPy name projects the index does not have. Their files are pure wheels, CPython 3.11 to
3.13 wheels for six platforms, Linux and macOS wheels with a pure fallback, ``abi3``
wheels, or one platform's only, each with an sdist; every wheel has its PEP 658 metadata
file. Their pages also list 3 to 17 older versions each (never served), as PyPI's do.

The index, ``bench_index.BenchIndex`` on 127.0.0.1 (the one every tool sees): HTTPS with a
throwaway CA (``bench_tls``), ``--connect-delay`` (default 100 ms) per new connection,
``--delay`` (default 50 ms) per answer; it counts each tool run's requests by kind and its
new connections.

The files: ``requirements.txt``, the closure of the 28 projects, fully pinned, with the
marker each conditional dependency needs and the sha256 of every file of every pinned
version (pip-compile's layout); ``requirements.in``, the 28 names; and a copy of
``requirements.txt`` without two dependencies that several projects need.

What is timed, whole processes, the median of ``--repeat`` runs after one untimed run of
each (which writes the bytecode cache):

- ``hashpin check --online --format json --index-url URL --cert CA --cache-dir DIR
  --target 3.12:linux-x86_64 --target 3.12:windows-amd64 --target 3.11:macos-arm64
  requirements.txt``: cold with a new cache folder, warm with the same folder again;
- ``uv pip compile --generate-hashes --python-version V --python-platform P --index-url
  URL --cert CA requirements.in`` once per target (``x86_64-unknown-linux-gnu``,
  ``x86_64-pc-windows-msvc``, ``aarch64-apple-darwin``): cold with ``--no-cache``, warm
  with a ``--cache-dir`` one untimed run per target filled; a cell is the sum of the three
  processes (uv resolves each target from scratch). uv is also given ``--python`` (this
  interpreter) and ``--no-python-downloads``: without them it spends 0.7 s of every run
  looking for a Python 3.12 this machine lacks (and tries to download one); it resolves
  for ``--python-version`` all the same;
- ``python -m pip install --dry-run --ignore-installed --require-hashes -r
  requirements.txt --index-url URL --cert CA --cache-dir DIR``, for this machine only
  (pip knows no other target): cold with a new cache folder, warm with the same one.

The children see none of the machine's ``PIP_*``/``UV_*``/CA variables or proxies, and
``PIP_CONFIG_FILE=/dev/null`` (``bench_fix.child_env``).

Checked, and printed: hashpin finds nothing on the whole file; uv's output for each target
is the closure on that target (versions, and every file's hash); pip would install the
closure on this machine; on the file with two gaps, hashpin reports both (``HP210``) in
one run, and pip's dry run stops at the first. Then the targets: hashpin cold (three
targets, one process) faster than uv over the same three targets; hashpin warm makes no
metadata request. The run fails (exit 1) when a correctness check fails, hashpin crashes,
or it misses the warm target; the cold target is reported, not enforced (timings are
noisy).

One more hashpin run, cold then warm, goes to a second index serving the same files
without PEP 658 metadata files, so that it reads each wheel's METADATA with range
requests; it is reported under the table, not timed against the others.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench_data import Listed, Project
from bench_deps import (
    Graph,
    closure,
    dependency_graph,
    environment,
    history,
    needed_on,
    requirements_lines,
    write_projects,
)
from bench_fix import (
    CRASH_MARK,
    Target,
    add_cost_options,
    child_env,
    hashpin_revision,
    measure,
    tool_version,
)
from bench_host import host_lines, package_version
from bench_index import KINDS, ROOT, BenchIndex, Tally
from bench_report import Run, by_kind, parse_hashes, span
from bench_tls import make_certificates, server_context


@dataclass(frozen=True)
class OnlineTarget:
    hashpin: str  # --target of hashpin
    python: str  # X.Y
    uv_platform: str  # --python-platform of uv
    environment: dict[str, str]  # its marker environment, for the expected closure


TARGETS = (
    OnlineTarget(
        "3.12:linux-x86_64",
        "3.12",
        "x86_64-unknown-linux-gnu",
        environment("3.12", "Linux", "x86_64"),
    ),
    OnlineTarget(
        "3.12:windows-amd64",
        "3.12",
        "x86_64-pc-windows-msvc",
        environment("3.12", "Windows", "AMD64"),
    ),
    OnlineTarget(
        "3.11:macos-arm64", "3.11", "aarch64-apple-darwin", environment("3.11", "Darwin", "arm64")
    ),
)
KIND_LETTERS = {"page": "p", "304": "n", "meta": "m", "file": "f", "json": "j", "other": "o"}
LEGEND = (
    "p = project page (200), n = page answered 304, m = PEP 658 metadata file, f = distribution"
    " file (r = of which range requests), o = anything else (404s, redirects)"
)


@dataclass
class Cell:
    """The runs of one tool in one phase: per repeat, the processes it took."""

    runs: list[list[Run]] = field(default_factory=list)

    def seconds(self) -> list[float]:
        return [sum(run.seconds for run in processes) for processes in self.runs]

    def median(self) -> float:
        return statistics.median(self.seconds())

    def tallies(self) -> list[Tally]:
        return [
            add_tallies([run.tally for run in processes if run.tally]) for processes in self.runs
        ]


def add_tallies(tallies: Sequence[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        for project, counts in tally.projects.items():
            total.projects.setdefault(project, Counter()).update(counts)
        total.other.update(tally.other)
        total.connections += tally.connections
        total.unfinished += tally.unfinished
        total.ranges += tally.ranges
    return total


def requests_cell(cell: Cell) -> str:
    tallies = cell.tallies()
    if not tallies:
        return "n/a"
    if not any(t.requests for t in tallies):
        return "none"
    kinds = by_kind(tallies[0])
    parts = []
    for kind in KINDS:
        if kinds[kind]:
            part = f"{KIND_LETTERS[kind]}{kinds[kind]}"
            if kind == "file" and tallies[0].ranges:
                part += f" (r{tallies[0].ranges})"
            parts.append(part)
    return f"{span([t.requests for t in tallies])} ({' '.join(parts)})"


def _tally_text(tally: Tally | None) -> str:
    if tally is None:
        return "not counted"
    kinds = by_kind(tally)
    parts = " ".join(f"{KIND_LETTERS[k]}{kinds[k]}" for k in KINDS if kinds[k])
    ranges = f", {tally.ranges} of them range requests" if tally.ranges else ""
    return (
        f"{tally.requests} requests ({parts or 'none'}{ranges}),"
        f" {tally.connections} new connections"
    )


def connections_cell(cell: Cell) -> str:
    tallies = cell.tallies()
    if not tallies:
        return "n/a"
    unfinished = [t.unfinished for t in tallies]
    text = span([t.connections for t in tallies])
    return text + (f" ({span(unfinished)} unfinished)" if any(unfinished) else "")


# -- the tools ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str
    # (work folder, cache folder or None for no cache, requirements file) -> one argv per
    # process of a run
    argvs: Callable[[Path, Path | None, str], list[list[str]]]
    ok_exit_codes: tuple[int, ...] = (0,)


def make_tools(hashpin: Path, uv: Path, index_url: str, ca: Path) -> dict[str, Tool]:
    def hashpin_argvs(work: Path, cache: Path | None, requirements: str) -> list[list[str]]:
        caching = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
        targets = [arg for target in TARGETS for arg in ("--target", target.hashpin)]
        return [
            [
                str(hashpin),
                "check",
                "--online",
                "--format",
                "json",
                "--index-url",
                index_url,
                "--cert",
                str(ca),
                *caching,
                *targets,
                requirements,
            ]
        ]

    def uv_argvs(work: Path, cache: Path | None, requirements: str) -> list[list[str]]:
        caching = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
        return [
            [
                str(uv),
                "pip",
                "compile",
                "--generate-hashes",
                "--no-config",
                "--no-python-downloads",
                "--python",
                sys.executable,
                "--python-version",
                target.python,
                "--python-platform",
                target.uv_platform,
                "--index-url",
                index_url,
                "--cert",
                str(ca),
                *caching,
                "requirements.in",
                "-o",
                f"uv-{target.uv_platform}.txt",
            ]
            for target in TARGETS
        ]

    def pip_argvs(work: Path, cache: Path | None, requirements: str) -> list[list[str]]:
        caching = ["--cache-dir", str(cache)] if cache else ["--no-cache-dir"]
        return [
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--dry-run",
                "--ignore-installed",
                "--require-hashes",
                "--no-input",
                "--disable-pip-version-check",
                "-r",
                requirements,
                "--index-url",
                index_url,
                "--cert",
                str(ca),
                *caching,
            ]
        ]

    return {
        "hashpin": Tool("hashpin check --online", hashpin_argvs, ok_exit_codes=(0, 1)),
        "uv": Tool("uv pip compile --generate-hashes", uv_argvs),
        "pip": Tool("pip install --dry-run --require-hashes", pip_argvs),
    }


class Bench:
    def __init__(self, to: Target, scratch: Path) -> None:
        self.to = to
        self.scratch = scratch
        self.failures: list[str] = []

    def run(
        self, tool: Tool, work: Path, cache: Path | None, requirements: str = "requirements.txt"
    ) -> list[Run]:
        """One run of ``tool`` (all its processes) in ``work``."""
        runs = []
        for argv in tool.argvs(work, cache, requirements):
            run = measure(argv, work, child_env(work / "xdg-cache"), self.to, work / "none")
            runs.append(run)
        return runs


def failure_of(tool: Tool, runs: list[Run]) -> str | None:
    for run in runs:
        lines = [line.strip() for line in (run.stderr + run.stdout).splitlines() if line.strip()]
        last = lines[-1] if lines else "no output"
        if run.exit_code < 0:
            return f"killed by signal {-run.exit_code}"
        if CRASH_MARK in run.stderr:
            return f"crashed: {last}"
        if run.exit_code not in tool.ok_exit_codes:
            return f"exit {run.exit_code}: {last}"
    return None


# -- what the tools said --------------------------------------------------------------------


def hashpin_findings(run: Run) -> list[dict[str, object]]:
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        return []
    return [
        finding
        for entry in report.get("files", [])
        for finding in entry.get("findings", [])
        if isinstance(finding, dict)
    ]


def missing_names(findings: list[dict[str, object]]) -> Counter[str]:
    """The projects HP210 findings say are missing, and how often each is reported."""
    names: Counter[str] = Counter()
    for finding in findings:
        if finding.get("code") == "HP210":
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(finding.get("message", "")))
            if match:
                names[match[0].lower()] += 1
    return names


def pip_would_install(run: Run) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in run.stdout.splitlines():
        if line.startswith("Would install "):
            for item in line.removeprefix("Would install ").split():
                name, _, version = item.rpartition("-")
                found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def expected_pins(
    projects: Mapping[str, Project], names: set[str]
) -> dict[str, tuple[str, frozenset[str]]]:
    return {
        name: (projects[name].version, frozenset(dist.sha256 for dist in projects[name].files))
        for name in names
    }


# -- the run --------------------------------------------------------------------------------


def machine(hashpin: Path, uv: Path) -> list[str]:
    versions = [
        f"hashpin {package_version('hashpin')}{hashpin_revision()}",
        tool_version([str(uv), "--version"]),
        tool_version([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
    ]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [f"- date: {now}", *host_lines(), f"- tools: {'; '.join(versions)}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_cost_options(parser)
    parser.add_argument(
        "--no-history", action="store_true", help="pages list the pinned versions only"
    )
    parser.add_argument(
        "--no-core-metadata",
        action="store_true",
        help="the index serves no PEP 658 metadata files (hashpin then uses range requests)",
    )
    here = Path(sys.executable).parent
    parser.add_argument(
        "--hashpin",
        type=Path,
        default=here / "hashpin",
        help="the hashpin console script (default: next to this Python)",
    )
    parser.add_argument(
        "--uv", type=Path, default=here / "uv", help="uv (default: next to this Python)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.delay < 0 or args.connect_delay < 0:
        parser.error("--delay and --connect-delay must not be negative")
    for path in (args.hashpin, args.uv):
        if not path.exists():
            parser.error(
                f"{path} does not exist (install the bench extra: pip install -e '.[bench]')"
            )

    graph = dependency_graph()
    needs = closure(graph)
    with tempfile.TemporaryDirectory(prefix="hashpin-bench-online-") as tmp:
        scratch = Path(tmp)
        projects = write_projects(graph, scratch / "files")
        listed = {} if args.no_history else history(projects)
        certificates = make_certificates(scratch / "tls")

        def index(core_metadata: bool) -> BenchIndex:
            return BenchIndex(
                projects,
                [scratch / "files"],
                history=listed,
                delay=args.delay,
                connect_delay=args.connect_delay,
                tls=server_context(certificates),
                core_metadata=core_metadata,
            )

        with index(not args.no_core_metadata) as main, index(False) as plain:
            to = Target(f"{main.url}/simple/", f"{main.url}/", certificates.bundle, main)
            to_plain = Target(f"{plain.url}/simple/", f"{plain.url}/", certificates.bundle, plain)
            return _bench(args, graph, needs, projects, listed, to, to_plain, scratch)


def _bench(
    args: argparse.Namespace,
    graph: Graph,
    needs: dict[str, str | None],
    projects: dict[str, Project],
    listed: Mapping[str, Sequence[Listed]],
    to: Target,
    to_plain: Target,
    scratch: Path,
) -> int:
    """The runs and the report; ``to_plain`` is the same index without PEP 658 files, for
    one more hashpin run that reads metadata from the wheels."""
    assert to.index is not None
    tools = make_tools(args.hashpin, args.uv, to.simple_url, to.ca_bundle)
    bench = Bench(to, scratch)

    # The files.
    requirers: Counter[str] = Counter()
    for name in needs:
        for text in graph.specs[name].requires_dist:
            dependency = re.split(r"[\s\[<>=!~;]", text, maxsplit=1)[0]
            if dependency in needs and needs[dependency] is None:
                requirers[dependency] += 1
    gaps = sorted(
        (n for n in requirers if not graph.specs[n].top),
        key=lambda n: (-requirers[n], n),
    )[:2]
    full = requirements_lines(projects, needs, graph)
    gapped = requirements_lines(projects, needs, graph, leave_out=gaps)
    top = "".join(f"{name}\n" for name in graph.top)

    def workdir(name: str) -> Path:
        work = scratch / name
        work.mkdir(parents=True, exist_ok=True)
        (work / "requirements.txt").write_text(full, encoding="utf-8")
        (work / "requirements-gaps.txt").write_text(gapped, encoding="utf-8")
        (work / "requirements.in").write_text(top, encoding="utf-8")
        return work

    files = sum(len(project.files) for project in projects.values())
    size = sum(dist.size for project in projects.values() for dist in project.files) / 1e6
    other = sum(len(entries) for entries in listed.values())
    conditional = sorted(name for name, marker in needs.items() if marker)
    hashes = sum(len(projects[name].files) for name in needs)
    print("# hashpin check --online benchmark against a local index")
    print("", *machine(args.hashpin, args.uv), sep="\n")
    print(
        f"- index: {to.index.url} (HTTPS, HTTP/1.1 keep-alive, a throwaway CA), serving"
        f" {len(projects)} made-up projects, {files} files ({size:.1f} MB), PEP 658 metadata"
        f" {'off' if args.no_core_metadata else 'on'}; its pages also list {other} files of"
        f" older versions; {args.connect_delay * 1000:.0f} ms per new connection,"
        f" {args.delay * 1000:.0f} ms per response"
    )
    print(
        f"- requirements.txt: {len(needs)} pins ({len(graph.top)} top-level, {len(conditional)}"
        f" with a marker), {hashes} hashes; requirements-gaps.txt: the same without"
        f" {' and '.join(gaps)}"
    )
    print(f"- targets: {', '.join(t.hashpin for t in TARGETS)}", flush=True)

    # Untimed first runs: the bytecode caches, and a check that every tool works here.
    for key, tool in tools.items():
        work = workdir(f"first-{key}")
        runs = bench.run(tool, work, None)
        failure = failure_of(tool, runs)
        if failure:
            print(f"bench: {tool.name} fails: {failure}", file=sys.stderr)
            for run in runs:
                print(run.stderr[-3000:], file=sys.stderr)
            return 1

    cells: dict[tuple[str, str], Cell] = {
        (key, phase): Cell() for key in tools for phase in ("cold", "warm")
    }
    uv_filled = scratch / "uv-filled-cache"
    uv_fill = bench.run(tools["uv"], workdir("uv-fill"), uv_filled)
    problems: list[str] = []
    if failure := failure_of(tools["uv"], uv_fill):
        problems.append(f"uv, filling its cache: {failure}")
    for number in range(args.repeat):
        print(f"bench: run {number + 1} of {args.repeat}", file=sys.stderr, flush=True)
        for key, tool in tools.items():
            work = workdir(f"run-{number}-{key}")
            cold = bench.run(tool, work, None if key == "uv" else work / "cache")
            warm = bench.run(tool, work, uv_filled if key == "uv" else work / "cache")
            for phase, runs in (("cold", cold), ("warm", warm)):
                if failure := failure_of(tool, runs):
                    problems.append(f"{tool.name}, {phase}: {failure}")
                cells[key, phase].runs.append(runs)

    # The correctness checks, on the last runs.
    checks: list[str] = []
    last_hashpin = cells["hashpin", "cold"].runs[-1][0]
    findings = hashpin_findings(last_hashpin)
    warm_findings = hashpin_findings(cells["hashpin", "warm"].runs[-1][0])
    if last_hashpin.exit_code == 0 and not findings and not warm_findings:
        checks.append("hashpin on requirements.txt: no finding, exit 0, cold and warm (correct)")
    else:
        codes = Counter(str(f.get("code")) for f in findings + warm_findings)
        problems.append(f"hashpin reports {dict(codes)} on the closed file")
        shown = "; ".join(str(f.get("message")) for f in findings[:5])
        checks.append(f"hashpin on requirements.txt: WRONG, exit {last_hashpin.exit_code}, {shown}")
    for target in TARGETS:
        path = scratch / f"run-{args.repeat - 1}-uv" / f"uv-{target.uv_platform}.txt"
        got = parse_hashes(path.read_text(encoding="utf-8")) if path.is_file() else {}
        want = expected_pins(projects, needed_on(needs, target.environment))
        if got == want:
            checks.append(
                f"uv on {target.hashpin}: the closure's {len(want)} pins, every file hashed"
            )
        else:
            differ = sorted(set(got) ^ set(want)) or sorted(
                n for n in want if got.get(n) != want[n]
            )
            checks.append(f"uv on {target.hashpin}: differs from the closure on {differ[:8]}")
    import packaging.markers

    here = {k: str(v) for k, v in packaging.markers.default_environment().items()}
    pip_last = cells["pip", "cold"].runs[-1][0]
    pip_want = {name: projects[name].version for name in needed_on(needs, here)}
    pip_got = pip_would_install(pip_last)
    if pip_got == pip_want:
        checks.append(f"pip on this machine: would install the closure's {len(pip_want)} pins")
    else:
        unlike = sorted(set(pip_got.items()) ^ set(pip_want.items()))
        checks.append(f"pip on this machine: differs from the closure: {unlike[:8]}")
        problems.append("pip's dry run does not install the closure")

    gap_work = workdir("gaps")
    gap_runs = bench.run(tools["hashpin"], gap_work, gap_work / "cache", "requirements-gaps.txt")
    gap_findings = hashpin_findings(gap_runs[0])
    reported = missing_names(gap_findings)
    other_codes = Counter(str(f.get("code")) for f in gap_findings if f.get("code") != "HP210")
    both = set(reported) == set(gaps)
    times = ", ".join(f"{name} x{reported[name]}" for name in sorted(reported))
    checks.append(
        f"hashpin on requirements-gaps.txt (one run, exit {gap_runs[0].exit_code}): HP210 for"
        f" {times or 'nothing'}: {'both gaps, OK' if both else 'WRONG'}"
        + (f"; also {dict(other_codes)}" if other_codes else "")
    )
    if not both or other_codes:
        problems.append(f"hashpin on the gaps: HP210 for {sorted(reported)}, want {gaps}")
    pip_gap = bench.run(tools["pip"], gap_work, None, "requirements-gaps.txt")[0]
    named = [name for name in gaps if name in pip_gap.stderr.lower()]
    error = next(
        (line.strip() for line in pip_gap.stderr.splitlines() if line.startswith("ERROR")),
        "no ERROR line",
    )
    detail = next(
        (line.strip() for line in pip_gap.stderr.splitlines() if any(g in line for g in gaps)),
        "",
    )
    checks.append(
        f"pip's dry run on requirements-gaps.txt: exit {pip_gap.exit_code}, names"
        f" {len(named)} of the 2 gaps ({', '.join(named) or 'none'}): `{error}`"
        + (f" `{detail}`" if detail else "")
        + f"; {pip_gap.seconds:.2f} s, {pip_gap.tally.requests if pip_gap.tally else '?'} requests"
    )

    # hashpin where the index has no PEP 658 files: range requests into the wheels.
    plain_tools = make_tools(args.hashpin, args.uv, to_plain.simple_url, to_plain.ca_bundle)
    plain_bench = Bench(to_plain, scratch)
    plain_work = workdir("no-pep658")
    plain_cold = plain_bench.run(plain_tools["hashpin"], plain_work, plain_work / "cache")[0]
    plain_warm = plain_bench.run(plain_tools["hashpin"], plain_work, plain_work / "cache")[0]
    plain_findings = hashpin_findings(plain_cold)
    plain_right = plain_cold.exit_code == 0 and not plain_findings
    if not plain_right:
        problems.append(f"hashpin without PEP 658 files: exit {plain_cold.exit_code}")
    plain_line = (
        f"hashpin check --online where the index has no PEP 658 files (one run, the same"
        f" files, a second index): cold {plain_cold.seconds:.2f} s,"
        f" {_tally_text(plain_cold.tally)}; warm {plain_warm.seconds:.2f} s,"
        f" {_tally_text(plain_warm.tally)}; "
        + ("no finding (correct)" if plain_right else f"WRONG: {len(plain_findings)} findings")
    )

    # The table.
    rows = [
        ("hashpin", "hashpin check --online", "3 (1 process)"),
        ("uv", "uv pip compile --generate-hashes", "3 (3 processes, summed)"),
        ("pip", "pip install --dry-run --require-hashes", "this machine (1 process)"),
    ]
    lines = [
        "| tool | targets | cold s | warm s | requests, cold | requests, warm "
        "| new connections, cold | new connections, warm |",
        "| --- | --- | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    for key, name, targets in rows:
        cold_cell, warm_cell = cells[key, "cold"], cells[key, "warm"]
        lines.append(
            f"| {name} | {targets} | {cold_cell.median():.2f} | {warm_cell.median():.2f}"
            f" | {requests_cell(cold_cell)} | {requests_cell(warm_cell)}"
            f" | {connections_cell(cold_cell)} | {connections_cell(warm_cell)} |"
        )
    spans = "; ".join(
        f"{name} {phase} {min(c.seconds()):.2f}..{max(c.seconds()):.2f}"
        for key, name, _ in rows
        for phase in ("cold", "warm")
        for c in [cells[key, phase]]
    )
    uv_per_target = ", ".join(
        f"{target.hashpin} {statistics.median(runs[i].seconds for runs in cells['uv', 'cold'].runs):.2f}"
        for i, target in enumerate(TARGETS)
    )
    print("\n## Results\n")
    print("\n".join(lines))
    print(
        f"\nMedian wall time of {args.repeat} run{'s' if args.repeat > 1 else ''} of the whole"
        f" process (min..max: {spans}); uv cold per target: {uv_per_target}. Requests as the"
        f" index counted them, by kind for the first run ({LEGEND}); a span when runs differ."
    )
    for tally_key in ("hashpin", "uv", "pip"):
        for phase in ("cold", "warm"):
            tallies = cells[tally_key, phase].tallies()
            if tallies and tallies[0].other:
                listed_other = ", ".join(f"`{p}` x{n}" for p, n in tallies[0].other.most_common())
                print(f"- {tally_key} {phase}, other requests: {listed_other}")

    print("\nCorrectness:\n")
    for check in checks:
        print(f"- {check}")
    print(f"\nAlso: {plain_line}.")

    hp_cold, uv_cold = cells["hashpin", "cold"].median(), cells["uv", "cold"].median()
    warm_meta = sum(by_kind(t)["meta"] for t in cells["hashpin", "warm"].tallies())
    warm_requests = sum(t.requests for t in cells["hashpin", "warm"].tallies())
    cold_ok = hp_cold < uv_cold
    print("\nTargets:\n")
    print(
        f"- hashpin cold (3 targets, 1 process) faster than uv cold over the same 3 targets:"
        f" {'MET' if cold_ok else 'MISSED'}: {hp_cold:.2f} s vs {uv_cold:.2f} s"
        f" ({hp_cold / uv_cold:.2f}x)"
    )
    print(
        f"- hashpin warm makes no metadata request: {'MET' if warm_meta == 0 else 'MISSED'}:"
        f" {warm_meta} metadata requests ({warm_requests} requests in all) over"
        f" {args.repeat} warm runs"
    )
    if warm_meta:
        problems.append("hashpin's warm run requested metadata")
    print("\nNotes:\n")
    print(
        f"- hashpin's {sum(reported.values())} HP210 findings on requirements-gaps.txt name"
        f" {len(reported)} projects: one finding per line whose requirement needs a gap"
    )
    per_project = cells["hashpin", "cold"].tallies()[0].projects
    repeated = {
        project: counts["meta"]
        for project, counts in sorted(per_project.items())
        if project != ROOT and counts["meta"] > 1
    }
    if repeated:
        print(
            f"- hashpin cold read more than one metadata file of {len(repeated)} projects"
            f" (one per wheel its targets install): "
            + ", ".join(f"{p} x{n}" for p, n in list(repeated.items())[:6])
            + (", ..." if len(repeated) > 6 else "")
        )
    for problem in problems:
        print(f"bench: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
