"""The command line: ``hashpin check`` and ``hashpin fix``. Thin: parse flags, run, print."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from . import __version__

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .config import Config
    from .fix import Resolver
    from .locations import IndexSettings, LocationError
    from .rules import Settings
    from .targets import Target

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
STDIN = "-"  # workspace.STDIN, without importing the parser


def _comma_list(value: str) -> list[str]:
    return [item for item in value.split(",") if item.strip()]


def _formatter(*, prog: str) -> argparse.HelpFormatter:
    """argparse's help formatter, at the width argparse would choose.

    argparse makes a formatter for every argument added, and without a width each one
    asks shutil, whose import (bz2, lzma, fnmatch) costs more than checking a small file.
    """
    return argparse.HelpFormatter(prog, width=_terminal_columns() - 2)


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    if sys.__stdout__ is None:
        return 80
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (ValueError, OSError):  # closed, detached, or not a terminal
        return 80


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the command about to run, only that one's options
    (a check should not pay for building the fix options it never reads)."""
    parser = argparse.ArgumentParser(
        prog="hashpin",
        description="Keep pip requirements files pinned and hash-locked.",
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action="version", version=f"hashpin {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check",
        help="report unpinned, unhashed and invalid requirements (offline)",
        formatter_class=_formatter,
    )
    fix = commands.add_parser(
        "fix",
        help="add hashes (and, with --pin, pins) from the package index, in place",
        formatter_class=_formatter,
    )
    if command in (None, "check"):
        check.add_argument(
            "paths", nargs="*", metavar="PATH",
            help="files, folders to search, or - for standard input (default: .)",
        )  # fmt: skip
        _add_check_options(check)
        online = check.add_argument_group(
            "online (will pip install --require-hashes succeed on every target?)"
        )
        online.add_argument(
            "--online", action="store_true",
            help="also ask the index: missing dependencies, stale hashes, uncovered targets",
        )  # fmt: skip
        _add_target_option(online)
        _add_index_options(check)
    if command in (None, "fix"):
        fix.add_argument(
            "paths", nargs="*", metavar="PATH", help="files, or folders to search (default: .)"
        )
        _add_fix_options(fix)
        _add_check_options(fix)
    export = commands.add_parser(
        "export",
        help="write a hashed requirements file as a pylock.toml, or a pylock.toml as one",
        formatter_class=_formatter,
    )
    if command in (None, "export"):
        export.add_argument("path", metavar="PATH", help="the requirements or lock file")
        export.add_argument(
            "--format", required=True, choices=("pylock", "requirements"),
            help="pylock: PATH is a requirements file, written as a PEP 751 lock file; "
            "requirements: PATH is a lock file, written as a requirements file",
        )  # fmt: skip
        export.add_argument(
            "-o", "--output", default=STDIN, metavar="OUT",
            help="the file to write, replaced whole or not at all (default: standard output)",
        )  # fmt: skip
        _add_index_options(export)
    return parser


def _add_check_options(parser: argparse.ArgumentParser) -> None:
    rules = parser.add_argument_group("rules and files")
    rules.add_argument(
        "--format", choices=("text", "json", "github", "sarif"), default="text",
        help="output format of the findings (default: text)",
    )  # fmt: skip
    rules.add_argument(
        "--select", type=_comma_list, metavar="RULES",
        help="only these rules, by code or name, comma-separated",
    )  # fmt: skip
    rules.add_argument(
        "--ignore", type=_comma_list, action="extend", default=[], metavar="RULES",
        help="skip these rules, by code or name, comma-separated",
    )  # fmt: skip
    rules.add_argument(
        "--severity", action="append", default=[], metavar="RULE=LEVEL",
        help="make a rule an error or a warning, e.g. HP104=error (repeatable)",
    )  # fmt: skip
    rules.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB",
        help="skip files matching this glob (repeatable)",
    )  # fmt: skip
    rules.add_argument(
        "--constraints", action="append", default=[], metavar="FILE",
        help="treat this file as a constraints file (repeatable)",
    )  # fmt: skip
    rules.add_argument(
        "--config", metavar="PYPROJECT",
        help="read [tool.hashpin] from this file instead of the nearest pyproject.toml",
    )  # fmt: skip
    rules.add_argument("--isolated", action="store_true", help="ignore every configuration file")


