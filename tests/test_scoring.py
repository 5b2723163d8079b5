import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from exposure import CapabilitySet, ExposureModel
from exposure.heads import HeadFileError, HeadMismatchError, Heads

from helpers import MIXED_TEXTS, MIXED_TEXTS_READ

DATA = Path(os.environ.get("EXPOSURE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

TASKS = [
    "Answer customer questions about orders, billing, and returns by email.",
    "Weld steel beams on construction sites using arc welding equipment.",
    "Prepare monthly financial statements and variance reports.",
    "Provide bedside care to patients and give them baths.",
]


@pytest.fixture(scope="module")
def zero_shot(encoder):
    """The default model with the zero-shot headline (calibrated=False) and zero-shot technology scores."""
    return ExposureModel(encoder, calibrated=False, technology_labels=None)


def _lme(sims, temperature):
    """log-mean-exp along the last axis, the documented pooling."""
    m = sims.max(axis=-1, keepdims=True)
    return m[..., 0] + temperature * np.log(np.exp((sims - m) / temperature).mean(axis=-1))


@pytest.mark.slow
def test_rule_matches_its_definition(zero_shot):
    """Recompute the documented zero-shot rule with plain numpy from the embeddings."""
    model = zero_shot
    scores = model.score_tasks(TASKS)
    emb = model.encoder.encode(TASKS).astype(np.float64)
    caps = model.encoder.encode(model.capabilities.statements).astype(np.float64)
    counters = model.encoder.encode(model.capabilities.counter_statements).astype(np.float64)
    T, tech = model.temperature, model.capabilities.technology_index
    human = _lme(emb @ counters.T, T)
    head = np.isin(np.array(model.capabilities.technologies)[tech], model.headline)
    margin = _lme(emb @ caps[head].T, T) - human
    np.testing.assert_allclose(scores.margin, margin, atol=1e-4)
    np.testing.assert_allclose(scores.exposure, 1 / (1 + np.exp(-margin / model.scale)), atol=1e-4)
    for g, name in enumerate(model.technologies):
        expected = 1 / (1 + np.exp(-(_lme(emb @ caps[tech == g].T, T) - human) / model.scale))
        np.testing.assert_allclose(scores.technology_scores[:, g], expected, atol=1e-4, err_msg=name)
    sims = emb @ caps.T
    np.testing.assert_array_equal(scores.evidence_index, np.argsort(-sims, axis=1, kind="stable")[:, :3])
    np.testing.assert_allclose(scores.evidence_similarity, np.sort(sims, axis=1)[:, ::-1][:, :3], atol=1e-5)
    np.testing.assert_array_equal(scores.counter_index, (emb @ counters.T).argmax(axis=1))


def test_scores_rank_information_work_above_physical_work(model):
    s = model.score_tasks(TASKS)
    assert s.exposure.shape == (4,) and s.technology_scores.shape == (4, len(model.technologies))
    assert np.all((s.exposure >= 0) & (s.exposure <= 1))
    assert min(s.exposure[0], s.exposure[2]) > max(s.exposure[1], s.exposure[3])


def test_technology_profile_points_at_the_right_technology(model):
    s = model.score_tasks([
        "Examine finished products for flaws.",
        "Drive autonomous forklifts to move pallets in a warehouse.",
        "Write and debug computer programs.",
    ])
    lead = [s.technologies[i] for i in s.technology_scores.argmax(axis=1)]
    assert lead[0] == "vision" and lead[1] == "vehicles" and lead[2] in ("llm", "software")


def test_evidence_and_tables(model):
    s = model.score_tasks(TASKS[:2])
    ev = s.evidence(0)
    assert len(ev) == 3 and ev[0]["similarity"] >= ev[1]["similarity"] >= ev[2]["similarity"]
    assert ev[0]["id"] in model.capabilities.ids
    table = s.to_arrow()
    assert table.num_rows == 2
    expected = {"text", "exposure", "margin", "evidence_1_id", "evidence_3_similarity", "counter_statement"}
    expected |= {f"exposure_{t}" for t in model.technologies}
    assert expected <= set(table.column_names)
    df = s.to_pandas()
    assert df.loc[0, "evidence_1_statement"] == ev[0]["statement"]


def test_empty_texts_get_no_score(model):
    s = model.score_tasks(["", None, TASKS[0]])
    assert np.isnan(s.exposure[:2]).all() and not np.isnan(s.exposure[2])
    assert (s.evidence_index[:2] == -1).all() and s.evidence(0) == []
    assert s.to_arrow().column("evidence_1_id").to_pylist()[:2] == [None, None]


def test_no_tasks(model):
    s = model.score_tasks([])
    assert len(s) == 0 and s.to_arrow().num_rows == 0


def _tiny_set(counters=True):
    data = {
        "name": "tiny", "version": "0.1.0", "description": "Two technologies.",
        "technologies": {"text": "Text work.", "arms": "Robot arms."},
        "capabilities": [
            {"id": "write", "technology": "text", "statement": "Write reports and letters."},
            {"id": "answer", "technology": "text", "statement": "Answer questions by email."},
            {"id": "weld", "technology": "arms", "statement": "Weld car bodies on an assembly line."},
        ],
    }
    if counters:
        data["counter_statements"] = [{"id": "care", "statement": "Bathe and feed patients."}]
    return CapabilitySet.from_dict(data)


def test_user_capability_set_and_headline_choice(encoder):
    caps = _tiny_set()
    m = ExposureModel(encoder, caps)
    assert m.headline == ("text", "arms")  # no headline in the set: all technologies
    s = ExposureModel(encoder, caps, technologies=["arms"]).score_tasks(["Weld car frames."])
    np.testing.assert_allclose(s.exposure, s.technology_scores[:, 1], atol=1e-6)


def test_set_without_counter_statements(encoder):
    s = ExposureModel(encoder, _tiny_set(counters=False)).score_tasks(TASKS[:2])
    assert np.isfinite(s.exposure).all() and (s.counter_index == -1).all()
    assert s.to_arrow().column("counter_id").to_pylist() == [None, None]


def test_bad_arguments(encoder):
    with pytest.raises(ValueError, match="unknown technologies \\['lasers'\\]"):
        ExposureModel(encoder, technologies=["lasers"])
    with pytest.raises(ValueError, match="must be positive"):
        ExposureModel(encoder, temperature=0)
    model = ExposureModel(encoder)
    with pytest.raises(ValueError, match=r"embeddings must have shape \(n, 384\)"):
        model.score_embeddings(np.zeros((2, 5), dtype=np.float32))


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "task_labels_train.tsv").exists(), reason="needs ../shared/data")
def test_zero_shot_agrees_with_human_labels_on_a_sample(zero_shot):
    """A regression guard for the capability set: 600 labelled tasks, AUC of E1|E2 vs E0."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    tasks = pd.read_csv(DATA / "onet_tasks.tsv", sep="\t")
    labels = pd.read_csv(DATA / "task_labels_train.tsv", sep="\t")
    sample = tasks.merge(labels, on=["soc_code", "task_id"]).sample(600, random_state=0)
    s = zero_shot.score_tasks(sample.task.tolist())
    auc = roc_auc_score(sample.human_exposure != "E0", s.exposure)
    assert auc > 0.78, auc


# ---------------------------------------------------------------- the calibrated head

@pytest.mark.slow
def test_calibrated_head_is_the_default_when_it_matches(model, zero_shot):
    assert model.calibrated and not zero_shot.calibrated
    assert "calibrated (head 'default')" in repr(model) and "zero-shot rule (calibrated=False)" in repr(zero_shot)
    s = model.score_tasks(TASKS)
    assert s.calibrated and s.probabilities.shape == (4, 3) and s.gpt4_automation.shape == (4,)
    np.testing.assert_allclose(s.probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(s.exposure, s.probabilities[:, 1] + 0.5 * s.probabilities[:, 2], atol=1e-6)
    assert np.all((s.gpt4_automation >= 0) & (s.gpt4_automation <= 1))
    assert min(s.exposure[0], s.exposure[2]) > max(s.exposure[1], s.exposure[3])
    # The margin stays zero-shot; the technology profile does not depend on the head.
    z = zero_shot.score_tasks(TASKS)
    np.testing.assert_allclose(s.margin, z.margin, atol=1e-6)
    uncalibrated = ExposureModel(model.encoder, calibrated=False).score_tasks(TASKS)
    np.testing.assert_allclose(s.technology_scores, uncalibrated.technology_scores, atol=1e-6)
    assert z.probabilities is None and z.gpt4_automation is None and not z.calibrated
    table = s.to_arrow()
    assert {"p_e0", "p_e1", "p_e2", "gpt4_automation", "margin", "exposure_llm"} <= set(table.column_names)
    assert not {"p_e0", "gpt4_automation", "automation"} & set(z.to_arrow().column_names)
    # 0.2's `automation` (the degree) is `gpt4_automation`; since 0.5 `automation` is the split of exposure
    np.testing.assert_allclose(s.automation, s.exposure * s.gpt4_automation, rtol=1e-6)


def test_calibrated_empty_texts_get_no_score(model):
    s = model.score_tasks(["", TASKS[0], None])
    assert np.isnan(s.exposure[[0, 2]]).all() and np.isnan(s.probabilities[[0, 2]]).all()
    assert np.isnan(s.gpt4_automation[[0, 2]]).all() and np.isfinite(s.probabilities[1]).all()
    assert len(model.score_tasks([])) == 0


def test_mismatched_head(encoder):
    caps = _tiny_set()
    own = ExposureModel(encoder, caps)  # calibrated=None: falls back to the zero-shot rule
    assert not own.calibrated and "no matching head" in repr(own)
    with pytest.raises(HeadMismatchError, match=r"belongs to the capability set 'default' v1\.1\.0.*'tiny' v0\.1\.0"):
        ExposureModel(encoder, caps, calibrated=True)
    with pytest.raises(HeadMismatchError, match="headline technologies .*calibrated=False"):
        ExposureModel(encoder, technologies=["vision"], calibrated=True)
    assert not ExposureModel(encoder, technologies=["vision"]).calibrated


def test_damaged_head_is_an_error(encoder, tmp_path):
    import shutil

    from exposure._assets import shipped

    for f in ("default.json", "default.npz", "default.folds.npz"):
        shutil.copy(str(shipped("heads") / f), tmp_path / f)
    assert ExposureModel(encoder, head=tmp_path / "default.json").calibrated
    data = bytearray((tmp_path / "default.npz").read_bytes())
    data[-100] ^= 1
    (tmp_path / "default.npz").write_bytes(bytes(data))
    with pytest.raises(HeadFileError, match="checksum mismatch"):
        ExposureModel(encoder, head=tmp_path / "default.json")
    assert isinstance(Heads.load(), Heads)


def _features_by_separate_reductions(emb, cap_emb, counter_emb, technology_index, headline_mask):
    """The head's features as the native kernel computes them one reduction at a time (exposure 0.2)."""
    from exposure.heads import POOL_TEMPERATURES
    from exposure.kernels import reduce

    g = int(technology_index.max()) + 1
    counts = np.bincount(technology_index, minlength=g).astype(np.float64)
    head_index = np.where(headline_mask[technology_index], 0, 1).astype(np.int32)
    cols = []
    for T in POOL_TEMPERATURES:
        cols.append(reduce(emb, cap_emb, "logsumexp", temperature=T, groups=technology_index, num_groups=g).values
                    - T * np.log(counts))
        cols.append(reduce(emb, cap_emb, "logsumexp", temperature=T, groups=head_index, num_groups=2).values[:, :1]
                    - T * np.log(counts[headline_mask].sum()))
        cols.append(reduce(emb, counter_emb, "logsumexp", temperature=T).values[:, None]
                    - T * np.log(counter_emb.shape[0]))
    cols.append(reduce(emb, cap_emb, "max", groups=technology_index, num_groups=g).values)
    cols.append(reduce(emb, counter_emb, "max").values[:, None])
    return np.hstack([c.astype(np.float64) for c in cols])


