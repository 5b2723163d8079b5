"""exposure.occupations.compare and the `exposure compare` / `exposure occupations` commands; indices and scores from
any kind of table."""

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from exposure.cli import build_parser, main
from exposure.occupations import occupation_table
from exposure import stats as exposure_stats
from exposure.occupations.compare import CODE_SYSTEMS, INDEX_CODE_SYSTEMS, ComparisonResult, compare_index, read_index
from exposure.occupations import LEVELS, RELEASES, exposure_measures, load_tasks, one_hot, to_soc2018

from helpers import OCCUPATION_SCORES, SHARED_DATA, assert_same_table, frame_kinds

DATA = SHARED_DATA
MICROSOFT = DATA / "indices" / "microsoft_ai_applicability_soc2018.csv"
needs_data = pytest.mark.skipif(not (MICROSOFT.is_file() and (DATA / "task_labels_train.tsv").is_file()),
                                reason=f"shared data not found at {DATA} (set EXPOSURE_DATA)")
#: A published index in its own code column, one code unknown.
INDEX = {"soc": ["111011", "151252", "472061", "439021", "291229", "999999"],
         "score": [0.3, 0.7, 0.0, 0.6, 0.25, 0.5]}

OURS = pa.table(OCCUPATION_SCORES)


@pytest.fixture(scope="module")
def label_ratings():
    """Occupation ratings of Eloundou et al. computed from the human labels: a cheap 'ours'."""
    labels = pcsv.read_csv(DATA / "task_labels_train.tsv", parse_options=pcsv.ParseOptions(delimiter="\t"),
                           convert_options=pcsv.ConvertOptions(column_types={"soc_code": pa.string()}))
    cat = load_tasks("27")
    w = pc.take(cat["weight"], pc.index_in(labels["task_id"].cast(pa.int32()), value_set=cat["task_id"]))
    t = exposure_measures(labels["soc_code"], w, one_hot(labels["human_exposure"]))
    return t.append_column("exposure", t["beta"])


# --------------------------------------------------------------------------- statistics

def test_rank_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(7, 30)).astype(float)
    np.testing.assert_allclose(exposure_stats.rankdata(x), stats.rankdata(x, axis=1))


def test_correlations_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    n = 60
    y = rng.random(n)
    x = np.round(y + 0.3 * rng.standard_normal(n), 1)  # ties on the index side
    codes = [f"11-{1000 + i}" for i in range(n)]
    r = compare_index(pa.table({"c": codes, "v": x}), pa.table({"soc_code": codes, "exposure": y}),
                      "c", "v", "soc2018", n_boot=300)
    assert r.n_matched == n and r.unmatched == []
    assert r.spearman == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert r.pearson == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert r.spearman_ci[0] < r.spearman < r.spearman_ci[1]
    assert r.pearson_ci[0] < r.pearson < r.pearson_ci[1]
    again = compare_index(pa.table({"c": codes, "v": x}), pa.table({"soc_code": codes, "exposure": y}),
                          "c", "v", "soc2018", n_boot=300)
    assert again.spearman_ci == r.spearman_ci  # seeded


# --------------------------------------------------------------------------- matching

def test_code_formats_are_normalised_and_ours_rolled_up():
    index = pa.table({"soc": [" 11-1011.00", "151252", "47-2061 ", "43-9021", "29-1229", "99-9999", "bogus"],
                      "score": [0.3, 0.7, 0.0, 0.6, 0.25, 0.5, 0.1]})
    r = compare_index(index, OURS, "soc", "score", "soc2018", n_boot=50)
    assert isinstance(r, ComparisonResult)
    assert r.n_matched == 5 and sorted(r.unmatched) == ["99-9999", "bogus"]
    j = {row["code"]: row for row in r.joined.to_pylist()}
    assert j["29-1229"]["our_value"] == pytest.approx(0.3)  # the two O*NET occupations averaged
    assert j["15-1252"]["title"] == "Software Developers"
    assert j["47-2061"]["index_rank"] == 5 and j["15-1252"]["our_rank"] == 1
    assert r.spearman == pytest.approx(1.0)
    assert r.joined.column_names == ["code", "title", "match", "index_value", "our_value", "index_rank", "our_rank"]


