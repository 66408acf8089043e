"""HTTP for the index client: pooled keep-alive connections, TLS, credentials, proxies,
redirects, retries, deadlines and size caps. No policy: what a response means is the
caller's business (``simple.py`` for pages, ``index.py`` for downloads).

Built on the standard library's ``http.client``, imported only when a request is made, so
the offline check never pays for it. Connections are pooled per origin (scheme, host,
port, and the proxy in between) for the whole run; each host is resolved once; the TLS
context is built once, in the background from the first https connection on, so that
loading the CA certificates overlaps the first TCP handshakes.

Credentials (from an URL's ``user:password@`` or a netrc file) are sent as HTTP Basic
only to the origin they belong to, never across a redirect to another origin, and never
appear in messages: every URL shown is passed through :func:`redact_url`.

A request is bounded as a whole, not only per read (``timeout`` bounds each wait for a
byte, and a silent server is retried as before): a watchdog cuts the connection when
connecting, sending and the headers together take longer than twice ``timeout``, or
when the body arrives slower than ``MIN_BODY_RATE`` bytes a second beyond that
allowance. A server that drips one byte a second is therefore cut after about twice
``timeout``, and not retried, while a large download on a slow but working link is never
cut; with the size caps, no request can last longer than ``2 * timeout + cap / rate``.
"""

from __future__ import annotations

import errno
import functools
import os
import threading
from contextlib import contextmanager, suppress

from .redact import printable, redact_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    import socket
    import ssl
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from email.message import Message
    from typing import Any, Protocol, TypeVar

    _T = TypeVar("_T")
    _Credentials = tuple[str, str]
    _Origin = tuple[str, str, int]
    _PoolKey = tuple[str, str, int, "str | None"]  # an origin, and the proxy in between

    class _Readable(Protocol):  # what stream_into reads: a Response or a local file
        def readinto(self, buffer: bytearray, /) -> int | None: ...


DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_MAX_PAGE_BYTES = 128 * 1024 * 1024  # the largest PyPI pages are a few MiB
DEFAULT_MAX_DOWNLOAD_BYTES = 4 * 1024 * 1024 * 1024  # the largest wheels are ~2-3 GiB
# Connections kept per origin, as many as uv's 50 downloads at once. Measured over TLS with
# a 100 ms handshake and 50 ms per answer (medians of 8 runs): 125 project pages took 0.81 s
# on 20 connections and 0.73 s on 50 (0.83 s on 64), 25 pages 0.52 s and 0.50 s.
DEFAULT_CONNECTIONS_PER_ORIGIN = 50
# What a non-blocking connect_ex says while the connect is under way.
_CONNECTING = (errno.EINPROGRESS, errno.EWOULDBLOCK, getattr(errno, "WSAEWOULDBLOCK", -1))
MIN_BODY_RATE = 8 * 1024  # bytes per second, on average, past the timeout's allowance
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_DRAIN_LIMIT = 64 * 1024  # read what is left of an error page this small to keep the link


class IndexRequestError(Exception):
    """A request to an index, find-links source or file URL failed.

    ``str(error)`` is one line: the redacted URL, then the cause. ``kind`` is one of
    ``"auth"`` (401/403), ``"not-found"`` (404/410, missing local path), ``"http"`` (other
    statuses, 5xx after retries), ``"timeout"``, ``"tls"``, ``"connection"``,
    ``"redirect"`` (loop, too many, bad target), ``"too-large"`` (size cap),
    ``"malformed"`` (unparseable or unexpected response), ``"io"`` (a local file could not
    be read) and ``"unsupported"`` (a URL scheme or API version this client does not
    speak). ``status`` is the HTTP status when there was one. Both parts are made
    printable: a reason phrase or a URL from a server may hold escape sequences.
    """

    def __init__(self, url: str, reason: str, *, kind: str, status: int | None = None) -> None:
        self.url = printable(redact_url(url))
        self.reason = printable(reason)
        self.kind = kind
        self.status = status
        super().__init__(f"{self.url}: {self.reason}")

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments: spell out how to rebuild, e.g. across a process pool.
        return (_rebuild_error, (self.url, self.reason, self.kind, self.status))


def _rebuild_error(url: str, reason: str, kind: str, status: int | None) -> IndexRequestError:
    return IndexRequestError(url, reason, kind=kind, status=status)


