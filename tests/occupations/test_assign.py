"""exposure.occupations.assign: titles and duties -> O*NET-SOC occupations, the embedding cache, the shipped title table."""

import hashlib
import json

import numpy as np
import pyarrow as pa
import pytest

from exposure.occupations.assign import OccupationAssigner, clean_posting_title, normalize_title, resolve_cache_dir
from exposure.occupations.catalogue import TITLE_SOURCES, load_occupations, load_titles

TITLES = pa.table({
    "soc_code": ["47-2111.00"] * 3 + ["29-1141.00"] * 3 + ["53-7051.00"] * 2 + ["23-1011.00"] * 2
                + ["35-2014.00"] * 2 + ["35-2014.00", "53-7051.00"],
    "title": ["Electricians", "Journeyman Electrician", "Wireman",
              "Registered Nurses", "RN", "Staff Nurse",
              "Industrial Truck and Tractor Operators", "Forklift Operator",
              "Lawyers", "Legal Counsel",
              "Cooks, Restaurant", "Line Cook",
              "Operator", "Operator"],  # one title, two occupations: real ambiguity
})
TASKS = pa.table({
    "soc_code": ["47-2111.00", "47-2111.00", "29-1141.00", "29-1141.00", "53-7051.00", "53-7051.00",
                 "23-1011.00", "35-2014.00"],
    "task": ["Install electrical wiring, fixtures and panels.", "Test electrical circuits for faults.",
             "Administer medications to patients and monitor their vital signs.", "Record patients' medical history.",
             "Move materials around a warehouse with a forklift.", "Load and unload trucks with lift trucks.",
             "Represent clients in court and draft legal documents.", "Grill meat and prepare food to order."],
})


class CountingEncoder:
    """Wraps the real encoder and counts the texts it encodes; ``name``/``dim`` can be changed."""

    def __init__(self, encoder, name=None):
        self.inner, self.name, self.dim, self.calls = encoder, name or encoder.name, encoder.dim, 0

    def encode(self, texts, show_progress=False):
        self.calls += len(texts)
        return self.inner.encode(texts)


class HashEncoder:
    """A different 'model' of another width: a stable pseudo-random unit row per text."""

    name, dim = "hash-encoder", 16

    def encode(self, texts, show_progress=False):
        rows = [np.random.default_rng(int(hashlib.md5(t.encode()).hexdigest()[:8], 16)).standard_normal(16)
                for t in texts]
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), 16)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def assigner(encoder, tmp_path_factory):
    return OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=tmp_path_factory.mktemp("cache"))


def test_exact_title_gives_its_occupation(assigner):
    out = assigner.assign(["Journeyman Electrician", "Legal Counsel", "line cook"])
    assert [row[0][0] for row in out.tolist()] == ["47-2111.00", "23-1011.00", "35-2014.00"]
    assert out.confidence[:, 0].min() > 0.5
    assert out.basis == ["title"] * 3 and out.flags == [None] * 3


@pytest.mark.parametrize("title, code", [("Attorney", "23-1011.00"), ("Electrician Apprentice", "47-2111.00"),
                                         ("ICU Nurse - $45/hr", "29-1141.00"), ("Forklift Driver", "53-7051.00"),
                                         ("Short-order cook", "35-2014.00")])
def test_synonym_title_gives_the_right_occupation(assigner, title, code):
    assert assigner.assign([title])[0][0][0] == code


def test_duties_only(assigner):
    out = assigner.assign([None, ""], [["Pull wire and install breaker panels", "Troubleshoot faulty circuits"],
                                       ["Give patients their medicine", "Check blood pressure"]])
    assert [row[0][0] for row in out.tolist()] == ["47-2111.00", "29-1141.00"]
    assert out.basis == ["duties", "duties"] and out.flags == ["no title", "no title"]


