"""`relevo serve --workers N`: N processes answering on one listening socket, kept running by their parent.

Each worker is a fresh interpreter (multiprocessing's spawn: none of the parent's threads, locks or
connections come along) with its own gateway, decision log, connection pool, rollout controller
and monitors' schedule; the leases in the store decide which worker's controller and monitors
act, exactly as between replicas on several hosts. The kernel gives each new connection to
whichever worker accepts it first.

A worker that dies after it answered (killed, out of memory) is started again at once: every
decision it acknowledged is committed already, and its leases pass on when they lapse. A worker
that fails before it answers (a model that does not load, the store away) would fail the same
way again: the parent then stops the others and exits 1 naming it. SIGTERM or SIGINT to the
parent stops every worker as one `relevo serve` stops; a worker whose parent is gone stops itself.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Callable

STOP_TIMEOUT_S = 80.0  # a worker's own stop takes up to 10 + 40 + 10 + 5 s (docs/deployment.md, systemd)
ORPHAN_CHECK_S = 1.0


def stop_when_orphaned(parent: int) -> None:
    """In a worker: stop this process (SIGTERM, a clean stop) once its parent is gone."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_S)
        os.kill(os.getpid(), signal.SIGTERM)

    # SIGINT reaches every process of a terminal's foreground group: the parent answers it by
    # stopping the workers, so a worker still starting need not die of it with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=watch, name="relevo-parent-watch", daemon=True).start()


def _ended(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


@dataclass
class _Worker:
    number: int
    process: BaseProcess
    ready: Connection  # the parent's end: the worker sends its URL once it answers
    url: str | None = None
    silent: bool = False  # its end closed without a word: it died starting




def run_workers(count: int, target: Callable[..., None], args: tuple[Any, ...],
                started: Callable[[str, list[int]], None]) -> str | None:
    """Run target(number, *args, ready) in count spawned workers until SIGTERM/SIGINT; started(url, pids)
    once every worker answers. Returns None after a clean stop, else what went wrong (naming the worker)."""
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def launch(number: int) -> _Worker:
        ours, theirs = spawn.Pipe(duplex=False)
        process = spawn.Process(target=target, args=(number, *args, theirs), name=f"relevo-worker-{number}")
        process.start()
        theirs.close()
        return _Worker(number, process, ours)

    workers = [launch(number) for number in range(1, count + 1)]
    failure: str | None = None
    announced = False
    try:
        while not stop.is_set() and failure is None:
            waiting = ([w.ready for w in workers if w.url is None and not w.silent]
                       + [w.process.sentinel for w in workers])
            for event in wait(waiting, timeout=0.5):
                worker = next((w for w in workers if event in (w.ready, w.process.sentinel)), None)
                if worker is None:
                    continue
                if event is worker.ready:
                    try:
                        worker.url = worker.ready.recv()
                    except EOFError:  # it died before answering: its sentinel tells how
                        worker.silent = True
                        continue
                    if announced:
                        print(f"relevo serve: worker {worker.number} answers again (pid {worker.process.pid})",
                              file=sys.stderr, flush=True)
                    continue
                worker.process.join()
                if worker.url is None:
                    failure = (f"relevo serve worker {worker.number} (pid {worker.process.pid}) "
                               f"{_ended(worker.process)} before it answered; the other workers were stopped")
                    break
                print(f"relevo serve: worker {worker.number} (pid {worker.process.pid}) {_ended(worker.process)}; "
                      f"starting it again", file=sys.stderr, flush=True)
                worker.ready.close()
                workers[workers.index(worker)] = launch(worker.number)
            if not announced and all(w.url is not None for w in workers):
                announced = True
                started(str(workers[0].url), [int(w.process.pid or 0) for w in workers])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        unclean = _stop_all(workers)
    if failure is None and unclean:
        failure = "; ".join(unclean)
    return failure


def _stop_all(workers: list[_Worker]) -> list[str]:
    """SIGTERM every worker and wait for each; what did not stop cleanly, one phrase per worker."""
    for worker in workers:
        if worker.process.is_alive():
            os.kill(int(worker.process.pid or 0), signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    unclean = []
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
            unclean.append(f"worker {worker.number} (pid {worker.process.pid}) did not stop within "
                           f"{STOP_TIMEOUT_S:.0f} s and was killed")
        elif worker.process.exitcode != 0 and worker.url is not None:
            unclean.append(f"worker {worker.number} (pid {worker.process.pid}) {_ended(worker.process)} "
                           f"while stopping")
        worker.ready.close()
    return unclean
