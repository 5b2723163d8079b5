"""exposure.labour.workforce and the `exposure workforce` command (no model)."""

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from exposure.cli import main
from exposure.io import read_provenance
from exposure.labour import load_oews, load_projections, workforce
from exposure.labour.employment import read_employment
from exposure.labour.workforce import task_exposed_shares, wage_quintiles, weighted_mean

from helpers import help_text


# --------------------------------------------------------------------------- arithmetic

def test_weighted_mean_hand_computed():
    assert weighted_mean([0.2, 0.8], [3, 1]) == pytest.approx(0.35)
    assert weighted_mean([0.2, float("nan"), 1.0], [1, 100, 1]) == pytest.approx(0.6)
    assert math.isnan(weighted_mean([float("nan")], [1]))


def test_wage_quintiles_are_employment_weighted():
    assert wage_quintiles([10, 50, 20, 40, 30], [1, 1, 1, 1, 1]).tolist() == [1, 5, 2, 4, 3]
    # One big low-wage occupation spans the first two fifths: its midpoint (0.4) falls in quintile 3.
    assert wage_quintiles([10, 20, 30], [8, 1, 1]).tolist() == [3, 5, 5]
    assert wage_quintiles([10, float("nan")], [1, 1]).tolist() == [3, 0]


def test_task_shares_beta_gamma_and_model():
    t = pa.table({"soc_code": ["A"] * 4 + ["B"] * 2, "human_exposure": ["E0", "E1", "E2", "E0", "E2", "E2"],
                  "weight": [2, 1, 1, 1, 1, 1]})
    beta = {r["soc_code"]: r["task_share_exposed"] for r in task_exposed_shares(t).to_pylist()}
    assert beta == {"A": pytest.approx(1.5 / 5), "B": pytest.approx(0.5)}
    gamma = {r["soc_code"]: r["task_share_exposed"] for r in task_exposed_shares(t, "gamma").to_pylist()}
    assert gamma == {"A": pytest.approx(2 / 5), "B": pytest.approx(1.0)}
    m = pa.table({"soc_code": ["A", "A"], "p_e1": [0.3, 0.1], "p_e2": [0.3, 0.2], "weight": [1, 1]})
    assert task_exposed_shares(m, "gamma")["task_share_exposed"].to_pylist() == [0.5]   # 0.6 >= 0.5, 0.3 not
    assert task_exposed_shares(m, "beta")["task_share_exposed"][0].as_py() == pytest.approx((0.45 + 0.2) / 2)
    with pytest.raises(ValueError, match="task labels must be E0, E1 or E2; column 'human_exposure' holds E3"):
        task_exposed_shares(pa.table({"soc_code": ["A"], "human_exposure": ["E3"]}))
    with pytest.raises(ValueError, match="needs a label column 'human_exposure'"):
        task_exposed_shares(pa.table({"soc_code": ["A"], "x": [1]}))
    with pytest.raises(ValueError, match="unknown measure 'delta'; use one of: beta, gamma"):
        task_exposed_shares(t, "delta")


# --------------------------------------------------------------------------- workforce

def _stand_in():
    """Four occupations, hand-checkable: employment 100/300/200/400 (people)."""
    scores = pa.table({"soc_code": ["15-1252.00", "43-9021.00", "31-1121.00", "31-1122.00", "47-2061.00"],
                       "exposure": [0.8, 0.6, 0.1, 0.3, 0.0], "exposure_llm": [0.9, 0.5, 0.0, 0.2, 0.0],
                       "beta": [0.8, 0.6, 0.1, 0.3, 0.0]})
    emp = pa.table({"soc_code": ["15-1252", "43-9021", "31-1120", "47-2061"],
                    "employment": [100.0, 300.0, 200.0, 400.0]})
    labels = pa.table({"soc_code": ["15-1252.00"] * 2 + ["43-9021.00"] * 2 + ["31-1121.00", "31-1122.00"]
                       + ["47-2061.00"] * 2,
                       "task_id": [1, 2, 3, 4, 5, 6, 7, 8],
                       "human_exposure": ["E1", "E1", "E1", "E0", "E0", "E0", "E0", "E0"],
                       "weight": [1] * 8})
    return scores, emp, labels


