"""``hashpin fix``: pin and hash requirements from the index pip would use, in place.

The fix is driven by ``check``'s findings, so it repairs exactly what the check reports
(suppressed lines and deselected rules included), in three steps:

1. plan: one :class:`Task` per logical line to change (add or refresh hashes, pin, drop
   hashes pip ignores) -- pure;
2. resolve: fetch the project pages and digests the tasks need, concurrently, through the
   cache -- the only step with I/O, behind :class:`Resolver`;
3. render: rewrite each changed logical line in pip-compile's layout -- pure.

A file is written only if every task of that file succeeded (all-or-nothing per file).
"""

from __future__ import annotations

from contextlib import contextmanager

from . import forked
from .digests import DIGEST_LENGTHS, WRITABLE_ALGORITHMS, is_digest, is_writable_hash
from .index import (
    DistFile,
    IndexRequestError,
    NotModified,
    printable,
    redact_url,
)
from .locations import FIND_LINKS, Location
from .render import has_bad_url_hash, hash_indent, intended_requirement, newline_of, render_line
from .reqfile import Line, parse_text
from .requirement import (
    NAMED,
    URL,
    InvalidRequirement,
    canonical_name,
    interpret,
)
from .transport import DEFAULT_CONNECTIONS_PER_ORIGIN
from .versions import (
    Target,
    choose_version,
    files_of_version,
    is_file_of,
    specifier_of,
    spellings,
    why_no_version,
)
from .workers import Pool

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from re import Pattern
    from typing import TypeVar

    from . import targets
    from .cache import Cache, StoredPage
    from .index import IndexClient, ProjectPage
    from .locations import IndexSettings
    from .requirement import Requirement
    from .rules import Report, Settings
    from .workers import Job
    from .workspace import Source, Workspace

    _T = TypeVar("_T")
    Listings = Mapping[tuple[Location, str], list[DistFile] | IndexRequestError]
    _Listed = dict[tuple[Location, str], list[DistFile] | IndexRequestError]
    _Page = tuple[Location, str, StoredPage | None]  # to fetch, with its cache entry's head

FIRST_INDEX = "first-index"  # the other strategy, "unsafe-best-match", merges every source
HASH_ALGORITHMS = WRITABLE_ALGORITHMS  # what pip accepts; md5/sha1 never written

# What a task does to its line.
HASH = "hash"  # a pinned named requirement: write the hashes of that version's files
PIN = "pin"  # an unpinned one (--pin): choose a version, then as HASH
DOWNLOAD = "download"  # a direct URL: download it and write its hash


class FixOptions:
    """What the user asked of ``fix``, beyond where the index is."""

    __slots__ = (
        "add_missing",
        "closure_targets",
        "includes_anywhere",
        "pin",
        "pre",
        "python_version",
        "refresh",
        "strategy",
        "target",
        "verify",
    )

    def __init__(
        self,
        *,
        includes_anywhere: bool = False,
        pin: bool = False,
        pre: bool = False,
        refresh: bool = False,
        verify: bool = False,
        strategy: str = FIRST_INDEX,
        target: Target | None = None,
        python_version: str | None = None,
        add_missing: bool = False,
        closure_targets: list[targets.Target] | None = None,
    ) -> None:
        self.pin = pin
        self.pre = pre
        self.refresh = refresh
        self.verify = verify
        self.strategy = strategy
        self.target = target
        self.python_version = python_version  # for requires-python when pinning
        # Write included files wherever they are, not only inside the given files' tree.
        self.includes_anywhere = includes_anywhere
        self.add_missing = add_missing  # add what the dependency closure lacks
        self.closure_targets = closure_targets or []  # where the closure must be whole


class Task:
    """One logical line to rewrite, and what resolving it produced."""

    __slots__ = (
        "action",
        "error",
        "hashes",
        "label",
        "line",
        "locations",
        "orphans",
        "pre",
        "requirement",
        "source",
        "version",
    )

    def __init__(self, source: Source, line: Line, requirement: Requirement, action: str) -> None:
        self.source = source
        self.line = line
        self.requirement = requirement
        self.action = action
        self.label = requirement.name or line.args
        self.version: str | None = requirement.pinned_version
        self.locations: list[Location] = []
        self.pre = False  # the file asks for pre-releases (--pre)
        self.orphans: list[Line] = []  # hash-only lines that belong to this requirement
        self.hashes: list[str] = []
        self.error: str | None = None

    @property
    def key(self) -> str:
        return canonical_name(self.requirement.name or "")

    def fail(self, reason: str) -> None:
        if self.error is None:
            self.error = printable(reason)  # it may quote what an index said


class FileResult:
    """What ``fix`` did to one file."""

    __slots__ = ("before", "encoding", "errors", "path", "rendered")

    def __init__(self, path: str, before: bytes, encoding: str) -> None:
        self.path = path
        self.before = before
        self.encoding = encoding  # of the text after any BOM
        self.rendered: bytes | None = None  # the new bytes, when they differ
        self.errors: list[str] = []  # why the file was left untouched


# -- plan -------------------------------------------------------------------------------------

_PAGES_WORTH_A_CHILD = 8  # fewer are fetched in one process: a fork costs milliseconds
_FIXED_BY_HASHING = frozenset({"HP002", "HP006", "HP102", "HP106"})
_FIXED_BY_PINNING = frozenset({"HP001", "HP101"})


