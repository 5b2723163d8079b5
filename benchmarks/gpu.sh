#!/usr/bin/env bash
# CUDA checks and figures in one call: build, CUDA tests, GPU benchmarks, end-to-end postings/s.
#
#   bash benchmarks/gpu.sh [RESULTS_DIR]      (default benchmarks/results/gpu)
#
# Needs a CUDA build of torch and the package's test/bench extras in the active
# Python (pip install -e ".[test,bench]"). Writes device.txt, tests.txt, the raw
# pytest-benchmark JSON files and gpu.md (tables) to RESULTS_DIR. Stops at the
# first failure of the build or the CUDA tests (CUDA tests that skip count as a
# failure here); the fused Triton kernels (exposure/_triton_reduce.py, not yet used
# by reduce) are tested and timed without stopping the rest, and the script exits
# non-zero at the end if any of that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-benchmarks/results/gpu}"
mkdir -p "$dest"
postings="${EXPOSURE_BENCH_POSTINGS:-100000}"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$dest/device.txt"
python -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print('torch', torch.__version__, 'CUDA', torch.version.cuda)" | tee -a "$dest/device.txt"

# 1. build and check: the CUDA tests must run, not skip
python setup.py build_ext --inplace > "$dest/build.log" 2>&1
python -m pytest -q -p no:cacheprovider -m gpu -rs tests | tee "$dest/tests.txt"
if grep -q "skipped" "$dest/tests.txt"; then echo "CUDA tests were skipped" >&2; exit 1; fi
failed=0
python -m pytest -q -p no:cacheprovider -rs tests/test_triton_reduce.py | tee "$dest/tests_triton.txt" || failed=1

# 2. kernels (torch path, fused Triton kernels and their tilings) and encoder on the card
python -m pytest -q -p no:cacheprovider benchmarks/bench_gpu.py --benchmark-json="$dest/gpu.json" || failed=1

# 3. end to end: generated postings through PostingScorer on the card, cold and warm unit cache;
#    the postings are generated once, outside the results, for both precisions
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python benchmarks/generate_postings.py "$postings" -o "$work/postings.parquet" --seed 0
for dtype in float16 float32; do
    EXPOSURE_BENCH_DEVICE=cuda EXPOSURE_BENCH_DTYPE=$dtype EXPOSURE_BENCH_POSTINGS_FILE="$work/postings.parquet" \
        EXPOSURE_CACHE_DIR="${EXPOSURE_CACHE_DIR:-$dest/cache}" \
        python -m pytest -q -p no:cacheprovider -s benchmarks/bench_pipeline.py -k "cold or warm" \
        --benchmark-json="$dest/pipeline_$dtype.json"
done

python benchmarks/report.py --gpu "$dest/gpu.json" "$dest/pipeline_float16.json" "$dest/pipeline_float32.json" \
    -o "$dest/gpu.md" --command "bash benchmarks/gpu.sh"
if [ "$failed" != 0 ]; then echo "some fused-kernel tests or GPU benchmarks failed: see $dest" >&2; exit 1; fi
