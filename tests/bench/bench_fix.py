"""Benchmark ``hashpin fix`` against uv, pip-compile and hashin on an index that costs what
the internet costs: TLS, a set-up delay per connection and a delay per response.

Run on demand, never collected by pytest::

    python tests/bench/bench_fix.py [--repeat N] [--delay S] [--connect-delay S]
        [--synthetic N] [--no-history] [--data-dir DIR] [--tools-venv DIR]
        [--hashpin PATH] [--only TOOL ...] [--no-core-metadata] [--per-project]
    python tests/bench/bench_fix.py --real-index [--repeat N] [--only TOOL ...]

With ``--repeat 3`` it takes about 9 minutes on 2 cores, most of it pip-compile's
(``--real-index --repeat 1``: about 9 minutes too, for pip-compile's 1.1 GB downloads).

What it downloads, once: real distribution files of the 25 projects of
``bench_data.PINS`` (one pinned version each, none with a runtime dependency, at most 12
files per project, none over 10 MB: 240 files, 121 MB), checked against PyPI's sha256,
into ``~/.cache/hashpin-bench/files`` (or ``--data-dir``), and what PyPI's page of each
listed for its other versions (``history.json``: 54,683 files, listed, never downloaded).
Later runs need no network. ``--synthetic`` (default 100) made-up projects
(``bench_synth``: an sdist and a wheel each, 8 more wheels for every third; 472 files,
17 MB, and 10 to 49 older versions listed each) are generated into the run's scratch
folder. The tools, unless they are next to ``sys.executable`` already (the ``bench``
extra), are installed with pip into ``<data-dir>/tools-venv`` (``--tools-venv``).

The index, ``bench_index.BenchIndex`` on 127.0.0.1, serves all of them over HTTPS with a
certificate of a throwaway CA made for the run (``bench_tls``, with the ``openssl``
binary); it waits ``--connect-delay`` (default 100 ms: TCP's and TLS's handshakes, two
round trips at 50 ms) on every new connection and ``--delay`` (default 50 ms, a round
trip) before every response, and counts requests and new connections per tool run. Its
pages list every version's files, as PyPI's do (``--no-history``: the pinned ones only),
so that a tool pays for reading pages of PyPI's size (zstandard's lists 1,264 files). Each
tool is handed the CA bundle (the machine's bundle plus the throwaway CA) its own way:
``hashpin fix --cert``, ``uv pip compile --cert`` (``SSL_CERT_FILE`` works too),
``pip-compile --cert``, and ``SSL_CERT_FILE`` for hashin (urllib's default context). The
children see none of the machine's ``SSL_CERT_*``/``*_CA_BUNDLE`` variables, no
``PIP_*``/``UV_*`` variables, ``PIP_CONFIG_FILE=/dev/null``, no proxies and their own
``XDG_CACHE_HOME``.

Two requirements files, the same ``name==version`` lines without hashes for every tool:
the 25 real projects, and those plus the synthetic ones (125 by default). On each:

- ``hashpin fix --index-url URL --cache-dir DIR requirements.txt``: cold (a new cache
  folder), then warm (the same folder, on a new copy of the unhashed file);
- ``uv pip compile --generate-hashes --no-deps``: cold with ``--no-cache``; warm with a
  ``--cache-dir`` that one untimed run filled;
- ``pip-compile --generate-hashes --cache-dir DIR``: cold, then warm as for hashpin
  (pip's own cache, under ``XDG_CACHE_HOME``, is kept with it). pip-tools 7.6 looks for
  digests at ``<index root>/<name>/json``, which neither PyPI nor this index serve (the
  legacy API is ``/pypi/<name>/json``), so it downloads and hashes every file;
- ``hashin -r requirements.txt name==version ...`` against the legacy JSON API
  (``/pypi/<name>/json``); it has no cache, so no warm run.

Each cell is the median wall time of ``--repeat`` runs (default 3) of the whole process,
after one untimed run of each tool on a one-line file (which writes the bytecode cache).
Each repetition runs every tool once, in turn, so that a slow spell of the machine (runs
here drift by a tenth over minutes) falls on every tool alike.
Before each timed run the disk writes of the runs before are flushed (``os.sync``), so
that pip-compile's gigabyte of cache is not written out during the next tool's runs.

``--real-index`` runs the same comparison against https://pypi.org/simple/ (and
https://pypi.org/pypi/ for hashin) on the 25 real projects only, each tool handed the
machine's CA bundle; nothing counts its requests there, and its hashes are checked to
include the digests of the downloaded files (PyPI has more files than those). There
pip-compile downloads every file of the 25 versions, 2,203 files, 1.1 GB, on each cold
run. It is opt-in, for a person at a machine: never run it from CI or the tests.

It prints markdown: the date, the machine, the index, and per file a table with one row
per tool, then the checks. ``hashpin fix`` exits 1 when it changed a file (and says
``Fixing <path>``): that is what it should do here. The run fails (exit 1) when hashpin
crashes, exits 2 (or 1 without fixing), writes hashes other than the index's, or misses
the warm target (local index): no file downloads and at most one page request per
project. "cold and warm at most uv's" is reported, not enforced (timings are noisy). A
failing uv, pip-compile or hashin is shown in its row and the run goes on.
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench_data import Project, ensure_data, ensure_history, requirements_text
from bench_host import host_lines, package_version
from bench_index import BenchIndex
from bench_report import Result, Run, render
from bench_synth import synthetic_history, synthetic_projects
from bench_tls import make_certificates, server_context, system_bundle

DEFAULT_REPEAT = 3
DEFAULT_DELAY = 0.05
DEFAULT_CONNECT_DELAY = 0.1
DEFAULT_SYNTHETIC = 100
REAL_INDEX = "https://pypi.org/simple/"
REAL_LEGACY = "https://pypi.org/"  # hashin appends pypi/<name>/json
TIMEOUT_S = 600.0
CRASH_MARK = "Traceback (most recent call last)"
TOOL_PACKAGES = ("pip", "uv==0.13.9", "pip-tools==7.6.2", "hashin==1.0.5")
CA_VARIABLES = {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}


@dataclass(frozen=True)
class Target:
    """Where the tools go: the simple index, the base of the legacy JSON API, the CA
    bundle to trust, and the local index that counts (None for a real index)."""

    simple_url: str
    legacy_url: str
    ca_bundle: Path
    index: BenchIndex | None


# (work folder, cache folder, where, the pins) -> argv
ArgvMaker = Callable[[Path, Path, Target, dict[str, Project]], list[str]]


@dataclass(frozen=True)
class Tool:
    name: str
    key: str
    input_name: str  # the unhashed file, written in the work folder
    output_name: str  # where the hashes end up
    cold: ArgvMaker
    warm: ArgvMaker | None = None
    fill_before_warm: bool = False  # one untimed warm-style run fills the cache first
    ca_in_environment: bool = False  # SSL_CERT_FILE, for a tool without a CA option
    ok_exit_codes: tuple[int, ...] = (0,)
    changed_mark: str | None = None  # printed when it changed a file (exit 1 then is fine)
    missing: str | None = None  # why it cannot run, when it cannot


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
    for flag in ("--index-url", "--cache-dir", "--cert"):
        if flag not in probe.stdout:
            return f"`hashpin fix` has no {flag}"
    return None


def make_tools(hashpin: Path, tools_bin: Path, python_version: str) -> list[Tool]:
    def hashpin_argv(work: Path, cache: Path, to: Target, _: dict[str, Project]) -> list[str]:
        options = ["--index-url", to.simple_url, "--cache-dir", str(cache)]
        return [str(hashpin), "fix", *options, "--cert", str(to.ca_bundle), "requirements.txt"]

    uv = _find("uv", tools_bin)

    def uv_argv(*, cached: bool) -> ArgvMaker:
        def argv(work: Path, cache: Path, to: Target, _: dict[str, Project]) -> list[str]:
            caching = ["--cache-dir", str(cache)] if cached else ["--no-cache"]
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
                to.simple_url,
                "--cert",
                str(to.ca_bundle),
                *caching,
                "requirements.in",
                "-o",
                "out.txt",
            ]

        return argv

    pip_compile = _find("pip-compile", tools_bin)

    def pip_compile_argv(work: Path, cache: Path, to: Target, _: dict[str, Project]) -> list[str]:
        return [
            str(pip_compile),
            "--quiet",
            "--generate-hashes",
            "--index-url",
            to.simple_url,
            "--no-emit-index-url",
            "--cert",
            str(to.ca_bundle),
            "--cache-dir",
            str(cache),
            "requirements.in",
            "-o",
            "out.txt",
        ]

    hashin = _find("hashin", tools_bin)

    def hashin_argv(work: Path, cache: Path, to: Target, pins: dict[str, Project]) -> list[str]:
        specs = [f"{name}=={project.version}" for name, project in sorted(pins.items())]
        return [str(hashin), "--index-url", to.legacy_url, "-r", "requirements.txt", *specs]

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
            missing=hashpin_missing(hashpin),
        ),
        Tool(
            "uv pip compile",
            "uv",
            "requirements.in",
            "out.txt",
            uv_argv(cached=False),
            warm=uv_argv(cached=True),
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
            ca_in_environment=True,
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


def child_env(xdg_cache: Path | None, ca_bundle: Path | None = None) -> dict[str, str]:
    """This environment without the machine's pip/uv/CA configuration and proxies; with
    ``ca_bundle`` as ``SSL_CERT_FILE`` when given.

    The bytecode cache is on, as after a regular install (the untimed first run fills it).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(("PIP_", "UV_"))
        and key.lower() not in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
        and key not in CA_VARIABLES
        and key not in {"PYTHONDONTWRITEBYTECODE", "INDEX_URL"}
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["UV_NO_CONFIG"] = "1"
    env["NO_COLOR"] = "1"
    if xdg_cache is not None:
        env["XDG_CACHE_HOME"] = str(xdg_cache)
    if ca_bundle is not None:
        env["SSL_CERT_FILE"] = str(ca_bundle)
    return env


