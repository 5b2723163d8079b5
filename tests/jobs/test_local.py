"""exposure.jobs.local and `exposure score-postings`: formats, bad rows, duplicate ids, resume after kill -9 (the text
workers: test_workers.py)."""

import json
import os
import signal
import subprocess
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

from helpers import (GERMAN, POSTINGS, ROOT, child_pids, help_text, killable_run, labelled_postings, occupation_table,
                     write_rows)

DATA = POSTINGS


@pytest.mark.slow
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
    assert status["de"] == "ok" and status["eeo"] == "no_duties_occupation_fallback"  # German is read too
    assert status["big"] == "truncated" and status[good[0]["id"]] == "ok"
    by_id = {r["id"]: r for r in out}
    assert by_id["big"]["n_chars"] > 100_000 and by_id["7"]["exposure"] is None
    assert by_id[good[0]["id"]]["title"] == good[0]["title"]  # the first occurrence wins
    rejected = pq.read_table(tmp_path / "bad.parquet.rejected.parquet").to_pylist()
    assert sorted(r["status"] for r in rejected) == ["duplicate_id", "duplicate_id", "invalid_json", "missing_id"]
    assert {r["row"] for r in rejected} == {3, 4, 5, 7}
    assert summary["rows"] == 13 and summary["rows_written"] == 9
    assert summary["rejected"] == {"duplicate_id": 2, "missing_id": 1, "invalid_json": 1}


@pytest.mark.slow
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


@pytest.mark.slow
def test_kill_9_then_resume_gives_one_row_per_id(tmp_path, model):
    # 300 generated postings: 6 distinct texts under 300 ids, so that a run takes seconds, not minutes.
    rows, cmd, env, out = killable_run(tmp_path)
    log = open(tmp_path / "killed.log", "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
    first = out.with_name("out.parquet.parts") / "part-00000.parquet"
    deadline = time.time() + 120
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-2000:]
    workers = child_pids(proc.pid)
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


def test_a_scorer_of_ones_own_decides_the_row_options_resume_compares(tmp_path, scorer):
    rows = labelled_postings(4)
    write_rows(rows, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    short = PostingScorer(scorer.model, scorer.classifier, scorer.assigner,
                          occupation_scores=occupation_table(scorer.model.technologies), max_chars=500)
    _stopped_after_parts(1, tmp_path / "in.parquet", out, short, chunk_size=2)
    # The same scorer resumes, given as it is or as a function that builds it; the default options would not.
    summary = score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=lambda: short,
                                  resume=True)
    assert summary["rows_written"] == 4 and summary["run"]["options"]["max_chars"] == 500
    assert "truncated" in summary["status"] and summary["status"]["truncated"] >= 1
    with pytest.raises(ValueError, match="--max-chars: 500 in the earlier run, 100,000 now"):
        score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer, resume=True)


def test_isco_taxonomy_runs_write_the_isco_columns_and_resume_compares_it(tmp_path, scorer):
    zh = "工作內容：\n1. 負責貨物收發及點算；\n2. 操作叉車上落貨，整理倉庫。\n要求：中五程度。"
    rows = labelled_postings(3) + [{"id": "zh", "title": "倉務員", "description": zh}]
    write_rows(rows, tmp_path / "in.jsonl")
    isco = PostingScorer(scorer.model, scorer.classifier, scorer.assigner,
                         occupation_scores=occupation_table(scorer.model.technologies), taxonomy="isco08")
    out = tmp_path / "out.parquet"
    summary = score_postings_file(tmp_path / "in.jsonl", out, RunOptions(chunk_size=2), scorer=isco)
    table = pq.read_table(out)
    assert summary["run"]["options"]["taxonomy"] == "isco08"
    assert table["isco08_1"].null_count == 0 and table["isco08_sub_major"].null_count == 0
    assert table["language"].to_pylist() == ["en", "en", "en", "zh"] and table["status"][3].as_py() == "ok"
    with pytest.raises(ValueError, match="--taxonomy isco08 reaches ISCO-08 groups from the occupation assignment"):
        RunOptions(assign=False, taxonomy="isco08")
    with pytest.raises(ValueError, match="--taxonomy must be onet or isco08"):
        RunOptions(taxonomy="soc")
