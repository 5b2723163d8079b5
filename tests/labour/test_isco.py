"""ISCO-08: task lists, codes, roll-ups through SOC 2010, native scores (stand-in model), compare, employment."""

import doctest
import hashlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pytest

from exposure.cli import main
from exposure.labour import isco
from exposure.labour.isco import (isco_employment_join, isco_table, isco_tasks, load_isco_crosswalk,
                                  load_isco_groups, normalize_isco_codes, parse_task_list, read_isco_employment,
                                  score_isco, to_isco08, to_isco_level)
from exposure.occupations.compare import compare_index

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "isco_employment.csv"


def _rows(table, key="isco08"):
    return {r[key]: r for r in table.to_pylist()}


# --------------------------------------------------------------------------- task lists


def test_parse_task_list_variants():
    desc = ("Teachers teach.\nIn such cases tasks performed would include -\n(a)  assessing   students;  \n"
            "(b ) planning lessons; and\n\n(c)  marking work.\nExamples of the occupations classified here:\n"
            "- Tutor\n(d) not a task")
    assert parse_task_list(desc) == ["Assessing students.", "Planning lessons.", "Marking work."]
    assert parse_task_list("Tasks include -\n(a) x;") == ["X."]
    assert parse_task_list("Managers of camp sites.\nExamples of the occupations classified here:\n- Camp") == []
    assert parse_task_list("") == []


def test_shipped_task_lists():
    groups = load_isco_groups(4)
    tasks = isco_tasks()
    assert groups.num_rows == 436 and [load_isco_groups(d).num_rows for d in (1, 2, 3)] == [10, 43, 130]
    listed = tasks.filter(pc.invert(tasks["from_definition"]))
    assert (tasks.num_rows, listed.num_rows) == (3273, 3264)
    assert len(set(listed["isco08"].to_pylist())) == 427
    assert sorted(set(tasks["isco08"].to_pylist())) == groups["isco08"].to_pylist()
    fallback = sorted(tasks.filter(tasks["from_definition"])["isco08"].to_pylist())
    assert fallback == ["0110", "0210", "0310", "1439", "3139", "3435", "5249", "7319", "8189"]
    ids = tasks["task_id"].to_pylist()
    assert len(set(ids)) == len(ids) and ids[:1] == ["0110.0"]
    # "(d ) performing certain basic clinical procedures" keeps its place in the list
    assert all(t.endswith(".") and t[0].isupper() for t in tasks["task"].to_pylist())


def test_doctests():
    result = doctest.testmod(isco)
    assert result.failed == 0 and result.attempted > 10


# --------------------------------------------------------------------------- codes


def test_normalize_isco_codes():
    got = normalize_isco_codes(["2512", " ISCO 2512 ", "ISCO-08 2512", "isco08:2512", 2512, 2512.0, 110, "0110",
                                "ISCO 0812", "251", "25120", "x", None, True, float("nan")])
    assert got == ["2512"] * 6 + ["0110", "0110", "0812"] + [None] * 6
    assert normalize_isco_codes(["25", "ISCO 2"], digits=2) == ["25", None]
    with pytest.raises(ValueError, match="1 to 4 digits"):
        normalize_isco_codes(["1"], digits=5)


# --------------------------------------------------------------------------- roll-ups


def test_crosswalk_shipped():
    cw = load_isco_crosswalk()
    assert cw.num_rows == 1131 and cw.column_names == ["soc_2010_code", "isco08"]
    assert set(cw["isco08"].to_pylist()) <= set(load_isco_groups(4)["isco08"].to_pylist())


def test_to_isco08_from_soc2010_by_hand():
    # Concordance: 15-1111, 15-1121 -> 2511; 11-1011 -> 1112, 1113, 1120; 11-1021 -> 1112, 1114, 1120, ...
    t = pa.table({"soc_code": ["15-1111", "15-1121", "11-1011", "11-1021"], "exposure": [0.2, 0.6, 0.3, 0.5],
                  "n_tasks": [10, 20, 5, 7], "labelled": [True, False, False, False]})
    rows = _rows(to_isco08(t, "soc2010"))
    assert len(rows) == 436
    assert rows["2511"]["exposure"] == pytest.approx(0.4)                       # (0.2 + 0.6) / 2
    assert rows["2511"]["soc_2010_codes"] == "15-1111;15-1121" and rows["2511"]["n_tasks"] == 30
    assert rows["2511"]["labelled"] is True
    assert rows["1112"]["exposure"] == pytest.approx(0.4)                       # (0.3 + 0.5) / 2
    assert rows["1113"]["exposure"] == pytest.approx(0.3)                       # 11-1011 alone, in full
    assert rows["1114"]["exposure"] == pytest.approx(0.5)
    assert rows["2512"]["exposure"] is None and rows["2512"]["n_tasks"] == 0   # no member in the table
    assert rows["2511"]["title"] == "Systems analysts"
    assert rows["2511"]["rank"] < rows["1113"]["rank"] or rows["2511"]["exposure"] == rows["1112"]["exposure"]


