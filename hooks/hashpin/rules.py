"""The rule table and the check: from parsed files to findings. Pure: no I/O."""

from __future__ import annotations

import re

from .digests import DIGEST_LENGTHS
from .redact import redact_text, unexpand
from .reqfile import REQUIREMENT_LINE_OPTIONS
from .requirement import (
    DIRECTORY,
    NAMED,
    URL,
    VCS,
    InvalidRequirement,
    Requirement,
    admits,
    candidate_key,
    canonical_name,
    file_url_path,
    interpret,
    link_key,
    marker_implies,
    markers_overlap,
    plain_pin_name,
    same_version,
    url_scheme,
    url_version,
)
from .workspace import CONSTRAINTS

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from .reqfile import Line
    from .workspace import Source, Workspace

ERROR = "error"
WARNING = "warning"
SAFE = "safe"  # the fix adds what is missing and chooses nothing
UNSAFE = "unsafe"  # the fix chooses something (a version): only with --pin


class Rule:
    __slots__ = ("code", "fix", "name", "severity", "summary")

    def __init__(self, code: str, name: str, severity: str, fix: str | None, summary: str) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.fix = fix
        self.summary = summary


# The one rule table. Codes and names are a public contract: never reuse or renumber.
RULES: tuple[Rule, ...] = (
    Rule("HP000", "invalid", ERROR, None,
         "pip would refuse the file: bad requirement, option, hash algorithm, encoding, include,"
         " or two lines for one project that no candidate satisfies (a resolver conflict)"),
    Rule("HP001", "unpinned", ERROR, UNSAFE,
         "a named requirement is not pinned to one version with == or ==="),
    Rule("HP002", "unhashed", ERROR, SAFE,
         "a requirement has no --hash (and its URL carries no hash)"),
    Rule("HP003", "editable", ERROR, None, "an editable (-e) requirement cannot be hashed"),
    Rule("HP004", "vcs", ERROR, None, "a version-control URL cannot be hashed"),
    Rule("HP005", "local-directory", ERROR, None, "a local directory cannot be hashed"),
    Rule("HP006", "malformed-hash", ERROR, SAFE,
         "a digest that can never match: wrong length or not hex for its algorithm"),
    Rule("HP101", "wildcard-pin", WARNING, UNSAFE,
         "==X.* counts as pinned for pip, but the version is not fixed"),
    Rule("HP102", "ignored-hash", WARNING, SAFE,
         "a --hash pip ignores: inside a comment, on a line without a requirement, on -e"),
    Rule("HP103", "ignored-text", WARNING, None,
         "text or options pip silently drops"),
    Rule("HP104", "duplicate", WARNING, None,
         "a project listed again where pip checks another of its lines instead of this one"),
    Rule("HP105", "insecure-url", WARNING, None,
         "an http:// index, find-links or requirement URL to a host other than this machine"),
    Rule("HP106", "weak-url-hash", WARNING, SAFE,
         "a URL's own #md5=/#sha1=/#sha224= fragment is its only hash"),
    Rule("HP107", "remote-include", WARNING, None,
         "an include by URL, which the offline check does not follow"),
    Rule("HP108", "unused-suppression", WARNING, None,
         "a '# hashpin: ignore' comment that suppresses nothing"),
    # The online rules (check --online): they need the index.
    Rule("HP201", "unknown-project", ERROR, None, "no source has this project"),
    Rule("HP202", "unknown-version", ERROR, None,
         "the project has no file of the pinned version"),
    Rule("HP203", "yanked", WARNING, None, "every file of the pinned version is yanked"),
    Rule("HP204", "stale-hash", WARNING, SAFE,
         "a --hash matches no file of the pinned version"),
    Rule("HP205", "uncovered-target", ERROR, SAFE,
         "on a target, no file pip could install there is covered by the hashes"),
    Rule("HP206", "unhashed-file", WARNING, SAFE,
         "a file of the pinned version that a target installs is not in the hash set"),
    Rule("HP207", "no-file-for-target", ERROR, None,
         "the pinned version has no file a target can install (no matching wheel, no sdist)"),
    Rule("HP210", "missing-dependency", ERROR, UNSAFE,
         "a dependency needed on a target is not in the file"),
    Rule("HP211", "dependency-conflict", ERROR, None,
         "the file pins a version that a requirer's specifier excludes"),
    Rule("HP212", "requires-python", ERROR, None,
         "the pinned version's Requires-Python excludes a target's Python"),
    Rule("HP213", "unknown-dependencies", WARNING, None,
         "the dependencies of a pinned version cannot be read"),
    Rule("HP214", "builds-from-source", WARNING, None,
         "on a target only an sdist fits: its build dependencies are not hash-checked"),
    # The lock-file rules (pylock.toml, PEP 751; hashpin/pylock.py), offline.
    Rule("HP301", "mismatched-artifact", ERROR, None,
         "a wheel or sdist whose file name is not one of the package's name and version"),
    Rule("HP302", "url-name-mismatch", ERROR, None,
         "an artifact's url or path ends in another file name than its name says"),
    Rule("HP303", "unknown-hash-algorithm", ERROR, None,
         "a hash algorithm pip cannot use everywhere: not in hashlib.algorithms_guaranteed,"
         " or a shake_* one (no fixed length)"),
    Rule("HP304", "invalid-marker", ERROR, None,
         "a marker, environment or requires-python that does not parse"),
    Rule("HP305", "no-file-for-environment", ERROR, None,
         "a package with wheels only, for platforms that every environment of the lock excludes"),
)  # fmt: skip
ONLINE = "HP2"  # the code prefix of the online rules: the offline check cannot judge them
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}