def test_workforce_weighting_and_groups():
    scores, emp, labels = _stand_in()
    r = workforce(scores, employment=emp, tasks=labels, task_source="hand")
    # (100*0.8 + 300*0.6 + 200*0.2 + 400*0) / 1000 = 0.3; 31-1120 is the mean of 31-1121 and 31-1122.
    assert r.overall["exposure"] == pytest.approx(0.3)
    assert r.overall["exposure_llm"] == pytest.approx((90 + 150 + 20) / 1000)
    assert r.coverage["matched_share"] == 1.0 and r.coverage["share_hybrid"] == pytest.approx(0.2)
    occ = {x["soc_code"]: x for x in r.occupations.to_pylist()}
    assert occ["31-1120"]["match"] == "hybrid" and occ["31-1120"]["exposure"] == pytest.approx(0.2)
    groups = {x["major_group"]: x for x in r.by_major_group.to_pylist()}
    assert groups["Office and Administrative Support"]["exposure"] == pytest.approx(0.6)
    assert groups["Construction and Extraction"]["workers"] == 400
    # Wages from OEWS: every occupation has one, so the quintiles cover all 1,000 workers.
    assert sum(x["workers"] for x in r.by_wage_quintile.to_pylist()) == 1000
    assert occ["47-2061"]["education"] == "No formal educational credential"
    # Shares (beta): 15-1252 1.0, 43-9021 0.5, 31-1120 0, 47-2061 0 -> >=10 %: 400 / 1000; >=50 %: 400 / 1000.
    shares = {(x["measure"], x["threshold"]): x["share_of_workers"] for x in r.task_shares.to_pylist()}
    assert shares[("beta", 0.1)] == pytest.approx(0.4) and shares[("beta", 0.5)] == pytest.approx(0.4)


def test_workforce_threshold_is_inclusive():
    scores, emp, _ = _stand_in()
    labels = pa.table({"soc_code": ["15-1252.00"] * 10, "human_exposure": ["E1"] + ["E0"] * 9, "weight": [1] * 10})
    r = workforce(scores, employment=emp.slice(0, 1), tasks=labels, measures=["gamma"])
    assert {x["threshold"]: x["share_of_workers"] for x in r.task_shares.to_pylist()} == {0.1: 1.0, 0.5: 0.0}


def test_workforce_beta_column_stands_in_for_tasks():
    scores, emp, _ = _stand_in()
    r = workforce(scores, employment=emp)
    rows = r.task_shares.to_pylist()
    assert [x["measure"] for x in rows] == ["beta", "beta"]
    assert rows[0]["share_of_workers"] == pytest.approx(0.6)       # 0.8, 0.6, 0.2 >= 0.1; 0 not
    assert workforce(scores.drop_columns(["beta"]), employment=emp).task_shares is None


def test_workforce_lists_carry_bls_factors():
    oews = load_oews()
    d = oews.filter(pc.equal(oews["o_group"], "detailed"))
    codes = d["soc_code"].to_pylist()
    # Exposure = the Table 1.7 change sign flipped: shrinking occupations are the most exposed.
    p = {r["soc_code"]: r["employment_change_percent"] for r in load_projections().to_pylist()}
    x = [None if p.get(c) is None else 0.5 - p[c] / 100 for c in codes]
    r = workforce(pa.table({"soc_code": codes, "exposure": x}))
    shrink = r.shrinking_high_exposure.to_pylist()
    assert shrink and all(s["employment_change_percent"] < 0 for s in shrink)
    assert all(s["bls_factor"] for s in shrink[:5])
    assert r.growing_low_exposure.num_rows > 0


