"""The markdown of ``bench_fix.py``: one table per requirements file, and its checks."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from bench_data import Project
from bench_index import KINDS, ROOT, Tally

SHORT = {"page": "p", "304": "n", "file": "f", "meta": "m", "json": "j", "other": "o"}
LEGEND = (
    "p = project page sent (200), n = page answered 304, f = distribution file,"
    " m = PEP 658 metadata file, j = legacy JSON document, o = anything else (redirects,"
    " 404s, the root list)"
)

Hashes = dict[str, tuple[str, frozenset[str]]]  # name -> (version, sha256 digests)


@dataclass(frozen=True)
class Run:
    seconds: float
    exit_code: int
    stdout: str
    stderr: str
    tally: Tally | None  # None against a real index, which counts nothing for us
    output: str | None  # the file with the hashes, after the run


@dataclass
class Result:
    name: str  # of the tool, as in the table
    key: str  # hashpin, uv, pip-compile, hashin
    has_warm: bool
    cold: list[Run] = field(default_factory=list)
    warm: list[Run] = field(default_factory=list)
    failure: str | None = None

    @property
    def usable(self) -> bool:
        return self.failure is None and bool(self.cold)


def median_s(runs: list[Run]) -> float:
    return statistics.median(run.seconds for run in runs)


# -- the hashes ----------------------------------------------------------------------------


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_hashes(text: str) -> Hashes:
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
    found: Hashes = {}
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


def known_hashes(pins: dict[str, Project]) -> Hashes:
    return {
        name: (project.version, frozenset(dist.sha256 for dist in project.files))
        for name, project in pins.items()
    }


def wrong_hashes(got: Hashes, known: Hashes, *, exact: bool) -> list[str]:
    """The projects whose hashes are not the known ones (``exact``) or do not include them
    (against a real index, which has more files than the benchmark downloaded)."""
    wrong = []
    for name, (version, digests) in known.items():
        got_version, got_digests = got.get(name, ("", frozenset()))
        if got_version != version or not (
            got_digests == digests if exact else digests <= got_digests
        ):
            wrong.append(name)
    return sorted(wrong)


# -- cells -----------------------------------------------------------------------------------


def _kinds(counts: Counter[str]) -> str:
    return " ".join(f"{SHORT[kind]}{counts[kind]}" for kind in KINDS if counts[kind])


def by_kind(tally: Tally) -> Counter[str]:
    """The tally's requests of each kind, over all projects."""
    total: Counter[str] = Counter()
    for counts in tally.projects.values():
        total.update(counts)
    return total


def span(values: list[int]) -> str:
    """One value, or the range ``low..high`` the runs spread over."""
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}..{high}"


def requests_cell(runs: list[Run]) -> str:
    """``120 (p120)``: all requests of a run, the first run's by kind; a span when the
    runs differ."""
    tallies = [run.tally for run in runs if run.tally is not None]
    if not tallies:
        return "n/a"
    kinds = _kinds(by_kind(tallies[0]))
    return span([t.requests for t in tallies]) + (f" ({kinds})" if kinds else "")


def connections_cell(runs: list[Run]) -> str:
    tallies = [run.tally for run in runs if run.tally is not None]
    if not tallies:
        return "n/a"
    unfinished = [t.unfinished for t in tallies]
    cell = span([t.connections for t in tallies])
    return cell + (f" ({span(unfinished)} unfinished)" if any(unfinished) else "")


# -- a table --------------------------------------------------------------------------------


def render(
    results: list[Result],
    pins: dict[str, Project],
    *,
    repeat: int,
    exact: bool,
    counted: bool,
    per_project: bool = False,
) -> tuple[str, list[str]]:
    """The markdown of one requirements file, and why the run fails (empty when it does
    not). ``exact``: the index serves exactly the known files; ``counted``: its requests
    were counted."""
    problems: list[str] = []
    known = known_hashes(pins)
    by_key = {result.key: result for result in results}
    hashpin = by_key.get("hashpin")
    ref_cold = median_s(hashpin.cold) if hashpin and hashpin.usable else None
    ref_warm = median_s(hashpin.warm) if hashpin and hashpin.usable and hashpin.warm else None
    n = len(pins)
    lines = [
        "| tool | cold s | warm s | cold / hashpin | warm / hashpin | requests, cold "
        "| requests, warm | new connections, cold | new connections, warm "
        f"| hashes {'= index' if exact else '⊇ known'} | note |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | --- | --- |",
    ]
    for result in results:
        ok = result.usable
        cold_s = f"{median_s(result.cold):.2f}" if ok else "n/a"
        warm_s = f"{median_s(result.warm):.2f}" if ok and result.warm else "n/a"
        cold_x = f"{median_s(result.cold) / ref_cold:.2f}x" if ok and ref_cold else "n/a"
        warm_x = (
            f"{median_s(result.warm) / ref_warm:.2f}x" if ok and ref_warm and result.warm else ""
        )
        correct = "n/a"
        last = result.cold[-1] if result.cold else None
        if ok and last is not None and last.output is not None:
            wrong = wrong_hashes(parse_hashes(last.output), known, exact=exact)
            correct = "yes" if not wrong else f"{len(wrong)} of {n} wrong"
            if wrong and result.key == "hashpin":
                problems.append(f"hashpin's hashes are wrong for {', '.join(wrong)}")
            warm_out = result.warm[-1].output if result.warm else None
            if warm_out is not None and parse_hashes(warm_out) != parse_hashes(last.output):
                correct += "; warm output differs from cold"
                if result.key == "hashpin":
                    problems.append("hashpin's warm output differs from its cold output")
        no_cache = not result.has_warm
        lines.append(
            f"| {result.name} | {cold_s} | {'(no cache)' if no_cache else warm_s} | {cold_x} "
            f"| {warm_x} | {requests_cell(result.cold) if ok else ''} "
            f"| {requests_cell(result.warm) if ok and result.warm else ''} "
            f"| {connections_cell(result.cold) if ok else ''} "
            f"| {connections_cell(result.warm) if ok and result.warm else ''} "
            f"| {correct} | {result.failure or ''} |"
        )
    spans = "; ".join(
        f"{r.name} cold {min(x.seconds for x in r.cold):.2f}..{max(x.seconds for x in r.cold):.2f}"
        + (
            f", warm {min(x.seconds for x in r.warm):.2f}..{max(x.seconds for x in r.warm):.2f}"
            if r.warm
            else ""
        )
        for r in results
        if r.usable
    )
    lines += [
        "",
        f"Median wall time of {repeat} run{'s' if repeat > 1 else ''} of the whole process"
        f" (min..max: {spans}).",
    ]
    if counted:
        lines.append(
            "Requests and new connections as the index counted them (a span when the runs"
            " differ); unfinished: connections closed before their TLS handshake ended (uv"
            f" drops some of those it opens at once). By kind, for the first run: {LEGEND}."
        )
    lines += _checks(by_key, pins, counted, problems)
    if per_project and counted:
        lines += _per_project(results, pins)
    lines += _others(results)
    if hashpin and not hashpin.usable:
        problems.append(f"hashpin fix: {hashpin.failure}")
    return "\n".join(lines), problems


