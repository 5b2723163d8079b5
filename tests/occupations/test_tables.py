"""exposure.occupations.tables: aggregation, the paper's measures, occupation tables, roll-ups and crosswalks, from any
kind of table."""

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pytest

from exposure.occupations import (LEVELS, RELEASES, aggregate, exposure_measures, load_crosswalk, load_tasks,
                                  occupation_table, one_hot, to_level, to_soc2010, to_soc2018)

from helpers import OCCUPATION_SCORES, SHARED_DATA, assert_same_table, frame_kinds, needs_shared_data

DATA = SHARED_DATA
#: Task scores of two occupations, for tables of every kind.
TASKS = {"soc_code": ["11-1011.00", "11-1011.00", "11-1011.00", "15-1252.00", "15-1252.00"],
         "task_id": [1, 2, 3, 4, 5], "weight": [2, 1, 1, 2, 2],
         "task": ["plan", "greet", "sign", "code", "test"],
         "exposure": [0.9, 0.1, 0.5, 0.8, 0.6], "exposure_llm": [1.0, 0.0, 0.0, 1.0, 1.0]}


def _read(path, sep=","):
    return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=sep),
                         convert_options=pcsv.ConvertOptions(column_types={"soc_code": pa.string()}))


def test_no_torch_at_import():
    code = "import sys, exposure.occupations.tables, exposure.occupations.compare, exposure.occupations.assign; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- aggregation

def test_aggregate_weighted_mean_ignores_nan_with_its_weight():
    t = aggregate(["b", "a", "a", "a", "c"], [1, 2, 1, 5, 1],
                  {"x": np.array([0.5, 1.0, 0.0, np.nan, np.nan]), "y": np.array([1, 1, 1, 1, 0])})
    rows = {r["soc_code"]: r for r in t.to_pylist()}
    assert t["soc_code"].to_pylist() == ["a", "b", "c"]
    assert rows["a"]["n_tasks"] == 3 and rows["a"]["x"] == pytest.approx(2 / 3)
    assert rows["b"]["x"] == 0.5 and rows["c"]["x"] is None  # all missing -> null
    assert rows["a"]["y"] == 1.0 and rows["c"]["y"] == 0.0


def test_aggregate_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    codes = rng.choice([f"{i:02d}-0000.00" for i in range(40)], size=2000)
    w = rng.integers(1, 3, size=2000).astype(float)
    x = rng.random(2000)
    x[rng.random(2000) < 0.1] = np.nan
    t = aggregate(codes, w, {"x": x})
    for code, value in zip(t["soc_code"].to_pylist(), t["x"].to_pylist()):
        sel = (codes == code) & ~np.isnan(x)
        assert value == pytest.approx(np.sum(w[sel] * x[sel]) / np.sum(w[sel]), rel=1e-12)


def test_aggregate_checks_its_input():
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        aggregate(["a", "b"], [1], {"x": np.zeros(2)})
    with pytest.raises(ValueError, match="non-negative"):
        aggregate(["a", "b"], [1, -1], {"x": np.zeros(2)})
    with pytest.raises(TypeError, match="column 'x' must be numeric"):
        aggregate(["a", "b"], None, {"x": np.array(["p", "q"])})
    with pytest.raises(ValueError, match="missing codes"):
        aggregate(["a", None], None, {"x": np.zeros(2)})


def test_one_hot_and_measures():
    p = one_hot(["E0", "E1", "E2", None])
    assert p[:3].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]] and np.isnan(p[3]).all()
    with pytest.raises(ValueError, match="unknown labels 'E3'; expected one of E0, E1, E2"):
        one_hot(["E0", "E3"])
    t = exposure_measures(["a"] * 3, [2, 1, 1], one_hot(["E1", "E2", "E0"])).to_pylist()[0]
    assert (t["alpha"], t["beta"], t["gamma"]) == pytest.approx((0.5, 0.625, 0.75))
    soft = exposure_measures(["a"], None, np.array([[0.2, 0.3, 0.5]])).to_pylist()[0]
    assert (soft["alpha"], soft["beta"], soft["gamma"]) == pytest.approx((0.3, 0.55, 0.8))
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        exposure_measures(["a"], None, np.zeros((1, 2)))