def test_workforce_lists_follow_the_chosen_score_and_leave_out_what_bls_says_it_cuts():
    from exposure.labour.workforce import column_technologies, technologies_named

    # BLS Table 1.12: freight movers cut by warehouse robotics and automated packing, truck operators by automated
    # guided vehicles, customer service representatives by speech and language processing; a rise is no cut.
    named = technologies_named(["53-7062", "53-7051", "43-4051", "11-1011", "99-9999"])
    assert named[:3] == [["robotics"], ["vehicles"], ["llm", "software"]] and named[3:] == [[], []]
    assert column_technologies("exposure_robotics") == ("robotics",)
    assert column_technologies("automation") == ("llm",) and column_technologies("rank") == ()

    oews = load_oews()
    codes = oews.filter(pc.equal(oews["o_group"], "detailed"))["soc_code"].to_pylist()
    low = {"53-7062", "53-7051"}  # little exposed on both scores, and growing (Table 1.7)
    table = pa.table({"soc_code": codes, "exposure": [0.0 if c in low else 0.5 + (i % 7) / 20 for i, c in enumerate(codes)],
                      "exposure_robotics": [0.0 if c in low else 0.5 + (i % 5) / 20 for i, c in enumerate(codes)]})
    by_default = workforce(table)
    grow = {r["soc_code"]: r for r in by_default.growing_low_exposure.to_pylist()}
    assert grow["53-7062"]["bls_technologies"] == "robotics"  # flagged: BLS names another technology
    by_robots = workforce(table, by="exposure_robotics")
    assert "exposure_robotics" in by_robots.growing_low_exposure.column_names
    kept = set(by_robots.growing_low_exposure["soc_code"].to_pylist())
    assert "53-7062" not in kept and "53-7051" in kept  # robotics cuts the first, vehicles the second
    assert "53-7062" in by_robots.provenance["growing_left_out"] and by_robots.provenance["by"] == "exposure_robotics"
    occ = by_default.occupations.to_pandas().set_index("soc_code")
    assert occ.loc["29-1215", "wage_top_coded"] and occ.loc["29-1215", "median_wage"] == 208000  # OEWS '#'
    assert not occ.loc["53-7062", "wage_top_coded"]
    assert "top-codes median wages at $208,000" in by_default.summary()
    with pytest.raises(ValueError, match="by='exposure_drones' is not a score column"):
        workforce(table, by="exposure_drones")


def test_workforce_unknown_employment_codes():
    with pytest.raises(ValueError, match="not SOC 2018 codes: 'zz'"):
        workforce(pa.table({"soc_code": ["11-1011"], "exposure": [0.1]}),
                  employment=pa.table({"soc_code": ["zz"], "employment": [1.0]}))
    with pytest.raises(ValueError, match="the employment table has no column 'employment'"):
        workforce(pa.table({"soc_code": ["11-1011"], "exposure": [0.1]}), employment=pa.table({"soc_code": ["x"]}))


# --------------------------------------------------------------------------- CLI

def test_cli_help(capsys):
    out = help_text("workforce", capsys)
    for option in ("--scores", "--task-labels", "--employment", "--code-column", "--employment-column", "--by", "-o"):
        assert option in out


def test_cli_end_to_end(tmp_path, capsys):
    scores, emp, labels = _stand_in()
    pq.write_table(scores, tmp_path / "occ.parquet")
    pcsv.write_csv(emp.rename_columns(["SOC", "jobs"]), tmp_path / "emp.csv")
    pcsv.write_csv(labels, tmp_path / "labels.csv")
    out = tmp_path / "wf"
    assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--task-labels", str(tmp_path / "labels.csv"),
                 "--employment", str(tmp_path / "emp.csv"), "--code-column", "SOC", "--employment-column", "jobs",
                 "--format", "parquet", "-o", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "1,000 workers in 4 occupations; 100.0% matched" in printed
    assert "beta: 40.0% of workers have >= 10% of their tasks exposed" in printed
    for name in ("occupations", "by_major_group", "by_wage_quintile", "by_education", "task_shares",
                 "growing_low_exposure", "shrinking_high_exposure"):
        assert (out / f"{name}.parquet").is_file()
    assert read_provenance(out / "occupations.parquet")["command"] == "workforce"
    assert (out / "summary.md").read_text().startswith("# Who is exposed")
    assert (out / "by_major_group.png").is_file()


