"""The local engine: partitions mapped in a pool of worker processes, results in partition order.

Per-row work is Python, so threads would serialise on the interpreter lock; processes do not. Workers start
from a fork server (or are spawned): the scanning process may have threads alive, and forking it then is
unsafe. One worker maps in this process. Workers ignore SIGINT: Ctrl-C reaches this process, which cancels the
partitions not yet started and ends the workers without waiting for their partitions.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain, islice
from typing import TypeVar

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")

IN_FLIGHT_PER_WORKER = 2  # partitions submitted ahead of the one awaited: bounds memory, keeps workers busy
PRELOAD = ["maskaudit.partitions"]
AT_ONCE_SECONDS = 0.5  # about a pool's start: past it, workers are worth starting for the tasks left


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _context(preload: Sequence[str]) -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([*PRELOAD, *preload])
        return context
    return multiprocessing.get_context("spawn")


def map_ordered(fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT], workers: int,
                at_once: Callable[[TaskT], ResultT | None] | None = None, preload: Sequence[str] = (),
                pool_likely: bool = False) -> Iterator[ResultT]:
    """``fn`` over every task, results in task order. ``fn`` must be a module-level function and tasks and
    results picklable. With one worker, or one task, everything runs in this process. ``at_once`` gives a task's
    result here when it is cheap to (else None): until a task needs a worker, or the results given here took
    as long as starting the pool would (it costs a fresh interpreter about half a second), no pool is started.
    ``preload`` names further modules the fork server imports once before it forks the workers (a module whose
    import starts a thread must not be named); it applies when this process starts its fork server. When a pool
    is ``pool_likely`` (more tasks than results given here could cover), the fork server is started at once, in
    the background: its imports then overlap the results given here instead of stalling the first submit."""
    iterator = iter(tasks)
    head = list(islice(iterator, 2))
    if workers <= 1 or len(head) < 2:
        yield from map(fn, chain(head, iterator))
        return
    context = _context(preload)
    if pool_likely and isinstance(context, multiprocessing.context.ForkServerContext):
        multiprocessing.forkserver.ensure_running()
    pool: ProcessPoolExecutor | None = None
    pending: deque[Future[ResultT]] = deque()
    limit = workers * IN_FLIGHT_PER_WORKER
    here = 0.0  # seconds spent giving results at once
    try:
        for task in chain(head, iterator):
            result = None
            if at_once is not None and pool is None and here < AT_ONCE_SECONDS:
                started = time.perf_counter()
                result = at_once(task)
                here += time.perf_counter() - started
            if result is not None:
                done: Future[ResultT] = Future()
                done.set_result(result)
                pending.append(done)
            else:
                if pool is None:
                    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                               initializer=_ignore_sigint)
                pending.append(pool.submit(fn, task))
            while len(pending) > limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:  # Ctrl-C, an error, or the consumer stopped: nothing more is started or awaited
        if pool is not None:
            _stop(pool)
        raise
    if pool is not None:
        pool.shutdown()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued partitions and end the running ones now: a partition of large files can take
    seconds, and exiting would otherwise wait for it."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
