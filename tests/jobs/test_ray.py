"""exposure.jobs.ray and `exposure score-postings --engine ray`: the local engine's rows from a Ray cluster,
a worker killed mid-run, bad rows and duplicate ids across batches, the CLI's cluster options."""

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exposure.cli import _run_options, build_parser, main
from exposure.jobs import RunOptions, score_postings_file
from exposure.postings import PostingScorer

from helpers import GERMAN, POSTINGS, ROOT, generated_postings, help_text, occupation_table, small_assigner

DATA = POSTINGS
N_ROWS, N_DISTINCT = 2000, 40
# Ray 2.60 warns whenever a DataContext is made (`use_push_based_shuffle` is deprecated), even untouched.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")
# The scorer that `score-postings --no-assign --device cpu --dtype float32` builds, in every engine.
CLI_ARGS = ["--no-assign", "--device", "cpu", "--dtype", "float32", "-q"]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A local Ray instance for this module: 3 logical CPUs, two for two 1-CPU workers and one for Ray Data's
    read tasks (a pool on every CPU hangs, ray-project/ray#44687); the work runs on the machine's cores."""
    ray = pytest.importorskip("ray", reason="the ray engine needs Ray Data: pip install 'exposure[ray]'")
    pytest.importorskip("ray.data", reason="the ray engine needs Ray Data: pip install 'exposure[ray]'")
    # Workers import exposure, the tests' helpers and this module; their disk cache is not the local runs' one.
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]),
           "EXPOSURE_CACHE_DIR": str(tmp_path_factory.mktemp("ray_cache"))}
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def postings(tmp_path_factory):
    """2,000 postings with distinct ids over 40 generated texts, so that a run takes seconds, not minutes."""
    folder = tmp_path_factory.mktemp("postings")
    gen = generated_postings(N_DISTINCT, seed=11)
    rows = [{"id": f"job-{i:05d}", "title": gen[i % N_DISTINCT]["title"],
             "description": gen[i % N_DISTINCT]["description"]} for i in range(N_ROWS)]
    pq.write_table(pa.Table.from_pylist(rows), folder / "in.parquet")
    return folder / "in.parquet"


@pytest.fixture(scope="module")
def local_scores(postings, tmp_path_factory):
    """`score-postings` with the local engine on the 2,000 postings, its own disk cache."""
    folder = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPOSURE_CACHE_DIR", str(folder / "cache"))
        assert main(["score-postings", str(postings), "-o", str(folder / "scores.parquet"), *CLI_ARGS]) == 0
    return pq.read_table(folder / "scores.parquet")


def _assert_same_rows(got: pa.Table, ref: pa.Table) -> None:
    """Same schema, ids, rows, statuses and text columns; numeric columns within 1e-5, nulls in the same places."""
    assert got.schema == ref.schema
    assert got["id"].to_pylist() == ref["id"].to_pylist() and got["row"].to_pylist() == ref["row"].to_pylist()
    assert len(set(got["id"].to_pylist())) == got.num_rows
    for name, field in zip(ref.column_names, ref.schema):
        a, b = got[name], ref[name]
        if pa.types.is_floating(field.type):
            assert a.null_count == b.null_count and a.is_null().equals(b.is_null()), name
            np.testing.assert_allclose(a.fill_null(0).to_numpy(), b.fill_null(0).to_numpy(), atol=1e-5, err_msg=name)
        else:
            assert a.to_pylist() == b.to_pylist(), name


@pytest.mark.slow
def test_ray_engine_writes_the_local_engines_rows(ray_cluster, postings, local_scores, tmp_path):
    out = tmp_path / "scores.parquet"
    assert main(["score-postings", str(postings), "-o", str(out), *CLI_ARGS, "--engine", "ray",
                 "--num-workers", "2", "--chunk-size", "100"]) == 0
    got = pq.read_table(out)
    assert got.num_rows == N_ROWS and set(got["status"].to_pylist()) == {"ok"}
    _assert_same_rows(got, local_scores)
    summary = json.loads((tmp_path / "scores.parquet.summary.json").read_text())
    assert summary["rows"] == summary["rows_written"] == N_ROWS and summary["status"]["ok"] == N_ROWS
    run = summary["this_run"]
    assert run["engine"]["name"] == "ray" and run["engine"]["workers"] == 2
    assert run["postings_scored"] == N_ROWS and run["duplicates_scored"] == 0
    assert run["cache"]["hit_rate"] > 0.5  # 40 texts under 2,000 ids: each worker encodes a text once
    assert not (tmp_path / "scores.parquet.rejected.parquet").exists()
    # The output says how it was scored, and the finished run is one a later --resume recognises.
    from exposure.io import read_provenance

    made = read_provenance(out)
    assert made["command"] == "score-postings" and made["options"] == {"assign": False, "max_chars": 100_000,
                                                                          "encoding": "utf-8",
                                                                          "min_soc_confidence": None,
                                                                          "chunk_size": 100, "taxonomy": "onet"}
    assert summary["run"]["model"]["fingerprint"] == made["fingerprint"]
    assert main(["score-postings", str(postings), "-o", str(out), *CLI_ARGS, "--chunk-size", "100", "--resume"]) == 0
    assert pq.read_table(out).equals(got)