_VALID_DIGEST_RE = re.compile(
    r"sha256:[0-9a-fA-F]{64}|sha384:[0-9a-fA-F]{96}|sha512:[0-9a-fA-F]{128}"
)
_SUPPRESSION = r"hashpin:\s*ignore(?:\[([^\]]*)\])?"  # compiled on first use
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def resolve_rule(code_or_name: str) -> Rule | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())


class Finding:
    __slots__ = (
        "code",
        "column",
        "column_line",
        "end_line",
        "fixable",
        "line",
        "message",
        "path",
        "requirement",
        "severity",
    )

    def __init__(
        self,
        path: str,
        code: str,
        message: str,
        *,
        line: int = 1,
        column: int = 1,
        end_line: int | None = None,
        column_line: int | None = None,
        requirement: str | None = None,
        fixable: bool = False,
    ) -> None:
        self.path = path
        self.code = code
        # Every finding, of every rule present or future, is made here: hiding URL
        # credentials here, rather than in each rule or each output format, leaves no
        # message and no format that can show them. (The "@" test, inline, spares the
        # call for nearly every finding: a lock file can have thousands.)
        self.message = redact_text(message) if "@" in message else message
        # line..end_line: the logical line, as pip numbers it (its first physical line and
        # its last); column counts on column_line, the physical line of what is pointed at
        # (a digest on a continuation line), which is line itself unless told otherwise.
        self.line = line
        self.column = column
        self.end_line = line if end_line is None else end_line
        self.column_line = line if column_line is None else column_line
        self.requirement = (
            redact_text(requirement)
            if requirement is not None and "@" in requirement
            else requirement
        )
        self.fixable = fixable
        self.severity = BY_CODE[code].severity

    @property
    def rule(self) -> Rule:
        return BY_CODE[self.code]

    def __repr__(self) -> str:
        return f"Finding({self.path}:{self.line}:{self.column} {self.code} {self.message!r})"


class Settings:
    """Which rules run and how severe they are."""

    __slots__ = ("ignore", "select", "severity")

    def __init__(
        self,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] = (),
        severity: Mapping[str, str] | None = None,
    ) -> None:
        self.select = frozenset(select) if select is not None else None
        self.ignore = frozenset(ignore)
        self.severity = dict(severity or {})

    def enabled(self, code: str) -> bool:
        return (self.select is None or code in self.select) and code not in self.ignore


class Report:
    """Findings per file, every file checked included."""

    __slots__ = ("files",)

    def __init__(self) -> None:
        self.files: dict[str, list[Finding]] = {}

    @property
    def findings(self) -> list[Finding]:
        return [finding for findings in self.files.values() for finding in findings]

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)


