"""exposure.postings.scorer: duty scores aggregated per posting, evidence, fallback, statuses, the unit cache,
abstention below a minimum occupation confidence, titles and texts from any container."""

import numpy as np
import pyarrow as pa
import pytest

from exposure.encoder import CachedEncoder, EmbeddingCache
from exposure.language import is_english_posting
from exposure.postings import (EVIDENCE_MIN_SIMILARITY, EXPOSED_THRESHOLD, STATUSES, PostingScorer, UnitClassifier,
                               posting_schema, read_postings, score_postings)
from exposure.postings.scorer import _SCORERS

from helpers import CODES, GERMAN, labelled_rows, occupation_table, small_assigner

BOILERPLATE = "We are an equal opportunity employer. Apply today on our careers page."


@pytest.fixture(scope="module")
def classifier(encoder):
    return UnitClassifier.load(encoder=encoder)


@pytest.fixture(scope="module")
def assigner(encoder):
    return small_assigner(encoder)


@pytest.fixture(scope="module")
def scorer(model, classifier, assigner):
    return PostingScorer(model, classifier, assigner, occupation_scores=occupation_table(model.technologies))


@pytest.mark.slow
def test_aggregate_matches_a_hand_computation_from_task_scores(model, classifier, scorer):
    rows = labelled_rows()[:2]
    texts = [r["text"] for r in rows]
    got = scorer.score([r["title"] for r in rows], texts)
    for i, p in enumerate(read_postings(texts, classifier, model.encoder)):
        duties = p.duties
        assert duties and got.n_duties[i] == len(duties) and got.n_units[i] == len(p.units)
        ts = model.score_tasks(duties)  # encoded again here, on purpose: the reference
        np.testing.assert_allclose(got.exposure[i], ts.exposure.mean(), atol=1e-5)
        np.testing.assert_allclose(got.technology_scores[i], ts.technology_scores.mean(axis=0), atol=1e-5)
        np.testing.assert_allclose(got.automation_exposure[i], ts.automation_exposure.mean(), atol=1e-5)
        assert got.share_exposed[i] == pytest.approx((ts.exposure >= EXPOSED_THRESHOLD).mean())
        order = np.argsort(-ts.exposure, kind="stable")[:3]
        assert [d["text"] for d in got.top_duties[i]] == [duties[j] for j in order]
        np.testing.assert_allclose([d["exposure"] for d in got.top_duties[i]], ts.exposure[order], atol=1e-5)
        best = ts.evidence(int(order[0]))[0]  # shown only when close enough to be evidence
        assert got.top_duties[i][0]["capability"] == (best["statement"] if best["similarity"] >= EVIDENCE_MIN_SIMILARITY
                                                      else None)
        assert got.status[i] == "ok"
    table = got.to_arrow()
    assert table.schema == posting_schema(model.technologies)
    assert table["soc_code_1"].null_count == 0 and table["assignment_basis"].to_pylist() == ["title+duties"] * 2


@pytest.mark.slow
def test_evidence_is_sorted_and_confidences_descend(scorer):
    rows = labelled_rows()[:8]
    got = scorer.score([r["title"] for r in rows], [r["text"] for r in rows]).to_arrow().to_pylist()
    for r in got:
        ev = [r[f"top_duty_{k}_exposure"] for k in (1, 2, 3) if r[f"top_duty_{k}"] is not None]
        assert ev == sorted(ev, reverse=True) and len(ev) == min(3, r["n_duties"])
        conf = [r[f"soc_confidence_{k}"] for k in (1, 2, 3)]
        assert conf == sorted(conf, reverse=True) and 0 < conf[0] <= 1
        assert r["soc_code_1"] in CODES


