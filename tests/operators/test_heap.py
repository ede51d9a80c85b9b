"""The collector's settings during a bulk step come back afterwards, also when it fails."""

from __future__ import annotations

import gc

import pytest

from amazon_bluecherry.operators.heap import BULK_GC_THRESHOLD, bulk_step


def test_a_bulk_step_gives_the_collector_back_as_it_found_it_even_when_it_fails():
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError), bulk_step():
        assert gc.get_threshold() == BULK_GC_THRESHOLD
        assert gc.get_freeze_count() > frozen, "what existed before the step is out of the collector's passes"
        raise RuntimeError("the step failed")
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)