def test_duties_help_an_ambiguous_title(assigner):
    title_only = assigner.assign(["Operator"])[0]
    assert {c for c, _, _ in title_only[:2]} == {"35-2014.00", "53-7051.00"}
    both = assigner.assign(["Operator"], [["Drive a forklift to move pallets", "Unload delivery trucks"]])
    assert both[0][0][0] == "53-7051.00" and both.basis == ["title+duties"]
    assert both[0][0][2] > title_only[0][2] or title_only[0][0] == "53-7051.00"


def test_title_embeddings_given_are_used_as_the_titles_rows(assigner):
    titles = ["Senior Staff Nurse", None, "Wireman"]
    rows = assigner.encoder.encode(assigner.title_queries(titles))
    given = assigner.assign(titles, title_embeddings=rows)
    assert given.codes.tolist() == assigner.assign(titles).codes.tolist()
    np.testing.assert_allclose(given.confidence, assigner.assign(titles).confidence, atol=1e-6)
    swapped = assigner.assign(titles, title_embeddings=rows[[2, 1, 0]])  # the rows, not the texts, are read
    assert swapped.codes[0, 0] == given.codes[2, 0] != given.codes[0, 0]
    with pytest.raises(ValueError, match=r"title_embeddings must be \(3, 384\)"):
        assigner.assign(titles, title_embeddings=rows[:2])


def test_confidences_are_sorted_probabilities(assigner):
    out = assigner.assign(["Staff Nurse", "Operator", "Chef", "Wireman"], [None, ["Cook food"], None, []], k=4)
    assert out.codes.shape == out.confidence.shape == (4, 4)
    assert np.all((out.confidence >= 0) & (out.confidence <= 1))
    assert np.all(np.diff(out.confidence, axis=1) <= 0)
    assert np.all(out.confidence.sum(axis=1) <= 1 + 1e-5)
    assert all(len(set(row)) == 4 for row in out.codes)


def test_soc2018_level_sums_over_onet_occupations(encoder, tmp_path):
    titles = pa.table({"soc_code": ["29-1229.01", "29-1229.02", "47-2111.00"],
                       "title": ["Allergist", "Dermatologist", "Electrician"]})
    a = OccupationAssigner(encoder, titles=titles, tasks=TASKS.slice(0, 1), cache_dir=tmp_path)
    onet = a.assign(["Skin doctor"], k=3)
    soc = a.assign(["Skin doctor"], k=3, level="soc2018")
    assert soc[0][0][0] == "29-1229" and len(soc[0]) == 2
    skin = [c.startswith("29-1229") for c in onet.codes[0]]
    assert soc.confidence[0, 0] == pytest.approx(onet.confidence[0, skin].sum(), abs=1e-5)
    with pytest.raises(ValueError, match="unknown level 'soc'"):
        a.assign(["x"], level="soc")


def test_empty_and_missing_titles_are_flagged(assigner):
    out = assigner.assign([None, "", "   ", "$20/hr", "Wireman"])
    assert out.basis == ["none", "none", "none", "none", "title"]
    assert out.flags[:4] == ["no title and no duties"] * 4 and out.flags[4] is None
    assert out[0] == [] and np.isnan(out.confidence[:4]).all() and (out.codes[:4] == "").all()
    table = out.to_arrow()
    assert table.num_rows == 5 and table["soc_code_1"].null_count == 4
    assert assigner.assign([]).codes.shape == (0, 3)
    with pytest.raises(TypeError, match="single string"):
        assigner.assign("Wireman")
    with pytest.raises(ValueError, match="duties for 1 postings, but 2 titles"):
        assigner.assign(["a", "b"], [["x"]])


def test_duty_embeddings_can_be_passed(assigner, encoder):
    duties = [["Pull wire and install breaker panels"], []]
    emb = [encoder.encode(d) if d else np.zeros((0, encoder.dim), np.float32) for d in duties]
    a = assigner.assign([None, "Lawyer"], duties)
    b = assigner.assign([None, "Lawyer"], duty_embeddings=emb)
    assert a.codes.tolist() == b.codes.tolist()
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-5)
    # a zero row (a duty without text) is no duty: the second posting stays title-only
    c = assigner.assign([None, "Lawyer"], duty_embeddings=[emb[0], np.zeros((1, encoder.dim), np.float32)])
    assert c.codes.tolist() == b.codes.tolist() and c.basis == b.basis
    np.testing.assert_allclose(c.confidence, b.confidence, atol=1e-6)


