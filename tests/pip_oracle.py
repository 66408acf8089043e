"""Reference oracle: what pip itself decides for each line of a requirements file.

The question answered is: under ``pip install --require-hashes --no-deps -r FILE``
(pip 26.3), which requirement lines would pip accept, and why would it reject the
others?  Everything is computed with pip's own parsing and requirement-construction
code, so the oracle cannot drift from pip by reimplementing it.

Lines of one project that pip's resolver cannot satisfy together (ResolutionImpossible) are
"invalid" too, the later one: judged with pip's links, specifier sets and markers, over
the environments hashpin assumes a file serves (a line whose marker is false here is
still judged, as every other line is).

Test-only: pip is a test dependency and its ``_internal`` API is not stable, which
is why this module lives in ``tests/`` and is never imported by the package.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import logging
import optparse
import os
import urllib.parse
import warnings
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pip._internal.exceptions import (
    CommandError,
    DiagnosticPipError,
    PipError,
    RequirementsFileParseError,
)
from pip._internal.models.link import Link, links_equivalent
from pip._internal.models.wheel import Wheel
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import (
    LineParser,
    ParsedLine,
    ParsedRequirement,
    RequirementsFileParser,
    get_file_content,
    get_line_parser,
    handle_line,
    preprocess,
)
from pip._internal.req.req_install import InstallRequirement, check_invalid_constraint_type
from pip._internal.utils.urls import url_to_path
from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.utils import canonicalize_name
from pip._vendor.packaging.version import InvalidVersion, Version

__all__ = ["VERDICTS", "LineVerdict", "OracleResult", "pip_verdicts"]

#: Every value ``LineVerdict.verdict`` can take.
VERDICTS: Final = ("ok", "unpinned", "unhashed", "editable", "vcs", "directory", "invalid")

_MUTUALLY_EXCLUSIVE = "--require-hashes and --no-require-hashes are mutually exclusive"


@dataclass(frozen=True)
class LineVerdict:
    path: str  # absolute path of the file the line is in (includes followed as pip does)
    line: int  # pip's line number: first physical line of the logical line
    verdict: str  # one of VERDICTS
    constraint: bool
    detail: str  # pip's error message for "invalid", else ""


@dataclass(frozen=True)
class OracleResult:
    refused: str | None  # pip refuses the whole file before judging lines (message)
    refused_path: str | None  # file whose line caused the refusal, if attributable
    refused_line: int | None  # offending logical line, when it can be determined
    lines: tuple[LineVerdict, ...]

    @property
    def aborts(self) -> bool:
        """True if pip stops with an error before any hash checking.

        pip builds every InstallRequirement before resolving, so a single
        "invalid" line aborts the whole command just like a file-level refusal.
        """
        return self.refused is not None or any(v.verdict == "invalid" for v in self.lines)


class _Refusal(Exception):
    """A file-level error with the place pip was at when it happened."""

    def __init__(self, message: str, path: str | None, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line


@dataclass
class _Frame:
    filename: str
    lineno: int | None = None  # last logical line yielded from this file


def _describe(exc: BaseException) -> str:
    # pip prints str() of its own errors (a DiagnosticPipError's str() is only a
    # repr, its text is in .message); anything else would be a traceback, so keep
    # the type name to make such cases recognisable.
    if isinstance(exc, DiagnosticPipError):
        return str(exc.message)
    if isinstance(exc, PipError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _location(filename: str) -> str:
    """Absolute path of a file pip read: a local path, or a file: URL include."""
    try:
        if urllib.parse.urlsplit(filename).scheme == "file":
            return os.path.abspath(url_to_path(filename))
    except ValueError:
        pass
    return os.path.abspath(filename)


def _is_remote(filename: str) -> bool:
    # Same test get_file_content uses to decide to go through the session.
    try:
        scheme = urllib.parse.urlsplit(filename).scheme
    except ValueError:
        return False
    return scheme in ("http", "https")


@functools.cache
def _session() -> PipSession:
    # Only used by pip for file: URL includes (http(s) ones are refused before
    # reaching it), so one shared session is enough and saves ~0.3 s per call.
    return PipSession()


def _first_bad_line(filename: str, line_parser: LineParser) -> int | None:
    """Re-run pip's preprocessing and line parser to find the line that failed."""
    try:
        _, content = get_file_content(filename, _session())
    except Exception:
        return None
    for lineno, line in preprocess(content):
        try:
            line_parser(line)
        except Exception:
            return lineno
    return None