@needs_shared_data
@pytest.mark.parametrize("rater", ["human", "gpt4"])
def test_reproduces_the_published_occupation_ratings_exactly(rater):
    labels = _read(DATA / "task_labels_train.tsv", "\t")
    ratings = _read(DATA / "occupation_ratings_train.csv")
    cat = load_tasks("27")
    pos = pc.index_in(labels["task_id"].cast(pa.int32()), value_set=cat["task_id"])
    assert pos.null_count == 0
    ours = exposure_measures(labels["soc_code"], pc.take(cat["weight"], pos), one_hot(labels[f"{rater}_exposure"]))
    assert ours["soc_code"].to_pylist() == sorted(ratings["soc_code"].to_pylist())
    ref = ratings.sort_by("soc_code")
    for m in ("alpha", "beta", "gamma"):
        diff = np.abs(ours[m].to_numpy() - ref[f"{rater}_rating_{m}"].to_numpy())
        assert diff.max() < 1e-12, m


# --------------------------------------------------------------------------- occupation table

def _tasks(**extra):
    cols = {"soc_code": ["11-1011.00", "11-1011.00", "11-1011.00", "15-1252.00", "15-1252.00"],
            "task_id": [1, 2, 3, 4, 5], "weight": [2, 1, 1, 2, 2],
            "task": ["plan", "greet", "sign", "code", "test"],
            "exposure": [0.9, 0.1, 0.5, 0.8, 0.6], "exposure_llm": [1.0, 0.0, 0.0, 1.0, 1.0]}
    cols.update(extra)
    return pa.table(cols)


def test_occupation_table_without_probabilities():
    t = occupation_table(_tasks(), top_tasks=2)
    assert t.num_rows == 923  # every occupation of the release
    assert t.column_names == ["soc_code", "title", "n_tasks", "exposure", "exposure_low", "exposure_high",
                              "exposure_llm", "rank", "top_task_1_id", "top_task_1", "top_task_1_exposure",
                              "top_task_2_id", "top_task_2", "top_task_2_exposure"]
    rows = {r["soc_code"]: r for r in t.to_pylist()}
    ceo, dev = rows["11-1011.00"], rows["15-1252.00"]
    assert ceo["title"] == "Chief Executives" and ceo["n_tasks"] == 3
    assert ceo["exposure"] == pytest.approx((2 * 0.9 + 0.1 + 0.5) / 4)
    assert ceo["exposure_llm"] == pytest.approx(0.5)
    assert (ceo["top_task_1"], ceo["top_task_1_id"], ceo["top_task_2"]) == ("plan", 1, "sign")
    assert ceo["top_task_1_exposure"] == pytest.approx(0.9)
    assert dev["rank"] == 1 and ceo["rank"] == 2
    empty = rows["53-7121.00"]
    assert empty["n_tasks"] == 0 and empty["exposure"] is None and empty["rank"] is None
    assert empty["top_task_1"] is None and empty["top_task_1_exposure"] is None
    # Without probabilities the interval resamples the tasks only: between the lowest and highest task.
    assert 0.1 <= ceo["exposure_low"] <= ceo["exposure"] <= ceo["exposure_high"] <= 0.9
    assert empty["exposure_low"] is None and empty["exposure_high"] is None
    assert occupation_table(_tasks(), top_tasks=0, intervals=False).column_names == [
        "soc_code", "title", "n_tasks", "exposure", "exposure_llm", "rank"]


