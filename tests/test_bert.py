"""The BERT loader without transformers' model code (exposure._bert) against transformers itself."""

import json
import os
import shutil

import numpy as np
import pytest
import torch

from exposure import Encoder, _bert
from exposure.encoder import _default_model_path

TEXTS = [
    "Answer customer questions about orders, billing, and returns.",
    "Weld steel beams on construction sites.",
    "naïve café résumé: ２０２４ 東京, Ünïcödé ÀÉÎ 😀",
    "x",
    "word " * 300,  # longer than any max_length below
    "Inspect finished parts for surface defects; record measurements (±0.01 mm) in the QA log.",
]
SHORT = [t for t in TEXTS if len(t) < 200]  # the encoder warns of truncated texts


@pytest.fixture(scope="module")
def reference():
    """transformers' own tokenizer and BertModel for the default model."""
    from transformers import AutoModel, AutoTokenizer

    path = _default_model_path()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def _copy_model(tmp_path, **config_changes):
    """The default model folder, its config changed; files linked, not copied."""
    folder = tmp_path / "model"
    folder.mkdir()
    for f in os.listdir(_default_model_path()):
        src = os.path.join(_default_model_path(), f)
        if os.path.isfile(src) and f != "config.json":
            os.symlink(src, folder / f)
    with open(os.path.join(_default_model_path(), "config.json")) as f:
        config = json.load(f)
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("max_length", [8, 256])
def test_same_token_ids_as_transformers(reference, max_length):
    tokenizer, _ = _bert.load(_default_model_path())
    ours = tokenizer(TEXTS, truncation=True, max_length=max_length)
    theirs = reference[0](TEXTS, truncation=True, max_length=max_length)
    assert ours["input_ids"] == theirs["input_ids"]
    assert ours["token_type_ids"] == theirs["token_type_ids"]
    assert ours.truncated.tolist() == [bool(e.overflowing) for e in theirs.encodings]
    padded, expected = tokenizer.pad(ours), reference[0].pad(theirs, return_tensors="pt")
    assert set(padded) == set(expected)
    for key in expected:
        assert torch.equal(padded[key], expected[key]), key


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_same_hidden_states_as_transformers(reference, dtype):
    tokenizer, model = _bert.load(_default_model_path())
    batch = tokenizer.pad(tokenizer(TEXTS, truncation=True, max_length=64))
    ref_model = reference[1] if dtype == torch.float32 else _bert_copy(reference[1], dtype)
    with torch.inference_mode():
        ours = model.to(dtype)(**batch).last_hidden_state
        theirs = ref_model(**batch).last_hidden_state
    real = batch["attention_mask"].bool()  # padded positions are never pooled
    assert ours.dtype == dtype
    torch.testing.assert_close(ours[real].float(), theirs[real].float(), atol=1e-5, rtol=0)


def _bert_copy(model, dtype):
    import copy

    return copy.deepcopy(model).to(dtype)


def test_unpadded_batch_takes_no_mask_and_agrees(reference):
    tokenizer, model = _bert.load(_default_model_path())
    one = tokenizer.pad(tokenizer(TEXTS[:1], truncation=True, max_length=64))
    two = tokenizer.pad(tokenizer(TEXTS[:2], truncation=True, max_length=64))
    with torch.inference_mode():
        alone = model(**one).last_hidden_state[0]
        padded = model(**two).last_hidden_state[0]
    torch.testing.assert_close(alone, padded[: alone.shape[0]], atol=1e-5, rtol=0)


def test_encoder_uses_it_for_the_default_model(encoder):
    assert isinstance(encoder.model, _bert.BertModel) and isinstance(encoder.tokenizer, _bert.Tokenizer)
    assert encoder.dim == 384 and encoder.max_length == 256


def test_old_checkpoint_names_load_the_same(tmp_path, encoder):
    """Checkpoints saved from BertForMaskedLM & co. prefix 'bert.'; older ones name LayerNorm weights gamma/beta;
    extra weights (pooler, heads) are ignored."""
    from safetensors.torch import load_file, save_file

    folder = _copy_model(tmp_path)
    weights = load_file(os.path.join(_default_model_path(), "model.safetensors"))
    renamed = {"bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
               for k, v in weights.items()}
    renamed["cls.predictions.bias"] = torch.zeros(3)
    os.remove(folder / "model.safetensors")
    save_file(renamed, str(folder / "model.safetensors"))
    assert _bert.load(str(folder)) is not None
    np.testing.assert_allclose(Encoder(str(folder), device="cpu").encode(SHORT), encoder.encode(SHORT), atol=1e-6)