class Retryable(Exception):
    """An attempt failed in a way worth repeating (5xx, connection trouble, timeout)."""

    def __init__(self, reason: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.status = status


class Response:
    """What a request's ``consume`` sees: status, headers, final URL and a counted body."""

    __slots__ = ("_deadline", "_response", "headers", "reason", "status", "url")

    def __init__(self, response: http.client.HTTPResponse, url: str, deadline: _Deadline) -> None:
        self._response = response
        self._deadline = deadline
        self.status = response.status
        self.reason = response.reason
        self.headers: Message = response.headers
        self.url = url

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Up to ``len(buffer)`` bytes, as soon as some arrive; 0 at the end."""
        try:
            count = self._response.readinto1(buffer)
        except (OSError, ValueError):
            self._deadline.raise_if_expired(self.url)
            raise
        if not count:
            self._deadline.raise_if_expired(self.url)
        self._deadline.received += count
        return count


class Transport:
    """GET over pooled connections; safe to share between threads.

    ``timeout`` bounds connecting plus the response headers, and with ``MIN_BODY_RATE``
    the body (see the module's notes). ``retries`` is how many times a request is
    repeated after a connection error, timeout or 5xx (never after 4xx), waiting
    ``backoff * 2**n`` seconds before repeat n. ``cert`` is a CA bundle file (or
    directory) used instead of the system store. ``netrc_path`` overrides ``$NETRC`` and
    ``~/.netrc``. ``proxies`` is None to take them from the environment (``*_proxy``,
    ``no_proxy``), or a scheme->URL dict ({} disables proxies). ``log`` receives
    one-line, redacted notes about retries and redirects.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        cert: str | None = None,
        netrc_path: str | None = None,
        proxies: Mapping[str, str] | None = None,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        connections_per_origin: int = DEFAULT_CONNECTIONS_PER_ORIGIN,
        user_agent: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        import math

        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError("timeout must be a positive number of seconds")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if connections_per_origin < 1:
            raise ValueError("connections_per_origin must be >= 1")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.cert = cert
        self.netrc_path = netrc_path
        self.proxies = None if proxies is None else dict(proxies)
        self.max_redirects = max_redirects
        self.user_agent = user_agent or _default_user_agent()
        self.log = log
        self._lock = threading.Lock()
        self._pool = _Pool(connections_per_origin)
        self._watchdog = _Watchdog()
        self._addresses: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
        self._lookups: dict[tuple[str, int], _Lookup] = {}  # under way, one per host
        self._connecting: dict[tuple[str, int], list[socket.socket]] = {}  # see preconnect
        self._tls: _TLSLoader | None = None
        self._routes: dict[tuple[str, str], str | None] = {}  # (scheme, host) -> proxy
        self._url_credentials: dict[_Origin, _Credentials] = {}
        self._netrc: object = None  # a netrc.netrc, False once known absent/unreadable
        self.connections_opened = 0  # for tests and benchmarks: how many were set up

    @property
    def connections_per_origin(self) -> int:
        return self._pool.size

    @connections_per_origin.setter
    def connections_per_origin(self, size: int) -> None:
        """A new bound, for the requests from now on (a forked child takes its share)."""
        if size < 1:
            raise ValueError("connections_per_origin must be >= 1")
        self._pool.size = size

    def close(self) -> None:
        """Close every idle connection; the transport stays usable."""
        self._pool.close_all()
        self.drop_preconnected()

    def abort(self) -> None:
        """Cut every request under way and refuse new ones (on Ctrl-C): the threads
        waiting on the network get an error at once instead of at their timeout."""
        self._pool.shut()
        self._watchdog.cut_all()
        self.drop_preconnected()

    def preconnect(self, urls: Iterable[str]) -> None:
        """Start now, all at once and without waiting for them, the TCP connections that
        requests for ``urls`` (about to be made) will need beyond the idle ones, within
        the pool's bound; the requests take them as they need a new connection.

        Threads that each connect as they start reach the server over tens of
        milliseconds (a thread start and the interpreter lock each); a burst from one
        thread reaches it within one. Direct connections only (a proxy's are made as
        requests need them); a connect that fails here is made again by the request,
        which reports it."""
        from collections import Counter

        wanted: Counter[_PoolKey] = Counter()
        for url in urls:
            if url[:5].lower() in ("http:", "https"):
                key = self._route(url)[0]
                if key[3] is None:
                    wanted[key] += 1
        for key, count in wanted.items():
            scheme, host, port, _ = key
            with self._lock:
                started = len(self._connecting.get((host, port), ()))
            count = min(count - self._pool.idle(key), self._pool.room(key) - started)
            if count <= 0:
                continue
            if scheme == "https":
                self._tls_context(host)  # its certificates load meanwhile
            try:
                family, kind, protocol, _, sockaddr = self._addresses_of((host, port))[0]
            except (OSError, IndexError, IndexRequestError):
                continue  # the request looks the host up again, and says what is wrong
            started_now = [_start_connect(family, kind, protocol, sockaddr) for _ in range(count)]
            with self._lock:
                self._connecting.setdefault((host, port), []).extend(
                    sock for sock in started_now if sock is not None
                )

    def drop_preconnected(self) -> None:
        """Close the connections :meth:`preconnect` started that no request took (one
        found an idle connection instead)."""
        with self._lock:
            connecting, self._connecting = self._connecting, {}
        for socks in connecting.values():
            for sock in socks:
                sock.close()

    def get(
        self,
        url: str,
        headers: Mapping[str, str],
        consume: Callable[[Response], _T],
        *,
        not_found: str,
        accept_not_modified: bool = False,
        accept_partial: bool = False,
    ) -> _T:
        """GET with retries around redirects and ``consume`` (which reads the body).

        ``consume`` gets a 200, and also a 304 or a 206 when the request may get one.
        """

        url = self._adopt_credentials(url)
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                return self._attempt(
                    url, headers, consume, not_found, accept_not_modified, accept_partial
                )
            except Retryable as failure:
                if attempt + 1 >= attempts:
                    reason = failure.reason
                    if attempts > 1:
                        reason += f" (gave up after {attempts} attempts)"
                    raise IndexRequestError(
                        url, reason, kind=failure.kind, status=failure.status
                    ) from None
                delay = self.backoff * (2**attempt)
                self.note(f"{redact_url(url)}: {failure.reason}; retrying in {delay:.2g}s")
                if self._pool.shut_down.wait(delay):
                    break
        raise IndexRequestError(url, "interrupted", kind="interrupted")

    def note(self, message: str) -> None:
        if self.log is not None:
            self.log(printable(message))

    # -- one attempt --------------------------------------------------------------------------

    def _attempt(
        self,
        url: str,
        headers: Mapping[str, str],
        consume: Callable[[Response], _T],
        not_found: str,
        accept_not_modified: bool,
        accept_partial: bool,
    ) -> _T:
        """One try: follow redirects (bounded) and hand a 200 (or expected 304/206) to consume."""
        from urllib.parse import urljoin

        requested_origin = origin(url)
        current = url
        for _hop in range(self.max_redirects + 1):
            check_http_url(current)
            sent = {"User-Agent": self.user_agent, **headers}
            credentials = self._credentials_for(current, requested_origin)
            if credentials is not None:
                sent["Authorization"] = _basic_auth(credentials)
            with self._exchange(current, sent) as response:
                status = response.status
                if status in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise IndexRequestError(
                            current, f"HTTP {status} redirect without a Location", kind="redirect"
                        )
                    # Credentials a Location carries are not adopted: the server chose them.
                    target, _ = strip_userinfo(urljoin(current, location.strip()))
                    if current[:6].lower() == "https:" and target[:6].lower() != "https:":
                        raise IndexRequestError(
                            current,
                            f"refused a redirect from https to {redact_url(target)}: what it "
                            "serves would not be protected by TLS (insecure-url)",
                            kind="redirect",
                        )
                    self.note(f"{redact_url(current)}: redirected to {redact_url(target)}")
                    current = target
                    continue
                if (
                    status == 200
                    or (status == 304 and accept_not_modified)
                    or (status == 206 and accept_partial)
                ):
                    return consume(response)
                raise _status_failure(
                    current,
                    status,
                    response.reason,
                    not_found,
                    sent_auth=credentials is not None,
                    left_origin=origin(current) != requested_origin,
                )
        raise IndexRequestError(
            url, f"too many redirects (more than {self.max_redirects})", kind="redirect"
        )

    @contextmanager
    def _exchange(self, url: str, headers: Mapping[str, str]) -> Iterator[Response]:
        """Send one request on a pooled connection and yield its response.

        The connection goes back to the pool only when its response was read to the end
        (what is left of a small error page is drained for that). A pooled connection
        the server has closed meanwhile is replaced once, without counting as a failure.
        """
        key, target, host_header = self._route(url)
        request_headers = {"Host": host_header, "Accept-Encoding": "identity", **headers}
        for fresh_only in (False, True):
            connection, reused, deadline = self._acquire(key, url, fresh_only=fresh_only)
            import http.client  # here, once connected: see _connect

            reusable = False
            try:
                try:
                    connection.request("GET", target, headers=request_headers)
                    raw = connection.getresponse()
                except (OSError, http.client.HTTPException) as exc:
                    deadline.raise_if_expired(url)
                    if reused and _is_stale(exc):
                        continue  # the finally block closes it; try once on a fresh one
                    raise _transport_failure(exc, self.timeout, url) from None
                deadline.headers_done()
                response = Response(raw, url, deadline)
                try:
                    yield response
                    reusable = _drained(raw, response) and not raw.will_close
                except (OSError, http.client.HTTPException) as exc:  # failed mid-body
                    deadline.raise_if_expired(url)
                    raise _transport_failure(exc, self.timeout, url) from None
                return
            finally:
                self._watchdog.unwatch(deadline)
                self._pool.release(key, connection, reusable=reusable)
        raise AssertionError("unreachable")

    def _acquire(
        self, key: _PoolKey, url: str, *, fresh_only: bool
    ) -> tuple[http.client.HTTPConnection, bool, _Deadline]:
        """A connection from the pool, whether it was used before, and the deadline of the
        request on it, watched from when the connection is being made (or was handed out):
        waiting for a free one does not count, connecting does."""
        made: list[_Deadline] = []

        def connect(pool_key: _PoolKey) -> http.client.HTTPConnection:
            made.append(self._watched_deadline())
            return self._connect(pool_key)

        try:
            connection, reused = self._pool.acquire(key, connect, fresh_only=fresh_only)
        except BaseException as exc:
            if made:
                self._watchdog.unwatch(made[0])
                if isinstance(exc, OSError):  # connecting failed: as a failed request would
                    made[0].raise_if_expired(url)
                    raise _transport_failure(exc, self.timeout, url) from None
            raise
        deadline = made[0] if made else self._watched_deadline()
        deadline.connection = connection
        return connection, reused, deadline

    def _watched_deadline(self) -> _Deadline:
        deadline = _Deadline(self.timeout)
        self._watchdog.watch(deadline)
        return deadline

    def _route(self, url: str) -> tuple[_PoolKey, str, str]:
        """The pool key, the request target and the Host header for ``url``."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        scheme, host, port = origin(url)
        host_header = parts.netloc.rpartition("@")[2]
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        proxy = self._proxy_for(scheme, host)
        if proxy is not None and scheme == "http":
            target = f"http://{host_header}{target}"  # absolute form, as a proxy expects
        return (scheme, host, port, proxy), target, host_header

    def _proxy_for(self, scheme: str, host: str) -> str | None:
        """The proxy for an origin, decided once per run (``*_proxy``, ``no_proxy``)."""
        with self._lock:
            if (scheme, host) not in self._routes:
                self._routes[(scheme, host)] = self._choose_proxy(scheme, host)
            return self._routes[(scheme, host)]

    def _choose_proxy(self, scheme: str, host: str) -> str | None:
        proxies = self.proxies
        if proxies is None:
            if not _may_have_proxies():
                return None  # what urllib.request would find, without its 30 ms of imports
            import urllib.request

            proxies = urllib.request.getproxies()
        proxy = proxies.get(scheme) or proxies.get("all")
        if not proxy:
            return None
        import urllib.request

        if urllib.request.proxy_bypass(host):
            return None
        return proxy if "://" in proxy else "http://" + proxy

    def _connect(self, key: _PoolKey) -> http.client.HTTPConnection:
        """A new connection for a pool key, through its proxy when there is one.

        The TCP connection is opened first, and http.client and ssl are imported (and the
        CA certificates loaded, see :meth:`_tls_context`) in another thread meanwhile:
        the first connections of a run do not wait for tens of milliseconds of imports.
        """
        scheme, host, port, proxy = key
        if proxy is None:
            connect_host, connect_port = host, port
        else:
            proxy_url, proxy_credentials = strip_userinfo(proxy)
            _, connect_host, connect_port = origin(proxy_url)
        tls = self._tls_context(host) if scheme == "https" else None
        opened = self._open_socket((connect_host, connect_port), self.timeout)
        try:
            import http.client

            connection: http.client.HTTPConnection
            if tls is not None:
                connection = _tls_connection_class()(
                    connect_host, connect_port, timeout=self.timeout, tls=tls
                )
                if proxy is not None:
                    tunnel_headers = {}
                    if proxy_credentials is not None:
                        tunnel_headers["Proxy-Authorization"] = _basic_auth(proxy_credentials)
                    connection.set_tunnel(host, port, headers=tunnel_headers)
            else:
                connection = http.client.HTTPConnection(
                    connect_host, connect_port, timeout=self.timeout
                )
        except BaseException:
            opened.close()
            raise
        unused = [opened]

        def create_connection(
            address: tuple[str, int], timeout: float, source_address: object = None
        ) -> socket.socket:
            # The socket opened above, then (should http.client reconnect) a new one.
            return unused.pop() if unused else self._open_socket(address, timeout, source_address)

        connection._create_connection = create_connection  # type: ignore[attr-defined]
        with self._lock:
            self.connections_opened += 1
        return connection

    def _open_socket(
        self, address: tuple[str, int], timeout: float, source_address: object = None
    ) -> socket.socket:
        """Connect to a host resolved once per run, trying its addresses in order (or
        take a connection :meth:`preconnect` started)."""
        import socket

        with self._lock:
            started = self._connecting.get(address)
            sock = started.pop() if started else None
        if sock is not None:
            self._watchdog.connecting(sock)
            if _connected(sock, timeout):
                return sock
        failure: OSError | None = None
        for family, kind, protocol, _name, sockaddr in self._addresses_of(address, timeout):
            sock = socket.socket(family, kind, protocol)
            try:
                sock.settimeout(timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._watchdog.connecting(sock)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                failure = exc
        raise failure or OSError(f"no address for {address[0]}")

    def _addresses_of(
        self, address: tuple[str, int], timeout: float | None = None
    ) -> list[tuple[Any, ...]]:
        """The host's addresses, looked up once per run: while one thread asks the
        resolver, the others wait for its answer."""
        import socket

        host, port = address
        with self._lock:
            addresses = self._addresses.get(address)
            lookup = None if addresses is not None else self._lookups.get(address)
            leading = addresses is None and lookup is None
            if leading:
                lookup = self._lookups[address] = _Lookup()
        if leading:
            assert lookup is not None
            try:
                addresses = lookup.addresses = list(
                    socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                )
            except OSError as exc:
                lookup.failure = exc
                raise
            finally:
                with self._lock:
                    del self._lookups[address]
                    if lookup.addresses is not None:
                        self._addresses[address] = lookup.addresses
                lookup.done.set()
        elif addresses is None:
            assert lookup is not None
            addresses = lookup.wait(host, self.timeout if timeout is None else timeout)
        return addresses

    def _tls_context(self, host: str) -> _TLSLoader:
        """The TLS context, loading in the background from the first https connection on:
        loading CA certificates takes tens of milliseconds, which then overlap the TCP
        handshakes instead of preceding them (and only https URLs pay for it)."""
        with self._lock:
            if self._tls is None:
                self._tls = _TLSLoader(self.cert, host)
            return self._tls

    # -- credentials --------------------------------------------------------------------------

    def _adopt_credentials(self, url: str) -> str:
        """Remember ``user:pass@`` for the URL's origin and return the URL without them."""
        clean, credentials = strip_userinfo(url)
        if credentials is not None:
            with self._lock:
                self._url_credentials[origin(clean)] = credentials
        return clean

    def _credentials_for(self, url: str, requested_origin: _Origin) -> _Credentials | None:
        where = origin(url)
        with self._lock:
            stored = self._url_credentials.get(where)
        if stored is not None:
            return stored
        # netrc entries are keyed by host alone; bind them to the origin the caller asked
        # for, so a redirect to another port or scheme of the same host gets nothing.
        if where != requested_origin:
            return None
        return self._netrc_credentials(where[1])

    def _netrc_credentials(self, host: str) -> _Credentials | None:
        with self._lock:
            if self._netrc is None:
                self._netrc = self._load_netrc()
            parsed = self._netrc
        if parsed is False:  # none, or unreadable
            return None
        import netrc

        assert isinstance(parsed, netrc.netrc)
        entry = parsed.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return (login or "", password or "")

    def _load_netrc(self) -> object:
        if self.netrc_path is not None:
            candidates = [self.netrc_path]
        elif os.environ.get("NETRC"):
            candidates = [os.environ["NETRC"]]
        else:
            home = os.path.expanduser("~")
            candidates = [os.path.join(home, ".netrc"), os.path.join(home, "_netrc")]
        for path in candidates:
            if os.path.isfile(path):
                import netrc  # only now: its import costs more than looking for the file

                try:
                    return netrc.netrc(path)
                except (netrc.NetrcParseError, OSError) as exc:
                    self.note(f"ignoring unreadable netrc file {path}: {exc}")
                    return False
        return False


# -- TLS ---------------------------------------------------------------------------------------


class _TLSLoader:
    """The TLS context of a transport, built in a thread of its own; calling the loader
    waits for it (IndexRequestError when the CA bundle cannot be loaded). A CA bundle
    that is not there at all fails at once, before any connection is tried."""

    def __init__(self, cert: str | None, host: str) -> None:
        if cert is not None:
            try:
                os.stat(cert)
            except OSError as exc:
                reason = f"cannot load CA bundle {cert}: {exc}"
                raise IndexRequestError(f"https://{host}/", reason, kind="tls") from None
        self._cert = cert
        self._host = host
        self._context: ssl.SSLContext | None = None
        self._error: str | None = None
        # Not a daemon: the interpreter waits for it at exit instead of finalizing under
        # OpenSSL (a run that ended while it was loading crashed so).
        self._thread = threading.Thread(target=self._load, name="hashpin-tls")
        self._thread.start()

    def _load(self) -> None:
        import http.client  # noqa: F401  # for the connection being made meanwhile
        import ssl

        cert = self._cert
        try:
            if cert is None:
                self._context = ssl.create_default_context()
            elif os.path.isdir(cert):
                self._context = ssl.create_default_context(capath=cert)
            else:
                self._context = ssl.create_default_context(cafile=cert)
        except OSError as exc:  # a missing or unreadable CA bundle (ssl.SSLError too)
            self._error = f"cannot load CA bundle {cert}: {exc}"

    def __call__(self) -> ssl.SSLContext:
        self._thread.join()
        if self._context is None:
            reason = self._error or "no TLS context"
            raise IndexRequestError(f"https://{self._host}/", reason, kind="tls")
        return self._context


@functools.cache
def _tls_connection_class() -> Callable[..., http.client.HTTPConnection]:
    """An HTTPS connection that asks for its TLS context only once its TCP connection
    (and a proxy's tunnel) is up; made on first use, as http.client is imported then."""
    import http.client

    class TLSConnection(http.client.HTTPConnection):
        default_port = http.client.HTTPS_PORT

        def __init__(
            self, host: str, port: int, *, timeout: float, tls: Callable[[], ssl.SSLContext]
        ) -> None:
            super().__init__(host, port, timeout=timeout)
            self._tls = tls

        def connect(self) -> None:
            super().connect()
            server_hostname = self._tunnel_host or self.host  # type: ignore[attr-defined]
            self.sock = self._tls().wrap_socket(self.sock, server_hostname=server_hostname)

    return TLSConnection


# -- the pool and the watchdog ------------------------------------------------------------------


class _Lookup:
    """One host's name being resolved: the connections made meanwhile wait for its answer
    instead of asking the resolver too (a burst of lookups is what a resolver drops, and
    a dropped one costs its 5 s timeout)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.addresses: list[tuple[Any, ...]] | None = None
        self.failure: OSError | None = None

    def wait(self, host: str, timeout: float) -> list[tuple[Any, ...]]:
        """The addresses, once resolved; the lookup's failure (a new one of its kind) else."""
        import socket

        if not self.done.wait(timeout):
            raise socket.timeout(f"resolving {host} took over {timeout:g}s")
        if self.addresses is None:
            failure = self.failure or OSError(f"could not resolve {host}")
            raise type(failure)(*failure.args)
        return self.addresses


class _Pool:
    """Idle connections per key, and at most ``size`` connections per key at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.shut_down = threading.Event()  # set for good by :meth:`shut`
        self._condition = threading.Condition()
        self._idle: dict[_PoolKey, list[http.client.HTTPConnection]] = {}
        self._open: dict[_PoolKey, int] = {}

    def acquire(
        self,
        key: _PoolKey,
        connect: Callable[[_PoolKey], http.client.HTTPConnection],
        *,
        fresh_only: bool = False,
    ) -> tuple[http.client.HTTPConnection, bool]:
        """A connection for ``key`` and whether it was used before; waits while all are busy."""
        with self._condition:
            while True:
                if self.shut_down.is_set():
                    raise IndexRequestError(
                        key[0] + "://" + key[1], "interrupted", kind="interrupted"
                    )
                idle = self._idle.get(key)
                if idle and not fresh_only:
                    return idle.pop(), True
                if idle:  # a fresh one is wanted: make room by closing an idle one
                    idle.pop().close()
                    self._open[key] -= 1
                if self._open.get(key, 0) < self.size:
                    self._open[key] = self._open.get(key, 0) + 1
                    break
                self._condition.wait()
        try:
            return connect(key), False
        except BaseException:
            with self._condition:
                self._open[key] -= 1
                self._condition.notify()
            raise

    def idle(self, key: _PoolKey) -> int:
        with self._condition:
            return len(self._idle.get(key, ()))

    def room(self, key: _PoolKey) -> int:
        """How many more connections ``key`` may have now."""
        with self._condition:
            return self.size - self._open.get(key, 0)

    def release(
        self, key: _PoolKey, connection: http.client.HTTPConnection, *, reusable: bool
    ) -> None:
        with self._condition:
            if reusable and connection.sock is not None:
                self._idle.setdefault(key, []).append(connection)
            else:
                connection.close()
                self._open[key] -= 1
            self._condition.notify()

    def shut(self) -> None:
        """Close the idle connections and hand out no more."""
        self.shut_down.set()
        self.close_all()

    def close_all(self) -> None:
        with self._condition:
            for key, idle in self._idle.items():
                for connection in idle:
                    connection.close()
                self._open[key] -= len(idle)
            self._idle.clear()
            self._condition.notify_all()


class _Deadline:
    """When one request must be done: ``timeout`` for the headers, then a minimum rate."""

    __slots__ = (
        "connection",
        "expired",
        "headers_received",
        "received",
        "socket",
        "start",
        "timeout",
    )

    def __init__(self, timeout: float) -> None:
        import time

        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None  # once there is one
        self.socket: socket.socket | None = None  # the TCP socket while connecting
        self.start = time.monotonic()
        self.received = 0  # body bytes so far
        self.expired = False
        self.headers_received = False  # then only the body is left to come

    def headers_done(self) -> None:
        self.headers_received = True

    def due(self) -> float:
        return self.start + 2 * self.timeout + self.received / MIN_BODY_RATE

    def raise_if_expired(self, url: str) -> None:
        """Fail a request cut by the watchdog, without retrying: the server answers, but
        too slowly, and would only be as slow again."""
        if self.expired:
            phase = "the body" if self.headers_received else "the answer"
            raise IndexRequestError(
                url,
                f"timed out: {phase} came too slowly (more than {2 * self.timeout:g}s, "
                f"plus 1s for every {MIN_BODY_RATE // 1024} KiB received)",
                kind="timeout",
            )

    def cut(self) -> None:
        """Wake whatever read or write blocks on this request's connection."""
        import socket

        live = None if self.connection is None else self.connection.sock
        for sock in (live, self.socket):
            if sock is not None:
                # closed, or handed over to TLS: then the other one is the live one
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread that cuts the connection of every request past its deadline.

    Cutting is a ``shutdown`` of the socket, which wakes a thread blocked on it; the
    request then fails as "too slow". An expired request is cut again every tenth of a
    second until it ends, since a TLS handshake swaps the socket under it. The thread
    starts with the first request.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._watched: set[_Deadline] = set()
        self._local = threading.local()  # the deadline of this thread's request
        self._thread: threading.Thread | None = None

    def watch(self, deadline: _Deadline) -> None:
        self._local.deadline = deadline
        with self._condition:
            self._watched.add(deadline)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hashpin-deadlines", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def unwatch(self, deadline: _Deadline) -> None:
        self._local.deadline = None
        with self._condition:
            self._watched.discard(deadline)

    def cut_all(self) -> None:
        with self._condition:
            for deadline in self._watched:
                deadline.expired = True
                deadline.cut()

    def connecting(self, sock: socket.socket) -> None:
        """The socket this thread's request is connecting: cut it too if time runs out."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is not None:
            deadline.socket = sock

    def _run(self) -> None:
        import time

        with self._condition:
            while True:
                now = time.monotonic()
                wake = None
                for deadline in self._watched:
                    due = deadline.due()
                    if deadline.expired or due <= now:
                        deadline.expired = True
                        deadline.cut()
                        due = now + 0.1
                    wake = due if wake is None else min(wake, due)
                self._condition.wait(None if wake is None else max(wake - now, 0.01))


# -- helpers --------------------------------------------------------------------------------------


def _start_connect(family: int, kind: int, protocol: int, sockaddr: Any) -> socket.socket | None:
    """A socket whose connect to ``sockaddr`` is under way (None if it failed at once)."""
    import socket

    sock = socket.socket(family, kind, protocol)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if sock.connect_ex(sockaddr) in (0, *_CONNECTING):
            return sock
    except OSError:
        pass
    sock.close()
    return None


def _connected(sock: socket.socket, timeout: float) -> bool:
    """Wait up to ``timeout`` for a connect :func:`_start_connect` began: True when it is
    up (the socket then blocks with that timeout, as one made by ``connect``), else the
    socket is closed. TimeoutError when it did not finish in time."""
    import select
    import socket

    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLOUT)
            done = bool(poller.poll(timeout * 1000))
        else:  # Windows
            done = any(select.select([], [sock], [sock], timeout)[1:])
        if not done:
            raise TimeoutError("timed out")
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            sock.settimeout(timeout)
            return True
    except BaseException:
        sock.close()
        raise
    sock.close()
    return False


def _may_have_proxies() -> bool:
    """False when ``urllib.request.getproxies()`` is sure to find none: where it reads only
    the environment (not macOS's or Windows' settings) and no variable there names one."""
    import sys

    if sys.platform in ("darwin", "win32"):
        return True
    return any(name[-6:].lower() == "_proxy" for name in os.environ)


def _default_user_agent() -> str:
    import sys

    return f"hashpin (python {sys.version_info[0]}.{sys.version_info[1]})"


def check_http_url(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 host
        raise IndexRequestError(url, f"invalid URL: {exc}", kind="unsupported") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise IndexRequestError(
            url,
            f"unsupported URL scheme {parts.scheme!r} (only http and https)",
            kind="unsupported",
        )
    if not parts.hostname:
        raise IndexRequestError(url, "URL has no host", kind="unsupported")


def origin(url: str) -> _Origin:
    """(scheme, host, port) of a URL, the unit credentials and connections belong to."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise IndexRequestError(
            url,
            "URL has an invalid host or port (percent-encode special characters in a password)",
            kind="unsupported",
        ) from None
    scheme = parts.scheme.lower()
    if port is None:
        port = 443 if scheme == "https" else 80
    return (scheme, (parts.hostname or "").lower(), port)


def strip_userinfo(url: str) -> tuple[str, _Credentials | None]:
    from urllib.parse import unquote, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise IndexRequestError(url, f"invalid URL: {exc}", kind="unsupported") from None
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, password = userinfo.partition(":")
    credentials = (unquote(user), unquote(password) if has_password else "")
    return urlunsplit(parts._replace(netloc=hostport)), credentials


def _basic_auth(credentials: _Credentials) -> str:
    import base64

    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
    return f"Basic {token}"


def _is_stale(exc: Exception) -> bool:
    """Whether a reused connection failed because the server had closed it meanwhile."""
    import http.client

    return isinstance(
        exc,
        (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
         http.client.CannotSendRequest),
    )  # fmt: skip


def _drained(raw: http.client.HTTPResponse, response: Response) -> bool:
    """Whether the body has been read to its end, reading a small rest to get there.

    http.client marks a response with a length as done only when a read past its end
    comes back empty; closing it then leaves the connection ready for the next request.
    """
    if raw.length is not None and raw.length > _DRAIN_LIMIT:
        return False
    buffer = bytearray(_DRAIN_LIMIT)
    total = 0
    while not raw.isclosed() and raw.length != 0:
        count = response.readinto(buffer)
        total += count
        if not count or total > _DRAIN_LIMIT:
            return False
    raw.close()
    return True


def _transport_failure(exc: Exception, timeout: float, url: str) -> Exception:
    """Classify a socket or protocol failure; TLS verification failures are not retried."""
    import http.client
    import socket
    import ssl

    if isinstance(exc, (socket.timeout, TimeoutError)):
        return Retryable(f"timed out (no answer within {timeout:g}s)", kind="timeout")
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or str(exc)
        return IndexRequestError(url, f"TLS certificate verification failed: {detail}", kind="tls")
    if isinstance(exc, ssl.SSLError):
        return Retryable(f"TLS error: {exc.reason or exc}", kind="tls")
    if isinstance(exc, http.client.HTTPException):
        return Retryable(f"broken response: {type(exc).__name__}", kind="connection")
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc) or type(exc).__name__
        return Retryable(f"connection failed: {detail}", kind="connection")
    return exc