def test_capability_features_from_one_pass_match_separate_reductions(model, encoder):
    from exposure.heads import capability_features, statement_similarities

    emb = encoder.encode(TASKS + ["Sort parcels on a conveyor.", "Drive a delivery van."])
    caps = model.capabilities
    cap_emb, counter_emb = encoder.encode(caps.statements), encoder.encode(caps.counter_statements)
    mask = np.isin(np.array(caps.technologies), caps.headline_technologies)
    want = _features_by_separate_reductions(emb, cap_emb, counter_emb, caps.technology_index, mask)
    got = capability_features(statement_similarities(emb, cap_emb, counter_emb), caps.technology_index, mask)
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    np.testing.assert_allclose(model.capability_features(emb), want, atol=1e-6, rtol=0)
    # A model pooling other technologies still gives the features the head reads (the set's headline).
    other = ExposureModel(encoder, technologies=["vision"], calibrated=False)
    np.testing.assert_allclose(other.capability_features(emb), want, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match=r"embeddings must have shape \(n, 384\)"):
        model.capability_features(np.zeros((2, 5), dtype=np.float32))


def test_pooled_reductions_match_the_kernel_on_random_and_adversarial_rows():
    from exposure.heads import grouped_max, pooled_logsumexp, statement_similarities
    from exposure.kernels import reduce

    rng = np.random.default_rng(3)
    keys = rng.standard_normal((37, 16)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    queries = np.vstack([rng.standard_normal((50, 16)), np.zeros((1, 16)), keys[:3], -keys[:2]]).astype(np.float32)
    groups = rng.integers(0, 5, 37).astype(np.int32)
    groups[groups == 4] = 3  # group 4 has no key: -inf, as the kernel gives
    sims = statement_similarities(queries, keys, keys[:0])
    assert sims.counters.shape == (len(queries), 0)
    for T in (0.02, 0.1, 1.0):
        want = reduce(queries, keys, "logsumexp", temperature=T, groups=groups, num_groups=5).values
        got = pooled_logsumexp(sims.capabilities, T, groups, 5)
        assert np.array_equal(np.isinf(got), np.isinf(want))
        np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], atol=1e-6, rtol=0)
    want = reduce(queries, keys, "max", groups=groups, num_groups=5).values
    np.testing.assert_array_equal(grouped_max(sims.capabilities, groups, 5), want)  # the kernel's dot products


