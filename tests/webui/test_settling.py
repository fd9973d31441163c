"""A worker's lasting objects out of the garbage collector's way (webui/settling.py): frozen once
the app is loaded and again after its first requests, never with garbage among them."""
from __future__ import annotations

import gc
import weakref

import pytest
from flask import Flask

from webui import settling


class _Node:
    """A thing that can be in a reference cycle and be watched for going away."""

    other: object = None


@pytest.fixture
def thawed():
    """This test process's objects are back in the collector's sight afterwards, collected as
    often as before."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_a_worker_freezes_what_it_holds_once_loaded_and_again_after_its_first_requests(thawed, monkeypatch):
    monkeypatch.setattr(settling, "SETTLE_AGAIN_AFTER", 3)
    freezes: list[int] = []  # the requests served before each freeze
    served = [0]
    freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (freezes.append(served[0]), freeze()))
    app = Flask(__name__)
    filled: list[object] = []

    @app.get("/")
    def page():
        cache = [object() for _ in range(10)]  # what the first requests keep
        filled.append(cache)
        return "ok"

    settling.settled(app)
    assert freezes == [0] and gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == settling.YOUNG_OBJECTS
    client = app.test_client()
    for request_number in range(1, 9):
        served[0] = request_number
        assert client.get("/").text == "ok"
    assert freezes == [0, 3]  # once loaded, after the third request, and never again
    # The first requests' caches are frozen (the collector lists only what it still visits).
    visited = {id(o) for o in gc.get_objects()}
    assert id(filled[0]) not in visited and id(filled[-1]) in visited


def test_no_garbage_is_frozen(thawed):
    # A reference cycle nothing holds any more: only the collector frees it, and frozen, never.
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    watched = weakref.ref(first)
    gc.disable()  # so that it is still there when settling begins
    try:
        del first, second
        assert watched() is not None
        settling.settled(Flask(__name__))
    finally:
        gc.enable()
    assert watched() is None
