"""exposure.jobs.local and `exposure score-postings`: formats, bad rows, duplicate ids, resume after kill -9."""

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from exposure.jobs import REJECTED_STATUSES, RunOptions, score_postings_file
from exposure.jobs import output as output_module
from exposure.cli import main
from exposure.postings import PostingScorer
from exposure.postings import UnitClassifier

from helpers import (GERMAN, POSTINGS, ROOT, cli_command, help_text, labelled_postings, occupation_table,
                     repeated_postings, small_assigner, write_rows)

DATA = POSTINGS










@pytest.fixture(scope="module")
def scorer(model):
    return PostingScorer(model, UnitClassifier.load(encoder=model.encoder), small_assigner(model.encoder),
                         occupation_scores=occupation_table(model.technologies))


def test_parquet_csv_and_jsonl_inputs_give_the_same_rows(tmp_path, scorer):
    rows = labelled_postings(6)
    out = {}
    for ext in (".parquet", ".csv", ".jsonl"):
        write_rows(rows, tmp_path / f"in{ext}")
        summary = score_postings_file(tmp_path / f"in{ext}", tmp_path / f"out{ext[1:]}.parquet",
                                      RunOptions(chunk_size=4), scorer=scorer)
        assert summary["rows"] == summary["rows_written"] == 6 and summary["status"]["ok"] == 6
        assert not (tmp_path / f"out{ext[1:]}.parquet.parts").exists()
        out[ext] = pq.read_table(tmp_path / f"out{ext[1:]}.parquet")
    ref = out[".parquet"]
    assert ref["id"].to_pylist() == [r["id"] for r in rows] and ref["row"].to_pylist() == list(range(6))
    assert ref.column_names[:4] == ["id", "row", "title", "status"] and ref["soc_code_1"].null_count == 0
    for t in out.values():
        assert t["id"].to_pylist() == ref["id"].to_pylist()
        np.testing.assert_allclose(t["exposure"].to_numpy(), ref["exposure"].to_numpy(), atol=1e-5)
    summary = json.loads((tmp_path / "outjsonl.parquet.summary.json").read_text())
    assert summary["this_run"]["cache"]["hit_rate"] > 0  # the scorer's cache was warm from the first file
    assert 0 < summary["this_run"]["prefilter_kept_share"] < 1


def test_bad_rows_and_duplicate_ids_never_stop_the_batch(tmp_path, scorer):
    good = labelled_postings(3)
    lines = [json.dumps(r) for r in good]
    lines += [
        json.dumps({"id": good[0]["id"], "title": "again", "description": good[1]["description"]}),  # repeat
        json.dumps({"id": None, "title": "no id", "description": good[2]["description"]}),
        "{not json",
        json.dumps({"id": 7, "title": "number as text", "description": 12345}),
        json.dumps({"id": "7", "title": "same id as a string", "description": "x"}),
        json.dumps({"id": "e", "title": "Empty", "description": ""}),
        json.dumps({"id": "n", "title": None, "description": None}),
        json.dumps({"id": "de", "title": "Planer", "description": GERMAN}),
        json.dumps({"id": "eeo", "title": "Registered Nurse", "description": "We are an equal opportunity employer."}),
        json.dumps({"id": "big", "title": "Nurse", "description": good[0]["description"] + " filler." * 20_000}),
    ]
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = score_postings_file(src, tmp_path / "bad.parquet", RunOptions(chunk_size=5), scorer=scorer)
    out = pq.read_table(tmp_path / "bad.parquet").to_pylist()
    ids = [r["id"] for r in out]
    assert len(ids) == len(set(ids)) == 9  # one row per distinct id
    status = {r["id"]: r["status"] for r in out}
    assert status["7"] == "not_text" and status["e"] == "empty" and status["n"] == "empty"
    assert status["de"] == "non_english" and status["eeo"] == "no_duties_occupation_fallback"
    assert status["big"] == "truncated" and status[good[0]["id"]] == "ok"
    by_id = {r["id"]: r for r in out}
    assert by_id["big"]["n_chars"] > 100_000 and by_id["7"]["exposure"] is None
    assert by_id[good[0]["id"]]["title"] == good[0]["title"]  # the first occurrence wins
    rejected = pq.read_table(tmp_path / "bad.parquet.rejected.parquet").to_pylist()
    assert sorted(r["status"] for r in rejected) == ["duplicate_id", "duplicate_id", "invalid_json", "missing_id"]
    assert {r["row"] for r in rejected} == {3, 4, 5, 7}
    assert summary["rows"] == 13 and summary["rows_written"] == 9
    assert summary["rejected"] == {"duplicate_id": 2, "missing_id": 1, "invalid_json": 1}


