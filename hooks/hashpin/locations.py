"""Where packages come from, decided the way pip decides it.

Layers, strongest first: options inside the requirements files, ``hashpin fix`` flags,
``PIP_*`` environment variables, pip's configuration files, then PyPI. Within the flag,
environment and configuration layers each setting is taken from the strongest layer that
gives it (pip's optparse defaults work that way); the files then override ``--index-url``
and add to ``--extra-index-url`` and ``--find-links``, as pip's requirement-file options do.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .reqfile import Line

PYPI_SIMPLE = "https://pypi.org/simple/"
INDEX = "index"
FIND_LINKS = "find-links"
MAX_TIMEOUT = 86400  # a day: beyond it a value is a typo, and 1e300 overflows socket code
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class Location:
    """One place to look for a project's files: an index or a find-links source."""

    __slots__ = ("kind", "url")

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and (self.kind, self.url) == (other.kind, other.url)

    def __hash__(self) -> int:
        return hash((self.kind, self.url))

    def __repr__(self) -> str:
        return f"Location({self.kind!r}, {self.url!r})"


class IndexSettings:
    """pip's index options after every layer has been applied."""

    __slots__ = ("extra_index_urls", "find_links", "index_url", "no_index")

    def __init__(
        self,
        index_url: str | None = None,
        extra_index_urls: Iterable[str] = (),
        find_links: Iterable[str] = (),
        no_index: bool | None = None,
    ) -> None:
        self.index_url = index_url
        self.extra_index_urls = list(extra_index_urls)
        self.find_links = list(find_links)
        self.no_index = no_index

    def over(self, weaker: IndexSettings) -> IndexSettings:
        """These settings wherever they are set, ``weaker``'s elsewhere."""
        return IndexSettings(
            self.index_url or weaker.index_url,
            self.extra_index_urls or weaker.extra_index_urls,
            self.find_links or weaker.find_links,
            weaker.no_index if self.no_index is None else self.no_index,
        )

    def check(self, origin: str) -> None:
        """Raise LocationError naming ``origin`` if a URL here cannot be taken apart."""
        named = [("--index-url", self.index_url or "")]
        named += [("--extra-index-url", url) for url in self.extra_index_urls]
        named += [("--find-links", link) for link in self.find_links]
        for name, url in named:
            problem = url_problem(url)
            if problem is not None:
                raise LocationError(f"{origin}: {_invalid(name, url, problem)}")

    def search_order(self, files: Iterable[tuple[str, Iterable[Line]]]) -> list[Location]:
        """Where to look, after the index options of ``files`` (folder, lines) in the order
        pip reads them: find-links, then extra indexes, then the default index (uv's order).

        As in pip, a file's ``--index-url`` replaces every index chosen so far,
        ``--extra-index-url`` adds one, ``--no-index`` drops them all for good, and a
        relative ``--find-links`` is taken from the file's folder when it exists there.
        """
        no_index = bool(self.no_index)
        index_urls = [] if no_index else [self.index_url or PYPI_SIMPLE, *self.extra_index_urls]
        find_links = list(self.find_links)
        for folder, lines in files:
            for line in lines:
                if line.args or line.error or not line.options:
                    continue  # pip ignores these options on a requirement line
                for option in line.options:
                    value = option.value or ""
                    if option.name == "--no-index":
                        no_index, index_urls = True, []
                    elif option.name == "--index-url" and not no_index:
                        index_urls = [_parsable(value, option.name, folder, line.number)]
                    elif option.name == "--extra-index-url" and not no_index:
                        index_urls.append(_parsable(value, option.name, folder, line.number))
                links = line.options_named("--find-links")
                if links and links[0].value:  # pip takes the first of a line
                    beside = os.path.join(folder, links[0].value)
                    link = beside if os.path.exists(beside) else links[0].value
                    find_links.append(_parsable(link, "--find-links", folder, line.number))
        found = [Location(FIND_LINKS, link) for link in find_links]
        found += [Location(INDEX, url) for url in index_urls[1:] + index_urls[:1]]
        unique: list[Location] = []
        for location in found:
            if location not in unique:
                unique.append(location)
        return unique


class LocationError(ValueError):
    """An index or find-links URL that cannot be parsed; the message says where it is.

    From :meth:`IndexSettings.search_order`, which is given each file's folder only,
    ``folder`` and ``line`` say where; :func:`check_files` names the file itself.
    """

    def __init__(self, message: str, folder: str | None = None, line: int = 0) -> None:
        super().__init__(message)
        self.folder = folder
        self.line = line


def url_problem(url: str) -> str | None:
    """Why urllib cannot take ``url`` apart (it raises ValueError deep in the client), or None."""
    from urllib.parse import urlsplit

    try:
        urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for http://[::1
        return str(exc) or "cannot be parsed"
    return None


