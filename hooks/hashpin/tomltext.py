"""TOML in and out, in one place: tomllib (tomli before Python 3.11) reads it, and values
are written in TOML's own syntax, escaped so that tomllib reads back exactly what was meant.

Imported only where lock files are read or written.
"""

from __future__ import annotations

import datetime
import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = ["datetime_of", "key", "loads", "string", "tomllib", "value"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
            "\f": "\\f", "\r": "\\r"}  # fmt: skip
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def loads(text: str) -> dict[str, object]:
    """The document (TOMLDecodeError, or RecursionError for one nested too deeply)."""
    document: dict[str, object] = tomllib.loads(text)
    return document


def string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and every control character
    (which a basic string may not hold raw, DEL included) escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char < " " or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else string(name)


def value(item: object) -> str:
    """A string, boolean, integer, aware datetime (written in UTC) or table of them,
    inline: ``{ a = 1, b = "x" }``."""
    if isinstance(item, str):
        return string(item)
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, datetime.datetime):
        return item.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(item, dict):
        inner = ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"no TOML form for {type(item).__name__}")


def datetime_of(text: str | None) -> datetime.datetime | None:
    """An index's ISO 8601 time (PEP 700's ``upload-time``) as an aware datetime, which
    TOML writes unquoted; None when absent or unreadable (UTC when it names no zone)."""
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.timezone.utc)