def test_numeric_code_column():
    r = compare_index(pa.table({"soc": [111011, 151252, 472061], "v": [0.3, 0.7, 0.0]}), OURS, "soc", "v",
                      "soc2018", n_boot=0)
    assert r.n_matched == 3 and r.spearman == pytest.approx(1.0)


def test_onet_index_and_duplicates_and_missing_values():
    index = pa.table({"code": ["11-1011.00", "11-1011", "15-1252.00", "47-2061.00", "43-9021.00", "29-1229.01"],
                      "v": [0.2, 0.4, 0.9, None, 0.7, 0.1]})
    r = compare_index(index, OURS, "code", "v", "onet", n_boot=0)
    assert r.n_matched == 4 and r.unmatched == [] and r.n_index == 4
    j = {row["code"]: row["index_value"] for row in r.joined.to_pylist()}
    assert j["11-1011.00"] == pytest.approx(0.3)  # "11-1011.00" and "11-1011" are one code: averaged
    assert np.isnan(r.spearman_ci[0])  # no bootstrap asked


def test_soc2010_index_goes_through_the_crosswalk():
    ours = pa.table({"soc_code": ["15-1252.00", "15-1253.00", "11-2032.00", "11-2033.00"],
                     "exposure": [0.8, 0.4, 0.2, 0.6]})
    index = pa.table({"code": ["15-1132", "15-1133", "11-2031", "15-1134"], "v": [3.0, 2.0, 1.0, 5.0]})
    r = compare_index(index, ours, "code", "v", "soc2010", n_boot=0)
    j = {row["code"]: row["our_value"] for row in r.joined.to_pylist()}
    assert j == pytest.approx({"15-1132": 0.6, "15-1133": 0.6, "11-2031": 0.4})
    assert r.unmatched == ["15-1134"]
    from exposure.occupations import to_soc2010

    again = compare_index(index, to_soc2010(ours), "code", "v", "soc2010", n_boot=0)
    assert again.joined.equals(r.joined)
    with pytest.raises(ValueError, match="our scores are at SOC 2010 level"):
        compare_index(index, to_soc2010(ours), "code", "v", "soc2018")


def test_errors_say_what_is_wrong():
    index = pa.table({"code": ["11-1011"], "v": [1.0]})
    with pytest.raises(ValueError, match="unknown code system 'naics'; use one of: onet, soc2018, soc2010, isco08"):
        compare_index(index, OURS, "code", "v", "naics")
    with pytest.raises(ValueError, match="index has no column 'soc', 'value'; its columns are: code, v"):
        compare_index(index, OURS, "soc", "value", "soc2018")
    with pytest.raises(ValueError, match="our scores have no column 'beta'"):
        compare_index(index, OURS, "code", "v", "soc2018", our_column="beta")
    with pytest.raises(ValueError, match="no occupation code of the index matches ours"):
        compare_index(pa.table({"code": ["99-9999"], "v": [1.0]}), OURS, "code", "v", "soc2018")
    with pytest.raises(ValueError, match="no index code has an O\\*NET detail suffix"):
        compare_index(index, OURS, "code", "v", "onet")
    with pytest.raises(ValueError, match="our scores are at SOC level"):
        compare_index(pa.table({"code": ["11-1011.00"], "v": [1.0]}), to_soc2018(OURS), "code", "v", "onet")
    with pytest.raises(ValueError, match="column 'v' must be numeric"):
        compare_index(pa.table({"code": ["11-1011"], "v": ["high"]}), OURS, "code", "v", "soc2018")


def test_our_codes_as_numbers_are_judged_by_their_text():
    # A JSON Lines or Parquet score file can hold codes as numbers: 111011 is a SOC code, no O*NET detail.
    index = pa.table({"code": ["11-1011", "15-1252", "47-2061"], "v": [1.0, 3.0, 2.0]})
    ours = pa.table({"soc_code": [111011, 151252, 472061], "exposure": [0.5, 0.9, 0.1]})
    r = compare_index(index, ours, "code", "v", "soc2018", n_boot=0)
    assert r.n_matched == 3 and r.joined["our_value"].to_pylist() == [0.5, 0.9, 0.1]
    with pytest.raises(ValueError, match="our scores are at SOC level"):
        compare_index(pa.table({"code": ["11-1011.00"], "v": [1.0]}), ours, "code", "v", "onet")


