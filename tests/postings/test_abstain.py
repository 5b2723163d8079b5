"""PostingScorer and score-postings with a minimum occupation confidence: abstained rows, the column, the errors."""

import json

import numpy as np
import pytest

from exposure.cli import main
from exposure.postings import PostingScorer, UnitClassifier, posting_schema

from helpers import POSTINGS, help_text, labelled_postings, occupation_table, small_assigner, write_rows


def _postings(n):
    with open(POSTINGS / "postings.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()][:n]


@pytest.fixture(scope="module")
def parts(model, encoder):
    return UnitClassifier.load(encoder=encoder), small_assigner(encoder)


def test_scorer_abstains_below_min_soc_confidence(model, parts):
    classifier, assigner = parts
    rows = _postings(4)
    titles, texts = [r["title"] for r in rows], [r["text"] for r in rows]
    texts[3] = "We are an equal opportunity employer. Apply today on our careers page."  # no duties: fallback
    table = occupation_table(model.technologies)
    full = PostingScorer(model, classifier, assigner, occupation_scores=table).score(titles, texts)
    top = np.array([o[0][2] for o in full.occupations])
    assert full.abstained == [False] * 4 and full.status[3] == "no_duties_occupation_fallback"
    t = float(top[3]) + 1e-4  # just above the last posting's top confidence
    got = PostingScorer(model, classifier, assigner, occupation_scores=table, min_soc_confidence=t).score(titles, texts)
    assert got.abstained == [bool(c < t) for c in top] and got.abstained[3]
    assert got.status[3] == "no_duties" and np.isnan(got.exposure[3])
    out = got.to_arrow()
    assert out.schema == posting_schema(model.technologies) and out["soc_abstained"].to_pylist() == got.abstained
    for i, r in enumerate(out.to_pylist()):
        assert (r["soc_code_1"] is None) == got.abstained[i] and (r["soc_confidence_1"] is None) == got.abstained[i]
    none = PostingScorer(model, classifier, None, occupation_scores=table).score(titles[:1], texts[:1]).to_arrow()
    assert none["soc_abstained"].to_pylist() == [None]


@pytest.mark.parametrize("bad, error, message", [
    (1.2, ValueError, r"min_soc_confidence must be between 0 and 1 \(a confidence\), got 1.2"),
    ("high", TypeError, "min_soc_confidence must be a number between 0 and 1, got str 'high'"),
])
def test_scorer_min_soc_confidence_errors(model, parts, bad, error, message):
    with pytest.raises(error, match=message):
        PostingScorer(model, parts[0], parts[1], min_soc_confidence=bad)


def test_scorer_min_soc_confidence_needs_an_assigner(model, parts):
    with pytest.raises(ValueError, match="min_soc_confidence needs an assigner"):
        PostingScorer(model, parts[0], None, min_soc_confidence=0.5)


def test_cli_min_soc_confidence_errors(tmp_path, capsys):
    write_rows(labelled_postings(2), tmp_path / "in.csv")
    base = ["score-postings", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.parquet")]
    assert main(base + ["--min-soc-confidence", "85"]) == 2
    assert "--min-soc-confidence must be between 0 and 1 (a confidence), got 85.0" in capsys.readouterr().err
    assert main(base + ["--min-soc-confidence", "0.5", "--no-assign"]) == 2
    assert "--min-soc-confidence applies to the occupation assignment, which --no-assign turns off" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(base + ["--min-soc-confidence", "high"])
    assert "invalid float value: 'high'" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()
    assert "--min-soc-confidence" in help_text("score-postings", capsys)