def _add_fix_options(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to fix")
    what.add_argument(
        "--pin", action="store_true",
        help="pin unpinned requirements to the newest version they allow (unsafe: "
        "chooses a version)",
    )  # fmt: skip
    what.add_argument("--pre", action="store_true", help="let --pin choose pre-releases")
    what.add_argument(
        "--refresh-hashes", action="store_true",
        help="make every hashed line's hashes equal what the index lists now",
    )  # fmt: skip
    what.add_argument(
        "--verify", action="store_true",
        help="download every file and refuse digests that do not match its bytes",
    )  # fmt: skip
    what.add_argument(
        "--dry-run", "--diff", dest="dry_run", action="store_true",
        help="print the changes as a unified diff; write nothing",
    )  # fmt: skip
    what.add_argument(
        "--add-missing", action="store_true",
        help="add every dependency the file lacks, pinned and hashed, until it is whole "
        "on every --target (unsafe: chooses versions)",
    )  # fmt: skip
    _add_target_option(what)
    what.add_argument(
        "--fix-includes-anywhere", action="store_true",
        help="also fix included files outside the given files' git work tree (or folder)",
    )  # fmt: skip
    _add_index_options(parser)
    targets = parser.add_argument_group(
        "narrowing (default: every file of the version, for every platform)"
    )
    targets.add_argument(
        "--platform", action="append", default=[], metavar="TAG",
        help="keep wheels for this platform tag (repeatable)",
    )  # fmt: skip
    targets.add_argument(
        "--python-version", metavar="X.Y",
        help="keep wheels for this Python; also the Python --pin checks requires-python "
        "against (default: the running one)",
    )  # fmt: skip
    targets.add_argument(
        "--implementation", metavar="IMPL", help="keep wheels for this implementation (cp, pp)"
    )
    targets.add_argument(
        "--abi", action="append", default=[], metavar="ABI",
        help="keep wheels for this ABI (repeatable)",
    )  # fmt: skip


def _add_target_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--target", action="append", default=[], metavar="PY:PLATFORM",
        help="a target the file installs on, e.g. 3.12:linux-x86_64 (repeatable; default: "
        "[tool.hashpin] targets, else this machine)",
    )  # fmt: skip


def _add_index_options(parser: argparse.ArgumentParser) -> None:
    """Where packages come from and the cache: the options of fix and check --online."""
    where = parser.add_argument_group(
        "where packages come from (after the files' own options, before PIP_* and pip.conf)"
    )
    where.add_argument("-i", "--index-url", metavar="URL", help="the default index")
    where.add_argument(
        "--extra-index-url", action="append", default=[], metavar="URL",
        help="another index, searched before the default one (repeatable)",
    )  # fmt: skip
    where.add_argument(
        "-f", "--find-links", action="append", default=[], metavar="LOCATION",
        help="a folder, file or page of distribution files (repeatable)",
    )  # fmt: skip
    where.add_argument("--no-index", action="store_true", default=None, help="use find-links only")
    where.add_argument(
        "--index-strategy", choices=("first-index", "unsafe-best-match"), default="first-index",
        help="first-index: a project's files all come from the first source that has it "
        "(default); unsafe-best-match: merge every source, like pip",
    )  # fmt: skip
    where.add_argument("--cert", metavar="PATH", help="CA bundle to verify TLS with")
    where.add_argument("--timeout", type=float, metavar="SECONDS", help="per request (default: 15)")
    cache = parser.add_argument_group("cache")
    cache.add_argument("--cache-dir", metavar="DIR", help="default: the user cache folder")
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write it")
    cache.add_argument("--offline", action="store_true", help="use only the cache; no network")
    cache.add_argument(
        "--refresh", action="store_true",
        help="revalidate every cached project page, however fresh the index said it is",
    )  # fmt: skip
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="say which source answered for what"
    )


