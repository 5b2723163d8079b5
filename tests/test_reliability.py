"""Reliability of the batch job and the command line: one writer per output, what --resume checks,
OS errors as one line with nothing committed lost, caches keyed by the model, inputs read honestly."""

import ast
import errno
import gzip
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exposure import _assets
from exposure import cli
from exposure.jobs import BatchJob, OutputInUseError, RunOptions, score_postings_file
from exposure.jobs import local as local_module
from exposure.jobs import output as output_module
from exposure.io import WriteError, read_batches
from exposure.postings import PostingScorer
from exposure.postings import UnitClassifier

from helpers import cli_command, labelled_postings, occupation_table, repeated_postings, small_assigner, write_rows

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "tasks.csv"


@pytest.fixture(scope="module")
def scorer(model):
    return PostingScorer(model, UnitClassifier.load(encoder=model.encoder), small_assigner(model.encoder),
                         occupation_scores=occupation_table(model.technologies))


@pytest.fixture
def cli_scorer(scorer, model, monkeypatch):
    """`exposure` commands in this process use the session's model and scorer instead of loading new ones."""
    monkeypatch.setattr(RunOptions, "build_scorer", lambda self, classifier=None, show_progress=False: scorer)
    monkeypatch.setattr(cli, "_model", lambda args, technologies=None: model)
    return scorer


# --------------------------------------------------------------------------- one writer

