"""BERT-family encoders loaded with torch, ``tokenizers`` and ``safetensors`` alone.

Importing transformers' model code takes about 2 s on a 2-core CPU (it pulls in torch.distributed,
torch._dynamo and scipy), three times as long as scoring a posting. A model folder in the common
layout (``config.json`` with ``model_type: bert`` and absolute positions, ``model.safetensors``,
``tokenizer.json``) is loaded here instead, in milliseconds, as the same layers transformers'
``BertModel`` runs (its ``last_hidden_state``, without the pooler); anything else goes through
transformers (:func:`load` returns ``None`` and says why in a debug message).

The tokenizer is the folder's own ``tokenizer.json`` run by the ``tokenizers`` library, which is what
transformers' fast tokenizer runs too; :class:`Tokenizer` offers the two calls the encoder makes of it.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._processes import fork_safe_threads

__all__ = ["load", "Tokenizer", "TokenIds", "BertModel", "native_wordpiece"]

logger = logging.getLogger(__name__)

_ACTIVATIONS = {  # functions, not lambdas: the model pickles
    "gelu": F.gelu,
    "gelu_pytorch_tanh": functools.partial(F.gelu, approximate="tanh"),
    "gelu_new": functools.partial(F.gelu, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
}


class Tokenizer:
    """A model folder's ``tokenizer.json``: ``tokenizer(texts, truncation=True, max_length=n)`` gives the
    token ids of each text (special tokens added, truncated on the right to ``n``) as :class:`TokenIds`,
    ``tokenizer.pad(ids, return_tensors="pt")`` pads a batch of them, as transformers' fast tokenizers do.

    ``native``: ``exposure._core.WordPiece`` for a BERT ``tokenizer.json`` (:func:`native_wordpiece`); it
    gives the ids of ASCII texts, the same as the ``tokenizers`` library's, about 30 times as fast, and the
    library does the other texts.
    """

    def __init__(self, backend, pad_id: int, model_max_length: int, input_names: tuple, native=None) -> None:
        self._backend = backend
        self._backend.no_padding()  # whatever tokenizer.json sets: the calls below decide
        self._backend.no_truncation()
        self._max = None
        self._native = native
        self.pad_token_id = pad_id
        self.model_max_length = model_max_length
        self.model_input_names = input_names

    def __call__(self, texts: list, truncation: bool = True, max_length: Optional[int] = None,
                 verbose: bool = False) -> "TokenIds":
        texts = list(texts)
        limit = max_length if truncation else None
        n = len(texts)
        if self._native is not None and (limit is None or limit >= 3):
            # OpenMP threads; one thread in a process forked after threads ran (they would hang there)
            threads = fork_safe_threads(None, "the native WordPiece tokenizer") or 0
            native_ids, lengths, truncated, done = self._native.encode(texts, int(limit or 0), threads)
            library = ~done
        else:
            native_ids, lengths, truncated = np.zeros(0, np.int64), np.zeros(n, np.int64), np.zeros(n, bool)
            library = np.ones(n, dtype=bool)
        rest = np.flatnonzero(library)
        encodings = self._encode_batch([texts[i] for i in rest], limit) if len(rest) else []
        lengths[rest] = [len(e.ids) for e in encodings]
        truncated[rest] = [bool(e.overflowing) for e in encodings]
        # Each text's ids in its place: the native ones and the library's. The native texts' type ids are 0
        # (native_wordpiece takes only templates that give 0).
        from_library = np.repeat(library, lengths)
        taken = int(from_library.sum())
        ids = np.empty(len(from_library), dtype=np.int64)
        ids[~from_library] = native_ids
        ids[from_library] = np.fromiter(itertools.chain.from_iterable(e.ids for e in encodings), dtype=np.int64,
                                        count=taken)
        types = None
        if "token_type_ids" in self.model_input_names:
            types = np.zeros(len(from_library), dtype=np.int64)
            types[from_library] = np.fromiter(itertools.chain.from_iterable(e.type_ids for e in encodings),
                                              dtype=np.int64, count=taken)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return TokenIds(ids, offsets, truncated, types)

    def __getstate__(self) -> dict:
        # The native tokenizer does not pickle: it is built again from the backend's tokenizer.json.
        return {**self.__dict__, "_native": self._native is not None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self._native:
            self._native = native_wordpiece(json.loads(self._backend.to_str()))

    def _encode_batch(self, texts: list, limit: Optional[int]) -> list:
        """The ``tokenizers`` library's encodings of ``texts``, truncated to ``limit`` tokens (None: not)."""
        if limit != self._max:
            if limit is None:
                self._backend.no_truncation()
            else:
                self._backend.enable_truncation(int(limit))
            self._max = limit
        return self._backend.encode_batch(texts)

    def pad(self, tokens: "TokenIds", return_tensors: str = "pt") -> dict:
        """``input_ids`` (and ``token_type_ids``) padded to the longest in the batch, with the
        ``attention_mask``, as int64 tensors (:meth:`TokenIds.pad`)."""
        if return_tensors != "pt":
            raise ValueError("only return_tensors='pt' is supported")
        return tokens.pad(self.pad_token_id)


