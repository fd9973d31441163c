"""The sweeper ``kap12 serve`` runs beside its web workers, kept running.

It is a process of its own (``kap12 timers``): a thread in the gunicorn master would be forked
into every worker. A sweeper that died — killed by the kernel for memory, by a mistaken
``kill`` — went unnoticed: nothing logged it, ``/readyz`` stayed ready, and deadlines stopped
firing (an operations review killed it and waited). The keeper, a thread of the master, looks
every second; a sweeper gone is logged as an error and started again, after a pause that grows
while it keeps dying at once (a database that refuses it) and starts short again once it has
run a while. ``kap12_sweeper_last_round_timestamp_seconds`` in ``/metrics`` tells a monitor
when a sweeper on the machine last finished a round, whatever the reason it stopped.

gunicorn's master reaps every child that exits, the sweeper too; ``Popen.poll`` then says it
exited (with 0: the real code is gone with the reaping). When the master is told to stop, it
tells the keeper first (``serving``), so a sweeper stopped by the same signal stays stopped."""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

log = logging.getLogger("kap12.web")

LOOK_EVERY = 1.0
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 60.0
RAN_A_WHILE = 60.0  # a sweeper that ran this long and then died starts again at once


def start_sweeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "webui.cli", "timers"], stdout=subprocess.DEVNULL)


class SweeperKeeper(threading.Thread):
    def __init__(self, grace: float) -> None:
        super().__init__(name="kap12-sweeper-keeper", daemon=True)
        self.grace = grace
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.process = start_sweeper()
        self._since = time.monotonic()

    def run(self) -> None:
        pause = FIRST_PAUSE
        while not self._stopping.wait(LOOK_EVERY):
            with self._lock:
                if self._stopping.is_set() or self.process.poll() is None:
                    continue
                ran = time.monotonic() - self._since
                pause = FIRST_PAUSE if ran >= RAN_A_WHILE else pause
                # No exit code: gunicorn's master reaped the process first, and Popen says 0.
                log.error("the sweeper (pid %d) stopped after %.0f s: deadlines do not fire until it runs; "
                          "starting it again in %.0f s", self.process.pid, ran, pause)
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.process = start_sweeper()
                self._since = time.monotonic()
            pause = min(pause * 2, LONGEST_PAUSE)

    def winding_down(self) -> None:
        """The server is stopping: a sweeper that stops now is not started again. (A stop signal
        sent to every process of the server — systemd's default, Ctrl+C — reaches the sweeper
        too, while the web workers still answer their last requests.) Safe in a signal handler."""
        self._stopping.set()

    def stop(self) -> None:
        """Stop the sweeper gracefully (it finishes the case it is firing), and keep it stopped."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(self.grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