@pytest.mark.slow
def test_blocks_take_their_own_duties(assigner, encoder, monkeypatch):
    # Postings go through in blocks; each block must score exactly its postings' duties.
    titles = ["Wireman", None, "Line Cook", "", "RN", None, "Operator"]
    duties = [["Pull wire"], ["Grill burgers", "Prep salads"], [], None, ["Chart vitals"], [], ["Drive a forklift"]]
    emb = [encoder.encode(d) if d else np.zeros((0, encoder.dim), np.float32) for d in duties]
    whole = {lvl: assigner.assign(titles, duty_embeddings=emb, k=4, level=lvl) for lvl in ("onet", "soc2018")}
    monkeypatch.setattr("exposure.occupations.assign._BLOCK", 2)
    for lvl, w in whole.items():
        out = assigner.assign(titles, duty_embeddings=emb, k=4, level=lvl)
        assert out.codes.tolist() == w.codes.tolist() and out.basis == w.basis
        np.testing.assert_allclose(out.confidence, w.confidence, atol=1e-6)


def test_title_ngram_index_is_cached(encoder, tmp_path, monkeypatch):
    from exposure.occupations import assign as assign_module

    a = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=tmp_path)
    built = a.title_index()["ngrams"]
    [path] = tmp_path.glob("title-ngrams-*.npz")
    monkeypatch.setattr(assign_module.NgramIndex, "__init__", lambda *a, **k: pytest.fail("built again"))
    read = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=tmp_path).title_index()["ngrams"]
    assert read.vocab == built.vocab and read.size == built.size
    for name in ("idf", "_ptr", "_text", "_weight"):
        np.testing.assert_array_equal(getattr(read, name), getattr(built, name))
    queries = ["Wireman", "staff nurse", "zzz"]
    for x, y in zip(read.topk(queries, 3), built.topk(queries, 3)):
        np.testing.assert_array_equal(x, y)
    monkeypatch.undo()
    path.write_bytes(b"not a zip file")  # a damaged file is built again
    again = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=tmp_path).title_index()["ngrams"]
    assert again.vocab == built.vocab and assign_module.NgramIndex.load(path).size == built.size  # and rewritten


@pytest.mark.slow
def test_cache_is_reused_and_keyed_by_encoder(encoder, tmp_path):
    first = CountingEncoder(encoder)
    a = OccupationAssigner(first, titles=TITLES, tasks=TASKS, cache_dir=tmp_path)
    a.assign(["Wireman"], [["Test circuits"]])
    assert a.loaded_from_cache == {"titles": False, "tasks": False}
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 3 and all(f.endswith(".npy") and "-384-" in f for f in files[::2])  # no temporary files
    assert files[1].startswith("title-ngrams-") and files[1].endswith(".npz")

    second = CountingEncoder(encoder)
    b = OccupationAssigner(second, titles=TITLES, tasks=TASKS, cache_dir=tmp_path)
    b.title_index(), b.task_index()
    assert b.loaded_from_cache == {"titles": True, "tasks": True} and second.calls == 0
    np.testing.assert_array_equal(a.title_index()["emb"], b.title_index()["emb"])
    assert a.assign(["Staff Nurse"]).codes.tolist() == b.assign(["Staff Nurse"]).codes.tolist()

    # Another model name (same width) or another width must not pick up those files.
    renamed = CountingEncoder(encoder, name="another-model")
    c = OccupationAssigner(renamed, titles=TITLES, tasks=TASKS, cache_dir=tmp_path)
    c.title_index()
    assert c.loaded_from_cache["titles"] is False and renamed.calls > 0
    d = OccupationAssigner(HashEncoder(), titles=TITLES, tasks=TASKS, cache_dir=tmp_path)
    assert d.title_index()["emb"].shape[1] == 16 and d.loaded_from_cache["titles"] is False
    assert len(list(tmp_path.glob("titles-*.npy"))) == 3

    # Other titles are another file too; a damaged file is rebuilt.
    e = OccupationAssigner(encoder, titles=TITLES.slice(0, 5), tasks=TASKS, cache_dir=tmp_path)
    e.title_index()
    assert e.loaded_from_cache["titles"] is False
    for p in tmp_path.glob("titles-all_MiniLM*.npy"):
        p.write_bytes(b"broken")
    f = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=tmp_path)
    assert f.title_index()["emb"].shape == (len(f.title_index()["keys"]), 384)
    assert f.loaded_from_cache["titles"] is False


