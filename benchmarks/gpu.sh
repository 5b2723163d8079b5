#!/usr/bin/env bash
# CUDA checks and figures in one call: build, CUDA tests, GPU benchmarks, end-to-end postings/s.
#
#   bash benchmarks/gpu.sh [RESULTS_DIR]      (default benchmarks/results/gpu)
#
#   EXPOSURE_BENCH_POSTINGS   postings scored end to end (default 20000; 100000 takes several minutes
#                             per run at a few hundred postings/s)
#   EXPOSURE_BENCH_DTYPES     encoder dtypes end to end (default "float16"; "float16 float32" for both)
#   EXPOSURE_GPU_SMOKE=1      a smoke run of every step on the CPU, at small sizes (300 queries, 200 texts,
#                             200 postings in float32; the fused kernels in Triton's interpreter; CUDA tests
#                             that skip are not a failure): run it before spending GPU time
#
# Needs a CUDA build of torch and the package's test/bench extras in the active
# Python (pip install -e ".[test,bench]", or the package on PYTHONPATH with torch,
# transformers, sentence-transformers, pybind11, pytest-benchmark and triton
# installed). Writes device.txt, tests*.txt, the raw pytest-benchmark JSON files,
# steps.txt (seconds per step) and gpu.md (tables) to RESULTS_DIR, each step's files
# as soon as it ends, so a run stopped by a time limit keeps what it finished.
# Stops at the first failure of the build or the CUDA tests (CUDA tests that skip
# count as a failure here); the fused Triton kernels (benchmarks/triton_reduce.py,
# not yet used by reduce) are tested and timed without stopping the rest, and the
# script exits non-zero at the end if any of that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-benchmarks/results/gpu}"
mkdir -p "$dest"
smoke="${EXPOSURE_GPU_SMOKE:-0}"
if [ "$smoke" = 1 ]; then
    device=cpu
    postings="${EXPOSURE_BENCH_POSTINGS:-200}"
    dtypes="${EXPOSURE_BENCH_DTYPES:-float32}"
    export EXPOSURE_BENCH_N="${EXPOSURE_BENCH_N:-300}" EXPOSURE_BENCH_TEXTS="${EXPOSURE_BENCH_TEXTS:-200}"
else
    device=cuda
    postings="${EXPOSURE_BENCH_POSTINGS:-20000}"
    dtypes="${EXPOSURE_BENCH_DTYPES:-float16}"
fi
start=$SECONDS
step() { echo "$1: $((SECONDS - start)) s since the start" | tee -a "$dest/steps.txt"; }

if [ "$smoke" = 1 ]; then
    echo "smoke run on the CPU ($(nproc) cores), not a GPU" | tee "$dest/device.txt"
else
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$dest/device.txt"
    python -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print('torch', torch.__version__, 'CUDA', torch.version.cuda)" | tee -a "$dest/device.txt"
fi
python -c "import triton; print('triton', triton.__version__)" | tee -a "$dest/device.txt" || true

# 1. build and check: the CUDA tests must run, not skip
python setup.py build_ext --inplace > "$dest/build.log" 2>&1
step "built"
python -m pytest -q -p no:cacheprovider -m gpu -rs tests | tee "$dest/tests.txt"
if [ "$smoke" != 1 ] && grep -q "skipped" "$dest/tests.txt"; then echo "CUDA tests were skipped" >&2; exit 1; fi
failed=0
python -m pytest -q -p no:cacheprovider -rs tests/test_triton_reduce.py | tee "$dest/tests_triton.txt" || failed=1
step "tests"

# 2. kernels (torch path, fused Triton kernels and their tilings) and encoder on the card
EXPOSURE_BENCH_DEVICE=$device python -m pytest -q -p no:cacheprovider benchmarks/bench_gpu.py \
    --benchmark-json="$dest/gpu.json" || failed=1
step "kernel and encoder benchmarks"

# 3. end to end: generated postings through PostingScorer on the card, cold and warm unit cache, in one
#    process; then the batch job with a text worker on every core but one (what score-postings runs), and
#    the text stage alone with 1 and with that many workers; the postings are generated once, outside the
#    results, for every dtype
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python benchmarks/generate_postings.py "$postings" -o "$work/postings.parquet" --seed 0
step "$postings postings generated"
runs=()
for dtype in $dtypes; do
    EXPOSURE_BENCH_DEVICE=$device EXPOSURE_BENCH_DTYPE=$dtype EXPOSURE_BENCH_POSTINGS_FILE="$work/postings.parquet" \
        EXPOSURE_BENCH_WORKERS="$(( $(nproc) - 1 ))" EXPOSURE_BENCH_TEXT_WORKERS="1 $(( $(nproc) - 1 ))" \
        python -m pytest -q -p no:cacheprovider -s benchmarks/bench_pipeline.py \
        -k "(cold or warm or job_workers or text_stage) and not job_warm" \
        --benchmark-json="$dest/pipeline_$dtype.json"
    runs+=("$dest/pipeline_$dtype.json")
    step "end to end, $dtype"
done

python benchmarks/report.py --gpu "$dest/gpu.json" "${runs[@]}" -o "$dest/gpu.md" --command "bash benchmarks/gpu.sh"
if [ "$failed" != 0 ]; then echo "some fused-kernel tests or GPU benchmarks failed: see $dest" >&2; exit 1; fi