class _TrackingParser(RequirementsFileParser):
    """pip's parser, recording where it is so errors can be attributed to a line.

    Only ``_parse_file`` is wrapped; the include logic (path joining, cycle
    detection) is pip's own ``_parse_and_recurse``.
    """

    def __init__(self, session: PipSession, line_parser: LineParser) -> None:
        super().__init__(session, line_parser)
        self.line_parser = line_parser
        # Files being read, outermost first.  Entries are popped only when a file
        # is read to the end, so after an error the top is where pip stopped.
        self.stack: list[_Frame] = []

    def include_site(self) -> tuple[str | None, int | None]:
        if not self.stack:
            return None, None
        top = self.stack[-1]
        return _location(top.filename), top.lineno

    def _parse_file(self, filename: str, constraint: bool) -> Generator[ParsedLine, None, None]:
        # While a file is being opened, the including file's last yielded line is
        # the -r/-c line that named it.
        site_path, site_line = self.include_site()
        if site_path is None:
            site_path = _location(filename)
        if _is_remote(filename):
            raise _Refusal(
                f"remote include {filename!r}: pip would download it; the oracle does not",
                site_path,
                site_line,
            )
        frame = _Frame(filename)
        self.stack.append(frame)
        try:
            for parsed_line in super()._parse_file(filename, constraint):
                frame.lineno = parsed_line.lineno
                yield parsed_line
        except (RequirementsFileParseError, CommandError) as exc:
            # Option parsing of one of this file's lines failed (an include cycle
            # is raised by _parse_and_recurse instead and never passes through here).
            raise _Refusal(
                _describe(exc),
                _location(filename),
                _first_bad_line(filename, self.line_parser),
            ) from exc
        except (UnicodeDecodeError, LookupError) as exc:
            # The file exists but cannot be decoded: no line of it is to blame.
            raise _Refusal(_describe(exc), _location(filename), None) from exc
        except Exception as exc:
            # Could not open/read the file: blame the line that included it.
            raise _Refusal(_describe(exc), site_path, site_line) from exc
        self.stack.pop()


@contextlib.contextmanager
def _environment(cwd: Path | None, env: Mapping[str, str] | None) -> Iterator[None]:
    """Temporarily chdir, overlay env vars, and silence pip's logging/warnings."""
    old_cwd = os.getcwd()
    saved: dict[str, str | None] = {}
    old_disable = logging.root.manager.disable
    try:
        if env:
            for key, value in env.items():
                saved[key] = os.environ.get(key)
                os.environ[key] = value
        if cwd is not None:
            os.chdir(cwd)
        logging.disable(logging.CRITICAL)
        # optparse prints its usage line to stderr before pip's exit hook raises;
        # check_invalid_constraint_type emits a PipDeprecationWarning.
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(old_disable)
        os.chdir(old_cwd)
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _is_pinned(ireq: InstallRequirement) -> bool:
    """pip's is_pinned as the hash check sees it: on the candidate's requirement, rebuilt
    from ``str(template.req)`` (candidates.make_install_req_from_link), whose specifier
    set has collapsed equal clauses, so ``==1.0,==1.00`` is one clause."""
    assert ireq.req is not None
    clauses = list(dict.fromkeys(ireq.req.specifier))
    return len(clauses) == 1 and clauses[0].operator in {"==", "==="}


def _judge(
    parsed: ParsedRequirement, *, strict_pins: bool
) -> tuple[str, str, InstallRequirement | None]:
    """Verdict and detail for one requirement, as pip would reach them (and the
    InstallRequirement pip built for it, if it got that far)."""
    try:
        # Same call as RequirementCommand.get_requirements.
        ireq = install_req_from_parsed_requirement(
            parsed,
            isolated=False,
            user_supplied=True,
            config_settings=(parsed.options.get("config_settings") if parsed.options else None),
        )
    except Exception as exc:
        # InstallationError, InvalidEggFragment, ValueError from urlsplit, ...:
        # whatever it is, pip stops here.
        return "invalid", _describe(exc), None
    verdict, detail = _judge_ireq(parsed, ireq, strict_pins=strict_pins)
    return verdict, detail, ireq


