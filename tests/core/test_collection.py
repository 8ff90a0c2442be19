from __future__ import annotations

import gc
import threading

from maskaudit.collection import collection_paused


def test_the_collector_is_paused_inside_and_restored_when_the_last_thread_leaves() -> None:
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


def test_a_collector_off_before_stays_off_and_an_error_inside_restores_it() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:
        with collection_paused():
            raise KeyError("inside")
    except KeyError:
        pass
    assert gc.isenabled()
