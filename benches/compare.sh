#!/usr/bin/env bash
# Our training steps against PyTorch's, interleaved in one run on this machine (so both see the
# same clock, load and memory), at 1 and 2 threads, for every `benchmarks::StepShape` with SGD
# and AdamW. Prints the CPU and its vector features, the measured FMA peak per thread count and
# one table: ms/step (median, min–max), images/s, GFLOP/s, % of peak, peak RSS, ours/PyTorch.
#
#   bash benches/compare.sh            # PYTHON=/path/to/python with torch, if not python3
#   bash benches/compare.sh --quick    # 3 steps, one round: checks the pipeline in a minute
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "compare.sh: $python cannot import torch (pip install torch==2.15.0, or set PYTHON)" >&2
  exit 1
fi
steps=10 warmup=3 rounds=2
if [[ "${1:-}" == "--quick" ]]; then steps=3 warmup=1 rounds=1; fi

cargo build --release -q -p benchmarks --bin step
step="${CARGO_TARGET_DIR:-target}/release/step"
shapes=(small vit224 suite-image suite-video suite-audio)

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
{
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  cpu="$cpu, family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs)"
  cpu="$cpu model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "{\"cpu\": \"$cpu\", \"cores\": $(nproc)," \
    "\"features\": \"$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_bf16' | sort | xargs)\"," \
    "\"torch_capability\": \"$("$python" -c 'import torch; print(torch.backends.cpu.get_cpu_capability())')\"}"
} >>"$results"
for threads in 1 2; do
  RAYON_NUM_THREADS=$threads "$step" peak >>"$results"
  for shape in "${shapes[@]}"; do
    for optimizer in sgd adamw; do
      for ((round = 0; round < rounds; round++)); do
        echo "threads $threads, $shape, $optimizer, round $((round + 1))/$rounds" >&2
        RAYON_NUM_THREADS=$threads "$step" "$shape" "$optimizer" $steps $warmup >>"$results"
        OMP_NUM_THREADS=$threads "$python" benches/reference/compare_step.py \
          "$shape" "$optimizer" $steps $warmup --threads $threads >>"$results"
      done
    done
  done
done
python3 benches/reference/compare_table.py <"$results"