class Constraint:
    """What the constraints files say about one project."""

    __slots__ = ("hashed", "pinned", "version")

    def __init__(self) -> None:
        self.pinned = False
        self.hashed = False
        self.version: str | None = None  # the exact version pinned, if any


def check(
    workspace: Workspace,
    settings: Settings | None = None,
    is_dir: Callable[[str], bool] | None = None,
) -> Report:
    """Check every file of the workspace, each once, in the order pip reads them.

    ``is_dir`` tells whether a ``file:`` URL names a directory where pip will run; pip
    refuses those under --require-hashes, and hashes the same URL if it is a file.
    """
    settings = settings or Settings()
    constraints = collect_constraints(workspace)
    report = Report()
    checked: set[str] = set()
    for root in workspace.roots:
        state = _State(constraints, is_dir)  # each root is one `pip install -r`
        positions = _positions(workspace, root)
        found: dict[str, list[Finding]] = {}
        for source in workspace.walk(root):
            if source.key not in checked:
                checked.add(source.key)
                state.position = positions.get(source.key, ())
                found[source.path] = _check_source(source, state)
        # Whether pip checks a line of a project listed more than once can depend on a
        # later line (and on every file of the install): decided once all are read.
        for entries in state.repeats.values():
            for path, line, line_findings in _resolve_repeats(entries):
                _replace_line(found[path], path, line, line_findings)
        for path, findings in found.items():
            report.files[path] = apply_settings(findings, settings)
    return report


def _replace_line(
    findings: list[Finding], path: str, line: Line, line_findings: list[Finding]
) -> None:
    """Put a line's findings, as changed after the file was checked, in their place.

    The file's findings are in line order, each line's together (all carry the line's
    number), so a binary search finds them (bisect's key= is Python 3.10+).
    """
    number = line.number
    low, high = 0, len(findings)
    while low < high:
        middle = (low + high) // 2
        if findings[middle].line < number:
            low = middle + 1
        else:
            high = middle
    end = low
    while end < len(findings) and findings[end].line == number:
        end += 1
    if "hashpin" in line.comment:
        line_findings = suppress(path, line, line_findings)
    findings[low:end] = line_findings


if TYPE_CHECKING:
    # (path, line, the line's findings, its requirement or None for a plain name==1.2.3,
    # the _positions of its file)
    _Seen = tuple[str, Line, list[Finding], Requirement | None, tuple[int, ...]]


def _positions(workspace: Workspace, root: str) -> dict[str, tuple[int, ...]]:
    """Where pip first reads each file: the line numbers of the includes leading to it.

    pip reads an included file at its include line, so a line of a file at position P
    comes at P + (its number,) in the order pip meets requirements (tuples compare so).
    """
    positions: dict[str, tuple[int, ...]] = {}
    stack: list[tuple[str, tuple[int, ...]]] = [(root, ())]
    while stack:  # the depth-first order of Workspace.walk
        key, position = stack.pop()
        if key in positions:
            continue
        positions[key] = position
        for number, include in sorted(workspace.sources[key].includes.items(), reverse=True):
            if include.key in workspace.sources and include.problem is None:
                stack.append((include.key, (*position, number)))
    return positions


class _State:
    """What pip carries from one line to the next across the whole install."""

    __slots__ = ("constraints", "first", "is_dir", "position", "repeats")

    def __init__(
        self, constraints: dict[str, Constraint], is_dir: Callable[[str], bool] | None
    ) -> None:
        self.constraints = constraints
        self.is_dir = is_dir
        self.first: dict[str, _Seen] = {}  # project -> its first requirement line
        self.repeats: dict[str, list[_Seen]] = {}  # project -> all its lines, if more than one
        self.position: tuple[int, ...] = ()  # _positions of the file being checked

    def require(self, key: str, at: _At, findings: list[Finding], req: Requirement | None) -> None:
        """Remember a requirement line of the project (one dict lookup for most lines)."""
        assert at.line is not None
        seen = (at.path, at.line, findings, req, self.position)
        first = self.first.setdefault(key, seen)
        if first is not seen:
            repeats = self.repeats.get(key)
            if repeats is None:
                self.repeats[key] = [first, seen]
            else:
                repeats.append(seen)