class TokenIds:
    """The token ids of ``n`` texts, one after the other (``offsets`` from 0 to ``len(ids)``): text ``i`` is
    ``ids[offsets[i]:offsets[i + 1]]``, its special tokens included; ``type_ids`` alike (``None`` where the
    model takes none); ``truncated[i]``: text ``i`` was cut to the length asked for. ``tokens["input_ids"]``
    gives the ids as lists, as transformers' tokenizers do.

    >>> t = TokenIds(np.array([101, 7, 102, 101, 102]), np.array([0, 3, 5]), np.array([False, False]))
    >>> t.lengths.tolist(), t["input_ids"], t.take([1]).ids.tolist()
    ([3, 2], [[101, 7, 102], [101, 102]], [101, 102])
    """

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, truncated: np.ndarray,
                 type_ids: Optional[np.ndarray] = None) -> None:
        self.ids, self.offsets, self.truncated, self.type_ids = ids, offsets, truncated, type_ids

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def take(self, rows) -> "TokenIds":
        """The texts ``rows`` (indices), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        at = np.repeat(self.offsets[rows] - offsets[:-1], lengths) + np.arange(offsets[-1])
        return TokenIds(self.ids[at], offsets, self.truncated[rows],
                        None if self.type_ids is None else self.type_ids[at])

    @classmethod
    def from_lists(cls, input_ids: list, token_type_ids: Optional[list] = None,
                   truncated: Optional[np.ndarray] = None) -> "TokenIds":
        """The ids of a tokenizer that gives lists (transformers' ``tokenizer(texts)["input_ids"]``)."""
        lengths = np.fromiter(map(len, input_ids), dtype=np.int64, count=len(input_ids))
        offsets = np.zeros(len(input_ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])

        def flat(rows: list) -> np.ndarray:
            return np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=int(offsets[-1]))

        return cls(flat(input_ids), offsets, np.zeros(len(input_ids), bool) if truncated is None else truncated,
                   None if token_type_ids is None else flat(token_type_ids))

    def pad(self, pad_id: Optional[int], left: bool = False) -> dict:
        """``input_ids`` (and ``token_type_ids``) padded with ``pad_id`` (type id 0) to the longest text, on the
        right (``left``: on the left), with the ``attention_mask``, as int64 tensors: what transformers'
        ``tokenizer.pad(..., return_tensors="pt")`` gives."""
        lengths = self.lengths
        width = int(lengths.max(initial=0))
        if pad_id is None and bool((lengths < width).any()):
            raise ValueError("the tokenizer has no padding token, so texts of different lengths cannot be batched; "
                             "use batch_size=1 or a tokenizer with a pad token")
        # row-major: each text's tokens in order
        mask = (np.arange(width) >= (width - lengths)[:, None]) if left else (np.arange(width) < lengths[:, None])

        def padded(flat: np.ndarray, fill: int) -> torch.Tensor:
            out = np.full(mask.shape, fill, dtype=np.int64)
            out[mask] = flat
            return torch.from_numpy(out)

        out = {"input_ids": padded(self.ids, pad_id or 0), "attention_mask": torch.from_numpy(mask.astype(np.int64))}
        if self.type_ids is not None:
            out["token_type_ids"] = padded(self.type_ids, 0)
        return out

    def __getitem__(self, key: str) -> list:
        flat = {"input_ids": self.ids, "token_type_ids": self.type_ids}.get(key)
        if flat is None:
            raise KeyError(key)
        return [flat[a:b].tolist() for a, b in zip(self.offsets[:-1], self.offsets[1:])]