def test_the_model_builds_its_search_indexes_once(model, encoder, monkeypatch):
    """The model holds an Index per statement set: later scoring calls search it again, none is rebuilt."""
    from exposure.kernels import Index

    emb = encoder.encode(TASKS)
    first = model.score_embeddings(emb)  # builds what an earlier test did not
    built = []
    real_init = Index.__init__
    monkeypatch.setattr(Index, "__init__", lambda self, *a, **k: built.append(len(a[0])) or real_init(self, *a, **k))
    again = model.score_embeddings(emb)
    model.capability_features(emb)
    assert built == []
    np.testing.assert_array_equal(again.exposure, first.exposure)


@pytest.mark.slow
def test_fingerprint_tells_models_apart(model, zero_shot, encoder, tmp_path):
    import copy

    assert model.fingerprint() == ExposureModel(encoder).fingerprint()  # same settings, same fingerprint
    assert model.head.checksum == model.head.manifest["weights"]["sha256"]
    assert zero_shot.fingerprint() != model.fingerprint()  # calibrated=False
    assert ExposureModel(encoder, calibrated=False, scale=0.06).fingerprint() != zero_shot.fingerprint()
    # Another head under the same name and manifest: only its weights differ.
    other = copy.deepcopy(model.head)
    other.exposure.bias = other.exposure.bias + 0.01
    retrained = ExposureModel(encoder, head=other.save(tmp_path, "default"))
    assert retrained.calibrated and retrained.head_note == f"head {str(tmp_path / 'default.json')!r}"
    assert retrained.fingerprint() != model.fingerprint()
    assert ExposureModel(encoder, head=other).fingerprint() == retrained.fingerprint()  # in memory: the same weights