def test_to_isco08_from_onet_chain_and_evidence():
    # O*NET 15-1252.00 (0.9), 15-1253.00 (0.5) -> SOC 2018 -> SOC 2010 15-1132 = 15-1133 = 0.7, 15-1199 = 0.5
    # -> ISCO 2512 = mean(15-1132, 15-1133) = 0.7; 2519 <- 15-1199 = 0.5.
    t = pa.table({"soc_code": ["15-1252.00", "15-1253.00"], "exposure": [0.9, 0.5],
                  "top_task_1_id": pa.array([1, 3], pa.int32()), "top_task_1": ["Write code.", "Test code."],
                  "top_task_1_exposure": [0.95, 0.6],
                  "top_task_2_id": pa.array([2, None], pa.int32()), "top_task_2": ["Review code.", None],
                  "top_task_2_exposure": [0.7, None]})
    rows = _rows(to_isco08(t))
    assert rows["2512"]["exposure"] == pytest.approx(0.7) and rows["2519"]["exposure"] == pytest.approx(0.5)
    assert rows["2512"]["soc_2010_codes"] == "15-1132;15-1133"
    # 15-1252's tasks reach 2512 through both SOC 2010 codes: each listed once
    assert (rows["2512"]["top_task_1"], rows["2512"]["top_task_2"]) == ("Write code.", "Review code.")
    assert rows["2512"]["top_task_1_id"] == 1 and rows["2512"]["top_task_2_exposure"] == pytest.approx(0.7)
    assert (rows["2519"]["top_task_1"], rows["2519"]["top_task_2"]) == ("Test code.", None)


def test_to_isco_level_means_unit_groups():
    t = pa.table({"isco08": ["2511", "2512", "2519", "9629"], "exposure": [0.8, 0.6, None, 0.1],
                  "n_tasks": [3, 4, 0, 2]})
    rows = _rows(to_isco_level(t, 3))
    assert rows["251"]["exposure"] == pytest.approx(0.7) and rows["251"]["n_tasks"] == 7
    assert rows["251"]["isco08_units"] == "2511;2512;2519" and rows["251"]["title"].startswith("Software")
    assert _rows(to_isco_level(t, 1))["9"]["exposure"] == pytest.approx(0.1)
    assert to_isco_level(t, 4) is not None and to_isco_level(t, 1).num_rows == 10
    with pytest.raises(ValueError, match="not 4-digit ISCO-08 codes: '251'"):
        to_isco_level(pa.table({"isco08": ["251"], "exposure": [0.1]}), 1)


def test_isco_table_equal_weights_and_errors():
    t = pa.table({"isco08": ["2512", "ISCO 2512", "2512", "9629"], "task_id": ["2512.a", "2512.b", "2512.c", "9629.a"],
                  "task": ["a", "b", "c", "d"], "exposure": [0.9, 0.3, 0.6, 0.2],
                  "p_e0": [0.0, 0.5, 0.2, 0.8], "p_e1": [0.8, 0.2, 0.4, 0.2], "p_e2": [0.2, 0.3, 0.4, 0.0],
                  "exposure_llm": [0.5, 0.1, 0.3, 0.0]})
    rows = _rows(isco_table(t, top_tasks=2))
    r = rows["2512"]
    assert r["exposure"] == pytest.approx(0.6) and r["n_tasks"] == 3 and r["exposure_llm"] == pytest.approx(0.3)
    assert r["beta"] == pytest.approx(np.mean([0.9, 0.35, 0.6]))
    assert (r["top_task_1"], r["top_task_2"], r["top_task_1_id"]) == ("a", "c", "2512.a") and r["rank"] == 1
    assert rows["0110"]["n_tasks"] == 0 and rows["0110"]["exposure"] is None
    with pytest.raises(ValueError, match="unknown ISCO-08 unit groups in the task scores: 9999"):
        isco_table(pa.table({"isco08": ["9999"], "exposure": [0.1]}))
    with pytest.raises(ValueError, match="has no column 'exposure'"):
        isco_table(pa.table({"isco08": ["2512"]}))


# --------------------------------------------------------------------------- native scores, stand-in model


class _Encoder:
    """Deterministic 8-d unit vectors from a hash of each text; counts the texts it encodes."""

    name, dim, dtype = "stand-in", 8, "float32"

    def __init__(self):
        self.encoded = 0

    def encode(self, texts, show_progress=False):
        self.encoded += len(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8).astype(np.float32) + 1
                for t in texts]
        emb = np.stack(rows)
        return emb / np.linalg.norm(emb, axis=1, keepdims=True)


