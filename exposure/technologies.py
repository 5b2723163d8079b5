"""Technology scores from hand-labelled work activities: what each technology can take over of a task.

Every O*NET Detailed Work Activity (2,087, O*NET 30.1) is rated by hand for each
technology (language models, software, machine vision, robotics, autonomous
vehicles) on one scale: 0 (current systems cannot do it), 1 (a substantial part,
or all of it in some settings), 2 (all or nearly all of it in typical settings);
the rubric is ``models/technologies/rubric.md``. The score of a technology for a
text is the similarity-weighted mean of ``rating / 2`` over its ``k`` nearest
labelled activities:

    w_j = softmax_j(s_j / temperature) over the k most similar activities
    score_t = sum_j w_j * rating_jt / 2

so it reads as the share of the task that current systems of that technology can
take over, on the same scale for every technology. ``automation_exposure``
(:func:`exposure.scoring.combined_automation`) combines software, machine vision,
robotics and vehicles as independent: the share at least one of them can take over
(shares of different technologies overlap, so they are not added). The nearest activities are
the evidence of every score.

>>> labels = TechnologyLabels.load()
>>> labels.technologies, len(labels) > 2000
(('llm', 'software', 'vision', 'robotics', 'vehicles'), True)
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import numpy as np

from ._assets import shipped
from .stats import softmax

__all__ = ["TechnologyLabels", "TechnologyLabelsError", "technology_scores", "RATINGS"]

#: The rating scale of the rubric; a score is ``rating / 2``.
RATINGS = (0, 1, 2)


class TechnologyLabelsError(ValueError):
    """A technology label file or its manifest is missing, malformed or damaged."""


@dataclass(frozen=True)
class TechnologyLabels:
    """Hand-labelled work activities: ``ratings[i, t]`` in {0, 1, 2} of activity ``i`` for technology ``t``.

    ``k`` and ``temperature`` are how a text's score is taken from its nearest activities
    (:func:`technology_scores`); ``manifest`` records how the labels were made and checked.
    """

    ids: Tuple[str, ...] = field(repr=False)
    texts: Tuple[str, ...] = field(repr=False)
    technologies: Tuple[str, ...]
    ratings: np.ndarray = field(repr=False)
    k: int = 20
    temperature: float = 0.05
    manifest: Dict[str, Any] = field(default_factory=dict, repr=False)
    source: str = "<memory>"

    def __post_init__(self) -> None:
        r = np.asarray(self.ratings)
        if r.shape != (len(self.ids), len(self.technologies)):
            raise TechnologyLabelsError(f"{self.source}: ratings have shape {r.shape}, expected "
                                        f"({len(self.ids)}, {len(self.technologies)})")
        if len(self.texts) != len(self.ids) or not self.ids:
            raise TechnologyLabelsError(f"{self.source}: {len(self.ids)} ids but {len(self.texts)} texts")
        if not np.isin(r, RATINGS).all():
            raise TechnologyLabelsError(f"{self.source}: ratings must be 0, 1 or 2")
        if not 1 <= self.k <= len(self.ids) or self.temperature <= 0:
            raise TechnologyLabelsError(f"{self.source}: k must be in [1, {len(self.ids)}] and temperature "
                                        f"positive, got k={self.k}, temperature={self.temperature}")

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"TechnologyLabels(source={self.source!r}, activities={len(self)}, "
                f"technologies={self.technologies}, k={self.k}, temperature={self.temperature})")

    @property
    def values(self) -> np.ndarray:
        """``ratings / 2`` as float32 ``(n, technologies)``: the share each technology can take over."""
        return (np.asarray(self.ratings, dtype=np.float32) / 2).astype(np.float32)

    @property
    def checksum(self) -> str:
        """sha256 of what the scores depend on: activity texts, ratings, technologies, k, temperature."""
        h = hashlib.sha256()
        h.update(json.dumps([list(self.texts), list(self.technologies), self.k, self.temperature]).encode("utf-8"))
        h.update(np.ascontiguousarray(self.ratings, dtype=np.int8).tobytes())
        return h.hexdigest()

    @classmethod
    def load(cls, source: Union[str, os.PathLike] = "default") -> "TechnologyLabels":
        """The shipped labels (``"default"``) or those of a manifest ``.json`` beside its label file.

        The manifest names the ``labels`` file (TSV: ``id`` column, ``text`` column, one column per
        technology with ratings 0/1/2; the column names are given by ``id_column``, ``text_column``),
        ``technologies``, ``k``, ``temperature`` and the file's ``sha256``.
        """
        if str(source) == "default":
            path = shipped("technologies") / "default.json"
        else:
            path = Path(source)
        if not path.is_file():
            raise TechnologyLabelsError(f"technology label manifest {str(path)!r} does not exist")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            labels_file = path.parent / manifest["labels"]["file"]
            technologies = tuple(manifest["technologies"])
            id_col, text_col = manifest["labels"]["id_column"], manifest["labels"]["text_column"]
            k, temperature = int(manifest["k"]), float(manifest["temperature"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TechnologyLabelsError(f"{path}: unreadable manifest ({exc!r})") from None
        try:
            data = labels_file.read_bytes()
        except OSError as exc:
            raise TechnologyLabelsError(f"{path}: cannot read its labels {labels_file.name!r}: {exc}") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != manifest["labels"].get("sha256"):
            raise TechnologyLabelsError(f"{path}: checksum mismatch for {labels_file.name}: sha256 {digest[:16]}..., "
                                        f"manifest says {str(manifest['labels'].get('sha256'))[:16]}...")
        rows = list(csv.DictReader(data.decode("utf-8").splitlines(), delimiter="\t"))
        missing = [c for c in (id_col, text_col, *technologies) if rows and c not in rows[0]]
        if missing or not rows:
            raise TechnologyLabelsError(f"{labels_file}: no rows, or no column {', '.join(map(repr, missing))}")
        try:
            ratings = np.array([[int(r[t]) for t in technologies] for r in rows], dtype=np.int8)
        except ValueError as exc:
            raise TechnologyLabelsError(f"{labels_file}: ratings must be 0, 1 or 2 ({exc})") from None
        return cls(tuple(r[id_col] for r in rows), tuple(r[text_col] for r in rows), technologies, ratings,
                   k=k, temperature=temperature, manifest=manifest, source=str(path))


def technology_scores(top_index: np.ndarray, top_similarity: np.ndarray, values: np.ndarray,
                      temperature: float) -> np.ndarray:
    """Scores ``(n, technologies)`` from each row's nearest labelled activities.

    ``top_index``, ``top_similarity``: ``(n, k)`` the nearest activities and their cosine
    similarities (``kernels.reduce(..., "topk")``); ``values``: ``(activities, technologies)``
    shares in [0, 1]. The weights are a softmax of the similarities at ``temperature``.

    >>> technology_scores(np.array([[0, 1]]), np.array([[0.9, 0.5]]), np.array([[1.0], [0.0]]), 0.05).round(3)
    array([[1.]], dtype=float32)
    """
    w = softmax(np.asarray(top_similarity, dtype=np.float64) / temperature)
    return np.einsum("nk,nkt->nt", w, np.asarray(values, dtype=np.float64)[top_index]).astype(np.float32)