@pytest.mark.slow
def test_capability_embeddings_are_cached_on_disk(encoder, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("EXPOSURE_CACHE_DIR", str(tmp_path))
    first = ExposureModel(encoder, calibrated=False)
    caps, counters = first._reference_embeddings()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and all(f.startswith("capability-embeddings-") for f in files)
    np.testing.assert_array_equal(caps, encoder.encode(first.capabilities.statements))
    # A second model reads the files: the same bits, and only the probe text of the file's key is encoded.
    second = ExposureModel(encoder, calibrated=False)
    encode = encoder.encode
    monkeypatch.setattr(encoder, "encode", lambda texts, *a, **k: encode(texts, *a, **k) if len(texts) == 1
                        else pytest.fail(f"encoded {len(texts)} texts again"))
    again = second._reference_embeddings()
    np.testing.assert_array_equal(again[0], caps)
    np.testing.assert_array_equal(again[1], counters)
    monkeypatch.setattr(encoder, "encode", encode)
    # A damaged file is encoded again; an unwritable folder only warns.
    for p in tmp_path.iterdir():
        p.write_bytes(b"not an array")
    np.testing.assert_array_equal(ExposureModel(encoder, calibrated=False)._reference_embeddings()[0], caps)
    assert all(np.load(p).shape[1] == encoder.dim for p in tmp_path.iterdir())  # written again
    monkeypatch.setenv("EXPOSURE_CACHE_DIR", str(tmp_path / "file"))
    (tmp_path / "file").write_text("a file, not a folder")
    with caplog.at_level("WARNING", logger="exposure.scoring"):
        got = ExposureModel(encoder, calibrated=False)._reference_embeddings()[0]
    np.testing.assert_array_equal(got, caps)
    assert "could not cache the capability embeddings" in caplog.text


def test_statuses_are_the_librarys_and_the_command_line_agrees(model, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from exposure import cli

    values = ["Answer customer questions about orders by email.", None, "   ", 12345,
              "Responder a las preguntas de los clientes sobre pedidos y devoluciones por correo."]
    s = model.score_tasks(values)
    assert s.status == ["ok", "empty", "empty", "not_text", "non_english"]
    assert np.isfinite(s.exposure[0]) and np.isnan(s.exposure[1:]).all()
    table = s.to_arrow()
    assert table.column_names[:3] == ["text", "status", "exposure"] and table["text"][3].as_py() is None
    # score-tasks gives the same statuses and scores for the same texts.
    keep = [0, 1, 2, 4]
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(f'{{"task": {json.dumps(values[i])}}}\n' for i in keep), encoding="utf-8")
    monkeypatch.setattr(cli, "_model", lambda args, technologies=None: model)
    assert cli.main(["score-tasks", str(path), "-o", str(tmp_path / "out.parquet"), "-q"]) == 0
    out = pq.read_table(tmp_path / "out.parquet")
    assert out["status"].to_pylist() == [s.status[i] for i in keep]
    np.testing.assert_allclose(out["exposure"].to_numpy(zero_copy_only=False), s.exposure[keep], equal_nan=True)
    # Embeddings are scored as they are.
    assert model.score_embeddings(model.encoder.encode(values[:1])).status == ["ok"]


@pytest.mark.slow
def test_score_tasks_accepts_series_and_arrow(model):
    pd = pytest.importorskip("pandas")
    ref = model.score_tasks(MIXED_TEXTS_READ)
    for texts in (pd.Series([MIXED_TEXTS[0], np.nan, MIXED_TEXTS[2], ""]), pa.chunked_array([MIXED_TEXTS[:1], MIXED_TEXTS[1:]]),
                  np.array(MIXED_TEXTS, dtype=object)):
        got = model.score_tasks(texts)
        np.testing.assert_allclose(got.exposure, ref.exposure, atol=1e-6, equal_nan=True)
        assert got.texts == MIXED_TEXTS_READ
        assert got.to_arrow()["text"].to_pylist() == MIXED_TEXTS_READ
    assert np.isnan(ref.exposure[[1, 3]]).all() and np.isfinite(ref.exposure[[0, 2]]).all()


def test_score_embeddings_accepts_a_series_of_texts(model):
    pd = pytest.importorskip("pandas")
    emb = model.encoder.encode(MIXED_TEXTS_READ)
    got = model.score_embeddings(emb, texts=pd.Series([MIXED_TEXTS[0], np.nan, MIXED_TEXTS[2], ""]))
    assert got.texts == MIXED_TEXTS_READ and got.to_arrow()["text"].to_pylist() == MIXED_TEXTS_READ
    with pytest.raises(ValueError, match="4 rows of embeddings but 2 texts"):
        model.score_embeddings(emb, texts=MIXED_TEXTS[:2])


def test_tasks_of_labelled_occupations_are_scored_out_of_fold(model, zero_shot, encoder):
    """Given the occupations, the head's training occupations get the fold heads' scores; the rest are unchanged."""
    emb = encoder.encode(TASKS[:4])
    labelled = sorted(model.labelled_occupations)[0]
    codes = [labelled, labelled, "99-9999.00", None]
    plain = model.score_embeddings(emb)
    oof = model.score_embeddings(emb, occupations=codes)
    assert plain.exposure_in_sample is None and plain.held_out is None
    assert oof.held_out.tolist() == [True, True, False, False]
    np.testing.assert_array_equal(oof.exposure_in_sample, plain.exposure)
    np.testing.assert_array_equal(oof.exposure[2:], plain.exposure[2:])
    probs, auto, _ = model.head.predict_out_of_fold(emb[:2], model.capability_features(emb[:2]), codes[:2])
    np.testing.assert_allclose(oof.probabilities[:2], probs, atol=1e-6)
    np.testing.assert_allclose(oof.gpt4_automation[:2], auto, atol=1e-6)
    np.testing.assert_allclose(oof.exposure[:2], probs[:, 1] + 0.5 * probs[:, 2], atol=1e-6)
    table = oof.to_arrow()
    assert table.column_names[1:5] == ["exposure", "exposure_in_sample", "held_out", "p_e0"]
    np.testing.assert_allclose(table["automation"].to_numpy(), oof.exposure * oof.gpt4_automation, rtol=1e-6)
    np.testing.assert_allclose(table["augmentation"].to_numpy() + table["automation"].to_numpy(), oof.exposure,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="got 4 rows of embeddings but 1 occupations"):
        model.score_embeddings(emb, occupations=codes[:1])
    # without a head the argument changes nothing
    assert zero_shot.score_embeddings(emb, occupations=codes).exposure_in_sample is None
