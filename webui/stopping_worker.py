"""The web workers' class: gunicorn's gthread worker, which on its way out (SIGTERM, or the old
workers of a SIGHUP reload) also lets go of the listening socket.

gunicorn's own worker stops taking connections when told to stop, but keeps its copy of the
listening socket open until it exits, up to the graceful timeout later. The kernel meanwhile
goes on accepting connections into the socket's queue, and resets them all when the last worker
exits: a client that connected a second after SIGTERM waited and got a reset, not an answer
(measured: reset four seconds later; the README said a tenth of a second). This worker first
takes the connections already waiting for it, then closes its copy: once the master (which closes
its own on SIGTERM, not on SIGHUP) and every stopping worker have, a new connection is refused at
once, and a load balancer tries another machine. After a reload the master and the new workers
keep the socket open, and nothing is refused."""
from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class StoppingThreadWorker(ThreadWorker):
    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled or self.alive:
            super().set_accept_enabled(enabled)
            return
        self._take_waiting()
        super().set_accept_enabled(False)
        for listener in self.sockets:
            listener.close()

    def _take_waiting(self) -> None:
        """Accept what the kernel queued for the socket before it is closed: those clients
        connected while the server still served, and are answered."""
        for listener in self.sockets:
            while True:
                taken = self.nr_conns
                self.accept(listener)  # non-blocking: nothing waiting ends the loop
                if self.nr_conns == taken:
                    break