def collect_constraints(workspace: Workspace) -> dict[str, Constraint]:
    """Projects that constraints files pin or hash: that counts for their requirements."""
    constraints: dict[str, Constraint] = {}
    for source in workspace.sources.values():
        if source.role != CONSTRAINTS or source.file is None or not source.applies:
            continue
        for line in source.file.lines:
            if not line.args or line.error:
                continue
            try:
                requirement = interpret(line.args)
            except InvalidRequirement:
                continue
            if requirement.key is None:
                continue
            entry = constraints.setdefault(requirement.key, Constraint())
            # A URL fixes the artifact: pip makes the requirement's candidate from it
            # (factory._iter_candidates_from_constraints), a direct one that needs no pin
            # and is verified by the requirement's hashes or by the URL's own hash.
            direct = requirement.kind == URL
            entry.pinned |= requirement.is_pinned or direct
            entry.version = entry.version or requirement.pinned_version
            entry.hashed |= line.hashes_only or bool(line.options_named("--hash"))
            entry.hashed |= direct and requirement.url_hash is not None
    return constraints


def _check_source(source: Source, state: _State) -> list[Finding]:
    path = source.path
    if source.error is not None:
        number, message = source.error
        return [Finding(path, "HP000", message, line=number)]
    if source.lock is not None:  # pylock.toml: imported only when a lock file is checked
        from .pylock import check_lock

        return check_lock(path, source.lock)
    assert source.file is not None
    if any("\x00" in line.raw for line in source.file.lines):
        return [
            Finding(
                path,
                "HP000",
                "contains NUL bytes: a binary file, or UTF-16 text without a byte order mark",
            )
        ]
    findings: list[Finding] = []
    constraint_file = source.role == CONSTRAINTS
    at = _At(path)
    for line in source.file.lines:
        comment = line.comment
        if not line.content and not comment:
            continue
        at.line = line
        # (A repeat's line_findings may still change: state keeps the list, unsuppressed.)
        line_findings = _check_line(line, source, constraint_file, state, at)
        if "hashpin" in comment:  # only a suppression comment can suppress
            line_findings = suppress(path, line, line_findings)
        findings.extend(line_findings)
    return findings


