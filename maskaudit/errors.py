"""Errors the user can act on (exit 2) and the signals that stop a run (exit 128 + signal number)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class UsageError(ValueError):
    """Bad input or options: the message names the thing and what to do.

    A ValueError too, so callers of the Python API that caught ValueError keep working.
    """


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: raised from the signal handler so every `finally` still runs.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` in a scan swallows it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class OutputNotWritten(Exception):
    """An output file could not be written while the scan ran (a full disk, a file size limit): the output
    folder's problem, which the command names."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def written(action: Callable[[], T]) -> T:
    """``action()``, its OSError raised as OutputNotWritten: for the outputs a scan writes as it runs."""
    try:
        return action()
    except OSError as exc:
        raise OutputNotWritten(exc) from exc