def test_cache_folder_resolution_and_unwritable_cache(encoder, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPOSURE_CACHE_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("EXPOSURE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_cache_dir() == tmp_path / "xdg" / "exposure"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    a = OccupationAssigner(encoder, titles=TITLES.slice(0, 3), tasks=TASKS, cache_dir=blocker / "cache")
    with pytest.warns(UserWarning, match="could not cache titles embeddings"):
        a.title_index()
    assert OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=False).assign(["RN"])[0][0][0] == \
        "29-1141.00"


def test_without_leaves_titles_out(assigner):
    held = assigner.without(titles=["Wireman", "journeyman electrician"])
    keys = held.title_index()["keys"]
    assert "wireman" not in keys and "journeyman electrician" not in keys and "electricians" in keys
    assert len(keys) == len(assigner.title_index()["keys"]) - 2
    assert held.assign(["Wireman"])[0][0][0] == "47-2111.00"  # still found through "Electricians"
    assert "wireman" in assigner.title_index()["keys"]  # the original is untouched


def test_title_normalisation_and_cleaning():
    assert normalize_title("Café Manager / C++ Dev") == "cafe manager c++ dev"
    assert normalize_title(None) == "" and normalize_title("  --  ") == ""
    assert clean_posting_title("CDL-A OTR Truck Driver - $1,500/week") == "CDL-A OTR Truck Driver"
    assert clean_posting_title("Line Cook $18-$22/hr") == "Line Cook"
    assert clean_posting_title("Data Analyst (Req #A-17)") == "Data Analyst"
    assert clean_posting_title("Nurse (RN) - $40 per hour") == "Nurse (RN)"
    assert clean_posting_title(None) == ""


def test_shipped_titles_load():
    t = load_titles()
    assert t.column_names == ["soc_code", "title", "source"] and t.num_rows == 67220
    counts = {s: n for s, n in zip(*np.unique(t["source"].to_pylist(), return_counts=True))}
    assert counts == {"occupation": 1016, "alternate": 55120, "short": 3286, "reported": 7798}
    assert set(t["source"].to_pylist()) == set(TITLE_SOURCES)
    assert set(t["soc_code"].to_pylist()) <= set(load_occupations("29.1")["soc_code"].to_pylist())
    assert t["title"].null_count == 0 and "Aeronautics Commission Director" in t["title"].to_pylist()
    assert load_titles(["reported"]).num_rows == 7798
    with pytest.raises(ValueError, match="unknown title sources"):
        load_titles(["bogus"])


def test_shipped_assigner_is_lazy(encoder, tmp_path):
    a = OccupationAssigner(encoder, cache_dir=tmp_path)  # nothing is encoded until the first assignment
    assert len(a.codes) == 1016 and a.loaded_from_cache == {"titles": None, "tasks": None}
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- title score, calibration, abstaining

def test_seniority_words_are_cleaned_from_posting_titles():
    assert clean_posting_title("Senior Software Engineer, Backend") == "Software Engineer, Backend"
    assert clean_posting_title("Sr. Accountant - $80k") == "Accountant"
    assert clean_posting_title("Entry-Level Data Analyst") == "Data Analyst"
    assert clean_posting_title("Registered Nurse (Junior)") == "Registered Nurse"
    assert clean_posting_title("Accountant, Sr.") == "Accountant"
    # Not seniority: elder care, junior high, a title that is nothing else.
    for title in ("Senior Care Aide", "Junior High School Teacher", "Senior", "Lead Abatement Worker"):
        assert clean_posting_title(title) == title


def test_ngram_index_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.feature_extraction.text")
    from exposure.occupations._ngrams import NgramIndex, char_ngrams

    texts = ["registered nurses", "staff nurse", "journeyman electrician", "electricians", "line cook", "cook"]
    queries = ["electrical worker", "nurse", "cooks", "zzz"]
    vec = sklearn.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(texts)
    assert sorted(char_ngrams("line cook")) == sorted(vec.build_analyzer()("line cook"))
    want = (vec.transform(queries) @ vec.transform(texts).T).toarray()
    sim, idx = NgramIndex(texts).topk(queries, 6)
    got = np.zeros_like(want)
    np.put_along_axis(got, idx, sim, axis=1)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.all(np.diff(sim, axis=1) <= 0) and np.all(sim[3] == 0)
    i2 = NgramIndex(texts).topk(queries, 2).indices
    assert i2.shape == (4, 2) and i2[0, 0] in (2, 3) and i2[1, 0] in (0, 1)
    # max_df leaves out the commonest n-grams: " c" is in two of six texts.
    assert " c" in NgramIndex(texts).vocab and " c" not in NgramIndex(texts, max_df=0.2).vocab
    empty = NgramIndex(texts).topk([], 3)
    assert empty.values.shape == empty.indices.shape == (0, 3) and empty.values.dtype == np.float32


def test_title_vote():
    from exposure.occupations.assign import _vote

    # Two queries, three titles: title 0 -> occupation 0, title 1 -> 0 and 1, title 2 -> 2; four occupations.
    ptr, occ = np.array([0, 1, 3, 4]), np.array([0, 0, 1, 2])
    values = np.array([[0.9, 0.9, 0.5], [0.8, 0.7, 0.1]], dtype=np.float32)
    indices = np.array([[0, 1, 2], [2, 1, 0]])
    best = _vote(values, indices, ptr, occ, 4, 0.0)
    np.testing.assert_allclose(best, [[0.9, 0.9, 0.5, 0.5], [0.7, 0.7, 0.8, 0.1]], atol=1e-6)
    soft = _vote(values, indices, ptr, occ, 4, 0.1)
    # Occupation 0 has two titles at 0.9: it beats occupation 1, with one; unreached ones get the last similarity.
    assert soft[0, 0] == pytest.approx(0.9 + 0.1 * np.log(2), abs=1e-5) and soft[0, 1] == pytest.approx(0.9, abs=1e-5)
    assert soft[0, 3] == pytest.approx(0.5, abs=1e-5) and np.all(soft >= best - 1e-6)


def test_title_score_settings_are_checked(encoder):
    for name, bad in (("title_tau", -0.1), ("centroid_weight", float("nan")), ("ngram_weight", "0.2")):
        with pytest.raises(ValueError, match=f"{name} must be a number >= 0, got"):
            OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=False, **{name: bad})