def _scorer_that_kills_its_worker_once(marker: str) -> PostingScorer:
    """The command line's scorer, whose worker process kills itself (SIGKILL) at its second batch, when no worker
    has done so yet."""
    args = build_parser().parse_args(["score-postings", "in.parquet", "-o", "out.parquet", *CLI_ARGS])
    scorer = _run_options(args).build_scorer()
    score, batches = scorer.score, []

    def score_or_die(titles, texts):
        batches.append(1)
        if len(batches) == 2:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # only the first one gets it
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return score(titles, texts)

    scorer.score = score_or_die
    return scorer


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_and_repeats_no_row(ray_cluster, postings, local_scores, tmp_path):
    import functools

    from exposure.jobs import score_postings_ray

    n = 600  # the first rows of the 2,000: their uninterrupted scores are the local run's first rows
    pq.write_table(pq.read_table(postings).slice(0, n), tmp_path / "in.parquet")
    marker = tmp_path / "killed"
    summary = score_postings_ray(tmp_path / "in.parquet", tmp_path / "scores.parquet", RunOptions(chunk_size=50),
                                 scorer=functools.partial(_scorer_that_kills_its_worker_once, str(marker)),
                                 num_workers=2)
    assert marker.exists()  # a worker did die, after it had scored a batch
    _assert_same_rows(pq.read_table(tmp_path / "scores.parquet"), local_scores.slice(0, n))
    # The lost batch was scored again, and its rows and counts arrived once.
    assert summary["rows"] == summary["rows_written"] == n and summary["this_run"]["postings_scored"] == n


def _small_scorer(model=None) -> PostingScorer:
    """A scorer with an assigner over six occupations and a fixed fallback table: seconds to build. Local runs
    pass the session's CPU model (conftest.py); a Ray worker calls it without one and loads its own, once."""
    if model is None:
        from exposure import Encoder, ExposureModel

        model = ExposureModel(Encoder(device="cpu"))
    return PostingScorer(model, assigner=small_assigner(model.encoder),
                         occupation_scores=occupation_table(model.technologies))


def _bad_postings_jsonl(path: Path) -> None:
    """Good rows, repeated and missing ids (within and across batches of 3), malformed and blank lines, odd texts."""
    with open(DATA / "postings.jsonl", encoding="utf-8") as f:
        good = [json.loads(line) for line in f if line.strip()][:4]
    good = [{"id": r["id"], "title": r["title"], "description": r["text"]} for r in good]
    lines = [json.dumps(r) for r in good[:2]] + [
        json.dumps({"id": good[0]["id"], "title": "again, same batch", "description": good[2]["description"]}),
        "   ",
        json.dumps({"id": good[1]["id"], "title": "again, next batch", "description": good[3]["description"]}),
        "{not json",
        json.dumps({"id": None, "title": "no id", "description": good[2]["description"]}),
        json.dumps({"id": 7, "title": "number as text", "description": 12345}),
        json.dumps({"id": "7", "title": "same id as a string", "description": "x"}),
        json.dumps({"id": 7.0, "title": "same id as a float", "description": "y"}),
        json.dumps({"id": "e", "title": "Empty", "description": ""}),
        json.dumps({"id": "de", "title": "Planer", "description": GERMAN}),
        json.dumps({"id": "eeo", "title": "Registered Nurse", "description": "We are an equal opportunity employer."}),
        # A raw line separator inside a string: one line for a JSON reader, two for str.splitlines.
        json.dumps({"id": "ls", "title": "Clerk", "description": good[2]["description"] + "\u2028Sort mail."},
                   ensure_ascii=False),
        json.dumps(good[3]),
    ]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")


@pytest.mark.slow
def test_bad_rows_and_duplicate_ids_across_batches_match_the_local_engine(ray_cluster, model, tmp_path):
    from exposure.jobs import score_postings_ray

    src = tmp_path / "bad.jsonl"
    _bad_postings_jsonl(src)
    local = score_postings_file(src, tmp_path / "local.parquet", RunOptions(chunk_size=3), scorer=_small_scorer(model))
    remote = score_postings_ray(src, tmp_path / "ray.parquet", RunOptions(chunk_size=3), scorer=_small_scorer,
                                num_workers=2)
    _assert_same_rows(pq.read_table(tmp_path / "ray.parquet"), pq.read_table(tmp_path / "local.parquet"))
    assert pq.read_table(tmp_path / "ray.parquet.rejected.parquet").equals(
        pq.read_table(tmp_path / "local.parquet.rejected.parquet"))
    for key in ("rows", "rows_written", "rejected", "status"):
        assert remote[key] == local[key], key
    assert remote["rejected"] == {"duplicate_id": 4, "missing_id": 1, "invalid_json": 1}
    assert local["status"]["no_duties_occupation_fallback"] == 1 and local["status"]["non_english"] == 0  # German read
    # The repeat in the next batch was scored by a worker, then dropped by the driver.
    assert remote["this_run"]["duplicates_scored"] >= 1


