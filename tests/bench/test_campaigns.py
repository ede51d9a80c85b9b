"""The campaigns under bench/ in a short, seeded form: the full runs are scripts (README)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def campaign_fuzz():
    import importlib
    import sys

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module("bench.campaign_fuzz")  # bench/ is a folder of scripts, not a package


def test_fuzzed_x12_files_each_get_a_verdict_and_nothing_crashes(campaign_fuzz):
    result = campaign_fuzz.run_campaign(files=250, seed=13)
    assert result.files == 250 == sum(result.verdicts.values())
    assert not result.crashes, result.crashes[0][1]
    # Both kinds of damage reach every stage: some files stop at the reader, some at the
    # validator, some get through to translation.
    assert {"not_x12", "rejected", "translated"} <= set(result.verdicts)


def test_structure_aware_mutation_keeps_the_file_readable_as_x12(campaign_fuzz):
    import random

    from amazon_bluecherry.edi.reader import NotX12Error, iter_segments

    def readable(data: bytes) -> bool:
        try:
            return bool(list(iter_segments(data)))
        except NotX12Error:
            return False

    rng = random.Random(1)
    seeds = campaign_fuzz.seed_files(0, rng)
    mutated = [campaign_fuzz.mutate_structure(seeds[0], rng) for _ in range(40)]
    assert len(set(mutated)) > 20, "the mutations differ"
    assert sum(map(readable, mutated)) >= 30, "structure-aware damage mostly keeps the envelope: it reaches the validator"