def test_title_scores_need_the_texts_for_the_ngram_vote(assigner, encoder):
    emb = encoder.encode(["Wireman"])
    with pytest.raises(ValueError, match="needs the titles' texts, one per embedding"):
        assigner.title_scores(emb)
    plain = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=False, ngram_weight=0,
                               centroid_weight=0, title_tau=0)
    assert plain.title_scores(emb).shape == (1, 5)


def _record(assigner, **fitted_for):
    """A calibration record for ``assigner``: a map that halves every probability."""
    maps = {b: {"x": [0.0, 1.0], "y": [0.0, 0.5]} for b in ("title", "duties", "title+duties")}
    table = {"threshold": [0.0, 0.2, 0.4, 0.6], "coverage": [1.0, 0.8, 0.5, 0.0], "accuracy": [0.5, 0.6, 0.9, None]}
    return {"maps": {"onet": maps, "soc2018": maps}, "fitted_for": {**assigner.settings(), **fitted_for},
            "coverage": {"onet": {"title": table}}}


def test_confidences_go_through_the_calibration_map(encoder, assigner, tmp_path):
    assert not assigner.calibrated and not assigner.assign(["Wireman"]).calibrated  # custom tables: none shipped
    cal = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=False, calibration=_record(assigner))
    raw, got = assigner.assign(["Wireman", "Operator"], k=3), cal.assign(["Wireman", "Operator"], k=3)
    assert got.calibrated and got.codes.tolist() == raw.codes.tolist()
    np.testing.assert_allclose(got.confidence, raw.confidence / 2, atol=1e-6)
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(_record(assigner)))
    from_file = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=False, calibration=path)
    np.testing.assert_allclose(from_file.assign(["Wireman"]).confidence, got.confidence[:1], atol=1e-6)


