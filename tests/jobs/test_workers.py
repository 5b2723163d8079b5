"""exposure.jobs.workers: the text work of the next chunks in spawned processes: the same rows, no torch, worker
failures that stop the run with one line."""

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from exposure.jobs import RunOptions, score_postings_file

from helpers import GERMAN, ROOT, child_pids, killable_run, labelled_postings, write_rows


_UNGUARDED_SCRIPT = """
from exposure.jobs.workers import TextWorkers
from exposure.postings import UnitClassifier

with TextWorkers(UnitClassifier.load(), workers=1) as pool:  # no `if __name__ == "__main__":`
    print(list(pool.map([("chunk", ["Duties:\\\\n- Load trucks"])])))
"""


@pytest.mark.slow
def test_text_workers_give_the_same_rows(tmp_path, scorer):
    rows = labelled_postings(8) + [{"id": "x", "title": None, "description": None},
                                   {"id": "y", "title": "Fahrer", "description": GERMAN},
                                   {"id": "x", "title": "again", "description": "Duplicate id."}]
    write_rows(rows, tmp_path / "in.jsonl")
    ref = score_postings_file(tmp_path / "in.jsonl", tmp_path / "w0.parquet", RunOptions(chunk_size=3), scorer=scorer)
    got = score_postings_file(tmp_path / "in.jsonl", tmp_path / "w2.parquet", RunOptions(chunk_size=3), scorer=scorer,
                              workers=2)
    assert got["this_run"]["workers"] == 2 and ref["this_run"]["workers"] == 0
    assert 0 < got["this_run"]["worker_peak_rss_mb"] < 1536 and "worker_peak_rss_mb" not in ref["this_run"]
    # where the time went: disjoint parts of the run, the text work in this process only without workers
    from exposure.postings.scorer import SCORING_STEPS

    for run in (ref, got):
        steps = run["this_run"]["seconds_by_step"]
        assert list(steps) == ["read_and_wait", *SCORING_STEPS, "write"] and min(steps.values()) >= 0
        assert steps["write"] > 0
        assert sum(steps.values()) <= run["this_run"]["seconds"] + 0.005 + 0.0005 * len(steps)
    assert ref["this_run"]["seconds_by_step"]["text"] > 0 and got["this_run"]["seconds_by_step"]["text"] == 0
    assert got["status"] == ref["status"] and got["rejected"] == ref["rejected"]
    assert pq.read_table(tmp_path / "w2.parquet").equals(pq.read_table(tmp_path / "w0.parquet"))
    from exposure.io import read_provenance

    record = read_provenance(tmp_path / "w2.parquet")
    assert record["command"] == "score-postings" and record["options"]["assign"] is True
    assert record["fingerprint"] == scorer.model.fingerprint() and record["mode"] == "calibrated"

def test_text_workers_start_before_the_model_loads(tmp_path, scorer, monkeypatch):
    from exposure.jobs.local import BatchJob

    write_rows(labelled_postings(8), tmp_path / "in.jsonl")
    ref = score_postings_file(tmp_path / "in.jsonl", tmp_path / "ref.parquet", RunOptions(chunk_size=3), scorer=scorer)
    events = []
    stream = BatchJob._text_stream

    def text_stream(self, *args):
        events.append("text workers")
        return stream(self, *args)

    def build_scorer(self, classifier=None, show_progress=False):
        events.append("model")
        return scorer

    monkeypatch.setattr(BatchJob, "_text_stream", text_stream)
    monkeypatch.setattr(RunOptions, "build_scorer", build_scorer)
    got = score_postings_file(tmp_path / "in.jsonl", tmp_path / "got.parquet", RunOptions(chunk_size=3), workers=1)
    assert events == ["text workers", "model"]  # the workers were at work while the model loaded, and kept on
    assert got["this_run"]["workers"] == 1 and got["status"] == ref["status"]
    assert pq.read_table(tmp_path / "got.parquet").equals(pq.read_table(tmp_path / "ref.parquet"))
    # A classifier that keeps other units gets workers of its own: the rows are still the scorer's.
    other = copy.copy(scorer.classifier)
    other.threshold = other.threshold + 0.01
    events.clear()
    monkeypatch.setattr(RunOptions, "build_scorer", lambda self, classifier=None, show_progress=False:
                        (events.append("model"), copy.copy(scorer))[1])
    monkeypatch.setattr(type(scorer.classifier), "load", classmethod(lambda cls, path=None, encoder=None: other))
    got = score_postings_file(tmp_path / "in.jsonl", tmp_path / "other.parquet", RunOptions(chunk_size=3), workers=1)
    assert events == ["text workers", "model", "text workers"]
    assert pq.read_table(tmp_path / "other.parquet").equals(pq.read_table(tmp_path / "ref.parquet"))