def native_wordpiece(tok_json: dict):
    """``exposure._core.WordPiece`` for a ``tokenizer.json`` that is BERT's pipeline (BertNormalizer with
    clean_text, BertPreTokenizer, WordPiece, ``[CLS] $A [SEP]`` with type ids 0); ``None`` for any other, whose
    texts all go to the ``tokenizers`` library."""
    from . import _core

    norm, pre, model, post = (tok_json.get(k) or {} for k in ("normalizer", "pre_tokenizer", "model",
                                                             "post_processor"))
    vocab = model.get("vocab")
    if not (norm.get("type") == "BertNormalizer" and norm.get("clean_text") is True
            and isinstance(norm.get("lowercase"), bool) and pre.get("type") == "BertPreTokenizer"
            and model.get("type") == "WordPiece" and isinstance(vocab, dict) and model.get("unk_token") in vocab):
        return None
    if post.get("type") == "BertProcessing":
        cls_id, sep_id = post["cls"][1], post["sep"][1]
    elif post.get("type") == "TemplateProcessing":
        single = post.get("single") or []
        shape = [("SpecialToken" if "SpecialToken" in p else "Sequence" if "Sequence" in p else None,
                  next(iter(p.values()), {}).get("type_id")) for p in single]
        if shape != [("SpecialToken", 0), ("Sequence", 0), ("SpecialToken", 0)]:
            return None
        specials = post.get("special_tokens") or {}
        ends = [specials.get(single[i]["SpecialToken"]["id"], {}).get("ids") or [] for i in (0, 2)]
        if any(len(e) != 1 for e in ends):
            return None
        cls_id, sep_id = ends[0][0], ends[1][0]
    else:
        return None
    added = [a.get("content", "") for a in tok_json.get("added_tokens") or []]
    return _core.WordPiece(vocab, str(model.get("continuing_subword_prefix") or ""), int(vocab[model["unk_token"]]),
                           int(cls_id), int(sep_id), norm["lowercase"], int(model.get("max_input_chars_per_word", 100)),
                           [a for a in added if a and a.isascii()])


class _Linear(nn.Linear):
    def reset_parameters(self) -> None:
        """Left uninitialised: every weight is loaded from the checkpoint (random values cost 0.16 s)."""


class _Embedding(nn.Embedding):
    def reset_parameters(self) -> None:
        """Left uninitialised: every weight is loaded from the checkpoint."""


