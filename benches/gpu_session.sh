#!/usr/bin/env bash
# One prepared run on a GPU machine: install the carried wheel, test the kernels
# without the interpreter (bf16 included), then time them and the training steps.
#
#   make wheel            # here: builds target/wheels/ptm_fast-*-abi3-*.whl
#   benches/gpu_session.sh [WHEEL]   # there, from the repository root
#
# The GPU machine has torch, triton, pytest and hypothesis but no network, so
# nothing is fetched: the wheel is installed with --no-deps into a private
# folder. Each step has its own time limit, so one slow step cannot cost the
# rest. Logs and tables go to $OUT (default: target/gpu-session); the kernel
# tables are appended to $OUT/RESULTS-kernels.md, ready to paste into
# benches/RESULTS.md. Exit status: the number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-target/gpu-session}
mkdir -p "$out"
python=${PYTHON:-python3}
wheel=${1:-$(ls -t target/wheels/ptm_fast-*abi3*.whl 2>/dev/null | head -n 1)}  # the newest
if [[ -z "$wheel" || ! -f "$wheel" ]]; then
    echo "gpu_session: no wheel (build one with 'make wheel' and carry target/wheels)" >&2
    exit 1
fi

site=$(mktemp -d)
"$python" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$wheel" || exit 1
export PYTHONPATH="$site" PYTHONUNBUFFERED=1
unset TRITON_INTERPRET

failed=0
step() {  # step NAME SECONDS COMMAND...: run with a limit, log to $out/NAME.log
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s): $*"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc after $((SECONDS - start)) s"
    [[ $rc == 0 ]] || failed=$((failed + 1))
}

step environment 30 "$python" -c '
import torch, triton, ptm_fast
print("gpu:", torch.cuda.get_device_name(0), "| torch", torch.__version__,
      "| triton", triton.__version__, "| ptm_fast", ptm_fast.__version__, ptm_fast.__file__)
assert torch.cuda.is_available(), "no CUDA device"'
step tests 150 "$python" -m pytest -q -p no:cacheprovider tests/kernels
step bench_kernels 240 "$python" benches/bench_kernels.py --results "$out/RESULTS-kernels.md"
step bench_bert 60 "$python" benches/bench_bert.py --rounds 1 --steps 10 --batch 32 --seq 512 --skip-encode
step bench_gpt 60 "$python" benches/bench_gpt.py --rounds 1 --steps 10
echo "gpu_session: $failed step(s) failed; logs in $out"
exit "$failed"
