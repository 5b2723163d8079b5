"""Transitions: the score on a hand-made case, the exposure filter, what to learn and what carries over,
title resolution and its errors, the command line. Small fixtures only: nothing is encoded."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from exposure.labour.transitions import TASK_MATCH, WEIGHTS, TransitionIndex, load_task_dwas, resolve_occupation, \
    transitions

from helpers import help_text

A, B, C, D = "51-2092.00", "51-2022.00", "43-3031.00", "53-3032.00"


def _tasks() -> tuple:
    rows = [  # (code, title, task_id, type, text, embedding)
        (A, "Team Assemblers", 1, "Core", "a1 fit parts", [1, 0, 0]),
        (A, "Team Assemblers", 2, "Core", "a2 check parts", [0, 1, 0]),
        (B, "Electrical and Electronic Equipment Assemblers", 3, "Core", "b1 fit boards", [1, 0, 0]),
        (B, "Electrical and Electronic Equipment Assemblers", 4, "Core", "b2 solder", [0, 0, 1]),
        (B, "Electrical and Electronic Equipment Assemblers", 5, "Supplemental", "b3 test boards", [0.6, 0.8, 0]),
        (C, "Bookkeeping, Accounting, and Auditing Clerks", 6, "Core", "c1 post ledgers", [0, 0, 1]),
        (D, "Heavy and Tractor-Trailer Truck Drivers", 7, "Core", "d1 inspect truck", [0, 1, 0]),
    ]
    return pa.table({"soc_code": [r[0] for r in rows], "occupation_title": [r[1] for r in rows],
                     "task_id": [r[2] for r in rows], "task_type": [r[3] for r in rows],
                     "task": [r[4] for r in rows]}), np.array([r[5] for r in rows], dtype=np.float32)


DWAS = pa.table({"task_id": [1, 2, 3, 4, 5, 6, 7], "dwa_id": ["X", "Y", "X", "Z", "Y", "Z", "Y"],
                 "dwa_title": ["Assemble parts.", "Inspect parts.", "Assemble parts.", "Solder joints.",
                               "Inspect parts.", "Solder joints.", "Inspect parts."]})
SCORES = pa.table({"soc_code": [A, B, C, D], "exposure": [0.5, 0.4, 0.1, 0.6],
                   "automation_exposure": [0.5, 0.6, 0.2, 0.3], "rank": [2, 3, 4, 1]})
PROJECTIONS = pa.table({"soc_code": ["51-2028", "43-3031", "53-3032", "51-2092"],
                        "occupation_type": ["Line item"] * 4, "median_wage_2022": [38580.0, 45860.0, 49920.0, 37540.0],
                        "employment_change_percent": [4.5, -5.5, 4.1, -1.6],
                        "education": ["High school diploma or equivalent", "Some college, no degree",
                                      "Postsecondary nondegree award", "High school diploma or equivalent"]})


@pytest.fixture
def index() -> TransitionIndex:
    tasks, emb = _tasks()
    return TransitionIndex(emb, tasks, DWAS)


def _run(index, occupation=A, **kw):
    kw.setdefault("projections", PROJECTIONS)
    kw.setdefault("min_growth", None)  # these tests look at other things than moves up (test_moves_up)
    kw.setdefault("min_wage_ratio", None)
    return transitions(occupation, kw.pop("scores", SCORES), index=index, **kw)


# --------------------------------------------------------------------------- the score

def test_weights_are_stated_and_sum_to_one():
    assert WEIGHTS == {"dwa_overlap": 0.5, "task_similarity": 0.5} and TASK_MATCH == 0.5


def test_score_arithmetic_on_a_hand_made_case(index):
    s = {k: dict(zip(index.codes.tolist(), v.tolist())) for k, v in index.similarity(A).items()}
    # A -> B: best matches of A's tasks (1, 0.8), of B's tasks (1, 0, 0.8): 0.5 (0.9 + 0.6) = 0.75;
    # DWAs {X, Y} and {X, Y, Z}: 2 / 3.
    assert s["task_similarity"][B] == pytest.approx(0.75)
    assert s["dwa_overlap"][B] == pytest.approx(2 / 3) and s["shared_dwas"][B] == 2
    assert s["score"][B] == pytest.approx(0.5 * 2 / 3 + 0.5 * 0.75)
    # A -> D: 0.5 (mean(0, 1) + 1) = 0.75; DWAs {X, Y} and {Y}: 1 / 2.
    assert s["task_similarity"][D] == pytest.approx(0.75) and s["dwa_overlap"][D] == pytest.approx(0.5)
    assert s["score"][D] == pytest.approx(0.625)
    assert s["score"][C] == pytest.approx(0.0) and s["shared_dwas"][C] == 0
    assert s["score"][A] == pytest.approx(1.0)


def test_other_weights_and_unnormalised_embeddings(index):
    tasks, emb = _tasks()
    other = TransitionIndex(emb * 3.0, tasks, DWAS, weights={"dwa_overlap": 1.0, "task_similarity": 0.0})
    s = other.similarity(A)
    assert s["score"][other.position(B)] == pytest.approx(2 / 3)
    np.testing.assert_allclose(s["task_similarity"], index.similarity(A)["task_similarity"], atol=1e-6)


# --------------------------------------------------------------------------- filtering and ranking

def test_only_less_exposed_occupations_best_first(index):
    t = _run(index)
    assert t["soc_code"].to_pylist() == [B, C]                       # D is more exposed, A is the source
    assert t["rank"].to_pylist() == [1, 2]
    assert t["exposure_difference"].to_pylist() == pytest.approx([-0.1, -0.4])
    assert t["from_soc_code"].to_pylist() == [A, A] and t["from_exposure"].to_pylist() == [0.5, 0.5]
    assert t["score"].to_pylist() == pytest.approx([0.5 * 2 / 3 + 0.375, 0.0])


def test_by_another_column_min_difference_and_top(index):
    assert _run(index, by="automation_exposure")["soc_code"].to_pylist() == [D, C]
    assert _run(index, min_difference=0.2)["soc_code"].to_pylist() == [C]
    assert _run(index, top=1)["soc_code"].to_pylist() == [B]
    assert _run(index, C).num_rows == 0                                 # nothing is less exposed than C


def test_learn_and_carry_over(index):
    row = _run(index, max_items=5).to_pylist()[0]
    assert row["dwas_to_learn"] == ["Solder joints."]
    assert row["dwas_carry_over"] == ["Assemble parts.", "Inspect parts."]   # one task each: by title
    assert row["tasks_to_learn"] == ["b2 solder"]                           # best match 0 < 0.5
    assert row["tasks_carry_over"] == ["a1 fit parts", "a2 check parts"]     # 1.0, then 0.8
    explained = index.explain(A, B, max_items=1)
    assert explained == {"dwas_to_learn": ["Solder joints."], "dwas_carry_over": ["Assemble parts."],
                         "tasks_to_learn": ["b2 solder"], "tasks_carry_over": ["a1 fit parts"]}


def test_wage_growth_and_education_from_the_covering_bls_code(index):
    rows = _run(index).to_pylist()
    assert rows[0]["bls_code"] == "51-2028"                            # the hybrid that covers 51-2022
    assert (rows[0]["median_wage_2022"], rows[0]["employment_change_percent"]) == (38580.0, 4.5)
    assert rows[1]["entry_education"] == "Some college, no degree"
    none = _run(index, projections=PROJECTIONS.slice(2)).to_pylist()[0]
    assert none["bls_code"] is None and none["median_wage_2022"] is None


def test_unscored_occupations_are_left_out_with_a_warning(index, caplog):
    with caplog.at_level("WARNING", logger="exposure"):
        t = _run(index, scores=SCORES.slice(0, 3))
    assert t["soc_code"].to_pylist() == [B, C]
    assert "1 of the 4 occupations with tasks have no 'exposure'" in caplog.text


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, message", [
    ({"by": "exposure_robots"}, "no column 'exposure_robots'; --by takes one of: exposure, automation_exposure"),
    ({"by": "rank"}, "'rank' is not an exposure column; use one of: exposure, automation_exposure"),
    ({"scores": pa.table({"soc_code": ["51-2092", "51-2022"], "exposure": [0.5, 0.4]})},
     "rolled up to 6-digit SOC codes; transitions need O*NET-level scores"),
    ({"scores": SCORES.slice(1)}, "51-2092.00 Team Assemblers has no 'exposure' in the occupation scores"),
    ({"top": 0}, "top must be at least 1"),
    ({"min_difference": -0.1}, "min_difference at least 0"),
    ({"projections": PROJECTIONS.drop_columns(["education"])}, "projections has no column 'education'"),
])
def test_errors_say_what_to_do(index, kwargs, message):
    with pytest.raises(ValueError) as err:
        _run(index, **kwargs)
    assert message in str(err.value)


def test_index_checks_its_inputs():
    tasks, emb = _tasks()
    with pytest.raises(ValueError, match=r"one row per task \(7\), got \(6, 3\)"):
        TransitionIndex(emb[:6], tasks, DWAS)
    with pytest.raises(ValueError, match="summing to 1"):
        TransitionIndex(emb, tasks, DWAS, weights={"dwa_overlap": 0.7, "task_similarity": 0.7})
    with pytest.raises(ValueError, match="tasks has no column 'task_type'"):
        TransitionIndex(emb, tasks.drop_columns(["task_type"]), DWAS)
    with pytest.raises(ValueError, match="51-2099.00 has no task statements in this index"):
        TransitionIndex(emb, tasks, DWAS).similarity("51-2099.00")


# --------------------------------------------------------------------------- titles and codes

@pytest.mark.parametrize("query", ["51-2092.00", "51-2092", "512092", " Team Assemblers ", "team assemblers",
                                   "TEAM-ASSEMBLERS"])
def test_codes_and_titles_resolve(query):
    assert resolve_occupation(query) == (A, "Team Assemblers")


def test_alternate_titles_resolve_and_runs_take_titles(index):
    code, _ = resolve_occupation("Bookkeeper")
    assert code == C
    assert _run(index, "Team Assemblers")["soc_code"].to_pylist() == [B, C]


@pytest.mark.parametrize("query, message", [
    ("", "give an occupation as an O*NET-SOC code (51-2092.00) or a title, got ''"),
    ("99-9999", "unknown O*NET-SOC code '99-9999' (not in O*NET 29.1); close codes: none in its SOC group"),
    ("51-2093", "unknown O*NET-SOC code '51-2093' (not in O*NET 29.1); close codes: 51-2092.00 Team Assemblers"),
    ("teem asemblers", "no O*NET 29.1 occupation is titled 'teem asemblers'; close titles: Team Assemblers "
                       "(51-2092.00)"),
    ("51-2099.00", "51-2099.00 (Assemblers and Fabricators, All Other) has no O*NET 29.1 task statements to "
                   "compare; pick another occupation"),
])
def test_resolution_errors_name_close_matches(index, query, message):
    with pytest.raises(ValueError) as err:
        resolve_occupation(query, codes=index.codes)
    assert message in str(err.value)


def test_a_title_of_several_occupations_names_them_unless_one_has_tasks(index):
    with pytest.raises(ValueError) as err:
        resolve_occupation("truck driver")
    assert ("the title 'truck driver' names 4 occupations (alternate titles): 53-3032.00 Heavy and "
            "Tractor-Trailer Truck Drivers, 53-3033.00 Light Truck Drivers") in str(err.value)
    assert "give one of their codes" in str(err.value)
    assert resolve_occupation("truck driver", codes=index.codes)[0] == D      # the only one in the index


def test_a_code_without_tasks_points_to_its_detailed_occupations():
    with pytest.raises(ValueError, match="use one of its detailed occupations: 11-1011.03 Chief Sustainability"):
        resolve_occupation("11-1011.00", codes=np.array(["11-1011.03"]))


class _Assigner:
    def __init__(self, top):
        self.top = top

    def assign(self, titles, k=3):
        return [self.top]


def test_the_assigner_resolves_other_titles_when_confident():
    sure = _Assigner([(A, "Team Assemblers", 0.8), (B, "Electrical...", 0.1)])
    assert resolve_occupation("line worker on assembly", assigner=sure) == (A, "Team Assemblers")
    unsure = _Assigner([(A, "Team Assemblers", 0.3), (B, "Electrical Assemblers", 0.2)])
    with pytest.raises(ValueError, match=r"assigner is unsure; likeliest: 51-2092.00 Team Assemblers \(0.30\), "
                                         r"51-2022.00 Electrical Assemblers \(0.20\)"):
        resolve_occupation("line worker on assembly", assigner=unsure)


def test_shipped_dwas_cover_the_catalogue():
    t = load_task_dwas()
    assert t.column_names == ["soc_code", "task_id", "dwa_id", "dwa_title"]
    assert t.num_rows == 23233 and len(set(t["dwa_id"].to_pylist())) == 2082
    assert t.filter(pc.equal(t["task_id"], 20461))["dwa_id"].to_pylist()[0] == "4.A.2.a.4.I09.D03"


# --------------------------------------------------------------------------- command line

def test_cli_help(capsys):
    out = help_text("transitions", capsys)
    for option in ("--scores", "--by", "--top", "--min-difference", "-o OUTPUT", "Jaccard", "--min-growth",
                   "--min-wage-ratio", "--any-technology", "--max-zone-step"):
        assert option in out


@pytest.fixture
def cli(monkeypatch, index, tmp_path):
    """The command with the model, the assigner and the index replaced by stand-ins (nothing loads)."""
    import exposure.encoder
    import exposure.occupations.assign

    class Encoder:
        name, dtype, dim = "stand-in", "float32", 3

        def __init__(self, **kwargs):
            pass

    monkeypatch.setattr(exposure.encoder, "Encoder", Encoder)
    monkeypatch.setattr(exposure.occupations.assign, "OccupationAssigner", lambda *a, **k: None)
    monkeypatch.setattr(TransitionIndex, "from_encoder", classmethod(lambda cls, *a, **k: index))
    scores = tmp_path / "scores.csv"
    pcsv.write_csv(SCORES, scores)
    return scores


def test_cli_small_run(cli, tmp_path, capsys):
    from exposure.cli import main
    from exposure.io import read_provenance

    out = tmp_path / "moves.parquet"
    assert main(["transitions", "team assemblers", "--scores", str(cli), "--top", "5", "-o", str(out),
                 "--min-growth", "none", "--min-wage-ratio", "none"]) == 0
    printed = capsys.readouterr().out
    assert "51-2092.00 Team Assemblers: exposure 0.500" in printed and "51-2022.00" in printed
    table = pq.read_table(out)
    assert table["soc_code"].to_pylist() == [B, C] and table["tasks_to_learn"].to_pylist()[0] == ["b2 solder"]
    record = read_provenance(out)
    assert record["command"] == "transitions" and record["by"] == "exposure" and record["scores"] == str(cli)
    assert record["weights"] == WEIGHTS and record["encoder"] == "stand-in"
    csv = tmp_path / "moves.csv"
    assert main(["transitions", A, "--scores", str(cli), "--by", "automation_exposure", "-o", str(csv), "-q",
                 "--min-growth", "any", "--min-wage-ratio", "none"]) == 0
    back = pcsv.read_csv(csv)
    assert back["soc_code"].to_pylist() == [D, C]
    assert back["dwas_carry_over"].to_pylist()[0] == "Inspect parts."


def test_moves_up_by_default(index, cli, capsys):
    from exposure.cli import main

    # A (wage 37,540, -1.6 %): B grows 4.5 % at 38,580; C shrinks 5.5 %
    assert _run(index, min_growth=0.0, min_wage_ratio=1.0)["soc_code"].to_pylist() == [B]
    assert _run(index, min_growth=-10.0, min_wage_ratio=1.2)["soc_code"].to_pylist() == [C]  # 45,860 >= 1.2 x
    assert _run(index, min_growth=0.0, min_wage_ratio=1.1).num_rows == 0
    # no projection for B and C: left out unless the filters are off
    assert _run(index, min_growth=0.0, projections=PROJECTIONS.slice(2)).num_rows == 0
    # technologies: B is more exposed to robots than A, so not a move unless any_technology
    tech = SCORES.append_column("exposure_robotics", pa.array([0.2, 0.3, 0.0, 0.1]))
    assert _run(index, scores=tech)["soc_code"].to_pylist() == [C]
    assert _run(index, scores=tech, any_technology=True)["soc_code"].to_pylist() == [B, C]
    assert main(["transitions", A, "--scores", str(cli), "-q"]) == 0
    assert "51-2022.00" in capsys.readouterr().out
    with pytest.raises(ValueError, match="min_wage_ratio must be at least 0"):
        _run(index, min_wage_ratio=-1.0)
    # job zones (O*NET 29.3): A, B and D are in zone 2, C (bookkeeping clerks) in zone 3
    assert _run(index)["job_zone"].to_pylist() == [2, 3]
    assert _run(index, max_zone_step=0)["soc_code"].to_pylist() == [B]
    assert _run(index, C, max_zone_step=-1, by="automation_exposure").num_rows == 0
    assert _run(index, D, max_zone_step=0, by="exposure")["soc_code"].to_pylist() == [A, B]
    with pytest.raises(ValueError, match="max_zone_step must be a whole number"):
        _run(index, max_zone_step=0.5)


@pytest.mark.parametrize("argv, message", [
    (["nobody at all"], "no O*NET 29.1 occupation is titled 'nobody at all'"),
    ([A, "--min-growth", "lots"], "--min-growth: give a number or 'none', got 'lots'"),
    ([A, "--max-zone-step", "1.5"], "--max-zone-step: give a whole number of job zones or 'none'"),
    ([A, "--by", "exposure_robots"], "--by exposure_robots: "),
    ([A, "--by", "rank"], "has no such exposure column; use one of: exposure, automation_exposure"),
    ([A, "--top", "0"], "--top must be at least 1"),
])
def test_cli_errors_are_one_line_with_status_2(cli, capsys, argv, message):
    from exposure.cli import main

    assert main(["transitions", *argv, "--scores", str(cli)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and err[0].startswith("exposure transitions: error:") and message in err[0]


def test_no_torch_at_import():
    import subprocess
    import sys

    code = "import sys, exposure.labour.transitions; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_skill_gap_from_onet_29_3():
    from exposure.labour.transitions import SKILL_IMPORTANCE, SKILL_RISE, skill_gap

    gap = skill_gap("43-3031.00", "13-2011.00", 3)  # bookkeeping clerks -> accountants and auditors
    assert gap["skills_to_learn"][0].startswith("Economics and Accounting (knowledge) ")
    before, after = map(float, gap["skills_to_learn"][0].rsplit(" ", 3)[-3::2])
    assert after - before >= SKILL_RISE and SKILL_IMPORTANCE == 3.0
    techs = gap["technologies_to_learn"]
    assert len(techs) == 3 and all("(hot" in t for t in techs)  # hot (and in demand) ones first
    assert skill_gap("43-3031.00", "43-3031.00") == {"skills_to_learn": [], "technologies_to_learn": []}
    assert skill_gap("99-9999.00", "99-9998.00") == {"skills_to_learn": [], "technologies_to_learn": []}


def test_suggestions_carry_their_skill_gap(index):
    row = _run(index, max_items=2).to_pylist()[0]  # A -> B, both rated by O*NET
    assert set(row) >= {"skills_to_learn", "technologies_to_learn", "job_zone"}
    assert isinstance(row["skills_to_learn"], list) and len(row["technologies_to_learn"]) <= 2
