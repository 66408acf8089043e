"""``[tool.hashpin]`` in the nearest pyproject.toml, merged with command-line flags."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Iterable

_KEYS = ("select", "ignore", "severity", "exclude", "constraints", "targets")


class ConfigError(Exception):
    """Bad configuration: the message names the file and the key."""


class Config:
    __slots__ = (
        "constraints",
        "exclude",
        "ignore",
        "root",
        "select",
        "severity",
        "source",
        "targets",
    )

    def __init__(self) -> None:
        self.source: str | None = None  # the pyproject.toml read, if any
        self.root = os.getcwd()  # globs are relative to the config file's folder
        self.select: list[str] | None = None
        self.ignore: list[str] = []
        self.severity: dict[str, str] = {}
        self.exclude: list[str] = []
        self.constraints: list[str] = []
        self.targets: list[str] = []  # PY:PLATFORM, for check --online

    def excluded(self, path: str) -> bool:
        if not self.exclude:
            return False
        from fnmatch import fnmatch

        relative = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        given = path.replace(os.sep, "/")
        return any(fnmatch(relative, glob) or fnmatch(given, glob) for glob in self.exclude)

    def constraint_files(self) -> list[str]:
        if not self.constraints:
            return []
        from glob import glob

        found = []
        for pattern in self.constraints:
            found.extend(glob(os.path.join(self.root, pattern), recursive=True))
        return found


def find_pyproject(start: str) -> str | None:
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load(path: str | None) -> Config:
    """Read ``[tool.hashpin]`` from ``path`` (a pyproject.toml), if given."""
    config = Config()
    if path is None:
        return config
    config.source = path
    config.root = os.path.dirname(os.path.abspath(path))
    data = _read(path)
    if b"hashpin" not in data:  # most projects: skip the TOML parser's import entirely
        return config
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on old Pythons only
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    table = document.get("tool", {}).get("hashpin", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.hashpin] must be a table")
    for key, value in table.items():
        where = f"{path}: [tool.hashpin] {key}"
        if key not in _KEYS:
            raise ConfigError(
                f"{path}: [tool.hashpin] has unknown key {key!r} (known: {', '.join(_KEYS)})"
            )
        if key == "severity":
            if not isinstance(value, dict):
                raise ConfigError(f'{where}: must be a table of rule = "error" | "warning"')
            config.severity = parse_severities(value.items(), where)
        else:
            items = _string_list(value, where)
            if key == "select":
                config.select = rule_codes(items, where)
            elif key == "ignore":
                config.ignore = rule_codes(items, where)
            elif key == "exclude":
                config.exclude = items
            elif key == "targets":
                config.targets = _targets(items, where)
            else:
                config.constraints = items
    return config


def _targets(items: list[str], where: str) -> list[str]:
    from .targets import TargetError, parse_target

    for item in items:
        try:
            parse_target(item)
        except TargetError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return items


def _read(path: str) -> bytes:
    """The file's bytes; a FIFO or device given as ``--config`` must not hang or never end."""
    from .workspace import MAX_FILE_BYTES, NotAFile, TooLarge, read_limited

    try:
        return read_limited(path)
    except NotAFile as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except TooLarge:
        raise ConfigError(f"{path}: cannot read: over {MAX_FILE_BYTES >> 20} MiB") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: must be a list of strings")
    return list(value)


def rule_codes(items: Iterable[str], where: str) -> list[str]:
    from .rules import resolve_rule  # the rule table only when rules are named

    codes = []
    for item in items:
        rule = resolve_rule(item.strip())
        if rule is None:
            raise ConfigError(f"{where}: unknown rule {item!r}")
        codes.append(rule.code)
    return codes


def parse_severities(pairs: Iterable[tuple[str, object]], where: str) -> dict[str, str]:
    from .rules import ERROR, WARNING, resolve_rule

    severities = {}
    for name, level in pairs:
        rule = resolve_rule(name.strip())
        if rule is None:
            raise ConfigError(f"{where}: unknown rule {name!r}")
        if level not in (ERROR, WARNING):
            raise ConfigError(f'{where}: {name} must be "error" or "warning", not {level!r}')
        severities[rule.code] = str(level)
    return severities