def test_occupation_table_with_probabilities_and_automation():
    probs = {"p_e0": [0.0, 1.0, 0.5, 0.0, 0.0], "p_e1": [1.0, 0.0, 0.0, 0.0, 0.2],
             "p_e2": [0.0, 0.0, 0.5, 1.0, 0.8], "automation": [1, 0, 0, 2, 2]}
    t = occupation_table(_tasks(**probs), top_tasks=1)
    assert t.column_names[:10] == ["soc_code", "title", "n_tasks", "exposure", "exposure_low", "exposure_high",
                                   "alpha", "beta", "gamma", "exposure_llm"]
    ceo = {r["soc_code"]: r for r in t.to_pylist()}["11-1011.00"]
    assert ceo["alpha"] == pytest.approx(2 / 4) and ceo["gamma"] == pytest.approx((2 + 0.5) / 4)
    assert ceo["beta"] == pytest.approx((2 * 1 + 0.5 * 0.5) / 4) and ceo["exposure"] == ceo["beta"]
    # "automation" without "augmentation" is exposure 0.2.0's name of gpt4_automation; the split is derived
    assert ceo["gpt4_automation"] == pytest.approx(2 / 4)
    assert ceo["automation"] == pytest.approx((2 * 1.0 * 1 + 1 * 0.25 * 0) / 4)
    assert ceo["augmentation"] == pytest.approx(ceo["exposure"] - ceo["automation"])
    assert ceo["automation_share"] == pytest.approx(ceo["automation"] / ceo["exposure"])
    assert ceo["potential"] == "automation"  # exposure 0.5625, 89 % of it automation
    assert ceo["top_task_1"] == "plan" and ceo["top_task_1_exposure"] == pytest.approx(1.0)
    no_task_exposure = occupation_table(_tasks(**probs).drop_columns(["exposure"]), top_tasks=1)
    assert no_task_exposure.column("beta").equals(t.column("beta"))


def test_occupation_table_errors_and_lookups():
    with pytest.raises(ValueError, match="no column 'exposure'; columns are: soc_code"):
        occupation_table(pa.table({"soc_code": ["11-1011.00"]}))
    with pytest.raises(ValueError, match="p_e0, p_e1 but not p_e2"):
        occupation_table(_tasks(p_e0=[0.0] * 5, p_e1=[0.0] * 5))
    with pytest.raises(ValueError, match="no 'task_id'"):
        occupation_table(_tasks().drop_columns(["weight", "task_id"]))
    with pytest.raises(ValueError, match="unknown O"):
        occupation_table(_tasks(), release="30")
    # weight and text looked up in the catalogue by task id
    cat = load_tasks("27").slice(0, 4)
    t = pa.table({"soc_code": cat["soc_code"], "task_id": cat["task_id"], "exposure": [0.1, 0.2, 0.3, 0.4]})
    row = occupation_table(t).slice(0, 1).to_pylist()[0]
    w = np.array(cat["weight"].to_pylist(), float)
    assert row["exposure"] == pytest.approx(np.dot(w, [0.1, 0.2, 0.3, 0.4]) / w.sum())
    assert row["top_task_1"] == cat["task"][3].as_py()


def test_codes_outside_the_catalogue_are_kept():
    t = occupation_table(_tasks(soc_code=["99-9999.00"] * 5))
    row = t.filter(pc.equal(t["soc_code"], "99-9999.00")).to_pylist()[0]
    assert row["title"] is None and row["n_tasks"] == 5 and row["rank"] == 1


# --------------------------------------------------------------------------- codes and roll-ups

def test_to_soc2018_weighs_each_onet_occupation_equally():
    t = pa.table({"soc_code": ["29-1229.01", "29-1229.02", "29-1229.03", "11-1011.00"],
                  "title": ["a", "b", "c", "Chief Executives"],
                  "n_tasks": [30, 2, 5, 10], "exposure": [0.2, 0.6, None, 0.9],
                  "rank": [3, 2, None, 1],
                  "top_task_1_id": [1, 2, None, 4], "top_task_1": ["t1", "t2", None, "t4"],
                  "top_task_1_exposure": [0.5, 0.7, None, 0.95]})
    out = {r["soc_code"]: r for r in to_soc2018(t).to_pylist()}
    assert list(out) == ["11-1011", "29-1229"]
    phys = out["29-1229"]
    assert phys["exposure"] == pytest.approx(0.4)  # not task-weighted (would be 0.225)
    assert phys["n_tasks"] == 37 and phys["onet_codes"] == "29-1229.01;29-1229.02;29-1229.03"
    assert phys["title"] == "Physicians, All Other"  # the SOC 2018 title
    assert (phys["top_task_1"], phys["top_task_1_id"]) == ("t2", 2)
    assert phys["rank"] == 2 and out["11-1011"]["rank"] == 1