class _Layer(nn.Module):
    def __init__(self, cfg: SimpleNamespace) -> None:
        super().__init__()
        h, eps = cfg.hidden_size, cfg.layer_norm_eps
        self.heads = cfg.num_attention_heads
        self.query = _Linear(h, h)
        self.key = _Linear(h, h)
        self.value = _Linear(h, h)
        self.attention_out = _Linear(h, h)
        self.attention_norm = nn.LayerNorm(h, eps=eps)
        self.intermediate = _Linear(h, cfg.intermediate_size)
        self.out = _Linear(cfg.intermediate_size, h)
        self.out_norm = nn.LayerNorm(h, eps=eps)
        self.act = _ACTIVATIONS[cfg.hidden_act]

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        b, s, h = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, s, self.heads, h // self.heads).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)),
                                             attn_mask=mask, scale=1.0 / math.sqrt(h // self.heads))
        x = self.attention_norm(self.attention_out(ctx.transpose(1, 2).reshape(b, s, h)) + x)
        return self.out_norm(self.out(self.act(self.intermediate(x))) + x)


class BertModel(nn.Module):
    """BERT's embeddings and encoder layers; ``model(input_ids=..., attention_mask=...)`` returns an object
    whose ``last_hidden_state`` is what transformers' ``BertModel`` gives."""

    def __init__(self, cfg: SimpleNamespace) -> None:
        super().__init__()
        self.config = cfg
        h = cfg.hidden_size
        self.word_embeddings = _Embedding(cfg.vocab_size, h)
        self.position_embeddings = _Embedding(cfg.max_position_embeddings, h)
        self.token_type_embeddings = _Embedding(cfg.type_vocab_size, h)
        self.embedding_norm = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(_Layer(cfg) for _ in range(cfg.num_hidden_layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                token_type_ids: Optional[torch.Tensor] = None) -> SimpleNamespace:
        s = input_ids.shape[1]
        positions = torch.arange(s, device=input_ids.device)
        types = token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(types) + self.position_embeddings(positions)
        x = self.embedding_norm(x)
        mask = None  # no padding: plain attention
        if attention_mask is not None and not bool(attention_mask.all()):
            mask = attention_mask[:, None, None, :].bool()
        for layer in self.layers:
            x = layer(x, mask)
        return SimpleNamespace(last_hidden_state=x)


# transformers' BertConfig defaults, for what a config.json leaves out
_CONFIG_DEFAULTS = {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                    "intermediate_size": 3072, "hidden_act": "gelu", "max_position_embeddings": 512,
                    "type_vocab_size": 2, "layer_norm_eps": 1e-12}

# transformers' parameter names -> this module's
_RENAMES = (
    ("embeddings.word_embeddings.", "word_embeddings."),
    ("embeddings.position_embeddings.", "position_embeddings."),
    ("embeddings.token_type_embeddings.", "token_type_embeddings."),
    ("embeddings.LayerNorm.", "embedding_norm."),
    ("attention.self.query.", "query."),
    ("attention.self.key.", "key."),
    ("attention.self.value.", "value."),
    ("attention.output.dense.", "attention_out."),
    ("attention.output.LayerNorm.", "attention_norm."),
    ("intermediate.dense.", "intermediate."),
    ("output.dense.", "out."),
    ("output.LayerNorm.", "out_norm."),
    ("encoder.layer.", "layers."),
)


def _rename(key: str) -> str:
    if key.startswith("bert."):
        key = key[len("bert."):]
    if key.endswith(".gamma"):
        key = key[: -len("gamma")] + "weight"
    elif key.endswith(".beta"):
        key = key[: -len("beta")] + "bias"
    for old, new in _RENAMES:
        key = key.replace(old, new)
    return key


def _read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _why_not(root: Path, cfg: dict, tok_cfg: dict, tok_json: dict) -> Optional[str]:
    """Why this folder needs transformers (``None`` when it does not)."""
    if cfg.get("model_type") != "bert":
        return f"model_type is {cfg.get('model_type')!r}"
    if cfg.get("auto_map"):
        return "the model has its own code (auto_map)"
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        return f"position_embedding_type is {cfg['position_embedding_type']!r}"
    if cfg.get("is_decoder") or cfg.get("add_cross_attention"):
        return "a decoder"
    if cfg.get("hidden_act", "gelu") not in _ACTIVATIONS:
        return f"hidden_act is {cfg.get('hidden_act')!r}"
    if not (root / "model.safetensors").is_file():
        return "no model.safetensors"
    if tok_cfg.get("truncation_side", "right") != "right":
        return "the tokenizer truncates on the left"
    # transformers rebuilds a BERT normaliser whose settings differ from tokenizer_config.json's
    norm = tok_json.get("normalizer") or {}
    if norm.get("type") == "BertNormalizer":
        for key in ("lowercase", "strip_accents", "handle_chinese_chars"):
            setting = {"lowercase": "do_lower_case", "handle_chinese_chars": "tokenize_chinese_chars"}.get(key, key)
            if setting in tok_cfg and tok_cfg[setting] != norm.get(key):
                return f"tokenizer_config.json's {setting} differs from tokenizer.json's normaliser"
    return None


def load(path: str) -> Optional[tuple[Tokenizer, BertModel]]:
    """The tokenizer and float32 model of the BERT folder ``path``; ``None`` where transformers is needed.

    >>> from exposure.encoder import _default_model_path
    >>> tokenizer, model = load(_default_model_path())
    >>> model.config.hidden_size, tokenizer(["Sort mail."])["input_ids"][0][0] == tokenizer.pad_token_id
    (384, False)
    """
    root = Path(path)
    if not (root / "config.json").is_file() or not (root / "tokenizer.json").is_file():
        logger.debug("%s: no config.json and tokenizer.json; loading with transformers", path)
        return None
    try:
        cfg = _read_json(root / "config.json")
        tok_json = _read_json(root / "tokenizer.json")
        tok_cfg = _read_json(root / "tokenizer_config.json") if (root / "tokenizer_config.json").is_file() else {}
    except (OSError, ValueError) as exc:
        logger.debug("%s: %s; loading with transformers", path, exc)
        return None
    why = _why_not(root, cfg, tok_cfg, tok_json)
    if why:
        logger.debug("%s: %s; loading with transformers", path, why)
        return None
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from tokenizers import Tokenizer as Backend

    config = SimpleNamespace(**{**_CONFIG_DEFAULTS, **cfg})
    try:
        model = BertModel(config)
        weights = {_rename(k): v for k, v in load_file(str(root / "model.safetensors")).items()}
        missing = sorted(set(model.state_dict()) - set(weights))
        if missing:
            logger.debug("%s: weights %s not found; loading with transformers", path, ", ".join(missing[:3]))
            return None
        model.load_state_dict({k: weights[k] for k in model.state_dict()}, assign=True)  # shapes checked here
    except (OSError, RuntimeError, ValueError, TypeError, SafetensorError) as exc:
        logger.debug("%s: %s; loading with transformers", path, exc)
        return None
    try:
        backend = Backend.from_file(str(root / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises plain Exception for a file it cannot parse
        logger.debug("%s: tokenizer.json: %s; loading with transformers", path, exc)
        return None
    pad_token = tok_cfg.get("pad_token", "[PAD]")
    pad_token = pad_token.get("content") if isinstance(pad_token, dict) else pad_token
    pad_id = backend.token_to_id(pad_token) if pad_token else None
    if pad_id is None:
        pad_id = cfg.get("pad_token_id") or 0
    max_length = int(tok_cfg.get("model_max_length") or config.max_position_embeddings)
    names = tuple(tok_cfg.get("model_input_names") or ("input_ids", "token_type_ids", "attention_mask"))
    native = native_wordpiece(tok_json)
    if native is None:
        logger.debug("%s: tokenizer.json is not BERT's WordPiece pipeline; the tokenizers library encodes every text",
                     path)
    return Tokenizer(backend, int(pad_id), max_length, names, native), model
