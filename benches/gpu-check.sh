#!/usr/bin/env bash
# The GPU check of the OpenCL backend, in two halves:
#
#   bash benches/gpu-check.sh prepare   # here: cargo, and the Debian package registry
#   bash benches/gpu-check.sh run       # on the GPU machine: no network, no cargo needed
#
# `prepare` builds the release binaries of the conformance tests, of the device bench and of
# `polyvit`, copies the PyTorch fixtures beside them, downloads the OpenCL ICD loader (Debian's
# ocl-icd-libopencl1) and packs it all into .gpu/bundle.tar.xz (git-ignored, about 20 MB: carry
# .gpu to the GPU machine, whose transfer is limited; the unpacked binaries are over 90 MB).
# `run` unpacks the bundle, brings the loader if the machine has none, makes NVIDIA's OpenCL
# driver the only one (so that opencl:0 is the GPU), runs every conformance test on the GPU
# (CI=1: a missing OpenCL device fails instead of skipping), prints the bench table (SGEMM and
# the ViT training step, 2 CPU cores beside the GPU) with the default GEMM blocking and with
# each one forced, then the step's kernel times (POLYVIT_OPENCL_PROFILE), times co-training
# steps of the default suite on the GPU and on 2 CPU cores, and the bench step in PyTorch on
# CUDA where the machine has it. Each part's log: see logs() below. On an H200 the conformance
# tests take 26 s.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
stage=target/gpu-check