def test_the_model_method_delegates(model, classifier, assigner, scorer):
    rows = labelled_rows()[:2]
    titles, texts = [r["title"] for r in rows], [r["text"] for r in rows]
    a = score_postings(model, titles, texts, classifier=classifier, assigner=assigner,
                       occupation_scores=occupation_table(model.technologies))
    b = scorer.score(titles, texts)
    np.testing.assert_allclose(a.exposure, b.exposure, atol=1e-5)
    assert a.occupations == b.occupations and a.status == b.status


def test_posting_without_duties_falls_back_to_its_occupation(model, classifier, scorer):
    got = scorer.score(["Heavy Truck Driver"], [BOILERPLATE])
    assert got.n_duties[0] == 0 and got.status[0] == "no_duties_occupation_fallback"
    code = got.occupations[0][0][0]
    table = occupation_table(model.technologies).to_pylist()
    row = next(r for r in table if r["soc_code"] == code)
    assert got.exposure[0] == pytest.approx(row["exposure"])
    assert got.technology_scores[0, 0] == pytest.approx(row[f"exposure_{model.technologies[0]}"])
    assert np.isnan(got.share_exposed[0]) and got.top_duties[0] == []
    # Without an assigner there is no occupation to fall back on.
    alone = PostingScorer(model, classifier).score(["Heavy Truck Driver"], [BOILERPLATE])
    assert alone.status == ["no_duties"] and np.isnan(alone.exposure[0]) and alone.occupations is None


def test_bad_rows_get_a_status_and_no_score(model, classifier, assigner):
    rows = labelled_rows()[:1]
    small = PostingScorer(model, classifier, assigner, occupation_scores=occupation_table(model.technologies),
                          max_chars=3000, multilingual=False)
    long_text = rows[0]["text"] + "\n" + "Filler paragraph about nothing in particular. " * 200
    texts = [None, 17, "", "   \n ", GERMAN, long_text, ["a list"]]
    got = small.score(["Nurse"] * len(texts), texts)
    assert got.status == ["empty", "not_text", "empty", "empty", "non_english", "truncated", "not_text"]
    assert set(got.status) <= set(STATUSES)
    unscored = [i for i, s in enumerate(got.status) if s != "truncated"]
    assert np.isnan(got.exposure[unscored]).all() and np.isnan(got.technology_scores[unscored]).all()
    assert np.isfinite(got.exposure[5]) and got.n_chars[5] == len(long_text) and got.n_duties[5] > 0
    assert got.to_arrow().num_rows == len(texts)
    assert got.language == [None, None, None, None, "de", "en", None]  # English only, the language named


def test_language_check():
    assert is_english_posting(labelled_rows()[:1][0]["text"])
    assert not is_english_posting(GERMAN)
    assert not is_english_posting("负责设备的日常维护和保养工作，编写维修报告并协助生产部门解决技术问题")
    assert is_english_posting("Ops mgr")  # too short to tell: passes


def test_keyword_style_english_postings_are_scored(scorer):
    # Scraped postings are often lower-cased keyword fragments without function words: English, so scored (by
    # their occupation where no unit reads as a duty); the same in German is read as German.
    texts = ["warehouse associate forklift certified pallet jack inventory counts shipping receiving osha safety",
             "registered nurse icu acute care patient assessment medication administration epic charting bls acls",
             "lagermitarbeiter vollzeit warenannahme kommissionierung versand staplerschein schichtarbeit"]
    got = scorer.score(["Warehouse Associate", "Registered Nurse", "Lagermitarbeiter"], texts)
    assert got.status[:2] == ["no_duties_occupation_fallback"] * 2 and got.language == ["en", "en", "de"]
    assert np.isfinite(got.exposure[:2]).all()