def main(argv: Sequence[str] | None = None) -> int:
    # A short-lived process that makes no reference cycles: the cyclic collector would
    # only spend time walking the many small objects of a large lock file.
    gc.disable()
    try:
        arguments = sys.argv[1:] if argv is None else list(argv)
        _searched.clear()  # main may run more than once in a process (the tests)
        command = arguments[0] if arguments and arguments[0] in ("check", "fix", "export") else None
        args = build_parser(command).parse_args(arguments)
        args.own_process = argv is None  # only then may a run fork (see forked.py)
        if args.command == "check":
            return _check(args, arguments)
        if args.command == "fix":
            if argv is None:  # a process of its own: SIGTERM ends it as cleanly as Ctrl-C
                from .signals import install

                install()
            return _fix(args)
        if args.command == "export":
            if argv is None:  # as for fix: SIGTERM ends it as cleanly as Ctrl-C
                from .signals import install

                install()
            return _export(args)
        raise AssertionError(args.command)
    except BrokenPipeError:  # `hashpin check ... | head` must not print a traceback
        sys.stderr.close()
        return EXIT_FINDINGS
    except KeyboardInterrupt as interrupted:  # also signals.Interrupted, for SIGTERM
        written: list[str] = getattr(interrupted, "written", [])
        changed = f"{', '.join(written)} already fixed; no other file" if written else "no file"
        print(f"hashpin: interrupted; {changed} was changed", file=sys.stderr)
        return int(getattr(interrupted, "status", 130))
    finally:
        if argv is None:  # the process ends now: its last collections would walk every
            # object it made only to free them all anyway (a tenth of a second, for fix)
            gc.freeze()
        gc.enable()


class _UsageError(Exception):
    pass


def _load_settings(args: argparse.Namespace) -> tuple[Settings, Config, list[str]]:
    """Rule settings, configuration and the paths to work on, from flags and pyproject.toml."""
    from . import config as config_module
    from .rules import Settings

    try:
        config_path = None if args.isolated else (args.config or config_module.find_pyproject("."))
        config = config_module.load(config_path)
        select = config_module.rule_codes(args.select, "--select") if args.select else config.select
        ignore = config.ignore + config_module.rule_codes(args.ignore, "--ignore")
        pairs = [(item.partition("=")[0], item.partition("=")[2]) for item in args.severity]
        severity = {**config.severity, **config_module.parse_severities(pairs, "--severity")}
    except config_module.ConfigError as exc:
        raise _UsageError(str(exc)) from None
    config.exclude.extend(args.exclude)
    paths = _inputs(args.paths, args.command)
    paths = [path for path in paths if path == STDIN or not config.excluded(path)]
    return Settings(select, ignore, severity), config, paths


def _inputs(given: Sequence[str], command: str) -> list[str]:
    """The files to work on: each path given, a folder replaced by the requirements files
    found in it (discover.py); the current folder when none is given.

    A file given that clearly is something else (pyproject.toml) is a usage error, and so
    is ``-`` for ``fix``, which could not write standard input back. A file given costs a
    stat and a look at its first bytes: only a folder starts a search.
    """
    from .workspace import refusal

    if not given:
        found = _search(os.curdir)
        if not found:
            from .discover import describe

            raise _UsageError(f"no files given, and no requirements files here ({describe()})")
        return found
    paths: list[str] = []
    folders: list[str] = []
    for path in given:
        if path == STDIN:
            if command == "fix":
                raise _UsageError(
                    "fix cannot write back to standard input ('-'); give it the files "
                    "(hashpin check - reads standard input)"
                )
            paths.append(path)
        elif _is_folder(path):
            folders.append(path)
            paths.extend(_search(path))
        else:
            problem = refusal(path)
            if problem is not None:
                raise _UsageError(problem)
            paths.append(path)
    if not paths:
        from .discover import describe

        raise _UsageError(f"no requirements files in {', '.join(folders)} ({describe()})")
    return paths