def _status_failure(
    url: str, status: int, reason: str, not_found: str, *, sent_auth: bool, left_origin: bool
) -> Exception:
    label = f"HTTP {status} {reason}".rstrip()
    if status == 401:
        if sent_auth:
            hint = "credentials were rejected"
        elif left_origin:
            hint = "credentials are not forwarded to another host after a redirect"
        else:
            hint = "no credentials for this host in the URL or netrc"
        return IndexRequestError(
            url, f"{label}: authentication required ({hint})", kind="auth", status=status
        )
    if status == 403:
        return IndexRequestError(url, f"{label}: access denied", kind="auth", status=status)
    if status in (404, 410):
        return IndexRequestError(url, f"{label}: {not_found}", kind="not-found", status=status)
    if status >= 500:
        return Retryable(label, kind="http", status=status)
    if status == 304:
        return IndexRequestError(url, f"{label} to an unconditional request", kind="malformed")
    return IndexRequestError(url, label, kind="http", status=status)


def max_age(response: Response) -> float | None:
    """How many more seconds the response may be used without asking (RFC 9111):
    ``max-age`` less ``Age``; 0 for ``no-cache`` or ``no-store``; None when not said."""
    directives = {}
    for item in (response.headers.get("Cache-Control") or "").split(","):
        name, _, value = item.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-cache" in directives or "no-store" in directives:
        return 0.0
    seconds = directives.get("max-age", "")
    if not (seconds.isascii() and seconds.isdigit() and len(seconds) <= 10):
        return None
    age = (response.headers.get("Age") or "0").strip()
    used = int(age) if age.isascii() and age.isdigit() and len(age) <= 10 else 0
    return float(max(int(seconds) - used, 0))