def test_calibration_errors_say_what_is_wrong(encoder, assigner, tmp_path):
    make = lambda cal: OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=False, calibration=cal)  # noqa: E731
    with pytest.raises(ValueError, match=r"fitted for other settings \(title_k: 64 there, 128 here"):
        make(_record(assigner, title_k=64))
    changed = make(_record(assigner))
    changed.temperatures = dict(changed.temperatures, title=0.5)
    with pytest.raises(ValueError, match="fitted for other settings.*temperatures"):
        changed.assign(["Wireman"])
    with pytest.raises(ValueError, match="needs 'maps'; it has 'fitted_for'"):
        make({"fitted_for": {}})
    bad = _record(assigner)
    bad["maps"]["onet"]["title"] = {"x": [0.0, 1.0, 0.5], "y": [0.0, 0.5, 0.6]}
    with pytest.raises(ValueError, match="calibration map onet/title must have increasing x and y knots"):
        make(bad)
    with pytest.raises(ValueError, match="calibration file .*missing.json' does not exist"):
        make(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken.json' is not valid JSON"):
        make(tmp_path / "broken.json")


def test_shipped_calibration_is_fitted_for_the_default_assigner(encoder, tmp_path):
    from exposure.occupations.assign import load_calibration

    record = load_calibration("default")
    a = OccupationAssigner(encoder, cache_dir=tmp_path)
    assert a.calibrated and a.calibration is record or a.calibration == record
    assert record["fitted_for"]["encoder"] == encoder.name and "sha256" in record["data"] and record["command"]
    for level in ("onet", "soc2018"):
        for basis in ("title", "duties", "title+duties"):
            m = record["maps"][level][basis]
            assert m["x"][0] >= 0 and m["x"][-1] <= 1 and m["y"][0] >= 0 and m["y"][-1] <= 1
        table = record["coverage"][level]["title"]
        assert table["coverage"][0] == 1.0 and np.all(np.diff(table["coverage"]) <= 0)
    assert 0 < a.threshold_for(coverage=0.8) < a.threshold_for(accuracy=0.85) < 1
    # Other settings turn the shipped maps off (plain probabilities), whenever they change.
    assert not OccupationAssigner(encoder, cache_dir=tmp_path, title_k=64).calibrated
    a.title_k = 64
    assert not a.calibrated
    assert not list(tmp_path.iterdir())  # still nothing encoded


def test_abstaining_below_min_confidence(encoder, assigner):
    titles = ["Journeyman Electrician", "Operator", None]
    full = assigner.assign(titles, k=2)
    t = float(np.mean(full.confidence[:2, 0]))  # between the two postings' top confidences
    out = assigner.assign(titles, k=2, min_confidence=t)
    assert out.abstained.tolist() == [False, True, False]
    assert out.codes[0].tolist() == full.codes[0].tolist() and (out.codes[1] == "").all() and out[1] == []
    assert np.isnan(out.confidence[1]).all() and out.flags == [None, "below min_confidence", "no title and no duties"]
    table = out.to_arrow()
    assert table["abstained"].to_pylist() == [False, True, False] and table["soc_code_1"].null_count == 2
    duties_only = assigner.assign([None], [["Cook food"]], min_confidence=1.0)
    assert duties_only.abstained.tolist() == [True] and duties_only.flags == ["no title; below min_confidence"]
    assert not assigner.assign(titles, min_confidence=0).abstained.any()
    assert not assigner.assign(titles).abstained.any()


@pytest.mark.parametrize("bad, error, message", [
    (1.5, ValueError, r"min_confidence must be between 0 and 1 \(a confidence\), got 1.5"),
    (-0.1, ValueError, r"min_confidence must be between 0 and 1 \(a confidence\), got -0.1"),
    (float("nan"), ValueError, r"min_confidence must be between 0 and 1 \(a confidence\), got nan"),
    ("0.8", TypeError, r"min_confidence must be a number between 0 and 1, got str '0.8'"),
    (True, TypeError, r"min_confidence must be a number between 0 and 1, got bool True"),
])
def test_min_confidence_errors(assigner, bad, error, message):
    with pytest.raises(error, match=message):
        assigner.assign(["Wireman"], min_confidence=bad)


def test_threshold_for(encoder, assigner):
    cal = OccupationAssigner(encoder, titles=TITLES, tasks=TASKS, cache_dir=False, calibration=_record(assigner))
    assert cal.threshold_for(coverage=0.8) == 0.2 and cal.threshold_for(coverage=0.6) == 0.2
    assert cal.threshold_for(coverage=1.0) == 0.0 and cal.threshold_for(accuracy=0.85) == 0.4
    assert cal.threshold_for(accuracy=0.5) == 0.0
    with pytest.raises(ValueError, match="no threshold reaches top-1 accuracy 0.95 .* the highest is 0.900, at threshold 0.40"):
        cal.threshold_for(accuracy=0.95)
    with pytest.raises(ValueError, match="give one of coverage"):
        cal.threshold_for()
    with pytest.raises(ValueError, match="give one of coverage"):
        cal.threshold_for(coverage=0.5, accuracy=0.5)
    with pytest.raises(ValueError, match=r"coverage must be between 0 and 1 \(a confidence\), got 80.0"):
        cal.threshold_for(coverage=80)
    with pytest.raises(ValueError, match="accuracy must be above 0, got 0"):
        cal.threshold_for(accuracy=0)
    with pytest.raises(ValueError, match="no coverage table for level 'onet' and basis 'duties'; bases with one: title"):
        cal.threshold_for(coverage=0.5, basis="duties")
    with pytest.raises(ValueError, match="unknown level 'soc'"):
        cal.threshold_for(coverage=0.5, level="soc")
    with pytest.raises(ValueError, match="threshold_for needs calibrated confidences"):
        assigner.threshold_for(coverage=0.5)


@pytest.mark.parametrize("seed", range(5))
def test_top_k_is_a_stable_descending_sort_cut_to_k(seed):
    from exposure.occupations.assign import _top_k

    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, (30, 12)).astype(np.float32)  # many ties, at the k-th place too
    scores[0] = 0  # a row of equal scores
    for k in (1, 3, 12):
        np.testing.assert_array_equal(_top_k(scores, k), np.argsort(-scores, axis=1, kind="stable")[:, :k])
    assert _top_k(scores[:0], 3).shape == (0, 3)


