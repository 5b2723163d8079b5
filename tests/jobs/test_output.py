"""Failures surface: a chunk that fails is logged, counted, bisected; a fault of the run stops it."""

import json
import logging

import pyarrow.parquet as pq
import pytest

from exposure.cli import main
from exposure.jobs import ChunkFailedError, JobFailedError, RunOptions, score_postings_file
from exposure.jobs.output import FAIL_FAST, Failures, score_chunk
from exposure.postings import PostingScorer
from exposure.postings import UnitClassifier
from helpers import labelled_postings, occupation_table, small_assigner, write_rows


class FlakyScorer(PostingScorer):
    """A scorer that raises for any batch holding a title with ``BOOM`` in it, or for every batch after
    ``fail_after`` batches (a fault of the run, such as memory running out)."""

    fail_after = None

    def score_prepared(self, titles, prepared):
        self.calls = getattr(self, "calls", 0) + 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise MemoryError("CUDA out of memory (simulated)")
        if any(t and "BOOM" in t for t in titles):
            raise RuntimeError("a posting this scorer cannot take")
        return super().score_prepared(titles, prepared)


@pytest.fixture
def flaky(model):
    return FlakyScorer(model, UnitClassifier.load(encoder=model.encoder), small_assigner(model.encoder),
                       occupation_scores=occupation_table(model.technologies))


def _rows(n, bad=()):
    rows = labelled_postings(n)
    for i in bad:
        rows[i]["title"] = "BOOM " + rows[i]["title"]
    return rows


def test_a_failing_chunk_is_logged_once_counted_and_bisected(tmp_path, flaky, caplog):
    write_rows(_rows(8, bad=(2, 5)), tmp_path / "in.parquet")
    caplog.set_level(logging.DEBUG, logger="exposure")
    summary = score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", RunOptions(chunk_size=8),
                                  scorer=flaky)
    status = pq.read_table(tmp_path / "out.parquet")["status"].to_pylist()
    assert [i for i, s in enumerate(status) if s == "error"] == [2, 5]
    assert all(s == "ok" for i, s in enumerate(status) if i not in (2, 5))
    assert summary["this_run"]["failed_chunks"] == 1 and summary["this_run"]["error_rows"] == 2
    assert summary["status"]["error"] == 2
    tracebacks = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(tracebacks) == 1 and "input rows 0-7" in tracebacks[0].getMessage()
    assert "a posting this scorer cannot take" in str(tracebacks[0].exc_info[1])
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("2 of 8 postings" in m and "2, 5" in m for m in warned)


def test_the_bisection_scores_every_good_posting_as_the_whole_chunk_would(tmp_path, flaky, model):
    rows = _rows(7, bad=(0,))
    titles, texts = [r["title"] for r in rows], [r["description"] for r in rows]
    failures = Failures()
    got = score_chunk(titles, texts, flaky, flaky.prepare(texts), failures)
    ref = PostingScorer(model, flaky.classifier, flaky.assigner, occupation_scores=occupation_table(
        model.technologies)).score(titles[1:], texts[1:])
    assert got.n_chars[0] == len(texts[0]) and got.top_duties[0] == []
    assert got.status[0] == "error" and got.status[1:] == ref.status
    assert got.exposure[1:] == pytest.approx(ref.exposure, abs=1e-5)
    assert [[c for c, _, _ in o] for o in got.occupations[1:]] == [[c for c, _, _ in o] for o in ref.occupations]
    assert got.abstained[1:] == ref.abstained and got.basis[1:] == ref.basis
    assert failures.as_dict() == {"failed_chunks": 1, "error_rows": 1}


def test_a_fault_of_the_run_stops_it_with_one_line_and_resume_goes_on(tmp_path, flaky, model, capsys, monkeypatch):
    write_rows(_rows(9), tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    flaky.fail_after = 1  # the first chunk is committed, then every call fails
    with pytest.raises(ChunkFailedError, match=r"input rows 3-5 failed for every posting tried.*MemoryError: CUDA "
                                               r"out of memory.*kept in .*out.parquet.parts.*--resume"):
        score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=3), scorer=flaky)
    assert sorted(p.name for p in (tmp_path / "out.parquet.parts").glob("part-*")) == ["part-00000.parquet"]
    assert not out.exists() and not out.with_name("out.parquet.lock").exists()
    # The same from the command line: rc 1, one line naming the cause.
    flaky.calls = 0
    monkeypatch.setattr(RunOptions, "build_scorer", lambda self, classifier=None, show_progress=False: flaky)
    args = ["score-postings", str(tmp_path / "in.parquet"), "-o", str(out), "--chunk-size", "3", "-q", "--resume",
            "--workers", "0"]
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after the logged traceback, once
    assert err.count("Traceback") == 1 and last.startswith("exposure score-postings: error: scoring the chunk")
    assert "MemoryError: CUDA out of memory" in last and "--resume" in last
    # Once the cause is fixed, --resume scores the rest.
    flaky.fail_after = None
    assert main(args) == 0
    t = pq.read_table(out)
    assert t["row"].to_pylist() == list(range(9)) and set(t["status"].to_pylist()) == {"ok"}


def test_a_run_whose_every_posting_fails_never_succeeds(tmp_path, flaky, monkeypatch, capsys):
    write_rows(_rows(3, bad=(0, 1, 2)), tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    monkeypatch.setattr(RunOptions, "build_scorer", lambda self, classifier=None, show_progress=False: flaky)
    # Chunks of one: each posting fails alone, which is not proof of a fault of the run until all have.
    args = ["score-postings", str(tmp_path / "in.parquet"), "-o", str(out), "--chunk-size", "1", "-q",
            "--workers", "0"]
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("Traceback") == 3  # one per failed chunk
    assert err.strip().splitlines()[-1].startswith("exposure score-postings: error: every one of the 3 postings "
                                                   "scored failed")
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text())
    assert summary["status"]["error"] == 3 and summary["this_run"]["error_rows"] == 3
    assert summary["this_run"]["failed_chunks"] == 3
    with pytest.raises(JobFailedError):
        score_postings_file(tmp_path / "in.parquet", tmp_path / "api.parquet", RunOptions(chunk_size=1),
                            scorer=flaky)


def test_a_chunk_failing_for_every_posting_tried_stops_early(flaky):
    flaky.fail_after = 0
    texts = [r["description"] for r in _rows(FAIL_FAST * 3)]
    calls = []
    real = flaky.score

    def counted(titles, texts):
        calls.append(len(texts))
        return real(titles, texts)

    flaky.score = counted
    with pytest.raises(ChunkFailedError, match="MemoryError"):
        score_chunk([None] * len(texts), texts, flaky, flaky.prepare(texts))
    assert calls.count(1) == FAIL_FAST  # then it stopped: no need to try the other 32 alone
