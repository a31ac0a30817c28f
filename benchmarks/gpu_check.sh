#!/usr/bin/env bash
# One prepared GPU check (~5 min on one GPU): prints JSON lines, nothing else on stdout.
#
#   benchmarks/gpu_check.sh                      # on a machine with an NVIDIA GPU
#   benchmarks/gpu_check.sh --quick --device cpu # smoke mode (any machine, ~2-3 min on 2 cores)
#
# Needs: run from a checkout of this repository, with a Python (>= 3.10; $PYTHON, default
# `python`) in which `pip install -e .` of this repository has been done with a CUDA build of
# torch (e.g. `python -m venv .venv && .venv/bin/pip install -e . && PYTHON=.venv/bin/python
# benchmarks/gpu_check.sh`). No network access is needed once that is installed.
#
# Measures, in order (each step bounded by `timeout`):
#  1. gpu_check.py: the bare training step with AMP, TF32 and channels-last 3D on/off
#  2. bench_training.py: training it/s vs the bare step rate, data wait (4 and 8 data fetchers)
#  3. bench_blockwise_predict.py: blockwise predict voxels/s vs the bare forward (1 worker per GPU)
#  4. bench_ddp_training.py: 1 vs 2 ranks (nccl) where there are 2 GPUs or more
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
device=cuda
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --device) device=$2; shift ;;
    *) echo "usage: $0 [--quick] [--device cuda|cpu]" >&2; exit 2 ;;
  esac
  shift
done
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PY" -c "import dacapo, torch, gunpowder, daisy, zarr" 2>/dev/null; then
  echo "gpu_check: $PY lacks DaCapo's dependencies: pip install -e . first (see above)" >&2
  exit 2
fi
gpus=$("$PY" -c "import torch; print(torch.cuda.device_count())")
if [ "$device" != cpu ] && [ "$gpus" -eq 0 ]; then
  echo "gpu_check: no CUDA GPU visible to torch; use --device cpu for the smoke mode" >&2
  exit 2
fi

step() {  # step SECONDS NAME ARGS...: run one benchmark; a failure is a JSON line, not the end
  local limit=$1 name=$2; shift 2
  timeout "$limit" "$PY" "benchmarks/$name.py" "$@" 2> >(tail -n 5 >&2)
  local code=$?
  echo "{\"gpu_check_step\": \"$name\", \"exit_code\": $code}"
}

if [ "$quick" = 1 ]; then
  step 120 gpu_check --device "$device" --quick
  step 180 bench_training --device "$device" --quick --fetchers 1
  step 120 bench_blockwise_predict --device "$device" --blocks 1 1 1 --workers 1
  ddp_device=$device
else
  step 60 gpu_check --device "$device"
  step 150 bench_training --device "$device" --fetchers 4 8 --iterations 30 --input 132 --fmap-inc-factor 3
  step 90 bench_blockwise_predict --device "$device" --blocks 3 3 2 --workers 1 2
  ddp_device=$device
fi
if [ "$device" = cpu ] || [ "$gpus" -ge 2 ]; then
  if [ "$quick" = 1 ]; then
    step 180 bench_ddp_training --device "$ddp_device" --quick --ranks 1 2
  else
    step 120 bench_ddp_training --device "$ddp_device" --ranks 1 2 --iterations 20 --fetchers 4
  fi
else
  echo "{\"gpu_check_step\": \"bench_ddp_training\", \"skipped\": \"$gpus GPU: 2 ranks need 2\"}"
fi