@pytest.mark.parametrize("change, reason", [
    ({"model_type": "roberta"}, "model_type is 'roberta'"),
    ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
    ({"hidden_act": "quick_gelu"}, "hidden_act"),
    ({"auto_map": {"AutoModel": "x.Model"}}, "auto_map"),
])
def test_other_models_are_left_to_transformers(tmp_path, caplog, change, reason):
    import logging

    with caplog.at_level(logging.DEBUG, logger="exposure._bert"):
        assert _bert.load(str(_copy_model(tmp_path, **change))) is None
    assert reason in caplog.text and "loading with transformers" in caplog.text


def test_missing_weights_or_tokenizer_file_are_left_to_transformers(tmp_path):
    folder = _copy_model(tmp_path)
    os.remove(folder / "tokenizer.json")
    assert _bert.load(str(folder)) is None
    (tmp_path / "b").mkdir()
    folder2 = _copy_model(tmp_path / "b")
    from safetensors.torch import load_file, save_file

    weights = load_file(os.path.join(_default_model_path(), "model.safetensors"))
    weights.pop("encoder.layer.5.output.dense.weight")
    os.remove(folder2 / "model.safetensors")
    save_file(weights, str(folder2 / "model.safetensors"))
    assert _bert.load(str(folder2)) is None


def test_lowercasing_that_differs_from_tokenizer_json_is_left_to_transformers(tmp_path):
    folder = _copy_model(tmp_path)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["do_lower_case"] = False
    os.remove(folder / "tokenizer_config.json")
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    assert _bert.load(str(folder)) is None


def test_a_folder_without_tokenizer_json_loads_through_transformers(tmp_path, encoder):
    """The transformers path: the fast tokenizer is built from vocab.txt, the model by AutoModel."""
    folder = tmp_path / "model"
    shutil.copytree(_default_model_path(), folder, ignore=shutil.ignore_patterns("tokenizer.json"))
    enc = Encoder(str(folder), device="cpu")
    assert not isinstance(enc.model, _bert.BertModel)
    np.testing.assert_allclose(enc.encode(SHORT), encoder.encode(SHORT), atol=1e-5)