def _is_folder(path: str) -> bool:
    """A folder to search; one named like a file (``requirements.txt/``) was meant as a
    file, and is reported as the folder it is."""
    if not os.path.isdir(path):
        return False
    from .discover import is_requirements_name

    return not is_requirements_name(os.path.abspath(path).replace(os.sep, "/"))


_searched: dict[str, list[str]] = {}  # a folder is searched once per run, warnings said once


def _search(folder: str) -> list[str]:
    found = _searched.get(folder)
    if found is not None:
        return found
    from .discover import SearchError, find

    def warn(message: str) -> None:
        print(f"hashpin: warning: {message}", file=sys.stderr)

    try:
        found = _searched[folder] = find(folder, warn)
    except SearchError as exc:
        raise _UsageError(str(exc)) from None
    return found


def _discovered(given: Sequence[str]) -> list[str] | None:
    """What the folders among ``given`` (``.`` if none) hold now, for the result cache's
    key; None when the run cannot be cached (standard input, or a folder that cannot be
    searched: the check says why)."""
    if STDIN in given:
        return None
    try:
        if not given:
            return _search(os.curdir)
        return [found for path in given if _is_folder(path) for found in _search(path)]
    except _UsageError:
        return None


def _check(args: argparse.Namespace, arguments: list[str]) -> int:
    from .cachedir import default_cache_dir
    from .resultcache import Inputs, ResultCache, code_version, invocation_key

    if args.target and not args.online:
        print("hashpin: error: --target needs --online", file=sys.stderr)
        return EXIT_USAGE
    results = ResultCache(None if args.no_cache else (args.cache_dir or default_cache_dir()))
    key = ""
    default = _discovered(args.paths) if results.root is not None else None
    if default is None or args.online:  # stdin, or what the index says: never cached
        results = ResultCache(None)
    if results.root is not None and default is not None:
        from .config import find_pyproject

        config_path = None if args.isolated else (args.config or find_pyproject("."))
        # what was found is part of the key
        key = invocation_key(
            [*arguments, "\0", *default], os.getcwd(), config_path, code=code_version()
        )
        stored = results.load(key, os.environ)
        if stored is not None:
            sys.stdout.write(stored[0])
            return stored[1]
    from .report import render
    from .rules import ERROR, check
    from .workspace import STDIN_NAME, load

    try:
        settings, config, paths = _load_settings(args)
        stdin = _read_stdin() if STDIN in paths else None
        online = _online_setup(args, config) if args.online else None
    except (_UsageError, ValueError) as exc:
        print(f"hashpin: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    workspace = load(
        paths,
        constraint_paths=[*config.constraint_files(), *args.constraints],
        env=os.environ,
        stdin=stdin,
    )
    inputs = Inputs()
    report = check(workspace, settings, is_dir=inputs.is_dir)
    problems: list[str] = []
    if online is not None:
        from .online import add_online_findings

        problems = add_online_findings(
            report,
            workspace,
            settings,
            args,
            *online,
            targets_given=bool(args.target or config.targets),
        )
    for path in [p for p in report.files if p != STDIN_NAME and config.excluded(p)]:
        del report.files[path]
    for problem in problems:
        print(f"hashpin: error: {problem}", file=sys.stderr)
    output = render(report, args.format)
    sys.stdout.write(output)
    status = EXIT_FINDINGS if report.count(ERROR) or problems else EXIT_OK
    if results.root is not None:
        inputs.record(workspace, os.environ)
        results.store(key, inputs, output, status)
    return status


