#!/usr/bin/env bash
# Issue 14's GPU checks in one call of the device tool: a GPU machine whose python3 holds a CUDA build of torch
# with Triton (and numba, pytest, hypothesis), and which cannot fetch anything. Two steps:
#
#   here, with network:  bash benchmarks/device_check.sh prepare
#       downloads the libraries the benchmark compares against, as wheels, into .whl (excluded from git)
#   on the device:       run(command="bash benchmarks/device_check.sh run", carry=[".whl"], timeout_s=540)
#       installs them into /tmp/site, runs the fused-op tests (the Triton kernels against the reference loop on
#       CUDA), then the library benchmark with its CUDA rows; the doc and JSON come back in $OUT.
#
# Copy $OUT's ENGINE_BENCHMARK.md/.json into docs/ afterwards; the CPU rows there are the device's CPU, so rerun
# the benchmark here for this machine's CPU rows if they are to be kept (the doc says which card and CPU it ran on).
set -euo pipefail
WHEELS=.whl

case "${1:-}" in
prepare)
    mkdir -p "$(git rev-parse --git-dir)/info"
    grep -qx "/$WHEELS/" "$(git rev-parse --git-dir)/info/exclude" 2>/dev/null \
        || echo "/$WHEELS/" >> "$(git rev-parse --git-dir)/info/exclude"
    # pure-Python wheels (py3-none-any), so the device's Python 3.12 takes them; norse ships only an sdist
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$WHEELS" \
        snntorch==1.0.0 spikingjelly==2.0.0 loguru==0.7.3 nir==1.0.8 nirtorch==2.6
    python3 -m pip wheel --quiet --no-deps -w "$WHEELS" norse==1.1.0
    ls "$WHEELS"
    ;;
run)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl
    export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
    python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.is_available())"
    python3 -m pytest -q -p no:cacheprovider tests/core/neurons/test_fused.py 2>&1 | tee "$OUT/fused_tests.log"
    python3 benchmarks/engine_vs_libraries.py --out "$OUT/ENGINE_BENCHMARK.md" 2>&1 | tee "$OUT/benchmark.log"
    ;;
*)
    echo "usage: bash benchmarks/device_check.sh prepare|run" >&2
    exit 2
    ;;
esac