def _judge_ireq(
    parsed: ParsedRequirement, ireq: InstallRequirement, *, strict_pins: bool
) -> tuple[str, str]:
    try:
        if parsed.constraint:
            # Constraints need neither pins nor hashes, only the right shape
            # (resolvelib factory.collect_root_requirements).
            problem = check_invalid_constraint_type(ireq)
            return ("invalid", problem) if problem else ("ok", "")
        if ireq.editable:
            # RequirementPreparer.prepare_editable_requirement refuses these
            # whenever hashes are required.
            return "editable", ""
        # RequirementPreparer._get_linked_req_hashes with require_hashes=True.
        # For a named requirement from an index the link is only chosen later and
        # is never VCS or a directory, so a missing link skips those two checks.
        link = ireq.link
        if link is not None and link.is_vcs:
            return "vcs", ""
        if link is not None and link.is_existing_dir():
            return "directory", ""
        # pip 26.3 re-creates an index candidate's requirement as name==<version
        # found> whenever the requirement carries --hash options (resolvelib
        # candidates.make_install_req_from_link), so _get_linked_req_hashes then
        # sees it pinned: only a hash-less named requirement can be "unpinned".
        # (is_pinned asserts a name, so only ask it about non-direct requirements.)
        if not ireq.is_direct and not (
            _is_pinned(ireq) or (bool(ireq.hash_options) and not strict_pins)
        ):
            return "unpinned", ""
        if not ireq.hashes(trust_internet=False):
            return "unhashed", ""
        return "ok", ""
    except Exception as exc:
        return "invalid", _describe(exc)


# Verdicts of lines pip hands to its resolver (the others stop it, or never get there).
_RESOLVED = ("ok", "unhashed", "unpinned")


def _targets() -> list[dict[str, str]]:
    # Which environments a requirements file serves is hashpin's assumption, not pip's:
    # the one thing here that is not pip's own code (markers are evaluated by pip's).
    from hashpin.requirement import target_environments

    return target_environments()


def _marker_mask(ireq: InstallRequirement, environments: list[dict[str, str]]) -> int:
    markers: Marker | None = ireq.markers
    if markers is None:
        return (1 << len(environments)) - 1
    mask = 0
    for bit, environment in enumerate(environments):
        try:
            if markers.evaluate(environment):
                mask |= 1 << bit
        except Exception:
            pass
    return mask


def _fixed_version(ireq: InstallRequirement) -> str | None:
    """The one version a line allows: a wheel URL's, or an exact pin's."""
    link: Link | None = ireq.link
    if link is not None:
        if not link.is_wheel:
            return None
        try:
            return str(Wheel(link.filename).version)
        except Exception:
            return None
    assert ireq.req is not None
    clauses = list(dict.fromkeys(ireq.req.specifier))
    if len(clauses) != 1:
        return None
    clause = clauses[0]
    if clause.operator == "===" or (clause.operator == "==" and not clause.version.endswith(".*")):
        return str(clause.version)
    return None


def _admits(ireq: InstallRequirement, version: str) -> bool:
    """Whether a candidate of this version satisfies the line (True when unknown):
    ExplicitRequirement / SpecifierRequirement.is_satisfied_by."""
    try:
        if ireq.link is not None:
            own = _fixed_version(ireq)
            return own is None or Version(own) == Version(version)
        assert ireq.req is not None
        return ireq.req.specifier.contains(version, prereleases=True)
    except (InvalidVersion, ValueError, TypeError):
        return True