def content_length(response: Response) -> int | None:
    """The declared length, or None when absent or not a plain decimal number.

    ``str.isdigit`` accepts "²" and ``int`` refuses it; and a thousand digits is no
    length at all, so anything past 18 ASCII digits is treated as absent too (the size
    cap still bounds what is read).
    """
    value = (response.headers.get("Content-Length") or "").strip()
    if not value or len(value) > 18 or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def read_capped(response: Response, cap: int) -> bytes:
    """The whole (identity or gzip) body, decoded, never more than ``cap`` bytes either way."""
    return bytes(read_body(response, cap, keep_sent=False)[0])


def read_body(
    response: Response, cap: int, *, keep_sent: bool = True
) -> tuple[bytes | bytearray, str | None, bytes]:
    """The whole body decoded (never more than ``cap`` bytes either way; a gzip body in
    the very buffer it was decompressed into, not copied again), its Content-Encoding
    (``"gzip"`` or None) and the bytes as they came (``b""`` for a gzip body unless
    ``keep_sent``). A gzip body is decompressed a chunk at a time as it arrives, so that
    decompressing overlaps the wait for the rest."""
    declared = content_length(response)
    if declared is not None and declared > cap:
        raise IndexRequestError(
            response.url,
            f"page is {declared} bytes, over the limit of {cap} bytes",
            kind="too-large",
        )
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("gzip", "identity"):
        raise IndexRequestError(
            response.url, f"unsupported Content-Encoding {encoding!r}", kind="malformed"
        )
    gunzip = _Gunzip(cap, response.url, keep_input=keep_sent) if encoding == "gzip" else None
    if gunzip is not None:
        size = stream_into(response, gunzip.feed, cap, response.url)
    elif declared is not None:  # read into place: no buffer grown and copied a chunk at a time
        received = bytearray(declared)
        view = memoryview(received)
        size = 0
        while size < declared:
            count = response.readinto(view[size:])
            if not count:
                break
            size += count
    else:
        received = bytearray()
        size = stream_into(response, received.extend, cap, response.url)
    if declared is not None and size != declared:
        raise Retryable(f"connection closed after {size} of {declared} bytes", kind="connection")
    if gunzip is not None:
        return gunzip.body(), "gzip", gunzip.input()
    body = bytes(received)
    return body, None, body