def _fix(args: argparse.Namespace) -> int:
    import difflib

    from . import locations
    from .fix import FixOptions, run
    from .report import render
    from .rules import ERROR
    from .versions import Target

    env = os.environ
    try:
        settings, config, paths = _load_settings(args)
        if args.target and not args.add_missing:
            raise _UsageError("--target needs --add-missing (or check --online)")
        closure_targets = _targets(args, config) if args.add_missing else []
        base, resolver = _index(args)
        narrowing = args.platform or args.python_version or args.implementation or args.abi
        target = (
            Target(
                platforms=args.platform,
                python_version=args.python_version,
                implementation=args.implementation,
                abis=args.abi,
            )
            if narrowing
            else None
        )
    except (_UsageError, ValueError) as exc:
        print(f"hashpin: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = FixOptions(
        includes_anywhere=args.fix_includes_anywhere,
        pin=args.pin,
        pre=args.pre,
        refresh=args.refresh_hashes,
        verify=args.verify,
        strategy=args.index_strategy,
        target=target,
        python_version=args.python_version,
        add_missing=args.add_missing,
        closure_targets=closure_targets,
    )

    constraint_paths = [*config.constraint_files(), *args.constraints]
    written: list[str] = []
    try:
        outcome = run(
            paths,
            options=options,
            settings=settings,
            base=base,
            resolver=resolver,
            constraint_paths=constraint_paths,
            env=env,
            excluded=config.excluded,
            write=not args.dry_run,
            written=written,
        )
    except KeyboardInterrupt as interrupted:
        interrupted.written = written  # type: ignore[attr-defined]  # for main's last line
        raise
    except locations.LocationError as exc:  # raised before anything is fetched or written
        print(f"hashpin: error: {_locate(exc, paths, constraint_paths)}", file=sys.stderr)
        return EXIT_USAGE
    if resolver.progress is not None:
        sys.stderr.write("\r\033[K")
    failed = changed = False
    # Only the report goes to stdout in a machine-readable format; the rest is for people.
    say = sys.stdout if args.format == "text" else sys.stderr
    for result in outcome.files:
        for error in result.errors:
            print(f"hashpin: error: {error}", file=sys.stderr)
        if result.errors:
            failed = True
            print(f"hashpin: {result.path} left unchanged", file=sys.stderr)
        elif result.rendered is not None:
            changed = True
            if args.dry_run:
                before = result.before.decode(result.encoding, "replace")
                after = result.rendered.decode(result.encoding, "replace")
                say.writelines(
                    difflib.unified_diff(
                        before.splitlines(keepends=True),
                        after.splitlines(keepends=True),
                        result.path,
                        result.path,
                    )
                )
            else:
                print(f"Fixing {result.path}", file=say)
    for message in outcome.notes:
        _note(message)
    sys.stdout.write(render(outcome.report, args.format))
    return EXIT_FINDINGS if failed or changed or outcome.report.count(ERROR) else EXIT_OK


