"""exposure.occupations.assign: titles and duties -> O*NET-SOC occupations, the embedding cache, the shipped title table."""

import hashlib

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
    assert soc.confidence[0, 0] == pytest.approx(onet.confidence[0, :2].sum(), abs=1e-5)
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


def test_cache_is_reused_and_keyed_by_encoder(encoder, tmp_path):
    first = CountingEncoder(encoder)
    a = OccupationAssigner(first, titles=TITLES, tasks=TASKS, cache_dir=tmp_path)
    a.assign(["Wireman"], [["Test circuits"]])
    assert a.loaded_from_cache == {"titles": False, "tasks": False}
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and all(f.endswith(".npy") and "-384-" in f for f in files)  # no temporary files left

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