def check_files(files: Iterable[tuple[str, Iterable[Line]]]) -> None:
    """Raise LocationError at ``path:line`` for the first unparsable index or find-links URL
    among ``files`` (path, lines), on the lines where pip reads those options."""
    for path, lines in files:
        for line in lines:
            if line.args or line.error or not line.options:
                continue
            for option in line.options:
                if option.name in ("--index-url", "--extra-index-url", "--find-links"):
                    problem = url_problem(option.value or "")
                    if problem is not None:
                        message = _invalid(option.name, option.value or "", problem)
                        raise LocationError(f"{path}:{line.number}: {message}")


def _parsable(url: str, name: str, folder: str, line: int) -> str:
    problem = url_problem(url)
    if problem is None:
        return url
    raise LocationError(_invalid(name, url, problem), folder, line)


def _invalid(name: str, url: str, problem: str) -> str:
    from .redact import redact_text  # never parses the URL, which is what failed

    return f"invalid {name} URL {redact_text(url)!r}: {problem}"


def pip_config_files(env: Mapping[str, str]) -> list[str]:
    """pip's configuration files in the order pip reads them (later ones win).

    Global, then user (skipped when ``PIP_CONFIG_FILE`` names an existing file), then the
    virtual environment's, then ``PIP_CONFIG_FILE``; ``PIP_CONFIG_FILE=os.devnull`` turns
    them all off, as in pip.
    """
    env_file = env.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    files: list[str] = []
    if sys.platform == "win32":
        program_data = env.get("PROGRAMDATA", "C:\\ProgramData")
        files.append(os.path.join(program_data, "pip", "pip.ini"))
        appdata = env.get("APPDATA", os.path.expanduser("~\\AppData\\Roaming"))
        user = [os.path.expanduser("~\\pip\\pip.ini"), os.path.join(appdata, "pip", "pip.ini")]
        site_name = "pip.ini"
    else:
        config_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files += [os.path.join(d, "pip", "pip.conf") for d in config_dirs.split(os.pathsep)]
        files.append("/etc/pip.conf")
        config_home = env.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        user = [os.path.expanduser("~/.pip/pip.conf"), os.path.join(config_home, "pip", "pip.conf")]
        if sys.platform == "darwin":
            user.append(os.path.expanduser("~/Library/Application Support/pip/pip.conf"))
        site_name = "pip.conf"
    if not (env_file and os.path.exists(env_file)):
        files += user
    virtual_env = env.get("VIRTUAL_ENV")
    if virtual_env:
        files.append(os.path.join(virtual_env, site_name))
    if env_file:
        files.append(env_file)
    return files


def read_pip_config(paths: Iterable[str]) -> dict[str, str]:
    """The settings of pip's ``[global]`` and ``[install]`` sections, later files winning.

    Keys are normalized as pip does (``index_url`` and ``--index-url`` are ``index-url``).
    """
    import configparser

    merged: dict[str, str] = {}
    for path in paths:
        if not os.path.isfile(path):
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError):
            continue  # pip would refuse it loudly; hashpin only loses that layer
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    merged[key.lower().replace("_", "-").lstrip("-")] = value
    return merged


class PipSettings:
    """pip's own settings: an option's ``PIP_*`` variable, else its configuration files."""

    __slots__ = ("config", "env")

    def __init__(self, env: Mapping[str, str], config: Mapping[str, str]) -> None:
        self.env = env
        self.config = config  # from read_pip_config

    def get(self, *names: str) -> str | None:
        """The first of the option's names set in the environment, else in the config."""
        for name in names:
            value = self.env.get("PIP_" + name.upper().replace("-", "_"))
            if value:
                return value
        for name in names:
            if self.config.get(name):
                return self.config[name]
        return None

    def index_settings(self) -> IndexSettings:
        return IndexSettings(
            self.get("index-url"),
            (self.get("extra-index-url") or "").split(),
            (self.get("find-links") or "").split(),
            _flag(self.get("no-index")),
        )

    def timeout(self, flag: float | None) -> float:
        """Seconds per request: the flag, else pip's setting, else 15."""
        given: float | str = (
            flag if flag is not None else self.get("timeout", "default-timeout") or "15"
        )
        try:
            seconds = float(given)
        except ValueError:
            seconds = 0
        # Also refuses nan and inf, and values the socket layer cannot represent.
        if not 0 < seconds <= MAX_TIMEOUT:
            raise ValueError(
                f"invalid timeout {given!r}: give seconds, more than 0 and at most {MAX_TIMEOUT}"
            )
        return seconds


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None