def plan(
    workspace: Workspace,
    report: Report,
    options: FixOptions,
    locations_for: Callable[[Source], list[Location]],
    constraint_pins: Mapping[str, str],
    notes: list[str],
) -> dict[str, list[Task]]:
    """The tasks of each requirements file, keyed by the file's path.

    ``notes`` receives one line per finding the fix would repair but cannot.
    """
    from .workspace import REQUIREMENTS

    tasks_by_path: dict[str, list[Task]] = {}
    for source in workspace.sources.values():
        if source.file is None or source.role != REQUIREMENTS or source.path not in report.files:
            continue
        lines = [line for line in source.file.lines if not line.is_blank or line.comment]
        by_end = {line.end: line for line in lines}
        wanted: dict[int, set[str]] = {}
        for finding in report.files[source.path]:
            if finding.code in _FIXED_BY_HASHING or (
                options.pin and finding.code in _FIXED_BY_PINNING
            ):
                wanted.setdefault(finding.end_line, set()).add(finding.code)
        if options.refresh:
            for line in lines:
                if line.args and line.options_named("--hash"):
                    wanted.setdefault(line.end, set())
        pre = options.pre or any(line.options_named("--pre") for line in lines)
        tasks: dict[int, Task] = {}
        for end in sorted(wanted):
            line = by_end[end]
            if not line.args:  # --hash on a line without a requirement: give it to the last one
                owner = _owner_of_orphan(lines, line)
                if owner is None:
                    notes.append(
                        f"{source.path}:{line.number}: --hash on a line without a requirement "
                        "left as it is: no requirement line before it to attach it to"
                    )
                    continue
                task = tasks.get(owner.end) or _task_for(source, owner, options, constraint_pins)
                if task is None:
                    continue
                tasks[owner.end] = task
                task.orphans.append(line)
                continue
            task = tasks.get(line.end) or _task_for(source, line, options, constraint_pins)
            if task is not None:
                tasks[line.end] = task
        for task in tasks.values():
            task.pre = pre
            task.locations = locations_for(source)
        if tasks:
            tasks_by_path[source.path] = [tasks[end] for end in sorted(tasks)]
    return tasks_by_path


def _owner_of_orphan(lines: list[Line], orphan: Line) -> Line | None:
    """The requirement line an option-only ``--hash`` line was meant to continue."""
    if orphan.options_named("--editable") or any(
        option.name != "--hash" for option in orphan.options
    ):
        return None
    index = lines.index(orphan)
    for previous in reversed(lines[:index]):
        if previous.args:
            return previous
        if not previous.is_blank and not all(o.name == "--hash" for o in previous.options):
            return None
    return None


def _task_for(
    source: Source, line: Line, options: FixOptions, constraint_pins: Mapping[str, str]
) -> Task | None:
    if line.error is not None or line.dropped:
        return None  # pip refuses or drops part of the line: the user must look at it
    try:
        requirement = interpret(line.args)
    except InvalidRequirement:
        return None
    if requirement.kind == URL:
        return Task(source, line, requirement, DOWNLOAD)
    if requirement.kind != NAMED:
        return None
    task = Task(source, line, requirement, HASH)
    if requirement.pinned_version is None:
        pinned_by_constraint = constraint_pins.get(task.key)
        if options.pin and (not requirement.is_pinned or requirement.is_wildcard_pin):
            task.action = PIN
        elif pinned_by_constraint is not None and not requirement.specifiers:
            task.version = pinned_by_constraint
        else:
            return None
    return task


# -- resolve ----------------------------------------------------------------------------------


class Supplier:
    """Where a project's files come from: the files, the source(s) named for messages, and
    a hint for when the version asked for is not among them."""

    __slots__ = ("files", "hint", "where")

    def __init__(self, files: list[DistFile], where: str, hint: str) -> None:
        self.files = files
        self.where = where
        self.hint = hint


class NoSupplier:
    """No source supplies the project: ``known`` when every source said it has none (the
    name is unknown), not when one failed or listed nothing."""

    __slots__ = ("known", "reason")

    def __init__(self, reason: str, *, known: bool) -> None:
        self.reason = reason
        self.known = known


