#!/usr/bin/env bash
# The GPU check of the OpenCL backend, in two halves:
#
#   bash benches/gpu-check.sh prepare   # here: cargo, and the Debian package registry
#   bash benches/gpu-check.sh run       # on the GPU machine: no network, no cargo needed
#
# `prepare` builds the release binaries of the conformance tests and of the device bench, copies
# the PyTorch fixtures beside them, and downloads the OpenCL ICD loader (Debian's
# ocl-icd-libopencl1) into .gpu/ (git-ignored, about 40 MB; carry it to the GPU machine).
# `run` brings the loader if the machine has none, registers NVIDIA's OpenCL driver if no ICD is
# registered, runs every conformance test on the GPU (CI=1: a missing OpenCL device fails instead
# of skipping), then prints the bench table (SGEMM and the ViT training step, CPU beside GPU).
# It stays well under 8 minutes on an H100/H200 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu

prepare() {
  rm -rf "$out"
  mkdir -p "$out/bin"
  # Test and bench executables, found in cargo's JSON build messages.
  local listing
  listing=$( (cargo test --workspace --release --no-run --message-format=json &&
    cargo bench -p benchmarks --bench device_table --no-run --message-format=json) |
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
  # The tests that run kernels on a device (the rest never touch one).
  local wanted=" lib:devices test:opencl test:properties test:properties_linalg test:stability
    test:gradcheck test:gradcheck_layers test:parity test:training_on_devices bench:device_table "
  while read -r name exe; do
    case "$wanted" in *[[:space:]]"$name"[[:space:]]*) cp "$exe" "$out/bin/${name#*:}" ;; esac
  done <<<"$listing"
  strip "$out"/bin/* 2>/dev/null || true
  cp -r tests/fixtures "$out/fixtures"
  (cd "$out" && apt-get download ocl-icd-libopencl1 >/dev/null)
  du -sh "$out"
  ls "$out/bin"
}

run() {
  [ -d "$out/bin" ] || { echo "no $out/bin: run 'bash benches/gpu-check.sh prepare' first" >&2; exit 1; }
  # 1. The ICD loader (libOpenCL.so.1): the system's, or the one that travelled.
  if ! ldconfig -p | grep -q 'libOpenCL\.so\.1'; then
    dpkg -x "$out"/ocl-icd-libopencl1_*.deb "$out/loader"
    export LD_LIBRARY_PATH="$PWD/$out/loader/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    echo "ICD loader: unpacked from $(basename "$out"/ocl-icd-libopencl1_*.deb)"
  fi
  # 2. NVIDIA's OpenCL driver, registered through a vendors folder of our own if need be.
  if ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
    local lib
    lib=$(ldconfig -p | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')
    [ -n "$lib" ] || lib=$(find / -xdev -name 'libnvidia-opencl.so.1*' 2>/dev/null | head -n 1)
    [ -n "$lib" ] || { echo "no libnvidia-opencl.so.1 on this machine: no OpenCL driver to test" >&2; exit 1; }
    mkdir -p "$out/vendors"
    echo "$lib" >"$out/vendors/nvidia.icd"
    export OCL_ICD_VENDORS="$PWD/$out/vendors"
    echo "OpenCL driver: registered $lib"
  fi
  nvidia-smi -L 2>/dev/null || true
  nproc
  export POLYVIT_FIXTURES_DIR="$PWD/$out/fixtures" CI=1
  # 3. Every conformance test on the GPU (test_devices() is cpu + opencl:0).
  local failed=0
  for test in "$out"/bin/*; do
    [ "$(basename "$test")" = device_table ] && continue
    echo "== $(basename "$test")"
    if ! "$test" 2>&1 | grep -E '^test result|FAILED|panicked' ; then failed=1; fi
  done
  # 4. The table.
  "$out/bin/device_table"
  exit $failed
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bash benches/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
