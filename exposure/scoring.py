"""ExposureModel: task embeddings -> exposure per technology, with the evidence behind it.

The zero-shot rule, fitted to no labels:

1. ``cap_t``: for each technology t, the similarity of a task to that technology's
   capability statements, pooled by log-mean-exp at temperature ``T``:
   ``T * log(mean_j exp(s_j / T))``. It lies between the mean and the max
   similarity and, unlike a plain log-sum-exp, does not grow with the number of
   statements, so technologies with more statements are not favoured.
2. ``human``: the same pooling over the human-bound counter-statements.
3. ``margin_t = cap_t - human``; the headline margin pools the capabilities of the
   headline technologies (the capability set's ``headline``) in the same way.
4. ``score = sigmoid(margin / scale)``: monotone, 0.5 where a task is as close to
   the human-bound work as to what the technology does.

The calibrated headline: when a head (:mod:`exposure.heads`) trained for the
model's encoder and capability set is available, ``exposure`` is
``P(E1) + 0.5 * P(E2)`` from that head, the task-level ``beta`` of Eloundou et
al. (2023), and the scores carry ``probabilities`` and ``gpt4_automation`` (the
head's estimate of GPT-4's T0-T4 rating of automation by language models). The
margin stays zero-shot either way.

Technology scores: with technology labels (:mod:`exposure.technologies`, the
default for capability sets of the same technologies), ``exposure_<technology>``
is the share of the task that current systems of that technology can take over,
read from the nearest hand-labelled work activities, and ``automation_exposure``
the share that software, machine vision, robotics or vehicles could take over
(:func:`combined_automation`); the activities are the evidence. Without labels, each
technology gets the zero-shot rule above (step 1-4 on its own statements).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from ._assets import cache_dir, cached_float32_embeddings, embeddings_file_name, encoder_identity
from .capabilities import CapabilitySet
from .encoder import Encoder, as_texts
from .heads import (HeadMismatchError, Heads, StatementSimilarities, available_heads, capability_features,
                    encoder_fingerprint, pooled_logsumexp, statement_similarities)
from .kernels import Index
from .language import text_status
from .technologies import TechnologyLabels, technology_scores

__all__ = ["ExposureModel", "TaskScores", "EVIDENCE_K", "SUBSTITUTING", "combined_automation"]

logger = logging.getLogger(__name__)

EVIDENCE_K = 3
#: The technologies that take work over from a worker, combined into ``automation_exposure``
#: (:func:`combined_automation`). Language models are left out: their scores are mostly assistance, and the
#: part of a task they could do in the worker's place is :attr:`TaskScores.automation`.
SUBSTITUTING = ("software", "vision", "robotics", "vehicles")


def combined_automation(technology_scores: np.ndarray, technologies: Sequence[str]) -> np.ndarray:
    """The share of each task that at least one substituting technology (:data:`SUBSTITUTING`) could take
    over, the technologies taken as independent: ``1 - prod(1 - score_t)``. With none of them among
    ``technologies`` (a capability set of other technologies), all of them combine.

    >>> combined_automation(np.array([[0.9, 0.5, 0.0, 0.5, 0.0]]), ("llm", "software", "vision", "robotics", "vehicles"))
    array([0.75])
    """
    cols = [g for g, t in enumerate(technologies) if t in SUBSTITUTING] or list(range(len(technologies)))
    scores = np.asarray(technology_scores)
    return (1.0 - np.prod(1.0 - scores[:, cols], axis=1)).astype(scores.dtype)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)


def _log_mean_exp(pooled_lse: np.ndarray, counts: np.ndarray, temperature: float) -> np.ndarray:
    """Turn ``T*log(sum exp(s/T))`` per group into ``T*log(mean exp(s/T))``."""
    return pooled_lse - temperature * np.log(np.maximum(counts, 1))


def _lookup(values: list, index: np.ndarray):
    """``values[index]`` as a pyarrow string array, null where ``index`` is -1 (one vectorised take)."""
    import pyarrow as pa

    index = np.asarray(index, dtype=np.int64)
    return pa.array(values, type=pa.string()).take(pa.array(index, mask=index < 0))


@dataclass
class TaskScores:
    """Scores of ``n`` tasks: headline exposure, one score per technology, evidence.

    Attributes:
        texts: the scored texts (``None`` where only embeddings were given).
        status: per task, one of :data:`~exposure.language.TEXT_STATUSES`: ``ok`` (scored), or why it has no
            score (``empty``, ``not_text``, ``non_english``); all ``ok`` for :meth:`ExposureModel.score_embeddings`.
        exposure: ``(n,)`` headline scores in [0, 1]: the calibrated ``P(E1) + 0.5 P(E2)``
            when ``calibrated``, else the zero-shot score over the headline technologies.
        technology_scores: ``(n, g)`` zero-shot scores in [0, 1], columns in ``technologies`` order.
        technologies: technology ids.
        margin: ``(n,)`` the zero-shot headline margin before the sigmoid (useful for ranking).
        evidence_index: ``(n, 3)`` indices of the best-matching capabilities.
        evidence_similarity: ``(n, 3)`` their cosine similarities.
        counter_index, counter_similarity: ``(n,)`` the closest human-bound statement.
        capabilities: the capability set the indices refer to.
        probabilities: ``(n, 3)`` P(E0), P(E1), P(E2) from the calibrated head, else ``None``.
        gpt4_automation: ``(n,)`` expected degree of automation by language models / 4 in [0, 1] from
            the head trained on GPT-4's T0-T4 ratings (not human ones; LLMs only), else ``None``.
        calibrated: whether ``exposure`` comes from the calibrated head.
        automation_exposure: ``(n,)`` the share of the task that software, machine vision, robotics or
            vehicles could take over (:func:`combined_automation`; language models' part is ``automation``),
            with technology labels, else ``None``.
        activity_index, activity_similarity: ``(n, 3)`` the nearest labelled activities (indices into
            ``activities``) and their similarities, with technology labels, else ``None``.
        activities: the technology labels, or ``None`` when the technology scores are zero-shot.
        exposure_in_sample: ``(n,)`` the shipped heads' headline, when ``exposure`` (with ``probabilities``
            and ``gpt4_automation``) is out of fold (``occupations`` given to :meth:`ExposureModel.score_embeddings`),
            else ``None``. It differs from ``exposure`` only where ``held_out``.
        held_out: ``(n,)`` bool, the tasks of labelled occupations scored by heads fitted without their
            occupation's labels (out of fold), when ``occupations`` were given, else ``None``.
    """

    texts: Optional[list]
    exposure: np.ndarray
    technology_scores: np.ndarray
    technologies: tuple
    margin: np.ndarray
    evidence_index: np.ndarray
    evidence_similarity: np.ndarray
    counter_index: np.ndarray
    counter_similarity: np.ndarray
    capabilities: CapabilitySet = field(repr=False)
    probabilities: Optional[np.ndarray] = None
    gpt4_automation: Optional[np.ndarray] = None
    calibrated: bool = False
    automation_exposure: Optional[np.ndarray] = None
    activity_index: Optional[np.ndarray] = None
    activity_similarity: Optional[np.ndarray] = None
    activities: Optional[TechnologyLabels] = field(default=None, repr=False)
    status: Optional[List[str]] = None
    exposure_in_sample: Optional[np.ndarray] = None
    held_out: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        if self.status is None:
            self.status = ["ok"] * len(self)

    @property
    def automation(self) -> Optional[np.ndarray]:
        """``(n,)`` the part of ``exposure`` a language model could do in the worker's place: ``exposure`` times
        ``gpt4_automation`` (the degree of automation, T0-T4 / 4), on the exposure scale (calibrated scores
        only, else ``None``). ``augmentation`` is the rest."""
        if self.gpt4_automation is None:
            return None
        return (self.exposure * self.gpt4_automation).astype(np.float32)

    @property
    def augmentation(self) -> Optional[np.ndarray]:
        """``(n,)`` the part of ``exposure`` where a language model assists a worker who keeps the task:
        ``exposure - automation`` (calibrated scores only, else ``None``)."""
        automation = self.automation
        return None if automation is None else (self.exposure - automation).astype(np.float32)

    def __len__(self) -> int:
        return int(self.exposure.shape[0])

    def evidence(self, i: int) -> list[dict]:
        """The matched capabilities of task ``i``: id, technology, statement, similarity."""
        rows = []
        for j, s in zip(self.evidence_index[i], self.evidence_similarity[i]):
            if j < 0:
                continue
            cap = self.capabilities.capabilities[int(j)]
            rows.append({"id": cap.id, "technology": cap.technology, "statement": cap.statement,
                         "similarity": float(s)})
        return rows

    def to_arrow(self):
        """A ``pyarrow.Table``: one row per task, flat columns (CSV-friendly).

        Columns: ``text``, ``status``, ``exposure``, [``exposure_in_sample`` and ``held_out``, for out-of-fold
        scores], ``p_e0``, ``p_e1``, ``p_e2``, ``gpt4_automation``, ``automation`` and ``augmentation``
        (calibrated scores only), ``exposure_<technology>`` for each technology,
        ``automation_exposure`` (with technology labels), ``margin``,
        ``evidence_{1,2,3}_{id,technology,statement,similarity}``,
        ``counter_{id,statement,similarity}``, and with technology labels
        ``activity_{1,2,3}_id``, ``activity_{1,2,3}`` (the labelled activity) and
        ``activity_{1,2,3}_similarity``.
        """
        import pyarrow as pa

        caps, counters = self.capabilities.capabilities, self.capabilities.counters
        cols: dict = {}
        if self.texts is not None:
            cols["text"] = pa.array([t if isinstance(t, str) else None for t in self.texts], type=pa.string())
        cols["status"] = pa.array(self.status, type=pa.string())
        cols["exposure"] = pa.array(self.exposure, type=pa.float32())
        if self.exposure_in_sample is not None:
            cols["exposure_in_sample"] = pa.array(self.exposure_in_sample, type=pa.float32())
            cols["held_out"] = pa.array(np.asarray(self.held_out, dtype=bool), type=pa.bool_())
        if self.probabilities is not None:
            for j, name in enumerate(("p_e0", "p_e1", "p_e2")):
                cols[name] = pa.array(self.probabilities[:, j], type=pa.float32())
        if self.gpt4_automation is not None:
            cols["gpt4_automation"] = pa.array(self.gpt4_automation, type=pa.float32())
            cols["automation"] = pa.array(self.automation, type=pa.float32())
            cols["augmentation"] = pa.array(self.augmentation, type=pa.float32())
        for g, tech in enumerate(self.technologies):
            cols[f"exposure_{tech}"] = pa.array(self.technology_scores[:, g], type=pa.float32())
        if self.automation_exposure is not None:
            cols["automation_exposure"] = pa.array(self.automation_exposure, type=pa.float32())
        cols["margin"] = pa.array(self.margin, type=pa.float32())
        for r in range(self.evidence_index.shape[1]):
            idx = self.evidence_index[:, r]
            for field_name in ("id", "technology", "statement"):
                cols[f"evidence_{r + 1}_{field_name}"] = _lookup([getattr(c, field_name) for c in caps], idx)
            cols[f"evidence_{r + 1}_similarity"] = pa.array(self.evidence_similarity[:, r], type=pa.float32())
        cols["counter_id"] = _lookup([c.id for c in counters], self.counter_index)
        cols["counter_statement"] = _lookup([c.statement for c in counters], self.counter_index)
        cols["counter_similarity"] = pa.array(self.counter_similarity, type=pa.float32())
        if self.activities is not None:
            for r in range(self.activity_index.shape[1]):
                idx = self.activity_index[:, r]
                cols[f"activity_{r + 1}_id"] = _lookup(list(self.activities.ids), idx)
                cols[f"activity_{r + 1}"] = _lookup(list(self.activities.texts), idx)
                cols[f"activity_{r + 1}_similarity"] = pa.array(self.activity_similarity[:, r], type=pa.float32())
        return pa.table(cols)

    def to_pandas(self):
        """The same table as :meth:`to_arrow`, as a ``pandas.DataFrame`` (needs pandas)."""
        return self.to_arrow().to_pandas()


class ExposureModel:
    """Score task statements for exposure to AI and automation, with evidence.

    Args:
        encoder: an :class:`Encoder`, or what :class:`Encoder` takes for a new one: a model
            name or path, or a loaded ``sentence_transformers.SentenceTransformer``.
        capabilities: a :class:`CapabilitySet`, ``"default"``, or the path of a set file.
        technologies: the technologies pooled into the headline ``exposure``; ``None``
            takes the set's ``headline`` (language models and the software built on
            them in the default set). Per-technology scores are always returned.
        temperature: log-mean-exp pooling temperature (cosine units).
        scale: width of the sigmoid that maps the margin to [0, 1].
        device, batch_size: passed to a new :class:`Encoder`.
        calibrated: ``None`` (default): the headline ``exposure`` comes from the calibrated
            head when it belongs to this encoder, capability set and headline, else from the
            zero-shot rule (``repr`` says which and why). ``True``: the head or a
            :class:`~exposure.heads.HeadMismatchError` saying what it belongs to. ``False``:
            the zero-shot rule, e.g. for your own capability set or technologies.
        head: a shipped head name (``"default"``), the path of a head's ``.json`` manifest,
            or a loaded :class:`~exposure.heads.Heads`.
        technology_labels: where ``exposure_<technology>`` comes from. ``"auto"`` (default): the
            shipped hand-labelled activities (:class:`~exposure.technologies.TechnologyLabels`) when
            they rate the capability set's technologies, else the zero-shot rule; ``"default"``, a
            manifest path or a loaded ``TechnologyLabels``: those labels (they must rate the set's
            technologies); ``None``: the zero-shot rule.

    Example:
        >>> model = ExposureModel(device="cpu")
        >>> scores = model.score_tasks(["Draft replies to customer emails.",
        ...                             "Weld steel beams on a construction site."])
        >>> bool(scores.exposure[0] > scores.exposure[1])
        True
        >>> scores.evidence(0)[0]["technology"] in scores.technologies
        True
    """

    def __init__(
        self,
        encoder: Union[Encoder, str, os.PathLike, Any] = "default",
        capabilities: Union[CapabilitySet, str, os.PathLike] = "default",
        *,
        technologies: Optional[Sequence[str]] = None,
        temperature: float = 0.1,
        scale: float = 0.05,
        device: str = "auto",
        batch_size: Optional[int] = None,
        calibrated: Optional[bool] = None,
        head: Union[str, os.PathLike, Heads] = "default",
        technology_labels: Union[str, os.PathLike, TechnologyLabels, None] = "auto",
    ) -> None:
        if temperature <= 0 or scale <= 0:
            raise ValueError(f"temperature and scale must be positive, got {temperature} and {scale}")
        self.encoder = encoder if isinstance(encoder, Encoder) else Encoder(encoder, device=device,
                                                                             batch_size=batch_size)
        self.capabilities = (capabilities if isinstance(capabilities, CapabilitySet)
                             else CapabilitySet.load(capabilities))
        techs = self.capabilities.technologies
        if technologies is None:
            technologies = self.capabilities.headline_technologies
        unknown = [t for t in technologies if t not in techs]
        if unknown or not technologies:
            raise ValueError(f"unknown technologies {unknown}; this capability set has: {', '.join(techs)}")
        self.technologies = tuple(techs)
        self.headline = tuple(t for t in techs if t in technologies)
        self._headline_mask = np.array([t in technologies for t in techs], dtype=bool)
        self.temperature = float(temperature)
        self.scale = float(scale)
        self._cap_emb: Optional[np.ndarray] = None
        self._counter_emb: Optional[np.ndarray] = None
        self._probe: Optional[list] = None  # the encoder's fingerprint (heads.encoder_fingerprint), once
        self.technology_labels = self._load_labels(technology_labels)
        self._activity_emb: Optional[np.ndarray] = None
        self._index: dict = {}  # name -> (embeddings, their Index), built once (see _search_index)
        self.head: Optional[Heads] = None
        self.head_note = "calibrated=False"
        if calibrated is not False:
            self._attach_head(head, required=bool(calibrated))
        logger.debug("exposure model: %s, capability set %r, headline from %s", self.encoder.name,
                    self.capabilities.name, self.head_note if self.head is not None else "the zero-shot rule")

    def _load_labels(self, labels) -> Optional[TechnologyLabels]:
        if labels is None:
            return None
        auto = isinstance(labels, str) and labels == "auto"
        loaded = labels if isinstance(labels, TechnologyLabels) else TechnologyLabels.load(
            "default" if auto else labels)
        if set(loaded.technologies) != set(self.technologies):
            if auto:
                return None  # another capability set's own technologies: the zero-shot rule
            raise ValueError(f"technology labels {loaded.source!r} rate {', '.join(loaded.technologies)}, but the "
                             f"capability set has {', '.join(self.technologies)}; pass technology_labels=None for "
                             "the zero-shot rule over the set's technologies")
        return loaded

    def _attach_head(self, head, required: bool) -> None:
        """Load and check the head; without ``required``, a missing or mismatched head means zero-shot."""
        if not isinstance(head, Heads) and str(head) == "default" and "default" not in available_heads():
            if required:
                raise ValueError("calibrated=True, but no head is shipped with this install; "
                                 "build one with benchmarks/train_heads.py or use calibrated=False")
            self.head_note = "no shipped head"
            return
        heads = head if isinstance(head, Heads) else Heads.load(head)  # damaged files always raise
        try:
            if set(self.headline) != set(self.capabilities.headline_technologies):
                raise HeadMismatchError(
                    f"head {heads.source!r} predicts exposure to the capability set's headline technologies "
                    f"({', '.join(self.capabilities.headline_technologies)}), but the model pools "
                    f"{', '.join(self.headline)}; use calibrated=False for the zero-shot rule over other technologies")
            self._probe = encoder_fingerprint(self.encoder)
            heads.check(self.encoder, self.capabilities, fingerprint=self._probe)
        except HeadMismatchError as exc:
            if required:
                raise
            self.head_note = f"no matching head: {exc}"
            logger.info("zero-shot headline: %s", self.head_note)
            return
        self.head = heads
        self.head_note = f"head {heads.source!r}"

    @property
    def calibrated(self) -> bool:
        """Whether the headline ``exposure`` comes from a calibrated head."""
        return self.head is not None

    @property
    def labelled_occupations(self) -> frozenset:
        """O*NET-SOC codes whose human task labels trained the head (empty in zero-shot mode): their
        scores by the head itself are in-sample, not predictions; occupation tables flag them in the ``labelled``
        column and score them out of fold (``occupations`` of :meth:`score_embeddings`)."""
        return frozenset() if self.head is None else self.head.labelled_occupations

    def __repr__(self) -> str:
        how = (f"calibrated ({self.head_note})" if self.head is not None
               else f"zero-shot rule ({self.head_note.split(';')[0]})")
        return (f"ExposureModel(encoder={self.encoder!r}, capabilities='{self.capabilities.name}' "
                f"v{self.capabilities.version} ({len(self.capabilities)} statements), exposure={how})")

    def provenance(self) -> dict:
        """How scores of this model are made, for the files they go to: the package version, the mode
        (``calibrated``: the headline from the head; ``zero-shot``: from the rule), the encoder and its dtype,
        the capability set (name, version, checksum), the head (source, checksum) and :meth:`fingerprint`.

        ``exposure`` is a different quantity in each mode; a file without this record cannot say which.
        """
        from . import __version__

        return {"exposure_version": __version__, "mode": "calibrated" if self.calibrated else "zero-shot",
                "encoder": str(self.encoder.name), "dtype": str(getattr(self.encoder, "dtype", "")),
                "capabilities": {"name": self.capabilities.name, "version": self.capabilities.version,
                                 "checksum": self.capabilities.checksum},
                "head": None if self.head is None else {"source": self.head.source, "checksum": self.head.checksum,
                                                        "folds_checksum": self.head.folds_checksum},
                "technology_labels": None if self.technology_labels is None else {
                    "source": self.technology_labels.manifest.get("name", self.technology_labels.source),
                    "version": self.technology_labels.manifest.get("version"),
                    "checksum": self.technology_labels.checksum},
                "headline": list(self.headline), "fingerprint": self.fingerprint()}

    def fingerprint(self) -> str:
        """sha256 hex digest of what the scores depend on: the encoder (name, width, dtype), the capability
        set's checksum, the head's weights and its fold heads' (``None`` without), the technology labels (``None``
        without), the technologies ``automation_exposure`` combines, the headline technologies, the temperature
        and the scale. Scores made under different
        fingerprints are not interchangeable."""
        parts = {"encoder": encoder_identity(self.encoder),
                 "capabilities": self.capabilities.checksum,
                 "head": None if self.head is None else self.head.checksum,
                 "head_folds": None if self.head is None else self.head.folds_checksum,
                 "technology_labels": None if self.technology_labels is None else self.technology_labels.checksum,
                 "automation_exposure": list(SUBSTITUTING),  # the rule that combines them (0.5.0)
                 "headline": list(self.headline), "temperature": self.temperature, "scale": self.scale}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()

    def _reference_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """Capability and counter-statement embeddings, computed once per model and cached on disk."""
        if self._cap_emb is None:
            self._cap_emb = self._cached_embeddings(list(self.capabilities.statements))
            self._counter_emb = self._cached_embeddings(list(self.capabilities.counter_statements)).reshape(
                -1, self._cap_emb.shape[1])
        return self._cap_emb, self._counter_emb

    def _activity_embeddings(self) -> np.ndarray:
        """Embeddings of the labelled activities (2,087 short texts: seconds on a CPU), cached on disk."""
        if self._activity_emb is None:
            self._activity_emb = self._cached_embeddings(list(self.technology_labels.texts))
        return self._activity_emb

    def _cached_embeddings(self, texts: list) -> np.ndarray:
        """``self.encoder.encode(texts)``, kept in the cache folder (:func:`exposure._assets.cache_dir`).

        Encoding a capability set takes seconds on a CPU at every start; the file is keyed by the
        encoder's identity (name, width, dtype), its embedding of a probe text (a model changed in place
        gets a new file) and the texts, and holds float32 rows: the same bits as encoding them. A file that
        cannot be read is encoded again; an unwritable folder only warns.
        """
        if self._probe is None:
            self._probe = encoder_fingerprint(self.encoder)
        path = cache_dir() / embeddings_file_name("capability-embeddings", self.encoder, texts,
                                                  key={"probe": self._probe})
        return cached_float32_embeddings(path, len(texts), self.encoder.dim, lambda: self.encoder.encode(texts),
                                         "capability embeddings")

    @property
    def _device(self):
        """The encoder's device: the similarity searches run on it when it is a GPU (:meth:`Index.for_device`)."""
        return getattr(self.encoder, "device", None)

    def _search_index(self, name: str, embeddings: np.ndarray) -> Index:
        """``embeddings`` (this model's ``name`` set) as an :class:`~exposure.kernels.Index`, built once and kept
        with its device copy, where this model searches: on the encoder's GPU, else on the native kernel."""
        source, index = self._index.get(name, (None, None))
        if source is not embeddings:  # (embeddings, their Index): the same object, the same index
            source, index = self._index[name] = (embeddings, Index(embeddings))
        return index.for_device(self._device)

    def capability_features(self, embeddings: np.ndarray) -> np.ndarray:
        """The capability features a head reads (:func:`exposure.heads.capability_features`), float64 ``(n, f)``.

        Pooled similarities of each embedding to every technology's statements, to the capability
        set's headline technologies together, and to the counter-statements. ``embeddings``: float32
        ``(n, dim)`` unit rows from this model's encoder.
        """
        caps, counters = self._reference_embeddings()
        emb = self._check_embeddings(embeddings, caps.shape[1])
        return self._capability_features(statement_similarities(emb, self._search_index("capabilities", caps),
                                                                self._search_index("counters", counters)))

    def _capability_features(self, sims: StatementSimilarities) -> np.ndarray:
        headline = self.capabilities.headline_technologies
        # A head pools the capability set's headline; it is the model's own unless other technologies were chosen.
        mask = (self._headline_mask if set(self.headline) == set(headline)
                else np.isin(np.array(self.technologies), headline))
        return capability_features(sims, self.capabilities.technology_index, mask)

    @staticmethod
    def _check_embeddings(embeddings: np.ndarray, dim: int) -> np.ndarray:
        emb = np.asarray(embeddings)
        if emb.ndim != 2 or emb.shape[1] != dim:
            raise ValueError(f"embeddings must have shape (n, {dim}), got {emb.shape}")
        return emb

    def score_tasks(self, texts: Union[Sequence[Optional[str]], Any], show_progress: bool = False,
                    occupations: Optional[Sequence[Optional[str]]] = None) -> TaskScores:
        """Embed and score task statements; see :meth:`score_embeddings` (and its ``occupations``).

        ``texts``: a list, a pandas Series (NaN is a missing text), a numpy array or a pyarrow
        array (nulls are missing texts), see :func:`~exposure.encoder.as_texts`. Each text gets a
        status (:func:`~exposure.language.text_status`): only ``ok`` texts are scored; missing and
        blank texts (``empty``), values that are not text (``not_text``) and texts not in English
        (``non_english``) get NaN scores. ``exposure score-tasks`` follows the same rule.

        >>> import pandas as pd
        >>> model = ExposureModel(device="cpu")                                # doctest: +SKIP
        >>> model.score_tasks(pd.Series(["Sort mail.", None, 5])).status       # doctest: +SKIP
        ['ok', 'empty', 'not_text']
        """
        texts = as_texts(texts)
        status = text_status(texts)
        emb = self.encoder.encode([t if s == "ok" else None for t, s in zip(texts, status)],
                                  show_progress=show_progress)
        scores = self.score_embeddings(emb, texts=texts, occupations=occupations)
        scores.status = status
        return scores

    def score_embeddings(self, embeddings: np.ndarray, texts: Optional[Union[Sequence[Optional[str]], Any]] = None,
                         occupations: Optional[Sequence[Optional[str]]] = None) -> TaskScores:
        """Score precomputed task embeddings (float32 ``(n, dim)``, unit rows, from this model's encoder).

        ``texts``, kept in the scores, may be any container :func:`~exposure.encoder.as_texts` takes,
        one per row of ``embeddings``.

        ``occupations``: the O*NET-SOC code of each row's occupation, for out-of-fold scores. The head was
        fitted on the human labels of 715 occupations, whose tasks it largely scores with their own labels;
        given their codes, the tasks of those occupations are scored by the head's fold heads, fitted
        without them (:meth:`~exposure.heads.Heads.predict_out_of_fold`), in ``exposure``,
        ``probabilities`` and ``gpt4_automation``, and the shipped head's headline is kept in
        ``exposure_in_sample``. Occupation tables do this. Without a calibrated head (or one without fold
        heads) the argument changes nothing.
        """
        caps, counters = self._reference_embeddings()
        emb = self._check_embeddings(embeddings, caps.shape[1])
        if texts is not None:
            texts = as_texts(texts)
            if len(texts) != emb.shape[0]:
                raise ValueError(f"got {emb.shape[0]} rows of embeddings but {len(texts)} texts; "
                                 "pass one text per row, or texts=None")
        T = self.temperature
        cap_search, counter_search = self._search_index("capabilities", caps), self._search_index("counters", counters)
        groups = self.capabilities.technology_index
        n_tech = len(self.technologies)
        counts = np.bincount(groups, minlength=n_tech)
        # 0. the similarities to the capability and counter-statements, once: every pooled feature below and the
        # head's features are derived from them
        sims = statement_similarities(emb, cap_search, counter_search)
        # 1. pooled similarity to each technology's capabilities
        cap_lse = pooled_logsumexp(sims.capabilities, T, groups, n_tech)
        cap_pool = _log_mean_exp(cap_lse, counts, T)
        # 2. pooled similarity to human-bound work (0 when the set has none)
        if counters.shape[0]:
            counter_lse = pooled_logsumexp(sims.counters, T)[:, 0]
            human = _log_mean_exp(counter_lse, np.asarray(counters.shape[0]), T)
            counter_index = np.argmax(sims.counters, axis=1).astype(np.int64)  # the first of equal maxima
            counter_sim = np.take_along_axis(sims.counters, counter_index[:, None], axis=1)[:, 0]
        else:
            human = np.zeros(emb.shape[0], dtype=np.float32)
            counter_index = np.full(emb.shape[0], -1, dtype=np.int64)
            counter_sim = np.full(emb.shape[0], np.nan, dtype=np.float32)
        # 3. headline: the headline technologies' statements pooled together
        sel = cap_lse[:, self._headline_mask]
        head_lse = T * np.logaddexp.reduce(sel / T, axis=1) if sel.shape[0] else sel.sum(axis=1)
        head_pool = _log_mean_exp(head_lse, counts[self._headline_mask].sum(), T)
        margin = (head_pool - human).astype(np.float32)
        # 4. evidence: the best-matching capability statements, most similar first (ties: the lower index)
        k = min(EVIDENCE_K, caps.shape[0])
        top_index = np.argsort(-sims.capabilities, axis=1, kind="stable")[:, :k]
        top_values = np.take_along_axis(sims.capabilities, top_index, axis=1)
        # Zero rows (empty texts) match nothing: no score, no evidence.
        blank = ~np.any(emb, axis=1)
        exposure = _sigmoid(margin / self.scale)
        automation_exposure = act_index = act_sim = None
        labels = self.technology_labels
        if labels is None:
            tech_scores = _sigmoid((cap_pool - human[:, None]) / self.scale)
        else:
            # 5. technology scores: the ratings of the nearest labelled activities, combined (SUBSTITUTING)
            near = self._search_index("activities", self._activity_embeddings()).search(emb, "topk", k=labels.k)
            order = [labels.technologies.index(t) for t in self.technologies]
            tech_scores = technology_scores(near.indices, near.values, labels.values[:, order], labels.temperature)
            automation_exposure = combined_automation(tech_scores, self.technologies)
            act_index = np.array(near.indices[:, :EVIDENCE_K])
            act_sim = np.array(near.values[:, :EVIDENCE_K], dtype=np.float32)
        probabilities = gpt4_automation = in_sample = held_out = None
        if self.head is not None:
            # 6. calibrated headline: the head's P(E1) + 0.5 P(E2), out of fold for labelled occupations if asked
            capf = self._capability_features(sims)
            probs, auto = self.head.predict(emb, capf, self._device)
            if occupations is not None and self.head.folds is not None:
                in_sample = (probs[:, 1] + 0.5 * probs[:, 2]).astype(np.float32)
                probs, auto, held_out = self.head.predict_out_of_fold(emb, capf, as_texts(occupations), self._device,
                                                                      known=(probs, auto))
            probabilities, gpt4_automation = probs.astype(np.float32), auto.astype(np.float32)
            exposure = (probabilities[:, 1] + 0.5 * probabilities[:, 2]).astype(np.float32)
        ev_index, ev_sim = top_index.astype(np.int64), top_values.astype(np.float32)
        if blank.any():
            extra = () if probabilities is None else (probabilities, gpt4_automation)
            extra += () if in_sample is None else (in_sample,)
            extra += () if labels is None else (automation_exposure, act_sim)
            for arr in (exposure, margin, tech_scores, ev_sim, counter_sim) + extra:
                arr[blank] = np.nan
            ev_index[blank] = -1
            counter_index = np.where(blank, -1, counter_index)
            if act_index is not None:
                act_index[blank] = -1
        return TaskScores(
            texts=texts, exposure=exposure, technology_scores=tech_scores, technologies=self.technologies,
            margin=margin, evidence_index=ev_index, evidence_similarity=ev_sim,
            counter_index=np.asarray(counter_index), counter_similarity=np.asarray(counter_sim, dtype=np.float32),
            capabilities=self.capabilities, probabilities=probabilities, gpt4_automation=gpt4_automation,
            calibrated=self.head is not None, automation_exposure=automation_exposure, activity_index=act_index,
            activity_similarity=act_sim, activities=labels, exposure_in_sample=in_sample, held_out=held_out,
        )
