"""The job runner: a named queue runs its jobs one at a time in order; results reach the GUI thread."""

from __future__ import annotations

import threading
import time

from pytestqt.qtbot import QtBot

from vfiodeck.gui.jobs import Jobs


def test_a_queue_runs_its_jobs_one_at_a_time_in_order(qtbot: QtBot) -> None:
    jobs = Jobs()
    running = 0
    overlap = False
    order: list[int] = []
    lock = threading.Lock()

    def job(n: int) -> int:
        nonlocal running, overlap
        with lock:
            running += 1
            overlap = overlap or running > 1
        time.sleep(0.01)  # long enough for a second thread to start, if the queue allowed one
        with lock:
            running -= 1
        return n

    for n in range(8):
        jobs.run(lambda n=n: job(n), order.append, queue="qemu:///system")
    qtbot.waitUntil(lambda: len(order) == 8)
    assert order == list(range(8))
    assert not overlap
    assert jobs.wait()


def test_results_and_failures_come_back_on_the_gui_thread(qtbot: QtBot) -> None:
    jobs = Jobs()
    seen: list[tuple[str, bool]] = []
    worker: list[bool] = []

    def work() -> int:
        worker.append(threading.current_thread() is threading.main_thread())
        return 1

    def fail() -> None:
        raise ValueError("refused")

    jobs.run(work, lambda _r: seen.append(("done", threading.current_thread() is threading.main_thread())))
    jobs.run(
        fail,
        on_failed=lambda err: seen.append((str(err), threading.current_thread() is threading.main_thread())),
        queue="a",
    )
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert sorted(seen) == [("done", True), ("refused", True)]
    assert worker == [False]
    assert jobs.busy == 0