def test_distinct_rows_finds_repeats_by_bytes_and_text():
    from exposure.occupations.assign import _distinct_rows

    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 5)).astype(np.float32)
    base[5] = 0.0
    pick = rng.integers(0, 6, 40)
    rows = base[pick].copy()
    rows[3] = -0.0  # other bytes than +0.0: a row of its own
    first, inverse = _distinct_rows(rows)
    np.testing.assert_array_equal(rows[first][inverse], rows)
    assert np.all(np.diff(first) > 0)  # first occurrences, in order
    assert [int(np.flatnonzero((rows == rows[i]).all(axis=1) & (np.signbit(rows) == np.signbit(rows[i])).all(axis=1))[0])
            for i in first] == first.tolist()
    assert len(first) == len({r.tobytes() for r in rows})
    assert _distinct_rows(base) is None and _distinct_rows(rows[:1]) is None
    # with texts: the same row under another text is another title
    texts = ["a", "b", "a", "a"]
    first, inverse = _distinct_rows(np.stack([base[0], base[0], base[0], base[1]]), texts)
    assert first.tolist() == [0, 1, 3] and inverse.tolist() == [0, 1, 0, 2]
    assert _distinct_rows(np.stack([base[0], base[0]]), ["a", "b"]) is None


def test_repeated_titles_and_duties_are_searched_once(assigner, encoder, monkeypatch):
    from exposure.occupations import assign as assign_module

    titles = ["Wireman", "RN", "Wireman", "Line Cook", "RN", "Wireman"]
    t_emb = encoder.encode(titles)
    duties = encoder.encode(["Pull wire", "Chart vitals", "Pull wire", "Grill burgers", "Pull wire"])
    owners = np.array([0, 1, 1, 2, 3])
    searched = []
    real_search = assign_module.Index.search
    monkeypatch.setattr(assign_module.Index, "search", lambda self, q, *a, **k: searched.append(len(q)) or
                        real_search(self, q, *a, **k))
    got_t = assigner.title_scores(t_emb, titles)
    got_d = assigner.duty_scores(duties, owners, 4)
    assert searched == [3, 3]  # three distinct titles, three distinct duties
    monkeypatch.setattr(assign_module, "_distinct_rows", lambda *a, **k: None)
    np.testing.assert_array_equal(got_t, assigner.title_scores(t_emb, titles))
    np.testing.assert_array_equal(got_d, assigner.duty_scores(duties, owners, 4))
    assert searched[2:] == [6, 5]