def measure(argv: list[str], work: Path, env: dict[str, str], to: Target, output: Path) -> Run:
    if to.index is not None:
        to.index.take_counts()
    if hasattr(os, "sync"):  # the disk writes of the runs before (pip-compile's GB) land now
        os.sync()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=work,
        env=env,
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
    tally = to.index.take_counts() if to.index is not None else None
    text = output.read_text(encoding="utf-8") if output.is_file() else None
    return Run(seconds, process.returncode, stdout, stderr, tally, text)


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


def fresh(work: Path, tool: Tool, pins: dict[str, Project]) -> None:
    """The unhashed input file and no output, as before a first run."""
    work.mkdir(parents=True, exist_ok=True)
    for name in {tool.input_name, tool.output_name}:
        (work / name).unlink(missing_ok=True)
    (work / tool.input_name).write_text(requirements_text(pins), encoding="utf-8")


class Bench:
    """One tool's runs on one file: :meth:`prepare` (the untimed runs), then
    :meth:`repeat_once` for each repetition, then :attr:`result`."""

    def __init__(self, tool: Tool, to: Target, pins: dict[str, Project], scratch: Path) -> None:
        self.tool, self.to, self.pins, self.scratch = tool, to, pins, scratch
        self.result = Result(tool.name, tool.key, has_warm=tool.warm is not None)
        self.shared_warm = scratch / "filled"
        self.runs = 0
        if tool.missing:
            self.result.failure = f"not run: {tool.missing}"

    def _once(self, argv_maker: ArgvMaker, work: Path, runs: list[Run] | None, what: str) -> bool:
        """One run; False (and the failure noted) when it failed."""
        tool, result = self.tool, self.result
        some = self.pins if what != "warm-up" else dict([min(self.pins.items())])
        fresh(work, tool, some)
        argv = argv_maker(work, work / "cache", self.to, some)
        env = child_env(work / "xdg-cache", self.to.ca_bundle if tool.ca_in_environment else None)
        run = measure(argv, work, env, self.to, work / tool.output_name)
        if runs is not None:
            runs.append(run)
        failure = failure_of(tool, run)
        if failure:
            result.failure = failure if what == "cold" else f"{what}: {failure}"
            if not result.cold:
                result.cold.append(run)  # so that the table shows why
        return failure is None

    def prepare(self) -> None:
        """The untimed runs: one on a one-line file (the bytecode cache), and for a tool
        whose warm runs share a cache, one that fills it."""
        tool = self.tool
        if self.result.failure or not self._once(
            tool.cold, self.scratch / "warm-up", None, "warm-up"
        ):
            return
        if tool.warm and tool.fill_before_warm:
            self._once(tool.warm, self.shared_warm, None, "filling")

    def repeat_once(self) -> None:
        """One cold run, and one warm run after it (on its cache, or the shared one)."""
        tool, result = self.tool, self.result
        if result.failure:
            return
        work = self.scratch / f"run-{self.runs}"
        self.runs += 1
        if self._once(tool.cold, work, result.cold, "cold") and tool.warm:
            warm_work = self.shared_warm if tool.fill_before_warm else work
            self._once(tool.warm, warm_work, result.warm, "warm")