@pytest.mark.slow
def test_csv_ids_stay_text_and_match_the_local_engine(ray_cluster, model, tmp_path):
    import pyarrow.csv as pcsv

    from exposure.jobs import score_postings_ray

    with open(DATA / "postings.jsonl", encoding="utf-8") as f:
        good = [json.loads(line) for line in f if line.strip()][:3]
    ids = ["00123", "123", None, "00123", "x"]  # "00123" and "123" are two ids; the third row has none
    texts = [good[0]["text"], good[1]["text"], good[2]["text"], good[2]["text"], "Duties:\n- Sort, label and file mail"]
    pcsv.write_csv(pa.table({"id": pa.array(ids, pa.string()), "title": ["Clerk"] * 5, "description": texts}),
                   tmp_path / "in.csv")
    local = score_postings_file(tmp_path / "in.csv", tmp_path / "local.parquet", RunOptions(chunk_size=2),
                                scorer=_small_scorer(model))
    remote = score_postings_ray(tmp_path / "in.csv", tmp_path / "ray.parquet", RunOptions(chunk_size=2),
                                scorer=_small_scorer, num_workers=2)
    got = pq.read_table(tmp_path / "ray.parquet")
    _assert_same_rows(got, pq.read_table(tmp_path / "local.parquet"))
    assert got["id"].to_pylist() == ["00123", "123", "x"] and got["row"].to_pylist() == [0, 1, 4]
    assert remote["rejected"] == local["rejected"] == {"duplicate_id": 1, "missing_id": 1, "invalid_json": 0}


@pytest.mark.slow
def test_pools_the_cluster_cannot_hold_and_existing_outputs_are_errors(ray_cluster, postings, tmp_path):
    from exposure.jobs import score_postings_ray

    with pytest.raises(ValueError, match=r"3 workers of 1 CPUs .* use at most 2 workers"):
        score_postings_ray(postings, tmp_path / "a.parquet", scorer=_small_scorer, num_workers=3)
    with pytest.raises(ValueError, match="use fewer CPUs or GPUs per worker"):
        score_postings_ray(postings, tmp_path / "a.parquet", scorer=_small_scorer, gpus_per_worker=1)
    with pytest.raises(ValueError, match="--num-workers must be at least 1"):
        score_postings_ray(postings, tmp_path / "a.parquet", scorer=_small_scorer, num_workers=0)
    (tmp_path / "b.parquet").write_bytes(b"old")
    with pytest.raises(ValueError, match="remove them to score again"):
        score_postings_ray(postings, tmp_path / "b.parquet", scorer=_small_scorer)
    assert not (tmp_path / "a.parquet").exists()


@pytest.mark.parametrize("args, message", [
    (["--address", "auto"], "--address only apply to --engine ray"),
    (["--num-workers", "2", "--gpus-per-worker", "1"], "--num-workers, --gpus-per-worker only apply to --engine ray"),
    (["--engine", "ray", "--resume"], "--resume needs --engine local"),
    (["--engine", "ray", "--num-workers", "0"], "--num-workers must be at least 1"),
    (["--engine", "ray", "--device", "cuda:1"], "with --engine ray use 'auto', 'cpu' or 'cuda'"),
    (["--engine", "ray", "--device", "cpu", "--gpus-per-worker", "1"], "would hold GPUs unused"),
    (["--engine", "ray", "--device", "cuda", "--gpus-per-worker", "0"], "--device cuda needs --gpus-per-worker > 0"),
])
def test_cli_cluster_options_that_make_no_sense_are_errors(args, message, tmp_path, capsys):
    assert main(["score-postings", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.parquet").exists()


def test_cli_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as when it is not installed
    assert main(["score-postings", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"),
                 "--engine", "ray"]) == 2
    assert "pip install 'exposure[ray]'" in capsys.readouterr().err


def test_importing_the_jobs_does_not_import_ray():
    import subprocess

    code = "import sys, exposure.jobs, exposure.jobs.ray; print('ray' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "False", run.stderr


def test_help_describes_the_cluster_options(capsys):
    text = help_text("score-postings", capsys)
    for opt in ("--engine {local,ray}", "--address", "--num-workers", "--cpus-per-worker", "--gpus-per-worker"):
        assert opt in text, opt