def test_the_prior_favours_common_occupations_and_can_be_left_out(encoder, tmp_path):
    titles = pa.table({"soc_code": ["29-1141.00", "29-1161.00"], "title": ["Nurse", "Nurse"]})
    common = {"29-1141.00": np.log(0.02), "29-1161.00": np.log(0.0001)}  # registered nurses, nurse midwives
    kw = dict(titles=titles, tasks=TASKS.slice(0, 1), cache_dir=tmp_path, calibration=None)
    flat = OccupationAssigner(encoder, prior=None, **kw).assign(["Nurse"], k=2)
    assert flat.confidence[0, 0] == pytest.approx(flat.confidence[0, 1], rel=1e-5)  # the same title: no preference
    weighted = OccupationAssigner(encoder, prior=common, prior_weights={"title": 0.5}, **kw).assign(["Nurse"], k=2)
    assert weighted.codes[0].tolist() == ["29-1141.00", "29-1161.00"]
    # the logits differ by 0.5 * log(0.02 / 0.0001): the probabilities by that factor
    assert weighted.confidence[0, 0] / weighted.confidence[0, 1] == pytest.approx((0.02 / 0.0001) ** 0.5, rel=1e-4)
    missing = OccupationAssigner(encoder, prior={"29-1141.00": -3.0, "11-1011.00": -5.0}, **kw)
    assert missing.prior.tolist() == [-3.0, -5.0, -5.0]  # codes the mapping lacks get its lowest value
    with pytest.raises(ValueError, match="prior must be 'default'"):
        OccupationAssigner(encoder, prior="uniform", **kw)
    with pytest.raises(ValueError, match="finite"):
        OccupationAssigner(encoder, prior={"29-1141.00": float("-inf")}, **kw)


def test_the_shipped_prior_and_calibration_go_together(encoder, tmp_path):
    shipped = OccupationAssigner(encoder, cache_dir=tmp_path)
    assert shipped.calibrated and shipped.settings()["prior_weights"]["title"] > 0
    assert np.all(np.isfinite(shipped.prior)) and shipped.prior.max() < 0  # log shares
    # without the prior the confidences are no longer those the maps were fitted for
    assert not OccupationAssigner(encoder, cache_dir=tmp_path, prior=None).calibrated
