import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exposure.cli import main

from helpers import help_text, labelled_postings, write_rows

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tasks.csv"


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--help"], ["score-tasks", "--help"], ["info", "--help"]])
def test_help_for_every_command(args):
    out = subprocess.run([sys.executable, "-m", "exposure", *args], capture_output=True, text=True, check=True)
    assert "usage: exposure" in out.stdout
    if "score-tasks" in args:
        for option in ("--text-column", "--device", "--batch-size", "--capabilities", "--output"):
            assert option in out.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "score-tasks" in capsys.readouterr().out


@pytest.mark.slow
def test_prints_a_readable_table(capsys):
    assert main(["score-tasks", str(EXAMPLE), "--device", "cpu", "-q",
                 "--text-column", "task"]) == 0
    out = capsys.readouterr().out
    assert "exposure" in out.splitlines()[0] and "best-matching capability" in out.splitlines()[0]
    assert "Translate technical manuals" in out
    assert len(out.splitlines()) == 2 + 24


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".parquet", ".csv"])
def test_writes_every_row_with_input_columns(tmp_path, ext, capsys):
    out = tmp_path / f"scores{ext}"
    assert main(["score-tasks", str(EXAMPLE), "-o", str(out), "--device", "cpu", "--chunk-size", "5"]) == 0
    if ext == ".parquet":
        table = pq.read_table(out)
    else:
        import pyarrow.csv as pcsv
        table = pcsv.read_csv(out)
    assert table.num_rows == 24
    assert {"occupation", "task", "exposure", "exposure_robotics", "evidence_1_statement"} <= set(table.column_names)
    assert table.column("occupation").to_pylist()[0] == "Customer Service Representatives"
    err = capsys.readouterr().err
    assert "scored 24 tasks" in err and "tasks/s" in err


@pytest.mark.slow
def test_zero_shot_switch_uses_the_zero_shot_rule(tmp_path, encoder, model):
    from exposure import ExposureModel

    out = {}
    for flag in ([], ["--zero-shot"]):
        path = tmp_path / f"scores{len(flag)}.parquet"
        assert main(["score-tasks", str(EXAMPLE), "-o", str(path), "--device", "cpu", "-q", *flag]) == 0
        out[bool(flag)] = pq.read_table(path)
    texts = out[True].column("task").to_pylist()
    # The session's CPU encoder and default model (conftest.py), the ones --device cpu builds.
    rule = ExposureModel(encoder, calibrated=False).score_tasks(texts).exposure
    head = model.score_tasks(texts).exposure
    assert not (rule == head).all()  # the two predictors differ, so the check below can fail
    assert out[True].column("exposure").to_numpy() == pytest.approx(rule, abs=1e-6)
    assert out[False].column("exposure").to_numpy() == pytest.approx(head, abs=1e-6)
    # Each file says how it was made: the two modes are different quantities.
    from exposure.io import read_provenance

    zero, calibrated = read_provenance(tmp_path / "scores1.parquet"), read_provenance(tmp_path / "scores0.parquet")
    assert zero["mode"] == "zero-shot" and zero["head"] is None and zero["command"] == "score-tasks"
    assert calibrated["mode"] == "calibrated" and calibrated["head"]["checksum"] == model.head.checksum
    assert calibrated["capabilities"]["checksum"] == model.capabilities.checksum and calibrated["dtype"]
    assert calibrated["fingerprint"] == model.fingerprint() != zero["fingerprint"]


@pytest.mark.slow
def test_jsonl_input(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "Write reports."}\n{"id": 2, "text": null}\n')
    out = tmp_path / "out.parquet"
    assert main(["score-tasks", str(src), "-o", str(out), "--text-column", "text", "--device", "cpu", "-q"]) == 0
    exposure = pq.read_table(out).column("exposure").to_pylist()
    assert exposure[0] is not None and exposure[1] != exposure[1]  # NaN for the null text


@pytest.mark.parametrize("args, message", [
    (["--text-column", "description"], "has no column 'description'; its columns are: occupation, task"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["-o", "out.xlsx"], "unknown extension '.xlsx'"),
    (["--capabilities", "missing.yaml"], "missing.yaml"),
])
def test_errors_name_the_problem(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["score-tasks", str(EXAMPLE), "--device", "cpu", *args]) == 2
    assert message in capsys.readouterr().err


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