def test_to_soc2018_rejects_soc_codes():
    with pytest.raises(ValueError, match="not O\\*NET-SOC codes: 'x'"):
        to_soc2018(pa.table({"soc_code": ["x"], "exposure": [1.0]}))
    with pytest.raises(ValueError, match="no column 'soc_code'"):
        to_soc2018(pa.table({"code": ["11-1011.00"]}))


def test_to_soc2010_many_to_many():
    t = pa.table({"soc_code": ["11-2032", "11-2033", "15-1252", "15-1253", "13-1082"],
                  "n_tasks": [1, 2, 3, 4, 5], "exposure": [0.2, 0.6, 0.8, 0.4, 0.1]})
    out = {r["soc_code"]: r for r in to_soc2010(t).to_pylist()}
    # one 2010 code split into two 2018 codes: their mean
    assert out["11-2031"]["exposure"] == pytest.approx(0.4)
    assert out["11-2031"]["soc_2018_codes"] == "11-2032;11-2033" and out["11-2031"]["n_tasks"] == 3
    assert out["11-2031"]["title"] == "Public Relations and Fundraising Managers"
    # two 2010 codes each mapping to the same two 2018 codes: both get the mean
    assert out["15-1132"]["exposure"] == pytest.approx(0.6) == out["15-1133"]["exposure"]
    # 15-1199 maps to 13-1082, 15-1243, 15-1253, 15-1255, 15-1299: mean over those we have
    assert out["15-1199"]["exposure"] == pytest.approx((0.1 + 0.4) / 2)
    assert out["15-1199"]["soc_2018_codes"] == "13-1082;15-1253"
    # a 2018 code formed from several 2010 codes passes its value to each of them
    sources = [r["soc_2010_code"] for r in load_crosswalk().to_pylist() if r["soc_2018_code"] == "13-1082"]
    assert len(sources) == 3 and "15-1199" in sources
    assert all(out[c]["exposure"] == pytest.approx(0.1) for c in sources if c != "15-1199")
    assert set(out) == {r["soc_2010_code"] for r in load_crosswalk().to_pylist()
                        if r["soc_2018_code"] in set(t["soc_code"].to_pylist())}


def test_to_soc2010_from_onet_level_goes_through_soc2018():
    t = pa.table({"soc_code": ["15-1252.00", "15-1253.00", "15-1253.01"], "exposure": [0.8, 0.2, 0.6]})
    out = {r["soc_code"]: r["exposure"] for r in to_soc2010(t).to_pylist()}
    assert out["15-1132"] == pytest.approx((0.8 + 0.4) / 2)


def test_to_level():
    t = occupation_table(_tasks())
    assert to_level(t, "onet") is t
    assert to_level(t, "soc2018").num_rows == 798
    assert LEVELS == ("onet", "soc2018", "soc2010") and RELEASES == ("27", "29.1")
    with pytest.raises(ValueError, match="use one of: onet, soc2018, soc2010"):
        to_level(t, "soc2000")


def test_labelled_flag_survives_the_roll_ups():
    """An SOC code is in-sample (labelled) if any O*NET member is; SOC 2010 codes inherit it likewise."""
    from exposure.occupations import flag_labelled, to_soc2010

    t = pa.table({"soc_code": ["29-1229.01", "29-1229.02", "15-1252.00", "15-1253.00"],
                  "n_tasks": [3, 4, 5, 6], "exposure": [0.2, 0.4, 0.8, 0.4]})
    t = flag_labelled(t, {"29-1229.02", "15-1253.00"})
    assert t.column_names == ["soc_code", "n_tasks", "labelled", "exposure"]
    assert t["labelled"].to_pylist() == [False, True, False, True]
    soc = {r["soc_code"]: r["labelled"] for r in to_soc2018(t).to_pylist()}
    assert soc == {"29-1229": True, "15-1252": False, "15-1253": True}
    # 15-1132 (2010) takes 15-1252 and 15-1253 (2018): labelled through 15-1253.
    old = {r["soc_code"]: r["labelled"] for r in to_soc2010(t).to_pylist()}
    assert old["15-1132"] is True
    # Flagging again replaces the column rather than adding a second one.
    assert flag_labelled(t, set())["labelled"].to_pylist() == [False] * 4


def test_occupation_table_accepts_frames():
    pytest.importorskip("pandas")
    ref = occupation_table(pa.table(TASKS), top_tasks=2)
    for kind, frame in frame_kinds(TASKS).items():
        assert_same_table(occupation_table(frame, top_tasks=2), ref)