def test_cli_errors(tmp_path, capsys):
    scores, _, _ = _stand_in()
    pq.write_table(scores, tmp_path / "occ.parquet")
    (tmp_path / "emp.csv").write_text("SOC,jobs\n99-9999,3\n")
    assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--employment", str(tmp_path / "emp.csv"),
                 "--code-column", "SOC", "--employment-column", "jobs", "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "unknown SOC 2018 code(s): '99-9999'" in capsys.readouterr().err
    assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--employment", str(tmp_path / "emp.csv"),
                 "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "has no column 'soc_code'" in capsys.readouterr().err
    (tmp_path / "l.csv").write_text("soc_code,task_id\n11-1011.00,1\n")
    assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--task-labels", str(tmp_path / "l.csv"),
                 "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "has no column 'human_exposure'" in capsys.readouterr().err
    assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--task-labels", str(tmp_path / "l.csv"),
                 "--task-scores", str(tmp_path / "l.csv"), "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "give --task-labels or --task-scores, not both" in capsys.readouterr().err


# --------------------------------------------------------------------------- ISCO-08 employment

def test_isco_workforce_weighting_by_major_group():
    from exposure.labour.workforce import isco_workforce

    ours = pa.table({"isco08": ["2512", "2511", "9629"], "exposure": [0.8, 0.6, 0.1],
                     "automation_exposure": [0.5, 0.5, 0.2]})
    emp = pa.table({"isco08": ["2512", "2511", "9629", "7212"], "employment": [300.0, 100.0, 100.0, 500.0]})
    r = isco_workforce(ours, emp)
    # Matched: 500 of 1,000 workers (7212 has no score of ours and counts in no mean).
    assert r.coverage["matched_share"] == pytest.approx(0.5) and r.coverage["unit_groups"] == 4
    assert r.overall["exposure"] == pytest.approx((300 * 0.8 + 100 * 0.6 + 100 * 0.1) / 500)
    major = {row["major_group"]: row for row in r.by_major_group.to_pylist()}
    assert major["2"]["exposure"] == pytest.approx(0.75) and major["2"]["title"] == "Professionals"
    assert major["7"]["workers"] == 500 and major["7"]["matched_workers"] == 0 and math.isnan(major["7"]["exposure"])


def test_cli_workforce_isco(tmp_path, capsys):
    scores = tmp_path / "isco.csv"
    pcsv.write_csv(pa.table({"isco08": ["2512", "9629", "1120"], "exposure": [0.8, 0.1, 0.5]}), scores)
    emp = tmp_path / "emp.csv"
    emp.write_text("isco08,employment\n2512,300\n9629,100\n1120,100\n")
    out = tmp_path / "out"
    assert main(["workforce", "--taxonomy", "isco08", "--scores", str(scores), "--employment", str(emp),
                 "-o", str(out), "--no-plots", "--format", "parquet"]) == 0
    text = capsys.readouterr().out
    assert "500 workers in 3 ISCO-08 unit groups; 100.0% matched" in text and "exposure 0.600" in text  # (300·0.8 + 100·0.1 + 100·0.5) / 500
    assert read_provenance(out / "unit_groups.parquet")["taxonomy"] == "isco08"
    assert "By ISCO-08 major group" in (out / "summary.md").read_text()
    # Employment by major group (examples/isco_employment_deu_major.csv: ILOSTAT, Germany 2018)
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "isco_employment_deu_major.csv"
    assert main(["workforce", "--taxonomy", "isco08", "--scores", str(scores), "--employment", str(example),
                 "-o", str(tmp_path / "deu"), "--no-plots"]) == 0
    assert "41,872,267 workers in 10 ISCO-08 major groups" in capsys.readouterr().out
    # The US-only options and a missing employment table are errors that say why.
    assert main(["workforce", "--taxonomy", "isco08", "--scores", str(scores), "-o", str(out)]) == 2
    assert "--taxonomy isco08 needs --employment FILE" in capsys.readouterr().err
    assert main(["workforce", "--taxonomy", "isco08", "--scores", str(scores), "--employment", str(emp),
                 "--no-residuals", "-o", str(out)]) == 2
    assert "--no-residuals belong(s) to the SOC 2018 view" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("isco08,employment\n9999,10\n")
    assert main(["workforce", "--taxonomy", "isco08", "--scores", str(scores), "--employment", str(bad),
                 "-o", str(out)]) == 2
    assert "codes that are not ISCO-08 groups of one level" in capsys.readouterr().err