def _modules_loaded(names):
    import sys

    return [n for n in names if n in sys.modules]


@pytest.mark.slow
def test_text_workers_never_load_torch(scorer):
    from exposure.jobs import workers as workers_module

    with workers_module.TextWorkers(scorer.classifier, workers=1) as pool:
        [(_, prepared)] = list(pool.map([("chunk", ["Duties:\n- Load trucks\n- Count stock"])]))
        assert prepared.kept == [["Load trucks", "Count stock"]]
        assert pool._pool.submit(_modules_loaded, ["torch", "transformers", "exposure.postings.frontend"]).result() \
            == ["exposure.postings.frontend"]
    with pytest.raises(ValueError, match="workers must be >= 0"):
        workers_module.TextWorkers(scorer.classifier, workers=-1)


def test_a_script_without_a_main_guard_gets_an_error_not_a_hang(tmp_path):
    # "spawn" runs the script again in the worker, where starting the pool fails; the caller used to wait for ever
    # on the worker's start-up data.
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "WorkerError: a text worker process ended before its work was done (exit status 1)." in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr.splitlines()[-1]


@pytest.mark.slow
def test_text_workers_that_never_started_leave_no_thread_behind(scorer):
    import threading

    from exposure.jobs.workers import TextWorkers

    with TextWorkers(scorer.classifier, workers=3) as pool:  # one text: one worker starts, two copies stay queued
        [(_, prepared)] = list(pool.map([("chunk", ["Duties:\n- Load trucks"])]))
        assert len(pool._pool._processes) == 1 and prepared.kept == [["Load trucks"]]
    deadline = time.time() + 10
    while any(t.name == "QueueFeederThread" for t in threading.enumerate()) and time.time() < deadline:
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "QueueFeederThread"]


def test_a_killed_text_worker_stops_the_pool_with_an_error(scorer):
    from exposure.jobs.workers import TextWorkers, WorkerError

    chunks = [(i, ["Duties:\n- Load trucks\n- Count stock"] * 50) for i in range(5)]
    with TextWorkers(scorer.classifier, workers=2) as pool:
        stream = pool.map(chunks)  # the first three chunks are submitted: both workers start
        worker, _ = pool._pool._processes.values()
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(30)
        # The pool stops the other worker with SIGTERM: only how the first one ended is news.
        with pytest.raises(WorkerError, match=r"ended before its work was done \(killed by SIGKILL\)\."):
            list(stream)


@pytest.mark.slow
def test_cli_a_killed_text_worker_is_one_line_and_resumable(tmp_path, model):
    _, cmd, env, out = killable_run(tmp_path)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, worker = time.time() + 120, None
    while worker is None and proc.poll() is None and time.time() < deadline:  # the worker starts before the model
        worker = next((pid for pid in child_pids(proc.pid) if b"spawn_main" in _cmdline(pid)), None)
        time.sleep(0.02)
    assert worker is not None, proc.communicate()[1][-2000:]
    os.kill(worker, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and not out.exists()
    assert err.strip().splitlines()[-1] == (
        "exposure score-postings: error: a text worker process ended before its work was done (killed by SIGKILL); "
        "if memory ran out, use fewer --workers or a smaller --chunk-size (--workers 0: the text work in this "
        f"process). The parts committed so far are kept in {out}.parts: rerun with --resume to go on")
    done = subprocess.run(cmd + ["--resume"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert pq.read_table(out)["row"].to_pylist() == list(range(300))


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
