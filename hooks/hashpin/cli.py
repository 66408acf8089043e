"""The command line: ``hashpin check``. Thin: parse flags, load, check, print."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from . import __version__

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
DEFAULT_GLOBS = ("requirements*.txt", "requirements/*.txt")


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


def build_parser() -> argparse.ArgumentParser:
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
    check.add_argument("paths", nargs="*", metavar="PATH", help="requirements files to check")
    check.add_argument(
        "--format", choices=("text", "json", "github", "sarif"), default="text",
        help="output format (default: text)",
    )  # fmt: skip
    check.add_argument(
        "--select", type=_comma_list, metavar="RULES",
        help="only these rules, by code or name, comma-separated",
    )  # fmt: skip
    check.add_argument(
        "--ignore", type=_comma_list, action="extend", default=[], metavar="RULES",
        help="skip these rules, by code or name, comma-separated",
    )  # fmt: skip
    check.add_argument(
        "--severity", action="append", default=[], metavar="RULE=LEVEL",
        help="make a rule an error or a warning, e.g. HP104=error (repeatable)",
    )  # fmt: skip
    check.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB",
        help="skip files matching this glob (repeatable)",
    )  # fmt: skip
    check.add_argument(
        "--constraints", action="append", default=[], metavar="FILE",
        help="treat this file as a constraints file (repeatable)",
    )  # fmt: skip
    check.add_argument(
        "--config", metavar="PYPROJECT",
        help="read [tool.hashpin] from this file instead of the nearest pyproject.toml",
    )  # fmt: skip
    check.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A short-lived process that makes no reference cycles: the cyclic collector would
    # only spend time walking the many small objects of a large lock file.
    gc.disable()
    try:
        return _check(build_parser().parse_args(argv))
    except BrokenPipeError:  # `hashpin check ... | head` must not print a traceback
        sys.stderr.close()
        return EXIT_FINDINGS
    finally:
        gc.enable()


def _check(args: argparse.Namespace) -> int:
    from . import config as config_module
    from .report import render
    from .rules import ERROR, Settings, check
    from .workspace import load

    try:
        config_path = None if args.isolated else (args.config or config_module.find_pyproject("."))
        config = config_module.load(config_path)
        select = config_module.rule_codes(args.select, "--select") if args.select else config.select
        ignore = config.ignore + config_module.rule_codes(args.ignore, "--ignore")
        pairs = [(item.partition("=")[0], item.partition("=")[2]) for item in args.severity]
        severity = {**config.severity, **config_module.parse_severities(pairs, "--severity")}
    except config_module.ConfigError as exc:
        print(f"hashpin: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    config.exclude.extend(args.exclude)
    paths = list(args.paths) or _default_paths()
    if not paths:
        print(
            "hashpin: error: no files given and no requirements*.txt or requirements/*.txt here",
            file=sys.stderr,
        )
        return EXIT_USAGE
    paths = [path for path in paths if not config.excluded(path)]
    workspace = load(
        paths, constraint_paths=[*config.constraint_files(), *args.constraints], env=os.environ
    )
    report = check(workspace, Settings(select, ignore, severity), is_dir=os.path.isdir)
    for path in [path for path in report.files if config.excluded(path)]:
        del report.files[path]
    sys.stdout.write(render(report, args.format))
    return EXIT_FINDINGS if report.count(ERROR) else EXIT_OK


def _default_paths() -> list[str]:
    from glob import glob

    return sorted({path for pattern in DEFAULT_GLOBS for path in glob(pattern)})
