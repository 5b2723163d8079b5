"""Fixtures of the posting tests."""

import pytest

from helpers import generated_postings, labelled_rows


@pytest.fixture(scope="session")
def front_end_texts():
    """The labelled postings and 300 generated postings of each style (HTML, markdown, bullets, prose, unicode)."""
    texts = [p["text"] for p in labelled_rows()]
    for style in ("realistic", "templated"):
        texts += [p["description"] for p in generated_postings(300, seed=0, style=style)]
    return texts
