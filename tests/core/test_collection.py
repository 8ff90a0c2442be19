from __future__ import annotations

import gc
import threading

import pytest

from maskaudit import collection
from maskaudit.collection import collection_paused


def test_the_collector_is_paused_inside_and_restored_when_the_last_thread_leaves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collection, "MAX_PAUSE_S", 3600.0)
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with collection_paused():
            inside.set()
            leave.wait(10)
        seen.append(gc.isenabled())

    thread = threading.Thread(target=other)
    with collection_paused():
        thread.start()
        assert inside.wait(10)
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread is still inside
    leave.set()
    thread.join(10)
    assert seen == [True] and gc.isenabled()


def test_a_collector_off_before_stays_off_and_a_nested_pause_and_an_error_inside_restore_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collection, "MAX_PAUSE_S", 3600.0)
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:
        with collection_paused():
            with collection_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # still inside the outer pause
            raise KeyError("inside")
    except KeyError:
        pass
    assert gc.isenabled()


def test_a_pause_overlapping_threads_keep_is_lifted_after_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collection, "MAX_PAUSE_S", 0.0)
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collection_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    try:
        with collection_paused():
            thread.start()
            assert inside.wait(10)
        assert gc.isenabled()  # the other thread is inside, but the pause has lasted its limit
        with collection_paused():  # a new pause waits until no thread is inside
            assert gc.isenabled()
    finally:
        leave.set()
        thread.join(10)
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
