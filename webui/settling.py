"""A web worker's lasting objects kept out of the garbage collector's way.

CPython's cyclic collector visits, in each full collection, every object that has lived long:
in a worker that is the modules, the app, the diagrams' specs, SQLAlchemy's compiled statements
and the caches — some 170,000 objects, 80–150 ms a visit. A page that makes many objects brings
one on every few requests (Ukeoversikt at 100,000 cases: every seventh, its 95th percentile
160 ms against a median of 53). ``gc.freeze`` moves what exists into a generation the collector
never visits; the objects are no less alive and are freed as before when nothing holds them,
unless they are in a reference cycle, which the collector then never sees. So a worker freezes
only what it keeps for its lifetime: once the app is loaded, and once more when its first
requests have filled the caches that live as long — each time after a full collection, so that
no garbage is frozen with it.

The young generation is collected after 7,000 new objects, not Python's 700. A step builds a
case's whole task tree and the ORM's rows; collected every 700, the collector ran several times
inside each request and passed what the request still held on to the next generation, to be
visited again there. Measured under the write load (two workers, 30 s): 0.66 s of the 28 s each
worker spent on the CPU went to the collector, 0.35 s with 7,000. Garbage in a reference cycle
waits a little longer for it; everything else is freed when nothing holds it, as always."""
from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

SETTLE_AGAIN_AFTER = 50  # requests: by then every page a worker serves has filled its caches
YOUNG_OBJECTS = 7_000  # new objects between two collections of the young generation (Python: 700)


def settle() -> None:
    """What this process holds now, out of the collector's sight for good."""
    gc.collect()
    gc.freeze()


def settled(app: Flask) -> Flask:
    """``app`` as a worker serves it: settled now, and again after its first requests. (The one
    request that settles again takes a full collection longer, once in the worker's life.)"""
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    settle()
    inner = app.wsgi_app
    served = itertools.count(1)  # its next() is atomic under the GIL: the worker's threads share it

    def wsgi_app(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = inner(environ, start_response)
        if next(served) == SETTLE_AGAIN_AFTER:
            settle()
        return response

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    return app