def test_read_index_from_files(tmp_path):
    path = tmp_path / "index.csv"
    path.write_text("soc,score\n111011,0.5\n15-1252, \n")
    t = read_index(path, "soc", "score")
    assert t["code"].to_pylist() == ["111011", "15-1252"] and t["value"].to_pylist() == [0.5, None]
    with pytest.raises(ValueError, match="has no column 'code'; its columns are: soc, score"):
        read_index(path, "code", "score")


def test_few_matches_give_nan_not_an_error():
    r = compare_index(pa.table({"c": ["11-1011", "15-1252"], "v": [1.0, 2.0]}), OURS, "c", "v", "soc2018")
    assert r.n_matched == 2 and np.isnan(r.spearman) and np.isnan(r.pearson)


def test_summary_truncates_the_unmatched_list():
    codes = [f"99-{i:04d}" for i in range(30)] + ["11-1011", "15-1252", "47-2061"]
    r = compare_index(pa.table({"c": codes, "v": np.arange(33.0)}), OURS, "c", "v", "soc2018", n_boot=10)
    text = r.summary(max_unmatched=5)
    assert "unmatched: 30 (99-0000, 99-0001, 99-0002, 99-0003, 99-0004, ... and 25 more)" in text
    assert "matched: 3" in text and "Spearman" in text and "95% CI" in text


@needs_data
def test_microsoft_index_against_label_ratings(label_ratings):
    r = compare_index(MICROSOFT, label_ratings, "SOC Code", "ai_applicability_score", "soc2018", n_boot=200)
    assert r.n_index == 785
    assert r.n_matched + len(r.unmatched) == 785 and r.n_matched > 550
    # SOC broad-group codes in the index take the mean of the detailed codes they cover, as workforce does
    via = {row["code"]: row["match"] for row in r.joined.to_pylist()}
    assert via["13-1020"] == via["29-2010"] == "hybrid" and not {"13-1020", "29-2010"} & set(r.unmatched)
    assert "through the SOC 2018 codes a BLS broad, hybrid or 'All other' code covers" in r.summary()
    assert 0.3 < r.spearman < 0.9 and r.spearman_ci[0] < r.spearman < r.spearman_ci[1]
    r10 = compare_index(MICROSOFT, label_ratings, "SOC Code", "ai_applicability_score", "soc2010", n_boot=0)
    assert r10.n_matched < r.n_matched  # 2018 codes read as 2010 codes match fewer


# --------------------------------------------------------------------------- command line

def _subparser(name):
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    return action.choices[name]


def test_cli_choices_follow_the_library():
    occ = {a.dest: a for a in _subparser("occupations")._actions}
    assert tuple(occ["release"].choices) == RELEASES and tuple(occ["level"].choices) == LEVELS
    assert tuple({a.dest: a for a in _subparser("compare")._actions}["code_system"].choices) == INDEX_CODE_SYSTEMS
    assert INDEX_CODE_SYSTEMS == CODE_SYSTEMS + ("isco08",)