def _export(args: argparse.Namespace) -> int:
    """``hashpin export``: a hashed requirements file as a pylock.toml, or the reverse."""
    from . import export
    from .locations import LocationError
    from .workspace import NotAFile

    problem = export.usage_problem(args.path, args.output, args.format)
    if problem is not None:
        print(f"hashpin: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    notes: list[str] = []
    try:
        if args.format == export.PYLOCK:
            try:
                base, resolver = _index(args)
            except ValueError as exc:
                print(f"hashpin: error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            data = export.from_requirements(
                args.path, base, resolver, args.index_strategy, output=args.output, notes=notes
            )
            if resolver.progress is not None:
                sys.stderr.write("\r\033[K")
        else:
            data = export.from_lock(args.path, notes)
    except LocationError as exc:  # an index option of the files
        print(f"hashpin: error: {_locate(exc, [args.path], [])}", file=sys.stderr)
        return EXIT_USAGE
    except export.InputRefused as refused:
        count = len(refused.findings)
        print(
            f"hashpin: error: {args.path}: hashpin check reports {count} "
            f"error{'' if count == 1 else 's'}; nothing exported",
            file=sys.stderr,
        )
        for f in refused.findings:
            print(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}", file=sys.stderr)
        return EXIT_FINDINGS
    except export.ExportError as failed:
        for message in failed.problems:
            print(f"hashpin: error: {message}", file=sys.stderr)
        print(f"hashpin: {args.path}: nothing exported", file=sys.stderr)
        return EXIT_FINDINGS
    for message in notes:
        _note(message)
    if args.output == STDIN:
        sys.stdout.write(data.decode("utf-8"))
        return EXIT_OK
    try:
        export.write_output(args.output, data)
    except (OSError, NotAFile) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"hashpin: error: cannot write {args.output}: {reason}", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def _online_setup(
    args: argparse.Namespace, config: Config
) -> tuple[list[Target], IndexSettings, Resolver]:
    """The targets, sources and resolver of ``check --online``."""
    return (_targets(args, config), *_index(args))


def _targets(args: argparse.Namespace, config: Config) -> list[Target]:
    """``--target``, else ``[tool.hashpin] targets``, else this machine (TargetError, a
    ValueError, for one that cannot be read)."""
    from .targets import machine_target, parse_target

    return [parse_target(text) for text in args.target or config.targets] or [machine_target()]


def _note(message: str) -> None:
    print(f"hashpin: {message}", file=sys.stderr)


def _index(args: argparse.Namespace) -> tuple[IndexSettings, Resolver]:
    """Where packages come from (flags over pip's settings) and the resolver that asks
    them, through the cache: what ``fix`` and ``check --online`` share. ValueError (or
    LocationError) for a setting that cannot be used."""
    from . import locations
    from .cache import Cache
    from .cachedir import default_cache_dir
    from .fix import Resolver
    from .index import IndexClient

    env = os.environ
    pip = locations.PipSettings(env, locations.read_pip_config(locations.pip_config_files(env)))
    timeout = pip.timeout(args.timeout)
    flags = locations.IndexSettings(
        args.index_url, args.extra_index_url, args.find_links, args.no_index
    )
    flags.check("command line")
    base = flags.over(pip.index_settings())
    base.check("pip settings (PIP_* variables or pip.conf)")  # the flags passed already
    client = IndexClient(
        timeout=timeout, cert=args.cert or pip.get("cert"), log=_note if args.verbose else None
    )
    resolver = Resolver(
        client,
        Cache(None if args.no_cache else (args.cache_dir or default_cache_dir())),
        offline=args.offline,
        refresh=args.refresh,
        note=_note,
        verbose=args.verbose,
        progress=_progress if sys.stderr.isatty() else None,
        # check --online asks again after the pages (metadata, deeper dependencies): there
        # the connections a child opened would be lost, which cost more than it saves
        processes=2 if args.own_process and args.command != "check" else 1,
    )
    return base, resolver


def _locate(error: LocationError, paths: list[str], constraint_paths: list[str]) -> str:
    """The error at ``path:line``: the search order that raised it knew only the folder."""
    from .locations import LocationError, check_files
    from .workspace import load

    workspace = load(paths, constraint_paths=constraint_paths, env=os.environ)
    try:
        check_files((s.path, s.file.lines) for s in workspace.sources.values() if s.file)
    except LocationError as located:
        return str(located)
    return f"{error.folder}: line {error.line}: {error}"  # the file changed meanwhile


def _read_stdin() -> bytes:
    """Standard input, once, for ``-``; refused like a file when it clearly is not one."""
    from .workspace import HEAD_BYTES, STDIN_NAME, TooLarge, read_stdin, refusal

    try:
        data = read_stdin()
    except (TooLarge, OSError, ValueError) as exc:  # ValueError: read from a closed stream
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise _UsageError(f"cannot read standard input: {reason}") from None
    problem = refusal(STDIN_NAME, data[:HEAD_BYTES])
    if problem is not None:
        raise _UsageError(problem)
    return data


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rhashpin: fetched {done}/{total} projects")
    sys.stderr.flush()