def gunzip(data: bytes, cap: int, url: str) -> bytearray:
    """A gzip body kept as it came, decompressed: IndexRequestError when it is malformed,
    truncated or over ``cap`` bytes decompressed."""
    decoder = _Gunzip(cap, url)
    decoder.feed(memoryview(data))
    return decoder.body()


_CHUNK_SIZE = 256 * 1024


def stream_into(
    source: _Readable, sink: Callable[[memoryview], object], max_bytes: int, url: str
) -> int:
    """Feed the body to ``sink`` chunk by chunk; fail as soon as it passes ``max_bytes``.

    One reused buffer, so memory stays at one chunk whatever the body size.
    """
    buffer = bytearray(_CHUNK_SIZE)
    view = memoryview(buffer)
    size = 0
    while True:
        count = source.readinto(buffer)
        if not count:
            return size
        size += count
        if size > max_bytes:
            raise IndexRequestError(
                url, f"response is larger than the limit of {max_bytes} bytes", kind="too-large"
            )
        sink(view[:count])


class _Gunzip:
    """A gzip body decompressed as it is fed, never past ``cap`` bytes: a small bomb is
    refused as soon as it has grown that far. With ``keep_input``, what it was fed is
    kept too."""

    def __init__(self, cap: int, url: str, *, keep_input: bool = False) -> None:
        import zlib

        self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._malformed = zlib.error
        self._data = bytearray()
        self._input: list[bytes] | None = [] if keep_input else None
        self._cap = cap
        self._url = url

    def feed(self, chunk: memoryview) -> None:
        if self._input is not None:
            self._input.append(bytes(chunk))
        if self._decompressor.eof:  # what follows the gzip stream is not the page
            return
        try:  # a limit of cap + 1 - len (never 0, which would mean none)
            data = self._decompressor.decompress(chunk, self._cap + 1 - len(self._data))
        except self._malformed as exc:
            raise IndexRequestError(
                self._url, f"malformed gzip body: {exc}", kind="malformed"
            ) from None
        self._data += data
        if len(self._data) > self._cap or self._decompressor.unconsumed_tail:
            raise IndexRequestError(
                self._url,
                f"page is larger than the limit of {self._cap} bytes uncompressed",
                kind="too-large",
            )

    def body(self) -> bytearray:
        if not self._decompressor.eof:
            raise IndexRequestError(self._url, "truncated gzip body", kind="malformed")
        return self._data

    def input(self) -> bytes:
        """What it was fed (with keep_input), as one string of bytes."""
        return b"".join(self._input or ())
