"""Some of a run's page fetches in a forked child process, so that a second core does them.

Reading a page (decompressing, decoding, sieving) holds Python's lock for most of the time
a page costs; threads overlap the waiting, not that. On Linux, a ``fix`` (or an
``export``) with many pages to fetch forks once, before any thread starts. The
parent and the child take projects from one :class:`Queue` as their threads free up; the
child reports each project done (for the progress line), then sends back what it found,
pickled, through a pipe. Anything that goes wrong in the child (it dies, it raises, what it
sends does not unpickle) is only a slower run: the parent fetches what it did not deliver.
Elsewhere (macOS, whose system libraries are not safe to use in a forked child; Windows,
which has no fork) the run stays in one process.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_TICK = b"."  # one piece of work done
_RESULT = b"="  # what follows is the pickled result
_REAP_SECONDS = 1.0  # a child told to stop gets this long before it is killed


def available() -> bool:
    """Whether a child can be forked now: on Linux, while this is the only thread (a
    fork copies no other thread, nor what such a thread holds)."""
    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
    )


class Queue:
    """The positions 0 .. n-1, for two processes to take from, each position once: a
    pipe filled (and its writing end closed) before the fork, read four bytes at a time
    (each read of a pipe takes its bytes from it for that reader alone)."""

    _SIZE = 4

    def __init__(self, reader: int) -> None:
        self._reader: int | None = reader

    @classmethod
    def of(cls, count: int) -> Queue | None:
        """A queue of ``count`` positions, or None when a pipe cannot hold them."""
        import fcntl

        reader, writer = os.pipe()
        try:
            needed = count * cls._SIZE
            set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
            if needed > 65536 and set_size is not None:
                with suppress(OSError):  # beyond /proc/sys/fs/pipe-max-size
                    fcntl.fcntl(writer, set_size, needed)
            get_size = getattr(fcntl, "F_GETPIPE_SZ", None)
            capacity = fcntl.fcntl(writer, get_size) if get_size is not None else 65536
            if needed > capacity:  # writing it would block: no reader yet
                os.close(reader)
                return None
            data = b"".join(position.to_bytes(cls._SIZE, "little") for position in range(count))
            view = memoryview(data)
            while view:
                view = view[os.write(writer, view) :]
        except BaseException:
            os.close(reader)
            raise
        finally:
            os.close(writer)
        return cls(reader)

    def take(self) -> int | None:
        """The next position nobody has taken, or None when all are taken."""
        if self._reader is None:
            return None
        data = os.read(self._reader, self._SIZE)
        return int.from_bytes(data, "little") if len(data) == self._SIZE else None

    def close(self) -> None:
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None


class Child:
    """A forked child running ``work(tick)``: :meth:`result` is what it returned."""

    def __init__(self, work: Callable[[Callable[[], None]], object]) -> None:
        reader, writer = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            os.close(reader)
            _serve(work, writer)
        os.close(writer)
        self._reader = reader
        self._payload: list[bytes] | None = None  # once the result has begun to arrive
        self.ticks = 0
        self._reaped = False

    def poll_ticks(self) -> int:
        """How many pieces of work the child has reported done so far (never blocks)."""
        if self._reaped:
            return self.ticks
        os.set_blocking(self._reader, False)
        try:
            while data := os.read(self._reader, 65536):
                self._take(data)
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(self._reader, True)
        return self.ticks

    def result(self) -> tuple[bool, object]:
        """Wait for the child: (True, what it returned), or (False, None) when it
        failed to deliver (it died, or what it sent cannot be read)."""
        import pickle

        try:
            while data := os.read(self._reader, 1 << 20):
                self._take(data)
        finally:
            self.stop()
        if self._payload is None:
            return False, None
        try:
            return True, pickle.loads(b"".join(self._payload))
        except Exception:  # a child cut short mid-write, say: only a slower run
            return False, None

    def stop(self) -> None:
        """Make sure the child is gone: told to stop (SIGTERM) unless it is done, and
        killed if it lingers."""
        if not self._reaped:
            self._reaped = True
            os.close(self._reader)
            _reap(self.pid)

    def _take(self, data: bytes) -> None:
        if self._payload is None:
            ticks, marker, rest = data.partition(_RESULT)
            self.ticks += len(ticks)
            if not marker:
                return
            self._payload, data = [], rest
        self._payload.append(data)


def _serve(work: Callable[[Callable[[], None]], object], writer: int) -> None:
    """The child's whole life: do the work, send the result, exit without running the
    parent's exit handlers (or flushing its buffers a second time)."""
    import pickle

    from .signals import install

    status = 0
    try:
        install()  # SIGTERM from the parent stops it as cleanly as Ctrl-C

        def tick() -> None:
            os.write(writer, _TICK)

        result = work(tick)
        view = memoryview(_RESULT + pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        while view:
            view = view[os.write(writer, view) :]
    except KeyboardInterrupt as interrupted:  # Ctrl-C reaches the whole process group
        status = int(getattr(interrupted, "status", 130))
        _join_workers()
    except BaseException:  # the parent does this half itself
        status = 1
        _join_workers()
    finally:
        os._exit(status)


def _join_workers() -> None:
    """Let the worker threads end (an interrupted run cuts their requests), so that none
    dies mid-write of a cache entry."""
    import time

    deadline = time.monotonic() + _REAP_SECONDS / 2
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))


def _reap(pid: int) -> None:
    """Wait for the child; ask it to stop if it is still running, kill it if it lingers."""
    import signal
    import time

    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + _REAP_SECONDS
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(0.005)
    except (ChildProcessError, ProcessLookupError):  # gone already
        pass
