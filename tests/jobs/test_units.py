"""What was counted: the per-unit output of score-postings (--units) and ``exposure explain``."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from exposure.cli import main
from exposure.jobs import ChunkFailedError, RunOptions, score_postings_file
from exposure.postings import PostingScorer, UnitClassifier
from exposure.postings.scorer import unit_schema
from helpers import labelled_postings, occupation_table, small_assigner, write_rows


def _check_units_match_postings(out_path, units_path):
    """Every scored posting's units are in the units file, in order, and agree with its row."""
    out = pq.read_table(out_path).to_pylist()
    units = pq.read_table(units_path).to_pylist()
    by_id = {}
    for u in units:
        by_id.setdefault(u["id"], []).append(u)
    for row in out:
        mine = by_id.pop(row["id"], [])
        assert [u["unit"] for u in mine] == list(range(row["n_units"]))
        assert all(u["row"] == row["row"] for u in mine)
        duties = [u for u in mine if u["label"] == "DUTY"]
        assert len(duties) == row["n_duties"]
        assert all(u["encoded"] for u in duties)
        assert all((u["exposure"] is None) == (u["label"] != "DUTY") for u in mine)
        if duties:
            assert np.mean([u["exposure"] for u in duties]) == pytest.approx(row["exposure"], abs=1e-5)
            best = max(duties, key=lambda u: u["exposure"])
            assert best["exposure"] == pytest.approx(row["top_duty_1_exposure"], abs=1e-6)
            assert best["capability"] == row["top_duty_1_capability"]
        assert all(0.0 <= u["probability"] <= 1.0 for u in mine)
    assert not by_id  # no unit of a posting that is not in the output
    return units


def test_the_units_file_holds_every_unit_of_every_scored_posting(tmp_path, scorer):
    rows = labelled_postings(9) + [{"id": "blank", "title": "x", "description": "  "},
                                   {"id": "none", "title": "x", "description": None}]
    write_rows(rows, tmp_path / "in.parquet")
    score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", RunOptions(chunk_size=4), scorer=scorer,
                        units=tmp_path / "units.parquet")
    units = _check_units_match_postings(tmp_path / "out.parquet", tmp_path / "units.parquet")
    assert {u["id"] for u in units} == {r["id"] for r in rows[:9]}
    assert {u["label"] for u in units} >= {"DUTY", "OTHER"}
    assert pq.read_schema(tmp_path / "units.parquet").names[2:] == unit_schema(scorer.model.technologies).names[1:]
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text())
    assert summary["this_run"]["units_file"]["rows"] == len(units)


def test_text_workers_give_the_same_units(tmp_path, scorer):
    write_rows(labelled_postings(6), tmp_path / "in.parquet")
    for workers in (0, 1):
        score_postings_file(tmp_path / "in.parquet", tmp_path / f"out{workers}.parquet", RunOptions(chunk_size=3),
                            scorer=scorer, units=tmp_path / f"units{workers}.parquet", workers=workers)
    a, b = (pq.read_table(tmp_path / f"units{w}.parquet").drop_columns(["probability"]) for w in (0, 1))
    assert a.to_pylist() == b.to_pylist()


class _StopsAfter(PostingScorer):
    """Fails every chunk after the first ``after`` (a fault of the run)."""

    after = 1

    def score_prepared(self, titles, prepared):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls > self.after:
            raise MemoryError("out of memory (simulated)")
        return super().score_prepared(titles, prepared)


def test_a_resumed_run_writes_the_same_units_file(tmp_path, model, scorer):
    write_rows(labelled_postings(8), tmp_path / "in.parquet")
    stops = _StopsAfter(model, UnitClassifier.load(encoder=model.encoder), small_assigner(model.encoder),
                        occupation_scores=occupation_table(model.technologies))
    opts = RunOptions(chunk_size=3)
    with pytest.raises(ChunkFailedError):
        score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", opts, scorer=stops,
                            units=tmp_path / "units.parquet")
    assert not (tmp_path / "units.parquet").exists()
    with pytest.raises(ValueError, match="per-unit output"):  # the earlier run wrote units: so must this one
        score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", opts, scorer=scorer, resume=True)
    score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", opts, scorer=scorer, resume=True,
                        units=tmp_path / "units.parquet")
    score_postings_file(tmp_path / "in.parquet", tmp_path / "fresh.parquet", opts, scorer=scorer,
                        units=tmp_path / "fresh_units.parquet")
    resumed = pq.read_table(tmp_path / "units.parquet").to_pylist()
    fresh = pq.read_table(tmp_path / "fresh_units.parquet").to_pylist()
    assert [(u["id"], u["unit"], u["label"]) for u in resumed] == [(u["id"], u["unit"], u["label"]) for u in fresh]
    _check_units_match_postings(tmp_path / "out.parquet", tmp_path / "units.parquet")


@pytest.mark.parametrize("units, engine, message", [
    ("units.csv", "local", "writes Parquet"),
    ("out.parquet", "local", "is the input, the output"),
    ("missing/units.parquet", "local", "does not exist"),
    ("units.parquet", "ray", "needs --engine local"),
])
def test_a_units_file_that_cannot_be_written_is_refused_before_scoring(tmp_path, units, engine, message):
    write_rows(labelled_postings(2), tmp_path / "in.parquet")
    with pytest.raises(ValueError, match=message):
        score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", units=tmp_path / units,
                            engine=engine)
    assert not (tmp_path / "out.parquet").exists()


def test_the_api_gives_units_only_when_asked(scorer):
    rows = labelled_postings(3)
    texts = [r["description"] for r in rows] + [None]
    plain = scorer.score([r["title"] for r in rows] + [None], texts)
    assert plain.units is None
    got = scorer.score([r["title"] for r in rows] + [None], texts, units=True)
    table = got.units.to_pylist()
    assert sorted({u["posting"] for u in table}) == [0, 1, 2]
    assert [sum(u["posting"] == i for u in table) for i in range(4)] == got.n_units.tolist()
    np.testing.assert_array_equal(plain.exposure, got.exposure)


def test_explain_prints_one_postings_units(tmp_path, capsys):
    rows = [{"id": 7, "title": "Delivery Driver",
             "description": "Duties:\n- Drive a cargo van to deliver packages to customers.\n- Scan packages at "
                            "each stop.\nWe offer dental insurance.\nWe are an equal opportunity employer."},
            {"id": 8, "title": "Cook", "description": "Prepare meals."}]
    write_rows(rows, tmp_path / "in.jsonl")
    args = ["explain", str(tmp_path / "in.jsonl"), "7", "--device", "cpu", "--dtype", "float32", "--no-assign", "-q"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Delivery Driver" in out and "Drive a cargo van to deliver packages to customers." in out
    assert "DUTY" in out and ("-> " in out or "no capability statement close enough" in out)
    assert main(args + ["--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == "7" and record["n_units"] == len(record["units"]) == 5
    assert [u["unit"] for u in record["units"]] == list(range(5))
    assert sum(u["label"] == "DUTY" for u in record["units"]) == record["n_duties"] >= 1
    assert main(["explain", str(tmp_path / "in.jsonl"), "9", "--device", "cpu", "--no-assign", "-q"]) == 2
    assert "no posting with id '9'" in capsys.readouterr().err
