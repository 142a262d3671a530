"""A serving process sets its start-up heap aside from the collector (app.server.heap)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.server.heap import set_start_up_heap_aside


class _Node:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture(name="unfrozen")
def unfrozen_fixture() -> Iterator[None]:
    # The test process must not keep a frozen heap: later tests' garbage would stay.
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_what_start_up_keeps_is_frozen_and_its_garbage_is_collected_first() -> None:
    kept = [[index] for index in range(20_000)]
    dropped = _Node()
    garbage = weakref.ref(dropped)
    del dropped
    assert garbage() is not None  # a cycle: only the collector frees it
    set_start_up_heap_aside()
    # Collected, not frozen for the process's life.
    assert garbage() is None
    # What is alive is out of every generation the collector walks.
    assert gc.get_freeze_count() >= len(kept)
    walked = {id(item) for item in gc.get_objects()}
    assert id(kept) not in walked and id(kept[0]) not in walked
    # A full collection then walks only what was made since.
    assert len(gc.get_objects()) < gc.get_freeze_count() / 10
