"""The Dask engine: partitions mapped on a Dask distributed cluster, results in partition order.

With a scheduler address the scan runs on that cluster; without one a local cluster of worker processes is
started for the scan and closed after it. Partitions are submitted as results come back, so the tasks and
results held (in flight or waiting for an earlier partition) stay bounded. A worker lost mid-scan is the
scheduler's to handle: it runs the lost partitions again elsewhere, and the map is a pure function of its task,
so the results are the same.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from maskaudit.errors import UsageError

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")

IN_FLIGHT_PER_SLOT = 2  # partitions submitted or waiting per worker thread: bounds memory, keeps workers busy
CONNECT_TIMEOUT = "20s"
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
EXTRA_MISSING = "--engine dask needs the dask extra: pip install 'maskaudit[dask]'"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(EXTRA_MISSING) from None
    return distributed


def scheduler_address(given: str | None) -> str | None:
    """The scheduler to connect to: the one given, else DASK_SCHEDULER_ADDRESS, else None (a local cluster)."""
    return given or os.environ.get(SCHEDULER_ENV) or None


@contextmanager
def open_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a local cluster of ``workers`` single-threaded worker
    processes started now and closed on leaving."""
    distributed = _distributed()
    address = scheduler_address(scheduler)
    if address is None:
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--scheduler {address}: cannot connect to a Dask scheduler there ({exc}); start one "
                         f"or give the address it listens on (tcp://host:8786)") from None
    with client:
        yield client


def worker_slots(client: Any) -> int:
    """The worker threads of the cluster: how many partitions run at once."""
    return max(1, sum(int(n) for n in client.nthreads().values()))


def map_ordered(client: Any, fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT], slots: int,
                ) -> Iterator[ResultT]:
    """``fn`` over every task on the client's cluster, results in task order. At most ``slots`` times
    IN_FLIGHT_PER_SLOT tasks are submitted and not yet yielded; a result that comes back before an earlier one
    waits here for it."""
    distributed = _distributed()
    limit = max(2, slots * IN_FLIGHT_PER_SLOT)
    run = uuid.uuid4().hex
    iterator = iter(tasks)
    order: dict[str, int] = {}
    running: dict[str, Any] = {}  # submitted futures whose result is not yet taken
    waiting: dict[int, ResultT] = {}
    completed = distributed.as_completed()
    submitted = yielded = 0
    exhausted = False
    try:
        while True:
            while not exhausted and submitted - yielded < limit:
                task = next(iterator, _END)
                if task is _END:
                    exhausted = True
                    break
                future = client.submit(fn, task, key=f"partition-{run}-{submitted}", pure=False, retries=0)
                order[future.key] = submitted
                running[future.key] = future
                completed.add(future)
                submitted += 1
            if yielded == submitted:
                return
            while yielded not in waiting:
                future = next(completed)
                waiting[order.pop(future.key)] = future.result()
                del running[future.key]
                future.release()
            while yielded in waiting:
                yield waiting.pop(yielded)
                yielded += 1
    finally:  # an error, Ctrl-C, or the consumer stopped: nothing more is computed
        completed.clear()
        if running:
            client.cancel(list(running.values()))


_END: Any = object()