def test_truncation_and_padding_preset_in_tokenizer_json_do_not_leak(tmp_path, reference):
    folder = _copy_model(tmp_path)
    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    spec["truncation"] = {"direction": "Right", "max_length": 4, "strategy": "LongestFirst", "stride": 0}
    spec["padding"] = {"strategy": {"Fixed": 40}, "direction": "Right", "pad_to_multiple_of": None, "pad_id": 0,
                       "pad_type_id": 0, "pad_token": "[PAD]"}
    os.remove(folder / "tokenizer.json")
    (folder / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    tokenizer, _ = _bert.load(str(folder))
    assert tokenizer(SHORT, truncation=False)["input_ids"] == reference[0](SHORT)["input_ids"]
    assert tokenizer(SHORT, truncation=True, max_length=8)["input_ids"] == \
        reference[0](SHORT, truncation=True, max_length=8)["input_ids"]


def test_weights_that_do_not_fit_the_config_are_left_to_transformers(tmp_path):
    assert _bert.load(str(_copy_model(tmp_path, hidden_size=512, num_attention_heads=8))) is None


# --------------------------------------------------------------------------- the native WordPiece

def _tokenizer_json():
    with open(os.path.join(_default_model_path(), "tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


def _library_only(tokenizer):
    """The same tokenizer with every text left to the tokenizers library."""
    return _bert.Tokenizer(tokenizer._backend, tokenizer.pad_token_id, tokenizer.model_max_length,
                           tokenizer.model_input_names)


def _ascii_texts(seed, n):
    """ASCII texts that stress BERT's pipeline: vocabulary words and pieces glued together, unknown words,
    every punctuation mark, tabs, line breaks and control characters, capitals, added tokens in any case,
    words near and over 100 characters."""
    rng = np.random.default_rng(seed)
    vocab = [w for w in _tokenizer_json()["model"]["vocab"] if w.isascii()]
    parts = vocab + [chr(c) for c in range(128)] + [" ", " ", "\t", "\n", "\r\n", "[CLS]", "[mask]", "[Sep]",
                                                     "qzxv", "x" * 99, "y" * 101, "ABCdef", "don't", "e-mail"]
    texts = []
    for _ in range(n):
        k = int(rng.integers(0, 40))
        picks = rng.integers(0, len(parts), size=k)
        glue = rng.choice(["", " ", "  "], size=k)
        texts.append("".join(parts[i] + g for i, g in zip(picks, glue)))
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("max_length", [None, 3, 8, 256])
def test_native_wordpiece_gives_the_librarys_ids(max_length):
    tokenizer, _ = _bert.load(_default_model_path())
    assert tokenizer._native is not None  # the default model's tokenizer.json is BERT's pipeline
    texts = _ascii_texts(0, 3000) + TEXTS + ["", " ", "\x00\x01\x0b\x0c\x1f\x7f", "A\tb\nC\rd"]
    kwargs = {"truncation": max_length is not None, "max_length": max_length}
    ours, library = tokenizer(texts, **kwargs), _library_only(tokenizer)(texts, **kwargs)
    for key in ("ids", "offsets", "truncated", "type_ids"):
        np.testing.assert_array_equal(getattr(ours, key), getattr(library, key), err_msg=key)
    _, _, _, encoded = tokenizer._native.encode(texts, max_length or 0)
    assert 0.8 * len(texts) < encoded.sum() < len(texts)  # most natively; the rest (added tokens, not ASCII) not


def test_native_wordpiece_leaves_added_tokens_and_other_texts_to_the_library():
    tokenizer, _ = _bert.load(_default_model_path())
    texts = ["Sort mail.", "[CLS] sort", "a [mask] b", "[c\x01ls]", "caf\u00e9", 7, "[PAD"]
    ids, lengths, truncated, encoded = tokenizer._native.encode(texts, 0)
    assert encoded.tolist() == [True, False, False, False, False, False, True]
    assert lengths[~encoded].tolist() == [0] * 5 and len(ids) == lengths.sum()
    with pytest.raises(ValueError, match="max_length must be 0 .* or at least 3"):
        tokenizer._native.encode(texts, 2)


def test_native_wordpiece_cased_and_bert_processing(tmp_path, reference):
    """A cased normaliser and the older BertProcessing post-processor: the same ids as the library."""
    spec = _tokenizer_json()
    spec["normalizer"]["lowercase"] = False
    spec["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}
    from tokenizers import Tokenizer as Backend

    backend = Backend.from_str(json.dumps(spec))
    native = _bert.native_wordpiece(spec)
    assert native is not None
    cased = _bert.Tokenizer(backend, 0, 512, ("input_ids", "token_type_ids", "attention_mask"), native)
    texts = _ascii_texts(1, 1000)
    ours, library = cased(texts, max_length=64), _library_only(cased)(texts, max_length=64)
    np.testing.assert_array_equal(ours.ids, library.ids)
    np.testing.assert_array_equal(ours.offsets, library.offsets)


@pytest.mark.parametrize("part, change", [
    ("normalizer", {"type": "Lowercase"}),
    ("normalizer", {"type": "BertNormalizer", "clean_text": False, "lowercase": True}),
    ("pre_tokenizer", {"type": "Whitespace"}),
    ("model", {"type": "BPE"}),
    ("post_processor", {"type": "RobertaProcessing"}),
    ("post_processor", {"type": "TemplateProcessing", "special_tokens": {},
                        "single": [{"Sequence": {"id": "A", "type_id": 0}}]}),
])
def test_other_tokenizer_pipelines_get_no_native_wordpiece(part, change):
    spec = _tokenizer_json()
    spec[part] = {**spec[part], **change} if part == "model" else change
    assert _bert.native_wordpiece(spec) is None


def test_tokenizer_pickles_with_its_native_wordpiece():
    import pickle

    tokenizer, _ = _bert.load(_default_model_path())
    again = pickle.loads(pickle.dumps(tokenizer))
    assert again._native is not None
    texts = _ascii_texts(2, 200)
    np.testing.assert_array_equal(again(texts, max_length=32).ids, tokenizer(texts, max_length=32).ids)


def test_token_ids_take_and_pad():
    tokenizer, _ = _bert.load(_default_model_path())
    tokens = tokenizer(["Sort the mail.", "x", "Weld steel beams on sites."])
    part = tokens.take([2, 1])
    assert part["input_ids"] == [tokens["input_ids"][2], tokens["input_ids"][1]]
    assert part.truncated.tolist() == [False, False]
    padded = tokenizer.pad(part)
    assert padded["input_ids"].shape == (2, len(tokens["input_ids"][2]))
    assert padded["attention_mask"].sum(1).tolist() == part.lengths.tolist()
    assert padded["input_ids"][1, part.lengths[1]:].eq(tokenizer.pad_token_id).all()


@pytest.mark.parametrize("side", ["right", "left"])
def test_token_ids_pad_as_transformers_pads(reference, side):
    """The encoder pads every tokenizer's ids this way, transformers' lists too (TokenIds.from_lists)."""
    import copy

    tok = copy.deepcopy(reference[0])
    tok.padding_side = side
    lists = tok(SHORT, truncation=True, max_length=16)
    ours = _bert.TokenIds.from_lists(lists["input_ids"], lists["token_type_ids"]).pad(tok.pad_token_id, side == "left")
    theirs = tok.pad(lists, return_tensors="pt")
    assert set(ours) == set(theirs)
    for key in theirs:
        assert torch.equal(ours[key], theirs[key]), key
    with pytest.raises(ValueError, match="no padding token"):
        _bert.TokenIds.from_lists(lists["input_ids"]).pad(None)
