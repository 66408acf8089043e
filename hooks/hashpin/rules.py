"""The rule table and the check: from parsed files to findings. Pure: no I/O."""

from __future__ import annotations

import re

from .redact import redact_text, unexpand
from .reqfile import REQUIREMENT_LINE_OPTIONS
from .requirement import (
    DIRECTORY,
    NAMED,
    URL,
    VCS,
    InvalidRequirement,
    canonical_name,
    file_url_path,
    interpret,
    plain_pin_name,
    url_scheme,
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
         "pip would refuse the file: bad requirement, option, hash algorithm, encoding, include"),
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
         "the same project twice under the same marker: pip checks only the first's hashes"),
    Rule("HP105", "insecure-url", WARNING, None,
         "an http:// index, find-links or requirement URL to a host other than this machine"),
    Rule("HP106", "weak-url-hash", WARNING, SAFE,
         "a URL's own #md5=/#sha1=/#sha224= fragment is its only hash"),
    Rule("HP107", "remote-include", WARNING, None,
         "an include by URL, which the offline check does not follow"),
    Rule("HP108", "unused-suppression", WARNING, None,
         "a '# hashpin: ignore' comment that suppresses nothing"),
)  # fmt: skip
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}

_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128, "sha224": 56, "sha1": 40, "md5": 32}
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
        self.line = line
        self.column = column
        self.end_line = line if end_line is None else end_line
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
        for source in workspace.walk(root):
            if source.key not in checked:
                checked.add(source.key)
                findings = _check_source(source, state)
                report.files[source.path] = _apply_settings(findings, settings)
    return report


class _State:
    """What pip carries from one line to the next across the whole install."""

    __slots__ = ("constraints", "is_dir", "seen")

    def __init__(
        self, constraints: dict[str, Constraint], is_dir: Callable[[str], bool] | None
    ) -> None:
        self.constraints = constraints
        self.is_dir = is_dir
        self.seen: set[tuple[str, str | None]] = set()  # (project, marker) already required


def collect_constraints(workspace: Workspace) -> dict[str, Constraint]:
    """Projects that constraints files pin or hash: that counts for their requirements."""
    constraints: dict[str, Constraint] = {}
    for source in workspace.sources.values():
        if source.role != CONSTRAINTS or source.file is None:
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
            entry.pinned |= requirement.is_pinned
            entry.version = entry.version or requirement.pinned_version
            entry.hashed |= line.hashes_only or bool(line.options_named("--hash"))
    return constraints


def _check_source(source: Source, state: _State) -> list[Finding]:
    path = source.path
    if source.error is not None:
        number, message = source.error
        return [Finding(path, "HP000", message, line=number)]
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
        line_findings = _check_line(line, source, constraint_file, state, at)
        if "hashpin" in comment:  # only a suppression comment can suppress
            line_findings = _suppress(path, line, line_findings)
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
            line=row,
            column=column,
            end_line=line.end,
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
            # so of the checks below only the one for duplicates can find anything.
            _is_duplicate(canonical_name(name), None, name, state, at, findings)
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
    if key is not None and _is_duplicate(key, requirement.marker, label, state, at, findings):
        return
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


def _is_duplicate(
    key: str, marker: str | None, label: str, state: _State, at: _At, findings: list[Finding]
) -> bool:
    """Report the project if pip has seen it already under this marker, else remember it."""
    if (key, marker) in state.seen:
        findings.append(
            at(
                "HP104",
                f"{label} is listed again: pip checks only the first one's hashes",
                requirement=label,
            )
        )
        return True
    state.seen.add((key, marker))
    return False


def digest_problem(value: str) -> str:
    if _VALID_DIGEST_RE.fullmatch(value):
        return ""
    algorithm, _, digest = value.partition(":")
    expected = _DIGEST_LENGTHS.get(algorithm)
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


def _suppress(path: str, line: Line, findings: list[Finding]) -> list[Finding]:
    """Apply a ``# hashpin: ignore[CODE,...]`` comment to its own logical line."""
    match = re.search(_SUPPRESSION, line.comment)
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
    used = len(kept) < len(findings)
    if not used:
        kept.append(
            Finding(
                path,
                "HP108",
                f"'{match.group(0)}' suppresses nothing on this line",
                line=line.number,
                end_line=line.end,
            )
        )
    return kept


def _apply_settings(findings: list[Finding], settings: Settings) -> list[Finding]:
    kept = []
    for finding in findings:
        if not settings.enabled(finding.code):
            continue
        override = settings.severity.get(finding.code)
        if override is not None:
            finding.severity = override
        kept.append(finding)
    return kept
