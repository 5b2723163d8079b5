"""The CPU front end of posting scoring, stage by stage: ms per posting on one thread.

    python -m pytest benchmarks/bench_frontend.py --benchmark-only -s
    EXPOSURE_BENCH_POSTINGS=2000 (default) sets the number of postings generated (seed 0,
    the ``realistic`` style where ``generate_postings.py`` has one, else its default).

What posting scoring (:class:`~exposure.postings.PostingScorer`) does to each
posting text before anything is encoded, in its order, one posting at a time,
one thread, no torch, no encoder, no worker processes:

* ``is_english_posting``: the language check (py3langid on up to 900 characters);
* ``segment``: text -> units (``normalize`` included);
* ``prefilter``: ``UnitClassifier.prefilter_probabilities`` of the shipped
  classifier, that is ``hashed_features`` and the first stage's numpy;
* ``context_features``: the context features of the units the first stage keeps
  (``rows=`` the kept mask), as ``UnitClassifier.predict_many`` computes them.

Each test makes two passes over the same postings: ``first`` after clearing the
front end's memo caches (where the code has any: boilerplate lines and units
repeat across postings, so the first pass already gains from them) and
``second`` with the caches as the first pass left them. The language model is
loaded once per process (py3langid, about half a second: start-up, not work per
posting) before the passes; ``test_frontend`` reports that load apart, as
``language_model_load_s``. ``test_frontend``
times the stages as the scorer calls them (and checks that the second pass
returns what the first did); ``test_frontend_parts`` times ``normalize`` and
``hashed_features`` on their own, each in a process state of its own (caches
cleared), to split ``segment`` and ``prefilter`` into their parts. A figure is
one pass's time in a stage divided by the number of postings (a pass is one
round: repeating it would be the second pass). Each test prints one line and
stores its figures in ``benchmark.extra_info``. Run it on an otherwise idle
machine: on two cores, anything else running skews the figures.
"""

import gc
import hashlib
import inspect
import json
import os
import time

import pytest

from _common import generator
import exposure.postings.classifier as classifier_module
import exposure.postings.segmentation as segmentation
from exposure.postings.classifier import UnitClassifier, context_features, hashed_features
from exposure.language import is_english_posting
from exposure.postings.segmentation import normalize, segment

N = int(os.environ.get("EXPOSURE_BENCH_POSTINGS", "2000"))
STAGES = ("is_english_posting", "segment", "prefilter", "context_features")
GERMAN = ("Wir suchen einen Lagermitarbeiter (m/w/d). Zu Ihren Aufgaben gehören die Warenannahme, die "
          "Kommissionierung und der Versand.")


@pytest.fixture(scope="module")
def texts():
    """N generated posting texts (seed 0): the ``realistic`` style where the generator has it."""
    gen = generator()
    style = "realistic" if "style" in inspect.signature(gen.generate).parameters else None
    batches = gen.generate(N, seed=0, **({"style": style} if style else {}))
    out = [t for b in batches for t in b.column("description").to_pylist()]
    return style or "default", out


@pytest.fixture(scope="module")
def clf():
    return UnitClassifier.load()


def _clear_caches():
    """Empty the front end's memo caches, where this version of the code has any."""
    for module in (segmentation, classifier_module):
        clear = getattr(module, "clear_caches", None)
        if clear is not None:
            clear()


def _digest(english, units, probs, ctx) -> bytes:
    """A fingerprint of one posting's front-end outputs, to compare passes without keeping the outputs alive
    (holding 100,000 units would make the garbage collector's work, and so the figures, grow with N)."""
    h = hashlib.blake2b(repr((english, [(u.text, u.bullet, u.header, u.line) for u in units])).encode("utf-8"))
    h.update(probs.tobytes())
    if ctx is not None:
        h.update(ctx.tobytes())
    return h.digest()


def _frontend_pass(texts, clf):
    """The front end over ``texts`` as the scorer runs it; seconds per stage and a digest of each posting's
    outputs (made outside the timings)."""
    clock = time.perf_counter
    spent = dict.fromkeys(STAGES, 0.0)
    duty, threshold, verbs = clf.labels.index("DUTY"), clf.threshold, clf.verbs
    digests = []
    for text in texts:
        t0 = clock()
        english = is_english_posting(text)
        t1 = clock()
        units = segment(text) if english else []
        t2 = clock()
        probs = clf.prefilter_probabilities(units)
        t3 = clock()
        kept = probs[:, duty] >= threshold
        ctx = context_features(units, verbs, rows=kept) if kept.any() else None
        t4 = clock()
        spent["is_english_posting"] += t1 - t0
        spent["segment"] += t2 - t1
        spent["prefilter"] += t3 - t2
        spent["context_features"] += t4 - t3
        digests.append(_digest(english, units, probs, ctx))
    return spent, digests


def _timed(fn, texts):
    clock = time.perf_counter
    t0 = clock()
    for text in texts:
        fn(text)
    return clock() - t0


def _ms(seconds, n):
    return round(1000 * seconds / n, 4)


def test_frontend(benchmark, texts, clf):
    style, posts = texts
    n = len(posts)

    # A posting the language model must judge (no English function words to go by): it loads the model.
    t0 = time.perf_counter()
    is_english_posting(GERMAN)
    load = time.perf_counter() - t0

    def run():
        _clear_caches()
        gc.collect()
        first, digests1 = _frontend_pass(posts, clf)
        second, digests2 = _frontend_pass(posts, clf)
        return first, second, digests1 == digests2

    first, second, same = benchmark.pedantic(run, rounds=1, iterations=1)
    info = {"postings": n, "style": style, "second_pass_equal": same, "language_model_load_s": round(load, 3)}
    for name, spent in (("first", first), ("second", second)):
        info.update({f"{name}_{k}_ms": _ms(v, n) for k, v in spent.items()})
        info[f"{name}_total_ms"] = _ms(sum(spent.values()), n)
    benchmark.extra_info.update(info)
    print(f"\nfront end, ms per posting: {json.dumps(info)}")
    assert same


def test_frontend_parts(benchmark, texts, clf):
    style, posts = texts
    n = len(posts)
    unit_lists = [segment(t) for t in posts]

    def hashing(units):
        hashed_features(units, clf.n_features)

    def run():
        figures = {}
        for name, fn, inputs in (("normalize", normalize, posts), ("hashed_features", hashing, unit_lists)):
            _clear_caches()
            gc.collect()
            figures[f"first_{name}_ms"] = _ms(_timed(fn, inputs), n)
            figures[f"second_{name}_ms"] = _ms(_timed(fn, inputs), n)
        return figures

    figures = benchmark.pedantic(run, rounds=1, iterations=1)
    info = {"postings": n, "style": style, **figures}
    benchmark.extra_info.update(info)
    print(f"\nfront end parts, ms per posting: {json.dumps(info)}")
