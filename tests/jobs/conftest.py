"""Fixtures of the batch-job tests."""

import pytest

from exposure.postings import PostingScorer, UnitClassifier

from helpers import occupation_table, small_assigner


@pytest.fixture(scope="module")
def scorer(model):
    return PostingScorer(model, UnitClassifier.load(encoder=model.encoder), small_assigner(model.encoder),
                         occupation_scores=occupation_table(model.technologies))