def test_a_second_job_on_the_same_output_is_refused_while_the_first_holds_it(tmp_path):
    write_rows(labelled_postings(3), tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    with BatchJob(tmp_path / "in.parquet", out) as first:
        first.check()
        with pytest.raises(OutputInUseError, match=rf"pid {os.getpid()} on .*started"):
            BatchJob(tmp_path / "in.parquet", out).check()
        with pytest.raises(OutputInUseError, match="another run"):
            BatchJob(tmp_path / "in.parquet", out, resume=True).check()
    # Released: the next run takes it, and no lock file is left behind.
    assert not out.with_name("out.parquet.lock").exists()
    with BatchJob(tmp_path / "in.parquet", out) as again:
        again.check()


@pytest.mark.slow
def test_two_processes_on_one_output_write_every_id_once(tmp_path):
    rows = repeated_postings(120, 4, seed=3)
    write_rows(rows, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    cmd, env = cli_command(tmp_path / "in.parquet", out)
    first = subprocess.Popen(cmd + ["--chunk-size", "20"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lock = out.with_name("out.parquet.lock")
    deadline = time.time() + 60
    while not (lock.exists() and lock.read_text()) and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, first.communicate()[1][-2000:]
    os.kill(first.pid, signal.SIGSTOP)  # held mid-run, however fast it scores, while the second one starts
    try:
        second = subprocess.run(cmd + ["--chunk-size", "30"], cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 1, second.stderr[-2000:]
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "being written by another run" in lines[0] and f"pid {first.pid}" in lines[0]
    assert "Traceback" not in second.stderr
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    t = pq.read_table(out)
    assert t["id"].to_pylist() == [r["id"] for r in rows] and t["row"].to_pylist() == list(range(120))
    assert json.loads((tmp_path / "out.parquet.summary.json").read_text())["rows"] == 120


# --------------------------------------------------------------------------- what --resume checks

@pytest.mark.slow
def test_resume_of_a_finished_output_checks_input_and_options(tmp_path, scorer):
    write_rows(labelled_postings(4), tmp_path / "in.jsonl")
    out = tmp_path / "out.parquet"
    score_postings_file(tmp_path / "in.jsonl", out, RunOptions(chunk_size=2), scorer=scorer)
    # Same input and options: nothing to do.
    assert score_postings_file(tmp_path / "in.jsonl", out, RunOptions(chunk_size=2), scorer=scorer,
                               resume=True)["rows_written"] == 4
    # Another input under the same name: refused, one line per difference, before any scoring.
    write_rows(labelled_postings(7), tmp_path / "in.jsonl")
    with pytest.raises(ValueError) as info:
        score_postings_file(tmp_path / "in.jsonl", out, RunOptions(chunk_size=2), scorer=scorer, resume=True)
    message = str(info.value)
    assert "cannot resume" in message and "\n  input size:" in message and "{" not in message
    assert pq.read_table(out).num_rows == 4  # the finished output is kept
    # The options are compared before the model or the indexes load.
    write_rows(labelled_postings(4), tmp_path / "in.jsonl")
    os.utime(tmp_path / "in.jsonl", ns=(0, json.loads((tmp_path / "out.parquet.summary.json").read_text())
                                           ["run"]["input"]["mtime_ns"]))
    with BatchJob(tmp_path / "in.jsonl", out, RunOptions(chunk_size=2, assign=False), resume=True) as job:
        with pytest.raises(ValueError, match=r"occupation assignment \(--no-assign\): on in the earlier run, off now"):
            job.check()
    with BatchJob(tmp_path / "in.jsonl", out, RunOptions(chunk_size=3), resume=True) as job:
        with pytest.raises(ValueError, match=r"--chunk-size: 2 in the earlier run, 3 now"):
            job.check()
    with BatchJob(tmp_path / "in.jsonl", out, RunOptions(chunk_size=2, max_chars=scorer.max_chars), resume=True) as job:
        job.check()


@pytest.mark.slow
def test_an_edit_past_the_first_64_kb_is_seen_by_its_modification_time(tmp_path, scorer):
    rows = labelled_postings(2)
    rows[0]["description"] += "\n" + "x" * 70_000
    path = tmp_path / "in.jsonl"
    write_rows(rows, path)
    out = tmp_path / "out.parquet"
    score_postings_file(path, out, RunOptions(chunk_size=1), scorer=scorer)
    data = path.read_bytes()
    i = data.rindex(rows[1]["title"].encode())
    path.write_bytes(data[:i] + b"Z" + data[i + 1:])  # same size, same first 64 KB
    with pytest.raises(ValueError, match="input modification time \\(the file was changed since\\)"):
        score_postings_file(path, out, RunOptions(chunk_size=1), scorer=scorer, resume=True)


def test_a_crashed_run_resumes_only_with_its_own_options(tmp_path, scorer, monkeypatch):
    write_rows(labelled_postings(4), tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    real = local_module.write_table_atomic
    calls = []

    def crash_on_second(table, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(table, path)

    monkeypatch.setattr(local_module, "write_table_atomic", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer)
    monkeypatch.setattr(local_module, "write_table_atomic", real)
    with pytest.raises(ValueError, match="--max-chars: 100,000 in the earlier run, 500 now"):
        score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=PostingScorer(
            scorer.model, scorer.classifier, scorer.assigner, occupation_scores=occupation_table(
                scorer.model.technologies), max_chars=500), resume=True)
    assert score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer,
                               resume=True)["rows_written"] == 4


# --------------------------------------------------------------------------- OS errors

def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.slow
def test_disk_full_writing_a_part_keeps_the_committed_ones(tmp_path, scorer, monkeypatch):
    write_rows(labelled_postings(6), tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    real = pq.write_table
    calls = []

    def write_then_fill(table, where, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            where.write(b"PAR1 half a part")  # the disk fills up in the middle of the file
            _disk_full()
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(output_module.pq, "write_table", write_then_fill)
    with pytest.raises(WriteError, match=r"disk full writing .*part-00001.parquet: .*rerun with --resume"):
        score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer)
    parts = tmp_path / "out.parquet.parts"
    assert sorted(p.name for p in parts.iterdir()) == ["manifest.json", "part-00000.parquet"]  # no .tmp left
    assert not out.with_name("out.parquet.lock").exists()
    monkeypatch.setattr(output_module.pq, "write_table", real)
    summary = score_postings_file(tmp_path / "in.parquet", out, RunOptions(chunk_size=2), scorer=scorer, resume=True)
    assert summary["this_run"]["resumed_from_row"] == 2 and pq.read_table(out).num_rows == 6


def test_disk_full_in_the_final_combine_is_one_line_and_leaves_no_tmp(tmp_path, cli_scorer, monkeypatch, capsys):
    write_rows(labelled_postings(4), tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"

    class FullWriter(pq.ParquetWriter):
        def write_table(self, *args, **kwargs):
            _disk_full()

    monkeypatch.setattr(output_module.pq, "ParquetWriter", FullWriter)
    args = ["score-postings", str(tmp_path / "in.parquet"), "-o", str(out), "--chunk-size", "2", "-q"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "disk full writing" in err[0] and str(out) in err[0] and "--resume" in err[0]
    assert not list(tmp_path.glob(".*.tmp")) and not out.exists()
    assert len(list((tmp_path / "out.parquet.parts").glob("part-*.parquet"))) == 2  # nothing committed is lost
    monkeypatch.undo()
    monkeypatch.setattr(RunOptions, "build_scorer", lambda self, classifier=None, show_progress=False: cli_scorer)
    assert cli.main(args + ["--resume"]) == 0 and pq.read_table(out).num_rows == 4


def test_score_tasks_to_an_unwritable_folder_fails_before_the_model_loads(tmp_path, monkeypatch, capsys):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    monkeypatch.setattr(cli, "_model", lambda *a, **k: pytest.fail("the model was loaded"))
    assert cli.main(["score-tasks", str(EXAMPLE), "-o", str(tmp_path / "s.parquet"), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "read-only" in err[0] and "Traceback" not in err[0]


def test_score_tasks_leaves_no_half_written_output(tmp_path, cli_scorer, monkeypatch, capsys):
    out = tmp_path / "s.parquet"
    model = cli_scorer.model
    real = model.score_tasks
    calls = []

    def fail_second(texts, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(texts, **kwargs)

    monkeypatch.setattr(model, "score_tasks", fail_second)
    assert cli.main(["score-tasks", str(EXAMPLE), "-o", str(out), "--chunk-size", "5", "-q"]) == 1
    assert "disk full" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_says_how_to_go_on(tmp_path, monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_score_postings", interrupted)  # build_parser binds the name at each call
    assert cli.main(["score-postings", "in.parquet", "-o", str(tmp_path / "o.parquet")]) == 130
    assert "rerun with --resume" in capsys.readouterr().err


# --------------------------------------------------------------------------- caches

def test_embedding_caches_are_keyed_by_dtype(tmp_path):
    from exposure.occupations.assign import _cache_names

    fp32 = SimpleNamespace(name="all-MiniLM-L6-v2", dim=384, dtype="torch.float32")
    fp16 = SimpleNamespace(name="all-MiniLM-L6-v2", dim=384, dtype="torch.float16")
    bf16 = SimpleNamespace(name="all-MiniLM-L6-v2", dim=384, dtype="torch.bfloat16")
    own32, = _cache_names("tasks", fp32, ["a", "b"])  # float32 reads only its own file
    assert _cache_names("tasks", SimpleNamespace(**vars(fp32)), ["a", "b"]) == [own32]
    for low in (fp16, bf16):  # lower precision: its own file first, then the float32 one
        own, fallback = _cache_names("tasks", low, ["a", "b"])
        assert own != own32 and fallback == own32
    assert _cache_names("tasks", fp16, ["a", "b"])[0] != _cache_names("tasks", bf16, ["a", "b"])[0]


def test_low_precision_run_reads_the_float32_index(tmp_path):
    from exposure.occupations.assign import _embed_cached

    texts = ["Sort mail.", "Repair engines."]
    built = np.arange(2 * 4, dtype=np.float32).reshape(2, 4) / 10

    class Enc:
        name, dim = "m", 4

        def __init__(self, dtype):
            self.dtype, self.calls = dtype, 0

        def encode(self, texts, **kw):
            self.calls += 1
            return built

    fp32, bf16 = Enc("torch.float32"), Enc("torch.bfloat16")
    emb, cached = _embed_cached(fp32, texts, "tasks", tmp_path)
    assert not cached and fp32.calls == 1
    emb16, cached16 = _embed_cached(bf16, texts, "tasks", tmp_path)
    assert cached16 and bf16.calls == 0 and np.array_equal(emb, emb16)
    other16 = Enc("torch.bfloat16")  # a bfloat16 index is never read by a float32 run
    _embed_cached(other16, texts, "tasks", tmp_path / "b16")
    again32 = Enc("torch.float32")
    _embed_cached(again32, texts, "tasks", tmp_path / "b16")
    assert other16.calls == 1 and again32.calls == 1


def test_caches_are_readable_by_everyone(tmp_path, model, monkeypatch):
    from exposure.occupations import score as occupation_score
    from exposure.occupations import cached_occupation_scores

    table = occupation_table(model.technologies)
    monkeypatch.setattr(occupation_score, "score_occupations", lambda *a, **k: table)
    monkeypatch.setattr(os, "umask", os.umask)  # restored below whatever happens
    old = os.umask(0o022)
    try:
        cached_occupation_scores(model, "29.1", cache_dir=tmp_path)
    finally:
        os.umask(old)
    (path,) = tmp_path.glob("occupation-scores-v3-29.1-*.parquet")
    assert model.fingerprint()[:20] in path.name and (path.stat().st_mode & 0o777) == 0o644
    _assets.write_atomic(tmp_path / "x.npy", lambda f: np.save(f, np.zeros(3)))
    assert (tmp_path / "x.npy").stat().st_mode & 0o777 == 0o644 and len(list(tmp_path.iterdir())) == 2


# --------------------------------------------------------------------------- inputs read honestly

@pytest.mark.parametrize("content", [b"", b"\n  \n\n"])
def test_an_empty_or_blank_jsonl_is_an_error_like_an_empty_csv(tmp_path, content):
    (tmp_path / "in.jsonl").write_bytes(content)
    (tmp_path / "in.csv").write_bytes(content)
    for name in ("in.jsonl", "in.csv"):
        with BatchJob(tmp_path / name, tmp_path / "out.parquet") as job:
            with pytest.raises(ValueError, match="is empty|has no rows|has no column"):
                job.check()


def test_a_nan_id_is_a_missing_id(tmp_path, scorer):
    rows = labelled_postings(3)
    table = pa.table({"id": pa.array([1.0, float("nan"), 3.0]), "title": [r["title"] for r in rows],
                      "description": [r["description"] for r in rows]})
    pq.write_table(table, tmp_path / "in.parquet")
    summary = score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", scorer=scorer)
    assert summary["rejected"]["missing_id"] == 1
    assert pq.read_table(tmp_path / "out.parquet")["id"].to_pylist() == ["1", "3"]


def test_latin1_input_is_one_error_naming_the_line_for_csv_and_jsonl(tmp_path, scorer):
    rows = [{"id": str(i), "title": t, "description": "Duties:\n- Serve guests\n- Count cash at closing"}
            for i, t in enumerate(["Barista", "Caf\u00e9 manager", "Cashier"])]
    for ext in (".csv", ".jsonl"):
        write_rows(rows, tmp_path / f"utf8{ext}")
        data = (tmp_path / f"utf8{ext}").read_text(encoding="utf-8").replace("\\u00e9", "\u00e9")  # JSON escapes
        (tmp_path / f"in{ext}").write_bytes(data.encode("latin-1"))
        line = 1 + data.splitlines().index(next(x for x in data.splitlines() if "Caf" in x))
        with pytest.raises(ValueError, match=rf"line {line} is not valid utf-8 text .*--encoding latin-1"):
            score_postings_file(tmp_path / f"in{ext}", tmp_path / f"out{ext[1:]}.parquet", scorer=scorer)
        summary = score_postings_file(tmp_path / f"in{ext}", tmp_path / f"out{ext[1:]}.parquet",
                                      RunOptions(encoding="latin-1"), scorer=scorer)
        assert summary["rows_written"] == 3
        assert pq.read_table(tmp_path / f"out{ext[1:]}.parquet")["title"][1].as_py() == "Caf\u00e9 manager"


def test_the_output_keeps_the_id_column_name(tmp_path, scorer):
    rows = [{"job_id": r["id"], "title": r["title"], "description": r["description"]} for r in labelled_postings(3)]
    rows.append(dict(rows[0]))
    write_rows(rows, tmp_path / "in.parquet")
    score_postings_file(tmp_path / "in.parquet", tmp_path / "out.parquet", RunOptions(id_column="job_id"),
                        scorer=scorer)
    assert pq.read_table(tmp_path / "out.parquet").column_names[:2] == ["job_id", "row"]
    assert pq.read_table(tmp_path / "out.parquet.rejected.parquet").column_names == ["job_id", "row", "status"]


def test_gzip_compressed_inputs(tmp_path, scorer):
    rows = labelled_postings(3)
    for ext in (".csv", ".jsonl"):
        write_rows(rows, tmp_path / f"in{ext}")
        (tmp_path / f"in{ext}.gz").write_bytes(gzip.compress((tmp_path / f"in{ext}").read_bytes()))
        summary = score_postings_file(tmp_path / f"in{ext}.gz", tmp_path / f"out{ext[1:]}.parquet", scorer=scorer)
        assert summary["rows_written"] == 3
    (tmp_path / "t.tsv.gz").write_bytes(gzip.compress(b"task\nWeld beams.\nFile claims.\n"))
    assert sum(b.num_rows for b in read_batches(tmp_path / "t.tsv.gz", ["task"])) == 2


def test_score_tasks_says_why_a_row_has_no_score(tmp_path, cli_scorer, capsys):
    path = tmp_path / "tasks.parquet"
    pq.write_table(pa.table({"task": ["Inspect finished parts for surface defects.",
                                      "Soldar vigas de acero en obras de construcción.",
                                      "回答客户关于订单和退货的问题。", "", None]}), path)
    pq.write_table(pa.table({"task": pa.array([1, 2], pa.int64())}), tmp_path / "ints.parquet")
    assert cli.main(["score-tasks", str(path), "-o", str(tmp_path / "s.parquet")]) == 0
    t = pq.read_table(tmp_path / "s.parquet")
    assert t["status"].to_pylist() == ["ok", "non_english", "non_english", "empty", "empty"]
    exposure = t["exposure"].to_pylist()
    assert exposure[0] is not None and all(e is None or np.isnan(e) for e in exposure[1:])
    assert "1 non_english" not in capsys.readouterr().err  # counted together: 2 non_english
    assert cli.main(["score-tasks", str(tmp_path / "ints.parquet"), "-o", str(tmp_path / "i.parquet"), "-q"]) == 0
    assert pq.read_table(tmp_path / "i.parquet")["status"].to_pylist() == ["not_text", "not_text"]


@pytest.mark.slow
def test_no_onet_task_statement_is_taken_for_another_language():
    from exposure.language import is_english
    from exposure.occupations import load_tasks

    tasks = load_tasks("29.1")["task"].to_pylist()
    assert all(is_english(tasks))
    assert not any(is_english(["Soldar vigas de acero en obras de construcción.", "回答客户关于订单和退货的问题。",
                               "Répondre aux questions des clients par courriel.",
                               "Kunden am Telefon beraten und Bestellungen aufnehmen."]))


def test_every_command_has_quiet_and_help(capsys):
    parser = cli.build_parser()
    for name, sub in parser._subparsers._group_actions[0].choices.items():
        options = {o for a in sub._actions for o in a.option_strings}
        assert {"-q", "--quiet", "-h"} <= options, name


def test_the_library_logs_instead_of_printing():
    for path in (ROOT / "exposure").rglob("*.py"):
        if path.name in ("cli.py", "__main__.py") or path.parent.name == "data":  # commands; data/ build script
            continue
        calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "print"]
        assert not calls, f"{path.name} line {calls[0].lineno} prints"


@pytest.mark.slow
def test_prepare_builds_the_indexes_once_and_says_where(tmp_path, cli_scorer, monkeypatch, capsys):
    import pyarrow.compute as pc

    from exposure.occupations import assign, load_tasks
    from exposure.occupations import score as occupation_score
    from helpers import CODES, NAMES

    # The shipped catalogue cut to six occupations, so that the indexes build in seconds.
    tasks = load_tasks("29.1")
    tasks = tasks.filter(pc.is_in(tasks["soc_code"], pa.array(CODES)))
    titles = pa.table({"soc_code": CODES, "title": NAMES})
    monkeypatch.setattr(assign, "load_titles", lambda: titles)
    monkeypatch.setattr(assign, "load_tasks", lambda release: tasks)
    monkeypatch.setattr(assign, "load_occupations", lambda release: titles)
    scored = []
    monkeypatch.setattr(occupation_score, "score_occupations",
                        lambda model, release, embeddings=None, **k: scored.append(embeddings) or
                        occupation_table(model.technologies))
    assert cli.main(["prepare", "--cache-dir", str(tmp_path), "-q"]) == 0
    assert "built the titles and tasks index" in capsys.readouterr().out
    names = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    assert names == ["occupation", "tasks", "title", "titles"]  # title: the n-gram index (title-ngrams-*.npz)
    assert scored[0].shape == (tasks.num_rows, cli_scorer.model.encoder.dim)  # the index's embeddings, reused
    assert cli.main(["prepare", "--cache-dir", str(tmp_path), "-q"]) == 0
    assert "cached already" in capsys.readouterr().out and len(scored) == 1


@pytest.mark.parametrize("mask", [0o077, pytest.param(0o022, marks=pytest.mark.slow)])  # 022: the default
def test_every_file_written_follows_the_umask(tmp_path, monkeypatch, mask):
    import stat

    monkeypatch.setenv("EXPOSURE_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "in.jsonl"
    good = labelled_postings(2)
    write_rows(good + [dict(good[0], title="again")], src)  # a repeated id: a rejected-rows file too
    inputs = set(tmp_path.iterdir())
    before = os.umask(mask)
    try:
        assert cli.main(["score-tasks", str(EXAMPLE), "-o", str(tmp_path / "tasks.csv"), "--device", "cpu",
                         "--dtype", "float32", "-q"]) == 0
        assert cli.main(["score-postings", str(src), "-o", str(tmp_path / "out.parquet"), "--no-assign",
                         "--device", "cpu", "--dtype", "float32", "--workers", "0", "-q"]) == 0
    finally:
        os.umask(before)
    written = [p for p in tmp_path.rglob("*") if p not in inputs]
    names = {p.name for p in written}
    assert {"tasks.csv", "out.parquet", "out.parquet.summary.json", "out.parquet.rejected.parquet", "cache"} <= names
    assert any(p.suffix == ".npy" for p in written)  # the capability embeddings' cache file
    modes = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert modes == {k: oct((0o777 if (tmp_path / k).is_dir() else 0o666) & ~mask) for k in modes}


# --------------------------------------------------------------------------- cache files carry their checksum

def _damage(path: Path) -> None:
    """Overwrite 4 KB (a quarter of a smaller file) in the middle of ``path``, as a bad disk block would."""
    size = path.stat().st_size
    n = min(4096, size // 4)
    with open(path, "r+b") as f:
        f.seek((size - n) // 2)
        f.write(np.random.default_rng(0).bytes(n))


def test_damaged_capability_embeddings_are_built_again_with_a_warning(encoder, tmp_path, monkeypatch, caplog):
    from exposure import ExposureModel

    monkeypatch.setenv("EXPOSURE_CACHE_DIR", str(tmp_path))
    tasks = ["Answer phones and take messages.", "Drive a forklift in a warehouse.", "Write sales reports."]
    ref = ExposureModel(encoder).score_tasks(tasks)
    files = sorted(tmp_path.glob("capability-embeddings-*.npy"), key=lambda p: p.stat().st_size)
    assert files[-1].stat().st_size > 8192
    _damage(files[-1])
    with caplog.at_level("WARNING", logger="exposure"):
        got = ExposureModel(encoder).score_tasks(tasks)
    assert f"the cache file {files[-1]} is damaged" in caplog.text
    np.testing.assert_allclose(got.exposure, ref.exposure, atol=1e-6)
    np.testing.assert_allclose(got.technology_scores, ref.technology_scores, atol=1e-6)
    caplog.clear()
    with caplog.at_level("WARNING", logger="exposure"):
        ExposureModel(encoder).score_tasks(tasks)
    assert "cache file" not in caplog.text  # built again, with its checksum


def test_damaged_or_unchecked_cache_files_of_every_kind_are_built_again(tmp_path, caplog, model, monkeypatch):
    from exposure.occupations import assign as assign_module
    from exposure.occupations import score as occupation_score
    from exposure.occupations.assign import _embed_cached, _ngram_index

    built = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)

    class Enc:
        name, dim, dtype, calls = "m", 32, "torch.float32", 0

        def encode(self, texts, **kw):
            Enc.calls += 1
            return built

    texts = [f"title {i}" for i in range(64)]
    keys = [f"line cook {i}" for i in range(3000)]
    table = occupation_table(model.technologies)
    monkeypatch.setattr(occupation_score, "score_occupations", lambda *a, **k: table)
    # Titles and tasks embeddings, the title n-gram index and the occupation scores, each written once ...
    _embed_cached(Enc(), texts, "titles", tmp_path)
    index = _ngram_index(keys, tmp_path)
    occupation_score.cached_occupation_scores(model, "29.1", cache_dir=tmp_path)
    files = {p.name.split("-")[0]: p for p in tmp_path.iterdir()}
    assert sorted(files) == ["occupation", "title", "titles"]
    # ... damaged, or (the embeddings) written without a checksum by an older version: each is built again.
    for p in files.values():
        _damage(p)
    np.save(tmp_path / "plain.npy", built)
    with caplog.at_level("WARNING", logger="exposure"):
        emb, cached = _embed_cached(Enc(), texts, "titles", tmp_path)
        assert not cached and Enc.calls == 2
        np.testing.assert_array_equal(emb, built.astype(np.float16).astype(np.float32))
        builds = []
        build = assign_module.NgramIndex.__init__
        monkeypatch.setattr(assign_module.NgramIndex, "__init__", lambda *a, **k: builds.append(1) or build(*a, **k))
        again = _ngram_index(keys, tmp_path)
        assert builds == [1] and again.vocab == index.vocab
        scores = occupation_score.cached_occupation_scores(model, "29.1", cache_dir=tmp_path)
        assert scores.equals(table)
        assert _assets.load_embeddings(tmp_path / "plain.npy", 64, 32) is None
    for p in files.values():
        assert f"the cache file {p} is damaged" in caplog.text
    assert f"the cache file {tmp_path / 'plain.npy'} has no checksum" in caplog.text

