"""Hiding credentials in what hashpin shows. Pure, and cheap to import (``re`` only).

An URL's ``user:password@`` (or a lone ``user@``, which is often a token) must never reach
a message, a report or a log: :func:`redact_url` hides it in one URL, :func:`redact_text`
in every URL of a free-form message. The value of a ``${NAME}`` is just as secret (CI
passes tokens that way): :func:`unexpand` shows it as the ``${NAME}`` written instead.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from collections.abc import Iterable
    from urllib.parse import SplitResult

__all__ = ["redact_text", "redact_url", "unexpand"]

# A scheme (RFC 3986) and "://", then everything up to whitespace: a message may quote an
# URL or follow it with punctuation, and both are harmless after the authority. Compiled
# on first use (re caches it): only messages with an "@" need it.
_URL_IN_TEXT = r"[A-Za-z][A-Za-z0-9+.-]*://\S*"


def redact_url(url: str) -> str:
    """The URL with its password (or a lone user, which may be a token) replaced by ``****``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        if "@" in url and _has_invalid_port(parts):
            # A password with an unencoded "/", "?" or "#" splits the authority early;
            # hide everything up to the last "@" rather than risk showing part of it.
            scheme, sep, rest = url.partition("://")
            return f"{scheme}{sep}****@{rest.rpartition('@')[2]}"
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    shown = f"{user}:****" if has_password else "****"
    return urlunsplit(parts._replace(netloc=f"{shown}@{hostport}"))


def _has_invalid_port(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018  # parsing the port is the check
    except ValueError:
        return True
    return False


def redact_text(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced as :func:`redact_url` does.

    Written with ``re`` alone, so that it never raises on a malformed URL (``urlsplit``
    does, on a bad IPv6 literal) and never rewrites anything but the userinfo.
    """
    if "@" not in text or "://" not in text:  # the common case: nothing to hide
        return text
    return re.sub(_URL_IN_TEXT, _redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    url = match.group()
    scheme_end = url.index("://") + 3
    rest = url[scheme_end:]
    # The authority ends at the first "/", "?" or "#", as urlsplit ends it.
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        user, has_password, _ = userinfo.partition(":")
        shown = f"{user}:****" if has_password else "****"
        return f"{url[:scheme_end]}{shown}@{hostport}{rest[len(authority) :]}"
    if "@" in rest and _bad_port(authority):
        # As redact_url: "user:pa/ss@host" split early; hide up to the last "@".
        return f"{url[:scheme_end]}****@{rest.rpartition('@')[2]}"
    return url


def _bad_port(authority: str) -> bool:
    """Whether urlsplit's ``port`` would refuse this authority (without "@"), found as
    urlsplit finds it: after a bracketed IPv6 host, else after the first ":"."""
    _, bracket, bracketed = authority.partition("[")
    port = bracketed.partition("]")[2].partition(":")[2] if bracket else authority.partition(":")[2]
    if not port:
        return False
    return not (port.isascii() and port.isdigit() and int(port) <= 65535)


def unexpand(text: str, expansions: Iterable[tuple[str, str]]) -> str:
    """``text`` with each expanded value, given as (value, "${NAME}"), shown as its name.

    Messages quote line text as written and as ``repr`` writes it, so a value is also
    looked for in the escaped forms a ``repr`` of a longer string gives it.
    """
    table: dict[str, str] = {}
    for value, name in expansions:
        table.setdefault(value, name)
        table.setdefault(repr("'\"" + value)[4:-1], name)  # quoted with ', which is escaped
        if '"' not in value:
            table.setdefault(repr("'" + value)[2:-1], name)  # quoted with "
    if not table:
        return text
    # One pass, longest value first: a name put back is never searched again.
    pattern = "|".join(re.escape(value) for value in sorted(table, key=len, reverse=True))
    return re.sub(pattern, lambda match: table[match.group()], text)


_UNPRINTABLE_RE = r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]"


def printable(text: str) -> str:
    """Text from elsewhere (an index, a server) made safe for a terminal: control
    characters (escape sequences, a carriage return that fakes a line, bidi overrides)
    are shown as ``\\x1b``-style escapes."""
    if text.isprintable():
        return text
    return re.sub(
        _UNPRINTABLE_RE, lambda match: match.group().encode("unicode_escape").decode(), text
    )