def _checks(
    by_key: dict[str, Result], pins: dict[str, Project], counted: bool, problems: list[str]
) -> list[str]:
    lines: list[str] = []
    hashpin, uv = by_key.get("hashpin"), by_key.get("uv")
    if hashpin and uv and hashpin.usable and uv.usable:
        hp_out, uv_out = hashpin.cold[-1].output, uv.cold[-1].output
        if hp_out is not None and uv_out is not None:
            hp, other = parse_hashes(hp_out), parse_hashes(uv_out)
            differ = sorted(name for name in pins if hp.get(name) != other.get(name))
            lines.append(
                f"\n- hashpin fix vs uv pip compile: {len(differ)} of {len(pins)} projects"
                " have a different hash set" + (f" ({', '.join(differ)})" if differ else "") + "."
            )
        verdicts = []
        for phase, mine, theirs in (
            ("cold", hashpin.cold, uv.cold),
            ("warm", hashpin.warm, uv.warm),
        ):
            if mine and theirs:
                a, b = median_s(mine), median_s(theirs)
                verdicts.append(f"{phase} {a:.2f} s vs {b:.2f} s ({'met' if a <= b else 'missed'})")
        met = all(v.endswith("(met)") for v in verdicts)
        lines.append(
            f"- hashpin target, cold and warm at most uv's: {'MET' if met else 'MISSED'}:"
            f" {'; '.join(verdicts)}."
        )
    if counted and hashpin and hashpin.usable and hashpin.warm:
        worst_pages = 0
        files = 0
        for run in hashpin.warm:
            if run.tally is None:
                continue
            for project, counts in run.tally.projects.items():
                if project != ROOT:
                    worst_pages = max(worst_pages, counts["page"] + counts["304"])
                files += counts["file"]
        met = files == 0 and worst_pages <= 1
        lines.append(
            f"- hashpin warm target (no file downloads, at most one page request per project):"
            f" {'MET' if met else 'MISSED'}: {files} file downloads, at most {worst_pages}"
            " page requests for one project, over all warm runs."
        )
        if not met:
            problems.append("hashpin fix missed the warm target")
    return lines


def _per_project(results: list[Result], pins: dict[str, Project]) -> list[str]:
    columns: list[tuple[str, dict[str, Counter[str]]]] = []
    for result in results:
        for phase, runs in (("cold", result.cold), ("warm", result.warm)):
            if result.usable and runs and runs[0].tally is not None:
                columns.append((f"{result.name} {phase}", runs[0].tally.projects))
    if not columns:
        return []
    projects = sorted({p for _, counts in columns for p in counts} | set(pins))
    lines = [
        "",
        "Requests per project (first timed run of each):",
        "",
        "| project | " + " | ".join(title for title, _ in columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for project in projects:
        cells = [_kinds(counts.get(project, Counter())) or "-" for _, counts in columns]
        lines.append(f"| {project} | " + " | ".join(cells) + " |")
    return lines


def _others(results: list[Result]) -> list[str]:
    """The "other" requests of each first run, by path: what a tool asked for in vain."""
    found = []
    for result in results:
        for phase, runs in (("cold", result.cold), ("warm", result.warm)):
            if result.usable and runs and runs[0].tally is not None and runs[0].tally.other:
                listed = ", ".join(
                    f"`{path}` x{times}" for path, times in runs[0].tally.other.most_common()
                )
                found.append(f"  - {result.name} {phase}: {listed}")
    return (
        ["- requests counted as other (path, status, times), first run:", *found] if found else []
    )
