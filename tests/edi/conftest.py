"""Shared fixtures for the X12 engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Real files written by other people; several licences forbid copying them into the repo,
# so they are read from the shared folder beside the repository and skipped when absent.
CORPUS = REPO_ROOT.parent / "shared" / "edi_corpus" / "public"


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".edi", ".txt"))


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/edi_corpus/public is not present")
    return CORPUS
