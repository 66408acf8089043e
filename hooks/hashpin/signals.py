"""Ctrl-C and SIGTERM as input: stop at once, never in the middle of a write.

:func:`install` turns SIGINT and SIGTERM into :class:`Interrupted`, raised in the main
thread, except inside :func:`critical` (an atomic write and its bookkeeping), where the
signal waits until the section ends. Worker threads never see it: whoever waits on
them cancels what is queued and cuts what is running (see ``Resolver``).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``status`` is the exit status a shell expects, and
    ``written`` the files written before it (an interrupted ``fix`` fills it in)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.status = 128 + signum
        self.written: list[str] = []


_state = threading.local()  # nothing to share: signal handlers run in the main thread
_deferred: list[int] = []


def install() -> None:
    """Make SIGINT and SIGTERM raise :class:`Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _handle)


def _handle(signum: int, frame: FrameType | None) -> None:
    if getattr(_state, "depth", 0):
        _deferred.append(signum)
        return
    raise Interrupted(signum)


@contextmanager
def critical() -> Iterator[None]:
    """Run the block whole: a signal during it is raised when it ends."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
        if not _state.depth and _deferred:
            signum = _deferred.pop()
            _deferred.clear()
            raise Interrupted(signum)