def test_empty_and_missing_files(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["score-tasks", str(empty)]) == 2
    assert "is empty" in capsys.readouterr().err
    assert main(["score-tasks", str(tmp_path / "none.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "kernel isa" in out and "openmp" in out


@pytest.mark.slow
def test_info_shows_how_a_file_was_made(tmp_path, capsys):
    import json

    out = tmp_path / "scores.parquet"
    assert main(["score-tasks", str(EXAMPLE), "-o", str(out), "--device", "cpu", "-q", "--zero-shot"]) == 0
    assert main(["info", str(out)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["mode"] == "zero-shot" and record["encoder"] == "all-MiniLM-L6-v2" and record["exposure_version"]
    csv = tmp_path / "scores.csv"
    assert main(["score-tasks", str(EXAMPLE), "-o", str(csv), "--device", "cpu", "-q"]) == 0
    for path, message in ((csv, "records no provenance"), (tmp_path / "none.parquet", "no such file")):
        assert main(["info", str(path)]) == 2
        assert message in capsys.readouterr().err


def test_the_command_ends_after_its_exit_handlers_with_mains_status():
    code = ("import atexit; from exposure.cli import run; atexit.register(print, 'exit handler ran'); "
            "run([])")  # no command: main prints the help and returns 2
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout.startswith("usage: exposure") and done.stdout.rstrip().endswith("exit handler ran")
    done = subprocess.run([sys.executable, "-m", "exposure", "score-tasks", "--help"], capture_output=True, text=True,
                          timeout=120)  # --help still ends the usual way
    assert done.returncode == 0 and "usage: exposure score-tasks" in done.stdout


@pytest.mark.parametrize("name, content", [
    ("text_then_number.jsonl", '{"task": "Answer phones"}\n{"task": 5}\n'),
    ("number_then_text.jsonl", '{"task": 5}\n{"task": "Answer phones"}\n'),
    ("number.csv", "task\nAnswer phones\n12345\n"),
])
def test_numbers_among_tasks_are_not_text_rows(tmp_path, name, content):
    src, out = tmp_path / name, tmp_path / "out.parquet"
    src.write_text(content)
    assert main(["score-tasks", str(src), "-o", str(out), "--device", "cpu", "-q"]) == 0
    rows = {r["task"]: r for r in pq.read_table(out).to_pylist()}
    assert rows["Answer phones"]["status"] == "ok" and rows["Answer phones"]["exposure"] is not None
    number = rows["5" if "jsonl" in name else "12345"]
    assert number["status"] == "not_text" and not number["exposure"] == number["exposure"]  # null or NaN: no score


def test_unreadable_input_is_status_1_with_one_line(tmp_path, capsys, monkeypatch):
    import builtins

    from exposure import io as io_module

    src = tmp_path / "tasks.csv"
    src.write_text("task\nAnswer phones\n")
    if os.geteuid() != 0:  # root reads any file: simulate what chmod 000 does for another user
        src.chmod(0)
    else:
        monkeypatch.setattr(io_module, "open", lambda f, *a, **k: (_ for _ in ()).throw(
            PermissionError(13, "Permission denied", str(f))) if str(f) == str(src) else builtins.open(f, *a, **k),
            raising=False)
    assert main(["score-tasks", str(src), "-o", str(tmp_path / "out.csv"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err == f"exposure score-tasks: error: cannot read {str(src)!r}: permission denied: make it readable " \
                  "(chmod u+r) or run as a user who may read it\n"


def test_info_on_a_folder_says_it_is_a_folder(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    assert f"{tmp_path} is a folder, not a file" in capsys.readouterr().err


def test_an_output_under_a_file_says_which_path_is_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file")
    assert main(["score-tasks", str(EXAMPLE), "-o", "taken/out.csv", "-q"]) == 1
    assert "cannot write taken/out.csv: 'taken' is a file, not a folder" in capsys.readouterr().err
    pq.write_table(pa.table({"soc_code": ["15-1252.00"], "exposure": [0.7]}), tmp_path / "occ.parquet")
    assert main(["workforce", "--scores", "occ.parquet", "-o", "taken", "--no-plots", "-q"]) == 1
    assert "cannot write taken: 'taken' is a file, not a folder" in capsys.readouterr().err
