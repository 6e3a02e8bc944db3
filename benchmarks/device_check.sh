#!/usr/bin/env bash
# Issue 22's GPU checks in one call of the device tool: a GPU machine whose python3 holds a CUDA build of torch
# with Triton (and numba, scikit-learn, pytest, hypothesis, pandas, pyarrow), and which cannot fetch anything.
#
#   here, with network:  bash benchmarks/device_check.sh prepare [NMNIST_TRAIN_DIR]
#       .whl:     the benchmark's libraries and what the engine, the CLI and the app need beyond that machine's
#                 packages, as wheels for its Python 3.12 (streamlit and plotly for the app's page under AppTest)
#       .devdata: up to 50 N-MNIST recordings per digit from NMNIST_TRAIN_DIR, a folder in the release layout
#                 <digit>/*.bin (e.g. a fetched dataset's Train/); by default the 20 per digit bundled in
#                 data/samples/nmnist/Train
#       both excluded from git
#   on the device:       run(command="bash benchmarks/device_check.sh run", carry=[".whl", ".devdata"], timeout_s=590)
#       installs the wheels into /tmp/site, then, most important first: the fused-op tests on CUDA (the Triton
#       kernels against the reference loop), the library benchmark's CUDA rows (the CPU rows are kept from
#       docs/ENGINE_BENCHMARK.json) with a profile, and the whole runs of benchmarks/gpu_runs.py; everything
#       comes back in $OUT: copy ENGINE_BENCHMARK.* and GPU_RUNS.* into docs/.
set -euo pipefail
WHEELS=.whl
DATA=.devdata
# versions tested here (the .venv of `make test`); pydeck (streamlit's map chart, 11 MB) is left out: nothing imports it
PACKAGES=(snntorch==1.0.0 spikingjelly==2.0.0 loguru==0.7.3 nir==1.0.8 nirtorch==2.6 tonic==1.7.0 importRosbag==1.0.4
          streamlit==1.67.0 plotly==7.1.0 altair==6.3.0 narwhals==2.29.0 starlette==1.10.0 uvicorn==0.55.0
          watchdog==7.1.1 websockets==17.4 itsdangerous==2.2.0 python-multipart==0.0.34 jsonschema==4.26.0
          jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1)
PLATFORMS=(manylinux_2_35_x86_64 manylinux_2_34_x86_64 manylinux_2_31_x86_64 manylinux_2_28_x86_64
           manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
           manylinux_2_5_x86_64 manylinux1_x86_64)

case "${1:-}" in
prepare)
    exclude="$(git rev-parse --git-dir)/info/exclude"
    mkdir -p "$(dirname "$exclude")"
    for folder in "$WHEELS" "$DATA"; do
        grep -qx "/$folder/" "$exclude" 2>/dev/null || echo "/$folder/" >> "$exclude"
    done
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        "${PLATFORMS[@]/#/--platform=}" -d "$WHEELS" "${PACKAGES[@]}"
    python3 -m pip wheel --quiet --no-deps -w "$WHEELS" norse==1.1.0     # an sdist only: built here, pure Python
    source="${2:-data/samples/nmnist/Train}"
    for digit in 0 1 2 3 4 5 6 7 8 9; do
        mkdir -p "$DATA/nmnist/Train/$digit"
        find "$source/$digit" -name '*.bin' | sort | head -50 | xargs -I{} cp {} "$DATA/nmnist/Train/$digit/"
    done
    du -sh "$WHEELS" "$DATA"
    ;;
run)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl
    export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1
    set +e                # each step reports its own failure; the later ones still run
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
    python3 -c "import torch, triton; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'triton',
triton.__version__, 'cuda available', torch.cuda.is_available())"
    timeout 170 python3 -m pytest -q -p no:cacheprovider -x tests/core/neurons/test_fused.py -k cuda \
        > "$OUT/fused_tests.log" 2>&1
    tail -25 "$OUT/fused_tests.log"
    timeout 170 python3 benchmarks/engine_vs_libraries.py --devices cuda --keep-rows-from docs/ENGINE_BENCHMARK.json \
        --out "$OUT/ENGINE_BENCHMARK.md" --profile "$OUT/PROFILE.txt" > "$OUT/benchmark.log" 2>&1
    tail -45 "$OUT/benchmark.log"
    timeout 330 python3 benchmarks/gpu_runs.py --data-dir "$DATA/nmnist" --out "$OUT/GPU_RUNS.md" > "$OUT/runs.log" 2>&1
    tail -c 5000 "$OUT/runs.log"
    ;;
*)
    echo "usage: bash benchmarks/device_check.sh prepare|run" >&2
    exit 2
    ;;
esac