class Resolver:
    """Fetches what tasks need: project pages (revalidated through the cache) and digests.

    Every project page and download runs in a thread pool; errors are recorded on the
    tasks, never raised. ``note`` receives warnings and, with ``verbose``, which source
    answered for which project.
    """

    def __init__(
        self,
        client: IndexClient,
        cache: Cache,
        *,
        offline: bool = False,
        refresh: bool = False,
        note: Callable[[str], None] | None = None,
        verbose: bool = False,
        progress: Callable[[int, int], None] | None = None,
        max_workers: int = DEFAULT_CONNECTIONS_PER_ORIGIN,  # connections per origin
        processes: int = 1,
    ) -> None:
        self.client = client
        self.cache = cache
        self.offline = offline
        self.refresh = refresh  # revalidate every cached page, however fresh
        self._project_lists: dict[str, list[str]] = {}  # index URL -> its projects, for hints
        self._note = note
        self._noted: set[str] = set()
        self.verbose = verbose
        self.progress = progress
        self.max_workers = max_workers  # for the whole run, however many processes
        self.processes = processes  # 2: a forked child may fetch some of the pages

    def note(self, message: str) -> None:
        """Say something once, however many lines it concerns."""
        message = printable(message)  # it may quote what an index said
        if self._note is not None and message not in self._noted:
            self._noted.add(message)
            self._note(message)

    @contextmanager
    def _threads(self, workers: int) -> Iterator[Pool]:
        """A thread pool that, when the caller is interrupted (Ctrl-C), cancels what is
        queued and cuts the requests under way instead of waiting for them."""
        pool = Pool(workers, "hashpin-fetch")
        try:
            yield pool
        except BaseException:
            pool.shutdown(cancel=True)
            self.client.abort()
            raise
        pool.shutdown()

    def resolve(self, tasks: list[Task], options: FixOptions) -> None:
        named = [task for task in tasks if task.action in (HASH, PIN)]
        # Only these versions' files are built from the pages (None: every version).
        versions: dict[str, set[str] | None] = {}
        for task in named:
            if task.action == PIN or task.version is None:
                versions[task.key] = None
                continue
            wanted = versions.setdefault(task.key, set())
            if wanted is not None:
                wanted.add(task.version)
        listings = self.fetch_listings(
            {(loc, task.key) for task in named for loc in task.locations}, versions
        )
        files_by_task: dict[int, list[DistFile]] = {}
        for task in named:
            files = self._choose_files(task, listings, options)
            if files is not None:
                files_by_task[id(task)] = files
        downloads = [task for task in tasks if task.action == DOWNLOAD]
        chosen = [f for files in files_by_task.values() for f in files]
        digests = self.digests(chosen, options.verify)
        direct = self._direct_digests(downloads, refresh=options.refresh)
        for task in named:
            files = files_by_task.get(id(task))
            if files is None:
                continue
            hashes = []
            for dist in files:
                outcome = digests[dist.url]
                if isinstance(outcome, Exception):
                    task.fail(f"{dist.filename}: {outcome}")
                else:
                    hashes.append(outcome)
            task.hashes = sorted(set(hashes))
        for task in downloads:
            outcome = direct[task]
            if isinstance(outcome, Exception):
                task.fail(str(outcome))
            else:
                task.hashes = [outcome]

    # Project listings, per (location, project).

    def fetch_listings(
        self,
        wanted: set[tuple[Location, str]],
        versions: Mapping[str, set[str] | None] | None = None,
    ) -> Listings:
        """Each project's files on each of its locations (one request per page), concurrently:
        of the ``versions`` given for a project only, when known (None: every version).

        With ``processes`` 2 and enough pages to fetch, a forked child fetches some of them
        (see ``forked``): both take the next project from one queue as a thread frees up,
        so that each fetches as many as it can; a project with a find-links source stays
        here, where that source is listed once for all."""
        from collections import Counter

        remaining = Counter(key for _, key in wanted)
        sieves = {key: _sieves((versions or {}).get(key)) for key in remaining}
        listings: _Listed = {}
        # A find-links source is listed once for all projects; an index once per project,
        # straight from the cache when it may be used without asking (no thread needed).
        links = {location for location, _ in wanted if location.kind == FIND_LINKS}
        pages: dict[str, list[_Page]] = {}  # per project, in order
        for location, key in sorted(wanted, key=lambda item: (item[1], item[0].url)):
            if location.kind == FIND_LINKS:
                continue
            head = self._head(location.url, key)
            kept = self._files_kept(head, sieves[key])
            if kept is not None:
                listings[(location, key)] = kept
                remaining[key] -= 1
            else:
                pages.setdefault(key, []).append((location, key, head))
        if not links and not pages:
            return listings
        total = len(remaining)
        done = sum(1 for count in remaining.values() if count == 0)
        linked = {key for location, key in wanted if location.kind == FIND_LINKS}
        units = [unit for key, unit in pages.items() if key in linked]  # here only
        shared = [unit for key, unit in pages.items() if key not in linked]
        queue = self._queue_for_a_child(shared)
        connections, child = self.max_workers, None
        if queue is not None:  # half the connections each, and at first half the projects each
            half = (len(shared) + 1) // 2
            connections = min(self.max_workers // 2, half + len(units))
            theirs = min(self.max_workers - self.max_workers // 2, half)
            child = forked.Child(
                lambda tick: self._fetch(
                    wanted, set(), shared, queue.take, sieves, remaining.copy(), tick, theirs
                )
            )

        def project_done() -> None:
            nonlocal done
            done += 1
            if self.progress is not None:
                self.progress(done + (child.poll_ticks() if child else 0), total)

        take = _taking(len(units) + (0 if queue else len(shared)), then=queue)
        try:
            found = self._fetch(
                wanted, links, units + shared, take, sieves, remaining, project_done, connections
            )
        except BaseException:
            if child is not None:
                child.stop()
            raise
        finally:
            if queue is not None:
                queue.close()
        listings.update(found)
        if child is not None:
            delivered, fetched = child.result()
            if delivered and isinstance(fetched, dict):
                listings.update(fetched)
                if self.progress is not None:  # the child's last projects, if it ended last
                    self.progress(done + child.ticks, total)
                if self.verbose:
                    self.note(f"a second process fetched {len(fetched)} of the pages")
            left = [unit for unit in shared if any(page[:2] not in listings for page in unit)]
            if left:  # what the child took but did not deliver: fetched here, only later
                self.note("warning: the second process stopped early; its pages are fetched here")
                found = self._fetch(
                    wanted, set(), left, _taking(len(left)), sieves, remaining, project_done,
                    connections,
                )  # fmt: skip
                listings.update(found)
        return listings

    def _queue_for_a_child(self, shared: list[list[_Page]]) -> forked.Queue | None:
        """A queue of the positions in ``shared`` for this process and a forked child to
        take from, when there are enough pages to be worth a process; else None."""
        if self.processes < 2 or sum(map(len, shared)) < _PAGES_WORTH_A_CHILD:
            return None
        return forked.Queue.of(len(shared)) if forked.available() else None

    def _fetch(
        self,
        wanted: set[tuple[Location, str]],
        links: set[Location],
        units: list[list[_Page]],
        take: Callable[[], int | None],
        sieves: Mapping[str, Mapping[str, Pattern[str]] | None],
        remaining: Counter[str],
        project_done: Callable[[], None],
        connections: int,
    ) -> _Listed:
        """Fetch ``links``, then the pages of each project in ``units`` that ``take``
        hands out (by its position there) as a thread frees up, over up to
        ``connections`` connections per origin. ``remaining`` counts the locations still
        to list per project; ``project_done`` hears of each project whose every location
        is listed.

        There are more threads than connections: a thread that has read a page hands its
        connection back before it decodes, sieves and stores the page (milliseconds under
        the interpreter lock), and a spare thread sends the next request on it meanwhile.
        The first requests' connections are started at once."""
        import time

        listings: _Listed = {}
        transport = self.client.transport
        bound = transport.connections_per_origin
        transport.connections_per_origin = max(1, min(bound, connections))  # this one's share
        limit = max(1, connections + connections // 2)  # a spare for every second one
        try:
            with self._threads(limit) as pool:
                running: dict[Job[list[DistFile]], tuple[Location, str | None]] = {
                    pool.submit(self._find_links, location): (location, None) for location in links
                }

                def start(position: int) -> None:
                    for location, key, head in units[position]:
                        job = pool.submit(self._project_files, location.url, key, sieves[key], head)
                        running[job] = (location, key)

                # As many projects at first as there are connections, not threads: a
                # child taking from the same queue gets its share of the first requests.
                first: list[int] = []
                pages = len(running)
                while pages < connections and (position := take()) is not None:
                    first.append(position)
                    pages += len(units[position])
                now = time.time()
                self.client.preconnect(
                    (location.url, key)
                    for at in first
                    for location, key, head in units[at]
                    if self._asks(head, now)
                )
                for position in first:
                    start(position)
                while running:
                    job = pool.next_finished()
                    location, only = running.pop(job)
                    outcome = _outcome(job.result)
                    keys = [only] if only else [k for k in remaining if (location, k) in wanted]
                    for key in keys:
                        listings[(location, key)] = (
                            outcome
                            if only or isinstance(outcome, IndexRequestError)
                            else [dist for dist in outcome if is_file_of(dist.filename, key)]
                        )
                        remaining[key] -= 1
                        if remaining[key] == 0:
                            project_done()
                    while len(running) < limit and (position := take()) is not None:
                        start(position)
        finally:
            transport.connections_per_origin = bound
            transport.drop_preconnected()  # those a request on an idle one made needless
        return listings

    def supplier_of(
        self, key: str, locations: list[Location], listings: Listings, strategy: str
    ) -> Supplier | NoSupplier:
        """The files of ``key`` on the source(s) that supply it, as ``strategy`` says.

        An index that answers for the project has it, even with no files: a later source
        is not asked (dependency confusion). A find-links listing has the project only if
        it lists one of its files. An earlier source failing fails the project, rather than
        hand it to a later one.
        """
        found: list[tuple[Location, list[DistFile]]] = []
        for location in locations:
            outcome = listings[(location, key)]
            if isinstance(outcome, IndexRequestError):
                if outcome.kind == "not-found":
                    continue
                return NoSupplier(str(outcome), known=False)
            if outcome or location.kind != FIND_LINKS:
                found.append((location, outcome))
        if not found:
            searched = ", ".join(redact_url(location.url) for location in locations)
            return NoSupplier(
                f"no index or find-links source has {key} (searched {searched})"
                + self._did_you_mean(key, locations),
                known=True,
            )
        hint = ""
        if strategy == FIRST_INDEX:
            if len(found) > 1:
                hint = (
                    f" (the first source that has {key}; other sources are not asked "
                    "unless --index-strategy unsafe-best-match)"
                )
                others = ", ".join(redact_url(location.url) for location, _ in found[1:])
                self.note(
                    f"warning: {key} is also on {others}; using only "
                    f"{redact_url(found[0][0].url)}, the first source that has it"
                )
            found = found[:1]
        files = [dist for _, listed in found for dist in listed]
        where = " and ".join(redact_url(location.url) for location, _ in found)
        if not files:
            return NoSupplier(
                f"{where} lists {key} with no files; later sources are not asked, "
                "so that they cannot supply a project this one claims",
                known=False,
            )
        return Supplier(files, where, hint)

    def _project_files(
        self,
        index_url: str,
        key: str,
        chosen: Mapping[str, Pattern[str]] | None,
        head: StoredPage | None,
    ) -> list[DistFile]:
        """The project's files on an index, ``head`` its cache entry: only those of the
        versions ``chosen`` sieves for, when given (a page lists every version's; most are
        never looked at).

        Those files are kept in the page's cache entry, so that a later run reads them,
        not the page, for as long as that page stays the current one.
        """
        if chosen is None:  # every version: the whole page
            whole, entry = self._page(index_url, key, head)
            if entry is None:
                self._store(index_url, key, whole)
            return whole.files
        kept = None if head is None else head.kept(chosen)
        if head is not None and kept is not None and any(kept.values()):
            page = self._current_page(index_url, key, head)
            if page is None:  # still the page they were read from
                return self._in_page_order(kept.values())
            stored = None
        else:  # none kept, or no file of those versions: read the page (see below)
            page, stored = self._page(index_url, key, head)
        found = page.sieve(chosen)
        if stored is None:
            self._store(index_url, key, page, chosen, found)
        elif stored.keep(chosen, found):
            self.cache.store_head(index_url, key, stored)
        # None of them: the whole list, so that "no such version" and "no files at all"
        # (which keeps later sources out) stay told apart.
        return self._in_page_order(found.values()) or page.files

    def _head(self, index_url: str, key: str) -> StoredPage | None:
        """The cache entry of the project's page (never for a local index, read anew)."""
        return None if index_url[:5].lower() == "file:" else self.cache.load_head(index_url, key)

    def _files_kept(
        self, head: StoredPage | None, chosen: Mapping[str, Pattern[str]] | None
    ) -> list[DistFile] | None:
        """The ``chosen`` versions' files as the cache entry ``head`` kept them, when the
        page they were read from may be used without asking (fresh, or --offline)."""
        import time

        if (
            chosen is None
            or head is None
            or not (self.offline or (not self.refresh and head.fresh(time.time())))
        ):
            return None
        kept = head.kept(chosen)
        return self._in_page_order(kept.values()) if kept and any(kept.values()) else None

    def _page(
        self, index_url: str, key: str, head: StoredPage | None
    ) -> tuple[ProjectPage, StoredPage | None]:
        """The current page, and the head of the cache entry it was read from (None when
        it was fetched just now and is not stored yet)."""
        if index_url[:5].lower() == "file:":  # a local index: reading it is cheap and offline
            return self.client.project_page(index_url, key), None
        cached = None if head is None else self.cache.load_page(index_url, key, head)
        page = self._current_page(index_url, key, None if cached is None else head)
        if page is None:
            assert cached is not None and head is not None  # only a head given is current
            return cached, head
        return page, None

    def _current_page(
        self, index_url: str, key: str, head: StoredPage | None
    ) -> ProjectPage | None:
        """None when the page ``head`` describes is still the current one (fresh, answered
        304, or --offline), else the page the index serves now."""
        import time

        if self.offline:
            if head is None:
                raise IndexRequestError(
                    index_url, f"{key} is not in the cache (--offline)", kind="offline"
                )
            return None
        now = time.time()
        if not self._asks(head, now):
            return None  # the server said it may be used without asking until now
        if head is None or not (head.etag or head.last_modified):
            return self.client.project_page(index_url, key)
        fresh = self.client.revalidate_project_page(
            index_url, key, etag=head.etag, last_modified=head.last_modified
        )
        if not isinstance(fresh, NotModified):
            return fresh
        head.fetched_at = now
        if fresh.max_age is not None:
            head.max_age = fresh.max_age
        head.etag, head.last_modified = fresh.etag, fresh.last_modified
        self.cache.store_head(index_url, key, head)  # the same page: the same identity
        return None

    def _asks(self, head: StoredPage | None, now: float) -> bool:
        """Whether reading a page whose cache entry is ``head`` asks the index now."""
        return not self.offline and (head is None or self.refresh or not head.fresh(now))

    def _store(
        self,
        index_url: str,
        key: str,
        page: ProjectPage,
        sieves: Mapping[str, Pattern[str]] | None = None,
        found: Mapping[str, list[tuple[int, DistFile]]] | None = None,
    ) -> None:
        """Keep a page fetched just now, with what the sieves found on it, if it can ever
        be used again (a validator or a max-age); else forget the one kept before."""
        if index_url[:5].lower() == "file:":
            return
        if page.etag or page.last_modified or page.max_age:
            self.cache.store_page(index_url, key, page, sieves, found)
        else:
            self.cache.forget_page(index_url, key)

    @staticmethod
    def _in_page_order(found: Iterable[list[tuple[int, DistFile]]]) -> list[DistFile]:
        """The files of several sieves' (position, file) lists, once each, in page order."""
        by_position = {position: dist for files in found for position, dist in files}
        return [dist for _, dist in sorted(by_position.items())]

    def _find_links(self, location: Location) -> list[DistFile]:
        if self.offline and "://" in location.url and location.url[:5].lower() != "file:":
            raise IndexRequestError(location.url, "not available with --offline", kind="offline")
        return self.client.find_links(location.url).files

    def _choose_files(
        self,
        task: Task,
        listings: Mapping[tuple[Location, str], list[DistFile] | IndexRequestError],
        options: FixOptions,
    ) -> list[DistFile] | None:
        """The files of the task's version on the location that supplies its project."""
        supplier = self.supplier_of(task.key, task.locations, listings, options.strategy)
        if isinstance(supplier, NoSupplier):
            task.fail(supplier.reason.replace(f"has {task.key} ", f"has {task.label} ", 1))
            return None
        files, where, hint = supplier.files, supplier.where, supplier.hint
        if task.action == PIN:
            chosen = choose_version(
                files,
                task.key,
                specifier_of(task.requirement),
                allow_pre=task.pre,
                python_version=options.python_version,
            )
            if chosen is None:
                task.fail(
                    why_no_version(
                        files,
                        task.key,
                        specifier_of(task.requirement),
                        allow_pre=task.pre,
                        python_version=options.python_version,
                    ).format(f"{task.key} on {where}", repr(task.line.args))
                )
                return None
            task.version = str(chosen)
        assert task.version is not None
        version_files = files_of_version(files, task.key, task.version, task.requirement)
        if not version_files:
            task.fail(f"{where} has no file of {task.key} {task.version}{hint}")
            return None
        if all(dist.yanked for dist in version_files):
            reason = next((d.yanked_reason for d in version_files if d.yanked_reason), None)
            self.note(
                f"warning: {task.key} {task.version} is yanked" + (f" ({reason})" if reason else "")
            )
        if options.target is not None:
            version_files = [
                dist for dist in version_files if options.target.admits(dist.filename, task.key)
            ]
            if not version_files:
                task.fail(f"no file of {task.key} {task.version} matches the target platform")
                return None
        if self.verbose:
            self.note(f"{task.key} {task.version}: {len(version_files)} files from {where}")
        return version_files

    def _did_you_mean(self, key: str, locations: list[Location]) -> str:
        """``; did you mean X?`` when a project the cache or an index knows is close to
        ``key`` (a typo, or a name someone could register later to catch the typo)."""
        import difflib

        known = self.cache.project_names()
        for location in locations:
            if location.kind == FIND_LINKS or (self.offline and "://" in location.url):
                continue
            names = self._project_lists.get(location.url)
            if names is None:
                try:
                    names = self.client.project_names(location.url)
                except IndexRequestError:
                    names = []
                self._project_lists[location.url] = names
            known.update(names)
        known.discard(key)
        near = [name for name in known if abs(len(name) - len(key)) <= 2]  # ratio needs it
        match = difflib.get_close_matches(key, near, n=1, cutoff=0.8)
        return f"; did you mean {match[0]}?" if match else ""

    # Digests.

    def digests(
        self, files: Iterable[DistFile], verify: bool
    ) -> dict[str, str | IndexRequestError]:
        """``algorithm:hexdigest`` per file URL: the index's own digest when it gives a
        strong one (unless verifying), else the cached or freshly computed digest.

        With ``verify`` every digest the index gives is compared with the bytes: a strong
        one that differs fails the file, a weak one (md5, sha1, sha224) is a warning.
        """
        results: dict[str, str | IndexRequestError] = {}
        to_hash: dict[str, DistFile] = {}
        for dist in files:
            algorithm = _written_algorithm(dist)
            claimed = dist.hashes.get(algorithm)
            if claimed is not None and not is_digest(algorithm, claimed):
                # Pages are checked when parsed; this is a cache entry someone edited.
                results[dist.url] = IndexRequestError(
                    dist.url, f"malformed {algorithm} digest in the index data", kind="malformed"
                )
            elif claimed is not None and not verify:
                results[dist.url] = f"{algorithm}:{claimed}"
            else:
                to_hash[dist.url] = dist
        # Files on an index never change: a digest computed once is good for ever.
        computed = self.hash_urls(
            {url: _algorithms_to_compute(dist, verify) for url, dist in to_hash.items()}
        )
        for url, dist in to_hash.items():
            outcome = computed[url]
            if isinstance(outcome, IndexRequestError):
                results[url] = outcome
                continue
            mismatch = self._compare(dist, outcome)
            algorithm = next(iter(outcome))
            results[url] = mismatch or f"{algorithm}:{outcome[algorithm]}"
        return results

    def _compare(self, dist: DistFile, actual: Mapping[str, str]) -> IndexRequestError | None:
        """The error for a strong digest that does not match the bytes; a note for a weak one."""
        for algorithm, claimed in dist.hashes.items():
            if algorithm not in actual or actual[algorithm] == claimed:
                continue
            said = f"the index says {algorithm}:{claimed} but the file's bytes hash to "
            if algorithm in HASH_ALGORITHMS:
                return IndexRequestError(
                    dist.url, said + f"{algorithm}:{actual[algorithm]}", kind="mismatch"
                )
            self.note(
                f"warning: {dist.filename}: {said}{algorithm}:{actual[algorithm]} "
                "(a sign of tampering; this digest is never written)"
            )
        return None

    def _direct_digests(
        self, tasks: list[Task], *, refresh: bool
    ) -> dict[Task, str | IndexRequestError]:
        urls = {task: direct_url(task.requirement.url or "") for task in tasks}
        # A direct URL might be replaced in place: --refresh-hashes downloads it again.
        computed = self.hash_urls({url: ("sha256",) for url in urls.values()}, reuse=not refresh)
        results: dict[Task, str | IndexRequestError] = {}
        for task, url in urls.items():
            outcome = computed[url]
            results[task] = (
                outcome if isinstance(outcome, IndexRequestError) else f"sha256:{outcome['sha256']}"
            )
        return results

    def hash_urls(
        self, algorithms: Mapping[str, tuple[str, ...]], *, reuse: bool = True
    ) -> dict[str, dict[str, str] | IndexRequestError]:
        """Each URL's digests in its algorithms (the first one first), from the cache when
        ``reuse`` and every one of them is there, else from one download."""

        def digest(url: str) -> dict[str, str]:
            wanted = algorithms[url]
            remote = url[:5].lower() != "file:"  # local files may change: always hash them
            if remote and reuse:
                cached = {a: self.cache.load_digest(url, a) for a in wanted}
                if all(value is not None and is_digest(a, value) for a, value in cached.items()):
                    return {a: value for a, value in cached.items() if value is not None}
            if self.offline and remote:
                raise IndexRequestError(url, "not in the cache (--offline)", kind="offline")
            result = self.client.download_digest(url, wanted[0], also=wanted[1:])
            if remote:
                for algorithm, value in result.hexdigests.items():
                    self.cache.store_digest(url, algorithm, value)
            return {a: result.hexdigests[a] for a in wanted}

        if not algorithms:
            return {}
        workers = max(1, min(self.max_workers, len(algorithms)))
        with self._threads(workers) as pool:
            jobs = {url: pool.submit(digest, url) for url in algorithms}
            return {url: _outcome(job.result) for url, job in jobs.items()}


def _taking(count: int, then: forked.Queue | None = None) -> Callable[[], int | None]:
    """A ``take`` for :meth:`Resolver._fetch`: 0, 1 ... ``count - 1``, then what ``then``
    hands out (offset by ``count``), then None."""
    positions = iter(range(count))

    def take() -> int | None:
        position = next(positions, None)
        if position is None and then is not None:
            taken = then.take()
            position = None if taken is None else count + taken
        return position

    return take


def _sieves(versions: set[str] | None) -> dict[str, Pattern[str]] | None:
    """A sieve per version wanted of a project; None when every version is wanted, or one
    is not a version a sieve can be made for."""
    sieves = {version: spellings(version) for version in sorted(versions or ())}
    chosen = {version: sieve for version, sieve in sieves.items() if sieve is not None}
    return chosen if chosen and len(chosen) == len(sieves) else None


def _written_algorithm(dist: DistFile) -> str:
    """The first of sha256, sha384, sha512 the index gives for the file, else sha256."""
    return next((a for a in HASH_ALGORITHMS if a in dist.hashes), "sha256")


def _algorithms_to_compute(dist: DistFile, verify: bool) -> tuple[str, ...]:
    """The digest to write first, then (when verifying) every other one the index gives."""
    primary = _written_algorithm(dist)
    if not verify:
        return (primary,)
    others = sorted(a for a in dist.hashes if a in DIGEST_LENGTHS and a != primary)
    return (primary, *others)


def _outcome(result: Callable[[], _T]) -> _T | IndexRequestError:
    try:
        return result()
    except IndexRequestError as error:
        return error


def direct_url(url: str) -> str:
    """The URL to download for a direct requirement: no fragment; a path made a file: URL."""
    from pathlib import Path

    url = url.split("#", 1)[0]
    if "://" in url or url.lower().startswith("file:"):
        return url
    return Path(url).resolve().as_uri()


# -- render -----------------------------------------------------------------------------------


def render_task(task: Task, default_newline: str) -> str:
    """The new text of the task's logical line, in pip-compile's layout."""
    return render_line(
        task.line.raw,
        hashes=task.hashes,
        version=task.version if task.action == PIN else None,
        strip_url_hash=task.action == DOWNLOAD and has_bad_url_hash(task.requirement),
        indent=hash_indent([task.line, *task.orphans]),
        default_newline=default_newline,
    )


class UnsafeRewrite(Exception):
    """A rewritten line would not mean what was intended; the file is not written."""


def checked_rewrite(task: Task, text: str) -> str:
    """``text`` if pip reads it back as exactly the intended line, else UnsafeRewrite.

    The last guard before a write: whatever a digest, a version or a URL smuggled in (a
    newline, U+2028, an option), the line must parse to one logical line with the same
    requirement, the same other options and exactly the hashes chosen, each plain hex.
    """
    before = next(line for line in parse_text(task.line.raw) if line.args)
    after = parse_text(text)
    version = task.version if task.action == PIN else None
    strip = task.action == DOWNLOAD and has_bad_url_hash(task.requirement)
    others = [(o.name, o.value) for o in before.options if o.name != "--hash"]
    if (
        len(after) != 1
        or after[0].args.strip() != intended_requirement(before, version, strip)
        or [(o.name, o.value) for o in after[0].options if o.name != "--hash"] != others
        or sorted(o.value or "" for o in after[0].options_named("--hash")) != sorted(task.hashes)
        or not all(is_writable_hash(value) for value in task.hashes)
    ):
        raise UnsafeRewrite(
            f"{task.source.path}:{task.line.number}: {task.label}: the rewritten line would "
            "not read back as the intended requirement and hashes; not written"
        )
    return text


def apply(tasks: list[Task], lines: list[Line], default_newline: str) -> list[Line]:
    """The file's logical lines with each task's line rewritten and its orphans dropped;
    UnsafeRewrite if a rewritten line would not mean what was intended."""
    replaced = {
        id(task.line): checked_rewrite(task, render_task(task, default_newline)) for task in tasks
    }
    dropped = {id(orphan) for task in tasks for orphan in task.orphans}
    result = []
    for line in lines:
        if id(line) in dropped:
            continue
        if id(line) in replaced:
            line = Line(line.number, line.end, replaced[id(line)])
        result.append(line)
    return result


# -- the whole run ----------------------------------------------------------------------------


class Outcome:
    """What a ``fix`` run did: per file results, notes, and the check of the result."""

    __slots__ = ("files", "notes", "report")

    def __init__(self, files: list[FileResult], notes: list[str], report: Report) -> None:
        self.files = files
        self.notes = notes
        self.report = report


def search_orders(workspace: Workspace, base: IndexSettings) -> dict[str, list[Location]]:
    """Where each file's projects come from: the options of every file of its ``pip
    install -r`` (its root's walk), over ``base``, as pip applies them."""
    import os

    order: dict[str, list[Location]] = {}
    for root in workspace.roots:
        walk = workspace.walk(root)
        locations = base.search_order(
            (os.path.dirname(s.path), s.file.lines) for s in walk if s.file is not None
        )
        for source in walk:
            order.setdefault(source.key, locations)
    return order


def _pin_hint(report: Report) -> list[str]:
    """One line saying that ``--pin`` would pin what this run leaves unpinned."""
    unpinned = sum(f.code in _FIXED_BY_PINNING for f in report.findings)
    if not unpinned:
        return []
    what = "requirement is" if unpinned == 1 else "requirements are"
    return [
        f"{unpinned} {what} not pinned to one version (HP001/HP101): "
        "`hashpin fix --pin` pins each to the newest version it allows"
    ]


def _keep_inside(
    workspace: Workspace, tasks_by_path: dict[str, list[Task]], notes: list[str]
) -> None:
    """Drop the tasks of included files outside every given file's work tree.

    A requirements file under review can include ``-r ../other/requirements.txt`` or an
    absolute path: fixing it would let a pull request rewrite another project's files.
    The tree is the git work tree of a given file, else the folder it is in; a symlink
    counts where it points.
    """
    import os

    from .discover import work_tree

    folders = [os.path.dirname(os.path.realpath(root)) for root in workspace.roots]
    trees = {work_tree(folder) or folder for folder in folders}
    roots = set(workspace.roots)
    for source in workspace.sources.values():
        if source.path not in tasks_by_path or source.key in roots:
            continue
        real = os.path.realpath(source.key)
        if not any(real == tree or real.startswith(tree.rstrip(os.sep) + os.sep) for tree in trees):
            del tasks_by_path[source.path]
            notes.append(
                f"{source.path} left unchanged: it is outside the work tree of the files given "
                "(--fix-includes-anywhere to fix it too)"
            )


def _untouched(
    workspace: Workspace,
    paths: list[str],
    errors: list[str],
    notes: list[str],
    settings: Settings,
    env: Mapping[str, str] | None,
    excluded: Callable[[str], bool],
) -> Outcome:
    """The outcome of a run that changes nothing: each root file left unchanged, saying why."""
    import os

    from .rules import check

    results = []
    for key in workspace.roots:
        source = workspace.sources[key]
        result = FileResult(source.path, b"", source.file.encoding if source.file else "utf-8")
        result.errors = list(errors)
        results.append(result)
        errors = []  # each reason once
    report = check(workspace, settings, is_dir=os.path.isdir)
    for path in [path for path in report.files if excluded(path)]:
        del report.files[path]
    for findings in report.files.values():
        for finding in findings:
            finding.fixable = False
    return Outcome(results, notes, report)


def _write(result: FileResult, written: list[str]) -> None:
    """Write the result's new bytes over the file, atomically; an error if it cannot be."""
    from .signals import critical
    from .workspace import ChangedOnDisk, write_atomic

    assert result.rendered is not None
    try:
        with critical():  # Ctrl-C waits until the file is written and counted
            write_atomic(result.path, result.rendered, result.before)
            written.append(result.path)
    except ChangedOnDisk:
        result.errors.append(f"{result.path}: changed on disk while fixing; not written")
    except OSError as exc:
        result.errors.append(f"{result.path}: cannot write: {exc.strerror or exc}")


def run(
    paths: list[str],
    *,
    options: FixOptions,
    settings: Settings,
    base: IndexSettings,
    resolver: Resolver,
    constraint_paths: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    excluded: Callable[[str], bool] = lambda path: False,
    write: bool = True,
    written: list[str] | None = None,
) -> Outcome:
    """Check the files, fix what can be fixed, write (unless not ``write``), check again.

    ``written`` receives each path as soon as it is written, so that an interrupted run
    can say which files it changed.
    """
    import os

    from .rules import check, collect_constraints
    from .workspace import load

    written = [] if written is None else written
    constraint_paths = list(constraint_paths)
    workspace = load(paths, constraint_paths=constraint_paths, env=env)
    report = check(workspace, settings, is_dir=os.path.isdir)
    for path in [path for path in report.files if excluded(path)]:
        del report.files[path]
    pins = {
        key: entry.version
        for key, entry in collect_constraints(workspace).items()
        if entry.version is not None
    }
    order = search_orders(workspace, base)
    notes: list[str] = []
    tasks_by_path = plan(workspace, report, options, lambda s: order[s.key], pins, notes)
    if not options.pin:
        notes.extend(_pin_hint(report))
    if not options.includes_anywhere:
        _keep_inside(workspace, tasks_by_path, notes)
    resolver.resolve([task for tasks in tasks_by_path.values() for task in tasks], options)
    additions: dict[str, list[Task]] = {}
    if options.add_missing:
        from .additions import plan_additions

        by_key, closure_errors = plan_additions(workspace, tasks_by_path, options, resolver, order)
        if closure_errors:
            return _untouched(workspace, paths, closure_errors, notes, settings, env, excluded)
        additions = {workspace.sources[key].path: added for key, added in by_key.items()}
        resolver.resolve([task for added in additions.values() for task in added], options)
    results: list[FileResult] = []
    contents: dict[str, bytes] = {}
    for source in workspace.sources.values():
        added = additions.get(source.path, [])
        tasks = [*tasks_by_path.get(source.path, []), *added]
        if not tasks or source.file is None:
            continue
        before = source.file.render()
        result = FileResult(source.path, before, source.file.encoding)
        results.append(result)
        for task in tasks:
            if task.error is not None:
                where = f"{source.path}:{task.line.number}"
                result.errors.append(f"{where}: {task.label}: {task.error}")
        if result.errors:
            continue
        text = source.file.text
        newline = newline_of(text)
        try:
            lines = apply([t for t in tasks if t not in added], source.file.lines, newline)
            if added:
                from .additions import insert_lines

                new = [checked_rewrite(task, render_task(task, newline)) for task in added]
                lines = insert_lines(lines, new, newline)
        except UnsafeRewrite as exc:
            result.errors.append(str(exc))
            continue
        rendered = source.file.bom + "".join(line.raw for line in lines).encode(
            source.file.encoding
        )
        if rendered == before:
            continue
        result.rendered = rendered
        contents[source.key] = rendered
        if write:
            _write(result, written)
    for key in workspace.roots:
        source = workspace.sources[key]
        if source.lock is None or source.error is not None:
            continue
        from .lockfix import fix_lock

        result, lock_notes = fix_lock(source, options, resolver, order[key])
        results.append(result)
        notes.extend(lock_notes)
        if result.rendered is not None:
            contents[key] = result.rendered
            if write:
                _write(result, written)
    after = load(
        paths,
        constraint_paths=constraint_paths,
        env=env,
        contents={} if write else contents,
    )
    final = check(after, settings, is_dir=os.path.isdir)
    for path in [path for path in final.files if excluded(path)]:
        del final.files[path]
    for result in results:  # left unchanged after a failure: nothing there is fixable yet
        for finding in final.files.get(result.path, []) if result.errors else []:
            finding.fixable = False
    return Outcome(results, notes, final)