def test_occupation_table_from_pandas_with_missing_scores():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(TASKS).assign(exposure=[0.9, np.nan, 0.5, 0.8, 0.6])
    rows = {r["soc_code"]: r for r in occupation_table(frame).to_pylist()}
    assert rows["11-1011.00"]["exposure"] == pytest.approx((2 * 0.9 + 0.5) / 3)


def test_roll_ups_accept_frames():
    pytest.importorskip("pandas")
    ref2018, ref2010 = to_soc2018(pa.table(OCCUPATION_SCORES)), to_soc2010(pa.table(OCCUPATION_SCORES))
    for kind, frame in frame_kinds(OCCUPATION_SCORES).items():
        assert_same_table(to_soc2018(frame), ref2018)
        assert_same_table(to_soc2010(frame), ref2010)
        assert_same_table(to_level(frame, "soc2018"), ref2018)
        assert isinstance(to_level(frame, "onet"), pa.Table)


def test_roll_ups_reject_other_types():
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        to_soc2018({"soc_code": ["11-1011.00"]})
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        occupation_table([("11-1011.00", 0.5)])


def test_exposure_intervals_simulate_tasks_and_labels():
    from exposure.occupations import exposure_intervals

    # Certain labels and one task: no uncertainty at all.
    one = exposure_intervals(["a"], None, probabilities=np.array([[0.0, 1.0, 0.0]])).to_pylist()[0]
    assert (one["exposure_low"], one["exposure_high"]) == (1.0, 1.0)
    # Uncertain labels: the interval of the mean label of 40 tasks at P(E1) = 0.5 is about 0.5 +- 1.645 * 0.079.
    p = np.tile([0.5, 0.5, 0.0], (40, 1))
    row = exposure_intervals(["b"] * 40, None, probabilities=p, draws=4000).to_pylist()[0]
    assert row["exposure_low"] == pytest.approx(0.37, abs=0.03) and row["exposure_high"] == pytest.approx(0.63, abs=0.03)
    # The same seed, the same interval; codes sorted; missing rows left out; weights count.
    codes, w = ["z", "z", "y", "y"], [2.0, 1.0, 1.0, 1.0]
    values = np.array([1.0, 0.0, np.nan, np.nan])
    a = exposure_intervals(codes, w, values=values)
    assert a.equals(exposure_intervals(codes, w, values=values))
    assert a["soc_code"].to_pylist() == ["y", "z"] and a["exposure_low"].to_pylist()[0] is None
    assert a["exposure_high"].to_pylist()[1] == 1.0 and a["exposure_low"].to_pylist()[1] == 0.0
    for kwargs, message in ((dict(values=values, level=1.0), "level must lie between 0 and 1"),
                            (dict(values=values, draws=0), "draws must be at least 1"),
                            ({}, "give one of probabilities and values"),
                            (dict(probabilities=np.ones((4, 2))), r"must have shape \(4, 3\)")):
        with pytest.raises(ValueError, match=message):
            exposure_intervals(codes, w, **kwargs)


def test_the_split_of_exposure_rolls_up_from_means():
    from exposure.occupations import to_soc2018

    probs = {"p_e0": [0.0, 1.0, 0.5, 0.0, 0.0], "p_e1": [1.0, 0.0, 0.0, 0.0, 0.2],
             "p_e2": [0.0, 0.0, 0.5, 1.0, 0.8], "gpt4_automation": [0.9, 0.0, 0.2, 0.1, 0.3]}
    t = occupation_table(_tasks(**probs), top_tasks=0)
    rows = {r["soc_code"]: r for r in t.to_pylist()}
    dev = rows["15-1252.00"]
    assert dev["automation"] == pytest.approx((0.5 * 0.1 + 0.6 * 0.3) / 2)
    assert dev["potential"] == "augmentation" and rows["53-7121.00"]["potential"] is None
    up = {r["soc_code"]: r for r in to_soc2018(t).to_pylist()}["15-1252"]
    assert up["automation_share"] == pytest.approx(up["automation"] / up["exposure"])
    assert up["potential"] == dev["potential"]