def test_a_crash_during_the_final_combine_is_resumed(tmp_path, scorer, monkeypatch):
    rows = labelled_postings(5)
    rows.append(dict(rows[0]))  # a duplicate id
    write_rows(rows, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    real = os.replace

    def crash(src, dst):
        if Path(dst) == out:
            raise KeyboardInterrupt("killed while combining")
        return real(src, dst)

    monkeypatch.setattr(output_module.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer)
    monkeypatch.setattr(output_module.os, "replace", real)
    assert not out.exists() and len(list((tmp_path / "out.parquet.parts").glob("part-*.parquet"))) == 3
    with pytest.raises(ValueError, match="--resume"):
        score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer)
    summary = score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer, resume=True)
    t = pq.read_table(out)
    assert sorted(t["id"].to_pylist()) == sorted({r["id"] for r in rows}) and summary["rows"] == 6
    assert summary["this_run"]["postings_scored"] == 0 and summary["rejected"]["duplicate_id"] == 1
    assert not (tmp_path / "out.parquet.parts").exists()
    # Resuming a finished run does nothing.
    assert score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer,
                               resume=True)["rows_written"] == 5


def test_cli_errors_name_what_is_wrong(tmp_path, capsys):
    write_rows(labelled_postings(2), tmp_path / "in.jsonl")
    write_rows(labelled_postings(2), tmp_path / "in.csv")
    for src in ("in.jsonl", "in.csv"):
        assert main(["score-postings", str(tmp_path / src), "-o", str(tmp_path / "o.parquet"),
                     "--text-column", "body", "--id-column", "key"]) == 2
        err = capsys.readouterr().err
        assert "'key', 'body'" in err and "id, title, description" in err
    assert main(["score-postings", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "writes Parquet" in capsys.readouterr().err
    (tmp_path / "o.parquet").write_bytes(b"old")
    assert main(["score-postings", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.parquet")]) == 2
    assert "pass --resume" in capsys.readouterr().err


def test_help_lists_every_option(capsys):
    text = help_text("score-postings", capsys)
    for opt in ("--output", "--id-column", "--title-column", "--text-column", "--device", "--dtype", "--batch-size",
                "--chunk-size", "--resume", "--cache-size", "--max-chars", "--no-assign", "--capabilities", "--quiet",
                "--workers"):
        assert opt in text, opt
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "score-postings" in capsys.readouterr().out


def _children(pid: int) -> list:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                out.append(int(status.parent.name))
        except OSError:
            pass
    return out


def test_kill_9_then_resume_gives_one_row_per_id(tmp_path, model):
    # 300 generated postings: 6 distinct texts under 300 ids, so that a run takes seconds, not minutes.
    rows = repeated_postings(300, 6, seed=5)
    write_rows(rows, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    cmd, env = cli_command(tmp_path / "in.parquet", out, "--chunk-size", "10", "--workers", "1")
    log = open(tmp_path / "killed.log", "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
    first = out.with_name("out.parquet.parts") / "part-00000.parquet"
    deadline = time.time() + 120
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-2000:]
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    log.close()
    assert not out.exists()
    # The text workers go with the job that was killed.
    deadline = time.time() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    done = subprocess.run(cmd + ["--resume"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text())
    assert summary["this_run"]["resumed_from_row"] >= 10 and summary["rows"] == 300
    t = pq.read_table(out)
    assert sorted(t["id"].to_pylist()) == [r["id"] for r in rows] and t["row"].to_pylist() == list(range(300))
    # The same scores as an uninterrupted run (here in-process, on the same model).
    ref = PostingScorer(model, UnitClassifier.load(encoder=model.encoder)).score(
        [r["title"] for r in rows[:6]], [r["description"] for r in rows[:6]])
    got = t.to_pylist()
    for i, r in enumerate(got):
        assert r["status"] == ref.status[i % 6] == "ok"
        assert r["exposure"] == pytest.approx(float(ref.exposure[i % 6]), abs=1e-5)
        assert r["top_duty_1"] == ref.top_duties[i % 6][0]["text"]
    assert not set(REJECTED_STATUSES) & set(t["status"].to_pylist())


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


def test_text_workers_never_load_torch(scorer):
    from exposure.jobs import workers as workers_module

    with workers_module.TextWorkers(scorer.classifier, workers=1) as pool:
        [(_, prepared)] = list(pool.map([("chunk", ["Duties:\n- Load trucks\n- Count stock"])]))
        assert prepared.kept == [["Load trucks", "Count stock"]]
        assert pool._pool.submit(_modules_loaded, ["torch", "transformers", "exposure.postings.frontend"]).result() \
            == ["exposure.postings.frontend"]
    with pytest.raises(ValueError, match="workers must be >= 0"):
        workers_module.TextWorkers(scorer.classifier, workers=-1)


_UNGUARDED_SCRIPT = """
from exposure.jobs.workers import TextWorkers
from exposure.postings import UnitClassifier

with TextWorkers(UnitClassifier.load(), workers=1) as pool:  # no `if __name__ == "__main__":`
    print(list(pool.map([("chunk", ["Duties:\\\\n- Load trucks"])])))
"""


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


def test_cli_a_killed_text_worker_is_one_line_and_resumable(tmp_path, model):
    rows = repeated_postings(300, 6, seed=5)
    write_rows(rows, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    cmd, env = cli_command(tmp_path / "in.parquet", out, "--chunk-size", "10", "--workers", "1")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, worker = time.time() + 120, None
    while worker is None and proc.poll() is None and time.time() < deadline:  # the worker starts before the model
        worker = next((pid for pid in _children(proc.pid) if b"spawn_main" in _cmdline(pid)), None)
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


def _stopped_after_parts(n, src, out, scorer, **options):
    """Score ``src`` into ``out`` until ``n`` parts are committed, then stop as Ctrl-C does; the parts' paths."""
    real = output_module.write_table_atomic
    committed = []

    def write(table, path):
        if len(committed) == n:
            raise KeyboardInterrupt
        committed.append(path)
        real(table, path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("exposure.jobs.local.write_table_atomic", write)
        with pytest.raises(KeyboardInterrupt):
            score_postings_file(src, out, RunOptions(**options), scorer=scorer)
    return committed


def test_a_deeply_nested_json_line_is_an_invalid_json_row_and_resume_gets_past_it(tmp_path, scorer):
    good = labelled_postings(3)
    deep = '{"id": "deep", "title": "x", "description": ' + "[" * 100_000 + "]" * 100_000 + "}"
    src = tmp_path / "deep.jsonl"
    src.write_text("\n".join([json.dumps(good[0]), json.dumps(good[1]), deep, json.dumps(good[2])]) + "\n")
    out = tmp_path / "deep.parquet"
    # A first run stops after its first committed part (two rows), before the nested line ...
    _stopped_after_parts(1, src, out, scorer, chunk_size=2)
    # ... and --resume reads past it: one row with status invalid_json.
    summary = score_postings_file(src, out, RunOptions(chunk_size=2), scorer=scorer, resume=True)
    assert summary["rows"] == 4 and summary["rows_written"] == 3
    assert summary["rejected"]["invalid_json"] == 1
    rejected = pq.read_table(summary["rejected_file"]).to_pylist()
    assert rejected == [{"id": None, "row": 2, "status": "invalid_json"}]


def _with_a_repeated_id(path):
    good = labelled_postings(2)
    write_rows(good + [dict(good[0], title="again")], path)  # row 2 repeats row 0's id: a rejected row


def test_outputs_that_share_a_stem_keep_their_own_files(tmp_path, scorer):
    src = tmp_path / "in.jsonl"
    _with_a_repeated_id(src)
    # -o y.rejected.parquet, then -o y.parquet: the first run's output is not the second's rejected file.
    first = score_postings_file(src, tmp_path / "y.rejected.parquet", scorer=scorer)
    before = pq.read_table(tmp_path / "y.rejected.parquet")
    score_postings_file(src, tmp_path / "y.parquet", scorer=scorer)
    assert pq.read_table(tmp_path / "y.rejected.parquet").equals(before) and before.num_rows == first["rows_written"]
    assert pq.read_table(tmp_path / "y.parquet.rejected.parquet")["status"].to_pylist() == ["duplicate_id"]
    # -o x.parquet, then -o x.pq: each keeps its summary and rejected rows, and x.parquet still resumes.
    x = score_postings_file(src, tmp_path / "x.parquet", scorer=scorer)
    other = tmp_path / "other.jsonl"
    write_rows(labelled_postings(3), other)
    score_postings_file(other, tmp_path / "x.pq", scorer=scorer)
    assert x["rejected_file"] == str(tmp_path / "x.parquet.rejected.parquet")
    assert pq.read_table(x["rejected_file"]).num_rows == 1 and not (tmp_path / "x.pq.rejected.parquet").exists()
    assert json.loads((tmp_path / "x.parquet.summary.json").read_text())["input"] == str(src)
    assert score_postings_file(src, tmp_path / "x.parquet", scorer=scorer, resume=True)["rows"] == 3  # complete already


def test_an_output_named_like_another_outputs_file_is_refused(tmp_path, scorer):
    src = tmp_path / "in.jsonl"
    _with_a_repeated_id(src)
    with pytest.raises(ValueError, match="is the .rejected.parquet file of the output"):
        score_postings_file(src, tmp_path / "x.parquet.rejected.parquet", scorer=scorer)
    # A fresh run never deletes what an earlier run of the same output left: it asks for --resume.
    score_postings_file(src, tmp_path / "x.parquet", scorer=scorer)
    (tmp_path / "x.parquet").unlink()
    with pytest.raises(ValueError, match="x.parquet.summary.json.* already exist.*--resume"):
        score_postings_file(src, tmp_path / "x.parquet", scorer=scorer)
    assert (tmp_path / "x.parquet.rejected.parquet").exists()


def test_a_damaged_committed_part_is_named_with_how_to_recover(tmp_path, scorer):
    src = tmp_path / "in.jsonl"
    write_rows(labelled_postings(4), src)
    out = tmp_path / "out.parquet"
    calls = _stopped_after_parts(2, src, out, scorer, chunk_size=1)
    first = calls[0]
    first.write_bytes(first.read_bytes()[:100])  # truncated, as a full disk or a torn copy leaves it
    with pytest.raises(ValueError) as caught:
        score_postings_file(src, out, RunOptions(chunk_size=1), scorer=scorer, resume=True)
    message = str(caught.value)
    assert f"the committed part {first} is damaged" in message
    assert "remove it and the 1 part(s) after it (part-00000.parquet to part-00001.parquet)" in message
    # Doing what it says finishes the run.
    for p in calls:
        p.unlink()
    assert score_postings_file(src, out, RunOptions(chunk_size=1), scorer=scorer, resume=True)["rows_written"] == 4


def test_the_lock_message_names_the_other_run_once(tmp_path, capsys):
    from exposure.jobs import BatchJob

    write_rows(labelled_postings(2), tmp_path / "in.jsonl")
    out = tmp_path / "out.parquet"
    with BatchJob(tmp_path / "in.jsonl", out) as holder:
        holder.check()
        assert main(["score-postings", str(tmp_path / "in.jsonl"), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.count("--resume") == 1 and "check the folder" not in err and err.count("\n") == 1
    assert err.startswith(f"exposure score-postings: error: {out} is being written by another run (pid {os.getpid()}")