class _Model:
    """What score_isco uses of an ExposureModel: an encoder, score_embeddings, provenance."""

    technologies = ("llm",)
    calibrated = False

    def __init__(self):
        self.encoder = _Encoder()

    def score_embeddings(self, emb, texts=None):
        x = emb[:, 0].astype(np.float64)
        table = pa.table({"text": texts, "exposure": x, "exposure_llm": x / 2, "automation_exposure": x / 3})
        return SimpleNamespace(to_arrow=lambda: table)

    def provenance(self):
        return {"mode": "zero-shot", "encoder": "stand-in"}


def test_score_isco_native_caches_embeddings(tmp_path):
    model = _Model()
    first = score_isco(model, "native", cache_dir=tmp_path)
    n = model.encoder.encoded
    assert n >= 3273 and first.num_rows == 436
    second = score_isco(model, "native", cache_dir=tmp_path)
    assert model.encoder.encoded - n < 10  # only the probe text: the task embeddings came from the cache
    assert first.equals(second)
    assert pc.sum(first["from_definition"]).as_py() == 9 and pc.min(first["n_tasks"]).as_py() == 1
    assert {"exposure", "exposure_llm", "automation_exposure", "rank", "top_task_1"} <= set(first.column_names)
    major = score_isco(model, "native", digits=1, cache_dir=tmp_path)
    assert major.num_rows == 10 and "isco08_units" in major.column_names


def test_score_isco_rejects_bad_options():
    with pytest.raises(ValueError, match="unknown ISCO-08 source 'ilo'; use one of: native, onet"):
        score_isco(_Model(), "ilo")
    with pytest.raises(ValueError, match="1 to 4 digits"):
        score_isco(_Model(), digits=5)
    with pytest.raises(ValueError, match="embeddings have 2 rows; isco_tasks"):
        score_isco(_Model(), embeddings=np.zeros((2, 8), np.float32), cache_dir=False)