def bench(
    tools: list[Tool], to: Target, pins: dict[str, Project], repeat: int, scratch: Path
) -> list[Result]:
    """Every tool's runs on one file, a repetition of each tool in turn (so that a slow
    spell of the machine falls on every tool alike, not on one tool's runs)."""
    benches = [Bench(tool, to, pins, scratch / tool.key) for tool in tools]
    for each in benches:
        each.prepare()
    for _ in range(repeat):
        for each in benches:
            each.repeat_once()
    return [each.result for each in benches]


# -- the report -----------------------------------------------------------------------------


def hashpin_revision() -> str:
    """The commit of the hashpin being timed, when it runs from a git checkout (editable),
    and whether its package had uncommitted changes then."""
    import importlib.util

    spec = importlib.util.find_spec("hashpin")
    if spec is None or spec.origin is None:
        return ""
    package = Path(spec.origin).parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=package, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return ""
    dirty = git("status", "--porcelain", "--", ".")
    return f" (git {commit}{', with uncommitted changes' if dirty else ''})"


def machine(tools_bin: Path) -> list[str]:
    versions = [f"hashpin {package_version('hashpin')}{hashpin_revision()}"]
    for name in ("uv", "pip-compile", "hashin"):
        path = _find(name, tools_bin)
        version = tool_version([str(path), "--version"]) if path else "none"
        versions.append(version if version.startswith(name) else f"{name} {version}")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [f"- date: {now}", *host_lines(), f"- tools: {'; '.join(versions)}"]