@pytest.mark.slow
def test_cache_hits_on_shared_boilerplate_and_changes_nothing(model, classifier):
    rows = labelled_rows()[:3]
    # Three postings of one employer: the same house duties, blurb and legal text in each.
    shared = ("Responsibilities:\n- Follow all company safety procedures and report hazards to your supervisor.\n"
              "- Keep the work area clean and organized.\n")
    texts = [f"{r['text']}\n{shared}{BOILERPLATE}\nAbout Acme: we have built bridges since 1950." for r in rows]
    titles = [r["title"] for r in rows]
    cached = PostingScorer(model, classifier, cache=1000)
    uncached = PostingScorer(model, classifier, cache=0)
    a, b = cached.score(titles, texts), uncached.score(titles, texts)
    assert cached.cache.hits > 0 and cached.cache.hit_rate > 0 and len(uncached.cache) == 0
    np.testing.assert_allclose(a.exposure, b.exposure, atol=1e-6)
    assert a.top_duties == b.top_duties or all(
        [d["text"] for d in x] == [d["text"] for d in y] for x, y in zip(a.top_duties, b.top_duties))
    # A second pass is served from the cache entirely.
    before = cached.cache.misses
    again = cached.score(titles, texts)
    assert cached.cache.misses == before and np.array_equal(again.exposure, a.exposure)
    # The embeddings themselves: through the cache (repeats included) as the encoder gives them.
    units = [d["text"] for p in a.top_duties for d in p] + [BOILERPLATE] * 2
    enc = CachedEncoder(model.encoder, EmbeddingCache(100))
    np.testing.assert_allclose(enc.encode(units), model.encoder.encode(units), atol=1e-6)
    np.testing.assert_array_equal(enc.encode(units), enc.encode(units))


def test_lru_cache_evicts_the_least_recently_used():
    c = EmbeddingCache(2, width=2)
    c.put(["a", "b"], np.array([[1, 1], [2, 2]], np.float32))
    c.get(["a"])
    c.put(["c"], np.array([[3, 3]], np.float32))
    rows, found = c.get(["a", "b", "c"])
    assert found.tolist() == [True, False, True] and rows[2].tolist() == [3, 3]
    assert len(c) == 2 and c.hits == 3 and c.misses == 1
    with pytest.raises(ValueError, match="max_entries"):
        EmbeddingCache(-1)


def test_lru_cache_agrees_with_a_plain_lru_map():
    """Random puts (keys repeated within a call, more keys than fit) and gets against an OrderedDict LRU."""
    from collections import OrderedDict

    rng = np.random.default_rng(0)
    for size in (1, 3, 8):
        c, ref = EmbeddingCache(size, width=2), OrderedDict()
        for step in range(300):
            keys = [f"k{i}" for i in rng.integers(0, 12, size=int(rng.integers(0, 12)))]
            if rng.random() < 0.5:
                rows = rng.standard_normal((len(keys), 2)).astype(np.float32)
                c.put(keys, rows)
                for k, r in zip(keys, rows):
                    if k not in ref and len(ref) == size:
                        ref.popitem(last=False)
                    ref[k] = r
                    ref.move_to_end(k)
            else:
                got, found = c.get(keys)
                for i, k in enumerate(keys):
                    assert found[i] == (k in ref), (size, step, k)
                    if k in ref:
                        ref.move_to_end(k)
                        np.testing.assert_array_equal(got[i], ref[k])
                    else:
                        assert not got[i].any()
            assert list(c._slots) == list(ref)