def test_employment_rows_without_a_value_are_named_and_no_workers_is_an_error(tmp_path, caplog, capsys):
    pq.write_table(pa.table({"soc_code": ["15-1252.00", "43-4051.00"], "exposure": [0.7, 0.4]}), tmp_path / "occ.parquet")
    (tmp_path / "nan.csv").write_text("soc_code,employment\n15-1252,1000\n43-4051,\n")
    with caplog.at_level("WARNING", logger="exposure"):
        t = read_employment(tmp_path / "nan.csv")
    assert t["soc_code"].to_pylist() == ["15-1252"]
    assert "1 row(s) with no value in column 'employment' left out, codes: 43-4051" in caplog.text
    (tmp_path / "zero.csv").write_text("soc_code,employment\n15-1252,0\n43-4051,0\n")
    with pytest.raises(ValueError, match="counts no workers: every employment value is 0 or missing"):
        workforce(pq.read_table(tmp_path / "occ.parquet"), employment=read_employment(tmp_path / "zero.csv"))
    capsys.readouterr()
    assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--employment", str(tmp_path / "zero.csv"),
                 "-o", str(tmp_path / "out"), "--no-plots", "-q"]) == 2
    out, err = capsys.readouterr()
    assert "nan%" not in out and "counts no workers" in err and not (tmp_path / "out").exists()


def test_workforce_help_shows_plain_percent_signs(capsys):
    with pytest.raises(SystemExit):
        main(["workforce", "--help"])
    text = capsys.readouterr().out
    assert "%%" not in text and "10% / 50%" in " ".join(text.split())


def test_workforce_aggregates_carry_the_occupations_intervals():
    codes = ["15-1252", "43-9021", "47-2061", "11-1011"]
    x = np.array([0.8, 0.6, 0.05, 0.4])
    emp = pa.table({"soc_code": codes, "employment": [300.0, 100.0, 500.0, 100.0]})
    scores = pa.table({"soc_code": codes, "exposure": x, "beta": x,
                       "exposure_low": x - 0.1, "exposure_high": x + 0.1})
    r = workforce(scores, employment=emp, thresholds=(0.1, 0.5, 0.85))
    assert r.overall["exposure_low"] < r.overall["exposure"] < r.overall["exposure_high"]
    # the mean of four occupations is surer than each of them
    assert r.overall["exposure_high"] - r.overall["exposure_low"] < 0.2
    by = r.by_major_group.to_pylist()
    assert all(g["exposure_low"] <= g["exposure"] <= g["exposure_high"] for g in by)
    shares = {row["threshold"]: row for row in r.task_shares.to_pylist()}
    assert sorted(shares) == [0.1, 0.5, 0.85]
    assert shares[0.5]["share_of_workers"] == pytest.approx(0.4)  # 0.8 and 0.6: 400 of 1,000
    assert shares[0.5]["share_low"] <= 0.4 <= shares[0.5]["share_high"]
    assert shares[0.85]["share_of_workers"] == 0 and shares[0.85]["share_high"] == pytest.approx(0.3)  # 0.8 may pass
    assert "exposure_low" not in r.score_columns and "exposure_low" in r.occupations.column_names
    plain = workforce(scores.drop_columns(["exposure_low", "exposure_high"]), employment=emp)
    assert "exposure_low" not in plain.overall and "share_low" not in plain.task_shares.column_names


def test_cli_thresholds(tmp_path, capsys):
    scores, emp, _ = _stand_in()
    pq.write_table(scores, tmp_path / "occ.parquet")
    out = tmp_path / "wf"
    assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--thresholds", "0.25,0.75", "--no-plots",
                 "-o", str(out), "-q"]) == 0
    assert ">= 25% of their tasks" in capsys.readouterr().out
    assert main(["workforce", "--taxonomy", "isco08", "--employment", str(tmp_path / "occ.parquet"), "--by",
                 "exposure_llm", "-o", str(out)]) == 2
    assert "--by and --thresholds apply to the SOC 2018 view" in capsys.readouterr().err
    for bad in ("0,0.5", "x"):
        assert main(["workforce", "--scores", str(tmp_path / "occ.parquet"), "--thresholds", bad, "-o", str(out)]) == 2
        assert "--thresholds" in capsys.readouterr().err