def describe(pins: dict[str, Project], synthetic: set[str]) -> str:
    files = sum(len(project.files) for project in pins.values())
    megabytes = sum(dist.size for project in pins.values() for dist in project.files) / 1e6
    made_up = len(synthetic & set(pins))
    kinds = f"{len(pins) - made_up} real" + (f" + {made_up} synthetic" if made_up else "")
    return f"{len(pins)} projects ({kinds}), {files} files, {megabytes:.0f} MB"


def report_stderr(results: list[Result]) -> None:
    for result in results:
        stderr = next((run.stderr for run in result.cold if run.stderr.strip()), "")
        if result.failure and result.key == "hashpin" and stderr:
            print(f"bench: hashpin fix's stderr:\n{stderr.rstrip()}", file=sys.stderr)


def add_cost_options(parser: argparse.ArgumentParser) -> None:
    """--repeat, and what the local index charges: --delay and --connect-delay."""
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs per cell (default 3)"
    )
    parser.add_argument(
        "--delay", type=float, default=DEFAULT_DELAY, help="seconds per response (default 0.05)"
    )
    parser.add_argument(
        "--connect-delay",
        type=float,
        default=DEFAULT_CONNECT_DELAY,
        help="seconds per new connection, before its TLS handshake (default 0.1)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_cost_options(parser)
    parser.add_argument(
        "--synthetic",
        type=int,
        default=DEFAULT_SYNTHETIC,
        help="made-up projects added to the real ones for the large file (default 100; 0: none)",
    )
    parser.add_argument(
        "--real-index",
        action="store_true",
        help=f"time against {REAL_INDEX} instead, on the real projects only (opt-in, never CI)",
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
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="pages list the pinned versions only (PyPI's list every version)",
    )
    parser.add_argument(
        "--per-project", action="store_true", help="also print the requests per project"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.delay < 0 or args.connect_delay < 0 or args.synthetic < 0:
        parser.error("--delay, --connect-delay and --synthetic must not be negative")

    data_dir: Path = args.data_dir.expanduser().resolve()
    real = ensure_data(data_dir, verify=True)
    tools_venv: Path = (args.tools_venv or data_dir / "tools-venv").expanduser().resolve()
    wanted = args.only or ["hashpin", "uv", "pip-compile", "hashin"]
    here = Path(sys.executable).parent
    needs_venv = any(
        not (here / exe).exists() for exe in ("uv", "pip-compile", "hashin") if exe in wanted
    )
    tools_bin = ensure_tools_venv(tools_venv) if needs_venv else tools_venv / "bin"
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    tools = [t for t in make_tools(args.hashpin, tools_bin, python_version) if t.key in wanted]

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hashpin-bench-fix-") as tmp, ExitStack() as stack:
        scratch = Path(tmp)
        if args.real_index:
            bundle = system_bundle()
            if bundle is None:
                parser.error("--real-index: found no CA bundle file of this machine's OpenSSL")
            to = Target(REAL_INDEX, REAL_LEGACY, bundle, None)
            files = [real]
            synthetic: set[str] = set()
            where = f"- index: {REAL_INDEX}, each tool handed {bundle}"
        else:
            made_up = synthetic_projects(args.synthetic, scratch / "synthetic")
            synthetic = set(made_up)
            certificates = make_certificates(scratch / "tls")
            history = (
                {} if args.no_history else ensure_history(data_dir) | synthetic_history(made_up)
            )
            listed = sum(len(entries) for entries in history.values())
            index = BenchIndex(
                real | made_up,
                [data_dir / "files", scratch / "synthetic"],
                history=history,
                delay=args.delay,
                connect_delay=args.connect_delay,
                tls=server_context(certificates),
                core_metadata=not args.no_core_metadata,
            )
            stack.enter_context(index)
            to = Target(f"{index.url}/simple/", f"{index.url}/", certificates.bundle, index)
            files = [real, real | made_up] if made_up else [real]
            where = (
                f"- index: {index.url} (HTTPS, HTTP/1.1 keep-alive, a throwaway CA), serving"
                f" {describe(real | made_up, synthetic)}, whose pages also list {listed} files of"
                f" other versions; {args.connect_delay * 1000:.0f} ms per"
                f" new connection, {args.delay * 1000:.0f} ms per response, listen backlog"
                f" {index.backlog}, PEP 658 metadata {'off' if args.no_core_metadata else 'on'}"
            )
        print(f"# hashpin fix benchmark against {'PyPI' if args.real_index else 'a local index'}")
        print("", *machine(tools_bin), where, sep="\n", flush=True)
        for number, pins in enumerate(files):
            print(f"bench: {len(pins)} projects", file=sys.stderr)
            results = bench(tools, to, pins, args.repeat, scratch / str(number))
            table, found = render(
                results,
                pins,
                repeat=args.repeat,
                exact=to.index is not None,
                counted=to.index is not None,
                per_project=args.per_project,
            )
            downloaded = sum(len(project.files) for project in pins.values())
            heading = (
                f"{len(pins)} real projects on PyPI (hashes checked to include the digests of the"
                f" {downloaded} downloaded files; requests and connections not counted)"
                if args.real_index
                else describe(pins, synthetic)
            )
            print(f"\n## {heading}\n", table, sep="\n", flush=True)
            report_stderr(results)
            problems += [f"{len(pins)} projects: {problem}" for problem in found]
    for problem in problems:
        print(f"bench: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