@pytest.mark.slow
def test_cached_occupation_scores_are_score_occupations(model, tmp_path):
    from exposure.occupations import load_tasks, score_occupations
    from exposure.occupations import cached_occupation_scores

    rng = np.random.default_rng(0)
    emb = rng.standard_normal((load_tasks("29.1").num_rows, model.encoder.dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    got = cached_occupation_scores(model, "29.1", embeddings=emb, cache_dir=tmp_path)
    assert got.equals(score_occupations(model, "29.1", top_tasks=0, embeddings=emb))
    assert len(list(tmp_path.glob("occupation-scores-v3-29.1-*.parquet"))) == 1
    assert cached_occupation_scores(model, "29.1", embeddings=emb[:5], cache_dir=tmp_path).equals(got)  # from the cache
    with pytest.raises(ValueError, match="embeddings have 5 rows"):
        cached_occupation_scores(model, "29.1", embeddings=emb[:5], cache_dir=False)


def test_titles_are_encoded_through_the_unit_cache(model, classifier, assigner):
    from exposure.occupations import clean_posting_title
    from exposure.occupations import load_tasks

    scorer = PostingScorer(model, classifier, assigner, occupation_scores=occupation_table(model.technologies))
    # The caller's assigner and classifier are used as they are: nothing copied, nothing swapped.
    assert scorer.assigner is assigner and assigner.encoder is model.encoder and scorer.classifier is classifier
    rows = labelled_rows()[:2]
    titles = [r["title"] for r in rows]
    scorer.score(titles, [r["text"] for r in rows])
    assert all(clean_posting_title(t) in scorer.cache for t in titles)
    catalogue = set(load_tasks("29.1")["task"].to_pylist())
    assert not any(t in scorer.cache for t in catalogue)  # the indexes were built with the plain encoder
    # An assigner whose indexes hold another encoder's embeddings is refused.
    class Wider:
        name, dim = "another-model", 768

    other = small_assigner(model.encoder)
    other.encoder = Wider()
    with pytest.raises(ValueError, match="build the OccupationAssigner on model.encoder"):
        PostingScorer(model, classifier, other)


@pytest.mark.slow
def test_titles_are_encoded_in_one_call_with_the_units(model, classifier, assigner, monkeypatch):
    rows = labelled_rows()[:3]
    titles, texts = [r["title"] for r in rows] + [None], [r["text"] for r in rows] + [rows[0]["text"]]
    fresh = PostingScorer(model, classifier, assigner, occupation_scores=occupation_table(model.technologies))
    calls = []
    real = type(model.encoder).encode
    monkeypatch.setattr(type(model.encoder), "encode", lambda self, t, **kw: calls.append(list(t)) or real(self, t, **kw))
    got = fresh.score(titles, texts)
    monkeypatch.undo()
    assert len(calls) == 1 and all(fresh.assigner.title_queries([t])[0] in calls[0] for t in titles[:3])
    # the same occupations as the assigner encoding its titles itself (other batches: rows within 1e-6)
    duties = [p.duties for p in read_postings(texts, classifier, model.encoder)]
    ref = assigner.assign(titles, duties, k=3)
    assert [[c for c, _, _ in o] for o in got.occupations] == [[c for c, _, _ in o] for o in ref.tolist()]
    np.testing.assert_allclose([p for o in got.occupations for _, _, p in o],
                               [p for o in ref.tolist() for _, _, p in o], atol=1e-5)


class _Fixed:
    """An assigner of one's own (the Assigner protocol): the same occupation for every posting."""

    def title_queries(self, titles):
        return [t or "" for t in titles]

    def assign_embeddings(self, queries, title_embeddings, duty_embeddings, duty_owners, *, k=3, min_confidence=None):
        from exposure.occupations.assign import Assignments

        n = len(queries)
        self.seen = (title_embeddings.shape, duty_embeddings.shape, duty_owners.tolist())
        return Assignments(np.full((n, 1), "43-4051.00"), np.full((n, 1), "Customer Service Representatives"),
                           np.full((n, 1), 0.9, np.float32), ["title"] * n, [None] * n, "onet")


def test_an_assigner_of_ones_own_gets_embeddings(model, classifier):
    rows = labelled_rows()[:2]
    mine = _Fixed()
    got = PostingScorer(model, classifier, mine, occupation_scores=occupation_table(model.technologies)).score(
        [r["title"] for r in rows], [r["text"] for r in rows])
    assert [o[0][0] for o in got.occupations] == ["43-4051.00"] * 2
    titles, duties, owners = mine.seen
    assert titles == (2, model.encoder.dim) and duties == (int(got.n_duties.sum()), model.encoder.dim)
    assert owners == sorted(owners) and len(set(owners)) == 2


@pytest.mark.slow
def test_the_model_keeps_its_posting_scorer(model, classifier, assigner):
    rows = labelled_rows()[:2]
    titles, texts = [r["title"] for r in rows], [r["text"] for r in rows]
    table = occupation_table(model.technologies)
    first = score_postings(model, titles, texts, classifier=classifier, assigner=assigner, occupation_scores=table,
                                 cache=5000)
    kept = _SCORERS[model][1]
    hits, misses = kept.cache.hits, kept.cache.misses
    again = score_postings(model, titles, texts, classifier=classifier, assigner=assigner, occupation_scores=table,
                                 cache=5000)
    assert _SCORERS[model][1] is kept  # the same scorer, its caches warm: nothing encoded again
    assert kept.cache.hits > hits and kept.cache.misses == misses
    np.testing.assert_array_equal(first.exposure, again.exposure)
    score_postings(model, titles, texts, classifier=classifier, assigner=assigner, occupation_scores=table, cache=0)
    assert _SCORERS[model][1] is not kept  # other arguments: another scorer


def test_scoring_prepared_postings_is_scoring(scorer):
    import pickle

    rows = labelled_rows()[:5]
    titles = [r["title"] for r in rows] + ["Fahrer", None, None]
    texts = [r["text"] for r in rows] + [GERMAN, None, "   "]
    prepared = pickle.loads(pickle.dumps(scorer.prepare(texts)))  # as it comes back from a worker
    assert prepared.status[-3:] == ["ok", "empty", "empty"] and len(prepared) == 8
    assert prepared.language[-3:] == ["de", None, None]
    assert all(len(k) == len(c) for k, c in zip(prepared.kept, prepared.context))
    before = dict(scorer.seconds)
    a = scorer.score(titles, texts)
    middle = dict(scorer.seconds)
    b = scorer.score_prepared(titles, prepared)
    assert a.to_arrow().equals(b.to_arrow())
    # the scorer adds up its steps' seconds; the text work only where it does it
    from exposure.postings.scorer import SCORING_STEPS

    assert list(scorer.seconds) == list(SCORING_STEPS)
    assert middle["text"] > before["text"] and scorer.seconds["text"] == middle["text"]
    assert all(scorer.seconds[k] > middle[k] > before[k] for k in ("encode", "classify", "assign"))
    with pytest.raises(ValueError, match="got 2 titles for 8 texts"):
        scorer.score_prepared(titles[:2], prepared)


def test_searches_on_a_torch_device_score_the_same(scorer, monkeypatch):
    """What a model on a GPU does (every search through an index resident on the device), run on torch's CPU:
    the same scores, evidence and occupations as the native kernel's."""
    from exposure.kernels import Index

    rows = labelled_rows()[:8]
    titles, texts = [r["title"] for r in rows], [r["text"] for r in rows]
    ref = scorer.score(titles, texts)
    searched_on = []
    real_search = Index.search
    monkeypatch.setattr(Index, "for_device", lambda self, device: self.to("cpu"))  # as for_device("cuda") does
    monkeypatch.setattr(Index, "search", lambda self, *a, **k: searched_on.append(self.device) or
                        real_search(self, *a, **k))
    got = scorer.score(titles, texts)
    assert searched_on and all(d is not None and d.type == "cpu" for d in searched_on)  # every search on torch
    assert got.status == ref.status
    for name in ("exposure", "technology_scores", "automation_exposure", "share_exposed"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), atol=1e-5, err_msg=name)
    assert [[d["text"] for d in row] for row in got.top_duties] == [[d["text"] for d in row] for row in ref.top_duties]
    assert [[c for c, _, _ in row] for row in got.occupations] == [[c for c, _, _ in row] for row in ref.occupations]
    np.testing.assert_allclose([[p for _, _, p in row] for row in got.occupations],
                               [[p for _, _, p in row] for row in ref.occupations], atol=1e-5)


@pytest.mark.gpu
def test_a_model_on_cuda_scores_like_the_cpu(scorer, classifier):
    """Encoder and searches on the GPU (float32): the scores of the CPU run."""
    from exposure import Encoder, ExposureModel

    gpu_model = ExposureModel(Encoder(device="cuda", dtype="float32"))
    gpu_scorer = PostingScorer(gpu_model, UnitClassifier.load(encoder=gpu_model.encoder),
                               small_assigner(gpu_model.encoder), occupation_scores=occupation_table(gpu_model.technologies))
    rows = labelled_rows()[:8]
    titles, texts = [r["title"] for r in rows], [r["text"] for r in rows]
    ref, got = scorer.score(titles, texts), gpu_scorer.score(titles, texts)
    assert got.status == ref.status
    np.testing.assert_allclose(got.exposure, ref.exposure, atol=1e-3)
    np.testing.assert_allclose(got.technology_scores, ref.technology_scores, atol=1e-3)


@pytest.fixture(scope="module")
def parts(classifier, assigner):
    return classifier, assigner


@pytest.mark.slow
def test_scorer_abstains_below_min_soc_confidence(model, parts):
    classifier, assigner = parts
    rows = labelled_rows()[:4]
    titles, texts = [r["title"] for r in rows], [r["text"] for r in rows]
    texts[3] = "We are an equal opportunity employer. Apply today on our careers page."  # no duties: fallback
    table = occupation_table(model.technologies)
    full = PostingScorer(model, classifier, assigner, occupation_scores=table).score(titles, texts)
    top = np.array([o[0][2] for o in full.occupations])
    assert full.abstained == [False] * 4 and full.status[3] == "no_duties_occupation_fallback"
    t = float(top[3]) + 1e-4  # just above the last posting's top confidence
    got = PostingScorer(model, classifier, assigner, occupation_scores=table, min_soc_confidence=t).score(titles, texts)
    assert got.abstained == [bool(c < t) for c in top] and got.abstained[3]
    assert got.status[3] == "no_duties" and np.isnan(got.exposure[3])
    out = got.to_arrow()
    assert out.schema == posting_schema(model.technologies) and out["soc_abstained"].to_pylist() == got.abstained
    for i, r in enumerate(out.to_pylist()):
        assert (r["soc_code_1"] is None) == got.abstained[i] and (r["soc_confidence_1"] is None) == got.abstained[i]
    none = PostingScorer(model, classifier, None, occupation_scores=table).score(titles[:1], texts[:1]).to_arrow()
    assert none["soc_abstained"].to_pylist() == [None]


@pytest.mark.parametrize("bad, error, message", [
    (1.2, ValueError, r"min_soc_confidence must be between 0 and 1 \(a confidence\), got 1.2"),
    ("high", TypeError, "min_soc_confidence must be a number between 0 and 1, got str 'high'"),
])
def test_scorer_min_soc_confidence_errors(model, parts, bad, error, message):
    with pytest.raises(error, match=message):
        PostingScorer(model, parts[0], parts[1], min_soc_confidence=bad)


def test_scorer_min_soc_confidence_needs_an_assigner(model, parts):
    with pytest.raises(ValueError, match="min_soc_confidence needs an assigner"):
        PostingScorer(model, parts[0], None, min_soc_confidence=0.5)


@pytest.mark.slow
def test_score_postings_converts_titles_and_texts(model):
    """Posting scores read titles and texts from any container, NaN and nulls as missing."""
    pd = pytest.importorskip("pandas")
    from exposure.postings import score_postings

    text = "Duties:\n- Answer patient calls and book appointments\n- Update medical records"
    out = score_postings(model, pd.Series(["Nurse", np.nan]), pa.array([text, None]))
    ref = score_postings(model, ["Nurse", None], [text, None])
    assert out.status == ref.status == ["ok", "empty"]
    np.testing.assert_array_equal(out.exposure, ref.exposure)
    odd = score_postings(model, None, np.array([text, 17], dtype=object))
    assert odd.status == ["ok", "not_text"]
