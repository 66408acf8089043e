"""A pool of worker threads for the requests of a run: what ``concurrent.futures`` offers
here, without its import (it brings ``logging`` and more: 15 ms before the first request
could go out).

A job's outcome is what its function returned or raised, handed back by
:meth:`Job.result`; :meth:`Pool.next_finished` hands out jobs as they finish. Workers are not
daemon threads: one busy when the run is interrupted finishes its job (the transport then
cuts its request at once), so that it never dies halfway through writing a cache entry.
"""

from __future__ import annotations

import threading
from queue import SimpleQueue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Generic, TypeVar

    _T = TypeVar("_T")

    class _Generic(Generic[_T]):
        pass

else:  # generic for the type checker only: typing costs milliseconds to import

    class _Generic:
        def __class_getitem__(cls, item: object) -> type:
            return cls

    _T = None


class Job(_Generic[_T]):
    """One call to run in the pool."""

    __slots__ = ("_call", "_done", "_error", "_value")

    def __init__(self, call: Callable[[], _T]) -> None:
        self._call: Callable[[], _T] | None = call
        self._done = threading.Event()
        self._value: _T | None = None
        self._error: BaseException | None = None

    def result(self) -> _T:
        """What the call returned (raised again, if it raised), once it has run."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set when the call returned

    def _run(self) -> None:
        call, self._call = self._call, None  # the call and what it holds go with it
        try:
            if call is not None:
                self._value = call()
        except BaseException as exc:  # handed to whoever asks for the result
            self._error = exc
        finally:
            self._done.set()


class Pool:
    """Up to ``size`` threads, started as jobs arrive, that run jobs in order."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._queue: SimpleQueue[Job[Any] | None] = SimpleQueue()
        self._finished: SimpleQueue[Job[Any]] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, function: Callable[..., _T], *args: object) -> Job[_T]:
        job: Job[_T] = Job(lambda: function(*args))
        self._queue.put(job)
        if len(self._threads) < self._size:
            thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}")
            thread.start()
            self._threads.append(thread)
        return job

    def next_finished(self) -> Job[Any]:
        """The next job to finish (of those submitted, each handed out once): waits for
        one when none has finished since."""
        return self._finished.get()

    def shutdown(self, *, cancel: bool = False) -> None:
        """No more jobs: with ``cancel``, drop those not started and return at once; else
        wait for every job to end."""
        if not self._closed:
            self._closed = True
            if cancel:
                while not self._queue.empty():
                    dropped = self._queue.get_nowait()
                    if dropped is not None:
                        dropped._error = RuntimeError("cancelled")
                        dropped._call = None
                        dropped._done.set()
            for _ in self._threads:
                self._queue.put(None)
        if not cancel:
            for thread in self._threads:
                thread.join()

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            job._run()
            self._finished.put(job)
