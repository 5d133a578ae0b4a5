"""The API server freezes its start-up heap once started, after collecting what was already
garbage; an app made inside another program (as the tests make it) freezes nothing."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app, create_server_app


class _Node:
    def __init__(self) -> None:
        self.self_ref = self  # a cycle: only the collector can free it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """No frozen objects before; none after. Automatic collections are off meanwhile, so
    only the app's own `gc.collect()` can free the test's garbage."""
    gc.unfreeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()  # give this process's objects back to the collector


@pytest.mark.usefixtures("unfrozen")
def test_the_server_app_freezes_its_start_up_heap_after_collecting_garbage() -> None:
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    with TestClient(create_server_app()) as client:
        assert client.get("/healthz").status_code == 200
        frozen = gc.get_freeze_count()
        assert gone() is None, "garbage made before the start was frozen, not collected"
    assert frozen > 10_000  # the modules, routes and settings of a started app


@pytest.mark.usefixtures("unfrozen")
def test_an_app_made_inside_another_program_freezes_nothing() -> None:
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