class _At:
    """Makes findings positioned within the line being checked (one per file, not per line)."""

    __slots__ = ("line", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.line: Line | None = None

    def __call__(
        self,
        code: str,
        message: str,
        offset: int = 0,
        *,
        requirement: str | None = None,
        fixable: bool = False,
    ) -> Finding:
        line = self.line
        assert line is not None
        row, column = line.locate(offset)
        # Messages quote the line as pip expanded it; a ${NAME}'s value may be a secret, so
        # show the ${NAME} written instead. Every finding about a line's text is made here.
        # ("$" in raw: the cheap test that skips the lookup for almost every line.)
        if "$" in line.raw and line.expansions:
            message = unexpand(message, line.expansions)
            if requirement is not None:
                requirement = unexpand(requirement, line.expansions)
        return Finding(
            self.path,
            code,
            message,
            line=line.number,
            column=column,
            end_line=line.end,
            column_line=row,
            requirement=requirement,
            fixable=fixable,
        )


def _check_line(
    line: Line, source: Source, constraint_file: bool, state: _State, at: _At
) -> list[Finding]:
    findings: list[Finding] = []
    if "--hash" in line.comment:
        findings.append(
            at("HP102", "a --hash after '#' is part of a comment, which pip ignores", fixable=True)
        )
    if not line.content:
        return findings
    if line.error is not None:
        findings.append(at("HP000", line.error))
        return findings
    if line.dropped:
        words = " ".join(word for word, _ in line.dropped)
        findings.append(at("HP103", f"pip ignores {words!r} among the options", line.dropped[0][1]))
    for option in () if line.hashes_only else line.options:  # well-formed hashes need no look
        if option.name == "--hash":
            problem = digest_problem(option.value or "")
            if problem:
                findings.append(at("HP006", problem, option.offset, fixable=True))
        elif option.name in ("--index-url", "--extra-index-url", "--find-links") and _insecure(
            option.value or ""
        ):
            message = f"{option.name} {option.value} is not served over https"
            findings.append(at("HP105", message, option.offset))
    if line.args:
        _check_requirement(line, constraint_file, state, at, findings)
    else:
        findings.extend(_check_option_line(line, source, state, at))
    return findings


def _check_option_line(line: Line, source: Source, state: _State, at: _At) -> list[Finding]:
    findings = []
    editables = line.options_named("--editable")
    for option in line.options_named("--hash"):
        where = "-e" if editables else "a line without a requirement"
        # fix folds a stray hash line into the requirement above; an editable has no hashes.
        message = f"pip ignores --hash on {where}"
        findings.append(at("HP102", message, option.offset, fixable=not editables))
    if editables:
        findings.append(
            at(
                "HP003",
                f"editable requirement {editables[0].value} cannot be hashed",
                editables[0].offset,
            )
        )
        if source.role == CONSTRAINTS:
            findings.append(at("HP000", "pip refuses an editable requirement as a constraint"))
        for extra in editables[1:]:
            findings.append(at("HP103", "pip installs only the first -e of a line", extra.offset))
    include = source.includes.get(line.number)
    includes = line.options_named("--requirement") + line.options_named("--constraint")
    if include is not None:
        followed = line.options_named(
            "--requirement" if not include.constraint else "--constraint"
        )[0]
        for extra in includes:
            if extra is not followed:
                findings.append(
                    at("HP103", "pip follows only the first include of a line", extra.offset)
                )
        if include.problem is not None:
            findings.append(at("HP000", include.problem, followed.offset))
        elif include.path is None:
            findings.append(
                at(
                    "HP107",
                    f"{include.target} is not checked: includes by URL are not fetched",
                    followed.offset,
                )
            )
    if line.options_named("--no-require-hashes"):
        findings.append(
            at(
                "HP000",
                "pip install --require-hashes refuses --no-require-hashes, which also "
                "turns off the hash checking a hashed file would get",
            )
        )
    return findings


def _check_requirement(
    line: Line, constraint_file: bool, state: _State, at: _At, findings: list[Finding]
) -> None:
    for option in () if line.hashes_only else line.options:
        if option.name not in REQUIREMENT_LINE_OPTIONS:
            findings.append(
                at(
                    "HP103",
                    f"pip ignores {option.name} on a line with a requirement",
                    option.offset,
                )
            )
    if line.hashes_only and not constraint_file:
        name = plain_pin_name(line.args)
        if name is not None:
            # name==1.2.3 with sha256 hashes, the bulk of a lock file: pinned and hashed,
            # so of the checks below only the one for repeats can find anything.
            state.require(canonical_name(name), at, findings, None)
            return
    try:
        requirement = interpret(line.args)
    except InvalidRequirement as exc:
        findings.append(at("HP000", str(exc)))
        return
    label = requirement.name or line.args
    url = requirement.url
    if url:
        if requirement.kind == URL and state.is_dir is not None:
            local = file_url_path(url)
            if local is not None and state.is_dir(local):
                requirement.kind = DIRECTORY
        if _insecure(url):
            findings.append(at("HP105", f"{url} is not served over https", requirement=label))
        if requirement.url_hash and digest_problem(":".join(requirement.url_hash)):
            findings.append(
                at(
                    "HP006",
                    digest_problem(":".join(requirement.url_hash)),
                    requirement=label,
                    fixable=True,
                )
            )
    if constraint_file:
        if requirement.name is None:
            findings.append(
                at("HP000", "pip refuses a constraint without a project name", requirement=label)
            )
        elif requirement.extras:
            findings.append(at("HP000", "pip refuses a constraint with extras", requirement=label))
        return
    if requirement.kind == VCS:
        findings.append(
            at(
                "HP004",
                f"{requirement.url} is a version-control URL, which cannot be hashed",
                requirement=label,
            )
        )
        return
    if requirement.kind == DIRECTORY:
        findings.append(
            at(
                "HP005",
                f"{line.args} is a local directory, which cannot be hashed",
                requirement=label,
            )
        )
        return
    key = requirement.key
    if key is not None:
        state.require(key, at, findings, requirement)
    constraint = state.constraints.get(key) if key and state.constraints else None
    hashes = line.hashes_only or bool(line.options_named("--hash"))
    if requirement.kind == NAMED:
        if not requirement.is_pinned and not (constraint and constraint.pinned):
            findings.append(
                at(
                    "HP001",
                    f"{line.args} is not pinned to one version (use ==)",
                    requirement=label,
                    fixable=False,
                )
            )
        elif requirement.is_wildcard_pin:
            findings.append(
                at("HP101", f"{line.args} pins a version range, not one version", requirement=label)
            )
    has_hash = hashes or requirement.url_hash is not None or bool(constraint and constraint.hashed)
    if not has_hash:
        fixable = requirement.kind == URL or requirement.pinned_version is not None
        findings.append(at("HP002", f"{label} has no --hash", requirement=label, fixable=fixable))
    elif (
        not hashes and requirement.url_hash and requirement.url_hash[0] in ("md5", "sha1", "sha224")
    ):
        findings.append(
            at(
                "HP106",
                f"{label} is verified only by its URL's #{requirement.url_hash[0]}",
                requirement=label,
                fixable=True,
            )
        )


# What pip never looks at on a line whose candidate another line makes.
_UNCHECKED = frozenset({"HP001", "HP002", "HP101", "HP106"})
_EXTRAS_ONLY = "extras"  # name[extra] without a version clause: pip resolves it last


class _Repeat:
    """One requirement line of a project that the install lists more than once."""

    __slots__ = ("findings", "kind", "line", "order", "path", "requirement", "version")

    def __init__(self, seen: _Seen) -> None:
        self.path, self.line, self.findings, requirement, position = seen
        self.order = (*position, self.line.number)  # where pip meets it
        if requirement is None:  # a plain name==1.2.3 of the fast path
            requirement = interpret(self.line.args)
        self.requirement = requirement
        if requirement.kind == URL:
            self.kind = URL
            self.version = url_version(requirement)
        else:
            self.kind = _EXTRAS_ONLY if requirement.extras and not requirement.specifiers else NAMED
            self.version = requirement.pinned_version or (
                requirement.specifiers[0][1]
                if requirement.is_pinned and requirement.specifiers[0][0] == "==="
                else None
            )

    @property
    def marker(self) -> str | None:
        return self.requirement.marker

    def where(self, other: _Repeat) -> str:
        number = self.line.number
        return f"line {number}" if self.path == other.path else f"{self.path}:{number}"

    def admits(self, version: str) -> bool:
        """Whether a candidate of this version satisfies this line (True if unknown)."""
        if self.kind == URL:
            return self.version is None or same_version(self.version, version)
        return admits(self.requirement.specifiers, version)


def _resolve_repeats(seen: list[_Seen]) -> list[tuple[str, Line, list[Finding]]]:
    """Which lines of one project pip checks, and whether they can be installed together.

    pip's resolver (resolution/resolvelib/factory.py) makes one candidate per direct URL,
    each prepared (so hash-checked) with its own line's hashes as soon as the requirements
    are collected, except that a URL already seen is the same candidate. Named lines are
    then merged: the candidate found on the index is prepared with the hashes of the first
    line its identifier is fed (collect_root_requirements feeds name[extra] lines without
    a version clause after all others), and none is looked for once a direct URL of the
    project has been fed. Markers decide per environment which lines take part at all.
    """
    changed: list[tuple[str, Line, list[Finding]]] = []
    try:
        repeats = sorted((_Repeat(entry) for entry in seen), key=lambda repeat: repeat.order)
    except InvalidRequirement:  # cannot happen: every line was interpreted already
        return changed
    for index, repeat in enumerate(repeats):
        instead = _checked_instead(repeats, index)
        conflict = next((other for other in repeats[:index] if _conflicts(other, repeat)), None)
        if instead is not None:
            repeat.findings[:] = [f for f in repeat.findings if f.code not in _UNCHECKED]
        if conflict is None and instead is None:
            continue
        changed.append((repeat.path, repeat.line, repeat.findings))
        at = _At(repeat.path)
        at.line = repeat.line
        label = repeat.requirement.name or repeat.line.args
        if conflict is not None:
            message = (
                f"{repeat.line.args} conflicts with {conflict.line.args} on "
                f"{conflict.where(repeat)}: no candidate satisfies both, so pip's resolver "
                "refuses the install"
            )
            repeat.findings.append(at("HP000", message, requirement=label))
        elif instead is not None:
            if repeats.index(instead) < index:
                message = f"{label} is listed again: pip checks only the first one's hashes"
            else:
                message = (
                    f"{label} is listed again on {instead.where(repeat)}: pip checks that "
                    "line's pin and hashes, not this one's"
                )
            repeat.findings.append(at("HP104", message, requirement=label))
    return changed


def _checked_instead(repeats: list[_Repeat], index: int) -> _Repeat | None:
    """A line pip takes the candidate from wherever this one applies, if there is one."""
    repeat = repeats[index]
    for other_index, other in enumerate(repeats):
        if other_index == index:
            continue
        if repeat.kind == URL:
            # Its own candidate, unless an earlier line is the same link.
            takes = (
                other_index < index
                and other.kind == URL
                and link_key(other.requirement) == link_key(repeat.requirement)
            )
        elif repeat.kind == NAMED:
            # An earlier named line fed first, or an earlier URL already there.
            takes = other_index < index and other.kind != _EXTRAS_ONLY
        else:
            # Fed after every other kind of line; among its own kind, in file order.
            takes = other.kind != _EXTRAS_ONLY or other_index < index
        if takes and marker_implies(repeat.marker, other.marker):
            return other
    return None


def _conflicts(one: _Repeat, other: _Repeat) -> bool:
    """Whether pip's resolver finds no candidate for both lines where both apply."""
    if one.kind == URL and other.kind == URL:
        if candidate_key(one.requirement) == candidate_key(other.requirement):
            return False
    else:
        versions = [v for v in (one.version, other.version) if v is not None]
        if not versions or any(one.admits(v) and other.admits(v) for v in versions):
            return False
    return markers_overlap(one.marker, other.marker)


def digest_problem(value: str) -> str:
    if _VALID_DIGEST_RE.fullmatch(value):
        return ""
    algorithm, _, digest = value.partition(":")
    expected = DIGEST_LENGTHS.get(algorithm)
    if expected is None:
        return ""
    if not re.fullmatch(r"[0-9a-fA-F]+", digest):
        return f"{algorithm} digest {digest!r} is not hexadecimal"
    if len(digest) != expected:
        return f"{algorithm} digest has {len(digest)} hex digits, not {expected}"
    return ""


def _insecure(url: str) -> bool:
    if url_scheme(url) not in ("http",) and not url.lower().startswith("http://"):
        return False
    host = url[len("http://") :].split("/", 1)[0].rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host.lower() not in _LOCAL_HOSTS


def suppress(path: str, line: Line, findings: list[Finding]) -> list[Finding]:
    """Apply a ``# hashpin: ignore[CODE,...]`` comment to its own logical line.

    A comment that suppresses nothing is HP108, unless it names an online rule: whether
    that one has anything to suppress only ``check --online`` can tell.
    """
    return suppress_comment(path, line.comment, line.number, line.end, findings)


def suppress_comment(
    path: str, comment: str, number: int, end: int, findings: list[Finding]
) -> list[Finding]:
    """``suppress`` for the comment of lines ``number`` to ``end`` of any kind of file (a
    lock file's TOML comment too): the findings it leaves, with HP108 if it is unused."""
    match = re.search(_SUPPRESSION, comment)
    if match is None:
        return findings
    listed = match.group(1)
    if listed is None:
        wanted = None
    else:
        wanted = set()
        for item in listed.split(","):
            rule = resolve_rule(item.strip())
            if rule is not None:
                wanted.add(rule.code)
    kept = [f for f in findings if not (wanted is None or f.code in wanted)]
    used = len(kept) < len(findings) or any(code.startswith(ONLINE) for code in wanted or ())
    if not used:
        kept.append(
            Finding(
                path,
                "HP108",
                f"'{match.group(0)}' suppresses nothing on this line",
                line=number,
                end_line=end,
            )
        )
    return kept


def apply_settings(findings: list[Finding], settings: Settings) -> list[Finding]:
    kept = []
    for finding in findings:
        if not settings.enabled(finding.code):
            continue
        override = settings.severity.get(finding.code)
        if override is not None:
            finding.severity = override
        kept.append(finding)
    return kept