@pytest.mark.parametrize("command, options", [
    ("occupations", ["--output", "--release", "--level", "--device", "--batch-size", "--capabilities"]),
    ("compare", ["--code-column", "--value-column", "--code-system", "--scores", "--our-column", "--output"]),
])
def test_cli_help(command, options):
    out = subprocess.run([sys.executable, "-m", "exposure", command, "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert f"usage: exposure {command}" in out and all(o in out for o in options)
    top = subprocess.run([sys.executable, "-m", "exposure", "--help"], capture_output=True, text=True).stdout
    assert command in top


def _index_file(tmp_path):
    path = tmp_path / "index.csv"
    path.write_text("SOC Code,title,score\n11-1011,Chief Executives,0.3\n15-1252,Software Developers,0.7\n"
                    "47-2061,Construction Laborers,0.0\n43-9021,Data Entry Keyers,0.6\n13-1020,Buyers,0.4\n")
    return path


def test_cli_compare_with_precomputed_scores(tmp_path, capsys):
    scores = tmp_path / "ours.csv"
    pcsv.write_csv(OURS, scores)
    out = tmp_path / "joined.parquet"
    assert main(["compare", str(_index_file(tmp_path)), "--code-column", "SOC Code", "--value-column", "score",
                 "--code-system", "soc2018", "--scores", str(scores), "-o", str(out), "--n-boot", "100"]) == 0
    text = capsys.readouterr().out
    assert "matched: 4" in text and "unmatched: 1 (13-1020)" in text
    assert "Spearman +1.000" in text and "Pearson" in text and "95% CI" in text
    assert pq.read_table(out).num_rows == 4
    # Model options would not change a file already scored: an error, not silence.
    for extra, named in ((["--zero-shot"], "--zero-shot"), (["--dtype", "float16", "--device", "cpu"],
                                                            "--device, --dtype")):
        assert main(["compare", str(_index_file(tmp_path)), "--code-column", "SOC Code", "--value-column", "score",
                     "--code-system", "soc2018", "--scores", str(scores), *extra]) == 2
        err = capsys.readouterr().err
        assert f"{named} describe(s) the model" in err and "exposure occupations --zero-shot -o FILE" in err


@needs_data
def test_cli_compare_microsoft_index(tmp_path, capsys, label_ratings):
    scores = tmp_path / "ours.parquet"
    pq.write_table(label_ratings, scores)
    assert main(["compare", str(MICROSOFT), "--code-column", "SOC Code", "--value-column", "ai_applicability_score",
                 "--code-system", "soc2018", "--scores", str(scores), "--our-column", "beta", "--n-boot", "100"]) == 0
    text = capsys.readouterr().out
    assert "index occupations: 785 (SOC 2018)" in text and "... and" in text and "Spearman +0." in text


@pytest.mark.parametrize("args, message", [
    (["--code-column", "soc"], "has no column 'soc'; its columns are: SOC Code, title, score"),
    (["--value-column", "title"], "column 'title' must be numeric"),
    (["--our-column", "gamma"], "our scores have no column 'gamma'"),
    (["-o", "joined.xlsx"], "unknown extension '.xlsx'"),
    (["--scores", "missing.csv"], "does not exist"),
])
def test_cli_compare_errors(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scores = tmp_path / "ours.csv"
    pcsv.write_csv(OURS, scores)
    argv = ["compare", str(_index_file(tmp_path)), "--code-column", "SOC Code", "--value-column", "score",
            "--code-system", "soc2018", "--scores", str(scores), *args]  # a repeated option overrides
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("exposure compare: error: ") and message in err


def test_cli_rejects_unknown_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "x.csv", "--code-column", "c", "--value-column", "v", "--code-system", "isco"])
    assert exc.value.code == 2 and "choose from 'onet', 'soc2018', 'soc2010', 'isco08'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["occupations", "-o", "x.csv", "--release", "30"])
    assert "choose from '27', '29.1'" in capsys.readouterr().err


def test_cli_occupations_checks_before_scoring(tmp_path, capsys):
    assert main(["occupations", "-o", str(tmp_path / "out.xlsx")]) == 2
    assert "unknown extension '.xlsx'" in capsys.readouterr().err
    assert main(["occupations", "-o", str(tmp_path / "out.csv"), "--device", "tpu"]) == 2
    assert "unknown device 'tpu'" in capsys.readouterr().err


def test_cli_compare_scores_the_catalogue_without_scores(tmp_path, capsys, monkeypatch):
    """Without --scores the O*NET 27 catalogue is scored (a stand-in model keeps it fast)."""
    import exposure.cli

    class Model:
        technologies = ("llm",)
        labelled_occupations = frozenset()

        def score_tasks(self, texts, show_progress=False, occupations=None):
            x = np.array([len(t) % 11 / 11 for t in texts])
            return type("S", (), {"to_arrow": lambda self: pa.table({"text": texts, "exposure": x,
                                                                      "exposure_llm": x})})()

    monkeypatch.setattr(exposure.cli, "_model", lambda args, technologies=None: Model())
    index = _index_file(tmp_path)
    argv = ["compare", str(index), "--code-column", "SOC Code", "--value-column", "score", "--code-system",
            "soc2018", "--device", "cpu"]
    assert main(argv + ["--our-column", "exposure_llm"]) == 0
    captured = capsys.readouterr()
    assert "scoring the 19,265 tasks of O*NET 27" in captured.err and "matched: 5 (1 through" in captured.out
    assert main(argv + ["--our-column", "exposure_llm", "-q"]) == 0
    assert "scoring the" not in capsys.readouterr().err  # -q keeps warnings and errors only
    assert main(argv + ["--our-column", "exposure_robots"]) == 2
    assert "--our-column 'exposure_robots' is not a column" in capsys.readouterr().err


def test_cli_occupations_writes_the_table(tmp_path, capsys, monkeypatch):
    """The command's plumbing, with a stand-in model so the catalogue is not encoded."""
    import exposure.cli

    calls = {}

    class Model:
        labelled_occupations = frozenset({"11-1011.00", "11-1011.03", "15-1252.00"})

        def __init__(self, args):
            calls.update(device=args.device, batch_size=args.batch_size, capabilities=args.capabilities)

        def score_tasks(self, texts, show_progress=False, occupations=None):
            x = np.array([len(t) % 11 / 11 for t in texts])
            return type("S", (), {"to_arrow": lambda self: pa.table({"text": texts, "exposure": x})})()

        def provenance(self):
            return {"mode": "stand-in"}

    monkeypatch.setattr(exposure.cli, "_model", lambda args, technologies=None: Model(args))
    out = tmp_path / "occ.csv"
    assert main(["occupations", "-o", str(out), "--release", "29.1", "--level", "soc2018", "--device", "cpu",
                 "--batch-size", "8"]) == 0
    assert calls == {"capabilities": "default", "device": "cpu", "batch_size": 8}
    table = pcsv.read_csv(out)
    assert table.num_rows == 867 and {"soc_code", "title", "exposure", "rank", "top_task_1"} <= set(table.column_names)
    # Labelled (in-sample) at SOC level where any O*NET member is: 11-1011 and 15-1252.
    flagged = {c for c, f in zip(table["soc_code"].to_pylist(), table["labelled"].to_pylist()) if f}
    assert flagged == {"11-1011", "15-1252"}
    captured = capsys.readouterr()
    assert "wrote 867 occupations (soc2018 level)" in captured.err
    assert "2 of 867 occupations are labelled" in captured.err
    assert captured.out.splitlines()[0].split() == ["rank", "exposure", "code", "labelled", "title"]
    assert len(captured.out.splitlines()) >= 11


def test_cli_occupations_rolls_a_table_up_without_scoring(tmp_path, capsys, monkeypatch):
    """--scores reuses an O*NET-level table: rolled up to --level or to ISCO-08, no model built."""
    import exposure.cli
    from exposure.io import read_provenance
    from exposure.occupations import to_level

    monkeypatch.setattr(exposure.cli, "_model", lambda *a, **k: pytest.fail("no model is needed"))
    onet = occupation_table(pa.table({"soc_code": ["11-1011.00", "11-1011.03", "15-1252.00"],
                                      "task_id": [1, 2, 3], "weight": [2, 1, 1], "task": ["a", "b", "c"],
                                      "exposure": [0.2, 0.4, 0.9]}), "27", top_tasks=1)
    pq.write_table(onet, tmp_path / "onet.parquet")
    out = tmp_path / "soc.parquet"
    assert main(["occupations", "--scores", str(tmp_path / "onet.parquet"), "--level", "soc2018", "-o", str(out)]) == 0
    assert pq.read_table(out).equals(to_level(onet, "soc2018"))
    assert read_provenance(out)["level"] == "soc2018" and read_provenance(out)["scores"].endswith("onet.parquet")
    isco = tmp_path / "isco.csv"
    assert main(["occupations", "--scores", str(tmp_path / "onet.parquet"), "--taxonomy", "isco08",
                 "--isco-digits", "1", "-o", str(isco)]) == 0
    assert pcsv.read_csv(isco).num_rows == 10
    assert main(["occupations", "--scores", str(out), "-o", str(tmp_path / "again.parquet")]) == 2
    assert "not at O*NET-SOC level" in capsys.readouterr().err
    assert main(["occupations", "--scores", str(tmp_path / "onet.parquet"), "--zero-shot", "-o",
                 str(tmp_path / "z.parquet")]) == 2
    assert "is rolled up as it was scored" in capsys.readouterr().err


def test_labelled_and_unlabelled_occupations_are_reported_apart(tmp_path, capsys):
    """In-sample (labelled) occupations get their own correlation, so they cannot flatter the whole."""
    rng = np.random.default_rng(3)
    codes = [f"11-{1000 + i}.00" for i in range(40)]
    index_value = rng.random(40)
    labelled = np.arange(40) < 25
    # Labelled occupations agree perfectly (in-sample), the others not at all.
    ours_value = np.where(labelled, index_value, rng.random(40))
    ours = pa.table({"soc_code": codes, "exposure": ours_value, "labelled": labelled})
    index = pa.table({"soc": [c[:7] for c in codes], "score": index_value})
    r = compare_index(index, ours, "soc", "score", "soc2018", n_boot=200)
    assert r.subsets["labelled"]["n"] == 25 and r.subsets["unlabelled"]["n"] == 15
    assert r.subsets["labelled"]["spearman"] == pytest.approx(1.0)
    expected = exposure_stats.pearson(exposure_stats.rankdata(index_value[~labelled]),
                                      exposure_stats.rankdata(ours_value[~labelled]))
    assert r.subsets["unlabelled"]["spearman"] == pytest.approx(expected)
    assert r.joined["labelled"].to_pylist() == labelled.tolist()
    text = r.summary()
    assert "labelled     25 matched  Spearman +1.000" in text and "out of fold in 'exposure', in sample" in text
    assert "unlabelled   15 matched" in text and "predictions" in text
    # Without the column there are no subsets and no such lines.
    plain = compare_index(index, ours.drop_columns(["labelled"]), "soc", "score", "soc2018", n_boot=50)
    assert plain.subsets == {} and "in sample" not in plain.summary()


def test_compare_index_accepts_frames_on_both_sides():
    pytest.importorskip("pandas")
    ref = compare_index(pa.table(INDEX), pa.table(OCCUPATION_SCORES), "soc", "score", "soc2018", n_boot=50)
    for kind_index, index in frame_kinds(INDEX).items():
        for kind_ours, ours in frame_kinds(OCCUPATION_SCORES).items():
            r = compare_index(index, ours, "soc", "score", "soc2018", n_boot=50)
            assert (r.n_matched, r.unmatched) == (ref.n_matched, ref.unmatched), (kind_index, kind_ours)
            assert r.spearman == pytest.approx(ref.spearman) and r.spearman_ci == pytest.approx(ref.spearman_ci)
            assert_same_table(r.joined, ref.joined)
    assert read_index(frame_kinds(INDEX)["pandas"], "soc", "score").column_names == ["code", "value"]


def test_compare_index_pandas_values_with_nan():
    pd = pytest.importorskip("pandas")
    index = pd.DataFrame({"soc": ["111011", "151252", "472061", "439021"], "score": [0.3, np.nan, 0.0, 0.6]})
    r = compare_index(index, pd.DataFrame(OCCUPATION_SCORES), "soc", "score", "soc2018", n_boot=0)
    assert r.n_matched == 3


def test_compare_index_rejects_other_types():
    with pytest.raises(TypeError, match=r"ours must be a pyarrow\.Table, a pandas or polars DataFrame"):
        compare_index(pa.table(INDEX), {"soc_code": ["11-1011.00"]}, "soc", "score", "soc2018")
    with pytest.raises(TypeError, match=r"index must be a pyarrow\.Table, a pandas or polars DataFrame"):
        compare_index([1, 2], pa.table(OCCUPATION_SCORES), "soc", "score", "soc2018")


def test_bls_hybrid_and_all_other_codes_match_as_workforce_matches_them():
    ours = pa.table({"soc_code": ["31-1121", "31-1122", "21-1091", "21-1092", "15-1252"],
                     "exposure": [0.2, 0.4, 0.5, 0.7, 0.9], "labelled": [False, True, False, False, True]})
    index = pa.table({"soc": ["31-1120", "21-1099", "15-1252", "45-2099"], "v": [0.1, 0.5, 0.8, 0.3]})
    r = compare_index(index, ours, "soc", "v", "soc2018", n_boot=0)
    rows = {row["code"]: row for row in r.joined.to_pylist()}
    assert rows["31-1120"]["match"] == "hybrid" and rows["31-1120"]["our_value"] == pytest.approx(0.3)
    assert rows["21-1099"]["match"] == "residual" and rows["21-1099"]["our_value"] == pytest.approx(0.6)
    assert rows["15-1252"]["match"] == "exact" and rows["15-1252"]["title"] is None
    assert rows["31-1120"]["labelled"] and not rows["21-1099"]["labelled"]  # any member labelled
    assert r.unmatched == ["45-2099"] and r.n_matched == 3