def test_cli_occupations_isco08(tmp_path, monkeypatch, capsys):
    import exposure.cli as cli
    import pyarrow.parquet as pq

    from exposure.io import read_provenance

    monkeypatch.setenv("EXPOSURE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cli, "_model", lambda args, technologies=None: _Model())
    out = tmp_path / "isco.parquet"
    assert main(["occupations", "--taxonomy", "isco08", "-o", str(out), "-q", "--device", "cpu"]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 436 and "isco08" in table.column_names
    record = read_provenance(out)
    assert record["taxonomy"] == "isco08" and record["isco_source"] == "native" and record["mode"] == "zero-shot"
    assert "equal task weights" in record["aggregation"]
    assert "isco08" in capsys.readouterr().out
    assert main(["occupations", "--taxonomy", "isco08", "--isco-digits", "2", "-o", str(tmp_path / "s.csv"),
                 "-q", "--device", "cpu"]) == 0
    assert pcsv.read_csv(tmp_path / "s.csv").num_rows == 43


@pytest.mark.parametrize("argv, message", [
    (["--taxonomy", "isco08", "--level", "soc2018"], "--level applies to --taxonomy onet"),
    (["--isco-source", "native"], "--isco-source and --isco-digits apply to --taxonomy isco08"),
])
def test_cli_occupations_isco08_option_errors(tmp_path, capsys, argv, message):
    assert main(["occupations", "-o", str(tmp_path / "x.csv"), *argv]) == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------- compare


OURS = pa.table({"isco08": ["2511", "2512", "4110", "9629", "0110"], "title": ["a", "b", "c", "d", "e"],
                 "exposure": [0.7, 0.9, 0.8, 0.1, 0.2]})


def test_compare_isco08_codes():
    index = pa.table({"code": ["ISCO 2511", "2512", "4110", "9629", "110", "9999", "25"],
                      "score": [0.5, 0.8, 0.9, 0.0, 0.1, 0.3, 0.4]})
    r = compare_index(index, OURS, "code", "score", "isco08", n_boot=100)
    assert r.n_matched == 4 and sorted(r.unmatched) == ["110", "25", "9999"]
    assert r.joined["code"].to_pylist() == ["2511", "2512", "4110", "9629"]
    assert "ISCO-08" in r.summary() and r.spearman == pytest.approx(0.8)
    # integer codes in our table ("0110" read as 110 from a CSV) are normalised too
    ours = OURS.set_column(0, "isco08", pa.array([2511, 2512, 4110, 9629, 110]))
    assert compare_index(index, ours, "code", "score", "isco08", n_boot=0).n_matched == 4


def test_compare_isco08_needs_an_isco_table():
    index = pa.table({"code": ["2512"], "score": [0.5]})
    ours = pa.table({"soc_code": ["15-1252.00"], "exposure": [0.5]})
    with pytest.raises(ValueError, match="our scores have no 'isco08' column; make an ISCO-08 table"):
        compare_index(index, ours, "code", "score", "isco08")
    with pytest.raises(ValueError, match="use one of: onet, soc2018, soc2010, isco08"):
        compare_index(index, ours, "code", "score", "isco")


def test_cli_compare_isco08(tmp_path, capsys):
    index = tmp_path / "index.csv"
    index.write_text("ISCO code,score\nISCO 2511,0.5\n2512,0.8\n4110,0.9\n9629,0\n", encoding="utf-8")
    scores = tmp_path / "ours.csv"
    pcsv.write_csv(OURS, scores)  # "0110" is read back as the number 110
    argv = ["compare", str(index), "--code-column", "ISCO code", "--value-column", "score", "--code-system",
            "isco08", "--n-boot", "50"]
    assert main([*argv, "--scores", str(scores)]) == 0
    assert "matched: 4" in capsys.readouterr().out
    # an O*NET table is rolled up to ISCO-08 first
    onet = tmp_path / "onet.csv"
    pcsv.write_csv(pa.table({"soc_code": ["15-1252.00", "15-1253.00", "15-1211.00", "43-4171.00"],
                             "exposure": [0.9, 0.5, 0.6, 0.7]}), onet)
    assert main([*argv, "--scores", str(onet)]) == 0
    assert "matched:" in capsys.readouterr().out
    assert main([*argv, "--scores", str(onet), "--isco-source", "onet"]) == 2
    assert "--isco-source applies to --code-system isco08 without --scores" in capsys.readouterr().err


# --------------------------------------------------------------------------- employment


def test_example_employment_joins():
    emp = read_isco_employment(EXAMPLE)
    assert emp.num_rows == 22 and emp.column_names == ["isco08", "employment"]
    joined = isco_employment_join(EXAMPLE, OURS)
    rows = _rows(joined)
    assert rows["2512"]["exposure"] == pytest.approx(0.9) and rows["2512"]["major_group"] == "2"
    assert rows["1120"]["exposure"] is None  # no score of ours: kept, with a warning
    assert pc.sum(joined["employment_share"]).as_py() == pytest.approx(1.0)
    assert rows["2512"]["title"] == "Software developers"


def test_employment_errors(tmp_path):
    with pytest.raises(ValueError, match=r"has no column 'isco'; its columns are: isco08, employment, note"):
        read_isco_employment(EXAMPLE, code_column="isco")
    bad = pa.table({"isco08": ["2512", "9999", "ISCO 25", "4110"], "employment": [1, 2, 3, 4]})
    with pytest.raises(ValueError, match=r"not ISCO-08 groups of one level .*: '9999', 'ISCO 25'"):
        read_isco_employment(bad)
    with pytest.raises(ValueError, match=r"reads as ISCO-08 groups of 2 or 1 digits"):
        read_isco_employment(pa.table({"isco08": [1, 2, 3], "employment": [1, 2, 3]}))
    with pytest.raises(ValueError, match=r"'employment' is missing or negative for '4110'"):
        read_isco_employment(pa.table({"isco08": ["2512", "4110"], "employment": [1.0, -2.0]}))
    with pytest.raises(ValueError, match="has no column 'beta'"):
        isco_employment_join(EXAMPLE, OURS, columns=["beta"])


def test_employment_of_major_or_sub_major_groups_weighs_our_scores_rolled_up():
    """Statistics offices publish employment by major (1-digit) or sub-major (2-digit) group."""
    from exposure.labour import isco_workforce

    ours = pa.table({"isco08": ["2511", "2512", "4110", "9629"], "exposure": [0.6, 0.8, 0.7, 0.1]})
    major = pa.table({"isco08": ["2", "4", "9"], "employment": [300.0, 100.0, 600.0]})
    joined = {r["isco08"]: r for r in isco_employment_join(major, ours).to_pylist()}
    assert joined["2"]["title"] == "Professionals" and joined["2"]["exposure"] == pytest.approx(0.7)  # 2511, 2512
    r = isco_workforce(ours, major)
    assert r.overall["exposure"] == pytest.approx((300 * 0.7 + 100 * 0.7 + 600 * 0.1) / 1000)
    sub_major = read_isco_employment(pa.table({"code": ["25", "41", "96"], "n": [1, 2, 3]}), "code", "n")
    assert sub_major["isco08"].to_pylist() == ["25", "41", "96"]
    assert {r["isco08"]: r["exposure"] for r in isco_employment_join(sub_major, ours).to_pylist()} == pytest.approx(
        {"25": 0.7, "41": 0.7, "96": 0.1})