def _resolver_conflicts(resolved: list[tuple[int, InstallRequirement]]) -> dict[int, str]:
    """Lines pip's resolver cannot satisfy together with an earlier line of the project,
    in some environment where both apply (pip: ResolutionImpossible): the later one's
    index, with pip's reason. Two direct URLs that are not ``links_equivalent`` are two
    candidates no candidate satisfies both of; otherwise a version one of the lines fixes
    must satisfy both."""
    by_project: dict[str, list[tuple[int, InstallRequirement]]] = {}
    for index, ireq in resolved:
        if ireq.name:
            by_project.setdefault(canonicalize_name(ireq.name), []).append((index, ireq))
    conflicts: dict[int, str] = {}
    environments: list[dict[str, str]] = []
    for entries in by_project.values():
        if len(entries) < 2:
            continue
        environments = environments or _targets()
        masks = [_marker_mask(ireq, environments) for _, ireq in entries]
        for later, (index, ireq) in enumerate(entries):
            for earlier, (_, other) in enumerate(entries[:later]):
                if not masks[earlier] & masks[later]:
                    continue
                if ireq.link is not None and other.link is not None:
                    if links_equivalent(ireq.link, other.link):
                        continue
                else:
                    versions = [v for v in (_fixed_version(other), _fixed_version(ireq)) if v]
                    if not versions or any(
                        _admits(other, v) and _admits(ireq, v) for v in versions
                    ):
                        continue
                conflicts[index] = f"ResolutionImpossible: {ireq} conflicts with {other}"
                break
    return conflicts


def pip_verdicts(
    path: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    cli_require_hashes: bool = True,
    strict_pins: bool = False,
) -> OracleResult:
    """Judge every requirement line of ``path`` (and of the files it includes).

    ``cwd`` is where pip would run: relative local paths in requirements (``./pkg``,
    ``.[ci]``) are resolved against it.  ``env`` is overlaid on ``os.environ`` for
    ``${VAR}`` expansion.  Both are restored afterwards.

    ``cli_require_hashes`` models the ``--require-hashes`` given on the command
    line; with it any ``--no-require-hashes`` line is a refusal, as in pip.  Set it
    to False to model a command without the flag, where only a file containing
    both options is refused (line verdicts still assume hash checking).

    ``strict_pins`` applies ``_get_linked_req_hashes``' pin rule to the requirement
    as written, so ``foo>=1 --hash=...`` is "unpinned".  pip 26.3 itself accepts
    such a line (see ``_judge``); the default follows pip.
    """
    base = Path.cwd() if cwd is None else cwd
    filename = os.path.abspath(os.path.join(base, path))
    lines: list[LineVerdict] = []
    resolved: list[tuple[int, InstallRequirement]] = []  # lines that reach the resolver
    refusal: _Refusal | None = None
    conflict: tuple[str, int] | None = None
    with _environment(cwd, env):
        session = _session()
        # parse_requirements() is this loop; it is inlined so that option lines
        # and the parser's position are visible.
        options = optparse.Values(
            {
                "require_hashes": cli_require_hashes,
                "no_require_hashes": False,
                "features_enabled": [],
            }
        )
        parser = _TrackingParser(session, get_line_parser(None))
        try:
            for parsed_line in parser.parse(filename, False):
                parsed_req = handle_line(parsed_line, options=options, finder=None, session=session)
                where = _location(parsed_line.filename)
                if parsed_req is None:
                    if conflict is None and options.require_hashes and options.no_require_hashes:
                        conflict = (where, parsed_line.lineno)
                    continue
                verdict, detail, ireq = _judge(parsed_req, strict_pins=strict_pins)
                if ireq is not None and verdict in _RESOLVED and not parsed_req.constraint:
                    resolved.append((len(lines), ireq))
                lines.append(
                    LineVerdict(where, parsed_line.lineno, verdict, parsed_req.constraint, detail)
                )
        except _Refusal as exc:
            refusal = exc
        except Exception as exc:
            # An include cycle (RequirementsFileParseError), detected at the -r/-c
            # line just yielded, or something unforeseen: blame where pip stopped.
            refusal = _Refusal(_describe(exc), *parser.include_site())
    if refusal is None and conflict is not None:
        # Checked by get_requirements after all files are read.
        refusal = _Refusal(_MUTUALLY_EXCLUSIVE, *conflict)
    for index, detail in _resolver_conflicts(resolved).items():
        lines[index] = dataclasses.replace(lines[index], verdict="invalid", detail=detail)
    if refusal is None:
        return OracleResult(None, None, None, tuple(lines))
    return OracleResult(refusal.message, refusal.path, refusal.line, tuple(lines))
