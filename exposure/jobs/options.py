"""What a ``score-postings`` run is asked to do: one frozen :class:`RunOptions`.

The command line builds it from its flags, :func:`~exposure.jobs.score_postings_file` takes it,
the parts folder and the summary record what it changes (``--resume`` compares that record), a
Ray worker receives it whole and builds its scorer from it, and every message about an option
names the flag a person would type.

>>> opts = RunOptions(assign=False, chunk_size=500)
>>> opts.rows()["chunk_size"], opts.rows()["assign"]
(500, False)
>>> RunOptions(max_chars=0)
Traceback (most recent call last):
...
ValueError: --max-chars must be at least 1, got 0
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, Optional, Tuple

from ..postings.frontend import MAX_CHARS

if TYPE_CHECKING:  # the scorer pulls in the encoder and torch: imported where one is built
    from ..postings.scorer import PostingScorer

__all__ = ["RunOptions", "FLAGS", "describe"]

#: The command-line flag of each option, for messages.
FLAGS: Dict[str, str] = {
    "id_column": "--id-column", "title_column": "--title-column", "text_column": "--text-column",
    "encoding": "--encoding", "chunk_size": "--chunk-size", "assign": "--no-assign", "max_chars": "--max-chars",
    "min_soc_confidence": "--min-soc-confidence", "device": "--device", "dtype": "--dtype",
    "batch_size": "--batch-size", "capabilities": "--capabilities", "zero_shot": "--zero-shot",
    "cache_size": "--cache-size", "taxonomy": "--taxonomy",
}

_DTYPES = ("auto", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class RunOptions:
    """The options of a ``score-postings`` run; every field has the command line's default.

    Fields that change the rows (recorded, and compared by ``--resume``; :meth:`rows`): the three
    columns, ``encoding``, ``chunk_size`` (under bfloat16 a unit's embedding depends a little on
    the other texts of its encoder batch, so a run resumed with another chunk size would not give
    the rows an uninterrupted run gives), ``assign``, ``max_chars``, ``min_soc_confidence`` and ``taxonomy``.
    The model fields (``device``, ``dtype``, ``batch_size``, ``capabilities``, ``zero_shot``) say
    how :meth:`build_scorer` builds the model; what they change in the rows is recorded through
    the model's fingerprint. ``cache_size`` changes speed only.

    Args:
        id_column, title_column, text_column: the input's columns.
        encoding: the text encoding of a CSV/TSV/JSON Lines input (a Python codec name).
        chunk_size: postings scored and committed at a time (one part file each).
        assign: assign O*NET-SOC occupations (and so the fallback for postings without duties).
        max_chars: longer texts are cut to this length (status ``truncated``).
        min_soc_confidence: abstain from occupations below this top confidence, in [0, 1].
        taxonomy: ``"onet"``, or ``"isco08"``: ISCO-08 groups too (:class:`~exposure.postings.PostingScorer`).
        device, dtype, batch_size: the encoder's (:class:`~exposure.encoder.Encoder`); ``dtype``
            ``"auto"`` is the fastest the hardware computes natively.
        capabilities: ``"default"`` or a capability set file.
        zero_shot: the zero-shot headline instead of the calibrated head.
        cache_size: distinct units whose embeddings are kept (0: none).

    Example:
        >>> RunOptions(dtype="float32").build_scorer()                     # doctest: +SKIP
        PostingScorer(...)
    """

    id_column: str = "id"
    title_column: str = "title"
    text_column: str = "description"
    encoding: str = "utf-8"
    chunk_size: int = 1000
    assign: bool = True
    max_chars: int = MAX_CHARS
    min_soc_confidence: Optional[float] = None
    taxonomy: str = "onet"
    device: str = "auto"
    dtype: str = "auto"
    batch_size: Optional[int] = None
    capabilities: str = "default"
    zero_shot: bool = False
    cache_size: int = 100_000

    def __post_init__(self) -> None:
        for name in ("id_column", "title_column", "text_column"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{FLAGS[name]} must name a column, got {value!r}")
        try:
            "".encode(self.encoding)
        except (LookupError, TypeError):
            raise ValueError(f"unknown text encoding {self.encoding!r}; use a Python codec name such as 'utf-8', "
                             "'latin-1' or 'cp1252'") from None
        for name, low in (("chunk_size", 1), ("max_chars", 1), ("cache_size", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{FLAGS[name]} must be {'at least 1' if low else '>= 0'}, got {value!r}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int)
                                            or self.batch_size < 1):
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"--dtype must be one of {', '.join(_DTYPES)}, got {self.dtype!r}")
        c = self.min_soc_confidence
        if c is not None:
            if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 <= c <= 1.0:  # NaN fails too
                raise ValueError(f"--min-soc-confidence must be between 0 and 1 (a confidence), got {c!r}")
            if not self.assign:
                raise ValueError("--min-soc-confidence applies to the occupation assignment, which --no-assign "
                                 "turns off; leave out one of them")
            object.__setattr__(self, "min_soc_confidence", float(c))
        if self.taxonomy not in ("onet", "isco08"):
            raise ValueError(f"--taxonomy must be onet or isco08, got {self.taxonomy!r}")
        if self.taxonomy == "isco08" and not self.assign:
            raise ValueError("--taxonomy isco08 reaches ISCO-08 groups from the occupation assignment, which "
                             "--no-assign turns off; leave out one of them")

    @property
    def columns(self) -> Tuple[str, str, str]:
        """``(id_column, title_column, text_column)``."""
        return self.id_column, self.title_column, self.text_column

    def rows(self) -> dict:
        """The options that change the rows, as a run records them for ``--resume``."""
        return {"assign": self.assign, "max_chars": self.max_chars, "encoding": self.encoding,
                "min_soc_confidence": self.min_soc_confidence, "chunk_size": self.chunk_size,
                "taxonomy": self.taxonomy}

    def replace(self, **changes) -> "RunOptions":
        """A copy with ``changes`` (checked again).

        >>> RunOptions().replace(chunk_size=10).chunk_size
        10
        """
        return dataclasses.replace(self, **changes)

    def of_scorer(self, scorer: "PostingScorer") -> "RunOptions":
        """These options with the row options ``scorer`` was built with (a scorer given to a job decides them)."""
        return self.replace(assign=scorer.assigner is not None, max_chars=scorer.max_chars,
                            min_soc_confidence=scorer.min_soc_confidence, taxonomy=scorer.taxonomy)

    def build_scorer(self, classifier=None, show_progress: bool = False) -> "PostingScorer":
        """The :class:`~exposure.postings.PostingScorer` these options describe: the model, the occupation
        assigner (unless ``assign`` is off), the unit cache; ``classifier``: the unit classifier (``None``: the
        shipped one). Picklable, so a Ray worker calls it to build its own."""
        import logging

        from ..encoder import Encoder
        from ..postings.scorer import PostingScorer
        from ..scoring import ExposureModel

        encoder = Encoder(device=self.device, dtype=self.dtype, batch_size=self.batch_size)
        model = ExposureModel(encoder, self.capabilities, calibrated=False if self.zero_shot else None)
        assigner = None
        if self.assign:
            from ..occupations.assign import OccupationAssigner

            logging.getLogger(__name__).info("loading the occupation indexes (built at first use and cached; "
                                             "'exposure prepare' builds them ahead)")
            assigner = OccupationAssigner(encoder, show_progress=show_progress)
        return PostingScorer(model, classifier, assigner=assigner, cache=self.cache_size, max_chars=self.max_chars,
                             min_soc_confidence=self.min_soc_confidence, taxonomy=self.taxonomy)


def _when(ns: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(ns / 1e9).astimezone().isoformat(timespec="seconds")


def _number(v) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


# What a recorded value is called in a message, and how to say it.
_LABELS: Dict[str, Tuple[str, Callable]] = {
    "format_version": ("parts format", str),
    "input.path": ("input file", str),
    "input.size": ("input size", lambda v: f"{v:,} bytes"),
    "input.mtime_ns": ("input modification time (the file was changed since)", _when),
    "input.head_sha256": ("input content (checksum of its first 64 KB)", str),
    "columns.id": (FLAGS["id_column"], repr), "columns.title": (FLAGS["title_column"], repr),
    "columns.text": (FLAGS["text_column"], repr),
    "options.assign": ("occupation assignment (--no-assign)", lambda v: "on" if v else "off"),
    "options.max_chars": (FLAGS["max_chars"], _number),
    "options.encoding": (FLAGS["encoding"], repr),
    "options.min_soc_confidence": (FLAGS["min_soc_confidence"], str),
    "options.taxonomy": (FLAGS["taxonomy"], str),
    "options.chunk_size": (FLAGS["chunk_size"], _number),
    "unit_rows": ("per-unit output (--units)", lambda v: "on" if v else "off"),
    "model.fingerprint": ("model (encoder, dtype, capability set, head)", lambda v: str(v)[:12]),
}


def describe(name: str, value) -> Tuple[str, str]:
    """``(label, value as said)`` for a recorded value ``name`` (``"options.max_chars"``, ``"input.size"``...).

    >>> describe("options.chunk_size", 1000)
    ('--chunk-size', '1,000')
    """
    label, say = _LABELS.get(name, (name, str))
    if value is None:
        return label, "(none)"
    if isinstance(value, float) and math.isnan(value):
        return label, "nan"
    return label, say(value)