prepare() {
  rm -rf "$out" "$stage"
  mkdir -p "$out" "$stage/bin"
  # Test and bench executables, found in cargo's JSON build messages.
  local listing
  listing=$( (cargo test --workspace --release --no-run --message-format=json &&
    cargo bench -p benchmarks --bench device_table --no-run --message-format=json &&
    cargo build --release -p polyvit --message-format=json) |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    exe = m.get("executable")
    if m.get("reason") == "compiler-artifact" and exe:
        print(m["target"]["kind"][0] + ":" + m["target"]["name"], exe)
')
  # The tests that run kernels on a device (the rest never touch one), the bench and the CLI.
  local wanted=" lib:devices test:opencl test:properties test:properties_linalg test:stability
    test:gradcheck test:gradcheck_layers test:parity test:training_on_devices bench:device_table
    bin:polyvit "
  while read -r name exe; do
    case "$wanted" in *[[:space:]]"$name"[[:space:]]*) cp "$exe" "$stage/bin/${name#*:}" ;; esac
  done <<<"$listing"
  strip "$stage"/bin/* 2>/dev/null || true
  cp -r tests/fixtures "$stage/fixtures"
  (cd "$stage" && apt-get download ocl-icd-libopencl1 >/dev/null)
  # The two binaries that embed the default suite's 14 MB of (compressed) data go first and side
  # by side, so that one xz dictionary (64 MiB at -9, one thread) holds both and stores the data
  # once: 20 MB instead of 54.
  (cd "$stage" && tar -cf - bin/polyvit bin/training_on_devices \
    $(find . -mindepth 1 -maxdepth 1 ! -name bin) \
    $(find bin -type f ! -name polyvit ! -name training_on_devices)) |
    xz -T1 -9 >"$out/bundle.tar.xz"
  ls "$stage/bin"
  du -sh "$out/bundle.tar.xz"
}

# Where `run` writes its logs: target/gpu-check/logs, or with $OUT set (the device tool's folder
# that comes back, at most 8 files) a temporary folder packed into $OUT/gpu-check-logs.tar.gz
# when the script ends.
logs() {
  if [ -n "${OUT:-}" ]; then
    log=$(mktemp -d)
    trap 'tar -C "$log" -czf "$OUT/gpu-check-logs.tar.gz" .' EXIT
  else
    log=$stage/logs
    rm -rf "$log" && mkdir -p "$log"
  fi
}

run() {
  [ -f "$out/bundle.tar.xz" ] || { echo "no $out/bundle.tar.xz: run 'bash benches/gpu-check.sh prepare' first" >&2; exit 1; }
  local here
  here=$(mktemp -d)
  logs
  # Python's lzma needs no xz program on the machine.
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
    "$out/bundle.tar.xz" "$here"
  # 1. The ICD loader (libOpenCL.so.1): the system's, or the one that travelled.
  if ! ldconfig -p | grep -q 'libOpenCL\.so\.1'; then
    dpkg -x "$here"/ocl-icd-libopencl1_*.deb "$here/loader"
    export LD_LIBRARY_PATH="$here/loader/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    echo "ICD loader: unpacked from $(basename "$here"/ocl-icd-libopencl1_*.deb)"
  fi
  # 2. NVIDIA's OpenCL driver, alone. The machine may register PoCL as well (the H200 machines
  # of 2026-12 set OCL_ICD_FILENAMES=libpocl.so.2:libnvidia-opencl.so.1), which makes the CPU
  # opencl:0, the device the tests run on. Both ICD loaders (ocl-icd, Khronos) load the
  # libraries of OCL_ICD_FILENAMES and scan OCL_ICD_VENDORS, here an empty folder.
  local lib
  lib=$(ldconfig -p | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')
  [ -n "$lib" ] || lib=$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/local/lib \
    -name 'libnvidia-opencl.so.1*' 2>/dev/null | head -n 1)
  [ -n "$lib" ] || { echo "no libnvidia-opencl.so.1 on this machine: no GPU OpenCL driver to test" >&2; exit 1; }
  mkdir -p "$here/vendors"
  export OCL_ICD_FILENAMES="$lib" OCL_ICD_VENDORS="$here/vendors"
  echo "OpenCL driver: $lib, alone"
  nvidia-smi -L 2>/dev/null || true
  echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) threads"
  "$here/bin/polyvit" devices | tee "$log/devices.txt"
  grep -q '^opencl:0 .*NVIDIA' "$log/devices.txt" ||
    { echo "opencl:0 is not the NVIDIA GPU: the tests would not run on it" >&2; exit 1; }
  export POLYVIT_FIXTURES_DIR="$here/fixtures" CI=1
  # 3. Every conformance test on the GPU (test_devices() is cpu + opencl:0).
  local failed=0 test name
  for test in "$here"/bin/*; do
    name=$(basename "$test")
    case "$name" in device_table | polyvit) continue ;; esac
    echo "== $name"
    local start=$SECONDS
    if ! timeout 180 "$test" >"$log/test-$name.log" 2>&1; then failed=1; fi
    grep -E '^test result|FAILED|panicked' "$log/test-$name.log" || tail -n 5 "$log/test-$name.log"
    echo "   $((SECONDS - start)) s"
  done
  # 4. The table, with the CPU column on 2 cores (the machines this project trains on).
  RAYON_NUM_THREADS=2 "$here/bin/device_table" | tee "$log/device_table.md" || failed=1
  # Each product with one blocking forced (opencl/matmul.rs), against the default's choice.
  local blocking
  for blocking in 64x4 128x8 64x8; do
    echo "== POLYVIT_OPENCL_GEMM=$blocking"
    POLYVIT_OPENCL_GEMM=$blocking RAYON_NUM_THREADS=2 "$here/bin/device_table" |
      tee "$log/device_table-$blocking.md" | grep -E 'SGEMM|step' || failed=1
  done
  # The kernels of one training step on the GPU: launches and device time of each.
  echo "== POLYVIT_OPENCL_PROFILE=1"
  POLYVIT_OPENCL_PROFILE=1 POLYVIT_BENCH_QUICK=1 RAYON_NUM_THREADS=2 "$here/bin/device_table" |
    tee "$log/kernel_times.md" | sed -n '/^One training step/,$p' || failed=1
  # 5. Co-training on the default suite: runs of 200 and 1,200 steps on the GPU (each batch whole)
  # and on 2 CPU cores (the default run's micro-batches). The difference of their wall times
  # (results.json) over the 1,000 extra steps is the time of one step, without the data
  # preparation and the final evaluation both runs share.
  local device steps seconds
  for device in opencl cpu; do
    seconds=()
    for steps in 200 1200; do
      local dir="$log/train-$device-$steps"
      local flags=(--steps "$steps" --eval-every 0 --device "$device" --output "$dir")
      [ "$device" = opencl ] && flags+=(--micro-batches 1)
      echo "== polyvit train ${flags[*]}"
      if RAYON_NUM_THREADS=2 timeout 300 "$here/bin/polyvit" train "${flags[@]}" >"$dir.log" 2>&1; then
        grep -A 9 '^Results after' "$dir.log"
        seconds+=("$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' "$dir/results.json")")
      else
        failed=1
        tail -n 20 "$dir.log"
      fi
    done
    if [ ${#seconds[@]} = 2 ]; then
      python3 -c 'import sys; a, b = map(float, sys.argv[2:]); print(f"   {sys.argv[1]}: {a:.1f} s and {b:.1f} s in all: {(b - a):.3f} ms per co-training step")' \
        "$device" "${seconds[@]}"
    fi
  done
  # 6. The bench step in PyTorch on CUDA, for scale (fp32, TF32 off).
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    for optimizer in sgd adamw; do
      python3 benches/reference/compare_step.py small "$optimizer" 20 5 --device cuda
    done
  fi
  exit $failed
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bash benches/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
